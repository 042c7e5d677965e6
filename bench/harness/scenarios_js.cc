// js-pub, js-consume, js-push and kv. Each creates its own stream (bucket) with a unique name,
// and deletes it afterwards, failed run or not.
#include <algorithm>
#include <chrono>
#include <thread>

#include "bench/harness/js_endpoints.h"
#include "bench/harness/libnats_driver.h"
#include "bench/harness/report.h"
#include "bench/harness/runner.h"

namespace ringtail::bench {

namespace {

constexpr int64_t kSecondNs = 1'000'000'000;

// A number inside an API response, e.g. "/state/messages"; 0 when absent or not a number, so
// that a malformed response fails the check that reads it rather than throwing.
uint64_t json_u64(const nlohmann::json& json, const char* pointer) {
    const nlohmann::json::json_pointer path(pointer);
    if (!json.contains(path)) return 0;
    const nlohmann::json& value = json.at(path);
    return value.is_number_unsigned() || value.is_number_integer() ? value.get<uint64_t>() : 0;
}

nlohmann::json stream_config(const std::string& name, const std::string& subjects,
                             const std::string& storage) {
    return {{"name", name},
            {"subjects", {subjects}},
            {"retention", "limits"},
            {"storage", storage},
            {"num_replicas", 1},
            {"max_msgs", -1},
            {"max_bytes", -1},
            {"max_age", 0},
            {"max_msg_size", -1},
            {"discard", "old"},
            {"duplicate_window", 120 * kSecondNs}};
}

// Deletes the stream when the scenario returns, whatever happened.
class StreamGuard {
 public:
    StreamGuard(Connection& admin, std::string stream)
        : admin_(admin), stream_(std::move(stream)) {}
    ~StreamGuard() { (void)js_api(admin_, "STREAM.DELETE." + stream_, nullptr); }
    StreamGuard(const StreamGuard&) = delete;
    StreamGuard& operator=(const StreamGuard&) = delete;

 private:
    Connection& admin_;
    std::string stream_;
};

// Adds the publishers of a js-pub run, of a kv put phase when key_prefix is set, or the
// --live publishers of a consume run when `board` is set.
Expected<std::vector<JsPublisher*>> add_js_publishers(Runner& runner, const std::string& token,
                                                      const std::string& subject_base,
                                                      const std::string& key_prefix,
                                                      ConsumeBoard* board = nullptr) {
    const Options& o = runner.options();
    std::vector<JsPublisher*> publishers;
    const auto pubs = static_cast<uint64_t>(o.pubs);
    for (uint64_t p = 0; p < pubs; ++p) {
        JsPublisherConfig config;
        config.id = static_cast<uint32_t>(p);
        config.subject = subject_base + "." + std::to_string(p);
        if (!key_prefix.empty()) {
            config.key_prefix = key_prefix + "k" + std::to_string(p) + "_";
            config.keys = o.keys;
        }
        config.inbox = "_INBOX." + token + ".p" + std::to_string(p);
        config.size_bytes = o.size_bytes;
        config.count = share(o.count, pubs, p);
        config.window = static_cast<uint64_t>(o.window);
        config.board = board;
        if (board != nullptr) config.rate_per_s = o.rate / static_cast<double>(pubs);
        auto conn =
            subscribed(runner, "js publisher " + std::to_string(p), config.inbox + ".*", "", "1");
        if (!conn) return std::unexpected(conn.error());
        publishers.push_back(runner.add<JsPublisher>(std::move(*conn), runner.control(), config));
    }
    return publishers;
}

struct PublishOutcome {
    uint64_t sent = 0;
    uint64_t acked = 0;
    uint64_t last_ack_ns = 0;
    Histogram latency;
};

PublishOutcome collect(const std::vector<JsPublisher*>& publishers) {
    PublishOutcome outcome;
    for (JsPublisher* publisher : publishers) {
        outcome.sent += publisher->sent();
        outcome.acked += publisher->answered();
        outcome.last_ack_ns = std::max(outcome.last_ack_ns, publisher->last_reply_ns());
        outcome.latency.merge(publisher->latency());
    }
    return outcome;
}

std::string window_text(const Options& o) {
    return o.window == 1 ? "synchronous" : std::to_string(o.window) + " outstanding";
}

// After the run: the stream must hold exactly what was acked, no more and no less.
Status check_stream(Connection& admin, const std::string& stream, uint64_t acked) {
    auto info = js_api(admin, "STREAM.INFO." + stream, nullptr);
    if (!info) return std::unexpected(info.error());
    const uint64_t messages = json_u64(*info, "/state/messages");
    const uint64_t last_seq = json_u64(*info, "/state/last_seq");
    if (messages != acked || last_seq != acked) {
        return std::unexpected("stream holds " + std::to_string(messages) + " messages (last seq " +
                               std::to_string(last_seq) + ") but " + std::to_string(acked) +
                               " PubAcks came back");
    }
    return {};
}

}  // namespace

void note_durability(RunResult& result) {
    if (result.options.storage == "memory") {
        result.notes.push_back("durability: memory storage, on neither server durable");
    } else if (result.server.name.starts_with("nats-server")) {
        result.notes.push_back(
            "durability: file storage; nats-server sends the PubAck before "
            "fsync (2.9 fsyncs every 2 min by default)");
    } else {
        result.notes.push_back(
            "durability: file storage; Ringtail sends the PubAck once the "
            "write is on stable storage (under a jetstream sync_interval, once "
            "it is in the page cache)");
    }
}

void run_js_pub(Runner& runner, RunResult& result) {
    const Options& o = runner.options();
    const std::string token = unique_token();
    const std::string stream = "BENCH_" + token;
    const std::string subject = "bench." + token + ".js";
    auto admin = runner.connect("admin");
    if (!admin) return fail_run(result, admin.error());
    auto created = js_api(**admin, "STREAM.CREATE." + stream,
                          stream_config(stream, subject + ".>", o.storage));
    if (!created) return fail_run(result, created.error());
    StreamGuard guard(**admin, stream);

    auto publishers = add_js_publishers(runner, token, subject, "");
    if (!publishers) return fail_run(result, publishers.error());
    runner.execute();
    PublishOutcome outcome = collect(*publishers);
    result.sent = outcome.sent;
    result.expected = outcome.sent;
    result.received = outcome.acked;
    if (std::string error = runner.control().first_error(); !error.empty())
        return fail_run(result, error);
    if (Status status = check_stream(**admin, stream, outcome.acked); !status) {
        return fail_run(result, status.error());
    }
    result.checks.push_back("one PubAck per message, no errors, no duplicates");
    result.checks.push_back("the stream holds exactly the acked messages");
    result.rates.push_back(Throughput{"acked", outcome.acked,
                                      runner.seconds_since_epoch(outcome.last_ack_ns), o.size_bytes,
                                      true});
    result.latencies.push_back(
        LatencyStat{"PubAck round trip (" + window_text(o) + ")", std::move(outcome.latency)});
    note_durability(result);
}

namespace {

// The durable consumer of js-consume and js-push, as both clients create it. An empty
// `deliver_subject` makes a pull consumer.
nlohmann::json consumer_config(const Options& o, const std::string& durable,
                               const std::string& deliver_subject) {
    nlohmann::json config = {{"durable_name", durable},    {"ack_policy", "explicit"},
                             {"deliver_policy", "all"},    {"max_ack_pending", o.window},
                             {"ack_wait", 30 * kSecondNs}, {"replay_policy", "instant"}};
    if (deliver_subject.empty()) {
        config["max_waiting"] = 512;
    } else {
        config["deliver_subject"] = deliver_subject;
        config["flow_control"] = true;
        config["idle_heartbeat"] = PushConsumer::kIdleHeartbeatNs;
    }
    return config;
}

// The longest run of stream sequences 1..n that the consumers all together received.
uint64_t consumed_prefix(const std::vector<DeliveryBitmap>& bitmaps) {
    uint64_t n = 0;
    while (std::any_of(bitmaps.begin(), bitmaps.end(),
                       [&](const DeliveryBitmap& bitmap) { return bitmap.marked(0, n); })) {
        ++n;
    }
    return n;
}

// Every ack sent must be applied: the ack floor reaches the last message acked in order, and
// when everything stored was consumed nothing is left pending. Call it once the acks are
// flushed (a PONG after them).
Status settle_acks(Connection& admin, const std::string& stream, const std::string& durable,
                   const ConsumeOutcome& out, uint64_t stored) {
    const uint64_t prefix = consumed_prefix(out.bitmaps);
    const bool all = out.consumed == stored && prefix == stored;
    std::string ack_state;
    for (int attempt = 0; attempt < 30; ++attempt) {
        auto info = js_api(admin, "CONSUMER.INFO." + stream + "." + durable, nullptr);
        if (!info) return std::unexpected(info.error());
        const uint64_t ack_pending = json_u64(*info, "/num_ack_pending");
        const uint64_t floor = json_u64(*info, "/ack_floor/stream_seq");
        ack_state =
            std::to_string(ack_pending) + " ack pending, ack floor " + std::to_string(floor);
        if (floor >= prefix && (!all || ack_pending == 0)) return {};
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::unexpected("acks not applied: " + ack_state + " after " + std::to_string(prefix) +
                           " messages consumed and acked in order");
}

struct ConsumeSetup {
    Connection* admin = nullptr;
    std::string token;
    std::string stream;
    std::string durable;
    std::string subject;  // the stream's subjects are subject.>
    ConsumeBoard* board = nullptr;
};

// The consume phase with ringtail-bench's own client: PullConsumer or PushConsumer
// endpoints, and with --live the JsPublishers beside them on the same runner.
Status consume_own(Runner& runner, const ConsumeSetup& setup, ConsumeOutcome& out) {
    const Options& o = runner.options();
    const bool push = o.scenario == "js-push";
    if (!push) {
        nlohmann::json request = {{"stream_name", setup.stream},
                                  {"config", consumer_config(o, setup.durable, "")}};
        auto made = js_api(
            *setup.admin, "CONSUMER.DURABLE.CREATE." + setup.stream + "." + setup.durable, request);
        if (!made) return std::unexpected(made.error());
    }
    std::vector<JsPublisher*> publishers;
    if (o.live) {
        auto added = add_js_publishers(runner, setup.token, setup.subject, "", setup.board);
        if (!added) return std::unexpected(added.error());
        publishers = *added;
    }
    std::vector<JsConsumer*> consumers;
    for (int c = 0; c < o.subs; ++c) {
        JsConsumerConfig config;
        config.id = static_cast<uint32_t>(c);
        config.stream = setup.stream;
        config.durable = setup.durable;
        config.inbox = "_INBOX." + setup.token + ".c" + std::to_string(c);
        config.batch = static_cast<uint64_t>(o.batch);
        config.size_bytes = o.size_bytes;
        config.live_publishers = o.live ? static_cast<uint32_t>(o.pubs) : 0;
        if (push) {
            config.create_request =
                nlohmann::json{{"stream_name", setup.stream},
                               {"config", consumer_config(o, setup.durable, config.inbox + ".d")}}
                    .dump();
        }
        // nats-server 2.9 sees no interest in a deliver subject that only a wildcard covers:
        // a push consumer subscribes to the exact subjects, as nats.go does.
        const std::string name = "consumer " + std::to_string(c);
        auto conn = subscribed(runner, name, config.inbox + (push ? ".d" : ".*"), "", "1");
        if (!conn) return std::unexpected(conn.error());
        if (push) {
            (*conn)->out() += "SUB " + config.inbox + ".create 2\r\n";
            if (Status status = (*conn)->ping_sync(); !status)
                return std::unexpected(name + ": " + status.error());
        }
        if (push) {
            consumers.push_back(
                runner.add<PushConsumer>(std::move(*conn), runner.control(), *setup.board, config));
        } else {
            consumers.push_back(
                runner.add<PullConsumer>(std::move(*conn), runner.control(), *setup.board, config));
        }
    }
    runner.execute();
    out.start_ns = runner.control().epoch_ns;
    out.delivered_ns.resize(publishers.size());
    for (JsConsumer* c : consumers) {
        out.consumed += c->consumed();
        out.last_msg_ns = std::max(out.last_msg_ns, c->last_msg_ns());
        out.bitmaps.push_back(std::move(c->bitmap()));
        out.from_send.merge(c->from_send());
        for (size_t p = 0; p < c->delivered_ns().size(); ++p) {
            out.delivered_ns[p].merge(c->delivered_ns()[p]);
        }
        if (push) {
            out.flow_control_answered += static_cast<PushConsumer*>(c)->flow_control_answered();
        }
    }
    for (JsPublisher* publisher : publishers) {
        out.published += publisher->sent();
        out.acked += publisher->answered();
        out.last_ack_ns = std::max(out.last_ack_ns, publisher->last_reply_ns());
        out.puback_round_trip.merge(publisher->latency());
        out.acked_ns.push_back(std::move(publisher->acked_ns()));
    }
    if (std::string error = runner.control().first_error(); !error.empty())
        return std::unexpected(error);
    for (JsConsumer* c : consumers) {
        if (Status flushed = c->conn().ping_sync(); !flushed) return flushed;
    }
    return settle_acks(*setup.admin, setup.stream, setup.durable, out, setup.board->stored.load());
}

// The rates, latencies and notes of a consume run that passed its checks.
void report_consumption(const Options& o, const ConsumeOutcome& out, RunResult& result) {
    auto seconds = [&](uint64_t ns) {
        return ns > out.start_ns ? static_cast<double>(ns - out.start_ns) / 1e9 : 0;
    };
    result.rates.push_back(
        Throughput{"consumed", out.consumed, seconds(out.last_msg_ns), o.size_bytes, true});
    if (o.scenario == "js-push") {
        result.checks.push_back(o.client == "libnats"
                                    ? "flow control and heartbeats handled by libnats"
                                    : "every flow-control request answered (" +
                                          with_commas(out.flow_control_answered) + " this run)");
    }
    if (!o.live) return;
    result.rates.push_back(
        Throughput{"acked", out.acked, seconds(out.last_ack_ns), o.size_bytes, false});
    const std::string at = o.rate > 0 ? "" : " (at saturation: mostly queueing)";
    AckToDelivery joined = join_ack_to_delivery(out.acked_ns, out.delivered_ns);
    result.latencies.push_back(
        LatencyStat{"publish to delivery, from PubAck arrival" + at, std::move(joined.latency)});
    result.latencies.push_back(
        LatencyStat{"publish to delivery, from publish send" + at, out.from_send});
    result.latencies.push_back(
        LatencyStat{"PubAck round trip (" + window_text(o) + ")" + at, out.puback_round_trip});
    if (joined.before_ack > 0) {
        result.notes.push_back(with_commas(joined.before_ack) + " of " + with_commas(out.consumed) +
                               " messages reached the consumer before their PubAck reached the "
                               "publisher (counted as 0 from PubAck arrival)");
    }
    if (joined.unmatched > 0) {
        result.notes.push_back(with_commas(joined.unmatched) +
                               " deliveries had no PubAck time and are left out of that latency");
    }
}

// Fills the stream before a consume run: one publisher, 1,024 PubAcks outstanding, measured
// apart from the consumption.
Status prefill_stream(const Options& o, const ConsumeSetup& setup, Throughput& rate) {
    Options prefill_options = o;
    prefill_options.pubs = 1;
    prefill_options.window = 1024;
    prefill_options.threads = 1;
    prefill_options.scenario = o.scenario + " prefill";
    Runner prefill(prefill_options);
    auto publishers = add_js_publishers(prefill, setup.token, setup.subject, "");
    if (!publishers) return std::unexpected(publishers.error());
    prefill.execute();
    const PublishOutcome filled = collect(*publishers);
    if (std::string error = prefill.control().first_error(); !error.empty())
        return std::unexpected(error);
    if (Status status = check_stream(*setup.admin, setup.stream, filled.acked); !status)
        return status;
    rate.msgs = filled.acked;
    rate.seconds = prefill.seconds_since_epoch(filled.last_ack_ns);
    return {};
}

}  // namespace

// js-consume and js-push: a durable consumer reads a stream, pulling or pushed to, acking
// every message; without --live the stream is filled first (measured separately), with it
// the publishers run beside the consumers.
void run_js_consumption(Runner& runner, RunResult& result) {
    const Options& o = runner.options();
    ConsumeSetup setup;
    setup.token = unique_token();
    setup.stream = "BENCH_" + setup.token;
    setup.durable = "bench";
    setup.subject = "bench." + setup.token + ".js";
    auto admin = runner.connect("admin");
    if (!admin) return fail_run(result, admin.error());
    setup.admin = admin->get();
    auto created = js_api(**admin, "STREAM.CREATE." + setup.stream,
                          stream_config(setup.stream, setup.subject + ".>", o.storage));
    if (!created) return fail_run(result, created.error());
    StreamGuard guard(**admin, setup.stream);

    ConsumeBoard& board = runner.hold<ConsumeBoard>();
    setup.board = &board;
    board.live = o.live;
    Throughput prefill{"prefill", 0, 0, o.size_bytes, false};
    if (o.live) {
        board.publishers_running = static_cast<uint32_t>(o.pubs);
    } else if (Status status = prefill_stream(o, setup, prefill); !status) {
        return fail_run(result, "prefill: " + status.error());
    } else {
        board.stored = prefill.msgs;
    }

    if (o.scenario == "js-consume" && o.client == "libnats" && o.subs * o.batch > o.window) {
        // Each Fetch holds its messages unacked until its whole batch has come, so together
        // they can reach max ack pending and wait out their expiry.
        result.notes.push_back(
            "--consumers x --batch exceeds max ack pending (--window): libnats "
            "fetches may stall until they expire");
    }
    const double cpu_before = o.server_cpu_seconds ? o.server_cpu_seconds() : -1;
    ConsumeOutcome out;
    Status status;
    if (o.client == "libnats") {
        LibnatsConsumeSetup libnats{setup.stream, setup.durable, setup.subject, {}};
        libnats.settle = [&] {
            return settle_acks(**admin, setup.stream, setup.durable, out, board.stored.load());
        };
        status = consume_libnats(o, libnats, board, out);
    } else {
        status = consume_own(runner, setup, out);
    }
    const double cpu_after = o.server_cpu_seconds ? o.server_cpu_seconds() : -1;
    result.sent = o.live ? out.published : prefill.msgs;
    result.expected = board.stored.load();
    result.received = out.consumed;
    if (!status) return fail_run(result, status.error());
    if (o.live) {
        if (Status stored = check_stream(**admin, setup.stream, out.acked); !stored)
            return fail_run(result, stored.error());
    }
    if (out.consumed == board.stored.load()) {
        std::vector<const DeliveryBitmap*> bitmaps;
        for (const DeliveryBitmap& bitmap : out.bitmaps) bitmaps.push_back(&bitmap);
        if (std::string verdict = check_exactly_once(bitmaps, {out.consumed}); !verdict.empty()) {
            return fail_run(result, verdict);
        }
        result.checks.push_back("every stored message consumed exactly once, first delivery");
        result.checks.push_back("the consumer's ack floor reached the last message");
    } else {
        result.notes.push_back("the duration ended the run after " + with_commas(out.consumed) +
                               " of " + with_commas(board.stored.load()) + " messages");
        result.expected = out.consumed;
        result.checks.push_back("each stream seq consumed at most once, first delivery");
        result.checks.push_back("the ack floor reached the messages consumed in order");
    }
    if (o.live) result.checks.push_back("one PubAck per message; the stream holds the acked ones");
    report_consumption(o, out, result);
    if (!o.live) result.rates.push_back(prefill);
    if (cpu_before >= 0 && cpu_after >= cpu_before) {
        result.server_cpu_s = cpu_after - cpu_before;
        result.notes.push_back(o.live ? "server CPU: publishing and consuming, per message consumed"
                                      : "server CPU: the consume phase only, without the prefill");
    }
    note_durability(result);
}

void run_kv(Runner& runner, RunResult& result) {
    const Options& o = runner.options();
    const std::string token = unique_token();
    const std::string bucket = "bench_" + token;
    const std::string stream = "KV_" + bucket;
    auto admin = runner.connect("admin");
    if (!admin) return fail_run(result, admin.error());
    // The stream a KV bucket is (nats.go's CreateKeyValue): one value per key, direct gets.
    nlohmann::json config = stream_config(stream, "$KV." + bucket + ".>", o.storage);
    config["max_msgs_per_subject"] = o.history;
    config["allow_rollup_hdrs"] = true;
    config["deny_delete"] = true;
    config["allow_direct"] = true;
    config["max_consumers"] = -1;
    auto created = js_api(**admin, "STREAM.CREATE." + stream, config);
    if (!created) return fail_run(result, created.error());
    StreamGuard guard(**admin, stream);

    Options put_options = o;
    put_options.scenario = "kv put";
    Runner put_runner(put_options);
    auto putters = add_js_publishers(put_runner, token, "", "$KV." + bucket + ".");
    if (!putters) return fail_run(result, putters.error());
    put_runner.execute();
    PublishOutcome puts = collect(*putters);
    result.sent = puts.sent;
    if (std::string error = put_runner.control().first_error(); !error.empty()) {
        return fail_run(result, "put: " + error);
    }

    std::vector<KvGetter*> getters;
    const auto clients = static_cast<uint64_t>(o.pubs);
    for (uint64_t p = 0; p < clients; ++p) {
        KvGetterConfig get;
        get.id = static_cast<uint32_t>(p);
        get.get_prefix =
            "$JS.API.DIRECT.GET." + stream + ".$KV." + bucket + ".k" + std::to_string(p) + "_";
        get.inbox = "_INBOX." + token + ".g" + std::to_string(p);
        get.keys = o.keys;
        get.puts = (*putters)[p]->answered();
        get.size_bytes = o.size_bytes;
        get.count = share(o.count, clients, p);
        get.window = static_cast<uint64_t>(o.window);
        if (get.puts == 0) return fail_run(result, "put: no value was stored");
        auto conn = subscribed(runner, "kv getter " + std::to_string(p), get.inbox + ".*", "", "1");
        if (!conn) return fail_run(result, conn.error());
        getters.push_back(runner.add<KvGetter>(std::move(*conn), runner.control(), get));
    }
    runner.execute();
    uint64_t gets = 0;
    uint64_t last_reply_ns = 0;
    Histogram get_latency;
    for (KvGetter* getter : getters) {
        gets += getter->answered();
        last_reply_ns = std::max(last_reply_ns, getter->last_reply_ns());
        get_latency.merge(getter->latency());
    }
    result.expected = puts.sent + gets;
    result.received = puts.acked + gets;
    if (std::string error = runner.control().first_error(); !error.empty())
        return fail_run(result, "get: " + error);
    result.checks.push_back("one PubAck per put, no errors");
    result.checks.push_back("every get returned the last value put for its key");
    result.rates.push_back(Throughput{
        "put", puts.acked, put_runner.seconds_since_epoch(puts.last_ack_ns), o.size_bytes, true});
    result.rates.push_back(
        Throughput{"get", gets, runner.seconds_since_epoch(last_reply_ns), o.size_bytes, true});
    result.latencies.push_back(
        LatencyStat{"put, PubAck round trip (" + window_text(o) + ")", std::move(puts.latency)});
    result.latencies.push_back(
        LatencyStat{"get, direct get round trip (" + window_text(o) + ")", std::move(get_latency)});
    note_durability(result);
}

}  // namespace ringtail::bench
