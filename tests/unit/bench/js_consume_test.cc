// The per-message times of --live consume runs and the PubAck-to-delivery join.
#include "bench/harness/js_consume.h"

#include <gtest/gtest.h>

namespace ringtail::bench {
namespace {

TEST(SeqTimes, GrowsOnDemandAndReadsZeroForNever) {
    SeqTimes times;
    EXPECT_EQ(times.at(0), 0u);
    times.set(1'000'000, 7);
    times.set(3, 5);
    EXPECT_EQ(times.at(1'000'000), 7u);
    EXPECT_EQ(times.at(3), 5u);
    EXPECT_EQ(times.at(4), 0u);
    EXPECT_EQ(times.at(2'000'000), 0u);
}

TEST(SeqTimes, MergeTakesWhatTheOtherConsumerSaw) {
    SeqTimes first;
    SeqTimes second;
    first.set(0, 10);
    second.set(1, 20);
    second.set(5, 60);
    first.merge(second);
    EXPECT_EQ(first.at(0), 10u);
    EXPECT_EQ(first.at(1), 20u);
    EXPECT_EQ(first.at(5), 60u);
}

TEST(AckToDelivery, MeasuresFromThePubAckOfTheSameMessage) {
    std::vector<SeqTimes> acked(2);
    std::vector<SeqTimes> delivered(2);
    for (uint64_t seq = 0; seq < 100; ++seq) {
        acked[0].set(seq, 1'000 + seq);
        delivered[0].set(seq, 1'500 + seq);  // 500 ns after its PubAck
        acked[1].set(seq, 2'000);
        delivered[1].set(seq, 2'000 + 1'000);  // 1000 ns after
    }
    AckToDelivery joined = join_ack_to_delivery(acked, delivered);
    EXPECT_EQ(joined.latency.count(), 200u);
    EXPECT_EQ(joined.before_ack, 0u);
    EXPECT_EQ(joined.unmatched, 0u);
    EXPECT_EQ(joined.latency.min(), 500u);
    EXPECT_EQ(joined.latency.max(), 1'000u);
}

TEST(AckToDelivery, ADeliveryBeforeItsPubAckCountsAsZero) {
    std::vector<SeqTimes> acked(1);
    std::vector<SeqTimes> delivered(1);
    acked[0].set(0, 5'000);
    delivered[0].set(0, 4'000);
    acked[0].set(1, 5'000);
    delivered[0].set(1, 9'000);
    delivered[0].set(2, 9'500);  // no PubAck time: left out, and counted
    AckToDelivery joined = join_ack_to_delivery(acked, delivered);
    EXPECT_EQ(joined.latency.count(), 2u);
    EXPECT_EQ(joined.before_ack, 1u);
    EXPECT_EQ(joined.unmatched, 1u);
    EXPECT_EQ(joined.latency.min(), 0u);
    EXPECT_EQ(joined.latency.max(), 4'000u);
}

}  // namespace
}  // namespace ringtail::bench
