#include "bench/harness/runtime.h"

#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ringtail::bench {

void RunControl::fail(const std::string& message) {
    std::lock_guard lock(mutex_);
    if (error_.empty()) error_ = message;
    abort.store(true, std::memory_order_relaxed);
}

std::string RunControl::first_error() const {
    std::lock_guard lock(mutex_);
    return error_;
}

void Endpoint::on_err(std::string_view text) {
    fail("server sent -ERR '" + std::string(text) + "'");
}

void Endpoint::fail(const std::string& message) {
    if (failed_) return;
    failed_ = true;
    run_.fail(name_ + ": " + message);
}

bool pin_this_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
}

void Worker::start(RunControl& run, std::latch& ready) {
    run.workers_running.fetch_add(1, std::memory_order_relaxed);
    thread_ = std::thread([this, &run, &ready] { this->run(run, ready); });
}

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::run(RunControl& run, std::latch& ready) {
    if (cpu_ >= 0 && !pin_this_thread(cpu_)) {
        run.fail("cannot pin a client thread to cpu " + std::to_string(cpu_));
    }
    // The kernel's default 50 us timer slack would make every fixed-rate wakeup late by that
    // much; the harness's lag is part of CO-corrected latency, so keep it small.
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    ready.arrive_and_wait();
    if (!run.abort.load()) loop(run);
    run.workers_running.fetch_sub(1, std::memory_order_release);
}

void Worker::loop(RunControl& run) {
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    if (epoll < 0) {
        run.fail(std::string("epoll_create1: ") + std::strerror(errno));
        return;
    }
    std::vector<bool> want_write(endpoints_.size(), false);
    for (size_t i = 0; i < endpoints_.size(); ++i) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = i;
        epoll_ctl(epoll, EPOLL_CTL_ADD, endpoints_[i]->conn().fd(), &event);
    }
    std::vector<char> scratch(Connection::kReadBytes);
    std::vector<bool> closed(endpoints_.size(), false);
    std::vector<epoll_event> events(std::max<size_t>(endpoints_.size(), 1));

    uint64_t now = now_ns();
    for (Endpoint* endpoint : endpoints_) endpoint->start(now);
    while (!run.abort.load(std::memory_order_relaxed)) {
        now = now_ns();
        bool all_done = true;
        uint64_t wakeup = now + 50'000'000;  // re-check limits at least every 50 ms
        for (size_t i = 0; i < endpoints_.size(); ++i) {
            Endpoint& endpoint = *endpoints_[i];
            if (closed[i]) continue;
            if (!endpoint.done()) endpoint.tick(now);
            Connection& conn = endpoint.conn();
            Connection::Io io = conn.out_pending_bytes() > 0 ? conn.flush() : Connection::Io::kOk;
            if (io == Connection::Io::kClosed || io == Connection::Io::kError) {
                closed[i] = true;
                if (!endpoint.done()) endpoint.on_closed(conn.error());
                continue;
            }
            const bool blocked = io == Connection::Io::kWouldBlock;
            if (blocked != want_write[i]) {
                want_write[i] = blocked;
                epoll_event event{};
                event.events = EPOLLIN | (blocked ? EPOLLOUT : 0u);
                event.data.u64 = i;
                epoll_ctl(epoll, EPOLL_CTL_MOD, conn.fd(), &event);
            }
            if (!endpoint.done()) {
                all_done = false;
                const uint64_t endpoint_wakeup = endpoint.wakeup_ns();
                if (!(endpoint_wakeup == 0 && blocked)) wakeup = std::min(wakeup, endpoint_wakeup);
            }
        }
        if (all_done) break;
        const uint64_t wait_ns = wakeup > now ? wakeup - now : 0;
        timespec timeout{static_cast<time_t>(wait_ns / 1'000'000'000),
                         static_cast<long>(wait_ns % 1'000'000'000)};
        const int n =
            epoll_pwait2(epoll, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
        if (n < 0) {
            if (errno == EINTR) continue;
            run.fail(std::string("epoll_pwait2: ") + std::strerror(errno));
            break;
        }
        const uint64_t read_ns = n > 0 ? now_ns() : now;
        for (int e = 0; e < n; ++e) {
            const size_t i = events[static_cast<size_t>(e)].data.u64;
            if (closed[i]) continue;
            Endpoint& endpoint = *endpoints_[i];
            if ((events[static_cast<size_t>(e)].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) {
                continue;  // writable only: the next turn flushes
            }
            endpoint.set_read_ns(read_ns);
            switch (endpoint.conn().read(scratch, endpoint)) {
                case Connection::Io::kOk:
                    endpoint.after_read();
                    break;
                case Connection::Io::kWouldBlock:
                    break;
                case Connection::Io::kClosed:
                case Connection::Io::kError:
                    closed[i] = true;
                    epoll_ctl(epoll, EPOLL_CTL_DEL, endpoint.conn().fd(), nullptr);
                    if (!endpoint.done()) endpoint.on_closed(endpoint.conn().error());
                    break;
            }
        }
    }
    close(epoll);
}

}  // namespace ringtail::bench
