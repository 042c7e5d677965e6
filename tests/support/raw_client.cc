#include "tests/support/raw_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ringtail::test {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

RawClient::~RawClient() { close(); }

void RawClient::close() {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

bool RawClient::connect(int port, std::chrono::milliseconds timeout) {
    close();
    closed_ = false;
    received_.clear();
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return false;
    if (receive_buffer_bytes_ > 0) {
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes_,
                   sizeof(receive_buffer_bytes_));
    }
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) return true;
    if (errno != EINPROGRESS) {
        close();
        return false;
    }
    pollfd entry{fd_, POLLOUT, 0};
    if (poll(&entry, 1, static_cast<int>(timeout.count())) != 1) {
        close();
        return false;
    }
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
        close();
        return false;
    }
    return true;
}

bool RawClient::send(std::string_view text) {
    if (fd_ < 0) return false;
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!text.empty()) {
        ssize_t sent = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
        if (sent > 0) {
            text.remove_prefix(static_cast<size_t>(sent));
            continue;
        }
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd entry{fd_, POLLOUT, 0};
            if (poll(&entry, 1, remaining_ms(deadline)) <= 0) return false;
            continue;
        }
        return false;
    }
    return true;
}

bool RawClient::read_some(Clock::time_point deadline) {
    if (fd_ < 0 || closed_) return false;
    pollfd entry{fd_, POLLIN, 0};
    int ready = poll(&entry, 1, remaining_ms(deadline));
    if (ready <= 0) return false;
    char buffer[65536];
    ssize_t got = recv(fd_, buffer, sizeof(buffer), 0);
    if (got > 0) {
        received_.append(buffer, static_cast<size_t>(got));
        return true;
    }
    if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    closed_ = true;  // EOF, ECONNRESET, ...
    return false;
}

bool RawClient::read_until(std::string_view needle, std::chrono::milliseconds timeout,
                           size_t from) {
    auto deadline = Clock::now() + timeout;
    while (true) {
        if (received_.size() >= from && received_.find(needle, from) != std::string::npos) {
            return true;
        }
        if (closed_ || Clock::now() >= deadline) return false;
        read_some(deadline);
    }
}

bool RawClient::wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!closed_ && Clock::now() < deadline) read_some(deadline);
    return closed_;
}

void RawClient::read_for(std::chrono::milliseconds duration) {
    auto deadline = Clock::now() + duration;
    while (!closed_ && Clock::now() < deadline) read_some(deadline);
}

bool RawClient::read_info(std::chrono::milliseconds timeout) {
    return read_until("\r\n", timeout) && received_.starts_with("INFO ");
}

}  // namespace ringtail::test
