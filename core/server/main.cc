// ringtail: a NATS server. Command-line flags and config files are nats-server's.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/monitor/http_server.h"
#include "core/monitor/monitor.h"
#include "core/server/log.h"
#include "core/server/server.h"
#include "io/uring.h"
#include "proto/config/flags.h"

namespace {

using ringtail::core::log_error;
using ringtail::core::log_fatal;
using ringtail::core::log_info;
using ringtail::core::log_warn;

std::string exe_name(const char* argv0) { return std::filesystem::path(argv0).filename().string(); }

// <dir>/<exe>_<pid>.ports, as nats-server writes it for test harnesses.
std::string write_ports_file(const ringtail::config::Options& options, const std::string& exe,
                             int port, int http_port) {
    std::string host = options.host == "0.0.0.0" || options.host.empty() ? "127.0.0.1" : options.host;
    std::string path = options.ports_file_dir + "/" + exe + "_" + std::to_string(getpid()) + ".ports";
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp);
        out << "{\"nats\":[\"nats://" << host << ":" << port << "\"]";
        if (http_port > 0) {
            std::string http_host = options.http_host.empty() ? host : options.http_host;
            if (http_host == "0.0.0.0") http_host = "127.0.0.1";
            out << ",\"monitoring\":[\"http://" << http_host << ":" << http_port << "\"]";
        }
        out << "}";
        if (!out) return {};
    }
    std::filesystem::rename(tmp, path);
    return path;
}

}  // namespace

int main(int argc, char** argv) {
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
        case ringtail::config::FlagOutcome::Action::kConfigError:
            std::fprintf(stderr, "ringtail: %s\n", outcome.message.c_str());
            return 1;
    }

    if (auto opened = ringtail::core::logger().open(options.log_file, options.debug, options.trace, options.logtime);
        !opened) {
        std::fprintf(stderr, "ringtail: %s\n", opened.error().text.c_str());
        return 1;
    }
    for (const std::string& warning : warnings) log_warn(warning);
    if (!options.unsupported_flags.empty() || !options.unsupported_features.empty()) {
        std::string what;
        for (const auto& item : options.unsupported_flags) what += " " + item;
        for (const auto& item : options.unsupported_features) what += " " + item;
        log_error("not supported by this ringtail version:" + what);
        return 1;
    }
    if (options.https_port != 0) {
        log_error("HTTPS monitoring (-ms, https_port, https) needs TLS, which this ringtail version does not have");
        return 1;
    }
    if (options.check_config) {
        std::printf("ringtail: configuration is valid\n");
        return 0;
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
    log_info("  Name:     " + server.options().server_name);
    log_info("  ID:       " + server.server_id());
    log_info("  Shards:   " + std::to_string(server.shard_count()));
    if (auto started = server.start(); !started) {
        log_fatal(started.error().text);
        server.request_stop();
        (void)server.wait();
        return 1;
    }
    // Monitoring: on threads of its own; the shards answer it by message.
    ringtail::core::monitor::Monitor monitor(server);
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
        log_info("Starting http monitor on " + http_host + ":" + std::to_string(http->port()));
    }
    if (!options.pid_file.empty()) {
        std::ofstream(options.pid_file) << getpid();
    }
    std::string ports_file;
    if (!options.ports_file_dir.empty()) {
        ports_file = write_ports_file(options, exe_name(argv[0]), server.port(), http ? http->port() : 0);
    }
    log_info("Listening for client connections on " + options.host + ":" + std::to_string(server.port()));
    log_info("Server is ready");

    // A shard that fails stops the server too, so wake up regularly to notice.
    while (!server.stop_requested()) {
        timespec wake{0, 200'000'000};
        int signal_number = sigtimedwait(&signals, nullptr, &wake);
        if (signal_number < 0) continue;
        if (signal_number == SIGINT || signal_number == SIGTERM) {
            log_info(std::string("Trapped \"") + (signal_number == SIGINT ? "interrupt" : "terminated") +
                     "\" signal");
            server.request_stop();
        } else {
            log_warn("signal " + std::to_string(signal_number) + " is not supported yet; ignored");
        }
    }
    log_info("Initiating Shutdown...");
    if (http) http->stop();
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
