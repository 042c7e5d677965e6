#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringtail::bench {

// The first bytes of every payload the harness publishes, so that the receiving side can
// check what it got without any shared state on the message path:
//   bytes 0..7   uint64: publisher id (high 16 bits) | sequence number (low 48 bits, from 0)
//   bytes 8..15  uint64: send time, ns since the run's epoch (steady clock)
// Host byte order: both ends are threads of the same process (or its fake server).
// The rest of the payload is 'x'. A payload shorter than 8 bytes carries no stamp (the run
// then checks counts only); shorter than 16, no send time (no one-way latency).
inline constexpr size_t kStampSeqBytes = 8;
inline constexpr size_t kStampBytes = 16;
inline constexpr uint64_t kStampSeqMask = (uint64_t{1} << 48) - 1;
inline constexpr uint32_t kStampPublishersMax = 1u << 16;

struct Stamp {
    uint32_t publisher = 0;
    uint64_t seq = 0;
    uint64_t sent_ns = 0;
    bool has_seq = false;
    bool has_time = false;
};

inline void write_stamp(char* payload, size_t payload_bytes, uint32_t publisher, uint64_t seq,
                        uint64_t sent_ns) {
    if (payload_bytes < kStampSeqBytes) return;
    const uint64_t id = (uint64_t{publisher} << 48) | (seq & kStampSeqMask);
    std::memcpy(payload, &id, sizeof id);
    if (payload_bytes < kStampBytes) return;
    std::memcpy(payload + 8, &sent_ns, sizeof sent_ns);
}

inline Stamp read_stamp(std::string_view payload) {
    Stamp stamp;
    if (payload.size() < kStampSeqBytes) return stamp;
    uint64_t id;
    std::memcpy(&id, payload.data(), sizeof id);
    stamp.publisher = static_cast<uint32_t>(id >> 48);
    stamp.seq = id & kStampSeqMask;
    stamp.has_seq = true;
    if (payload.size() < kStampBytes) return stamp;
    std::memcpy(&stamp.sent_ns, payload.data() + 8, sizeof stamp.sent_ns);
    stamp.has_time = true;
    return stamp;
}

}  // namespace ringtail::bench
