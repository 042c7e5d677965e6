#include "core/shard/mesh.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace ringtail::core {
namespace {

// Control records that may wait for ring room before SUB/UNSUB pause (each is small).
constexpr size_t kBacklogRecordsMax = 4096;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Record codec

void encode_msg(std::span<std::byte> body, const MsgView& msg, std::span<const uint64_t> queue_ids, bool plain,
                bool forwarded, bool bounced) {
    RecordWriter writer(body);
    auto flags = static_cast<uint8_t>((msg.has_headers ? kMsgHeaders : 0) | (plain ? kMsgPlain : 0) |
                                      (forwarded ? kMsgForwarded : 0) | (bounced ? kMsgBounced : 0));
    MsgHead head{static_cast<uint32_t>(msg.subject.size()),
                 static_cast<uint32_t>(msg.reply.size()),
                 static_cast<uint32_t>(msg.headers.size()),
                 static_cast<uint32_t>(msg.payload.size()),
                 static_cast<uint16_t>(queue_ids.size()),
                 flags,
                 static_cast<uint8_t>(msg.total_size_text.size() | (msg.header_size_text.size() << 4)),
                 static_cast<uint32_t>(msg.shown_subject.size()),
                 msg.account};
    writer.put(&head, sizeof head);
    writer.put(msg.subject);
    writer.put(msg.reply);
    writer.put(msg.headers);
    writer.put(msg.payload);
    writer.put(queue_ids.data(), 8 * queue_ids.size());
    writer.put(msg.total_size_text);
    writer.put(msg.header_size_text);
    writer.put(msg.shown_subject);
    RT_ASSERT(writer.used() == body.size());
}

MsgRecord decode_msg(std::span<const std::byte> body) {
    RecordReader reader(body);
    auto head = reader.get<MsgHead>();
    MsgRecord record;
    record.msg.subject = reader.text(head.subject_bytes);
    record.msg.reply = reader.text(head.reply_bytes);
    record.msg.headers = reader.text(head.header_bytes);
    record.msg.payload = reader.text(head.payload_bytes);
    record.msg.has_headers = (head.flags & kMsgHeaders) != 0;
    record.msg.account = head.account;
    record.plain = (head.flags & kMsgPlain) != 0;
    record.forwarded = (head.flags & kMsgForwarded) != 0;
    record.msg.rerouted = (head.flags & kMsgBounced) != 0;
    std::string_view ids = reader.text(size_t{8} * head.queue_count);
    record.queue_ids = {reinterpret_cast<const std::byte*>(ids.data()), ids.size()};
    record.msg.total_size_text = reader.text(head.size_text_bytes & 0xf);
    record.msg.header_size_text = reader.text(head.size_text_bytes >> 4);
    record.msg.shown_subject = reader.text(head.shown_subject_bytes);
    RT_ASSERT(reader.done());
    return record;
}

// ---------------------------------------------------------------------------------------------
// Links

MeshLinks::MeshLinks(uint32_t shards, size_t ring_bytes)
    : shards_(shards), ring_bytes_(ring_bytes), waiting_(std::make_unique<std::atomic<bool>[]>(size_t{shards} * shards)) {
    rings_.resize(size_t{shards} * shards);
    for (uint32_t from = 0; from < shards; ++from) {
        for (uint32_t to = 0; to < shards; ++to) {
            if (from != to) rings_[from * shards + to] = std::make_unique<base::SpscRing>(ring_bytes);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Mesh

Mesh::Mesh(uint32_t self, MeshLinks& links, Doorbell& doorbell)
    : self_(self),
      shards_(links.shards()),
      links_(links),
      doorbell_(doorbell),
      overflow_(shards_),
      belled_(shards_, 0),
      unwoken_bytes_(shards_, 0),
      interest_seq_acked_(shards_, 0),
      interest_seq_applied_(shards_, 0),
      interest_ack_sent_(shards_, 0),
      interest_seq_sent_to_(shards_, 0) {
    RT_ASSERT(self < shards_);
}

template <class OnRecord>
void Mesh::for_each_msg_record(const MsgView& msg, size_t queue_count, OnRecord on_record) const {
    // Queue ids ride with the message, at most kQueueIdsPerRecord per record; further records
    // repeat the message with the next ids (and without plain delivery).
    size_t base = msg_record_base_bytes(msg);
    size_t first = 0;
    bool plain = true;
    do {
        size_t count = std::min(queue_count - first, kQueueIdsPerRecord);
        on_record(base + 8 * count, first, count, plain);
        first += count;
        plain = false;
    } while (first < queue_count);
}

Mesh::Room Mesh::room_for_msg(uint32_t target, const MsgView& msg, size_t queue_count) {
    base::SpscRing& ring = links_.ring(self_, target);
    size_t total = 0;
    size_t largest = 0;
    size_t far = 0;
    for_each_msg_record(msg, queue_count, [&](size_t body, size_t, size_t, bool) {
        size_t bytes = ring.record_bytes(body);
        total += bytes;
        largest = std::max(largest, bytes);
        if (body > ring.inline_body_max()) far += body;
    });
    auto room = [&] { return overflow_[target].empty() && ring.can_reserve_batch(total, largest, far); };
    if (room()) return Room::kYes;
    if (total + largest > ring.capacity_bytes()) return Room::kNever;
    // Announce the wait, then look again: the consumer frees space before it checks the flag,
    // so one of the two sees the other (no lost wake-up).
    links_.waiting(self_, target).store(true, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (room()) return Room::kYes;
    ++full_waits_;
    return Room::kFull;
}

uint64_t Mesh::bytes_waiting(uint32_t target) {
    return target == self_ ? 0 : links_.ring(self_, target).producer_bytes_used();
}

void Mesh::send_msg(uint32_t target, const MsgView& msg, std::span<const uint64_t> queue_ids, bool forwarded) {
    base::SpscRing& ring = links_.ring(self_, target);
    for_each_msg_record(msg, queue_ids.size(), [&](size_t body_bytes, size_t first, size_t count, bool plain) {
        std::span<std::byte> body = ring.try_reserve(static_cast<uint32_t>(RecordKind::kMsg), body_bytes);
        RT_ASSERT(!body.empty());
        encode_msg(body, msg, queue_ids.subspan(first, count), plain, forwarded && plain);
    });
}

void Mesh::send_forwarded(uint32_t target, const MsgView& msg, std::span<const uint64_t> move_ids) {
    RT_ASSERT(target != self_ && !move_ids.empty());
    std::string body(msg_record_base_bytes(msg) + 8 * move_ids.size(), '\0');
    encode_msg({reinterpret_cast<std::byte*>(body.data()), body.size()}, msg, move_ids, /*plain=*/false);
    push_control(target, RecordKind::kForwarded, body);
}

void Mesh::send_bounced(uint32_t target, const MsgView& msg, uint64_t group) {
    RT_ASSERT(target != self_);
    std::string body(msg_record_base_bytes(msg) + sizeof group, '\0');
    encode_msg({reinterpret_cast<std::byte*>(body.data()), body.size()}, msg, {&group, 1}, /*plain=*/false,
               /*forwarded=*/false, /*bounced=*/true);
    push_control(target, RecordKind::kMsg, body);
}

void Mesh::send_move_record(uint32_t target, RecordKind kind, uint64_t move_id, uint64_t sub_id) {
    RT_ASSERT(target != self_);
    if (kind != RecordKind::kDrop) {
        push_control(target, kind, {reinterpret_cast<const char*>(&move_id), sizeof move_id});
        return;
    }
    // An interest change too: a PING after the UNSUB waits until the old shard applied it.
    uint64_t body[3] = {move_id, sub_id, ++interest_seq_sent_};
    interest_seq_sent_to_[target] = interest_seq_sent_;
    push_control(target, kind, {reinterpret_cast<const char*>(body), sizeof body});
}

uint64_t Mesh::send_interest(uint32_t account, std::string_view subject, std::string_view queue,
                             const InterestChange& change) {
    RT_ASSERT(subject.size() <= 0xffff);
    RT_ASSERT(queue.size() <= 0xffff);
    ++interest_seq_sent_;
    std::string body(sizeof(InterestHead) + subject.size() + queue.size(), '\0');
    auto send = [&](uint32_t target, int32_t delta) {
        InterestHead head{interest_seq_sent_, delta, static_cast<uint16_t>(subject.size()),
                          static_cast<uint16_t>(queue.size()), account, 0};
        RecordWriter writer({reinterpret_cast<std::byte*>(body.data()), body.size()});
        writer.put(&head, sizeof head);
        writer.put(subject);
        writer.put(queue);
        push_control(target, RecordKind::kInterest, body);
        interest_seq_sent_to_[target] = interest_seq_sent_;
    };
    for (uint32_t target = 0; target < shards_; ++target) {
        if (target == self_) continue;
        auto listed = std::find_if(change.listed.begin(), change.listed.end(),
                                   [target](const auto& l) { return l.first == target; });
        int32_t delta = listed == change.listed.end() ? change.others : listed->second;
        if (delta != 0) send(target, delta);
    }
    return interest_seq_sent_;
}

void Mesh::send_js(uint32_t target, const MsgView& msg, bool wake) {
    RT_ASSERT(target != self_);
    MsgView plain_fields{msg.subject, msg.reply, msg.headers, msg.payload, msg.has_headers, {}, {}, {}, msg.account};
    std::string body(msg_record_base_bytes(plain_fields), '\0');
    encode_msg({reinterpret_cast<std::byte*>(body.data()), body.size()}, plain_fields, {}, false);
    const uint64_t before = links_.ring(self_, target).producer_position();
    push_control(target, RecordKind::kJs, body);
    // One that waits for room goes in later as any other, with a doorbell.
    if (!wake) unwoken_bytes_[target] += links_.ring(self_, target).producer_position() - before;
}

void Mesh::send_conn(uint32_t target, uint64_t handle) {
    RT_ASSERT(target != self_);
    push_control(target, RecordKind::kConn, {reinterpret_cast<const char*>(&handle), sizeof handle});
}

std::vector<uint64_t> Mesh::ends() {
    std::vector<uint64_t> ends(shards_, 0);
    for (uint32_t peer = 0; peer < shards_; ++peer) {
        if (peer != self_) ends[peer] = links_.ring(self_, peer).producer_position();
    }
    return ends;
}

bool Mesh::handled_up_to(const std::vector<uint64_t>& ends, uint32_t except) {
    for (uint32_t peer = 0; peer < shards_; ++peer) {
        if (peer == self_ || peer == except) continue;
        base::SpscRing& ring = links_.ring(self_, peer);
        if (ring.released_up_to(ends[peer])) continue;
        if (belled_[peer] < ends[peer]) {
            // Records it was not woken for (see flush()), published by now: it is woken for them.
            doorbell_.ring(peer);
            belled_[peer] = ends[peer];
            unwoken_bytes_[peer] = 0;
        }
        // Asks to be rung once it has read on (as a wait for room does), then looks again in
        // case it did so meanwhile.
        links_.waiting(self_, peer).store(true, std::memory_order_release);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (!ring.released_up_to(ends[peer])) return false;
    }
    return true;
}

bool Mesh::backlog_full() const {
    return std::any_of(overflow_.begin(), overflow_.end(),
                       [](const auto& queue) { return queue.size() > kBacklogRecordsMax; });
}

bool Mesh::interest_applied(uint64_t seq) const {
    // A shard that was not sent some change (one forwarded to it) has applied it: it is
    // enough that it acknowledged the last one it was sent (a later one may stand for it).
    for (uint32_t peer = 0; peer < shards_; ++peer) {
        if (peer != self_ && interest_seq_acked_[peer] < std::min(seq, interest_seq_sent_to_[peer])) return false;
    }
    return true;
}

void Mesh::push_control(uint32_t target, RecordKind kind, std::string_view body) {
    if (overflow_[target].empty()) {
        std::span<std::byte> out = links_.ring(self_, target).try_reserve(static_cast<uint32_t>(kind), body.size());
        if (!out.empty()) {
            std::memcpy(out.data(), body.data(), body.size());
            return;
        }
    }
    std::string record(sizeof(uint32_t), '\0');
    auto kind_value = static_cast<uint32_t>(kind);
    std::memcpy(record.data(), &kind_value, sizeof kind_value);
    record.append(body);
    overflow_[target].push_back(std::move(record));
    links_.waiting(self_, target).store(true, std::memory_order_release);
}

size_t Mesh::drain(MeshReceiver& receiver) {
    size_t records = 0;
    for (uint32_t from = 0; from < shards_; ++from) {
        if (from == self_ || !receiver.reading(from)) continue;
        base::SpscRing& ring = links_.ring(from, self_);
        ring.begin_read();
        base::SpscRing::Record record;
        bool any = false;
        bool more = true;
        while (more && ring.next(record)) {
            any = true;
            ++records;
            switch (static_cast<RecordKind>(record.kind)) {
                case RecordKind::kMsg: {
                    MsgRecord msg = decode_msg(record.body);
                    msg.msg.from_shard = from;
                    more = receiver.on_msg(from, msg);
                    break;
                }
                case RecordKind::kForwarded: {
                    MsgRecord msg = decode_msg(record.body);
                    msg.msg.from_shard = from;
                    msg.forwarded = true;
                    msg.move_ids = std::exchange(msg.queue_ids, {});
                    more = receiver.on_msg(from, msg);
                    break;
                }
                case RecordKind::kInterest: {
                    RecordReader reader(record.body);
                    auto head = reader.get<InterestHead>();
                    std::string_view subject = reader.text(head.subject_bytes);
                    std::string_view queue = reader.text(head.queue_bytes);
                    RT_ASSERT(reader.done());
                    interest_seq_applied_[from] = head.seq;
                    receiver.on_interest(from, head.account, subject, queue, head.delta);
                    break;
                }
                case RecordKind::kInterestAck: {
                    RecordReader reader(record.body);
                    interest_seq_acked_[from] = std::max(interest_seq_acked_[from], reader.get<uint64_t>());
                    break;
                }
                case RecordKind::kJs:
                    receiver.on_js(from, decode_msg(record.body).msg);
                    break;
                case RecordKind::kConn: {
                    RecordReader reader(record.body);
                    receiver.on_conn(from, reader.get<uint64_t>());
                    break;
                }
                case RecordKind::kFence:
                case RecordKind::kFenceEcho:
                case RecordKind::kDrop: {
                    RecordReader reader(record.body);
                    auto kind = static_cast<RecordKind>(record.kind);
                    auto move_id = reader.get<uint64_t>();
                    uint64_t sub_id = kind == RecordKind::kDrop ? reader.get<uint64_t>() : 0;
                    receiver.on_move_record(from, kind, move_id, sub_id);
                    if (kind == RecordKind::kDrop) interest_seq_applied_[from] = reader.get<uint64_t>();
                    break;
                }
            }
        }
        if (!any) continue;
        ring.end_read();
        std::atomic_thread_fence(std::memory_order_seq_cst);
        // The producer waits for room on this ring: tell it there is some now.
        if (links_.waiting(from, self_).exchange(false, std::memory_order_acq_rel)) doorbell_.ring(from);
    }
    return records;
}

bool Mesh::flush() {
    bool published = false;
    if (shards_ == 1) return published;
    for (uint32_t peer = 0; peer < shards_; ++peer) {
        if (peer == self_) continue;
        if (interest_seq_applied_[peer] > interest_ack_sent_[peer]) {
            interest_ack_sent_[peer] = interest_seq_applied_[peer];
            uint64_t seq = interest_seq_applied_[peer];
            push_control(peer, RecordKind::kInterestAck, {reinterpret_cast<const char*>(&seq), sizeof seq});
        }
        base::SpscRing& ring = links_.ring(self_, peer);
        auto& overflow = overflow_[peer];
        auto move_overflow = [&] {
            while (!overflow.empty()) {
                const std::string& record = overflow.front();
                uint32_t kind;
                std::memcpy(&kind, record.data(), sizeof kind);
                std::span<std::byte> out = ring.try_reserve(kind, record.size() - sizeof kind);
                if (out.empty()) return;
                std::memcpy(out.data(), record.data() + sizeof kind, out.size());
                overflow.pop_front();
                waiting_moved_ = true;
            }
        };
        move_overflow();
        if (!overflow.empty()) {
            // Still no room for the rest: the peer rings once it has read on. It cleared the
            // flag when it rang for what just went in, so it is set again, then the ring looked
            // at once more in case the peer read on meanwhile.
            links_.waiting(self_, peer).store(true, std::memory_order_seq_cst);
            std::atomic_thread_fence(std::memory_order_seq_cst);
            move_overflow();
        }
        published |= ring.publish();
        // Records the peer need not be woken for wait for its next turn, unless they pile up.
        const uint64_t unbelled = ring.producer_position() - belled_[peer];
        if (unbelled > unwoken_bytes_[peer] || (unbelled > 0 && ring.producer_bytes_used() > ring.capacity_bytes() / 4)) {
            doorbell_.ring(peer);
            belled_[peer] = ring.producer_position();
            unwoken_bytes_[peer] = 0;
        }
    }
    return published;
}

}  // namespace ringtail::core
