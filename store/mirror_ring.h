#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "base/result.h"

namespace ringtail::store {

// A ring of bytes mapped twice, back to back, so that any span of up to bytes() starting
// anywhere in it is contiguous in memory: a record or a write that runs past the end of the ring
// continues at its start without being split or moved.
// Example: bytes() = 65536; at(70000) is data + 4464, and [at(70000), at(70000) + 65536) reads
// positions 70000..135535, wrapping at 131072, as one span.
// Owner: one thread. Lifecycle: mapped by create(), unmapped by the destructor. The pages are
// shared memory (a memfd), so that the second mapping sees the first one's bytes.
class MirrorRing {
public:
    // `bytes`: a power of two and a multiple of the page size. The ring starts zeroed.
    [[nodiscard]] static Result<MirrorRing> create(size_t bytes);

    MirrorRing() = default;
    ~MirrorRing();
    MirrorRing(MirrorRing&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
    MirrorRing& operator=(MirrorRing&& other) noexcept;
    MirrorRing(const MirrorRing&) = delete;
    MirrorRing& operator=(const MirrorRing&) = delete;

    std::byte* at(uint64_t position) const { return data_ + (position & (bytes_ - 1)); }
    size_t bytes() const { return bytes_; }
    bool empty() const { return data_ == nullptr; }
    // Both mappings: what a disk registers so that any write from the ring lies inside it.
    std::span<std::byte> mappings() const { return {data_, 2 * bytes_}; }

private:
    std::byte* data_ = nullptr;
    size_t bytes_ = 0;
};

}  // namespace ringtail::store
