#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/string_map.h"
#include "core/auth/permissions.h"
#include "core/conn/out_queue.h"
#include "core/monitor/figures.h"
#include "core/route/subject_map.h"
#include "core/route/subscription.h"
#include "io/socket.h"
#include "proto/config/options.h"
#include "proto/info_connect.h"
#include "proto/parser.h"

namespace ringtail::core {

class ClientConn;
using io::Clock;

// What a connection needs from the shard that runs it: routing, and the loop's end-of-turn
// work. The shard implements it; a connection never reaches the shard otherwise.
class ConnHost {
public:
    virtual const config::Options& options() const = 0;
    // The shard's blocks for its connections' output.
    virtual OutBlocks& out_blocks() = 0;
    virtual bool auth_required() const = 0;

    // Routing.
    virtual Routed publish(const MsgView& msg, const ClientConn& origin) = 0;
    // Whether `origin`'s next publish must wait: it fed a subscriber that is backed up
    // (Subscriber::backed_up_for()) and has not caught up yet.
    virtual bool publish_held(const ClientConn& origin) = 0;
    virtual void subscribe(Subscription& sub) = 0;
    virtual void unsubscribe(Subscription& sub) = 0;
    // True while interest changes wait for ring room in large numbers: SUB and UNSUB pause.
    virtual bool interest_backlog_full() const = 0;
    virtual uint64_t interest_seq_sent() const = 0;
    virtual bool interest_applied(uint64_t seq) const = 0;
    virtual const Subscription* find_plain(std::string_view subject, const ClientConn& owner) = 0;
    // The stream imports of `account` (fixed for the process's life).
    virtual const std::vector<ImportedStream>& stream_imports(uint32_t account) const = 0;
    // Whether `account` has subject mappings; if so, map_subject() gives the subject a message
    // published on `subject` is routed on (in `storage` when mapped; empty: dropped).
    virtual bool has_mappings(uint32_t account) const = 0;
    virtual std::string_view map_subject(uint32_t account, std::string_view subject, std::string& storage) = 0;

    // Checks `password` against the bcrypt `hash` off the loop; the verdict comes back with
    // ClientConn::on_password_verified().
    virtual void verify_password(ClientConn& conn, std::string hash, std::string password) = 0;

    // The loop's work for this connection, done at the end of the turn or later.
    virtual void want_send(ClientConn& conn) = 0;          // send what is queued
    virtual void want_recv(ClientConn& conn) = 0;          // re-arm the recv
    virtual void retry_each_turn(ClientConn& conn) = 0;    // paused: a ring was full
    virtual void wait_for_interest(ClientConn& conn) = 0;  // held at a PING
    virtual void closing(ClientConn& conn) = 0;            // close() was called
    // The connection was accepted into its account: the system account's events (see
    // Shard::client_event).
    virtual void connected(const ClientConn& conn) = 0;
    // Counts a connection into its account when the account limits its connections: false
    // when it is full. A counted connection is let go by the shard when it closes.
    virtual bool enter_account(uint32_t account) = 0;
    // The INFO line for this connection, with `max_payload` (its account's may be lower).
    virtual std::string info_line(const ClientConn& conn, int64_t max_payload) = 0;

    // Moving between shards (see ClientConn: "Moving"). The shard the message just published
    // went to, when it went to exactly one other shard and to no subscriber on this one.
    virtual std::optional<uint32_t> sole_target() const = 0;
    // `conn` has stopped reading to move to `shard`: the host hands it over once nothing of
    // it is in flight (ClientConn::ready_to_move()), or gives it back (ClientConn::stay()).
    virtual void move(ClientConn& conn, uint32_t shard) = 0;

protected:
    ~ConnHost() = default;
};

// A client connection: its socket, the parser, its subscriptions and its output.
// Owner: one shard at a time: the one that accepted it, or the one it moved to.
// Lifecycle: start() sends INFO and starts reading. close() stops reading; the shard then
// calls release_subscriptions() once, sends what is queued (flush_output()), and frees the
// object once can_free() says nothing refers to it any more.
//
// Output is collected in one buffer per turn and sent once per turn by the shard
// (flush_output()). Past half of options().max_pending_bytes the connection is backed up and
// publishers feeding it hold back (Subscriber::backed_up_for()); past all of it, it is closed as
// a slow consumer, as nats-server does, without -ERR.
//
// Moving: a connection whose last kFollowAfter messages all went to the subscribers of one
// other shard and none of this one's moves to that shard, so each message is delivered where
// it is read instead of crossing the mesh: one that only publishes, or one whose
// subscriptions are all plain, without a max and not imported, and whose messages were all
// requests (with a reply subject: a requester, or a JetStream publisher, whose answers then
// come from that shard too; a responder, whose messages are replies, stays) and that got at
// most two messages for each it sent meanwhile (its answers; what else it gets would cross
// the mesh from then on). Its
// subscriptions go with it (Switch, "Moving a connection with subscriptions"); it moves with
// them once only. At
// its next PUB it stops parsing (the PUB waits in the parser) and reading; once no send or
// recv is in flight and no output waits (a subscriber whose output does not run dry within
// Shard::kMoveWaitMax stays), the shard hands it over on the mesh ring to the
// target, behind the messages it published before, so they are delivered first. The target
// takes it into a slot of its own (arrive()) and parsing goes on from that PUB.
class ClientConn final : public proto::ParserHandler, public Subscriber {
public:
    struct Identity {
        uint64_t client_id = 0;
        std::string ip;
        int port = 0;
        std::string nonce;  // sent in INFO for nkey users to sign; empty when none is configured
    };
    // `slot` is the shard's handle for it; the user_data values tag its socket's completions.
    ClientConn(ConnHost& host, uint32_t slot, io::Loop& loop, int fd, uint16_t buffer_group,
               uint64_t recv_user_data, uint64_t send_user_data, Identity identity);

    // ---- driven by the shard ----
    // Queues `info_line` (the INFO frame) and starts reading; with `refuse` (the server is at
    // max_connections) closes with nats-server's error instead.
    void start(const std::string& info_line, bool refuse);
    // A recv completion: `data` is what arrived (empty for an error or end of stream).
    void on_recv(int32_t result, uint32_t flags, std::string_view data);
    // Reading stops while paused (a ring is full), held at a PING (interest not yet applied
    // everywhere) or after a JetStream request (its answer not yet here), at a CONNECT (its
    // password being checked), and for good when closing.
    bool reading_allowed() const {
        return !closing_ && !paused_ && !waiting_for_interest_ && !moving_ && auth_ != Auth::kVerifying;
    }
    void on_sent(int32_t result);
    // End of turn, after want_send(): sends what is queued unless a send is in flight.
    void flush_output();
    // End of turn, after want_recv(): re-arms reading if it ended and is allowed.
    void rearm_recv();
    // A full ring drained (paused) or this connection's interest is applied everywhere (held
    // at a PING): parse what was held back. Returns false while it still has to wait.
    bool resume();
    // Liveness, every tick: authentication timeout, write deadline, pings and stale
    // connections, a stuck send of a closing connection.
    void on_tick(Clock::time_point now);
    // The verdict of verify_password(): CONNECT is taken up again.
    void on_password_verified(bool ok);
    // ---- moving to another shard (see "Moving" above) ----
    // Nothing in flight, nothing to send: the shard may hand it over.
    bool ready_to_move() const {
        return moving_ && !socket_.recv_armed() && !socket_.send_in_flight() && out_.empty() && !send_requested_ &&
               !rearm_requested_;
    }
    // On the shard it leaves, just before the handover: output blocks go back to that shard,
    // which has applied `reloads` reloads to it (see reloads_seen()).
    void leave(uint64_t reloads) {
        out_.clear();
        reloads_seen_ = reloads;
    }
    // How many reloads the shard it left had applied: the shard it moved to applies any it
    // has had since (the connection was on its way during those).
    uint64_t reloads_seen() const { return reloads_seen_; }
    // On the shard it moved to: takes `slot` there and goes on with the waiting PUB once the
    // host resumes it (ConnHost::retry_each_turn).
    void arrive(ConnHost& host, uint32_t slot, io::Loop& loop, uint16_t buffer_group, uint64_t recv_user_data,
                uint64_t send_user_data);
    // The move is off (the shard is stopping, or its output did not run dry in time): parsing
    // and reading go on here, and it tries again no sooner than `retry_after`.
    void stay(Clock::duration retry_after = {});
    // After close(): removes every subscription, once.
    void release_subscriptions();
    // True once nothing refers to the connection: its socket is closed and no operation is
    // in flight. Closes the socket as soon as the output is sent.
    bool can_free();

    // Starts closing: `error` (when not empty) is sent as -ERR first; `reason` is what /connz
    // shows and a debug line logs; `log_text` (when given) is logged as a notice too.
    void close(std::string_view error, std::string_view reason, std::string_view log_text = {});
    // An error line about this client, prefixed as nats-server's client lines are.
    void error_line(std::string_view text) const;
    void auth_violation();
    // The server stops without waiting any longer: both directions of the socket shut down.
    void abort() { socket_.shutdown(); }
    // An INFO the server sends on its own (lame duck mode): only to a client that has sent
    // CONNECT with protocol 1, as nats-server does.
    void send_async_info(const std::string& info_line);
    // The configuration was reloaded: limits and trace level apply from now on; with
    // `auth_changed`, the client's credentials are checked again and a client no longer
    // allowed is closed with -ERR 'Authorization Violation', as nats-server does.
    void options_reloaded(bool auth_changed);
    // The account's stream imports changed (a reload): every subscription's stand-ins are
    // made again from the shard's new table.
    void refresh_shadows();
    const std::string& client_ip() const { return identity_.ip; }
    uint32_t slot() const { return slot_; }
    static constexpr uint32_t kFollowAfter = 1024;
    static constexpr Clock::duration kMovesApart = std::chrono::seconds(1);
    static constexpr Clock::duration kMoveRetryAfter = std::chrono::seconds(10);  // after a move that did not happen
    // ---- figures (monitoring) ----
    const monitor::Traffic& traffic() const { return traffic_; }
    size_t subscription_count() const { return subs_.size(); }
    // Its subscriptions (not their stand-ins in other accounts).
    std::vector<Subscription*> subscription_list() const;
    uint64_t client_id() const { return identity_.client_id; }
    uint32_t account() const { return account_; }  // see config::account_id()
    // Its connect was announced (ConnHost::connected): its close is announced too.
    bool announced() const { return announced_; }
    // The account it was counted into (ConnHost::enter_account), if any.
    std::optional<uint32_t> counted_in() const { return counted_in_; }
    bool closing() const { return closing_; }
    const std::string& close_reason() const { return close_reason_; }
    // Copies what /connz shows; `wall_now_ns` is the wall clock at `now`.
    void figures(monitor::ConnFigures& out, bool with_subs, Clock::time_point now, int64_t wall_now_ns) const;
    void subscription_figures(std::vector<monitor::SubFigures>& out) const;
    void log_line(std::string_view what, bool debug_only) const;

    // ---- Subscriber ----
    Delivery deliver(Subscription& sub, const MsgView& msg) override;
    bool accepts(const Subscription& sub, const Subscriber* origin) const override;
    void expired(Subscription& sub) override;
    std::chrono::steady_clock::duration backed_up_for() const override;
    bool takes_after_leaving() const override { return true; }

    // ---- proto::ParserHandler ----
    proto::Flow on_connect(std::string_view json) override;
    proto::Flow on_pub(const proto::PubOp& op) override;
    proto::Flow on_sub(const proto::SubOp& op) override;
    proto::Flow on_unsub(const proto::UnsubOp& op) override;
    proto::Flow on_ping() override;
    proto::Flow on_pong() override;
    proto::Flow on_client_error(std::string_view text) override;
    bool on_op_before_connect() override;

private:
    void on_data(std::string_view data);
    // Called after appending to out_: asks for a send and enforces max_pending.
    // Returns false if the connection was closed as a slow consumer.
    bool queued_output();
    void request_send();
    void request_rearm();
    size_t pending_output_bytes() const { return out_.size(); }
    proto::Flow pause();
    // -V: nats-server's protocol trace lines, "<<- [OP args]" in and "->> [OP args]" out.
    void trace_payload(std::string_view headers, std::string_view payload) const;
    void trace(std::string_view direction, std::string_view op, std::string_view arg) const;
    // Authentication as nats-server does it: the user and a plain password or token compared
    // in constant time; a bcrypt one checked off the loop (kVerifying until the verdict).
    enum class Auth : uint8_t { kUnchecked, kVerifying, kPassed, kFailed };
    Auth check_auth();
    // With authorization { users }: the user named in CONNECT (or no_auth_user for a client
    // that sent no credentials), its password, and its permissions once it passes.
    Auth check_user(const config::Options& server);
    // Takes on `user`'s account and permissions; kFailed if a reload moved a connection that
    // has subscriptions to another account.
    Auth grant(const config::User& user);
    // Subscribes the stand-ins `parent` needs in the accounts its account imports streams
    // from (and, for chained imports, theirs).
    void add_shadows(Subscription& parent);
    // Unsubscribes `sid` and its stand-ins.
    void remove_subscription(const std::string& sid);
    // After a reload gave the user new permissions: nats-server's processSubsOnConfigReload
    // removes each subscription they no longer allow, with an -ERR and a log line.
    void drop_disallowed_subscriptions();
    // -ERR and an ERR log line as nats-server's pubPermissionViolation / subPermissionViolation.
    void permission_violation(std::string_view error, std::string_view log);
    // Who the client is in those lines: Nkey "U...", User "name" or User "N/A".
    std::string auth_user() const;

    ConnHost* host_;
    uint32_t slot_;
    io::Socket socket_;
    const Identity identity_;
    // "ip:port - cid:N - ", and after CONNECT the client's names, as nats-server's log lines.
    std::string log_prefix_;
    bool tracing_;
    proto::Parser parser_;
    int64_t max_pending_;  // the server's max_pending, as of the last reload
    proto::ConnectOptions options_;
    bool connect_received_ = false;
    bool announced_ = false;
    std::optional<uint32_t> counted_in_;
    // The server's max_subscriptions and max_payload, or the account's where lower (-1: no
    // limit on subscriptions).
    int64_t max_subscriptions_ = -1;
    int64_t max_payload_ = 0;
    bool first_pong_sent_ = false;
    // Applies the server's and the account's limits on subscriptions and payload.
    void apply_limits();
    Auth auth_ = Auth::kUnchecked;
    bool rechecking_ = false;  // a reload asked for the credentials to be checked again
    bool named_user_ = false;  // logged in as a users entry (by its name, nkey or no_auth_user)
    // The user's permissions (null: everything allowed); those of a user whose bcrypt password
    // is being checked wait in granting_ for the verdict.
    std::unique_ptr<auth::ConnPermissions> permissions_;
    std::optional<config::User> granting_;
    uint32_t account_ = kGlobalAccount;  // the subject space it publishes and subscribes in
    bool mapped_ = false;                // its account has subject mappings

    base::StringMap<std::unique_ptr<Subscription>> subs_;
    // By sid: the stand-ins the account's stream imports need for that subscription.
    base::StringMap<std::vector<std::unique_ptr<Subscription>>> shadows_;

    // Output, appended in place and sent from there (see OutQueue).
    OutQueue out_;
    size_t dropped_at_close_ = 0;  // output dropped at the close, never sent (/connz pending_bytes)
    bool max_subs_logged_ = false;
    // Room asked for beyond a frame's variable parts (its verb, sizes, spaces and CRLFs).
    static constexpr size_t kFrameSlack = 64;
    std::string& out(size_t bytes) { return out_.tail(bytes); }

    bool paused_ = false;  // a ring was full; parsing stopped until it drains
    // Once reads that came during a pause piled up (a multishot recv filled buffer after
    // buffer before the pause's cancel took effect), reads come one at a time for a while, so
    // that what waits in the parser at the next pause is one read, not the shard's whole
    // buffer ring.
    static constexpr size_t kHeldBytesMax = 256 * 1024;
    static constexpr Clock::duration kSingleReadsFor = std::chrono::seconds(1);
    Clock::time_point single_reads_until_{};
    // Already asked of the shard for this turn (each is asked once per turn).
    bool send_requested_ = false;
    bool rearm_requested_ = false;

    monitor::Traffic traffic_;
    std::string close_reason_;

    // Liveness.
    Clock::time_point created_at_;
    // nats-server's c.last: the CONNECT, then each read that brought a message or a SUB, and
    // each flush that sent messages.
    Clock::time_point last_activity_;
    uint64_t out_msgs_at_flush_ = 0;  // traffic_.out_msgs at the last flush_output()
    Clock::time_point last_read_;
    bool active_read_ = false;  // this read brought a message or a SUB
    Clock::time_point last_ping_received_{};
    Clock::time_point next_ping_check_;
    int32_t pings_out_ = 0;
    Clock::time_point ping_sent_at_{};  // the server's last PING, for the round trip time
    Clock::time_point rtt_started_{};   // the last PING that measured the round trip time
    Clock::duration rtt_{};

    // A PING is answered only once every shard has applied this connection's interest changes
    // up to interest_seq_needed_; until then parsing stops at the PING, so nothing the client
    // sent after it is answered before the PONG.
    uint64_t interest_seq_needed_ = 0;
    bool waiting_for_interest_ = false;  // held at a PING, or after a JetStream request (below)
    // nats-server carries out a JetStream request that creates, changes or removes a stream or
    // consumer before it reads on, so what the client sends next (a publish to the new stream,
    // a pull from the new consumer) finds it done. Here another shard carries it out: parsing
    // stops after the request until its answer is delivered to this connection (the owner
    // answers once every shard knows the new subscriptions), or for kJetStreamWait at most
    // (the answer may go to another connection).
    static bool changes_jetstream(std::string_view subject);
    static constexpr Clock::duration kJetStreamWait = std::chrono::seconds(1);
    std::string awaited_reply_;
    Clock::time_point awaited_until_{};

    // Moving (see above): the shard its messages have gone to alone, how many in a row, and
    // whether the next PUB starts the move.
    bool may_move() const;
    uint32_t follow_target_ = 0;
    uint32_t follow_count_ = 0;
    bool follow_requests_ = true;  // every message of the streak had a reply subject
    uint64_t follow_out_msgs_ = 0;  // messages delivered to it before the streak
    bool move_wanted_ = false;
    bool moving_ = false;
    Clock::time_point next_move_at_{};  // no move before
    uint64_t reloads_seen_ = 0;

    bool closing_ = false;
};

}  // namespace ringtail::core
