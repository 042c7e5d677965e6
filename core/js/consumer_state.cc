#include "core/js/consumer_state.h"

#include <algorithm>
#include <cstring>

namespace ringtail::core::js {

using proto::js::AckPolicy;

void ConsumerState::on_delivered(AckPolicy policy, uint64_t sseq, uint64_t dseq, uint64_t dc, int64_t ts_ns) {
    delivered_consumer = std::max(delivered_consumer, dseq);
    delivered_stream = std::max(delivered_stream, sseq);
    switch (policy) {
        case AckPolicy::kExplicit:
        case AckPolicy::kAll: {
            if (sseq <= ack_floor_stream) break;  // acked already
            // A redelivery keeps its first consumer sequence (nats-server's trackPending).
            auto [it, fresh] = pending.try_emplace(sseq, Pending{dseq, ts_ns});
            if (!fresh) it->second.timestamp_ns = ts_ns;
            if (dc > 1) redelivered[sseq] = dc - 1;
            break;
        }
        case AckPolicy::kNone:
            ack_floor_consumer = dseq;
            ack_floor_stream = sseq;
            break;
    }
}

bool ConsumerState::on_acked(AckPolicy policy, uint64_t sseq, uint64_t dseq) {
    switch (policy) {
        case AckPolicy::kExplicit: {
            // nats-server's processAckMsg: the floor follows the oldest delivery still owed.
            // An ack of something not owed (acked already, or never delivered) changes
            // nothing, as nats-server's stored state ignores it.
            // Like nats-server, the floor moves only when the ack is of the delivery just above
            // it (or nothing is owed any more).
            auto it = pending.find(sseq);
            if (it == pending.end()) return false;
            bool next_to_floor = it->second.consumer_seq == ack_floor_consumer + 1;
            pending.erase(it);
            redelivered.erase(sseq);
            if (next_to_floor || pending.empty()) follow_oldest_pending();
            return true;
        }
        case AckPolicy::kAll:
            if (dseq <= ack_floor_consumer || sseq <= ack_floor_stream) return false;
            ack_floor_consumer = dseq;
            ack_floor_stream = sseq;
            pending.erase(pending.begin(), pending.upper_bound(sseq));
            redelivered.erase(redelivered.begin(), redelivered.upper_bound(sseq));
            return true;
        case AckPolicy::kNone:
            return false;
    }
    return false;
}

void ConsumerState::on_stream_floor(uint64_t first_seq) {
    pending.erase(pending.begin(), pending.lower_bound(first_seq));
    redelivered.erase(redelivered.begin(), redelivered.lower_bound(first_seq));
    follow_oldest_pending();
}

void ConsumerState::follow_oldest_pending() {
    if (pending.empty()) {
        ack_floor_consumer = std::max(ack_floor_consumer, delivered_consumer);
        ack_floor_stream = std::max(ack_floor_stream, delivered_stream);
        return;
    }
    const auto& [sseq, oldest] = *pending.begin();
    ack_floor_consumer = std::max(ack_floor_consumer, oldest.consumer_seq - 1);
    ack_floor_stream = std::max(ack_floor_stream, sseq - 1);
}

// Encoding: six u64 (delivered consumer/stream, ack floor consumer/stream, pending count,
// redelivered count), then per pending entry u64 sseq, u64 dseq, i64 ts, then per
// redelivered entry u64 sseq, u64 count. Little-endian, as the host writes it.
namespace {

void put(std::string& out, uint64_t value) { out.append(reinterpret_cast<const char*>(&value), sizeof value); }

bool get(std::string_view& in, uint64_t& value) {
    if (in.size() < sizeof value) return false;
    std::memcpy(&value, in.data(), sizeof value);
    in.remove_prefix(sizeof value);
    return true;
}

}  // namespace

std::string ConsumerState::encode() const {
    std::string out;
    out.reserve(48 + pending.size() * 24 + redelivered.size() * 16);
    put(out, delivered_consumer);
    put(out, delivered_stream);
    put(out, ack_floor_consumer);
    put(out, ack_floor_stream);
    put(out, pending.size());
    put(out, redelivered.size());
    for (const auto& [sseq, p] : pending) {
        put(out, sseq);
        put(out, p.consumer_seq);
        put(out, static_cast<uint64_t>(p.timestamp_ns));
    }
    for (const auto& [sseq, count] : redelivered) {
        put(out, sseq);
        put(out, count);
    }
    return out;
}

std::optional<ConsumerState> ConsumerState::decode(std::string_view in) {
    ConsumerState state;
    uint64_t pending_count = 0;
    uint64_t redelivered_count = 0;
    if (!get(in, state.delivered_consumer) || !get(in, state.delivered_stream) || !get(in, state.ack_floor_consumer) ||
        !get(in, state.ack_floor_stream) || !get(in, pending_count) || !get(in, redelivered_count)) {
        return std::nullopt;
    }
    if (pending_count > in.size() / 24 || redelivered_count > in.size() / 16 ||
        in.size() != pending_count * 24 + redelivered_count * 16) {
        return std::nullopt;
    }
    for (uint64_t i = 0; i < pending_count; ++i) {
        uint64_t sseq = 0, dseq = 0, ts = 0;
        get(in, sseq);
        get(in, dseq);
        get(in, ts);
        state.pending[sseq] = {dseq, static_cast<int64_t>(ts)};
    }
    for (uint64_t i = 0; i < redelivered_count; ++i) {
        uint64_t sseq = 0, count = 0;
        get(in, sseq);
        get(in, count);
        state.redelivered[sseq] = count;
    }
    return state;
}

}  // namespace ringtail::core::js
