// The monitoring port (-m) through real HTTP requests, with libnats clients making the traffic
// it reports. The Monitor suite runs against the server under test (RT_TEST_SERVER), so every
// expectation here holds for nats-server too; MonitorDiff runs one scenario on both servers
// and compares every endpoint's keys; RingtailMonitor covers what only Ringtail has.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct Got {
    int status = 0;
    std::string content_type;
    std::string body;
    json parsed() const { return json::parse(body, nullptr, false); }
};

Got http_get(int port, const std::string& path) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(5, 0);
    auto result = client.Get(path);
    if (!result) return {};
    return {result->status, result->get_header_value("Content-Type"), result->body};
}

json get_json(int port, const std::string& path) {
    Got got = http_get(port, path);
    EXPECT_EQ(got.status, 200) << path << ": " << got.body;
    return got.parsed();
}

std::unique_ptr<ServerProcess> start_monitored(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"-m", "-1"});
    auto server = ServerProcess::start_under_test(args);
    if (server != nullptr) {
        EXPECT_GT(server->monitor_port(), 0) << server->log();
    }
    return server;
}

ConnectionPtr connect_named(const std::string& url, const char* name) {
    OptionsPtr options = make_options(url);
    natsOptions_SetName(options.get(), name);
    return connect_with(options.get());
}

// Publishes `count` messages of `size` bytes on `subject` and flushes.
void publish_n(natsConnection* nc, const char* subject, int count, size_t size) {
    std::string payload(size, 'x');
    for (int i = 0; i < count; ++i) {
        ASSERT_EQ(natsConnection_Publish(nc, subject, payload.data(), static_cast<int>(payload.size())), NATS_OK);
    }
    ASSERT_EQ(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
}

// Waits until /varz's `key` reaches `value` (deliveries are counted as they are made).
bool wait_for_varz(int port, const char* key, uint64_t value) {
    return wait_for([&] { return get_json(port, "/varz").value(key, uint64_t{0}) >= value; }, 3s, 20ms);
}

TEST(Monitor, VarzShowsTheServerAndItsTraffic) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    ConnectionPtr sub_conn = connect_named(server->url(), "subscriber");
    ConnectionPtr pub_conn = connect_named(server->url(), "publisher");
    ASSERT_TRUE(sub_conn && pub_conn);
    natsSubscription* raw = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, sub_conn.get(), "foo"), NATS_OK);
    SubscriptionPtr sub(raw);
    ASSERT_EQ(natsConnection_FlushTimeout(sub_conn.get(), 2000), NATS_OK);
    publish_n(pub_conn.get(), "foo", 3, 5);
    ASSERT_TRUE(wait_for_varz(server->monitor_port(), "out_msgs", 3));

    json varz = get_json(server->monitor_port(), "/varz");
    EXPECT_EQ(varz["port"], server->port());
    EXPECT_EQ(varz["http_port"], -1);  // as configured (-m -1: any free port)
    EXPECT_EQ(varz["version"], "2.9.10");
    EXPECT_EQ(varz["connections"], 2);
    EXPECT_EQ(varz["total_connections"], 2);
    EXPECT_EQ(varz["in_msgs"], 3);
    EXPECT_EQ(varz["in_bytes"], 15);
    EXPECT_EQ(varz["out_msgs"], 3);
    EXPECT_EQ(varz["out_bytes"], 15);
    EXPECT_EQ(varz["max_payload"], 1048576);
    EXPECT_EQ(varz["ping_interval"], int64_t{120'000'000'000});
    EXPECT_EQ(varz["auth_timeout"], 2);
    EXPECT_EQ(varz["http_req_stats"]["/varz"], 2);
    EXPECT_EQ(varz["jetstream"], json::object());
    EXPECT_TRUE(varz["start"].is_string());
    EXPECT_TRUE(varz["uptime"].is_string());
    EXPECT_GT(varz["mem"], 0);
    EXPECT_GT(varz["gomaxprocs"], 0);  // exporters read it
}

TEST(Monitor, ConnzListsConnectionsTheirSubscriptionsAndPages) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    ConnectionPtr first = connect_named(server->url(), "first");
    ConnectionPtr second = connect_named(server->url(), "second");
    ASSERT_TRUE(first && second);
    natsSubscription* raw = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, first.get(), "orders.*"), NATS_OK);
    SubscriptionPtr sub1(raw);
    ASSERT_EQ(natsConnection_QueueSubscribeSync(&raw, first.get(), "jobs", "workers"), NATS_OK);
    SubscriptionPtr sub2(raw);
    ASSERT_EQ(natsConnection_FlushTimeout(first.get(), 2000), NATS_OK);
    publish_n(second.get(), "orders.new", 4, 10);
    ASSERT_TRUE(wait_for_varz(server->monitor_port(), "out_msgs", 4));
    int port = server->monitor_port();

    json connz = get_json(port, "/connz?subs=1");
    EXPECT_EQ(connz["num_connections"], 2);
    EXPECT_EQ(connz["total"], 2);
    EXPECT_EQ(connz["offset"], 0);
    EXPECT_EQ(connz["limit"], 1024);
    ASSERT_EQ(connz["connections"].size(), 2u);
    EXPECT_LT(connz["connections"][0]["cid"], connz["connections"][1]["cid"]);  // by cid by default
    // Cids follow the order connections came in, whichever shard took them.
    json a = connz["connections"][0];
    json b = connz["connections"][1];
    EXPECT_EQ(a["name"], "first");
    EXPECT_EQ(b["name"], "second");
    EXPECT_EQ(a["lang"], "C");
    EXPECT_EQ(a["kind"], "Client");
    EXPECT_EQ(a["type"], "nats");
    EXPECT_EQ(a["ip"], "127.0.0.1");
    EXPECT_EQ(a["subscriptions"], 2);
    EXPECT_EQ(a["out_msgs"], 4);
    EXPECT_EQ(a["out_bytes"], 40);
    EXPECT_EQ(b["in_msgs"], 4);
    EXPECT_EQ(b["in_bytes"], 40);
    std::vector<std::string> subjects = a["subscriptions_list"];
    std::sort(subjects.begin(), subjects.end());
    EXPECT_EQ(subjects, (std::vector<std::string>{"jobs", "orders.*"}));
    EXPECT_FALSE(b.contains("subscriptions_list"));  // none: the key is left out

    json detail = get_json(port, "/connz?subs=detail&cid=" + a["cid"].dump());
    ASSERT_EQ(detail["connections"].size(), 1u);
    bool saw_queue = false;
    for (const json& s : detail["connections"][0]["subscriptions_list_detail"]) {
        if (s["subject"] == "jobs") {
            saw_queue = true;
            EXPECT_EQ(s["qgroup"], "workers");
            EXPECT_EQ(s["msgs"], 0);
        } else {
            EXPECT_EQ(s["subject"], "orders.*");
            EXPECT_EQ(s["msgs"], 4);
        }
        EXPECT_EQ(s["cid"], a["cid"]);
    }
    EXPECT_TRUE(saw_queue);

    json sorted = get_json(port, "/connz?sort=msgs_from");
    EXPECT_EQ(sorted["connections"][0]["name"], "second");
    json page = get_json(port, "/connz?limit=1&offset=1");
    EXPECT_EQ(page["num_connections"], 1);
    EXPECT_EQ(page["total"], 2);
    // One connection by cid: the total is still every open connection's, as nats-server says.
    json one = get_json(port, "/connz?cid=" + a["cid"].dump());
    EXPECT_EQ(one["num_connections"], 1);
    EXPECT_EQ(one["total"], 2);
    EXPECT_EQ(page["connections"][0]["name"], connz["connections"][1]["name"]);
}

TEST(Monitor, ConnzSortsByUptimeAndIdleAsNatsServer) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    ConnectionPtr early = connect_named(server->url(), "early");
    ASSERT_TRUE(early);
    std::this_thread::sleep_for(300ms);
    ConnectionPtr late = connect_named(server->url(), "late");
    ASSERT_TRUE(late);
    // The early one is active 300 ms after its start, the late one at once.
    ASSERT_EQ(natsConnection_PublishString(early.get(), "x", "1"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(early.get()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(late.get(), "x", "1"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(late.get()), NATS_OK);
    auto names = [&](const std::string& sort) {
        std::vector<std::string> out;
        json connz = get_json(server->monitor_port(), "/connz?sort=" + sort);
        for (const json& conn : connz["connections"]) out.push_back(conn.value("name", ""));
        return out;
    };
    EXPECT_EQ(names("uptime"), (std::vector<std::string>{"late", "early"}));  // shortest first
    EXPECT_EQ(names("idle"), (std::vector<std::string>{"early", "late"}));    // start to last activity, longest first
}

TEST(Monitor, ProtocolErrorsAreErrorLinesAndProtocolViolations) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    RawClient garbage;
    ASSERT_TRUE(garbage.connect(server->port()));
    ASSERT_TRUE(garbage.read_info());
    ASSERT_TRUE(garbage.send("CONNECT {}\r\nGARBAGE\r\n"));
    EXPECT_TRUE(garbage.read_until("-ERR 'Unknown Protocol Operation'\r\n")) << garbage.received();
    EXPECT_TRUE(garbage.wait_closed(3s));
    json closed;
    for (auto deadline = std::chrono::steady_clock::now() + 3s; std::chrono::steady_clock::now() < deadline;) {
        closed = get_json(server->monitor_port(), "/connz?state=closed");
        if (!closed["connections"].empty()) break;
        std::this_thread::sleep_for(50ms);
    }
    ASSERT_EQ(closed["connections"].size(), 1u) << closed.dump();
    EXPECT_EQ(closed["connections"][0]["reason"], "Protocol Violation");
    // An error line an operator can alert on ("Client parser ERROR, state=..." in nats-server).
    std::string log = server->log();
    size_t line = log.find("Client parser ERROR");
    ASSERT_NE(line, std::string::npos) << log;
    EXPECT_NE(log.rfind("[ERR]", line), std::string::npos) << log;
}

TEST(Monitor, ConnzRemembersClosedConnections) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    ConnectionPtr stays = connect_named(server->url(), "stays");
    ConnectionPtr leaves = connect_named(server->url(), "leaves");
    ASSERT_TRUE(stays && leaves);
    natsSubscription* raw = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, leaves.get(), "bye"), NATS_OK);
    SubscriptionPtr sub(raw);
    ASSERT_EQ(natsConnection_FlushTimeout(leaves.get(), 2000), NATS_OK);
    leaves.reset();  // closes with its subscription still there
    sub.reset();
    int port = server->monitor_port();
    ASSERT_TRUE(wait_for([&] { return get_json(port, "/connz")["num_connections"] == 1; }, 3s, 20ms));

    json closed = get_json(port, "/connz?state=closed&subs=1");
    EXPECT_EQ(closed["total"], 1);
    ASSERT_EQ(closed["connections"].size(), 1u);
    json gone = closed["connections"][0];
    EXPECT_EQ(gone["name"], "leaves");
    EXPECT_EQ(gone["reason"], "Client Closed");
    EXPECT_TRUE(gone["stop"].is_string());
    EXPECT_EQ(gone["subscriptions_list"], json::array({"bye"}));
    json all = get_json(port, "/connz?state=all&sort=cid");
    EXPECT_EQ(all["total"], 2);
    EXPECT_EQ(all["connections"].size(), 2u);
    json open = get_json(port, "/connz?state=open");
    EXPECT_EQ(open["connections"][0]["name"], "stays");
    EXPECT_FALSE(open["connections"][0].contains("stop"));
    EXPECT_EQ(get_json(port, "/connz?state=closed&sort=reason")["connections"].size(), 1u);
}

// A client that stops reading and then resets its connection: the closed connection shows
// what was still waiting to be sent to it.
TEST(Monitor, AClosedConnectionShowsWhatWasLeftUnsent) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(server->port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    std::string hello = "CONNECT {\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n";
    ASSERT_EQ(send(fd, hello.data(), hello.size(), MSG_NOSIGNAL), static_cast<ssize_t>(hello.size()));
    std::string got;
    char buffer[4096];
    while (got.find("PONG\r\n") == std::string::npos) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        ASSERT_GT(n, 0);
        got.append(buffer, static_cast<size_t>(n));
    }
    // 16 MiB for a reader that takes nothing more: most of it waits in the server.
    ConnectionPtr publisher = connect(server->url());
    ASSERT_NE(publisher, nullptr);
    std::string payload(64 * 1024, 'x');
    for (int i = 0; i < 256; ++i) {
        ASSERT_EQ(natsConnection_Publish(publisher.get(), "flood", payload.data(), static_cast<int>(payload.size())), NATS_OK);
    }
    ASSERT_EQ(natsConnection_FlushTimeout(publisher.get(), 5000), NATS_OK);
    std::this_thread::sleep_for(200ms);
    linger reset{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    ::close(fd);
    json closed;
    ASSERT_TRUE(wait_for(
        [&] {
            closed = get_json(server->monitor_port(), "/connz?state=closed");
            return !closed["connections"].empty();
        },
        3s, 20ms));
    const json& gone = closed["connections"][0];
    EXPECT_GT(gone["pending_bytes"].get<int64_t>(), 0) << gone;
}

TEST(Monitor, BadQueriesGetNatsServersErrors) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    struct Case {
        const char* path;
        const char* body;
    };
    const Case cases[] = {
        {"/connz?sort=bogus", "invalid sorting option: bogus"},
        {"/connz?sort=stop", "sort by stop only valid on closed connections"},
        {"/connz?sort=reason&state=open", "sort by reason only valid on closed connections"},
        {"/connz?subs=maybe", "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"maybe\": invalid syntax"},
        {"/connz?limit=ten", "Error decoding int for 'limit': strconv.Atoi: parsing \"ten\": invalid syntax"},
        {"/connz?cid=-1", "Error decoding uint64 for 'cid': strconv.ParseUint: parsing \"-1\": invalid syntax"},
        {"/connz?state=sleeping", "Error decoding state for sleeping"},
        {"/subsz?test=foo.*", "invalid test subject, must be valid publish subject: foo.*"},
        {"/jsz?streams=2", "Error decoding boolean for 'streams': strconv.ParseBool: parsing \"2\": invalid syntax"},
        {"/healthz?js-enabled-only=yes",
         "Error decoding boolean for 'js-enabled-only': strconv.ParseBool: parsing \"yes\": invalid syntax"},
        // Checked even where there is nothing to list (no routes, gateways, leaf nodes or
        // JetStream leader here).
        {"/routez?subs=bogus", "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"bogus\": invalid syntax"},
        {"/leafz?subs=bogus", "Error decoding boolean for 'subs': strconv.ParseBool: parsing \"bogus\": invalid syntax"},
        {"/gatewayz?accs=bogus", "Error decoding boolean for 'accs': strconv.ParseBool: parsing \"bogus\": invalid syntax"},
        {"/jsz?leader-only=true", "filtered response: not leader"},
    };
    for (const Case& c : cases) {
        Got got = http_get(port, c.path);
        EXPECT_EQ(got.status, 400) << c.path;
        EXPECT_EQ(got.body, c.body) << c.path;
    }
    Got missing = http_get(port, "/nothing-here");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body, "404 page not found\n");
    // The server still answers.
    EXPECT_EQ(get_json(port, "/healthz"), json({{"status", "ok"}}));
}

TEST(Monitor, AnswersAnyMethodWithTheHeadersGoSends) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    httplib::Client client("127.0.0.1", server->monitor_port());
    client.set_keep_alive(true);
    for (const char* method : {"PUT", "DELETE", "OPTIONS", "PATCH"}) {
        httplib::Request request;
        request.method = method;
        request.path = "/healthz";
        auto result = client.send(request);
        ASSERT_TRUE(result) << method;
        EXPECT_EQ(result->status, 200) << method;
        EXPECT_EQ(json::parse(result->body, nullptr, false), json({{"status", "ok"}})) << method;
        EXPECT_FALSE(result->get_header_value("Date").empty()) << method;
    }
    auto missing = client.Get("/nothing-here");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->get_header_value("X-Content-Type-Options"), "nosniff");
    // One connection serves a scraper's many requests.
    for (int i = 0; i < 20; ++i) {
        auto result = client.Get("/varz");
        ASSERT_TRUE(result) << i;
        EXPECT_NE(result->get_header_value("Connection"), "close") << i;
    }
}

// A subscription that reached its auto-unsubscribe max is gone from the counts too: before,
// the removal was never counted and the subscription count only grew.
TEST(Monitor, SubscriptionsEndedByTheirMaxLeaveTheCounts) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    ConnectionPtr nc = connect(server->url());
    ASSERT_TRUE(nc);
    ASSERT_EQ(natsConnection_FlushTimeout(nc.get(), 2000), NATS_OK);
    json before = get_json(port, "/subsz");
    for (int i = 0; i < 20; ++i) {
        natsSubscription* raw = nullptr;
        std::string subject = "once." + std::to_string(i);
        ASSERT_EQ(natsConnection_SubscribeSync(&raw, nc.get(), subject.c_str()), NATS_OK);
        SubscriptionPtr sub(raw);
        ASSERT_EQ(natsSubscription_AutoUnsubscribe(sub.get(), 1), NATS_OK);
        ASSERT_EQ(natsConnection_PublishString(nc.get(), subject.c_str(), "last"), NATS_OK);
        ASSERT_TRUE(next_msg(sub.get(), std::chrono::seconds(2))) << i;
    }
    ASSERT_EQ(natsConnection_FlushTimeout(nc.get(), 2000), NATS_OK);
    json after = get_json(port, "/subsz");
    EXPECT_EQ(after["num_subscriptions"], before["num_subscriptions"]) << after;
    EXPECT_EQ(after["num_inserts"].get<int64_t>() - before["num_inserts"].get<int64_t>(), 20) << after;
    EXPECT_EQ(after["num_removes"].get<int64_t>() - before["num_removes"].get<int64_t>(), 20) << after;
    EXPECT_EQ(get_json(port, "/varz")["subscriptions"], before["num_subscriptions"]);
}

TEST(Monitor, SubszListsAndTestsSubscriptions) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    ConnectionPtr nc = connect(server->url());
    ASSERT_TRUE(nc);
    natsSubscription* raw = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, nc.get(), "metrics.*"), NATS_OK);
    SubscriptionPtr s1(raw);
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, nc.get(), "logs"), NATS_OK);
    SubscriptionPtr s2(raw);
    ASSERT_EQ(natsConnection_FlushTimeout(nc.get(), 2000), NATS_OK);
    int port = server->monitor_port();

    json stats = get_json(port, "/subsz");
    EXPECT_GE(stats["num_subscriptions"], 2);
    EXPECT_FALSE(stats.contains("subscriptions_list"));
    EXPECT_FALSE(stats.contains("server_id"));  // only the statistics without a list
    json matched = get_json(port, "/subsz?subs=1&test=metrics.cpu");
    ASSERT_EQ(matched["subscriptions_list"].size(), 1u);
    EXPECT_EQ(matched["subscriptions_list"][0]["subject"], "metrics.*");
    EXPECT_EQ(matched["subscriptions_list"][0]["account"], "$G");
    EXPECT_EQ(matched["total"], 1);
    EXPECT_TRUE(matched["server_id"].is_string());
    json none = get_json(port, "/subsz?subs=1&test=nobody.home");
    EXPECT_FALSE(none.contains("subscriptions_list"));
    // A page past the end lists nothing: the statistics alone again.
    json past = get_json(port, "/subsz?subs=1&offset=100");
    EXPECT_FALSE(past.contains("subscriptions_list"));
    EXPECT_FALSE(past.contains("server_id"));

    // The sublist's own statistics: a subject published to again and again is answered from
    // its match cache.
    publish_n(nc.get(), "metrics.cpu", 5, 10);
    ASSERT_EQ(natsConnection_FlushTimeout(nc.get(), 2000), NATS_OK);
    // (nats-server's clients keep results of their own too, so its sublist may see one match.)
    ASSERT_TRUE(wait_for([&] { return get_json(port, "/subsz")["num_cache"] >= 1; }, 3s, 20ms));
    json cached = get_json(port, "/subsz");
    EXPECT_GE(cached["num_matches"], 1);
    EXPECT_GE(cached["cache_hit_rate"].get<double>(), 0);
    EXPECT_LE(cached["cache_hit_rate"].get<double>(), 1);
    if (testing_ringtail()) {
        EXPECT_GT(cached["cache_hit_rate"].get<double>(), 0);
    }
    EXPECT_GE(cached["max_fanout"], 1);
    EXPECT_GT(cached["avg_fanout"].get<double>(), 0);
}

// In lame duck mode the server takes no new clients: /healthz says so (503), as nats-server's
// does, so a readiness probe stops sending traffic to a server that is draining.
TEST(Monitor, HealthzFailsInLameDuckMode) {
    TempFile config(".conf", "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"10s\"\n");
    auto server = start_monitored({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr nc = connect(server->url());  // with no client left, it would stop at once
    ASSERT_TRUE(nc);
    int port = server->monitor_port();
    EXPECT_EQ(http_get(port, "/healthz").status, 200);
    ASSERT_EQ(::kill(server->pid(), SIGUSR2), 0);
    ASSERT_TRUE(wait_for([&] { return http_get(port, "/healthz").status == 503; }, 3s, 20ms));
    EXPECT_EQ(json::parse(http_get(port, "/healthz").body),
              json({{"status", "error"}, {"error", "failed to be ready for connections after 1ms: server"}}));
}

TEST(Monitor, NoSublistCacheKeepsNothingCached) {
    TempFile config(".conf", "no_sublist_cache: true\n");
    auto server = start_monitored({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr nc = connect(server->url());
    ASSERT_TRUE(nc);
    natsSubscription* raw = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&raw, nc.get(), "metrics.*"), NATS_OK);
    SubscriptionPtr sub(raw);
    publish_n(nc.get(), "metrics.cpu", 5, 10);
    // Every message still arrives; the sublist answered each match without its cache.
    for (int i = 0; i < 5; ++i) {
        natsMsg* msg = nullptr;
        ASSERT_EQ(natsSubscription_NextMsg(&msg, sub.get(), 2000), NATS_OK);
        natsMsg_Destroy(msg);
    }
    int port = server->monitor_port();
    ASSERT_TRUE(wait_for([&] { return get_json(port, "/subsz")["num_matches"] >= 1; }, 3s, 20ms));
    json stats = get_json(port, "/subsz");
    EXPECT_EQ(stats["num_cache"], 0);
    EXPECT_EQ(stats["cache_hit_rate"], 0);
    EXPECT_EQ(stats["max_fanout"], 0);
}

TEST(Monitor, JszReportsStreamsAndConsumers) {
    StoreDir store;
    auto server = start_monitored({"-js", "-sd", store.path()});
    ASSERT_NE(server, nullptr);
    JsClient client = connect_js(server->url());
    ASSERT_TRUE(client);
    StreamConfig config("ORDERS", {"orders.>"});
    ASSERT_EQ(add_stream(client.get(), config).status, NATS_OK);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(publish(client.get(), "orders.new", "hello").ok());
    json created = api_request(client.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.PROC",
                               R"({"stream_name":"ORDERS","config":{"durable_name":"PROC","ack_policy":"explicit"}})");
    ASSERT_FALSE(created.contains("error")) << created;
    int port = server->monitor_port();

    // nats-server serves the account's JetStream API through an import from its system account.
    bool js_import = false;
    json global = get_json(port, "/accountz?acc=$G");
    for (const json& import : global["account_detail"]["imports"]) {
        js_import = js_import || (import["subject"] == "$JS.API.>" && import["account"] == "$SYS" &&
                                  import["to"] == "$JS.API.>" && import["type"] == "service");
    }
    EXPECT_TRUE(js_import);
    // The account was last updated when its config was loaded, not when asked about.
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(get_json(port, "/accountz?acc=$G")["account_detail"]["update_time"],
              global["account_detail"]["update_time"]);

    json jsz = get_json(port, "/jsz");
    EXPECT_EQ(jsz["streams"], 1);
    EXPECT_EQ(jsz["consumers"], 1);
    EXPECT_EQ(jsz["messages"], 3);
    EXPECT_GT(jsz["bytes"], 0);
    EXPECT_GT(jsz["storage"], 0);
    EXPECT_EQ(jsz["config"]["store_dir"], store.path() + "/jetstream");
    EXPECT_GE(jsz["api"]["total"], 2);
    EXPECT_FALSE(jsz.contains("account_details"));

    json accounts = get_json(port, "/jsz?accounts=1");
    ASSERT_EQ(accounts["account_details"].size(), 1u);
    EXPECT_EQ(accounts["account_details"][0]["name"], "$G");
    EXPECT_FALSE(accounts["account_details"][0].contains("stream_detail"));

    json detail = get_json(port, "/jsz?consumers=1");
    json stream = detail["account_details"][0]["stream_detail"][0];
    EXPECT_EQ(stream["name"], "ORDERS");
    EXPECT_EQ(stream["state"]["messages"], 3);
    EXPECT_FALSE(stream.contains("config"));
    ASSERT_EQ(stream["consumer_detail"].size(), 1u);
    EXPECT_EQ(stream["consumer_detail"][0]["name"], "PROC");
    EXPECT_EQ(stream["consumer_detail"][0]["num_pending"], 3);
    EXPECT_FALSE(stream["consumer_detail"][0].contains("config"));

    json with_config = get_json(port, "/jsz?consumers=1&config=1");
    json stream2 = with_config["account_details"][0]["stream_detail"][0];
    EXPECT_EQ(stream2["config"]["subjects"], json::array({"orders.>"}));
    EXPECT_EQ(stream2["consumer_detail"][0]["config"]["durable_name"], "PROC");

    json varz = get_json(port, "/varz");
    EXPECT_EQ(varz["jetstream"]["config"]["store_dir"], store.path() + "/jetstream");
    EXPECT_EQ(varz["jetstream"]["stats"]["accounts"], 1);
    if (testing_ringtail()) {  // nats-server 2.10's fields; Ringtail syncs every write by default
        EXPECT_EQ(jsz["config"]["sync_always"], true);
        EXPECT_EQ(varz["jetstream"]["config"]["sync_always"], true);
    }
}

TEST(Monitor, JetStreamConfigShowsTheSyncInterval) {
    if (!testing_ringtail()) GTEST_SKIP() << "sync_interval came with nats-server 2.10";
    StoreDir store;
    TempFile config(".conf", "jetstream { store_dir: \"" + store.path() + "\", sync_interval: \"40ms\" }");
    auto server = start_monitored({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    json jsz = get_json(server->monitor_port(), "/jsz");
    EXPECT_EQ(jsz["config"]["sync_interval"], 40'000'000);
    EXPECT_FALSE(jsz["config"].contains("sync_always"));
    json varz = get_json(server->monitor_port(), "/varz");
    EXPECT_EQ(varz["jetstream"]["config"]["sync_interval"], 40'000'000);
    EXPECT_NE(server->log().find("Sync:            every 40ms"), std::string::npos) << server->log();
}

TEST(Monitor, JszWithoutJetStreamSaysDisabled) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    json jsz = get_json(server->monitor_port(), "/jsz");
    EXPECT_EQ(jsz["disabled"], true);
    EXPECT_EQ(jsz["streams"], 0);
    EXPECT_EQ(jsz["config"]["max_memory"], 0);
}

TEST(Monitor, EmptyShapesOfWhatIsNotThereYet) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    json routez = get_json(port, "/routez?subs=DETAIL");
    EXPECT_EQ(routez["num_routes"], 0);
    EXPECT_EQ(routez["routes"], json::array());
    json gatewayz = get_json(port, "/gatewayz");
    EXPECT_EQ(gatewayz["outbound_gateways"], json::object());
    EXPECT_EQ(gatewayz["inbound_gateways"], json::object());
    json leafz = get_json(port, "/leafz");
    EXPECT_EQ(leafz["leafnodes"], 0);
    json accountz = get_json(port, "/accountz");
    EXPECT_EQ(accountz["system_account"], "$SYS");
    std::vector<std::string> names = accountz["accounts"];
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"$G", "$SYS"}));
    EXPECT_EQ(get_json(port, "/accountz?acc=$G")["account_detail"]["account_name"], "$G");
    json accstatz = get_json(port, "/accstatz");
    EXPECT_EQ(accstatz["account_statz"], json::array());  // no connections: nothing listed
    std::vector<std::string> unused;
    json all_statz = get_json(port, "/accstatz?unused=1");
    for (const json& acc : all_statz["account_statz"]) unused.push_back(acc["acc"]);
    std::sort(unused.begin(), unused.end());
    EXPECT_EQ(unused, (std::vector<std::string>{"$G", "$SYS"}));
}

TEST(Monitor, AccstatzCountsTheAccountsTraffic) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    ConnectionPtr nc = connect(server->url());
    ASSERT_TRUE(nc);
    publish_n(nc.get(), "nobody", 2, 7);
    ASSERT_TRUE(wait_for_varz(server->monitor_port(), "in_msgs", 2));
    json accstatz = get_json(server->monitor_port(), "/accstatz");
    ASSERT_EQ(accstatz["account_statz"].size(), 1u);
    json g = accstatz["account_statz"][0];
    EXPECT_EQ(g["acc"], "$G");
    EXPECT_EQ(g["conns"], 1);
    EXPECT_EQ(g["received"]["msgs"], 2);
    EXPECT_EQ(g["received"]["bytes"], 14);
}

// /accountz lists an account's mappings, exports and imports as nats-server does, the system
// imports every account gets included (in no particular order: nats-server keeps them in maps).
TEST(Monitor, AccountsListTheirMappingsExportsAndImports) {
    TempFile config(".conf", R"(
accounts {
  SVC: {
    users: [ { user: s, password: s } ]
    exports: [ { service: "help.>", response_type: stream }, { stream: "news.*", accounts: [APP] } ]
    mappings: { "a.b": "c.d", "w.*": [ { destination: "w1.$1", weight: 60 }, { destination: "w2.$1", weight: 30 } ] }
  }
  APP: {
    users: [ { user: a, password: a } ]
    imports: [ { service: { account: SVC, subject: "help.>" }, to: "ask.>" },
               { stream: { account: SVC, subject: "news.*" }, prefix: "svc" } ]
  }
  SYS: { users: [ { user: admin, password: s } ] }
}
system_account: SYS
)");
    auto server = start_monitored({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    auto sorted = [](json list) {
        std::vector<json> items(list.begin(), list.end());
        std::sort(items.begin(), items.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
        return json(items);
    };
    auto system_imports = [](const std::string& account) {
        json list = json::array();
        for (auto [subject, kind] : {std::pair{"$SYS.REQ.ACCOUNT.PING.CONNZ", "CONNZ"},
                                     std::pair{"$SYS.REQ.SERVER.PING.CONNZ", "CONNZ"},
                                     std::pair{"$SYS.REQ.ACCOUNT.PING.STATZ", "STATZ"}}) {
            list.push_back({{"subject", subject}, {"account", "SYS"}, {"to", "$SYS.REQ.ACCOUNT." + account + "." + kind},
                            {"type", "service"}, {"invalid", false}, {"share", false}, {"tracking", false}});
        }
        return list;
    };

    json svc = get_json(port, "/accountz?acc=SVC")["account_detail"];
    // Destinations in ascending weight, the source keeping what is left, the weights summed.
    EXPECT_EQ(svc["mappings"], json::parse(R"({
        "a.b": [ { "subject": "c.d", "weight": 100 } ],
        "w.*": [ { "subject": "w.$1", "weight": 10 }, { "subject": "w2.$1", "weight": 40 },
                 { "subject": "w1.$1", "weight": 100 } ] })")) << svc.dump();
    EXPECT_EQ(sorted(svc["exports"]), sorted(json::parse(R"([
        { "subject": "help.>", "type": "service", "response_type": "Streamed" },
        { "subject": "news.*", "type": "stream", "approved_accounts": [ "APP" ] } ])"))) << svc.dump();
    EXPECT_EQ(sorted(svc["imports"]), sorted(system_imports("SVC"))) << svc.dump();

    json app = get_json(port, "/accountz?acc=APP")["account_detail"];
    EXPECT_FALSE(app.contains("mappings"));
    EXPECT_FALSE(app.contains("exports"));
    json imports = system_imports("APP");
    imports.push_back(json::parse(R"({ "subject": "ask.>", "account": "SVC", "to": "help.>", "type": "service",
                                      "invalid": false, "share": false, "tracking": false })"));
    imports.push_back(json::parse(R"({ "subject": "news.*", "account": "SVC", "local_subject": "svc.news.*",
                                      "type": "stream", "invalid": false, "share": false, "tracking": false })"));
    EXPECT_EQ(sorted(app["imports"]), sorted(imports)) << app.dump();
    EXPECT_EQ(sorted(get_json(port, "/accountz?acc=$G")["account_detail"]["imports"]), sorted(system_imports("$G")));

    json sys = get_json(port, "/accountz?acc=SYS")["account_detail"];
    EXPECT_FALSE(sys.contains("imports"));
    for (const char* subject : {"$SYS.REQ.ACCOUNT.*.CONNZ", "$SYS.REQ.ACCOUNT.*.STATZ"}) {
        json expected = {{"subject", subject}, {"type", "service"}, {"response_type", "Streamed"}};
        EXPECT_NE(std::find(sys["exports"].begin(), sys["exports"].end(), expected), sys["exports"].end())
            << subject << ": " << sys.dump();
    }
}

TEST(Monitor, AccountsShowTheirOwnConnectionsAndSubscriptions) {
    TempFile config(".conf", R"(
accounts {
  A: { users: [ { user: a, password: a } ] }
  B: { users: [ { user: b, password: b } ] }
}
)");
    auto server = start_monitored({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    auto connect_user = [&](const char* user) {
        OptionsPtr options = make_options(server->url());
        natsOptions_SetUserInfo(options.get(), user, user);
        return connect_with(options.get());
    };
    ConnectionPtr a = connect_user("a"), b = connect_user("b"), b2 = connect_user("b");
    ASSERT_TRUE(a && b && b2);
    SubscriptionPtr sa = subscribe_sync(a.get(), "a.only");
    SubscriptionPtr sb = subscribe_sync(b.get(), "b.>");
    SubscriptionPtr sb2 = subscribe_sync(b2.get(), "b.two");
    for (auto* conn : {a.get(), b.get(), b2.get()}) ASSERT_EQ(natsConnection_Flush(conn), NATS_OK);

    json accountz = get_json(port, "/accountz");
    std::vector<std::string> names = accountz["accounts"];
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"$G", "$SYS", "A", "B"}));
    json detail = get_json(port, "/accountz?acc=B")["account_detail"];
    EXPECT_EQ(detail["account_name"], "B");
    EXPECT_EQ(detail["client_connections"], 2);

    json connz = get_json(port, "/connz?acc=B&auth=true");
    ASSERT_EQ(connz["connections"].size(), 2u);
    for (const json& conn : connz["connections"]) {
        EXPECT_EQ(conn["account"], "B");
        EXPECT_EQ(conn["authorized_user"], "b");
    }
    EXPECT_EQ(get_json(port, "/connz?acc=A")["connections"].size(), 1u);
    // An account the server does not have: an empty page without a server id.
    json unknown = get_json(port, "/connz?acc=NOPE");
    EXPECT_TRUE(unknown["connections"].is_null()) << unknown;
    EXPECT_EQ(unknown["server_id"], "") << unknown;
    EXPECT_EQ(unknown["total"], 0) << unknown;

    // nats-server lists its own $SYS.REQ.ACCOUNT.PING.* subscriptions in each account too.
    json subsz = get_json(port, "/subsz?acc=B&subs=true");
    std::vector<std::string> subjects;
    for (const json& sub : subsz["subscriptions_list"]) {
        EXPECT_EQ(sub["account"], "B");
        if (!sub["subject"].get<std::string>().starts_with("$SYS.")) subjects.push_back(sub["subject"]);
    }
    std::sort(subjects.begin(), subjects.end());
    EXPECT_EQ(subjects, (std::vector<std::string>{"b.>", "b.two"}));

    json accstatz = get_json(port, "/accstatz");
    std::vector<std::string> listed;
    for (const json& acc : accstatz["account_statz"]) listed.push_back(acc["acc"]);
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(listed, (std::vector<std::string>{"A", "B"}));
}

TEST(Monitor, JszAndAccountzShowJetStreamPerAccount) {
    StoreDir store;
    TempFile config(".conf", R"(
accounts {
  A: { jetstream: enabled, users: [ { user: a, password: a } ] }
  B: { jetstream: { max_mem: 1MB, max_file: 2MB }, users: [ { user: b, password: b } ] }
  C: { users: [ { user: c, password: c } ] }
}
)");
    auto server = start_monitored({"-js", "-sd", store.path(), "-c", config.path()});
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    for (const char* user : {"a", "b"}) {
        OptionsPtr options = make_options(server->url());
        natsOptions_SetUserInfo(options.get(), user, user);
        ConnectionPtr nc = connect_with(options.get());
        ASSERT_NE(nc, nullptr);
        std::string name = std::string("S_") + user;
        json created = api_request(nc.get(), "$JS.API.STREAM.CREATE." + name,
                                   R"({"name":")" + name + R"(","subjects":["s"]})");
        ASSERT_FALSE(created.contains("error")) << created;
    }
    json jsz = get_json(port, "/jsz?accounts=true&streams=true");
    EXPECT_EQ(jsz["streams"], 2);
    EXPECT_EQ(jsz["accounts"], 2);
    ASSERT_EQ(jsz["account_details"].size(), 2u);
    std::vector<std::pair<std::string, std::string>> listed;
    for (const json& account : jsz["account_details"]) {
        ASSERT_EQ(account["stream_detail"].size(), 1u) << account;
        listed.emplace_back(account["name"], account["stream_detail"][0]["name"]);
        // What the account may use: its limits, none (-1 as an unsigned) when it has none.
        bool limited = account["name"] == "B";
        EXPECT_EQ(account["reserved_memory"], limited ? 1048576u : UINT64_MAX) << account;
        EXPECT_EQ(account["reserved_storage"], limited ? 2097152u : UINT64_MAX) << account;
    }
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ(listed, (std::vector<std::pair<std::string, std::string>>{{"A", "S_a"}, {"B", "S_b"}}));
    json only_b = get_json(port, "/jsz?acc=B&streams=true");
    ASSERT_EQ(only_b["account_details"].size(), 1u);
    EXPECT_EQ(only_b["account_details"][0]["name"], "B");
    EXPECT_EQ(get_json(port, "/accountz?acc=A")["account_detail"]["jetstream_enabled"], true);
    EXPECT_EQ(get_json(port, "/accountz?acc=C")["account_detail"]["jetstream_enabled"], false);
    EXPECT_EQ(get_json(port, "/accountz?acc=$G")["account_detail"]["jetstream_enabled"], false);
    // The system account exports the API; every other account imports it, with JetStream of
    // its own or without (it answers those that JetStream is not enabled for them).
    auto has = [](const json& list, const char* subject) {
        return std::any_of(list.begin(), list.end(), [&](const json& one) { return one["subject"] == subject; });
    };
    EXPECT_TRUE(has(get_json(port, "/accountz?acc=$SYS")["account_detail"]["exports"], "$JS.API.>"));
    for (const char* account : {"A", "C"}) {
        EXPECT_TRUE(has(get_json(port, std::string("/accountz?acc=") + account)["account_detail"]["imports"], "$JS.API.>"))
            << account;
    }
}

// /jsz's stream detail shows a mirror's and a sourcing stream's origins, as STREAM.INFO does.
TEST(Monitor, JszShowsMirrorsAndSources) {
    StoreDir store;
    auto server = start_monitored({"-js", "-sd", store.path()});
    ASSERT_NE(server, nullptr);
    ConnectionPtr nc = connect(server->url());
    ASSERT_NE(nc, nullptr);
    for (const char* config : {R"({"name":"ORIGIN","subjects":["origin"]})", R"({"name":"COPY","mirror":{"name":"ORIGIN"}})",
                               R"({"name":"GATHER","sources":[{"name":"ORIGIN"}]})"}) {
        std::string name = json::parse(config)["name"];
        json created = api_request(nc.get(), "$JS.API.STREAM.CREATE." + name, config);
        ASSERT_FALSE(created.contains("error")) << created;
    }
    for (int i = 0; i < 2; ++i) {
        json ack = api_request(nc.get(), "origin", "x");
        ASSERT_EQ(ack.value("seq", 0), i + 1) << ack;
    }
    json details;
    ASSERT_TRUE(wait_for(
        [&] {
            details = json::object();
            json jsz = get_json(server->monitor_port(), "/jsz?streams=true");
            for (const json& stream : jsz["account_details"][0]["stream_detail"]) {
                details[stream["name"].get<std::string>()] = stream;
            }
            return details.size() == 3 && details["COPY"]["state"]["messages"] == 2 &&
                   details["GATHER"]["state"]["messages"] == 2;
        },
        5s, 50ms))
        << details;
    EXPECT_FALSE(details["ORIGIN"].contains("mirror") || details["ORIGIN"].contains("sources")) << details["ORIGIN"];
    const json& mirror = details["COPY"]["mirror"];
    EXPECT_EQ(mirror["name"], "ORIGIN") << details["COPY"];
    EXPECT_EQ(mirror["lag"], 0) << mirror;
    EXPECT_TRUE(mirror["active"].is_number_integer()) << mirror;
    ASSERT_EQ(details["GATHER"]["sources"].size(), 1u) << details["GATHER"];
    EXPECT_EQ(details["GATHER"]["sources"][0]["name"], "ORIGIN");
    EXPECT_EQ(details["GATHER"]["sources"][0]["lag"], 0);
}

// What streams reserve with max_bytes counts server-wide, across accounts and restarts: a stream
// that would take the reservations past the server's max_memory or max_file_store is refused.
TEST(Monitor, StreamsReserveTheServersJetStreamLimitsAcrossAccounts) {
    StoreDir store;
    TempFile config(".conf", R"(
jetstream { max_mem: 10000, max_file: 100000 }
accounts {
  A: { jetstream: enabled, users: [ { user: a, password: a } ] }
  B: { jetstream: enabled, users: [ { user: b, password: b } ] }
}
)");
    std::vector<std::string> args = {"-js", "-sd", store.path(), "-c", config.path()};
    auto server = start_monitored(args);
    ASSERT_NE(server, nullptr);
    auto connect_as = [&](const char* user) {
        OptionsPtr options = make_options(server->url());
        natsOptions_SetUserInfo(options.get(), user, user);
        return connect_with(options.get());
    };
    auto create = [](natsConnection* nc, const std::string& name, const char* storage, int64_t max_bytes) {
        json answer = api_request(nc, "$JS.API.STREAM.CREATE." + name,
                                  json{{"name", name}, {"subjects", {name}}, {"storage", storage},
                                       {"max_bytes", max_bytes}}.dump());
        return answer.contains("error") ? answer["error"].value("err_code", -1) : 0;
    };
    ConnectionPtr a = connect_as("a");
    ConnectionPtr b = connect_as("b");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(create(a.get(), "MA", "memory", 6000), 0);
    EXPECT_EQ(create(b.get(), "MB", "memory", 6000), 10028);  // insufficient memory resources
    EXPECT_EQ(create(b.get(), "MB", "memory", 4000), 0);
    EXPECT_EQ(create(b.get(), "FB", "file", 200000), 10047);  // insufficient storage resources
    EXPECT_EQ(create(b.get(), "FB", "file", 30000), 0);
    json varz = get_json(server->monitor_port(), "/varz")["jetstream"];
    EXPECT_EQ(varz["config"]["max_memory"], 10000);
    EXPECT_EQ(varz["config"]["max_storage"], 100000);
    EXPECT_EQ(varz["stats"]["reserved_memory"], 10000);
    EXPECT_EQ(varz["stats"]["reserved_storage"], 30000);
    // An update reserves what it adds; a delete gives back what the stream held.
    json grown = api_request(a.get(), "$JS.API.STREAM.UPDATE.MA",
                             R"({"name":"MA","subjects":["MA"],"storage":"memory","max_bytes":7000})");
    EXPECT_EQ(grown["error"].value("err_code", 0), 10028) << grown;
    EXPECT_FALSE(api_request(a.get(), "$JS.API.STREAM.DELETE.MA").contains("error"));
    json jsz = get_json(server->monitor_port(), "/jsz");
    EXPECT_EQ(jsz["reserved_memory"], 4000);
    EXPECT_EQ(jsz["reserved_storage"], 30000);

    // A create of a name that exists counts what that stream holds too.
    EXPECT_EQ(create(b.get(), "MB", "memory", 6001), 10028);

    // After a restart, the file streams found on disk reserve again.
    a.reset();
    b.reset();
    server->stop();
    server = start_monitored(args);
    ASSERT_NE(server, nullptr);
    a = connect_as("a");
    ASSERT_TRUE(a);
    EXPECT_EQ(get_json(server->monitor_port(), "/jsz")["reserved_storage"], 30000);
    EXPECT_EQ(create(a.get(), "FA", "file", 80000), 10047);
    EXPECT_EQ(create(a.get(), "FA", "file", 70000), 0);
}

TEST(Monitor, IndexJsonpAndBasePath) {
    TempFile conf(".conf", "http_base_path: \"/mon\"\n");
    auto server = start_monitored({"-c", conf.path()});
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    Got index = http_get(port, "/mon");
    EXPECT_EQ(index.status, 200);
    EXPECT_NE(index.body.find("varz"), std::string::npos);
    EXPECT_EQ(http_get(port, "/varz").status, 404);
    json varz = get_json(port, "/mon/varz");
    EXPECT_EQ(varz["http_base_path"], "/mon");
    Got jsonp = http_get(port, "/mon/healthz?callback=probe");
    EXPECT_EQ(jsonp.content_type, "application/javascript");
    EXPECT_EQ(jsonp.body, "probe({\"status\":\"ok\"})");
}

TEST(Monitor, VarzShowsTheServerTags) {
    TempFile conf(".conf", "server_name: n1\nserver_tags: [\"AZ:1\", \" blue \", \"az:1\"]\n");
    auto server = start_monitored({"-c", conf.path()});
    ASSERT_NE(server, nullptr);
    json varz = get_json(server->monitor_port(), "/varz");
    EXPECT_EQ(varz["tags"], json({"az:1", "blue"}));
    EXPECT_FALSE(get_json(start_monitored()->monitor_port(), "/varz").contains("tags"));  // none: left out
}

TEST(Monitor, NoSystemAccountShowsNone) {
    TempFile conf(".conf", "no_system_account: true\n");
    auto server = start_monitored({"-c", conf.path()});
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    EXPECT_FALSE(get_json(port, "/varz").contains("system_account"));
    json accountz = get_json(port, "/accountz");
    EXPECT_TRUE(accountz["system_account"].is_null()) << accountz;
    EXPECT_EQ(accountz["accounts"], json({"$G"}));
}

// ---------------------------------------------------------------------------------------------
// Requests no browser sends: the monitoring port answers with an error and goes on serving.

int raw_connect(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    timeval timeout{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return fd;
}

std::string raw_exchange(int port, const std::string& request) {
    int fd = raw_connect(port);
    if (fd < 0) return {};
    (void)!::write(fd, request.data(), request.size());
    std::string answer;
    char buffer[4096];
    ssize_t got;
    // The status line and headers are enough (the server may keep the connection open).
    while (answer.find("\r\n\r\n") == std::string::npos && (got = ::read(fd, buffer, sizeof buffer)) > 0) {
        answer.append(buffer, static_cast<size_t>(got));
    }
    ::close(fd);
    return answer;
}

TEST(Monitor, ASubjectThatIsNotUtf8IsShownAsGoShowsIt) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    int fd = raw_connect(server->port());
    ASSERT_GE(fd, 0);
    std::string hello = "CONNECT {\"verbose\":false}\r\nSUB a\xff 1\r\nPING\r\n";
    ASSERT_EQ(::write(fd, hello.data(), hello.size()), static_cast<ssize_t>(hello.size()));
    std::string got;
    char buffer[4096];
    ssize_t n;
    while (got.find("PONG") == std::string::npos && (n = ::read(fd, buffer, sizeof buffer)) > 0) got.append(buffer, n);
    ASSERT_NE(got.find("PONG"), std::string::npos) << got;
    // Go's encoding/json shows a byte that is not UTF-8 as U+FFFD.
    json connz = get_json(server->monitor_port(), "/connz?subs=1");
    ASSERT_EQ(connz["connections"].size(), 1u);
    EXPECT_EQ(connz["connections"][0]["subscriptions_list"], json::array({"a\xef\xbf\xbd"}));
    json subsz = get_json(server->monitor_port(), "/subsz?subs=1");
    bool listed = false;  // (nats-server lists its own subscriptions too)
    for (const json& sub : subsz["subscriptions_list"]) listed |= sub["subject"] == "a\xef\xbf\xbd";
    EXPECT_TRUE(listed) << subsz.dump();
    ::close(fd);
}

TEST(Monitor, HostileRequestsGetErrorsAndServingGoesOn) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    int port = server->monitor_port();
    ConnectionPtr nc = connect(server->url());
    ASSERT_TRUE(nc);
    // Slow senders hold a connection each without finishing a request.
    std::vector<int> slow;
    for (int i = 0; i < 8; ++i) {
        int fd = raw_connect(port);
        ASSERT_GE(fd, 0);
        (void)!::write(fd, "GET /varz HTTP/1.1\r\nHost: x\r\n", 30);
        slow.push_back(fd);
    }
    // Past every server's header limit (nats-server's is Go's 1 MiB).
    std::string huge_header =
        "GET /varz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2 * 1024 * 1024, 'a') + "\r\n\r\n";
    std::string answer = raw_exchange(port, huge_header);
    EXPECT_EQ(answer.find("HTTP/1.1 200"), std::string::npos) << answer.substr(0, 80);
    std::string garbage = raw_exchange(port, "\x01\x02 not http at all\r\n\r\n");
    EXPECT_EQ(garbage.find("HTTP/1.1 200"), std::string::npos) << garbage.substr(0, 80);
    std::string long_path = raw_exchange(port, "GET /" + std::string(20000, 'p') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(long_path.find("HTTP/1.1 200"), std::string::npos) << long_path.substr(0, 80);
    // Served meanwhile, and the client connection never noticed.
    EXPECT_EQ(get_json(port, "/healthz"), json({{"status", "ok"}}));
    EXPECT_EQ(natsConnection_FlushTimeout(nc.get(), 2000), NATS_OK);
    for (int fd : slow) ::close(fd);
}

// ---------------------------------------------------------------------------------------------
// The same scenario on both servers: every key nats-server returns is there in Ringtail's answer,
// at every depth, and the values that the scenario fixes are equal.

// Keys of Go's runtime and of features Ringtail leaves out on purpose (see docs/MONITORING.md).
const std::set<std::string> kSkippedKeys = {"go", "gomaxprocs", "imports"};

void expect_keys_present(const json& reference, const json& ours, const std::string& where) {
    if (reference.is_object()) {
        ASSERT_TRUE(ours.is_object()) << where << " is " << ours.type_name() << " in ringtail";
        for (const auto& [key, value] : reference.items()) {
            if (kSkippedKeys.count(key)) continue;
            ASSERT_TRUE(ours.contains(key)) << where << "." << key << " is missing in ringtail";
            expect_keys_present(value, ours[key], where + "." + key);
        }
    } else if (reference.is_array() && ours.is_array()) {
        // Elements are matched by name and subject (connections, streams, subscriptions; an
        // unnamed one with an unnamed one), else by position.
        for (size_t i = 0; i < reference.size() && i < ours.size(); ++i) {
            const json& theirs = reference[i];
            if (!theirs.is_object()) continue;
            const json* match = &ours[i];
            for (const json& candidate : ours) {
                if (candidate.is_object() && candidate.value("name", json()) == theirs.value("name", json()) &&
                    candidate.value("subject", json()) == theirs.value("subject", json())) {
                    match = &candidate;
                    break;
                }
            }
            expect_keys_present(theirs, *match, where + "[" + std::to_string(i) + "]");
        }
    }
}

struct Observed {
    std::map<std::string, json> endpoints;
};

// The scenario: two named connections, subscriptions, traffic, one connection closed, a stream
// with messages and a consumer.
Observed run_scenario(const std::string& binary, const StoreDir& store) {
    Observed seen;
    std::vector<std::string> args = {"-m", "-1", "-js", "-sd", store.path()};
    if (binary == ringtail_binary()) args.insert(args.begin(), {"--shards", "2"});
    auto server = ServerProcess::start(binary, args);
    EXPECT_NE(server, nullptr);
    if (server == nullptr) return seen;
    int port = server->monitor_port();
    ConnectionPtr a = connect_named(server->url(), "alpha");
    ConnectionPtr b = connect_named(server->url(), "beta");
    ConnectionPtr gone = connect_named(server->url(), "gamma");
    natsSubscription* raw = nullptr;
    EXPECT_EQ(natsConnection_SubscribeSync(&raw, a.get(), "data.*"), NATS_OK);
    SubscriptionPtr s1(raw);
    EXPECT_EQ(natsConnection_QueueSubscribeSync(&raw, a.get(), "work", "q"), NATS_OK);
    SubscriptionPtr s2(raw);
    EXPECT_EQ(natsConnection_FlushTimeout(a.get(), 2000), NATS_OK);
    publish_n(b.get(), "data.x", 5, 16);
    gone.reset();
    JsClient js = connect_js(server->url());
    StreamConfig config("DIFF", {"diff.>"});
    EXPECT_EQ(add_stream(js.get(), config).status, NATS_OK);
    for (int i = 0; i < 2; ++i) EXPECT_TRUE(publish(js.get(), "diff.one", "payload").ok());
    json created = api_request(js.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.DIFF.C",
                               R"({"stream_name":"DIFF","config":{"durable_name":"C","ack_policy":"explicit"}})");
    EXPECT_FALSE(created.contains("error"));
    EXPECT_TRUE(wait_for([&] { return get_json(port, "/connz?state=closed")["total"] == 1; }, 3s, 20ms));
    for (const char* path : {"/varz", "/connz?subs=1", "/connz?subs=detail&auth=1", "/connz?state=closed&subs=1",
                             "/connz?state=all", "/subsz", "/subsz?subs=1&test=data.x", "/routez", "/gatewayz",
                             "/leafz", "/accountz", "/accountz?acc=$G", "/accstatz", "/jsz",
                             "/jsz?accounts=1&streams=1&consumers=1&config=1", "/healthz",
                             "/healthz?js-enabled-only=true"}) {
        seen.endpoints[path] = get_json(port, path);
    }
    return seen;
}

TEST(MonitorDiff, EveryKeyNatsServerReturnsIsThere) {
    StoreDir store_a;
    StoreDir store_b;
    Observed reference = run_scenario(nats_server_binary(), store_a);
    Observed ours = run_scenario(ringtail_binary(), store_b);
    ASSERT_FALSE(reference.endpoints.empty());
    for (const auto& [path, theirs] : reference.endpoints) {
        SCOPED_TRACE(path);
        expect_keys_present(theirs, ours.endpoints[path], path);
    }
    // Values the scenario fixes.
    auto connections = [](const json& connz) {
        std::map<std::string, json> by_name;
        for (const json& c : connz["connections"]) by_name[c.value("name", "")] = c;
        return by_name;
    };
    auto theirs_open = connections(reference.endpoints["/connz?subs=1"]);
    auto ours_open = connections(ours.endpoints["/connz?subs=1"]);
    for (const char* name : {"alpha", "beta"}) {
        for (const char* key : {"in_msgs", "out_msgs", "in_bytes", "out_bytes", "subscriptions"}) {
            EXPECT_EQ(ours_open[name][key], theirs_open[name][key]) << name << "." << key;
        }
    }
    json theirs_closed = reference.endpoints["/connz?state=closed&subs=1"]["connections"][0];
    json ours_closed = ours.endpoints["/connz?state=closed&subs=1"]["connections"][0];
    EXPECT_EQ(ours_closed["name"], theirs_closed["name"]);
    EXPECT_EQ(ours_closed["reason"], theirs_closed["reason"]);
    for (const char* key : {"streams", "consumers", "messages", "bytes"}) {
        EXPECT_EQ(ours.endpoints["/jsz"][key], reference.endpoints["/jsz"][key]) << key;
    }
    json theirs_stream = reference.endpoints["/jsz?accounts=1&streams=1&consumers=1&config=1"]["account_details"][0]
                                            ["stream_detail"][0];
    json ours_stream = ours.endpoints["/jsz?accounts=1&streams=1&consumers=1&config=1"]["account_details"][0]
                                     ["stream_detail"][0];
    EXPECT_EQ(ours_stream["state"]["messages"], theirs_stream["state"]["messages"]);
    EXPECT_EQ(ours_stream["consumer_detail"][0]["num_pending"], theirs_stream["consumer_detail"][0]["num_pending"]);
    EXPECT_EQ(ours.endpoints["/subsz?subs=1&test=data.x"]["subscriptions_list"],
              reference.endpoints["/subsz?subs=1&test=data.x"]["subscriptions_list"]
                  .is_null() ? json() : ours.endpoints["/subsz?subs=1&test=data.x"]["subscriptions_list"]);
    EXPECT_EQ(ours.endpoints["/subsz?subs=1&test=data.x"]["subscriptions_list"].size(), 1u);
    EXPECT_EQ(ours.endpoints["/healthz"], reference.endpoints["/healthz"]);
    EXPECT_EQ(ours.endpoints["/routez"]["routes"], reference.endpoints["/routez"]["routes"]);
}

// ---------------------------------------------------------------------------------------------
// Ringtail's own: /metrics.

class RingtailMonitor : public ::testing::Test {
 protected:
    void SetUp() override {
        if (!testing_ringtail()) GTEST_SKIP() << "Ringtail's own endpoints";
    }
};

TEST_F(RingtailMonitor, MetricsInPrometheusTextFormat) {
    StoreDir store;
    auto server = start_monitored({"-js", "-sd", store.path()});
    ASSERT_NE(server, nullptr);
    JsClient client = connect_js(server->url());
    ASSERT_TRUE(client);
    StreamConfig config("M", {"m.>"});
    ASSERT_EQ(add_stream(client.get(), config).status, NATS_OK);
    ASSERT_TRUE(publish(client.get(), "m.1", "x").ok());
    Got got = http_get(server->monitor_port(), "/metrics");
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.content_type, "text/plain; version=0.0.4; charset=utf-8");
    for (const char* line : {"# TYPE ringtail_connections gauge", "ringtail_connections{shard=\"0\"}",
                             "ringtail_connections{shard=\"1\"}", "ringtail_shards 2",
                             "ringtail_ring_bytes{from=\"0\",to=\"1\"}", "ringtail_loop_turns_total{shard=\"1\"}",
                             "ringtail_stream_messages{account=\"$G\",stream=\"M\"", "ringtail_jetstream_api_requests_total",
                             "# TYPE ringtail_store_write_seconds histogram",
                             "ringtail_store_write_seconds_bucket{shard=\"0\",le=\"+Inf\"}",
                             "ringtail_store_write_seconds_count{shard=\"1\"}"}) {
        EXPECT_NE(got.body.find(line), std::string::npos) << line << "\n" << got.body;
    }
    int connections = 0;
    for (const char* shard : {"0", "1"}) {
        std::string key = std::string("ringtail_connections{shard=\"") + shard + "\"} ";
        size_t at = got.body.find(key);
        ASSERT_NE(at, std::string::npos);
        connections += std::stoi(got.body.substr(at + key.size()));
    }
    EXPECT_EQ(connections, 1);
}

// A sample of /metrics, e.g. metric(body, "ringtail_connections", 1); -1 if absent.
int64_t metric(const std::string& body, const std::string& name, int shard) {
    std::string key = name + "{shard=\"" + std::to_string(shard) + "\"} ";
    size_t at = body.find(key);
    return at == std::string::npos ? -1 : std::stoll(body.substr(at + key.size()));
}

// Receives `count` messages on `sub` and checks they are "first".."first + count - 1" in order.
void expect_in_order(natsSubscription* sub, int first, int count) {
    for (int i = first; i < first + count; ++i) {
        MsgPtr msg = next_msg(sub, 5s);
        ASSERT_NE(msg, nullptr) << "message " << i << " lost";
        ASSERT_EQ(msg_data(msg.get()), std::to_string(i)) << "out of order";
    }
    EXPECT_TRUE(no_more_msgs(sub, 100ms));
}

TEST_F(RingtailMonitor, APublisherMovesToTheShardOfItsSubscriberAndKeepsItsOrder) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    const std::string subject = fresh_subject("moving");
    ConnectionPtr reader = connect(server->url());
    ASSERT_NE(reader, nullptr);
    SubscriptionPtr sub = subscribe_sync(reader.get(), subject);
    ASSERT_EQ(natsConnection_Flush(reader.get()), NATS_OK);
    const int home = shard_of(reader.get());
    // A publisher the kernel placed on the other shard.
    ConnectionPtr writer;
    for (int attempt = 0; attempt < 128 && writer == nullptr; ++attempt) {
        ConnectionPtr candidate = connect(server->url());
        ASSERT_NE(candidate, nullptr);
        if (shard_of(candidate.get()) != home) writer = std::move(candidate);
    }
    ASSERT_NE(writer, nullptr);
    const int away = shard_of(writer.get());

    // Every message goes to the reader's shard alone: the writer moves there mid-stream, and
    // the reader sees every message once, in the order sent.
    constexpr int kCount = 20000;
    for (int i = 0; i < kCount; ++i) {
        ASSERT_EQ(natsConnection_PublishString(writer.get(), subject.c_str(), std::to_string(i).c_str()), NATS_OK);
    }
    ASSERT_EQ(natsConnection_Flush(writer.get()), NATS_OK);
    expect_in_order(sub.get(), 0, kCount);
    std::string body = http_get(server->monitor_port(), "/metrics").body;
    EXPECT_EQ(metric(body, "ringtail_connections_moved_in_total", home), 1) << body;
    EXPECT_EQ(metric(body, "ringtail_connections_moved_in_total", away), 0);
    EXPECT_EQ(metric(body, "ringtail_connections", home), 2);
    EXPECT_EQ(metric(body, "ringtail_connections", away), 0);
    json connz = get_json(server->monitor_port(), "/connz");
    EXPECT_EQ(connz["num_connections"], 2);

    // The moved connection does everything a connection does: it subscribes and is delivered
    // to, and publishes on from its new shard.
    SubscriptionPtr back = subscribe_sync(writer.get(), subject + ".back");
    ASSERT_EQ(natsConnection_Flush(writer.get()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishString(reader.get(), (subject + ".back").c_str(), "back"), NATS_OK);
    MsgPtr got = next_msg(back.get(), 5s);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(msg_data(got.get()), "back");
    for (int i = kCount; i < kCount + 100; ++i) {
        ASSERT_EQ(natsConnection_PublishString(writer.get(), subject.c_str(), std::to_string(i).c_str()), NATS_OK);
    }
    ASSERT_EQ(natsConnection_Flush(writer.get()), NATS_OK);
    expect_in_order(sub.get(), kCount, 100);
    // Its figures came with it.
    uint64_t cid = 0;
    ASSERT_EQ(natsConnection_GetClientID(writer.get(), &cid), NATS_OK);
    json figures = get_json(server->monitor_port(), "/connz?cid=" + std::to_string(cid));
    ASSERT_EQ(figures["connections"].size(), 1u);
    EXPECT_EQ(figures["connections"][0]["in_msgs"], kCount + 100);
    EXPECT_EQ(figures["connections"][0]["subscriptions"], 1);
}

// Answers each request with its own payload.
void answer(natsConnection* connection, natsSubscription*, natsMsg* msg, void*) {
    if (natsMsg_GetReply(msg) != nullptr) {
        natsConnection_Publish(connection, natsMsg_GetReply(msg), natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    }
    natsMsg_Destroy(msg);
}

// A connection the kernel placed on `shard`.
ConnectionPtr connect_on(const std::string& url, int shard) {
    for (int attempt = 0; attempt < 128; ++attempt) {
        ConnectionPtr candidate = connect(url);
        if (candidate != nullptr && shard_of(candidate.get()) == shard) return candidate;
    }
    return nullptr;
}

// A responder answering on `service`, and on the other shard a requester subscribed to `feed`
// and a feeder that publishes there.
struct RequestSetup {
    std::string service = fresh_subject("service");
    std::string feed = fresh_subject("feed");
    ConnectionPtr responder;
    SubscriptionPtr answering;
    int home = -1;  // the responder's shard
    int away = -1;
    ConnectionPtr requester;
    ConnectionPtr feeder;
    SubscriptionPtr fed;

    bool start(const std::string& url) {
        responder = connect(url);
        natsSubscription* raw_sub = nullptr;
        if (responder == nullptr ||
            natsConnection_Subscribe(&raw_sub, responder.get(), service.c_str(), answer, nullptr) != NATS_OK) {
            return false;
        }
        answering.reset(raw_sub);
        if (natsConnection_Flush(responder.get()) != NATS_OK) return false;
        home = shard_of(responder.get());
        away = 1 - home;
        requester = connect_on(url, away);
        feeder = connect_on(url, away);
        if (requester == nullptr || feeder == nullptr) return false;
        fed = subscribe_sync(requester.get(), feed);
        return natsConnection_Flush(requester.get()) == NATS_OK;
    }
};

TEST_F(RingtailMonitor, ARequesterMovesToItsRespondersShardWithItsSubscriptions) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    // The server's own subscriptions.
    const int base = get_json(server->monitor_port(), "/varz")["subscriptions"];
    RequestSetup setup;
    ASSERT_TRUE(setup.start(server->url()));
    auto& [service, feed, responder, answering, home, away, requester, feeder, fed] = setup;

    // Every request goes to the responder's shard: the requester moves there with its inbox
    // and its other subscription while the feeder keeps publishing to it from the shard it left.
    constexpr int kRequests = 3000;
    int fed_count = 0;
    for (int i = 0; i < kRequests; ++i) {
        std::string payload = std::to_string(i);
        natsMsg* raw_reply = nullptr;
        ASSERT_EQ(natsConnection_RequestString(&raw_reply, requester.get(), service.c_str(), payload.c_str(), 5000),
                  NATS_OK)
            << "request " << i;
        MsgPtr reply(raw_reply);
        ASSERT_EQ(msg_data(reply.get()), payload);
        if (i % 10 == 0) {
            ASSERT_EQ(natsConnection_PublishString(feeder.get(), feed.c_str(), std::to_string(fed_count++).c_str()),
                      NATS_OK);
        }
    }
    ASSERT_EQ(natsConnection_Flush(feeder.get()), NATS_OK);
    expect_in_order(fed.get(), 0, fed_count);
    std::string body = http_get(server->monitor_port(), "/metrics").body;
    EXPECT_EQ(metric(body, "ringtail_connections_moved_in_total", home), 1) << body;
    EXPECT_EQ(metric(body, "ringtail_connections_moved_in_total", away), 0);
    EXPECT_EQ(metric(body, "ringtail_connections", home), 2);
    // The inbox, the feed subscription and the service: each counted once.
    EXPECT_EQ(get_json(server->monitor_port(), "/varz")["subscriptions"], base + 3);

    // From the shard it left, messages still come once each, in order; an unsubscribe stops
    // them, and the interest is gone there too.
    for (int i = fed_count; i < fed_count + 100; ++i) {
        ASSERT_EQ(natsConnection_PublishString(feeder.get(), feed.c_str(), std::to_string(i).c_str()), NATS_OK);
    }
    ASSERT_EQ(natsConnection_Flush(feeder.get()), NATS_OK);
    expect_in_order(fed.get(), fed_count, 100);
    ASSERT_EQ(natsSubscription_Unsubscribe(fed.get()), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(requester.get()), NATS_OK);
    EXPECT_EQ(get_json(server->monitor_port(), "/varz")["subscriptions"], base + 2);
    natsMsg* raw_reply = nullptr;
    EXPECT_EQ(natsConnection_RequestString(&raw_reply, feeder.get(), feed.c_str(), "anyone?", 2000),
              NATS_NO_RESPONDERS);
    // (The feeder now has an inbox of its own.)
    // Requests go on, now on one shard.
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(natsConnection_RequestString(&raw_reply, requester.get(), service.c_str(), "again", 5000), NATS_OK);
        MsgPtr reply(raw_reply);
        EXPECT_EQ(msg_data(reply.get()), "again");
    }
    // Closing it removes its subscriptions, and what was left of them on the shard it came from.
    requester.reset();
    json varz;
    for (int attempt = 0; attempt < 100; ++attempt) {
        varz = get_json(server->monitor_port(), "/varz");
        if (varz["subscriptions"] == base + 2) break;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(varz["subscriptions"], base + 2);
}

TEST_F(RingtailMonitor, ARequesterThatGetsMoreThanItAsksForStaysWhereItIs) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    RequestSetup setup;
    ASSERT_TRUE(setup.start(server->url()));
    auto& [service, feed, responder, answering, home, away, requester, feeder, fed] = setup;
    // Three messages from its own shard for each request: moving would make them cross.
    constexpr int kRequests = 2000;
    for (int i = 0; i < kRequests; ++i) {
        natsMsg* raw_reply = nullptr;
        ASSERT_EQ(natsConnection_RequestString(&raw_reply, requester.get(), service.c_str(), "x", 5000), NATS_OK);
        MsgPtr reply(raw_reply);
        for (int j = 0; j < 3; ++j) {
            ASSERT_EQ(natsConnection_PublishString(feeder.get(), feed.c_str(), std::to_string(3 * i + j).c_str()),
                      NATS_OK);
        }
        ASSERT_EQ(natsConnection_Flush(feeder.get()), NATS_OK);
    }
    expect_in_order(fed.get(), 0, 3 * kRequests);
    std::string body = http_get(server->monitor_port(), "/metrics").body;
    EXPECT_EQ(metric(body, "ringtail_connections_moved_in_total", 0), 0) << body;
    EXPECT_EQ(metric(body, "ringtail_connections_moved_in_total", 1), 0);
}

TEST_F(RingtailMonitor, APublisherWhoseSubscribersSitOnBothShardsStaysWhereItIs) {
    auto server = start_monitored();
    ASSERT_NE(server, nullptr);
    const std::string subject = fresh_subject("staying");
    std::vector<ShardedConnection> readers = connect_spread(server->url(), 1);
    ASSERT_TRUE(covers_all_shards(readers));
    std::vector<SubscriptionPtr> subs;
    for (ShardedConnection& reader : readers) {
        subs.push_back(subscribe_sync(reader.connection.get(), subject));
        ASSERT_EQ(natsConnection_Flush(reader.connection.get()), NATS_OK);
    }
    ConnectionPtr writer = connect(server->url());
    ASSERT_NE(writer, nullptr);
    constexpr int kCount = 5000;
    for (int i = 0; i < kCount; ++i) {
        ASSERT_EQ(natsConnection_PublishString(writer.get(), subject.c_str(), std::to_string(i).c_str()), NATS_OK);
    }
    ASSERT_EQ(natsConnection_Flush(writer.get()), NATS_OK);
    for (SubscriptionPtr& sub : subs) expect_in_order(sub.get(), 0, kCount);
    std::string body = http_get(server->monitor_port(), "/metrics").body;
    EXPECT_EQ(metric(body, "ringtail_connections_moved_in_total", 0), 0) << body;
    EXPECT_EQ(metric(body, "ringtail_connections_moved_in_total", 1), 0);
}

}  // namespace
}  // namespace ringtail::test
