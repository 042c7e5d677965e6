#include "bench/harness/natsgo_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/client.h"
#include "bench/harness/runner.h"

namespace ringtail::bench {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDriverName = "ringtail-bench-natsgo";
// Past publishing and draining, how long the driver may take (connecting, creating and
// deleting a stream, closing) before it is taken for stuck, as the harness's own watchdog.
constexpr uint64_t kSlackNs = 30'000'000'000;

std::string driver_path(const Options& o) {
    if (!o.natsgo.empty()) return o.natsgo;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ((ec ? fs::path(".") : exe.parent_path()) / kDriverName).string();
}

// Seconds as the driver's flags take them, without the rounding of std::to_string.
std::string seconds_text(double seconds) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.17g", seconds);
    return buffer;
}

std::vector<std::string> driver_args(const std::string& path, const Options& o) {
    std::vector<std::string> args = {path,
                                     "-url",
                                     o.url,
                                     "-scenario",
                                     o.scenario,
                                     "-pubs",
                                     std::to_string(o.pubs),
                                     "-subs",
                                     std::to_string(o.subs),
                                     "-size",
                                     std::to_string(o.size_bytes),
                                     "-count",
                                     std::to_string(o.count),
                                     "-duration",
                                     seconds_text(o.duration_s),
                                     "-window",
                                     std::to_string(o.window),
                                     "-drain-timeout",
                                     seconds_text(o.drain_timeout_s),
                                     "-storage",
                                     o.storage,
                                     "-keys",
                                     std::to_string(o.keys),
                                     "-history",
                                     std::to_string(o.history)};
    if (o.js_sync) args.emplace_back("-sync");
    return args;
}

struct Child {
    pid_t pid = -1;
    int stdout_fd = -1;
};

// Starts the driver with its stdout on a pipe; its stderr stays ours, so that what it says
// about bad usage or a crash reaches the terminal.
Expected<Child> spawn(const std::vector<std::string>& args, const std::vector<int>& cpus) {
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    cpu_set_t cpu_set;
    CPU_ZERO(&cpu_set);
    for (int cpu : cpus) CPU_SET(cpu, &cpu_set);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return std::unexpected(std::string("pipe: ") + strerror(errno));
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        const int error = errno;
        close(fds[0]);
        close(fds[1]);
        return std::unexpected(std::string("fork: ") + strerror(error));
    }
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec: this process has other threads.
        // dup2 leaves the new stdout without O_CLOEXEC; both pipe ends close at exec.
        if (dup2(fds[1], STDOUT_FILENO) < 0) _exit(127);
        // Its own process group, so that a kill reaches whatever it started; and it dies with
        // this process, so that an interrupted ringtail-bench leaves no load running.
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        // The Go runtime sizes its scheduler to the cpus it may use.
        if (!cpus.empty()) sched_setaffinity(0, sizeof cpu_set, &cpu_set);
        execv(argv[0], argv.data());
        _exit(127);
    }
    setpgid(pid, pid);  // as the child does: whichever runs first
    close(fds[1]);
    return Child{pid, fds[0]};
}

// Reads `fd` to its end. False if `deadline_ns` came first.
bool read_all(int fd, std::string& out, uint64_t deadline_ns) {
    char buffer[64 * 1024];
    while (true) {
        const uint64_t now = now_ns();
        if (now >= deadline_ns) return false;
        pollfd pfd{fd, POLLIN, 0};
        const auto wait_ms =
            static_cast<int>(std::min<uint64_t>((deadline_ns - now) / 1'000'000 + 1, 1000));
        const int ready = poll(&pfd, 1, wait_ms);
        if (ready < 0 && errno != EINTR) return true;  // nothing more to read; the JSON decides
        if (ready <= 0) continue;
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
        out.append(buffer, static_cast<size_t>(n));
    }
}

// Waits for the child to exit; kills it at `deadline_ns`. Returns its wait status, or -1 if
// it had to be killed; `cpu_s` is the CPU time it used (user and system).
int reap(pid_t pid, uint64_t deadline_ns, double& cpu_s) {
    int status = 0;
    while (true) {
        rusage usage{};
        const pid_t done = wait4(pid, &status, WNOHANG, &usage);
        if (done == pid) {
            cpu_s = cpu_seconds(usage);
            return status;
        }
        if (done < 0 && errno != EINTR) return status;
        if (now_ns() >= deadline_ns) {
            kill(-pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::string exit_text(int status) {
    if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
    if (WEXITSTATUS(status) == 127) return "could not be started (exit status 127)";
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// The driver's result (bench/natsgo/main.go prints it):
//   {"sent": N, "received": N, "expected": N, "elapsed_s": S, "error": "" or why it failed,
//    "checks": [text], "notes": [text],
//    "rates": [{"label": L, "msgs": N, "seconds": S, "headline": B}],
//    "latencies": [{"label": L, "samples": [[value_ns, count], ...]}]}
// Throws nlohmann::json::exception on a field of the wrong type.
void read_result(const nlohmann::json& json, const Options& o, RunResult& result) {
    result.sent = json.at("sent").get<uint64_t>();
    result.received = json.at("received").get<uint64_t>();
    result.expected = json.at("expected").get<uint64_t>();
    result.elapsed_s = json.at("elapsed_s").get<double>();
    for (const auto& check : json.at("checks")) result.checks.push_back(check.get<std::string>());
    for (const auto& note : json.at("notes")) result.notes.push_back(note.get<std::string>());
    for (const auto& rate : json.at("rates")) {
        result.rates.push_back(Throughput{
            rate.at("label").get<std::string>(), rate.at("msgs").get<uint64_t>(),
            rate.at("seconds").get<double>(), o.size_bytes, rate.at("headline").get<bool>()});
    }
    for (const auto& latency : json.at("latencies")) {
        LatencyStat stat{latency.at("label").get<std::string>(), {}};
        for (const auto& sample : latency.at("samples")) {
            stat.histogram.record_n(sample.at(0).get<uint64_t>(), sample.at(1).get<uint64_t>());
        }
        result.latencies.push_back(std::move(stat));
    }
    if (std::string error = json.at("error").get<std::string>(); !error.empty()) {
        fail_run(result, error);
    }
}

}  // namespace

void run_natsgo(const Options& o, RunResult& result) {
    const std::string path = driver_path(o);
    if (access(path.c_str(), X_OK) != 0) {
        if (!o.natsgo.empty()) return fail_run(result, "--natsgo " + path + ": not an executable");
        return fail_run(result,
                        "nats.go driver not built: install golang-go and "
                        "golang-github-nats-io-go-nats-dev and rebuild");
    }
    const uint64_t deadline_ns =
        now_ns() + static_cast<uint64_t>((o.duration_s + o.drain_timeout_s) * 1e9) + kSlackNs;
    auto child = spawn(driver_args(path, o), o.cpus);
    if (!child) return fail_run(result, "nats.go driver: " + child.error());
    std::string output;
    const bool finished = read_all(child->stdout_fd, output, deadline_ns);
    close(child->stdout_fd);
    double driver_cpu_s = 0;
    const int status = reap(child->pid, finished ? deadline_ns : 0, driver_cpu_s);
    if (status < 0) {
        char limit[64];
        std::snprintf(limit, sizeof limit, "%g",
                      o.duration_s + o.drain_timeout_s + static_cast<double>(kSlackNs) / 1e9);
        return fail_run(result, "the nats.go driver did not finish in time (killed after " +
                                    std::string(limit) + " s)");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return fail_run(result, "the nats.go driver " + exit_text(status));
    }
    const nlohmann::json json = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
        return fail_run(result, "the nats.go driver printed no result (" +
                                    std::to_string(output.size()) + " bytes of output)");
    }
    try {
        read_result(json, o, result);
    } catch (const nlohmann::json::exception& e) {
        return fail_run(result,
                        std::string("the nats.go driver's result is malformed: ") + e.what());
    }
    result.client_cpu_s = driver_cpu_s;
    if (o.scenario == "js-pub" && result.status == RunStatus::kOk) note_durability(result);
}

}  // namespace ringtail::bench
