// Core publish/subscribe through libnats: payload fidelity, wildcards, cross-connection delivery
// and ordering, SUB visibility after flush, auto-unsubscribe, no-echo, headers.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;

class PubSub : public ::testing::Test {
 protected:
    void SetUp() override {
        server_ = ServerProcess::start_under_test();
        ASSERT_NE(server_, nullptr);
    }
    std::unique_ptr<ServerProcess> server_;
};

std::string patterned_payload(size_t size) {
    std::string payload(size, '\0');
    for (size_t i = 0; i < size; ++i) {
        // Every byte value, including \r, \n and NUL, in a pattern that exposes shifts.
        payload[i] = static_cast<char>((i * 131 + i / 256) & 0xff);
    }
    return payload;
}

TEST_F(PubSub, PayloadsOfEverySizeUpToMaxPayloadArriveByteExact) {
    ConnectionPtr subscriber = connect(server_->url());
    ConnectionPtr publisher = connect(server_->url());
    ASSERT_TRUE(subscriber && publisher);
    SubscriptionPtr sub = subscribe_sync(subscriber.get(), "sizes");
    ASSERT_TRUE(sub);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(subscriber.get()));
    ASSERT_EQ(1024 * 1024, natsConnection_GetMaxPayload(publisher.get()));

    const std::vector<size_t> sizes = {0, 1, 127, 4096, 65536, 1024 * 1024};
    for (size_t size : sizes) {
        std::string payload = patterned_payload(size);
        ASSERT_EQ(NATS_OK, natsConnection_Publish(publisher.get(), "sizes", payload.data(),
                                                  static_cast<int>(payload.size())))
            << "size " << size;
    }
    ASSERT_EQ(NATS_OK, natsConnection_Flush(publisher.get()));
    for (size_t size : sizes) {
        MsgPtr msg = next_msg(sub.get(), 5s);
        ASSERT_TRUE(msg) << "size " << size;
        EXPECT_STREQ("sizes", natsMsg_GetSubject(msg.get()));
        ASSERT_EQ(size, static_cast<size_t>(natsMsg_GetDataLength(msg.get())));
        EXPECT_TRUE(msg_data(msg.get()) == patterned_payload(size)) << "size " << size;
    }
    EXPECT_TRUE(no_more_msgs(sub.get(), 200ms));
}

TEST_F(PubSub, WildcardsMatchOnlyTheirTokens) {
    ConnectionPtr subscriber = connect(server_->url());
    ConnectionPtr publisher = connect(server_->url());
    ASSERT_TRUE(subscriber && publisher);
    SubscriptionPtr star = subscribe_sync(subscriber.get(), "foo.*");
    SubscriptionPtr tail = subscribe_sync(subscriber.get(), "foo.>");
    SubscriptionPtr middle = subscribe_sync(subscriber.get(), "*.bar.*");
    ASSERT_TRUE(star && tail && middle);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(subscriber.get()));

    for (const char* subject :
         {"foo", "foo.bar", "foo.bar.baz", "foox.bar", "bar.foo", "x.bar.y"}) {
        ASSERT_EQ(NATS_OK, natsConnection_PublishString(publisher.get(), subject, subject));
    }
    ASSERT_EQ(NATS_OK, natsConnection_Flush(publisher.get()));

    auto collect = [](natsSubscription* sub, size_t count) {
        std::vector<std::string> subjects;
        for (size_t i = 0; i < count; ++i) {
            MsgPtr msg = next_msg(sub, 5s);
            if (!msg) break;
            subjects.emplace_back(natsMsg_GetSubject(msg.get()));
            EXPECT_EQ(subjects.back(), msg_data(msg.get()));
        }
        return subjects;
    };
    // foo.* matches exactly one token after foo: not "foo", not "foo.bar.baz".
    EXPECT_EQ((std::vector<std::string>{"foo.bar"}), collect(star.get(), 1));
    // foo.> matches one or more tokens after foo: not "foo" itself.
    EXPECT_EQ((std::vector<std::string>{"foo.bar", "foo.bar.baz"}), collect(tail.get(), 2));
    EXPECT_EQ((std::vector<std::string>{"foo.bar.baz", "x.bar.y"}), collect(middle.get(), 2));
    EXPECT_TRUE(no_more_msgs(star.get(), 200ms));
    EXPECT_TRUE(no_more_msgs(tail.get(), 50ms));
    EXPECT_TRUE(no_more_msgs(middle.get(), 50ms));
}

TEST_F(PubSub, EverySubscriberSeesEveryPublisherInOrderAcrossConnections) {
    constexpr int kPerShard = 3;
    constexpr int kMsgsPerPublisher = 300;
    std::vector<ShardedConnection> subscribers = connect_spread(server_->url(), kPerShard);
    std::vector<ShardedConnection> publishers = connect_spread(server_->url(), kPerShard);
    ASSERT_EQ(static_cast<size_t>(kPerShard * kRingtailShards), subscribers.size());
    ASSERT_EQ(static_cast<size_t>(kPerShard * kRingtailShards), publishers.size());
    ASSERT_TRUE(covers_all_shards(subscribers));
    ASSERT_TRUE(
        covers_all_shards(publishers));  // so every (publisher, subscriber) shard pair occurs

    std::vector<SubscriptionPtr> subs;
    for (ShardedConnection& entry : subscribers) {
        subs.push_back(subscribe_sync(entry.connection.get(), "cross.data"));
        ASSERT_TRUE(subs.back());
        ASSERT_EQ(NATS_OK, natsConnection_Flush(entry.connection.get()));
    }
    // Publishers interleave so that messages from different publishers mix in every subscriber.
    for (int seq = 0; seq < kMsgsPerPublisher; ++seq) {
        for (size_t p = 0; p < publishers.size(); ++p) {
            std::string payload = std::to_string(p) + ":" + std::to_string(seq);
            ASSERT_EQ(NATS_OK, natsConnection_PublishString(publishers[p].connection.get(),
                                                            "cross.data", payload.c_str()));
        }
    }
    for (ShardedConnection& entry : publishers) {
        ASSERT_EQ(NATS_OK, natsConnection_Flush(entry.connection.get()));
    }
    const size_t expected_total = publishers.size() * kMsgsPerPublisher;
    for (size_t s = 0; s < subs.size(); ++s) {
        std::vector<int> seq_next(publishers.size(), 0);
        for (size_t i = 0; i < expected_total; ++i) {
            MsgPtr msg = next_msg(subs[s].get(), 5s);
            ASSERT_TRUE(msg) << "subscriber " << s << " (shard " << subscribers[s].shard
                             << ") got only " << i << " of " << expected_total;
            std::string payload(msg_data(msg.get()));
            size_t colon = payload.find(':');
            ASSERT_NE(std::string::npos, colon) << payload;
            size_t p = std::stoul(payload.substr(0, colon));
            int seq = std::stoi(payload.substr(colon + 1));
            ASSERT_LT(p, publishers.size());
            ASSERT_EQ(seq_next[p], seq)
                << "subscriber " << s << " (shard " << subscribers[s].shard << ") publisher " << p
                << " (shard " << publishers[p].shard << ") out of order";
            ++seq_next[p];
        }
        EXPECT_TRUE(no_more_msgs(subs[s].get(), 50ms));
    }
}

// Publishers feeding one subscriber: with Ringtail those on the other shard move to the
// subscriber's (docs/DESIGN.md) while they publish; a second subscriber that joins on the other
// shard midway makes their messages cross again. Every subscriber sees each publisher's
// messages once and in order: all of them for the first, a gapless run for the second.
TEST_F(PubSub, PublishersKeepTheirOrderWhileMovingBetweenShards) {
    constexpr int kPerShard = 3;
    constexpr int kMsgsPerPublisher = 4000;
    std::vector<ShardedConnection> publishers = connect_spread(server_->url(), kPerShard);
    ASSERT_TRUE(covers_all_shards(publishers));
    std::vector<ShardedConnection> readers = connect_spread(server_->url(), 1);
    ASSERT_TRUE(covers_all_shards(readers));
    const std::string subject = fresh_subject("moving");
    SubscriptionPtr first = subscribe_sync(readers.front().connection.get(), subject);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(readers.front().connection.get()));
    SubscriptionPtr second;
    for (int seq = 0; seq < kMsgsPerPublisher; ++seq) {
        if (seq == kMsgsPerPublisher / 2) {
            for (ShardedConnection& entry : publishers) ASSERT_EQ(NATS_OK, natsConnection_Flush(entry.connection.get()));
            second = subscribe_sync(readers.back().connection.get(), subject);
            ASSERT_EQ(NATS_OK, natsConnection_Flush(readers.back().connection.get()));
        }
        for (size_t p = 0; p < publishers.size(); ++p) {
            std::string payload = std::to_string(p) + ":" + std::to_string(seq);
            ASSERT_EQ(NATS_OK, natsConnection_PublishString(publishers[p].connection.get(), subject.c_str(), payload.c_str()));
        }
    }
    for (ShardedConnection& entry : publishers) ASSERT_EQ(NATS_OK, natsConnection_Flush(entry.connection.get()));
    auto check = [&](natsSubscription* sub, bool from_start) {
        std::vector<int> next(publishers.size(), from_start ? 0 : -1);
        size_t received = 0;
        auto done = [&] { return std::all_of(next.begin(), next.end(), [](int n) { return n == kMsgsPerPublisher; }); };
        while (!done()) {
            MsgPtr msg = next_msg(sub, 5s);
            ASSERT_NE(msg, nullptr) << "only " << received << " received";
            std::string payload(msg_data(msg.get()));
            size_t p = std::stoul(payload.substr(0, payload.find(':')));
            int seq = std::stoi(payload.substr(payload.find(':') + 1));
            ASSERT_LT(p, publishers.size());
            if (next[p] >= 0) {
                ASSERT_EQ(next[p], seq) << "publisher " << p << " out of order or lost";
            }
            next[p] = seq + 1;
            ++received;
        }
        EXPECT_TRUE(no_more_msgs(sub, 100ms));
        if (from_start) {
            EXPECT_EQ(received, publishers.size() * kMsgsPerPublisher);
        }
    };
    check(first.get(), true);
    check(second.get(), false);
}

TEST_F(PubSub, SubscriptionIsVisibleToOtherConnectionsOnceFlushReturns) {
    std::vector<ShardedConnection> connections = connect_spread(server_->url(), 1);
    ASSERT_EQ(static_cast<size_t>(kRingtailShards), connections.size());
    constexpr int kRounds = 50;
    for (int round = 0; round < kRounds; ++round) {
        // Alternate direction so both shard orders are exercised against ringtail.
        natsConnection* subscriber = connections[static_cast<size_t>(round % 2)].connection.get();
        natsConnection* publisher =
            connections[static_cast<size_t>(1 - round % 2)].connection.get();
        std::string subject = fresh_subject("visible");
        SubscriptionPtr sub = subscribe_sync(subscriber, subject);
        ASSERT_TRUE(sub);
        ASSERT_EQ(NATS_OK, natsConnection_Flush(subscriber));
        ASSERT_EQ(NATS_OK, natsConnection_PublishString(publisher, subject.c_str(), "now"));
        ASSERT_EQ(NATS_OK, natsConnection_Flush(publisher));
        MsgPtr msg = next_msg(sub.get(), 2s);
        ASSERT_TRUE(msg) << "round " << round << ": message published right after the "
                         << "subscriber's flush was lost";
        EXPECT_EQ("now", msg_data(msg.get()));
    }
}

TEST_F(PubSub, AutoUnsubscribeDeliversExactlyMaxMsgs) {
    ConnectionPtr subscriber = connect(server_->url());
    ConnectionPtr publisher = connect(server_->url());
    ASSERT_TRUE(subscriber && publisher);
    SubscriptionPtr sub = subscribe_sync(subscriber.get(), "auto.unsub");
    ASSERT_TRUE(sub);
    ASSERT_EQ(NATS_OK, natsSubscription_AutoUnsubscribe(sub.get(), 3));
    ASSERT_EQ(NATS_OK, natsConnection_Flush(subscriber.get()));
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(NATS_OK, natsConnection_PublishString(publisher.get(), "auto.unsub", "x"));
    }
    ASSERT_EQ(NATS_OK, natsConnection_Flush(publisher.get()));
    int delivered = 0;
    while (next_msg(sub.get(), 300ms)) ++delivered;
    EXPECT_EQ(3, delivered);
}

// The same through the raw protocol, so the server (not libnats) must enforce the limit.
TEST_F(PubSub, UnsubWithMaxMsgsMakesServerStopAfterMax) {
    RawClient raw;
    ASSERT_TRUE(raw.connect(server_->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nSUB auto.raw 7\r\nUNSUB 7 3\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    ConnectionPtr publisher = connect(server_->url());
    ASSERT_TRUE(publisher);
    for (int i = 0; i < 10; ++i) {
        std::string payload = "m" + std::to_string(i);
        ASSERT_EQ(NATS_OK,
                  natsConnection_PublishString(publisher.get(), "auto.raw", payload.c_str()));
    }
    ASSERT_EQ(NATS_OK, natsConnection_Flush(publisher.get()));
    size_t after_pong = raw.received().size();
    ASSERT_TRUE(raw.send("PING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, after_pong));
    std::string tail = raw.received().substr(after_pong);
    EXPECT_EQ(
        "MSG auto.raw 7 2\r\nm0\r\nMSG auto.raw 7 2\r\nm1\r\nMSG auto.raw 7 2\r\nm2\r\nPONG\r\n",
        tail);
}

TEST_F(PubSub, NoEchoSuppressesOwnMessagesOnly) {
    OptionsPtr options = make_options(server_->url());
    ASSERT_TRUE(options);
    ASSERT_EQ(NATS_OK, natsOptions_SetNoEcho(options.get(), true));
    ConnectionPtr quiet = connect_with(options.get());
    ConnectionPtr other = connect(server_->url());
    ASSERT_TRUE(quiet && other);
    SubscriptionPtr quiet_sub = subscribe_sync(quiet.get(), "echo.test");
    SubscriptionPtr other_sub = subscribe_sync(other.get(), "echo.test");
    ASSERT_TRUE(quiet_sub && other_sub);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(quiet.get()));
    ASSERT_EQ(NATS_OK, natsConnection_Flush(other.get()));

    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(NATS_OK, natsConnection_PublishString(quiet.get(), "echo.test", "from-quiet"));
    }
    ASSERT_EQ(NATS_OK, natsConnection_Flush(quiet.get()));
    ASSERT_EQ(NATS_OK, natsConnection_PublishString(other.get(), "echo.test", "from-other"));
    ASSERT_EQ(NATS_OK, natsConnection_Flush(other.get()));

    for (int i = 0; i < 5; ++i) {
        MsgPtr msg = next_msg(other_sub.get(), 5s);
        ASSERT_TRUE(msg);
        EXPECT_EQ("from-quiet", msg_data(msg.get()));
    }
    MsgPtr last = next_msg(other_sub.get(), 5s);
    ASSERT_TRUE(last);
    EXPECT_EQ("from-other", msg_data(last.get()));
    // The no-echo connection gets the other connection's message, and none of its own.
    MsgPtr received = next_msg(quiet_sub.get(), 5s);
    ASSERT_TRUE(received);
    EXPECT_EQ("from-other", msg_data(received.get()));
    EXPECT_TRUE(no_more_msgs(quiet_sub.get(), 300ms));
}

TEST_F(PubSub, EchoIsOnByDefault) {
    ConnectionPtr connection = connect(server_->url());
    ASSERT_TRUE(connection);
    SubscriptionPtr sub = subscribe_sync(connection.get(), "echo.default");
    ASSERT_TRUE(sub);
    ASSERT_EQ(NATS_OK, natsConnection_PublishString(connection.get(), "echo.default", "self"));
    ASSERT_EQ(NATS_OK, natsConnection_Flush(connection.get()));
    MsgPtr msg = next_msg(sub.get(), 5s);
    ASSERT_TRUE(msg);
    EXPECT_EQ("self", msg_data(msg.get()));
}

TEST_F(PubSub, HeadersWithMultipleValuesRoundTrip) {
    ConnectionPtr subscriber = connect(server_->url());
    ConnectionPtr publisher = connect(server_->url());
    ASSERT_TRUE(subscriber && publisher);
    SubscriptionPtr sub = subscribe_sync(subscriber.get(), "hdr.multi");
    ASSERT_TRUE(sub);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(subscriber.get()));

    natsMsg* raw_msg = nullptr;
    ASSERT_EQ(NATS_OK, natsMsg_Create(&raw_msg, "hdr.multi", "reply.to", "body", 4));
    MsgPtr out(raw_msg);
    ASSERT_EQ(NATS_OK, natsMsgHeader_Set(out.get(), "Single", "one"));
    ASSERT_EQ(NATS_OK, natsMsgHeader_Add(out.get(), "Multi", "a"));
    ASSERT_EQ(NATS_OK, natsMsgHeader_Add(out.get(), "Multi", "b b"));
    ASSERT_EQ(NATS_OK, natsMsgHeader_Add(out.get(), "Multi", "c:c"));
    ASSERT_EQ(NATS_OK, natsConnection_PublishMsg(publisher.get(), out.get()));

    natsMsg* raw_empty = nullptr;  // headers and an empty payload
    ASSERT_EQ(NATS_OK, natsMsg_Create(&raw_empty, "hdr.multi", nullptr, nullptr, 0));
    MsgPtr empty(raw_empty);
    ASSERT_EQ(NATS_OK, natsMsgHeader_Set(empty.get(), "Only", "header"));
    ASSERT_EQ(NATS_OK, natsConnection_PublishMsg(publisher.get(), empty.get()));
    ASSERT_EQ(NATS_OK, natsConnection_Flush(publisher.get()));

    MsgPtr in = next_msg(sub.get(), 5s);
    ASSERT_TRUE(in);
    EXPECT_EQ("body", msg_data(in.get()));
    EXPECT_STREQ("reply.to", natsMsg_GetReply(in.get()));
    const char* single = nullptr;
    ASSERT_EQ(NATS_OK, natsMsgHeader_Get(in.get(), "Single", &single));
    EXPECT_STREQ("one", single);
    const char** values = nullptr;
    int count = 0;
    ASSERT_EQ(NATS_OK, natsMsgHeader_Values(in.get(), "Multi", &values, &count));
    ASSERT_EQ(3, count);
    EXPECT_STREQ("a", values[0]);
    EXPECT_STREQ("b b", values[1]);
    EXPECT_STREQ("c:c", values[2]);
    free(values);

    MsgPtr in_empty = next_msg(sub.get(), 5s);
    ASSERT_TRUE(in_empty);
    EXPECT_EQ(0, natsMsg_GetDataLength(in_empty.get()));
    const char* only = nullptr;
    ASSERT_EQ(NATS_OK, natsMsgHeader_Get(in_empty.get(), "Only", &only));
    EXPECT_STREQ("header", only);
}

// A raw subscriber that declares headers support gets HMSG with the header block byte-exact.
TEST_F(PubSub, HeaderAwareRawSubscriberGetsHmsg) {
    RawClient raw;
    ASSERT_TRUE(raw.connect(server_->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(
        raw.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB hdr.raw 1\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    ASSERT_TRUE(raw.send("HPUB hdr.raw 22 27\r\nNATS/1.0\r\nX-Key: v\r\n\r\nhello\r\n"));
    size_t start = raw.received().size();
    ASSERT_TRUE(raw.read_until("hello\r\n", 5s, start));
    EXPECT_EQ("HMSG hdr.raw 1 22 27\r\nNATS/1.0\r\nX-Key: v\r\n\r\nhello\r\n",
              raw.received().substr(start));
}

// A subscriber whose CONNECT says headers:false gets plain MSG with the header block stripped.
TEST_F(PubSub, HeadersAreStrippedForSubscriberWithoutHeaderSupport) {
    RawClient raw;
    ASSERT_TRUE(raw.connect(server_->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(
        raw.send("CONNECT {\"verbose\":false,\"headers\":false}\r\nSUB hdr.strip 1\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    size_t start = raw.received().size();

    ConnectionPtr publisher = connect(server_->url());
    ASSERT_TRUE(publisher);
    natsMsg* raw_msg = nullptr;
    ASSERT_EQ(NATS_OK, natsMsg_Create(&raw_msg, "hdr.strip", nullptr, "hello", 5));
    MsgPtr msg(raw_msg);
    ASSERT_EQ(NATS_OK, natsMsgHeader_Set(msg.get(), "X-Key", "value"));
    ASSERT_EQ(NATS_OK, natsConnection_PublishMsg(publisher.get(), msg.get()));
    ASSERT_EQ(NATS_OK, natsConnection_PublishString(publisher.get(), "hdr.strip", "plain"));
    ASSERT_EQ(NATS_OK, natsConnection_Flush(publisher.get()));

    ASSERT_TRUE(raw.read_until("plain\r\n", 5s, start));
    EXPECT_EQ("MSG hdr.strip 1 5\r\nhello\r\nMSG hdr.strip 1 5\r\nplain\r\n",
              raw.received().substr(start));
}

}  // namespace
}  // namespace ringtail::test
