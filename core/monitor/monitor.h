#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ringtail::core {
class Server;
}

namespace ringtail::core::monitor {

// One HTTP answer.
struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};

// A request's query parameters (the first value of each).
using Params = std::map<std::string, std::string, std::less<>>;

// The monitoring endpoints, as nats-server 2.9 serves them on its monitoring port: /varz,
// /connz, /subsz, /routez, /gatewayz, /leafz, /accountz, /accstatz, /jsz, /healthz and the
// index page, with nats-server's field names, query parameters and errors; and /metrics, the
// Prometheus text format with per-shard figures (docs/MONITORING.md lists them).
// Figures come from the shards by message (Server::gather), so serving never touches a
// shard's state from here. Thread-safe: the HTTP server calls handle() from several threads.
class Monitor {
public:
    explicit Monitor(const Server& server);

    // `path` is the request's path with the base path already taken off ("/varz"); the
    // index page is "/".
    Response handle(std::string_view path, const Params& params);

    // A request the system account's clients send ($SYS.REQ.SERVER.PING[.<kind>],
    // $SYS.REQ.SERVER.<id>.<kind>, $SYS.REQ.ACCOUNT.<account>.<kind>): nats-server's answer
    // (the endpoint's JSON in its {"server", "data"} envelope, or STATSZ's {"server", "statsz"}),
    // or nullopt where nats-server sends none (a filter naming another server, an unknown kind).
    std::optional<std::string> system_request(std::string_view subject, std::string_view payload);

    // nats-server's account_connections advisory for `account`: its connections here and
    // their traffic (zeros when it has none), as $SYS.ACCOUNT.<account>.SERVER.CONNS carries it.
    std::string account_connections(std::string_view account);

    // nats-server's uptime ("1d2h3m4s"); Go's durations are proto::js::go_duration.
    static std::string uptime(int64_t ns);

private:
    std::optional<std::string> system_answer(std::string_view subject, std::string_view payload);
    Response varz();
    // `filter_subject`: only open connections with a subscription that collides with it (a
    // $SYS CONNZ option, which nats-server's /connz does not take).
    Response connz(const Params& params, std::string_view filter_subject = {});
    // `whole`: the full object even without a list, as a system account request gets it.
    Response subsz(const Params& params, bool whole = false);
    Response jsz(const Params& params);
    Response healthz(const Params& params);
    Response accountz(const Params& params);
    Response accstatz(const Params& params);
    Response routez(const Params& params = {});
    Response gatewayz(const Params& params = {});
    Response leafz(const Params& params = {});
    Response metrics();
    Response index() const;
    void count_request(std::string_view path);
    double cpu_percent();

    const Server& server_;
    std::mutex mutex_;
    std::map<std::string, uint64_t, std::less<>> requests_;  // http_req_stats
    int64_t cpu_sampled_ns_ = 0;   // wall clock of the last CPU sample
    int64_t cpu_used_ns_ = 0;      // the process's CPU time then
    double cpu_percent_ = 0;
};

}  // namespace ringtail::core::monitor
