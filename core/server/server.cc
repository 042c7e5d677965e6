#include "core/server/server.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <random>

#include <filesystem>

#include "base/clock.h"
#include "core/js/jetstream.h"
#include "core/monitor/monitor.h"
#include "core/server/log.h"
#include "core/server/reload.h"
#include "core/shard/mesh.h"
#include "core/shard/shard.h"
#include "io/listener.h"
#include "proto/errors.h"
#include "proto/js/api.h"

namespace ringtail::core {
namespace {

// Each ring from one shard to another (n * (n - 1) of them).
constexpr size_t kRingBytes = 1 << 20;

// 'N' followed by 55 base32 characters: the shape of nats-server's server id (an nkey
// public key), which clients only display and compare.
std::string make_server_id() {
    static constexpr char kBase32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    std::random_device device;
    std::mt19937_64 random(device());
    std::string id = "N";
    for (int i = 0; i < 55; ++i) id += kBase32[random() % 32];
    return id;
}

std::vector<int> usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
        }
    }
    if (cpus.empty()) cpus.push_back(0);
    return cpus;
}

// A size as nats-server logs it: "512 B", "17.66 GB" (powers of 1024).
std::string friendly_bytes(int64_t bytes) {
    if (bytes < 1024) return std::to_string(bytes) + " B";
    static constexpr const char* kUnits[] = {"KB", "MB", "GB", "TB", "PB", "EB"};
    double value = static_cast<double>(bytes);
    int unit = -1;
    while (value >= 1024 && unit < 5) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.2f %s", value, kUnits[unit]);
    return text;
}

}  // namespace

Server::Server(config::Options options) : options_(std::move(options)) {
    cpus_ = options_.cpus.empty() ? usable_cpus() : options_.cpus;
    shard_count_ = options_.shards > 0 ? static_cast<uint32_t>(options_.shards)
                                       : static_cast<uint32_t>(cpus_.size());
    server_id_ = make_server_id();
    start_ns_ = base::wall_clock_ns();
    config_load_ns_ = start_ns_;
    if (options_.server_name.empty()) options_.server_name = server_id_;
    account_connections_count_ = static_cast<uint32_t>(options_.accounts.size()) + 1;
    account_connections_ = std::make_unique<std::atomic<int64_t>[]>(account_connections_count_);
}

std::vector<monitor::ShardFigures> Server::gather(const monitor::Query& query,
                                                  std::chrono::milliseconds timeout) const {
    // The answers land in state shared with the jobs, which may outlive a wait that timed out.
    struct Gathering {
        std::mutex mutex;
        std::condition_variable done;
        std::vector<monitor::ShardFigures> figures;
        size_t waiting = 0;
    };
    auto gathering = std::make_shared<Gathering>();
    gathering->figures.resize(shards_.size());
    gathering->waiting = shards_.size();
    for (size_t i = 0; i < shards_.size(); ++i) {
        Shard* shard = shards_[i].get();
        shard->post([gathering, shard, query, i] {
            monitor::ShardFigures figures;
            shard->figures(query, figures);
            figures.answered = true;
            std::lock_guard lock(gathering->mutex);
            gathering->figures[i] = std::move(figures);
            --gathering->waiting;
            gathering->done.notify_all();
        });
    }
    std::unique_lock lock(gathering->mutex);
    gathering->done.wait_for(lock, timeout, [&] { return gathering->waiting == 0; });
    std::vector<monitor::ShardFigures> out = gathering->figures;
    for (size_t i = 0; i < out.size(); ++i) out[i].shard = static_cast<uint32_t>(i);
    return out;
}

Result<std::vector<std::string>, Error> Server::reload(config::Options fresh) {
    if (fresh.server_name.empty()) fresh.server_name = server_id_;
    // As nats-server: a cluster name taken out of the config stays until the restart.
    if (fresh.cluster_name.empty()) fresh.cluster_name = options_.cluster_name;
    auto plan = plan_reload(options_, fresh);
    if (!plan) return fail(plan.error().code, plan.error().text);
    if (plan->logging) {
        Logger::Settings settings = log_settings(fresh);
        if (auto configured = logger().reconfigure(settings); !configured) return fail(configured.error().code, configured.error().text);
    }
    {
        std::lock_guard lock(options_mutex_);
        options_ = fresh;
    }
    config_load_ns_ = base::wall_clock_ns();
    for (auto& shard : shards_) {
        Shard* target = shard.get();
        target->post([target, fresh, auth = plan->auth] { target->apply_options(fresh, auth); });
    }
    // nats-server's maxConnOption: clients over a lowered max_connections are closed, each
    // with the -ERR a client over the limit gets.
    if (int64_t excess = connections.load(std::memory_order_relaxed) - fresh.max_connections;
        fresh.max_connections > 0 && excess > 0) {
        int64_t closed = 0;
        for (const monitor::ShardFigures& figures : gather({}, std::chrono::seconds(2))) {
            auto take = std::min<int64_t>(excess - closed, static_cast<int64_t>(figures.connections));
            if (take <= 0 || !figures.answered) continue;
            Shard* target = shards_[figures.shard].get();
            target->post([target, take] {
                target->close_clients(static_cast<size_t>(take), proto::err::kMaxConnections, "Maximum Connections Exceeded");
            });
            closed += take;
        }
        auto at = std::find_if(plan->lines.begin(), plan->lines.end(),
                               [](const std::string& line) { return line.starts_with("Reloaded: max_connections"); });
        plan->lines.insert(at, "Closed " + std::to_string(closed) + " connections to fall within max_connections");
    }
    return std::move(plan->lines);
}

void Server::enter_lame_duck() {
    lame_duck_.store(true, std::memory_order_relaxed);
    for (int fd : listen_fds_) {
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& shard : shards_) {
        Shard* target = shard.get();
        target->post([target] { target->enter_lame_duck(); });
    }
}

void Server::close_clients(uint32_t shard, size_t count) {
    Shard* target = shards_[shard].get();
    target->post([target, count] { target->close_clients(count, {}, "Server Shutdown"); });
}

Server::JsUsage Server::js_usage(std::string_view account) const {
    JsUsage usage;
    for (const JsAccount& one : js_accounts_) {
        if (!account.empty() && one.name != account) continue;
        usage.memory_bytes += one.counters->memory_bytes();
        usage.file_bytes += one.counters->file_bytes();
        usage.api_total += one.counters->api_total();
        usage.api_errors += one.counters->api_errors();
        usage.reserved_memory += one.counters->reserved_memory.load(std::memory_order_relaxed);
        usage.reserved_store += one.counters->reserved_store.load(std::memory_order_relaxed);
    }
    return usage;
}

Server::~Server() {
    // Shards are gone by now (wait()).
    for (int fd : listen_fds_) {
        if (fd >= 0) close(fd);
    }
    if (port_claim_fd_ >= 0) close(port_claim_fd_);
    if (js_store_lock_fd_ >= 0) close(js_store_lock_fd_);
}

nlohmann::ordered_json Server::system_server_info(const config::Options& options) const {
    nlohmann::ordered_json info;
    info["name"] = options.server_name;
    info["host"] = options.host;
    info["id"] = server_id_;
    if (!options.cluster_name.empty()) info["cluster"] = options.cluster_name;
    if (options.jetstream && !options.jetstream_domain.empty()) info["domain"] = options.jetstream_domain;
    info["ver"] = kNatsCompatVersion;
    if (!options.server_tags.empty()) info["tags"] = options.server_tags;
    info["seq"] = system_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
    info["jetstream"] = options.jetstream;
    info["time"] = proto::js::rfc3339(base::wall_clock_ns());
    return info;
}

void Server::system_publish(std::string subject, std::string payload, std::optional<uint32_t> account) {
    if (shards_.empty()) return;
    Shard* shard = shards_[0].get();
    shard->post([shard, subject = std::move(subject), payload = std::move(payload), account]() mutable {
        shard->publish_system(std::move(subject), std::move(payload), account);
    });
}

void Server::request_stop() {
    stop_requested_.store(true, std::memory_order_release);
    for (int fd : listen_fds_) {
        if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
}

io::HostPort Server::advertised(const config::Options& options) const {
    if (!options.client_advertise.empty()) {
        if (auto parsed = io::parse_host_port(options.client_advertise, port_)) return {parsed->host, parsed->port};
    }
    return {options.host, port_};
}

config::Options Server::options_snapshot() const {
    std::lock_guard lock(options_mutex_);
    return options_;
}

proto::Info Server::info(const config::Options& options, uint64_t client_id, const std::string& client_ip,
                         bool lame_duck) const {
    proto::Info info;
    info.server_id = server_id_;
    info.server_name = options.server_name;
    info.version = kNatsCompatVersion;
    io::HostPort address = advertised(options);
    info.host = address.host;
    info.port = address.port;
    info.headers = !options.no_header_support;
    // A client that sends no credentials is let in as the no_auth_user, so INFO does not ask
    // for any (unless that user is the implicit one of a server with only a system account).
    info.auth_required = options.auth_required() &&
                         (options.no_auth_user.empty() || options.no_auth_user == config::kSystemOnlyNoAuthUser);
    info.max_payload_bytes = options.max_payload_bytes;
    info.jetstream = options.jetstream;
    info.cluster = options.cluster_name;
    if (options.jetstream) info.domain = options.jetstream_domain;
    info.client_id = client_id;
    info.client_ip = client_ip;
    info.lame_duck_mode = lame_duck;
    info.ringtail_version = kRingtailVersion;
    return info;
}

void Server::publish_ring_fd(uint32_t shard, int fd) {
    ring_fds_[shard].store(fd, std::memory_order_release);
    ready_->arrive_and_wait();
}

Result<void, Error> Server::start() {
    std::vector<int> allowed = usable_cpus();
    for (int cpu : cpus_) {
        if (std::find(allowed.begin(), allowed.end(), cpu) == allowed.end()) {
            return fail(Errc::kInvalid, "--cpus: CPU " + std::to_string(cpu) + " is not available to this process");
        }
    }
    // Listeners first, on this thread, so a random port (-p -1) is chosen once and shared. A
    // port is claimed before it is bound (a random one once the kernel has chosen it), so a
    // second Ringtail on it stops here as nats-server would.
    int port = options_.port < 0 ? 0 : options_.port;
    auto listen_failed = [&](const Error& error) {
        return fail(error.code, "Error listening on port: " + io::host_port(options_.host, port) + ", \"" +
                                    error.text + "\"");
    };
    if (port != 0) {
        auto claim = io::claim_port(options_.host, port);
        if (!claim) return listen_failed(claim.error());
        port_claim_fd_ = *claim;
    }
    for (uint32_t i = 0; i < shard_count_; ++i) {
        auto listener = io::listen_tcp(options_.host, port, 4096);
        if (!listener) return listen_failed(listener.error());
        listen_fds_.push_back(listener->fd);
        port = listener->port;
    }
    if (port_claim_fd_ < 0) {
        auto claim = io::claim_port(options_.host, port);
        if (!claim) return listen_failed(claim.error());
        port_claim_fd_ = *claim;
    }
    port_ = port;
    if (!options_.client_advertise.empty()) {
        if (auto advertised = io::parse_host_port(options_.client_advertise, port_); !advertised) {
            return fail(Errc::kInvalid, "Error setting server INFO with ClientAdvertise value of " +
                                            options_.client_advertise + ", err=" + advertised.error().text);
        }
    }

    js_setups_.resize(shard_count_);
    if (options_.jetstream) {
        if (auto ok = start_jetstream(); !ok) return ok;
    }

    // Every page of a ring is resident once traffic has gone round it once; a large message
    // travels out of line (see SpscRing), so the ring's size is not max_payload's.
    links_ = std::make_unique<MeshLinks>(shard_count_, kRingBytes);
    ring_fds_ = std::make_unique<std::atomic<int>[]>(shard_count_);
    ready_ = std::make_unique<std::latch>(shard_count_);
    started_ = std::make_unique<std::latch>(shard_count_);
    subscribed_ = std::make_unique<std::latch>(shard_count_);
    shard_errors_.resize(shard_count_);
    for (uint32_t i = 0; i < shard_count_; ++i) {
        shards_.push_back(std::make_unique<Shard>(*this, i, listen_fds_[i], *links_));
    }
    for (uint32_t i = 0; i < shard_count_; ++i) {
        int cpu = cpus_[i % cpus_.size()];
        threads_.emplace_back([this, i, cpu] { shard_main(i, cpu); });
    }
    // "Server is ready" must mean every shard serves: wait for each to report.
    started_->wait();
    for (const std::string& error : shard_errors_) {
        if (!error.empty()) return fail(Errc::kIo, error);
    }
    return {};
}

Result<void, Error> Server::start_jetstream() {
    // nats-server: <store_dir>/jetstream, or <temp dir>/nats/jetstream when none is given.
    js_store_dir_ = options_.store_dir;
    if (js_store_dir_.empty()) {
        const char* temp = std::getenv("TMPDIR");
        js_store_dir_ = std::string(temp != nullptr && *temp != '\0' ? temp : "/tmp") + "/nats";
    }
    // Without accounts the global account has JetStream; with them, those whose config enables it.
    if (options_.accounts.empty()) {
        js_accounts_.push_back({"$G", {}, nullptr});
    } else {
        std::string_view system = config::system_account_name(options_);
        for (const config::AccountJetStream& limits : options_.account_jetstream) {
            if (limits.account == system) return fail(Errc::kInvalid, "Not allowed to enable JetStream on the system account");
            js_accounts_.push_back({limits.account, limits, nullptr});
        }
    }
    std::error_code ec;
    std::filesystem::create_directories(js_store_dir_ + "/jetstream", ec);
    if (ec) return fail(Errc::kIo, "JetStream store directory " + js_store_dir_ + ": " + ec.message());
    js_max_memory_ = options_.max_memory_store_bytes;
    if (js_max_memory_ < 0) js_max_memory_ = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 4 * 3;
    js_max_store_ = options_.max_file_store_bytes;
    if (js_max_store_ < 0) {
        struct statvfs fs{};
        constexpr int64_t kUnknownSpace = int64_t{1} << 40;  // nats-server's guess: 1 TiB
        js_max_store_ = statvfs((js_store_dir_ + "/jetstream").c_str(), &fs) == 0
                            ? static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize) / 4 * 3
                            : kUnknownSpace;
    }
    // Two servers writing one store corrupt it: the directory is locked for as long as this
    // process lives (the kernel drops the lock however it ends).
    std::string locked = js_store_dir_ + "/jetstream";
    js_store_lock_fd_ = ::open(locked.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (js_store_lock_fd_ < 0) return fail_errno(errno, "JetStream store directory " + locked);
    if (::flock(js_store_lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return fail(Errc::kBusy, "JetStream store directory \"" + locked + "\" is in use by another server");
        }
        return fail_errno(errno, "locking JetStream store directory " + locked);
    }
    // As nats-server enables each account's JetStream: together, the accounts' limits fit the
    // server's, or it does not start.
    int64_t accounts_memory = 0;
    int64_t accounts_store = 0;
    for (const JsAccount& account : js_accounts_) {
        accounts_memory += std::max<int64_t>(account.limits.max_memory, 0);
        accounts_store += std::max<int64_t>(account.limits.max_store, 0);
        const char* short_of = accounts_memory > js_max_memory_  ? "memory resources available (10028)"
                               : accounts_store > js_max_store_ ? "storage resources available (10047)"
                                                                : nullptr;
        if (short_of != nullptr) {
            return fail(Errc::kInvalid, std::string("Can't start JetStream: Error enabling jetstream on configured "
                                                    "accounts: insufficient ") + short_of);
        }
    }
    std::vector<const js::Counters*> every_account;
    for (JsAccount& account : js_accounts_) {
        account.counters = std::make_unique<js::Counters>(shard_count_);
        every_account.push_back(account.counters.get());
    }
    // Each shard opens the streams placed on it; shard 0 keeps each account's catalogue. Handed
    // over before the threads start, so nothing here is shared afterwards.
    for (const JsAccount& account : js_accounts_) {
        std::filesystem::create_directories(js::streams_dir(js_store_dir_, account.name), ec);
        if (ec) return fail(Errc::kIo, "JetStream store directory " + js_store_dir_ + ": " + ec.message());
        auto catalogue = std::make_unique<js::Catalogue>();
        if (auto loaded = js::load_catalogue(js_store_dir_, account.name, shard_count_, *catalogue); !loaded) {
            return fail(loaded.error().code, "JetStream: " + loaded.error().text);
        }
        for (uint32_t i = 0; i < shard_count_; ++i) {
            js::ShardSetup& setup = js_setups_[i].emplace_back();
            setup.options = &options_;
            setup.store_dir = js_store_dir_;
            setup.account = config::account_id(options_, account.name);
            setup.account_name = account.name;
            setup.domain = options_.jetstream_domain;
            setup.limits = account.limits;
            setup.counters = account.counters.get();
            setup.every_account = every_account;
            setup.server_max_memory = js_max_memory_;
            setup.server_max_store = js_max_store_;
        }
        for (const auto& [name, entry] : catalogue->streams) {
            if (!entry.unavailable.empty()) {
                log_error("Stream '" + name + "' is unavailable, its files are kept as they are: " + entry.unavailable);
                continue;
            }
            js_setups_[entry.owner].back().owned.push_back({entry.config, entry.created_ns});
        }
        js_setups_[0].back().catalogue = std::move(catalogue);
    }
    // The accounts without JetStream get its API's answer that they have none (on shard 0),
    // unless they import a service that covers $JS.API.INFO: such an account reaches another's
    // JetStream through its imports, and nothing here answers beside them (as nats-server).
    std::vector<std::string> without{"$G"};
    if (!options_.accounts.empty()) without.insert(without.end(), options_.accounts.begin(), options_.accounts.end());
    for (const std::string& name : without) {
        bool has = std::any_of(js_accounts_.begin(), js_accounts_.end(), [&](const JsAccount& one) { return one.name == name; });
        if (has || config::imports_jetstream_api(options_, name)) continue;
        js::ShardSetup& setup = js_setups_[0].emplace_back();
        setup.options = &options_;
        setup.account = config::account_id(options_, name);
        setup.account_name = name;
        setup.enabled = false;
        setup.catalogue = std::make_unique<js::Catalogue>();
    }
    log_info("Starting JetStream");
    log_info("---------------- JETSTREAM ----------------");
    log_info("  Max Memory:      " + friendly_bytes(js_max_memory_));
    log_info("  Max Storage:     " + friendly_bytes(js_max_store_));
    log_info("  Store Directory: \"" + js_store_dir_ + "/jetstream\"");
    if (!options_.jetstream_domain.empty()) log_info("  Domain:          " + options_.jetstream_domain);
    log_info(options_.sync_interval.count() == 0
                 ? std::string("  Sync:            always (each write on stable storage before its ack)")
                 : "  Sync:            every " + proto::js::go_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(options_.sync_interval).count()) +
                       " (acks once written; a power failure may lose what came since the last sync)");
    log_info("-------------------------------------------");
    return {};
}

void Server::report_started(uint32_t shard, const Result<void, Error>& started) {
    if (!started) shard_errors_[shard] = started.error().text;
    started_->count_down();
}

void Server::shard_main(uint32_t index, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    std::string name = "ringtail-" + std::to_string(index);
    pthread_setname_np(pthread_self(), name.c_str());
    auto ended = shards_[index]->run(std::move(js_setups_[index]));
    if (!ended) {
        if (shard_errors_[index].empty()) shard_errors_[index] = ended.error().text;
        request_stop();
    }
}

void Server::conn_leaving(std::unique_ptr<ClientConn> conn) {
    std::lock_guard lock(transit_mutex_);
    in_transit_.push_back(std::move(conn));
}

std::unique_ptr<ClientConn> Server::conn_arriving(ClientConn* conn) {
    std::lock_guard lock(transit_mutex_);
    auto it = std::find_if(in_transit_.begin(), in_transit_.end(), [conn](const auto& held) { return held.get() == conn; });
    RT_ASSERT(it != in_transit_.end());
    std::unique_ptr<ClientConn> taken = std::move(*it);
    in_transit_.erase(it);
    return taken;
}

Result<void, Error> Server::wait() {
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    for (int& fd : listen_fds_) {
        if (fd >= 0) close(fd);
        fd = -1;
    }
    for (const std::string& error : shard_errors_) {
        if (!error.empty()) return fail(Errc::kIo, error);
    }
    return {};
}

}  // namespace ringtail::core
