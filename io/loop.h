#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/result.h"
#include "io/uring.h"

namespace ringtail::io {

using Clock = std::chrono::steady_clock;

// Receives the completions of the operations a part submitted on a Loop. Its tag (from
// Loop::attach) sits in the top byte of each such operation's user_data; the other 56 bits,
// the token, are the part's own.
class CompletionHandler {
public:
    virtual void on_completion(uint64_t token, int32_t result, uint32_t flags) = 0;

protected:
    ~CompletionHandler() = default;
};

class Loop;

// A deadline on a Loop: `fire` runs from the loop, after the completions of the turn it falls
// due in. Owned by the part that uses it; it must be cancelled (or have fired) before it is
// destroyed, which the destructor does.
// Lifecycle: schedule() and cancel() any number of times; scheduling a scheduled timer moves it.
class Timer {
public:
    explicit Timer(std::function<void()> fire) : fire_(std::move(fire)) {}
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    bool scheduled() const { return loop_ != nullptr; }
    Clock::time_point deadline() const { return deadline_; }

private:
    friend class Loop;
    std::function<void()> fire_;
    Loop* loop_ = nullptr;
    Clock::time_point deadline_{};
    size_t heap_index_ = 0;
};

// One shard's io_uring ring and what runs from it: every operation the shard submits (sockets,
// doorbells, disk writes) completes here, and timers fall due here.
// Owner: the thread that called init() (the ring is SINGLE_ISSUER); nothing here is shared.
//
// run_once() submits what was queued, waits for a completion or the next timer, then reaps
// every completion into a list before running any handler (a handler may submit more), and
// finally fires the timers that are due. Tag 0 is for operations whose completion needs no
// handler: wake-ups from other shards, cancels, the timer wake-up.
//
// The wake-up for the earliest timer is one IORING_OP_TIMEOUT at an absolute time, armed
// when that deadline comes closer than the one armed and moved in place
// (IORING_TIMEOUT_UPDATE), not a timeout on every wait: a busy loop waits often, and a timed
// wait costs the kernel a timer of its own each time.
class Loop {
public:
    static constexpr unsigned kTagShift = 56;
    static constexpr uint64_t kTokenMask = (uint64_t{1} << kTagShift) - 1;
    // user_data of a completion nobody handles (a doorbell rung by another shard, a cancel).
    static constexpr uint64_t kNoHandler = 0;

    Loop() = default;
    ~Loop();  // the ring ends every operation still in flight; timers are forgotten
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // Sets the ring up (see Uring::init).
    [[nodiscard]] Result<void, Error> init(unsigned entries);
    int fd() const { return uring_.fd(); }
    io_uring* raw() { return uring_.raw(); }

    // Registers `handler` and returns its tag (1-255). After detach(), completions with that
    // tag are dropped (operations still in flight when their owner went away).
    uint8_t attach(CompletionHandler& handler);
    void detach(uint8_t tag);
    static uint64_t user_data(uint8_t tag, uint64_t token) {
        return (uint64_t{tag} << kTagShift) | (token & kTokenMask);
    }
    // A free SQE with its user_data set.
    io_uring_sqe* sqe(uint64_t user_data);

    // One turn of waiting and running: see the class comment. With `wait` false it only looks.
    // With a `nap`, a loop that has nothing to do sleeps that long before it waits: arrivals
    // in the meantime do not wake it (DEFER_TASKRUN runs their work only when the loop asks),
    // so their senders skip the wake-up and the next turn takes them all at once.
    [[nodiscard]] Result<void, Error> run_once(bool wait, std::chrono::nanoseconds nap = {});

    // Timers.
    void schedule(Timer& timer, Clock::time_point deadline);
    void cancel(Timer& timer);
    size_t timers_scheduled() const { return timers_.size(); }

    // Figures for monitoring: turns run and completions reaped since start.
    uint64_t turns() const { return turns_; }
    uint64_t completions_reaped() const { return completions_reaped_; }

private:
    struct Completion {
        uint64_t user_data;
        int32_t result;
        uint32_t flags;
    };
    void fire_due_timers();
    void arm_wakeup();
    void heap_up(size_t index);
    void heap_down(size_t index);
    void heap_swap(size_t a, size_t b);
    void heap_remove(size_t index);

    Uring uring_;
    std::vector<CompletionHandler*> handlers_{nullptr};  // by tag; tag 0 has none
    std::vector<Completion> completions_;
    std::vector<Timer*> timers_;  // a binary min-heap by deadline
    uint64_t turns_ = 0;
    uint64_t completions_reaped_ = 0;
    // The timer wake-up: armed for armed_deadline_ until its completion comes back.
    static constexpr uint64_t kWakeupUserData = 1;  // tag 0, so no handler
    bool wakeup_armed_ = false;
    Clock::time_point armed_deadline_{};
    __kernel_timespec wakeup_at_{};  // read by the kernel when the SQE is submitted
};

}  // namespace ringtail::io
