// SIGKILL durability of JetStream file streams, end to end: the server under test (ringtail
// --shards 2, or nats-server with RT_TEST_SERVER=nats-server) runs with `-js -sd DIR`; several
// connections (spread over both ringtail shards) publish with acks, synchronously and with an
// asynchronous window, each on its own thread and subject, recording every acknowledged
// (subject, seq, payload). The server is SIGKILLed at a seeded random moment and restarted on
// the same DIR; then every message ever acknowledged must be at its seq with its payload, the
// stream's last_seq must cover the highest acked seq, and no stored message may be corrupt or
// stored twice. Repeated for RT_JS_KILL_ROUNDS rounds (default 5) on the same DIR.
//
// nats-server acks before fsync, but a SIGKILL keeps the page cache, so it passes as well.
//
// A second test does the same with a per-subject limit of one message (as a KV bucket with
// history 1 keeps one value per key): each publisher cycles through kLimitedSubjects subjects,
// every append drops that subject's previous message, and after each restart the newest message
// of every subject must be the newest one acknowledged for it, or a newer one. (The store's
// simulation is what tests the moments that matter, store/README.md; this is the end-to-end
// view. nats-server 2.9.10 fails it: after a kill some subjects have no message at all.)
//
// A third runs a deleter beside the publishers: on a connection of its own it deletes, one
// MSG.DELETE at a time, the newest message some publisher has had acknowledged (while the
// others' appends are still being written), and after each restart every deletion that was
// answered with success must still be done, and every other acknowledged message there. The
// kill comes right after a deletion is answered. Its MSG.DELETE erases (as it does unless asked
// not to), so right after each kill no file in the store may still hold the bytes of a message
// whose deletion was answered. (nats-server 2.9.10 failed it in a run here: after a kill its
// STREAM.INFO counted one message more than MSG.GET found.)
//
// Environment: RT_SEED=<n> replays the kill moments and payloads of a run (printed at start);
// RT_JS_KILL_ROUNDS=<n>; RT_TEST_SERVER / RINGTAIL_BIN / NATS_SERVER_BIN as for integration.

#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/integration/nats_helpers.h"
#include "tests/crash/kill_test.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::string_view kStream = "KILL";
constexpr int kRoundsDefault = 5;
constexpr int kConnectionsPerShard = 2;  // 4 publishers: 2 per ringtail shard, one of each mode.
constexpr int kKillDelayMsMin = 40;
constexpr int kKillDelayMsMax = 300;
constexpr int64_t kAsyncWindow = 64;  // Async publishes sent before awaiting all their acks.
constexpr int64_t kPublishWaitMs = 3000;
constexpr int64_t kAckSliceMs = 20;
constexpr int64_t kApiWaitMs = 5000;
constexpr int kRecoveryWaitMs = 15'000;  // How long a restarted server may take to serve INFO.
constexpr size_t kScanWindow = 256;      // MSG.GET requests in flight during a scan.
constexpr size_t kPayloadSmallBytesMax = 1500;
constexpr size_t kPayloadLargeBytesMax = 64 * 1024;
constexpr uint64_t kLargeOneIn = 64;
constexpr uint64_t kLimitedSubjects = 50;  // Per publisher, in the per-subject limit test.

// ---------------------------------------------------------------------------------------------
// Payloads: self-describing, so a stored message that was never acked can still be checked.

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::string subject_for(int round, int publisher) {
    return "kill." + std::to_string(round) + "." + std::to_string(publisher);
}

// Where a publisher sends message `index`: its own subject, or one of kLimitedSubjects below it.
std::string subject_for(int round, int publisher, bool limited, uint64_t index) {
    std::string subject = subject_for(round, publisher);
    return limited ? subject + "." + std::to_string(index % kLimitedSubjects) : subject;
}

// "r=<round> p=<publisher> k=<index> n=<filler bytes>|" then n filler bytes, all a function of
// (seed, round, publisher, index). About one in kLargeOneIn payloads is up to 64 KiB.
std::string make_payload(uint64_t seed, int round, int publisher, uint64_t index) {
    uint64_t h = mix(seed ^ mix(static_cast<uint64_t>(round) << 40 ^
                                static_cast<uint64_t>(publisher) << 32 ^ index));
    size_t filler = h % kLargeOneIn == 0 ? static_cast<size_t>(mix(h) % kPayloadLargeBytesMax)
                                         : static_cast<size_t>(mix(h) % kPayloadSmallBytesMax);
    std::string payload = "r=" + std::to_string(round) + " p=" + std::to_string(publisher) +
                          " k=" + std::to_string(index) + " n=" + std::to_string(filler) + "|";
    payload.reserve(payload.size() + filler);
    for (size_t i = 0; i < filler; ++i)
        payload.push_back(static_cast<char>('a' + (h + i * 7) % 26));
    return payload;
}

struct PayloadKey {
    int round = 0;
    int publisher = 0;
    uint64_t index = 0;
    auto operator<=>(const PayloadKey&) const = default;
};

// Parses the self-description; nullopt if the payload is not one this test could have sent.
std::optional<PayloadKey> parse_payload(uint64_t seed, std::string_view payload) {
    PayloadKey key;
    unsigned long long index = 0;
    size_t filler = 0;
    int consumed = 0;
    std::string head(payload.substr(0, std::min<size_t>(payload.size(), 80)));
    if (std::sscanf(head.c_str(), "r=%d p=%d k=%llu n=%zu|%n", &key.round, &key.publisher, &index,
                    &filler, &consumed) != 4 ||
        consumed == 0) {
        return std::nullopt;
    }
    key.index = index;
    if (make_payload(seed, key.round, key.publisher, key.index) != payload) return std::nullopt;
    return key;
}

// ---------------------------------------------------------------------------------------------
// Publishers

struct Acked {
    std::string subject;
    uint64_t seq = 0;
    std::string payload;
};

// What one publisher thread saw. Owner: the test; written by the publisher thread and by
// libnats' delivery thread (async acks), hence the mutex.
struct PublisherLog {
    std::mutex mutex;
    std::vector<Acked> acked;
    uint64_t sent = 0;
    std::string problem;  // A wrong ack (not an error caused by the kill).
    std::string stopped_by;
};

struct PublisherSpec {
    natsConnection* connection = nullptr;
    uint64_t seed = 0;
    int round = 0;
    int publisher = 0;
    bool async = false;
    bool limited = false;  // Cycles through kLimitedSubjects subjects.
    const std::atomic<bool>* stop = nullptr;
    PublisherLog* log = nullptr;
};

void record_ack(PublisherLog& log, const char* subject, const jsPubAck& ack, std::string payload) {
    std::lock_guard lock(log.mutex);
    if (ack.Stream == nullptr || kStream != ack.Stream || ack.Duplicate || ack.Sequence == 0) {
        log.problem = "bad ack for " + std::string(subject) + ": stream " +
                      (ack.Stream == nullptr ? "<null>" : ack.Stream) + " seq " +
                      std::to_string(ack.Sequence) + (ack.Duplicate ? " duplicate" : "");
        return;
    }
    log.acked.push_back({subject, ack.Sequence, std::move(payload)});
}

void on_async_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* log = static_cast<PublisherLog*>(closure);
    if (ack != nullptr && error == nullptr) {
        const char* data = natsMsg_GetData(msg);
        int length = natsMsg_GetDataLength(msg);
        std::string payload =
            data == nullptr ? std::string() : std::string(data, static_cast<size_t>(length));
        record_ack(*log, natsMsg_GetSubject(msg), *ack, std::move(payload));
    }
    natsMsg_Destroy(msg);
}

std::string status_text(natsStatus status) { return natsStatus_GetText(status); }

void publish_sync(jsCtx* js, const PublisherSpec& spec) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = kPublishWaitMs;
    for (uint64_t index = 0; !spec.stop->load(); ++index) {
        std::string subject = subject_for(spec.round, spec.publisher, spec.limited, index);
        std::string payload = make_payload(spec.seed, spec.round, spec.publisher, index);
        jsPubAck* ack = nullptr;
        jsErrCode error_code = static_cast<jsErrCode>(0);
        natsStatus status = js_Publish(&ack, js, subject.c_str(), payload.data(),
                                       static_cast<int>(payload.size()), &options, &error_code);
        {
            std::lock_guard lock(spec.log->mutex);
            ++spec.log->sent;
        }
        if (status == NATS_OK) {
            record_ack(*spec.log, subject.c_str(), *ack, std::move(payload));
            jsPubAck_Destroy(ack);
            continue;
        }
        if (status == NATS_TIMEOUT && !natsConnection_IsClosed(spec.connection)) continue;
        std::lock_guard lock(spec.log->mutex);
        spec.log->stopped_by =
            status_text(status) + " (js err " + std::to_string(static_cast<int>(error_code)) + ")";
        return;
    }
}

// Waits for the acks of every async publish in flight, in short slices: libnats does not wake
// js_PublishAsyncComplete when the connection closes, and after the kill no ack will come.
natsStatus await_window(jsCtx* js, natsConnection* connection) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = kAckSliceMs;
    natsStatus status = NATS_TIMEOUT;
    for (int64_t waited_ms = 0; waited_ms < kPublishWaitMs; waited_ms += kAckSliceMs) {
        status = js_PublishAsyncComplete(js, &options);
        if (status != NATS_TIMEOUT || natsConnection_IsClosed(connection)) return status;
    }
    return status;
}

// Publishes in windows: kAsyncWindow publishes without waiting, then waits for all their acks.
void publish_async(jsCtx* js, const PublisherSpec& spec) {
    for (uint64_t index = 0; !spec.stop->load();) {
        std::string subject = subject_for(spec.round, spec.publisher, spec.limited, index);
        std::string payload = make_payload(spec.seed, spec.round, spec.publisher, index);
        natsStatus status = js_PublishAsync(js, subject.c_str(), payload.data(),
                                            static_cast<int>(payload.size()), nullptr);
        if (status == NATS_OK) {
            {
                std::lock_guard lock(spec.log->mutex);
                ++spec.log->sent;
            }
            // Not under the log's lock: the ack handler takes it.
            if (++index % kAsyncWindow != 0) continue;
            status = await_window(js, spec.connection);
            if (status == NATS_OK) continue;
        }
        if (status == NATS_TIMEOUT && !natsConnection_IsClosed(spec.connection)) continue;
        std::lock_guard lock(spec.log->mutex);
        spec.log->stopped_by = status_text(status);
        return;
    }
}

// Publishes until the connection dies (the kill) or `stop` is set.
void run_publisher(PublisherSpec spec) {
    jsOptions options;
    jsOptions_Init(&options);
    options.Wait = kApiWaitMs;
    options.PublishAsync.MaxPending = kAsyncWindow;
    options.PublishAsync.AckHandler = on_async_ack;
    options.PublishAsync.AckHandlerClosure = spec.log;
    jsCtx* js = nullptr;
    natsStatus status = natsConnection_JetStream(&js, spec.connection, &options);
    if (status != NATS_OK) {
        std::lock_guard lock(spec.log->mutex);
        spec.log->problem = "natsConnection_JetStream: " + status_text(status);
        return;
    }
    if (spec.async) {
        publish_async(js, spec);
    } else {
        publish_sync(js, spec);
    }
    jsCtx_Destroy(js);
}

// ---------------------------------------------------------------------------------------------
// JetStream API over libnats requests

std::optional<json> api_request(natsConnection* connection, const std::string& subject,
                                const std::string& body, std::string* failure);
std::string stream_api(std::string_view verb);

// The sequences the deleter asked to delete, and those whose MSG.DELETE was answered with
// success (one asked when the kill came may or may not be deleted). Owner: the test; written by
// the deleter thread.
struct DeleterLog {
    std::mutex mutex;
    std::set<uint64_t> asked;
    std::set<uint64_t> deleted;
    std::atomic<uint64_t> answered{0};  // Successes so far: the kill follows one at once.
    std::string problem;  // A wrong answer (not an error caused by the kill).
};

// Deletes the newest acknowledged message of each publisher in turn until the connection dies
// (the kill) or `stop` is set.
void run_deleter(natsConnection* connection, const std::vector<std::unique_ptr<PublisherLog>>* logs,
                 const std::atomic<bool>* stop, DeleterLog* log) {
    for (size_t turn = 0; !*stop; ++turn) {
        uint64_t seq = 0;
        {
            PublisherLog& publisher = *(*logs)[turn % logs->size()];
            std::lock_guard lock(publisher.mutex);
            if (!publisher.acked.empty()) seq = publisher.acked.back().seq;
        }
        bool asked = false;
        if (seq != 0) {
            std::lock_guard lock(log->mutex);
            asked = log->asked.insert(seq).second;
        }
        if (!asked) {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            continue;
        }
        std::string failure;
        std::optional<json> reply =
            api_request(connection, stream_api("MSG.DELETE"), "{\"seq\":" + std::to_string(seq) + "}", &failure);
        if (!reply.has_value()) return;  // The kill.
        std::lock_guard lock(log->mutex);
        if (reply->value("success", false)) {
            log->deleted.insert(seq);
            ++log->answered;
        } else if (log->problem.empty()) {
            log->problem = "MSG.DELETE " + std::to_string(seq) + ": " + reply->dump();
        }
    }
}

std::optional<json> api_request(natsConnection* connection, const std::string& subject,
                                const std::string& body, std::string* failure) {
    natsMsg* reply = nullptr;
    natsStatus status =
        natsConnection_RequestString(&reply, connection, subject.c_str(), body.c_str(), kApiWaitMs);
    if (status != NATS_OK) {
        *failure = subject + ": " + status_text(status);
        return std::nullopt;
    }
    MsgPtr owned(reply);
    json value = json::parse(msg_data(reply), nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) {
        *failure = subject + ": reply is not JSON: " + std::string(msg_data(reply));
        return std::nullopt;
    }
    return value;
}

std::string stream_api(std::string_view verb) {
    return "$JS.API.STREAM." + std::string(verb) + "." + std::string(kStream);
}

// STREAM.INFO, retried while the restarted server is still recovering (no responders/timeout).
std::optional<json> stream_info_after_restart(natsConnection* connection, std::string* failure) {
    auto deadline = std::chrono::steady_clock::now() + milliseconds(kRecoveryWaitMs);
    while (true) {
        std::optional<json> info = api_request(connection, stream_api("INFO"), "", failure);
        if (info.has_value()) return info;
        if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(milliseconds(50));
    }
}

std::string base64_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    std::string out;
    uint32_t bits = 0;
    int count = 0;
    for (char c : text) {
        int v = value(c);
        if (v < 0) continue;  // '=' padding
        bits = (bits << 6) | static_cast<uint32_t>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xff));
        }
    }
    return out;
}

struct StoredMsg {
    std::string subject;
    std::string payload;
};

struct ScanResult {
    std::map<uint64_t, StoredMsg> messages;
    std::vector<uint64_t> missing;  // Seqs in [first, last] with "no message found".
    std::string failure;
};

// Fetches every seq in [first, last] with STREAM.MSG.GET, kScanWindow requests in flight.
ScanResult scan_stream(natsConnection* connection, uint64_t first, uint64_t last) {
    ScanResult result;
    SubscriptionPtr sub = subscribe_sync(connection, "_INBOX.rtkill.scan.*");
    if (!sub) {
        result.failure = "cannot subscribe for the scan";
        return result;
    }
    std::string get = stream_api("MSG.GET");
    uint64_t next_to_send = first;
    uint64_t received = 0;
    uint64_t total = last >= first ? last - first + 1 : 0;
    while (received < total) {
        while (next_to_send <= last && next_to_send - first - received < kScanWindow) {
            std::string reply = "_INBOX.rtkill.scan." + std::to_string(next_to_send);
            std::string body = "{\"seq\":" + std::to_string(next_to_send) + "}";
            natsConnection_PublishRequestString(connection, get.c_str(), reply.c_str(),
                                                body.c_str());
            ++next_to_send;
        }
        MsgPtr msg = next_msg(sub.get(), milliseconds(kApiWaitMs));
        if (!msg) {
            result.failure =
                "MSG.GET scan timed out after " + std::to_string(received) + " replies";
            return result;
        }
        ++received;
        std::string_view reply_subject = natsMsg_GetSubject(msg.get());
        uint64_t seq = std::strtoull(
            std::string(reply_subject.substr(reply_subject.rfind('.') + 1)).c_str(), nullptr, 10);
        json value = json::parse(msg_data(msg.get()), nullptr, false);
        if (value.is_discarded() || (!value.contains("message") && !value.contains("error"))) {
            result.failure = "MSG.GET " + std::to_string(seq) + ": bad reply " +
                             std::string(msg_data(msg.get()));
            return result;
        }
        if (value.contains("error")) {
            if (value["error"].value("err_code", 0) != 10037) {
                result.failure = "MSG.GET " + std::to_string(seq) + ": " + value.dump();
                return result;
            }
            result.missing.push_back(seq);
            continue;
        }
        const json& message = value["message"];
        if (message.value("seq", uint64_t{0}) != seq) {
            result.failure = "MSG.GET " + std::to_string(seq) + " returned " + message.dump();
            return result;
        }
        result.messages[seq] = {message.value("subject", ""),
                                base64_decode(message.value("data", ""))};
    }
    return result;
}

// ---------------------------------------------------------------------------------------------
// The test

int rounds_from_env() {
    const char* text = std::getenv("RT_JS_KILL_ROUNDS");
    return text == nullptr || text[0] == '\0' ? kRoundsDefault : std::atoi(text);
}

class JsKill : public KillTest {
 protected:
    JsKill() : KillTest("js_kill") {}

    void create_stream(natsConnection* connection);
    void publish_and_kill(ServerProcess& server, int round, std::mt19937_64& random);
    void verify(natsConnection* connection, int after_round);
    void check_scan(const ScanResult& scan, int after_round);
    void check_erased();
    void verify_newest(natsConnection* connection, int after_round);
    void run_rounds();

    bool limited_ = false;  // The stream keeps one message per subject.
    bool deleting_ = false;  // A deleter runs beside the publishers.
    std::set<uint64_t> deleted_;  // Every deletion answered with success, every round so far.
    std::set<uint64_t> asked_;    // Every deletion asked for, answered or not.

    std::vector<Acked> acked_;  // Every ack of every round so far.
    uint64_t acked_seq_max_ = 0;
};

void JsKill::create_stream(natsConnection* connection) {
    std::string failure;
    json config = {{"name", kStream}, {"subjects", {"kill.>"}}, {"storage", "file"}};
    if (limited_) config["max_msgs_per_subject"] = 1;
    std::optional<json> reply = api_request(connection, stream_api("CREATE"), config.dump(), &failure);
    ASSERT_TRUE(reply.has_value()) << failure;
    ASSERT_FALSE(reply->contains("error")) << reply->dump();
}

void JsKill::publish_and_kill(ServerProcess& server, int round, std::mt19937_64& random) {
    std::vector<ShardedConnection> connections = connect_spread(server.url(), kConnectionsPerShard);
    ASSERT_EQ(connections.size(), static_cast<size_t>(2 * kConnectionsPerShard));
    ASSERT_TRUE(covers_all_shards(connections));
    std::atomic<bool> stop{false};
    std::vector<std::unique_ptr<PublisherLog>> logs;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < connections.size(); ++i) {
        logs.push_back(std::make_unique<PublisherLog>());
        // Ordered by shard, so alternating modes gives every shard a sync and an async one.
        PublisherSpec spec{connections[i].connection.get(),
                           seed_,
                           round,
                           static_cast<int>(i),
                           i % 2 == 1,
                           limited_,
                           &stop,
                           logs.back().get()};
        threads.emplace_back(run_publisher, spec);
    }
    ConnectionPtr deleter_connection;
    DeleterLog deleter_log;
    if (deleting_) {
        deleter_connection = connect(server.url());
        ASSERT_NE(deleter_connection, nullptr);
        threads.emplace_back(run_deleter, deleter_connection.get(), &logs, &stop, &deleter_log);
    }
    int delay_ms =
        kKillDelayMsMin + static_cast<int>(random() % (kKillDelayMsMax - kKillDelayMsMin + 1));
    std::this_thread::sleep_for(milliseconds(delay_ms));
    if (deleting_) {
        // Right after a deletion is answered: anything the answer claims must be on disk.
        const uint64_t answered = deleter_log.answered;
        const auto give_up = std::chrono::steady_clock::now() + milliseconds(1000);
        while (deleter_log.answered == answered && std::chrono::steady_clock::now() < give_up) {
            std::this_thread::yield();
        }
    }
    bool alive = server.running();
    int status = server.stop(SIGKILL);
    stop = true;
    for (std::thread& thread : threads) thread.join();
    for (ShardedConnection& entry : connections) natsConnection_Close(entry.connection.get());
    connections.clear();  // Destroys the connections: no ack callback runs after this.
    deleter_connection.reset();
    EXPECT_TRUE(deleter_log.problem.empty()) << deleter_log.problem;
    if (deleting_) {
        std::printf("js_kill: round %d: %zu deletions answered\n", round, deleter_log.deleted.size());
        deleted_.insert(deleter_log.deleted.begin(), deleter_log.deleted.end());
        asked_.insert(deleter_log.asked.begin(), deleter_log.asked.end());
    }

    EXPECT_TRUE(alive) << "the server died by itself before the kill in round " << round << "\n"
                       << server.log();
    EXPECT_EQ(status, 128 + SIGKILL);
    size_t round_acks = 0;
    for (size_t i = 0; i < logs.size(); ++i) {
        std::lock_guard lock(logs[i]->mutex);
        EXPECT_TRUE(logs[i]->problem.empty()) << "publisher " << i << ": " << logs[i]->problem;
        round_acks += logs[i]->acked.size();
        std::printf("js_kill: round %d publisher %zu (%s): sent %llu acked %zu, stopped by %s\n",
                    round, i, i % 2 == 1 ? "async" : "sync",
                    static_cast<unsigned long long>(logs[i]->sent), logs[i]->acked.size(),
                    logs[i]->stopped_by.empty() ? "the stop flag" : logs[i]->stopped_by.c_str());
        for (Acked& ack : logs[i]->acked) {
            acked_seq_max_ = std::max(acked_seq_max_, ack.seq);
            acked_.push_back(std::move(ack));
        }
    }
    std::printf("js_kill: round %d killed after %d ms, %zu acks (%zu in total, max seq %llu)\n",
                round, delay_ms, round_acks, acked_.size(),
                static_cast<unsigned long long>(acked_seq_max_));
    if (deleting_) check_erased();
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every file of the store, as the kill left it, read for the self-descriptions of the payloads
// whose (erasing) deletion was answered: none may be there.
void JsKill::check_erased() {
    std::map<PayloadKey, uint64_t> erased;
    for (const Acked& ack : acked_) {
        if (!deleted_.contains(ack.seq)) continue;
        if (std::optional<PayloadKey> key = parse_payload(seed_, ack.payload)) erased[*key] = ack.seq;
    }
    size_t found = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(store_dir_)) {
        if (!entry.is_regular_file()) continue;
        std::string bytes = read_file(entry.path());
        // A payload begins "r=": the filler is letters only, so every "r=" starts one.
        for (size_t at = bytes.find("r="); at != std::string::npos; at = bytes.find("r=", at + 2)) {
            PayloadKey key;
            unsigned long long index = 0;
            size_t filler = 0;
            std::string head = bytes.substr(at, 80);
            if (std::sscanf(head.c_str(), "r=%d p=%d k=%llu n=%zu|", &key.round, &key.publisher, &index, &filler) != 4) {
                continue;
            }
            key.index = index;
            auto it = erased.find(key);
            if (it != erased.end() && ++found <= 5) {
                ADD_FAILURE() << "seq " << it->second << " was deleted (erasing) with success, yet "
                              << entry.path().filename() << " still holds its payload";
            }
        }
    }
    EXPECT_EQ(found, 0u) << "of " << erased.size() << " erased";
}

void JsKill::check_scan(const ScanResult& scan, int after_round) {
    std::set<PayloadKey> seen;
    size_t corrupt = 0;
    size_t duplicates = 0;
    for (const auto& [seq, stored] : scan.messages) {
        std::optional<PayloadKey> key = parse_payload(seed_, stored.payload);
        bool subject_ok = key.has_value() &&
                          stored.subject == subject_for(key->round, key->publisher, limited_, key->index);
        if (!key.has_value() || !subject_ok || key->round > after_round) {
            if (++corrupt <= 5) {
                ADD_FAILURE() << "corrupt message at seq " << seq << " subject " << stored.subject
                              << " payload (" << stored.payload.size()
                              << " bytes): " << stored.payload.substr(0, 80);
            }
            continue;
        }
        if (!seen.insert(*key).second && ++duplicates <= 5) {
            ADD_FAILURE() << "message stored twice, again at seq " << seq << ": "
                          << stored.payload.substr(0, 40);
        }
    }
    EXPECT_EQ(corrupt, 0u);
    EXPECT_EQ(duplicates, 0u);
    size_t back = 0;
    for (uint64_t seq : deleted_) {
        if (scan.messages.contains(seq) && ++back <= 5) {
            ADD_FAILURE() << "seq " << seq << " is back after its deletion was answered with success";
        }
    }
    EXPECT_EQ(back, 0u) << "of " << deleted_.size() << " deletions";
    size_t lost = 0;
    for (const Acked& ack : acked_) {
        auto it = scan.messages.find(ack.seq);
        if (asked_.contains(ack.seq) && (deleted_.contains(ack.seq) || it == scan.messages.end())) continue;
        bool same = it != scan.messages.end() && it->second.subject == ack.subject &&
                    it->second.payload == ack.payload;
        if (!same && ++lost <= 5) {
            ADD_FAILURE() << "acked seq " << ack.seq << " (" << ack.subject << ", "
                          << ack.payload.substr(0, 40) << ") "
                          << (it == scan.messages.end() ? std::string("is missing")
                                                        : "holds " + it->second.subject + " " +
                                                              it->second.payload.substr(0, 40));
        }
    }
    EXPECT_EQ(lost, 0u) << "of " << acked_.size() << " acknowledged messages";
}

void JsKill::verify(natsConnection* connection, int after_round) {
    std::string failure;
    std::optional<json> info = stream_info_after_restart(connection, &failure);
    ASSERT_TRUE(info.has_value()) << "after round " << after_round << ": " << failure;
    ASSERT_FALSE(info->contains("error")) << info->dump();
    const json& config = (*info)["config"];
    EXPECT_EQ(config.value("name", ""), kStream);
    EXPECT_EQ(config.value("storage", ""), "file");
    EXPECT_EQ(config.value("subjects", json::array()), json::array({"kill.>"}));
    const json& state = (*info)["state"];
    uint64_t first = state.value("first_seq", uint64_t{0});
    uint64_t last = state.value("last_seq", uint64_t{0});
    uint64_t messages = state.value("messages", uint64_t{0});
    ASSERT_GE(last, acked_seq_max_) << "after round " << after_round << ": " << state.dump();
    if (last > 0 && !deleting_) {
        EXPECT_EQ(first, 1u) << "nothing was ever deleted: " << state.dump();
    }

    auto scan_start = std::chrono::steady_clock::now();
    ScanResult scan = scan_stream(connection, first, last);
    auto scan_ms =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - scan_start)
            .count();
    ASSERT_TRUE(scan.failure.empty()) << scan.failure;
    EXPECT_EQ(scan.messages.size(), messages) << "STREAM.INFO and MSG.GET disagree";
    std::printf("js_kill: after round %d: seqs %llu..%llu, %zu messages, %zu gaps (%lld ms scan)\n",
                after_round, static_cast<unsigned long long>(first),
                static_cast<unsigned long long>(last), scan.messages.size(), scan.missing.size(),
                static_cast<long long>(scan_ms));
    check_scan(scan, after_round);
}

// Per subject, the newest acknowledged message, or a newer one of the same publisher (sent, its
// ack lost to the kill), must be the subject's last message.
void JsKill::verify_newest(natsConnection* connection, int after_round) {
    std::string failure;
    std::optional<json> info = stream_info_after_restart(connection, &failure);
    ASSERT_TRUE(info.has_value()) << "after round " << after_round << ": " << failure;
    ASSERT_GE((*info)["state"].value("last_seq", uint64_t{0}), acked_seq_max_) << info->dump();
    std::map<std::string, const Acked*> newest;
    for (const Acked& ack : acked_) {
        const Acked*& entry = newest[ack.subject];
        if (entry == nullptr || ack.seq > entry->seq) entry = &ack;
    }
    size_t lost = 0;
    for (const auto& [subject, ack] : newest) {
        json request = {{"last_by_subj", subject}};
        std::optional<json> reply = api_request(connection, stream_api("MSG.GET"), request.dump(), &failure);
        ASSERT_TRUE(reply.has_value()) << failure;
        json message = reply->value("message", json::object());
        uint64_t seq = message.value("seq", uint64_t{0});
        std::string payload = base64_decode(message.value("data", ""));
        std::optional<PayloadKey> key = parse_payload(seed_, payload);
        bool kept = seq == ack->seq && payload == ack->payload;
        bool newer = seq > ack->seq && key.has_value() && subject_for(key->round, key->publisher, true, key->index) == subject;
        if (!kept && !newer && ++lost <= 5) {
            ADD_FAILURE() << "after round " << after_round << ": " << subject << " acked seq " << ack->seq
                          << ", its last message now: " << reply->dump().substr(0, 200);
        }
    }
    EXPECT_EQ(lost, 0u) << "of " << newest.size() << " subjects";
    std::printf("js_kill: after round %d: the newest message of %zu subjects checked\n", after_round, newest.size());
}

void JsKill::run_rounds() {
    std::mt19937_64 random(seed_);
    int rounds = rounds_from_env();
    ASSERT_GT(rounds, 0);
    for (int round = 0; round <= rounds; ++round) {
        std::unique_ptr<ServerProcess> server = start();
        ASSERT_NE(server, nullptr) << "could not start the server with -js -sd " << store_dir_;
        {
            ConnectionPtr connection = connect(server->url());
            ASSERT_NE(connection, nullptr);
            if (round == 0) {
                ASSERT_NO_FATAL_FAILURE(create_stream(connection.get()));
            } else if (limited_) {
                ASSERT_NO_FATAL_FAILURE(verify_newest(connection.get(), round - 1));
                if (HasFailure()) return;  // The store is kept for a look (see TearDown).
            } else {
                ASSERT_NO_FATAL_FAILURE(verify(connection.get(), round - 1));
                if (HasFailure()) return;
            }
        }
        if (round == rounds) {
            int status = server->stop(SIGTERM);
            // nats-server may exit 1 on SIGTERM; ringtail exits 0.
            EXPECT_TRUE(status == 0 || (!testing_ringtail() && status == 1))
                << "status " << status << "\n"
                << server->log();
            break;
        }
        ASSERT_NO_FATAL_FAILURE(publish_and_kill(*server, round, random));
        if (HasFailure()) return;
    }
    EXPECT_GT(acked_.size(), 0u);
}

TEST_F(JsKill, EveryAcknowledgedMessageSurvivesSigkill) { run_rounds(); }

TEST_F(JsKill, ADeletionAnsweredBeforeSigkillStaysDone) {
    deleting_ = true;
    run_rounds();
}

TEST_F(JsKill, TheNewestAcknowledgedMessageOfEachSubjectSurvivesSigkillUnderAPerSubjectLimit) {
    limited_ = true;
    run_rounds();
}

}  // namespace
}  // namespace ringtail::test
