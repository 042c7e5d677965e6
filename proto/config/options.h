#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringtail::config {

// One direction (publish or subscribe) of a user's permissions (opts.go parseSubjectPermission).
// An absent list differs from an empty one: no `allow` means "everything", an empty `allow`
// means "nothing".
struct SubjectPermission {
    std::optional<std::vector<std::string>> allow;
    std::optional<std::vector<std::string>> deny;
    bool operator==(const SubjectPermission&) const = default;
};

// allow_responses: a subscriber may reply to requests it received, up to `msgs_max` replies
// within `expires` (nats-server defaults: 1 message, 2 minutes; negative means unlimited).
struct ResponsePermission {
    int64_t msgs_max = 1;
    std::chrono::milliseconds expires{2 * 60 * 1000};
    bool operator==(const ResponsePermission&) const = default;
};

struct Permissions {
    std::optional<SubjectPermission> publish;
    std::optional<SubjectPermission> subscribe;
    std::optional<ResponsePermission> allow_responses;
    bool operator==(const Permissions&) const = default;
};

// An entry of authorization { users: [...] } or of an account's users.
struct User {
    std::string user;
    std::string password;  // Plain text or a bcrypt hash ("$2a$...").
    std::string nkey;
    std::optional<Permissions> permissions;
    std::string account;  // the account it belongs to; empty: the global account ($G)
    // allowed_connection_types, upper case (STANDARD, WEBSOCKET, LEAFNODE, LEAFNODE_WS, MQTT,
    // MQTT_WS); empty: any. Ringtail's clients are all STANDARD ones.
    std::vector<std::string> connection_types;
    bool operator==(const User&) const = default;
};

// An account's exports: [{ stream: "subject", accounts: [...] }]: messages on `subject`
// (a pattern) that the listed accounts (all, when none is listed) may import.
struct StreamExport {
    std::string account;  // the exporting account
    std::string subject;
    std::vector<std::string> accounts;
    bool operator==(const StreamExport&) const = default;
};

// An account's imports: [{ stream: { account, subject }, prefix | to }]: messages published
// in `from_account` on `subject` are delivered to this account's subscribers on `to` (the
// subject itself, the prefix and a dot before it, or the `to` pattern, whose wildcards take
// the subject's in order).
struct StreamImport {
    std::string account;  // the importing account
    std::string from_account;
    std::string subject;
    std::string to;
    bool operator==(const StreamImport&) const = default;
};

// An account's service exports: [{ service: "subject", accounts: [...], response_type,
// response_threshold }]: requests on `subject` (a pattern) that the listed accounts (all,
// when none is listed) may send through a service import. Responses travel back through
// reply subjects the server makes ("_R_.<prefix>.<token>" in the exporting account): one
// response each (singleton), or any number (stream, chunked) until none came for the
// threshold; a singleton's unanswered request is forgotten after it too.
enum class ResponseType : uint8_t { kSingleton, kStream, kChunked };
struct ServiceExport {
    std::string account;  // the exporting account
    std::string subject;
    std::vector<std::string> accounts;
    ResponseType response_type = ResponseType::kSingleton;
    int64_t response_threshold_ns = 2 * 60 * 1'000'000'000LL;  // nats-server's default, 2m
    bool operator==(const ServiceExport&) const = default;
};

// An account's service imports: [{ service: { account, subject }, to }]: what this account
// publishes on `to` (default: the subject) goes to `from_account` on `subject`, the wildcards
// of `to` taking the subject's in order.
struct ServiceImport {
    std::string account;  // the importing account
    std::string from_account;
    std::string subject;
    std::string to;
    bool operator==(const ServiceImport&) const = default;
};

// mappings { "source": "destination" | { destination, weight, cluster } | [ ... ] }, at the top
// level (the global account) or in an account: what a client publishes on `source` is routed
// on a destination instead, picked by weight (percent; what is left keeps the source). The
// destinations of a cluster, if there are any for the server's cluster name, are picked from
// instead of those of none.
struct MappingDestination {
    std::string subject;
    uint32_t weight = 100;
    std::string cluster;  // empty: any
    bool operator==(const MappingDestination&) const = default;
};
struct SubjectMapping {
    std::string account;  // empty: the global account
    std::string source;
    std::vector<MappingDestination> destinations;
    bool operator==(const SubjectMapping&) const = default;
};
// As nats-server's AddWeightedMappings keeps those of `cluster` (and /accountz lists them):
// what the weights leave goes to the source itself (its wildcards as $1, $2, ...), unless the
// source is a destination already; in ascending weight, each weight the sum of those up to it.
std::vector<MappingDestination> weighted_destinations(const SubjectMapping& mapping, std::string_view cluster = {});
// The destinations a server of `cluster` picks from (those of its cluster, if any), weighted.
std::vector<MappingDestination> destinations_for(const SubjectMapping& mapping, std::string_view cluster);

// jetstream { limits }, nats-server's JSLimitOpts: what no consumer or stream may go beyond,
// and the defaults they take under it (0: no limit).
struct JetStreamLimits {
    // A pull consumer's max_batch: its bound and, when it sets none, its value.
    int64_t max_request_batch = 0;
    // A consumer's max_ack_pending: its bound and the cap on its default.
    int64_t max_ack_pending = 0;
    // Replicated streams and consumers: a server without a cluster has none to count.
    int64_t max_ha_assets = 0;
    // A stream's duplicate_window: its bound and the cap on its default of 2 minutes.
    std::chrono::nanoseconds duplicate_window{0};
    bool operator==(const JetStreamLimits&) const = default;
};

// accounts { NAME: { jetstream: ... } }: an account with JetStream and its limits (-1: none),
// nats-server's JetStreamAccountLimits.
struct AccountJetStream {
    std::string account;
    int64_t max_memory = -1;
    int64_t max_store = -1;
    int64_t max_streams = -1;
    int64_t max_consumers = -1;
    bool max_bytes_required = false;        // every stream must set max_bytes
    int64_t memory_max_stream_bytes = -1;   // the largest max_bytes a memory stream may set
    int64_t store_max_stream_bytes = -1;    // and a file stream
    int64_t max_ack_pending = -1;           // the most a consumer may set, and the default below 1000
    bool operator==(const AccountJetStream&) const = default;
};

// accounts { NAME: { limits: {...} } }: nats-server's account limits (-1: none). Connections
// count across the account; subscriptions and payload bound each of its connections.
struct AccountLimits {
    std::string account;
    int64_t max_connections = -1;
    int64_t max_subscriptions = -1;
    int64_t max_payload = -1;
    bool operator==(const AccountLimits&) const = default;
};

// Everything a user can set on the command line or in a config file, with nats-server's
// defaults (server/const.go, server/opts.go). Plain data: the server reads it at start.
struct Options {
    // Listener.
    std::string host = "0.0.0.0";
    int port = 4222;  // -1: a random free port, as nats-server does.
    std::string server_name;
    // cluster { name } or --cluster_name, with nothing else of a cluster: named in INFO, the
    // banner, /varz and the system account's server info, as by nats-server with no routes.
    std::string cluster_name;
    std::vector<std::string> server_tags;  // lower-cased, trimmed, each once (/varz "tags")

    // Logging.
    bool debug = false;
    bool trace = false;
    bool logtime = true;
    std::string log_file;
    std::string pid_file;
    // --signal <command>[=<pid or pid file>]: send a running server a signal and exit.
    std::string signal_command;
    std::string ports_file_dir;
    std::string config_file;
    bool trace_verbose = false;        // -VV: also trace the system account.
    bool syslog = false;               // -s: the local syslog
    std::string remote_syslog;         // -r: udp://host:port, tcp://host:port, unix:///path
    int64_t log_size_limit_bytes = 0;  // 0: no rotation.
    int32_t log_max_files = 0;         // logfile_max_num: backups kept (0: all)
    bool log_utc = false;              // logtime_utc
    int32_t max_traced_msg_bytes = 0;  // 0: trace whole messages.
    bool check_config = false;         // -t: load the config, report, exit.
    std::string client_advertise;

    // Single-user / token auth (authorization { user password token timeout }).
    std::string user;
    std::string password;
    std::string token;
    std::chrono::milliseconds auth_timeout{2000};
    std::vector<User> users;  // authorization { users: [...] } and every account's users
    // accounts { NAME: {...} }: each account's own subject space, in the config's order.
    std::vector<std::string> accounts;
    std::vector<StreamExport> stream_exports;
    std::vector<StreamImport> stream_imports;
    std::vector<ServiceExport> service_exports;
    std::vector<ServiceImport> service_imports;
    std::vector<SubjectMapping> mappings;  // in the config's order: the first that matches applies
    // Accounts whose config enables JetStream, in the config's order. With accounts
    // configured, only these have JetStream (and only when the server has it); without, the
    // global account has it.
    std::vector<AccountJetStream> account_jetstream;
    std::vector<AccountLimits> account_limits;  // the accounts that set any
    std::string no_auth_user;  // the user a client that sends no credentials is
    // system_account: the account of the server's own requests and events ($SYS.>); empty
    // for the default, $SYS. Its clients reach them only when the config defines it.
    std::string system_account;
    // no_system_account: without a system_account, and no account of the default name, there
    // is no system account at all: no account gets its imports ($SYS.REQ.SERVER.PING.CONNZ...).
    bool no_system_account = false;
    // Whether clients must authenticate: a user, a token or a users list is configured.
    bool auth_required() const { return !user.empty() || !token.empty() || !users.empty(); }
    std::optional<Permissions> default_permissions;

    // Limits.
    int64_t max_payload_bytes = 1 << 20;     // MAX_PAYLOAD_SIZE
    int64_t max_pending_bytes = 64LL << 20;  // MAX_PENDING_SIZE
    int32_t max_control_line_bytes = 4096;   // MAX_CONTROL_LINE_SIZE
    int32_t max_connections = 64 * 1024;     // DEFAULT_MAX_CONNECTIONS
    int32_t max_subscriptions = 0;           // 0: unlimited
    int32_t max_sub_tokens = 0;              // tokens in a subscription's subject; 0: unlimited
    bool no_sublist_cache = false;           // every publish walks the subscription trie
    bool no_header_support = false;          // INFO offers no headers: no client may send any
    std::chrono::milliseconds ping_interval{2 * 60 * 1000};
    int32_t ping_max = 2;
    std::chrono::milliseconds write_deadline{10 * 1000};

    // Monitoring (accepted; 0 = disabled, -1 = random).
    int http_port = 0;
    int https_port = 0;
    std::string http_host;  // Empty: the client listener's host.
    std::string http_base_path;
    int32_t max_closed_clients = 10000;  // connections /connz?state=closed remembers

    // Lame duck mode (SIGUSR2, --signal ldm): after the grace period, clients are closed
    // spread over the rest of the duration.
    std::chrono::milliseconds lame_duck_duration{2 * 60 * 1000};
    std::chrono::milliseconds lame_duck_grace_period{10 * 1000};

    // JetStream: enabled by -js or a jetstream block; -1 = no storage limit.
    bool jetstream = false;
    std::string store_dir;
    int64_t max_memory_store_bytes = -1;
    int64_t max_file_store_bytes = -1;
    // jetstream { sync_interval }: 0 ("always", Ringtail's default) makes every write reach
    // stable storage before its PubAck; an interval acks once the device has the bytes and
    // flushes its cache that often (nats-server's default trade-off, 2 minutes there).
    std::chrono::milliseconds sync_interval{0};
    // jetstream { domain }: named in INFO, the API's answers and PubAcks, and reachable as
    // $JS.<domain>.API (see add_jetstream_domain_mappings). Empty: none.
    std::string jetstream_domain;
    // jetstream { limits { ... } }: bounds on every account's streams and consumers (0: none).
    JetStreamLimits jetstream_limits;

    // Ringtail's own: shard count (0 = one per usable core) and the cores to pin to.
    int shards = 0;
    std::vector<int> cpus;

    // nats-server features the input asked for that Ringtail does not provide yet. The server
    // should refuse to start when either is non-empty rather than run without, say, TLS.
    std::vector<std::string> unsupported_flags;     // As spelled: "--tls", "-routes", ...
    std::vector<std::string> unsupported_features;  // Config keys: "tls", "cluster", ...
};

// The number routing knows account `name` by: 0 for the global account ($G, or empty), then
// 1, 2, ... in the order of Options::accounts. An unknown name is the global account.
uint32_t account_id(const Options& options, std::string_view name);
// The limits of account `id` (nullptr when it sets none).
const AccountLimits* account_limits(const Options& options, uint32_t id);
// The system account's number, when the config defines the system account (routing has no
// number for one it does not define, and no client can be in it).
std::optional<uint32_t> system_account_id(const Options& options);
inline constexpr std::string_view kDefaultSystemAccount = "$SYS";
// Whether the server has a system account (one the config defines, or the default one that
// every account imports from), as no_system_account allows it.
bool has_system_account(const Options& options);
// The system account's name: system_account, or the default.
inline std::string_view system_account_name(const Options& options) {
    return options.system_account.empty() ? kDefaultSystemAccount : std::string_view(options.system_account);
}
// Whether `account` imports a service whose subject there covers $JS.API.INFO: it reaches
// another account's JetStream that way, and the server answers none of that API itself there.
bool imports_jetstream_api(const Options& options, std::string_view account);
// nats-server's JetStream domain mappings: with a jetstream domain D, in every account but the
// system account and those that import the API (imports_jetstream_api) without JetStream of
// their own, $JS.D.API.INFO, .STREAM.>, .CONSUMER.>, .DIRECT.>, .META.>, .SERVER.> and
// .ACCOUNT.> are routed as $JS.API.<the same>, and $JS.D.API.$KV.> and .$OBJ.> as $KV.> and
// $OBJ.>; after the config's own mappings, none replacing one with the same source.
void add_jetstream_domain_mappings(Options& options);

// A server tag as nats-server's TagList keeps and compares it: lower-cased and trimmed.
std::string server_tag(std::string_view text);

// The user nats-server makes for clients without credentials when only the system account is
// defined (they go to the global account).
inline constexpr std::string_view kSystemOnlyNoAuthUser = "$G-no-auth-user";
// The name of account `id`: "$G" for 0 (and for a number a reload left without an account).
std::string_view account_name(const Options& options, uint32_t id);

}  // namespace ringtail::config
