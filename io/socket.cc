#include "io/socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include "base/assert.h"

namespace ringtail::io {

void Socket::start_recv(bool multishot) {
    if (recv_armed_ || fd_ < 0) return;
    io_uring_sqe* sqe = loop_->sqe(recv_data_);
    if (multishot) {
        io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
    } else {
        io_uring_prep_recv(sqe, fd_, nullptr, 0, 0);
    }
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffer_group_;
    recv_armed_ = true;
}

void Socket::stop_recv() {
    if (!recv_armed_) return;
    io_uring_sqe* sqe = loop_->sqe(Loop::kNoHandler);
    io_uring_prep_cancel64(sqe, recv_data_, 0);
}

void Socket::send(std::span<const char> bytes) {
    RT_ASSERT(!send_in_flight_);
    RT_ASSERT(fd_ >= 0);
    io_uring_sqe* sqe = loop_->sqe(send_data_);
    io_uring_prep_send(sqe, fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    send_in_flight_ = true;
    send_started_ = Clock::now();
}

void Socket::send(const msghdr* message) {
    RT_ASSERT(!send_in_flight_);
    RT_ASSERT(fd_ >= 0);
    io_uring_sqe* sqe = loop_->sqe(send_data_);
    io_uring_prep_sendmsg(sqe, fd_, message, MSG_NOSIGNAL);
    send_in_flight_ = true;
    send_started_ = Clock::now();
}

void Socket::move_to(Loop& loop, uint16_t buffer_group, uint64_t recv_user_data, uint64_t send_user_data) {
    RT_ASSERT(!recv_armed_ && !send_in_flight_);
    loop_ = &loop;
    buffer_group_ = buffer_group;
    recv_data_ = recv_user_data;
    send_data_ = send_user_data;
}

void Socket::shutdown() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void Socket::close() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
}

}  // namespace ringtail::io
