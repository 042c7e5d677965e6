#include "bench/harness/selftest.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/harness/core_endpoints.h"
#include "bench/harness/fake_server.h"
#include "bench/harness/report.h"
#include "bench/harness/runner.h"

namespace ringtail::bench {

namespace {

struct Capacity {
    uint64_t size_bytes = 0;
    RunResult publish;
    uint64_t received = 0;
    double receive_seconds = 0;
    std::string receive_error;
};

// The harness's subscriber (the same endpoint every scenario uses) against a blaster.
void measure_receive(const Options& base, Capacity& capacity) {
    FakeServer server(FakeServer::Config{0, 0, 0, base.count, base.size_bytes});
    if (Status status = server.start(); !status) {
        capacity.receive_error = status.error();
        return;
    }
    Options o = base;
    o.scenario = "pubsub";
    o.url = server.url();
    o.pubs = 1;
    o.subs = 1;
    o.threads = 1;
    Runner runner(o);
    FlowBoard& board = runner.hold<FlowBoard>(1, 1, false);
    board.finish_publisher(0, o.count);  // the blaster plays a publisher that sent --count
    auto conn = runner.connect("subscriber");
    if (!conn) {
        capacity.receive_error = conn.error();
        return;
    }
    (*conn)->out() += "SUB selftest.blast 1\r\n";
    if (Status status = (*conn)->ping_sync(); !status) {
        capacity.receive_error = status.error();
        return;
    }
    // Queued now, sent on the worker's first turn after the epoch: the blast starts then.
    (*conn)->out() += "PUB selftest.start 0\r\n\r\n";
    SubscriberConfig config;
    config.subject = "selftest.blast";
    config.sid = "1";
    config.size_bytes = o.size_bytes;
    Subscriber* subscriber =
        runner.add<Subscriber>(std::move(*conn), runner.control(), board, config);
    runner.execute();
    capacity.receive_error = runner.control().first_error();
    capacity.received = subscriber->received();
    capacity.receive_seconds = runner.seconds_since_epoch(subscriber->last_msg_ns());
}

void measure_publish(const Options& base, Capacity& capacity) {
    FakeServer server(FakeServer::Config{});
    if (Status status = server.start(); !status) {
        capacity.publish.status = RunStatus::kFailed;
        capacity.publish.message = status.error();
        return;
    }
    Options o = base;
    o.scenario = "pub";
    o.url = server.url();
    o.pubs = 1;
    o.subs = 0;
    o.threads = 1;
    capacity.publish = run_scenario(o);
    if (capacity.publish.status == RunStatus::kOk && server.published() != capacity.publish.sent) {
        capacity.publish.status = RunStatus::kFailed;
        capacity.publish.message = "the sink parsed " + std::to_string(server.published()) +
                                   " PUBs of " + std::to_string(capacity.publish.sent);
    }
}

}  // namespace

int run_selftest(std::span<const std::string_view> args) {
    std::vector<uint64_t> sizes = {16, 128, 1024};
    std::vector<std::string_view> rest;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--sizes" && i + 1 < args.size()) {
            sizes.clear();
            std::string_view list = args[++i];
            while (!list.empty()) {
                size_t comma = list.find(',');
                auto bytes = parse_bytes(list.substr(0, comma));
                if (!bytes) {
                    std::fprintf(stderr, "ringtail-bench: %s\n", bytes.error().c_str());
                    return 2;
                }
                sizes.push_back(*bytes);
                list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
            }
        } else {
            rest.push_back(args[i]);
        }
    }
    auto parsed = parse_options("pub", rest);
    if (!parsed) {
        std::fprintf(stderr, "ringtail-bench: %s\n", parsed.error().c_str());
        return 2;
    }
    Options base = *parsed;
    if (std::find(rest.begin(), rest.end(), "--count") == rest.end()) base.count = 5'000'000;
    if (std::find(rest.begin(), rest.end(), "--duration") == rest.end()) base.duration_s = 5;
    base.progress = 0;

    std::printf("ringtail-bench selftest: the harness's own ceiling, no NATS server involved\n");
    std::printf("machine: %s\n", machine_description().c_str());
    std::printf(
        "publish: 1 publisher connection -> a sink thread that parses PUB frames with\n"
        "         proto::Parser and drops them; rate up to the PONG after the last PUB\n");
    std::printf(
        "receive: a blaster thread writes stamped MSG frames -> 1 subscriber connection\n"
        "         that parses and checks each (count, order, size), as in every scenario\n");
    std::printf("each: up to %s messages or %g s; loopback TCP; 1 client thread%s\n\n",
                with_commas(base.count).c_str(), base.duration_s,
                base.cpus.empty() ? "" : " (pinned)");
    std::printf("| size | publish msgs/s | publish MiB/s | receive msgs/s | receive MiB/s |\n");
    std::printf("|---:|---:|---:|---:|---:|\n");
    int status = 0;
    for (uint64_t size : sizes) {
        Capacity capacity;
        capacity.size_bytes = size;
        Options o = base;
        o.size_bytes = size;
        measure_publish(o, capacity);
        measure_receive(o, capacity);
        const Throughput* publish = capacity.publish.headline();
        const double publish_rate = publish != nullptr ? publish->msgs_per_s() : 0;
        const double receive_rate =
            capacity.receive_seconds > 0
                ? static_cast<double>(capacity.received) / capacity.receive_seconds
                : 0;
        auto mib = [&](double rate) {
            return rate * static_cast<double>(size) / (1024.0 * 1024.0);
        };
        std::printf("| %s B | %s | %.1f | %s | %.1f |\n", with_commas(size).c_str(),
                    with_commas(static_cast<uint64_t>(std::llround(publish_rate))).c_str(),
                    mib(publish_rate),
                    with_commas(static_cast<uint64_t>(std::llround(receive_rate))).c_str(),
                    mib(receive_rate));
        if (capacity.publish.status != RunStatus::kOk) {
            std::printf("publish FAILED at %s B: %s\n", with_commas(size).c_str(),
                        capacity.publish.message.c_str());
            status = 1;
        }
        if (!capacity.receive_error.empty()) {
            std::printf("receive FAILED at %s B: %s\n", with_commas(size).c_str(),
                        capacity.receive_error.c_str());
            status = 1;
        }
    }
    return status;
}

}  // namespace ringtail::bench
