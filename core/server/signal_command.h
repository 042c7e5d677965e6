#pragma once

#include <string>
#include <string_view>

#include "base/result.h"

namespace ringtail::core {

// `--signal <command>[=<pid>]`, as nats-server's: sends the running server `command`'s signal
// (stop: SIGKILL, quit: SIGINT, term: SIGTERM, reopen: SIGUSR1, reload: SIGHUP, ldm: SIGUSR2).
// <pid> is a process id or the path of a pid file (-P); without one, the only process named
// `process_name` is signalled. The error reads as nats-server's ("no ringtail processes
// running", "invalid pid: x", "unknown signal \"x\"").
[[nodiscard]] Result<void, Error> send_signal_command(std::string_view spec, const std::string& process_name);

}  // namespace ringtail::core
