#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness/client.h"

namespace ringtail::bench {

// Everything a scenario run is told. Fields left at -1 take the scenario's default
// (resolve_defaults()), so that a report can print what actually ran.
struct Options {
    std::string scenario;
    std::string url = "nats://127.0.0.1:4222";
    // reqrep: where the responders connect (another account's user, answering through a
    // service import); empty: --url.
    std::string responder_url;
    uint64_t size_bytes = 128;    // payload bytes per message
    uint64_t count = 1'000'000;   // messages (requests, puts) in total, across publishers
    double duration_s = 10;       // publishing stops at count or duration, whichever is first
    int pubs = -1;                // publishers / requesters
    int subs = -1;                // subscribers / responders / consumers
    int threads = 0;              // client threads; 0: min(connections, usable cpus)
    std::vector<int> cpus;        // pin client thread i to cpus[i % size]
    int64_t window = -1;          // messages in flight per publisher (see README)
    double rate = 0;              // fixed total rate in msgs/s; 0: as fast as possible
    double drain_timeout_s = 10;  // after publishing stops, how long deliveries may take
    bool json = false;
    int progress = -1;  // -1: when stderr is a terminal
    // JetStream scenarios.
    bool js_sync = false;          // js-pub: wait for each PubAck (window 1)
    std::string storage = "file";  // stream storage: file or memory
    uint64_t keys = 1000;          // kv: distinct keys
    uint64_t history = 1;          // kv: values kept per key (the bucket's history)
    int64_t batch = -1;            // js-consume: pull batch size
    // js-consume, js-push: publish (--pubs publishers, --window PubAcks outstanding, --rate)
    // while the consumers consume, instead of consuming a prefilled stream, and report
    // publish-to-delivery latency.
    bool live = false;
    // Who drives the core scenarios: "ringtail-bench" (this harness's own client, the
    // servers' ceiling), "libnats" (the official C client, as users' programs do) or
    // "nats.go" (the official Go client, which most users run; also drives js-pub).
    std::string client = "ringtail-bench";
    // --client nats.go: the driver program; empty: ringtail-bench-natsgo beside this binary.
    std::string natsgo;
    // Set by compare mode for its report; never a flag.
    std::string server_label;
    // Set by compare mode: the server's CPU seconds so far, so that a scenario with a setup
    // phase (the prefill of js-consume and js-push) can measure only what it reports on.
    std::function<double()> server_cpu_seconds;
};

// The scenarios, in the order of the help text.
inline constexpr std::string_view kScenarios[] = {
    "pub", "pubsub", "fanout", "queue", "reqrep", "js-pub", "js-consume", "js-push", "kv"};
bool is_scenario(std::string_view name);
bool is_jetstream_scenario(std::string_view name);
// js-consume and js-push: a stream read by a durable consumer.
bool is_consume_scenario(std::string_view name);

// Parses the flags that follow the scenario name. Unknown flags are errors.
[[nodiscard]] Expected<Options> parse_options(std::string_view scenario,
                                              std::span<const std::string_view> args);
// Fills the -1 fields with the scenario's defaults and checks the combination.
[[nodiscard]] Status resolve_defaults(Options& options);

// "1000", "1k", "2M", "1G" (powers of 1000); sizes also take "KiB"/"MiB" (powers of 1024).
[[nodiscard]] Expected<uint64_t> parse_count(std::string_view text);
[[nodiscard]] Expected<uint64_t> parse_bytes(std::string_view text);
// "0,2-3" -> {0, 2, 3}
[[nodiscard]] Expected<std::vector<int>> parse_cpu_list(std::string_view text);

std::string usage_text();

}  // namespace ringtail::bench
