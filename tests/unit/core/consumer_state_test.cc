// A consumer's delivered/acked state (core/js/consumer_state.h), as nats-server keeps it: the
// ack floor follows the first delivery still owed, ack-all takes everything up to a message,
// acks for what is already done with change nothing, and redeliveries are counted.
#include "core/js/consumer_state.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/core/consumer_state_text.h"

namespace ringtail::core::js {
namespace {

using proto::js::AckPolicy;

// Stream sequences `seqs` delivered once each, as consumer sequences 1, 2, ... in that order.
ConsumerState delivered(AckPolicy policy, const std::vector<uint64_t>& seqs) {
    ConsumerState state;
    uint64_t dseq = 0;
    for (uint64_t sseq : seqs) {
        ++dseq;
        state.on_delivered(policy, sseq, dseq, 1, static_cast<int64_t>(dseq) * 1000);
    }
    return state;
}

std::vector<uint64_t> pending_seqs(const ConsumerState& state) {
    std::vector<uint64_t> seqs;
    for (const auto& [sseq, pending] : state.pending) seqs.push_back(sseq);
    return seqs;
}

void expect_floor(const ConsumerState& state, uint64_t consumer_seq, uint64_t stream_seq) {
    EXPECT_EQ(state.ack_floor_consumer, consumer_seq);
    EXPECT_EQ(state.ack_floor_stream, stream_seq);
}


// ---------------------------------------------------------------------------------------------
// Deliveries

TEST(ConsumerState, DeliveryWithAcksOwedIsPendingWithItsConsumerSequenceAndTime) {
    for (AckPolicy policy : {AckPolicy::kExplicit, AckPolicy::kAll}) {
        ConsumerState state;
        state.on_delivered(policy, 5, 1, 1, 100);
        state.on_delivered(policy, 9, 2, 1, 200);
        EXPECT_EQ(state.delivered_consumer, 2u);
        EXPECT_EQ(state.delivered_stream, 9u);
        expect_floor(state, 0, 0);
        ASSERT_EQ(pending_seqs(state), (std::vector<uint64_t>{5, 9}));
        EXPECT_EQ(state.pending.at(5).consumer_seq, 1u);
        EXPECT_EQ(state.pending.at(5).timestamp_ns, 100);
        EXPECT_EQ(state.pending.at(9).consumer_seq, 2u);
        EXPECT_EQ(state.pending.at(9).timestamp_ns, 200);
        EXPECT_TRUE(state.redelivered.empty());
    }
}

TEST(ConsumerState, AckNoneDeliveryIsDoneWithAtOnce) {
    ConsumerState state;
    state.on_delivered(AckPolicy::kNone, 3, 1, 1, 100);
    state.on_delivered(AckPolicy::kNone, 7, 2, 1, 200);
    EXPECT_EQ(state.delivered_consumer, 2u);
    EXPECT_EQ(state.delivered_stream, 7u);
    expect_floor(state, 2, 7);
    EXPECT_TRUE(state.pending.empty());
    EXPECT_TRUE(state.redelivered.empty());
}

TEST(ConsumerState, AckNoneIgnoresAcks) {
    ConsumerState state = delivered(AckPolicy::kNone, {1, 2, 3});
    std::string before = describe(state);
    EXPECT_FALSE(state.on_acked(AckPolicy::kNone, 2, 2));
    EXPECT_FALSE(state.on_acked(AckPolicy::kNone, 4, 4));
    EXPECT_EQ(describe(state), before);
}

TEST(ConsumerState, RedeliveryCountsDeliveriesBeyondTheFirstAndKeepsTheFirstConsumerSequence) {
    ConsumerState state;
    state.on_delivered(AckPolicy::kExplicit, 1, 1, 1, 100);
    state.on_delivered(AckPolicy::kExplicit, 2, 2, 1, 200);
    state.on_delivered(AckPolicy::kExplicit, 1, 3, 2, 300);
    EXPECT_EQ(state.redelivered.at(1), 1u);
    state.on_delivered(AckPolicy::kExplicit, 1, 4, 3, 400);
    EXPECT_EQ(state.redelivered.at(1), 2u);
    EXPECT_FALSE(state.redelivered.contains(2));
    // Delivered counts the newest delivery; pending keeps the first one's sequence (nats-server's
    // trackPending) and the newest time, from which the ack wait runs again.
    EXPECT_EQ(state.delivered_consumer, 4u);
    EXPECT_EQ(state.delivered_stream, 2u);
    EXPECT_EQ(state.pending.at(1).consumer_seq, 1u);
    EXPECT_EQ(state.pending.at(1).timestamp_ns, 400);
    EXPECT_EQ(state.pending.size(), 2u);
}

TEST(ConsumerState, DeliveredNeverGoesBackwards) {
    ConsumerState state;
    state.on_delivered(AckPolicy::kExplicit, 10, 5, 1, 0);
    state.on_delivered(AckPolicy::kExplicit, 4, 2, 2, 0);
    EXPECT_EQ(state.delivered_consumer, 5u);
    EXPECT_EQ(state.delivered_stream, 10u);
}

// ---------------------------------------------------------------------------------------------
// Explicit acks

TEST(ConsumerState, ExplicitAcksInOrderMoveTheFloorWithEachAck) {
    ConsumerState state = delivered(AckPolicy::kExplicit, {1, 2, 3});
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 1, 1));
    expect_floor(state, 1, 1);
    EXPECT_EQ(pending_seqs(state), (std::vector<uint64_t>{2, 3}));
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 2, 2));
    expect_floor(state, 2, 2);
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 3, 3));
    expect_floor(state, 3, 3);
    EXPECT_TRUE(state.pending.empty());
}

TEST(ConsumerState, ExplicitAckAboveAGapLeavesTheFloorUntilTheGapCloses) {
    ConsumerState state = delivered(AckPolicy::kExplicit, {1, 2, 3, 4});
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 3, 3));  // taken off pending
    expect_floor(state, 0, 0);
    EXPECT_EQ(pending_seqs(state), (std::vector<uint64_t>{1, 2, 4}));
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 1, 1));
    expect_floor(state, 1, 1);
    // Acking 2 closes the gap: the floor moves past the 3 acked earlier, up to the oldest
    // still owed (4).
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 2, 2));
    expect_floor(state, 3, 3);
    EXPECT_EQ(pending_seqs(state), (std::vector<uint64_t>{4}));
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 4, 4));
    expect_floor(state, 4, 4);
}

TEST(ConsumerState, ExplicitFloorOnAFilteredStreamStopsJustBelowTheOldestOwed) {
    // A filtered consumer sees stream sequences 10, 20, 30 as deliveries 1, 2, 3.
    ConsumerState state = delivered(AckPolicy::kExplicit, {10, 20, 30});
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 20, 2));
    expect_floor(state, 0, 0);
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 10, 1));
    // Everything below delivery 3 / stream 30 is done with.
    expect_floor(state, 2, 29);
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 30, 3));
    expect_floor(state, 3, 30);
}

TEST(ConsumerState, LastOwedAckMovesTheFloorToTheLastDelivery) {
    ConsumerState state = delivered(AckPolicy::kExplicit, {1, 2, 3});
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 3, 3));
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 2, 2));
    expect_floor(state, 0, 0);
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 1, 1));
    expect_floor(state, 3, 3);
    EXPECT_TRUE(state.pending.empty());
}

TEST(ConsumerState, ExplicitAckOfARedeliveryUsesTheFirstDeliverySequence) {
    ConsumerState state;
    state.on_delivered(AckPolicy::kExplicit, 1, 1, 1, 0);
    state.on_delivered(AckPolicy::kExplicit, 2, 2, 1, 0);
    state.on_delivered(AckPolicy::kExplicit, 1, 3, 2, 0);  // 1 again, as delivery 3
    // The ack names delivery 3, but 1 was first delivery 1: the floor moves up to it.
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 1, 3));
    expect_floor(state, 1, 1);
    EXPECT_FALSE(state.redelivered.contains(1));
    EXPECT_EQ(pending_seqs(state), (std::vector<uint64_t>{2}));
    // The last one owed: the floor goes to the newest delivery (3), as nats-server's does.
    EXPECT_TRUE(state.on_acked(AckPolicy::kExplicit, 2, 2));
    expect_floor(state, 3, 2);
    EXPECT_TRUE(state.redelivered.empty());
}

TEST(ConsumerState, ExplicitAckOfSomethingAlreadyAckedChangesNothing) {
    ConsumerState state = delivered(AckPolicy::kExplicit, {1, 2, 3, 4});
    ASSERT_TRUE(state.on_acked(AckPolicy::kExplicit, 1, 1));
    ASSERT_TRUE(state.on_acked(AckPolicy::kExplicit, 3, 3));
    std::string before = describe(state);
    EXPECT_FALSE(state.on_acked(AckPolicy::kExplicit, 1, 1));  // below the floor
    EXPECT_FALSE(state.on_acked(AckPolicy::kExplicit, 3, 3));  // above it, acked out of order
    EXPECT_EQ(describe(state), before);
    ASSERT_TRUE(state.on_acked(AckPolicy::kExplicit, 2, 2));
    ASSERT_TRUE(state.on_acked(AckPolicy::kExplicit, 4, 4));
    before = describe(state);
    for (uint64_t seq = 1; seq <= 4; ++seq)
        EXPECT_FALSE(state.on_acked(AckPolicy::kExplicit, seq, seq)) << seq;
    EXPECT_EQ(describe(state), before);
}

TEST(ConsumerState, ExplicitAckOfANeverDeliveredSequenceChangesNothing) {
    ConsumerState state = delivered(AckPolicy::kExplicit, {1, 2, 3});
    ASSERT_TRUE(state.on_acked(AckPolicy::kExplicit, 1, 1));
    std::string before = describe(state);
    EXPECT_FALSE(state.on_acked(AckPolicy::kExplicit, 9, 7));
    EXPECT_EQ(describe(state), before);
}

TEST(ConsumerState, ExplicitFloorIsTheLongestAckedPrefixWhateverTheAckOrder) {
    std::mt19937_64 random(7);
    for (int round = 0; round < 50; ++round) {
        constexpr uint64_t kMessages = 40;
        std::vector<uint64_t> seqs(kMessages);
        std::iota(seqs.begin(), seqs.end(), 1);
        ConsumerState state = delivered(AckPolicy::kExplicit, seqs);
        std::shuffle(seqs.begin(), seqs.end(), random);
        std::vector<bool> acked(kMessages + 1, false);
        for (uint64_t seq : seqs) {
            ASSERT_TRUE(state.on_acked(AckPolicy::kExplicit, seq, seq));
            ASSERT_FALSE(state.on_acked(AckPolicy::kExplicit, seq, seq));  // a repeat does nothing
            acked[seq] = true;
            uint64_t prefix = 0;
            while (prefix < kMessages && acked[prefix + 1]) ++prefix;
            ASSERT_EQ(state.ack_floor_consumer, prefix) << "round " << round << " after " << seq;
            ASSERT_EQ(state.ack_floor_stream, prefix) << "round " << round << " after " << seq;
            ASSERT_FALSE(state.pending.contains(seq));
        }
        EXPECT_TRUE(state.pending.empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Ack all

TEST(ConsumerState, AckAllAcksEverythingUpToTheMessage) {
    ConsumerState state;
    for (uint64_t seq = 1; seq <= 5; ++seq) state.on_delivered(AckPolicy::kAll, seq, seq, 1, 0);
    state.on_delivered(AckPolicy::kAll, 2, 6, 2, 0);
    state.on_delivered(AckPolicy::kAll, 4, 7, 2, 0);
    EXPECT_TRUE(state.on_acked(AckPolicy::kAll, 3, 3));
    expect_floor(state, 3, 3);
    EXPECT_EQ(pending_seqs(state), (std::vector<uint64_t>{4, 5}));
    EXPECT_FALSE(state.redelivered.contains(2));
    EXPECT_EQ(state.redelivered.at(4), 1u);
    EXPECT_TRUE(state.on_acked(AckPolicy::kAll, 5, 5));
    expect_floor(state, 5, 5);
    EXPECT_TRUE(state.pending.empty());
    EXPECT_TRUE(state.redelivered.empty());
}

TEST(ConsumerState, AckAllAtOrBelowTheFloorChangesNothing) {
    ConsumerState state = delivered(AckPolicy::kAll, {1, 2, 3, 4, 5});
    ASSERT_TRUE(state.on_acked(AckPolicy::kAll, 3, 3));
    std::string before = describe(state);
    EXPECT_FALSE(state.on_acked(AckPolicy::kAll, 3, 3));
    EXPECT_FALSE(state.on_acked(AckPolicy::kAll, 2, 2));
    EXPECT_FALSE(state.on_acked(AckPolicy::kAll, 1, 1));
    EXPECT_EQ(describe(state), before);
}

TEST(ConsumerState, AckAllFloorIsTheHighestAckedWhateverTheAckOrder) {
    std::mt19937_64 random(11);
    for (int round = 0; round < 50; ++round) {
        constexpr uint64_t kMessages = 40;
        std::vector<uint64_t> seqs(kMessages);
        std::iota(seqs.begin(), seqs.end(), 1);
        ConsumerState state = delivered(AckPolicy::kAll, seqs);
        std::shuffle(seqs.begin(), seqs.end(), random);
        uint64_t highest = 0;
        for (uint64_t seq : seqs) {
            ASSERT_EQ(state.on_acked(AckPolicy::kAll, seq, seq), seq > highest) << seq;
            highest = std::max(highest, seq);
            ASSERT_EQ(state.ack_floor_consumer, highest);
            ASSERT_EQ(state.ack_floor_stream, highest);
            ASSERT_EQ(state.pending.size(), kMessages - highest);
            if (!state.pending.empty()) ASSERT_EQ(state.pending.begin()->first, highest + 1);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The stream's first sequence

TEST(ConsumerState, StreamFloorDropsWhatIsOwedBelowItAndKeepsTheRest) {
    ConsumerState state;
    for (uint64_t seq = 1; seq <= 5; ++seq)
        state.on_delivered(AckPolicy::kExplicit, seq, seq, 1, 0);
    for (uint64_t seq = 1; seq <= 5; ++seq)
        state.on_delivered(AckPolicy::kExplicit, seq, 5 + seq, 2, 0);
    state.on_stream_floor(3);
    EXPECT_EQ(pending_seqs(state), (std::vector<uint64_t>{3, 4, 5}));
    std::vector<uint64_t> redelivered;
    for (const auto& [sseq, count] : state.redelivered) redelivered.push_back(sseq);
    EXPECT_EQ(redelivered, (std::vector<uint64_t>{3, 4, 5}));
    EXPECT_EQ(state.delivered_consumer, 10u);
    EXPECT_EQ(state.delivered_stream, 5u);
    state.on_stream_floor(1);  // lower than before: nothing comes back, nothing more goes
    EXPECT_EQ(pending_seqs(state), (std::vector<uint64_t>{3, 4, 5}));
    state.on_stream_floor(100);
    EXPECT_TRUE(state.pending.empty());
    EXPECT_TRUE(state.redelivered.empty());
}

// ---------------------------------------------------------------------------------------------
// Encoding

ConsumerState busy_state() {
    ConsumerState state;
    for (uint64_t seq = 1; seq <= 6; ++seq)
        state.on_delivered(AckPolicy::kExplicit, seq * 3, seq, 1,
                           -5 + 1000 * static_cast<int64_t>(seq));
    state.on_delivered(AckPolicy::kExplicit, 9, 7, 2, INT64_MAX);
    state.on_delivered(AckPolicy::kExplicit, 12, 8, 4, INT64_MIN);
    (void)state.on_acked(AckPolicy::kExplicit, 3, 1);
    (void)state.on_acked(AckPolicy::kExplicit, 15, 5);
    state.delivered_stream = UINT64_MAX - 1;  // the encoding carries any value
    return state;
}

TEST(ConsumerState, EncodingRoundTripsEveryField) {
    ConsumerState state = busy_state();
    ASSERT_FALSE(state.pending.empty());
    ASSERT_FALSE(state.redelivered.empty());
    auto decoded = ConsumerState::decode(state.encode());
    ASSERT_TRUE(decoded);
    EXPECT_EQ(describe(*decoded), describe(state));
    EXPECT_EQ(decoded->encode(), state.encode());
}

TEST(ConsumerState, EncodingOfAFreshStateRoundTrips) {
    ConsumerState state;
    std::string bytes = state.encode();
    EXPECT_EQ(bytes.size(), 48u);
    auto decoded = ConsumerState::decode(bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(describe(*decoded), describe(state));
}

TEST(ConsumerState, DecodeRefusesEveryTruncationAndAnyTrailingByte) {
    std::string bytes = busy_state().encode();
    for (size_t size = 0; size < bytes.size(); ++size) {
        EXPECT_FALSE(ConsumerState::decode(std::string_view(bytes).substr(0, size))) << size;
    }
    EXPECT_FALSE(ConsumerState::decode(bytes + '\0'));
    EXPECT_FALSE(ConsumerState::decode(bytes + std::string(24, '\0')));  // one pending entry more
}

TEST(ConsumerState, DecodeRefusesCountsThatDisagreeWithTheBytes) {
    std::string bytes = busy_state().encode();
    // The pending count is the fifth u64, the redelivered count the sixth.
    for (size_t at : {size_t{32}, size_t{40}}) {
        for (uint8_t delta : {uint8_t{1}, uint8_t{0xff}}) {
            std::string changed = bytes;
            changed[at] = static_cast<char>(static_cast<uint8_t>(changed[at]) + delta);
            EXPECT_FALSE(ConsumerState::decode(changed)) << at << " " << int{delta};
        }
    }
}

}  // namespace
}  // namespace ringtail::core::js
