// JetStream per account: with accounts configured, only those whose config enables JetStream
// have it, each with its own streams (the same name in two accounts is two streams), its own
// store directory and its own limits; an account without it is told so by every API request.
// Every expectation is nats-server 2.9's behaviour (RT_TEST_SERVER=nats-server runs them there).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kConfig = R"(
authorization { users: [ { user: global, password: g } ] }
accounts {
  A: { jetstream: enabled, users: [ { user: a, password: a } ] }
  B: { jetstream: { max_streams: 1, max_consumers: 1 }, users: [ { user: b, password: b } ] }
  C: { users: [ { user: c, password: c } ] }
  M: { jetstream: { max_mem: 0, max_file: 4000 }, users: [ { user: m, password: m } ] }
  R: { jetstream: { max_bytes_required: true, store_max_stream_bytes: 1000 }, users: [ { user: r, password: r } ] }
}
)";

class JetStreamAccounts : public JetStreamWithConfig {
 protected:
    JetStreamAccounts() : JetStreamWithConfig(kConfig) {}
    JsClient user(const char* name, const char* password) { return connect_js_as(server_->url(), name, password); }
    // The err_code of an API answer (0 when it is no error).
    static int err_code(const json& answer) {
        return answer.contains("error") ? answer["error"].value("err_code", -1) : 0;
    }
};

TEST_F(JetStreamAccounts, EachAccountHasItsOwnStreamsAndKeepsThemOverARestart) {
    JsClient a = user("a", "a");
    JsClient b = user("b", "b");
    ASSERT_TRUE(a && b);
    // The same name and subjects in two accounts: two streams, no overlap.
    StreamConfig orders("ORDERS", {"orders.>"});
    ASSERT_EQ(add_stream(a.get(), orders).status, NATS_OK);
    StreamConfig orders_b("ORDERS", {"orders.>"});
    ASSERT_EQ(add_stream(b.get(), orders_b).status, NATS_OK);
    for (int i = 0; i < 3; ++i) {
        PubOutcome in_a = publish(a.get(), "orders.a", "from a");
        ASSERT_TRUE(in_a.ok()) << in_a;
    }
    PubOutcome in_b = publish(b.get(), "orders.b", "from b");
    ASSERT_TRUE(in_b.ok()) << in_b;
    EXPECT_EQ(in_b.seq, 1u);
    StreamConfig only_a("ONLY_A", {"only.>"});
    ASSERT_EQ(add_stream(a.get(), only_a).status, NATS_OK);

    EXPECT_EQ(stream_names(a.get()), (std::vector<std::string>{"ONLY_A", "ORDERS"}));
    EXPECT_EQ(stream_names(b.get()), (std::vector<std::string>{"ORDERS"}));
    StreamInfoPtr info_a = stream_info(a.get(), "ORDERS");
    StreamInfoPtr info_b = stream_info(b.get(), "ORDERS");
    ASSERT_TRUE(info_a && info_b);
    EXPECT_EQ(info_a->State.Msgs, 3u);
    EXPECT_EQ(info_b->State.Msgs, 1u);
    EXPECT_EQ(stream_info(b.get(), "ONLY_A"), nullptr);

    // A consumer reads its own account's messages only.
    natsSubscription* raw_sub = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    ASSERT_EQ(js_SubscribeSync(&raw_sub, b.get(), "orders.>", nullptr, nullptr, &jerr), NATS_OK);
    SubscriptionPtr sub(raw_sub);
    MsgPtr first = next_msg(sub.get(), 2s);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(std::string(natsMsg_GetData(first.get()), natsMsg_GetDataLength(first.get())), "from b");
    EXPECT_EQ(next_msg(sub.get(), 300ms), nullptr);
    sub.reset();

    // The streams are where nats-server keeps them, one directory per account.
    if (testing_ringtail()) {
        EXPECT_TRUE(std::filesystem::exists(store_.path() + "/jetstream/A/streams/ORDERS"));
        EXPECT_TRUE(std::filesystem::exists(store_.path() + "/jetstream/B/streams/ORDERS"));
    }

    a = {};
    b = {};
    server_->stop(SIGTERM);
    start();
    a = user("a", "a");
    b = user("b", "b");
    ASSERT_TRUE(a && b);
    info_a = stream_info(a.get(), "ORDERS");
    info_b = stream_info(b.get(), "ORDERS");
    ASSERT_TRUE(info_a && info_b);
    EXPECT_EQ(info_a->State.Msgs, 3u);
    EXPECT_EQ(info_b->State.Msgs, 1u);
    EXPECT_EQ(stream_names(b.get()), (std::vector<std::string>{"ORDERS"}));
    EXPECT_TRUE(publish(b.get(), "orders.b", "again").ok());
    info_b = stream_info(b.get(), "ORDERS");
    ASSERT_NE(info_b, nullptr);
    EXPECT_EQ(info_b->State.Msgs, 2u);
}

// Direct gets of a stream named alike in two accounts, from clients on every shard: each
// account's clients read their own stream, answered once.
TEST_F(JetStreamAccounts, ADirectGetReadsItsOwnAccountsStreamFromEveryShard) {
    for (const char* name : {"a", "b"}) {
        SCOPED_TRACE(name);
        std::vector<JsClient> clients;  // one per shard (one in all against nats-server)
        std::vector<int> shards;
        for (int attempt = 0; attempt < 32 && clients.size() < static_cast<size_t>(kRingtailShards); ++attempt) {
            JsClient client = user(name, name);
            ASSERT_TRUE(client);
            int shard = testing_ringtail() ? shard_of(client.nc()) : static_cast<int>(clients.size());
            if (std::find(shards.begin(), shards.end(), shard) != shards.end()) continue;
            shards.push_back(shard);
            clients.push_back(std::move(client));
        }
        ASSERT_EQ(clients.size(), static_cast<size_t>(kRingtailShards));
        StreamConfig config("SAME", {"same"});
        config.raw.AllowDirect = true;
        ASSERT_EQ(add_stream(clients[0].get(), config).status, NATS_OK);
        ASSERT_TRUE(publish(clients[0].get(), "same", std::string("from ") + name).ok());
        for (JsClient& client : clients) {
            std::string inbox = fresh_subject("_INBOX.same");
            SubscriptionPtr replies = subscribe_sync(client.nc(), inbox);
            ASSERT_NE(replies, nullptr);
            const std::string body = R"({"seq":1})";
            ASSERT_EQ(NATS_OK, natsConnection_PublishRequest(client.nc(), "$JS.API.DIRECT.GET.SAME", inbox.c_str(),
                                                             body.data(), static_cast<int>(body.size())));
            MsgPtr reply = next_msg(replies.get(), 2s);
            ASSERT_NE(reply, nullptr);
            EXPECT_EQ(std::string("from ") + name, msg_data(reply.get()));
            EXPECT_TRUE(no_more_msgs(replies.get(), 200ms));
        }
        while (!clients.empty()) {  // each context before its connection
            clients.back().js.reset();
            clients.pop_back();
        }
    }
}

// Ringtail places a new stream on its creator's shard unless that shard holds two streams
// more than another, counting every account's: account A's two streams from shard 1 send
// account B's first, also created from shard 1, to shard 0 (meta.json records the owner).
TEST_F(JetStreamAccounts, StreamPlacementCountsEveryAccountsStreams) {
    if (!testing_ringtail()) GTEST_SKIP() << "Ringtail's shards";
    auto on_shard_1 = [&](const char* name) {
        for (int attempt = 0; attempt < 64; ++attempt) {
            JsClient client = user(name, name);
            if (client && shard_of(client.nc()) == 1) return client;
        }
        return JsClient{};
    };
    auto owner_of = [&](const std::string& account, const std::string& stream) {
        std::ifstream in(store_.path() + "/jetstream/" + account + "/streams/" + stream + "/meta.json");
        json meta = json::parse(in, nullptr, false);
        return meta.is_object() && meta.contains("shard") ? meta["shard"].get<int>() : -1;
    };
    JsClient a = on_shard_1("a");
    JsClient b = on_shard_1("b");
    ASSERT_TRUE(a && b);
    for (const char* name : {"A1", "A2"}) {
        StreamConfig config(name, {std::string("place.") + name});
        ASSERT_EQ(NATS_OK, add_stream(a.get(), config).status) << name;
        EXPECT_EQ(1, owner_of("A", name)) << name;
    }
    StreamConfig config("B1", {"place.B1"});
    ASSERT_EQ(NATS_OK, add_stream(b.get(), config).status);
    EXPECT_EQ(0, owner_of("B", "B1"));
    EXPECT_TRUE(publish(b.get(), "place.B1", "x").ok());
    for (JsClient* client : {&a, &b}) client->js.reset();  // each context before its connection
}

TEST_F(JetStreamAccounts, AnAccountWithoutJetStreamIsToldSoByEveryRequest) {
    for (auto [name, password] : {std::pair{"c", "c"}, std::pair{"global", "g"}}) {
        JsClient c = user(name, password);
        ASSERT_TRUE(c);
        struct Case {
            std::string subject;
            std::string body;
            std::string type;
        };
        const std::vector<Case> cases = {
            {"$JS.API.INFO", "", "io.nats.jetstream.api.v1.account_info_response"},
            {"$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"]})",
             "io.nats.jetstream.api.v1.stream_create_response"},
            {"$JS.API.STREAM.INFO.S", "", "io.nats.jetstream.api.v1.stream_info_response"},
            {"$JS.API.STREAM.NAMES", "", "io.nats.jetstream.api.v1.stream_names_response"},
            {"$JS.API.STREAM.LIST", "", "io.nats.jetstream.api.v1.stream_list_response"},
            {"$JS.API.STREAM.DELETE.S", "", "io.nats.jetstream.api.v1.stream_delete_response"},
            {"$JS.API.CONSUMER.INFO.S.D", "", "io.nats.jetstream.api.v1.consumer_info_response"},
            {"$JS.API.CONSUMER.DURABLE.CREATE.S.D", R"({"stream_name":"S","config":{"durable_name":"D"}})",
             "io.nats.jetstream.api.v1.consumer_create_response"},
        };
        for (const Case& one : cases) {
            json answer = api_request(c.nc(), one.subject, one.body);
            ASSERT_FALSE(answer.is_discarded()) << name << " " << one.subject;
            EXPECT_EQ(answer.value("type", ""), one.type) << name << " " << one.subject;
            EXPECT_EQ(err_code(answer), 10039) << name << " " << answer.dump();
            EXPECT_EQ(answer["error"].value("code", 0), 503) << answer.dump();
        }
        // libnats sees the same.
        jsAccountInfo* info = nullptr;
        jsErrCode jerr = static_cast<jsErrCode>(0);
        EXPECT_NE(js_GetAccountInfo(&info, c.get(), nullptr, &jerr), NATS_OK);
        EXPECT_EQ(static_cast<int>(jerr), 10039);
        if (info != nullptr) jsAccountInfo_Destroy(info);
    }
    // Nothing was made anywhere: A has no stream S either.
    JsClient a = user("a", "a");
    ASSERT_TRUE(a);
    EXPECT_TRUE(stream_names(a.get()).empty());
}

TEST_F(JetStreamAccounts, StreamAndConsumerCountsStopAtTheAccountsLimits) {
    JsClient b = user("b", "b");
    ASSERT_TRUE(b);
    json info = api_request(b.nc(), "$JS.API.INFO");
    ASSERT_TRUE(info.contains("limits")) << info.dump();
    EXPECT_EQ(info["limits"]["max_streams"], 1);
    EXPECT_EQ(info["limits"]["max_consumers"], 1);
    EXPECT_EQ(info["limits"]["max_memory"], -1);

    // A stream may not allow more consumers than the account.
    EXPECT_EQ(err_code(api_request(b.nc(), "$JS.API.STREAM.CREATE.ONE",
                                   R"({"name":"ONE","subjects":["one"],"max_consumers":5})")),
              10026);
    EXPECT_EQ(err_code(api_request(b.nc(), "$JS.API.STREAM.CREATE.ONE", R"({"name":"ONE","subjects":["one"]})")), 0);
    EXPECT_EQ(err_code(api_request(b.nc(), "$JS.API.STREAM.CREATE.TWO", R"({"name":"TWO","subjects":["two"]})")),
              10027);
    // As nats-server counts: the same create again is over the limit too.
    EXPECT_EQ(err_code(api_request(b.nc(), "$JS.API.STREAM.CREATE.ONE", R"({"name":"ONE","subjects":["one"]})")),
              10027);
    EXPECT_EQ(err_code(api_request(b.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.ONE.D1",
                                   R"({"stream_name":"ONE","config":{"durable_name":"D1","ack_policy":"explicit"}})")),
              0);
    EXPECT_EQ(err_code(api_request(b.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.ONE.D2",
                                   R"({"stream_name":"ONE","config":{"durable_name":"D2","ack_policy":"explicit"}})")),
              10026);
    EXPECT_EQ(err_code(api_request(b.nc(), "$JS.API.STREAM.DELETE.ONE")), 0);
    EXPECT_EQ(err_code(api_request(b.nc(), "$JS.API.STREAM.CREATE.TWO", R"({"name":"TWO","subjects":["two"]})")), 0);
}

TEST_F(JetStreamAccounts, StorageStopsAtTheAccountsLimits) {
    JsClient m = user("m", "m");
    ASSERT_TRUE(m);
    // No memory at all for M.
    json memory = api_request(m.nc(), "$JS.API.STREAM.CREATE.MEM",
                              R"({"name":"MEM","subjects":["mem"],"storage":"memory"})");
    EXPECT_EQ(err_code(memory), 10028) << memory.dump();
    // A stream reserving more than the account may store.
    json big = api_request(m.nc(), "$JS.API.STREAM.CREATE.BIG",
                           R"({"name":"BIG","subjects":["big"],"max_bytes":5000})");
    EXPECT_EQ(err_code(big), 10047) << big.dump();
    json reserved = api_request(m.nc(), "$JS.API.STREAM.CREATE.RES",
                                R"({"name":"RES","subjects":["res"],"max_bytes":3000})");
    EXPECT_EQ(err_code(reserved), 0) << reserved.dump();
    // What RES reserves leaves too little for another 3000.
    json second = api_request(m.nc(), "$JS.API.STREAM.CREATE.RES2",
                              R"({"name":"RES2","subjects":["res2"],"max_bytes":3000})");
    EXPECT_EQ(err_code(second), 10047) << second.dump();
    // A stream without max_bytes fills the account until it is over, then publishes are refused.
    ASSERT_EQ(err_code(api_request(m.nc(), "$JS.API.STREAM.CREATE.FILE", R"({"name":"FILE","subjects":["file"]})")),
              0);
    std::string payload(500, 'x');
    int stored = 0;
    PubOutcome refused;
    for (int i = 0; i < 20; ++i) {
        PubOutcome pub = publish(m.get(), "file", payload);
        if (!pub.ok()) {
            refused = pub;
            break;
        }
        ++stored;
    }
    // Each 500-byte message takes 534 bytes of the 4000: the eighth would put M over.
    EXPECT_EQ(stored, 7);
    EXPECT_EQ(refused.outcome.err_code, 10002) << refused;
    StreamInfoPtr info = stream_info(m.get(), "FILE");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->State.Msgs, static_cast<uint64_t>(stored));
    // The refused message's sequence stays used (nats-server stores it, then takes it back).
    ASSERT_EQ(err_code(api_request(m.nc(), "$JS.API.STREAM.MSG.DELETE.FILE", R"({"seq":1})")), 0);
    PubOutcome next = publish(m.get(), "file", "small");
    ASSERT_TRUE(next.ok()) << next;
    EXPECT_EQ(next.seq, static_cast<uint64_t>(stored) + 2);
}

TEST_F(JetStreamAccounts, StreamsMustStateTheirSizeWhereTheAccountRequiresIt) {
    JsClient r = user("r", "r");
    ASSERT_TRUE(r);
    json none = api_request(r.nc(), "$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"]})");
    EXPECT_EQ(err_code(none), 10113) << none.dump();
    json too_big = api_request(r.nc(), "$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"],"max_bytes":5000})");
    EXPECT_EQ(err_code(too_big), 10122) << too_big.dump();
    json fits = api_request(r.nc(), "$JS.API.STREAM.CREATE.S", R"({"name":"S","subjects":["s"],"max_bytes":800})");
    EXPECT_EQ(err_code(fits), 0) << fits.dump();
    json grown = api_request(r.nc(), "$JS.API.STREAM.UPDATE.S", R"({"name":"S","subjects":["s"],"max_bytes":2000})");
    EXPECT_EQ(err_code(grown), 10122) << grown.dump();
    json info = api_request(r.nc(), "$JS.API.INFO");
    EXPECT_EQ(info["limits"]["max_bytes_required"], true);
    EXPECT_EQ(info["limits"]["storage_max_stream_bytes"], 1000);
}

}  // namespace
}  // namespace ringtail::test
