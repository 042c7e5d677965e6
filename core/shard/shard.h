#pragma once

#include "base/string_map.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <array>
#include <random>
#include <string>
#include <vector>

#include "base/spsc_ring.h"
#include "core/conn/client_conn.h"
#include "core/route/sublist.h"
#include "core/shard/records.h"
#include "io/buffer_ring.h"
#include "io/uring.h"

namespace ringtail::core {

class Server;
namespace js {
class JetStream;
}

// Another shard's interest in a (subject, queue), as this shard's replica knows it.
struct RemoteInterest {
    uint32_t shard = 0;
    std::string subject;
    std::string queue;
    int64_t refs = 0;  // the number of that shard's subscriptions behind this entry
};

// One event loop pinned to one core.
// Owner: its own thread, which creates the io_uring ring and is the only one to touch anything
// here, except the SPSC rings (shared with exactly one peer each) and stop requests.
// Lifecycle: constructed by Server before threads start; run() returns after a stop request
// once every connection has been flushed and closed.
//
// One loop turn: reap completions (accept, recv, send, doorbell, timer) and handle them,
// drain the inbound rings, then flush: publish outbound rings with one doorbell per peer and
// submit one send per dirty connection.
class Shard {
public:
    Shard(Server& server, uint32_t index, int listen_fd);
    ~Shard();
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    // The thread body. Returns an error message if the shard could not start.
    std::string run();

    uint32_t index() const { return index_; }
    Server& server() { return server_; }

    // ---- used by ClientConn ----
    // Routes a publish to local subscribers and to other shards. Returns false when a ring to
    // another shard is full: nothing was delivered and the caller must pause.
    bool route_publish(ClientConn& origin, const MsgView& msg, bool& delivered);

    // ---- used by JetStream ----
    // A message the server itself publishes (acks, API responses). False when a ring to
    // another shard is full: nothing was delivered; retry on a later turn (this shard is woken
    // when there is room).
    bool publish_internal(const MsgView& msg);
    // Hands `msg` to shard `target`'s JetStream, in order with everything else sent there.
    void forward_js(uint32_t target, const MsgView& msg);
    uint32_t shard_count() const { return shard_count_; }
    js::JetStream* jetstream() { return js_.get(); }
    void add_subscription(Subscription* sub);
    void remove_subscription(Subscription* sub);
    void mark_dirty(ClientConn& conn);
    // The connection's recv ended and it may read: re-arm it at the end of this turn.
    void request_rearm(ClientConn& conn);
    // Back-pressure: `conn` stops being read and is retried every turn until it gets through.
    void pause_reading(ClientConn& conn);
    void stop_reading(ClientConn& conn);
    // True while control records to some shard wait for ring room in large numbers; SUB and
    // UNSUB then pause like a publish on a full ring.
    bool interest_backlog_full() const;
    void schedule_close(ClientConn& conn);
    // True if every other shard has applied this shard's interest records up to `seq`.
    bool interest_applied(uint64_t seq) const;
    uint64_t interest_seq_sent() const { return interest_seq_sent_; }
    // Parks `conn` (stopped at a PING) until its interest changes are applied everywhere.
    void wait_for_interest(ClientConn& conn);
    // The sid of a plain subscription of `conn` matching `subject`, or empty.
    std::string_view reply_sid(ClientConn& conn, std::string_view subject);
    void log_conn(ClientConn& conn, std::string_view what, bool debug_only);

private:
    enum class Op : uint8_t { kAccept = 1, kRecv, kSend, kTimer, kDoorbell, kCancel, kClose, kDisk };
    static uint64_t user_data(Op op, uint32_t slot, uint32_t generation) {
        return (uint64_t{static_cast<uint8_t>(op)} << 56) | (uint64_t{slot} << 32) | generation;
    }

    void handle_completion(uint64_t data, int32_t res, uint32_t flags);
    void on_accept(int32_t res, uint32_t flags);
    void on_recv(ClientConn& conn, int32_t res, uint32_t flags);
    void on_send(ClientConn& conn, int32_t res);
    void on_timer();
    void arm_accept();
    void arm_recv(ClientConn& conn);
    void arm_timer();
    void arm_disk_event();
    bool route(ClientConn* origin, const MsgView& msg, bool& delivered);
    void submit_send(ClientConn& conn);
    ClientConn* conn_at(uint32_t slot, uint32_t generation);

    void drain_inbound();
    void apply_msg(RecordReader& reader);
    void apply_js(RecordReader& reader);
    void apply_interest(uint32_t from, RecordReader& reader);
    // Appends the message to the subscriber's connection; false if it could not take it.
    bool deliver(Subscription& sub, const MsgView& msg);
    Subscription* pick_member(const std::vector<Subscription*>& members, const ClientConn* origin);
    template <class OnRecord>
    void for_each_msg_record(const MsgView& msg, const std::vector<uint64_t>& queues,
                             uint32_t target, OnRecord on_record);
    void write_msg_records(const MsgView& msg, uint32_t target);
    void expire_subscriptions();
    void flush();
    void flush_outbound_rings();
    void process_closes();
    void maybe_free(ClientConn& conn);
    void release_pongs();
    void resume_paused();
    void ring_doorbell(uint32_t target);

    // Interest bookkeeping: counts local references per (subject, queue) and tells the other
    // shards on the first and the last one.
    void change_interest(std::string_view subject, std::string_view queue, int32_t delta);
    // Queues a control record for `target`; never fails (spills to a local queue when full).
    void push_control(uint32_t target, RecordKind kind, std::string_view body);
    std::span<std::byte> reserve(uint32_t target, RecordKind kind, size_t bytes);

    Server& server_;
    const uint32_t index_;
    const uint32_t shard_count_;
    int listen_fd_;
    bool accepting_ = false;

    io::Uring uring_;
    io::BufferRing buffers_;

    std::vector<std::unique_ptr<ClientConn>> conns_;
    std::vector<uint32_t> free_slots_;
    uint32_t generation_next_ = 1;
    uint64_t client_seq_ = 0;

    Sublist<Subscription> sublist_;
    Sublist<RemoteInterest> interest_;
    // Per (shard, subject, queue): the replica entry.
    base::StringMap<std::unique_ptr<RemoteInterest>> remote_;
    // Local references per (subject, queue), to detect the first and last.
    base::StringMap<int64_t> local_refs_;

    std::vector<ClientConn*> dirty_;
    std::vector<ClientConn*> closing_;
    std::vector<ClientConn*> paused_;
    std::vector<ClientConn*> rearm_;
    std::vector<ClientConn*> pong_waiters_;
    std::vector<Subscription*> expired_;
    // Scratch for route_publish, kept to avoid allocating per message.
    std::vector<uint8_t> target_want_;
    std::vector<std::vector<uint64_t>> target_queues_;  // queue ids chosen per target shard
    std::vector<const std::vector<Subscription*>*> chosen_local_;
    std::vector<uint64_t> queue_ids_;

    // Rings: out_[j] carries records to shard j, in_[j] from shard j (nullptr for j == index_).
    std::vector<base::SpscRing*> out_;
    std::vector<base::SpscRing*> in_;
    std::vector<std::deque<std::string>> overflow_;  // control records waiting for ring room
    uint64_t interest_seq_sent_ = 0;
    std::vector<uint64_t> interest_seq_acked_;   // per peer: our records it has applied
    std::vector<uint64_t> interest_seq_applied_;  // per peer: its records we have applied
    std::vector<uint64_t> interest_ack_sent_;     // per peer: the last ack we sent it
    bool rings_waiting_ = false;                  // some connection waits for ring room

    std::chrono::milliseconds accept_backoff_{0};
    Clock::time_point accept_retry_at_{};
    std::minstd_rand random_;
    bool stopping_ = false;
    __kernel_timespec tick_{};

    // JetStream (with -js): the streams this shard owns, and on shard 0 the API. Its disks
    // signal completions on an eventfd this ring polls.
    std::unique_ptr<js::JetStream> js_;
    int disk_event_fd_ = -1;
};

}  // namespace ringtail::core
