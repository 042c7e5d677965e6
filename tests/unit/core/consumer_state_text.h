#pragma once

#include <string>

#include "core/js/consumer_state.h"

namespace ringtail::core::js {

// Every field of a consumer's state on one line, so that two states compare with a readable
// difference.
inline std::string describe(const ConsumerState& state) {
    std::string out = "delivered " + std::to_string(state.delivered_consumer) + "/" +
                      std::to_string(state.delivered_stream) + " floor " +
                      std::to_string(state.ack_floor_consumer) + "/" +
                      std::to_string(state.ack_floor_stream) + " pending";
    for (const auto& [sseq, pending] : state.pending) {
        out += " " + std::to_string(sseq) + ":" + std::to_string(pending.consumer_seq) + "@" +
               std::to_string(pending.timestamp_ns);
    }
    out += " redelivered";
    for (const auto& [sseq, count] : state.redelivered) {
        out += " " + std::to_string(sseq) + "x" + std::to_string(count);
    }
    return out;
}

}  // namespace ringtail::core::js
