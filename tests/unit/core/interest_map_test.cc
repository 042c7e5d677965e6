// The interest replica and the local reference counts that feed it (core/route/interest_map.h).
#include "core/route/interest_map.h"

#include <gtest/gtest.h>

namespace ringtail::core {
namespace {

TEST(InterestMap, AnEntryLivesFromItsFirstReferenceToItsLast) {
    InterestMap map;
    map.apply(1, "orders.*", "", +1);
    map.apply(1, "orders.*", "", +1);
    ASSERT_EQ(map.match("orders.new").plain.size(), 1u);
    EXPECT_EQ(map.match("orders.new").plain[0]->refs, 2);
    EXPECT_EQ(map.match("orders.new").plain[0]->shard, 1u);
    map.apply(1, "orders.*", "", -1);
    EXPECT_EQ(map.match("orders.new").plain.size(), 1u);
    map.apply(1, "orders.*", "", -1);
    EXPECT_TRUE(map.match("orders.new").empty());
    EXPECT_EQ(map.entries(), 0u);
}

TEST(InterestMap, ShardsAndQueuesAreKeptApart) {
    InterestMap map;
    map.apply(1, "a.>", "", +1);
    map.apply(2, "a.>", "", +1);
    map.apply(2, "a.b", "workers", +1);
    map.apply(3, "a.b", "workers", +1);
    map.apply(3, "a.b", "workers", +1);
    const auto& result = map.match("a.b");
    EXPECT_EQ(result.plain.size(), 2u);
    ASSERT_EQ(result.queues.size(), 1u);
    int64_t members = 0;
    for (const RemoteInterest* r : result.queues[0].members) members += r->refs;
    EXPECT_EQ(members, 3);  // the weights a publisher picks a shard by
}

TEST(InterestMap, ALateRemovalOfAnUnknownEntryIsIgnored) {
    InterestMap map;
    map.apply(1, "x", "", -1);
    EXPECT_EQ(map.entries(), 0u);
    EXPECT_TRUE(map.match("x").empty());
}

TEST(InterestMap, SubjectAndQueueBytesCannotCollide) {
    // "ab" with queue "c" and "a" with queue "bc" are different interests.
    InterestMap map;
    map.apply(1, "ab", "c", +1);
    map.apply(1, "a", "bc", +1);
    EXPECT_EQ(map.entries(), 2u);
    EXPECT_NE(interest_key("ab", "c"), interest_key("a", "bc"));
}

TEST(LocalInterest, PlainInterestIsAnnouncedOnItsFirstAndLastReferenceOnly) {
    LocalInterest refs;
    EXPECT_EQ(refs.change("s", "", +1).others, +1);
    EXPECT_TRUE(refs.change("s", "", +1).empty());
    EXPECT_TRUE(refs.change("s", "", -1).empty());
    EXPECT_EQ(refs.change("s", "", -1).others, -1);
    EXPECT_EQ(refs.entries(), 0u);
}

TEST(LocalInterest, EveryQueueMemberIsAnnounced) {
    LocalInterest refs;
    EXPECT_EQ(refs.change("s", "q", +1).others, +1);
    EXPECT_EQ(refs.change("s", "q", +1).others, +1);
    EXPECT_EQ(refs.change("s", "q", -1).others, -1);
    EXPECT_EQ(refs.change("s", "q", -1).others, -1);
    EXPECT_EQ(refs.entries(), 0u);
}

// The delta a change means to `shard`.
int32_t delta_for(const InterestChange& change, uint32_t shard) {
    for (const auto& [listed, delta] : change.listed) {
        if (listed == shard) return delta;
    }
    return change.others;
}

TEST(LocalInterest, AForwardedReferenceIsNotCountedByTheShardItIsForwardedTo) {
    LocalInterest refs;
    EXPECT_EQ(refs.change("s", "", +1).others, +1);
    // The only reference moves to shard 2: shard 2 loses it, the others keep it.
    InterestChange moved = refs.forward("s", 2, +1);
    EXPECT_EQ(delta_for(moved, 2), -1);
    EXPECT_EQ(delta_for(moved, 1), 0);
    // An own reference again: only shard 2 hears of it.
    InterestChange own = refs.change("s", "", +1);
    EXPECT_EQ(delta_for(own, 2), +1);
    EXPECT_EQ(delta_for(own, 1), 0);
    // The forwarder goes: nobody hears (shard 2 never counted it, the own one remains).
    EXPECT_TRUE(refs.forward("s", 2, -1).empty());
    InterestChange last = refs.change("s", "", -1);
    EXPECT_EQ(delta_for(last, 2), -1);
    EXPECT_EQ(delta_for(last, 1), -1);
    EXPECT_EQ(refs.entries(), 0u);
}

TEST(LocalInterest, TheLastForwardedReferenceGoingIsAnnouncedToTheOthers) {
    LocalInterest refs;
    refs.change("s", "", +1);
    refs.forward("s", 1, +1);
    InterestChange gone = refs.forward("s", 1, -1);
    EXPECT_EQ(delta_for(gone, 1), 0);
    EXPECT_EQ(delta_for(gone, 3), -1);
    EXPECT_EQ(refs.entries(), 0u);
}

}  // namespace
}  // namespace ringtail::core
