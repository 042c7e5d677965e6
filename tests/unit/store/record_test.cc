#include "store/record.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace ringtail::store {
namespace {

std::vector<std::byte> encode(const RecordView& record) {
    std::vector<std::byte> out(record_bytes(record.subject.size(), record.headers.size(), record.payload.size()));
    encode_record(out, record);
    return out;
}

TEST(Record, SizeIsHeaderBodyPaddingAndChecksum) {
    EXPECT_EQ(record_bytes(5, 0, 11), 64u);  // the worked example in record.h
    EXPECT_EQ(record_bytes(0, 0, 0), 48u);
    EXPECT_EQ(record_bytes(1, 0, 0) % 8, 0u);
}

TEST(Record, RoundTrips) {
    auto bytes = encode({42, 1234567, "orders.new", "NATS/1.0\r\nA: b\r\n\r\n", "payload"});
    Decoded decoded = decode_record(bytes);
    ASSERT_EQ(decoded.status, DecodeStatus::kOk);
    EXPECT_EQ(decoded.bytes, bytes.size());
    EXPECT_EQ(decoded.record.seq, 42u);
    EXPECT_EQ(decoded.record.timestamp_ns, 1234567);
    EXPECT_EQ(decoded.record.subject, "orders.new");
    EXPECT_EQ(decoded.record.headers, "NATS/1.0\r\nA: b\r\n\r\n");
    EXPECT_EQ(decoded.record.payload, "payload");
}

TEST(Record, ZeroHeaderIsEndOfLog) {
    std::vector<std::byte> zeros(64);
    EXPECT_EQ(decode_record(zeros).status, DecodeStatus::kEnd);
    EXPECT_EQ(decode_record({}).status, DecodeStatus::kEnd);
}

TEST(Record, SkippedFromRoundTripsUnderTheChecksum) {
    RecordView record{7, 1, "a.b", "", "x"};
    std::vector<std::byte> bytes(record_bytes(3, 0, 1));
    encode_record(bytes, record, kKindMessage, 1234);
    Decoded decoded = decode_record(bytes);
    ASSERT_EQ(decoded.status, DecodeStatus::kOk);
    EXPECT_EQ(decoded.skipped_from, 1234u);
    bytes[36] ^= std::byte{1};
    EXPECT_EQ(decode_record(bytes).status, DecodeStatus::kCorrupt);
}

TEST(Record, EveryTruncationIsTornNeverOk) {
    auto bytes = encode({7, 1, "a.b", "", std::string(100, 'x')});
    for (size_t keep = 1; keep < bytes.size(); ++keep) {
        Decoded decoded = decode_record(std::span<const std::byte>(bytes).first(keep));
        EXPECT_NE(decoded.status, DecodeStatus::kOk) << keep;
    }
}

TEST(Record, EveryBitFlipIsDetected) {
    auto bytes = encode({7, 1, "a.b", "NATS/1.0\r\n\r\n", "hello world"});
    for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
        auto damaged = bytes;
        damaged[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
        Decoded decoded = decode_record(damaged);
        EXPECT_NE(decoded.status, DecodeStatus::kOk) << "bit " << bit;
    }
}

TEST(Record, RandomBytesNeverDecodeAsARecord) {
    std::mt19937_64 random(99);
    std::vector<std::byte> noise(4096);
    for (int round = 0; round < 2000; ++round) {
        for (auto& b : noise) b = static_cast<std::byte>(random());
        EXPECT_NE(decode_record(noise).status, DecodeStatus::kOk);
    }
}

}  // namespace
}  // namespace ringtail::store
