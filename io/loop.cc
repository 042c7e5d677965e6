#include "io/loop.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <sys/prctl.h>

#include "base/assert.h"

namespace ringtail::io {

Timer::~Timer() {
    if (loop_ != nullptr) loop_->cancel(*this);
}

Loop::~Loop() {
    for (Timer* timer : timers_) timer->loop_ = nullptr;
}

Result<void, Error> Loop::init(unsigned entries) {
    if (auto ok = uring_.init(entries); !ok) return ok;
    // A nap (see run_once) is short; the default slack of 50 us would stretch it several-fold.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
    completions_.reserve(size_t{entries} * 4);
    return {};
}

uint8_t Loop::attach(CompletionHandler& handler) {
    RT_ASSERT(handlers_.size() < 256);
    handlers_.push_back(&handler);
    return static_cast<uint8_t>(handlers_.size() - 1);
}

void Loop::detach(uint8_t tag) {
    RT_ASSERT(tag > 0 && tag < handlers_.size());
    handlers_[tag] = nullptr;
}

io_uring_sqe* Loop::sqe(uint64_t user_data) {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_sqe_set_data64(sqe, user_data);
    return sqe;
}

void Loop::arm_wakeup() {
    if (timers_.empty()) return;
    Clock::time_point next = timers_.front()->deadline_;
    // An armed wake-up that comes first is enough: waking early finds nothing due and arms
    // again for what is left.
    if (wakeup_armed_ && armed_deadline_ <= next) return;
    auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(next.time_since_epoch()).count();
    wakeup_at_ = {nanos / 1'000'000'000, nanos % 1'000'000'000};
    if (wakeup_armed_) {
        io_uring_prep_timeout_update(sqe(kNoHandler), &wakeup_at_, kWakeupUserData, IORING_TIMEOUT_ABS);
    } else {
        io_uring_prep_timeout(sqe(kWakeupUserData), &wakeup_at_, 0, IORING_TIMEOUT_ABS);
        wakeup_armed_ = true;
    }
    armed_deadline_ = next;
}

Result<void, Error> Loop::run_once(bool wait, std::chrono::nanoseconds nap) {
    arm_wakeup();
    io_uring* ring = uring_.raw();
    if (wait && nap.count() > 0) {
        // What this turn queued goes out first; nothing to nap over if completions or work for
        // the loop (its task-run flag) wait already. The wait below takes what came meanwhile.
        int submitted = io_uring_submit(ring);
        if (submitted >= 0 && io_uring_cq_ready(ring) == 0 &&
            (IO_URING_READ_ONCE(*ring->sq.kflags) & IORING_SQ_TASKRUN) == 0) {
            auto seconds = std::chrono::duration_cast<std::chrono::seconds>(nap);
            timespec duration{static_cast<time_t>(seconds.count()), static_cast<long>((nap - seconds).count())};
            clock_nanosleep(CLOCK_MONOTONIC, 0, &duration, nullptr);
        }
    }
    int rc = wait ? io_uring_submit_and_wait(ring, 1) : io_uring_submit_and_get_events(ring);
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
        return fail(Errc::kIo, std::string("io_uring_enter: ") + std::strerror(-rc));
    }
    // Reaping only queues completions; handlers run afterwards, and may submit.
    completions_.clear();
    io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(uring_.raw(), head, cqe) {
        completions_.push_back({cqe->user_data, cqe->res, cqe->flags});
        ++seen;
    }
    io_uring_cq_advance(uring_.raw(), seen);
    ++turns_;
    completions_reaped_ += seen;
    for (const Completion& c : completions_) {
        if (c.user_data == kWakeupUserData) {
            wakeup_armed_ = false;  // it fired (or was cancelled): arm again when needed
            continue;
        }
        auto tag = static_cast<uint8_t>(c.user_data >> kTagShift);
        RT_ASSERT(tag < handlers_.size());
        if (CompletionHandler* handler = handlers_[tag]) handler->on_completion(c.user_data & kTokenMask, c.result, c.flags);
    }
    fire_due_timers();
    return {};
}

void Loop::fire_due_timers() {
    if (timers_.empty()) return;
    Clock::time_point now = Clock::now();
    // A timer that reschedules itself for now or earlier waits for the next turn.
    size_t fired_max = timers_.size();
    while (!timers_.empty() && timers_.front()->deadline_ <= now && fired_max-- > 0) {
        Timer& timer = *timers_.front();
        heap_remove(0);
        timer.fire_();
    }
}

void Loop::schedule(Timer& timer, Clock::time_point deadline) {
    if (timer.loop_ != nullptr) {
        RT_ASSERT(timer.loop_ == this);
        timer.deadline_ = deadline;
        heap_up(timer.heap_index_);
        heap_down(timer.heap_index_);
        return;
    }
    timer.loop_ = this;
    timer.deadline_ = deadline;
    timer.heap_index_ = timers_.size();
    timers_.push_back(&timer);
    heap_up(timer.heap_index_);
}

void Loop::cancel(Timer& timer) {
    if (timer.loop_ == nullptr) return;
    RT_ASSERT(timer.loop_ == this);
    heap_remove(timer.heap_index_);
}

void Loop::heap_remove(size_t index) {
    RT_ASSERT(index < timers_.size());
    Timer* removed = timers_[index];
    size_t last = timers_.size() - 1;
    if (index != last) heap_swap(index, last);
    timers_.pop_back();
    removed->loop_ = nullptr;
    if (index < timers_.size()) {
        heap_up(index);
        heap_down(index);
    }
}

void Loop::heap_swap(size_t a, size_t b) {
    std::swap(timers_[a], timers_[b]);
    timers_[a]->heap_index_ = a;
    timers_[b]->heap_index_ = b;
}

void Loop::heap_up(size_t index) {
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (timers_[parent]->deadline_ <= timers_[index]->deadline_) return;
        heap_swap(parent, index);
        index = parent;
    }
}

void Loop::heap_down(size_t index) {
    while (true) {
        size_t smallest = index;
        for (size_t child = 2 * index + 1; child <= 2 * index + 2 && child < timers_.size(); ++child) {
            if (timers_[child]->deadline_ < timers_[smallest]->deadline_) smallest = child;
        }
        if (smallest == index) return;
        heap_swap(index, smallest);
        index = smallest;
    }
}

}  // namespace ringtail::io
