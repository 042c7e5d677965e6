#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/spsc_ring.h"
#include "core/route/interest_map.h"
#include "core/shard/records.h"

namespace ringtail::core {

// The rings between every ordered pair of shards, and for each pair a flag the producer sets
// when it waits for room (the consumer rings back once it has drained).
// Owner: the Server; created before the shard threads start, destroyed after they stop.
class MeshLinks {
public:
    MeshLinks(uint32_t shards, size_t ring_bytes);
    uint32_t shards() const { return shards_; }
    size_t ring_bytes() const { return ring_bytes_; }
    base::SpscRing& ring(uint32_t from, uint32_t to) { return *rings_[from * shards_ + to]; }
    std::atomic<bool>& waiting(uint32_t from, uint32_t to) { return waiting_[from * shards_ + to]; }

private:
    uint32_t shards_;
    size_t ring_bytes_;
    std::vector<std::unique_ptr<base::SpscRing>> rings_;
    std::unique_ptr<std::atomic<bool>[]> waiting_;
};

// Wakes another shard whose ring has new records or new room.
class Doorbell {
public:
    virtual void ring(uint32_t shard) = 0;

protected:
    ~Doorbell() = default;
};

// What the records a shard drains turn into.
class MeshReceiver {
public:
    // Returns false to stop reading `from`'s ring for now (after this record).
    virtual bool on_msg(uint32_t from, const MsgRecord& record) = 0;
    virtual void on_interest(uint32_t from, uint32_t account, std::string_view subject, std::string_view queue,
                             int32_t delta) = 0;
    virtual void on_js(uint32_t from, const MsgView& msg) = 0;
    // A connection moved here from `from` (Mesh::send_conn): the receiver owns it now.
    virtual void on_conn(uint32_t from, uint64_t handle) = 0;
    // kFence, kFenceEcho or kDrop (Mesh::send_move_record).
    virtual void on_move_record(uint32_t from, RecordKind kind, uint64_t move_id, uint64_t sub_id) = 0;
    // Whether to read `from`'s ring this time (a held ring fills and its publishers pause).
    virtual bool reading(uint32_t from) = 0;

protected:
    ~MeshReceiver() = default;
};

// One shard's ends of the rings: record encoding, the control records that wait for room, and
// the interest acknowledgements that make "applied everywhere" knowable.
// Owner: its shard's thread; it touches only its own ends of the rings and the waiting flags.
//
// Messages are all-or-nothing: room_for_msg() says whether every record of one message fits
// now, and announces the wait when it does not; the caller then stops reading the publisher
// (back-pressure) and retries once woken. Control records (interest changes, JetStream
// records, acks) never fail: while a ring is full they queue here, in order, and go first at
// the next flush. A message is never written while control records for that ring wait, so
// the ring stays FIFO with what was sent.
//
// Interest records carry a sequence; each receiver acknowledges the highest it applied (one
// kInterestAck per flush), so interest_applied(seq) tells when every shard has seen a change.
class Mesh {
public:
    Mesh(uint32_t self, MeshLinks& links, Doorbell& doorbell);
    Mesh(const Mesh&) = delete;
    Mesh& operator=(const Mesh&) = delete;

    uint32_t self() const { return self_; }
    uint32_t shards() const { return shards_; }

    // ---- messages ----
    enum class Room : uint8_t {
        kYes,
        kFull,   // not now: the wait is announced; the target rings back when it has drained
        kNever,  // more queue ids than the ring can ever hold (hundreds of thousands of groups)
    };
    Room room_for_msg(uint32_t target, const MsgView& msg, size_t queue_count);
    // Writes the message's records; room_for_msg() must have said kYes for it in this turn.
    // `forwarded`: also for the subscriptions that moved from here to `target`.
    void send_msg(uint32_t target, const MsgView& msg, std::span<const uint64_t> queue_ids, bool forwarded = false);
    // A message another shard sent here, for the subscriptions of the moves `move_ids` from
    // here to `target` only: a control record (it waits for room in order, never fails),
    // since what is drained cannot wait for room.
    void send_forwarded(uint32_t target, const MsgView& msg, std::span<const uint64_t> move_ids);
    // A message another shard sent here for the queue group `group`, which has no member here
    // to take it, for `target`'s members instead: a control record too.
    void send_bounced(uint32_t target, const MsgView& msg, uint64_t group);

    // ---- control records ----
    // Announces an interest change in `account` to the other shards (each its own delta, none
    // where it is 0); returns its sequence.
    uint64_t send_interest(uint32_t account, std::string_view subject, std::string_view queue,
                           const InterestChange& change);
    // Without `wake`, no doorbell is rung for it alone: `target` reads it at its next turn,
    // whatever brings that about (see flush()).
    void send_js(uint32_t target, const MsgView& msg, bool wake = true);
    // Hands an object (a client connection, by address) over to `target`, after everything
    // this shard sent it before: the receiver handles those records first.
    void send_conn(uint32_t target, uint64_t handle);
    // kFence, kFenceEcho (`sub_id` unused) or kDrop about the move `move_id`.
    void send_move_record(uint32_t target, RecordKind kind, uint64_t move_id, uint64_t sub_id = 0);
    // Where each ring from this shard ends now (by peer), and whether every peer but `except`
    // has handled everything written to it up to there (if not, a peer behind rings this
    // shard's doorbell once it has read on).
    std::vector<uint64_t> ends();
    bool handled_up_to(const std::vector<uint64_t>& ends, uint32_t except);
    // True while so many control records wait for room that SUB/UNSUB should pause (and
    // rings that feed forwarders go unread: Switch).
    bool backlog_full() const;
    // True once after a flush moved records that waited for room into their rings. What
    // waited on them (SUB/UNSUB and forwarders' rings behind a full backlog, JetStream replies
    // behind reports to shard 0) was looked at earlier in the turn: it goes on in another turn
    // before the shard waits, since no doorbell may come for it.
    bool waiting_moved() { return std::exchange(waiting_moved_, false); }
    // True while control records for `target` wait here for room in its ring.
    bool control_waiting(uint32_t target) const { return !overflow_[target].empty(); }
    uint64_t interest_seq_sent() const { return interest_seq_sent_; }
    // True once every other shard has applied this shard's interest records up to `seq`.
    bool interest_applied(uint64_t seq) const;

    // ---- receiving ----
    // Reads what every other shard has published, in ring order, into `receiver`; tells a
    // producer waiting for room that there is some. Returns the records read.
    size_t drain(MeshReceiver& receiver);

    // ---- end of turn ----
    // Sends the interest acks due, moves waiting control records into the rings, publishes
    // each ring that got records and rings that shard's doorbell once, unless every record
    // since its last doorbell was sent without `wake` and they fill at most a quarter of the
    // ring. Returns whether any ring got records.
    bool flush();

    // ---- figures (monitoring) ----
    // Messages that waited for room (room_for_msg() said kFull).
    uint64_t full_waits() const { return full_waits_; }
    // Bytes in the ring to `target` that it has not read yet.
    uint64_t bytes_waiting(uint32_t target);
    size_t ring_capacity_bytes() const { return links_.ring_bytes(); }

    // Queue ids per record: a message serving more groups on one shard takes several records.
    static constexpr size_t kQueueIdsPerRecord = 8192;

private:
    void push_control(uint32_t target, RecordKind kind, std::string_view body);
    template <class OnRecord>
    void for_each_msg_record(const MsgView& msg, size_t queue_count, OnRecord on_record) const;

    const uint32_t self_;
    const uint32_t shards_;
    MeshLinks& links_;
    Doorbell& doorbell_;
    std::vector<std::deque<std::string>> overflow_;  // by target: kind (4 bytes) + body
    // By target: where its ring stood at its last doorbell, and the bytes written since by
    // records sent without `wake`.
    std::vector<uint64_t> belled_;
    std::vector<uint64_t> unwoken_bytes_;
    bool waiting_moved_ = false;  // see waiting_moved()
    uint64_t interest_seq_sent_ = 0;
    std::vector<uint64_t> interest_seq_acked_;    // by peer: our records it has applied
    std::vector<uint64_t> interest_seq_applied_;  // by peer: its records we have applied
    std::vector<uint64_t> interest_ack_sent_;     // by peer: the last ack we sent it
    std::vector<uint64_t> interest_seq_sent_to_;  // by peer: the last of our records it was sent
    uint64_t full_waits_ = 0;
};

}  // namespace ringtail::core
