#include "core/monitor/monitor.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "core/js/random.h"
#include "core/server/log.h"
#include "core/server/server.h"
#include "proto/js/api.h"
#include "proto/js/stream_config.h"
#include "proto/subject.h"

namespace ringtail::core::monitor {
namespace {

using ojson = nlohmann::ordered_json;

constexpr auto kGatherTimeout = std::chrono::seconds(2);
constexpr int kDefaultListSize = 1024;  // connz and subsz pages, as nats-server

std::string rfc3339(int64_t ns) { return proto::js::rfc3339(ns); }

// Go's json.MarshalIndent(v, "", "  "), near enough: the same keys, two-space indent, and
// bytes that are not UTF-8 (a subject may hold any) replaced by U+FFFD as Go replaces them.
Response json_response(const ojson& body) {
    return {200, "application/json", body.dump(2, ' ', false, ojson::error_handler_t::replace)};
}

// What /jsz?leader-only=true answers where there is no JetStream leader (nats-server's
// errSkipZreq); a system account request gets no answer then.
constexpr std::string_view kNotLeader = "filtered response: not leader";

Response bad_request(std::string text) { return {400, "text/plain; charset=utf-8", std::move(text)}; }

std::string param(const Params& params, std::string_view name) {
    auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
}

// The query decoders of nats-server's handlers, with Go's strconv error texts.
std::optional<bool> decode_bool(const Params& params, std::string_view name, Response& error) {
    std::string text = param(params, name);
    if (text.empty()) return false;
    if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" || text == "True") return true;
    if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" || text == "False") {
        return false;
    }
    error = bad_request("Error decoding boolean for '" + std::string(name) + "': strconv.ParseBool: parsing \"" +
                        text + "\": invalid syntax");
    return std::nullopt;
}

// nats-server's decodeSubs: "detail" (any case) asks for details, else a boolean. False in
// `detail` on a bad value (with `error` set).
std::optional<bool> decode_subs(const Params& params, bool& detail, Response& error) {
    std::string text = param(params, "subs");
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    detail = text == "detail";
    if (detail) return false;
    return decode_bool(params, "subs", error);
}

template <class Int>
std::optional<Int> decode_number(const Params& params, std::string_view name, Response& error) {
    std::string text = param(params, name);
    if (text.empty()) return Int{0};
    std::string_view digits = text;
    if constexpr (std::is_signed_v<Int>) {
        if (digits.size() > 1 && digits[0] == '+') digits.remove_prefix(1);
    }
    Int value{};
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc() && end == digits.data() + digits.size()) return value;
    const char* kind = std::is_signed_v<Int> ? "int" : "uint64";
    const char* call = std::is_signed_v<Int> ? "strconv.Atoi" : "strconv.ParseUint";
    const char* why = ec == std::errc::result_out_of_range ? "value out of range" : "invalid syntax";
    error = bad_request(std::string("Error decoding ") + kind + " for '" + std::string(name) + "': " + call +
                        ": parsing \"" + text + "\": " + why);
    return std::nullopt;
}

int64_t process_cpu_ns() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto ns = [](const timeval& t) { return int64_t{t.tv_sec} * 1'000'000'000 + int64_t{t.tv_usec} * 1000; };
    return ns(usage.ru_utime) + ns(usage.ru_stime);
}

int64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    int64_t pages = 0;
    int64_t resident = 0;
    statm >> pages >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

ojson js_config(const Server& server) {
    config::Options options = server.options_snapshot();
    ojson config = {{"max_memory", server.js_max_memory()},
                    {"max_storage", server.js_max_store()},
                    {"store_dir", server.store_dir() + "/jetstream"}};
    // As nats-server 2.10 shows it: with "always", sync_always and its 2 minute default interval.
    constexpr int64_t kDefaultIntervalNs = 120'000'000'000;
    if (options.sync_interval.count() == 0) {
        config["sync_interval"] = kDefaultIntervalNs;
        config["sync_always"] = true;
    } else {
        config["sync_interval"] = std::chrono::duration_cast<std::chrono::nanoseconds>(options.sync_interval).count();
    }
    if (!options.jetstream_domain.empty()) config["domain"] = options.jetstream_domain;
    return config;
}

// JetStream's usage: the server's, or with a name one account's.
ojson js_stats(const Server& server, std::string_view account = {}) {
    Server::JsUsage usage = server.js_usage(account);
    return {{"memory", usage.memory_bytes},
            {"storage", usage.file_bytes},
            {"reserved_memory", usage.reserved_memory},
            {"reserved_storage", usage.reserved_store},
            {"accounts", server.js_accounts().size()},
            {"ha_assets", 0},
            {"api", {{"total", usage.api_total}, {"errors", usage.api_errors}}}};
}

// The accounts the server has: the global one, the configured ones and the system account.
std::vector<std::string> account_names(const config::Options& options) {
    std::vector<std::string> names{"$G"};
    names.insert(names.end(), options.accounts.begin(), options.accounts.end());
    std::string system(config::system_account_name(options));
    if (config::has_system_account(options) && std::find(names.begin(), names.end(), system) == names.end()) {
        names.push_back(system);
    }
    return names;
}

// Seconds as Go marshals a float64: "2", "0.5".
ojson seconds(std::chrono::milliseconds duration) {
    if (duration.count() % 1000 == 0) return duration.count() / 1000;
    return std::chrono::duration<double>(duration).count();
}

ojson sub_json(const SubFigures& sub, bool with_account) {
    ojson out = ojson::object();
    if (with_account) out["account"] = sub.account;
    out["subject"] = sub.subject;
    if (!sub.queue.empty()) out["qgroup"] = sub.queue;
    out["sid"] = sub.sid;
    out["msgs"] = sub.msgs;
    if (sub.max != 0) out["max"] = sub.max;
    out["cid"] = sub.cid;
    return out;
}

ojson conn_json(const ConnFigures& conn, int64_t now_ns, bool subs, bool subs_detail, bool auth) {
    bool closed = conn.stop_ns != 0;
    int64_t until = closed ? conn.stop_ns : now_ns;
    ojson out = {{"cid", conn.cid},
                 {"kind", "Client"},
                 {"type", "nats"},
                 {"ip", conn.ip},
                 {"port", conn.port},
                 {"start", rfc3339(conn.start_ns)},
                 {"last_activity", rfc3339(conn.last_activity_ns)}};
    if (closed) {
        out["stop"] = rfc3339(conn.stop_ns);
        out["reason"] = conn.reason;
    }
    out["rtt"] = proto::js::go_duration(conn.rtt_ns);
    out["uptime"] = Monitor::uptime(until - conn.start_ns);
    out["idle"] = Monitor::uptime(until - conn.last_activity_ns);
    out["pending_bytes"] = conn.pending_bytes;  // for a closed one, what it left unsent
    out["in_msgs"] = conn.traffic.in_msgs;
    out["out_msgs"] = conn.traffic.out_msgs;
    out["in_bytes"] = conn.traffic.in_bytes;
    out["out_bytes"] = conn.traffic.out_bytes;
    out["subscriptions"] = conn.subscriptions;
    if (!conn.name.empty()) out["name"] = conn.name;
    if (!conn.lang.empty()) out["lang"] = conn.lang;
    if (!conn.version.empty()) out["version"] = conn.version;
    if (auth && !conn.user.empty()) out["authorized_user"] = conn.user;
    if (auth && conn.account != "$G") out["account"] = conn.account;  // as nats-server: not the global one
    if (!conn.subs.empty() && subs_detail) {
        ojson list = ojson::array();
        // As nats-server: a closed connection's subscriptions name their account.
        for (const SubFigures& sub : conn.subs) list.push_back(sub_json(sub, closed));
        out["subscriptions_list_detail"] = std::move(list);
    } else if (!conn.subs.empty() && subs) {
        ojson list = ojson::array();
        for (const SubFigures& sub : conn.subs) list.push_back(sub.subject);
        out["subscriptions_list"] = std::move(list);
    }
    return out;
}

struct Totals {
    uint64_t connections = 0;
    uint64_t total_connections = 0;
    uint64_t slow_consumers = 0;
    uint64_t subscriptions = 0;
    uint64_t sub_inserts = 0;
    uint64_t sub_removes = 0;
    Traffic traffic;
    uint64_t streams = 0;
    uint64_t consumers = 0;
    uint64_t messages = 0;
    uint64_t bytes = 0;
};

Totals add_up(const std::vector<ShardFigures>& shards) {
    Totals totals;
    for (const ShardFigures& shard : shards) {
        totals.connections += shard.connections;
        totals.total_connections += shard.total_connections;
        totals.slow_consumers += shard.slow_consumers;
        // As nats-server's sublist count: the server's own subscriptions (streams, consumers,
        // the JetStream API) count too.
        totals.subscriptions += shard.sub_inserts - shard.sub_removes;
        totals.sub_inserts += shard.sub_inserts;
        totals.sub_removes += shard.sub_removes;
        totals.traffic += shard.traffic;
        for (const StreamFigures& stream : shard.streams) {
            ++totals.streams;
            totals.consumers += stream.consumer_count;
            totals.messages += stream.messages;
            totals.bytes += stream.bytes;
        }
    }
    return totals;
}

// nats-server's SublistStats fields from sublist figures: the rates are fractions, written
// as Go writes a float64 (a whole number without a point).
void put_sublist_stats(ojson& stats, const SublistFigures& sublist) {
    auto number = [](double value) {
        return value == static_cast<double>(static_cast<int64_t>(value)) ? ojson(static_cast<int64_t>(value))
                                                                         : ojson(value);
    };
    stats["num_cache"] = sublist.cached;
    stats["num_matches"] = sublist.matches;
    stats["cache_hit_rate"] =
        number(sublist.matches > 0 ? static_cast<double>(sublist.cache_hits) / static_cast<double>(sublist.matches) : 0);
    stats["max_fanout"] = sublist.fanout_max;
    stats["avg_fanout"] = number(
        sublist.cached > 0 ? static_cast<double>(sublist.fanout_total) / static_cast<double>(sublist.cached) : 0);
}

// Every shard's sublist figures for the account named (empty: summed over all).
SublistFigures sublist_figures(const std::vector<ShardFigures>& shards, const config::Options& options,
                               std::string_view account) {
    SublistFigures sum;
    for (const ShardFigures& shard : shards) {
        for (uint32_t id = 0; id < shard.sublists.size(); ++id) {
            if (account.empty() || config::account_name(options, id) == account) sum += shard.sublists[id];
        }
    }
    return sum;
}

// One account's share of the open connections (and, with add_closed, of what closed ones did).
struct AccountTotals {
    uint64_t connections = 0;
    uint64_t subscriptions = 0;
    Traffic traffic;
    uint64_t slow_consumers = 0;
};

std::map<std::string, AccountTotals> account_totals(const std::vector<ShardFigures>& shards) {
    std::map<std::string, AccountTotals> by_account;
    for (const ShardFigures& shard : shards) {
        for (const ConnFigures& conn : shard.open) {
            AccountTotals& totals = by_account[conn.account];
            ++totals.connections;
            totals.subscriptions += conn.subscriptions;
            totals.traffic += conn.traffic;
        }
    }
    return by_account;
}

// nats-server's account statistics count what every connection of the account did, closed
// ones too: a counter that never goes back.
void add_closed(const std::vector<ShardFigures>& shards, std::map<std::string, AccountTotals>& by_account) {
    for (const ShardFigures& shard : shards) {
        for (const auto& [name, closed] : shard.closed_accounts) {
            AccountTotals& totals = by_account[name];
            totals.traffic += closed.traffic;
            totals.slow_consumers += closed.slow_consumers;
        }
    }
}

const char* const kSortOptions[] = {"cid",  "start", "subs",   "pending", "msgs_to", "msgs_from", "bytes_to",
                                    "bytes_from", "last", "idle", "uptime", "stop", "reason"};

}  // namespace

Monitor::Monitor(const Server& server) : server_(server) {}

std::string Monitor::uptime(int64_t ns) {
    int64_t secs = std::max<int64_t>(ns, 0) / 1'000'000'000;
    int64_t mins = secs / 60;
    int64_t hours = mins / 60;
    int64_t days = hours / 24;
    int64_t years = days / 365;
    char text[96];
    if (years > 0) {
        std::snprintf(text, sizeof text, "%ldy%ldd%ldh%ldm%lds", years, days % 365, hours % 24, mins % 60, secs % 60);
    } else if (days > 0) {
        std::snprintf(text, sizeof text, "%ldd%ldh%ldm%lds", days, hours % 24, mins % 60, secs % 60);
    } else if (hours > 0) {
        std::snprintf(text, sizeof text, "%ldh%ldm%lds", hours, mins % 60, secs % 60);
    } else if (mins > 0) {
        std::snprintf(text, sizeof text, "%ldm%lds", mins, secs % 60);
    } else {
        std::snprintf(text, sizeof text, "%lds", secs);
    }
    return text;
}

void Monitor::count_request(std::string_view path) {
    std::lock_guard lock(mutex_);
    auto it = requests_.find(path);
    if (it == requests_.end()) it = requests_.emplace(std::string(path), 0).first;
    ++it->second;
}

Response Monitor::handle(std::string_view path, const Params& params) {
    // nats-server also answers /subscriptionsz (the long name of /subsz).
    if (path == "/subscriptionsz") path = "/subsz";
    static const std::string_view kPaths[] = {"/",       "/varz",     "/connz",    "/routez",  "/gatewayz", "/leafz",
                                              "/subsz",  "/accountz", "/accstatz", "/jsz",     "/healthz",  "/metrics"};
    if (std::find(std::begin(kPaths), std::end(kPaths), path) == std::end(kPaths)) {
        return {404, "text/plain; charset=utf-8", "404 page not found\n"};
    }
    count_request(path);
    Response response;
    if (path == "/") return index();
    if (path == "/varz") response = varz();
    if (path == "/connz") response = connz(params);
    if (path == "/routez") response = routez(params);
    if (path == "/gatewayz") response = gatewayz(params);
    if (path == "/leafz") response = leafz(params);
    if (path == "/subsz") response = subsz(params);
    if (path == "/accountz") response = accountz(params);
    if (path == "/accstatz") response = accstatz(params);
    if (path == "/jsz") response = jsz(params);
    if (path == "/healthz") response = healthz(params);
    if (path == "/metrics") return metrics();
    // JSONP, as nats-server: ?callback=name wraps the JSON.
    std::string callback = param(params, "callback");
    if (!callback.empty() && response.content_type == "application/json") {
        response.content_type = "application/javascript";
        response.body = callback + "(" + response.body + ")";
    }
    return response;
}

// ---------------------------------------------------------------------------------------------
// The system account's requests: the same figures as the endpoints, in nats-server's envelopes.

namespace {

// A request's JSON options as the endpoint's query parameters: nats-server's option field
// names (ConnzOptions, SubszOptions, JSzOptions, ...) against its query names.
struct OptionName {
    std::string_view json;
    std::string_view query;
};
constexpr OptionName kConnzOptions[] = {{"sort", "sort"},     {"auth", "auth"},   {"subscriptions", "subs"},
                                        {"offset", "offset"}, {"limit", "limit"}, {"cid", "cid"},
                                        {"user", "user"},     {"acc", "acc"},     {"mqtt_client", "mqtt_client"}};
constexpr OptionName kSubszOptions[] = {
    {"offset", "offset"}, {"limit", "limit"}, {"subscriptions", "subs"}, {"account", "acc"}, {"test", "test"}};
constexpr OptionName kJszOptions[] = {{"account", "acc"},     {"accounts", "accounts"}, {"streams", "streams"},
                                      {"consumer", "consumers"}, {"config", "config"},  {"leader_only", "leader-only"},
                                      {"offset", "offset"},   {"limit", "limit"}};
constexpr OptionName kAccountzOptions[] = {{"account", "acc"}};
constexpr OptionName kHealthzOptions[] = {
    {"js-enabled", "js-enabled"}, {"js-enabled-only", "js-enabled-only"}, {"js-server-only", "js-server-only"}};

template <size_t N>
Params to_params(const ojson& options, const OptionName (&names)[N]) {
    Params params;
    for (const OptionName& name : names) {
        auto it = options.find(std::string(name.json));
        if (it == options.end() || it->is_null()) continue;
        params[std::string(name.query)] = it->is_string() ? it->get<std::string>() : it->dump();
    }
    return params;
}

// nats-server's ConnzOptions beyond the query's names: `state` a number (0 open, 1 closed, 2
// all), `subscriptions_detail` a flag. A value of the wrong type throws (a 400, as there).
Params connz_params(const ojson& request) {
    Params params = to_params(request, kConnzOptions);
    if (auto it = request.find("state"); it != request.end() && !it->is_null()) {
        int state = it->get<int>();
        params["state"] = state == 1 ? "closed" : state == 2 ? "all" : "open";
    }
    if (auto it = request.find("subscriptions_detail"); it != request.end() && !it->is_null() && it->get<bool>()) {
        params["subs"] = "detail";
    }
    return params;
}

}  // namespace

std::optional<std::string> Monitor::system_request(std::string_view subject, std::string_view payload) {
    try {
        return system_answer(subject, payload);
    } catch (const nlohmann::json::exception& error) {
        // An option of the wrong type (a number for a name, say): nats-server answers a
        // request it cannot decode with a 400.
        ojson out = {{"server", server_.system_server_info(server_.options_snapshot())},
                     {"error", {{"code", 400}, {"description", error.what()}}}};
        return out.dump();
    }
}

std::optional<std::string> Monitor::system_answer(std::string_view subject, std::string_view payload) {
    std::vector<std::string_view> tokens;
    for (size_t start = 0;;) {
        size_t dot = subject.find('.', start);
        tokens.push_back(subject.substr(start, dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (tokens.size() < 4 || tokens[0] != "$SYS" || tokens[1] != "REQ") return std::nullopt;
    bool server_scope = tokens[2] == "SERVER";
    // $SYS.REQ.SERVER.PING is the older STATSZ ping.
    std::string_view kind = tokens.size() == 4 ? std::string_view("STATSZ") : tokens[4];
    if (tokens.size() > 5 || (tokens.size() == 4 && !(server_scope && tokens[3] == "PING"))) return std::nullopt;
    std::string_view account = server_scope ? std::string_view() : tokens[3];

    config::Options options = server_.options_snapshot();
    auto server_info = [&] { return server_.system_server_info(options); };
    ojson request = ojson::object();
    if (!payload.empty()) {
        request = ojson::parse(payload, nullptr, false);
        if (request.is_discarded() || !request.is_object()) {
            return ojson{{"server", server_info()}, {"error", {{"code", 400}, {"description", "invalid JSON request"}}}}
                .dump();
        }
    }
    // nats-server's filterRequest: a request for other servers gets no answer here.
    auto wanted = [&](const char* field, std::string_view ours) {
        std::string asked = request.value(field, "");
        return asked.empty() || ours.find(asked) != std::string_view::npos;
    };
    if (!wanted("server_name", options.server_name) || !wanted("host", options.host) ||
        !wanted("cluster", options.cluster_name)) {
        return std::nullopt;
    }
    std::string domain = request.value("domain", "");
    if (!domain.empty() && domain != options.jetstream_domain) return std::nullopt;
    // Tags that are not a list of strings are a request nats-server cannot decode (a 400).
    for (const std::string& tag : request.value("tags", std::vector<std::string>{})) {
        if (std::find(options.server_tags.begin(), options.server_tags.end(), config::server_tag(tag)) ==
            options.server_tags.end()) {
            return std::nullopt;
        }
    }

    Response response;
    if (server_scope && kind == "STATSZ") {
        ojson varz = ojson::parse(this->varz().body);
        ojson stats = {{"start", varz["start"]},
                       {"mem", varz["mem"]},
                       {"cores", varz["cores"]},
                       {"cpu", varz["cpu"]},
                       {"connections", varz["connections"]},
                       {"total_connections", varz["total_connections"]},
                       {"active_accounts", 0},
                       {"subscriptions", varz["subscriptions"]},
                       {"sent", {{"msgs", varz["out_msgs"]}, {"bytes", varz["out_bytes"]}}},
                       {"received", {{"msgs", varz["in_msgs"]}, {"bytes", varz["in_bytes"]}}},
                       {"slow_consumers", varz["slow_consumers"]},
                       {"active_servers", 1}};
        Query query;
        query.connections = true;
        stats["active_accounts"] = account_totals(server_.gather(query, kGatherTimeout)).size();
        if (options.jetstream) {
            stats["jetstream"] = varz["jetstream"];
            stats["jetstream"]["config"].erase("store_dir");  // nats-server keeps it to itself here
        }
        return ojson{{"server", server_info()}, {"statsz", std::move(stats)}}.dump();
    }
    if (server_scope) {
        if (kind == "VARZ") response = varz();
        else if (kind == "CONNZ") response = connz(connz_params(request), request.value("filter_subject", ""));
        else if (kind == "SUBSZ") response = subsz(to_params(request, kSubszOptions), /*whole=*/true);
        else if (kind == "JSZ") response = jsz(to_params(request, kJszOptions));
        else if (kind == "ACCOUNTZ") response = accountz(to_params(request, kAccountzOptions));
        else if (kind == "HEALTHZ") response = healthz(to_params(request, kHealthzOptions));
        else if (kind == "ROUTEZ") response = routez();
        else if (kind == "GATEWAYZ") response = gatewayz();
        else if (kind == "LEAFZ") response = leafz();
        else return std::nullopt;
    } else {
        Params params;
        if (kind == "CONNZ") {
            params = connz_params(request);
            params["acc"] = std::string(account);
            response = connz(params, request.value("filter_subject", ""));
        } else if (kind == "SUBSZ") {
            params = to_params(request, kSubszOptions);
            params["acc"] = std::string(account);
            params["subs"] = "true";
            response = subsz(params, /*whole=*/true);
        } else if (kind == "LEAFZ") {
            response = leafz();
        } else if (kind == "INFO") {
            // nats-server's accountInfo: what /accountz says of the account.
            params["acc"] = std::string(account);
            response = accountz(params);
            if (response.status == 200) {
                response.body = ojson::parse(response.body)["account_detail"].dump();
            } else {
                response.status = 500;
            }
        } else if (kind == "JSZ") {
            // nats-server's JszAccount: the account's entry of /jsz, or why there is none.
            std::string name(account);
            bool known = name == "$G" || name == config::system_account_name(options) ||
                         std::find(options.accounts.begin(), options.accounts.end(), name) != options.accounts.end();
            bool enabled = std::any_of(server_.js_accounts().begin(), server_.js_accounts().end(),
                                       [&](const Server::JsAccount& one) { return one.name == name; });
            if (!options.jetstream) {
                response = {500, "text/plain", "jetstream not enabled"};
            } else if (!known) {
                response = {500, "text/plain", "account \"" + name + "\" not found"};
            } else if (!enabled) {
                response = {500, "text/plain", "account \"" + name + "\" not jetstream enabled"};
            } else {
                params = to_params(request, kJszOptions);
                params["acc"] = name;
                response = jsz(params);
                if (response.status == 200) response.body = ojson::parse(response.body)["account_details"][0].dump();
            }
        } else if (kind == "CONNS") {
            // nats-server's connsRequest: the account's connection counts as an advisory, sent
            // only while it has connections here, and only for a request naming this account.
            if (request.contains("acc") && request.value("acc", "") != account) return std::nullopt;
            ojson event = ojson::parse(account_connections(account));
            if (event["total_conns"] == 0) return std::nullopt;
            return event.dump();
        } else if (kind == "STATZ") {
            // One account's traffic, or with PING every account's (those the request names).
            // An account without connections is left out unless include_unused; with nothing
            // to report there is no answer.
            std::vector<std::string> named_accounts;
            if (account != "PING") {
                named_accounts.emplace_back(account);
            } else if (auto named = request.find("accounts"); named != request.end() && named->is_array()) {
                for (const ojson& name : *named) {
                    if (name.is_string()) named_accounts.push_back(name.get<std::string>());
                }
            }
            bool unused = request.value("include_unused", false);
            if (unused) params["unused"] = "true";
            ojson statz = ojson::parse(accstatz(params).body);
            ojson kept = ojson::array();
            for (ojson& one : statz["account_statz"]) {
                if (named_accounts.empty() || std::find(named_accounts.begin(), named_accounts.end(), one["acc"].get<std::string>()) != named_accounts.end()) {
                    kept.push_back(std::move(one));
                }
            }
            if (kept.empty() && !unused) return std::nullopt;
            statz["account_statz"] = std::move(kept);
            return ojson{{"server", server_info()}, {"data", std::move(statz)}}.dump();
        } else {
            return std::nullopt;
        }
    }
    // nats-server's zReq leaves a request for the leader alone unanswered elsewhere.
    if (response.body == kNotLeader) return std::nullopt;
    ojson out = {{"server", server_info()}};
    if (response.status == 200) {
        out["data"] = ojson::parse(response.body, nullptr, false);
    } else {
        // nats-server's zReq: what the endpoint refuses is a 500, with its nil answer as data
        // (a request it cannot decode is a 400, without data).
        std::string text = response.body;
        while (!text.empty() && text.back() == '\n') text.pop_back();
        out["data"] = nullptr;
        out["error"] = {{"code", 500}, {"description", text}};
    }
    return out.dump();
}

double Monitor::cpu_percent() {
    // The process's CPU use since the previous sample (at least a second ago), as a percentage
    // of one core; nats-server samples its own the same way.
    std::lock_guard lock(mutex_);
    int64_t now = base::wall_clock_ns();
    if (cpu_sampled_ns_ == 0 || now - cpu_sampled_ns_ >= 1'000'000'000) {
        int64_t used = process_cpu_ns();
        int64_t since = cpu_sampled_ns_ == 0 ? server_.start_ns() : cpu_sampled_ns_;
        int64_t base_used = cpu_sampled_ns_ == 0 ? 0 : cpu_used_ns_;
        if (now > since) cpu_percent_ = std::round(1000.0 * static_cast<double>(used - base_used) / static_cast<double>(now - since)) / 10.0;
        cpu_sampled_ns_ = now;
        cpu_used_ns_ = used;
    }
    return cpu_percent_;
}

Response Monitor::varz() {
    config::Options options = server_.options_snapshot();
    std::vector<ShardFigures> shards = server_.gather({}, kGatherTimeout);
    Totals totals = add_up(shards);
    int64_t now = base::wall_clock_ns();
    ojson out = {{"server_id", server_.server_id()},
                 {"server_name", options.server_name},
                 {"version", kNatsCompatVersion},
                 {"proto", 1},
                 {"host", options.host},
                 {"port", server_.port()}};
    if (options.auth_required()) out["auth_required"] = true;
    out["max_connections"] = options.max_connections;
    if (options.max_subscriptions > 0) out["max_subscriptions"] = options.max_subscriptions;
    out["ping_interval"] = std::chrono::duration_cast<std::chrono::nanoseconds>(options.ping_interval).count();
    out["ping_max"] = options.ping_max;
    out["http_host"] = options.http_host.empty() ? options.host : options.http_host;
    out["http_port"] = options.http_port;  // as configured (-1: any port), as nats-server shows it
    out["http_base_path"] = options.http_base_path;
    out["https_port"] = options.https_port;
    out["auth_timeout"] = seconds(options.auth_timeout);
    out["max_control_line"] = options.max_control_line_bytes;
    out["max_payload"] = options.max_payload_bytes;
    out["max_pending"] = options.max_pending_bytes;
    out["cluster"] = ojson::object();
    if (!options.cluster_name.empty()) out["cluster"]["name"] = options.cluster_name;
    out["gateway"] = ojson::object();
    out["leaf"] = ojson::object();
    out["mqtt"] = ojson::object();
    out["websocket"] = ojson::object();
    out["jetstream"] = ojson::object();
    if (options.jetstream) {
        out["jetstream"] = {{"config", js_config(server_)}, {"stats", js_stats(server_)}};
    }
    out["tls_timeout"] = 2;
    out["write_deadline"] = std::chrono::duration_cast<std::chrono::nanoseconds>(options.write_deadline).count();
    out["start"] = rfc3339(server_.start_ns());
    out["now"] = rfc3339(now);
    out["uptime"] = uptime(now - server_.start_ns());
    out["mem"] = resident_bytes();
    out["cores"] = std::thread::hardware_concurrency();
    // Go's GOMAXPROCS is how many threads run the server's code at once: the shards here.
    out["gomaxprocs"] = server_.shard_count();
    out["cpu"] = cpu_percent();
    out["connections"] = totals.connections;
    out["total_connections"] = totals.total_connections;
    out["routes"] = 0;
    out["remotes"] = 0;
    out["leafnodes"] = 0;
    out["in_msgs"] = totals.traffic.in_msgs;
    out["out_msgs"] = totals.traffic.out_msgs;
    out["in_bytes"] = totals.traffic.in_bytes;
    out["out_bytes"] = totals.traffic.out_bytes;
    out["slow_consumers"] = totals.slow_consumers;
    out["subscriptions"] = totals.subscriptions;
    {
        std::lock_guard lock(mutex_);
        ojson stats = ojson::object();
        for (const auto& [path, count] : requests_) stats[path] = count;
        out["http_req_stats"] = std::move(stats);
    }
    out["config_load_time"] = rfc3339(server_.config_load_ns());
    if (!options.server_tags.empty()) out["tags"] = options.server_tags;
    if (config::has_system_account(options)) out["system_account"] = std::string(config::system_account_name(options));
    // Ringtail's own.
    out["shards"] = server_.shard_count();
    return json_response(out);
}

Response Monitor::connz(const Params& params, std::string_view filter_subject) {
    Response error;
    std::string sort = param(params, "sort");
    auto auth = decode_bool(params, "auth", error);
    if (!auth) return error;
    bool subs_detail = false;
    auto subs = decode_subs(params, subs_detail, error);
    if (!subs) return error;
    auto offset = decode_number<int>(params, "offset", error);
    if (!offset) return error;
    auto limit = decode_number<int>(params, "limit", error);
    if (!limit) return error;
    auto cid = decode_number<uint64_t>(params, "cid", error);
    if (!cid) return error;
    std::string state_text = param(params, "state");
    std::transform(state_text.begin(), state_text.end(), state_text.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    bool want_open = true;
    bool want_closed = false;
    if (state_text == "closed") {
        want_open = false;
        want_closed = true;
    } else if (state_text == "any" || state_text == "all") {
        want_closed = true;
    } else if (!state_text.empty() && state_text != "open") {
        return bad_request("Error decoding state for " + param(params, "state"));
    }
    std::string user = param(params, "user");
    std::string account = param(params, "acc");
    std::string mqtt_client = param(params, "mqtt_client");  // no MQTT connections here: none has it

    if (sort.empty()) sort = "cid";
    if (std::find(std::begin(kSortOptions), std::end(kSortOptions), sort) == std::end(kSortOptions)) {
        return bad_request("invalid sorting option: " + sort);
    }
    if (sort == "stop" && want_open) return bad_request("sort by stop only valid on closed connections");
    if (sort == "reason" && want_open) return bad_request("sort by reason only valid on closed connections");
    int off = std::max(*offset, 0);
    int lim = *limit <= 0 ? kDefaultListSize : *limit;
    if (*cid > 0) lim = 1;
    if (filter_subject == ">") filter_subject = {};
    if (!filter_subject.empty() && account.empty()) {
        return bad_request("filter by subject only valid with account filtering");
    }

    if (!account.empty()) {
        std::vector<std::string> names = account_names(server_.options_snapshot());
        if (std::find(names.begin(), names.end(), account) == names.end()) {
            // As nats-server answers for an account it does not know: an empty page, no server id.
            return json_response(ojson{{"server_id", ""},
                                       {"now", rfc3339(base::wall_clock_ns())},
                                       {"num_connections", 0},
                                       {"total", 0},
                                       {"offset", off},
                                       {"limit", lim},
                                       {"connections", nullptr}});
        }
    }
    Query query;
    query.connections = want_open;
    query.closed_connections = want_closed;
    query.connection_subs = *subs || subs_detail || !filter_subject.empty();
    query.cid = *cid;
    std::vector<ShardFigures> shards = server_.gather(query, kGatherTimeout);
    int64_t now = base::wall_clock_ns();

    ojson out = {{"server_id", server_.server_id()}, {"now", rfc3339(now)}};
    std::vector<const ConnFigures*> conns;
    size_t total = 0;
    size_t in_account = 0;
    for (const ShardFigures& shard : shards) {
        if (want_open) total += shard.connections;
        if (want_closed) total += shard.closed.size();
        for (const auto* list : {&shard.open, &shard.closed}) {
            for (const ConnFigures& conn : *list) {
                if ((!account.empty() && conn.account != account) || (!user.empty() && conn.user != user)) continue;
                ++in_account;
                if (!mqtt_client.empty()) continue;
                // As nats-server: the subject narrows the open connections only.
                if (!filter_subject.empty() && list == &shard.open &&
                    std::none_of(conn.subs.begin(), conn.subs.end(), [&](const SubFigures& sub) {
                        return proto::js::subjects_collide(filter_subject, sub.subject);
                    })) {
                    continue;
                }
                conns.push_back(&conn);
            }
        }
    }
    // As nats-server: the total is of the state asked for (in the account asked for), not
    // narrowed by a cid.
    if (!account.empty() && *cid == 0) total = in_account;
    auto by = [&](auto key, bool descending) {
        std::stable_sort(conns.begin(), conns.end(), [&](const ConnFigures* a, const ConnFigures* b) {
            return descending ? key(*b) < key(*a) : key(*a) < key(*b);
        });
    };
    std::sort(conns.begin(), conns.end(), [](const ConnFigures* a, const ConnFigures* b) { return a->cid < b->cid; });
    if (sort == "subs") by([](const ConnFigures& c) { return c.subscriptions; }, true);
    if (sort == "pending") by([](const ConnFigures& c) { return c.pending_bytes; }, true);
    if (sort == "msgs_to") by([](const ConnFigures& c) { return c.traffic.out_msgs; }, true);
    if (sort == "msgs_from") by([](const ConnFigures& c) { return c.traffic.in_msgs; }, true);
    if (sort == "bytes_to") by([](const ConnFigures& c) { return c.traffic.out_bytes; }, true);
    if (sort == "bytes_from") by([](const ConnFigures& c) { return c.traffic.in_bytes; }, true);
    if (sort == "last") by([](const ConnFigures& c) { return c.last_activity_ns; }, true);
    // nats-server's byIdle: the time from the start to the last activity, longest first; its
    // byUptime: shortest first.
    if (sort == "idle") by([](const ConnFigures& c) { return c.last_activity_ns - c.start_ns; }, true);
    if (sort == "uptime") by([&](const ConnFigures& c) { return (c.stop_ns ? c.stop_ns : now) - c.start_ns; }, false);
    if (sort == "stop") by([](const ConnFigures& c) { return c.stop_ns; }, true);
    if (sort == "reason") by([](const ConnFigures& c) { return c.reason; }, false);

    size_t first = std::min<size_t>(static_cast<size_t>(off), conns.size());
    size_t last = std::min<size_t>(first + static_cast<size_t>(lim), conns.size());
    out["num_connections"] = last - first;
    out["total"] = total;
    out["offset"] = off;
    out["limit"] = lim;
    ojson list = ojson::array();
    for (size_t i = first; i < last; ++i) list.push_back(conn_json(*conns[i], now, *subs, subs_detail, *auth));
    out["connections"] = std::move(list);
    return json_response(out);
}

Response Monitor::subsz(const Params& params, bool whole) {
    Response error;
    auto subs = decode_bool(params, "subs", error);
    if (!subs) return error;
    auto offset = decode_number<int>(params, "offset", error);
    if (!offset) return error;
    auto limit = decode_number<int>(params, "limit", error);
    if (!limit) return error;
    std::string test = param(params, "test");
    std::string account = param(params, "acc");
    if (!test.empty() && !proto::is_valid_literal_subject(test)) {
        return bad_request("invalid test subject, must be valid publish subject: " + test);
    }
    int off = std::max(*offset, 0);
    int lim = *limit <= 0 ? kDefaultListSize : *limit;
    Query query;
    query.subscriptions = *subs || !account.empty();
    std::vector<ShardFigures> shards = server_.gather(query, kGatherTimeout);
    Totals totals = add_up(shards);
    // Figures for one account count its subscriptions; the sublist's own counters are the
    // server's (every account's) as nats-server's sublist stats are without a filter.
    bool one_account = !account.empty() && (account != "$G" || !server_.options_snapshot().accounts.empty());
    size_t in_account = 0;
    std::vector<const SubFigures*> list;
    for (const ShardFigures& shard : shards) {
        for (const SubFigures& sub : shard.subs) {
            if (!account.empty() && sub.account != account) continue;
            ++in_account;
            if (!*subs || (!test.empty() && !proto::subject_matches(sub.subject, test))) continue;
            list.push_back(&sub);
        }
    }
    ojson stats = {{"num_subscriptions", one_account ? in_account : totals.subscriptions},
                   {"num_cache", 0},
                   {"num_inserts", one_account ? in_account : totals.sub_inserts},
                   {"num_removes", one_account ? 0 : totals.sub_removes},
                   {"num_matches", 0},
                   {"cache_hit_rate", 0},
                   {"max_fanout", 0},
                   {"avg_fanout", 0}};
    put_sublist_stats(stats, sublist_figures(shards, server_.options_snapshot(), one_account ? account : ""));
    std::sort(list.begin(), list.end(), [](const SubFigures* a, const SubFigures* b) {
        return a->cid != b->cid ? a->cid < b->cid : a->sid < b->sid;
    });
    size_t first = std::min<size_t>(static_cast<size_t>(off), list.size());
    size_t last = std::min<size_t>(first + static_cast<size_t>(lim), list.size());
    // As nats-server's HTTP handler: with nothing to list (on this page), only the statistics.
    if (first == last && !whole) return json_response(stats);
    ojson out = {{"server_id", server_.server_id()}, {"now", rfc3339(base::wall_clock_ns())}};
    out.update(stats);
    out["total"] = last - first;  // nats-server counts the page, not every match
    out["offset"] = off;
    out["limit"] = lim;
    ojson details = ojson::array();
    for (size_t i = first; i < last; ++i) details.push_back(sub_json(*list[i], true));
    if (!details.empty()) out["subscriptions_list"] = std::move(details);
    return json_response(out);
}

Response Monitor::jsz(const Params& params) {
    Response error;
    auto accounts = decode_bool(params, "accounts", error);
    if (!accounts) return error;
    auto streams = decode_bool(params, "streams", error);
    if (!streams) return error;
    auto consumers = decode_bool(params, "consumers", error);
    if (!consumers) return error;
    auto config = decode_bool(params, "config", error);
    if (!config) return error;
    auto offset = decode_number<int>(params, "offset", error);
    if (!offset) return error;
    auto limit = decode_number<int>(params, "limit", error);
    if (!limit) return error;
    auto leader_only = decode_bool(params, "leader-only", error);
    if (!leader_only) return error;
    std::string account = param(params, "acc");
    bool want_streams = *streams || *consumers;
    bool want_accounts = *accounts || want_streams;

    int64_t now = base::wall_clock_ns();
    ojson out = {{"server_id", server_.server_id()}, {"now", rfc3339(now)}};
    if (!server_.options_snapshot().jetstream) {
        // Without JetStream there is no leader (one server with it leads).
        if (*leader_only) return bad_request(std::string(kNotLeader));
        out["disabled"] = true;
        out["config"] = {{"max_memory", 0}, {"max_storage", 0}};
        out.update(ojson{{"memory", 0},
                         {"storage", 0},
                         {"reserved_memory", 0},
                         {"reserved_storage", 0},
                         {"accounts", 0},
                         {"ha_assets", 0},
                         {"api", {{"total", 0}, {"errors", 0}}}});
        out.update(ojson{{"streams", 0}, {"consumers", 0}, {"messages", 0}, {"bytes", 0}});
        return json_response(out);
    }
    Query query;
    query.streams = *consumers;
    query.stream_details = want_streams;
    query.consumer_details = *consumers;
    query.stream_configs = *config;
    std::vector<ShardFigures> shards = server_.gather(query, kGatherTimeout);
    Totals totals = add_up(shards);
    out["config"] = js_config(server_);
    ojson stats = js_stats(server_);
    out.update(stats);
    out["streams"] = totals.streams;
    out["consumers"] = totals.consumers;
    out["messages"] = totals.messages;
    out["bytes"] = totals.bytes;
    // Each account with JetStream: listed when asked for (within offset/limit), or named.
    // As nats-server: a named account alone if it has JetStream, else (when asked) every
    // account by name from the offset, at most the limit.
    std::vector<std::string> listed;
    for (const Server::JsAccount& one : server_.js_accounts()) listed.push_back(one.name);
    std::sort(listed.begin(), listed.end());
    if (std::find(listed.begin(), listed.end(), account) != listed.end()) {
        listed = {account};
    } else if (!want_accounts) {
        listed.clear();
    } else {
        listed.erase(listed.begin(), listed.begin() + std::min<size_t>(std::max(*offset, 0), listed.size()));
        if (*limit > 0 && listed.size() > static_cast<size_t>(*limit)) listed.resize(*limit);
    }
    ojson account_details = ojson::array();
    for (const std::string& name : listed) {
        ojson detail = {{"name", name}, {"id", name}};
        detail.update(js_stats(server_, name));
        // The account's own limits, as nats-server reports them (-1, none, as an unsigned).
        const auto& js_accounts = server_.js_accounts();
        auto js_account = std::find_if(js_accounts.begin(), js_accounts.end(),
                                       [&name](const Server::JsAccount& one) { return one.name == name; });
        detail["reserved_memory"] = static_cast<uint64_t>(js_account->limits.max_memory);
        detail["reserved_storage"] = static_cast<uint64_t>(js_account->limits.max_store);
        detail["accounts"] = 0;
        if (want_streams) {
            std::vector<const StreamFigures*> list;
            for (const ShardFigures& shard : shards) {
                for (const StreamFigures& stream : shard.streams) {
                    if (stream.account == name) list.push_back(&stream);
                }
            }
            std::sort(list.begin(), list.end(),
                      [](const StreamFigures* a, const StreamFigures* b) { return a->name < b->name; });
            ojson details = ojson::array();
            const config::Options options = server_.options_snapshot();
            // One server: it leads every stream, as nats-server reports it outside a cluster.
            ojson cluster = ojson::object();
            if (!options.cluster_name.empty()) cluster["name"] = options.cluster_name;
            cluster["leader"] = options.server_name;
            for (const StreamFigures* stream : list) {
                ojson row = ojson::parse(stream->detail.dump());
                row["cluster"] = cluster;
                details.push_back(std::move(row));
            }
            if (!details.empty()) detail["stream_detail"] = std::move(details);
        }
        account_details.push_back(std::move(detail));
    }
    if (!account_details.empty()) out["account_details"] = std::move(account_details);
    return json_response(out);
}

Response Monitor::healthz(const Params& params) {
    Response error;
    auto enabled = decode_bool(params, "js-enabled", error);
    if (!enabled) return error;
    auto enabled_only = decode_bool(params, "js-enabled-only", error);
    if (!enabled_only) return error;
    auto server_only = decode_bool(params, "js-server-only", error);
    if (!server_only) return error;
    auto unhealthy = [](const std::string& why) {
        log_warn("Healthcheck failed: \"" + why + "\"");
        return Response{503, "application/json", ojson{{"status", "error"}, {"error", why}}.dump()};
    };
    // In lame duck mode the client listener is closed: nats-server's readyForConnections fails.
    if (server_.in_lame_duck()) return unhealthy("failed to be ready for connections after 1ms: server");
    // Healthy when every shard answers: a shard whose loop is stuck is not serving.
    std::vector<ShardFigures> shards = server_.gather({}, kGatherTimeout);
    for (const ShardFigures& shard : shards) {
        if (!shard.answered) return unhealthy("shard " + std::to_string(shard.shard) + " is not answering");
    }
    return {200, "application/json", ojson{{"status", "ok"}}.dump()};
}

namespace {

// /accountz's mappings, exports and imports of `account` (each left out when empty), as
// nats-server's AccountInfo lists them.
void add_imports_and_exports(const config::Options& options, const std::string& account, bool jetstream,
                             ojson& detail) {
    auto in = [&](const std::string& owner) { return owner == account || (owner.empty() && account == "$G"); };
    const std::string system(config::system_account_name(options));
    ojson mappings = ojson::object();
    for (const config::SubjectMapping& mapping : options.mappings) {
        if (!in(mapping.account)) continue;
        // nats-server's: those of no cluster, then each cluster's.
        std::vector<std::string> clusters{""};
        for (const config::MappingDestination& destination : mapping.destinations) {
            if (std::find(clusters.begin(), clusters.end(), destination.cluster) == clusters.end()) {
                clusters.push_back(destination.cluster);
            }
        }
        ojson list = ojson::array();
        for (const std::string& cluster : clusters) {
            for (const config::MappingDestination& destination : config::weighted_destinations(mapping, cluster)) {
                list.push_back({{"subject", destination.subject}, {"weight", destination.weight}});
                if (!cluster.empty()) list.back()["cluster"] = cluster;
            }
        }
        mappings[mapping.source] = std::move(list);
    }
    if (!mappings.empty()) detail["mappings"] = std::move(mappings);

    ojson exports = ojson::array();
    auto approved = [](ojson& out, const std::vector<std::string>& accounts) {
        if (!accounts.empty()) out["approved_accounts"] = accounts;
    };
    if (account == system) {
        for (const char* subject : {"$SYS.REQ.ACCOUNT.*.CONNZ", "$SYS.REQ.ACCOUNT.*.STATZ"}) {
            exports.push_back({{"subject", subject}, {"type", "service"}, {"response_type", "Streamed"}});
        }
        if (options.jetstream) {
            exports.push_back({{"subject", "$JS.API.>"}, {"type", "service"}, {"response_type", "Singleton"}});
        }
    }
    for (const config::ServiceExport& service : options.service_exports) {
        if (!in(service.account)) continue;
        const char* type = service.response_type == config::ResponseType::kStream    ? "Streamed"
                           : service.response_type == config::ResponseType::kChunked ? "Chunked"
                                                                                     : "Singleton";
        ojson one = {{"subject", service.subject}, {"type", "service"}, {"response_type", type}};
        approved(one, service.accounts);
        exports.push_back(std::move(one));
    }
    for (const config::StreamExport& stream : options.stream_exports) {
        if (!in(stream.account)) continue;
        ojson one = {{"subject", stream.subject}, {"type", "stream"}};
        approved(one, stream.accounts);
        exports.push_back(std::move(one));
    }
    if (!exports.empty()) detail["exports"] = std::move(exports);

    ojson imports = ojson::array();
    auto import = [&](ojson one) {
        one.update(ojson{{"invalid", false}, {"share", false}, {"tracking", false}});
        imports.push_back(std::move(one));
    };
    for (const config::StreamImport& stream : options.stream_imports) {
        if (!in(stream.account)) continue;
        import({{"subject", stream.subject}, {"account", stream.from_account},
                {"local_subject", stream.to.empty() ? stream.subject : stream.to}, {"type", "stream"}});
    }
    // Each account but the system one imports these of the system account's (Shard::SystemRequests).
    if (account != system && config::has_system_account(options)) {
        for (auto [subject, kind] : {std::pair{"$SYS.REQ.ACCOUNT.PING.CONNZ", "CONNZ"},
                                     std::pair{"$SYS.REQ.SERVER.PING.CONNZ", "CONNZ"},
                                     std::pair{"$SYS.REQ.ACCOUNT.PING.STATZ", "STATZ"}}) {
            import({{"subject", subject}, {"account", system},
                    {"to", "$SYS.REQ.ACCOUNT." + account + "." + kind}, {"type", "service"}});
        }
    }
    // nats-server serves the JetStream API through an import from its system account, in every
    // account with JetStream and in those without that do not import the API from another.
    if (options.jetstream && account != system && config::has_system_account(options) &&
        (jetstream || !config::imports_jetstream_api(options, account))) {
        import({{"subject", "$JS.API.>"}, {"account", system}, {"to", "$JS.API.>"}, {"type", "service"}});
    }
    for (const config::ServiceImport& service : options.service_imports) {
        if (!in(service.account)) continue;
        import({{"subject", service.to.empty() ? service.subject : service.to}, {"account", service.from_account},
                {"to", service.subject}, {"type", "service"}});
    }
    if (!imports.empty()) detail["imports"] = std::move(imports);
}

}  // namespace

Response Monitor::accountz(const Params& params) {
    config::Options options = server_.options_snapshot();
    const std::string system = std::string(config::system_account_name(options));
    // With no_system_account there is none: null here, and not among the accounts.
    const bool has_system = config::has_system_account(options);
    ojson out = {{"server_id", server_.server_id()},
                 {"now", rfc3339(base::wall_clock_ns())},
                 {"system_account", has_system ? ojson(system) : ojson(nullptr)}};
    std::string account = param(params, "acc");
    std::vector<std::string> names = account_names(options);
    if (account.empty()) {
        out["accounts"] = names;
        return json_response(out);
    }
    if (std::find(names.begin(), names.end(), account) == names.end()) {
        return bad_request("Account " + account + " does not exist");
    }
    // As nats-server's AccountInfo: is_system only when true, no mappings when there are none.
    // Updated when the config that defines it was loaded (at start, then by each reload).
    ojson account_detail = {{"account_name", account}, {"update_time", rfc3339(server_.config_load_ns())}};
    if (account == system) account_detail["is_system"] = true;
    const bool jetstream = std::any_of(server_.js_accounts().begin(), server_.js_accounts().end(),
                                       [&](const Server::JsAccount& one) { return one.name == account; });
    account_detail.update(ojson{{"expired", false},
                             {"complete", true},
                             {"jetstream_enabled", jetstream},
                             {"leafnode_connections", 0},
                             {"client_connections", 0},
                             {"subscriptions", 0}});
    add_imports_and_exports(options, account, jetstream, account_detail);
    account_detail.update(ojson{{"sublist_stats", {{"num_subscriptions", 0},
                                                {"num_cache", 0},
                                                {"num_inserts", 0},
                                                {"num_removes", 0},
                                                {"num_matches", 0},
                                                {"cache_hit_rate", 0},
                                                {"max_fanout", 0},
                                                {"avg_fanout", 0}}}});
    out["account_detail"] = std::move(account_detail);
    if (account == system && !config::system_account_id(options)) return json_response(out);
    Query query;
    query.connections = true;
    std::vector<ShardFigures> shards = server_.gather(query, kGatherTimeout);
    ojson& detail = out["account_detail"];
    put_sublist_stats(detail["sublist_stats"], sublist_figures(shards, options, account));
    if (account == "$G" && options.accounts.empty()) {
        Totals totals = add_up(shards);
        detail["client_connections"] = totals.connections;
        detail["subscriptions"] = totals.subscriptions;
        detail["sublist_stats"]["num_subscriptions"] = totals.subscriptions;
        detail["sublist_stats"]["num_inserts"] = totals.sub_inserts;
        detail["sublist_stats"]["num_removes"] = totals.sub_removes;
        return json_response(out);
    }
    AccountTotals totals = account_totals(shards)[account];
    detail["client_connections"] = totals.connections;
    detail["subscriptions"] = totals.subscriptions;
    detail["sublist_stats"]["num_subscriptions"] = totals.subscriptions;
    return json_response(out);
}

Response Monitor::accstatz(const Params& params) {
    Response error;
    auto unused = decode_bool(params, "unused", error);
    if (!unused) return error;
    std::string filter = param(params, "accounts");
    config::Options options = server_.options_snapshot();
    Query query;
    query.connections = true;
    std::vector<ShardFigures> shards = server_.gather(query, kGatherTimeout);
    std::map<std::string, AccountTotals> by_account = account_totals(shards);
    add_closed(shards, by_account);
    ojson out = {{"server_id", server_.server_id()}, {"now", rfc3339(base::wall_clock_ns())}};
    ojson list = ojson::array();
    std::vector<std::string> names{"$G"};
    names.insert(names.end(), options.accounts.begin(), options.accounts.end());
    // The system account is one of nats-server's accounts even when no configuration names it.
    if (std::string system(config::system_account_name(options));
        config::has_system_account(options) && std::find(names.begin(), names.end(), system) == names.end()) {
        names.push_back(system);
    }
    for (const std::string& name : names) {
        AccountTotals totals = by_account[name];
        bool named = filter.empty() || filter.find(name) != std::string::npos;
        if (!named || (!*unused && totals.connections == 0)) continue;
        list.push_back({{"acc", name},
                        {"conns", totals.connections},
                        {"leafnodes", 0},
                        {"total_conns", totals.connections},
                        {"sent", {{"msgs", totals.traffic.out_msgs}, {"bytes", totals.traffic.out_bytes}}},
                        {"received", {{"msgs", totals.traffic.in_msgs}, {"bytes", totals.traffic.in_bytes}}},
                        {"slow_consumers", totals.slow_consumers}});
    }
    out["account_statz"] = std::move(list);
    return json_response(out);
}

std::string Monitor::account_connections(std::string_view account) {
    ojson event = {{"type", "io.nats.server.advisory.v1.account_connections"},
                   {"id", js::random_token(22)},
                   {"timestamp", rfc3339(base::wall_clock_ns())},
                   {"server", server_.system_server_info(server_.options_snapshot())}};
    ojson statz = ojson::parse(accstatz({{"unused", "true"}, {"accounts", std::string(account)}}).body);
    for (ojson& one : statz["account_statz"]) {
        if (one["acc"] != account) continue;
        for (auto& [key, value] : one.items()) event[key] = std::move(value);
        return event.dump();
    }
    // An account the configuration no longer has (a reload took it away): nothing is left in it.
    event.update({{"acc", account}, {"conns", 0}, {"leafnodes", 0}, {"total_conns", 0},
                  {"sent", {{"msgs", 0}, {"bytes", 0}}}, {"received", {{"msgs", 0}, {"bytes", 0}}},
                  {"slow_consumers", 0}});
    return event.dump();
}

// Without routes, gateways or leaf nodes these list nothing; their options are still checked
// as nats-server checks them (a bad boolean is a 400).
Response Monitor::routez(const Params& params) {
    Response error;
    bool detail = false;
    if (!decode_subs(params, detail, error)) return error;
    ojson out = {{"server_id", server_.server_id()},
                 {"now", rfc3339(base::wall_clock_ns())},
                 {"num_routes", 0},
                 {"routes", ojson::array()}};
    return json_response(out);
}

Response Monitor::gatewayz(const Params& params) {
    Response error;
    if (!decode_bool(params, "accs", error)) return error;
    ojson out = {{"server_id", server_.server_id()},
                 {"now", rfc3339(base::wall_clock_ns())},
                 {"outbound_gateways", ojson::object()},
                 {"inbound_gateways", ojson::object()}};
    return json_response(out);
}

Response Monitor::leafz(const Params& params) {
    Response error;
    if (!decode_bool(params, "subs", error)) return error;
    ojson out = {{"server_id", server_.server_id()},
                 {"now", rfc3339(base::wall_clock_ns())},
                 {"leafnodes", 0},
                 {"leafs", nullptr}};
    return json_response(out);
}

Response Monitor::metrics() {
    Query query;
    query.streams = true;
    std::vector<ShardFigures> shards = server_.gather(query, kGatherTimeout);
    std::string out;
    auto family = [&](const char* name, const char* type, const char* help) {
        out += std::string("# HELP ringtail_") + name + " " + help + "\n# TYPE ringtail_" + name + " " + type + "\n";
    };
    auto sample = [&](const char* name, const std::string& labels, uint64_t value) {
        out += std::string("ringtail_") + name + "{" + labels + "} " + std::to_string(value) + "\n";
    };
    auto per_shard = [&](const char* name, const char* type, const char* help, auto value) {
        family(name, type, help);
        for (const ShardFigures& shard : shards) {
            if (shard.answered) sample(name, "shard=\"" + std::to_string(shard.shard) + "\"", value(shard));
        }
    };
    // Label values are stream and consumer names: escape what the text format needs.
    auto quoted = [](std::string_view text) {
        std::string q = "\"";
        for (char c : text) {
            if (c == '\\' || c == '"') q += '\\';
            if (c == '\n') {
                q += "\\n";
                continue;
            }
            q += c;
        }
        return q + "\"";
    };
    family("up", "gauge", "1 while the server serves; shards that did not answer are missing below.");
    out += "ringtail_up 1\n";
    family("shards", "gauge", "Event loops (one per core).");
    out += "ringtail_shards " + std::to_string(server_.shard_count()) + "\n";
    per_shard("connections", "gauge", "Client connections open.", [](const ShardFigures& s) { return s.connections; });
    per_shard("connections_total", "counter", "Client connections accepted.",
              [](const ShardFigures& s) { return s.total_connections; });
    per_shard("connections_moved_in_total", "counter",
              "Client connections that moved here from another shard, to publish where their messages are read.",
              [](const ShardFigures& s) { return s.connections_moved_in; });
    per_shard("subscriptions", "gauge", "Client subscriptions.", [](const ShardFigures& s) { return s.subscriptions; });
    per_shard("in_msgs_total", "counter", "Messages published by clients.",
              [](const ShardFigures& s) { return s.traffic.in_msgs; });
    per_shard("in_bytes_total", "counter", "Bytes (headers and payload) published by clients.",
              [](const ShardFigures& s) { return s.traffic.in_bytes; });
    per_shard("out_msgs_total", "counter", "Messages delivered to clients.",
              [](const ShardFigures& s) { return s.traffic.out_msgs; });
    per_shard("out_bytes_total", "counter", "Bytes (headers and payload) delivered to clients.",
              [](const ShardFigures& s) { return s.traffic.out_bytes; });
    per_shard("slow_consumers_total", "counter", "Connections closed as slow consumers.",
              [](const ShardFigures& s) { return s.slow_consumers; });
    per_shard("loop_turns_total", "counter", "Event loop turns.", [](const ShardFigures& s) { return s.loop_turns; });
    per_shard("loop_completions_total", "counter",
              "io_uring completions reaped (divided by turns: the batch size per turn).",
              [](const ShardFigures& s) { return s.completions; });
    per_shard("ring_full_waits_total", "counter",
              "Messages that waited for room in a ring to another shard (back-pressure).",
              [](const ShardFigures& s) { return s.ring_full_waits; });
    family("ring_bytes", "gauge", "Bytes waiting in the ring from one shard to another.");
    for (const ShardFigures& shard : shards) {
        for (size_t peer = 0; peer < shard.ring_bytes_out.size(); ++peer) {
            if (peer == shard.shard) continue;
            sample("ring_bytes", "from=\"" + std::to_string(shard.shard) + "\",to=\"" + std::to_string(peer) + "\"",
                   shard.ring_bytes_out[peer]);
        }
    }
    if (!shards.empty()) {
        family("ring_capacity_bytes", "gauge", "Capacity of each ring between two shards.");
        out += "ringtail_ring_capacity_bytes " + std::to_string(shards[0].ring_capacity_bytes) + "\n";
    }
    if (!server_.options_snapshot().jetstream) return {200, "text/plain; version=0.0.4; charset=utf-8", std::move(out)};

    // Store writes (O_DIRECT + dsync, each carrying a group commit; page cache writes under a
    // sync_interval) as a Prometheus histogram.
    family("store_write_seconds", "histogram", "Time from queueing a durable write of a file stream to its completion.");
    for (const ShardFigures& shard : shards) {
        if (!shard.answered || shard.write_buckets.empty()) continue;
        std::string labels = "shard=\"" + std::to_string(shard.shard) + "\"";
        uint64_t cumulative = 0;
        for (size_t i = 0; i < shard.write_buckets.size(); ++i) {
            cumulative += shard.write_buckets[i];
            char le[32];
            if (i < shard.write_bounds_us.size()) {
                std::snprintf(le, sizeof le, "%g", static_cast<double>(shard.write_bounds_us[i]) / 1e6);
            } else {
                std::snprintf(le, sizeof le, "+Inf");
            }
            out += "ringtail_store_write_seconds_bucket{" + labels + ",le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
        }
        char sum[64];
        std::snprintf(sum, sizeof sum, "%.9f", static_cast<double>(shard.write_ns) / 1e9);
        out += "ringtail_store_write_seconds_sum{" + labels + "} " + sum + "\n";
        out += "ringtail_store_write_seconds_count{" + labels + "} " + std::to_string(shard.writes) + "\n";
    }
    Server::JsUsage usage = server_.js_usage();
    family("jetstream_memory_bytes", "gauge", "Bytes held by memory streams.");
    out += "ringtail_jetstream_memory_bytes " + std::to_string(usage.memory_bytes) + "\n";
    family("jetstream_storage_bytes", "gauge", "Bytes held by file streams.");
    out += "ringtail_jetstream_storage_bytes " + std::to_string(usage.file_bytes) + "\n";
    family("jetstream_api_requests_total", "counter", "JetStream API requests answered.");
    out += "ringtail_jetstream_api_requests_total " + std::to_string(usage.api_total) + "\n";
    family("jetstream_api_errors_total", "counter", "JetStream API requests answered with an error.");
    out += "ringtail_jetstream_api_errors_total " + std::to_string(usage.api_errors) + "\n";
    struct Row {
        std::string labels;
        const StreamFigures* stream;
    };
    std::vector<Row> rows;
    for (const ShardFigures& shard : shards) {
        for (const StreamFigures& stream : shard.streams) {
            rows.push_back({"account=" + quoted(stream.account) + ",stream=" + quoted(stream.name) + ",shard=\"" +
                                std::to_string(shard.shard) + "\"",
                            &stream});
        }
    }
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.labels < b.labels; });
    auto per_stream = [&](const char* name, const char* help, auto value) {
        family(name, "gauge", help);
        for (const Row& row : rows) sample(name, row.labels, value(*row.stream));
    };
    per_stream("stream_messages", "Messages in the stream.", [](const StreamFigures& s) { return s.messages; });
    per_stream("stream_bytes", "Bytes in the stream.", [](const StreamFigures& s) { return s.bytes; });
    per_stream("stream_first_seq", "The stream's first sequence.", [](const StreamFigures& s) { return s.first_seq; });
    per_stream("stream_last_seq", "The stream's last sequence.", [](const StreamFigures& s) { return s.last_seq; });
    per_stream("stream_consumers", "Consumers on the stream.", [](const StreamFigures& s) { return s.consumer_count; });
    auto per_consumer = [&](const char* name, const char* help, auto value) {
        family(name, "gauge", help);
        for (const Row& row : rows) {
            for (const StreamFigures::Consumer& consumer : row.stream->consumers) {
                sample(name, row.labels + ",consumer=" + quoted(consumer.name), value(consumer));
            }
        }
    };
    using Consumer = StreamFigures::Consumer;
    per_consumer("consumer_num_pending", "Messages the consumer has yet to deliver.",
                 [](const Consumer& c) { return c.num_pending; });
    per_consumer("consumer_num_ack_pending", "Deliveries waiting for an ack.",
                 [](const Consumer& c) { return c.num_ack_pending; });
    per_consumer("consumer_num_redelivered", "Messages delivered more than once, not yet acked.",
                 [](const Consumer& c) { return c.num_redelivered; });
    per_consumer("consumer_num_waiting", "Pull requests waiting.", [](const Consumer& c) { return c.num_waiting; });
    per_consumer("consumer_delivered_stream_seq", "The last stream sequence delivered.",
                 [](const Consumer& c) { return c.delivered_stream_seq; });
    per_consumer("consumer_ack_floor_stream_seq", "The stream sequence acked up to.",
                 [](const Consumer& c) { return c.ack_floor_stream_seq; });
    return {200, "text/plain; version=0.0.4; charset=utf-8", std::move(out)};
}

Response Monitor::index() const {
    std::string base = server_.options_snapshot().http_base_path;
    while (!base.empty() && base.back() == '/') base.pop_back();
    std::string body = "<html lang=\"en\">\n<head><title>Ringtail monitoring</title></head>\n<body>\n";
    body += "<p>ringtail v" + std::string(kRingtailVersion) + " (nats-server " + kNatsCompatVersion +
            " compatible)</p>\n";
    const std::pair<const char*, const char*> links[] = {
        {"varz", "General"},       {"jsz", "JetStream"},        {"connz", "Connections"},
        {"accountz", "Accounts"},  {"accstatz", "Account Stats"}, {"subsz", "Subscriptions"},
        {"routez", "Routes"},      {"leafz", "LeafNodes"},      {"gatewayz", "Gateways"},
        {"healthz", "Health Probe"}, {"metrics", "Metrics (Prometheus)"}};
    for (const auto& [path, title] : links) {
        body += std::string("<a href=.") + base + "/" + path + ">" + title + "</a><br/>\n";
    }
    body += "</body>\n</html>\n";
    return {200, "text/html; charset=utf-8", std::move(body)};
}

}  // namespace ringtail::core::monitor
