#include "bench/harness/checker.h"

#include <algorithm>
#include <bit>

namespace ringtail::bench {

bool SequenceChecker::observe(uint32_t publisher, uint64_t seq) {
    if (publisher >= next_.size()) {
        if (error_.empty()) error_ = "message from unknown publisher " + std::to_string(publisher);
        return false;
    }
    uint64_t& next = next_[publisher];
    if (seq == next || (mode_ == Mode::kSubsequence && seq > next)) {
        next = seq + 1;
        return true;
    }
    if (error_.empty()) {
        const std::string where = "publisher " + std::to_string(publisher) + ": expected seq " +
                                  std::to_string(next) + ", got " + std::to_string(seq);
        if (seq > next) {
            error_ = "LOSS: " + std::to_string(seq - next) + " message(s) missing (" + where + ")";
        } else {
            error_ = "DUPLICATE or REORDER (" + where + ")";
        }
    }
    // kEvery: carry on from the larger value so one gap is not reported for every later message.
    if (seq >= next) next = seq + 1;
    return false;
}

bool DeliveryBitmap::mark(uint32_t publisher, uint64_t seq) {
    if (publisher >= chunks_.size()) return false;
    auto& table = chunks_[publisher];
    const auto index = static_cast<size_t>(seq / kChunkBits);
    if (index >= table.size()) table.resize(index + 1);
    if (table[index] == nullptr) table[index] = std::make_unique<Chunk>(kChunkBits / 64, 0);
    const uint64_t bit = seq % kChunkBits;
    uint64_t& word = (*table[index])[bit / 64];
    const uint64_t mask = uint64_t{1} << (bit % 64);
    if ((word & mask) != 0) return false;
    word |= mask;
    return true;
}

const DeliveryBitmap::Chunk* DeliveryBitmap::chunk(uint32_t publisher, uint64_t index) const {
    const auto& table = chunks_[publisher];
    return index < table.size() ? table[index].get() : nullptr;
}

bool DeliveryBitmap::marked(uint32_t publisher, uint64_t seq) const {
    const Chunk* words = chunk(publisher, seq / kChunkBits);
    if (words == nullptr) return false;
    const uint64_t bit = seq % kChunkBits;
    return ((*words)[bit / 64] >> (bit % 64) & 1) != 0;
}

std::string check_exactly_once(const std::vector<const DeliveryBitmap*>& members,
                               const std::vector<uint64_t>& sent) {
    constexpr uint64_t kChunkBits = DeliveryBitmap::kChunkBits;
    for (uint32_t p = 0; p < sent.size(); ++p) {
        uint64_t chunks = (sent[p] + kChunkBits - 1) / kChunkBits;
        for (const DeliveryBitmap* member : members) {
            chunks = std::max<uint64_t>(chunks, member->chunks_[p].size());
        }
        for (uint64_t c = 0; c < chunks; ++c) {
            for (uint64_t w = 0; w < kChunkBits / 64; ++w) {
                uint64_t seen = 0;
                for (size_t m = 0; m < members.size(); ++m) {
                    const DeliveryBitmap::Chunk* words = members[m]->chunk(p, c);
                    const uint64_t word = words == nullptr ? 0 : (*words)[w];
                    if ((seen & word) != 0) {
                        const uint64_t seq = c * kChunkBits + w * 64 +
                                             static_cast<uint64_t>(std::countr_zero(seen & word));
                        return "DUPLICATE: publisher " + std::to_string(p) + " seq " +
                               std::to_string(seq) + " delivered to more than one member";
                    }
                    seen |= word;
                }
                const uint64_t first = c * kChunkBits + w * 64;
                uint64_t expected = 0;  // the bits of seqs < sent[p] in this word
                if (sent[p] >= first + 64) {
                    expected = ~uint64_t{0};
                } else if (sent[p] > first) {
                    expected = (uint64_t{1} << (sent[p] - first)) - 1;
                }
                if (seen != expected) {
                    const uint64_t missing = expected & ~seen;
                    const uint64_t extra = seen & ~expected;
                    const uint64_t which = missing != 0 ? missing : extra;
                    const uint64_t seq = first + static_cast<uint64_t>(std::countr_zero(which));
                    return std::string(missing != 0 ? "LOSS" : "UNEXPECTED") + ": publisher " +
                           std::to_string(p) + " seq " + std::to_string(seq) +
                           (missing != 0 ? " delivered to no member" : " was never published");
                }
            }
        }
    }
    return "";
}

}  // namespace ringtail::bench
