#include "io/inbox.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace ringtail::io {

Inbox::~Inbox() {
    if (tag_ != 0) {
        io_uring_prep_cancel64(loop_.sqe(Loop::kNoHandler), Loop::user_data(tag_, 0), 0);
        loop_.detach(tag_);
    }
    std::lock_guard lock(mutex_);
    if (event_fd_ >= 0) ::close(event_fd_);
    event_fd_ = -1;
}

Result<void, Error> Inbox::start() {
    int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return fail_errno(errno, "eventfd");
    {
        std::lock_guard lock(mutex_);
        event_fd_ = fd;
    }
    tag_ = loop_.attach(*this);
    arm_poll();
    return {};
}

void Inbox::arm_poll() { io_uring_prep_poll_multishot(loop_.sqe(Loop::user_data(tag_, 0)), event_fd_, POLLIN); }

void Inbox::post(Job job) {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
    if (event_fd_ >= 0) eventfd_write(event_fd_, 1);
}

void Inbox::on_completion(uint64_t, int32_t, uint32_t flags) {
    std::deque<Job> jobs;
    {
        std::lock_guard lock(mutex_);
        uint64_t count;
        [[maybe_unused]] ssize_t got = ::read(event_fd_, &count, sizeof count);
        jobs.swap(jobs_);
    }
    if (!(flags & IORING_CQE_F_MORE)) arm_poll();
    for (Job& job : jobs) job();
}

}  // namespace ringtail::io
