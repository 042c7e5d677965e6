// accounts { A: { users: [...] } }: each account is a subject space of its own. Clients of one
// account never see what another publishes, whatever the subject, wildcard or queue group, on
// whichever shard they sit; a request into another account finds no responders. Every
// expectation is nats-server 2.9's behaviour (RT_TEST_SERVER=nats-server runs them there).
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <cstring>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;

const std::string kAccountsConfig = R"(
authorization { users: [ { user: global, password: g } ] }
accounts {
  A: { users: [ { user: a1, password: a }, { user: a2, password: a } ] }
  B: { users: [ { user: b1, password: b }, { user: b2, password: b, permissions: { publish: "orders.>" } } ] }
}
)";

ConnectionPtr connect_user(const std::string& url, const char* user, const char* password) {
    OptionsPtr options = make_options(url);
    if (!options || natsOptions_SetUserInfo(options.get(), user, password) != NATS_OK) return nullptr;
    return connect_with(options.get());
}

// Messages taken from `subs` until `expected` have come (or 5 s passed), then 200 ms more for
// any beyond them.
int take(std::vector<natsSubscription*> subs, int expected) {
    int taken = 0;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (taken < expected && std::chrono::steady_clock::now() < deadline) {
        for (natsSubscription* sub : subs) {
            while (MsgPtr msg = next_msg(sub, 10ms)) ++taken;
        }
    }
    for (natsSubscription* sub : subs) {
        while (MsgPtr msg = next_msg(sub, 200ms)) ++taken;
    }
    return taken;
}

struct Clients {
    ConnectionPtr global, a1, a2, b1, b2;
};

Clients connect_all(const std::string& url) {
    return {connect_user(url, "global", "g"), connect_user(url, "a1", "a"), connect_user(url, "a2", "a"),
            connect_user(url, "b1", "b"), connect_user(url, "b2", "b")};
}

TEST(Accounts, ClientsOfOneAccountNeverSeeAnothersMessages) {
    TempFile config(".conf", kAccountsConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    // Several connections per account, so that on Ringtail each account spans both shards.
    Clients c = connect_all(server->url());
    ASSERT_TRUE(c.global && c.a1 && c.a2 && c.b1 && c.b2);
    SubscriptionPtr global_all = subscribe_sync(c.global.get(), ">");
    SubscriptionPtr a1_all = subscribe_sync(c.a1.get(), ">");
    SubscriptionPtr a2_orders = subscribe_sync(c.a2.get(), "orders.*");
    SubscriptionPtr b1_all = subscribe_sync(c.b1.get(), ">");
    SubscriptionPtr b1_orders = subscribe_sync(c.b1.get(), "orders.new");
    for (auto* conn : {c.global.get(), c.a1.get(), c.a2.get(), c.b1.get(), c.b2.get()}) {
        ASSERT_EQ(natsConnection_Flush(conn), NATS_OK);
    }
    ASSERT_EQ(natsConnection_PublishString(c.a2.get(), "orders.new", "from A"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(c.b2.get(), "orders.new", "from B"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(c.global.get(), "orders.new", "from $G"), NATS_OK);
    for (auto* conn : {c.a2.get(), c.b2.get(), c.global.get()}) ASSERT_EQ(natsConnection_Flush(conn), NATS_OK);

    auto expect_only = [](natsSubscription* sub, const std::string& payload) {
        MsgPtr msg = next_msg(sub, 2s);
        ASSERT_NE(msg, nullptr) << "expected " << payload;
        EXPECT_EQ(msg_data(msg.get()), payload);
        EXPECT_EQ(natsMsg_GetSubject(msg.get()), std::string("orders.new"));
        EXPECT_TRUE(no_more_msgs(sub, 200ms));
    };
    expect_only(a1_all.get(), "from A");
    expect_only(a2_orders.get(), "from A");
    expect_only(b1_all.get(), "from B");
    expect_only(b1_orders.get(), "from B");
    expect_only(global_all.get(), "from $G");
}

TEST(Accounts, QueueGroupsOfTheSameNameAreSeparatePerAccount) {
    TempFile config(".conf", kAccountsConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    Clients c = connect_all(server->url());
    ASSERT_TRUE(c.a1 && c.a2 && c.b1 && c.b2);
    SubscriptionPtr a1 = queue_subscribe_sync(c.a1.get(), "jobs.run", "workers");
    SubscriptionPtr a2 = queue_subscribe_sync(c.a2.get(), "jobs.run", "workers");
    SubscriptionPtr b1 = queue_subscribe_sync(c.b1.get(), "jobs.run", "workers");
    for (auto* conn : {c.a1.get(), c.a2.get(), c.b1.get()}) ASSERT_EQ(natsConnection_Flush(conn), NATS_OK);
    constexpr int kJobs = 200;
    for (int i = 0; i < kJobs; ++i) {
        ASSERT_EQ(natsConnection_PublishString(c.a1.get(), "jobs.run", "a"), NATS_OK);
    }
    ASSERT_EQ(natsConnection_Flush(c.a1.get()), NATS_OK);
    EXPECT_EQ(take({a1.get(), a2.get()}, kJobs), kJobs);  // each job once, within account A
    EXPECT_TRUE(no_more_msgs(b1.get(), 200ms));
}

TEST(Accounts, ARequestIntoAnotherAccountFindsNoResponders) {
    TempFile config(".conf", kAccountsConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    Clients c = connect_all(server->url());
    ASSERT_TRUE(c.a1 && c.a2 && c.b1);
    SubscriptionPtr service = subscribe_sync(c.a1.get(), "service.time");
    ASSERT_EQ(natsConnection_Flush(c.a1.get()), NATS_OK);
    std::thread responder([&] {
        MsgPtr request = next_msg(service.get(), 3s);
        if (request) natsConnection_PublishString(c.a1.get(), natsMsg_GetReply(request.get()), "noon");
        natsConnection_Flush(c.a1.get());
    });
    natsMsg* reply = nullptr;
    EXPECT_EQ(natsConnection_RequestString(&reply, c.b1.get(), "service.time", "?", 1000), NATS_NO_RESPONDERS);
    ASSERT_EQ(natsConnection_RequestString(&reply, c.a2.get(), "service.time", "?", 2000), NATS_OK);
    EXPECT_EQ(msg_data(reply), "noon");
    natsMsg_Destroy(reply);
    responder.join();
}

TEST(Accounts, NoAuthUserCanBeAnAccountsUser) {
    TempFile config(".conf", kAccountsConfig + "no_auth_user: b1\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr anonymous = connect(server->url());
    ConnectionPtr b2 = connect_user(server->url(), "b2", "b");
    ASSERT_TRUE(anonymous && b2);
    SubscriptionPtr sub = subscribe_sync(anonymous.get(), "orders.>");
    ASSERT_EQ(natsConnection_Flush(anonymous.get()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(b2.get(), "orders.x", "to B"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(b2.get()), NATS_OK);
    MsgPtr msg = next_msg(sub.get(), 2s);
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(msg_data(msg.get()), "to B");
}

// A reload that moves a user to another account, or removes it, closes its connections without
// an -ERR, with or without subscriptions (nats-server's clientHasMovedToDifferentAccount): they
// reconnect into the right account, or are refused.
TEST(Accounts, AReloadThatMovesAUserToAnotherAccountClosesItsConnection) {
    TempFile config(".conf", "accounts {\n  A: { users: [ { user: u, password: p }, { user: v, password: p }, "
                             "{ user: gone, password: p } ] }\n  B: {}\n}\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient moved, moved_idle, removed, stays;
    for (auto [raw, user, subscribe] : {std::tuple{&moved, "u", true}, std::tuple{&moved_idle, "u", false},
                                        std::tuple{&removed, "gone", false}, std::tuple{&stays, "v", true}}) {
        ASSERT_TRUE(raw->connect(server->port()));
        ASSERT_TRUE(raw->read_info());
        ASSERT_TRUE(raw->send(std::string("CONNECT {\"verbose\":false,\"user\":\"") + user + "\",\"pass\":\"p\"}\r\n" +
                              (subscribe ? "SUB x 1\r\n" : "") + "PING\r\n"));
        ASSERT_TRUE(raw->read_until("PONG\r\n")) << raw->received();
        raw->clear_received();
    }
    { std::ofstream(config.path()) << "accounts {\n  A: { users: [ { user: v, password: p } ] }\n  B: { users: [ { user: u, password: p } ] }\n}\n"; }
    ASSERT_EQ(::kill(server->pid(), SIGHUP), 0);
    for (RawClient* closed : {&moved, &moved_idle, &removed}) {
        EXPECT_TRUE(closed->wait_closed(5s));
        EXPECT_EQ(closed->received().find("-ERR"), std::string::npos) << closed->received();
    }
    // The user that stayed keeps its connection and its subscription.
    ASSERT_TRUE(stays.send("PUB x 2\r\nhi\r\nPING\r\n"));
    EXPECT_TRUE(stays.read_until("PONG\r\n")) << stays.received();
    EXPECT_NE(stays.received().find("MSG x 1 2\r\nhi\r\n"), std::string::npos) << stays.received();
}

// A reload changes an account's subject mappings for the connections already there.
TEST(Accounts, AReloadChangesSubjectMappings) {
    auto config_with = [](const std::string& mappings) {
        return "accounts {\n  A: { users: [ { user: a, password: a } ]" + mappings + " }\n}\n";
    };
    TempFile config(".conf", config_with(R"(, mappings: { "in.>": "a.in.>" })"));
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr a = connect_user(server->url(), "a", "a");
    ASSERT_TRUE(a);
    SubscriptionPtr all = subscribe_sync(a.get(), ">");
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    // Publishes "in.x" until it arrives on `expected` (a reload takes effect a little later).
    auto arrives_on = [&](const std::string& expected) {
        for (int attempt = 0; attempt < 20; ++attempt) {
            if (natsConnection_PublishString(a.get(), "in.x", "m") != NATS_OK) return false;
            MsgPtr msg = next_msg(all.get(), 500ms);
            if (msg != nullptr && natsMsg_GetSubject(msg.get()) == expected) return true;
        }
        return false;
    };
    EXPECT_TRUE(arrives_on("a.in.x"));
    { std::ofstream(config.path()) << config_with(R"(, mappings: { "in.>": "b.in.>" })"); }
    ASSERT_EQ(::kill(server->pid(), SIGHUP), 0);
    EXPECT_TRUE(arrives_on("b.in.x"));
    { std::ofstream(config.path()) << config_with(""); }
    ASSERT_EQ(::kill(server->pid(), SIGHUP), 0);
    EXPECT_TRUE(arrives_on("in.x"));
}

// A reload adds and removes stream and service imports; subscriptions made before it follow.
TEST(Accounts, AReloadChangesExportsAndImports) {
    auto config_with = [](const std::string& svc, const std::string& app) {
        return "accounts {\n  SVC: { users: [ { user: s, password: s } ]" + svc + " }\n" +
               "  APP: { users: [ { user: a, password: a } ]" + app + " }\n}\n";
    };
    TempFile config(".conf", config_with("", ""));
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr svc = connect_user(server->url(), "s", "s"), app = connect_user(server->url(), "a", "a");
    ASSERT_TRUE(svc && app);
    SubscriptionPtr news = subscribe_sync(app.get(), "svc.news.>");
    SubscriptionPtr service = subscribe_sync(svc.get(), "help.>");
    ASSERT_EQ(natsConnection_Flush(app.get()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(svc.get()), NATS_OK);
    // Whether a publish of SVC's on news.today reaches APP's earlier subscription (the first
    // tries wait for the reload to take effect).
    auto news_arrives = [&](int tries) {
        for (int attempt = 0; attempt < tries; ++attempt) {
            if (natsConnection_PublishString(svc.get(), "news.today", "n") != NATS_OK) return false;
            if (natsConnection_Flush(svc.get()) != NATS_OK) return false;
            MsgPtr msg = next_msg(news.get(), 250ms);
            if (msg != nullptr) return std::string(natsMsg_GetSubject(msg.get())) == "svc.news.today";
        }
        return false;
    };
    EXPECT_FALSE(news_arrives(1));

    { std::ofstream(config.path()) << config_with(R"(, exports: [ { stream: "news.>" }, { service: "help.>" } ])",
                                                  R"(, imports: [ { stream: { account: SVC, subject: "news.>" }, prefix: "svc" },
                                                                 { service: { account: SVC, subject: "help.>" }, to: "ask.>" } ])"); }
    ASSERT_EQ(::kill(server->pid(), SIGHUP), 0);
    EXPECT_TRUE(news_arrives(20));
    // The service import answers: APP asks on ask.x, SVC's responder gets help.x.
    std::thread responder([&] {
        MsgPtr request = next_msg(service.get(), 5s);
        if (request != nullptr) natsConnection_PublishString(svc.get(), natsMsg_GetReply(request.get()), "answer");
    });
    natsMsg* reply = nullptr;
    natsStatus asked = natsConnection_RequestString(&reply, app.get(), "ask.x", "?", 5000);
    responder.join();
    ASSERT_EQ(asked, NATS_OK);
    EXPECT_EQ(std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)), "answer");
    natsMsg_Destroy(reply);

    { std::ofstream(config.path()) << config_with("", ""); }
    ASSERT_EQ(::kill(server->pid(), SIGHUP), 0);
    std::this_thread::sleep_for(500ms);
    while (MsgPtr stale = next_msg(news.get(), 100ms)) {
    }
    EXPECT_FALSE(news_arrives(1));
    EXPECT_EQ(natsConnection_RequestString(&reply, app.get(), "ask.x", "?", 1000), NATS_NO_RESPONDERS);
}

TEST(Accounts, AnAccountsLimitsBoundItsConnectionsSubscriptionsAndPayloads) {
    TempFile config(".conf", R"(
accounts {
  L: { limits: { max_connections: 2, max_subscriptions: 1, max_payload: 10 }, users: [ { user: l, password: l } ] }
  M: { users: [ { user: m, password: m } ] }
}
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    auto login = [&](RawClient& raw, const char* user) {
        ASSERT_TRUE(raw.connect(server->port()));
        ASSERT_TRUE(raw.read_info());
        ASSERT_TRUE(raw.send(std::string("CONNECT {\"verbose\":false,\"user\":\"") + user + "\",\"pass\":\"" + user +
                             "\"}\r\nPING\r\n"));
    };
    RawClient first, second, third, other;
    for (RawClient* raw : {&first, &second}) {
        login(*raw, "l");
        ASSERT_TRUE(raw->read_until("PONG\r\n")) << raw->received();
        raw->clear_received();
    }
    // The account's third connection is refused and closed; another account is not counted.
    login(third, "l");
    EXPECT_TRUE(third.read_until("-ERR 'maximum account active connections exceeded'\r\n")) << third.received();
    EXPECT_TRUE(third.wait_closed());
    login(other, "m");
    EXPECT_TRUE(other.read_until("PONG\r\n")) << other.received();

    // One subscription per connection, 10 bytes per message.
    ASSERT_TRUE(first.send("SUB x 1\r\nSUB y 2\r\nPING\r\n"));
    EXPECT_TRUE(first.read_until("PONG\r\n"));
    EXPECT_NE(first.received().find("-ERR 'maximum subscriptions exceeded'\r\n"), std::string::npos) << first.received();
    ASSERT_TRUE(second.send("PUB x 10\r\n0123456789\r\nPUB x 11\r\nhello world\r\n"));
    EXPECT_TRUE(second.read_until("-ERR 'Maximum Payload Violation'\r\n")) << second.received();
    EXPECT_TRUE(first.read_until("MSG x 1 10\r\n0123456789\r\n")) << first.received();

    // A connection that leaves makes room for another.
    second.close();
    bool admitted = false;
    for (int attempt = 0; attempt < 20 && !admitted; ++attempt) {
        RawClient again;
        login(again, "l");
        admitted = again.read_until("PONG\r\n", 500ms);
    }
    EXPECT_TRUE(admitted);
}

TEST(Accounts, AClientLearnsItsAccountsMaxPayloadAndKeepsItsConnection) {
    TempFile config(".conf", "accounts { L: { limits: { max_payload: 10 }, users: [ { user: l, password: l } ] } }\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr nc = connect_user(server->url(), "l", "l");
    ASSERT_NE(nc, nullptr);
    // The INFO that follows the first PONG carries the account's limit.
    EXPECT_TRUE(std::invoke([&] {
        for (int i = 0; i < 100; ++i) {
            if (natsConnection_GetMaxPayload(nc.get()) == 10) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }));
    EXPECT_EQ(natsConnection_PublishString(nc.get(), "x", "0123456789a"), NATS_MAX_PAYLOAD);
    EXPECT_EQ(natsConnection_PublishString(nc.get(), "x", "0123456789"), NATS_OK);
    EXPECT_EQ(natsConnection_Flush(nc.get()), NATS_OK);
    EXPECT_FALSE(natsConnection_IsClosed(nc.get()));
}

const std::string kImportsConfig = R"(
accounts {
  A: {
    users: [ { user: a, password: a } ]
    exports: [ { stream: "orders.>" }, { stream: "private.>", accounts: [B] } ]
  }
  B: {
    users: [ { user: b, password: b }, { user: b2, password: b } ]
    imports: [
      { stream: { account: A, subject: "orders.>" }, prefix: "a" }
      { stream: { account: A, subject: "private.>" } }
    ]
  }
  C: {
    users: [ { user: c, password: c } ]
    imports: [ { stream: { account: A, subject: "orders.*.new" }, to: "neworders.*" } ]
  }
}
)";

// Next message's subject and payload, "" on a timeout.
std::string next_of(natsSubscription* sub) {
    MsgPtr msg = next_msg(sub, 2s);
    return msg ? std::string(natsMsg_GetSubject(msg.get())) + " " + std::string(msg_data(msg.get())) : "";
}

TEST(Accounts, AStreamImportDeliversTheExportersMessagesUnderItsOwnSubjects) {
    TempFile config(".conf", kImportsConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr a = connect_user(server->url(), "a", "a"), b = connect_user(server->url(), "b", "b"),
                  c = connect_user(server->url(), "c", "c");
    ASSERT_TRUE(a && b && c);
    SubscriptionPtr a_orders = subscribe_sync(a.get(), "orders.>");
    SubscriptionPtr b_prefixed = subscribe_sync(b.get(), "a.orders.*.new");
    SubscriptionPtr b_all = subscribe_sync(b.get(), ">");
    SubscriptionPtr c_new = subscribe_sync(c.get(), "neworders.*");
    SubscriptionPtr c_all = subscribe_sync(c.get(), ">");
    for (auto* conn : {a.get(), b.get(), c.get()}) ASSERT_EQ(natsConnection_Flush(conn), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "orders.eu.new", "1"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "orders.us.paid", "2"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "private.x", "3"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "other", "4"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(b.get(), "orders.b.new", "5"), NATS_OK);  // B's own space
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(b.get()), NATS_OK);

    EXPECT_EQ(next_of(a_orders.get()), "orders.eu.new 1");
    EXPECT_EQ(next_of(a_orders.get()), "orders.us.paid 2");
    EXPECT_TRUE(no_more_msgs(a_orders.get(), 200ms));
    EXPECT_EQ(next_of(b_prefixed.get()), "a.orders.eu.new 1");
    EXPECT_TRUE(no_more_msgs(b_prefixed.get(), 200ms));
    std::vector<std::string> b_got;
    for (int i = 0; i < 4; ++i) b_got.push_back(next_of(b_all.get()));
    EXPECT_TRUE(no_more_msgs(b_all.get(), 200ms));
    std::sort(b_got.begin(), b_got.end());
    EXPECT_EQ(b_got, (std::vector<std::string>{"a.orders.eu.new 1", "a.orders.us.paid 2", "orders.b.new 5", "private.x 3"}));
    EXPECT_EQ(next_of(c_new.get()), "neworders.eu 1");
    EXPECT_TRUE(no_more_msgs(c_new.get(), 200ms));
    EXPECT_EQ(next_of(c_all.get()), "neworders.eu 1");
    EXPECT_TRUE(no_more_msgs(c_all.get(), 200ms));
}

// A stream import brings in what the exporter's clients publish, not what the exporter itself
// imports: one step, as nats-server's shadow subscriptions.
TEST(Accounts, AStreamImportDoesNotPassOnWhatTheExporterImports) {
    TempFile config(".conf", R"(
accounts {
  A: { users: [ { user: a, password: a } ], exports: [ { stream: "ev.>" } ] }
  B: {
    users: [ { user: b, password: b } ]
    imports: [ { stream: { account: A, subject: "ev.>" } } ]
    exports: [ { stream: "ev.>" } ]
  }
  C: { users: [ { user: c, password: c } ], imports: [ { stream: { account: B, subject: "ev.>" }, prefix: c } ] }
}
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr a = connect_user(server->url(), "a", "a"), b = connect_user(server->url(), "b", "b"),
                  c = connect_user(server->url(), "c", "c");
    ASSERT_TRUE(a && b && c);
    SubscriptionPtr b_all = subscribe_sync(b.get(), "ev.>");
    SubscriptionPtr c_all = subscribe_sync(c.get(), ">");
    for (auto* conn : {b.get(), c.get()}) ASSERT_EQ(natsConnection_Flush(conn), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "ev.x", "1"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    EXPECT_EQ(next_of(b_all.get()), "ev.x 1");
    ASSERT_EQ(natsConnection_PublishString(b.get(), "ev.y", "2"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(b.get()), NATS_OK);
    EXPECT_EQ(next_of(c_all.get()), "c.ev.y 2");
    EXPECT_TRUE(no_more_msgs(c_all.get(), 300ms));
}

TEST(Accounts, AnImportedStreamReachesAQueueGroupOnceAndCountsTowardsAutoUnsubscribe) {
    TempFile config(".conf", kImportsConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr a = connect_user(server->url(), "a", "a"), b = connect_user(server->url(), "b", "b"),
                  b2 = connect_user(server->url(), "b2", "b");
    ASSERT_TRUE(a && b && b2);
    SubscriptionPtr w1 = queue_subscribe_sync(b.get(), "a.orders.>", "workers");
    SubscriptionPtr w2 = queue_subscribe_sync(b2.get(), "a.orders.>", "workers");
    SubscriptionPtr two = subscribe_sync(b.get(), "a.orders.>");
    ASSERT_EQ(natsSubscription_AutoUnsubscribe(two.get(), 2), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(b.get()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(b2.get()), NATS_OK);
    constexpr int kOrders = 100;
    for (int i = 0; i < kOrders; ++i) ASSERT_EQ(natsConnection_PublishString(a.get(), "orders.x", "o"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    EXPECT_EQ(take({w1.get(), w2.get()}, kOrders), kOrders);
    EXPECT_EQ(take({two.get()}, 2), 2);
}

TEST(Accounts, ABadImportIsAConfigError) {
    const std::string exporter = "A: { users: [ {user: a, password: a} ], exports: [ { stream: \"orders.>\", accounts: [B] } ] }\n";
    for (const std::string& imports : {
             std::string("imports: [ { stream: { account: Z, subject: \"orders.>\" } } ]"),      // no such account
             std::string("imports: [ { stream: { account: A, subject: \"private.>\" } } ]"),    // not exported
             std::string("imports: [ { stream: { account: A, subject: \"orders.>\" }, prefix: \"p.*\" } ]"),
             std::string("imports: [ { stream: { account: A, subject: \"orders.>\" }, prefix: p, to: q } ]"),
         }) {
        TempFile config(".conf", "accounts {\n" + exporter + "B: { " + imports + " }\n}\n");
        auto server = ServerProcess::start_under_test({"-c", config.path()});
        if (server == nullptr) continue;  // refused at start: what is expected
        EXPECT_NE(server->stop(SIGTERM), 0);
        ADD_FAILURE() << "accepted " << imports;
    }
    // Only the accounts an export names may import it.
    TempFile config(".conf", "accounts {\n" + exporter + "C: { imports: [ { stream: { account: A, subject: \"orders.>\" } } ] }\n}\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    EXPECT_EQ(server, nullptr);
}

const std::string kServicesConfig = R"(
accounts {
  SVC: {
    users: [ { user: s, password: s } ]
    exports: [
      { service: "time.>" }
      { service: "feed", response_type: stream, response_threshold: "1s" }
      { service: "private.>", accounts: [ OTHER ] }
      { service: "chunks", response_type: chunked }
    ]
  }
  APP: {
    users: [ { user: a, password: a }, { user: a2, password: a } ]
    imports: [
      { service: { account: SVC, subject: "time.>" } }
      { service: { account: SVC, subject: "feed" }, to: "app.feed" }
      { service: { account: SVC, subject: "chunks" } }
    ]
  }
  OTHER: { users: [ { user: o, password: o } ] }
}
)";

// Answers every request on `subject` in `count` messages "<prefix><n>", and keeps what it saw.
struct Responder {
    natsSubscription* sub = nullptr;
    std::vector<std::string> subjects, replies, request_infos;
    int count = 1;
    std::string prefix;
    std::mutex mutex;

    static void on_msg(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
        auto* self = static_cast<Responder*>(closure);
        const char* info = nullptr;
        {
            std::lock_guard lock(self->mutex);
            self->subjects.emplace_back(natsMsg_GetSubject(msg));
            self->replies.emplace_back(natsMsg_GetReply(msg) ? natsMsg_GetReply(msg) : "");
            self->request_infos.emplace_back(natsMsgHeader_Get(msg, "Nats-Request-Info", &info) == NATS_OK ? info : "");
        }
        for (int i = 0; i < self->count && natsMsg_GetReply(msg) != nullptr; ++i) {
            std::string data = self->prefix + std::to_string(i);
            natsConnection_Publish(nc, natsMsg_GetReply(msg), data.data(), static_cast<int>(data.size()));
        }
        natsConnection_Flush(nc);
        natsMsg_Destroy(msg);
    }
    bool start(natsConnection* nc, const char* subject) {
        return natsConnection_Subscribe(&sub, nc, subject, on_msg, this) == NATS_OK && natsConnection_Flush(nc) == NATS_OK;
    }
    ~Responder() { natsSubscription_Destroy(sub); }
};

TEST(Accounts, AServiceImportTakesARequestToTheExporterAndItsResponseBack) {
    TempFile config(".conf", kServicesConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr s = connect_user(server->url(), "s", "s");
    ConnectionPtr a = connect_user(server->url(), "a", "a"), a2 = connect_user(server->url(), "a2", "a");
    ASSERT_TRUE(s && a && a2);
    Responder responder;
    responder.prefix = "tick ";
    ASSERT_TRUE(responder.start(s.get(), "time.>"));
    for (natsConnection* requester : {a.get(), a2.get(), a.get()}) {
        natsMsg* reply = nullptr;
        ASSERT_EQ(natsConnection_RequestString(&reply, requester, "time.now", "?", 2000), NATS_OK);
        MsgPtr owned(reply);
        EXPECT_EQ(msg_data(reply), "tick 0");
    }
    std::lock_guard lock(responder.mutex);
    ASSERT_EQ(responder.subjects.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(responder.subjects[i], "time.now");
        // The exporter sees a reply subject of the server's, never the requester's inbox.
        EXPECT_TRUE(responder.replies[i].starts_with("_R_.")) << responder.replies[i];
        nlohmann::json info = nlohmann::json::parse(responder.request_infos[i], nullptr, false);
        EXPECT_EQ(info.value("acc", ""), "APP") << responder.request_infos[i];
    }
}

TEST(Accounts, ASingletonServiceTakesOneResponseAndAStreamOneTakesEvery) {
    TempFile config(".conf", kServicesConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr s = connect_user(server->url(), "s", "s"), a = connect_user(server->url(), "a", "a");
    ASSERT_TRUE(s && a);
    Responder time, feed;
    time.count = feed.count = 3;
    ASSERT_TRUE(time.start(s.get(), "time.>"));
    ASSERT_TRUE(feed.start(s.get(), "feed"));
    SubscriptionPtr inbox = subscribe_sync(a.get(), "my.inbox");
    ASSERT_EQ(natsConnection_PublishRequestString(a.get(), "time.now", "my.inbox", "?"), NATS_OK);
    EXPECT_EQ(take({inbox.get()}, 1), 1);  // singleton: the first response only
    ASSERT_EQ(natsConnection_PublishRequestString(a.get(), "app.feed", "my.inbox", "?"), NATS_OK);
    EXPECT_EQ(take({inbox.get()}, 3), 3);
    std::lock_guard lock(feed.mutex);
    EXPECT_EQ(feed.subjects, std::vector<std::string>{"feed"});  // under the exporter's subject
}

// A chunked (or stream) response goes on until an empty message, which still arrives and ends
// it: what follows on that reply subject is dropped.
TEST(Accounts, AChunkedResponseEndsWithAnEmptyMessage) {
    TempFile config(".conf", kServicesConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr s = connect_user(server->url(), "s", "s"), a = connect_user(server->url(), "a", "a");
    ASSERT_TRUE(s && a);
    Responder chunks;
    chunks.count = 0;  // answered below, by hand
    ASSERT_TRUE(chunks.start(s.get(), "chunks"));
    SubscriptionPtr inbox = subscribe_sync(a.get(), "my.inbox");
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishRequestString(a.get(), "chunks", "my.inbox", "?"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    std::string reply;
    for (int i = 0; i < 200 && reply.empty(); ++i) {
        {
            std::lock_guard lock(chunks.mutex);
            if (!chunks.replies.empty()) reply = chunks.replies[0];
        }
        if (reply.empty()) std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(reply.starts_with("_R_.")) << reply;
    for (const char* part : {"one", "two", "", "late"}) {
        ASSERT_EQ(natsConnection_Publish(s.get(), reply.c_str(), part, static_cast<int>(std::strlen(part))), NATS_OK);
        ASSERT_EQ(natsConnection_Flush(s.get()), NATS_OK);
    }
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) {
        MsgPtr msg = next_msg(inbox.get(), 2s);
        ASSERT_NE(msg, nullptr) << "after " << got.size();
        got.emplace_back(natsMsg_GetData(msg.get()) ? natsMsg_GetData(msg.get()) : "", natsMsg_GetDataLength(msg.get()));
    }
    EXPECT_EQ(got, (std::vector<std::string>{"one", "two", ""}));
    EXPECT_TRUE(no_more_msgs(inbox.get(), 300ms));
}

// A response that asks for an answer (a reply subject of its own) gets one through the import
// too: the requester sees a "_R_" subject of its account that leads back to the responder's,
// never the responder's own subject (which would be just a subject of the requester's account).
TEST(Accounts, AResponsesReplySubjectLeadsBackToTheResponder) {
    TempFile config(".conf", kServicesConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr s = connect_user(server->url(), "s", "s"), a = connect_user(server->url(), "a", "a");
    ASSERT_TRUE(s && a);
    SubscriptionPtr requests = subscribe_sync(s.get(), "time.>");
    SubscriptionPtr acks = subscribe_sync(s.get(), "svc.ack");
    SubscriptionPtr inbox = subscribe_sync(a.get(), "my.inbox");
    SubscriptionPtr tap = subscribe_sync(a.get(), "svc.ack");
    ASSERT_EQ(natsConnection_Flush(s.get()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishRequestString(a.get(), "time.now", "my.inbox", "?"), NATS_OK);
    MsgPtr request = next_msg(requests.get(), 2s);
    ASSERT_NE(request, nullptr);
    ASSERT_EQ(natsConnection_PublishRequestString(s.get(), natsMsg_GetReply(request.get()), "svc.ack", "tick"), NATS_OK);
    MsgPtr response = next_msg(inbox.get(), 2s);
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(msg_data(response.get()), "tick");
    std::string reply = natsMsg_GetReply(response.get()) ? natsMsg_GetReply(response.get()) : "";
    ASSERT_TRUE(reply.starts_with("_R_.")) << reply;
    ASSERT_EQ(natsConnection_PublishString(a.get(), reply.c_str(), "ack!"), NATS_OK);
    MsgPtr ack = next_msg(acks.get(), 2s);
    ASSERT_NE(ack, nullptr);
    EXPECT_EQ(msg_data(ack.get()), "ack!");
    EXPECT_TRUE(no_more_msgs(tap.get(), 300ms));
}

// A request that an import forwards into an account that imports it on keeps its first
// requester, and names the account it passed through; the response finds its way back.
TEST(Accounts, AChainedRequestNamesItsFirstRequesterAndTheServiceBetween) {
    TempFile config(".conf", R"(
accounts {
  SVC: { users: [ { user: s, password: s } ], exports: [ { service: "time.>" } ] }
  MID: {
    users: [ { user: m, password: m } ]
    imports: [ { service: { account: SVC, subject: "time.>" }, to: "mid.>" } ]
    exports: [ { service: "mid.>" } ]
  }
  APP: { users: [ { user: a, password: a } ], imports: [ { service: { account: MID, subject: "mid.>" } } ] }
}
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr s = connect_user(server->url(), "s", "s"), a = connect_user(server->url(), "a", "a");
    ASSERT_TRUE(s && a);
    Responder responder;
    responder.prefix = "tick ";
    ASSERT_TRUE(responder.start(s.get(), "time.>"));
    natsMsg* reply = nullptr;
    ASSERT_EQ(natsConnection_RequestString(&reply, a.get(), "mid.now", "?", 2000), NATS_OK);
    MsgPtr owned(reply);
    EXPECT_EQ(msg_data(reply), "tick 0");
    std::lock_guard lock(responder.mutex);
    ASSERT_EQ(responder.subjects, std::vector<std::string>{"time.now"});
    nlohmann::json info = nlohmann::json::parse(responder.request_infos[0], nullptr, false);
    EXPECT_EQ(info.value("acc", ""), "APP") << responder.request_infos[0];
    EXPECT_EQ(info.value("svc", ""), "MID") << responder.request_infos[0];
}

// "$n" in an import's `to` places the exporter's n-th wildcard: subjects can be reordered on
// the way in (a stream) and on the way out (a service request).
TEST(Accounts, AnImportPlacesTheExportersWildcardsByNumber) {
    TempFile config(".conf", R"(
accounts {
  A: { users: [ { user: a, password: a } ], exports: [ { stream: "foo.*.*" }, { service: "svc.*.*" } ] }
  B: {
    users: [ { user: b, password: b } ]
    imports: [
      { stream: { account: A, subject: "foo.*.*" }, to: "bar.$2.$1" }
      { service: { account: A, subject: "svc.*.*" }, to: "s.$2.$1" }
    ]
  }
}
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr a = connect_user(server->url(), "a", "a"), b = connect_user(server->url(), "b", "b");
    ASSERT_TRUE(a && b);
    SubscriptionPtr streamed = subscribe_sync(b.get(), "bar.y.*");
    Responder responder;
    ASSERT_TRUE(responder.start(a.get(), "svc.>"));
    ASSERT_EQ(natsConnection_Flush(b.get()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "foo.x.y", "1"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "foo.y.x", "2"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    EXPECT_EQ(next_of(streamed.get()), "bar.y.x 1");
    EXPECT_TRUE(no_more_msgs(streamed.get(), 200ms));
    natsMsg* reply = nullptr;
    ASSERT_EQ(natsConnection_RequestString(&reply, b.get(), "s.p.q", "?", 2000), NATS_OK);
    natsMsg_Destroy(reply);
    std::lock_guard lock(responder.mutex);
    EXPECT_EQ(responder.subjects, std::vector<std::string>{"svc.q.p"});
}

TEST(Accounts, WhatIsNotImportedStaysInItsAccount) {
    TempFile config(".conf", kServicesConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr s = connect_user(server->url(), "s", "s"), a = connect_user(server->url(), "a", "a");
    ASSERT_TRUE(s && a);
    Responder priv;
    ASSERT_TRUE(priv.start(s.get(), "private.>"));
    natsMsg* reply = nullptr;
    EXPECT_EQ(natsConnection_RequestString(&reply, a.get(), "private.x", "?", 1000), NATS_NO_RESPONDERS);
    natsMsg_Destroy(reply);
    // The exporter's own clients reach it directly, without the header.
    ASSERT_EQ(natsConnection_RequestString(&reply, s.get(), "private.x", "?", 1000), NATS_OK);
    natsMsg_Destroy(reply);
    std::lock_guard lock(priv.mutex);
    ASSERT_EQ(priv.request_infos.size(), 1u);
    EXPECT_EQ(priv.request_infos[0], "");
}

TEST(Accounts, ABadServiceImportIsAConfigError) {
    const std::string exporter =
        "A: { users: [ {user: a, password: a} ], exports: [ { service: \"svc.>\", accounts: [B] } ] }\n";
    for (const std::string& imports : {
             std::string("imports: [ { service: { account: Z, subject: \"svc.x\" } } ]"),   // no such account
             std::string("imports: [ { service: { account: A, subject: \"other\" } } ]"),   // not exported
             std::string("imports: [ { service: { account: A } } ]"),                        // no subject
         }) {
        TempFile config(".conf", "accounts {\n" + exporter + "B: { " + imports + " }\n}\n");
        auto server = ServerProcess::start_under_test({"-c", config.path()});
        if (server == nullptr) continue;  // refused at start: what is expected
        EXPECT_NE(server->stop(SIGTERM), 0);
        ADD_FAILURE() << "accepted " << imports;
    }
    // Only the accounts an export names may import it.
    TempFile config(".conf", "accounts {\n" + exporter + "C: { imports: [ { service: { account: A, subject: \"svc.x\" } } ] }\n}\n");
    EXPECT_EQ(ServerProcess::start_under_test({"-c", config.path()}), nullptr);
}

TEST(Accounts, SubjectMappingsRouteWhatIsPublishedOnAnotherSubject) {
    TempFile config(".conf", R"(
mappings {
  "old.*": "new.{{wildcard(1)}}"
  "p.*": "p.{{partition(3,1)}}.$1"
  "cut.*.*": "cut.{{splitFromLeft(1,2)}}.{{SliceFromRight(2,3)}}"
  "parts.*": "parts.{{split(1,-)}}"
  "gone": { destination: "gone", weight: 0% }
  "half": [ { destination: "left", weight: 50% }, { destination: "right", weight: 50% } ]
}
authorization { users: [ { user: g, password: g } ] }
accounts {
  A: { users: [ { user: a, password: a } ], mappings: { "in.>": "a.in.>" } }
}
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr g = connect_user(server->url(), "g", "g"), a = connect_user(server->url(), "a", "a");
    ASSERT_TRUE(g && a);
    SubscriptionPtr all = subscribe_sync(g.get(), ">");
    SubscriptionPtr a_all = subscribe_sync(a.get(), ">");
    ASSERT_EQ(natsConnection_Flush(g.get()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    for (const char* subject : {"old.x", "p.eu", "p.us", "cut.abcd.1234567", "parts.-a-b--c", "gone", "other"}) {
        ASSERT_EQ(natsConnection_PublishString(g.get(), subject, subject), NATS_OK);
    }
    constexpr int kHalves = 200;
    for (int i = 0; i < kHalves; ++i) ASSERT_EQ(natsConnection_PublishString(g.get(), "half", "h"), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(a.get(), "in.x.y", "in"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(g.get()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(a.get()), NATS_OK);
    std::vector<std::string> got;
    int left = 0, right = 0;
    for (int i = 0; i < 6 + kHalves; ++i) {
        MsgPtr msg = next_msg(all.get(), 2s);
        ASSERT_NE(msg, nullptr) << "after " << got.size() + left + right << " messages";
        std::string subject = natsMsg_GetSubject(msg.get());
        if (subject == "left" || subject == "right") {
            ++(subject == "left" ? left : right);
            continue;
        }
        got.push_back(subject + " " + std::string(msg_data(msg.get())));
    }
    EXPECT_TRUE(no_more_msgs(all.get(), 200ms));  // "gone" never comes
    // FNV-1a partitions as nats-server's: "eu" is 2 of 3, "us" 0; weight 0% of the source
    // itself drops the message.
    EXPECT_EQ(got, (std::vector<std::string>{"new.x old.x", "p.2.eu p.eu", "p.0.us p.us",
                                             "cut.ab.cd.1.234.567 cut.abcd.1234567", "parts.a.b.c parts.-a-b--c",
                                             "other other"}));
    EXPECT_EQ(left + right, kHalves);
    EXPECT_GT(left, 0);
    EXPECT_GT(right, 0);
    EXPECT_EQ(next_of(a_all.get()), "a.in.x.y in");  // the account's own mappings
}

TEST(Accounts, MappingsApplyWithoutAnyAuthentication) {
    TempFile config(".conf", "mappings { \"old.*\": \"new.$1\" }\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr nc = connect(server->url());
    ASSERT_TRUE(nc);
    SubscriptionPtr sub = subscribe_sync(nc.get(), ">");
    ASSERT_EQ(natsConnection_Flush(nc.get()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(nc.get(), "old.x", "m"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(nc.get()), NATS_OK);
    EXPECT_EQ(next_of(sub.get()), "new.x m");
}

// A mapping's destinations of a cluster are what a server of that cluster picks from; a
// server of another (or no) cluster picks from those of none (here: the source itself).
TEST(Accounts, AMappingsClusterDestinationsApplyInThatClusterOnly) {
    const std::string mappings = R"(
mappings {
  "a": [ { destination: "in.c1", weight: 100%, cluster: c1 } ]
}
)";
    for (const auto& [cluster, expected] : std::vector<std::pair<std::string, std::string>>{
             {"cluster { name: c1 }\n", "in.c1 m"}, {"cluster { name: c2 }\n", "a m"}, {"", "a m"}}) {
        SCOPED_TRACE(cluster);
        TempFile config(".conf", mappings + cluster);
        auto server = ServerProcess::start_under_test({"-c", config.path()});
        ASSERT_NE(server, nullptr);
        ConnectionPtr nc = connect(server->url());
        ASSERT_TRUE(nc);
        SubscriptionPtr sub = subscribe_sync(nc.get(), ">");
        ASSERT_EQ(natsConnection_Flush(nc.get()), NATS_OK);
        ASSERT_EQ(natsConnection_PublishString(nc.get(), "a", "m"), NATS_OK);
        ASSERT_EQ(natsConnection_Flush(nc.get()), NATS_OK);
        EXPECT_EQ(next_of(sub.get()), expected);
    }
}

TEST(Accounts, ABadAccountsBlockIsAConfigError) {
    for (const std::string& text : {
             std::string("accounts { $G: {} }\n"),
             std::string("accounts { A: { users: [ {user: u, password: p} ] }, B: { users: [ {user: u, password: q} ] } }\n"),
             std::string("authorization { token: t }\naccounts { A: { users: [ {user: u, password: q} ] } }\n"),
         }) {
        TempFile config(".conf", text);
        auto server = ServerProcess::start_under_test({"-c", config.path()});
        if (server == nullptr) continue;  // refused at start: what is expected
        EXPECT_NE(server->stop(SIGTERM), 0) << "started with " << text;
        ADD_FAILURE() << "accepted " << text;
    }
}

}  // namespace
}  // namespace ringtail::test
