#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/subject_transform.h"
#include "core/conn/client_conn.h"
#include "core/js/host.h"
#include "core/shard/mesh.h"
#include "core/shard/service_imports.h"
#include "core/shard/switch.h"
#include "io/buffer_ring.h"
#include "core/monitor/figures.h"
#include "io/direct_disk.h"
#include "io/inbox.h"
#include "io/loop.h"
#include "io/worker.h"

namespace ringtail::core {

class Server;
namespace js {
class JetStream;
struct ShardSetup;
}  // namespace js

// One event loop pinned to one core.
// Owner: its own thread, which creates the io_uring ring and is the only one to touch anything
// here; other shards reach it only through the mesh's rings and doorbells.
// Lifecycle: constructed by Server before threads start; run() returns after a stop request
// once every connection has been flushed and closed and the disk writes in flight are done.
//
// One loop turn: wait for completions or the next timer and run them (accept, recv, send,
// disk), drain what other shards sent (Switch), resume paused connections, let JetStream run
// its turn, then flush: the mesh's rings (one doorbell per peer) and one send per connection
// with output. The parts it runs each own their state: routing in Switch/Mesh, a connection's
// in ClientConn, streams in JetStream; the shard only schedules them.
class Shard final : private io::CompletionHandler,
                    private ConnHost,
                    private Doorbell,
                    private JsRecordHandler,
                    private MoveAdopter {
public:
    Shard(Server& server, uint32_t index, int listen_fd, MeshLinks& links);
    ~Shard();
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    // The thread body. Returns an error if the shard could not start or its loop failed.
    // `js_setups`: one per account with JetStream (none without -js).
    [[nodiscard]] Result<void, Error> run(std::vector<js::ShardSetup> js_setups);

    uint32_t index() const { return index_; }
    int ring_fd() const { return loop_.fd(); }

    // ---- monitoring: from any thread ----
    // Runs `job` on this shard's thread at its next turn (jobs posted before the shard
    // started, or after it stopped, never run).
    void post(io::Inbox::Job job) { inbox_.post(std::move(job)); }
    // ---- on the shard's thread (from a posted job) ----
    void figures(const monitor::Query& query, monitor::ShardFigures& out);
    // A reload: the shard's copy of the options is replaced; see ClientConn::options_reloaded.
    void apply_options(const config::Options& options, bool auth_changed);
    // Lame duck mode: no more connections; connected clients get an INFO with "ldm".
    void enter_lame_duck();
    // Closes up to `count` clients, with `error` (an -ERR text, logged as an error line for
    // each; empty: none) and `reason` (lame duck mode: none, "Server Shutdown").
    void close_clients(size_t count, std::string_view error, std::string_view reason);
    // Shard 0: publishes in the system account (an answer to a $SYS request), or in `account`
    // (an answer to its system import); when a ring is full, on a later turn.
    void publish_system(std::string subject, std::string payload, std::optional<uint32_t> account = std::nullopt);

private:
    // The shard's completion tokens: op (4 bits) | connection slot (20 bits) | generation.
    enum class Op : uint8_t { kAccept = 1, kRecv, kSend };
    static uint64_t token(Op op, uint32_t slot, uint32_t generation) {
        return (uint64_t{static_cast<uint8_t>(op)} << 52) | (uint64_t{slot} << 32) | generation;
    }
    static constexpr uint32_t kSlotsMax = 1u << 20;

    struct Slot {
        std::unique_ptr<ClientConn> conn;
        uint32_t generation = 0;
    };

    Result<void, Error> start(std::vector<js::ShardSetup>& js_setups);
    void turn();
    void begin_stop();
    void close_all_for_stop();

    // io::CompletionHandler
    void on_completion(uint64_t token, int32_t result, uint32_t flags) override;
    void on_accept(int32_t result, uint32_t flags);
    void arm_accept();
    void on_tick();

    // ConnHost
    const config::Options& options() const override;
    bool auth_required() const override { return options_.auth_required(); }
    Routed publish(const MsgView& msg, const ClientConn& origin) override { return switch_.publish(msg, &origin); }
    bool publish_held(const ClientConn& origin) override { return switch_.held(&origin); }
    void subscribe(Subscription& sub) override {
        ++sub_inserts_;
        switch_.subscribe(sub);
    }
    void unsubscribe(Subscription& sub) override {
        ++sub_removes_;
        switch_.unsubscribe(sub);
    }
    bool interest_backlog_full() const override { return mesh_.backlog_full(); }
    uint64_t interest_seq_sent() const override { return mesh_.interest_seq_sent(); }
    bool interest_applied(uint64_t seq) const override { return mesh_.interest_applied(seq); }
    const Subscription* find_plain(std::string_view subject, const ClientConn& owner) override {
        return switch_.find_plain(owner.account(), subject, owner);
    }
    const std::vector<ImportedStream>& stream_imports(uint32_t account) const override;
    bool has_mappings(uint32_t account) const override {
        return account < mappings_.size() && !mappings_[account].empty();
    }
    std::string_view map_subject(uint32_t account, std::string_view subject, std::string& storage) override;
    void verify_password(ClientConn& conn, std::string hash, std::string password) override;
    void want_send(ClientConn& conn) override { dirty_.push_back(&conn); }
    void want_recv(ClientConn& conn) override { rearm_.push_back(&conn); }
    void retry_each_turn(ClientConn& conn) override;
    void wait_for_interest(ClientConn& conn) override;
    void closing(ClientConn& conn) override { closing_.push_back(&conn); }
    void connected(const ClientConn& conn) override { client_event(conn, ClientEvent::kConnect); }
    OutBlocks& out_blocks() override { return out_blocks_; }
    bool enter_account(uint32_t account) override;
    std::string info_line(const ClientConn& conn, int64_t max_payload) override;
    std::optional<uint32_t> sole_target() const override { return switch_.sole_target(); }
    void move(ClientConn& conn, uint32_t shard) override {
        leaving_.push_back({&conn, shard, mesh_.ends(), io::Clock::now()});
    }
    Adopted adopt(uint64_t handle) override;
    // When the system account is defined: the account's connection update, as nats-server
    // sends it on every connect and on every close outside the global account, then the
    // $SYS.ACCOUNT.<account>.CONNECT or .DISCONNECT event for `conn` (not in the global
    // account), both sent off the shard (Server::account_conns_changed). A client refused at
    // CONNECT is $SYS.SERVER.<id>.CLIENT.AUTH.ERR instead, whatever its account, when someone
    // listens.
    enum class ClientEvent : uint8_t { kConnect, kDisconnect, kAuthError };
    void client_event(const ClientConn& conn, ClientEvent kind);

    // Doorbell: IORING_OP_MSG_RING into the other shard's ring.
    void ring(uint32_t shard) override;

    // JsRecordHandler: a record for the JetStream of the account it names.
    void on_js_record(const MsgView& msg) override;
    void drain_inbound() { switch_.drain(this); }
    bool js_busy() const;

    // Connections moving: those leaving, handed over once ready (ClientConn::ready_to_move),
    // and those other shards handed over, taken into slots here. Returns whether any left.
    bool send_leaving();
    void take_arrivals();
    // The INFO that tells a client of lame duck mode.
    void send_lame_duck_info(ClientConn& conn);
    // A free slot for a new or arriving connection.
    uint32_t take_slot();

    void resume_waiting();
    void process_closes();
    void flush();
    // Frees `conn` if nothing refers to it any more.
    void maybe_free(ClientConn& conn);

    Server& server_;
    const uint32_t index_;
    // This shard's copy of the options: a reload replaces it on the shard's thread.
    config::Options options_;
    std::vector<std::vector<ImportedStream>> stream_imports_;  // by importing account; built again at a reload
    void build_stream_imports();
    std::unique_ptr<ServiceImports> services_;  // shard 0's, when the config has service imports
    // A subject mapping ready to pick from: its destinations by cumulative weight (of 100),
    // nullopt where the mapping drops the message.
    struct Mapping {
        std::string source;
        std::vector<std::pair<uint32_t, std::optional<base::SubjectTransform>>> choices;
    };
    std::vector<std::vector<Mapping>> mappings_;  // by account; built again at a reload that changes them
    OutBlocks out_blocks_;  // before the connections (slots_), which give theirs back
    io::Clock::time_point out_blocks_trim_at_{};
    void build_mappings();
    std::minstd_rand mapping_random_{1};
    bool lame_duck_ = false;
    int listen_fd_;
    bool accepting_ = false;
    std::chrono::milliseconds accept_backoff_{0};
    io::Clock::time_point accept_retry_at_{};
    bool stopping_ = false;
    io::Clock::time_point stop_deadline_{};
    uint32_t generation_next_ = 1;
    uint8_t tag_ = 0;

    // Connections are declared before the loop so they outlive it: the ring's teardown ends
    // every socket operation before any connection's buffers are freed.
    std::vector<Slot> slots_;
    std::vector<uint32_t> free_slots_;

    io::Loop loop_;
    io::Inbox inbox_{loop_};
    io::BufferRing buffers_;
    Mesh mesh_;
    Switch switch_;

    // Connections the end of the turn must look at; each is listed once (ClientConn asks once).
    std::vector<ClientConn*> dirty_;
    std::vector<ClientConn*> rearm_;
    uint64_t wake_input_ = 0;  // bytes received since the loop last waited
    std::vector<ClientConn*> closing_;
    std::vector<ClientConn*> paused_;
    std::vector<ClientConn*> pong_waiters_;
    std::vector<ClientConn*> retry_;  // scratch for resume_waiting()
    struct Leaving {
        ClientConn* conn;
        uint32_t target;
        std::vector<uint64_t> sent;  // where the rings ended when it stopped (Mesh::ends())
        io::Clock::time_point since;
    };
    // How long a connection with subscriptions may wait to move while its output keeps coming;
    // then it stays.
    static constexpr io::Clock::duration kMoveWaitMax = std::chrono::milliseconds(100);
    std::vector<Leaving> leaving_;
    io::Timer tick_;
    io::Timer stop_close_;  // when a stopping shard closes its connections

    // Figures for monitoring (core/monitor/figures.h): what closed connections leave behind.
    uint64_t total_connections_ = 0;
    uint64_t slow_consumers_ = 0;
    uint64_t moved_in_ = 0;  // connections other shards handed over
    uint64_t reloads_ = 0;   // reloads applied (apply_options)
    uint64_t sub_inserts_ = 0;
    uint64_t sub_removes_ = 0;
    monitor::Traffic closed_traffic_;
    std::map<std::string, monitor::ClosedAccountFigures> closed_accounts_;
    std::deque<monitor::ConnFigures> closed_;  // the most recent, at most closed_max_
    size_t closed_max_ = 0;

    // Work that would block the loop (bcrypt checks), when the configuration calls for it.
    std::unique_ptr<io::Worker> worker_;

    // JetStream (with -js): the file disk on this shard's ring, and the streams this shard owns.
    std::unique_ptr<io::DirectDisk> disk_;
    uint64_t sync_failures_logged_ = 0;
    // One JetStream per account that has it, each with the Host that keeps what it does in
    // that account's subject space; by account id for the records other shards send.
    // Shard 0, when the config defines the system account: its $SYS.REQ subscriptions, which
    // hand requests to Server::system_request.
    class SystemRequests;
    std::unique_ptr<SystemRequests> system_requests_;
    class JsAccountHost;
    struct JsAccount {
        std::unique_ptr<JsAccountHost> host;
        std::unique_ptr<js::JetStream> js;
    };
    std::vector<JsAccount> js_;
    std::vector<js::JetStream*> js_by_account_;
};

}  // namespace ringtail::core
