// pub, pubsub, fanout, queue and reqrep.
#include <algorithm>

#include "bench/harness/core_endpoints.h"
#include "bench/harness/runner.h"
#include "bench/harness/stamp.h"

namespace ringtail::bench {

namespace {

std::string latency_label(const Options& options, const std::string& what) {
    if (options.rate > 0) return what;
    return what + " (at saturation: mostly queueing)";
}

}  // namespace

void run_core(Runner& runner, RunResult& result) {
    const Options& o = runner.options();
    const bool queue = o.scenario == "queue";
    const auto pubs = static_cast<size_t>(o.pubs);
    const auto subs = static_cast<size_t>(o.subs);
    const std::string subject = "bench." + unique_token() + "." + o.scenario;
    FlowBoard& board = runner.hold<FlowBoard>(pubs, subs, queue);

    std::vector<Subscriber*> subscribers;
    for (size_t s = 0; s < subs; ++s) {
        const std::string name = "subscriber " + std::to_string(s);
        auto conn = subscribed(runner, name, subject, queue ? "bench.group" : "", "1");
        if (!conn) return fail_run(result, conn.error());
        SubscriberConfig config;
        config.id = static_cast<uint32_t>(s);
        config.subject = subject;
        config.queue = queue ? "bench.group" : "";
        config.sid = "1";
        config.size_bytes = o.size_bytes;
        config.rate_per_pub = o.rate / static_cast<double>(pubs);
        subscribers.push_back(
            runner.add<Subscriber>(std::move(*conn), runner.control(), board, config));
    }
    std::vector<Publisher*> publishers;
    for (size_t p = 0; p < pubs; ++p) {
        auto conn = runner.connect("publisher " + std::to_string(p));
        if (!conn) return fail_run(result, conn.error());
        PublisherConfig config;
        config.id = static_cast<uint32_t>(p);
        config.subject = subject;
        config.size_bytes = o.size_bytes;
        config.count = share(o.count, pubs, p);
        config.rate_per_s = o.rate / static_cast<double>(pubs);
        config.window = static_cast<uint64_t>(o.window);
        publishers.push_back(runner.add<Publisher>(std::move(*conn), runner.control(),
                                                   subs > 0 ? &board : nullptr, config));
    }
    runner.execute();

    uint64_t pong_last_ns = 0;
    for (Publisher* publisher : publishers) {
        result.sent += publisher->sent();
        pong_last_ns = std::max(pong_last_ns, publisher->pong_ns());
    }
    uint64_t last_msg_ns = 0;
    for (Subscriber* subscriber : subscribers) {
        result.received += subscriber->received();
        last_msg_ns = std::max(last_msg_ns, subscriber->last_msg_ns());
    }
    result.expected = queue ? result.sent : result.sent * subs;
    const std::string error = runner.control().first_error();
    if (!error.empty()) return fail_run(result, error);

    result.checks.push_back("every publisher's PONG after its last PUB (no -ERR, no disconnect)");
    if (subs > 0) {
        if (queue) {
            // Exactly-once first: it names the message that went missing or came twice.
            std::vector<const DeliveryBitmap*> bitmaps;
            for (Subscriber* subscriber : subscribers) bitmaps.push_back(&subscriber->bitmap());
            std::vector<uint64_t> sent;
            for (Publisher* publisher : publishers) sent.push_back(publisher->sent());
            if (std::string verdict = check_exactly_once(bitmaps, sent); !verdict.empty()) {
                return fail_run(result, verdict);
            }
        }
        if (result.received != result.expected) {
            return fail_run(result,
                            std::string(result.received < result.expected ? "LOSS" : "DUPLICATE") +
                                ": received " + std::to_string(result.received) + " of " +
                                std::to_string(result.expected) + " deliveries");
        }
        result.checks.push_back("delivery counts and payload sizes");
        if (o.size_bytes >= kStampSeqBytes) {
            result.checks.push_back(
                queue ? "per-publisher order at each member"
                      : "every message of every publisher, in order, at each subscriber");
        } else {
            result.notes.push_back("payloads under 8 bytes carry no stamp: counts only");
        }
        if (queue) result.checks.push_back("exactly-once across the queue group");
    }
    Throughput published{"published", result.sent, runner.seconds_since_epoch(pong_last_ns),
                         o.size_bytes, subs == 0};
    result.rates.push_back(published);
    if (subs > 0) {
        result.rates.push_back(Throughput{"delivered", result.received,
                                          runner.seconds_since_epoch(last_msg_ns), o.size_bytes,
                                          true});
        LatencyStat one_way{latency_label(o, "one-way"), {}};
        LatencyStat corrected{"one-way, CO-corrected (from intended send time)", {}};
        for (Subscriber* subscriber : subscribers) {
            one_way.histogram.merge(subscriber->one_way());
            corrected.histogram.merge(subscriber->one_way_corrected());
        }
        if (one_way.histogram.count() > 0) result.latencies.push_back(std::move(one_way));
        if (corrected.histogram.count() > 0) result.latencies.push_back(std::move(corrected));
    }
    if (o.rate > 0) {
        LatencyStat lag{"harness send lag behind the fixed-rate schedule", {}};
        for (Publisher* publisher : publishers) lag.histogram.merge(publisher->send_lag());
        result.latencies.push_back(std::move(lag));
    }
}

void run_reqrep(Runner& runner, RunResult& result) {
    const Options& o = runner.options();
    const auto requesters = static_cast<size_t>(o.pubs);
    const auto responders = static_cast<size_t>(o.subs);
    const std::string token = unique_token();
    const std::string subject = "bench." + token + ".req";
    std::atomic<int>& finished = runner.hold<std::atomic<int>>(0);

    std::vector<Responder*> responder_list;
    for (size_t r = 0; r < responders; ++r) {
        auto conn =
            subscribed(runner, "responder " + std::to_string(r), subject, "bench.responders", "1", true);
        if (!conn) return fail_run(result, conn.error());
        responder_list.push_back(runner.add<Responder>(std::move(*conn), runner.control(), finished,
                                                       static_cast<int>(requesters)));
    }
    std::vector<Requester*> requester_list;
    for (size_t k = 0; k < requesters; ++k) {
        RequesterConfig config;
        config.id = static_cast<uint32_t>(k);
        config.subject = subject;
        config.inbox = "_INBOX." + token + "." + std::to_string(k);
        config.sid = "1";
        config.size_bytes = o.size_bytes;
        config.count = share(o.count, requesters, k);
        config.window = static_cast<uint64_t>(o.window);
        config.rate_per_s = o.rate / static_cast<double>(requesters);
        auto conn = subscribed(runner, "requester " + std::to_string(k), config.inbox, "", "1");
        if (!conn) return fail_run(result, conn.error());
        requester_list.push_back(
            runner.add<Requester>(std::move(*conn), runner.control(), finished, config));
    }
    runner.execute();

    uint64_t last_reply_ns = 0;
    LatencyStat round_trip{o.rate > 0 ? "round trip"
                                      : "round trip (closed loop, " + std::to_string(o.window) +
                                            " outstanding per requester)",
                           {}};
    LatencyStat corrected{"round trip, CO-corrected (from intended send time)", {}};
    for (Requester* requester : requester_list) {
        result.sent += requester->sent();
        result.received += requester->completed();
        last_reply_ns = std::max(last_reply_ns, requester->last_reply_ns());
        round_trip.histogram.merge(requester->round_trip());
        corrected.histogram.merge(requester->round_trip_corrected());
    }
    uint64_t handled = 0;
    for (Responder* responder : responder_list) handled += responder->handled();
    result.expected = result.sent;
    const std::string error = runner.control().first_error();
    if (!error.empty()) return fail_run(result, error);
    if (result.received != result.sent || handled != result.sent) {
        return fail_run(result, "LOSS or DUPLICATE: " + std::to_string(result.sent) +
                                    " requests, " + std::to_string(handled) + " handled, " +
                                    std::to_string(result.received) + " replies");
    }
    result.checks.push_back("every request answered exactly once, with its own payload");
    result.rates.push_back(Throughput{"requests", result.received,
                                      runner.seconds_since_epoch(last_reply_ns), o.size_bytes,
                                      true});
    result.latencies.push_back(std::move(round_trip));
    if (corrected.histogram.count() > 0) result.latencies.push_back(std::move(corrected));
    if (o.rate > 0) {
        LatencyStat lag{"harness send lag behind the fixed-rate schedule", {}};
        for (Requester* requester : requester_list) lag.histogram.merge(requester->send_lag());
        result.latencies.push_back(std::move(lag));
    }
}

}  // namespace ringtail::bench
