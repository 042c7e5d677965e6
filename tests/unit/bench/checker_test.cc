#include "bench/harness/checker.h"

#include <gtest/gtest.h>

namespace ringtail::bench {
namespace {

TEST(SequenceChecker, EveryModeAcceptsTheCompleteSequence) {
    SequenceChecker checker(SequenceChecker::Mode::kEvery, 2);
    for (uint64_t seq = 0; seq < 100; ++seq) {
        ASSERT_TRUE(checker.observe(0, seq));
        ASSERT_TRUE(checker.observe(1, seq));
    }
    EXPECT_EQ(checker.received(0), 100u);
    EXPECT_TRUE(checker.error().empty());
}

TEST(SequenceChecker, EveryModeReportsAGapAsLoss) {
    SequenceChecker checker(SequenceChecker::Mode::kEvery, 1);
    ASSERT_TRUE(checker.observe(0, 0));
    EXPECT_FALSE(checker.observe(0, 3));  // 1 and 2 were dropped
    EXPECT_NE(checker.error().find("LOSS: 2 message(s) missing"), std::string::npos)
        << checker.error();
}

TEST(SequenceChecker, EveryModeReportsARepeatAsDuplicate) {
    SequenceChecker checker(SequenceChecker::Mode::kEvery, 1);
    ASSERT_TRUE(checker.observe(0, 0));
    ASSERT_TRUE(checker.observe(0, 1));
    EXPECT_FALSE(checker.observe(0, 1));
    EXPECT_NE(checker.error().find("DUPLICATE"), std::string::npos);
}

TEST(SequenceChecker, SubsequenceModeAcceptsGapsButNotStepsBack) {
    SequenceChecker checker(SequenceChecker::Mode::kSubsequence, 1);
    EXPECT_TRUE(checker.observe(0, 0));
    EXPECT_TRUE(checker.observe(0, 5));
    EXPECT_FALSE(checker.observe(0, 4));
}

TEST(SequenceChecker, UnknownPublisherIsAnError) {
    SequenceChecker checker(SequenceChecker::Mode::kEvery, 1);
    EXPECT_FALSE(checker.observe(7, 0));
}

TEST(DeliveryBitmap, ExactlyOnceHoldsForADisjointCover) {
    DeliveryBitmap a(2);
    DeliveryBitmap b(2);
    for (uint64_t seq = 0; seq < 3'000'000; ++seq) {  // crosses chunk boundaries
        ASSERT_TRUE((seq % 3 == 0 ? a : b).mark(static_cast<uint32_t>(seq % 2), seq / 2));
    }
    EXPECT_EQ(check_exactly_once({&a, &b}, {1'500'000, 1'500'000}), "");
}

TEST(DeliveryBitmap, DroppedMessageIsLoss) {
    DeliveryBitmap a(1);
    DeliveryBitmap b(1);
    for (uint64_t seq = 0; seq < 1000; ++seq) {
        if (seq == 617) continue;  // dropped on purpose
        ASSERT_TRUE((seq % 2 == 0 ? a : b).mark(0, seq));
    }
    EXPECT_EQ(check_exactly_once({&a, &b}, {1000}),
              "LOSS: publisher 0 seq 617 delivered to no member");
}

TEST(DeliveryBitmap, MessageAtTwoMembersIsDuplicate) {
    DeliveryBitmap a(1);
    DeliveryBitmap b(1);
    for (uint64_t seq = 0; seq < 1000; ++seq) ASSERT_TRUE(a.mark(0, seq));
    ASSERT_TRUE(b.mark(0, 999));
    EXPECT_EQ(check_exactly_once({&a, &b}, {1000}),
              "DUPLICATE: publisher 0 seq 999 delivered to more than one member");
}

TEST(DeliveryBitmap, SameMemberTwiceIsRefusedAtMark) {
    DeliveryBitmap a(1);
    EXPECT_TRUE(a.mark(0, 42));
    EXPECT_FALSE(a.mark(0, 42));
}

TEST(DeliveryBitmap, MessageBeyondWhatWasSentIsReported) {
    DeliveryBitmap a(1);
    for (uint64_t seq = 0; seq <= 10; ++seq) ASSERT_TRUE(a.mark(0, seq));
    EXPECT_EQ(check_exactly_once({&a}, {10}), "UNEXPECTED: publisher 0 seq 10 was never published");
}

}  // namespace
}  // namespace ringtail::bench
