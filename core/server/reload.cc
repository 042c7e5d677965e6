#include "core/server/reload.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <type_traits>

#include "io/listener.h"
#include "proto/config/conf.h"
#include "proto/js/api.h"

namespace ringtail::core {
namespace {

// Go's %v: durations as time.Duration prints them ("2m0s", "1.5s"), the rest as they are.
std::string text(std::chrono::milliseconds value) { return config::go_duration_text(value); }
std::string text(bool value) { return value ? "true" : "false"; }
std::string text(double value) {  // shortest form, as Go's %v: "2", "0.5"
    char out[32];
    auto [end, ec] = std::to_chars(out, out + sizeof out, value);
    return std::string(out, ec == std::errc() ? end : out);
}
std::string text(const std::string& value) { return value; }
template <class Int>
    requires std::is_integral_v<Int>
std::string text(Int value) {
    return std::to_string(value);
}
std::string text(const std::vector<int>& value) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) out += (i ? " " : "") + std::to_string(value[i]);
    return out + "]";
}

// Go's %v of a JSLimitOpts: its fields in order, "{0 100 0 1m0s}".
std::string text(const config::JetStreamLimits& value) {
    return "{" + std::to_string(value.max_request_batch) + " " + std::to_string(value.max_ack_pending) + " " +
           std::to_string(value.max_ha_assets) + " " + proto::js::go_duration(value.duplicate_window.count()) + "}";
}

}  // namespace

Result<ReloadPlan, Error> plan_reload(const config::Options& now, const config::Options& fresh) {
    // Options that stay as they were started, by nats-server's field names.
    Result<void, Error> refused;
    auto fixed = [&](const char* field, const auto& old_value, const auto& new_value) {
        if (refused && old_value != new_value) {
            refused = fail(Errc::kUnsupported, std::string("config reload not supported for ") + field +
                                                   ": old=" + text(old_value) + ", new=" + text(new_value));
        }
    };
    // In the order of nats-server's Options fields: the first refused is the one named.
    fixed("ServerName", now.server_name, fresh.server_name);
    fixed("Host", now.host, fresh.host);
    fixed("Port", now.port, fresh.port);
    if (refused && !fresh.client_advertise.empty()) {
        if (auto parsed = io::parse_host_port(fresh.client_advertise, 0); !parsed) {
            refused = fail(Errc::kInvalid, "invalid ClientAdvertise value of " + fresh.client_advertise +
                                               ", err=" + parsed.error().text);
        }
    }
    fixed("NoSublistCache", now.no_sublist_cache, fresh.no_sublist_cache);
    fixed("NoHeaderSupport", now.no_header_support, fresh.no_header_support);
    fixed("LogtimeUTC", now.log_utc, fresh.log_utc);
    fixed("MaxSubs", now.max_subscriptions, fresh.max_subscriptions);
    fixed("MaxSubTokens", now.max_sub_tokens, fresh.max_sub_tokens);
    // no_auth_user may only go away with its user (nats-server's rule): the clients that came in
    // as it are then refused as any client whose user is gone.
    bool no_auth_user_dropped = !now.no_auth_user.empty() && fresh.no_auth_user.empty() &&
                                std::none_of(fresh.users.begin(), fresh.users.end(),
                                             [&](const config::User& user) { return user.user == now.no_auth_user; });
    // The stand-in that lets clients without credentials in where the system account is the only
    // account is no configured no_auth_user: it comes and goes with the accounts.
    auto configured = [](const std::string& user) {
        return user == config::kSystemOnlyNoAuthUser ? std::string() : user;
    };
    if (!no_auth_user_dropped) fixed("NoAuthUser", configured(now.no_auth_user), configured(fresh.no_auth_user));
    fixed("SystemAccount", now.system_account, fresh.system_account);
    fixed("NoSystemAccount", now.no_system_account, fresh.no_system_account);
    fixed("HTTPHost", now.http_host, fresh.http_host);
    fixed("HTTPPort", now.http_port, fresh.http_port);
    fixed("HTTPBasePath", now.http_base_path, fresh.http_base_path);
    fixed("HTTPSPort", now.https_port, fresh.https_port);
    fixed("MaxPending", now.max_pending_bytes, fresh.max_pending_bytes);
    fixed("JetStream", now.jetstream, fresh.jetstream);
    // nats-server's words for its JetStream store: a limit changed, or set where it was
    // derived, at once; the directory in its turn; a limit or a directory that goes, last.
    bool limit_goes = false;
    for (auto [old_value, new_value] : {std::pair{now.max_memory_store_bytes, fresh.max_memory_store_bytes},
                                        std::pair{now.max_file_store_bytes, fresh.max_file_store_bytes}}) {
        if (!refused || old_value == new_value) continue;
        if (new_value == -1) {
            limit_goes = true;
            continue;
        }
        refused = fail(Errc::kUnsupported, old_value == -1
                                               ? "config reload not supported for jetstream dynamic max memory and store"
                                               : "config reload not supported for jetstream max memory and store");
    }
    fixed("JetStreamDomain", now.jetstream_domain, fresh.jetstream_domain);
    fixed("JetStreamLimits", now.jetstream_limits, fresh.jetstream_limits);
    fixed("SyncInterval", now.sync_interval, fresh.sync_interval);
    if (refused && now.store_dir != fresh.store_dir && !fresh.store_dir.empty()) {
        refused = fail(Errc::kUnsupported, "config reload not supported for jetstream storage directory");
    }
    fixed("LogSizeLimit", now.log_size_limit_bytes, fresh.log_size_limit_bytes);
    fixed("LogMaxFiles", now.log_max_files, fresh.log_max_files);
    fixed("Syslog", now.syslog, fresh.syslog);
    fixed("RemoteSyslog", now.remote_syslog, fresh.remote_syslog);
    fixed("MaxClosedClients", now.max_closed_clients, fresh.max_closed_clients);
    fixed("LameDuckDuration", now.lame_duck_duration, fresh.lame_duck_duration);
    fixed("LameDuckGracePeriod", now.lame_duck_grace_period, fresh.lame_duck_grace_period);
    if (refused && limit_goes) {
        refused = fail(Errc::kUnsupported, "config reload not supported for jetstream max memory and max store");
    }
    if (refused && now.store_dir != fresh.store_dir) {
        refused = fail(Errc::kUnsupported, "config reload not supported for jetstream storage dir");
    }
    // Each account's JetStream is fixed at start, and keeps the number routing knows its account by.
    if (refused && (now.account_jetstream != fresh.account_jetstream ||
                    std::any_of(now.account_jetstream.begin(), now.account_jetstream.end(),
                                [&](const config::AccountJetStream& js) {
                                    return config::account_id(now, js.account) != config::account_id(fresh, js.account);
                                }))) {
        refused = fail(Errc::kUnsupported, "config reload not supported for account jetstream");
    }
    if (refused && now.account_limits != fresh.account_limits) {
        refused = fail(Errc::kUnsupported, "config reload not supported for account limits");
    }
    // Ringtail's own: the shards and their cores are fixed for the process's life.
    fixed("Shards", now.shards, fresh.shards);
    fixed("Cpus", now.cpus, fresh.cpus);
    if (!refused) return fail(refused.error().code, refused.error().text);

    ReloadPlan plan;
    auto reloaded = [&](bool changed, std::string line) {
        if (changed) plan.lines.push_back(std::move(line));
        return changed;
    };
    // The lines in the order of nats-server's Options fields. It always reloads users and
    // accounts (their mappings, exports and imports with them), and says so, changed or not.
    reloaded(now.client_advertise != fresh.client_advertise, "Reload: client_advertise = " + fresh.client_advertise);
    plan.logging |= reloaded(now.trace != fresh.trace, "Reloaded: trace = " + text(fresh.trace));
    plan.logging |= reloaded(now.debug != fresh.debug, "Reloaded: debug = " + text(fresh.debug));
    plan.logging |= reloaded(now.trace_verbose != fresh.trace_verbose, "Reloaded: trace_verbose = " + text(fresh.trace_verbose));
    plan.logging |= reloaded(now.logtime != fresh.logtime, "Reloaded: logtime = " + text(fresh.logtime));
    reloaded(now.max_connections != fresh.max_connections, "Reloaded: max_connections = " + text(fresh.max_connections));
    plan.auth |= now.users != fresh.users || now.accounts != fresh.accounts;
    reloaded(true, "Reloaded: authorization users");
    reloaded(true, "Reloaded: accounts");
    plan.auth |= reloaded(now.user != fresh.user, "Reloaded: authorization username");
    plan.auth |= reloaded(now.password != fresh.password, "Reloaded: authorization password");
    plan.auth |= reloaded(now.token != fresh.token, "Reloaded: authorization token");
    reloaded(now.ping_interval != fresh.ping_interval, "Reloaded: ping_interval = " + text(fresh.ping_interval));
    reloaded(now.ping_max != fresh.ping_max, "Reloaded: ping_max = " + text(fresh.ping_max));
    reloaded(now.auth_timeout != fresh.auth_timeout,
             "Reloaded: authorization timeout = " + text(static_cast<double>(fresh.auth_timeout.count()) / 1000.0));
    reloaded(now.max_control_line_bytes != fresh.max_control_line_bytes,
             "Reloaded: max_control_line = " + text(fresh.max_control_line_bytes));
    reloaded(now.max_payload_bytes != fresh.max_payload_bytes, "Reloaded: max_payload = " + text(fresh.max_payload_bytes));
    reloaded(now.cluster_name != fresh.cluster_name, "Reloaded: cluster");
    reloaded(now.pid_file != fresh.pid_file, "Reloaded: pid_file = " + fresh.pid_file);
    reloaded(now.ports_file_dir != fresh.ports_file_dir, "Reloaded: ports_file_dir = " + fresh.ports_file_dir);
    plan.logging |= reloaded(now.log_file != fresh.log_file, "Reloaded: log_file = " + fresh.log_file);
    reloaded(now.write_deadline != fresh.write_deadline, "Reloaded: write_deadline = " + text(fresh.write_deadline));
    reloaded(now.max_traced_msg_bytes != fresh.max_traced_msg_bytes,
             "Reloaded: max_traced_msg_len = " + text(fresh.max_traced_msg_bytes));
    reloaded(now.server_tags != fresh.server_tags, "Reloaded: tags");
    return plan;
}

}  // namespace ringtail::core
