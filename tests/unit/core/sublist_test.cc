#include "core/route/sublist.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "proto/subject.h"

namespace ringtail::core {
namespace {

struct Sub {
    std::string subject;
    std::string queue;
};

std::set<const Sub*> plain_of(const Sublist<Sub>::MatchResult& r) {
    return {r.plain.begin(), r.plain.end()};
}

TEST(Sublist, LiteralStarAndTail) {
    Sublist<Sub> sublist;
    Sub a{"foo.bar", ""}, b{"foo.*", ""}, c{"foo.>", ""}, d{">", ""}, e{"*.bar", ""};
    for (Sub* s : {&a, &b, &c, &d, &e}) sublist.insert(s->subject, s->queue, s);
    EXPECT_EQ(plain_of(sublist.match("foo.bar")), (std::set<const Sub*>{&a, &b, &c, &d, &e}));
    EXPECT_EQ(plain_of(sublist.match("foo.baz")), (std::set<const Sub*>{&b, &c, &d}));
    EXPECT_EQ(plain_of(sublist.match("foo.bar.baz")), (std::set<const Sub*>{&c, &d}));
    EXPECT_EQ(plain_of(sublist.match("foo")), (std::set<const Sub*>{&d}));
    EXPECT_TRUE(sublist.remove(b.subject, b.queue, &b));
    EXPECT_FALSE(sublist.remove(b.subject, b.queue, &b));
    EXPECT_EQ(plain_of(sublist.match("foo.baz")), (std::set<const Sub*>{&c, &d}));
    EXPECT_EQ(sublist.count(), 4u);
}

TEST(Sublist, QueueGroupsMergeByNameAcrossPatterns) {
    Sublist<Sub> sublist;
    Sub a{"foo.bar", "q"}, b{"foo.*", "q"}, c{"foo.>", "r"}, p{"foo.bar", ""};
    for (Sub* s : {&a, &b, &c, &p}) sublist.insert(s->subject, s->queue, s);
    const auto& result = sublist.match("foo.bar");
    EXPECT_EQ(result.plain, (std::vector<Sub*>{&p}));
    ASSERT_EQ(result.queues.size(), 2u);
    for (const auto& group : result.queues) {
        if (group.name == "q") {
            EXPECT_EQ(std::set<Sub*>(group.members.begin(), group.members.end()), (std::set<Sub*>{&a, &b}));
        } else {
            EXPECT_EQ(group.name, "r");
            EXPECT_EQ(group.members, (std::vector<Sub*>{&c}));
        }
    }
}

TEST(Sublist, RemovingEverythingLeavesNoMatches) {
    Sublist<Sub> sublist;
    std::vector<Sub> subs;
    for (int i = 0; i < 100; ++i) subs.push_back({"_INBOX.x." + std::to_string(i), ""});
    for (auto& s : subs) sublist.insert(s.subject, s.queue, &s);
    for (auto& s : subs) EXPECT_TRUE(sublist.remove(s.subject, s.queue, &s));
    EXPECT_EQ(sublist.count(), 0u);
    EXPECT_TRUE(sublist.match("_INBOX.x.1").empty());
}

// Subjects seen once (reply inboxes) are matched without being cached, repeated ones are
// cached, and a full cache evicts part of itself: every path gives the same answers.
TEST(Sublist, UniqueAndRepeatedSubjectsMatchAlikePastTheCacheSize) {
    Sublist<Sub> sublist;
    Sub inbox{"_INBOX.abc.*", ""};
    Sub orders{"orders.>", ""};
    sublist.insert(inbox.subject, inbox.queue, &inbox);
    sublist.insert(orders.subject, orders.queue, &orders);
    for (size_t i = 0; i < 3 * Sublist<Sub>::kCacheEntriesMax; ++i) {
        std::string unique = "_INBOX.abc." + std::to_string(i);
        ASSERT_EQ(plain_of(sublist.match(unique)), std::set<const Sub*>{&inbox}) << i;
        std::string repeated = "orders." + std::to_string(i % 2000);
        ASSERT_EQ(plain_of(sublist.match(repeated)), std::set<const Sub*>{&orders}) << i;
        ASSERT_TRUE(sublist.match("nothing." + std::to_string(i % 7)).empty());
    }
    sublist.remove(orders.subject, orders.queue, &orders);
    EXPECT_TRUE(sublist.match("orders.1").empty());  // the cache never outlives a remove
}

// The same subject matched again and again (one publisher's stream) is answered from the last
// result, which no insert, remove or other subject leaves stale.
TEST(Sublist, TheLastResultNeverOutlivesAChange) {
    Sublist<Sub> sublist;
    Sub exact{"orders.eu", ""}, star{"orders.*", ""}, other{"orders.us", ""};
    sublist.insert(exact.subject, exact.queue, &exact);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(plain_of(sublist.match("orders.eu")), std::set<const Sub*>{&exact});
    sublist.insert(star.subject, star.queue, &star);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(plain_of(sublist.match("orders.eu")), (std::set<const Sub*>{&exact, &star}));
    }
    sublist.insert(other.subject, other.queue, &other);
    EXPECT_EQ(plain_of(sublist.match("orders.us")), (std::set<const Sub*>{&other, &star}));
    EXPECT_EQ(plain_of(sublist.match("orders.eu")), (std::set<const Sub*>{&exact, &star}));
    EXPECT_EQ(plain_of(sublist.match("orders.eu")), (std::set<const Sub*>{&exact, &star}));
    EXPECT_EQ(plain_of(sublist.match("orders.e")), std::set<const Sub*>{&star});  // a prefix
    EXPECT_TRUE(sublist.remove(exact.subject, exact.queue, &exact));
    EXPECT_EQ(plain_of(sublist.match("orders.eu")), std::set<const Sub*>{&star});
    // Past the cache's size, with evictions between two matches of the same subject.
    for (size_t i = 0; i < 2 * Sublist<Sub>::kCacheEntriesMax; ++i) {
        std::string subject = "orders." + std::to_string(i);
        ASSERT_EQ(plain_of(sublist.match(subject)), std::set<const Sub*>{&star});
        ASSERT_EQ(plain_of(sublist.match(subject)), std::set<const Sub*>{&star});
        ASSERT_EQ(plain_of(sublist.match("orders.eu")), std::set<const Sub*>{&star});
    }
}

// Random subscriptions and subjects over a small alphabet, so that many match: the trie must
// agree with the reference matcher on every subject, through inserts, removes and the cache.
TEST(Sublist, AgreesWithReferenceMatcherOnRandomSubjects) {
    std::mt19937 random(1234);
    const std::vector<std::string> tokens = {"a", "b", "c", "*", ">"};
    auto random_pattern = [&]() {
        int n = 1 + static_cast<int>(random() % 4);
        std::string subject;
        for (int i = 0; i < n; ++i) {
            std::string token = tokens[random() % tokens.size()];
            if (token == ">" && i != n - 1) token = "a";
            subject += (i ? "." : "") + token;
        }
        return subject;
    };
    auto random_literal = [&]() {
        int n = 1 + static_cast<int>(random() % 4);
        std::string subject;
        for (int i = 0; i < n; ++i) subject += (i ? "." : "") + tokens[random() % 3];
        return subject;
    };
    Sublist<Sub> sublist;
    std::vector<std::unique_ptr<Sub>> live;
    for (int round = 0; round < 3000; ++round) {
        if (live.empty() || random() % 3 != 0) {
            auto sub = std::make_unique<Sub>(Sub{random_pattern(), random() % 4 == 0 ? "q" : ""});
            ASSERT_TRUE(proto::is_valid_subject(sub->subject));
            sublist.insert(sub->subject, sub->queue, sub.get());
            live.push_back(std::move(sub));
        } else {
            size_t at = random() % live.size();
            ASSERT_TRUE(sublist.remove(live[at]->subject, live[at]->queue, live[at].get()));
            live.erase(live.begin() + static_cast<long>(at));
        }
        for (int probe = 0; probe < 5; ++probe) {
            std::string subject = random_literal();
            std::set<const Sub*> expected_plain, expected_queue;
            for (const auto& sub : live) {
                if (!proto::subject_matches(sub->subject, subject)) continue;
                (sub->queue.empty() ? expected_plain : expected_queue).insert(sub.get());
            }
            const auto& result = sublist.match(subject);
            ASSERT_EQ(plain_of(result), expected_plain) << subject;
            std::set<const Sub*> got_queue;
            for (const auto& group : result.queues) got_queue.insert(group.members.begin(), group.members.end());
            ASSERT_EQ(got_queue, expected_queue) << subject;
        }
    }
}

}  // namespace
}  // namespace ringtail::core
