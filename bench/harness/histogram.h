#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ringtail::bench {

// A log-linear histogram of non-negative integers (the harness records nanoseconds), in the
// manner of HdrHistogram: values below kSubBuckets are counted exactly; above, every power of
// two [2^k, 2^(k+1)) is cut into kSubBuckets/2 equal buckets. A bucket is then at most 1/128
// of its lowest value wide, and quantile() answers with the bucket's midpoint, so a reported
// percentile is within 1/256 (0.4%) of the true order statistic, whatever the range
// (1 ns to 2^64 ns). 7,424 buckets of 8 bytes: 58 KiB, allocated once; record() does not
// allocate.
//
// Owner: one thread records; merge() the per-thread histograms after the run.
class Histogram {
 public:
    static constexpr int kSubBucketBits = 8;
    static constexpr uint64_t kSubBuckets = uint64_t{1} << kSubBucketBits;  // 256
    static constexpr uint64_t kHalf = kSubBuckets / 2;                      // 128
    // Values >= kSubBuckets have a shift of 1..(64 - kSubBucketBits).
    static constexpr size_t kBuckets = kSubBuckets + (64 - kSubBucketBits) * kHalf;
    static_assert(kBuckets == 7424);

    Histogram() : counts_(kBuckets, 0) {}

    void record(uint64_t value) { record_n(value, 1); }
    void record_n(uint64_t value, uint64_t n);
    void merge(const Histogram& other);
    void clear();

    uint64_t count() const { return count_; }
    uint64_t min() const { return count_ == 0 ? 0 : min_; }
    uint64_t max() const { return max_; }
    double mean() const;

    // The q-quantile, q in [0, 1]: the value of rank ceil(q * count) in sorted order (rank 1
    // for q = 0), to within the bucket error above; quantile(1) is the exact maximum. 0 when
    // the histogram is empty.
    uint64_t quantile(double q) const;

    static size_t bucket_of(uint64_t value);
    static uint64_t bucket_low(size_t bucket);
    static uint64_t bucket_high(size_t bucket);  // inclusive

 private:
    std::vector<uint64_t> counts_;
    uint64_t count_ = 0;
    uint64_t min_ = UINT64_MAX;
    uint64_t max_ = 0;
    // Sum for the mean, in long double so that 10^9 samples of 10^9 ns do not overflow.
    long double sum_ = 0;
};

}  // namespace ringtail::bench
