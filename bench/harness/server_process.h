#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bench/harness/client.h"

namespace ringtail::bench {

// A NATS server started by compare mode: its own ports-file and store directories under the
// run's temp directory, loopback only, a random port (-p -1 --ports_file_dir, as both servers
// support), and optionally pinned to cpus before exec.
// Owner: compare mode's thread. The destructor stops the process (SIGTERM, then SIGKILL).
class ServerProcess {
 public:
    struct Spec {
        std::string label;  // "nats-server", "ringtail"
        std::string executable;
        std::vector<std::string> args;  // appended after the common flags
        std::string dir;                // private directory (ports file, store, log)
        bool jetstream = true;          // pass -js -sd <dir>/store
        std::vector<int> cpus;
    };

    ServerProcess() = default;
    ~ServerProcess() { stop(); }
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Starts it and waits (up to 10 s) for the ports file. On failure the error carries the
    // tail of the server's log.
    [[nodiscard]] Status start(const Spec& spec);
    void stop();

    // CPU time the process has used so far (user + system, all threads), in seconds; -1 if
    // it cannot be read. Clock-tick resolution (10 ms on most kernels).
    double cpu_seconds() const;

    const std::string& url() const { return url_; }
    const std::string& command_line() const { return command_line_; }
    const Spec& spec() const { return spec_; }

 private:
    std::string log_tail() const;

    Spec spec_;
    pid_t pid_ = -1;
    std::string url_;
    std::string command_line_;
};

// The first file in PATH (or the given fallback) that exists and is executable.
std::string find_executable(const std::string& name, const std::string& fallback);

}  // namespace ringtail::bench
