#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <vector>

#include "base/assert.h"

namespace ringtail::base {

// A bounded single-producer single-consumer ring of variable-length records.
// Owner: the producer thread writes, the consumer thread reads; nothing else touches it.
// Lifecycle: created before either thread starts, destroyed after both have stopped.
//
// Batching is the point: the producer reserves and fills any number of records, then
// publishes them with one release store (publish()); the consumer reads the producer's
// index once per batch (begin_read()), walks the records, and releases the space with one
// store (end_read()). A full ring is reported to the producer (try_reserve() fails), never
// waited on: the caller turns it into back-pressure.
//
// Layout of one record, 8-byte aligned:
//   uint32 length of the body in bytes | uint32 kind (kPadding = wrap marker) | body | pad to 8
// A record never wraps: when it does not fit before the end of the buffer, a padding record
// fills the rest and the record starts again at offset 0.
//
// A body larger than inline_body_max() (a quarter of the ring, so that a message's several
// records always fit) travels out of line: the ring holds its address and length (kind |
// kOutOfLine), the body a heap block that the consumer frees at end_read(). So the ring need
// not be sized for the largest record, and only its own pages, which traffic makes resident in
// turn, stay in memory. Out-of-line bodies not yet released count against a budget of the
// ring's size (one is taken whatever its size when none is out): a full ring of them refuses
// the producer as a full ring does, so what waits for a consumer that does not read stays
// bounded.
class SpscRing {
public:
    static constexpr uint32_t kPadding = 0xffffffffu;
    static constexpr uint32_t kOutOfLine = 0x80000000u;  // a kind bit: the body is elsewhere
    static constexpr size_t kHeaderBytes = 8;

    explicit SpscRing(size_t capacity_bytes)
        : capacity_bytes_(capacity_bytes),
          mask_(capacity_bytes - 1),
          inline_body_max_(capacity_bytes / 4),
          buffer_(static_cast<std::byte*>(::operator new(capacity_bytes, std::align_val_t{64}))) {
        RT_ASSERT(capacity_bytes >= 256);
        RT_ASSERT((capacity_bytes & (capacity_bytes - 1)) == 0);
    }
    // Both threads have stopped: frees the out-of-line bodies not yet released.
    ~SpscRing() {
        free_released();
        read_limit_ = tail_local_;
        for (Record record; next(record);) {
        }
        free_released();
        ::operator delete(buffer_, std::align_val_t{64});
    }
    SpscRing(const SpscRing&) = delete;
    SpscRing& operator=(const SpscRing&) = delete;

    size_t capacity_bytes() const { return capacity_bytes_; }
    size_t inline_body_max() const { return inline_body_max_; }

    // ---- producer side ----

    // Reserves a record of `body_bytes` and returns its body, or an empty span if the ring
    // lacks room. The record is invisible to the consumer until publish().
    std::span<std::byte> try_reserve(uint32_t kind, size_t body_bytes) {
        RT_ASSERT((kind & kOutOfLine) == 0);
        const bool out_of_line = body_bytes > inline_body_max_;
        if (out_of_line && body_bytes > far_granted_ && !far_room(body_bytes)) return {};
        const size_t record_bytes = this->record_bytes(body_bytes);
        size_t offset = tail_local_ & mask_;
        size_t before_end = capacity_bytes_ - offset;
        size_t needed = record_bytes + (before_end < record_bytes ? before_end : 0);
        if (!has_room(needed)) return {};
        if (before_end < record_bytes) {
            write_header(offset, kPadding, static_cast<uint32_t>(before_end - kHeaderBytes));
            tail_local_ += before_end;
            offset = 0;
        }
        tail_local_ += record_bytes;
        std::byte* body = buffer_ + offset + kHeaderBytes;
        if (!out_of_line) {
            write_header(offset, kind, static_cast<uint32_t>(body_bytes));
            return {body, body_bytes};
        }
        far_written_ += body_bytes;
        far_granted_ -= std::min(far_granted_, body_bytes);
        OutOfLine far{static_cast<std::byte*>(::operator new(body_bytes)), body_bytes};
        write_header(offset, kind | kOutOfLine, sizeof far);
        std::memcpy(body, &far, sizeof far);
        return {far.body, body_bytes};
    }

    // Makes every record reserved so far visible to the consumer. Returns true if any was.
    bool publish() {
        if (tail_local_ == tail_published_) return false;
        tail_published_ = tail_local_;
        tail_.value.store(tail_local_, std::memory_order_release);
        return true;
    }

    // Bytes one record with this body occupies in the ring.
    size_t record_bytes(size_t body_bytes) const {
        return align8(kHeaderBytes + (body_bytes > inline_body_max_ ? sizeof(OutOfLine) : body_bytes));
    }

    // True if records totalling `total_bytes` (each as record_bytes()), the largest being
    // `largest_bytes`, with out-of-line bodies of `far_bytes` in all, can all be reserved now:
    // a wrap costs at most one record's worth. The bodies are then granted to the batch's
    // try_reserve() calls, which follow at once.
    bool can_reserve_batch(size_t total_bytes, size_t largest_bytes, size_t far_bytes) {
        if (total_bytes + largest_bytes > capacity_bytes_ || !has_room(total_bytes + largest_bytes)) return false;
        if (far_bytes == 0) return true;
        if (!far_room(far_bytes)) return false;
        far_granted_ = far_bytes;
        return true;
    }

    // True if try_reserve(body_bytes) would succeed now.
    bool can_reserve(size_t body_bytes) {
        if (body_bytes > inline_body_max_ && !far_room(body_bytes)) return false;
        const size_t record_bytes = this->record_bytes(body_bytes);
        size_t before_end = capacity_bytes_ - (tail_local_ & mask_);
        return has_room(record_bytes + (before_end < record_bytes ? before_end : 0));
    }

    // Bytes written (published or not) that the consumer has not released yet.
    size_t producer_bytes_used() const { return tail_local_ - head_.value.load(std::memory_order_acquire); }
    // Where the next record will be written (bytes written ever), and whether the consumer has
    // released everything before `position`: every record written until then was handled.
    uint64_t producer_position() const { return tail_local_; }
    bool released_up_to(uint64_t position) const { return head_.value.load(std::memory_order_acquire) >= position; }

    // ---- consumer side ----

    struct Record {
        uint32_t kind;
        std::span<const std::byte> body;
    };

    // Snapshots the producer's index; records up to it can be read with next().
    void begin_read() { read_limit_ = tail_.value.load(std::memory_order_acquire); }

    // The next published record, or nullopt-like {kPadding, {}} when the batch is exhausted.
    bool next(Record& out) {
        while (head_local_ < read_limit_) {
            size_t offset = head_local_ & mask_;
            uint32_t header[2];
            std::memcpy(header, buffer_ + offset, sizeof header);
            size_t record_bytes = align8(kHeaderBytes + header[0]);
            RT_ASSERT(head_local_ + record_bytes <= read_limit_);
            head_local_ += record_bytes;
            if (header[1] == kPadding) continue;
            out.kind = header[1] & ~kOutOfLine;
            out.body = {buffer_ + offset + kHeaderBytes, header[0]};
            if (header[1] & kOutOfLine) {
                OutOfLine far;
                std::memcpy(&far, out.body.data(), sizeof far);
                out.body = {far.body, far.bytes};
                read_far_.push_back(far.body);
                read_far_bytes_ += far.bytes;
            }
            return true;
        }
        return false;
    }

    // Releases the space of every record read so far to the producer (and frees their
    // out-of-line bodies).
    void end_read() {
        head_.value.store(head_local_, std::memory_order_release);
        free_released();
        if (read_far_bytes_ != 0) {
            far_released_.value.fetch_add(read_far_bytes_, std::memory_order_release);
            read_far_bytes_ = 0;
        }
    }

    bool empty_for_consumer() const {
        return head_local_ == tail_.value.load(std::memory_order_acquire);
    }

private:
    struct OutOfLine {
        std::byte* body;
        size_t bytes;
    };

    static size_t align8(size_t n) { return (n + 7) & ~size_t{7}; }

    // Whether out-of-line bodies of `bytes` more fit the budget (see the class comment).
    bool far_room(size_t bytes) const {
        uint64_t out = far_written_ - far_released_.value.load(std::memory_order_acquire);
        return out == 0 || out + bytes <= capacity_bytes_;
    }

    void free_released() {
        for (std::byte* body : read_far_) ::operator delete(body);
        read_far_.clear();
    }

    bool has_room(size_t bytes) {
        if (tail_local_ + bytes - head_cached_ <= capacity_bytes_) return true;
        head_cached_ = head_.value.load(std::memory_order_acquire);
        return tail_local_ + bytes - head_cached_ <= capacity_bytes_;
    }

    void write_header(size_t offset, uint32_t kind, uint32_t body_bytes) {
        RT_DASSERT(offset % 8 == 0);
        uint32_t header[2] = {body_bytes, kind};
        std::memcpy(buffer_ + offset, header, sizeof header);
    }

    struct alignas(64) PaddedIndex {
        std::atomic<uint64_t> value{0};
    };

    const size_t capacity_bytes_;
    const size_t mask_;
    const size_t inline_body_max_;
    std::byte* const buffer_;

    // Producer-only state, then the shared indexes, then consumer-only state; each on its
    // own cache line so the two threads do not share a line they write.
    alignas(64) uint64_t tail_local_ = 0;
    uint64_t tail_published_ = 0;
    uint64_t head_cached_ = 0;
    uint64_t far_written_ = 0;  // out-of-line body bytes reserved, ever
    size_t far_granted_ = 0;    // what can_reserve_batch() let the batch's bodies take
    PaddedIndex tail_;
    PaddedIndex head_;
    PaddedIndex far_released_;  // out-of-line body bytes the consumer freed, ever
    alignas(64) uint64_t head_local_ = 0;
    uint64_t read_limit_ = 0;
    std::vector<std::byte*> read_far_;  // out-of-line bodies read, freed at end_read()
    uint64_t read_far_bytes_ = 0;
};

}  // namespace ringtail::base
