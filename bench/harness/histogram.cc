#include "bench/harness/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/assert.h"

namespace ringtail::bench {

// Worked example with kSubBucketBits = 8: value 1000 has its top bit at 9, so shift = 2 and
// mantissa = 1000 >> 2 = 250 (in [128, 256)). Bucket = 256 + (2 - 1) * 128 + (250 - 128) = 506,
// covering [1000, 1003]: 4 wide, 0.4% of its low end.
size_t Histogram::bucket_of(uint64_t value) {
    if (value < kSubBuckets) return static_cast<size_t>(value);
    const int top_bit = std::bit_width(value) - 1;   // >= kSubBucketBits
    const int shift = top_bit - kSubBucketBits + 1;  // >= 1
    const uint64_t mantissa = value >> shift;        // in [kHalf, kSubBuckets)
    return static_cast<size_t>(kSubBuckets + static_cast<uint64_t>(shift - 1) * kHalf +
                               (mantissa - kHalf));
}

uint64_t Histogram::bucket_low(size_t bucket) {
    RT_ASSERT(bucket < kBuckets);
    if (bucket < kSubBuckets) return bucket;
    const uint64_t k = bucket - kSubBuckets;
    const uint64_t shift = k / kHalf + 1;
    const uint64_t mantissa = kHalf + k % kHalf;
    return mantissa << shift;
}

uint64_t Histogram::bucket_high(size_t bucket) {
    if (bucket < kSubBuckets) return bucket;
    const uint64_t shift = (bucket - kSubBuckets) / kHalf + 1;
    return bucket_low(bucket) + ((uint64_t{1} << shift) - 1);
}

void Histogram::record_n(uint64_t value, uint64_t n) {
    if (n == 0) return;
    counts_[bucket_of(value)] += n;
    count_ += n;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    sum_ += static_cast<long double>(value) * static_cast<long double>(n);
}

void Histogram::merge(const Histogram& other) {
    if (other.count_ == 0) return;
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    sum_ += other.sum_;
}

void Histogram::clear() {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = 0;
    min_ = UINT64_MAX;
    max_ = 0;
    sum_ = 0;
}

double Histogram::mean() const {
    return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t Histogram::quantile(double q) const {
    if (count_ == 0) return 0;
    if (q >= 1.0) return max_;
    q = std::max(q, 0.0);
    const auto rank =
        std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            const uint64_t low = bucket_low(i);
            const uint64_t mid = low + (bucket_high(i) - low) / 2;
            return std::clamp(mid, min_, max_);
        }
    }
    return max_;
}

}  // namespace ringtail::bench
