#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "proto/config/options.h"

namespace ringtail::core {

// What a reload (SIGHUP) changes, decided before anything is applied.
struct ReloadPlan {
    std::vector<std::string> lines;  // nats-server's "Reloaded: ..." lines, in its options' order
    bool logging = false;            // the logger must be reconfigured
    bool auth = false;               // clients' credentials must be checked again
};

// Compares the running options with the configuration read again. What nats-server 2.9 can
// reload (trace, debug, logtime, log_file, authorization user/password/token/timeout,
// max_connections, pid_file, ports_file_dir, max_control_line, max_payload, ping_interval,
// ping_max, write_deadline, max_traced_msg_len) goes into the plan; any other change is
// nats-server's error, "config reload not supported for <Field>: old=<v>, new=<v>".
[[nodiscard]] Result<ReloadPlan, Error> plan_reload(const config::Options& now, const config::Options& fresh);

}  // namespace ringtail::core
