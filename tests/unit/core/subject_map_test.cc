// Stream imports' subject mapping (core/route/subject_map.h) and the pattern algebra under it
// (base/subject_match.h): intersections, subsets, and the stand-in pattern a subscription of
// the importing account needs in the exporting one.
#include "core/route/subject_map.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/subject_match.h"
#include "base/subject_transform.h"

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

// "$n" and "{{wildcard(n)}}" place the n-th wildcard wherever they stand; a "*" takes the next.
TEST(SubjectMap, PlacedWildcardsReorderAndTheInverseMapsBack) {
    SubjectMap swapped("foo.*.*", "bar.$2.{{ wildcard(1) }}");
    EXPECT_EQ(swapped.to_pattern(), "bar.*.*");
    EXPECT_EQ(swapped.apply("foo.x.y"), "bar.y.x");
    EXPECT_EQ(swapped.reverse("bar.y.x"), "foo.x.y");
    EXPECT_EQ(swapped.reverse("bar.y.*"), "foo.*.y");
    EXPECT_EQ(swapped.reverse("bar.>"), "foo.*.*");
    SubjectMap back = swapped.inverse();
    EXPECT_EQ(back.apply("bar.y.x"), "foo.x.y");
    EXPECT_EQ(back.to_pattern(), "foo.*.*");

    SubjectMap tail("a.*.>", "b.$1.c.>");
    EXPECT_EQ(tail.apply("a.1.2.3"), "b.1.c.2.3");
    EXPECT_EQ(tail.reverse("b.*.c.2"), "a.*.2");
    EXPECT_EQ(tail.inverse().apply("b.1.c.2.3"), "a.1.2.3");

    // A service import whose exporter's subject is a literal: whatever the importer's.
    EXPECT_EQ(SubjectMap("svc", "s.*").inverse().apply("s.x"), "svc");
}

// Subject mappings' destinations, as nats-server 2.9's transform builds and applies them.
std::string mapped(std::string_view source, std::string_view destination, std::string_view subject) {
    auto made = base::SubjectTransform::make(source, destination);
    if (auto* why = std::get_if<std::string>(&made)) return "error: " + *why;
    return std::get<base::SubjectTransform>(made).apply(subject);
}

TEST(SubjectTransform, WildcardsPartitionsAndTheTail) {
    EXPECT_EQ(mapped("foo", "bar", "foo"), "bar");
    EXPECT_EQ(mapped("orders.*.*", "orders.{{wildcard(2)}}.{{wildcard(1)}}", "orders.eu.new"), "orders.new.eu");
    EXPECT_EQ(mapped("orders.*.*", "orders.$2.$1", "orders.eu.new"), "orders.new.eu");
    EXPECT_EQ(mapped("a.>", "b.>", "a.x.y"), "b.x.y");
    EXPECT_EQ(mapped("a.*.>", "b.$1.>", "a.x.y.z"), "b.x.y.z");
    // FNV-1a of the tokens, modulo the partitions: "eu" is 2 of 3, "us" 0, "a" then "b": "ab".
    EXPECT_EQ(mapped("p.*", "p.{{partition(3,1)}}.$1", "p.eu"), "p.2.eu");
    EXPECT_EQ(mapped("p.*", "p.{{partition(3,1)}}.$1", "p.us"), "p.0.us");
    EXPECT_EQ(mapped("p.*.*", "p.{{Partition(10,1,2)}}.$1.$2", "p.1.a"), "p.1.1.a");
    // nats-server's refusals.
    EXPECT_EQ(mapped("a.*", "b.*", "a.x"), "error: invalid subject");
    EXPECT_EQ(mapped("a.>", "b", "a.x"), "error: invalid subject");
    EXPECT_EQ(mapped("a.*.*", "b.$1", "a.x.y"), "error: invalid mapping destination: not using all of the token wildcard(s) in b.$1");
    EXPECT_EQ(mapped("a.*", "b.{{wildcard(2)}}", "a.x"),
              "error: invalid mapping destination: wildcard index out of range in {{wildcard(2)}}: [2]");
    EXPECT_EQ(mapped("a.*", "b.{{nope(1)}}", "a.x"), "error: invalid mapping destination: unknown function in {{nope(1)}}");
    EXPECT_EQ(mapped("a.*", "b.{{partition(3)}}", "a.x"),
              "error: invalid mapping destination: not enough arguments passed to the function in {{partition(3)}}");
}

// nats-server's own examples of the functions that cut a token into several.
TEST(SubjectTransform, SplitsAndSlices) {
    EXPECT_EQ(mapped("*", "{{splitfromleft(1,3)}}", "12345"), "123.45");
    EXPECT_EQ(mapped("*", "{{SplitFromRight(1,3)}}", "12345"), "12.345");
    EXPECT_EQ(mapped("*", "{{SliceFromLeft(1,3)}}", "1234567890"), "123.456.789.0");
    EXPECT_EQ(mapped("*", "{{SliceFromRight(1,3)}}", "1234567890"), "1.234.567.890");
    EXPECT_EQ(mapped("*", "{{split(1,-)}}", "-abc-def--ghi-"), "abc.def.ghi");
    EXPECT_EQ(mapped("*", "{{split(1,-)}}", "abc-def--ghi-"), "abc.def.ghi");
    EXPECT_EQ(mapped("*.*", "{{split(2,-)}}.{{splitfromleft(1,2)}}", "foo.-abc-def--ghij-"), "abc.def.ghij.fo.o");
    EXPECT_EQ(mapped("*", "{{split(1, --)}}", "a--b--c"), "a.b.c");
    // A cut that does not fit leaves the token whole.
    EXPECT_EQ(mapped("*", "x.{{splitfromleft(1,5)}}", "12345"), "x.12345");
    EXPECT_EQ(mapped("*", "x.{{SliceFromRight(1,0)}}", "12345"), "x.12345");
    EXPECT_EQ(mapped("*", "{{SliceFromLeft(1,2)}}", "1234"), "12.34");
    // nats-server's refusals.
    EXPECT_EQ(mapped("a.*", "b.{{splitfromleft(1)}}", "a.x"),
              "error: invalid mapping destination: not enough arguments passed to the function in {{splitfromleft(1)}}");
    EXPECT_EQ(mapped("a.*", "b.{{slicefromright(1,2,3)}}", "a.x"),
              "error: invalid mapping destination: too many arguments passed to the function in {{slicefromright(1,2,3)}}");
    EXPECT_EQ(mapped("a.*", "b.{{splitfromright(1,x)}}", "a.x"),
              "error: invalid mapping destination: function argument is invalid or in the wrong format in "
              "{{splitfromright(1,x)}}");
    EXPECT_EQ(mapped("a.*", "b.{{split(1,a b)}}", "a.x"),
              "error: invalid mapping destination: function argument is invalid or in the wrong format in {{split(1,a b)}}");
    EXPECT_EQ(mapped("a.*", "b.{{split(2,-)}}", "a.x"),
              "error: invalid mapping destination: wildcard index out of range in {{split(2,-)}}: [2]");
}

}  // namespace
}  // namespace ringtail::core
