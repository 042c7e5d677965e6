#pragma once

#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/client.h"

namespace ringtail::bench {

inline constexpr uint64_t kNever = UINT64_MAX;

// State that every thread of one run shares.
// Owner: the runner. Workers read the limits (written before they start) and may raise
// abort; the first failure's message is kept.
class RunControl {
 public:
    uint64_t epoch_ns = 0;                       // the run's time zero, set just before the start
    uint64_t publish_deadline_ns = kNever;       // epoch + --duration: publishing stops
    uint64_t drain_timeout_ns = 10'000'000'000;  // after publishing ends, for deliveries
    std::atomic<bool> abort{false};
    std::atomic<int> workers_running{0};

    void fail(const std::string& message);
    std::string first_error() const;

 private:
    mutable std::mutex mutex_;
    std::string error_;
};

// One connection's role in a run: publisher, subscriber, requester, responder, ...
// Owner: the Worker it was added to; it is touched by that worker's thread only, except for
// the relaxed progress counters (read by the progress line) and what the runner reads after
// the workers have joined.
class Endpoint : public proto::ClientReaderHandler {
 public:
    Endpoint(std::string name, std::unique_ptr<Connection> conn, RunControl& run)
        : name_(std::move(name)), conn_(std::move(conn)), run_(run) {}

    Connection& conn() { return *conn_; }
    const std::string& name() const { return name_; }
    bool failed() const { return failed_; }

    // Called once, right after the start barrier.
    virtual void start(uint64_t now_ns) { (void)now_ns; }
    // Produces output and checks time limits; called every loop turn until done().
    virtual void tick(uint64_t now_ns) { (void)now_ns; }
    // The latest time at which tick() must run again, or kNever (sockets wake the loop).
    // 0: output is ready now, limited only by the socket (the loop waits for EPOLLOUT when
    // the socket is full, and turns again at once when it is not).
    virtual uint64_t wakeup_ns() const { return kNever; }
    // After each read that was fed to the reader: publish per-batch progress here.
    virtual void after_read() {}
    virtual bool done() const = 0;
    // The connection closed or failed while the run needed it.
    virtual void on_closed(const std::string& why) { fail(why); }

    // Only the runner's progress line reads these (relaxed).
    std::atomic<uint64_t> progress_sent{0};
    std::atomic<uint64_t> progress_received{0};

    void set_read_ns(uint64_t ns) { read_ns_ = ns; }

    // Frames other than MSG that every role handles alike.
    void on_info(std::string_view json) override { (void)json; }
    void on_ping() override { conn_->out() += "PONG\r\n"; }
    void on_pong() override {}
    void on_ok() override {}
    void on_err(std::string_view text) override;

 protected:
    void fail(const std::string& message);

    uint64_t read_ns_ = 0;  // when the read being parsed returned (one clock read per read)
    std::string name_;
    std::unique_ptr<Connection> conn_;
    RunControl& run_;
    bool failed_ = false;
};

// A client thread that drives several endpoints' connections with one epoll set.
// Level-triggered: a readable socket is read once per loop turn (up to 1 MiB), so one busy
// connection cannot starve the others; writes are retried on EPOLLOUT.
class Worker {
 public:
    explicit Worker(int cpu) : cpu_(cpu) {}
    void add(Endpoint* endpoint) { endpoints_.push_back(endpoint); }
    bool empty() const { return endpoints_.empty(); }
    // Starts the thread; it arrives at `ready` and then waits for the runner at the same latch.
    void start(RunControl& run, std::latch& ready);
    void join();

 private:
    void run(RunControl& run, std::latch& ready);
    void loop(RunControl& run);

    int cpu_;  // -1: not pinned
    std::vector<Endpoint*> endpoints_;
    std::thread thread_;
};

// Pins the calling thread to `cpu`; false when the kernel refuses.
bool pin_this_thread(int cpu);

}  // namespace ringtail::bench
