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
    EXPECT_TRUE(refs.change("s", "", +1));
    EXPECT_FALSE(refs.change("s", "", +1));
    EXPECT_FALSE(refs.change("s", "", -1));
    EXPECT_TRUE(refs.change("s", "", -1));
    EXPECT_EQ(refs.entries(), 0u);
}

TEST(LocalInterest, EveryQueueMemberIsAnnounced) {
    LocalInterest refs;
    EXPECT_TRUE(refs.change("s", "q", +1));
    EXPECT_TRUE(refs.change("s", "q", +1));
    EXPECT_TRUE(refs.change("s", "q", -1));
    EXPECT_TRUE(refs.change("s", "q", -1));
    EXPECT_EQ(refs.entries(), 0u);
}

}  // namespace
}  // namespace ringtail::core
