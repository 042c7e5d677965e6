#pragma once

#include <deque>
#include <functional>
#include <mutex>

#include "io/loop.h"

namespace ringtail::io {

// Work other threads hand to a loop: post() from any thread, the job runs on the loop's
// thread like any completion (an eventfd the loop polls). For rare requests from outside the
// shards (the monitoring endpoints), never for the message path.
// Owner: the loop's thread. Lifecycle: start() on the loop's thread; post() is safe from the
// moment the object exists until it is destroyed. Jobs not yet run when it is destroyed are
// dropped, so a poster must not wait on one forever.
class Inbox final : private CompletionHandler {
public:
    using Job = std::function<void()>;

    explicit Inbox(Loop& loop) : loop_(loop) {}
    ~Inbox();
    Inbox(const Inbox&) = delete;
    Inbox& operator=(const Inbox&) = delete;

    [[nodiscard]] Result<void, Error> start();
    void post(Job job);

private:
    void on_completion(uint64_t token, int32_t result, uint32_t flags) override;
    void arm_poll();

    Loop& loop_;
    uint8_t tag_ = 0;
    int event_fd_ = -1;
    std::mutex mutex_;
    std::deque<Job> jobs_;
};

}  // namespace ringtail::io
