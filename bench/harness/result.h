#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/harness/histogram.h"
#include "bench/harness/options.h"

namespace ringtail::bench {

enum class RunStatus : uint8_t { kOk, kFailed, kSkipped };

struct Throughput {
    std::string label;  // "published", "delivered", "requests", "acked", "consumed", "put", "get"
    uint64_t msgs = 0;
    double seconds = 0;
    uint64_t payload_bytes = 0;  // per message
    bool headline = false;       // the figure compare mode puts in its table
    double msgs_per_s() const { return seconds > 0 ? static_cast<double>(msgs) / seconds : 0; }
    double payload_mib_per_s() const {
        return msgs_per_s() * static_cast<double>(payload_bytes) / (1024.0 * 1024.0);
    }
};

struct LatencyStat {
    std::string label;    // e.g. "one-way", "one-way, CO-corrected", "round trip", "PubAck"
    Histogram histogram;  // nanoseconds
};

// Who answered: from the INFO of the first connection.
struct ServerIdentity {
    std::string url;
    std::string name;  // "nats-server 2.9.10", "ringtail 0.1.0 (nats-server 2.9.10 compatible)"
    bool jetstream = false;
};

struct RunResult {
    Options options;
    RunStatus status = RunStatus::kOk;
    std::string message;  // why it failed or was skipped
    ServerIdentity server;
    std::vector<Throughput> rates;
    std::vector<LatencyStat> latencies;
    std::vector<std::string> checks;  // what was verified, e.g. "order per publisher"
    std::vector<std::string> notes;
    uint64_t sent = 0;      // messages published / requests sent
    uint64_t expected = 0;  // deliveries the run had to see
    uint64_t received = 0;  // deliveries it saw
    double elapsed_s = 0;
    double server_cpu_s = -1;  // compare mode: the server's CPU time during the run
    // The client's CPU time during the run: this process (the harness's own client or
    // libnats) plus the nats.go driver's. -1 where it would mix in a setup phase (js-consume,
    // js-push prefill with the harness's client).
    double client_cpu_s = -1;

    // CPU time per message, in microseconds: per delivery, or per message sent where nothing
    // is delivered (pub). -1 when not measured.
    double server_cpu_us_per_msg() const { return per_msg_us(server_cpu_s); }
    double client_cpu_us_per_msg() const { return per_msg_us(client_cpu_s); }
    double per_msg_us(double cpu_s) const {
        uint64_t messages = received > 0 ? received : sent;
        if (cpu_s < 0 || messages == 0) return -1;
        return cpu_s * 1e6 / static_cast<double>(messages);
    }

    const Throughput* headline() const {
        for (const Throughput& rate : rates) {
            if (rate.headline) return &rate;
        }
        return rates.empty() ? nullptr : &rates.front();
    }
};

}  // namespace ringtail::bench
