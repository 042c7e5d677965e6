#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/assert.h"

namespace ringtail::base {

// A FIFO of entries, each a 64-bit tag and N strings, kept back to back in one buffer: once the
// buffer has grown to the working size, pushing and popping allocate nothing. For the per-message
// queues of the JetStream hot path (pending acks, the outbox), where a std::string per entry cost
// an allocation and a free per message.
//
// Owner: one thread. Views returned by front() stay valid until the next push() or pop().
template <size_t N>
class ByteFifo {
public:
    struct Entry {
        uint64_t tag = 0;
        std::array<std::string_view, N> parts;
    };

    void push(uint64_t tag, const std::array<std::string_view, N>& parts) {
        Head head{tag, {}};
        for (size_t i = 0; i < N; ++i) head.bytes[i] = static_cast<uint32_t>(parts[i].size());
        buffer_.append(reinterpret_cast<const char*>(&head), sizeof head);
        for (std::string_view part : parts) buffer_.append(part);
        ++count_;
    }

    bool empty() const { return count_ == 0; }
    size_t size() const { return count_; }
    // Bytes held, entries' framing included.
    size_t bytes() const { return buffer_.size() - start_; }

    Entry front() const {
        RT_ASSERT(count_ > 0);
        Head head;
        std::memcpy(&head, buffer_.data() + start_, sizeof head);
        Entry entry{head.tag, {}};
        size_t at = start_ + sizeof head;
        for (size_t i = 0; i < N; ++i) {
            entry.parts[i] = std::string_view(buffer_.data() + at, head.bytes[i]);
            at += head.bytes[i];
        }
        return entry;
    }

    void pop() {
        RT_ASSERT(count_ > 0);
        Head head;
        std::memcpy(&head, buffer_.data() + start_, sizeof head);
        start_ += sizeof head;
        for (uint32_t bytes : head.bytes) start_ += bytes;
        if (--count_ == 0) {
            buffer_.clear();  // keeps its capacity
            start_ = 0;
        } else if (start_ >= kCompactBytes && start_ > buffer_.size() / 2) {
            // Never empty for long (a steady stream of entries): drop the consumed front.
            buffer_.erase(0, start_);
            start_ = 0;
        }
    }

private:
    static constexpr size_t kCompactBytes = 64 * 1024;
    struct Head {
        uint64_t tag;
        std::array<uint32_t, N> bytes;
    };
    std::string buffer_;
    size_t start_ = 0;  // the front entry's offset
    size_t count_ = 0;
};

}  // namespace ringtail::base
