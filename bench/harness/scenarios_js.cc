// js-pub, js-consume and kv. Each creates its own stream (bucket) with a unique name, and
// deletes it afterwards, failed run or not.
#include <chrono>
#include <thread>

#include "bench/harness/js_endpoints.h"
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

// Adds the publishers of a js-pub run, or of a kv put phase when key_prefix is set.
Expected<std::vector<JsPublisher*>> add_js_publishers(Runner& runner, const std::string& token,
                                                      const std::string& subject_base,
                                                      const std::string& key_prefix) {
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

// What a reader of the numbers needs to know about durability.
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
            "write is on stable storage");
    }
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

void run_js_consume(Runner& runner, RunResult& result) {
    const Options& o = runner.options();
    const std::string token = unique_token();
    const std::string stream = "BENCH_" + token;
    const std::string durable = "bench";
    const std::string subject = "bench." + token + ".js";
    auto admin = runner.connect("admin");
    if (!admin) return fail_run(result, admin.error());
    auto created = js_api(**admin, "STREAM.CREATE." + stream,
                          stream_config(stream, subject + ".>", o.storage));
    if (!created) return fail_run(result, created.error());
    StreamGuard guard(**admin, stream);

    // Prefill (measured separately): one publisher, 1,024 PubAcks outstanding.
    Options prefill_options = o;
    prefill_options.pubs = 1;
    prefill_options.window = 1024;
    prefill_options.threads = 1;
    prefill_options.scenario = "js-consume prefill";
    Runner prefill(prefill_options);
    auto publishers = add_js_publishers(prefill, token, subject, "");
    if (!publishers) return fail_run(result, publishers.error());
    prefill.execute();
    PublishOutcome filled = collect(*publishers);
    if (std::string error = prefill.control().first_error(); !error.empty()) {
        return fail_run(result, "prefill: " + error);
    }
    if (Status status = check_stream(**admin, stream, filled.acked); !status) {
        return fail_run(result, "prefill: " + status.error());
    }

    nlohmann::json consumer = {{"stream_name", stream},
                               {"config",
                                {{"durable_name", durable},
                                 {"ack_policy", "explicit"},
                                 {"deliver_policy", "all"},
                                 {"max_ack_pending", o.window},
                                 {"ack_wait", 30 * kSecondNs},
                                 {"max_waiting", 512},
                                 {"replay_policy", "instant"}}}};
    auto made = js_api(**admin, "CONSUMER.DURABLE.CREATE." + stream + "." + durable, consumer);
    if (!made) return fail_run(result, made.error());

    ConsumeBoard& board = runner.hold<ConsumeBoard>();
    board.stored = filled.acked;
    std::vector<PullConsumer*> consumers;
    for (int c = 0; c < o.subs; ++c) {
        PullConsumerConfig config;
        config.id = static_cast<uint32_t>(c);
        config.stream = stream;
        config.durable = durable;
        config.inbox = "_INBOX." + token + ".c" + std::to_string(c);
        config.batch = static_cast<uint64_t>(o.batch);
        config.size_bytes = o.size_bytes;
        auto conn =
            subscribed(runner, "consumer " + std::to_string(c), config.inbox + ".*", "", "1");
        if (!conn) return fail_run(result, conn.error());
        consumers.push_back(
            runner.add<PullConsumer>(std::move(*conn), runner.control(), board, config));
    }
    runner.execute();
    uint64_t last_msg_ns = 0;
    std::vector<const DeliveryBitmap*> bitmaps;
    for (PullConsumer* c : consumers) {
        result.received += c->consumed();
        last_msg_ns = std::max(last_msg_ns, c->last_msg_ns());
        bitmaps.push_back(&c->bitmap());
    }
    result.sent = filled.acked;
    result.expected = filled.acked;
    if (std::string error = runner.control().first_error(); !error.empty())
        return fail_run(result, error);
    if (result.received == filled.acked) {
        if (std::string verdict = check_exactly_once(bitmaps, {filled.acked}); !verdict.empty()) {
            return fail_run(result, verdict);
        }
        result.checks.push_back("every stored message consumed exactly once, first delivery");
    } else {
        result.notes.push_back("the duration ended the run after " +
                               std::to_string(result.received) + " of " +
                               std::to_string(filled.acked) + " messages");
        result.expected = result.received;
    }
    // Every ack sent must be applied: flush them, then wait for the consumer to settle.
    for (PullConsumer* c : consumers) (void)c->conn().ping_sync();
    std::string ack_state;
    for (int attempt = 0; attempt < 30; ++attempt) {
        auto info = js_api(**admin, "CONSUMER.INFO." + stream + "." + durable, nullptr);
        if (!info) return fail_run(result, info.error());
        const uint64_t ack_pending = json_u64(*info, "/num_ack_pending");
        const uint64_t floor = json_u64(*info, "/ack_floor/stream_seq");
        ack_state =
            std::to_string(ack_pending) + " ack pending, ack floor " + std::to_string(floor);
        if (ack_pending == 0 && (result.received != filled.acked || floor == filled.acked)) break;
        ack_state += " (not settled)";
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (ack_state.ends_with("(not settled)"))
        return fail_run(result, "acks not applied: " + ack_state);
    result.checks.push_back("the consumer's ack floor reached the last message");
    result.rates.push_back(Throughput{"consumed", result.received,
                                      runner.seconds_since_epoch(last_msg_ns), o.size_bytes, true});
    result.rates.push_back(Throughput{"prefill", filled.acked,
                                      prefill.seconds_since_epoch(filled.last_ack_ns), o.size_bytes,
                                      false});
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
