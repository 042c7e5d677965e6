#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "bench/harness/client.h"

namespace ringtail::bench {

// A stand-in NATS server for the harness's own tests and for `selftest`: one thread, poll()
// driven, exact-subject routing (no wildcards), queue groups served round-robin, built on
// proto::Parser. It can misbehave on purpose, to prove that the harness notices:
//   drop_every N       every Nth delivery is silently dropped;
//   duplicate_every N  every Nth queue-group delivery also goes to the next member;
//   disconnect_after N after N deliveries it closes the receiving connection, as a server does
//                      with a slow consumer.
// And it can play the fast server for selftest: a PUB to "selftest.start" makes it write
// `blast_count` stamped MSG frames to every subscriber of "selftest.blast" as fast as their
// sockets take them.
// Owner: the test or selftest that starts it; its thread owns every connection.
class FakeServer {
 public:
    struct Config {
        uint64_t drop_every = 0;
        uint64_t duplicate_every = 0;
        uint64_t disconnect_after = 0;
        uint64_t blast_count = 0;
        uint64_t blast_size_bytes = 16;
    };

    explicit FakeServer(Config config) : config_(config) {}
    ~FakeServer() { stop(); }
    FakeServer(const FakeServer&) = delete;
    FakeServer& operator=(const FakeServer&) = delete;

    // Listens on 127.0.0.1 on a free port and starts the thread.
    [[nodiscard]] Status start();
    void stop();
    std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

    uint64_t published() const { return published_.load(std::memory_order_relaxed); }
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
    void loop();

    Config config_;
    int listener_ = -1;
    int port_ = 0;
    int wake_[2] = {-1, -1};  // a pipe that stop() writes to
    std::atomic<bool> stopping_{false};
    std::atomic<uint64_t> published_{0};
    std::atomic<uint64_t> dropped_{0};
    std::thread thread_;
};

}  // namespace ringtail::bench
