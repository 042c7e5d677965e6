// Queue-group cases found in review: each once crashed, stalled or misrouted ringtail.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

int count_of(const std::string& text, std::string_view needle) {
    int count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
    return count;
}

// A subscriber in many queue groups on one subject, on another shard than the publisher: the
// cross-shard record cannot carry every group name at once, and must not crash or stall.
TEST(QueueRegression, ManyQueueGroupsWithLongNamesAcrossShards) {
    auto server = ServerProcess::start_under_test();
    ASSERT_TRUE(server);
    auto spread = connect_spread(server->url(), 1);
    ASSERT_TRUE(covers_all_shards(spread));
    std::string subject = fresh_subject("many.groups");
    constexpr int kGroups = 1500;
    // The groups live on the shard of spread.back(); publish from spread.front() (other shard).
    natsConnection* subscriber = spread.back().connection.get();
    std::vector<SubscriptionPtr> subs;
    for (int i = 0; i < kGroups; ++i) {
        std::string group = "g" + std::to_string(i) + "_" + std::string(3000, 'q');
        subs.push_back(queue_subscribe_sync(subscriber, subject, group));
        ASSERT_TRUE(subs.back());
    }
    ASSERT_EQ(natsConnection_Flush(subscriber), NATS_OK);
    natsConnection* publisher = spread.front().connection.get();
    ASSERT_EQ(natsConnection_PublishString(publisher, subject.c_str(), "x"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(publisher), NATS_OK);
    for (auto& sub : subs) ASSERT_TRUE(next_msg(sub.get(), std::chrono::seconds(5)));
    // The publisher is still served.
    ASSERT_EQ(natsConnection_FlushTimeout(publisher, 2000), NATS_OK);
}

// nats-server skips a queue member that is the publisher itself when echo is off, and
// delivers to another member instead.
TEST(QueueRegression, NoEchoPublisherIsSkippedAsQueueMember) {
    auto server = ServerProcess::start_under_test();
    ASSERT_TRUE(server);
    RawClient client;
    ASSERT_TRUE(client.connect(server->port()));
    ASSERT_TRUE(client.read_info());
    ASSERT_TRUE(client.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"echo\":false}\r\n"
                            "SUB foo q 1\r\nPUB foo 2\r\nhi\r\nPUB foo 2\r\nhi\r\nPING\r\n"));
    ASSERT_TRUE(client.read_until("PONG\r\n"));
    EXPECT_EQ(client.received().find("MSG"), std::string::npos) << client.received();

    // With a second member elsewhere, every message reaches that one.
    auto other = connect(server->url());
    ASSERT_TRUE(other);
    auto member = queue_subscribe_sync(other.get(), "bar", "q");
    ASSERT_EQ(natsConnection_Flush(other.get()), NATS_OK);
    client.clear_received();
    ASSERT_TRUE(client.send("SUB bar q 2\r\nPING\r\n"));
    ASSERT_TRUE(client.read_until("PONG\r\n"));
    std::string pubs;
    for (int i = 0; i < 50; ++i) pubs += "PUB bar 1\r\nx\r\n";
    ASSERT_TRUE(client.send(pubs + "PING\r\n"));
    ASSERT_TRUE(client.read_until("PONG\r\n"));
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(next_msg(member.get(), std::chrono::seconds(2))) << i;
    EXPECT_EQ(count_of(client.received(), "MSG"), 0);
}

// Members are weighted one each, whichever shard they are on: one member on one shard and
// three on the other share messages about 1:3.
TEST(QueueRegression, QueueMembersAreWeightedPerMemberAcrossShards) {
    if (!testing_ringtail()) GTEST_SKIP() << "shard placement is ringtail's";
    auto server = ServerProcess::start_under_test();
    ASSERT_TRUE(server);
    auto spread = connect_spread(server->url(), 1);
    ASSERT_TRUE(covers_all_shards(spread));
    std::string subject = fresh_subject("weights");
    auto lone = queue_subscribe_sync(spread.front().connection.get(), subject, "w");
    std::vector<SubscriptionPtr> crowd;
    for (int i = 0; i < 3; ++i) crowd.push_back(queue_subscribe_sync(spread.back().connection.get(), subject, "w"));
    for (auto& c : spread) ASSERT_EQ(natsConnection_Flush(c.connection.get()), NATS_OK);
    constexpr int kMessages = 2000;
    for (int i = 0; i < kMessages; ++i) {
        ASSERT_EQ(natsConnection_PublishString(spread[static_cast<size_t>(i % 2)].connection.get(),
                                               subject.c_str(), "x"), NATS_OK);
    }
    for (auto& c : spread) ASSERT_EQ(natsConnection_Flush(c.connection.get()), NATS_OK);
    auto drain = [](natsSubscription* sub) {
        int n = 0;
        while (next_msg(sub, std::chrono::milliseconds(300))) ++n;
        return n;
    };
    int lone_count = drain(lone.get());
    int crowd_count = 0;
    for (auto& sub : crowd) crowd_count += drain(sub.get());
    EXPECT_EQ(lone_count + crowd_count, kMessages);
    // Expected 500 vs 1500; a per-shard weighting gives about 1000 vs 1000.
    EXPECT_LT(lone_count, 700) << lone_count << " vs " << crowd_count;
    EXPECT_GT(lone_count, 300) << lone_count << " vs " << crowd_count;
}

// A raw client on `shard` (any, against nats-server), connected with headers off.
std::unique_ptr<RawClient> raw_on_shard(int port, int shard) {
    for (int attempt = 0; attempt < 64; ++attempt) {
        auto client = std::make_unique<RawClient>();
        if (!client->connect(port) || !client->read_info()) return nullptr;
        const std::string& info = client->received();
        size_t at = info.find("\"client_id\":");
        uint64_t id = at == std::string::npos ? 0 : std::stoull(info.substr(at + 12));
        if (!testing_ringtail() || static_cast<int>((id - 1) % kRingtailShards) == shard) {
            if (!client->send("CONNECT {\"verbose\":false}\r\nPING\r\n") || !client->read_until("PONG\r\n")) return nullptr;
            client->clear_received();
            return client;
        }
    }
    return nullptr;
}

// A queue member leaving while messages for it are on their way from another shard: each of
// them still reaches the group, through the member that stays (nats-server's one sublist never
// loses one).
TEST(QueueRegression, AMemberLeavingOnAnotherShardLosesNoMessageOfTheGroup) {
    auto server = ServerProcess::start_under_test();
    ASSERT_TRUE(server);
    auto leaver = raw_on_shard(server->port(), 1);
    auto stayer = raw_on_shard(server->port(), 0);
    auto publisher = raw_on_shard(server->port(), 0);
    ASSERT_TRUE(leaver && stayer && publisher);
    for (RawClient* member : {leaver.get(), stayer.get()}) {
        ASSERT_TRUE(member->send("SUB q.d g 1\r\nPING\r\n"));
        ASSERT_TRUE(member->read_until("PONG\r\n"));
    }
    constexpr int kMessages = 6000;
    std::thread leave([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        leaver->send("UNSUB 1\r\n");
    });
    std::string batch;
    for (int i = 0; i < 100; ++i) batch += "PUB q.d 1\r\nx\r\n";
    for (int sent = 0; sent < kMessages; sent += 100) {
        ASSERT_TRUE(publisher->send(batch));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    leave.join();
    ASSERT_TRUE(publisher->send("PING\r\n"));
    ASSERT_TRUE(publisher->read_until("PONG\r\n"));
    for (RawClient* member : {leaver.get(), stayer.get()}) {
        ASSERT_TRUE(member->send("PING\r\n"));
        ASSERT_TRUE(member->read_until("PONG\r\n"));
        member->read_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(kMessages, count_of(leaver->received(), "MSG q.d 1") + count_of(stayer->received(), "MSG q.d 1"));
}

// A queue member reaching its auto-unsubscribe limit while messages for the group are on their
// way to its shard: what it can no longer take goes to a member on another shard, as
// nats-server's one sublist picks the member that stays.
TEST(QueueRegression, AMemberReachingItsAutoUnsubscribeLimitLosesNoMessageOfTheGroup) {
    auto server = ServerProcess::start_under_test();
    ASSERT_TRUE(server);
    auto leaver = raw_on_shard(server->port(), 1);
    auto stayer = raw_on_shard(server->port(), 0);
    auto publisher = raw_on_shard(server->port(), 0);
    ASSERT_TRUE(leaver && stayer && publisher);
    ASSERT_TRUE(leaver->send("SUB q.max g 1\r\nUNSUB 1 20\r\nPING\r\n"));
    ASSERT_TRUE(leaver->read_until("PONG\r\n"));
    ASSERT_TRUE(stayer->send("SUB q.max g 1\r\nPING\r\n"));
    ASSERT_TRUE(stayer->read_until("PONG\r\n"));
    constexpr int kMessages = 4000;
    std::string batch;
    for (int i = 0; i < 200; ++i) batch += "PUB q.max 1\r\nx\r\n";
    for (int sent = 0; sent < kMessages; sent += 200) ASSERT_TRUE(publisher->send(batch));
    ASSERT_TRUE(publisher->send("PING\r\n"));
    ASSERT_TRUE(publisher->read_until("PONG\r\n"));
    for (RawClient* member : {leaver.get(), stayer.get()}) {
        ASSERT_TRUE(member->send("PING\r\n"));
        ASSERT_TRUE(member->read_until("PONG\r\n"));
        member->read_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(20, count_of(leaver->received(), "MSG q.max 1"));
    EXPECT_EQ(kMessages - 20, count_of(stayer->received(), "MSG q.max 1"));
}

}  // namespace
}  // namespace ringtail::test
