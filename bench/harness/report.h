#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bench/harness/result.h"

namespace ringtail::bench {

// "2 cpus (AMD EPYC 7B13), Linux 6.1.0, Debian 12"
std::string machine_description();

// The readable report of one run: what ran against what, rates, latency percentiles, checks.
std::string format_table(const RunResult& result);
// The same as one JSON object.
nlohmann::json to_json(const RunResult& result);

// Who drove the run when it was not the harness's own client, e.g. "nats.go client (one
// connection each)"; "" for the harness's own client.
std::string client_description(const Options& options);

// 1234567 -> "1,234,567"
std::string with_commas(uint64_t value);
// Microseconds with a precision that suits the magnitude: "0.84", "12.3", "1,234".
std::string format_us(uint64_t ns);

// The percentiles every latency line shows, in order.
inline constexpr double kQuantiles[] = {0.5, 0.9, 0.99, 0.999, 1.0};
inline constexpr const char* kQuantileNames[] = {"p50", "p90", "p99", "p99.9", "max"};

}  // namespace ringtail::bench
