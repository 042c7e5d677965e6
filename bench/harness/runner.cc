#include "bench/harness/runner.h"

#include "bench/harness/libnats_driver.h"
#include "bench/harness/natsgo_driver.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <latch>
#include <thread>

#include "bench/harness/report.h"

namespace ringtail::bench {

Runner::Runner(const Options& options) : options_(options) {
    url_ = parse_url(options.url).value_or(ServerUrl{});
    responder_url_ = options.responder_url.empty() ? url_ : parse_url(options.responder_url).value_or(ServerUrl{});
    control_.drain_timeout_ns = static_cast<uint64_t>(options.drain_timeout_s * 1e9);
}

Expected<std::unique_ptr<Connection>> Runner::connect(const std::string& name) {
    Connection::Params params;
    params.name = "ringtail-bench " + name;
    return Connection::open(url_, params);
}

Expected<std::unique_ptr<Connection>> Runner::connect_responder(const std::string& name) {
    Connection::Params params;
    params.name = "ringtail-bench " + name;
    return Connection::open(responder_url_, params);
}

uint64_t share(uint64_t count, uint64_t parts, uint64_t i) {
    return count / parts + (i < count % parts ? 1 : 0);
}

void fail_run(RunResult& result, const std::string& message) {
    result.status = RunStatus::kFailed;
    if (result.message.empty()) result.message = message;
}

Expected<std::unique_ptr<Connection>> subscribed(Runner& runner, const std::string& name,
                                                 const std::string& subject,
                                                 const std::string& queue, const std::string& sid,
                                                 bool responder) {
    auto conn = responder ? runner.connect_responder(name) : runner.connect(name);
    if (!conn) return conn;
    (*conn)->out() += "SUB " + subject + (queue.empty() ? "" : " " + queue) + " " + sid + "\r\n";
    if (Status status = (*conn)->ping_sync(); !status)
        return std::unexpected(name + ": " + status.error());
    return conn;
}

double Runner::seconds_since_epoch(uint64_t ns) const {
    if (ns == 0 || ns < control_.epoch_ns) return 0;
    return static_cast<double>(ns - control_.epoch_ns) / 1e9;
}

void Runner::show_progress(uint64_t now_ns, bool final_line) {
    if (options_.progress != 1) return;
    if (final_line) {
        if (progress_shown_) std::fprintf(stderr, "\r\033[K");
        return;
    }
    const uint64_t elapsed_ns = now_ns - control_.epoch_ns;
    uint64_t sent = 0;
    uint64_t received = 0;
    for (const auto& endpoint : endpoints_) {
        sent += endpoint->progress_sent.load(std::memory_order_relaxed);
        received += endpoint->progress_received.load(std::memory_order_relaxed);
    }
    if (elapsed_ns >= 1'000'000'000) {
        const double interval_s = static_cast<double>(now_ns - last_progress_ns_) / 1e9;
        std::fprintf(stderr, "\r\033[K%s  %.1fs  sent %s (%.2fM/s)  received %s (%.2fM/s)",
                     options_.scenario.c_str(), static_cast<double>(elapsed_ns) / 1e9,
                     with_commas(sent).c_str(),
                     static_cast<double>(sent - last_sent_) / interval_s / 1e6,
                     with_commas(received).c_str(),
                     static_cast<double>(received - last_received_) / interval_s / 1e6);
        std::fflush(stderr);
        progress_shown_ = true;
    }
    last_sent_ = sent;
    last_received_ = received;
    last_progress_ns_ = now_ns;
}

void Runner::execute() {
    const size_t thread_count = static_cast<size_t>(std::max(1, options_.threads));
    std::vector<std::unique_ptr<Worker>> workers;
    for (size_t i = 0; i < thread_count; ++i) {
        const int cpu = options_.cpus.empty() ? -1 : options_.cpus[i % options_.cpus.size()];
        workers.push_back(std::make_unique<Worker>(cpu));
    }
    for (size_t i = 0; i < endpoints_.size(); ++i) {
        workers[i % thread_count]->add(endpoints_[i].get());
    }
    std::erase_if(workers, [](const auto& worker) { return worker->empty(); });
    std::latch ready(static_cast<std::ptrdiff_t>(workers.size() + 1));
    for (auto& worker : workers) worker->start(control_, ready);

    control_.epoch_ns = now_ns();
    const auto duration_ns = static_cast<uint64_t>(options_.duration_s * 1e9);
    control_.publish_deadline_ns = control_.epoch_ns + duration_ns;
    // A run that overstays publishing, draining and 30 s of slack is stuck: stop it.
    const uint64_t watchdog_ns =
        control_.publish_deadline_ns + control_.drain_timeout_ns + 30'000'000'000;
    last_progress_ns_ = control_.epoch_ns;
    ready.arrive_and_wait();

    uint64_t next_progress_ns = control_.epoch_ns + 250'000'000;
    while (control_.workers_running.load(std::memory_order_acquire) > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const uint64_t now = now_ns();
        if (now >= next_progress_ns) {
            show_progress(now, false);
            next_progress_ns = now + 250'000'000;
        }
        if (now > watchdog_ns) control_.fail("the run did not finish in time (watchdog)");
    }
    for (auto& worker : workers) worker->join();
    elapsed_s_ = static_cast<double>(now_ns() - control_.epoch_ns) / 1e9;
    show_progress(now_ns(), true);
}

Expected<ServerIdentity> probe_server(const Options& options) {
    auto url = parse_url(options.url);
    if (!url) return std::unexpected(url.error());
    Connection::Params params;
    params.name = "ringtail-bench probe";
    auto conn = Connection::open(*url, params);
    if (!conn) return std::unexpected(conn.error());
    const proto::Info& info = (*conn)->info();
    ServerIdentity identity;
    identity.url = url->text();
    identity.jetstream = info.jetstream;
    if (!info.ringtail_version.empty()) {
        identity.name =
            "ringtail " + info.ringtail_version + " (nats-server " + info.version + " compatible)";
    } else {
        identity.name = "nats-server " + info.version;
    }
    return identity;
}

namespace {

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return cpu_seconds(usage);
}

RunResult run_scenario_body(Options options) {
    RunResult result;
    if (Status status = resolve_defaults(options); !status) {
        result.options = options;
        result.status = RunStatus::kFailed;
        result.message = status.error();
        return result;
    }
    result.options = options;
    auto server = probe_server(options);
    if (!server) {
        result.status = RunStatus::kFailed;
        result.message = server.error();
        return result;
    }
    result.server = *server;
    if (is_jetstream_scenario(options.scenario) && !server->jetstream) {
        result.status = RunStatus::kSkipped;
        result.message = "JetStream not available (the server's INFO does not announce it)";
        return result;
    }
    if (options.client == "nats.go") {
        run_natsgo(options, result);
        return result;
    }
    // The consume scenarios set up with the harness's own client and consume with libnats.
    if (options.client == "libnats" && !is_consume_scenario(options.scenario)) {
        run_libnats(options, result);
        return result;
    }
    Runner runner(options);
    const std::string& s = options.scenario;
    if (s == "pub" || s == "pubsub" || s == "fanout" || s == "queue") {
        run_core(runner, result);
    } else if (s == "reqrep") {
        run_reqrep(runner, result);
    } else if (s == "js-pub") {
        run_js_pub(runner, result);
    } else if (is_consume_scenario(s)) {
        run_js_consumption(runner, result);
    } else if (s == "kv") {
        run_kv(runner, result);
    }
    if (result.status == RunStatus::kOk && result.elapsed_s == 0)
        result.elapsed_s = runner.elapsed_s();
    return result;
}

}  // namespace

double cpu_seconds(const rusage& usage) {
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

RunResult run_scenario(Options options) {
    const double before = own_cpu_seconds();
    RunResult result = run_scenario_body(std::move(options));
    // The consume scenarios prefill with the harness's client: that is not the consumers'.
    if (is_consume_scenario(result.options.scenario)) return result;
    result.client_cpu_s = std::max(result.client_cpu_s, 0.0) + own_cpu_seconds() - before;
    return result;
}

}  // namespace ringtail::bench
