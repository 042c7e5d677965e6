#include "io/worker.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace ringtail::io {

Worker::~Worker() {
    if (thread_.joinable()) {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
        }
        wakeup_.notify_one();
        thread_.join();
    }
    if (tag_ != 0) {
        io_uring_prep_cancel64(loop_.sqe(Loop::kNoHandler), Loop::user_data(tag_, 0), 0);
        loop_.detach(tag_);
    }
    if (event_fd_ >= 0) ::close(event_fd_);
}

Result<void, Error> Worker::start() {
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) return fail_errno(errno, "eventfd");
    tag_ = loop_.attach(*this);
    arm_poll();
    thread_ = std::thread([this] { main(); });
    return {};
}

void Worker::arm_poll() { io_uring_prep_poll_multishot(loop_.sqe(Loop::user_data(tag_, 0)), event_fd_, POLLIN); }

void Worker::post(Job job, Done done) {
    {
        std::lock_guard lock(mutex_);
        todo_.push_back({std::move(job), std::move(done), 0});
    }
    wakeup_.notify_one();
}

void Worker::main() {
    std::unique_lock lock(mutex_);
    while (true) {
        wakeup_.wait(lock, [this] { return stop_ || !todo_.empty(); });
        if (stop_) return;
        Task task = std::move(todo_.front());
        todo_.pop_front();
        lock.unlock();
        task.result = task.job();
        lock.lock();
        done_.push_back(std::move(task));
        eventfd_write(event_fd_, 1);
    }
}

void Worker::on_completion(uint64_t, int32_t, uint32_t flags) {
    uint64_t count;
    [[maybe_unused]] ssize_t got = ::read(event_fd_, &count, sizeof count);
    if (!(flags & IORING_CQE_F_MORE)) arm_poll();
    std::deque<Task> done;
    {
        std::lock_guard lock(mutex_);
        done.swap(done_);
    }
    for (Task& task : done) task.done(task.result);
}

}  // namespace ringtail::io
