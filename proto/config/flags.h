#pragma once

#include <string>
#include <vector>

#include "proto/config/options.h"

namespace ringtail::config {

struct FlagOutcome {
    // kFatal: the flags parsed but the run cannot go on (the config file did not load, an
    // argument that is no flag, -t without -c); nats-server prints one line and exits 1 (its
    // PrintAndDie, no usage), unlike a flag error (message, usage, exit 2).
    enum class Action { kRun, kShowHelp, kShowVersion, kError, kFatal };
    Action action = Action::kRun;
    // For kError: the text to print on stderr, e.g. "flag provided but not defined: -foo".
    std::string message;
};

// Parses argv (argv[0] is the program) the way Go's flag package does for nats-server
// (main.go, ConfigureOptions in server/opts.go):
//   -flag, --flag, -flag=value, --flag=value, and -flag value for non-boolean flags;
//   boolean flags take no separate value (-D, -D=true, -D=false);
//   parsing stops at the first non-flag argument ("-" is one) or after "--".
// A leftover argument "version" or "help" acts like -v / -h; any other is an error.
// If -c/--config names a file it is loaded first, then every flag given on the command line is
// applied over it, so flags win (nats-server re-parses the flags after the file).
// Flags for features Ringtail lacks (TLS, clustering, --profile, --signal) are accepted and
// listed in opts.unsupported_flags, unless their value leaves the feature off (--tls=false).
// On kError and kFatal `opts` is unchanged; config-file warnings are appended to `warnings` either way.
// With -t, a successful load returns kRun with opts.check_config set; the caller reports and
// exits.
[[nodiscard]] FlagOutcome parse_flags(int argc, const char* const* argv, Options& opts,
                                      std::vector<std::string>& warnings);

// nats-server's usage text with the program named "ringtail", plus a "Ringtail Options:"
// section. Starts and ends with a new line, as nats-server prints it.
[[nodiscard]] std::string usage_text();

}  // namespace ringtail::config
