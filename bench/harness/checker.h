#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ringtail::bench {

// Checks one subscriber's view of the publishers' sequence numbers.
// kEvery (pubsub, fanout): the subscriber must see every message of every publisher, in the
// order it was published; any gap is loss, any repeat is a duplicate, any step back a reorder.
// kSubsequence (queue group member): it sees a strictly increasing subsequence of each
// publisher (NATS keeps per-publisher order per subscriber); completeness and exactly-once
// across the group are the DeliveryLedger's job.
// Owner: the subscriber's thread.
class SequenceChecker {
 public:
    enum class Mode : uint8_t { kEvery, kSubsequence };

    SequenceChecker(Mode mode, size_t publishers) : mode_(mode), next_(publishers, 0) {}

    // Returns false on a violation; error() then says what happened. Later calls keep counting.
    [[nodiscard]] bool observe(uint32_t publisher, uint64_t seq);

    uint64_t received(uint32_t publisher) const { return next_[publisher]; }
    const std::string& error() const { return error_; }

 private:
    Mode mode_;
    // kEvery: the next expected seq (= messages received). kSubsequence: last seq + 1.
    std::vector<uint64_t> next_;
    std::string error_;
};

// The messages one queue-group member received: one bit per (publisher, seq), in 128 KiB
// chunks allocated on first use, so a run bounded by time needs no preset size. Members do not
// share anything while the run goes (a shared bitmap would bounce a cache line between the
// members' threads on every message); check_exactly_once() compares them afterwards.
// Owner: the member's thread during the run; the runner's thread after it.
class DeliveryBitmap {
 public:
    explicit DeliveryBitmap(size_t publishers) : chunks_(publishers) {}

    // False when the bit was set already (a duplicate delivery to this member).
    [[nodiscard]] bool mark(uint32_t publisher, uint64_t seq);
    bool marked(uint32_t publisher, uint64_t seq) const;
    size_t publishers() const { return chunks_.size(); }

 private:
    friend std::string check_exactly_once(const std::vector<const DeliveryBitmap*>& members,
                                          const std::vector<uint64_t>& sent);
    static constexpr uint64_t kChunkBits = uint64_t{1} << 20;
    using Chunk = std::vector<uint64_t>;  // kChunkBits / 64 words
    const Chunk* chunk(uint32_t publisher, uint64_t index) const;

    std::vector<std::vector<std::unique_ptr<Chunk>>> chunks_;  // [publisher][chunk index]
};

// The queue group's verdict: every message of publisher p with seq < sent[p] was received by
// exactly one member, and nothing else was received. Returns "" when that holds, else a
// description of the first loss or duplicate found.
std::string check_exactly_once(const std::vector<const DeliveryBitmap*>& members,
                               const std::vector<uint64_t>& sent);

}  // namespace ringtail::bench
