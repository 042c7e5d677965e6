#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "base/assert.h"
#include "core/route/subscription.h"

namespace ringtail::core {

// Records shards exchange on their SPSC rings. Plain data only: lengths and bytes, never a
// pointer into the sender's memory, but for kConn, which hands an object over. Interest changes and messages share one FIFO ring per
// ordered pair of shards, so a message never overtakes the interest it depends on.
enum class RecordKind : uint32_t {
    kMsg = 1,          // a message to match against the receiver's local subscriptions
    kInterest = 2,     // the sender's first/last reference to a (subject, queue) came or went
    kInterestAck = 3,  // the receiver has applied the sender's interest records up to seq
    kJs = 4,           // a message for the receiver's JetStream (a forwarded API request)
    kConn = 5,         // a client connection moving to the receiver (see Mesh::send_conn)
    // A connection with subscriptions moved from the receiver to the sender, which delivers
    // its own messages to them from here on; or a publisher arrived at the sender, which has
    // subscriptions moved from the receiver (Switch, "Moving a connection with
    // subscriptions"). Body: the move's (or that arrival's) id, u64.
    kFence = 6,
    // Answers kFence: what the receiver sent before its fence has all been forwarded (body: the
    // move id, u64).
    kFenceEcho = 7,
    // A moved subscription is gone: the receiver stops forwarding to it (body: the move id, the
    // subscription's id there, and an interest sequence as kInterest's, u64 each).
    kDrop = 8,
    // A message another shard sent the sender, for the subscriptions that moved to the
    // receiver from the sender in the moves named: a kMsg body whose ids are move ids.
    kForwarded = 9,
};

// kMsg body:
//   MsgHead | subject | reply | headers | payload | queue ids (u64 each, see queue_id())
//   | total size digits | header size digits   (both usually empty) | shown subject (usually
//   empty; see MsgView::shown_subject)
// `queue_count` ids name the queue groups the sender chose this shard to serve; the receiver
// delivers to one member of each, and (kMsgPlain) to every plain subscriber that matches.
// A message whose queue ids would not fit one record is sent as several records, the first
// with kMsgPlain (deliver to plain subscribers too), the rest carrying only more ids.
inline constexpr uint8_t kMsgHeaders = 1;  // the publisher sent a header block
inline constexpr uint8_t kMsgPlain = 2;    // deliver to the receiver's plain subscribers
// Deliver to the subscriptions that moved to the receiver from the sender, which forwards
// what matches them (Switch, "Moving a connection with subscriptions").
inline constexpr uint8_t kMsgForwarded = 4;
// A queue group's message that the shard chosen for it found no member to take: sent on to a
// shard with members, once only (Switch::bounce()).
inline constexpr uint8_t kMsgBounced = 8;
struct MsgHead {
    uint32_t subject_bytes;
    uint32_t reply_bytes;
    uint32_t header_bytes;
    uint32_t payload_bytes;
    uint16_t queue_count;
    uint8_t flags;
    // Lengths of the publisher's size digits when they are not canonical (leading zeros),
    // carried so MSG repeats them: low nibble total, high nibble header. Digits follow the
    // queue names.
    uint8_t size_text_bytes;
    uint32_t shown_subject_bytes;
    uint32_t account;
};
static_assert(sizeof(MsgHead) == 28);

// kJs body: a kMsg body without queue ids or size digits; the subject says what it is for
// (core/js/ reads it).

// kConn body: the address of the moving connection (u64); the record carries its ownership.

// kInterest body: InterestHead | subject | queue
struct InterestHead {
    uint64_t seq;
    int32_t delta;  // +1 first reference, -1 last reference gone
    uint16_t subject_bytes;
    uint16_t queue_bytes;
    uint32_t account;
    uint32_t unused;
};
static_assert(sizeof(InterestHead) == 24);

// Body bytes of a kMsg record without its queue ids (each adds 8).
inline size_t msg_record_base_bytes(const MsgView& msg) {
    return sizeof(MsgHead) + msg.subject.size() + msg.reply.size() + msg.headers.size() +
           msg.payload.size() + msg.total_size_text.size() + msg.header_size_text.size() +
           msg.shown_subject.size();
}

// A decoded kMsg or kJs body: views into the record.
struct MsgRecord {
    MsgView msg;
    bool plain = false;
    // For the subscriptions that moved here from the sender: all of them (kMsgForwarded), or
    // those of the moves in `move_ids` (kForwarded).
    bool forwarded = false;
    std::span<const std::byte> queue_ids;  // 8 bytes each, unaligned
    std::span<const std::byte> move_ids;   // the same
    uint64_t queue_id(size_t i) const {
        uint64_t id;
        std::memcpy(&id, queue_ids.data() + 8 * i, sizeof id);
        return id;
    }
    size_t queue_count() const { return queue_ids.size() / 8; }
    bool for_move(uint64_t move_id) const {
        if (move_ids.empty()) return true;
        for (size_t at = 0; at < move_ids.size(); at += 8) {
            uint64_t id;
            std::memcpy(&id, move_ids.data() + at, sizeof id);
            if (id == move_id) return true;
        }
        return false;
    }
};

// Writes a kMsg (or, with no queue ids and no size digits, kJs) body of exactly
// msg_record_base_bytes(msg) + 8 * queue_ids.size() bytes into `body`.
void encode_msg(std::span<std::byte> body, const MsgView& msg, std::span<const uint64_t> queue_ids, bool plain,
                bool forwarded = false, bool bounced = false);
MsgRecord decode_msg(std::span<const std::byte> body);

class RecordWriter {
public:
    explicit RecordWriter(std::span<std::byte> out) : out_(out) {}
    void put(const void* data, size_t bytes) {
        RT_ASSERT(used_ + bytes <= out_.size());
        if (bytes != 0) std::memcpy(out_.data() + used_, data, bytes);
        used_ += bytes;
    }
    void put(std::string_view text) { put(text.data(), text.size()); }
    size_t used() const { return used_; }

private:
    std::span<std::byte> out_;
    size_t used_ = 0;
};

class RecordReader {
public:
    explicit RecordReader(std::span<const std::byte> in) : in_(in) {}
    template <class T>
    T get() {
        T value;
        RT_ASSERT(used_ + sizeof(T) <= in_.size());
        std::memcpy(&value, in_.data() + used_, sizeof(T));
        used_ += sizeof(T);
        return value;
    }
    std::string_view text(size_t bytes) {
        RT_ASSERT(used_ + bytes <= in_.size());
        std::string_view view(reinterpret_cast<const char*>(in_.data()) + used_, bytes);
        used_ += bytes;
        return view;
    }
    bool done() const { return used_ == in_.size(); }

private:
    std::span<const std::byte> in_;
    size_t used_ = 0;
};

}  // namespace ringtail::core
