#include "bench/harness/js_consume.h"

#include <algorithm>

namespace ringtail::bench {

void SeqTimes::merge(const SeqTimes& other) {
    for (uint64_t seq = 0; seq < other.size(); ++seq) {
        if (const uint64_t ns = other.at(seq); ns != 0) set(seq, ns);
    }
}

AckToDelivery join_ack_to_delivery(const std::vector<SeqTimes>& acked,
                                   const std::vector<SeqTimes>& delivered) {
    AckToDelivery out;
    for (size_t p = 0; p < delivered.size(); ++p) {
        for (uint64_t seq = 0; seq < delivered[p].size(); ++seq) {
            const uint64_t delivered_ns = delivered[p].at(seq);
            if (delivered_ns == 0) continue;
            const uint64_t acked_ns = p < acked.size() ? acked[p].at(seq) : 0;
            if (acked_ns == 0) {
                ++out.unmatched;
                continue;
            }
            if (delivered_ns < acked_ns) ++out.before_ack;
            out.latency.record(delivered_ns - std::min(delivered_ns, acked_ns));
        }
    }
    return out;
}

}  // namespace ringtail::bench
