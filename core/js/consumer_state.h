#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "proto/js/consumer_config.h"

namespace ringtail::core::js {

// What a consumer has delivered and what has been acknowledged, as nats-server's ConsumerState
// keeps it: the last delivery (consumer and stream sequence), the ack floor (every delivery at
// or below it is done with), the deliveries above the floor still waiting for their ack, and
// how often each of those was delivered again.
// Owner: its consumer. The same functions change it live and when its log is replayed, so
// what recovery rebuilds is what was there.
struct ConsumerState {
    struct Pending {
        uint64_t consumer_seq = 0;
        int64_t timestamp_ns = 0;  // when it was (last) delivered
    };
    uint64_t delivered_consumer = 0;
    uint64_t delivered_stream = 0;
    uint64_t ack_floor_consumer = 0;
    uint64_t ack_floor_stream = 0;
    std::map<uint64_t, Pending> pending;       // by stream sequence; only with acks owed
    std::map<uint64_t, uint64_t> redelivered;  // by stream sequence: deliveries beyond the first

    // Stream sequence `sseq` went out as delivery `dseq`, its `dc`-th time.
    void on_delivered(proto::js::AckPolicy policy, uint64_t sseq, uint64_t dseq, uint64_t dc, int64_t ts_ns);
    // An ack of `sseq` (delivery `dseq`): explicit acks take it off pending and move the floor
    // up to the oldest still pending; ack-all takes everything up to it. Returns whether it
    // changed anything (an ack of something not owed does not).
    bool on_acked(proto::js::AckPolicy policy, uint64_t sseq, uint64_t dseq);
    // The messages below `first_seq` are gone from the stream (purge, limits): nothing there
    // is owed any more, and the floor follows the oldest delivery still owed.
    void on_stream_floor(uint64_t first_seq);
    // Messages for which `gone(sseq)` is true left the stream: nothing is owed for them any
    // more, and the floor follows the oldest delivery still owed. Returns whether any was owed.
    template <typename Gone>
    bool forget(Gone gone) {
        if (std::erase_if(pending, [&](const auto& entry) { return gone(entry.first); }) == 0) return false;
        std::erase_if(redelivered, [&](const auto& entry) { return gone(entry.first); });
        follow_oldest_pending();
        return true;
    }

    // The binary form kept in the consumer log's snapshot records.
    std::string encode() const;
    static std::optional<ConsumerState> decode(std::string_view bytes);

private:
    // Moves the ack floor up to just below the oldest delivery still owed (to the last
    // delivery when nothing is).
    void follow_oldest_pending();
};

}  // namespace ringtail::core::js
