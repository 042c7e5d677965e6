#include "tests/differential/servers.h"

#include <cstddef>
#include <cstdlib>

#include "tests/support/server_process.h"

namespace ringtail::test::differential {
namespace {

constexpr size_t kLogLinesShown = 30;

}  // namespace

std::string env_text(const char* name) {
    const char* value = std::getenv(name);
    return value == nullptr ? std::string() : std::string(value);
}

ServerSpec server_a() { return {"nats-server", nats_server_binary(), {}}; }

ServerSpec server_b() {
    std::string choice = env_text("RT_DIFF_B");
    if (choice.empty()) choice = testing_ringtail() ? "ringtail" : "nats-server";
    if (choice == "nats-server") return {"nats-server (as B)", nats_server_binary(), {}};
    if (choice == "ringtail") return {"ringtail", ringtail_binary(), {"--shards", "2"}};
    return {choice, choice, {}};
}

std::string log_tail(const std::string& log) {
    size_t at = log.size();
    for (size_t lines = 0; at > 0 && lines <= kLogLinesShown; --at) {
        if (log[at - 1] == '\n') ++lines;
    }
    return log.substr(at);
}

}  // namespace ringtail::test::differential
