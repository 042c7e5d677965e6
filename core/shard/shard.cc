#include "core/shard/shard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "base/clock.h"
#include "base/subject_match.h"
#include "core/auth/nkey.h"
#include "core/auth/password.h"
#include "core/js/jetstream.h"
#include "core/js/random.h"
#include "core/server/log.h"
#include "core/server/server.h"
#include "proto/encoder.h"
#include "proto/errors.h"
#include "proto/js/api.h"

namespace ringtail::core {
namespace {

// Whether any configured secret is a bcrypt hash: checking one needs the helper thread.
bool has_bcrypt(const config::Options& options) {
    return auth::is_bcrypt(options.password) || auth::is_bcrypt(options.token) ||
           std::any_of(options.users.begin(), options.users.end(),
                       [](const config::User& user) { return auth::is_bcrypt(user.password); });
}

// Receive buffers per shard: 8 x 64 KiB at first, doubled each time a receive finds none, up
// to 32 (2 MiB): a turn takes in at most that much, and a connection that finds none reads
// again next turn. The kernel takes buffers in turn, so every buffer given soon becomes
// resident; 128 cost a flooded server 8 MiB per shard and gave no measurable throughput.
constexpr uint32_t kRecvBufferCount = 32;
constexpr uint32_t kRecvBuffersFirst = 8;
constexpr uint32_t kRecvBufferBytes = 64 * 1024;
constexpr uint16_t kRecvBufferGroup = 0;
// A wake that brought this much input (a client streaming to the shard) is followed by a nap
// before the next wait (io::Loop::run_once): the sender's next writes then queue without waking
// the shard, and the next turn takes them together. Request-reply with messages of ordinary
// size and light traffic bring far less per wake: on their own they never make the shard nap
// (beside a streaming client on the same shard, they wait out its naps too).
constexpr uint64_t kNapAfterInput = 16 * 1024;
constexpr std::chrono::microseconds kNap{15};
constexpr unsigned kRingEntries = 4096;
constexpr auto kTick = std::chrono::milliseconds(100);  // liveness checks and stop requests
// Output blocks left unused this long go back to the allocator (OutBlocks::trim()).
constexpr auto kOutBlocksTrim = std::chrono::seconds(5);
constexpr auto kShutdownGrace = std::chrono::seconds(2);
// How long a stopping shard with JetStream keeps its connections after telling the waiting
// pull requests (Shard::begin_stop).
constexpr auto kPullReleaseGrace = std::chrono::milliseconds(50);

ClientConn::Identity peer_of(int fd, uint64_t client_id) {
    ClientConn::Identity identity{client_id, {}, 0};
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) return identity;
    char text[INET6_ADDRSTRLEN] = {};
    if (peer.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&peer);
        inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
        identity.port = ntohs(in->sin_port);
    } else if (peer.ss_family == AF_INET6) {
        // An IPv4 client of the dual-stack listener shows as IPv4, as Go prints it.
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], text, sizeof text);
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
        }
        identity.port = ntohs(in6->sin6_port);
    }
    identity.ip = text;
    return identity;
}

}  // namespace

Shard::Shard(Server& server, uint32_t index, int listen_fd, MeshLinks& links)
    : server_(server),
      index_(index),
      options_(server.options()),
      listen_fd_(listen_fd),
      mesh_(index, links, *this),
      switch_(mesh_, uint64_t{index} * 7919 + 17, !options_.no_sublist_cache),
      tick_([this] { on_tick(); }),
      stop_close_([this] { close_all_for_stop(); }) {
    switch_.set_adopter(this);
    build_stream_imports();
    build_mappings();
}

void Shard::build_stream_imports() {
    stream_imports_.clear();
    for (const config::StreamImport& imported : options_.stream_imports) {
        uint32_t account = config::account_id(options_, imported.account);
        if (account >= stream_imports_.size()) stream_imports_.resize(account + 1);
        stream_imports_[account].push_back(
            {config::account_id(options_, imported.from_account), SubjectMap(imported.subject, imported.to)});
    }
}

void Shard::build_mappings() {
    mappings_.clear();
    for (const config::SubjectMapping& configured : options_.mappings) {
        uint32_t account = config::account_id(options_, configured.account);
        if (account >= mappings_.size()) mappings_.resize(account + 1);
        std::vector<std::pair<uint32_t, std::optional<base::SubjectTransform>>> choices;
        for (const config::MappingDestination& destination : config::destinations_for(configured, options_.cluster_name)) {
            auto made = base::SubjectTransform::make(configured.source, destination.subject);
            if (auto* transform = std::get_if<base::SubjectTransform>(&made)) {
                choices.emplace_back(destination.weight, std::move(*transform));
            }
        }
        mappings_[account].push_back({configured.source, std::move(choices)});
    }
}

Shard::~Shard() = default;

std::string_view Shard::map_subject(uint32_t account, std::string_view subject, std::string& storage) {
    for (const Mapping& mapping : mappings_[account]) {
        if (!base::subject_matches(mapping.source, subject)) continue;
        // As nats-server's selectMappedSubject: one destination of weight 100 is taken as it
        // is; otherwise a number below 100 picks the first whose cumulative weight exceeds it.
        uint32_t pick = mapping.choices.size() == 1 && mapping.choices[0].first == 100
                            ? 0
                            : static_cast<uint32_t>(mapping_random_() % 100);
        for (const auto& [weight, transform] : mapping.choices) {
            if (pick >= weight) continue;
            if (!transform) return {};
            storage = transform->apply(subject);
            return storage;
        }
        return {};
    }
    return subject;
}

const std::vector<ImportedStream>& Shard::stream_imports(uint32_t account) const {
    static const std::vector<ImportedStream> kNone;
    return account < stream_imports_.size() ? stream_imports_[account] : kNone;
}

// js::Host for one account's JetStream: the shard's routing, with every subscription, message
// and record it makes put in that account.
class Shard::JsAccountHost final : public js::Host {
public:
    JsAccountHost(Shard& shard, uint32_t account) : shard_(shard), account_(account) {}
    ~JsAccountHost() {
        for (auto& [sub, stand_ins] : stand_ins_) {
            for (auto& stand_in : stand_ins) shard_.unsubscribe(stand_in->sub);
        }
    }
    JsAccountHost(const JsAccountHost&) = delete;
    JsAccountHost& operator=(const JsAccountHost&) = delete;

    uint32_t shard_index() const override { return shard_.index_; }
    uint32_t shard_count() const override { return shard_.mesh_.shards(); }
    // A subscription gets stand-ins in the accounts this one imports streams from, as a
    // client's does (nats-server's shadow subscriptions, which its internal clients get too):
    // a mirror or source reaches another account's stream through them.
    void subscribe(Subscription& sub) override {
        sub.account = account_;
        shard_.subscribe(sub);
        add_stand_ins(sub, stand_ins_[&sub]);
    }
    void unsubscribe(Subscription& sub) override {
        shard_.unsubscribe(sub);
        if (auto it = stand_ins_.find(&sub); it != stand_ins_.end()) {
            for (auto& stand_in : it->second) shard_.unsubscribe(stand_in->sub);
            stand_ins_.erase(it);
        }
    }
    // After a reload changed the stream imports (the stand-ins point into their table).
    void refresh_stand_ins() {
        for (auto& [sub, stand_ins] : stand_ins_) {
            for (auto& stand_in : stand_ins) shard_.unsubscribe(stand_in->sub);
            stand_ins.clear();
            add_stand_ins(*sub, stand_ins);
        }
    }
    bool has_interest(std::string_view subject) override { return shard_.switch_.has_interest(account_, subject); }
    bool has_literal_interest(std::string_view subject, std::string_view queue) override {
        return shard_.switch_.has_literal_interest(account_, subject, queue);
    }
    uint64_t interest_changes() const override { return shard_.switch_.interest_changes(); }
    uint64_t interest_losses() const override { return shard_.switch_.interest_losses(); }
    void watch_interest(bool on) override { shard_.switch_.watch_interest(account_, on); }
    bool take_interest_changes(std::vector<std::pair<std::string, bool>>& out) override {
        return shard_.switch_.take_interest_changes(account_, out);
    }
    uint64_t interest_seq_sent() const override { return shard_.mesh_.interest_seq_sent(); }
    bool interest_applied(uint64_t seq) const override { return shard_.mesh_.interest_applied(seq); }
    bool publish(const MsgView& msg) override {
        MsgView in_account = msg;
        in_account.account = account_;
        return shard_.switch_.publish(in_account, nullptr) != Routed::kFull;
    }
    void send_to_shard(uint32_t target, const MsgView& msg, bool wake) override {
        MsgView in_account = msg;
        in_account.account = account_;
        shard_.mesh_.send_js(target, in_account, wake);
    }
    bool records_waiting(uint32_t target) const override { return shard_.mesh_.control_waiting(target); }
    void drain_inbound() override { shard_.drain_inbound(); }
    io::Loop& loop() override { return shard_.loop_; }

private:
    // Delivers what its subscription in an exporting account takes to the subscription it
    // stands in for, under the subject the imports map it to.
    class StandIn final : public Subscriber {
    public:
        StandIn(Subscription& parent, ImportPath path) : parent_(parent), map_(*path.map) {
            sub.owner = this;
            sub.account = path.account;
            sub.subject = std::move(path.pattern);
            sub.sid = parent.sid;
        }
        Delivery deliver(Subscription&, const MsgView& msg) override {
            std::string mapped = map_.apply(msg.subject);
            MsgView imported = msg;
            imported.subject = mapped;
            imported.account = parent_.account;
            return parent_.owner->deliver(parent_, imported);
        }
        bool accepts(const Subscription&, const Subscriber* origin) const override {
            return parent_.owner->accepts(parent_, origin);
        }
        void expired(Subscription&) override {}

        Subscription sub;

    private:
        Subscription& parent_;
        const SubjectMap& map_;
    };

    void add_stand_ins(Subscription& sub, std::vector<std::unique_ptr<StandIn>>& out) {
        auto imports_of = [this](uint32_t account) -> const std::vector<ImportedStream>& {
            return shard_.stream_imports(account);
        };
        for (ImportPath& path : import_paths(account_, sub.subject, imports_of)) {
            auto& stand_in = out.emplace_back(std::make_unique<StandIn>(sub, std::move(path)));
            shard_.subscribe(stand_in->sub);
        }
    }

    Shard& shard_;
    const uint32_t account_;
    std::unordered_map<Subscription*, std::vector<std::unique_ptr<StandIn>>> stand_ins_;
};

// Shard 0's subscriptions in the system account to the server's requests, as nats-server
// makes them: statsz pings, the monitoring endpoints by PING or by this server's id, and the
// per-account ones (when a system account is defined). And the system imports nats-server
// gives every other account, the global one included, system account or not:
// $SYS.REQ.SERVER.PING.CONNZ and $SYS.REQ.ACCOUNT.PING.CONNZ answered as
// $SYS.REQ.ACCOUNT.<account>.CONNZ, $SYS.REQ.ACCOUNT.PING.STATZ as .<account>.STATZ, the
// answer going back to the account. What they take goes to the server's handler, off the shard.
class Shard::SystemRequests final : public Subscriber {
public:
    SystemRequests(Shard& shard, std::optional<uint32_t> system) : shard_(shard), system_(system) {
        // Each kind on a subject of its own, as nats-server subscribes them: a request for a
        // kind there is none of finds no responders.
        if (system) {
            const std::string id = shard.server_.server_id();
            add("$SYS.REQ.SERVER.PING", *system);
            for (const char* kind :
                 {"STATSZ", "VARZ", "SUBSZ", "CONNZ", "ROUTEZ", "GATEWAYZ", "LEAFZ", "ACCOUNTZ", "JSZ", "HEALTHZ"}) {
                add(std::string("$SYS.REQ.SERVER.PING.") + kind, *system);
                add("$SYS.REQ.SERVER." + id + "." + kind, *system);
            }
            for (const char* kind : {"SUBSZ", "CONNZ", "LEAFZ", "JSZ", "INFO", "STATZ", "CONNS"}) {
                add(std::string("$SYS.REQ.ACCOUNT.*.") + kind, *system);
            }
        }
        for (uint32_t account = 0; account <= shard.options_.accounts.size(); ++account) {
            if (account == system || !config::has_system_account(shard.options_)) continue;
            for (const char* subject : {"$SYS.REQ.SERVER.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.CONNZ",
                                        "$SYS.REQ.ACCOUNT.PING.STATZ"}) {
                add(subject, account);
            }
        }
    }
    ~SystemRequests() {
        for (auto& sub : subs_) shard_.unsubscribe(*sub);
    }
    Delivery deliver(Subscription& sub, const MsgView& msg) override {
        if (msg.reply.empty()) return Delivery::kDelivered;
        if (sub.account == system_) {
            shard_.server_.system_request({std::string(msg.subject), std::string(msg.reply), std::string(msg.payload)});
        } else {
            std::string_view kind = msg.subject.substr(msg.subject.rfind('.') + 1);
            shard_.server_.system_request(
                {"$SYS.REQ.ACCOUNT." + std::string(config::account_name(shard_.options_, sub.account)) + "." + std::string(kind),
                 std::string(msg.reply), std::string(msg.payload), sub.account});
        }
        return Delivery::kDelivered;
    }
    bool accepts(const Subscription&, const Subscriber*) const override { return true; }
    void expired(Subscription&) override {}

private:
    void add(std::string subject, uint32_t account) {
        auto& sub = subs_.emplace_back(std::make_unique<Subscription>());
        sub->owner = this;
        sub->subject = std::move(subject);
        sub->sid = "sys:" + std::to_string(subs_.size());
        sub->account = account;
        shard_.subscribe(*sub);
    }

    Shard& shard_;
    const std::optional<uint32_t> system_;
    std::vector<std::unique_ptr<Subscription>> subs_;
};

void Shard::publish_system(std::string subject, std::string payload, std::optional<uint32_t> account) {
    if (!account) account = config::system_account_id(options_);
    if (!account) return;  // no system account: its messages have nowhere to go
    MsgView msg;
    msg.subject = subject;
    msg.payload = payload;
    msg.account = *account;
    if (switch_.publish(msg, nullptr) == Routed::kFull) {
        post([this, subject = std::move(subject), payload = std::move(payload), account]() mutable {
            publish_system(std::move(subject), std::move(payload), account);
        });
    }
}

void Shard::on_js_record(const MsgView& msg) {
    if (msg.account < js_by_account_.size() && js_by_account_[msg.account] != nullptr) {
        js_by_account_[msg.account]->on_js_record(msg);
    }
}

bool Shard::js_busy() const {
    return std::any_of(js_.begin(), js_.end(), [](const JsAccount& account) { return account.js->busy(); });
}

Result<void, Error> Shard::run(std::vector<js::ShardSetup> js_setups) {
    Result<void, Error> started = start(js_setups);
    server_.report_started(index_, started);
    if (!started) return started;

    Result<void, Error> ended;
    while (true) {
        std::chrono::nanoseconds nap = wake_input_ >= kNapAfterInput ? kNap : std::chrono::nanoseconds{};
        wake_input_ = 0;
        if (auto ok = loop_.run_once(!js_busy() && !mesh_.waiting_moved(), nap); !ok) {
            ended = ok;
            break;
        }
        turn();
        if (!stopping_ && server_.stop_requested()) begin_stop();
        if (stopping_) {
            // Every connection flushed and closed (or the grace period over), and every disk
            // write done, however long: a log's tail must outlive the writes reading it.
            bool closed = std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.conn == nullptr; });
            bool written = disk_ == nullptr || disk_->writes_in_flight() == 0;
            if (written && (closed || io::Clock::now() > stop_deadline_)) break;
        }
    }
    for (JsAccount& account : js_) account.js->checkpoint();
    js_by_account_.clear();
    js_.clear();
    system_requests_.reset();
    disk_.reset();
    loop_.cancel(tick_);
    loop_.cancel(stop_close_);
    // Connections the grace period did not see out: their peers learn now; the objects go
    // after the ring (see slots_).
    for (Slot& slot : slots_) {
        if (slot.conn) slot.conn->abort();
    }
    return ended;
}

Result<void, Error> Shard::start(std::vector<js::ShardSetup>& js_setups) {
    auto failed = [&](const Error& error) {
        return fail(error.code, "shard " + std::to_string(index_) + ": " + error.text);
    };
    auto ready = loop_.init(kRingEntries);
    // Every shard publishes its ring's fd (or -1) and waits for the others before any doorbell
    // can be rung.
    server_.publish_ring_fd(index_, ready ? loop_.fd() : -1);
    if (!ready) return failed(ready.error());
    for (uint32_t peer = 0; peer < mesh_.shards(); ++peer) {
        if (server_.ring_fd(peer) < 0) return fail(Errc::kIo, {});  // that shard reports its own failure
    }
    tag_ = loop_.attach(*this);
    closed_max_ = (options_.max_closed_clients + mesh_.shards() - 1) / mesh_.shards();
    if (auto inbox = inbox_.start(); !inbox) return failed(inbox.error());
    Result<void, Error> opened = buffers_.init(loop_.raw(), kRecvBufferGroup, kRecvBufferCount, kRecvBufferBytes,
                                                   kRecvBuffersFirst);
    if (index_ == 0) system_requests_ = std::make_unique<SystemRequests>(*this, config::system_account_id(options_));
    if (index_ == 0 && !options_.service_imports.empty()) {
        services_ = std::make_unique<ServiceImports>(options_);
        services_->start([this](Subscription& sub) { subscribe(sub); });
    }
    if (options_.jetstream) {
        if (opened) {
            disk_ = std::make_unique<io::DirectDisk>(loop_);
            opened = disk_->init();
            if (opened) disk_->set_sync_interval(options_.sync_interval);
        }
        for (js::ShardSetup& setup : js_setups) {
            if (!opened) break;
            setup.options = &options_;
            const uint32_t id = setup.account;
            JsAccount& account = js_.emplace_back();
            account.host = std::make_unique<JsAccountHost>(*this, id);
            account.js = std::make_unique<js::JetStream>(*account.host, *disk_, std::move(setup));
            if (js_by_account_.size() <= id) js_by_account_.resize(id + 1);
            js_by_account_[id] = account.js.get();
            opened = account.js->start();
        }
    }
    // Restored streams, service imports, system requests and imports subscribed their
    // subjects: every shard applies the others' interest before serving, so a publish right
    // after "Server is ready" reaches them. Every shard passes here, failed or not.
    mesh_.flush();
    server_.start_barrier();
    if (opened) drain_inbound();
    if (opened && has_bcrypt(options_)) {
        worker_ = std::make_unique<io::Worker>(loop_);
        opened = worker_->start();
    }
    if (!opened) return failed(opened.error());
    arm_accept();
    loop_.schedule(tick_, io::Clock::now() + kTick);
    return {};
}

void Shard::turn() {
    drain_inbound();
    take_arrivals();
    resume_waiting();
    process_closes();
    for (JsAccount& account : js_) account.js->run_turn();
    if (switch_.has_arrivals()) {
        // JetStream's turn drained the rings too: a connection that came then goes on now.
        take_arrivals();
        resume_waiting();
    }
    if (services_ && !services_->idle()) {
        services_->flush([this](const MsgView& msg) {
            // The exporting account's (or, for a response, the requester's) mappings apply, as
            // nats-server's selectMappedSubject does on a service import.
            MsgView mapped = msg;
            std::string storage;
            if (has_mappings(msg.account)) {
                mapped.subject = map_subject(msg.account, msg.subject, storage);
                if (mapped.subject.empty()) return Routed::kNoInterest;
            }
            return switch_.publish(mapped, nullptr);
        });
    }
    flush();
    buffers_.commit();
    // Re-armed after the buffers went back to the kernel, so a recv that ended for lack of
    // buffers finds some. (Neither call lists a connection again.)
    for (ClientConn* conn : rearm_) {
        conn->rearm_recv();
        maybe_free(*conn);
    }
    rearm_.clear();
    // Last, once this turn's sends and re-arms are done: those of a leaving connection too.
    if (!leaving_.empty() && send_leaving()) mesh_.flush();
}

void Shard::begin_stop() {
    stopping_ = true;
    stop_deadline_ = io::Clock::now() + kShutdownGrace;
    io_uring_sqe* sqe = loop_.sqe(io::Loop::kNoHandler);
    io_uring_prep_cancel64(sqe, io::Loop::user_data(tag_, token(Op::kAccept, 0, 0)), 0);
    // nats-server's shutdown event, before its clients go: each shard tells its own.
    if (std::optional<uint32_t> system = config::system_account_id(options_)) {
        std::string payload = server_.system_server_info(options_).dump();
        std::string subject = "$SYS.SERVER." + server_.server_id() + ".SHUTDOWN";
        MsgView msg;
        msg.subject = subject;
        msg.payload = payload;
        msg.account = *system;
        (void)switch_.publish_here(msg);
    }
    // nats-server's signalPullConsumers: waiting pull requests are told the server stops, and
    // the connections stay a moment longer so that what was told reaches clients on every
    // shard (nats-server waits 50 ms too).
    for (JsAccount& account : js_) {
        account.js->release_waiting_at_shutdown();
        account.js->run_turn();
    }
    flush();
    if (js_.empty()) {
        close_all_for_stop();
    } else {
        loop_.schedule(stop_close_, io::Clock::now() + kPullReleaseGrace);
    }
}

void Shard::close_all_for_stop() {
    for (Slot& slot : slots_) {
        if (slot.conn) slot.conn->close({}, "Server Shutdown");
    }
    process_closes();
    flush();
}

// ---------------------------------------------------------------------------------------------
// Completions

void Shard::on_completion(uint64_t data, int32_t result, uint32_t flags) {
    auto op = static_cast<Op>(data >> 52);
    if (op == Op::kAccept) {
        on_accept(result, flags);
        return;
    }
    auto slot = static_cast<uint32_t>(data >> 32) & (kSlotsMax - 1);
    auto generation = static_cast<uint32_t>(data);
    if (slot >= slots_.size() || slots_[slot].conn == nullptr || slots_[slot].generation != generation) return;
    ClientConn& conn = *slots_[slot].conn;
    if (op == Op::kRecv) {
        if (result > 0) {
            RT_ASSERT(flags & IORING_CQE_F_BUFFER);
            auto id = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
            std::span<const char> bytes = buffers_.buffer(id, static_cast<size_t>(result));
            conn.on_recv(result, flags, {bytes.data(), bytes.size()});
            buffers_.recycle(id);
            wake_input_ += static_cast<uint64_t>(result);
        } else {
            // A connection that stopped reading took buffers it does not need until it goes on:
            // that one ran out of them is no reason for more.
            if (result == -ENOBUFS && conn.reading_allowed()) buffers_.grow();
            conn.on_recv(result, flags, {});
        }
    } else {
        conn.on_sent(result);
    }
    process_closes();
    maybe_free(conn);
}

void Shard::arm_accept() {
    io_uring_sqe* sqe = loop_.sqe(io::Loop::user_data(tag_, token(Op::kAccept, 0, 0)));
    io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    accepting_ = true;
}

void Shard::on_accept(int32_t result, uint32_t flags) {
    if (!(flags & IORING_CQE_F_MORE)) accepting_ = false;
    if (result < 0) {
        if (result == -ECANCELED || stopping_ || lame_duck_ || server_.stop_requested()) return;
        if (result == -EMFILE || result == -ENFILE || result == -ENOBUFS || result == -ENOMEM) {
            // Out of descriptors or memory: retrying at once would spin. Back off as
            // nats-server does (10 ms doubling to 1 s); the tick re-arms.
            accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10),
                                         std::chrono::milliseconds(1000));
            accept_retry_at_ = io::Clock::now() + accept_backoff_;
            log_warn(std::string("Temporary accept error: ") + std::strerror(-result) + ", sleeping " +
                     std::to_string(accept_backoff_.count()) + "ms");
            if (accepting_) {
                io_uring_sqe* sqe = loop_.sqe(io::Loop::kNoHandler);
                io_uring_prep_cancel64(sqe, io::Loop::user_data(tag_, token(Op::kAccept, 0, 0)), 0);
            }
            return;
        }
        if (!accepting_) arm_accept();
        return;
    }
    accept_backoff_ = std::chrono::milliseconds(0);
    if (!accepting_ && !stopping_) arm_accept();
    int fd = result;
    if (stopping_ || lame_duck_) {
        ::close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    uint32_t slot = take_slot();
    // Client ids rise in the order connections come in, as nats-server's (/connz sorts and
    // pages by them), and encode the shard that accepted the connection: (client_id - 1) %
    // shards is its index (a connection may move on; ClientConn: "Moving").
    uint64_t client_id = 1 + index_ + uint64_t{mesh_.shards()} * server_.next_accept_seq();
    uint32_t generation = generation_next_++;
    ClientConn::Identity peer = peer_of(fd, client_id);
    proto::Info info_fields = server_.info(options_, client_id, peer.ip, /*lame_duck=*/false);
    if (std::any_of(options_.users.begin(), options_.users.end(), [](const config::User& u) { return !u.nkey.empty(); })) {
        info_fields.nonce = peer.nonce = auth::make_nonce();
    }
    std::string info = proto::encode_info(info_fields);
    slots_[slot].generation = generation;
    slots_[slot].conn = std::make_unique<ClientConn>(
        static_cast<ConnHost&>(*this), slot, loop_, fd, kRecvBufferGroup, io::Loop::user_data(tag_, token(Op::kRecv, slot, generation)),
        io::Loop::user_data(tag_, token(Op::kSend, slot, generation)), std::move(peer));
    ClientConn& conn = *slots_[slot].conn;
    ++total_connections_;
    int64_t count = server_.connections.fetch_add(1, std::memory_order_relaxed) + 1;
    conn.log_line("Client connection created", true);
    conn.start(info, /*refuse=*/options_.max_connections > 0 && count > options_.max_connections);
}

uint32_t Shard::take_slot() {
    if (!free_slots_.empty()) {
        uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        return slot;
    }
    auto slot = static_cast<uint32_t>(slots_.size());
    RT_ASSERT(slot < kSlotsMax);
    slots_.emplace_back();
    return slot;
}

bool Shard::send_leaving() {
    bool sent = false;
    std::erase_if(leaving_, [this, &sent](const Leaving& leaving) {
        ClientConn& conn = *leaving.conn;
        if (stopping_ || lame_duck_) {
            conn.stay();
            return true;
        }
        // What it published to the other shards is handled before it publishes from the
        // target, so no subscriber there sees its messages out of order.
        if (!conn.ready_to_move() || !mesh_.handled_up_to(leaving.sent, leaving.target)) {
            // Deliveries may keep a subscriber's output from ever running dry: it stays then.
            if (conn.subscription_count() == 0 || io::Clock::now() - leaving.since < kMoveWaitMax) return false;
            conn.stay(ClientConn::kMoveRetryAfter);
            return true;
        }
        switch_.forget(&conn);
        conn.leave(reloads_);
        uint32_t slot = conn.slot();
        server_.conn_leaving(std::move(slots_[slot].conn));
        free_slots_.push_back(slot);
        // Its subscriptions go with it, forwarders stay (Switch: "Moving a connection with
        // subscriptions").
        switch_.hand_over(reinterpret_cast<uintptr_t>(&conn), conn.subscription_list(), leaving.target);
        sent = true;
        return true;
    });
    return sent;
}

MoveAdopter::Adopted Shard::adopt(uint64_t handle) {
    std::unique_ptr<ClientConn> conn = server_.conn_arriving(reinterpret_cast<ClientConn*>(handle));
    uint32_t slot = take_slot();
    uint32_t generation = generation_next_++;
    slots_[slot].generation = generation;
    slots_[slot].conn = std::move(conn);
    slots_[slot].conn->arrive(static_cast<ConnHost&>(*this), slot, loop_, kRecvBufferGroup,
                              io::Loop::user_data(tag_, token(Op::kRecv, slot, generation)),
                              io::Loop::user_data(tag_, token(Op::kSend, slot, generation)));
    ++moved_in_;
    ClientConn& arrived = *slots_[slot].conn;
    return {&arrived, arrived.subscription_list()};
}

void Shard::take_arrivals() {
    for (uint64_t handle : switch_.take_arrivals()) {
        ClientConn& arrived = *reinterpret_cast<ClientConn*>(handle);  // adopt() took it in
        // What happened here while it was on its way: a reload (whether its credentials changed
        // is not known: they are checked again), lame duck mode, a stop. The shard it left had
        // done none of them to it.
        if (arrived.reloads_seen() < reloads_) arrived.options_reloaded(/*auth_changed=*/true);
        if (lame_duck_) send_lame_duck_info(arrived);
        if (stopping_) arrived.close({}, "Server Shutdown");
    }
}

void Shard::on_tick() {
    io::Clock::time_point now = io::Clock::now();
    loop_.schedule(tick_, now + kTick);
    if (!accepting_ && !stopping_ && !lame_duck_ && now >= accept_retry_at_) arm_accept();
    for (Slot& slot : slots_) {
        if (slot.conn) slot.conn->on_tick(now);
    }
    process_closes();
    if (now >= out_blocks_trim_at_) {
        out_blocks_.trim();
        out_blocks_trim_at_ = now + kOutBlocksTrim;
    }
    if (services_) services_->tick(base::wall_clock_ns());
    if (disk_ && disk_->sync_failures() != sync_failures_logged_) {
        sync_failures_logged_ = disk_->sync_failures();
        log_error("JetStream: flushing the store's files to stable storage failed (" +
                  std::to_string(sync_failures_logged_) + " times so far); writes since the last flush may be lost "
                  "in a power failure");
    }
}

// ---------------------------------------------------------------------------------------------
// Routing, for connections and for JetStream

const config::Options& Shard::options() const { return options_; }

void Shard::verify_password(ClientConn& conn, std::string hash, std::string password) {
    RT_ASSERT(worker_ != nullptr);
    uint32_t slot = conn.slot();
    uint32_t generation = slots_[slot].generation;
    worker_->post([hash = std::move(hash), password = std::move(password)] {
                      return int64_t{auth::bcrypt_matches(hash, password)};
                  },
                  [this, slot, generation](int64_t ok) {
                      // The connection may have gone meanwhile, its slot taken by another.
                      if (slot < slots_.size() && slots_[slot].conn && slots_[slot].generation == generation) {
                          slots_[slot].conn->on_password_verified(ok != 0);
                      }
                  });
}


void Shard::ring(uint32_t shard) {
    io_uring_sqe* sqe = loop_.sqe(io::Loop::kNoHandler);
    io_uring_prep_msg_ring(sqe, server_.ring_fd(shard), 0, io::Loop::kNoHandler, 0);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

// ---------------------------------------------------------------------------------------------
// Monitoring

void Shard::figures(const monitor::Query& query, monitor::ShardFigures& out) {
    io::Clock::time_point now = io::Clock::now();
    int64_t wall_now = base::wall_clock_ns();
    out.shard = index_;
    out.total_connections = total_connections_;
    out.slow_consumers = slow_consumers_;
    out.connections_moved_in = moved_in_;
    out.sub_inserts = sub_inserts_;
    out.sub_removes = sub_removes_ + switch_.expired_removed();
    out.sublists = switch_.sublist_figures();
    out.traffic = closed_traffic_;
    out.closed_accounts = closed_accounts_;
    for (const Slot& slot : slots_) {
        const ClientConn* conn = slot.conn.get();
        // A closing connection is counted with the closed ones already.
        if (conn == nullptr || conn->closing()) continue;
        ++out.connections;
        out.subscriptions += conn->subscription_count();
        out.traffic += conn->traffic();
        if (query.cid != 0 && conn->client_id() != query.cid) continue;
        if (query.connections) conn->figures(out.open.emplace_back(), query.connection_subs, now, wall_now);
        if (query.subscriptions) conn->subscription_figures(out.subs);
    }
    if (query.closed_connections) {
        for (const monitor::ConnFigures& closed : closed_) {
            if (query.cid == 0 || closed.cid == query.cid) out.closed.push_back(closed);
        }
    }
    out.loop_turns = loop_.turns();
    out.completions = loop_.completions_reaped();
    out.ring_full_waits = mesh_.full_waits();
    out.ring_capacity_bytes = mesh_.ring_capacity_bytes();
    for (uint32_t peer = 0; peer < mesh_.shards(); ++peer) out.ring_bytes_out.push_back(mesh_.bytes_waiting(peer));
    for (const JsAccount& account : js_) account.js->figures(query, out);
    if (disk_) {
        const io::DirectDisk::WriteLatency& latency = disk_->write_latency();
        out.write_bounds_us.assign(io::DirectDisk::kLatencyBoundsUs.begin(), io::DirectDisk::kLatencyBoundsUs.end());
        out.write_buckets.assign(latency.buckets.begin(), latency.buckets.end());
        out.writes = latency.count;
        out.write_ns = latency.sum_ns;
    }
}

void Shard::apply_options(const config::Options& options, bool auth_changed) {
    bool accounts_changed = options.accounts != options_.accounts || options.system_account != options_.system_account;
    bool mappings_changed = accounts_changed || options.mappings != options_.mappings;
    bool stream_imports_changed = accounts_changed || options.stream_imports != options_.stream_imports;
    bool services_changed = accounts_changed || options.service_imports != options_.service_imports ||
                            options.service_exports != options_.service_exports;
    options_ = options;
    ++reloads_;
    if (mappings_changed) build_mappings();  // each connection asks again in options_reloaded()
    if (stream_imports_changed) {
        // The connections' stand-ins point into the table: each takes its own again.
        build_stream_imports();
        for (Slot& slot : slots_) {
            if (slot.conn) slot.conn->refresh_shadows();
        }
        for (JsAccount& account : js_) account.host->refresh_stand_ins();
    }
    if (index_ == 0 && services_changed) {
        // Requests on their way through the old imports get no response.
        if (services_) services_->stop([this](Subscription& sub) { unsubscribe(sub); });
        services_.reset();
        if (!options_.service_imports.empty()) {
            services_ = std::make_unique<ServiceImports>(options_);
            services_->start([this](Subscription& sub) { subscribe(sub); });
        }
    }
    if (index_ == 0 && accounts_changed) {
        // The system imports follow the accounts.
        system_requests_.reset();
        system_requests_ = std::make_unique<SystemRequests>(*this, config::system_account_id(options_));
    }
    if (!worker_ && has_bcrypt(options_)) {
        worker_ = std::make_unique<io::Worker>(loop_);
        if (auto started = worker_->start(); !started) {
            log_error("shard " + std::to_string(index_) + ": " + started.error().text);
            worker_.reset();
        }
    }
    for (Slot& slot : slots_) {
        if (slot.conn) slot.conn->options_reloaded(auth_changed);
    }
    process_closes();
}

std::string Shard::info_line(const ClientConn& conn, int64_t max_payload) {
    proto::Info info = server_.info(options_, conn.client_id(), conn.client_ip(), lame_duck_);
    info.max_payload_bytes = max_payload;
    return proto::encode_info(info);
}

void Shard::enter_lame_duck() {
    lame_duck_ = true;
    for (Slot& slot : slots_) {
        ClientConn* conn = slot.conn.get();
        if (conn != nullptr && !conn->closing()) send_lame_duck_info(*conn);
    }
}

void Shard::send_lame_duck_info(ClientConn& conn) {
    conn.send_async_info(proto::encode_info(server_.info(options_, conn.client_id(), conn.client_ip(), true)));
}

void Shard::close_clients(size_t count, std::string_view error, std::string_view reason) {
    for (Slot& slot : slots_) {
        if (count == 0) break;
        ClientConn* conn = slot.conn.get();
        if (conn == nullptr || conn->closing()) continue;
        if (!error.empty()) conn->error_line(error);
        conn->close(error, reason);
        --count;
    }
    process_closes();
}

// ---------------------------------------------------------------------------------------------
// Waiting connections, closes, the end of the turn

void Shard::retry_each_turn(ClientConn& conn) {
    if (std::find(paused_.begin(), paused_.end(), &conn) == paused_.end()) paused_.push_back(&conn);
}

void Shard::wait_for_interest(ClientConn& conn) {
    if (std::find(pong_waiters_.begin(), pong_waiters_.end(), &conn) == pong_waiters_.end()) {
        pong_waiters_.push_back(&conn);
    }
}

void Shard::resume_waiting() {
    // Connections held at a PING go on once their interest is applied everywhere; paused ones
    // try again every turn (a pause that recurs lists them again).
    // Resuming parses, which may list the connection again: walk a copy.
    if (!pong_waiters_.empty()) {
        retry_.assign(pong_waiters_.begin(), pong_waiters_.end());
        pong_waiters_.clear();
        for (ClientConn* conn : retry_) {
            if (!conn->resume()) wait_for_interest(*conn);
        }
    }
    if (!paused_.empty()) {
        retry_.assign(paused_.begin(), paused_.end());
        paused_.clear();
        for (ClientConn* conn : retry_) conn->resume();
    }
}

bool Shard::enter_account(uint32_t account) {
    const config::AccountLimits* limits = config::account_limits(options_, account);
    std::atomic<int64_t>* open = server_.account_connections(account);
    if (limits == nullptr || open == nullptr) return true;  // (a reload cannot add limits)
    if (open->fetch_add(1, std::memory_order_relaxed) >= limits->max_connections) {
        open->fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    return true;
}

void Shard::client_event(const ClientConn& conn, ClientEvent kind) {
    std::optional<uint32_t> system = config::system_account_id(options_);
    if (!system) return;
    const bool connect = kind == ClientEvent::kConnect;
    std::string account(config::account_name(options_, conn.account()));
    const bool refused = kind == ClientEvent::kAuthError;
    std::string subject;
    if (refused) {
        subject = "$SYS.SERVER." + server_.server_id() + ".CLIENT.AUTH.ERR";
        if (!switch_.has_interest(*system, subject)) return;
    } else if (conn.account() == kGlobalAccount) {
        if (connect) server_.account_conns_changed({account, {}, {}});
        return;
    } else {
        // Sent off the shard after the account's update, whoever listens by then (a client
        // that subscribes right after its CONNECT hears of itself).
        subject = "$SYS.ACCOUNT." + account + (connect ? ".CONNECT" : ".DISCONNECT");
    }
    monitor::ConnFigures figures;
    int64_t wall_now = base::wall_clock_ns();
    conn.figures(figures, /*with_subs=*/false, io::Clock::now(), wall_now);
    // nats-server's ConnectEventMsg and DisconnectEventMsg.
    nlohmann::ordered_json client = {{"start", proto::js::rfc3339(figures.start_ns)}};
    client["host"] = figures.ip;
    client["id"] = figures.cid;
    client["acc"] = account;
    if (!figures.user.empty()) client["user"] = figures.user;
    if (!figures.name.empty()) client["name"] = figures.name;
    if (!figures.lang.empty()) client["lang"] = figures.lang;
    if (!figures.version.empty()) client["ver"] = figures.version;
    if (!connect && figures.rtt_ns > 0) client["rtt"] = figures.rtt_ns;
    if (!connect) client["stop"] = proto::js::rfc3339(wall_now);
    client["kind"] = "Client";
    client["client_type"] = "nats";
    nlohmann::ordered_json event = {
        {"type", connect ? "io.nats.server.advisory.v1.client_connect" : "io.nats.server.advisory.v1.client_disconnect"},
        {"id", js::random_token(22)},
        {"timestamp", proto::js::rfc3339(wall_now)},
        {"server", refused ? server_.system_server_info(options_) : nullptr},  // numbered when sent
        {"client", std::move(client)}};
    if (!connect) {
        // As nats-server counts them: what the client sent is what the server took in.
        event["sent"] = {{"msgs", figures.traffic.in_msgs}, {"bytes", figures.traffic.in_bytes}};
        event["received"] = {{"msgs", figures.traffic.out_msgs}, {"bytes", figures.traffic.out_bytes}};
        event["reason"] = conn.close_reason();
    }
    std::string payload = event.dump();
    if (!refused) {
        server_.account_conns_changed({std::move(account), std::move(subject), std::move(payload)});
        return;
    }
    MsgView msg;
    msg.subject = subject;
    msg.payload = payload;
    msg.account = *system;
    (void)switch_.publish(msg, nullptr);  // an event a full ring cannot take is dropped
}

void Shard::process_closes() {
    if (closing_.empty()) return;
    io::Clock::time_point now = io::Clock::now();
    int64_t wall_now = base::wall_clock_ns();
    for (ClientConn* conn : closing_) {  // nothing here closes a connection
        if (conn->announced()) {
            client_event(*conn, ClientEvent::kDisconnect);
        } else if (conn->close_reason() == "Authentication Failure") {
            client_event(*conn, ClientEvent::kAuthError);
        }
        if (auto account = conn->counted_in()) {
            if (std::atomic<int64_t>* open = server_.account_connections(*account)) {
                open->fetch_sub(1, std::memory_order_relaxed);
            }
        }
        bool slow = conn->close_reason().starts_with("Slow Consumer");
        closed_traffic_ += conn->traffic();
        if (slow) ++slow_consumers_;
        monitor::ClosedAccountFigures& account = closed_accounts_[std::string(config::account_name(options_, conn->account()))];
        account.traffic += conn->traffic();
        if (slow) ++account.slow_consumers;
        if (closed_max_ > 0) {
            if (closed_.size() >= closed_max_) closed_.pop_front();
            monitor::ConnFigures& figures = closed_.emplace_back();
            conn->figures(figures, /*with_subs=*/true, now, wall_now);
            figures.stop_ns = wall_now;
        }
        conn->release_subscriptions();
        switch_.forget(conn);
        server_.connections.fetch_sub(1, std::memory_order_relaxed);
        std::erase(paused_, conn);
        std::erase(pong_waiters_, conn);
        std::erase_if(leaving_, [conn](const Leaving& leaving) { return leaving.conn == conn; });
    }
    closing_.clear();
}

void Shard::flush() {
    mesh_.flush();
    for (ClientConn* conn : dirty_) {  // neither call lists a connection again
        conn->flush_output();
        maybe_free(*conn);
    }
    dirty_.clear();
}

void Shard::maybe_free(ClientConn& conn) {
    if (!conn.can_free()) return;
    if (std::find(closing_.begin(), closing_.end(), &conn) != closing_.end()) return;
    uint32_t slot = conn.slot();
    slots_[slot].conn.reset();
    free_slots_.push_back(slot);
}

}  // namespace ringtail::core
