// Routing decisions as plain functions of a sublist, an interest replica and a message
// (core/route/router.h): nothing is delivered, nothing touches I/O.
#include "core/route/router.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/support/switch_cluster.h"

namespace ringtail::core {
namespace {

using test::FakeSubscriber;

struct Local {
    Sublist<Subscription> sublist;
    std::vector<std::unique_ptr<Subscription>> subs;
    Subscription& add(Subscriber& owner, const std::string& subject, const std::string& queue = "") {
        auto sub = std::make_unique<Subscription>();
        sub->owner = &owner;
        sub->subject = subject;
        sub->queue = queue;
        sub->sid = std::to_string(subs.size() + 1);
        sublist.insert(subject, queue, sub.get());
        subs.push_back(std::move(sub));
        return *subs.back();
    }
};

TEST(Router, PlainSubscribersHereAndCopiesToShardsWithInterest) {
    FakeSubscriber a(0), b(0);
    Local local;
    Subscription& sa = local.add(a, "orders.*");
    Subscription& sb = local.add(b, "orders.new");
    InterestMap remote;
    remote.apply(2, "orders.>", "", +1);
    remote.apply(3, "other", "", +1);
    Random random(1);
    RouteDecision decision;
    decision.reset(4);
    decide_route(local.sublist.match("orders.new"), &remote.match("orders.new"), nullptr, random, decision);
    EXPECT_EQ(std::set<Subscription*>(decision.plain.begin(), decision.plain.end()),
              (std::set<Subscription*>{&sa, &sb}));
    EXPECT_TRUE(decision.groups.empty());
    EXPECT_EQ(decision.copy, (std::vector<uint8_t>{0, 0, 1, 0}));
    for (const auto& ids : decision.queue_ids) EXPECT_TRUE(ids.empty());
}

TEST(Router, EchoOffSkipsThePublisherAndAClosingSubscriberIsSkipped) {
    FakeSubscriber publisher(0, /*echo=*/false), closing(0), open(0);
    closing.closing = true;
    Local local;
    local.add(publisher, "x");
    local.add(closing, "x");
    Subscription& kept = local.add(open, "x");
    Random random(1);
    RouteDecision decision;
    decision.reset(1);
    decide_route(local.sublist.match("x"), nullptr, &publisher, random, decision);
    EXPECT_EQ(decision.plain, (std::vector<Subscription*>{&kept}));
    // The server itself publishing: echo does not apply.
    decision.reset(1);
    decide_route(local.sublist.match("x"), nullptr, nullptr, random, decision);
    EXPECT_EQ(decision.plain.size(), 2u);
}

TEST(Router, AQueueGroupOnOneShardGetsExactlyOneMember) {
    FakeSubscriber a(0), b(0), c(0);
    Local local;
    local.add(a, "work", "q");
    local.add(b, "work", "q");
    local.add(c, "work", "q");
    Random random(7);
    std::map<Subscriber*, int> picked;
    for (int i = 0; i < 3000; ++i) {
        RouteDecision decision;
        decision.reset(1);
        decide_route(local.sublist.match("work"), nullptr, nullptr, random, decision);
        ASSERT_EQ(decision.groups.size(), 1u);
        Subscription* member = pick_member(*decision.groups[0], nullptr, random);
        ASSERT_NE(member, nullptr);
        ++picked[member->owner];
    }
    for (auto& [owner, count] : picked) EXPECT_GT(count, 800) << "members are picked about evenly";
}

TEST(Router, AQueueGroupAcrossShardsIsDecidedOnceWeightedByMembers) {
    // Shard 0 (here) has 1 member, shard 1 has 3: about a quarter stays here, and each
    // decision either picks the local member or names exactly one shard for the group.
    FakeSubscriber here(0);
    Local local;
    local.add(here, "work", "q");
    InterestMap remote;
    for (int i = 0; i < 3; ++i) remote.apply(1, "work", "q", +1);
    Random random(3);
    int local_count = 0;
    const int kRuns = 4000;
    for (int i = 0; i < kRuns; ++i) {
        RouteDecision decision;
        decision.reset(2);
        decide_route(local.sublist.match("work"), &remote.match("work"), nullptr, random, decision);
        size_t chosen = decision.groups.size() + decision.queue_ids[1].size();
        ASSERT_EQ(chosen, 1u);
        EXPECT_EQ(decision.copy[1], decision.queue_ids[1].size());
        local_count += static_cast<int>(decision.groups.size());
    }
    EXPECT_GT(local_count, kRuns / 4 - 300);
    EXPECT_LT(local_count, kRuns / 4 + 300);
}

TEST(Router, AGroupWithMembersOnlyElsewhereIsDecidedHere) {
    Local local;
    InterestMap remote;
    remote.apply(1, "work", "q", +1);
    remote.apply(2, "work.*", "q", +1);
    Random random(5);
    RouteDecision decision;
    decision.reset(3);
    decide_route(local.sublist.match("work"), &remote.match("work"), nullptr, random, decision);
    EXPECT_TRUE(decision.groups.empty());
    EXPECT_EQ(decision.queue_ids[1].size(), 1u);  // "work.*" does not match "work"
    EXPECT_EQ(decision.queue_ids[1][0], queue_id("q"));
}

TEST(Router, AMemberIsPickedAmongThoseThatCanTakeItNow) {
    FakeSubscriber closing(0), open(0);
    Local local;
    local.add(closing, "work", "q");
    Subscription& kept = local.add(open, "work", "q");
    Random random(1);
    RouteDecision decision;
    decision.reset(1);
    decide_route(local.sublist.match("work"), nullptr, nullptr, random, decision);
    ASSERT_EQ(decision.groups.size(), 1u);
    // A delivery that happened after the decision closed one member's connection.
    closing.closing = true;
    for (int i = 0; i < 20; ++i) EXPECT_EQ(pick_member(*decision.groups[0], nullptr, random), &kept);
    open.closing = true;
    EXPECT_EQ(pick_member(*decision.groups[0], nullptr, random), nullptr);
}

TEST(Router, AMemberWhoseDeliveryFailsIsPassedOverForTheNext) {
    FakeSubscriber refusing(0), open(0);
    Local local;
    Subscription& refused = local.add(refusing, "work", "q");
    Subscription& kept = local.add(open, "work", "q");
    Random random(1);
    RouteDecision decision;
    decision.reset(1);
    decide_route(local.sublist.match("work"), nullptr, nullptr, random, decision);
    ASSERT_EQ(decision.groups.size(), 1u);
    // As a delivery its permissions deny: it accepts, then refuses.
    auto take = [&](Subscription& sub) { return &sub != &refused; };
    for (int i = 0; i < 20; ++i) EXPECT_EQ(pick_member(*decision.groups[0], nullptr, random, take), &kept);
    EXPECT_EQ(pick_member(*decision.groups[0], nullptr, random, [](Subscription&) { return false; }), nullptr);
}

TEST(Router, AnArrivalDeliversToPlainSubscribersAndOneMemberOfEachNamedGroup) {
    FakeSubscriber a(1), b(1), c(1), d(1);
    Local local;
    Subscription& plain = local.add(a, "work");
    local.add(b, "work", "q1");
    local.add(c, "work", "q1");
    Subscription& other = local.add(d, "work", "q2");
    RouteDecision out;
    uint64_t q2 = queue_id("q2");
    decide_arrival(local.sublist.match("work"), /*plain=*/true, Subscription::kNotMoved, {&q2, 1}, out);
    EXPECT_EQ(out.plain, (std::vector<Subscription*>{&plain}));
    ASSERT_EQ(out.groups.size(), 1u);
    EXPECT_EQ(*out.groups[0], (std::vector<Subscription*>{&other}));
    // A continuation record: queue ids only.
    out.reset(1);
    uint64_t q1 = queue_id("q1");
    decide_arrival(local.sublist.match("work"), /*plain=*/false, Subscription::kNotMoved, {&q1, 1}, out);
    EXPECT_TRUE(out.plain.empty());
    ASSERT_EQ(out.groups.size(), 1u);
    EXPECT_EQ(out.groups[0]->size(), 2u);
    EXPECT_EQ((*out.groups[0])[0]->queue, "q1");
}

}  // namespace
}  // namespace ringtail::core
