#pragma once

#include <span>
#include <string_view>

namespace ringtail::bench {

// `ringtail-bench compare`: starts Ringtail and nats-server, runs the scenario set on both,
// alternating A B A B for --rounds rounds, prints medians and ratios, writes the report.
int run_compare(std::span<const std::string_view> args);

}  // namespace ringtail::bench
