#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "io/loop.h"

namespace ringtail::io {

// A helper thread for work that would block a loop (a bcrypt check takes about 0.1 s): jobs
// go in from the loop's thread, run in order on the helper, and their results come back
// through the loop, so `done` runs on the loop's thread like any completion.
// Owner: the loop's thread. Lifecycle: the destructor waits for the job running, if any, and
// drops results not yet delivered.
class Worker final : private CompletionHandler {
public:
    using Job = std::function<int64_t()>;
    using Done = std::function<void(int64_t result)>;

    explicit Worker(Loop& loop) : loop_(loop) {}
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    [[nodiscard]] Result<void, Error> start();
    void post(Job job, Done done);

private:
    struct Task {
        Job job;
        Done done;
        int64_t result = 0;
    };
    void on_completion(uint64_t token, int32_t result, uint32_t flags) override;
    void arm_poll();
    void main();

    Loop& loop_;
    uint8_t tag_ = 0;
    int event_fd_ = -1;
    std::mutex mutex_;
    std::condition_variable wakeup_;
    std::deque<Task> todo_;
    std::deque<Task> done_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace ringtail::io
