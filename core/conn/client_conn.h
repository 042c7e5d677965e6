#pragma once

#include "base/string_map.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "proto/info_connect.h"
#include "proto/parser.h"

namespace ringtail::core {

class Shard;
class ClientConn;
struct MsgView;

// Takes the messages of a subscription the server holds itself (a JetStream stream's subjects,
// the JetStream API). Runs on the subscription's shard, inside delivery: it must not publish
// from there, only queue work for the end of the turn.
class InternalHandler {
public:
    virtual void on_msg(const MsgView& msg) = 0;

protected:
    ~InternalHandler() = default;
};

// One SUB of one connection, or an internal subscription (conn null, internal set).
struct Subscription {
    ClientConn* conn = nullptr;
    InternalHandler* internal = nullptr;
    std::string subject;
    std::string queue;
    std::string sid;
    int64_t max_msgs = 0;  // 0: no auto-unsubscribe
    int64_t delivered = 0;
    bool expired = false;  // reached max_msgs; removed at the end of the current delivery
};

using Clock = std::chrono::steady_clock;

// A client connection: drives the parser and applies each op.
// Owner: the shard that accepted it; it never leaves that shard.
// Lifecycle: created on accept; close() stops reading and removes its subscriptions at once,
// the socket is closed once queued output has been sent, and the shard frees the object when
// no io_uring operation refers to it any more.
class ClientConn final : public proto::ParserHandler {
public:
    ClientConn(Shard& shard, uint32_t slot, uint32_t generation, int fd, uint64_t client_id,
               std::string client_ip, int client_port);

    // Bytes received from the socket.
    void on_data(std::string_view data);
    // Back-pressure ended: parse what was held back.
    void resume();

    // Starts closing. `error` (may be empty) is sent as -ERR first; `reason` is logged.
    void close(std::string_view error, std::string_view reason);

    // proto::ParserHandler
    proto::Flow on_connect(std::string_view json) override;
    proto::Flow on_pub(const proto::PubOp& op) override;
    proto::Flow on_sub(const proto::SubOp& op) override;
    proto::Flow on_unsub(const proto::UnsubOp& op) override;
    proto::Flow on_ping() override;
    proto::Flow on_pong() override;
    proto::Flow on_client_error(std::string_view text) override;

    // Reading stops while paused (a ring is full) or held at a PING (interest not yet applied
    // everywhere), and for good when closing.
    bool reading_allowed() const { return !closing_ && !paused_ && !waiting_for_interest_; }

    // -V: nats-server's protocol trace lines, "<<- [OP args]" in and "->> [OP args]" out.
    void trace(std::string_view direction, std::string_view op, std::string_view arg);
    bool tracing() const { return tracing_; }

    // Output. Everything a connection sends goes through out_; the shard sends it once per turn.
    std::string& out() { return out_; }
    // Called after appending to out(): marks the connection dirty and enforces max_pending.
    // Returns false if the connection was closed as a slow consumer.
    bool queued_output();

    Shard& shard_;
    const uint32_t slot_;
    const uint32_t generation_;
    const int fd_;
    const uint64_t client_id_;
    const std::string client_ip_;
    const std::string log_prefix_;  // "ip:port - cid:N - ", as nats-server's log lines

    const bool tracing_;
    proto::Parser parser_;
    proto::ConnectOptions options_;
    bool connect_received_ = false;
    bool auth_ok_ = false;

    base::StringMap<std::unique_ptr<Subscription>> subs_;

    // Output: out_ collects this turn's frames; sending_ is the buffer a send is working on.
    std::string out_;
    std::string sending_;
    size_t sending_offset_ = 0;
    bool send_in_flight_ = false;
    Clock::time_point send_started_{};
    bool dirty_ = false;

    // Reading.
    bool recv_armed_ = false;
    bool recv_needs_rearm_ = false;
    bool paused_ = false;  // a ring was full; parsing stopped until it drains

    // Liveness.
    Clock::time_point created_at_;
    Clock::time_point last_activity_;
    Clock::time_point last_ping_received_{};
    Clock::time_point next_ping_check_;
    int32_t pings_out_ = 0;

    // A PING is answered only once every shard has applied this connection's interest changes
    // up to interest_seq_needed_; until then parsing stops at the PING, so nothing the client
    // sent after it is answered before the PONG.
    uint64_t interest_seq_needed_ = 0;
    bool waiting_for_interest_ = false;

    // Closing.
    bool closing_ = false;
    bool fd_closed_ = false;
    bool counted_ = false;  // included in Server::connections
};

}  // namespace ringtail::core
