#include "core/shard/shard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <poll.h>

#include "core/js/jetstream.h"
#include "core/server/log.h"
#include "core/server/server.h"
#include "proto/encoder.h"
#include "proto/errors.h"

namespace ringtail::core {
namespace {

// Receive buffers per shard: 128 x 64 KiB = 8 MiB, enough to keep every busy connection of a
// shard reading while others are parsed; a connection that finds none waits for the next turn.
constexpr uint32_t kRecvBufferCount = 128;
constexpr uint32_t kRecvBufferBytes = 64 * 1024;
constexpr unsigned kRingEntries = 4096;
constexpr long kTickNanos = 100'000'000;  // liveness checks and stop requests: every 100 ms
constexpr auto kShutdownGrace = std::chrono::seconds(2);
// Control records that may wait for ring room before SUB/UNSUB pause (each is small).
constexpr size_t kInterestBacklogRecordsMax = 4096;

struct Peer {
    std::string ip;
    int port = 0;
};

Peer peer_of(int fd) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return {};
    char text[INET6_ADDRSTRLEN] = {};
    if (peer.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&peer);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        return {text, ntohs(in->sin_port)};
    }
    if (peer.ss_family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer);
        inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        return {text, ntohs(in6->sin6_port)};
    }
    return {};
}

// Unambiguous whatever bytes the subject and queue hold: "<subject length>:<subject><queue>".
std::string interest_key(std::string_view subject, std::string_view queue) {
    std::string key = std::to_string(subject.size());
    key.push_back(':');
    key.append(subject);
    key.append(queue);
    return key;
}

// The fields kMsg and kJs bodies share: MsgHead, subject, reply, headers, payload.
MsgView read_msg_fields(RecordReader& reader, MsgHead& head) {
    head = reader.get<MsgHead>();
    MsgView msg;
    msg.subject = reader.text(head.subject_bytes);
    msg.reply = reader.text(head.reply_bytes);
    msg.headers = reader.text(head.header_bytes);
    msg.payload = reader.text(head.payload_bytes);
    msg.has_headers = (head.flags & kMsgHeaders) != 0;
    return msg;
}

}  // namespace

Shard::Shard(Server& server, uint32_t index, int listen_fd)
    : server_(server),
      index_(index),
      shard_count_(server.shard_count()),
      listen_fd_(listen_fd),
      random_(index * 7919 + 17) {
    out_.assign(shard_count_, nullptr);
    in_.assign(shard_count_, nullptr);
    for (uint32_t peer = 0; peer < shard_count_; ++peer) {
        if (peer == index_) continue;
        out_[peer] = server.ring(index_, peer);
        in_[peer] = server.ring(peer, index_);
    }
    overflow_.resize(shard_count_);
    interest_seq_acked_.assign(shard_count_, 0);
    interest_seq_applied_.assign(shard_count_, 0);
    interest_ack_sent_.assign(shard_count_, 0);
    target_queues_.resize(shard_count_);
    target_want_.assign(shard_count_, 0);
    tick_.tv_sec = 0;
    tick_.tv_nsec = kTickNanos;
}

Shard::~Shard() = default;

std::string Shard::run() {
    std::string error = uring_.init(kRingEntries);
    server_.publish_ring_fd(index_, error.empty() ? uring_.fd() : -1);
    for (uint32_t peer = 0; peer < shard_count_ && error.empty(); ++peer) {
        if (server_.ring_fd(peer) < 0) {
            server_.report_started(index_, {});  // that shard reports its own failure
            return {};
        }
    }
    if (error.empty()) error = buffers_.init(uring_.raw(), 0, kRecvBufferCount, kRecvBufferBytes);
    if (server_.options().jetstream) {
        if (error.empty()) {
            js_ = std::make_unique<js::JetStream>(*this);
            error = js_->start();
            disk_event_fd_ = js_->event_fd();
            flush_outbound_rings();
        }
        // Restored streams subscribed their subjects: every shard applies the others' interest
        // before serving, so a publish right after "Server is ready" reaches its stream.
        server_.jetstream_barrier();
        if (error.empty()) drain_inbound();
    }
    if (!error.empty()) error = "shard " + std::to_string(index_) + ": " + error;
    server_.report_started(index_, error);
    if (!error.empty()) return error;

    arm_accept();
    arm_timer();
    if (disk_event_fd_ >= 0) arm_disk_event();
    Clock::time_point stop_deadline{};
    struct Completion {
        uint64_t data;
        int32_t res;
        uint32_t flags;
    };
    std::vector<Completion> completions;
    completions.reserve(kRingEntries);
    while (true) {
        int rc = io_uring_submit_and_wait(uring_.raw(), 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            return std::string("io_uring_submit_and_wait: ") + std::strerror(-rc);
        }
        // Reaping only queues completions; handlers run afterwards (they may submit).
        completions.clear();
        io_uring_cqe* cqe;
        unsigned head;
        unsigned seen = 0;
        io_uring_for_each_cqe(uring_.raw(), head, cqe) {
            completions.push_back({cqe->user_data, cqe->res, cqe->flags});
            ++seen;
        }
        io_uring_cq_advance(uring_.raw(), seen);
        for (const Completion& c : completions) {
            handle_completion(c.data, c.res, c.flags);
            expire_subscriptions();
            process_closes();
        }
        drain_inbound();
        resume_paused();
        release_pongs();
        process_closes();
        if (js_) js_->run_turn();
        flush();
        buffers_.commit();
        // Re-arm after the buffers went back to the kernel, so a recv that ended for lack of
        // buffers finds some.
        for (ClientConn* conn : rearm_) {
            conn->recv_needs_rearm_ = false;
            if (!conn->recv_armed_ && conn->reading_allowed()) arm_recv(*conn);
        }
        rearm_.clear();

        if (!stopping_ && server_.stop_requested()) {
            stopping_ = true;
            stop_deadline = Clock::now() + kShutdownGrace;
            io_uring_sqe* sqe = uring_.sqe();
            io_uring_prep_cancel64(sqe, user_data(Op::kAccept, 0, 0), 0);
            io_uring_sqe_set_data64(sqe, user_data(Op::kCancel, 0, 0));
            for (auto& conn : conns_) {
                if (conn) conn->close({}, "Server Shutdown");
            }
            process_closes();
            flush();
        }
        if (stopping_) {
            bool all_freed = std::none_of(conns_.begin(), conns_.end(),
                                          [](const auto& conn) { return conn != nullptr; });
            if (all_freed || Clock::now() > stop_deadline) break;
        }
    }
    // Closing the streams waits for their writes in flight, so what was acknowledged stays.
    js_.reset();
    for (auto& conn : conns_) {
        if (conn && !conn->fd_closed_) ::close(conn->fd_);
    }
    return {};
}

// ---------------------------------------------------------------------------------------------
// Completions

void Shard::handle_completion(uint64_t data, int32_t res, uint32_t flags) {
    Op op = static_cast<Op>(data >> 56);
    uint32_t slot = static_cast<uint32_t>(data >> 32) & 0xffffff;
    uint32_t generation = static_cast<uint32_t>(data);
    switch (op) {
        case Op::kAccept:
            on_accept(res, flags);
            return;
        case Op::kTimer:
            on_timer();
            return;
        case Op::kDoorbell:
        case Op::kCancel:
            return;  // waking up was the point; the rings are drained every turn
        case Op::kClose:
            return;
        case Op::kDisk: {
            uint64_t count;
            [[maybe_unused]] ssize_t got = ::read(disk_event_fd_, &count, sizeof count);
            if (!(flags & IORING_CQE_F_MORE)) arm_disk_event();
            return;  // run_turn() polls the disks every turn
        }
        case Op::kRecv:
        case Op::kSend:
            break;
    }
    ClientConn* conn = conn_at(slot, generation);
    if (conn == nullptr) return;
    if (op == Op::kRecv) {
        on_recv(*conn, res, flags);
    } else {
        on_send(*conn, res);
    }
    maybe_free(*conn);
}

ClientConn* Shard::conn_at(uint32_t slot, uint32_t generation) {
    if (slot >= conns_.size() || conns_[slot] == nullptr) return nullptr;
    ClientConn* conn = conns_[slot].get();
    return conn->generation_ == generation ? conn : nullptr;
}

void Shard::arm_accept() {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, user_data(Op::kAccept, 0, 0));
    accepting_ = true;
}

void Shard::arm_timer() {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_timeout(sqe, &tick_, 0, 0);
    io_uring_sqe_set_data64(sqe, user_data(Op::kTimer, 0, 0));
}

void Shard::arm_disk_event() {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_poll_multishot(sqe, disk_event_fd_, POLLIN);
    io_uring_sqe_set_data64(sqe, user_data(Op::kDisk, 0, 0));
}

void Shard::arm_recv(ClientConn& conn) {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_recv_multishot(sqe, conn.fd_, nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffers_.group_id();
    io_uring_sqe_set_data64(sqe, user_data(Op::kRecv, conn.slot_, conn.generation_));
    conn.recv_armed_ = true;
}

void Shard::on_accept(int32_t res, uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) accepting_ = false;
    if (res < 0) {
        if (res == -ECANCELED || stopping_) return;
        if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS || res == -ENOMEM) {
            // Out of descriptors or memory: retrying at once would spin. Back off as
            // nats-server does (10 ms doubling to 1 s); the timer re-arms.
            accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10),
                                         std::chrono::milliseconds(1000));
            accept_retry_at_ = Clock::now() + accept_backoff_;
            log_warn(std::string("Temporary accept error: ") + std::strerror(-res) + ", sleeping " +
                     std::to_string(accept_backoff_.count()) + "ms");
            if (accepting_) {
                io_uring_sqe* sqe = uring_.sqe();
                io_uring_prep_cancel64(sqe, user_data(Op::kAccept, 0, 0), 0);
                io_uring_sqe_set_data64(sqe, user_data(Op::kCancel, 0, 0));
            }
            return;
        }
        if (!accepting_) arm_accept();
        return;
    }
    accept_backoff_ = std::chrono::milliseconds(0);
    if (!accepting_ && !stopping_) arm_accept();
    int fd = res;
    if (stopping_) {
        ::close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<uint32_t>(conns_.size());
        RT_ASSERT(slot < (1u << 24));
        conns_.emplace_back();
    }
    // Client ids encode the shard: (client_id - 1) % shards == shard index.
    uint64_t client_id = 1 + index_ + uint64_t{shard_count_} * client_seq_++;
    Peer peer = peer_of(fd);
    conns_[slot] = std::make_unique<ClientConn>(*this, slot, generation_next_++, fd, client_id,
                                                peer.ip, peer.port);
    ClientConn& conn = *conns_[slot];
    conn.out().append(proto::encode_info(server_.info(client_id, conn.client_ip_)));
    conn.queued_output();
    int64_t count = server_.connections.fetch_add(1, std::memory_order_relaxed) + 1;
    conn.counted_ = true;
    log_conn(conn, "Client connection created", true);
    if (count > server_.options().max_connections) {
        conn.close(proto::err::kMaxConnections, "Maximum Connections Exceeded");
        return;
    }
    arm_recv(conn);
}

void Shard::on_recv(ClientConn& conn, int32_t res, uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) conn.recv_armed_ = false;
    if (res > 0) {
        RT_ASSERT(flags & IORING_CQE_F_BUFFER);
        auto id = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
        std::span<const char> data = buffers_.buffer(id, static_cast<size_t>(res));
        if (!conn.closing_) conn.on_data({data.data(), data.size()});
        buffers_.recycle(id);
    } else if (res == 0) {
        conn.close({}, "Client Closed");
    } else if (res != -ENOBUFS && res != -ECANCELED) {
        conn.close({}, "Read Error");
    }
    // A multishot recv ends on -ENOBUFS (every buffer in use), on a cancel issued by a pause
    // that may already be over, or by itself: re-arm at the end of the turn, once buffers have
    // been given back, unless the connection is paused (resume re-arms) or closing.
    if (!conn.recv_armed_ && conn.reading_allowed()) request_rearm(conn);
}

void Shard::submit_send(ClientConn& conn) {
    if (conn.send_in_flight_ || conn.fd_closed_) return;
    if (conn.sending_offset_ >= conn.sending_.size()) {
        if (conn.out_.empty()) return;
        conn.sending_.clear();
        std::swap(conn.out_, conn.sending_);
        conn.sending_offset_ = 0;
    }
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_send(sqe, conn.fd_, conn.sending_.data() + conn.sending_offset_,
                       conn.sending_.size() - conn.sending_offset_, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, user_data(Op::kSend, conn.slot_, conn.generation_));
    conn.send_in_flight_ = true;
    conn.send_started_ = Clock::now();
}

void Shard::on_send(ClientConn& conn, int32_t res) {
    conn.send_in_flight_ = false;
    if (res < 0) {
        conn.sending_.clear();
        conn.sending_offset_ = 0;
        conn.out_.clear();
        conn.close({}, "Write Error");
        return;
    }
    conn.sending_offset_ += static_cast<size_t>(res);
    if (conn.sending_offset_ < conn.sending_.size() || !conn.out_.empty()) mark_dirty(conn);
}

void Shard::on_timer() {
    arm_timer();
    const config::Options& options = server_.options();
    Clock::time_point now = Clock::now();
    if (js_) js_->on_tick();
    if (!accepting_ && !stopping_ && now >= accept_retry_at_) arm_accept();
    for (auto& owned : conns_) {
        if (owned == nullptr) continue;
        ClientConn& conn = *owned;
        if (conn.closing_) {
            // Closing output the peer never reads must not keep the socket open forever.
            if (conn.send_in_flight_ && now - conn.send_started_ > options.write_deadline) {
                ::shutdown(conn.fd_, SHUT_RDWR);
            }
            continue;
        }
        if (!conn.connect_received_ && server_.auth_required() &&
            now - conn.created_at_ > options.auth_timeout) {
            conn.close(proto::err::kAuthenticationTimeout, "Authentication Timeout");
            continue;
        }
        if (conn.send_in_flight_ && now - conn.send_started_ > options.write_deadline) {
            conn.out_.clear();
            ::shutdown(conn.fd_, SHUT_RDWR);
            conn.close({}, "Slow Consumer (Write Deadline)");
            continue;
        }
        if (now < conn.next_ping_check_) continue;
        conn.next_ping_check_ = now + options.ping_interval;
        if (now - conn.last_activity_ < options.ping_interval ||
            now - conn.last_ping_received_ < options.ping_interval) {
            continue;
        }
        if (conn.pings_out_ + 1 > options.ping_max) {
            conn.close(proto::err::kStaleConnection, "Stale Connection");
            continue;
        }
        ++conn.pings_out_;
        conn.out_.append(proto::kPing);
        conn.queued_output();
    }
}

// ---------------------------------------------------------------------------------------------
// Routing

// A queue member can take a message unless its connection is closing, or it is the
// publisher itself with echo off (nats-server then tries another member).
static bool can_receive(const Subscription& sub, const ClientConn* origin) {
    if (sub.expired) return false;
    if (sub.internal != nullptr) return true;
    if (sub.conn->closing_) return false;
    return !(sub.conn == origin && !origin->options_.echo);
}

Subscription* Shard::pick_member(const std::vector<Subscription*>& members, const ClientConn* origin) {
    // A random start, then the first member that can take it (processMsgResults' walk).
    size_t count = members.size();
    size_t start = random_() % count;
    for (size_t i = 0; i < count; ++i) {
        Subscription* sub = members[(start + i) % count];
        if (can_receive(*sub, origin)) return sub;
    }
    return nullptr;
}

bool Shard::route_publish(ClientConn& origin, const MsgView& msg, bool& delivered) {
    return route(&origin, msg, delivered);
}

bool Shard::publish_internal(const MsgView& msg) {
    bool delivered = false;
    return route(nullptr, msg, delivered);
}

void Shard::forward_js(uint32_t target, const MsgView& msg) {
    std::string body(sizeof(MsgHead) + msg.subject.size() + msg.reply.size() + msg.headers.size() +
                         msg.payload.size(),
                     '\0');
    MsgHead head{static_cast<uint32_t>(msg.subject.size()), static_cast<uint32_t>(msg.reply.size()),
                 static_cast<uint32_t>(msg.headers.size()), static_cast<uint32_t>(msg.payload.size()),
                 0, static_cast<uint8_t>(msg.has_headers ? kMsgHeaders : 0), 0};
    RecordWriter writer({reinterpret_cast<std::byte*>(body.data()), body.size()});
    writer.put(&head, sizeof head);
    writer.put(msg.subject);
    writer.put(msg.reply);
    writer.put(msg.headers);
    writer.put(msg.payload);
    push_control(target, RecordKind::kJs, body);
}

bool Shard::route(ClientConn* origin, const MsgView& msg, bool& delivered) {
    const Sublist<Subscription>::MatchResult& local = sublist_.match(msg.subject);
    chosen_local_.clear();
    bool any_remote = false;
    if (shard_count_ > 1) {
        std::fill(target_want_.begin(), target_want_.end(), 0);
        for (auto& queues : target_queues_) queues.clear();
        const Sublist<RemoteInterest>::MatchResult& remote = interest_.match(msg.subject);
        for (const RemoteInterest* interest : remote.plain) target_want_[interest->shard] = 1;
        // Queue groups: the member is picked among every shard's members (weighted by their
        // count); a group that exists only on other shards is decided here too.
        auto choose = [&](uint64_t id, const std::vector<Subscription*>* members_local,
                          const std::vector<RemoteInterest*>* members_remote) {
            size_t local_count = 0;
            if (members_local != nullptr) {
                for (const Subscription* sub : *members_local) local_count += can_receive(*sub, origin);
            }
            int64_t total = static_cast<int64_t>(local_count);
            if (members_remote != nullptr) {
                for (const RemoteInterest* r : *members_remote) total += r->refs;
            }
            if (total <= 0) return;
            int64_t pick = static_cast<int64_t>(random_() % static_cast<uint64_t>(total));
            if (pick < static_cast<int64_t>(local_count)) {
                chosen_local_.push_back(members_local);
                return;
            }
            pick -= static_cast<int64_t>(local_count);
            for (const RemoteInterest* r : *members_remote) {
                if (pick < r->refs) {
                    target_want_[r->shard] = 1;
                    target_queues_[r->shard].push_back(id);
                    return;
                }
                pick -= r->refs;
            }
        };
        for (const auto& group : local.queues) {
            const std::vector<RemoteInterest*>* members_remote = nullptr;
            for (const auto& remote_group : remote.queues) {
                if (remote_group.name == group.name) members_remote = &remote_group.members;
            }
            choose(group.id, &group.members, members_remote);
        }
        for (const auto& remote_group : remote.queues) {
            bool seen = std::any_of(local.queues.begin(), local.queues.end(),
                                    [&](const auto& g) { return g.name == remote_group.name; });
            if (!seen) choose(remote_group.id, nullptr, &remote_group.members);
        }
        // Every target must have room for all its records before anything is delivered, so
        // a pause has no effects and the op is simply retried.
        for (uint32_t target = 0; target < shard_count_; ++target) {
            if (!target_want_[target]) continue;
            size_t total = 0;
            size_t largest = 0;
            for_each_msg_record(msg, target_queues_[target], target,
                                [&](size_t body, size_t, size_t, bool) {
                                    size_t bytes = base::SpscRing::record_bytes(body);
                                    total += bytes;
                                    largest = std::max(largest, bytes);
                                });
            auto room = [&] {
                return overflow_[target].empty() && out_[target]->can_reserve_batch(total, largest);
            };
            if (room()) continue;
            if (total + largest > out_[target]->capacity_bytes()) {
                // Hundreds of thousands of queue groups on one subject: more ids than a ring
                // holds. Refuse rather than wait forever.
                log_warn("message on " + std::string(msg.subject) + " matches too many queue groups on shard " +
                         std::to_string(target) + "; not delivered there");
                target_want_[target] = 0;
                continue;
            }
            // Announce the wait, then look again: the consumer frees space before it checks
            // the flag, so one of the two sees the other (no lost wake-up).
            server_.waiting_for_room(index_, target).store(true, std::memory_order_seq_cst);
            std::atomic_thread_fence(std::memory_order_seq_cst);
            if (room()) continue;
            if (origin != nullptr) pause_reading(*origin);
            return false;
        }
        for (uint32_t target = 0; target < shard_count_; ++target) {
            if (!target_want_[target]) continue;
            write_msg_records(msg, target);
            any_remote = true;
        }
    } else {
        for (const auto& group : local.queues) chosen_local_.push_back(&group.members);
    }

    size_t local_count = 0;
    for (Subscription* sub : local.plain) {
        if (origin != nullptr && sub->conn == origin && !origin->options_.echo) continue;
        local_count += deliver(*sub, msg);
    }
    for (const std::vector<Subscription*>* members : chosen_local_) {
        if (Subscription* sub = pick_member(*members, origin)) local_count += deliver(*sub, msg);
    }
    expire_subscriptions();
    delivered = local_count > 0 || any_remote;
    return true;
}

template <class OnRecord>
void Shard::for_each_msg_record(const MsgView& msg, const std::vector<uint64_t>& queues,
                                uint32_t target, OnRecord on_record) {
    // Queue ids ride with the message, at most kQueueIdsPerRecord per record; further records
    // repeat the message with the next ids (and without plain delivery).
    constexpr size_t kQueueIdsPerRecord = 8192;
    size_t base = msg_record_base_bytes(msg);
    RT_ASSERT(base + 8 * kQueueIdsPerRecord <= out_[target]->max_body_bytes());
    size_t first = 0;
    bool plain = true;
    do {
        size_t count = std::min(queues.size() - first, kQueueIdsPerRecord);
        on_record(base + 8 * count, first, count, plain);
        first += count;
        plain = false;
    } while (first < queues.size());
}

void Shard::write_msg_records(const MsgView& msg, uint32_t target) {
    const auto& queues = target_queues_[target];
    for_each_msg_record(msg, queues, target, [&](size_t body_bytes, size_t first, size_t count, bool plain) {
        std::span<std::byte> body =
            out_[target]->try_reserve(static_cast<uint32_t>(RecordKind::kMsg), body_bytes);
        RT_ASSERT(!body.empty());
        RecordWriter writer(body);
        uint8_t flags = static_cast<uint8_t>((msg.has_headers ? kMsgHeaders : 0) | (plain ? kMsgPlain : 0));
        MsgHead head{static_cast<uint32_t>(msg.subject.size()),
                     static_cast<uint32_t>(msg.reply.size()),
                     static_cast<uint32_t>(msg.headers.size()),
                     static_cast<uint32_t>(msg.payload.size()),
                     static_cast<uint16_t>(count),
                     flags,
                     static_cast<uint8_t>(msg.total_size_text.size() | (msg.header_size_text.size() << 4))};
        writer.put(&head, sizeof head);
        writer.put(msg.subject);
        writer.put(msg.reply);
        writer.put(msg.headers);
        writer.put(msg.payload);
        writer.put(queues.data() + first, 8 * count);
        writer.put(msg.total_size_text);
        writer.put(msg.header_size_text);
        RT_ASSERT(writer.used() == body.size());
    });
}

void Shard::pause_reading(ClientConn& conn) {
    if (std::find(paused_.begin(), paused_.end(), &conn) == paused_.end()) paused_.push_back(&conn);
    stop_reading(conn);
}

void Shard::stop_reading(ClientConn& conn) {
    if (!conn.recv_armed_) return;
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_cancel64(sqe, user_data(Op::kRecv, conn.slot_, conn.generation_), 0);
    io_uring_sqe_set_data64(sqe, user_data(Op::kCancel, 0, 0));
}

bool Shard::deliver(Subscription& sub, const MsgView& msg) {
    if (sub.internal != nullptr) {
        sub.internal->on_msg(msg);
        return true;
    }
    ClientConn& conn = *sub.conn;
    if (sub.expired || conn.closing_) return false;
    if (!msg.has_headers) {
        proto::append_msg(conn.out_, msg.subject, sub.sid, msg.reply, msg.payload,
                          msg.total_size_text);
    } else if (conn.options_.headers) {
        proto::append_hmsg(conn.out_, msg.subject, sub.sid, msg.reply, msg.headers, msg.payload,
                           msg.header_size_text, msg.total_size_text);
    } else {
        // A subscriber without header support gets the payload alone.
        proto::append_msg(conn.out_, msg.subject, sub.sid, msg.reply, msg.payload);
    }
    if (conn.tracing()) {
        conn.trace("->>", "MSG", std::string(msg.subject) + " " + sub.sid + " " +
                                     std::to_string(msg.headers.size() + msg.payload.size()));
    }
    ++sub.delivered;
    if (sub.max_msgs > 0 && sub.delivered >= sub.max_msgs) {
        sub.expired = true;
        expired_.push_back(&sub);
    }
    conn.queued_output();
    return true;
}

void Shard::expire_subscriptions() {
    for (Subscription* sub : expired_) {
        ClientConn& conn = *sub->conn;
        remove_subscription(sub);
        conn.subs_.erase(sub->sid);  // destroys *sub
    }
    expired_.clear();
}

void Shard::add_subscription(Subscription* sub) {
    sublist_.insert(sub->subject, sub->queue, sub);
    change_interest(sub->subject, sub->queue, +1);
}

void Shard::remove_subscription(Subscription* sub) {
    if (sublist_.remove(sub->subject, sub->queue, sub)) change_interest(sub->subject, sub->queue, -1);
}

std::string_view Shard::reply_sid(ClientConn& conn, std::string_view subject) {
    for (Subscription* sub : sublist_.match(subject).plain) {
        if (sub->conn == &conn) return sub->sid;
    }
    return {};
}

void Shard::change_interest(std::string_view subject, std::string_view queue, int32_t delta) {
    if (shard_count_ == 1) return;
    std::string key = interest_key(subject, queue);
    int64_t& refs = local_refs_[key];
    refs += delta;
    RT_ASSERT(refs >= 0);
    bool first = delta > 0 && refs == 1;
    bool last = refs == 0;
    if (last) local_refs_.erase(key);
    // Plain interest travels on its first and last reference only; queue interest on every
    // member, because other shards weigh their choice of shard by member count.
    if (queue.empty() && !first && !last) return;
    ++interest_seq_sent_;
    std::string body(sizeof(InterestHead) + subject.size() + queue.size(), '\0');
    InterestHead head{interest_seq_sent_, delta, static_cast<uint16_t>(subject.size()),
                      static_cast<uint16_t>(queue.size())};
    std::memcpy(body.data(), &head, sizeof head);
    std::memcpy(body.data() + sizeof head, subject.data(), subject.size());
    std::memcpy(body.data() + sizeof head + subject.size(), queue.data(), queue.size());
    for (uint32_t target = 0; target < shard_count_; ++target) {
        if (target != index_) push_control(target, RecordKind::kInterest, body);
    }
}

bool Shard::interest_backlog_full() const {
    return std::any_of(overflow_.begin(), overflow_.end(),
                       [](const auto& queue) { return queue.size() > kInterestBacklogRecordsMax; });
}

void Shard::push_control(uint32_t target, RecordKind kind, std::string_view body) {
    if (overflow_[target].empty()) {
        std::span<std::byte> out = out_[target]->try_reserve(static_cast<uint32_t>(kind), body.size());
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
    server_.waiting_for_room(index_, target).store(true, std::memory_order_release);
}

// ---------------------------------------------------------------------------------------------
// Inbound rings

void Shard::drain_inbound() {
    for (uint32_t from = 0; from < shard_count_; ++from) {
        if (from == index_) continue;
        base::SpscRing& ring = *in_[from];
        ring.begin_read();
        base::SpscRing::Record record;
        bool any = false;
        while (ring.next(record)) {
            any = true;
            RecordReader reader(record.body);
            switch (static_cast<RecordKind>(record.kind)) {
                case RecordKind::kMsg:
                    apply_msg(reader);
                    break;
                case RecordKind::kInterest:
                    apply_interest(from, reader);
                    break;
                case RecordKind::kInterestAck:
                    interest_seq_acked_[from] =
                        std::max(interest_seq_acked_[from], reader.get<uint64_t>());
                    break;
                case RecordKind::kJs:
                    apply_js(reader);
                    break;
            }
        }
        if (!any) continue;
        ring.end_read();
        std::atomic_thread_fence(std::memory_order_seq_cst);
        process_closes();
        // The producer paused a connection on this ring: tell it there is room now.
        if (server_.waiting_for_room(from, index_).exchange(false, std::memory_order_acq_rel)) {
            ring_doorbell(from);
        }
    }
}

void Shard::apply_msg(RecordReader& reader) {
    MsgHead head{};
    MsgView msg = read_msg_fields(reader, head);
    queue_ids_.clear();
    for (uint16_t i = 0; i < head.queue_count; ++i) queue_ids_.push_back(reader.get<uint64_t>());
    msg.total_size_text = reader.text(head.size_text_bytes & 0xf);
    msg.header_size_text = reader.text(head.size_text_bytes >> 4);
    RT_ASSERT(reader.done());
    const Sublist<Subscription>::MatchResult& local = sublist_.match(msg.subject);
    if (head.flags & kMsgPlain) {
        for (Subscription* sub : local.plain) deliver(*sub, msg);
    }
    for (uint64_t id : queue_ids_) {
        for (const auto& group : local.queues) {
            if (group.id != id) continue;
            // The sender chose this shard for the group; the member is chosen here, among
            // those that can take it now.
            if (Subscription* sub = pick_member(group.members, nullptr)) deliver(*sub, msg);
            break;
        }
    }
    expire_subscriptions();
}

void Shard::apply_js(RecordReader& reader) {
    MsgHead head{};
    MsgView msg = read_msg_fields(reader, head);
    RT_ASSERT(reader.done());
    if (js_) js_->on_forward(msg);
}

void Shard::apply_interest(uint32_t from, RecordReader& reader) {
    auto head = reader.get<InterestHead>();
    std::string_view subject = reader.text(head.subject_bytes);
    std::string_view queue = reader.text(head.queue_bytes);
    RT_ASSERT(reader.done());
    interest_seq_applied_[from] = head.seq;
    std::string key = std::to_string(from) + "/" + interest_key(subject, queue);
    auto it = remote_.find(key);
    if (it == remote_.end()) {
        if (head.delta < 0) return;
        auto interest = std::make_unique<RemoteInterest>();
        interest->shard = from;
        interest->subject = subject;
        interest->queue = queue;
        it = remote_.emplace(key, std::move(interest)).first;
        interest_.insert(it->second->subject, it->second->queue, it->second.get());
    }
    RemoteInterest& interest = *it->second;
    interest.refs += head.delta;
    if (interest.refs <= 0) {
        interest_.remove(interest.subject, interest.queue, &interest);
        remote_.erase(it);
    }
}

void Shard::ring_doorbell(uint32_t target) {
    io_uring_sqe* sqe = uring_.sqe();
    io_uring_prep_msg_ring(sqe, server_.ring_fd(target), 0, user_data(Op::kDoorbell, 0, 0), 0);
    io_uring_sqe_set_data64(sqe, user_data(Op::kCancel, 0, 0));
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

bool Shard::interest_applied(uint64_t seq) const {
    for (uint32_t peer = 0; peer < shard_count_; ++peer) {
        if (peer != index_ && interest_seq_acked_[peer] < seq) return false;
    }
    return true;
}

void Shard::wait_for_interest(ClientConn& conn) {
    if (std::find(pong_waiters_.begin(), pong_waiters_.end(), &conn) == pong_waiters_.end()) {
        pong_waiters_.push_back(&conn);
    }
}

void Shard::release_pongs() {
    if (pong_waiters_.empty()) return;
    std::vector<ClientConn*> ready;
    std::erase_if(pong_waiters_, [&](ClientConn* conn) {
        if (conn->closing_) return true;
        if (!interest_applied(conn->interest_seq_needed_)) return false;
        ready.push_back(conn);
        return true;
    });
    for (ClientConn* conn : ready) {
        conn->waiting_for_interest_ = false;
        conn->resume();
        if (!conn->recv_armed_ && conn->reading_allowed()) request_rearm(*conn);
    }
}

void Shard::resume_paused() {
    if (paused_.empty()) return;
    std::vector<ClientConn*> retry;
    retry.swap(paused_);
    for (ClientConn* conn : retry) {
        if (conn->closing_) continue;
        conn->resume();
        if (!conn->recv_armed_ && conn->reading_allowed()) request_rearm(*conn);
    }
}

// ---------------------------------------------------------------------------------------------
// End of turn

void Shard::request_rearm(ClientConn& conn) {
    if (conn.recv_needs_rearm_) return;
    conn.recv_needs_rearm_ = true;
    rearm_.push_back(&conn);
}

void Shard::mark_dirty(ClientConn& conn) {
    if (conn.dirty_) return;
    conn.dirty_ = true;
    dirty_.push_back(&conn);
}

void Shard::flush() {
    flush_outbound_rings();
    for (ClientConn* conn : dirty_) {
        conn->dirty_ = false;
        submit_send(*conn);
        maybe_free(*conn);
    }
    dirty_.clear();
}

void Shard::flush_outbound_rings() {
    if (shard_count_ == 1) return;
    for (uint32_t peer = 0; peer < shard_count_; ++peer) {
        if (peer == index_) continue;
        if (interest_seq_applied_[peer] > interest_ack_sent_[peer]) {
            interest_ack_sent_[peer] = interest_seq_applied_[peer];
            uint64_t seq = interest_seq_applied_[peer];
            push_control(peer, RecordKind::kInterestAck,
                         {reinterpret_cast<const char*>(&seq), sizeof seq});
        }
        auto& overflow = overflow_[peer];
        while (!overflow.empty()) {
            const std::string& record = overflow.front();
            uint32_t kind;
            std::memcpy(&kind, record.data(), sizeof kind);
            std::span<std::byte> out = out_[peer]->try_reserve(kind, record.size() - sizeof kind);
            if (out.empty()) break;
            std::memcpy(out.data(), record.data() + sizeof kind, out.size());
            overflow.pop_front();
        }
        if (out_[peer]->publish()) ring_doorbell(peer);
    }
}

void Shard::schedule_close(ClientConn& conn) { closing_.push_back(&conn); }

void Shard::process_closes() {
    if (closing_.empty()) return;
    std::vector<ClientConn*> closing;
    closing.swap(closing_);
    for (ClientConn* conn : closing) {
        for (auto& [sid, sub] : conn->subs_) remove_subscription(sub.get());
        conn->subs_.clear();
        if (conn->counted_) {
            server_.connections.fetch_sub(1, std::memory_order_relaxed);
            conn->counted_ = false;
        }
        stop_reading(*conn);
        std::erase(paused_, conn);
        mark_dirty(*conn);  // flush() sends what is queued, then maybe_free() closes
    }
}

void Shard::maybe_free(ClientConn& conn) {
    if (!conn.closing_) return;
    bool output_done = conn.out_.empty() && conn.sending_offset_ >= conn.sending_.size();
    if (!conn.fd_closed_ && !conn.send_in_flight_ && output_done) {
        ::close(conn.fd_);
        conn.fd_closed_ = true;
    }
    if (!conn.fd_closed_ || conn.recv_armed_ || conn.send_in_flight_ || conn.dirty_) return;
    if (std::find(closing_.begin(), closing_.end(), &conn) != closing_.end()) return;
    std::erase(paused_, &conn);
    std::erase(pong_waiters_, &conn);
    std::erase(rearm_, &conn);
    uint32_t slot = conn.slot_;
    conns_[slot].reset();
    free_slots_.push_back(slot);
}

void Shard::log_conn(ClientConn& conn, std::string_view what, bool debug_only) {
    if (debug_only && !logger().debug_enabled()) return;
    std::string line = conn.log_prefix_;
    line.append(what);
    if (debug_only) {
        log_debug(line);
    } else {
        log_info(line);
    }
}

}  // namespace ringtail::core
