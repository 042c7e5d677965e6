#include "io/buffer_ring.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ringtail::io {

BufferRing::~BufferRing() {
    if (buf_ring_ != nullptr) {
        io_uring_unregister_buf_ring(ring_, group_id_);
        munmap(buf_ring_, count_ * sizeof(io_uring_buf));
    }
    std::free(storage_);
}

Result<void, Error> BufferRing::init(io_uring* ring, uint16_t group_id, uint32_t count,
                                     uint32_t buffer_bytes, uint32_t initial) {
    ring_ = ring;
    group_id_ = group_id;
    count_ = count;
    buffer_bytes_ = buffer_bytes;
    size_t ring_bytes = count * sizeof(io_uring_buf);
    void* mapped = mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE,
                        -1, 0);
    if (mapped == MAP_FAILED) return fail_errno(errno, "mmap buffer ring");
    buf_ring_ = static_cast<io_uring_buf_ring*>(mapped);
    io_uring_buf_ring_init(buf_ring_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<uint64_t>(buf_ring_);
    reg.ring_entries = count;
    reg.bgid = group_id;
    int rc = io_uring_register_buf_ring(ring, &reg, 0);
    if (rc < 0) {
        munmap(buf_ring_, ring_bytes);
        buf_ring_ = nullptr;
        return fail(Errc::kUnsupported, std::string("io_uring provided buffer rings are unavailable (") +
                                            std::strerror(-rc) + "); Linux 6.1 or newer is required");
    }
    storage_ = static_cast<char*>(std::aligned_alloc(4096, size_t{count} * buffer_bytes));
    if (storage_ == nullptr) return fail(Errc::kNoSpace, "out of memory for receive buffers");
    given_ = 0;
    for (uint32_t id = 0; id < std::min(initial, count); ++id) recycle(static_cast<uint16_t>(given_++));
    commit();
    return {};
}

void BufferRing::grow() {
    for (uint32_t more = std::max(given_, 1u); more > 0 && given_ < count_; --more) {
        recycle(static_cast<uint16_t>(given_++));
    }
    commit();
}

void BufferRing::recycle(uint16_t id) {
    io_uring_buf_ring_add(buf_ring_, storage_ + static_cast<size_t>(id) * buffer_bytes_,
                          buffer_bytes_, id, io_uring_buf_ring_mask(count_), added_);
    ++added_;
}

void BufferRing::commit() {
    if (added_ == 0) return;
    io_uring_buf_ring_advance(buf_ring_, added_);
    added_ = 0;
}

}  // namespace ringtail::io
