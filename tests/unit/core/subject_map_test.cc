// Stream imports' subject mapping (core/route/subject_map.h) and the pattern algebra under it
// (base/subject_match.h): intersections, subsets, and the stand-in pattern a subscription of
// the importing account needs in the exporting one.
#include "core/route/subject_map.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/subject_match.h"

namespace ringtail::core {
namespace {

TEST(SubjectPatterns, IntersectionIsWhatBothMatch) {
    using base::pattern_intersection;
    EXPECT_EQ(pattern_intersection("a.*", "*.b"), "a.b");
    EXPECT_EQ(pattern_intersection("a.>", "*.b.c"), "a.b.c");
    EXPECT_EQ(pattern_intersection(">", "a.*.>"), "a.*.>");
    EXPECT_EQ(pattern_intersection("a.*.>", "a.>"), "a.*.>");
    EXPECT_EQ(pattern_intersection("a.b", "a.b"), "a.b");
    EXPECT_EQ(pattern_intersection("a.b", "a.c"), std::nullopt);
    EXPECT_EQ(pattern_intersection("a.*", "a.b.c"), std::nullopt);
    EXPECT_EQ(pattern_intersection("a.>", "a"), std::nullopt);
    EXPECT_TRUE(base::pattern_is_subset("a.b", "a.*"));
    EXPECT_TRUE(base::pattern_is_subset("a.*.c", "a.>"));
    EXPECT_TRUE(base::pattern_is_subset("a.>", "a.>"));
    EXPECT_FALSE(base::pattern_is_subset("a.*", "a.b"));
    EXPECT_FALSE(base::pattern_is_subset("a.>", "a.*"));
    EXPECT_FALSE(base::pattern_is_subset("a", "a.>"));
    EXPECT_TRUE(base::same_wildcards("a.*.>", "x.y.*.>"));
    EXPECT_FALSE(base::same_wildcards("a.*.>", "x.>"));
}

// Random patterns and subjects over a small alphabet: the intersection matches exactly what
// both patterns match, and a subset's subjects are all the superset's.
TEST(SubjectPatterns, AgreeWithTheReferenceMatcherOnRandomSubjects) {
    std::mt19937_64 random(7);
    auto make = [&](bool wild) {
        std::string out;
        size_t depth = 1 + random() % 3;
        for (size_t i = 0; i < depth; ++i) {
            if (i > 0) out += '.';
            uint64_t pick = random() % 6;
            out += wild && pick == 0 && i + 1 == depth ? ">" : wild && pick == 1 ? "*" : std::string(1, "ab"[random() % 2]);
        }
        return out;
    };
    for (int round = 0; round < 3000; ++round) {
        std::string p = make(true), q = make(true), subject = make(false);
        bool both = base::subject_matches(p, subject) && base::subject_matches(q, subject);
        auto meet = base::pattern_intersection(p, q);
        EXPECT_EQ(meet && base::subject_matches(*meet, subject), both) << p << " " << q << " " << subject;
        if (base::pattern_is_subset(p, q) && base::subject_matches(p, subject)) {
            EXPECT_TRUE(base::subject_matches(q, subject)) << p << " within " << q << ": " << subject;
        }
    }
}

TEST(SubjectMap, MapsSubjectsAndFindsTheStandInPattern) {
    SubjectMap prefixed("orders.>", "shop.orders.>");
    EXPECT_EQ(prefixed.apply("orders.eu.new"), "shop.orders.eu.new");
    EXPECT_EQ(prefixed.reverse("shop.>"), "orders.>");
    EXPECT_EQ(prefixed.reverse("shop.orders.*.new"), "orders.*.new");
    EXPECT_EQ(prefixed.reverse(">"), "orders.>");
    EXPECT_EQ(prefixed.reverse("other.>"), std::nullopt);
    EXPECT_EQ(prefixed.reverse("shop.orders"), std::nullopt);

    SubjectMap moved("a.*.x.>", "b.*.>");  // literals move, wildcards keep their order
    EXPECT_EQ(moved.apply("a.1.x.2.3"), "b.1.2.3");
    EXPECT_EQ(moved.reverse("b.1.>"), "a.1.x.>");
    EXPECT_EQ(moved.reverse("b.*.2"), "a.*.x.2");

    SubjectMap literal("time.now", "clock");
    EXPECT_EQ(literal.apply("time.now"), "clock");
    EXPECT_EQ(literal.reverse("*"), "time.now");
    EXPECT_EQ(literal.reverse("clock.>"), std::nullopt);
}

}  // namespace
}  // namespace ringtail::core
