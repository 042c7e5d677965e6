#pragma once

#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"

namespace ringtail::io {

// A provided-buffer ring: the kernel picks a buffer for each multishot recv completion.
// Owner: one shard. Buffers return to the ring with recycle() once their bytes are consumed.
class BufferRing {
public:
    BufferRing() = default;
    ~BufferRing();
    BufferRing(const BufferRing&) = delete;
    BufferRing& operator=(const BufferRing&) = delete;

    // Registers a ring for `count` (a power of two) buffers of `buffer_bytes` under group
    // `group_id` and gives the kernel the first `initial` of them; grow() gives it more.
    [[nodiscard]] Result<void, Error> init(io_uring* ring, uint16_t group_id, uint32_t count,
                                           uint32_t buffer_bytes, uint32_t initial);
    // Called when a receive found no buffer: doubles the buffers the kernel may pick from, up to
    // `count`. Buffers are touched only once given, so memory follows what the load needs (the
    // kernel takes them in turn: every buffer given is soon resident).
    void grow();

    std::span<const char> buffer(uint16_t id, size_t bytes) const {
        return {storage_ + static_cast<size_t>(id) * buffer_bytes_, bytes};
    }
    // Gives buffer `id` back to the kernel. Batched: call commit() once per loop turn.
    void recycle(uint16_t id);
    void commit();

    uint16_t group_id() const { return group_id_; }

private:
    io_uring* ring_ = nullptr;
    io_uring_buf_ring* buf_ring_ = nullptr;
    char* storage_ = nullptr;
    uint32_t count_ = 0;
    uint32_t given_ = 0;
    uint32_t buffer_bytes_ = 0;
    uint16_t group_id_ = 0;
    int added_ = 0;
};

}  // namespace ringtail::io
