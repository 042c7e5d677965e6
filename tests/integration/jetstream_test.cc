// JetStream streams, the management API: enabling JetStream, $JS.API.INFO, stream
// create/update/delete/info/names/list, purge, message get/delete and direct get, driven through
// libnats (js_*) and, where libnats hides the wire, raw requests whose JSON is checked.
// Every expectation is nats-server 2.9.10's behaviour; where that is surprising a comment says so.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/files.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int64_t kDefaultDuplicateWindowNs = 120 * kNanosPerSecond;

// The INFO line a raw client gets on connect, parsed.
json info_of(const ServerProcess& server) {
    RawClient raw;
    if (!raw.connect(server.port()) || !raw.read_info()) return json(json::value_t::discarded);
    const std::string& line = raw.received();
    size_t start = line.find('{');
    size_t end = line.rfind('}');
    if (start == std::string::npos || end == std::string::npos) {
        return json(json::value_t::discarded);
    }
    return json::parse(line.substr(start, end - start + 1), nullptr, false);
}

// Go's time.RFC3339Nano in UTC: "2006-01-02T15:04:05.999999999Z", the fraction without trailing
// zeros and without the '.' when it is zero.
std::string rfc3339_nano(int64_t unix_ns) {
    time_t seconds = static_cast<time_t>(unix_ns / kNanosPerSecond);
    int64_t fraction = unix_ns % kNanosPerSecond;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[64];
    size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
    std::string stamp(text, length);
    if (fraction != 0) {
        char digits[16];
        std::snprintf(digits, sizeof(digits), ".%09lld", static_cast<long long>(fraction));
        std::string fraction_text = digits;
        while (fraction_text.back() == '0') fraction_text.pop_back();
        stamp += fraction_text;
    }
    return stamp + "Z";
}

std::vector<std::string> subjects_of(const jsStreamInfo& info) {
    std::vector<std::string> subjects;
    for (int i = 0; i < info.Config->SubjectsLen; ++i) {
        subjects.emplace_back(info.Config->Subjects[i]);
    }
    return subjects;
}

// --- Enabling JetStream ------------------------------------------------------------------------

TEST(JetStreamServer, InfoAdvertisesJetStreamOnlyWhenEnabled) {
    StoreDir store;
    auto with_js = start_js_server(store);
    ASSERT_NE(with_js, nullptr);
    json info = info_of(*with_js);
    ASSERT_FALSE(info.is_discarded());
    EXPECT_EQ(json(true), info.value("jetstream", json())) << info.dump();

    // Without -js nats-server leaves the field out and nothing answers $JS.API.*: libnats gets
    // an immediate no-responders status.
    auto without_js = ServerProcess::start_under_test();
    ASSERT_NE(without_js, nullptr);
    info = info_of(*without_js);
    ASSERT_FALSE(info.is_discarded());
    EXPECT_FALSE(info.value("jetstream", false)) << info.dump();
    JsClient client = connect_js(without_js->url(), 2000);
    ASSERT_TRUE(client);
    jsAccountInfo* raw_account = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_GetAccountInfo(&raw_account, client.get(), nullptr, &err_code);
    AccountInfoPtr account(raw_account);
    EXPECT_EQ(NATS_NO_RESPONDERS, status) << natsStatus_GetText(status);
}

TEST(JetStreamServer, LongFlagsEnableJetStreamAndChooseTheStoreDir) {
    StoreDir store;
    ASSERT_FALSE(store.path().empty());
    auto server = ServerProcess::start_under_test({"--jetstream", "--store_dir", store.path()});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(json(true), info_of(*server).value("jetstream", json()));
    {
        JsClient client = connect_js(server->url());
        ASSERT_TRUE(client);
        StreamConfig config("LONG", {"long.>"});
        ASSERT_EQ(NATS_OK, add_stream(client.get(), config).status);
        ASSERT_TRUE(publish(client.get(), "long.a", "kept").ok());
    }
    server->stop(SIGTERM);

    // The short flags on the same directory find what the long ones stored there.
    auto again = start_js_server(store);
    ASSERT_NE(again, nullptr);
    JsClient client = connect_js(again->url());
    ASSERT_TRUE(client);
    MsgPtr msg = get_msg(client.get(), "LONG", 1);
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ("kept", msg_data(msg.get()));
}

// --- $JS.API.INFO ------------------------------------------------------------------------------

AccountInfoPtr account_info(jsCtx* js) {
    jsAccountInfo* raw = nullptr;
    if (js_GetAccountInfo(&raw, js, nullptr, nullptr) != NATS_OK) return nullptr;
    return AccountInfoPtr(raw);
}

TEST_F(JetStreamTest, AccountInfoCountsStreamsStorageAndApiCalls) {
    AccountInfoPtr fresh = account_info(js());
    ASSERT_NE(fresh, nullptr);
    EXPECT_EQ(0, fresh->Streams);
    EXPECT_EQ(0, fresh->Consumers);
    EXPECT_EQ(0u, fresh->Memory);
    EXPECT_EQ(0u, fresh->Store);
    // No account limits are configured: every limit is -1 ("unlimited").
    EXPECT_EQ(-1, fresh->Limits.MaxMemory);
    EXPECT_EQ(-1, fresh->Limits.MaxStore);
    EXPECT_EQ(-1, fresh->Limits.MaxStreams);
    EXPECT_EQ(-1, fresh->Limits.MaxConsumers);
    EXPECT_EQ(-1, fresh->Limits.MaxAckPending);
    EXPECT_EQ(-1, fresh->Limits.MemoryMaxStreamBytes);
    EXPECT_EQ(-1, fresh->Limits.StoreMaxStreamBytes);
    EXPECT_FALSE(fresh->Limits.MaxBytesRequired);
    // The API counters count the requests answered before this one.
    EXPECT_EQ(0u, fresh->API.Total);
    EXPECT_EQ(0u, fresh->API.Errors);

    EXPECT_EQ(nullptr, stream_info(js(), "MISSING"));  // an API error
    StreamConfig file("FILE", {"file.*"});
    StreamConfig memory("MEM", {"mem.*"});
    memory.storage(js_MemoryStorage);
    ASSERT_EQ(NATS_OK, add_stream(js(), file).status);
    ASSERT_EQ(NATS_OK, add_stream(js(), memory).status);
    ASSERT_TRUE(publish(js(), "file.a", "hello").ok());
    ASSERT_TRUE(publish(js(), "mem.a", "hi").ok());

    AccountInfoPtr after = account_info(js());
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(2, after->Streams);
    EXPECT_EQ(stored_msg_bytes(js_FileStorage, "file.a", 0, 5), after->Store);
    EXPECT_EQ(stored_msg_bytes(js_MemoryStorage, "mem.a", 0, 2), after->Memory);
    // INFO, STREAM.INFO (failed), two STREAM.CREATEs; publishes are not API calls.
    EXPECT_EQ(4u, after->API.Total);
    EXPECT_EQ(1u, after->API.Errors);
}

// --- STREAM.CREATE -----------------------------------------------------------------------------

TEST_F(JetStreamTest, CreateWithOnlyANameGetsTheServerDefaults) {
    json reply = api_request(nc(), "$JS.API.STREAM.CREATE.RAW", R"({"name":"RAW"})");
    ASSERT_FALSE(reply.is_discarded());
    EXPECT_EQ("io.nats.jetstream.api.v1.stream_create_response", reply.value("type", ""));
    json expected_config = {{"name", "RAW"},
                            {"subjects", {"RAW"}},
                            {"retention", "limits"},
                            {"max_consumers", -1},
                            {"max_msgs", -1},
                            {"max_bytes", -1},
                            {"max_age", 0},
                            {"max_msgs_per_subject", -1},
                            {"max_msg_size", -1},
                            {"discard", "old"},
                            {"storage", "file"},
                            {"num_replicas", 1},
                            {"duplicate_window", kDefaultDuplicateWindowNs},
                            {"allow_direct", false},
                            {"mirror_direct", false},
                            {"sealed", false},
                            {"deny_delete", false},
                            {"deny_purge", false},
                            {"allow_rollup_hdrs", false}};
    EXPECT_EQ(expected_config, reply["config"]) << reply.dump();
    json expected_state = {{"messages", 0},      {"bytes", 0},
                           {"first_seq", 0},     {"first_ts", "0001-01-01T00:00:00Z"},
                           {"last_seq", 0},      {"last_ts", "0001-01-01T00:00:00Z"},
                           {"consumer_count", 0}};
    EXPECT_EQ(expected_state, reply["state"]) << reply.dump();
    EXPECT_EQ(json(true), reply.value("did_create", json()));
    EXPECT_TRUE(reply.contains("created") && reply["created"].is_string()) << reply.dump();
}

TEST_F(JetStreamTest, CreateTurnsZeroLimitsIntoUnlimited) {
    // Zero means "not set": the limits become -1, the duplicate window two minutes, one replica.
    json reply = api_request(nc(), "$JS.API.STREAM.CREATE.ZERO",
                             R"({"name":"ZERO","subjects":["zero"],"max_consumers":0,)"
                             R"("max_msgs":0,"max_bytes":0,"max_age":0,"max_msgs_per_subject":0,)"
                             R"("max_msg_size":0,"num_replicas":0,"duplicate_window":0})");
    ASSERT_TRUE(reply.contains("config")) << reply.dump();
    const json& config = reply["config"];
    EXPECT_EQ(-1, config["max_consumers"]);
    EXPECT_EQ(-1, config["max_msgs"]);
    EXPECT_EQ(-1, config["max_bytes"]);
    EXPECT_EQ(0, config["max_age"]);
    EXPECT_EQ(-1, config["max_msgs_per_subject"]);
    EXPECT_EQ(-1, config["max_msg_size"]);
    EXPECT_EQ(1, config["num_replicas"]);
    EXPECT_EQ(kDefaultDuplicateWindowNs, config["duplicate_window"]);

    // A max_age shorter than two minutes caps the default duplicate window.
    reply = api_request(nc(), "$JS.API.STREAM.CREATE.SHORT",
                        R"({"name":"SHORT","subjects":["short"],"max_age":500000000})");
    ASSERT_TRUE(reply.contains("config")) << reply.dump();
    EXPECT_EQ(500'000'000, reply["config"]["duplicate_window"]);

    // Negative limits other than max_age and the duplicate window are stored as given.
    reply = api_request(nc(), "$JS.API.STREAM.CREATE.NEG",
                        R"({"name":"NEG","subjects":["neg"],"max_msgs":-10,"max_bytes":-20,)"
                        R"("max_consumers":-3,"max_msg_size":-5,"max_msgs_per_subject":-7})");
    ASSERT_TRUE(reply.contains("config")) << reply.dump();
    EXPECT_EQ(-10, reply["config"]["max_msgs"]);
    EXPECT_EQ(-20, reply["config"]["max_bytes"]);
    EXPECT_EQ(-3, reply["config"]["max_consumers"]);
    EXPECT_EQ(-5, reply["config"]["max_msg_size"]);
    EXPECT_EQ(-7, reply["config"]["max_msgs_per_subject"]);
}

TEST_F(JetStreamTest, AddStreamReturnsTheDefaultedConfigAndAnEmptyState) {
    int64_t before_ns = unix_now_ns();
    StreamConfig config("ORDERS");  // no subjects: the stream's name becomes its subject
    StreamInfoPtr info;
    JsOutcome outcome = add_stream(js(), config, &info);
    int64_t after_ns = unix_now_ns();
    ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(std::vector<std::string>{"ORDERS"}, subjects_of(*info));
    EXPECT_EQ(js_LimitsPolicy, info->Config->Retention);
    EXPECT_EQ(-1, info->Config->MaxMsgsPerSubject);  // libnats sent 0
    EXPECT_EQ(kDefaultDuplicateWindowNs, info->Config->Duplicates);
    EXPECT_EQ(1, info->Config->Replicas);
    EXPECT_GE(info->Created, before_ns - kNanosPerSecond);
    EXPECT_LE(info->Created, after_ns + kNanosPerSecond);
    EXPECT_EQ(0u, info->State.Msgs);
    EXPECT_EQ(0u, info->State.Bytes);
    EXPECT_EQ(0u, info->State.FirstSeq);
    EXPECT_EQ(0u, info->State.LastSeq);
    EXPECT_EQ(0, info->State.NumSubjects);
    EXPECT_EQ(0u, info->State.NumDeleted);
    EXPECT_EQ(0, info->State.Consumers);

    // Publishing to the name stores a message.
    PubOutcome pub = publish(js(), "ORDERS", "one");
    ASSERT_TRUE(pub.ok()) << pub;
    EXPECT_EQ("ORDERS", pub.stream);
    EXPECT_EQ(1u, pub.seq);
}

// Sets every 2.9 field to a non-default value (those that combine: rollups need purges; no_ack
// only on the interest stream).
StreamConfig full_config(const std::string& name, jsRetentionPolicy retention,
                         jsStorageType storage, bool deny) {
    StreamConfig config(name, {name + ".orders.*", name + ".audit.>"});
    config.description("every field of " + name);
    config.storage(storage);
    config.raw.Retention = retention;
    config.raw.MaxConsumers = 10;
    config.raw.MaxMsgs = 1000;
    config.raw.MaxBytes = 1 << 20;
    config.raw.MaxAge = 3600 * kNanosPerSecond;
    config.raw.MaxMsgsPerSubject = 5;
    config.raw.MaxMsgSize = 4096;
    config.raw.Discard = js_DiscardNew;
    config.raw.DiscardNewPerSubject = true;
    config.raw.Replicas = 1;
    config.raw.Duplicates = 30 * kNanosPerSecond;
    config.raw.DenyDelete = deny;
    config.raw.DenyPurge = deny;
    config.raw.AllowRollup = !deny;
    config.raw.AllowDirect = true;
    config.raw.NoAck = retention == js_InterestPolicy;
    return config;
}

TEST_F(JetStreamTest, CreateKeepsEveryConfigFieldForEachRetentionAndStorage) {
    struct Case {
        std::string name;
        jsRetentionPolicy retention;
        jsStorageType storage;
        bool deny;
    };
    const std::vector<Case> cases = {{"LIM", js_LimitsPolicy, js_FileStorage, true},
                                     {"INT", js_InterestPolicy, js_MemoryStorage, false},
                                     {"WQ", js_WorkQueuePolicy, js_FileStorage, false}};
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        StreamConfig config = full_config(c.name, c.retention, c.storage, c.deny);
        StreamInfoPtr created;
        JsOutcome outcome = add_stream(js(), config, &created);
        ASSERT_EQ(NATS_OK, outcome.status) << outcome;
        expect_same_config(*config.get(), *created->Config);
        StreamInfoPtr fetched = stream_info(js(), c.name);
        ASSERT_NE(fetched, nullptr);
        expect_same_config(*config.get(), *fetched->Config);
        EXPECT_EQ(created->Created, fetched->Created);
    }
}

TEST_F(JetStreamTest, CreateIsIdempotentForAnIdenticalConfigOnly) {
    StreamConfig config("SAME", {"same.*"});
    config.raw.MaxMsgs = 10;
    StreamInfoPtr first;
    ASSERT_EQ(NATS_OK, add_stream(js(), config, &first).status);
    ASSERT_TRUE(publish(js(), "same.a", "x").ok());

    StreamInfoPtr second;
    JsOutcome again = add_stream(js(), config, &second);
    ASSERT_EQ(NATS_OK, again.status) << again;
    EXPECT_EQ(first->Created, second->Created);
    EXPECT_EQ(1u, second->State.Msgs) << "re-creating must not reset the stream";

    // The raw reply to the repeated create still says did_create.
    json reply = api_request(nc(), "$JS.API.STREAM.CREATE.SAME",
                             R"({"name":"SAME","subjects":["same.*"],"max_msgs":10})");
    EXPECT_EQ(json(true), reply.value("did_create", json())) << reply.dump();

    config.raw.MaxMsgs = 11;
    JsOutcome different = add_stream(js(), config);
    EXPECT_EQ(NATS_ERR, different.status) << different;
    EXPECT_EQ(JSStreamNameExistErr, different.err_code);
    EXPECT_EQ("stream name already in use with a different configuration", different.text);

    StreamConfig other_subjects("SAME", {"same.other"});
    other_subjects.raw.MaxMsgs = 10;
    EXPECT_EQ(JSStreamNameExistErr, add_stream(js(), other_subjects).err_code);
    StreamInfoPtr unchanged = stream_info(js(), "SAME");
    ASSERT_NE(unchanged, nullptr);
    EXPECT_EQ(10, unchanged->Config->MaxMsgs);
}

// Applications starting together each create the stream they need, with the same config: every
// create succeeds, also while the first one is still being opened on another shard.
TEST_F(JetStreamTest, IdenticalCreatesAtOnceAllSucceed) {
    std::vector<JsClient> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(connect_js(server_->url()));
        ASSERT_TRUE(clients.back());
    }
    for (int round = 0; round < 8; ++round) {
        std::string name = "AT_ONCE" + std::to_string(round);
        std::string body = R"({"name":")" + name + R"(","subjects":["at.once.)" + std::to_string(round) + R"("]})";
        std::vector<json> replies(clients.size());
        std::vector<std::thread> threads;
        for (size_t i = 0; i < clients.size(); ++i) {
            threads.emplace_back([&, i] { replies[i] = api_request(clients[i].nc(), "$JS.API.STREAM.CREATE." + name, body); });
        }
        for (std::thread& thread : threads) thread.join();
        for (const json& reply : replies) {
            EXPECT_FALSE(reply.contains("error")) << name << ": " << reply.dump();
            EXPECT_EQ(reply["config"]["name"], name) << reply.dump();
        }
    }
}

TEST_F(JetStreamTest, SubjectsOverlappingAnotherStreamAreRejected) {
    StreamConfig first("FIRST", {"a.*", "b.>"});
    ASSERT_EQ(NATS_OK, add_stream(js(), first).status);
    for (std::string subject : {"a.x", "a.*", "b.c.d", "b.*", "*.x", ">", "a.>"}) {
        SCOPED_TRACE(subject);
        StreamConfig second("SECOND", {subject});
        JsOutcome outcome = add_stream(js(), second);
        EXPECT_EQ(NATS_ERR, outcome.status) << outcome;
        EXPECT_EQ(JSStreamSubjectOverlapErr, outcome.err_code);
        EXPECT_EQ("subjects overlap with an existing stream", outcome.text);
    }
    // "a.*" matches one token only, so "a.x.y" is free; "b" is not under "b.>".
    StreamConfig disjoint("SECOND", {"a.x.y", "b"});
    JsOutcome outcome = add_stream(js(), disjoint);
    EXPECT_EQ(NATS_OK, outcome.status) << outcome;
    EXPECT_EQ((std::vector<std::string>{"FIRST", "SECOND"}), stream_names(js()));
}

struct InvalidConfigCase {
    std::string label;
    std::function<void(StreamConfig&)> mutate;
    int err_code;
    std::string description;
};

TEST_F(JetStreamTest, InvalidConfigsAreRejectedWithErrCodeAndDescription) {
    const std::string too_long_description(4097, 'd');
    const std::vector<InvalidConfigCase> cases = {
        {"three replicas", [](StreamConfig& c) { c.raw.Replicas = 3; },
         JSStreamReplicasNotSupportedErr, "replicas > 1 not supported in non-clustered mode"},
        // 10133 is newer than libnats 3.4.1's jsErrCode enum.
        {"negative replicas", [](StreamConfig& c) { c.raw.Replicas = -1; }, 10133,
         "replicas count cannot be negative"},
        // nats-server 2.9.10 quirk: a negative max_age caps the default duplicate window to
        // itself, and that is the error reported.
        {"negative max_age", [](StreamConfig& c) { c.raw.MaxAge = -1; }, JSStreamInvalidConfig,
         "duplicates window can not be negative"},
        {"negative duplicate window", [](StreamConfig& c) { c.raw.Duplicates = -1; },
         JSStreamInvalidConfig, "duplicates window can not be negative"},
        {"duplicate window above max_age",
         [](StreamConfig& c) {
             c.raw.MaxAge = kNanosPerSecond;
             c.raw.Duplicates = 5 * kNanosPerSecond;
         },
         JSStreamInvalidConfig, "duplicates window can not be larger then max age"},
        {"description too long", [&](StreamConfig& c) { c.description(too_long_description); },
         JSStreamInvalidConfig, "stream description is too long, maximum allowed is 4096"},
        {"subjects overlapping each other",
         [](StreamConfig& c) {
             c.subjects({"x.>", "x.y"});
         },
         JSStreamInvalidConfig, "subject \"x.>\" overlaps with \"x.y\""},
        {"duplicate subjects",
         [](StreamConfig& c) {
             c.subjects({"dup", "dup"});
         },
         JSStreamInvalidConfig, "duplicate subjects detected"},
        {"subject with a space", [](StreamConfig& c) { c.subjects({"a b"}); },
         JSStreamInvalidConfig, "invalid subject"},
        {"empty subject", [](StreamConfig& c) { c.subjects({""}); }, JSStreamInvalidConfig,
         "invalid subject"},
        {"subject inside the API", [](StreamConfig& c) { c.subjects({"$JS.API.>"}); },
         JSStreamInvalidConfig, "subjects overlap with jetstream api"},
        {"sealed on create", [](StreamConfig& c) { c.raw.Sealed = true; }, JSStreamInvalidConfig,
         "stream configuration for create can not be sealed"},
        {"rollups without purges",
         [](StreamConfig& c) {
             c.raw.AllowRollup = true;
             c.raw.DenyPurge = true;
         },
         JSStreamInvalidConfig, "roll-ups require the purge permission"},
        {"discard new per subject without a per-subject limit",
         [](StreamConfig& c) {
             c.raw.Discard = js_DiscardNew;
             c.raw.DiscardNewPerSubject = true;
         },
         JSStreamInvalidConfig, "discard new per subject requires max msgs per subject > 0"},
    };
    for (const InvalidConfigCase& c : cases) {
        SCOPED_TRACE(c.label);
        StreamConfig config("BAD", {"bad.>"});
        c.mutate(config);
        JsOutcome outcome = add_stream(js(), config);
        EXPECT_EQ(NATS_ERR, outcome.status) << outcome;
        EXPECT_EQ(c.err_code, outcome.err_code);
        EXPECT_EQ(c.description, outcome.text);
    }
    for (const std::string& name :
         {std::string("bad*"), std::string("bad>"), std::string(256, 'n')}) {
        StreamConfig config(name, {"bad.>"});
        JsOutcome outcome = add_stream(js(), config);
        EXPECT_EQ(JSStreamInvalidConfig, outcome.err_code) << name;
        EXPECT_EQ(name.size() > 255 ? "stream name is too long, maximum allowed is 255"
                                    : "stream name is required and can not contain '.', '*', '>'",
                  outcome.text);
    }
    // libnats refuses a '.' in a name before sending anything.
    StreamConfig dotted("bad.name", {"bad.>"});
    EXPECT_EQ(NATS_INVALID_ARG, add_stream(js(), dotted).status);

    JsOutcome listed;
    EXPECT_TRUE(stream_names(js(), &listed).empty()) << "no rejected config may leave a stream";
}

TEST_F(JetStreamTest, RawCreateRequestsThatAreNotAConfigAreRejected) {
    struct RawCase {
        std::string subject;
        std::string body;
        int code;
        int err_code;
        std::string description;
    };
    const std::vector<RawCase> cases = {
        {"$JS.API.STREAM.CREATE.X", "not json", 400, JSInvalidJSONErr, "invalid JSON"},
        {"$JS.API.STREAM.CREATE.X", "", 400, JSInvalidJSONErr, "invalid JSON"},
        {"$JS.API.STREAM.CREATE.X", R"({"name":"X","storage":"disk"})", 400, JSInvalidJSONErr,
         "invalid JSON"},
        {"$JS.API.STREAM.CREATE.X", R"({"name":"X","retention":"forever"})", 400, JSInvalidJSONErr,
         "invalid JSON"},
        {"$JS.API.STREAM.CREATE.X", R"({"name":"Y"})", 400, JSStreamMismatchErr,
         "stream name in subject does not match request"},
        {"$JS.API.STREAM.CREATE.X", R"({})", 400, JSStreamMismatchErr,
         "stream name in subject does not match request"},
        {"$JS.API.STREAM.UPDATE.X", R"({"name":"Y"})", 400, JSStreamMismatchErr,
         "stream name in subject does not match request"},
    };
    for (const RawCase& c : cases) {
        SCOPED_TRACE(c.subject + " " + c.body);
        json reply = api_request(nc(), c.subject, c.body);
        ASSERT_TRUE(reply.contains("error")) << reply.dump();
        json expected = {
            {"code", c.code}, {"err_code", c.err_code}, {"description", c.description}};
        EXPECT_EQ(expected, reply["error"]);
    }
}

// --- STREAM.UPDATE -----------------------------------------------------------------------------

TEST_F(JetStreamTest, UpdateChangesEveryEditableField) {
    StreamConfig config("EDIT", {"edit.a"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(publish(js(), "edit.a", "m").ok());
    StreamInfoPtr before = stream_info(js(), "EDIT");
    ASSERT_NE(before, nullptr);

    config.subjects({"edit.a", "edit.b.*"});
    config.description("edited");
    config.raw.MaxMsgs = 3;  // below the current count: the oldest two go at once
    config.raw.MaxBytes = 10'000;
    config.raw.MaxAge = 3600 * kNanosPerSecond;
    config.raw.MaxMsgsPerSubject = 4;
    config.raw.MaxMsgSize = 100;
    config.raw.Discard = js_DiscardNew;
    config.raw.Duplicates = kNanosPerSecond;
    config.raw.AllowRollup = true;
    config.raw.AllowDirect = true;
    config.raw.DenyDelete = true;
    StreamInfoPtr updated;
    JsOutcome outcome = update_stream(js(), config, &updated);
    ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    expect_same_config(*config.get(), *updated->Config);
    EXPECT_EQ(before->Created, updated->Created);
    EXPECT_EQ(3u, updated->State.Msgs);
    EXPECT_EQ(3u, updated->State.FirstSeq);
    EXPECT_EQ(5u, updated->State.LastSeq);

    StreamInfoPtr fetched = stream_info(js(), "EDIT");
    ASSERT_NE(fetched, nullptr);
    expect_same_config(*config.get(), *fetched->Config);
    // The new limits apply: discard new now refuses a fourth message, on the new subject too.
    PubOutcome refused = publish(js(), "edit.b.x", "over max_msgs");
    EXPECT_EQ(JSStreamStoreFailedErr, refused.outcome.err_code) << refused;
    EXPECT_EQ("maximum messages exceeded", refused.outcome.text);
    config.raw.MaxMsgs = 10;
    ASSERT_EQ(NATS_OK, update_stream(js(), config).status);
    PubOutcome added_subject = publish(js(), "edit.b.x", "new subject");
    EXPECT_TRUE(added_subject.ok()) << added_subject;
    EXPECT_EQ(6u, added_subject.seq);

    // Dropping a subject releases it: nothing answers a publish there any more.
    config.subjects({"edit.b.*"});
    ASSERT_EQ(NATS_OK, update_stream(js(), config).status);
    EXPECT_EQ(NATS_NO_RESPONDERS, publish(js(), "edit.a", "gone").outcome.status);

    // deny_purge can be switched on too (after rollups are off, which need purges).
    config.raw.AllowRollup = false;
    config.raw.DenyPurge = true;
    ASSERT_EQ(NATS_OK, update_stream(js(), config, &updated).status);
    EXPECT_TRUE(updated->Config->DenyPurge);
}

// A max_age lowered below the age of stored messages removes them before the update answers:
// the stream info it returns already shows them gone.
TEST_F(JetStreamTest, AShorterMaxAgeShowsInTheUpdatesAnswer) {
    StreamConfig config("AGING", {"aging"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    ASSERT_TRUE(publish(js(), "aging", "old").ok());
    ASSERT_TRUE(publish(js(), "aging", "old").ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    ASSERT_TRUE(publish(js(), "aging", "new").ok());
    config.raw.MaxAge = 1 * kNanosPerSecond;
    StreamInfoPtr info;
    ASSERT_EQ(NATS_OK, update_stream(js(), config, &info).status);
    ASSERT_NE(nullptr, info);
    EXPECT_EQ(1u, info->State.Msgs);
    EXPECT_EQ(3u, info->State.FirstSeq);
}

TEST_F(JetStreamTest, UpdateRejectsChangesToFixedFields) {
    StreamConfig base("FIXED", {"fixed.*"});
    base.raw.DenyDelete = true;
    base.raw.DenyPurge = true;
    StreamInfoPtr created;
    ASSERT_EQ(NATS_OK, add_stream(js(), base, &created).status);
    StreamConfig other("OTHER", {"other.*"});
    ASSERT_EQ(NATS_OK, add_stream(js(), other).status);

    struct UpdateCase {
        std::string label;
        std::function<void(StreamConfig&)> mutate;
        int err_code;
        std::string description;
    };
    const std::vector<UpdateCase> cases = {
        {"storage", [](StreamConfig& c) { c.storage(js_MemoryStorage); }, JSStreamInvalidConfig,
         "stream configuration update can not change storage type"},
        {"retention", [](StreamConfig& c) { c.raw.Retention = js_InterestPolicy; },
         JSStreamInvalidConfig, "stream configuration update can not change retention policy"},
        {"max_consumers", [](StreamConfig& c) { c.raw.MaxConsumers = 5; }, JSStreamInvalidConfig,
         "stream configuration update can not change MaxConsumers"},
        {"deny_delete off", [](StreamConfig& c) { c.raw.DenyDelete = false; },
         JSStreamInvalidConfig, "stream configuration update can not cancel deny message deletes"},
        {"deny_purge off", [](StreamConfig& c) { c.raw.DenyPurge = false; }, JSStreamInvalidConfig,
         "stream configuration update can not cancel deny purge"},
        {"rollups without purges", [](StreamConfig& c) { c.raw.AllowRollup = true; },
         JSStreamInvalidConfig, "roll-ups require the purge permission"},
        {"negative duplicate window", [](StreamConfig& c) { c.raw.Duplicates = -1; },
         JSStreamInvalidConfig, "duplicates window can not be negative"},
        {"subjects of another stream", [](StreamConfig& c) { c.subjects({"other.x"}); },
         JSStreamSubjectOverlapErr, "subjects overlap with an existing stream"},
    };
    for (const UpdateCase& c : cases) {
        SCOPED_TRACE(c.label);
        StreamConfig config = base;
        c.mutate(config);
        JsOutcome outcome = update_stream(js(), config);
        EXPECT_EQ(NATS_ERR, outcome.status) << outcome;
        EXPECT_EQ(c.err_code, outcome.err_code);
        EXPECT_EQ(c.description, outcome.text);
    }
    StreamInfoPtr unchanged = stream_info(js(), "FIXED");
    ASSERT_NE(unchanged, nullptr);
    expect_same_config(*created->Config, *unchanged->Config);

    StreamConfig missing("NOPE", {"nope"});
    JsOutcome outcome = update_stream(js(), missing);
    EXPECT_EQ(NATS_NOT_FOUND, outcome.status) << outcome;
    EXPECT_EQ(JSStreamNotFoundErr, outcome.err_code);
}

TEST_F(JetStreamTest, UpdateToThreeReplicasIsAcceptedOnAStandaloneServer) {
    // nats-server 2.9.10 quirk: create refuses num_replicas 3 (10074) but update
    // takes it and reports it back, without any cluster to place replicas on.
    StreamConfig config("REPL", {"repl"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    config.raw.Replicas = 3;
    StreamInfoPtr updated;
    JsOutcome outcome = update_stream(js(), config, &updated);
    ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    EXPECT_EQ(3, updated->Config->Replicas);
    EXPECT_TRUE(publish(js(), "repl", "still works").ok());
}

TEST_F(JetStreamTest, SealedStreamRefusesWritesAndCannotBeUnsealed) {
    StreamConfig config("SEAL", {"seal.*"});
    config.raw.AllowRollup = true;
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    ASSERT_TRUE(publish(js(), "seal.a", "one").ok());
    ASSERT_TRUE(publish(js(), "seal.b", "two").ok());

    config.raw.Sealed = true;
    StreamInfoPtr sealed;
    JsOutcome outcome = update_stream(js(), config, &sealed);
    ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    // Sealing also denies deletes and purges, turns rollups off and sets discard new.
    EXPECT_TRUE(sealed->Config->Sealed);
    EXPECT_TRUE(sealed->Config->DenyDelete);
    EXPECT_TRUE(sealed->Config->DenyPurge);
    EXPECT_FALSE(sealed->Config->AllowRollup);
    EXPECT_EQ(js_DiscardNew, sealed->Config->Discard);

    PubOutcome pub = publish(js(), "seal.a", "three");
    EXPECT_EQ(NATS_ERR, pub.outcome.status) << pub;
    EXPECT_EQ(JSStreamSealedErr, pub.outcome.err_code);
    EXPECT_EQ("invalid operation on sealed stream", pub.outcome.text);
    for (const JsOutcome& refused :
         {delete_msg(js(), "SEAL", 1), erase_msg(js(), "SEAL", 1), purge(js(), "SEAL")}) {
        EXPECT_EQ(NATS_ERR, refused.status) << refused;
        EXPECT_EQ(JSStreamSealedErr, refused.err_code);
        EXPECT_EQ("invalid operation on sealed stream", refused.text);
    }
    StreamConfig unseal = config;
    unseal.raw.Sealed = false;
    unseal.raw.AllowRollup = false;
    unseal.raw.DenyDelete = true;
    unseal.raw.DenyPurge = true;
    unseal.raw.Discard = js_DiscardNew;
    outcome = update_stream(js(), unseal);
    EXPECT_EQ(JSStreamInvalidConfig, outcome.err_code) << outcome;
    EXPECT_EQ("stream configuration update can not unseal a sealed stream", outcome.text);

    StreamInfoPtr info = stream_info(js(), "SEAL");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(2u, info->State.Msgs);
    EXPECT_TRUE(info->Config->Sealed);
    // A sealed stream can still be deleted as a whole.
    EXPECT_EQ(NATS_OK, delete_stream(js(), "SEAL").status);
}

// --- STREAM.DELETE -----------------------------------------------------------------------------

TEST_F(JetStreamTest, DeleteStreamRemovesItAndFreesItsNameAndSubjects) {
    StreamConfig config("GONE", {"gone.*"});
    config.raw.DenyDelete = true;  // denies message deletes, not deleting the stream
    config.raw.DenyPurge = true;
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    ASSERT_TRUE(publish(js(), "gone.a", "x").ok());

    JsOutcome deleted = delete_stream(js(), "GONE");
    ASSERT_EQ(NATS_OK, deleted.status) << deleted;
    jsStreamInfo* raw = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    EXPECT_EQ(NATS_NOT_FOUND, js_GetStreamInfo(&raw, js(), "GONE", nullptr, &err_code));
    StreamInfoPtr none(raw);
    EXPECT_EQ(JSStreamNotFoundErr, err_code);
    JsOutcome again = delete_stream(js(), "GONE");
    EXPECT_EQ(NATS_NOT_FOUND, again.status) << again;
    EXPECT_EQ(JSStreamNotFoundErr, again.err_code);
    EXPECT_EQ(NATS_NO_RESPONDERS, publish(js(), "gone.a", "y").outcome.status);

    // Both the name and the subjects can be used again; the new stream starts empty.
    StreamConfig reuse("GONE", {"gone.*"});
    ASSERT_EQ(NATS_OK, add_stream(js(), reuse).status);
    PubOutcome pub = publish(js(), "gone.b", "z");
    ASSERT_TRUE(pub.ok()) << pub;
    EXPECT_EQ(1u, pub.seq);
}

// --- STREAM.INFO -------------------------------------------------------------------------------

TEST_F(JetStreamTest, StreamInfoReportsTheStateOfTheMessages) {
    StreamConfig config("STATE", {"state.>"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    int64_t before_ns = unix_now_ns();
    ASSERT_TRUE(publish(js(), "state.a", "12345").ok());
    ASSERT_TRUE(publish(js(), "state.b", "1234567890").ok());
    std::vector<std::pair<std::string, std::string>> headers = {{"Foo", "bar"}};
    ASSERT_TRUE(publish_with_headers(js(), "state.a", "abc", headers).ok());
    ASSERT_TRUE(publish(js(), "state.c.d", "").ok());
    int64_t after_ns = unix_now_ns();
    ASSERT_EQ(NATS_OK, delete_msg(js(), "STATE", 2).status);

    StreamInfoPtr info = stream_info(js(), "STATE");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(3u, info->State.Msgs);
    EXPECT_EQ(stored_msg_bytes(js_FileStorage, "state.a", 0, 5) +
                  stored_msg_bytes(js_FileStorage, "state.a", header_block_bytes(headers), 3) +
                  stored_msg_bytes(js_FileStorage, "state.c.d", 0, 0),
              info->State.Bytes);
    EXPECT_EQ(1u, info->State.FirstSeq);
    EXPECT_EQ(4u, info->State.LastSeq);
    EXPECT_GE(info->State.FirstTime, before_ns - kNanosPerSecond);
    EXPECT_LE(info->State.FirstTime, info->State.LastTime);
    EXPECT_LE(info->State.LastTime, after_ns + kNanosPerSecond);
    EXPECT_EQ(2, info->State.NumSubjects);  // state.b's only message was deleted
    EXPECT_EQ(1u, info->State.NumDeleted);
    EXPECT_EQ(nullptr, info->State.Deleted) << "details only on request";
    EXPECT_EQ(nullptr, info->State.Subjects) << "details only on request";

    jsOptions options;
    jsOptions_Init(&options);
    options.Stream.Info.DeletedDetails = true;
    options.Stream.Info.SubjectsFilter = ">";
    StreamInfoPtr detailed = stream_info(js(), "STATE", &options);
    ASSERT_NE(detailed, nullptr);
    ASSERT_EQ(1, detailed->State.DeletedLen);
    EXPECT_EQ(2u, detailed->State.Deleted[0]);
    ASSERT_NE(detailed->State.Subjects, nullptr);
    std::map<std::string, uint64_t> counts;
    for (int i = 0; i < detailed->State.Subjects->Count; ++i) {
        counts[detailed->State.Subjects->List[i].Subject] = detailed->State.Subjects->List[i].Msgs;
    }
    EXPECT_EQ((std::map<std::string, uint64_t>{{"state.a", 2}, {"state.c.d", 1}}), counts);

    // A filter narrows the subject list; the raw reply pages it with total/offset/limit.
    json reply = api_request(nc(), "$JS.API.STREAM.INFO.STATE", R"({"subjects_filter":"state.a"})");
    ASSERT_TRUE(reply.contains("state")) << reply.dump();
    EXPECT_EQ((json{{"state.a", 2}}), reply["state"]["subjects"]);
    EXPECT_EQ(1, reply["total"]);
    EXPECT_EQ(0, reply["offset"]);
    EXPECT_EQ(100000, reply["limit"]);

    jsStreamInfo* raw = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    EXPECT_EQ(NATS_NOT_FOUND, js_GetStreamInfo(&raw, js(), "MISSING", nullptr, &err_code));
    StreamInfoPtr none(raw);
    EXPECT_EQ(JSStreamNotFoundErr, err_code);
}

// --- STREAM.NAMES and STREAM.LIST --------------------------------------------------------------

TEST_F(JetStreamTest, StreamNamesAndListCoverEveryStream) {
    JsOutcome outcome;
    EXPECT_TRUE(stream_names(js(), &outcome).empty());
    json reply = api_request(nc(), "$JS.API.STREAM.NAMES");
    json expected = {{"type", "io.nats.jetstream.api.v1.stream_names_response"},
                     {"total", 0},
                     {"offset", 0},
                     {"limit", 1024},
                     {"streams", nullptr}};
    EXPECT_EQ(expected, reply);

    for (std::string name : {"CHARLIE", "ALPHA", "BRAVO"}) {
        std::string prefix = name;
        std::transform(prefix.begin(), prefix.end(), prefix.begin(), ::tolower);
        StreamConfig config(name, {prefix + ".*"});
        ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    }
    EXPECT_EQ((std::vector<std::string>{"ALPHA", "BRAVO", "CHARLIE"}), stream_names(js()));

    jsStreamInfoList* raw_list = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    ASSERT_EQ(NATS_OK, js_Streams(&raw_list, js(), nullptr, &err_code));
    StreamListPtr list(raw_list);
    ASSERT_EQ(3, list->Count);
    std::vector<std::string> listed;
    for (int i = 0; i < list->Count; ++i) listed.emplace_back(list->List[i]->Config->Name);
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ((std::vector<std::string>{"ALPHA", "BRAVO", "CHARLIE"}), listed);

    // The raw replies: names sorted, a subject filter, and an offset past the end clamped to the
    // total. An empty page has "streams":null for NAMES but [] for LIST.
    reply = api_request(nc(), "$JS.API.STREAM.NAMES");
    EXPECT_EQ((json{"ALPHA", "BRAVO", "CHARLIE"}), reply["streams"]) << reply.dump();
    EXPECT_EQ(3, reply["total"]);
    reply = api_request(nc(), "$JS.API.STREAM.NAMES", R"({"subject":"bravo.x"})");
    EXPECT_EQ((json{"BRAVO"}), reply["streams"]) << reply.dump();
    EXPECT_EQ(1, reply["total"]);
    reply = api_request(nc(), "$JS.API.STREAM.NAMES", R"({"subject":"delta.x"})");
    EXPECT_EQ(0, reply["total"]) << reply.dump();
    EXPECT_TRUE(reply["streams"].is_null());
    reply = api_request(nc(), "$JS.API.STREAM.NAMES", R"({"offset":30})");
    EXPECT_EQ(3, reply["offset"]) << reply.dump();
    EXPECT_TRUE(reply["streams"].is_null());
    reply = api_request(nc(), "$JS.API.STREAM.LIST", R"({"offset":2})");
    EXPECT_EQ("io.nats.jetstream.api.v1.stream_list_response", reply.value("type", ""));
    EXPECT_EQ(3, reply["total"]) << reply.dump();
    EXPECT_EQ(2, reply["offset"]);
    EXPECT_EQ(256, reply["limit"]);
    ASSERT_EQ(1u, reply["streams"].size());
    EXPECT_EQ("CHARLIE", reply["streams"][0]["config"]["name"]);
    reply = api_request(nc(), "$JS.API.STREAM.LIST", R"({"offset":7})");
    EXPECT_EQ(3, reply["offset"]) << reply.dump();
    EXPECT_EQ(json::array(), reply["streams"]);
    reply = api_request(nc(), "$JS.API.STREAM.NAMES", "garbage");
    EXPECT_EQ(
        (json{{"code", 400}, {"err_code", JSInvalidJSONErr}, {"description", "invalid JSON"}}),
        reply["error"])
        << reply.dump();
}

TEST_F(JetStreamTest, StreamListPagesPast256Streams) {
    constexpr int kStreams = 300;
    for (int i = 0; i < kStreams; ++i) {
        char name[16];
        std::snprintf(name, sizeof(name), "S%03d", i);
        StreamConfig config(name, {std::string("page.") + name});
        config.storage(js_MemoryStorage);
        JsOutcome outcome = add_stream(js(), config);
        ASSERT_EQ(NATS_OK, outcome.status) << name << " " << outcome;
    }
    json first = api_request(nc(), "$JS.API.STREAM.LIST", R"({"offset":0})");
    EXPECT_EQ(kStreams, first["total"]) << first.dump().substr(0, 300);
    EXPECT_EQ(0, first["offset"]);
    EXPECT_EQ(256, first["limit"]);
    ASSERT_EQ(256u, first["streams"].size());
    EXPECT_EQ("S000", first["streams"][0]["config"]["name"]);
    EXPECT_EQ("S255", first["streams"][255]["config"]["name"]);
    json second = api_request(nc(), "$JS.API.STREAM.LIST", R"({"offset":256})");
    EXPECT_EQ(256, second["offset"]);
    ASSERT_EQ(44u, second["streams"].size());
    EXPECT_EQ("S256", second["streams"][0]["config"]["name"]);
    EXPECT_EQ("S299", second["streams"][43]["config"]["name"]);

    json names = api_request(nc(), "$JS.API.STREAM.NAMES");
    EXPECT_EQ(kStreams, names["total"]);
    EXPECT_EQ(1024, names["limit"]);
    EXPECT_EQ(static_cast<size_t>(kStreams), names["streams"].size());

    // libnats follows the pages itself.
    EXPECT_EQ(static_cast<size_t>(kStreams), stream_names(js()).size());
    jsStreamInfoList* raw_list = nullptr;
    ASSERT_EQ(NATS_OK, js_Streams(&raw_list, js(), nullptr, nullptr));
    StreamListPtr list(raw_list);
    EXPECT_EQ(kStreams, list->Count);
}

// --- STREAM.PURGE ------------------------------------------------------------------------------

// Publishes a, b, a, c, a, b to `prefix`.<letter> as seqs 1..6.
void publish_abacab(jsCtx* js, const std::string& prefix) {
    for (const char* token : {"a", "b", "a", "c", "a", "b"}) {
        ASSERT_TRUE(publish(js, prefix + "." + token, std::string("v-") + token).ok());
    }
}

struct StateSummary {
    uint64_t msgs;
    uint64_t first_seq;
    uint64_t last_seq;
    uint64_t num_deleted;
    bool operator==(const StateSummary&) const = default;
};
std::ostream& operator<<(std::ostream& out, const StateSummary& s) {
    return out << "{msgs " << s.msgs << ", first " << s.first_seq << ", last " << s.last_seq
               << ", deleted " << s.num_deleted << "}";
}
StateSummary summary(jsCtx* js, const std::string& stream) {
    StreamInfoPtr info = stream_info(js, stream);
    if (!info) return {};
    return {info->State.Msgs, info->State.FirstSeq, info->State.LastSeq, info->State.NumDeleted};
}

TEST_F(JetStreamTest, PurgeAllByFilterBySequenceAndKeep) {
    StreamConfig config("PURGE", {"p.*"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    publish_abacab(js(), "p");

    // Filter + keep: the newest p.a (5) stays, 1 and 3 go.
    ASSERT_EQ(NATS_OK, purge(js(), "PURGE", "p.a", 0, 1).status);
    EXPECT_EQ((StateSummary{4, 2, 6, 1}), summary(js(), "PURGE"));
    // Sequence: everything below 4 goes (only 2 was left there).
    ASSERT_EQ(NATS_OK, purge(js(), "PURGE", "", 4).status);
    EXPECT_EQ((StateSummary{3, 4, 6, 0}), summary(js(), "PURGE"));
    // Keep: only the newest message stays.
    ASSERT_EQ(NATS_OK, purge(js(), "PURGE", "", 0, 1).status);
    EXPECT_EQ((StateSummary{1, 6, 6, 0}), summary(js(), "PURGE"));
    MsgPtr kept = get_msg(js(), "PURGE", 6);
    ASSERT_NE(kept, nullptr);
    EXPECT_STREQ("p.b", natsMsg_GetSubject(kept.get()));

    // A filter alone; when it takes the last message the stream is empty and first = last + 1.
    ASSERT_EQ(NATS_OK, purge(js(), "PURGE", "p.b").status);
    EXPECT_EQ((StateSummary{0, 7, 6, 0}), summary(js(), "PURGE"));
    PubOutcome pub = publish(js(), "p.c", "after");
    EXPECT_EQ(7u, pub.seq) << pub;

    // Everything; sequences continue after a purge.
    ASSERT_TRUE(publish(js(), "p.a", "more").ok());
    ASSERT_EQ(NATS_OK, purge(js(), "PURGE").status);
    StreamInfoPtr info = stream_info(js(), "PURGE");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ((StateSummary{0, 9, 8, 0}), summary(js(), "PURGE"));
    EXPECT_EQ(0u, info->State.Bytes);
    EXPECT_EQ(0, info->State.FirstTime) << "an empty stream has no first time";
    EXPECT_EQ(9u, publish(js(), "p.a", "next").seq);
}

TEST_F(JetStreamTest, PurgeRepliesCountThePurgedMessages) {
    StreamConfig config("COUNT", {"n.*"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    publish_abacab(js(), "n");
    json reply = api_request(nc(), "$JS.API.STREAM.PURGE.COUNT", R"({"filter":"n.a","keep":1})");
    EXPECT_EQ((json{{"type", "io.nats.jetstream.api.v1.stream_purge_response"},
                    {"success", true},
                    {"purged", 2}}),
              reply);
    reply = api_request(nc(), "$JS.API.STREAM.PURGE.COUNT", R"({"filter":"x.>"})");
    EXPECT_EQ(0, reply["purged"]) << reply.dump();
    // seq and keep together are a bad request (libnats refuses them itself).
    reply = api_request(nc(), "$JS.API.STREAM.PURGE.COUNT", R"({"seq":2,"keep":1})");
    EXPECT_EQ((json{{"code", 400}, {"err_code", JSBadRequestErr}, {"description", "bad request"}}),
              reply["error"])
        << reply.dump();
    EXPECT_EQ(0, reply["purged"]);
    EXPECT_EQ(NATS_INVALID_ARG, purge(js(), "COUNT", "", 2, 1).status);
    reply = api_request(nc(), "$JS.API.STREAM.PURGE.COUNT", "");
    EXPECT_EQ(4, reply["purged"]) << reply.dump();
}

TEST_F(JetStreamTest, PurgeErrors) {
    JsOutcome missing = purge(js(), "MISSING");
    EXPECT_EQ(NATS_NOT_FOUND, missing.status) << missing;
    EXPECT_EQ(JSStreamNotFoundErr, missing.err_code);

    StreamConfig config("NOPURGE", {"np"});
    config.raw.DenyPurge = true;
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    ASSERT_TRUE(publish(js(), "np", "x").ok());
    for (const JsOutcome& denied : {purge(js(), "NOPURGE"), purge(js(), "NOPURGE", "np", 0, 1)}) {
        EXPECT_EQ(NATS_ERR, denied.status) << denied;
        EXPECT_EQ(JSStreamPurgeFailedErr, denied.err_code);
        EXPECT_EQ("stream purge not permitted", denied.text);
    }
    EXPECT_EQ(1u, summary(js(), "NOPURGE").msgs);
}

// --- STREAM.MSG.GET ----------------------------------------------------------------------------

TEST_F(JetStreamTest, GetMsgBySequenceAndLastBySubject) {
    StreamConfig config("GET", {"get.*"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    int64_t before_ns = unix_now_ns();
    ASSERT_TRUE(publish_with_headers(js(), "get.a", "first", {{"Foo", "bar"}}).ok());
    ASSERT_TRUE(publish(js(), "get.b", "second").ok());
    ASSERT_TRUE(publish(js(), "get.a", "third").ok());

    MsgPtr msg = get_msg(js(), "GET", 1);
    ASSERT_NE(msg, nullptr);
    EXPECT_STREQ("get.a", natsMsg_GetSubject(msg.get()));
    EXPECT_EQ("first", msg_data(msg.get()));
    EXPECT_EQ("bar", header_value(msg.get(), "Foo"));
    EXPECT_EQ(1u, natsMsg_GetSequence(msg.get()));
    EXPECT_GE(natsMsg_GetTime(msg.get()), before_ns - kNanosPerSecond);
    EXPECT_LE(natsMsg_GetTime(msg.get()), unix_now_ns() + kNanosPerSecond);

    msg = get_last_msg(js(), "GET", "get.a");
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ("third", msg_data(msg.get()));
    EXPECT_EQ(3u, natsMsg_GetSequence(msg.get()));
    EXPECT_EQ("<absent>", header_value(msg.get(), "Foo"));
    msg = get_last_msg(js(), "GET", "get.b");
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(2u, natsMsg_GetSequence(msg.get()));
    // A wildcard matches the newest message on any matching subject.
    msg = get_last_msg(js(), "GET", "get.*");
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(3u, natsMsg_GetSequence(msg.get()));

    // The raw reply: base64 headers and data, RFC 3339 time.
    json reply = api_request(nc(), "$JS.API.STREAM.MSG.GET.GET", R"({"seq":2})");
    EXPECT_EQ("io.nats.jetstream.api.v1.stream_msg_get_response", reply.value("type", ""));
    EXPECT_EQ("get.b", reply["message"]["subject"]) << reply.dump();
    EXPECT_EQ(2, reply["message"]["seq"]);
    EXPECT_EQ("c2Vjb25k", reply["message"]["data"]);  // "second"
    EXPECT_FALSE(reply["message"].contains("hdrs"));
    EXPECT_TRUE(reply["message"]["time"].is_string());
}

TEST_F(JetStreamTest, GetMsgErrors) {
    StreamConfig config("GETERR", {"ge.*"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    ASSERT_TRUE(publish(js(), "ge.a", "1").ok());
    ASSERT_TRUE(publish(js(), "ge.a", "2").ok());
    ASSERT_EQ(NATS_OK, delete_msg(js(), "GETERR", 1).status);

    for (uint64_t seq : {1u, 3u, 100u}) {  // deleted, next, far beyond
        JsOutcome outcome;
        EXPECT_EQ(nullptr, get_msg(js(), "GETERR", seq, &outcome));
        EXPECT_EQ(NATS_NOT_FOUND, outcome.status) << seq << " " << outcome;
        EXPECT_EQ(JSNoMessageFoundErr, outcome.err_code);
    }
    JsOutcome outcome;
    EXPECT_EQ(nullptr, get_last_msg(js(), "GETERR", "ge.zz", &outcome));
    EXPECT_EQ(NATS_NOT_FOUND, outcome.status) << outcome;
    EXPECT_EQ(JSNoMessageFoundErr, outcome.err_code);
    EXPECT_EQ(nullptr, get_msg(js(), "MISSING", 1, &outcome));
    EXPECT_EQ(NATS_ERR, outcome.status) << outcome;
    EXPECT_EQ(JSStreamNotFoundErr, outcome.err_code);
    EXPECT_EQ("stream not found", outcome.text);
    EXPECT_EQ(nullptr, get_msg(js(), "GETERR", 0, &outcome));
    EXPECT_EQ(NATS_INVALID_ARG, outcome.status) << "libnats refuses seq 0 itself";

    for (std::string body : {"{}", ""}) {
        json reply = api_request(nc(), "$JS.API.STREAM.MSG.GET.GETERR", body);
        EXPECT_EQ(
            (json{{"code", 400}, {"err_code", JSBadRequestErr}, {"description", "bad request"}}),
            reply["error"])
            << body << " " << reply.dump();
    }
}

// --- STREAM.MSG.DELETE -------------------------------------------------------------------------

TEST_F(JetStreamTest, DeleteAndEraseMsgRemoveSingleMessages) {
    StreamConfig config("DEL", {"del.*"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    for (int i = 1; i <= 5; ++i) ASSERT_TRUE(publish(js(), "del.a", std::to_string(i)).ok());

    JsOutcome deleted = delete_msg(js(), "DEL", 2);
    ASSERT_EQ(NATS_OK, deleted.status) << deleted;
    JsOutcome erased = erase_msg(js(), "DEL", 3);
    ASSERT_EQ(NATS_OK, erased.status) << erased;
    EXPECT_EQ((StateSummary{3, 1, 5, 2}), summary(js(), "DEL"));
    JsOutcome outcome;
    EXPECT_EQ(nullptr, get_msg(js(), "DEL", 2, &outcome));
    EXPECT_EQ(JSNoMessageFoundErr, outcome.err_code);
    EXPECT_EQ(nullptr, get_msg(js(), "DEL", 3, &outcome));
    EXPECT_EQ(JSNoMessageFoundErr, outcome.err_code);
    MsgPtr last = get_last_msg(js(), "DEL", "del.a");
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(5u, natsMsg_GetSequence(last.get()));

    // Deleting the first message moves first_seq past the gap; deleting the last keeps last_seq.
    ASSERT_EQ(NATS_OK, delete_msg(js(), "DEL", 1).status);
    EXPECT_EQ((StateSummary{2, 4, 5, 0}), summary(js(), "DEL"));
    ASSERT_EQ(NATS_OK, delete_msg(js(), "DEL", 5).status);
    EXPECT_EQ((StateSummary{1, 4, 5, 1}), summary(js(), "DEL"));
    EXPECT_EQ(6u, publish(js(), "del.a", "6").seq);
}

// js_EraseMsg (no_erase false) takes the message's bytes out of the stream's files, soon after
// the reply; js_DeleteMsg (no_erase true) only removes the message.
TEST(JetStreamServer, EraseMsgRemovesTheBytesFromTheStoreDeleteMsgDoesNot) {
    StoreDir store;
    auto server = start_js_server(store);
    ASSERT_NE(server, nullptr);
    JsClient client = connect_js(server->url());
    ASSERT_TRUE(client);
    StreamConfig config("ERASE", {"erase.*"});
    ASSERT_EQ(NATS_OK, add_stream(client.get(), config).status);
    ASSERT_TRUE(publish(client.get(), "erase.a", "deleted-but-kept-7f3a").ok());
    ASSERT_TRUE(publish(client.get(), "erase.a", "erased-secret-9c1e").ok());
    ASSERT_TRUE(publish(client.get(), "erase.a", "live-message-2b8d").ok());
    auto eventually = [&](auto condition) {
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!condition() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
        return condition();
    };
    EXPECT_TRUE(eventually([&] { return files_hold(store.path(), "erased-secret-9c1e"); }));
    ASSERT_EQ(NATS_OK, delete_msg(client.get(), "ERASE", 1).status);
    EXPECT_TRUE(files_hold(store.path(), "deleted-but-kept-7f3a"));
    ASSERT_EQ(NATS_OK, erase_msg(client.get(), "ERASE", 2).status);
    EXPECT_TRUE(eventually([&] { return !files_hold(store.path(), "erased-secret-9c1e"); }));
    EXPECT_TRUE(files_hold(store.path(), "live-message-2b8d"));
    EXPECT_EQ((StateSummary{1, 3, 3, 0}), summary(client.get(), "ERASE"));
    EXPECT_EQ(4u, publish(client.get(), "erase.a", "after").seq);
}

TEST_F(JetStreamTest, DeleteMsgErrors) {
    StreamConfig config("DELERR", {"de.*"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    for (int i = 1; i <= 4; ++i) ASSERT_TRUE(publish(js(), "de.a", std::to_string(i)).ok());
    ASSERT_EQ(NATS_OK, delete_msg(js(), "DELERR", 3).status);
    ASSERT_EQ(NATS_OK, purge(js(), "DELERR", "", 2).status);  // removes seq 1

    // Already deleted, inside the stream's range: 10043 with the sequence.
    JsOutcome outcome = delete_msg(js(), "DELERR", 3);
    EXPECT_EQ(NATS_ERR, outcome.status) << outcome;
    EXPECT_EQ(JSSequenceNotFoundErr, outcome.err_code);
    EXPECT_EQ("sequence 3 not found", outcome.text);
    // Outside the range: 10057, with the store's own wording.
    outcome = erase_msg(js(), "DELERR", 100);
    EXPECT_EQ(JSStreamMsgDeleteFailed, outcome.err_code) << outcome;
    EXPECT_EQ("stream store EOF", outcome.text);
    outcome = delete_msg(js(), "DELERR", 1);
    EXPECT_EQ(JSStreamMsgDeleteFailed, outcome.err_code) << outcome;
    EXPECT_EQ("no message found", outcome.text);
    outcome = delete_msg(js(), "MISSING", 1);
    EXPECT_EQ(NATS_NOT_FOUND, outcome.status) << outcome;
    EXPECT_EQ(JSStreamNotFoundErr, outcome.err_code);
    json reply = api_request(nc(), "$JS.API.STREAM.MSG.DELETE.DELERR", "{}");
    EXPECT_EQ((json{{"code", 400}, {"err_code", JSBadRequestErr}, {"description", "bad request"}}),
              reply["error"])
        << reply.dump();

    StreamConfig denied("NODEL", {"nd"});
    denied.raw.DenyDelete = true;
    ASSERT_EQ(NATS_OK, add_stream(js(), denied).status);
    ASSERT_TRUE(publish(js(), "nd", "x").ok());
    for (const JsOutcome& refused : {delete_msg(js(), "NODEL", 1), erase_msg(js(), "NODEL", 1)}) {
        EXPECT_EQ(NATS_ERR, refused.status) << refused;
        EXPECT_EQ(JSStreamMsgDeleteFailed, refused.err_code);
        EXPECT_EQ("message delete not permitted", refused.text);
    }
    EXPECT_NE(nullptr, get_msg(js(), "NODEL", 1));
}

// --- DIRECT.GET --------------------------------------------------------------------------------

MsgPtr direct_get(jsCtx* js, const std::string& stream, uint64_t seq, const char* next_by_subject,
                  const char* last_by_subject, natsStatus* status) {
    jsDirectGetMsgOptions options;
    jsDirectGetMsgOptions_Init(&options);
    options.Sequence = seq;
    options.NextBySubject = next_by_subject;
    options.LastBySubject = last_by_subject;
    natsMsg* raw = nullptr;
    *status = js_DirectGetMsg(&raw, js, stream.c_str(), nullptr, &options);
    return MsgPtr(*status == NATS_OK ? raw : nullptr);
}

TEST_F(JetStreamTest, DirectGetBySequenceNextAndLastBySubject) {
    StreamConfig config("DG", {"dg.*"});
    config.raw.AllowDirect = true;
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    ASSERT_TRUE(publish_with_headers(js(), "dg.a", "one", {{"Foo", "bar"}}).ok());
    ASSERT_TRUE(publish(js(), "dg.b", "two").ok());
    ASSERT_TRUE(publish(js(), "dg.a", "three").ok());

    natsStatus status = NATS_OK;
    MsgPtr msg = direct_get(js(), "DG", 1, nullptr, nullptr, &status);
    ASSERT_NE(msg, nullptr) << natsStatus_GetText(status);
    EXPECT_STREQ("dg.a", natsMsg_GetSubject(msg.get()));
    EXPECT_EQ("one", msg_data(msg.get()));
    EXPECT_EQ(1u, natsMsg_GetSequence(msg.get()));
    EXPECT_EQ("bar", header_value(msg.get(), "Foo"));
    EXPECT_EQ("DG", header_value(msg.get(), "Nats-Stream"));

    msg = direct_get(js(), "DG", 2, "dg.a", nullptr, &status);  // next dg.a from seq 2 on
    ASSERT_NE(msg, nullptr) << natsStatus_GetText(status);
    EXPECT_EQ(3u, natsMsg_GetSequence(msg.get()));
    EXPECT_EQ("three", msg_data(msg.get()));
    msg = direct_get(js(), "DG", 0, nullptr, "dg.b", &status);
    ASSERT_NE(msg, nullptr) << natsStatus_GetText(status);
    EXPECT_EQ(2u, natsMsg_GetSequence(msg.get()));
    EXPECT_EQ("two", msg_data(msg.get()));

    EXPECT_EQ(nullptr, direct_get(js(), "DG", 10, nullptr, nullptr, &status));
    EXPECT_EQ(NATS_NOT_FOUND, status);
    EXPECT_EQ(nullptr, direct_get(js(), "DG", 0, nullptr, "dg.zz", &status));
    EXPECT_EQ(NATS_NOT_FOUND, status);
}

TEST_F(JetStreamTest, RawDirectGetRepliesWithHeadersOrAStatus) {
    StreamConfig config("RDG", {"rdg.*"});
    config.raw.AllowDirect = true;
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    ASSERT_TRUE(publish_with_headers(js(), "rdg.a", "one", {{"Foo", "bar"}}).ok());
    ASSERT_TRUE(publish(js(), "rdg.b", "two").ok());
    ASSERT_TRUE(publish(js(), "rdg.a", "three").ok());

    // $JS.API.DIRECT.GET.<stream>.<subject> with an empty body: the last message on the subject.
    natsStatus status = NATS_OK;
    MsgPtr reply = raw_request(nc(), "$JS.API.DIRECT.GET.RDG.rdg.a", "", 2s, &status);
    ASSERT_NE(reply, nullptr) << natsStatus_GetText(status);
    EXPECT_EQ("three", msg_data(reply.get()));
    EXPECT_EQ("RDG", header_value(reply.get(), "Nats-Stream"));
    EXPECT_EQ("rdg.a", header_value(reply.get(), "Nats-Subject"));
    EXPECT_EQ("3", header_value(reply.get(), "Nats-Sequence"));
    // The stored time in UTC as Go's RFC3339Nano writes it (trailing zeros of the fraction cut).
    MsgPtr stored = get_msg(js(), "RDG", 3);
    ASSERT_NE(stored, nullptr);
    EXPECT_EQ(rfc3339_nano(natsMsg_GetTime(stored.get())),
              header_value(reply.get(), "Nats-Time-Stamp"));
    // The stored message's own headers come first.
    reply = raw_request(nc(), "$JS.API.DIRECT.GET.RDG", R"({"seq":1})", 2s, &status);
    ASSERT_NE(reply, nullptr) << natsStatus_GetText(status);
    EXPECT_EQ("bar", header_value(reply.get(), "Foo"));
    EXPECT_EQ("1", header_value(reply.get(), "Nats-Sequence"));
    EXPECT_EQ("one", msg_data(reply.get()));

    struct StatusCase {
        std::string subject;
        std::string body;
        std::string status;
        std::string description;
    };
    const std::vector<StatusCase> cases = {
        {"$JS.API.DIRECT.GET.RDG.rdg.zz", "", "404", "Message Not Found"},
        {"$JS.API.DIRECT.GET.RDG", R"({"seq":10})", "404", "Message Not Found"},
        {"$JS.API.DIRECT.GET.RDG", "{}", "408", "Empty Request"},
        {"$JS.API.DIRECT.GET.RDG", "", "408", "Empty Request"},
        {"$JS.API.DIRECT.GET.RDG", "garbage", "408", "Malformed Request"},
        {"$JS.API.DIRECT.GET.RDG.rdg.a", R"({"seq":1})", "408", "Bad Request"},
    };
    for (const StatusCase& c : cases) {
        SCOPED_TRACE(c.subject + " " + c.body);
        reply = raw_request(nc(), c.subject, c.body, 2s, &status);
        ASSERT_NE(reply, nullptr) << natsStatus_GetText(status);
        EXPECT_EQ(c.status, header_value(reply.get(), "Status"));
        EXPECT_EQ(c.description, header_value(reply.get(), "Description"));
        EXPECT_EQ(0, natsMsg_GetDataLength(reply.get()));
    }
}

TEST_F(JetStreamTest, DirectGetIsNotAnsweredWithoutAllowDirect) {
    StreamConfig config("NODIRECT", {"nodirect"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    ASSERT_TRUE(publish(js(), "nodirect", "x").ok());
    // nats-server 2.9.10 quirk: nobody answers, and (unlike for an unknown subject) no
    // no-responders status comes back either: its catch-all $JS.API.> subscription counts as
    // interest.
    JsClient quick = connect_js(server_->url(), 300);
    ASSERT_TRUE(quick);
    natsStatus status = NATS_OK;
    EXPECT_EQ(nullptr, direct_get(quick.get(), "NODIRECT", 1, nullptr, nullptr, &status));
    EXPECT_EQ(NATS_TIMEOUT, status) << natsStatus_GetText(status);
    MsgPtr reply = raw_request(nc(), "$JS.API.DIRECT.GET.NODIRECT.nodirect", "", 300ms, &status);
    EXPECT_EQ(nullptr, reply);
    EXPECT_EQ(NATS_TIMEOUT, status) << natsStatus_GetText(status);
    // Turning allow_direct on by update makes it answer.
    config.raw.AllowDirect = true;
    ASSERT_EQ(NATS_OK, update_stream(js(), config).status);
    EXPECT_TRUE(wait_for(
        [&] {
            return direct_get(quick.get(), "NODIRECT", 1, nullptr, nullptr, &status) != nullptr;
        },
        3s));
}

// A cluster's requests to a single server: nats-server leaves these two unanswered (the client
// waits out its timeout); Ringtail answers with the cluster-required error.
TEST_F(JetStreamTest, ClusterOnlyRequestsAreAnsweredWithClusterRequired) {
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server does not answer these outside a cluster";
    for (const char* subject : {"$JS.API.META.LEADER.STEPDOWN", "$JS.API.SERVER.REMOVE"}) {
        json reply = api_request(nc(), subject, "{}");
        ASSERT_FALSE(reply.is_discarded()) << subject;
        EXPECT_EQ(reply["error"]["err_code"], 10010) << reply;
        EXPECT_EQ(reply["error"]["description"], "JetStream clustering support required");
    }
}

// A JetStream context on each of `spread`'s connections, in order; none if one fails.
std::vector<JsCtxPtr> contexts_on(const std::vector<ShardedConnection>& spread) {
    std::vector<JsCtxPtr> contexts;
    for (const ShardedConnection& conn : spread) {
        jsCtx* raw = nullptr;
        if (natsConnection_JetStream(&raw, conn.connection.get(), nullptr) != NATS_OK) return {};
        contexts.emplace_back(raw);
    }
    return contexts;
}

// Ringtail places a stream on the shard of the client that creates it, so that client's
// publishes and acks stay on one shard, unless that shard already owns two streams more than
// the other (meta.json records the owner). nats-server has no shards.
TEST_F(JetStreamTest, AStreamGoesToItsCreatorsShardWhileStreamsStaySpread) {
    if (!testing_ringtail()) GTEST_SKIP() << "Ringtail's shards";
    std::vector<ShardedConnection> spread = connect_spread(server_->url(), 1);
    ASSERT_TRUE(covers_all_shards(spread));
    std::vector<JsCtxPtr> contexts = contexts_on(spread);
    ASSERT_EQ(contexts.size(), spread.size());
    auto owner_of = [&](const std::string& name) {
        std::ifstream in(store_.path() + "/jetstream/$G/streams/" + name + "/meta.json");
        json meta = json::parse(in, nullptr, false);
        return meta.is_object() && meta.contains("shard") ? meta["shard"].get<int>() : -1;
    };
    // The third from shard 1 finds it owning two more than shard 0, and goes there.
    const std::vector<std::pair<std::string, int>> creates = {
        {"P1", 1}, {"P2", 1}, {"P3", 1}, {"P4", 0}, {"P5", 1}};
    const std::vector<int> owners = {1, 1, 0, 0, 1};
    for (size_t i = 0; i < creates.size(); ++i) {
        const auto& [name, shard] = creates[i];
        StreamConfig config(name, {"place." + name});
        ASSERT_EQ(NATS_OK, add_stream(contexts[shard].get(), config).status) << name;
        EXPECT_EQ(owners[i], owner_of(name)) << name;
        EXPECT_TRUE(publish(contexts[shard].get(), "place." + name, "x").ok()) << name;
    }
}

// Plain publishes (no reply) into a stream: with Ringtail, the publishers on the other shard
// move to the stream's (docs/DESIGN.md) while they publish. The stream stores each publisher's
// messages once and in the order sent.
TEST_F(JetStreamTest, PlainPublishersIntoAStreamKeepTheirOrderWhileMovingToItsShard) {
    std::vector<ShardedConnection> spread = connect_spread(server_->url(), 2);
    ASSERT_TRUE(covers_all_shards(spread));
    std::vector<JsCtxPtr> contexts = contexts_on(spread);
    ASSERT_EQ(contexts.size(), spread.size());
    StreamConfig config("MOVING", {"moving.>"});
    ASSERT_EQ(NATS_OK, add_stream(contexts[0].get(), config).status);
    constexpr int kCount = 3000;
    for (int i = 0; i < kCount; ++i) {
        for (size_t p = 0; p < spread.size(); ++p) {
            ASSERT_EQ(NATS_OK, natsConnection_PublishString(spread[p].connection.get(), ("moving." + std::to_string(p)).c_str(),
                                                            std::to_string(i).c_str()));
        }
    }
    for (ShardedConnection& conn : spread) ASSERT_EQ(NATS_OK, natsConnection_Flush(conn.connection.get()));
    const uint64_t total = spread.size() * kCount;
    ASSERT_TRUE(wait_for([&] {
        StreamInfoPtr info = stream_info(contexts[0].get(), "MOVING");
        return info && info->State.Msgs == total;
    }, 5s, 20ms));
    std::vector<int> next(spread.size(), 0);
    for (uint64_t seq = 1; seq <= total; ++seq) {
        MsgPtr msg = get_msg(contexts[0].get(), "MOVING", seq);
        ASSERT_NE(msg, nullptr) << seq;
        std::string subject = natsMsg_GetSubject(msg.get());
        size_t p = std::stoul(subject.substr(subject.rfind('.') + 1));
        ASSERT_LT(p, spread.size());
        ASSERT_EQ(std::to_string(next[p]), msg_data(msg.get())) << "publisher " << p << " at sequence " << seq;
        ++next[p];
    }
}

// A stream deleted through a client on one shard and created again at once through a client on
// the other is a new, empty stream each time: the delete's files never meet the create's.
TEST_F(JetStreamTest, AStreamDeletedAndCreatedAgainFromAnotherShardStartsEmpty) {
    std::vector<ShardedConnection> spread = connect_spread(server_->url(), 1);
    ASSERT_TRUE(covers_all_shards(spread));
    std::vector<JsCtxPtr> contexts = contexts_on(spread);
    ASSERT_EQ(contexts.size(), spread.size());
    for (int round = 0; round < 20; ++round) {
        SCOPED_TRACE(round);
        jsCtx* creator = contexts[round % contexts.size()].get();
        jsCtx* deleter = contexts[(round + 1) % contexts.size()].get();
        StreamConfig config("AGAIN", {"again"});
        ASSERT_EQ(NATS_OK, add_stream(creator, config).status);
        for (int i = 0; i <= round % 3; ++i) ASSERT_TRUE(publish(creator, "again", "m").ok());
        StreamInfoPtr info = stream_info(deleter, "AGAIN");
        ASSERT_NE(info, nullptr);
        EXPECT_EQ(static_cast<uint64_t>(round % 3 + 1), info->State.Msgs);
        EXPECT_EQ(static_cast<uint64_t>(round % 3 + 1), info->State.LastSeq);
        ASSERT_EQ(NATS_OK, delete_stream(deleter, "AGAIN").status);
    }
}

// A delete and a create of one name sent back to back, without waiting for the delete's
// answer, from a client on either shard: the new stream starts empty and takes publishes, and
// is still there after a restart (the old one's delete never removes the new one's files).
TEST_F(JetStreamTest, AStreamDeletedAndCreatedAgainWithoutWaitingKeepsTheNewOne) {
    std::vector<ShardedConnection> spread = connect_spread(server_->url(), 1);
    ASSERT_TRUE(covers_all_shards(spread));
    StreamConfig config("BACK", {"back"});
    ASSERT_EQ(NATS_OK, add_stream(js(), config).status);
    const std::string create = R"({"name":"BACK","subjects":["back"]})";
    for (int round = 0; round < 10; ++round) {
        SCOPED_TRACE(round);
        natsConnection* nc = spread[round % spread.size()].connection.get();
        ASSERT_TRUE(publish(js(), "back", "old").ok());
        const std::string inbox = fresh_subject("_INBOX.back");
        SubscriptionPtr replies = subscribe_sync(nc, inbox + ".*");
        ASSERT_NE(replies, nullptr);
        const std::vector<std::pair<std::string, std::string>> requests = {
            {"$JS.API.STREAM.DELETE.BACK", ""}, {"$JS.API.STREAM.CREATE.BACK", create}};
        for (size_t i = 0; i < requests.size(); ++i) {
            const std::string reply = inbox + "." + std::to_string(i);
            ASSERT_EQ(NATS_OK, natsConnection_PublishRequest(nc, requests[i].first.c_str(), reply.c_str(),
                                                             requests[i].second.data(),
                                                             static_cast<int>(requests[i].second.size())));
        }
        std::map<std::string, json> answers;
        for (size_t i = 0; i < requests.size(); ++i) {
            MsgPtr reply = next_msg(replies.get(), 5s);
            ASSERT_NE(reply, nullptr);
            answers[natsMsg_GetSubject(reply.get())] = json::parse(msg_data(reply.get()), nullptr, false);
        }
        EXPECT_EQ(true, answers[inbox + ".0"].value("success", false)) << answers[inbox + ".0"];
        EXPECT_FALSE(answers[inbox + ".1"].contains("error")) << answers[inbox + ".1"];
        PubOutcome pub = publish(js(), "back", "new");
        ASSERT_TRUE(pub.ok()) << pub;
        EXPECT_EQ(1u, pub.seq);  // the new stream's first: "old" went with the one deleted
        StreamInfoPtr info = stream_info(js(), "BACK");
        ASSERT_NE(info, nullptr);
        EXPECT_EQ(1u, info->State.Msgs);
    }
    spread.clear();
    ASSERT_NO_FATAL_FAILURE(restart(SIGTERM));
    StreamInfoPtr info = stream_info(js(), "BACK");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(1u, info->State.Msgs);
    MsgPtr last = get_msg(js(), "BACK", info->State.LastSeq);
    ASSERT_NE(last, nullptr);
    EXPECT_EQ("new", msg_data(last.get()));
}

// A direct get is answered exactly once, whether its client sits on the stream's shard or
// not; without allow_direct, by nobody.
TEST_F(JetStreamTest, ADirectGetFromEitherShardIsAnsweredOnce) {
    std::vector<ShardedConnection> spread = connect_spread(server_->url(), 1);
    ASSERT_TRUE(covers_all_shards(spread));
    std::vector<JsCtxPtr> contexts = contexts_on(spread);
    ASSERT_EQ(contexts.size(), spread.size());
    // One stream created from each shard (so one on each, in Ringtail), and one without
    // allow_direct.
    const std::vector<std::string> names = {"DG0", "DG1", "NODG"};
    for (size_t i = 0; i < names.size(); ++i) {
        StreamConfig config(names[i], {"dg." + names[i] + ".*"});
        config.raw.AllowDirect = names[i] != "NODG";
        ASSERT_EQ(NATS_OK, add_stream(contexts[i % contexts.size()].get(), config).status) << names[i];
        ASSERT_TRUE(publish(contexts[0].get(), "dg." + names[i] + ".a", "first of " + names[i]).ok());
        ASSERT_TRUE(publish(contexts[0].get(), "dg." + names[i] + ".b", "second of " + names[i]).ok());
    }
    for (const ShardedConnection& conn : spread) {
        natsConnection* nc = conn.connection.get();
        std::string inbox = fresh_subject("_INBOX.dg");
        SubscriptionPtr replies = subscribe_sync(nc, inbox);
        ASSERT_NE(replies, nullptr);
        for (const std::string& name : names) {
            SCOPED_TRACE(name + " from shard " + std::to_string(conn.shard));
            const std::string prefix = "$JS.API.DIRECT.GET." + name;
            const std::vector<std::pair<std::string, std::string>> gets = {
                {prefix, R"({"seq":2})"}, {prefix + ".dg." + name + ".a", ""}};
            for (const auto& [subject, body] : gets) {
                ASSERT_EQ(NATS_OK, natsConnection_PublishRequest(nc, subject.c_str(), inbox.c_str(), body.data(),
                                                                 static_cast<int>(body.size())));
                if (name == "NODG") {
                    EXPECT_TRUE(no_more_msgs(replies.get(), 300ms)) << subject;
                    continue;
                }
                MsgPtr reply = next_msg(replies.get(), 2s);
                ASSERT_NE(reply, nullptr) << subject;
                EXPECT_EQ(body.empty() ? "first of " + name : "second of " + name, msg_data(reply.get()));
                EXPECT_TRUE(no_more_msgs(replies.get(), 200ms)) << "a second answer to " << subject;
            }
        }
    }
}

// A stream and its mirror (mirror_direct, which a mirror of a stream with allow_direct gets)
// share the stream's direct gets, as nats-server's queue group does: from every shard each get
// is answered once, by one or the other, while the stream turns allow_direct off and on again,
// and by the mirror alone once the stream is deleted.
TEST_F(JetStreamTest, DirectGetsAreAnsweredOnceByAStreamOrItsMirrorFromEveryShard) {
    std::vector<ShardedConnection> spread = connect_spread(server_->url(), 1);
    ASSERT_TRUE(covers_all_shards(spread));
    StreamConfig origin("DGO", {"dgo.*"});
    origin.raw.AllowDirect = true;
    ASSERT_EQ(NATS_OK, add_stream(js(), origin).status);
    ASSERT_TRUE(publish(js(), "dgo.a", "one").ok());
    jsStreamSource source;
    jsStreamSource_Init(&source);
    source.Name = "DGO";
    StreamConfig mirror("DGM");
    mirror.raw.Mirror = &source;
    StreamInfoPtr created;
    ASSERT_EQ(NATS_OK, add_stream(js(), mirror, &created).status);
    ASSERT_NE(created, nullptr);
    EXPECT_TRUE(created->Config->MirrorDirect);
    ASSERT_TRUE(wait_for(
        [&] {
            StreamInfoPtr info = stream_info(js(), "DGM");
            return info != nullptr && info->State.Msgs == 1;
        },
        5s));
    auto each_answered_once = [&](const std::string& when) {
        constexpr int kGets = 40;
        for (const ShardedConnection& conn : spread) {
            SCOPED_TRACE(when + ", from shard " + std::to_string(conn.shard));
            natsConnection* nc = conn.connection.get();
            const std::string inbox = fresh_subject("_INBOX.dgo");
            SubscriptionPtr replies = subscribe_sync(nc, inbox + ".*");
            ASSERT_NE(replies, nullptr);
            for (int i = 0; i < kGets; ++i) {
                const bool by_subject = i % 2 == 1;
                const std::string subject = by_subject ? "$JS.API.DIRECT.GET.DGO.dgo.a" : "$JS.API.DIRECT.GET.DGO";
                const std::string body = by_subject ? "" : R"({"seq":1})";
                const std::string reply = inbox + "." + std::to_string(i);
                ASSERT_EQ(NATS_OK, natsConnection_PublishRequest(nc, subject.c_str(), reply.c_str(), body.data(),
                                                                 static_cast<int>(body.size())));
            }
            std::set<std::string> answered;
            for (int i = 0; i < kGets; ++i) {
                MsgPtr reply = next_msg(replies.get(), 2s);
                ASSERT_NE(reply, nullptr) << answered.size() << " of " << kGets << " answered";
                EXPECT_EQ("one", msg_data(reply.get()));
                EXPECT_TRUE(answered.insert(natsMsg_GetSubject(reply.get())).second)
                    << "a second answer to " << natsMsg_GetSubject(reply.get());
            }
            EXPECT_TRUE(no_more_msgs(replies.get(), 200ms)) << "a second answer";
        }
    };
    each_answered_once("the stream and its mirror");
    origin.raw.AllowDirect = false;
    ASSERT_EQ(NATS_OK, update_stream(js(), origin).status);
    each_answered_once("the mirror alone");
    origin.raw.AllowDirect = true;
    ASSERT_EQ(NATS_OK, update_stream(js(), origin).status);
    each_answered_once("both again");
    ASSERT_EQ(NATS_OK, delete_stream(js(), "DGO").status);
    each_answered_once("the stream deleted");
}

// A client may send what depends on a JetStream request right behind it, in the same write:
// nats-server carries the request out before it reads on, so the publishes find the new
// stream, the pull the new consumer, and a publish after a delete no stream.
TEST_F(JetStreamTest, WhatFollowsARequestInTheSameWriteFindsItDone) {
    RawClient raw;
    ASSERT_TRUE(raw.connect(server_->port()));
    ASSERT_TRUE(raw.read_info());
    auto pub = [](const std::string& subject, const std::string& reply, const std::string& body) {
        return "PUB " + subject + " " + reply + " " + std::to_string(body.size()) + "\r\n" + body + "\r\n";
    };
    ASSERT_TRUE(raw.send(
        std::string("CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\nSUB _R.* 1\r\n") +
        pub("$JS.API.STREAM.CREATE.S", "_R.create", R"({"name":"S","subjects":["s"]})") + pub("s", "_R.p1", "x") +
        pub("s", "_R.p2", "y") +
        pub("$JS.API.CONSUMER.DURABLE.CREATE.S.D", "_R.consumer",
            R"({"stream_name":"S","config":{"durable_name":"D","ack_policy":"none"}})") +
        pub("$JS.API.CONSUMER.MSG.NEXT.S.D", "_R.next", R"({"batch":2,"no_wait":true})") + "PING\r\n"));
    ASSERT_TRUE(raw.read_until("$JS.ACK.S.D.1.2.2.")) << raw.received();
    // (nats-server delivers to a pull in the background: the delete goes in a write of its own.)
    ASSERT_TRUE(raw.send(pub("$JS.API.STREAM.DELETE.S", "_R.delete", "") + pub("s", "_R.p3", "z") + "PING\r\n"));
    ASSERT_TRUE(raw.read_until("_R.p3")) << raw.received();
    raw.read_for(std::chrono::milliseconds(200));
    const std::string& got = raw.received();
    // (nats-server writes its PubAck's MSG line with two spaces where the reply would be.)
    EXPECT_TRUE(std::regex_search(got, std::regex(R"(MSG _R\.p1 1  ?23\r\n\{"stream":"S", "seq":1\})"))) << got;
    EXPECT_TRUE(std::regex_search(got, std::regex(R"(MSG _R\.p2 1  ?23\r\n\{"stream":"S", "seq":2\})"))) << got;
    // The pull gets both messages, on the stream's subject.
    size_t first = got.find("MSG s 1 $JS.ACK.S.D.1.1.1.");
    EXPECT_NE(first, std::string::npos) << got;
    EXPECT_NE(got.find("MSG s 1 $JS.ACK.S.D.1.2.2.", first), std::string::npos) << got;
    // After the delete, no responders.
    EXPECT_NE(got.find("HMSG _R.p3 1 16 16\r\nNATS/1.0 503\r\n\r\n"), std::string::npos) << got;
}

}  // namespace
}  // namespace ringtail::test
