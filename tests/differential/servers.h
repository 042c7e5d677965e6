#pragma once

// The two servers a differential test compares, and helpers for reporting on them. Shared by
// differential_core and differential_js.

#include <string>
#include <vector>

namespace ringtail::test::differential {

// The value of environment variable `name`, or "" when it is not set.
std::string env_text(const char* name);

// How to start one server: its binary and the arguments that come before the scenario's.
struct ServerSpec {
    std::string label;
    std::string binary;
    std::vector<std::string> leading_args;
};

// Server A, the reference: nats-server.
ServerSpec server_a();

// Server B, the server under test, from RT_DIFF_B=ringtail|nats-server|<path> (default:
// ringtail, or nats-server when RT_TEST_SERVER=nats-server). ringtail gets `--shards 2`.
ServerSpec server_b();

// The last lines of a server's log, for failure messages.
std::string log_tail(const std::string& log);

}  // namespace ringtail::test::differential
