#include "base/spsc_ring.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace ringtail::base {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(SpscRing, RecordsAreInvisibleUntilPublished) {
    SpscRing ring(1024);
    auto body = ring.try_reserve(7, 5);
    ASSERT_EQ(body.size(), 5u);
    std::memcpy(body.data(), "hello", 5);
    ring.begin_read();
    SpscRing::Record record;
    EXPECT_FALSE(ring.next(record));
    EXPECT_TRUE(ring.publish());
    EXPECT_FALSE(ring.publish());
    ring.begin_read();
    ASSERT_TRUE(ring.next(record));
    EXPECT_EQ(record.kind, 7u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(record.body.data()), record.body.size()),
              "hello");
    EXPECT_FALSE(ring.next(record));
    ring.end_read();
}

TEST(SpscRing, FullRingRefusesUntilConsumerReleases) {
    SpscRing ring(256);
    int accepted = 0;
    while (!ring.try_reserve(1, 40).empty()) ++accepted;
    EXPECT_EQ(accepted, 256 / 48);
    EXPECT_FALSE(ring.can_reserve(40));
    ring.publish();
    ring.begin_read();
    SpscRing::Record record;
    ASSERT_TRUE(ring.next(record));
    ring.end_read();
    EXPECT_TRUE(ring.can_reserve(40));
    EXPECT_FALSE(ring.try_reserve(1, 40).empty());
}

TEST(SpscRing, WrapsWithPaddingAndKeepsOrder) {
    SpscRing ring(256);
    SpscRing::Record record;
    for (int i = 0; i < 1000; ++i) {
        size_t bytes = static_cast<size_t>(i % 90);
        auto body = ring.try_reserve(1, bytes);
        ASSERT_EQ(body.size(), bytes) << i;
        for (size_t b = 0; b < bytes; ++b) body[b] = static_cast<std::byte>(i);
        ring.publish();
        ring.begin_read();
        ASSERT_TRUE(ring.next(record));
        ASSERT_EQ(record.body.size(), bytes);
        for (std::byte b : record.body) ASSERT_EQ(b, static_cast<std::byte>(i));
        ASSERT_FALSE(ring.next(record));
        ring.end_read();
    }
}

// A body larger than a quarter of the ring travels out of line: it takes a few bytes of the ring
// whatever its size, arrives intact, and is freed at end_read() (or with the ring, if never
// read: ASan's leak check sees to both).
TEST(SpscRing, LargeBodiesTravelOutOfLine) {
    SpscRing ring(1024);
    EXPECT_EQ(ring.inline_body_max(), 256u);
    EXPECT_EQ(ring.record_bytes(256), 8u + 256u);
    EXPECT_EQ(ring.record_bytes(100'000), ring.record_bytes(257));
    EXPECT_LT(ring.record_bytes(100'000), 64u);
    for (int round = 0; round < 100; ++round) {
        std::vector<size_t> sizes = {5, 100'000, 257, 3'000'000, 64};
        // A batch of several out-of-line bodies, granted together.
        ASSERT_TRUE(ring.can_reserve_batch(5 * 32 + 72, 72, 100'000 + 257 + 3'000'000));
        for (size_t i = 0; i < sizes.size(); ++i) {
            auto body = ring.try_reserve(static_cast<uint32_t>(i + 1), sizes[i]);
            ASSERT_EQ(body.size(), sizes[i]);
            std::memset(body.data(), static_cast<int>('a' + i), body.size());
        }
        ring.publish();
        ring.begin_read();
        SpscRing::Record record;
        for (size_t i = 0; i < sizes.size(); ++i) {
            ASSERT_TRUE(ring.next(record));
            EXPECT_EQ(record.kind, i + 1);
            ASSERT_EQ(record.body.size(), sizes[i]);
            EXPECT_EQ(record.body.front(), static_cast<std::byte>('a' + i));
            EXPECT_EQ(record.body.back(), static_cast<std::byte>('a' + i));
        }
        EXPECT_FALSE(ring.next(record));
        ring.end_read();
    }
    // Left in a ring: one read but not released, one published but not read, one reserved
    // but not published.
    SpscRing read(1024), published(1024), reserved(1024);
    ASSERT_FALSE(read.try_reserve(1, 200'000).empty());
    read.publish();
    read.begin_read();
    SpscRing::Record record;
    ASSERT_TRUE(read.next(record));
    ASSERT_FALSE(published.try_reserve(2, 300'000).empty());
    published.publish();
    ASSERT_FALSE(reserved.try_reserve(3, 400'000).empty());
}

// Out-of-line bodies not yet released count against the ring's size: the producer is refused
// until the consumer frees them, though the ring itself has room.
TEST(SpscRing, OutOfLineBodiesAreBoundedByTheRingsSize) {
    SpscRing ring(1024);
    ASSERT_FALSE(ring.try_reserve(1, 600).empty());
    EXPECT_FALSE(ring.can_reserve(505));
    EXPECT_TRUE(ring.try_reserve(1, 505).empty());
    EXPECT_TRUE(ring.can_reserve(100));  // inline: only the ring's own room counts
    EXPECT_FALSE(ring.can_reserve_batch(64, 32, 505));
    EXPECT_TRUE(ring.can_reserve_batch(64, 32, 0));
    ring.publish();
    ring.begin_read();
    SpscRing::Record record;
    ASSERT_TRUE(ring.next(record));
    EXPECT_FALSE(ring.can_reserve(505)) << "read, not yet released";
    ring.end_read();
    EXPECT_TRUE(ring.can_reserve(505));
    // With none out, one body of any size goes.
    ASSERT_FALSE(ring.try_reserve(1, 5'000).empty());
    EXPECT_FALSE(ring.can_reserve(600));
}

// A producer and a consumer thread move a million variable-length records; every record
// arrives once, in order, with its bytes intact.
TEST(SpscRing, TwoThreadsDeliverEveryRecordInOrder) {
    constexpr uint64_t kRecords = 1'000'000;
    SpscRing ring(1 << 16);
    std::thread producer([&] {
        std::minstd_rand random(7);
        for (uint64_t seq = 0; seq < kRecords;) {
            size_t bytes = sizeof(uint64_t) + (seq % 1000 == 0 ? 40'000 : random() % 200);
            auto body = ring.try_reserve(1, bytes);
            if (body.empty()) {
                ring.publish();
                std::this_thread::yield();
                continue;
            }
            std::memcpy(body.data(), &seq, sizeof seq);
            for (size_t i = sizeof seq; i < bytes; ++i) body[i] = static_cast<std::byte>(seq + i);
            if (++seq % 16 == 0) ring.publish();
        }
        ring.publish();
    });
    uint64_t expected = 0;
    while (expected < kRecords) {
        ring.begin_read();
        SpscRing::Record record;
        while (ring.next(record)) {
            uint64_t seq;
            std::memcpy(&seq, record.body.data(), sizeof seq);
            ASSERT_EQ(seq, expected);
            for (size_t i = sizeof seq; i < record.body.size(); ++i) {
                ASSERT_EQ(record.body[i], static_cast<std::byte>(seq + i));
            }
            ++expected;
        }
        ring.end_read();
    }
    producer.join();
    (void)bytes_of;
}

}  // namespace
}  // namespace ringtail::base
