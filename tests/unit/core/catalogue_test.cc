#include "core/js/catalogue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace ringtail::core::js {
namespace {

void own(Catalogue& catalogue, const std::string& name, uint32_t shard) {
    catalogue.streams[name].owner = shard;
}

std::vector<uint32_t> owned_per_shard(const Catalogue& catalogue, uint32_t shards) {
    std::vector<uint32_t> owned(shards);
    for (const auto& [name, entry] : catalogue.streams) ++owned[entry.owner];
    return owned;
}

TEST(CatalogueTest, ANewStreamGoesToItsClientsShard) {
    Catalogue catalogue;
    EXPECT_EQ(3u, catalogue.owner_for("A", 4, 3));
    own(catalogue, "A", 3);
    own(catalogue, "B", 0);
    own(catalogue, "C", 1);
    own(catalogue, "D", 2);
    for (uint32_t shard = 0; shard < 4; ++shard) EXPECT_EQ(shard, catalogue.owner_for("E", 4, shard));
}

TEST(CatalogueTest, AShardOwningMoreThanAnotherPassesNewStreamsToOneOwningFewest) {
    Catalogue catalogue;
    own(catalogue, "A", 0);
    own(catalogue, "B", 1);
    EXPECT_EQ(0u, catalogue.owner_for("C", 4, 0));  // one more than shards 2 and 3 own: kept
    own(catalogue, "C", 0);
    // Shard 0 owns two more than shards 2 and 3: one of those.
    for (const char* name : {"D", "E", "F", "G", "H"}) {
        uint32_t owner = catalogue.owner_for(name, 4, 0);
        EXPECT_TRUE(owner == 2 || owner == 3) << name << " on " << owner;
    }
    // A client on a shard owning fewest keeps its stream.
    EXPECT_EQ(3u, catalogue.owner_for("D", 4, 3));
}

TEST(CatalogueTest, StreamsFromOneClientEndUpSpread) {
    Catalogue catalogue;
    for (int i = 0; i < 100; ++i) {
        std::string name = "S" + std::to_string(i);
        own(catalogue, name, catalogue.owner_for(name, 3, 1));
        std::vector<uint32_t> owned = owned_per_shard(catalogue, 3);
        auto [fewest, most] = std::minmax_element(owned.begin(), owned.end());
        ASSERT_LE(*most - *fewest, 2u) << "after " << name;
    }
}

TEST(CatalogueTest, OtherAccountsStreamsCountTowardsAShardsShare) {
    Catalogue catalogue;  // this account's: none yet
    EXPECT_EQ(0u, catalogue.owner_for("A", 2, 0, {1, 0}));  // one more than shard 1: kept
    EXPECT_EQ(1u, catalogue.owner_for("A", 2, 0, {2, 0}));  // two more: passed on
    own(catalogue, "A", 1);
    EXPECT_EQ(0u, catalogue.owner_for("B", 2, 0, {2, 0}));  // 2 against 1: kept
    own(catalogue, "B", 0);
    EXPECT_EQ(1u, catalogue.owner_for("C", 2, 0, {2, 0}));  // 3 against 1
    EXPECT_EQ(1u, catalogue.owner_for("C", 2, 1, {2, 0}));
}

TEST(CatalogueTest, ANameBeingDeletedGoesBackToTheShardDeletingIt) {
    Catalogue catalogue;
    catalogue.delete_started("A", 2);
    EXPECT_EQ(2u, catalogue.owner_for("A", 4, 0));
    EXPECT_EQ(0u, catalogue.owner_for("B", 4, 0));
    catalogue.delete_done("A");
    EXPECT_EQ(0u, catalogue.owner_for("A", 4, 0));
}

// A delete, a create of the same name (on the deleting shard) and a delete of that one, with
// the first report coming back only then: the name stays with that shard until both are done,
// or a create could open its files on another shard while the second delete removes them.
TEST(CatalogueTest, ANameDeletedTwiceWaitsForBothDeletes) {
    Catalogue catalogue;
    catalogue.delete_started("A", 2);
    own(catalogue, "A", catalogue.owner_for("A", 4, 0));
    EXPECT_EQ(2u, catalogue.streams["A"].owner);
    catalogue.streams.erase("A");
    catalogue.delete_started("A", 2);
    catalogue.delete_done("A");
    EXPECT_EQ(2u, catalogue.owner_for("A", 4, 0));
    catalogue.delete_done("A");
    EXPECT_EQ(0u, catalogue.owner_for("A", 4, 0));
    catalogue.delete_done("A");  // a report for a name not being deleted: nothing
    EXPECT_TRUE(catalogue.deleting.empty());
}

TEST(CatalogueTest, AClientShardUnknownOrOutOfRangeStillGetsAShard) {
    Catalogue catalogue;
    EXPECT_LT(catalogue.owner_for("A", 2, 7), 2u);
}

}  // namespace
}  // namespace ringtail::core::js
