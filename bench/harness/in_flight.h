#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "bench/harness/runtime.h"

namespace ringtail::bench {

// Requests in flight, identified by a seq (carried in the reply subject, inbox.<seq>, or in the
// echoed stamp). The span from the oldest unanswered seq to the next one is at most `window`,
// so the send times fit a ring indexed by seq % window.
// Owner: one endpoint; touched by its worker's thread only.
class InFlight {
 public:
    explicit InFlight(uint64_t window) : send_ns_(std::max<uint64_t>(window, 1), kNever) {}
    bool can_send() const { return next_ - oldest_ < send_ns_.size(); }
    // Returns the new request's seq.
    uint64_t send(uint64_t now_ns) {
        send_ns_[next_ % send_ns_.size()] = now_ns;
        return next_++;
    }
    // The request's send time, or kNever when `seq` is not in flight (unknown or answered).
    uint64_t complete(uint64_t seq) {
        if (seq < oldest_ || seq >= next_) return kNever;
        uint64_t& slot = send_ns_[seq % send_ns_.size()];
        const uint64_t sent_ns = slot;
        if (sent_ns == kNever) return kNever;
        slot = kNever;
        ++completed_;
        while (oldest_ < next_ && send_ns_[oldest_ % send_ns_.size()] == kNever) ++oldest_;
        return sent_ns;
    }
    uint64_t sent() const { return next_; }
    uint64_t completed() const { return completed_; }

 private:
    std::vector<uint64_t> send_ns_;
    uint64_t next_ = 0;
    uint64_t oldest_ = 0;
    uint64_t completed_ = 0;
};

}  // namespace ringtail::bench
