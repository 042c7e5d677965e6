// A shard's routing end to end, several shards wired by their rings and driven by hand
// (core/shard/switch.h): the rules the server depends on, with no sockets and no io_uring.
#include "core/shard/switch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>

#include "tests/support/switch_cluster.h"

namespace ringtail::core {
namespace {

using test::FakeSubscriber;
using test::SwitchCluster;

MsgView msg_of(const std::string& subject, const std::string& payload, const std::string& reply = "") {
    return {subject, reply, {}, payload, false, {}, {}};
}

TEST(Switch, AQueueGroupAcrossShardsGetsEachMessageExactlyOnce) {
    SwitchCluster cluster(4);
    std::vector<std::unique_ptr<FakeSubscriber>> members;
    for (uint32_t shard = 0; shard < 4; ++shard) {
        for (int i = 0; i < 1 + static_cast<int>(shard); ++i) {
            members.push_back(std::make_unique<FakeSubscriber>(shard));
            members.back()->subscribe(cluster.at(shard), "jobs.*", "workers", "q" + std::to_string(i));
        }
    }
    FakeSubscriber plain(2);
    plain.subscribe(cluster.at(2), "jobs.>", "", "p");
    cluster.settle();
    const int kMessages = 2000;
    for (int i = 0; i < kMessages; ++i) {
        uint32_t from = static_cast<uint32_t>(i % 4);
        ASSERT_EQ(cluster.at(from).publish(msg_of("jobs.run", std::to_string(i)), nullptr), Routed::kDelivered);
        if (i % 50 == 0) cluster.settle();
    }
    cluster.settle();
    std::map<std::string, int> seen;
    std::vector<size_t> per_shard(4, 0);
    for (const auto& member : members) {
        for (const auto& got : member->got) ++seen[got.payload];
        per_shard[member->shard()] += member->got.size();
    }
    ASSERT_EQ(seen.size(), static_cast<size_t>(kMessages));
    for (const auto& [payload, count] : seen) ASSERT_EQ(count, 1) << payload;
    EXPECT_EQ(plain.got.size(), static_cast<size_t>(kMessages));
    // Weighted by members: shard 3 has 4 of the 10 members.
    EXPECT_GT(per_shard[3], per_shard[0]);
}

TEST(Switch, AccountsAreSeparateSubjectSpacesOnEveryShard) {
    SwitchCluster cluster(3);
    // The same subjects, wildcards and queue group in accounts 0, 1 and 2, spread over shards.
    std::vector<std::unique_ptr<FakeSubscriber>> subs;
    for (uint32_t account = 0; account < 3; ++account) {
        for (uint32_t shard = 0; shard < 3; ++shard) {
            subs.push_back(std::make_unique<FakeSubscriber>(shard));
            subs.back()->account = account;
            subs.back()->subscribe(cluster.at(shard), ">", "", "all");
            subs.back()->subscribe(cluster.at(shard), "orders.*", "workers", "q");
        }
    }
    cluster.settle();
    const std::string subject = "orders.new";
    for (int i = 0; i < 30; ++i) {
        const std::string payload = std::to_string(i);
        MsgView msg = msg_of(subject, payload);
        msg.account = 1;
        ASSERT_EQ(cluster.at(static_cast<uint32_t>(i % 3)).publish(msg, nullptr), Routed::kDelivered);
    }
    cluster.settle();
    size_t queued = 0;
    for (const auto& sub : subs) {
        size_t all = 0;
        for (const auto& got : sub->got) all += got.sid == "all";
        queued += sub->got.size() - all;
        EXPECT_EQ(all, sub->account == 1 ? 30u : 0u) << "account " << sub->account << " shard " << sub->shard();
        if (sub->account != 1) EXPECT_TRUE(sub->got.empty());
    }
    EXPECT_EQ(queued, 30u);  // the group of account 1 only, each message once
    const std::string x = "x";
    MsgView lonely = msg_of(subject, x);
    lonely.account = 3;  // an account nobody subscribes in
    EXPECT_EQ(cluster.at(0).publish(lonely, nullptr), Routed::kNoInterest);
    EXPECT_TRUE(cluster.at(2).has_interest(2, "orders.x"));
    EXPECT_FALSE(cluster.at(2).has_interest(3, "orders.x"));
}

TEST(Switch, MessagesFromOnePublisherArriveInTheOrderSent) {
    SwitchCluster cluster(3);
    FakeSubscriber far(2), near(0);
    far.subscribe(cluster.at(2), "seq", "", "1");
    near.subscribe(cluster.at(0), "seq", "", "1");
    cluster.settle();
    for (int i = 0; i < 5000; ++i) {
        ASSERT_EQ(cluster.at(0).publish(msg_of("seq", std::to_string(i)), nullptr), Routed::kDelivered);
        if (i % 97 == 0) cluster.turn(0);
        if (i % 131 == 0) cluster.turn(2);
    }
    cluster.settle();
    for (FakeSubscriber* sub : {&far, &near}) {
        ASSERT_EQ(sub->got.size(), 5000u);
        for (int i = 0; i < 5000; ++i) ASSERT_EQ(sub->got[i].payload, std::to_string(i));
    }
}

// A subscriber that reads, only slowly: whoever feeds it holds back until it catches up or the
// hold's time is up (a publisher on its shard: held(); another shard: its ring is not read).
TEST(Switch, APublisherFeedingABackedUpSubscriberIsHeldUntilItCatchesUp) {
    SwitchCluster cluster(1);
    FakeSubscriber slow(0), publisher(0), other(0);
    slow.subscribe(cluster.at(0), "data", "", "1");
    ASSERT_EQ(cluster.at(0).publish(msg_of("data", "a"), &publisher), Routed::kDelivered);
    EXPECT_FALSE(cluster.at(0).held(&publisher));
    slow.backed_up = std::chrono::seconds(5);
    ASSERT_EQ(cluster.at(0).publish(msg_of("data", "b"), &publisher), Routed::kDelivered);
    EXPECT_TRUE(cluster.at(0).held(&publisher));
    EXPECT_FALSE(cluster.at(0).held(&other));
    slow.backed_up = {};  // caught up
    EXPECT_FALSE(cluster.at(0).held(&publisher));
    EXPECT_FALSE(cluster.at(0).holding());
    // The hold's time runs out even if it never catches up.
    slow.backed_up = std::chrono::milliseconds(1);
    ASSERT_EQ(cluster.at(0).publish(msg_of("data", "c"), &publisher), Routed::kDelivered);
    slow.backed_up = std::chrono::seconds(5);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_FALSE(cluster.at(0).held(&publisher));
    // A subscriber that goes away ends the holds on it.
    ASSERT_EQ(cluster.at(0).publish(msg_of("data", "d"), &publisher), Routed::kDelivered);
    EXPECT_TRUE(cluster.at(0).held(&publisher));
    cluster.at(0).forget(&slow);
    EXPECT_FALSE(cluster.at(0).held(&publisher));
}

TEST(Switch, AnotherShardsRingIsNotReadWhileItFeedsABackedUpSubscriber) {
    SwitchCluster cluster(2);
    FakeSubscriber slow(1);
    slow.subscribe(cluster.at(1), "data", "", "1");
    cluster.settle();
    slow.backed_up = std::chrono::seconds(5);
    for (int i = 0; i < 10; ++i) {
        ASSERT_EQ(cluster.at(0).publish(msg_of("data", std::to_string(i)), nullptr), Routed::kDelivered);
    }
    cluster.turn(0);
    cluster.turn(1);
    EXPECT_EQ(slow.got.size(), 1u);  // the first one, then the ring is held
    EXPECT_TRUE(cluster.at(1).holding());
    cluster.turn(1);
    EXPECT_EQ(slow.got.size(), 1u);
    slow.backed_up = {};
    cluster.settle();
    EXPECT_EQ(slow.got.size(), 10u);
    EXPECT_FALSE(cluster.at(1).holding());
}

// A connection subscribes to its reply inbox, then publishes a request in the same turn; the
// responder on another shard answers at once. The interest record travels ahead of the
// request on the same ring, so the reply finds the inbox.
TEST(Switch, ARequestSentRightAfterItsInboxSubscriptionGetsItsReply) {
    SwitchCluster cluster(2);
    FakeSubscriber responder(1);
    responder.subscribe(cluster.at(1), "service", "", "s");
    cluster.settle();
    FakeSubscriber requester(0);
    for (int i = 0; i < 100; ++i) {
        std::string inbox = "_INBOX." + std::to_string(i);
        requester.subscribe(cluster.at(0), inbox, "", inbox);
        ASSERT_EQ(cluster.at(0).publish(msg_of("service", "q", inbox), &requester), Routed::kDelivered);
        cluster.turn(0);
        size_t before = responder.got.size();
        cluster.turn(1);  // the request arrives, after the interest
        ASSERT_EQ(responder.got.size(), before + 1);
        ASSERT_EQ(cluster.at(1).publish(msg_of(inbox, "a"), &responder), Routed::kDelivered)
            << "shard 1 already knows the inbox";
        cluster.turn(1);
        cluster.turn(0);
        ASSERT_FALSE(requester.got.empty());
        EXPECT_EQ(requester.got.back().subject, inbox);
        requester.unsubscribe(cluster.at(0), inbox);
    }
    EXPECT_EQ(requester.got.size(), 100u);
}

// The same, when the inbox's interest record has to wait for ring room: the request waits
// behind it (kFull) rather than overtake it, however much room the ring has meanwhile.
TEST(Switch, ARequestNeverOvertakesItsInboxInterestWaitingForRoom) {
    SwitchCluster cluster(2, 256 * 1024);
    FakeSubscriber responder(1), filler(1);
    responder.subscribe(cluster.at(1), "service", "", "s");
    filler.subscribe(cluster.at(1), "fill", "", "f");
    cluster.settle();
    std::string payload(4000, 'x');
    while (cluster.at(0).publish(msg_of("fill", payload), nullptr) == Routed::kDelivered) {
    }
    while (cluster.at(0).publish(msg_of("fill", ""), nullptr) == Routed::kDelivered) {
    }
    // Longer than the room an empty fill message can leave, so its interest record cannot fit.
    const std::string kInbox = "_INBOX.a-requester-waiting-for-room";
    FakeSubscriber requester(0);
    requester.subscribe(cluster.at(0), kInbox, "", "r");  // its interest record waits here
    cluster.turn(1);  // shard 1 drains what was published so far: nothing yet
    cluster.turn(0);  // publishes the fill; the interest record still does not fit
    cluster.turn(1);  // the ring is empty again, but the interest record is still on shard 0
    EXPECT_EQ(cluster.at(0).publish(msg_of("service", "q", kInbox), &requester), Routed::kFull);
    cluster.turn(0);  // the interest record goes into the ring
    ASSERT_EQ(cluster.at(0).publish(msg_of("service", "q", kInbox), &requester), Routed::kDelivered);
    cluster.turn(0);
    cluster.turn(1);
    ASSERT_EQ(responder.got.size(), 1u);
    EXPECT_EQ(cluster.at(1).publish(msg_of(kInbox, "a"), &responder), Routed::kDelivered);
}

TEST(Switch, AMessageThatFindsARingFullIsRefusedWholeAndGoesThroughOnRetry) {
    SwitchCluster cluster(3, 256 * 1024);
    FakeSubscriber one(1), two(2), here(0);
    one.subscribe(cluster.at(1), "big", "", "1");
    two.subscribe(cluster.at(2), "big", "", "1");
    here.subscribe(cluster.at(0), "big", "", "1");
    cluster.settle();
    std::string payload(3000, 'x');
    int sent = 0;
    int refused = 0;
    // Only shard 2 drains: the ring to shard 1 fills, and then nothing goes anywhere until it
    // has room again.
    while (sent < 400) {
        Routed routed = cluster.at(0).publish(msg_of("big", std::to_string(sent) + payload), nullptr);
        if (routed == Routed::kFull) {
            ++refused;
            cluster.turn(0);
            cluster.turn(2);
            cluster.turn(1);  // room again
            continue;
        }
        ASSERT_EQ(routed, Routed::kDelivered);
        ++sent;
        if (sent % 10 == 0) {
            cluster.turn(0);
            cluster.turn(2);
        }
    }
    cluster.settle();
    EXPECT_GT(refused, 0);
    for (FakeSubscriber* sub : {&one, &two, &here}) {
        ASSERT_EQ(sub->got.size(), 400u);
        for (int i = 0; i < 400; ++i) ASSERT_EQ(sub->got[i].payload, std::to_string(i) + payload);
    }
    EXPECT_GT(cluster.doorbells(1, 0), 0u) << "shard 1 woke the waiting producer";
}

TEST(Switch, ASubscriptionWithAMaxIsRemovedOnItsLastMessageOnEveryShard) {
    SwitchCluster cluster(2);
    FakeSubscriber sub(1);
    sub.subscribe(cluster.at(1), "m", "", "1", /*max_msgs=*/3);
    cluster.settle();
    for (int i = 0; i < 10; ++i) cluster.at(0).publish(msg_of("m", std::to_string(i)), nullptr);
    cluster.settle();
    EXPECT_EQ(sub.got.size(), 3u);
    EXPECT_FALSE(sub.has("1"));
    EXPECT_EQ(cluster.at(1).subscriptions(), 0u);
    EXPECT_EQ(cluster.at(0).remote_interest_entries(), 0u) << "shard 0 heard the interest go";
    EXPECT_EQ(cluster.at(0).publish(msg_of("m", "late"), nullptr), Routed::kNoInterest);
}

// A group's messages on their way to a shard whose last member reaches its max, or closes,
// before they arrive: they go on to a member on another shard, once, rather than to nobody.
TEST(Switch, AGroupsMessagesThatFindNoMemberLeftGoOnToAnotherShard) {
    SwitchCluster cluster(3);
    FakeSubscriber capped(1);
    FakeSubscriber closing(1);
    FakeSubscriber stayer(2);
    capped.subscribe(cluster.at(1), "w", "g", "1", /*max_msgs=*/2);
    closing.subscribe(cluster.at(1), "w", "g", "1");
    stayer.subscribe(cluster.at(2), "w", "g", "1");
    cluster.settle();
    closing.closing = true;
    const int kMessages = 60;
    for (int i = 0; i < kMessages; ++i) cluster.at(0).publish(msg_of("w", std::to_string(i)), nullptr);
    cluster.settle();
    EXPECT_EQ(capped.got.size(), 2u);
    EXPECT_TRUE(closing.got.empty());
    EXPECT_EQ(capped.got.size() + stayer.got.size(), static_cast<size_t>(kMessages));
    EXPECT_TRUE(std::ranges::any_of(stayer.got, [](const auto& got) { return got.rerouted; }));
}

// Sent on once only: a shard that finds no member for a message sent on drops it, so two
// shards whose replicas both lag cannot pass it back and forth.
TEST(Switch, AMessageSentOnIsNotSentOnAgain) {
    SwitchCluster cluster(2);
    FakeSubscriber first(0);
    FakeSubscriber second(1);
    first.subscribe(cluster.at(0), "w", "g", "1");
    second.subscribe(cluster.at(1), "w", "g", "1");
    cluster.settle();
    first.closing = true;
    second.closing = true;
    for (int i = 0; i < 20; ++i) cluster.at(0).publish(msg_of("w", std::to_string(i)), nullptr);
    cluster.settle();
    EXPECT_TRUE(first.got.empty());
    EXPECT_TRUE(second.got.empty());
}

TEST(Switch, NoInterestAnywhereIsReportedForNoResponders) {
    SwitchCluster cluster(2);
    FakeSubscriber requester(0, /*echo=*/false);
    requester.subscribe(cluster.at(0), "_INBOX.x", "", "9");
    cluster.settle();
    EXPECT_EQ(cluster.at(0).publish(msg_of("nobody", "q", "_INBOX.x"), &requester), Routed::kNoInterest);
    const Subscription* inbox = cluster.at(0).find_plain(kGlobalAccount, "_INBOX.x", requester);
    ASSERT_NE(inbox, nullptr);
    EXPECT_EQ(inbox->sid, "9");
    // With echo off, its own subscription is no interest either.
    EXPECT_EQ(cluster.at(0).publish(msg_of("_INBOX.x", "self"), &requester), Routed::kNoInterest);
}

TEST(Switch, InterestIsAppliedEverywhereBeforeAPingWouldBeAnswered) {
    SwitchCluster cluster(3);
    FakeSubscriber sub(0);
    sub.subscribe(cluster.at(0), "late.*", "", "1");
    uint64_t needed = cluster.mesh(0).interest_seq_sent();
    EXPECT_FALSE(cluster.mesh(0).interest_applied(needed));
    cluster.settle();
    EXPECT_TRUE(cluster.mesh(0).interest_applied(needed));
    EXPECT_EQ(cluster.at(2).publish(msg_of("late.x", "p"), nullptr), Routed::kDelivered);
}

// Takes in a moved FakeSubscriber (the handle is its address).
struct Adopter final : MoveAdopter {
    Adopted adopt(uint64_t handle) override {
        auto* sub = reinterpret_cast<FakeSubscriber*>(handle);
        return {sub, sub->subscriptions()};
    }
};

// Three shards that take in moved FakeSubscribers.
struct MovingCluster {
    SwitchCluster cluster;
    Adopter adopter;
    explicit MovingCluster(size_t ring_bytes = 1 << 20) : cluster(3, ring_bytes) {
        for (uint32_t shard = 0; shard < 3; ++shard) cluster.at(shard).set_adopter(&adopter);
    }
    // Moves `sub` with its subscriptions from shard `from` to `to` and settles; false unless
    // it arrived.
    bool move(FakeSubscriber& sub, uint32_t from, uint32_t to) {
        cluster.at(from).hand_over(reinterpret_cast<uintptr_t>(&sub), sub.subscriptions(), to);
        sub.set_shard(to);
        cluster.settle();
        return cluster.at(to).take_arrivals().size() == 1;
    }
};

std::vector<std::string> payloads(const FakeSubscriber& sub) {
    std::vector<std::string> out;
    for (const auto& got : sub.got) out.push_back(got.payload);
    return out;
}

TEST(Switch, ARequesterMovesWithItsInboxAndEveryMessageStillArrivesOnceInOrder) {
    MovingCluster moving;
    SwitchCluster& cluster = moving.cluster;
    FakeSubscriber requester(0);
    requester.subscribe(cluster.at(0), "_INBOX.r.*", "", "1");
    FakeSubscriber other(0);  // stays on shard 0, subscribed to the same subject
    other.subscribe(cluster.at(0), "_INBOX.>", "", "2");
    FakeSubscriber responder(1);
    cluster.settle();
    // Shard 1 answers before the move; its answer is still in its ring to shard 0 at the
    // handover, as is shard 2's.
    ASSERT_EQ(cluster.at(1).publish(msg_of("_INBOX.r.1", "1:before"), &responder), Routed::kDelivered);
    ASSERT_EQ(cluster.at(2).publish(msg_of("_INBOX.r.1", "2:before"), nullptr), Routed::kDelivered);
    cluster.at(0).hand_over(reinterpret_cast<uintptr_t>(&requester), requester.subscriptions(), 1);
    requester.set_shard(1);
    EXPECT_EQ(cluster.at(0).forwarders(), 1u);
    EXPECT_EQ(cluster.at(0).subscriptions(), 1u);  // the forwarder is not counted
    // Shard 1 takes it in, and answers again at once: delivered directly, but only once the
    // first answer came back from shard 0.
    cluster.turn(0);
    cluster.turn(1);
    ASSERT_EQ(cluster.at(1).take_arrivals().size(), 1u);
    EXPECT_EQ(cluster.at(1).subscriptions(), 1u);
    ASSERT_EQ(cluster.at(1).publish(msg_of("_INBOX.r.2", "1:after"), &responder), Routed::kDelivered);
    ASSERT_EQ(cluster.at(0).publish(msg_of("_INBOX.r.3", "0:after"), nullptr), Routed::kDelivered);
    ASSERT_EQ(cluster.at(2).publish(msg_of("_INBOX.r.4", "2:after"), nullptr), Routed::kDelivered);
    EXPECT_TRUE(requester.got.empty());  // kept until shard 0's echo
    cluster.settle();
    std::vector<std::string> got = payloads(requester);
    std::vector<std::string> expected = {"1:before", "2:before", "1:after", "0:after", "2:after"};
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(got, expected);
    auto at = [&](const std::string& payload) {
        return std::find_if(requester.got.begin(), requester.got.end(), [&](const auto& g) { return g.payload == payload; }) -
               requester.got.begin();
    };
    EXPECT_LT(at("1:before"), at("1:after"));
    EXPECT_LT(at("2:before"), at("2:after"));
    EXPECT_EQ(other.got.size(), 5u);  // the subscriber left behind got everything too

    // Shard 1's answers now stay on shard 1 (shard 0 no longer counts the interest for it,
    // unless someone else there has it: "other" does, so it still gets them).
    other.unsubscribe(cluster.at(0), "2");
    cluster.settle();
    ASSERT_EQ(cluster.at(1).publish(msg_of("_INBOX.r.5", "1:local"), &responder), Routed::kDelivered);
    EXPECT_EQ(cluster.mesh(1).bytes_waiting(0), 0u);
    cluster.settle();
    EXPECT_EQ(requester.got.back().payload, "1:local");

    // Unsubscribing on shard 1 drops the forwarder on shard 0 and the interest everywhere.
    ASSERT_TRUE(requester.unsubscribe(cluster.at(1), "1"));
    cluster.settle();
    EXPECT_EQ(cluster.at(0).forwarders(), 0u);
    EXPECT_FALSE(cluster.at(2).has_interest(kGlobalAccount, "_INBOX.r.6"));
    EXPECT_FALSE(cluster.at(1).has_interest(kGlobalAccount, "_INBOX.r.6"));
}

TEST(Switch, APublisherArrivingBesideAMovedSubscriberDoesNotOvertakeItsForwardedMessages) {
    MovingCluster moving;
    SwitchCluster& cluster = moving.cluster;
    FakeSubscriber requester(0);
    requester.subscribe(cluster.at(0), "in.*", "", "1");
    cluster.settle();
    ASSERT_TRUE(moving.move(requester, 0, 1));
    // A publisher on shard 2: its first message goes the long way, through shard 0 (which
    // holds the interest), and is still on its way to shard 1 when the publisher arrives there.
    FakeSubscriber publisher(2);
    ASSERT_EQ(cluster.at(2).publish(msg_of("in.1", "first"), &publisher), Routed::kDelivered);
    cluster.turn(2);
    cluster.at(0).drain(nullptr);  // forwarded, not yet published to shard 1
    cluster.at(2).hand_over(reinterpret_cast<uintptr_t>(&publisher), {}, 1);
    cluster.turn(2);
    cluster.turn(1);
    ASSERT_EQ(cluster.at(1).take_arrivals().size(), 1u);
    ASSERT_EQ(cluster.at(1).publish(msg_of("in.2", "second"), &publisher), Routed::kDelivered);
    EXPECT_TRUE(requester.got.empty());  // kept until shard 0 has forwarded what came before
    cluster.settle();
    ASSERT_EQ(payloads(requester), (std::vector<std::string>{"first", "second"}));
}

// Forwarded messages waiting for room past their bound stop the reading of every ring that
// feeds them; once they are under it again the shard must read on without a wake-up, since
// the doorbells for what waits in those rings have rung already.
TEST(Switch, RingsLeftUnreadForAForwardingBacklogAreReadOnceItClears) {
    MovingCluster moving(/*ring_bytes=*/1 << 16);
    SwitchCluster& cluster = moving.cluster;
    FakeSubscriber requester(0);
    requester.subscribe(cluster.at(0), "in.*", "", "1");
    cluster.settle();
    ASSERT_TRUE(moving.move(requester, 0, 1));
    // Shard 2 publishes through shard 0 (which holds the interest) while shard 1 reads
    // nothing: shard 0's forwarded messages pile up until it stops reading shard 2.
    int sent = 0;
    auto publish_until_full = [&] {
        while (cluster.at(2).publish(msg_of("in.x", std::to_string(sent)), nullptr) == Routed::kDelivered) ++sent;
    };
    for (int round = 0; round < 1000 && !cluster.mesh(0).backlog_full(); ++round) {
        publish_until_full();
        cluster.turn(2);
        cluster.turn(0);
    }
    ASSERT_TRUE(cluster.mesh(0).backlog_full());
    publish_until_full();
    cluster.turn(2);
    cluster.turn(0);
    EXPECT_EQ(cluster.at(2).publish(msg_of("in.x", "late"), nullptr), Routed::kFull);  // shard 0 reads no more
    (void)cluster.mesh(0).waiting_moved();  // what the turns above moved
    cluster.turn(0);
    EXPECT_FALSE(cluster.mesh(0).waiting_moved());  // nothing moved: the ring to shard 1 is full
    // Shard 1 reads; each turn of shard 0 that moves some of its backlog into the ring says so,
    // and the backlog goes under its bound.
    bool cleared = false;
    for (int round = 0; round < 100 && !cleared; ++round) {
        cluster.turn(1);
        cluster.turn(0);
        ASSERT_TRUE(cluster.mesh(0).waiting_moved());
        cleared = !cluster.mesh(0).backlog_full();
    }
    ASSERT_TRUE(cleared);
    EXPECT_FALSE(cluster.mesh(0).waiting_moved());  // said once
    // The turn it asks for reads shard 2 again.
    cluster.turn(0);
    EXPECT_EQ(cluster.at(2).publish(msg_of("in.x", std::to_string(sent)), nullptr), Routed::kDelivered);
    ++sent;
    cluster.settle();
    ASSERT_EQ(requester.got.size(), static_cast<size_t>(sent));
    for (int i = 0; i < sent; ++i) ASSERT_EQ(requester.got[i].payload, std::to_string(i));
}

}  // namespace
}  // namespace ringtail::core
