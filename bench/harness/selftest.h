#pragma once

#include <span>
#include <string_view>

namespace ringtail::bench {

// `ringtail-bench selftest`: the harness's own ceiling, with no NATS server in the way. Its
// publisher writes into a sink that only parses PUB frames, and its subscriber reads MSG
// frames that a blaster writes as fast as it can, both over loopback TCP.
int run_selftest(std::span<const std::string_view> args);

}  // namespace ringtail::bench
