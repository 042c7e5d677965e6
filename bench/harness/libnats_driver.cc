#include "bench/harness/libnats_driver.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/checker.h"
#include "bench/harness/client.h"
#include "bench/harness/runner.h"
#include "bench/harness/stamp.h"

namespace ringtail::bench {
namespace {

// What every connection's asynchronous error callback reports (a slow consumer, mostly).
struct Errors {
    std::mutex mutex;
    std::string first;
    void add(const std::string& text) {
        std::lock_guard lock(mutex);
        if (first.empty()) first = text;
    }
    std::string get() {
        std::lock_guard lock(mutex);
        return first;
    }
};

void on_async_error(natsConnection*, natsSubscription*, natsStatus status, void* closure) {
    static_cast<Errors*>(closure)->add(std::string("libnats: ") + natsStatus_GetText(status));
}

struct ConnDeleter {
    void operator()(natsConnection* conn) const { natsConnection_Destroy(conn); }
};
struct SubDeleter {
    void operator()(natsSubscription* sub) const { natsSubscription_Destroy(sub); }
};
using ConnPtr = std::unique_ptr<natsConnection, ConnDeleter>;
using SubPtr = std::unique_ptr<natsSubscription, SubDeleter>;

// `send_asap`: every publish is written at once instead of waiting for libnats's flusher
// thread (which batches for up to a millisecond: a request-reply round trip would measure it).
Expected<ConnPtr> connect(const Options& o, const std::string& name, Errors& errors, bool send_asap = false) {
    natsOptions* options = nullptr;
    if (natsOptions_Create(&options) != NATS_OK) return std::unexpected("natsOptions_Create failed");
    natsOptions_SetURL(options, o.url.c_str());
    natsOptions_SetSendAsap(options, send_asap);
    natsOptions_SetName(options, name.c_str());
    natsOptions_SetAllowReconnect(options, false);
    natsOptions_SetErrorHandler(options, on_async_error, &errors);
    natsConnection* conn = nullptr;
    natsStatus status = natsConnection_Connect(&conn, options);
    natsOptions_Destroy(options);
    if (status != NATS_OK) return std::unexpected(name + ": " + natsStatus_GetText(status));
    return ConnPtr(conn);
}

// One subscriber's view of the run. Its counters are written by its subscription's delivery
// thread and read by publishers (flow control) and by the run's thread at the end.
struct Receiver {
    explicit Receiver(size_t publishers) : from(publishers), next_seq(publishers, 0), bitmap(publishers) {}
    std::vector<std::atomic<uint64_t>> from;  // messages received, by publisher
    std::atomic<uint64_t> total{0};
    std::atomic<uint64_t> last_ns{0};
    std::vector<uint64_t> next_seq;  // by publisher: the order check (delivery thread only)
    DeliveryBitmap bitmap;           // queue groups: exactly-once across members
    Histogram one_way;
    bool queue = false;
    Errors* errors = nullptr;
};

void on_delivery(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto& r = *static_cast<Receiver*>(closure);
    const uint64_t now = now_ns();
    std::string_view payload(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    Stamp stamp = read_stamp(payload);
    uint32_t publisher = stamp.has_seq ? stamp.publisher : 0;
    if (stamp.has_seq && publisher < r.from.size()) {
        if (r.queue) {
            if (!r.bitmap.mark(publisher, stamp.seq)) r.errors->add("DUPLICATE at a queue member");
            if (stamp.seq < r.next_seq[publisher]) r.errors->add("ORDER: a queue member got a message out of order");
        } else if (stamp.seq != r.next_seq[publisher]) {
            r.errors->add("ORDER or LOSS: expected message " + std::to_string(r.next_seq[publisher]) + " of publisher " +
                          std::to_string(publisher) + ", got " + std::to_string(stamp.seq));
        }
        r.next_seq[publisher] = stamp.seq + 1;
        if (stamp.has_time && now > stamp.sent_ns) r.one_way.record(now - stamp.sent_ns);
    }
    r.from[publisher].fetch_add(1, std::memory_order_relaxed);
    r.total.fetch_add(1, std::memory_order_relaxed);
    r.last_ns.store(now, std::memory_order_relaxed);
    natsMsg_Destroy(msg);
}

void run_core_libnats(const Options& o, RunResult& result, Errors& errors) {
    const bool queue = o.scenario == "queue";
    const auto pubs = static_cast<size_t>(o.pubs);
    const auto subs = static_cast<size_t>(o.subs);
    const std::string subject = "bench." + unique_token() + "." + o.scenario;

    std::vector<std::unique_ptr<Receiver>> receivers;
    std::vector<ConnPtr> sub_conns;
    std::vector<SubPtr> subscriptions;
    for (size_t s = 0; s < subs; ++s) {
        auto conn = connect(o, "libnats subscriber " + std::to_string(s), errors);
        if (!conn) return fail_run(result, conn.error());
        receivers.push_back(std::make_unique<Receiver>(pubs));
        Receiver& receiver = *receivers.back();
        receiver.queue = queue;
        receiver.errors = &errors;
        natsSubscription* sub = nullptr;
        natsStatus status = queue ? natsConnection_QueueSubscribe(&sub, conn->get(), subject.c_str(), "bench.group",
                                                                  on_delivery, &receiver)
                                  : natsConnection_Subscribe(&sub, conn->get(), subject.c_str(), on_delivery, &receiver);
        if (status != NATS_OK) return fail_run(result, std::string("subscribe: ") + natsStatus_GetText(status));
        // Flow control below keeps what waits bounded; libnats's own limit would drop instead.
        natsSubscription_SetPendingLimits(sub, -1, -1);
        subscriptions.emplace_back(sub);
        if (natsConnection_FlushTimeout(conn->get(), 5000) != NATS_OK) return fail_run(result, "subscriber flush failed");
        sub_conns.push_back(std::move(*conn));
    }
    std::vector<ConnPtr> pub_conns;
    for (size_t p = 0; p < pubs; ++p) {
        auto conn = connect(o, "libnats publisher " + std::to_string(p), errors);
        if (!conn) return fail_run(result, conn.error());
        pub_conns.push_back(std::move(*conn));
    }

    // In flight from publisher p: what it sent minus what the slowest subscriber got of it (a
    // queue group: minus what the whole group got).
    auto delivered_of = [&](size_t p) {
        uint64_t value = queue ? 0 : UINT64_MAX;
        for (const auto& receiver : receivers) {
            uint64_t got = receiver->from[p].load(std::memory_order_relaxed);
            value = queue ? value + got : std::min(value, got);
        }
        return receivers.empty() ? UINT64_MAX : value;
    };
    const auto window = static_cast<uint64_t>(std::max<int64_t>(o.window, 1));
    std::vector<uint64_t> sent(pubs, 0);
    const uint64_t start_ns = now_ns();
    const uint64_t deadline_ns = start_ns + static_cast<uint64_t>(o.duration_s * 1e9);
    std::vector<std::thread> threads;
    for (size_t p = 0; p < pubs; ++p) {
        threads.emplace_back([&, p] {
            std::string payload(o.size_bytes, 'x');
            const uint64_t count = share(o.count, pubs, p);
            for (uint64_t i = 0; i < count; ++i) {
                if (subs > 0 && i % 64 == 0) {
                    while (i - std::min(i, delivered_of(p)) >= window && errors.get().empty()) {
                        std::this_thread::yield();
                    }
                }
                if (now_ns() > deadline_ns || !errors.get().empty()) break;
                write_stamp(payload.data(), payload.size(), static_cast<uint32_t>(p), i, now_ns());
                if (natsConnection_Publish(pub_conns[p].get(), subject.c_str(), payload.data(),
                                           static_cast<int>(payload.size())) != NATS_OK) {
                    errors.add("publish failed");
                    break;
                }
                sent[p] = i + 1;
            }
            if (natsConnection_FlushTimeout(pub_conns[p].get(), 10000) != NATS_OK) errors.add("publisher flush failed");
        });
    }
    for (std::thread& thread : threads) thread.join();
    const uint64_t published_ns = now_ns();
    for (uint64_t n : sent) result.sent += n;
    result.expected = subs == 0 ? 0 : (queue ? result.sent : result.sent * subs);
    auto received = [&] {
        uint64_t total = 0;
        for (const auto& receiver : receivers) total += receiver->total.load(std::memory_order_relaxed);
        return total;
    };
    const uint64_t drain_deadline = published_ns + static_cast<uint64_t>(o.drain_timeout_s * 1e9);
    while (received() < result.expected && now_ns() < drain_deadline && errors.get().empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    subscriptions.clear();  // no delivery thread runs past this point
    result.received = received();
    if (std::string error = errors.get(); !error.empty()) return fail_run(result, error);
    if (queue) {
        std::vector<const DeliveryBitmap*> bitmaps;
        for (const auto& receiver : receivers) bitmaps.push_back(&receiver->bitmap);
        if (std::string verdict = check_exactly_once(bitmaps, sent); !verdict.empty()) return fail_run(result, verdict);
    }
    if (result.received != result.expected) {
        return fail_run(result, std::string(result.received < result.expected ? "LOSS" : "DUPLICATE") + ": received " +
                                    std::to_string(result.received) + " of " + std::to_string(result.expected) +
                                    " deliveries");
    }
    result.checks.push_back("libnats client: every publisher flushed (PING/PONG) after its last publish");
    if (subs > 0) {
        result.checks.push_back(queue ? "exactly-once across the queue group, per-publisher order at each member"
                                      : "every message of every publisher, in order, at each subscriber");
    }
    uint64_t last_ns = 0;
    LatencyStat one_way{"one-way (libnats, at saturation: mostly queueing)", {}};
    for (const auto& receiver : receivers) {
        last_ns = std::max(last_ns, receiver->last_ns.load());
        one_way.histogram.merge(receiver->one_way);
    }
    auto seconds = [&](uint64_t end_ns) { return static_cast<double>(end_ns - start_ns) / 1e9; };
    result.rates.push_back(Throughput{"published", result.sent, seconds(published_ns), o.size_bytes, subs == 0});
    if (subs > 0) {
        result.rates.push_back(Throughput{"delivered", result.received, seconds(last_ns), o.size_bytes, true});
        if (one_way.histogram.count() > 0) result.latencies.push_back(std::move(one_way));
    }
    result.elapsed_s = seconds(std::max(published_ns, last_ns));
}

struct Responder {
    natsConnection* conn = nullptr;
    std::atomic<uint64_t> handled{0};
};

void on_request(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto& responder = *static_cast<Responder*>(closure);
    if (const char* reply = natsMsg_GetReply(msg)) {
        natsConnection_Publish(responder.conn, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    }
    responder.handled.fetch_add(1, std::memory_order_relaxed);
    natsMsg_Destroy(msg);
}

void run_reqrep_libnats(const Options& o, RunResult& result, Errors& errors) {
    const auto requesters = static_cast<size_t>(o.pubs);
    const auto responders = static_cast<size_t>(o.subs);
    const std::string subject = "bench." + unique_token() + ".req";
    std::vector<ConnPtr> conns;
    std::vector<std::unique_ptr<Responder>> responder_list;
    std::vector<SubPtr> subscriptions;
    for (size_t r = 0; r < responders; ++r) {
        auto conn = connect(o, "libnats responder " + std::to_string(r), errors, /*send_asap=*/true);
        if (!conn) return fail_run(result, conn.error());
        responder_list.push_back(std::make_unique<Responder>());
        responder_list.back()->conn = conn->get();
        natsSubscription* sub = nullptr;
        if (natsConnection_QueueSubscribe(&sub, conn->get(), subject.c_str(), "bench.responders", on_request,
                                          responder_list.back().get()) != NATS_OK) {
            return fail_run(result, "responder subscribe failed");
        }
        subscriptions.emplace_back(sub);
        if (natsConnection_FlushTimeout(conn->get(), 5000) != NATS_OK) return fail_run(result, "responder flush failed");
        conns.push_back(std::move(*conn));
    }
    std::vector<ConnPtr> requester_conns;
    for (size_t k = 0; k < requesters; ++k) {
        auto conn = connect(o, "libnats requester " + std::to_string(k), errors, /*send_asap=*/true);
        if (!conn) return fail_run(result, conn.error());
        requester_conns.push_back(std::move(*conn));
    }
    std::vector<Histogram> round_trips(requesters);
    std::vector<uint64_t> completed(requesters, 0);
    const uint64_t start_ns = now_ns();
    const uint64_t deadline_ns = start_ns + static_cast<uint64_t>(o.duration_s * 1e9);
    std::vector<std::thread> threads;
    for (size_t k = 0; k < requesters; ++k) {
        threads.emplace_back([&, k] {
            std::string payload(o.size_bytes, 'r');
            const uint64_t count = share(o.count, requesters, k);
            for (uint64_t i = 0; i < count && now_ns() < deadline_ns && errors.get().empty(); ++i) {
                natsMsg* reply = nullptr;
                uint64_t sent_ns = now_ns();
                natsStatus status = natsConnection_Request(&reply, requester_conns[k].get(), subject.c_str(),
                                                           payload.data(), static_cast<int>(payload.size()), 5000);
                if (status != NATS_OK) {
                    errors.add(std::string("request: ") + natsStatus_GetText(status));
                    break;
                }
                bool same = natsMsg_GetDataLength(reply) == static_cast<int>(payload.size());
                natsMsg_Destroy(reply);
                if (!same) {
                    errors.add("a reply with another payload");
                    break;
                }
                round_trips[k].record(now_ns() - sent_ns);
                completed[k] = i + 1;
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    const uint64_t end_ns = now_ns();
    subscriptions.clear();
    for (uint64_t n : completed) result.sent += n;
    result.received = result.sent;
    result.expected = result.sent;
    uint64_t handled = 0;
    for (const auto& responder : responder_list) handled += responder->handled.load();
    if (std::string error = errors.get(); !error.empty()) return fail_run(result, error);
    if (handled != result.sent) {
        return fail_run(result, "LOSS or DUPLICATE: " + std::to_string(result.sent) + " requests answered, " +
                                    std::to_string(handled) + " handled");
    }
    result.checks.push_back("libnats client: every request answered exactly once, with its own payload size");
    double seconds = static_cast<double>(end_ns - start_ns) / 1e9;
    result.rates.push_back(Throughput{"requests", result.received, seconds, o.size_bytes, true});
    LatencyStat round_trip{"round trip (libnats natsConnection_Request with SendAsap, one outstanding per requester)", {}};
    for (const Histogram& histogram : round_trips) round_trip.histogram.merge(histogram);
    result.latencies.push_back(std::move(round_trip));
    result.elapsed_s = seconds;
}

}  // namespace

void run_libnats(const Options& options, RunResult& result) {
    Errors errors;
    if (options.scenario == "reqrep") {
        if (options.window != 1) result.notes.push_back("libnats requesters keep one request outstanding");
        run_reqrep_libnats(options, result, errors);
    } else {
        run_core_libnats(options, result, errors);
    }
}

}  // namespace ringtail::bench
