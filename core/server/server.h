#pragma once

#include <atomic>
#include <chrono>
#include <latch>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "core/monitor/figures.h"
#include "io/listener.h"
#include "proto/config/options.h"
#include "proto/info_connect.h"

namespace ringtail::core {

class ClientConn;
class MeshLinks;
class Shard;
namespace js {
class Counters;
struct ShardSetup;
}  // namespace js

inline constexpr const char* kNatsCompatVersion = "2.9.10";
inline constexpr const char* kRingtailVersion = "0.1.0";

// The process: options, listeners, shards and the rings between them.
// Owner: the main thread creates and joins it. Shards read its immutable parts freely; the
// only shared mutable state is atomic (connection count, stop flag, ring fds) or belongs to
// the mesh (MeshLinks).
class Server {
public:
    explicit Server(config::Options options);
    ~Server();

    // Binds the listeners, loads the JetStream catalogue and starts one thread per shard;
    // returns once every shard serves, or with the first shard's error.
    [[nodiscard]] Result<void, Error> start();
    // Stops taking connections at once (the listeners are shut down, so a client that comes
    // now is refused rather than accepted and reset) and asks every shard to stop.
    void request_stop();
    bool stop_requested() const { return stop_requested_.load(std::memory_order_acquire); }
    // Waits for every shard to finish.
    [[nodiscard]] Result<void, Error> wait();

    // The options as the main thread knows them (it is the only one that changes them, with
    // reload()); other threads take options_snapshot().
    const config::Options& options() const { return options_; }
    config::Options options_snapshot() const;
    uint32_t shard_count() const { return shard_count_; }
    int port() const { return port_; }
    const std::string& server_id() const { return server_id_; }
    // The INFO a client gets, under `options` (the caller's copy).
    proto::Info info(const config::Options& options, uint64_t client_id, const std::string& client_ip,
                     bool lame_duck) const;

    // ---- operations: from the main thread, once start() has succeeded ----
    // SIGHUP: `fresh` is the configuration read again (flags over the file). What nats-server
    // reloads is applied (authorization, limits, logging); returns the "Reloaded: ..." lines,
    // or nats-server's error for an option that cannot change while running, with nothing
    // applied.
    [[nodiscard]] Result<std::vector<std::string>, Error> reload(config::Options fresh);
    // Lame duck mode: no new connections; connected clients are told (INFO with "ldm").
    void enter_lame_duck();
    // From any thread: whether lame duck mode began (the listeners are closed).
    bool in_lame_duck() const { return lame_duck_.load(std::memory_order_relaxed); }
    // Asks `shard` to close up to `count` of its client connections.
    void close_clients(uint32_t shard, size_t count);

    // ---- monitoring: from any thread, once start() has succeeded ----
    // Asks every shard for its figures (each copies them on its own thread) and waits at most
    // `timeout` for them; a shard that did not answer in time is left with answered == false.
    std::vector<monitor::ShardFigures> gather(const monitor::Query& query, std::chrono::milliseconds timeout) const;
    int64_t start_ns() const { return start_ns_; }
    int64_t config_load_ns() const { return config_load_ns_.load(std::memory_order_relaxed); }
    // JetStream (with -js): where the store is, the accounts that have it, and what they use
    // (one account's, or with an empty name every account's).
    const std::string& store_dir() const { return js_store_dir_; }
    // JetStream's server-wide limits, fixed at start as nats-server fixes them: max_memory and
    // max_file_store as configured, else 75% of the memory and of the space free for the store.
    int64_t js_max_memory() const { return js_max_memory_; }
    int64_t js_max_store() const { return js_max_store_; }
    struct JsUsage {
        int64_t memory_bytes = 0;
        int64_t file_bytes = 0;
        uint64_t api_total = 0;
        uint64_t api_errors = 0;
        int64_t reserved_memory = 0;  // by the streams' max_bytes
        int64_t reserved_store = 0;
    };
    JsUsage js_usage(std::string_view account = {}) const;
    struct JsAccount {
        std::string name;
        config::AccountJetStream limits;
        std::unique_ptr<js::Counters> counters;
    };
    const std::vector<JsAccount>& js_accounts() const { return js_accounts_; }

    // ---- the system account ($SYS.REQ.SERVER.>, $SYS.REQ.ACCOUNT.>) ----
    // A request shard 0 took in the system account, for the handler set before start() (it
    // must not block: it runs inside shard 0's delivery).
    struct SystemRequest {
        std::string subject;
        std::string reply;
        std::string payload;
        // The account the reply goes to: the system account, or the account whose system
        // import took the request (see Shard::SystemRequests).
        std::optional<uint32_t> reply_account;
    };
    void set_system_handler(std::function<void(SystemRequest)> handler) { system_handler_ = std::move(handler); }
    void system_request(SystemRequest request) const {
        if (system_handler_) system_handler_(std::move(request));
    }
    // A connection joined or left `account` (by name), for the handler set before start(),
    // which sends nats-server's account connection update, then the client's CONNECT or
    // DISCONNECT event when it has one (`event_subject` empty: none), in nats-server's order.
    // Called from the shards; must not block.
    struct ConnsChange {
        std::string account;
        std::string event_subject;
        std::string event;  // its "server" object is filled in when it is sent
    };
    void set_conns_handler(std::function<void(ConnsChange)> handler) { conns_handler_ = std::move(handler); }
    void account_conns_changed(ConnsChange change) const {
        if (conns_handler_) conns_handler_(std::move(change));
    }
    // Publishes `payload` on `subject` in the system account (or `account`), from shard 0
    // (from any thread).
    void system_publish(std::string subject, std::string payload, std::optional<uint32_t> account = std::nullopt);
    // The "server" object of every system message, nats-server's ServerInfo, from the caller's
    // copy of the options; each call takes the next sequence number.
    nlohmann::ordered_json system_server_info(const config::Options& options) const;

    // ---- used by shards at start ----
    // Each shard publishes its io_uring fd (-1 if it has none) once, then waits until every
    // shard has, so no doorbell is rung before its target exists.
    void publish_ring_fd(uint32_t shard, int fd);
    int ring_fd(uint32_t shard) const { return ring_fds_[shard].load(std::memory_order_acquire); }
    // Every shard passes this once at start, after opening its streams and subscribing its
    // imports and the system requests.
    void start_barrier() { subscribed_->arrive_and_wait(); }
    // Each shard reports once, when it is ready to serve or has failed to start.
    void report_started(uint32_t shard, const Result<void, Error>& started);

    std::atomic<int64_t> connections{0};
    // Counts accepted connections, whichever shard accepts them: their client ids follow it,
    // so they rise in the order connections come in (see Shard::on_accept).
    uint64_t next_accept_seq() { return accepts_.fetch_add(1, std::memory_order_relaxed); }
    // Open connections per account (by account number) of the accounts that limit them;
    // nullptr for a number past those the server started with.
    std::atomic<int64_t>* account_connections(uint32_t account) {
        return account < account_connections_count_ ? &account_connections_[account] : nullptr;
    }

    // A connection moving between shards (Mesh::send_conn) is kept here from when its shard
    // lets it go until the target takes it, so one still on its way when the shards stop is
    // freed with the server.
    void conn_leaving(std::unique_ptr<ClientConn> conn);
    std::unique_ptr<ClientConn> conn_arriving(ClientConn* conn);

private:
    void shard_main(uint32_t index, int cpu);
    [[nodiscard]] Result<void, Error> start_jetstream();
    // What INFO tells clients (nats-server's setInfoHostPort): client_advertise (checked at the
    // start and at each reload), else the listener's address.
    io::HostPort advertised(const config::Options& options) const;

    config::Options options_;
    mutable std::mutex options_mutex_;  // options_ changes (main thread) against snapshots
    uint32_t shard_count_ = 1;
    std::vector<int> cpus_;
    int port_ = 0;
    std::string server_id_;
    int64_t start_ns_ = 0;
    std::atomic<int64_t> config_load_ns_{0};  // start, then each reload
    std::atomic<bool> lame_duck_{false};
    std::vector<int> listen_fds_;
    int port_claim_fd_ = -1;  // io::claim_port()
    std::unique_ptr<MeshLinks> links_;
    std::unique_ptr<std::atomic<int>[]> ring_fds_;
    std::unique_ptr<std::latch> ready_;    // every shard has published its io_uring fd
    std::unique_ptr<std::latch> started_;  // every shard has reported (report_started)
    std::unique_ptr<std::latch> subscribed_;
    std::vector<std::unique_ptr<Shard>> shards_;
    std::mutex transit_mutex_;
    std::vector<std::unique_ptr<ClientConn>> in_transit_;  // see conn_leaving()
    std::vector<std::thread> threads_;
    std::vector<std::string> shard_errors_;
    std::atomic<bool> stop_requested_{false};
    std::function<void(SystemRequest)> system_handler_;
    std::function<void(ConnsChange)> conns_handler_;
    mutable std::atomic<uint64_t> system_seq_{0};
    std::atomic<uint64_t> accepts_{0};
    std::unique_ptr<std::atomic<int64_t>[]> account_connections_;
    uint32_t account_connections_count_ = 0;
    // JetStream (-js): what each shard starts with, handed over when its thread starts.
    std::string js_store_dir_;
    int64_t js_max_memory_ = 0;
    int64_t js_max_store_ = 0;
    int js_store_lock_fd_ = -1;  // flock'd: one server per store directory
    std::vector<JsAccount> js_accounts_;  // fixed at start
    std::vector<std::vector<js::ShardSetup>> js_setups_;  // by shard, one per account in js_accounts_
};

}  // namespace ringtail::core
