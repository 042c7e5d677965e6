#include "bench/harness/libnats_driver.h"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <chrono>
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
    if (publisher < r.from.size()) {
        r.from[publisher].fetch_add(1, std::memory_order_relaxed);
    } else {
        r.errors->add("a message stamped by publisher " + std::to_string(publisher) + ", which does not exist");
    }
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
    // queue group: minus what the whole group got). Payloads too small for a stamp say nothing
    // of their publisher: each is then taken to have an equal share of what arrived.
    const bool stamped = o.size_bytes >= kStampSeqBytes;
    auto delivered_of = [&](size_t p) {
        uint64_t value = queue ? 0 : UINT64_MAX;
        for (const auto& receiver : receivers) {
            uint64_t got = stamped ? receiver->from[p].load(std::memory_order_relaxed)
                                   : receiver->total.load(std::memory_order_relaxed) / pubs;
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

namespace {

// ---- js-consume and js-push ----

struct JsCtxDeleter {
    void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
using JsPtr = std::unique_ptr<jsCtx, JsCtxDeleter>;

// One consumer's view of the run. Touched by the thread that receives its messages (the fetch
// loop, or the subscription's delivery thread); by the run's thread once the subscription is gone.
struct JsReceiver {
    JsReceiver(const Options& o, ConsumeBoard& shared, Errors& errors_out)
        : size_bytes(o.size_bytes),
          publishers(o.live ? static_cast<uint32_t>(o.pubs) : 0),
          board(shared),
          errors(errors_out),
          delivered_ns(publishers) {}
    uint64_t size_bytes;
    uint32_t publishers;  // --live: stamped by this many publishers
    uint64_t start_ns = 0;
    ConsumeBoard& board;
    Errors& errors;
    DeliveryBitmap bitmap{1};
    Histogram from_send;
    std::vector<SeqTimes> delivered_ns;
    std::atomic<uint64_t> consumed{0};
    std::atomic<uint64_t> last_ns{0};
    // Push: the delivery thread holds this while it handles a message; the run's thread sets
    // `stopped` under it, and from then on owns the state above while the subscription still
    // exists (unsubscribing would delete the consumer the acks are checked on).
    std::mutex mutex;
    bool stopped = false;
};

// The same checks as JsConsumer::consume(), then natsMsg_Ack. The caller destroys `msg`.
void receive(JsReceiver& r, natsMsg* msg) {
    const uint64_t now = now_ns();
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) != NATS_OK)
        return r.errors.add("message without JetStream metadata");
    const uint64_t delivered = meta->NumDelivered;
    const uint64_t stream_seq = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
    if (delivered != 1) {
        return r.errors.add("REDELIVERY of stream seq " + std::to_string(stream_seq) +
                            " (delivered " + std::to_string(delivered) + " times)");
    }
    if (stream_seq < 1 || !r.bitmap.mark(0, stream_seq - 1)) {
        return r.errors.add("DUPLICATE stream seq " + std::to_string(stream_seq));
    }
    std::string_view payload(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    if (payload.size() != r.size_bytes) {
        return r.errors.add("payload of " + std::to_string(payload.size()) + " bytes, expected " +
                            std::to_string(r.size_bytes));
    }
    if (r.publishers > 0) {
        const Stamp stamp = read_stamp(payload);
        if (!stamp.has_seq || stamp.publisher >= r.publishers) {
            return r.errors.add("payload without a stamp of this run at stream seq " +
                                std::to_string(stream_seq));
        }
        const uint64_t received_ns = now - r.start_ns;
        if (stamp.has_time) r.from_send.record(received_ns - std::min(received_ns, stamp.sent_ns));
        r.delivered_ns[stamp.publisher].set(stamp.seq, now);
    }
    if (natsStatus status = natsMsg_Ack(msg, nullptr); status != NATS_OK) {
        return r.errors.add(std::string("ack: ") + natsStatus_GetText(status));
    }
    r.consumed.fetch_add(1, std::memory_order_relaxed);
    r.board.consumed.fetch_add(1, std::memory_order_relaxed);
    r.last_ns.store(now, std::memory_order_relaxed);
}

void on_js_delivery(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto& r = *static_cast<JsReceiver*>(closure);
    std::lock_guard lock(r.mutex);
    if (!r.stopped) receive(r, msg);
    natsMsg_Destroy(msg);
}

// A --live publisher. The PubAck handler runs on libnats's reply thread for this connection.
struct JsSender {
    uint32_t id = 0;
    uint64_t start_ns = 0;
    Errors* errors = nullptr;
    std::atomic<uint64_t> acked{0};
    std::atomic<uint64_t> last_ack_ns{0};
    SeqTimes acked_ns;
    Histogram round_trip;
    uint64_t sent = 0;
};

void on_pub_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
    auto& sender = *static_cast<JsSender*>(closure);
    const uint64_t now = now_ns();
    if (pa == nullptr) {
        sender.errors->add(std::string("PubAck error: ") +
                           (pae != nullptr && pae->ErrText != nullptr ? pae->ErrText : "unknown"));
    } else if (pa->Duplicate) {
        sender.errors->add("PubAck marked duplicate (the harness never repeats a message)");
    } else {
        std::string_view payload(natsMsg_GetData(msg),
                                 static_cast<size_t>(natsMsg_GetDataLength(msg)));
        const Stamp stamp = read_stamp(payload);
        sender.acked_ns.set(stamp.seq, now);
        const uint64_t sent_ns = sender.start_ns + stamp.sent_ns;
        sender.round_trip.record(now - std::min(now, sent_ns));
        sender.last_ack_ns.store(now, std::memory_order_relaxed);
        sender.acked.fetch_add(1, std::memory_order_release);
    }
    natsMsg_Destroy(msg);
}

// Publishes its share of --count with js_PublishAsync (at most --window unacknowledged), paced
// by --rate, then waits for the outstanding PubAcks and posts its count to the board.
void publish_live(const Options& o, const std::string& subject, jsCtx* js, JsSender& sender,
                  ConsumeBoard& board, uint64_t deadline_ns) {
    const auto pubs = static_cast<uint64_t>(o.pubs);
    const uint64_t count = share(o.count, pubs, sender.id);
    const double rate = o.rate / static_cast<double>(pubs);
    std::string payload(o.size_bytes, 'x');
    for (uint64_t i = 0; i < count && sender.errors->get().empty(); ++i) {
        if (rate > 0) {
            const uint64_t due_ns =
                sender.start_ns + static_cast<uint64_t>(static_cast<double>(i) * 1e9 / rate);
            while (now_ns() < due_ns)
                std::this_thread::sleep_for(std::chrono::nanoseconds(due_ns - now_ns()));
        }
        const uint64_t now = now_ns();
        if (now >= deadline_ns) break;
        write_stamp(payload.data(), payload.size(), sender.id, i, now - sender.start_ns);
        if (natsStatus status = js_PublishAsync(js, subject.c_str(), payload.data(),
                                                static_cast<int>(payload.size()), nullptr);
            status != NATS_OK) {
            sender.errors->add(std::string("js_PublishAsync: ") + natsStatus_GetText(status));
            break;
        }
        sender.sent = i + 1;
    }
    jsPubOptions wait;
    jsPubOptions_Init(&wait);
    wait.MaxWait = static_cast<int64_t>(o.drain_timeout_s * 1000);
    if (natsStatus status = js_PublishAsyncComplete(js, &wait); status != NATS_OK) {
        sender.errors->add("LOSS: PubAcks never came (" + std::string(natsStatus_GetText(status)) +
                           ")");
    }
    // The handler of the last PubAck may still be running when the wait above returns.
    const uint64_t give_up_ns = now_ns() + 1'000'000'000;
    while (sender.acked.load(std::memory_order_acquire) < sender.sent && now_ns() < give_up_ns) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    board.publisher_finished(sender.acked.load(std::memory_order_acquire));
}

// Fetches until the board is complete (or, without --live, the duration ends), never asking for
// more than is left so that the last Fetch does not wait out its timeout.
void fetch_loop(const Options& o, natsSubscription* sub, JsReceiver& r, uint64_t deadline_ns) {
    uint64_t last_progress_ns = now_ns();
    while (!r.board.complete() && r.errors.get().empty()) {
        const uint64_t now = now_ns();
        if (!r.board.live && now >= deadline_ns) return;
        if (now - last_progress_ns > static_cast<uint64_t>(o.drain_timeout_s * 1e9)) {
            return r.errors.add("LOSS: nothing delivered for the drain timeout; consumed " +
                                std::to_string(r.board.consumed.load()) + " of " +
                                std::to_string(r.board.stored.load()));
        }
        int batch = static_cast<int>(o.batch);
        if (r.board.publishers_running.load(std::memory_order_acquire) == 0) {
            const uint64_t left =
                r.board.stored.load() - std::min(r.board.stored.load(), r.board.consumed.load());
            batch = static_cast<int>(std::clamp<uint64_t>(left, 1, static_cast<uint64_t>(batch)));
        }
        natsMsgList list{};
        jsErrCode code = static_cast<jsErrCode>(0);
        natsStatus status = natsSubscription_Fetch(&list, sub, batch, 1000, &code);
        // A timeout is an empty or short fetch, not an error: the loop's bounds decide.
        for (int i = 0; i < list.Count; ++i) receive(r, list.Msgs[i]);
        if (list.Count > 0) last_progress_ns = now_ns();
        natsMsgList_Destroy(&list);
        if (status != NATS_OK && status != NATS_TIMEOUT) {
            return r.errors.add(std::string("natsSubscription_Fetch: ") +
                                natsStatus_GetText(status));
        }
    }
}

// js_PullSubscribe or js_Subscribe for consumer c, with the consumer config the harness's own
// client uses (scenarios_js.cc).
Expected<SubPtr> subscribe_consumer(const Options& o, const LibnatsConsumeSetup& setup, jsCtx* js,
                                    JsReceiver& r) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = setup.stream.c_str();
    so.Config.Durable = setup.durable.c_str();
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.DeliverPolicy = js_DeliverAll;
    so.Config.MaxAckPending = o.window;
    so.Config.AckWait = 30'000'000'000;
    so.Config.ReplayPolicy = js_ReplayInstant;
    const std::string filter = setup.subject + ".>";
    natsSubscription* sub = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus status;
    if (o.scenario == "js-push") {
        so.ManualAck = true;
        so.Config.FlowControl = true;
        so.Config.Heartbeat = PushConsumer::kIdleHeartbeatNs;
        status = js_Subscribe(&sub, js, filter.c_str(), on_js_delivery, &r, nullptr, &so, &code);
    } else {
        so.Config.MaxWaiting = 512;
        status =
            js_PullSubscribe(&sub, js, filter.c_str(), setup.durable.c_str(), nullptr, &so, &code);
    }
    if (status != NATS_OK) {
        return std::unexpected(
            std::string(o.scenario == "js-push" ? "js_Subscribe: " : "js_PullSubscribe: ") +
            natsStatus_GetText(status) + " (" + nats_GetLastError(nullptr) + ")");
    }
    return SubPtr(sub);
}

struct JsClient {
    ConnPtr conn;
    JsPtr js;
};

Expected<JsClient> js_client(const Options& o, const std::string& name, Errors& errors,
                             JsSender* sender) {
    auto conn = connect(o, name, errors);
    if (!conn) return std::unexpected(conn.error());
    jsOptions options;
    jsOptions_Init(&options);
    if (sender != nullptr) {
        options.PublishAsync.MaxPending = o.window;
        options.PublishAsync.AckHandler = on_pub_ack;
        options.PublishAsync.AckHandlerClosure = sender;
        // A publisher at its window waits this long for a PubAck before the publish fails.
        options.PublishAsync.StallWait = static_cast<int64_t>(o.drain_timeout_s * 1000);
    }
    jsCtx* js = nullptr;
    if (natsStatus status = natsConnection_JetStream(&js, conn->get(), &options);
        status != NATS_OK) {
        return std::unexpected(name + ": natsConnection_JetStream: " + natsStatus_GetText(status));
    }
    return JsClient{std::move(*conn), JsPtr(js)};
}

// Waits for the push consumer's deliveries, with the fetch loop's end conditions.
void wait_for_push(const Options& o, JsReceiver& r, uint64_t deadline_ns) {
    uint64_t seen = 0;
    uint64_t last_progress_ns = now_ns();
    while (!r.board.complete() && r.errors.get().empty()) {
        const uint64_t now = now_ns();
        if (!r.board.live && now >= deadline_ns) return;
        if (const uint64_t consumed = r.consumed.load(std::memory_order_relaxed);
            consumed != seen) {
            seen = consumed;
            last_progress_ns = now;
        } else if (now - last_progress_ns > static_cast<uint64_t>(o.drain_timeout_s * 1e9)) {
            return r.errors.add("LOSS: nothing delivered for the drain timeout; consumed " +
                                std::to_string(seen) + " of " +
                                std::to_string(r.board.stored.load()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace

Status consume_libnats(const Options& o, const LibnatsConsumeSetup& setup, ConsumeBoard& board,
                       ConsumeOutcome& out) {
    Errors errors;
    const bool push = o.scenario == "js-push";
    const auto pubs = o.live ? static_cast<size_t>(o.pubs) : 0;
    std::vector<std::unique_ptr<JsSender>> senders;
    std::vector<JsClient> publisher_clients;
    for (size_t p = 0; p < pubs; ++p) {
        senders.push_back(std::make_unique<JsSender>());
        senders.back()->id = static_cast<uint32_t>(p);
        senders.back()->errors = &errors;
        auto client =
            js_client(o, "libnats js publisher " + std::to_string(p), errors, senders.back().get());
        if (!client) return std::unexpected(client.error());
        publisher_clients.push_back(std::move(*client));
    }
    std::vector<std::unique_ptr<JsReceiver>> receivers;
    std::vector<JsClient> consumer_clients;
    std::vector<SubPtr> subscriptions;
    for (int c = 0; c < o.subs; ++c) {
        auto client = js_client(o, "libnats consumer " + std::to_string(c), errors, nullptr);
        if (!client) return std::unexpected(client.error());
        consumer_clients.push_back(std::move(*client));
    }
    // Time zero: before a push consumer exists (js_Subscribe creates it and deliveries start),
    // after a pull consumer's (created by js_PullSubscribe, as the harness's own client does
    // before its run).
    out.start_ns = now_ns();
    for (int c = 0; c < o.subs; ++c) {
        // Set again below for a pull consumer; a push consumer may deliver at once.
        receivers.push_back(std::make_unique<JsReceiver>(o, board, errors));
        auto sub = subscribe_consumer(o, setup, consumer_clients[static_cast<size_t>(c)].js.get(),
                                      *receivers.back());
        if (!sub) return std::unexpected(sub.error());
        subscriptions.push_back(std::move(*sub));
    }
    if (!push) out.start_ns = now_ns();
    for (auto& receiver : receivers) receiver->start_ns = out.start_ns;
    for (auto& sender : senders) sender->start_ns = out.start_ns;
    const uint64_t deadline_ns = out.start_ns + static_cast<uint64_t>(o.duration_s * 1e9);
    std::vector<std::thread> threads;
    for (size_t p = 0; p < pubs; ++p) {
        threads.emplace_back([&, p] {
            publish_live(o, setup.subject + "." + std::to_string(p), publisher_clients[p].js.get(),
                         *senders[p], board, deadline_ns);
        });
    }
    if (push) {
        wait_for_push(o, *receivers.front(), deadline_ns);
    } else {
        for (size_t c = 0; c < receivers.size(); ++c) {
            threads.emplace_back(
                [&, c] { fetch_loop(o, subscriptions[c].get(), *receivers[c], deadline_ns); });
        }
    }
    for (std::thread& thread : threads) thread.join();
    if (push) {
        std::lock_guard lock(receivers.front()->mutex);
        receivers.front()->stopped = true;
    }
    for (JsClient& client : consumer_clients) {
        if (natsConnection_FlushTimeout(client.conn.get(), 5000) != NATS_OK)
            errors.add("consumer flush failed");
    }
    out.delivered_ns.resize(pubs);
    for (auto& r : receivers) {
        out.consumed += r->consumed.load();
        out.last_msg_ns = std::max(out.last_msg_ns, r->last_ns.load());
        out.bitmaps.push_back(std::move(r->bitmap));
        out.from_send.merge(r->from_send);
        for (size_t p = 0; p < r->delivered_ns.size(); ++p)
            out.delivered_ns[p].merge(r->delivered_ns[p]);
    }
    for (auto& sender : senders) {
        out.published += sender->sent;
        out.acked += sender->acked.load();
        out.last_ack_ns = std::max(out.last_ack_ns, sender->last_ack_ns.load());
        out.puback_round_trip.merge(sender->round_trip);
        out.acked_ns.push_back(std::move(sender->acked_ns));
    }
    if (std::string error = errors.get(); !error.empty()) return std::unexpected(error);
    return setup.settle();
}

}  // namespace ringtail::bench
