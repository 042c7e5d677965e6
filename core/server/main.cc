// ringtail: a NATS server. Command-line flags and config files are nats-server's.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#ifdef RT_MIMALLOC
#include <mimalloc.h>
#endif

#include "core/auth/password.h"
#include "core/monitor/http_server.h"
#include "core/monitor/monitor.h"
#include "core/monitor/system_requests.h"
#include "core/server/log.h"
#include "core/server/server.h"
#include "core/server/signal_command.h"
#include "io/listener.h"
#include "io/uring.h"
#include "proto/config/flags.h"

namespace {

using io_clock = std::chrono::steady_clock;
using ringtail::core::log_debug;
using ringtail::core::log_error;
using ringtail::core::log_fatal;
using ringtail::core::log_info;
using ringtail::core::log_warn;

// The allocator takes its memory from the kernel in 2 MiB pages where the kernel allows it
// (transparent huge pages on madvise or always) unless MIMALLOC_LARGE_OS_PAGES says otherwise:
// a backlog of output for subscribers behind their publisher is written to memory faulted in
// for it, and faulting it in 4 KiB at a time cost a fan-out about a third of the server's CPU
// (docs/BENCHMARKS.md, "Output memory in huge pages"). An idle server holds a few MiB more.
void prefer_huge_pages() {
#ifdef RT_MIMALLOC
    if (std::getenv("MIMALLOC_LARGE_OS_PAGES") == nullptr) mi_option_enable(mi_option_large_os_pages);
#endif
}

std::string exe_name(const char* argv0) { return std::filesystem::path(argv0).filename().string(); }

// <dir>/<exe>_<pid>.ports, as nats-server writes it for test harnesses: every address each
// listener can be reached at.
std::string write_ports_file(const ringtail::config::Options& options, const std::string& exe,
                             int port, int http_port) {
    std::string path = options.ports_file_dir + "/" + exe + "_" + std::to_string(getpid()) + ".ports";
    std::string tmp = path + ".tmp";
    auto urls = [](const char* scheme, const std::string& host, int at) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const std::string& address : ringtail::io::reachable_at(host, at)) list.push_back(scheme + address);
        return list;
    };
    nlohmann::ordered_json ports = {{"nats", urls("nats://", options.host, port)}};
    if (http_port > 0) {
        ports["monitoring"] = urls("http://", options.http_host.empty() ? options.host : options.http_host, http_port);
    }
    {
        std::ofstream out(tmp);
        out << ports.dump();
        if (!out) return {};
    }
    std::filesystem::rename(tmp, path);
    return path;
}

// A signal as Go's os.Signal prints it, for the "Trapped" debug line.
const char* go_signal_name(int signal_number) {
    switch (signal_number) {
        case SIGINT:
            return "interrupt";
        case SIGTERM:
            return "terminated";
        case SIGHUP:
            return "hangup";
        case SIGUSR1:
            return "user defined signal 1";
        case SIGUSR2:
            return "user defined signal 2";
        default:
            return strsignal(signal_number);
    }
}

// Whether the options ask for something this version cannot do.
bool unsupported(const ringtail::config::Options& options) {
    return !options.unsupported_flags.empty() || !options.unsupported_features.empty();
}

// "not supported by this ringtail version: --tls cluster ..." for what the options asked for.
std::string unsupported_text(const ringtail::config::Options& options) {
    std::string text = "not supported by this ringtail version:";
    for (const auto& item : options.unsupported_flags) text += " " + item;
    for (const auto& item : options.unsupported_features) text += " " + item;
    return text;
}

// SIGHUP: the config file read again with the command line over it, applied where
// nats-server can (Server::reload), the pid and ports files moved when they changed.
void reload(ringtail::core::Server& server, int argc, char** argv, ringtail::config::Options& options,
            std::string& ports_file, const std::string& exe, int http_port) {
    if (options.config_file.empty()) {
        log_error("Failed to reload server configuration: can only reload config when a file is provided using -c "
                  "or --config");
        return;
    }
    ringtail::config::Options fresh;
    std::vector<std::string> warnings;
    ringtail::config::FlagOutcome outcome = ringtail::config::parse_flags(argc, argv, fresh, warnings);
    if (outcome.action != ringtail::config::FlagOutcome::Action::kRun) {
        log_error("Failed to reload server configuration: " + outcome.message);
        return;
    }
    if (unsupported(fresh)) {
        log_error("Failed to reload server configuration: " + unsupported_text(fresh));
        return;
    }
    auto reloaded = server.reload(fresh);
    if (!reloaded) {
        log_error("Failed to reload server configuration: " + reloaded.error().text);
        return;
    }
    for (const std::string& line : *reloaded) log_info(line);
    if (fresh.pid_file != options.pid_file) {
        if (!options.pid_file.empty()) std::filesystem::remove(options.pid_file);
        if (!fresh.pid_file.empty()) std::ofstream(fresh.pid_file) << getpid();
    }
    if (fresh.ports_file_dir != options.ports_file_dir) {
        if (!ports_file.empty()) std::filesystem::remove(ports_file);
        ports_file.clear();
        if (!fresh.ports_file_dir.empty()) ports_file = write_ports_file(fresh, exe, server.port(), http_port);
    }
    options = server.options();
    log_info("Reloaded server configuration");
}

// Lame duck mode as nats-server runs it: no new clients and an INFO with "ldm" to the connected
// ones (Server::enter_lame_duck); after the grace period the clients are closed one at a time,
// spread over the rest of the duration and at most a second apart; then the server stops.
class LameDuck {
public:
    bool active() const { return active_; }

    void start(ringtail::core::Server& server, const ringtail::config::Options& options) {
        active_ = true;
        log_info("Entering lame duck mode, stop accepting new clients");
        server.enter_lame_duck();
        uint64_t clients = 0;
        for (const auto& shard : server.gather({}, std::chrono::seconds(2))) {
            left_.push_back(static_cast<uint32_t>(shard.connections));
            clients += shard.connections;
        }
        auto spread = std::chrono::nanoseconds(options.lame_duck_duration - options.lame_duck_grace_period);
        if (spread <= std::chrono::nanoseconds::zero()) spread = std::chrono::seconds(1);
        interval_ = std::clamp<std::chrono::nanoseconds>(spread / std::max<uint64_t>(clients, 1),
                                                         std::chrono::nanoseconds(1), std::chrono::seconds(1));
        next_ = io_clock::now() + options.lame_duck_grace_period;
        if (clients == 0) next_ = io_clock::now();  // nobody to wait for
    }

    // Closes the next client when its time has come; true once there are none left.
    bool step(ringtail::core::Server& server) {
        if (io_clock::now() < next_) return false;
        auto shard = std::find_if(left_.begin(), left_.end(), [](uint32_t n) { return n > 0; });
        if (shard == left_.end()) return true;
        if (!closing_) {
            closing_ = true;
            log_info("Closing existing clients");
        }
        server.close_clients(static_cast<uint32_t>(shard - left_.begin()), 1);
        --*shard;
        // A random pause of at least half the interval, as nats-server's.
        auto pause = std::chrono::nanoseconds(random_() % static_cast<uint64_t>(interval_.count()));
        next_ = io_clock::now() + std::max(pause, interval_ / 2);
        return false;
    }

private:
    bool active_ = false;
    bool closing_ = false;
    io_clock::time_point next_{};
    std::chrono::nanoseconds interval_{1};
    std::vector<uint32_t> left_;  // by shard: clients still to close
    std::mt19937_64 random_{static_cast<uint64_t>(getpid())};
};

}  // namespace

constexpr const char* kHttpsNeedsTls =
    "HTTPS monitoring (-ms, https_port, https) needs TLS, which this ringtail version does not have";

int main(int argc, char** argv) {
    prefer_huge_pages();
    ringtail::config::Options options;
    std::vector<std::string> warnings;
    ringtail::config::FlagOutcome outcome = ringtail::config::parse_flags(argc, argv, options, warnings);
    switch (outcome.action) {
        case ringtail::config::FlagOutcome::Action::kRun:
            break;
        case ringtail::config::FlagOutcome::Action::kShowHelp:
            std::printf("%s\n", ringtail::config::usage_text().c_str());
            return 0;
        case ringtail::config::FlagOutcome::Action::kShowVersion:
            std::printf("ringtail: v%s (nats-server compatible: v%s)\n", ringtail::core::kRingtailVersion,
                        ringtail::core::kNatsCompatVersion);
            return 0;
        case ringtail::config::FlagOutcome::Action::kError:
            std::fprintf(stderr, "%s\n%s\n", outcome.message.c_str(),
                         ringtail::config::usage_text().c_str());
            return 2;
        case ringtail::config::FlagOutcome::Action::kFatal:
            std::fprintf(stderr, "ringtail: %s\n", outcome.message.c_str());
            return 1;
    }

    if (!options.signal_command.empty()) {
        if (auto sent = ringtail::core::send_signal_command(options.signal_command, exe_name(argv[0])); !sent) {
            std::fprintf(stderr, "%s: %s\n", exe_name(argv[0]).c_str(), sent.error().text.c_str());
            return 1;
        }
        return 0;
    }
    if (options.check_config) {
        // As nats-server's -t: a warning fails the check too, and nothing is opened or written
        // but this answer on stderr.
        std::string problem;
        for (const std::string& warning : warnings) problem += (problem.empty() ? "" : "\n") + warning;
        if (problem.empty() && unsupported(options)) problem = unsupported_text(options);
        if (problem.empty() && options.https_port != 0) problem = kHttpsNeedsTls;
        if (!problem.empty()) {
            std::fprintf(stderr, "%s: %s\n", exe_name(argv[0]).c_str(), problem.c_str());
            return 1;
        }
        std::fprintf(stderr, "%s: configuration file %s is valid\n", exe_name(argv[0]).c_str(), options.config_file.c_str());
        return 0;
    }
    if (auto opened = ringtail::core::logger().open(ringtail::core::log_settings(options, exe_name(argv[0])));
        !opened) {
        std::fprintf(stderr, "ringtail: %s\n", opened.error().text.c_str());
        return 1;
    }
    for (const std::string& warning : warnings) log_warn(warning);
    if (unsupported(options)) {
        log_error(unsupported_text(options));
        return 1;
    }
    if (options.https_port != 0) {
        log_error(kHttpsNeedsTls);
        return 1;
    }
    if (auto probed = ringtail::io::probe_kernel(); !probed) {
        log_error(probed.error().text);
        return 1;
    }

    // Signals are taken by this thread with sigwait; shard threads inherit the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGUSR1);
    sigaddset(&signals, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal(SIGPIPE, SIG_IGN);

    ringtail::core::Server server(options);
    log_info(std::string("Starting ringtail (nats-server ") + ringtail::core::kNatsCompatVersion +
             " compatible)");
    log_info(std::string("  Version:  ") + ringtail::core::kRingtailVersion);
    if (!options.cluster_name.empty()) log_info("  Cluster:  " + options.cluster_name);
    log_info("  Name:     " + server.options().server_name);
    log_info("  ID:       " + server.server_id());
    log_info("  Shards:   " + std::to_string(server.shard_count()));
    // nats-server's checkAuthforWarnings.
    bool plaintext = !options.password.empty() && !ringtail::core::auth::is_bcrypt(options.password);
    for (const ringtail::config::User& user : options.users) {
        if (user.nkey.empty() && user.user != ringtail::config::kSystemOnlyNoAuthUser &&
            !ringtail::core::auth::is_bcrypt(user.password)) {
            plaintext = true;
        }
    }
    if (plaintext) log_warn("Plaintext passwords detected, use nkeys or bcrypt");
    if (!options.config_file.empty()) log_info("Using configuration file: " + options.config_file);
    // Monitoring, and the system account's requests: on threads of their own; the shards
    // answer them by message.
    ringtail::core::monitor::Monitor monitor(server);
    ringtail::core::monitor::SystemRequests system_requests(server, monitor);
    system_requests.start();
    if (auto started = server.start(); !started) {
        log_fatal(started.error().text);
        server.request_stop();
        system_requests.stop();
        (void)server.wait();
        return 1;
    }
    std::unique_ptr<ringtail::core::monitor::HttpServer> http;
    if (options.http_port != 0) {
        std::string http_host = options.http_host.empty() ? options.host : options.http_host;
        http = std::make_unique<ringtail::core::monitor::HttpServer>(monitor, http_host, options.http_port,
                                                                     options.http_base_path);
        if (auto started = http->start(); !started) {
            log_fatal("Can't start monitoring: " + started.error().text);
            server.request_stop();
            (void)server.wait();
            return 1;
        }
        log_info("Starting http monitor on " + ringtail::io::host_port(http_host, http->port()));
    }
    if (!options.pid_file.empty()) {
        std::ofstream(options.pid_file) << getpid();
    }
    std::string ports_file;
    if (!options.ports_file_dir.empty()) {
        ports_file = write_ports_file(options, exe_name(argv[0]), server.port(), http ? http->port() : 0);
    }
    log_info("Listening for client connections on " + ringtail::io::host_port(options.host, server.port()));
    log_info("Server is ready");

    // Signals, as nats-server takes them: INT and TERM stop, HUP reloads the configuration,
    // USR1 reopens the log file, USR2 enters lame duck mode. A shard that fails stops the
    // server too, so wake up regularly to notice.
    LameDuck lame_duck;
    while (!server.stop_requested()) {
        timespec wake{0, 50'000'000};
        int signal_number = sigtimedwait(&signals, nullptr, &wake);
        if (signal_number > 0) log_debug(std::string("Trapped \"") + go_signal_name(signal_number) + "\" signal");
        if (signal_number == SIGINT || (signal_number == SIGTERM && !lame_duck.active())) {
            // (In lame duck mode TERM waits for it to end, as nats-server's does.) Both exit 0
            // here; nats-server's TERM races an exit 1 against its normal exit (mostly 1).
            break;
        }
        if (signal_number == SIGUSR1) log_info(ringtail::core::logger().reopen());
        if (signal_number == SIGHUP) {
            reload(server, argc, argv, options, ports_file, exe_name(argv[0]), http ? http->port() : 0);
        }
        if (signal_number == SIGUSR2 && !lame_duck.active()) lame_duck.start(server, options);
        if (lame_duck.active() && lame_duck.step(server)) break;
    }
    server.request_stop();
    log_info("Initiating Shutdown...");
    if (http) http->stop();
    system_requests.stop();
    auto ended = server.wait();
    if (!ports_file.empty()) std::filesystem::remove(ports_file);
    if (!options.pid_file.empty()) std::filesystem::remove(options.pid_file);
    if (!ended) {
        log_error(ended.error().text);
        return 1;
    }
    log_info("Server Exiting..");
    return 0;
}
