// The system account: its clients ask the server for its figures over NATS ($SYS.REQ.SERVER.PING
// and its kinds, $SYS.REQ.SERVER.<id>.<kind>, $SYS.REQ.ACCOUNT.<account>.<kind>) and get
// nats-server's envelopes; other accounts cannot reach them. Every expectation is nats-server
// 2.9's behaviour (RT_TEST_SERVER=nats-server runs them there).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kConfig = R"(
server_name: alpha
accounts {
  SYS: { users: [ { user: admin, password: s } ] }
  A: { users: [ { user: a, password: a } ] }
}
system_account: SYS
)";

ConnectionPtr connect_user(const std::string& url, const char* user, const char* password) {
    OptionsPtr options = make_options(url);
    if (!options || natsOptions_SetUserInfo(options.get(), user, password) != NATS_OK) return nullptr;
    return connect_with(options.get());
}

class SystemAccount : public ::testing::Test {
 protected:
    void SetUp() override {
        config_ = std::make_unique<TempFile>(".conf", kConfig);
        server_ = ServerProcess::start_under_test({"-c", config_->path()});
        ASSERT_NE(server_, nullptr);
        admin_ = connect_user(server_->url(), "admin", "s");
        ASSERT_NE(admin_, nullptr);
    }
    json ask(const std::string& subject, const std::string& body = {}) {
        return api_request(admin_.get(), subject, body, 2s);
    }

    std::unique_ptr<TempFile> config_;
    std::unique_ptr<ServerProcess> server_;
    ConnectionPtr admin_;
};

void expect_server_info(const json& answer) {
    ASSERT_TRUE(answer.contains("server")) << answer.dump();
    const json& server = answer["server"];
    EXPECT_EQ(server["name"], "alpha");
    EXPECT_EQ(server["ver"], "2.9.10");
    EXPECT_EQ(server["jetstream"], false);
    for (const char* key : {"host", "id", "seq", "time"}) EXPECT_TRUE(server.contains(key)) << key;
}

TEST_F(SystemAccount, PingAnswersWithTheServersStatistics) {
    ConnectionPtr a = connect_user(server_->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    for (const char* subject : {"$SYS.REQ.SERVER.PING", "$SYS.REQ.SERVER.PING.STATSZ"}) {
        json statsz = ask(subject);
        expect_server_info(statsz);
        ASSERT_TRUE(statsz.contains("statsz")) << statsz.dump();
        EXPECT_EQ(statsz["statsz"]["connections"], 2);
        EXPECT_EQ(statsz["statsz"]["total_connections"], 2);
        EXPECT_EQ(statsz["statsz"]["active_accounts"], 2);
        for (const char* key : {"start", "mem", "cores", "cpu", "subscriptions", "sent", "received", "slow_consumers"}) {
            EXPECT_TRUE(statsz["statsz"].contains(key)) << key;
        }
    }
}

TEST_F(SystemAccount, EachEndpointByPingOrByTheServersId) {
    json varz = ask("$SYS.REQ.SERVER.PING.VARZ");
    expect_server_info(varz);
    EXPECT_EQ(varz["data"]["server_name"], "alpha");
    std::string id = varz["server"]["id"];
    EXPECT_EQ(varz["data"]["server_id"], id);
    json by_id = ask("$SYS.REQ.SERVER." + id + ".VARZ");
    EXPECT_EQ(by_id["data"]["server_id"], id);

    ConnectionPtr a = connect_user(server_->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    SubscriptionPtr sub = subscribe_sync(a.get(), "orders.>");
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    json connz = ask("$SYS.REQ.SERVER.PING.CONNZ", R"({"subscriptions":true,"acc":"A"})");
    ASSERT_EQ(connz["data"]["connections"].size(), 1u) << connz.dump();
    EXPECT_EQ(connz["data"]["connections"][0]["subscriptions_list"], json::array({"orders.>"}));
    json account_connz = ask("$SYS.REQ.ACCOUNT.A.CONNZ");
    EXPECT_EQ(account_connz["data"]["num_connections"], 1) << account_connz.dump();

    json statz = ask("$SYS.REQ.ACCOUNT.A.STATZ");
    ASSERT_EQ(statz["data"]["account_statz"].size(), 1u) << statz.dump();
    EXPECT_EQ(statz["data"]["account_statz"][0]["acc"], "A");
    EXPECT_EQ(statz["data"]["account_statz"][0]["conns"], 1);
    json every = ask("$SYS.REQ.ACCOUNT.PING.STATZ");
    bool listed = false;
    for (const json& one : every["data"]["account_statz"]) listed |= one["acc"] == "A";
    EXPECT_TRUE(listed) << every.dump();
    EXPECT_TRUE(ask("$SYS.REQ.ACCOUNT.NOPE.STATZ").is_discarded());  // nothing to report: no answer

    // SUBSZ answers with the whole object (the HTTP endpoint leaves all but the statistics out
    // when it lists nothing).
    json subsz = ask("$SYS.REQ.SERVER.PING.SUBSZ");
    EXPECT_EQ(subsz["data"]["server_id"], id) << subsz.dump();
    for (const char* key : {"now", "num_subscriptions", "total", "offset", "limit"}) {
        EXPECT_TRUE(subsz["data"].contains(key)) << key << " " << subsz.dump();
    }
    EXPECT_FALSE(subsz["data"].contains("subscriptions_list")) << subsz.dump();
    json listed_subs = ask("$SYS.REQ.SERVER.PING.SUBSZ", R"({"subscriptions":true,"account":"A"})");
    bool orders = false;  // (nats-server lists the account's imports' own subscriptions too)
    for (const json& one : listed_subs["data"]["subscriptions_list"]) orders |= one["subject"] == "orders.>";
    EXPECT_TRUE(orders) << listed_subs.dump();

    json healthz = ask("$SYS.REQ.SERVER.PING.HEALTHZ");
    EXPECT_EQ(healthz["data"]["status"], "ok");
    json accountz = ask("$SYS.REQ.SERVER.PING.ACCOUNTZ");
    EXPECT_EQ(accountz["data"]["system_account"], "SYS");
    json jsz = ask("$SYS.REQ.SERVER.PING.JSZ");
    EXPECT_EQ(jsz["data"]["disabled"], true);
    // A request for the JetStream leader alone: without JetStream, no answer.
    EXPECT_TRUE(ask("$SYS.REQ.SERVER.PING.JSZ", R"({"leader_only":true})").is_discarded());
}

TEST_F(SystemAccount, ConnzTakesTheStateDetailAndSubjectOptions) {
    ConnectionPtr a = connect_user(server_->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    SubscriptionPtr orders = subscribe_sync(a.get(), "orders.>");
    ConnectionPtr b = connect_user(server_->url(), "a", "a");
    ASSERT_NE(b, nullptr);
    SubscriptionPtr other = subscribe_sync(b.get(), "other");
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(b.get()), NATS_OK);
    {
        ConnectionPtr gone = connect_user(server_->url(), "a", "a");
        ASSERT_NE(gone, nullptr);
    }
    std::this_thread::sleep_for(200ms);

    // Only A's open connections with a subscription that collides with the subject.
    json filtered = ask("$SYS.REQ.SERVER.PING.CONNZ", R"({"acc":"A","filter_subject":"orders.new"})");
    ASSERT_EQ(filtered["data"]["connections"].size(), 1u) << filtered.dump();
    EXPECT_EQ(filtered["data"]["total"], 2) << filtered.dump();  // the open ones: not narrowed by the subject
    EXPECT_EQ(ask("$SYS.REQ.ACCOUNT.A.CONNZ", R"({"filter_subject":"none"})")["data"]["connections"], json::array());
    json unscoped = ask("$SYS.REQ.SERVER.PING.CONNZ", R"({"filter_subject":"orders.new"})");
    EXPECT_EQ(unscoped["error"]["code"], 500) << unscoped.dump();
    EXPECT_EQ(unscoped["error"]["description"], "filter by subject only valid with account filtering");
    EXPECT_TRUE(unscoped.contains("data") && unscoped["data"].is_null()) << unscoped.dump();

    // state: 1 closed, 2 all; subscriptions_detail.
    json closed = ask("$SYS.REQ.SERVER.PING.CONNZ", R"({"acc":"A","state":1})");
    ASSERT_EQ(closed["data"]["connections"].size(), 1u) << closed.dump();
    EXPECT_TRUE(closed["data"]["connections"][0].contains("stop")) << closed.dump();
    EXPECT_EQ(ask("$SYS.REQ.ACCOUNT.A.CONNZ", R"({"state":2})")["data"]["connections"].size(), 3u);
    json stop_sort = ask("$SYS.REQ.SERVER.PING.CONNZ", R"({"state":1,"sort":"stop"})");
    EXPECT_FALSE(stop_sort.contains("error")) << stop_sort.dump();
    json wrong_state = ask("$SYS.REQ.SERVER.PING.CONNZ", R"({"state":"closed"})");
    EXPECT_EQ(wrong_state["error"]["code"], 400) << wrong_state.dump();
    json detail = ask("$SYS.REQ.ACCOUNT.A.CONNZ", R"({"subscriptions_detail":true,"sort":"subs","limit":1})");
    ASSERT_EQ(detail["data"]["connections"].size(), 1u) << detail.dump();
    json subs = detail["data"]["connections"][0]["subscriptions_list_detail"];
    ASSERT_EQ(subs.size(), 1u) << detail.dump();
    EXPECT_TRUE(subs[0].contains("sid")) << detail.dump();
    // No MQTT connections: a client id matches none.
    EXPECT_EQ(ask("$SYS.REQ.ACCOUNT.A.CONNZ", R"({"mqtt_client":"x"})")["data"]["connections"], json::array());
}

TEST_F(SystemAccount, AccountStatisticsCountClosedConnections) {
    {
        ConnectionPtr a = connect_user(server_->url(), "a", "a");
        ASSERT_NE(a, nullptr);
        for (int i = 0; i < 3; ++i) ASSERT_EQ(natsConnection_PublishString(a.get(), "nobody", "12345"), NATS_OK);
        ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    }
    ConnectionPtr still = connect_user(server_->url(), "a", "a");
    ASSERT_NE(still, nullptr);
    ASSERT_EQ(natsConnection_PublishString(still.get(), "nobody", "x"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(still.get()), NATS_OK);
    std::this_thread::sleep_for(200ms);
    json statz = ask("$SYS.REQ.ACCOUNT.A.STATZ");
    ASSERT_EQ(statz["data"]["account_statz"].size(), 1u) << statz.dump();
    json a = statz["data"]["account_statz"][0];
    EXPECT_EQ(a["conns"], 1);
    EXPECT_EQ(a["received"]["msgs"], 4) << a.dump();  // the closed connection's three as well
    EXPECT_EQ(a["received"]["bytes"], 16) << a.dump();
}

TEST_F(SystemAccount, FiltersBadRequestsAndOtherAccounts) {
    // A filter that names another server: this one stays silent.
    EXPECT_TRUE(ask("$SYS.REQ.SERVER.PING.VARZ", R"({"server_name":"beta"})").is_discarded());
    EXPECT_FALSE(ask("$SYS.REQ.SERVER.PING.VARZ", R"({"server_name":"alp"})").is_discarded());
    json bad = ask("$SYS.REQ.SERVER.PING.CONNZ", "{bad");
    expect_server_info(bad);
    EXPECT_EQ(bad["error"]["code"], 400) << bad.dump();
    EXPECT_FALSE(bad.contains("data"));
    json wrong_type = ask("$SYS.REQ.SERVER.PING.VARZ", R"({"server_name":7})");
    EXPECT_EQ(wrong_type["error"]["code"], 400) << wrong_type.dump();
    json wrong_option = ask("$SYS.REQ.ACCOUNT.PING.STATZ", R"({"include_unused":"yes"})");
    EXPECT_EQ(wrong_option["error"]["code"], 400) << wrong_option.dump();
    EXPECT_FALSE(ask("$SYS.REQ.SERVER.PING.HEALTHZ").is_discarded());  // and the server still answers
    // A kind there is none of finds no responders, at once.
    for (const char* subject : {"$SYS.REQ.SERVER.PING.FOO", "$SYS.REQ.SERVER.PING.STATZ", "$SYS.REQ.ACCOUNT.A.FOO"}) {
        natsStatus none = NATS_OK;
        EXPECT_EQ(raw_request(admin_.get(), subject, "", 2s, &none), nullptr) << subject;
        EXPECT_EQ(none, NATS_NO_RESPONDERS) << subject;
    }
    // Another account's clients have no such subjects.
    ConnectionPtr a = connect_user(server_->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    natsStatus status = NATS_OK;
    MsgPtr reply = raw_request(a.get(), "$SYS.REQ.SERVER.PING", "", 500ms, &status);
    EXPECT_EQ(reply, nullptr);
    EXPECT_EQ(status, NATS_NO_RESPONDERS);
}

TEST_F(SystemAccount, ConnectsAndDisconnectsAreAnnounced) {
    SubscriptionPtr connects = subscribe_sync(admin_.get(), "$SYS.ACCOUNT.*.CONNECT");
    SubscriptionPtr disconnects = subscribe_sync(admin_.get(), "$SYS.ACCOUNT.A.DISCONNECT");
    ASSERT_EQ(natsConnection_Flush(admin_.get()), NATS_OK);
    OptionsPtr options = make_options(server_->url());
    ASSERT_EQ(natsOptions_SetUserInfo(options.get(), "a", "a"), NATS_OK);
    ASSERT_EQ(natsOptions_SetName(options.get(), "orders-app"), NATS_OK);
    ConnectionPtr a = connect_with(options.get());
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "orders.new", "hello"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    // nats-server announces the admin's own connect too, at its own pace: it may come after
    // the subscription, before or after A's.
    auto next_connect = [&](std::chrono::milliseconds wait) {
        MsgPtr msg = next_msg(connects.get(), wait);
        while (msg != nullptr && std::string(natsMsg_GetSubject(msg.get())) == "$SYS.ACCOUNT.SYS.CONNECT") {
            msg = next_msg(connects.get(), wait);
        }
        return msg;
    };
    MsgPtr connect = next_connect(2s);
    ASSERT_NE(connect, nullptr);
    EXPECT_STREQ(natsMsg_GetSubject(connect.get()), "$SYS.ACCOUNT.A.CONNECT");
    json event = json::parse(std::string(natsMsg_GetData(connect.get()), natsMsg_GetDataLength(connect.get())));
    EXPECT_EQ(event["type"], "io.nats.server.advisory.v1.client_connect");
    EXPECT_EQ(event["id"].get<std::string>().size(), 22u);
    expect_server_info(event);
    EXPECT_EQ(event["client"]["acc"], "A");
    EXPECT_EQ(event["client"]["user"], "a");
    EXPECT_EQ(event["client"]["name"], "orders-app");
    EXPECT_EQ(event["client"]["lang"], "C");
    EXPECT_EQ(event["client"]["kind"], "Client");
    EXPECT_EQ(event["client"]["client_type"], "nats");
    uint64_t cid = event["client"]["id"];

    a.reset();
    MsgPtr disconnect = next_msg(disconnects.get(), 2s);
    ASSERT_NE(disconnect, nullptr);
    json gone = json::parse(std::string(natsMsg_GetData(disconnect.get()), natsMsg_GetDataLength(disconnect.get())));
    EXPECT_EQ(gone["type"], "io.nats.server.advisory.v1.client_disconnect");
    EXPECT_EQ(gone["client"]["id"], cid);
    EXPECT_TRUE(gone["client"].contains("stop"));
    EXPECT_EQ(gone["sent"]["msgs"], 1);
    EXPECT_EQ(gone["sent"]["bytes"], 5);
    EXPECT_EQ(gone["reason"], "Client Closed");
    // The global account's clients are not announced (none here).
    EXPECT_EQ(next_connect(200ms), nullptr);
}

// As nats-server sends them: the account's connection update, then the event of the
// connection that changed it; and a client that subscribes right behind its CONNECT hears of
// its own connect.
TEST_F(SystemAccount, AnAccountsUpdateComesBeforeTheEventOfTheConnectionThatChangedIt) {
    SubscriptionPtr account_a = subscribe_sync(admin_.get(), "$SYS.ACCOUNT.A.>");
    ASSERT_EQ(natsConnection_Flush(admin_.get()), NATS_OK);
    auto next_subject = [&] {
        MsgPtr msg = next_msg(account_a.get(), 2s);
        return msg == nullptr ? std::string("(none)") : std::string(natsMsg_GetSubject(msg.get()));
    };
    ConnectionPtr a = connect_user(server_->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(next_subject(), "$SYS.ACCOUNT.A.SERVER.CONNS");
    EXPECT_EQ(next_subject(), "$SYS.ACCOUNT.A.CONNECT");
    a.reset();
    EXPECT_EQ(next_subject(), "$SYS.ACCOUNT.A.SERVER.CONNS");
    EXPECT_EQ(next_subject(), "$SYS.ACCOUNT.A.DISCONNECT");

    RawClient raw;
    ASSERT_TRUE(raw.connect(server_->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false,\"user\":\"admin\",\"pass\":\"s\"}\r\n"
                         "SUB $SYS.ACCOUNT.SYS.CONNECT 1\r\nPING\r\n"));
    EXPECT_TRUE(raw.read_until("MSG $SYS.ACCOUNT.SYS.CONNECT 1 ")) << raw.received();
}

// A client refused at CONNECT is announced on $SYS.SERVER.<id>.CLIENT.AUTH.ERR, as a
// disconnect of the account it was in ($G), with the user it gave.
TEST_F(SystemAccount, AClientRefusedAtConnectIsAnnounced) {
    SubscriptionPtr errors = subscribe_sync(admin_.get(), "$SYS.SERVER.*.CLIENT.AUTH.ERR");
    ASSERT_EQ(natsConnection_Flush(admin_.get()), NATS_OK);
    std::string id = ask("$SYS.REQ.SERVER.PING.VARZ")["server"]["id"];
    EXPECT_EQ(connect_user(server_->url(), "a", "wrong"), nullptr);
    MsgPtr msg = next_msg(errors.get(), 2s);
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(std::string(natsMsg_GetSubject(msg.get())), "$SYS.SERVER." + id + ".CLIENT.AUTH.ERR");
    json event = json::parse(std::string(natsMsg_GetData(msg.get()), natsMsg_GetDataLength(msg.get())));
    EXPECT_EQ(event["type"], "io.nats.server.advisory.v1.client_disconnect");
    expect_server_info(event);
    EXPECT_EQ(event["client"]["acc"], "$G");
    EXPECT_EQ(event["client"]["user"], "a");
    EXPECT_TRUE(event["client"].contains("stop"));
    EXPECT_EQ(event["reason"], "Authentication Failure");
    EXPECT_EQ(event["sent"]["msgs"], 0);
    // A client that logs in is not.
    ConnectionPtr a = connect_user(server_->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    a.reset();
    EXPECT_TRUE(no_more_msgs(errors.get(), 300ms));
}

// Stopping, the server says so on $SYS.SERVER.<id>.SHUTDOWN (its ServerInfo) before its
// clients go.
TEST_F(SystemAccount, TheServerAnnouncesItsShutdown) {
    std::string id = ask("$SYS.REQ.SERVER.PING.VARZ")["server"]["id"];
    // A raw client: what came before the close stays readable after it.
    RawClient admin;
    ASSERT_TRUE(admin.connect(server_->port()));
    ASSERT_TRUE(admin.read_info());
    ASSERT_TRUE(admin.send("CONNECT {\"verbose\":false,\"user\":\"admin\",\"pass\":\"s\"}\r\n"
                           "SUB $SYS.SERVER.*.SHUTDOWN 1\r\nPING\r\n"));
    ASSERT_TRUE(admin.read_until("PONG\r\n"));
    server_->stop(SIGTERM);
    EXPECT_TRUE(admin.wait_closed(5s));
    const std::string head = "MSG $SYS.SERVER." + id + ".SHUTDOWN 1 ";
    size_t at = admin.received().find(head);
    ASSERT_NE(at, std::string::npos) << admin.received();
    size_t body = admin.received().find("\r\n", at) + 2;
    json info = json::parse(admin.received().substr(body, admin.received().find("\r\n", body) - body), nullptr, false);
    EXPECT_EQ(info["id"], id) << admin.received();
    EXPECT_EQ(info["name"], "alpha");
    EXPECT_EQ(info["ver"], "2.9.10");
}

json payload_of(const MsgPtr& msg) {
    return json::parse(std::string(natsMsg_GetData(msg.get()), natsMsg_GetDataLength(msg.get())), nullptr, false);
}

// The server's statistics go out by themselves: the first a quarter second after the start,
// then at twice the interval each time (up to every 30 s).
TEST_F(SystemAccount, TheServersStatisticsAreSentPeriodically) {
    SubscriptionPtr statsz = subscribe_sync(admin_.get(), "$SYS.SERVER.*.STATSZ");
    ASSERT_EQ(natsConnection_Flush(admin_.get()), NATS_OK);
    std::string id = ask("$SYS.REQ.SERVER.PING.VARZ")["server"]["id"];
    MsgPtr first = next_msg(statsz.get(), 3s);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(std::string(natsMsg_GetSubject(first.get())), "$SYS.SERVER." + id + ".STATSZ");
    json event = payload_of(first);
    expect_server_info(event);
    EXPECT_GE(event["statsz"]["connections"], 1) << event.dump();
    for (const char* key : {"start", "mem", "cores", "cpu", "subscriptions", "sent", "received", "slow_consumers"}) {
        EXPECT_TRUE(event["statsz"].contains(key)) << key;
    }
    EXPECT_NE(next_msg(statsz.get(), 5s), nullptr);  // and again, a little later
}

// Each connect and close updates the account's connection count, on the current subject and
// the older one.
TEST_F(SystemAccount, AnAccountsConnectionCountIsSentWhenItChanges) {
    SubscriptionPtr updates = subscribe_sync(admin_.get(), "$SYS.ACCOUNT.A.SERVER.CONNS");
    SubscriptionPtr older = subscribe_sync(admin_.get(), "$SYS.SERVER.ACCOUNT.A.CONNS");
    ASSERT_EQ(natsConnection_Flush(admin_.get()), NATS_OK);
    ConnectionPtr a = connect_user(server_->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "orders.new", "hello"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    MsgPtr joined = next_msg(updates.get(), 2s);
    ASSERT_NE(joined, nullptr);
    json event = payload_of(joined);
    EXPECT_EQ(event["type"], "io.nats.server.advisory.v1.account_connections");
    EXPECT_EQ(event["id"].get<std::string>().size(), 22u);
    expect_server_info(event);
    EXPECT_EQ(event["acc"], "A");
    EXPECT_EQ(event["conns"], 1);
    EXPECT_EQ(event["leafnodes"], 0);
    EXPECT_EQ(event["total_conns"], 1);
    for (const char* key : {"sent", "received", "slow_consumers"}) EXPECT_TRUE(event.contains(key)) << key;
    MsgPtr joined_older = next_msg(older.get(), 2s);
    ASSERT_NE(joined_older, nullptr);
    EXPECT_EQ(payload_of(joined_older)["total_conns"], 1);
    // Two messages, each with a server sequence of its own.
    EXPECT_NE(payload_of(joined_older)["server"]["seq"], event["server"]["seq"]);

    a.reset();
    MsgPtr left = next_msg(updates.get(), 2s);
    ASSERT_NE(left, nullptr);
    event = payload_of(left);
    EXPECT_EQ(event["acc"], "A");
    EXPECT_EQ(event["conns"], 0) << event.dump();
    EXPECT_EQ(event["total_conns"], 0);
    EXPECT_EQ(next_msg(updates.get(), 300ms), nullptr);  // nothing more while it has none
}

// Every other account imports three of the system account's services, answered for that
// account alone.
TEST_F(SystemAccount, EveryAccountAsksForItsOwnConnectionsAndTraffic) {
    ConnectionPtr a = connect_user(server_->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    SubscriptionPtr sub = subscribe_sync(a.get(), "orders.>");
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    for (const char* subject : {"$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ"}) {
        json connz = api_request(a.get(), subject, R"({"subscriptions":true})", 2s);
        expect_server_info(connz);
        ASSERT_TRUE(connz.contains("data")) << subject << ": " << connz.dump();
        EXPECT_EQ(connz["data"]["num_connections"], 1) << connz.dump();
        ASSERT_EQ(connz["data"]["connections"].size(), 1u) << connz.dump();
        // Its own: the subscription above, and the inbox of this request.
        const json& subs = connz["data"]["connections"][0]["subscriptions_list"];
        EXPECT_NE(std::find(subs.begin(), subs.end(), "orders.>"), subs.end()) << subs.dump();
    }
    json statz = api_request(a.get(), "$SYS.REQ.ACCOUNT.PING.STATZ", "", 2s);
    ASSERT_EQ(statz["data"]["account_statz"].size(), 1u) << statz.dump();
    EXPECT_EQ(statz["data"]["account_statz"][0]["acc"], "A");
    EXPECT_EQ(statz["data"]["account_statz"][0]["conns"], 1);
    // Nothing else of the system account's is imported.
    for (const char* subject : {"$SYS.REQ.ACCOUNT.A.CONNZ", "$SYS.REQ.SERVER.PING.VARZ"}) {
        natsStatus status = NATS_OK;
        MsgPtr reply = raw_request(a.get(), subject, "", 500ms, &status);
        EXPECT_EQ(reply, nullptr) << subject;
        EXPECT_EQ(status, NATS_NO_RESPONDERS) << subject;
    }
}

// Without any account configured, the global account has the same three imports.
TEST(SystemImports, TheGlobalAccountAsksForItsConnectionsWithoutAnyConfiguration) {
    auto server = ServerProcess::start_under_test({});
    ASSERT_NE(server, nullptr);
    ConnectionPtr client = connect_with(make_options(server->url()).get());
    ASSERT_NE(client, nullptr);
    json connz = api_request(client.get(), "$SYS.REQ.SERVER.PING.CONNZ", "", 2s);
    ASSERT_TRUE(connz.contains("data")) << connz.dump();
    EXPECT_EQ(connz["data"]["num_connections"], 1) << connz.dump();
    json statz = api_request(client.get(), "$SYS.REQ.ACCOUNT.PING.STATZ", "", 2s);
    ASSERT_EQ(statz["data"]["account_statz"].size(), 1u) << statz.dump();
    EXPECT_EQ(statz["data"]["account_statz"][0]["acc"], "$G");
}

// no_system_account: no system account, so no account imports from it; one the config
// defines by name is the system account all the same.
TEST(SystemImports, NoSystemAccountTakesThemAway) {
    TempFile none(".conf", "no_system_account: true\n");
    auto server = ServerProcess::start_under_test({"-c", none.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr client = connect_with(make_options(server->url()).get());
    ASSERT_NE(client, nullptr);
    for (const char* subject : {"$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.STATZ"}) {
        natsStatus status = NATS_OK;
        EXPECT_EQ(raw_request(client.get(), subject, "", 2s, &status), nullptr) << subject;
        EXPECT_EQ(status, NATS_NO_RESPONDERS) << subject;
    }

    TempFile named(".conf", R"(no_system_account: true
accounts { A: { users: [{user: a, password: a}] }, SYS: { users: [{user: admin, password: admin}] } }
system_account: SYS
)");
    server = ServerProcess::start_under_test({"-c", named.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr a = connect_user(server->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    json connz = api_request(a.get(), "$SYS.REQ.SERVER.PING.CONNZ", "", 2s);
    ASSERT_TRUE(connz.contains("data")) << connz.dump();
    EXPECT_EQ(connz["data"]["num_connections"], 1) << connz.dump();
}

TEST(SystemAccountOnly, ClientsWithoutCredentialsGoToTheGlobalAccount) {
    // With only the system account defined, nats-server lets everyone else in as before.
    TempFile config(".conf", "accounts { $SYS: { users: [ { user: admin, password: s } ] } }\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr anyone = connect_with(make_options(server->url()).get());
    ASSERT_NE(anyone, nullptr);
    SubscriptionPtr sub = subscribe_sync(anyone.get(), "greet");
    ASSERT_EQ(natsConnection_Flush(anyone.get()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(anyone.get(), "greet", "hi"), NATS_OK);
    EXPECT_NE(next_msg(sub.get(), 2s), nullptr);
    ConnectionPtr admin = connect_user(server->url(), "admin", "s");
    ASSERT_NE(admin, nullptr);
    json statsz = api_request(admin.get(), "$SYS.REQ.SERVER.PING", "", 2s);
    EXPECT_EQ(statsz["statsz"]["connections"], 2) << statsz.dump();
    EXPECT_EQ(connect_user(server->url(), "admin", "wrong"), nullptr);
}

TEST(SystemAccountRequests, AnAccountsInfoJetStreamAndConnections) {
    StoreDir store;
    ASSERT_FALSE(store.path().empty());
    TempFile config(".conf", R"(
server_name: alpha
accounts {
  SYS: { users: [ { user: admin, password: s } ] }
  A: { jetstream: enabled, users: [ { user: a, password: a } ] }
  B: { users: [ { user: b, password: b } ] }
}
system_account: SYS
)");
    auto server = ServerProcess::start_under_test({"-js", "-sd", store.path(), "-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr admin = connect_user(server->url(), "admin", "s");
    ASSERT_NE(admin, nullptr);
    ConnectionPtr a = connect_user(server->url(), "a", "a");
    ASSERT_NE(a, nullptr);
    json created = api_request(a.get(), "$JS.API.STREAM.CREATE.ORDERS", R"({"name":"ORDERS","subjects":["orders.>"]})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    auto ask = [&](const std::string& subject, const std::string& body = {}) {
        return api_request(admin.get(), subject, body, 2s);
    };

    // INFO: what /accountz says of the account.
    json info = ask("$SYS.REQ.ACCOUNT.A.INFO");
    ASSERT_TRUE(info.contains("data")) << info.dump();
    EXPECT_EQ(info["data"]["account_name"], "A");
    EXPECT_EQ(info["data"]["jetstream_enabled"], true);
    EXPECT_FALSE(info["data"].contains("is_system"));  // said only when true
    EXPECT_EQ(ask("$SYS.REQ.ACCOUNT.SYS.INFO")["data"]["is_system"], true);
    json missing = ask("$SYS.REQ.ACCOUNT.NOPE.INFO");
    EXPECT_EQ(missing["error"]["code"], 500) << missing.dump();
    EXPECT_EQ(missing["error"]["description"], "Account NOPE does not exist");

    // JSZ: the account's entry of /jsz, with its streams when asked.
    json jsz = ask("$SYS.REQ.ACCOUNT.A.JSZ", R"({"streams":true})");
    ASSERT_TRUE(jsz.contains("data")) << jsz.dump();
    EXPECT_EQ(jsz["data"]["name"], "A");
    ASSERT_EQ(jsz["data"]["stream_detail"].size(), 1u) << jsz.dump();
    EXPECT_EQ(jsz["data"]["stream_detail"][0]["name"], "ORDERS");
    json no_js = ask("$SYS.REQ.ACCOUNT.B.JSZ");
    EXPECT_EQ(no_js["error"]["code"], 500) << no_js.dump();
    EXPECT_EQ(no_js["error"]["description"], "account \"B\" not jetstream enabled");
    EXPECT_EQ(ask("$SYS.REQ.ACCOUNT.NOPE.JSZ")["error"]["description"], "account \"NOPE\" not found");

    // CONNS: an advisory with the account's connection counts, only while it has some.
    json conns = ask("$SYS.REQ.ACCOUNT.A.CONNS");
    ASSERT_FALSE(conns.is_discarded());
    EXPECT_EQ(conns["type"], "io.nats.server.advisory.v1.account_connections");
    EXPECT_EQ(conns["id"].get<std::string>().size(), 22u);
    EXPECT_TRUE(conns.contains("timestamp"));
    EXPECT_EQ(conns["server"]["name"], "alpha");
    EXPECT_EQ(conns["acc"], "A");
    EXPECT_EQ(conns["conns"], 1);
    EXPECT_EQ(conns["total_conns"], 1);
    EXPECT_EQ(conns["leafnodes"], 0);
    EXPECT_TRUE(ask("$SYS.REQ.ACCOUNT.B.CONNS").is_discarded());               // no connections
    EXPECT_TRUE(ask("$SYS.REQ.ACCOUNT.A.CONNS", R"({"acc":"B"})").is_discarded());  // names another

    // STATSZ: JetStream's limits and use, without the store directory.
    json statsz = ask("$SYS.REQ.SERVER.PING.STATSZ");
    const json& js_config = statsz["statsz"]["jetstream"]["config"];
    EXPECT_TRUE(js_config.contains("max_memory")) << statsz.dump();
    EXPECT_FALSE(js_config.contains("store_dir")) << statsz.dump();
}

// cluster { name } on a server without routes: nats-server names the cluster in INFO, /varz
// and its server info, and a request filtered by cluster, tags or domain is answered by it
// only when they match.
TEST(SystemAccountClusterName, NamedWhereNatsServerNamesItAndFilteredOn) {
    TempFile config(".conf", R"(server_name: alpha
server_tags: [ blue ]
cluster { name: east }
accounts { SYS: { users: [ { user: admin, password: s } ] } }
system_account: SYS
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    EXPECT_NE(raw.received().find(R"("cluster":"east")"), std::string::npos) << raw.received();

    ConnectionPtr admin = connect_user(server->url(), "admin", "s");
    ASSERT_NE(admin, nullptr);
    json varz = api_request(admin.get(), "$SYS.REQ.SERVER.PING.VARZ", "", 2s);
    EXPECT_EQ(varz["server"].value("cluster", ""), "east") << varz.dump();
    EXPECT_EQ(varz["server"]["tags"], json::array({"blue"})) << varz.dump();  // the server's tags, as nats-server's
    EXPECT_EQ(varz["data"]["cluster"].value("name", ""), "east") << varz.dump();

    for (const char* body : {R"({"cluster":"eas"})", R"({"tags":["BLUE"]})"}) {
        EXPECT_FALSE(api_request(admin.get(), "$SYS.REQ.SERVER.PING.VARZ", body, 2s).is_discarded()) << body;
    }
    for (const char* body : {R"({"cluster":"west"})", R"({"tags":["blue","red"]})", R"({"domain":"HUB"})"}) {
        EXPECT_TRUE(api_request(admin.get(), "$SYS.REQ.SERVER.PING.VARZ", body, 500ms).is_discarded()) << body;
    }
    json bad_tags = api_request(admin.get(), "$SYS.REQ.SERVER.PING.VARZ", R"({"tags":[1]})", 2s);
    EXPECT_EQ(bad_tags["error"]["code"], 400) << bad_tags.dump();
}

}  // namespace
}  // namespace ringtail::test
