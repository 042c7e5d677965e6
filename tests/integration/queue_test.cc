// Queue groups: each message goes to exactly one member of the group, across connections (and, for
// ringtail, across shards), while plain subscribers on the same subject still get every message.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <array>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/nats_helpers.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kMsgsPerPublisher = 500;

struct Member {
    SubscriptionPtr sub;
    int shard = 0;
    std::vector<std::string> received;
};

// Publishes kMsgsPerPublisher messages "p:seq" from each publisher, interleaved.
void publish_all(std::vector<ShardedConnection>& publishers, const std::string& subject) {
    for (int seq = 0; seq < kMsgsPerPublisher; ++seq) {
        for (size_t p = 0; p < publishers.size(); ++p) {
            std::string payload = std::to_string(p) + ":" + std::to_string(seq);
            ASSERT_EQ(NATS_OK, natsConnection_PublishString(publishers[p].connection.get(),
                                                            subject.c_str(), payload.c_str()));
        }
    }
    for (ShardedConnection& entry : publishers) {
        ASSERT_EQ(NATS_OK, natsConnection_Flush(entry.connection.get()));
    }
}

// Drains all members round-robin until `total` messages were received or 10 s passed.
size_t drain_members(std::vector<Member>& members, size_t total) {
    size_t received = 0;
    auto deadline = Clock::now() + 10s;
    while (received < total && Clock::now() < deadline) {
        for (Member& member : members) {
            while (MsgPtr msg = next_msg(member.sub.get(), 1ms)) {
                member.received.emplace_back(msg_data(msg.get()));
                ++received;
            }
        }
    }
    return received;
}

TEST(QueueGroup, EachMessageGoesToExactlyOneMemberAndPlainSubscribersGetAll) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    // Four members on four connections, two per ringtail shard.
    std::vector<ShardedConnection> member_connections = connect_spread(server->url(), 2);
    std::vector<ShardedConnection> plain_connections = connect_spread(server->url(), 1);
    std::vector<ShardedConnection> publishers = connect_spread(server->url(), 1);
    ASSERT_EQ(4u, member_connections.size());
    ASSERT_EQ(2u, plain_connections.size());
    ASSERT_EQ(2u, publishers.size());
    ASSERT_TRUE(covers_all_shards(member_connections));
    ASSERT_TRUE(covers_all_shards(publishers));

    const std::string subject = "queue.work";
    std::vector<Member> members;
    for (ShardedConnection& entry : member_connections) {
        Member member;
        member.sub = queue_subscribe_sync(entry.connection.get(), subject, "workers");
        ASSERT_TRUE(member.sub);
        member.shard = entry.shard;
        ASSERT_EQ(NATS_OK, natsConnection_Flush(entry.connection.get()));
        members.push_back(std::move(member));
    }
    std::vector<Member> plain;
    for (ShardedConnection& entry : plain_connections) {
        Member subscriber;
        subscriber.sub = subscribe_sync(entry.connection.get(), subject);
        ASSERT_TRUE(subscriber.sub);
        subscriber.shard = entry.shard;
        ASSERT_EQ(NATS_OK, natsConnection_Flush(entry.connection.get()));
        plain.push_back(std::move(subscriber));
    }

    publish_all(publishers, subject);
    const size_t total = publishers.size() * kMsgsPerPublisher;

    ASSERT_EQ(total, drain_members(members, total));
    for (Member& member : members) EXPECT_TRUE(no_more_msgs(member.sub.get(), 200ms));

    // Exactly once in total: no duplicates, none missing.
    std::set<std::string> seen;
    for (const Member& member : members) {
        for (const std::string& payload : member.received) {
            EXPECT_TRUE(seen.insert(payload).second) << "delivered twice: " << payload;
        }
    }
    EXPECT_EQ(total, seen.size());

    if (testing_ringtail()) {
        std::array<size_t, kRingtailShards> per_shard{};
        for (const Member& member : members) {
            per_shard[static_cast<size_t>(member.shard)] += member.received.size();
        }
        for (int shard = 0; shard < kRingtailShards; ++shard) {
            EXPECT_GT(per_shard[static_cast<size_t>(shard)], 0u)
                << "no queue member on shard " << shard << " received anything";
        }
    }

    // Plain subscribers get everything, in per-publisher order.
    for (size_t s = 0; s < plain.size(); ++s) {
        std::vector<int> seq_next(publishers.size(), 0);
        for (size_t i = 0; i < total; ++i) {
            MsgPtr msg = next_msg(plain[s].sub.get(), 5s);
            ASSERT_TRUE(msg) << "plain subscriber " << s << " got only " << i << " of " << total;
            std::string payload(msg_data(msg.get()));
            size_t p = std::stoul(payload.substr(0, payload.find(':')));
            int seq = std::stoi(payload.substr(payload.find(':') + 1));
            ASSERT_LT(p, publishers.size());
            ASSERT_EQ(seq_next[p], seq) << "plain subscriber " << s << " out of order";
            ++seq_next[p];
        }
        EXPECT_TRUE(no_more_msgs(plain[s].sub.get(), 50ms));
    }
}

TEST(QueueGroup, DifferentGroupsOnTheSameSubjectEachGetEveryMessageOnce) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    std::vector<ShardedConnection> connections = connect_spread(server->url(), 2);
    std::vector<ShardedConnection> publishers = connect_spread(server->url(), 1);
    ASSERT_EQ(4u, connections.size());
    ASSERT_EQ(2u, publishers.size());

    // Group "a" and group "b", each with one member on every connection.
    std::vector<Member> group_a;
    std::vector<Member> group_b;
    for (ShardedConnection& entry : connections) {
        Member a;
        a.sub = queue_subscribe_sync(entry.connection.get(), "queue.multi", "a");
        Member b;
        b.sub = queue_subscribe_sync(entry.connection.get(), "queue.multi", "b");
        ASSERT_TRUE(a.sub && b.sub);
        ASSERT_EQ(NATS_OK, natsConnection_Flush(entry.connection.get()));
        group_a.push_back(std::move(a));
        group_b.push_back(std::move(b));
    }
    publish_all(publishers, "queue.multi");
    const size_t total = publishers.size() * kMsgsPerPublisher;
    for (std::vector<Member>* group : {&group_a, &group_b}) {
        ASSERT_EQ(total, drain_members(*group, total));
        for (Member& member : *group) EXPECT_TRUE(no_more_msgs(member.sub.get(), 100ms));
        std::set<std::string> seen;
        for (const Member& member : *group)
            seen.insert(member.received.begin(), member.received.end());
        EXPECT_EQ(total, seen.size());
    }
}

}  // namespace
}  // namespace ringtail::test
