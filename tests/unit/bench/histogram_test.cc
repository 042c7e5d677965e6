#include "bench/harness/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ringtail::bench {
namespace {

// The reference: the value of rank ceil(q * n) in sorted order (rank 1 for q = 0).
uint64_t reference_quantile(const std::vector<uint64_t>& sorted, double q) {
    const auto n = static_cast<double>(sorted.size());
    const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * n)));
    return sorted[std::min<uint64_t>(rank, sorted.size()) - 1];
}

void expect_within_bound(const std::vector<uint64_t>& values) {
    Histogram histogram;
    for (uint64_t value : values) histogram.record(value);
    std::vector<uint64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    for (double q : {0.0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
        const uint64_t expected = reference_quantile(sorted, q);
        const uint64_t got = histogram.quantile(q);
        // The documented bound: within 1/256 of the true order statistic.
        const double bound = static_cast<double>(expected) / 256.0;
        EXPECT_LE(std::abs(static_cast<double>(got) - static_cast<double>(expected)), bound)
            << "q=" << q << " expected " << expected << " got " << got;
    }
    EXPECT_EQ(histogram.count(), values.size());
    EXPECT_EQ(histogram.min(), sorted.front());
    EXPECT_EQ(histogram.max(), sorted.back());
    EXPECT_EQ(histogram.quantile(1.0), sorted.back());
}

TEST(Histogram, QuantilesMatchSortedReferenceForLogNormalLatencies) {
    std::mt19937_64 rng(1);
    std::lognormal_distribution<double> latency_ns(std::log(50'000.0), 1.2);
    std::vector<uint64_t> values(200'000);
    for (uint64_t& value : values) value = static_cast<uint64_t>(latency_ns(rng));
    expect_within_bound(values);
}

TEST(Histogram, QuantilesMatchSortedReferenceAcrossTheWholeRange) {
    std::mt19937_64 rng(2);
    std::vector<uint64_t> values(100'000);
    for (uint64_t& value : values) value = rng() >> (rng() % 64);  // every magnitude
    expect_within_bound(values);
}

TEST(Histogram, SmallValuesAreExact) {
    std::vector<uint64_t> values;
    for (uint64_t v = 0; v < 256; ++v) values.push_back(v);
    Histogram histogram;
    for (uint64_t v : values) histogram.record(v);
    for (uint64_t v = 1; v <= 256; ++v) {
        EXPECT_EQ(histogram.quantile(static_cast<double>(v) / 256.0), v - 1);
    }
}

TEST(Histogram, BucketsTileTheRangeWithoutGaps) {
    for (size_t bucket = 0; bucket + 1 < Histogram::kBuckets; ++bucket) {
        ASSERT_EQ(Histogram::bucket_high(bucket) + 1, Histogram::bucket_low(bucket + 1)) << bucket;
        ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_low(bucket)), bucket);
        ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_high(bucket)), bucket);
        // Width is at most 1/128 of the low end (so the midpoint is within 1/256).
        const uint64_t width = Histogram::bucket_high(bucket) - Histogram::bucket_low(bucket) + 1;
        ASSERT_LE(width * 128, std::max<uint64_t>(Histogram::bucket_low(bucket), 128));
    }
    EXPECT_EQ(Histogram::bucket_of(UINT64_MAX), Histogram::kBuckets - 1);
    EXPECT_EQ(Histogram::bucket_high(Histogram::kBuckets - 1), UINT64_MAX);
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
    std::mt19937_64 rng(3);
    Histogram a;
    Histogram b;
    Histogram all;
    for (int i = 0; i < 10'000; ++i) {
        const uint64_t value = rng() % 10'000'000;
        (i % 3 == 0 ? a : b).record(value);
        all.record(value);
    }
    a.merge(b);
    for (double q : {0.5, 0.9, 0.99, 1.0}) EXPECT_EQ(a.quantile(q), all.quantile(q));
    EXPECT_EQ(a.count(), all.count());
    EXPECT_DOUBLE_EQ(a.mean(), all.mean());
}

TEST(Histogram, EmptyReportsZero) {
    Histogram histogram;
    EXPECT_EQ(histogram.quantile(0.5), 0u);
    EXPECT_EQ(histogram.min(), 0u);
    EXPECT_EQ(histogram.max(), 0u);
    EXPECT_EQ(histogram.mean(), 0.0);
}

}  // namespace
}  // namespace ringtail::bench
