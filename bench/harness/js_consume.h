#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "bench/harness/checker.h"
#include "bench/harness/histogram.h"

// What js-consume and js-push runs bring back, whichever client drove the consumers
// (ringtail-bench's endpoints or libnats), and the latency they can derive from it.
namespace ringtail::bench {

// Times by message seq for one publisher's messages, as one side saw them: when each PubAck
// arrived at the publisher, or when each message was delivered to a consumer. 0 is "never".
// Grows on demand, so a run bounded by time needs no preset size.
// Owner: one thread while the run goes; the runner's thread after it.
class SeqTimes {
 public:
    void set(uint64_t seq, uint64_t ns) {
        if (seq >= ns_.size()) ns_.resize(std::max<uint64_t>(seq + 1, ns_.size() * 2), 0);
        ns_[seq] = ns;
    }
    uint64_t at(uint64_t seq) const { return seq < ns_.size() ? ns_[seq] : 0; }
    uint64_t size() const { return ns_.size(); }
    // Takes every time `other` has (consumers sharing a durable see disjoint messages).
    void merge(const SeqTimes& other);

 private:
    std::vector<uint64_t> ns_;
};

// Publish-to-delivery latency measured from the moment the PubAck reached the publisher: the
// earliest a publisher can know the message is stored. A message can reach its consumer before
// its PubAck reaches the publisher (the two leave the server on different connections); it
// then counts as 0 and in `before_ack`.
struct AckToDelivery {
    Histogram latency;        // nanoseconds
    uint64_t before_ack = 0;  // deliveries that came before their PubAck
    uint64_t unmatched = 0;   // deliveries with no PubAck time (the publisher never saw one)
};
// `acked[p]` and `delivered[p]`: publisher p's messages (delivered may have fewer entries).
AckToDelivery join_ack_to_delivery(const std::vector<SeqTimes>& acked,
                                   const std::vector<SeqTimes>& delivered);

// One consume phase's outcome. Times are steady-clock ns (now_ns()).
struct ConsumeOutcome {
    uint64_t start_ns = 0;  // the phase's time zero: rates and stamps count from here
    uint64_t consumed = 0;
    uint64_t last_msg_ns = 0;
    uint64_t flow_control_answered = 0;   // push: flow-control requests this client answered
    std::vector<DeliveryBitmap> bitmaps;  // by consumer: stream seq - 1, as publisher 0
    // --live only: what the publishers did, and the two latencies.
    uint64_t published = 0;
    uint64_t acked = 0;
    uint64_t last_ack_ns = 0;
    Histogram puback_round_trip;
    Histogram from_send;                 // stamp's send time to delivery
    std::vector<SeqTimes> acked_ns;      // by publisher
    std::vector<SeqTimes> delivered_ns;  // by publisher, over all consumers
};

}  // namespace ringtail::bench
