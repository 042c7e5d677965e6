#include "proto/config/options.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/nkey_codec.h"
#include "base/subject_match.h"
#include "base/subject_transform.h"
#include "proto/config/conf.h"
#include "proto/subject.h"

// Maps a parsed nats-conf tree onto Options, following nats-server's processConfigFileLine
// (server/opts.go): keys are matched case-insensitively, a zero limit means "the default", and
// every problem is collected so the user sees all of them at once.

namespace ringtail::config {
namespace {

constexpr int kDefaultPort = 4222;                       // DEFAULT_PORT
constexpr std::string_view kDefaultHost = "0.0.0.0";     // DEFAULT_HOST
constexpr int64_t kDefaultMaxPayloadBytes = 1 << 20;     // MAX_PAYLOAD_SIZE
constexpr int64_t kDefaultMaxPendingBytes = 64LL << 20;  // MAX_PENDING_SIZE
constexpr int32_t kDefaultMaxControlLineBytes = 4096;    // MAX_CONTROL_LINE_SIZE
constexpr int32_t kDefaultMaxConnections = 64 * 1024;    // DEFAULT_MAX_CONNECTIONS
constexpr int32_t kDefaultPingMax = 2;                   // DEFAULT_PING_MAX_OUT
constexpr std::chrono::milliseconds kDefaultPingInterval{2 * 60 * 1000};
constexpr std::chrono::milliseconds kDefaultWriteDeadline{10 * 1000};
constexpr std::chrono::milliseconds kDefaultAuthTimeout{2000};  // AUTH_TIMEOUT
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr std::string_view kTextLabel = "<string>";

// Debian's Abseil is built with its own string_view, distinct from std::string_view, so
// std::string_view arguments to absl::StrCat and friends go through this.
absl::string_view av(std::string_view text) { return absl::string_view(text.data(), text.size()); }

// nats-server keys for features Ringtail lacks. Recorded in Options::unsupported_features so the
// server can refuse them; silently running without, say, TLS or accounts would be worse.
// clang-format off
constexpr std::string_view kUnsupportedKeys[] = {
    "gateway", "leaf", "leafnodes", "tls", "ocsp",
    "operator", "operators", "root", "roots", "root_operator", "root_operators", "resolver",
    "account_resolver", "accounts_resolver", "resolver_tls", "resolver_preload",
    "resolver_pinned_accounts", "trusted", "trusted_keys",
    "websocket", "ws", "mqtt", "default_js_domain", "prof_port",
};
// clang-format on

// nats-server keys that change nothing anyone can see here: how often cluster and gateway
// connection errors are logged and whether TLS may be skipped (this version has neither
// clusters nor TLS, and refuses their blocks).
// clang-format off
constexpr std::string_view kIgnoredKeys[] = {
    "connect_error_reports", "reconnect_error_reports", "allow_non_tls",
};
// clang-format on

template <size_t N>
bool contains(const std::string_view (&list)[N], std::string_view key) {
    return std::find(std::begin(list), std::end(list), key) != std::end(list);
}

// Shows a value inside an error message: its kind, and its text when it is short and scalar.
std::string describe(const Value& value) {
    switch (value.kind) {
        case ValueKind::kString:
            return absl::StrCat("string \"", value.text, "\"");
        case ValueKind::kInteger:
            return absl::StrCat("integer ", value.integer);
        case ValueKind::kFloat:
            return absl::StrCat("float ", value.real);
        case ValueKind::kBool:
            return value.boolean ? "boolean true" : "boolean false";
        case ValueKind::kDatetime:
            return absl::StrCat("datetime ", value.text);
        case ValueKind::kArray:
            return "an array";
        case ValueKind::kMap:
            return "a map";
    }
    return "a value";
}

struct HostPort {
    std::string host;
    int port = 0;
};

// Go's net.SplitHostPort: "host:port", "[v6]:port", ":port".
std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view text) {
    if (!text.empty() && text[0] == '[') {
        size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return std::nullopt;
        }
        std::string_view port = text.substr(close + 2);
        if (port.find_first_of("[]:") != std::string_view::npos) return std::nullopt;
        return std::make_pair(std::string(text.substr(1, close - 1)), std::string(port));
    }
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = text.substr(0, colon);
    if (host.find_first_of("[]:") != std::string_view::npos) return std::nullopt;
    return std::make_pair(std::string(host), std::string(text.substr(colon + 1)));
}

// Applies one document's entries to a copy of the options. Owner: one load call.
class OptionsLoader {
 public:
    OptionsLoader(Options& opts, std::vector<std::string>& warnings, std::string source)
        : opts_(opts), warnings_(warnings), source_(std::move(source)) {}

    void apply_root(const Value& root) {
        for (const MapEntry& entry : root.map) apply_top(entry);
        merge_account_users();
        check_exports_and_imports();
        check_system_account();
        if (errors_.empty()) add_jetstream_domain_mappings(opts_);
        // nats-server's validateNoAuthUser.
        if (!opts_.no_auth_user.empty()) {
            bool named = std::any_of(opts_.users.begin(), opts_.users.end(),
                                     [this](const User& u) { return u.user == opts_.no_auth_user; });
            if (opts_.users.empty()) {
                errors_.push_back(absl::StrCat("no_auth_user: \"", opts_.no_auth_user,
                                               "\" present, but users are not defined"));
            } else if (!named) {
                errors_.push_back(absl::StrCat("no_auth_user: \"", opts_.no_auth_user,
                                               "\" not present as user in authorization block or "
                                               "account configuration"));
            }
        }
        // nats-server's validateOptions.
        if (opts_.lame_duck_duration.count() > 0 && opts_.lame_duck_grace_period >= opts_.lame_duck_duration) {
            errors_.push_back(absl::StrCat("lame duck grace period (", go_duration_text(opts_.lame_duck_grace_period),
                                           ") should be strictly lower than lame duck duration (",
                                           go_duration_text(opts_.lame_duck_duration), ")"));
        }
        if (opts_.max_payload_bytes > opts_.max_pending_bytes) {
            errors_.push_back(absl::StrCat(source_, ": max_payload (", opts_.max_payload_bytes,
                                           ") cannot be higher than max_pending (",
                                           opts_.max_pending_bytes, ")"));
        }
    }

    const std::vector<std::string>& errors() const { return errors_; }

 private:
    // The system account must be one the config defines (or the default, $SYS, which exists
    // without). With only the system account defined, nats-server lets clients without
    // credentials into the global account, as if through a no_auth_user of its own.
    void check_system_account() {
        const std::string& name = opts_.system_account;
        bool defined = std::find(opts_.accounts.begin(), opts_.accounts.end(), name) != opts_.accounts.end();
        if (!name.empty() && name != kDefaultSystemAccount && !defined) {
            error(system_account_pos_, "error resolving system account: account missing");
            return;
        }
        std::string_view system = system_account_name(opts_);
        if (opts_.accounts.size() == 1 && opts_.accounts[0] == system && opts_.no_auth_user.empty() &&
            std::none_of(opts_.users.begin(), opts_.users.end(), [](const User& u) { return u.account.empty(); })) {
            User anyone;
            anyone.user = std::string(kSystemOnlyNoAuthUser);
            opts_.users.push_back(std::move(anyone));
            opts_.no_auth_user = std::string(kSystemOnlyNoAuthUser);
        }
    }

    void error(const SourcePos& pos, std::string_view reason) {
        errors_.push_back(absl::StrCat(pos.to_string(), ": ", av(reason)));
    }
    // As nats-server: a key it does not know (misspelt, or from a later version) stops the
    // load rather than being ignored.
    void refuse_unknown(const MapEntry& entry) {
        if (entry.used_as_variable) return;  // A variable definition, not a setting.
        error(entry.key_pos, absl::StrCat("unknown field \"", entry.key, "\""));
    }
    void unsupported(std::string feature) {
        auto& list = opts_.unsupported_features;
        if (std::find(list.begin(), list.end(), feature) == list.end()) {
            list.push_back(std::move(feature));
        }
    }
    void wrong_kind(const MapEntry& entry, std::string_view wanted) {
        error(entry.key_pos,
              absl::StrCat(entry.key, ": expected ", av(wanted), ", got ", describe(entry.value)));
    }

    std::optional<std::string> get_string(const MapEntry& entry) {
        if (entry.value.kind == ValueKind::kString) return entry.value.text;
        wrong_kind(entry, "a string");
        return std::nullopt;
    }
    std::optional<bool> get_bool(const MapEntry& entry) {
        if (entry.value.kind == ValueKind::kBool) return entry.value.boolean;
        wrong_kind(entry, "a boolean");
        return std::nullopt;
    }
    std::optional<int64_t> get_int(const MapEntry& entry, int64_t min, int64_t max) {
        if (entry.value.kind != ValueKind::kInteger) {
            wrong_kind(entry, "an integer");
            return std::nullopt;
        }
        int64_t value = entry.value.integer;
        if (value > max) {
            error(entry.key_pos, absl::StrCat(entry.key, " value is too big (", value,
                                              ", the maximum is ", max, ")"));
            return std::nullopt;
        }
        if (value < min) {
            error(entry.key_pos, absl::StrCat(entry.key, " value ", value,
                                              " is too small (the minimum is ", min, ")"));
            return std::nullopt;
        }
        return value;
    }
    std::optional<int> get_port(const MapEntry& entry) {
        std::optional<int64_t> port = get_int(entry, -1, 65535);
        if (!port) return std::nullopt;
        return static_cast<int>(*port);
    }

    // nats-server's parseDuration: a Go duration string, or (deprecated) an integer number of
    // seconds, which earns a warning.
    std::optional<std::chrono::milliseconds> get_duration(const MapEntry& entry) {
        int64_t ns = 0;
        if (entry.value.kind == ValueKind::kString) {
            absl::StatusOr<int64_t> parsed = parse_go_duration_ns(entry.value.text);
            if (!parsed.ok()) {
                error(entry.key_pos,
                      absl::StrCat("error parsing ", entry.key, ": ", parsed.status().message()));
                return std::nullopt;
            }
            ns = *parsed;
        } else if (entry.value.kind == ValueKind::kInteger) {
            std::string key = absl::AsciiStrToLower(entry.key);
            warnings_.push_back(absl::StrCat(entry.key_pos.to_string(), ": invalid use of field \"",
                                             key, "\": ", key,
                                             " should be converted to a duration"));
            constexpr int64_t kSecondsMax = std::numeric_limits<int64_t>::max() / 1'000'000'000;
            if (entry.value.integer > kSecondsMax || entry.value.integer < -kSecondsMax) {
                error(entry.key_pos, absl::StrCat(entry.key, " value is too big"));
                return std::nullopt;
            }
            ns = entry.value.integer * 1'000'000'000;
        } else {
            wrong_kind(entry, "a duration such as \"2m\"");
            return std::nullopt;
        }
        if (ns < 0) {
            error(entry.key_pos, absl::StrCat(entry.key, " can not be negative"));
            return std::nullopt;
        }
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(ns));
    }

    // parseListen: a bare port, or "host:port".
    std::optional<HostPort> get_listen(const MapEntry& entry) {
        HostPort result;
        if (entry.value.kind == ValueKind::kInteger) {
            std::optional<int> port = get_port(entry);
            if (!port) return std::nullopt;
            result.port = *port;
            return result;
        }
        if (entry.value.kind != ValueKind::kString) {
            wrong_kind(entry, "port or host:port");
            return std::nullopt;
        }
        const std::string& text = entry.value.text;
        auto split = split_host_port(text);
        if (!split) {
            error(entry.key_pos, absl::StrCat("could not parse address string \"", text, "\""));
            return std::nullopt;
        }
        const std::string& port_text = split->second;
        int port = 0;
        std::string_view digits = port_text;
        if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
            error(entry.key_pos, absl::StrCat("could not parse port \"", port_text, "\""));
            return std::nullopt;
        }
        if (port < -1 || port > 65535) {
            error(entry.key_pos,
                  absl::StrCat(entry.key, ": port ", port, " is out of range (-1 to 65535)"));
            return std::nullopt;
        }
        result.host = split->first;
        result.port = port;
        return result;
    }

    void apply_top(const MapEntry& entry);
    void apply_authorization(const MapEntry& entry);
    void apply_accounts(const MapEntry& entry);
    // Adds the accounts' users to the authorization block's, checking them as nats-server's
    // parseAccounts does (unique names and nkeys across both; no single user or token beside).
    void merge_account_users();
    // Calls on_item with each map of the array `entry` holds; nats-server's errors name `what`.
    template <class OnItem>
    void for_each_item(const MapEntry& entry, std::string_view what, OnItem on_item);
    void parse_exports(const std::string& account, const MapEntry& entry);
    void parse_mappings(const std::string& account, const MapEntry& entry);
    std::optional<MappingDestination> parse_destination(const Value& value);
    void parse_imports(const std::string& account, const MapEntry& entry);
    // Each import against the exports, as nats-server's parseAccounts checks them once every
    // account is known; the imports that pass keep `to` as the full pattern.
    // The { account, subject } of an import, into `account` and `subject`; false (reported) if
    // either is missing.
    bool parse_origin(const MapEntry& field, std::string& account, std::string& subject);
    void check_service_imports();
    void check_exports_and_imports();
    std::optional<User> parse_user(const Value& item);
    std::optional<Permissions> parse_permissions(const MapEntry& entry);
    std::optional<SubjectPermission> parse_subject_permission(const MapEntry& entry);
    std::optional<std::vector<std::string>> parse_subjects(const MapEntry& entry);
    std::optional<ResponsePermission> parse_allow_responses(const MapEntry& entry);
    void apply_jetstream(const MapEntry& entry);
    void parse_account_jetstream(const std::string& account, const MapEntry& entry);
    void parse_account_limits(const std::string& account, const MapEntry& entry);
    void apply_sync_interval(const MapEntry& entry);
    void set_jetstream_domain(const MapEntry& field);
    void apply_jetstream_limits(const MapEntry& entry);
    void apply_cluster(const MapEntry& entry);
    static bool is_port_zero(const MapEntry& field);
    static bool configures_nothing(const MapEntry& entry, std::string_view key);
    std::optional<int64_t> get_storage_size(const MapEntry& entry, std::string_view name);
    void set_store_dir(const MapEntry& entry);

    Options& opts_;
    std::vector<std::string>& warnings_;
    std::string source_;
    std::vector<std::string> errors_;
    bool store_dir_seen_ = false;
    std::vector<User> account_users_;
    SourcePos account_users_pos_;
    std::vector<SourcePos> export_pos_;                   // by stream export
    std::vector<std::pair<SourcePos, bool>> import_pos_;  // by stream import: where, and prefix or not
    std::vector<SourcePos> service_export_pos_;
    std::vector<SourcePos> service_import_pos_;
    SourcePos system_account_pos_;
};

void OptionsLoader::apply_top(const MapEntry& entry) {
    const std::string key = absl::AsciiStrToLower(entry.key);
    if (key == "listen") {
        if (auto listen = get_listen(entry)) {
            opts_.host = listen->host.empty() ? std::string(kDefaultHost) : listen->host;
            opts_.port = listen->port == 0 ? kDefaultPort : listen->port;
        }
    } else if (key == "port") {
        if (auto port = get_port(entry)) opts_.port = *port == 0 ? kDefaultPort : *port;
    } else if (key == "host" || key == "net") {
        if (auto host = get_string(entry)) {
            opts_.host = host->empty() ? std::string(kDefaultHost) : *host;
        }
    } else if (key == "accounts") {
        apply_accounts(entry);
    } else if (key == "mappings" || key == "maps") {
        std::erase_if(opts_.mappings, [](const SubjectMapping& m) { return m.account.empty(); });
        parse_mappings("", entry);
    } else if (key == "no_auth_user") {
        if (auto name = get_string(entry)) opts_.no_auth_user = *name;
    } else if (key == "system_account" || key == "system") {
        if (entry.value.kind != ValueKind::kString) {
            error(entry.key_pos, "system account name must be a string");
        } else {
            opts_.system_account = entry.value.text;
            system_account_pos_ = entry.key_pos;
        }
    } else if (key == "no_system_account" || key == "no_system" || key == "no_sys_acc") {
        if (auto on = get_bool(entry)) opts_.no_system_account = *on;
    } else if (key == "server_name") {
        if (auto name = get_string(entry)) opts_.server_name = *name;
    } else if (key == "server_tags") {
        // nats-server's TagList.Add: a string or a list of strings, each lower-cased and
        // trimmed, empty ones and repeats left out.
        std::vector<const Value*> items;
        if (entry.value.kind == ValueKind::kArray) {
            for (const Value& item : entry.value.array) items.push_back(&item);
        } else {
            items.push_back(&entry.value);
        }
        for (const Value* item : items) {
            if (item->kind != ValueKind::kString) {
                error(entry.key_pos, absl::StrCat("error parsing tags: unsupported type ", describe(*item),
                                                  " where string is expected"));
                break;
            }
            std::string tag = server_tag(item->text);
            if (!tag.empty() && std::find(opts_.server_tags.begin(), opts_.server_tags.end(), tag) ==
                                    opts_.server_tags.end()) {
                opts_.server_tags.push_back(std::move(tag));
            }
        }
    } else if (key == "client_advertise") {
        if (auto text = get_string(entry)) opts_.client_advertise = *text;
    } else if (key == "debug") {
        if (auto on = get_bool(entry)) opts_.debug = *on;
    } else if (key == "trace") {
        if (auto on = get_bool(entry)) opts_.trace = *on;
    } else if (key == "trace_verbose") {
        if (auto on = get_bool(entry)) {
            opts_.trace_verbose = *on;
            opts_.trace = *on;
        }
    } else if (key == "logtime") {
        if (auto on = get_bool(entry)) opts_.logtime = *on;
    } else if (key == "syslog") {
        if (auto on = get_bool(entry)) opts_.syslog = *on;
    } else if (key == "remote_syslog") {
        if (auto text = get_string(entry)) opts_.remote_syslog = *text;
    } else if (key == "logfile" || key == "log_file") {
        if (auto text = get_string(entry)) opts_.log_file = *text;
    } else if (key == "logfile_size_limit" || key == "log_size_limit") {
        if (auto bytes = get_int(entry, 0, std::numeric_limits<int64_t>::max())) {
            opts_.log_size_limit_bytes = *bytes;
        }
    } else if (key == "logfile_max_num" || key == "log_max_num") {
        if (auto count = get_int(entry, 0, kInt32Max)) opts_.log_max_files = static_cast<int32_t>(*count);
    } else if (key == "logtime_utc") {
        if (auto on = get_bool(entry)) opts_.log_utc = *on;
    } else if (key == "lame_duck_duration") {
        if (auto duration = get_duration(entry)) {
            if (*duration < std::chrono::seconds(30)) {
                // Go's duration text: "10s", "1.5s", "500ms".
                int64_t ms = duration->count();
                std::string text = ms < 1000 && ms > -1000 ? absl::StrCat(ms, "ms")
                                   : ms % 1000 == 0        ? absl::StrCat(ms / 1000, "s")
                                                           : absl::StrCat(static_cast<double>(ms) / 1000.0, "s");
                error(entry.key_pos, absl::StrCat("invalid lame_duck_duration of ", text, ", minimum is 30 seconds"));
            } else {
                opts_.lame_duck_duration = *duration;
            }
        }
    } else if (key == "lame_duck_grace_period") {
        if (auto duration = get_duration(entry)) opts_.lame_duck_grace_period = *duration;
    } else if (key == "pidfile" || key == "pid_file") {
        if (auto text = get_string(entry)) opts_.pid_file = *text;
    } else if (key == "ports_file_dir") {
        if (auto text = get_string(entry)) opts_.ports_file_dir = *text;
    } else if (key == "max_control_line") {
        if (auto bytes = get_int(entry, 0, kInt32Max)) {
            opts_.max_control_line_bytes =
                *bytes == 0 ? kDefaultMaxControlLineBytes : static_cast<int32_t>(*bytes);
        }
    } else if (key == "max_payload") {
        if (auto bytes = get_int(entry, 0, kInt32Max)) {
            opts_.max_payload_bytes = *bytes == 0 ? kDefaultMaxPayloadBytes : *bytes;
        }
    } else if (key == "max_pending") {
        if (auto bytes = get_int(entry, 0, std::numeric_limits<int64_t>::max())) {
            opts_.max_pending_bytes = *bytes == 0 ? kDefaultMaxPendingBytes : *bytes;
        }
    } else if (key == "max_connections" || key == "max_conn") {
        // Negative: no limit (nats-server checks only a positive one).
        if (auto count = get_int(entry, std::numeric_limits<int32_t>::min(), kInt32Max)) {
            opts_.max_connections =
                *count == 0 ? kDefaultMaxConnections : static_cast<int32_t>(*count);
        }
    } else if (key == "no_sublist_cache" || key == "disable_sublist_cache") {
        if (auto off = get_bool(entry)) opts_.no_sublist_cache = *off;
    } else if (key == "max_sub_tokens" || key == "max_subscription_tokens") {
        if (auto count = get_int(entry, 1, 255)) opts_.max_sub_tokens = static_cast<int32_t>(*count);
    } else if (key == "max_subscriptions" || key == "max_subs") {
        if (auto count = get_int(entry, 0, kInt32Max)) {
            opts_.max_subscriptions = static_cast<int32_t>(*count);
        }
    } else if (key == "max_traced_msg_len") {
        if (auto bytes = get_int(entry, 0, kInt32Max)) {
            opts_.max_traced_msg_bytes = static_cast<int32_t>(*bytes);
        }
    } else if (key == "ping_interval") {
        if (auto interval = get_duration(entry)) {
            opts_.ping_interval = interval->count() == 0 ? kDefaultPingInterval : *interval;
        }
    } else if (key == "ping_max") {
        if (auto count = get_int(entry, 0, kInt32Max)) {
            opts_.ping_max = *count == 0 ? kDefaultPingMax : static_cast<int32_t>(*count);
        }
    } else if (key == "write_deadline") {
        if (auto deadline = get_duration(entry)) {
            opts_.write_deadline = deadline->count() == 0 ? kDefaultWriteDeadline : *deadline;
        }
    } else if (key == "authorization") {
        apply_authorization(entry);
    } else if (key == "http" || key == "https") {
        if (auto listen = get_listen(entry)) {
            opts_.http_host = listen->host;
            (key == "http" ? opts_.http_port : opts_.https_port) = listen->port;
        }
    } else if (key == "http_port" || key == "monitor_port") {
        if (auto port = get_port(entry)) opts_.http_port = *port;
    } else if (key == "https_port") {
        if (auto port = get_port(entry)) opts_.https_port = *port;
    } else if (key == "http_base_path") {
        if (auto path = get_string(entry)) opts_.http_base_path = *path;
    } else if (key == "max_closed_clients") {
        if (auto count = get_int(entry, 0, kInt32Max)) opts_.max_closed_clients = *count == 0 ? 10000 : static_cast<int32_t>(*count);
    } else if (key == "store_dir" || key == "storedir") {
        set_store_dir(entry);
    } else if (key == "jetstream") {
        apply_jetstream(entry);
    } else if (key == "no_header_support") {
        if (auto off = get_bool(entry)) opts_.no_header_support = *off;
    } else if (key == "cluster") {
        apply_cluster(entry);
    } else if (contains(kUnsupportedKeys, key)) {
        if (!configures_nothing(entry, key)) unsupported(key);
    } else if (contains(kIgnoredKeys, key)) {
        // Accepted for compatibility; has no effect here.
    } else {
        refuse_unknown(entry);
    }
}

void OptionsLoader::set_store_dir(const MapEntry& entry) {
    // store_dir may be given at the top level or inside jetstream {}, but only once.
    if (store_dir_seen_) {
        error(entry.key_pos, "Duplicate 'store_dir' configuration");
        return;
    }
    store_dir_seen_ = true;
    if (auto dir = get_string(entry)) opts_.store_dir = *dir;
}

// parseAuthorization. Unknown keys here are errors, as in nats-server: a misspelt "pasword"
// must not quietly leave a server open.
void OptionsLoader::apply_authorization(const MapEntry& entry) {
    if (entry.value.kind != ValueKind::kMap) {
        wrong_kind(entry, "a map");
        return;
    }
    std::string user;
    std::string password;
    std::string token;
    std::chrono::milliseconds timeout{0};
    std::optional<std::vector<User>> users;
    std::optional<Permissions> default_permissions;
    for (const MapEntry& field : entry.value.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        if (key == "user" || key == "username") {
            if (auto text = get_string(field)) user = *text;
        } else if (key == "pass" || key == "password") {
            if (auto text = get_string(field)) password = *text;
        } else if (key == "token") {
            if (auto text = get_string(field)) token = *text;
        } else if (key == "timeout") {
            // Seconds as a number (nats-server 2.9), or a duration string (later versions).
            const Value& value = field.value;
            double seconds = 0;
            if (value.kind == ValueKind::kInteger) {
                seconds = static_cast<double>(value.integer);
            } else if (value.kind == ValueKind::kFloat) {
                seconds = value.real;
            } else if (value.kind == ValueKind::kString) {
                absl::StatusOr<int64_t> ns = parse_go_duration_ns(value.text);
                if (!ns.ok()) {
                    error(field.key_pos, absl::StrCat("error parsing authorization timeout: ",
                                                      ns.status().message()));
                    continue;
                }
                seconds = static_cast<double>(*ns) / 1e9;
            } else {
                wrong_kind(field, "a number of seconds");
                continue;
            }
            if (seconds < 0 || seconds > 1e9 || std::isnan(seconds)) {
                error(field.key_pos, "authorization timeout must be between 0 and 1e9 seconds");
                continue;
            }
            timeout = std::chrono::milliseconds(std::llround(seconds * 1000));
        } else if (key == "users") {
            if (field.value.kind != ValueKind::kArray) {
                wrong_kind(field, "an array of users");
                continue;
            }
            users.emplace();
            for (const Value& item : field.value.array) {
                if (auto parsed = parse_user(item)) users->push_back(*std::move(parsed));
            }
        } else if (key == "default_permission" || key == "default_permissions" ||
                   key == "permissions") {
            default_permissions = parse_permissions(field);
        } else if (!field.used_as_variable) {
            error(field.key_pos, absl::StrCat("unknown field \"", field.key, "\""));
        }
    }

    if ((!user.empty() || !password.empty()) && !token.empty()) {
        error(entry.key_pos, "Cannot have a user/pass and token");
        return;
    }
    if (users.has_value()) {
        if (!user.empty()) {
            error(entry.key_pos, "Can not have a single user/pass and a users array");
            return;
        }
        if (!token.empty()) {
            error(entry.key_pos, "Can not have a token and a users array");
            return;
        }
        std::vector<std::string> seen;
        for (const User& u : *users) {
            const std::string& name = u.nkey.empty() ? u.user : u.nkey;
            if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
                error(entry.key_pos,
                      absl::StrCat(u.nkey.empty() ? "Duplicate user \"" : "Duplicate nkey \"", name,
                                   "\" detected"));
                return;
            }
            seen.push_back(name);
        }
    }

    // A block replaces all single-user settings, as in nats-server.
    opts_.user = std::move(user);
    opts_.password = std::move(password);
    opts_.token = std::move(token);
    opts_.auth_timeout = timeout.count() == 0 ? kDefaultAuthTimeout : timeout;
    if (users.has_value()) {
        for (User& u : *users) {
            if (!u.permissions.has_value()) u.permissions = default_permissions;
        }
        opts_.users = std::move(*users);
    } else {
        opts_.users.clear();
    }
    if (default_permissions.has_value()) {
        opts_.default_permissions = std::move(default_permissions);
        // They apply to the users of the block; a single user or token has none.
        if (opts_.users.empty()) unsupported("authorization.permissions without users");
    }
}

void OptionsLoader::apply_accounts(const MapEntry& entry) {
    opts_.accounts.clear();
    std::erase_if(opts_.mappings, [](const SubjectMapping& m) { return !m.account.empty(); });
    opts_.stream_exports.clear();
    opts_.stream_imports.clear();
    opts_.service_exports.clear();
    opts_.service_imports.clear();
    export_pos_.clear();
    import_pos_.clear();
    service_export_pos_.clear();
    service_import_pos_.clear();
    account_users_.clear();
    opts_.account_jetstream.clear();
    opts_.account_limits.clear();
    auto declare = [&](const SourcePos& pos, const std::string& name) {
        if (name == "$G") {
            error(pos, "\"$G\" is a Reserved Account");
            return false;
        }
        if (std::find(opts_.accounts.begin(), opts_.accounts.end(), name) != opts_.accounts.end()) {
            error(pos, absl::StrCat("Duplicate Account Entry: ", name));
            return false;
        }
        opts_.accounts.push_back(name);
        return true;
    };
    if (entry.value.kind == ValueKind::kArray) {
        // A plain list of account names.
        for (const Value& item : entry.value.array) {
            if (item.kind != ValueKind::kString) {
                error(item.pos, absl::StrCat("Expected an account name, got ", describe(item)));
                continue;
            }
            declare(item.pos, item.text);
        }
        return;
    }
    if (entry.value.kind != ValueKind::kMap) {
        wrong_kind(entry, "a map of accounts");
        return;
    }
    for (const MapEntry& account : entry.value.map) {
        if (account.used_as_variable) continue;
        if (account.value.kind != ValueKind::kMap) {
            error(account.key_pos, "Expected map entries for accounts");
            continue;
        }
        if (!declare(account.key_pos, account.key)) continue;
        std::optional<Permissions> default_permissions;
        std::vector<User> users;
        for (const MapEntry& field : account.value.map) {
            const std::string key = absl::AsciiStrToLower(field.key);
            if (key == "users") {
                if (field.value.kind != ValueKind::kArray) {
                    wrong_kind(field, "an array of users");
                    continue;
                }
                account_users_pos_ = field.key_pos;
                for (const Value& item : field.value.array) {
                    if (auto parsed = parse_user(item)) users.push_back(*std::move(parsed));
                }
            } else if (key == "default_permissions") {
                default_permissions = parse_permissions(field);
            } else if (key == "exports") {
                parse_exports(account.key, field);
            } else if (key == "imports") {
                parse_imports(account.key, field);
            } else if (key == "mappings" || key == "maps") {
                parse_mappings(account.key, field);
            } else if (key == "jetstream") {
                parse_account_jetstream(account.key, field);
            } else if (key == "limits") {
                parse_account_limits(account.key, field);
            } else if (key == "nkey") {
                // The account's public nkey, checked as nats-server checks it. Nothing in a
                // server configured by file (no JWTs) looks an account up by it, so nothing
                // needs it kept.
                if (field.value.kind != ValueKind::kString ||
                    !base::decode_public_nkey(field.value.text, base::kNkeyPrefixAccount)) {
                    error(field.key_pos, absl::StrCat("Not a valid public nkey for an account: \"",
                                                      field.value.kind == ValueKind::kString ? field.value.text
                                                                                             : describe(field.value),
                                                      "\""));
                }
            } else if (!field.used_as_variable) {
                error(field.key_pos, absl::StrCat("unknown field \"", field.key, "\""));
            }
        }
        for (User& user : users) {
            user.account = account.key;
            if (!user.permissions.has_value()) user.permissions = default_permissions;
            account_users_.push_back(std::move(user));
        }
    }
}

std::optional<std::vector<std::string>> string_list(const Value& value) {
    std::vector<std::string> out;
    if (value.kind == ValueKind::kString) return std::vector<std::string>{value.text};
    if (value.kind != ValueKind::kArray) return std::nullopt;
    for (const Value& item : value.array) {
        if (item.kind != ValueKind::kString) return std::nullopt;
        out.push_back(item.text);
    }
    return out;
}

template <class OnItem>
void OptionsLoader::for_each_item(const MapEntry& entry, std::string_view what, OnItem on_item) {
    if (entry.value.kind != ValueKind::kArray) {
        error(entry.key_pos, absl::StrCat(av(what), "s should be an array, got ", describe(entry.value)));
        return;
    }
    for (const Value& item : entry.value.array) {
        if (item.kind != ValueKind::kMap) {
            error(item.pos, absl::StrCat(av(what), " Items should be a map with type entry, got ", describe(item)));
            continue;
        }
        on_item(item);
    }
}

void OptionsLoader::parse_exports(const std::string& account, const MapEntry& entry) {
    for_each_item(entry, "Export", [&](const Value& item) {
        StreamExport exported;
        exported.account = account;
        ServiceExport service;
        service.account = account;
        bool stream = false;
        bool is_service = false;
        bool response_seen = false;
        bool threshold_seen = false;
        const SourcePos* response_pos = nullptr;
        for (const MapEntry& field : item.map) {
            const std::string key = absl::AsciiStrToLower(field.key);
            if (key == "stream") {
                if (is_service) {
                    error(field.key_pos, absl::StrCat("Detected stream \"", field.value.text, "\" but already saw a service"));
                    continue;
                }
                if (response_pos != nullptr) {
                    error(*response_pos, "Detected response directive on non-service");
                    continue;
                }
                if (field.value.kind != ValueKind::kString) {
                    error(field.key_pos, absl::StrCat("Expected stream name to be string, got ", describe(field.value)));
                    continue;
                }
                exported.subject = field.value.text;
                stream = true;
            } else if (key == "service") {
                if (stream) {
                    error(field.key_pos, absl::StrCat("Detected service \"", field.value.text, "\" but already saw a stream"));
                    continue;
                }
                if (field.value.kind != ValueKind::kString) {
                    error(field.key_pos, absl::StrCat("Expected service name to be string, got ", describe(field.value)));
                    continue;
                }
                service.subject = field.value.text;
                is_service = true;
            } else if (key == "response" || key == "response_type") {
                if (response_seen) {
                    error(field.key_pos, "Duplicate response type definition");
                    continue;
                }
                response_seen = true;
                response_pos = &field.key_pos;
                if (field.value.kind != ValueKind::kString) {
                    error(field.key_pos, absl::StrCat("Expected response type to be string, got ", describe(field.value)));
                    continue;
                }
                const std::string type = absl::AsciiStrToLower(field.value.text);
                if (type == "single" || type == "singleton") {
                    service.response_type = ResponseType::kSingleton;
                } else if (type == "stream") {
                    service.response_type = ResponseType::kStream;
                } else if (type == "chunk" || type == "chunked") {
                    service.response_type = ResponseType::kChunked;
                } else {
                    error(field.key_pos, absl::StrCat("Unknown response type: \"", field.value.text, "\""));
                    continue;
                }
                if (stream) error(field.key_pos, "Detected response directive on non-service");
            } else if (key == "threshold" || key == "response_threshold" || key == "response_max_time" ||
                       key == "response_time") {
                if (threshold_seen) {
                    error(field.key_pos, "Duplicate response threshold detected");
                    continue;
                }
                threshold_seen = true;
                response_pos = &field.key_pos;
                if (field.value.kind != ValueKind::kString) {
                    error(field.key_pos, absl::StrCat("Expected response threshold to be a parseable time duration, got ",
                                                      describe(field.value)));
                    continue;
                }
                absl::StatusOr<int64_t> ns = parse_go_duration_ns(field.value.text);
                if (!ns.ok()) {
                    error(field.key_pos, absl::StrCat("Expected response threshold to be a parseable time duration, got \"",
                                                      field.value.text, "\""));
                    continue;
                }
                // nats-server keeps its default for 0 and refuses a negative one.
                if (*ns < 0) {
                    error(field.key_pos, absl::StrCat("Error adding service export response threshold for \"",
                                                      service.subject, "\": negative thresholds not allowed"));
                    continue;
                }
                if (*ns > 0) service.response_threshold_ns = *ns;
                if (stream) error(field.key_pos, "Detected response directive on non-service");
            } else if (key == "accounts") {
                auto names = string_list(field.value);
                if (!names) {
                    wrong_kind(field, "a list of account names");
                    continue;
                }
                exported.accounts = *names;
                service.accounts = std::move(*names);
            } else if (key == "latency") {
                unsupported("accounts.exports.latency");
            } else if (!field.used_as_variable) {
                unsupported("accounts.exports." + key);
            }
        }
        if (stream) {
            export_pos_.push_back(item.pos);
            opts_.stream_exports.push_back(std::move(exported));
        }
        if (is_service) {
            if (!proto::is_valid_subject(service.subject)) {
                error(item.pos, absl::StrCat("Error adding service export \"", service.subject, "\": invalid subject"));
                return;
            }
            service_export_pos_.push_back(item.pos);
            opts_.service_exports.push_back(std::move(service));
        }
    });
}

std::optional<MappingDestination> OptionsLoader::parse_destination(const Value& value) {
    if (value.kind == ValueKind::kString) return MappingDestination{value.text, 100};
    if (value.kind != ValueKind::kMap) {
        error(value.pos, "Expected an entry for the mapping destination");
        return std::nullopt;
    }
    MappingDestination destination;
    for (const MapEntry& field : value.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        if (key == "dest" || key == "destination") {
            if (auto text = get_string(field)) destination.subject = *text;
        } else if (key == "weight") {
            int64_t weight = -1;
            if (field.value.kind == ValueKind::kInteger) {
                weight = field.value.integer;
            } else if (field.value.kind == ValueKind::kString) {
                std::string_view text = field.value.text;
                if (text.ends_with('%')) text.remove_suffix(1);
                auto [end, failed] = std::from_chars(text.data(), text.data() + text.size(), weight);
                if (failed != std::errc() || end != text.data() + text.size()) {
                    error(field.key_pos, absl::StrCat("Invalid weight \"", field.value.text, "\" for mapping destination"));
                    return std::nullopt;
                }
            }
            if (weight < 0 || weight > 100) {
                error(field.key_pos, absl::StrCat("Invalid weight ", weight, " for mapping destination"));
                return std::nullopt;
            }
            destination.weight = static_cast<uint32_t>(weight);
        } else if (key == "cluster") {
            if (field.value.kind != ValueKind::kString) {
                wrong_kind(field, "a cluster name");
                return std::nullopt;
            }
            destination.cluster = field.value.text;
        } else if (!field.used_as_variable) {
            error(field.key_pos, absl::StrCat("unknown field \"", field.key, "\""));
        }
    }
    return destination;
}

void OptionsLoader::parse_mappings(const std::string& account, const MapEntry& entry) {
    if (entry.value.kind != ValueKind::kMap) {
        wrong_kind(entry, "a map of subject mappings");
        return;
    }
    for (const MapEntry& field : entry.value.map) {
        if (field.used_as_variable) continue;
        if (!proto::is_valid_subject(field.key)) {
            error(field.key_pos, absl::StrCat("Subject \"", field.key, "\" is not a valid subject"));
            continue;
        }
        SubjectMapping mapping{account, field.key, {}};
        std::vector<const Value*> values;
        if (field.value.kind == ValueKind::kArray) {
            for (const Value& item : field.value.array) values.push_back(&item);
        } else {
            values.push_back(&field.value);
        }
        bool ok = true;
        for (const Value* value : values) {
            auto destination = parse_destination(*value);
            ok = ok && destination.has_value();
            if (destination) mapping.destinations.push_back(std::move(*destination));
        }
        if (!ok || mapping.destinations.empty()) continue;
        // nats-server's AddWeightedMappings.
        auto fail = [&](std::string_view why) {
            error(field.key_pos, absl::StrCat("Error adding mapping for \"", field.key, "\" to \"",
                                              mapping.destinations.front().subject, "\" : ", av(why)));
        };
        uint32_t total = 0;
        std::vector<std::string> seen;
        for (const MappingDestination& destination : mapping.destinations) {
            if (std::find(seen.begin(), seen.end(), destination.subject) != seen.end()) {
                fail(absl::StrCat("duplicate entry for \"", destination.subject, "\""));
                ok = false;
                break;
            }
            seen.push_back(destination.subject);
            total += destination.weight;
            if (total > 100) {
                fail("total weight needs to be <= 100");
                ok = false;
                break;
            }
            auto made = base::SubjectTransform::make(field.key, destination.subject);
            if (const std::string* why = std::get_if<std::string>(&made)) {
                fail(*why);
                ok = false;
                break;
            }
        }
        if (ok) opts_.mappings.push_back(std::move(mapping));
    }
}

bool OptionsLoader::parse_origin(const MapEntry& field, std::string& account, std::string& subject) {
    for (const MapEntry& part : field.value.map) {
        const std::string name = absl::AsciiStrToLower(part.key);
        if ((name == "account" || name == "subject") && part.value.kind == ValueKind::kString) {
            (name == "account" ? account : subject) = part.value.text;
        } else if (name != "account" && name != "subject" && !part.used_as_variable) {
            error(part.key_pos, absl::StrCat("unknown field \"", part.key, "\""));
        }
    }
    if (account.empty() || subject.empty()) {
        error(field.key_pos, "Expect an account name and a subject");
        return false;
    }
    return true;
}

void OptionsLoader::parse_imports(const std::string& account, const MapEntry& entry) {
    for_each_item(entry, "Import", [&](const Value& item) {
        StreamImport imported;
        imported.account = account;
        ServiceImport service;
        service.account = account;
        bool is_service = false;
        bool stream = false;
        std::optional<std::string> prefix;
        std::optional<std::string> to;
        for (const MapEntry& field : item.map) {
            const std::string key = absl::AsciiStrToLower(field.key);
            if (key == "stream") {
                if (is_service) {
                    error(field.key_pos, "Detected stream but already saw a service");
                    continue;
                }
                if (field.value.kind != ValueKind::kMap) {
                    error(field.key_pos, absl::StrCat("Stream entry should be an account map, got ", describe(field.value)));
                    continue;
                }
                if (!parse_origin(field, imported.from_account, imported.subject)) continue;
                stream = true;
            } else if (key == "prefix" || key == "to") {
                if (field.value.kind != ValueKind::kString) {
                    wrong_kind(field, "a string");
                    continue;
                }
                (key == "prefix" ? prefix : to) = field.value.text;
            } else if (key == "service") {
                if (stream) {
                    error(field.key_pos, "Detected service but already saw a stream");
                    continue;
                }
                if (field.value.kind != ValueKind::kMap) {
                    error(field.key_pos, absl::StrCat("Service entry should be an account map, got ", describe(field.value)));
                    continue;
                }
                if (!parse_origin(field, service.from_account, service.subject)) continue;
                is_service = true;
            } else if (key == "share") {
                // Sharing adds the requester's details to Nats-Request-Info; not done here.
                if (field.value.kind != ValueKind::kBool || field.value.boolean) unsupported("accounts.imports.share");
            } else if (!field.used_as_variable) {
                unsupported("accounts.imports." + key);
            }
        }
        if (is_service) {
            // nats-server takes `to` for a service import and ignores `prefix`.
            service.to = to ? *to : service.subject;
            for (size_t i = 0; i < opts_.service_imports.size(); ++i) {
                const ServiceImport& other = opts_.service_imports[i];
                if (other.account == account && other.to == service.to) {
                    error(item.pos, absl::StrCat("Duplicate service import subject \"", service.to,
                                                 "\", previously used in import for account \"", other.from_account,
                                                 "\", subject \"", other.subject, "\""));
                    return;
                }
            }
            service_import_pos_.push_back(item.pos);
            opts_.service_imports.push_back(std::move(service));
            return;
        }
        if (!stream) return;
        if (prefix && to) {
            error(item.pos, "Stream import can not have a 'prefix' and a 'to' property");
            return;
        }
        imported.to = prefix ? *prefix : to ? *to : imported.subject;
        import_pos_.push_back({item.pos, prefix.has_value()});
        opts_.stream_imports.push_back(std::move(imported));
    });
}

namespace {

// Why an import cannot map the exporter's `subject` to the importer's `to`, as nats-server's
// newTransform sees it ("*" in `to` numbered in order); nullopt when it can. Ringtail's imports
// place wildcards only (no partition or cut).
std::optional<std::string> import_transform_error(const std::string& subject, const std::string& to) {
    if (to == subject || subject.find_first_of("*>") == std::string::npos) return std::nullopt;
    auto made = base::SubjectTransform::make(subject, base::number_wildcards(to));
    if (const std::string* why = std::get_if<std::string>(&made)) return *why;
    if (!std::get<base::SubjectTransform>(made).wildcards_only()) {
        return "an import places wildcards only (\"$1\", \"{{wildcard(1)}}\"), no other function, in this ringtail version";
    }
    return std::nullopt;
}

// The first of `imports` (stream or service ones) whose subjects come back, through the
// others, to the account that imports them.
template <class Import>
std::optional<size_t> find_cycle(const std::vector<Import>& imports) {
    for (size_t i = 0; i < imports.size(); ++i) {
        std::vector<std::pair<std::string, std::string>> todo{{imports[i].from_account, imports[i].subject}};
        for (size_t steps = 0; !todo.empty() && steps < 1000; ++steps) {
            auto [account, subject] = todo.back();
            todo.pop_back();
            for (const Import& next : imports) {
                if (next.account != account || !base::pattern_intersection(base::placeholders_as_wildcards(next.to), subject)) {
                    continue;
                }
                if (next.from_account == imports[i].account) return i;
                todo.push_back({next.from_account, next.subject});
            }
        }
    }
    return std::nullopt;
}

}  // namespace

void OptionsLoader::check_exports_and_imports() {
    auto defined = [this](const std::string& name) {
        return std::find(opts_.accounts.begin(), opts_.accounts.end(), name) != opts_.accounts.end();
    };
    for (size_t i = 0; i < opts_.stream_exports.size(); ++i) {
        for (const std::string& name : opts_.stream_exports[i].accounts) {
            if (!defined(name)) error(export_pos_[i], absl::StrCat("\"", name, "\" account not defined for stream export"));
        }
    }
    std::vector<StreamImport> kept;
    std::vector<SourcePos> kept_pos;
    for (size_t i = 0; i < opts_.stream_imports.size(); ++i) {
        StreamImport imported = opts_.stream_imports[i];
        auto [pos, prefixed] = import_pos_[i];
        if (!defined(imported.from_account)) {
            error(pos, absl::StrCat("\"", imported.from_account, "\" account not defined for stream import"));
            continue;
        }
        auto fail = [&](std::string_view why) {
            error(pos, absl::StrCat("Error adding stream import \"", imported.subject, "\": ", av(why)));
        };
        if (prefixed) {
            if (imported.to.find_first_of("*>") != std::string::npos) {
                fail("stream import prefix can not contain wildcard tokens");
                continue;
            }
            if (!imported.to.ends_with('.')) imported.to += '.';
            imported.to += imported.subject;
        }
        bool authorized = proto::is_valid_subject(imported.subject) &&
                          std::any_of(opts_.stream_exports.begin(), opts_.stream_exports.end(), [&](const StreamExport& e) {
                              return e.account == imported.from_account &&
                                     base::pattern_is_subset(imported.subject, e.subject) &&
                                     (e.accounts.empty() || std::find(e.accounts.begin(), e.accounts.end(),
                                                                      imported.account) != e.accounts.end());
                          });
        if (!authorized) {
            fail("stream import not authorized");
            continue;
        }
        if (auto why = import_transform_error(imported.subject, imported.to)) {
            fail(absl::StrCat("failed to create mapping transform for stream import subject \"", imported.subject,
                              "\" to \"", imported.to, "\": ", *why));
            continue;
        }
        bool duplicate = std::any_of(kept.begin(), kept.end(), [&](const StreamImport& other) {
            return other.account == imported.account && other.from_account == imported.from_account &&
                   other.subject == imported.subject;
        });
        if (duplicate) {
            fail("stream import already exists");
            continue;
        }
        kept.push_back(std::move(imported));
        kept_pos.push_back(pos);
    }
    // A cycle: messages that an import brings in reach, through other imports, the account they
    // came from.
    if (auto looping = find_cycle(kept)) {
        error(kept_pos[*looping], absl::StrCat("Error adding stream import \"", kept[*looping].subject, "\": import forms a cycle"));
        opts_.stream_imports.clear();
        return;
    }
    opts_.stream_imports = std::move(kept);
    check_service_imports();
}

void OptionsLoader::check_service_imports() {
    auto defined = [this](const std::string& name) {
        return std::find(opts_.accounts.begin(), opts_.accounts.end(), name) != opts_.accounts.end();
    };
    for (size_t i = 0; i < opts_.service_exports.size(); ++i) {
        for (const std::string& name : opts_.service_exports[i].accounts) {
            if (!defined(name)) error(service_export_pos_[i], absl::StrCat("\"", name, "\" account not defined for service export"));
        }
    }
    std::vector<ServiceImport> kept;
    std::vector<SourcePos> kept_pos;
    for (size_t i = 0; i < opts_.service_imports.size(); ++i) {
        const ServiceImport& imported = opts_.service_imports[i];
        const SourcePos& pos = service_import_pos_[i];
        if (!defined(imported.from_account)) {
            error(pos, absl::StrCat("\"", imported.from_account, "\" account not defined for service import"));
            continue;
        }
        auto fail = [&](std::string_view why) {
            error(pos, absl::StrCat("Error adding service import \"", imported.subject, "\": ", av(why)));
        };
        if (!proto::is_valid_subject(imported.subject) || !proto::is_valid_subject(imported.to)) {
            fail("sublist: invalid subject");
            continue;
        }
        bool authorized = std::any_of(opts_.service_exports.begin(), opts_.service_exports.end(), [&](const ServiceExport& e) {
            return e.account == imported.from_account && base::pattern_is_subset(imported.subject, e.subject) &&
                   (e.accounts.empty() || std::find(e.accounts.begin(), e.accounts.end(), imported.account) != e.accounts.end());
        });
        if (!authorized) {
            fail("service import not authorized");
            continue;
        }
        if (auto why = import_transform_error(imported.subject, imported.to)) {
            fail(absl::StrCat("failed to create mapping transform for service import subject \"", imported.to, "\" to \"",
                              imported.subject, "\": ", *why));
            continue;
        }
        kept.push_back(imported);
        kept_pos.push_back(pos);
    }
    // A cycle: a request that an import forwards comes back, through other imports, to the
    // account it came from (nats-server's checkServiceImportsForCycles).
    if (auto looping = find_cycle(kept)) {
        error(kept_pos[*looping], absl::StrCat("Error adding service import \"", kept[*looping].subject, "\": import forms a cycle"));
        opts_.service_imports.clear();
        return;
    }
    opts_.service_imports = std::move(kept);
}

void OptionsLoader::merge_account_users() {
    if (account_users_.empty()) return;
    if (!opts_.user.empty()) {
        error(account_users_pos_, "Can not have a single user/pass and accounts");
        return;
    }
    if (!opts_.token.empty()) {
        error(account_users_pos_, "Can not have a token and accounts");
        return;
    }
    for (User& user : account_users_) {
        bool nkey = !user.nkey.empty();
        const std::string& name = nkey ? user.nkey : user.user;
        bool taken = std::any_of(opts_.users.begin(), opts_.users.end(), [&](const User& u) {
            return (u.nkey.empty() ? u.user : u.nkey) == name;
        });
        if (taken) {
            error(account_users_pos_,
                  absl::StrCat(nkey ? "Duplicate nkey \"" : "Duplicate user \"", name, "\" detected"));
            continue;
        }
        opts_.users.push_back(std::move(user));
    }
    account_users_.clear();
}

std::optional<User> OptionsLoader::parse_user(const Value& item) {
    if (item.kind != ValueKind::kMap) {
        error(item.pos,
              absl::StrCat("Expected user entry to be a map/struct, got ", describe(item)));
        return std::nullopt;
    }
    User user;
    bool ok = true;
    for (const MapEntry& field : item.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        if (key == "user" || key == "username") {
            if (auto text = get_string(field)) user.user = *text;
        } else if (key == "pass" || key == "password") {
            if (auto text = get_string(field)) user.password = *text;
        } else if (key == "nkey") {
            if (auto text = get_string(field)) user.nkey = *text;
        } else if (key == "permission" || key == "permissions" || key == "authorization") {
            user.permissions = parse_permissions(field);
        } else if (key == "allowed_connection_types" || key == "connection_types" ||
                   key == "clients") {
            auto types = string_list(field.value);
            if (!types) {
                wrong_kind(field, "a list of connection types");
                ok = false;
                continue;
            }
            // nats-server's convertAllowedConnectionTypes.
            std::vector<std::string> unknown;
            for (std::string& type : *types) {
                type = absl::AsciiStrToUpper(type);
                if (type == "STANDARD" || type == "WEBSOCKET" || type == "LEAFNODE" || type == "LEAFNODE_WS" ||
                    type == "MQTT" || type == "MQTT_WS") {
                    user.connection_types.push_back(type);
                } else {
                    unknown.push_back(absl::StrCat("\"", type, "\""));
                }
            }
            if (!unknown.empty()) {
                error(field.key_pos, absl::StrCat("invalid connection types [", absl::StrJoin(unknown, " "), "]"));
                ok = false;
            }
        } else if (!field.used_as_variable) {
            error(field.key_pos, absl::StrCat("unknown field \"", field.key, "\""));
            ok = false;
        }
    }
    if (user.nkey.empty() && user.user.empty()) {
        error(item.pos, "User entry requires a user");
        return std::nullopt;
    }
    if (!user.nkey.empty()) {
        // A public user nkey: "U...", checksum included, as nkeys.IsValidPublicUserKey checks it.
        if (!base::decode_public_nkey(user.nkey, base::kNkeyPrefixUser)) {
            error(item.pos, "Not a valid public nkey for a user");
            return std::nullopt;
        }
        if (!user.user.empty() || !user.password.empty()) {
            error(item.pos, "Nkey users do not take usernames or passwords");
            return std::nullopt;
        }
    }
    if (!ok) return std::nullopt;
    return user;
}

std::optional<Permissions> OptionsLoader::parse_permissions(const MapEntry& entry) {
    if (entry.value.kind != ValueKind::kMap) {
        error(entry.key_pos,
              absl::StrCat("Expected permissions to be a map/struct, got ", describe(entry.value)));
        return std::nullopt;
    }
    Permissions perms;
    for (const MapEntry& field : entry.value.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        if (key == "pub" || key == "publish" || key == "import") {
            perms.publish = parse_subject_permission(field);
        } else if (key == "sub" || key == "subscribe" || key == "export") {
            perms.subscribe = parse_subject_permission(field);
        } else if (key == "publish_allow_responses" || key == "allow_responses") {
            if (field.value.kind == ValueKind::kBool) {
                if (field.value.boolean) perms.allow_responses = ResponsePermission{};
            } else {
                perms.allow_responses = parse_allow_responses(field);
            }
        } else if (!field.used_as_variable) {
            error(field.key_pos,
                  absl::StrCat("Unknown field \"", field.key, "\" parsing permissions"));
        }
    }
    // Allowing responses turns off the blanket publish allowance (parseUserPermissions).
    if (perms.allow_responses.has_value()) {
        if (!perms.publish.has_value()) perms.publish.emplace();
        if (!perms.publish->allow.has_value()) perms.publish->allow.emplace();
    }
    return perms;
}

std::optional<SubjectPermission> OptionsLoader::parse_subject_permission(const MapEntry& entry) {
    SubjectPermission perm;
    // An empty list is no list, as nats-server reads it (a nil slice): `publish: []` leaves
    // publishing open rather than closing it.
    auto subjects = [this](const MapEntry& list) {
        std::optional<std::vector<std::string>> parsed = parse_subjects(list);
        if (parsed.has_value() && parsed->empty()) parsed.reset();
        return parsed;
    };
    if (entry.value.kind != ValueKind::kMap) {
        // Old style: a subject or a list of subjects, all allowed.
        perm.allow = subjects(entry);
        return perm;
    }
    if (entry.value.map.empty()) return std::nullopt;
    for (const MapEntry& field : entry.value.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        if (key == "allow") {
            perm.allow = subjects(field);
        } else if (key == "deny") {
            perm.deny = subjects(field);
        } else if (!field.used_as_variable) {
            error(field.key_pos,
                  absl::StrCat("Unknown field name \"", field.key,
                               "\" parsing subject permissions, only 'allow' or 'deny' are "
                               "permitted"));
        }
    }
    return perm;
}

// What is wrong with a permission's subject, as nats-server's checkPermSubjectArray says it
// (the subject it names is the first of two words for "subject queue"), or nothing.
std::optional<std::string> permission_subject_error(std::string_view text) {
    if (proto::is_valid_subject(text)) return std::nullopt;
    std::vector<std::string_view> words = base::fields(text);
    if (words.size() != 2) return absl::StrCat("subject \"", av(text), "\" is not a valid subject");
    if (!proto::is_valid_subject(words[0])) return absl::StrCat("subject \"", av(words[0]), "\" is not a valid subject");
    return std::nullopt;
}

std::optional<std::vector<std::string>> OptionsLoader::parse_subjects(const MapEntry& entry) {
    std::vector<std::string> subjects;
    const Value& value = entry.value;
    if (value.kind == ValueKind::kString) {
        subjects.push_back(value.text);
    } else if (value.kind == ValueKind::kArray) {
        for (const Value& item : value.array) {
            if (item.kind != ValueKind::kString) {
                error(item.pos, "Subject in permissions array cannot be cast to string");
                return std::nullopt;
            }
            subjects.push_back(item.text);
        }
    } else {
        error(entry.key_pos,
              absl::StrCat("Expected subject permissions to be a subject, or array of subjects, "
                           "got ",
                           describe(value)));
        return std::nullopt;
    }
    for (const std::string& subject : subjects) {
        if (auto why = permission_subject_error(subject)) {
            error(entry.key_pos, *why);
            return std::nullopt;
        }
    }
    return subjects;
}

std::optional<ResponsePermission> OptionsLoader::parse_allow_responses(const MapEntry& entry) {
    if (entry.value.kind != ValueKind::kMap) {
        error(entry.key_pos, "error parsing response permissions, expected a boolean or a map");
        return std::nullopt;
    }
    ResponsePermission perm;
    for (const MapEntry& field : entry.value.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        if (key == "max" || key == "max_msgs" || key == "max_messages" || key == "max_responses") {
            // Negative means unlimited; zero keeps the default.
            auto max = get_int(field, std::numeric_limits<int64_t>::min(),
                               std::numeric_limits<int64_t>::max());
            if (max && *max != 0) perm.msgs_max = *max;
        } else if (key == "expires" || key == "expiration" || key == "ttl") {
            if (field.value.kind != ValueKind::kString) {
                error(field.key_pos, "error parsing expires, not a duration string");
                return std::nullopt;
            }
            absl::StatusOr<int64_t> ns = parse_go_duration_ns(field.value.text);
            if (!ns.ok()) {
                error(field.key_pos,
                      absl::StrCat("error parsing expires: ", ns.status().message()));
                return std::nullopt;
            }
            if (*ns != 0) {
                perm.expires = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::nanoseconds(*ns));
            }
        } else if (!field.used_as_variable) {
            error(field.key_pos,
                  absl::StrCat("Unknown field \"", field.key, "\" parsing permissions"));
        }
    }
    return perm;
}

// getStorageSize: an integer, or a string "<n>K|M|G|T" with binary multiples. Note that an
// unquoted 1G is the conf integer 10^9 while "1G" is 2^30, exactly as in nats-server.
std::optional<int64_t> OptionsLoader::get_storage_size(const MapEntry& entry,
                                                       std::string_view name) {
    const Value& value = entry.value;
    if (value.kind == ValueKind::kInteger) return value.integer;
    if (value.kind != ValueKind::kString) {
        error(entry.key_pos, absl::StrCat(av(name), " must be int64 or string"));
        return std::nullopt;
    }
    std::string_view text = value.text;
    if (text.empty()) return 0;
    int shift = 0;
    switch (text.back()) {
        case 'K':
        case 'k':
            shift = 10;
            break;
        case 'M':
        case 'm':
            shift = 20;
            break;
        case 'G':
        case 'g':
            shift = 30;
            break;
        case 'T':
        case 't':
            shift = 40;
            break;
        default:
            error(entry.key_pos,
                  absl::StrCat(av(name), " sizes defined as strings must end in K, M, G, T"));
            return std::nullopt;
    }
    std::string_view digits = text.substr(0, text.size() - 1);
    int64_t number = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || number < 0 ||
        number > (std::numeric_limits<int64_t>::max() >> shift)) {
        error(entry.key_pos, absl::StrCat(av(name), " invalid size \"", av(text), "\""));
        return std::nullopt;
    }
    return number << shift;
}

// jetstream { sync_interval }: "always" (any case) or a duration, as nats-server reads it.
void OptionsLoader::apply_sync_interval(const MapEntry& entry) {
    if (entry.value.kind == ValueKind::kString && absl::AsciiStrToLower(entry.value.text) == "always") {
        opts_.sync_interval = std::chrono::milliseconds(0);
        return;
    }
    auto interval = get_duration(entry);
    if (!interval) return;
    // nats-server takes 0 for its default; Ringtail's default is "always", so say which.
    if (*interval <= std::chrono::milliseconds(0)) {
        error(entry.key_pos, absl::StrCat(entry.key, " must be \"always\" or a positive duration"));
        return;
    }
    opts_.sync_interval = *interval;
}

// parseJetStream: `jetstream: true`, `jetstream: enabled`, or a map.
void OptionsLoader::apply_jetstream(const MapEntry& entry) {
    const Value& value = entry.value;
    if (value.kind == ValueKind::kBool) {
        opts_.jetstream = value.boolean;
        return;
    }
    if (value.kind == ValueKind::kString) {
        std::string word = absl::AsciiStrToLower(value.text);
        if (word == "enabled" || word == "enable") {
            opts_.jetstream = true;
        } else if (word == "disabled" || word == "disable") {
            opts_.jetstream = false;
        } else {
            error(entry.key_pos,
                  absl::StrCat("Expected 'enabled' or 'disabled' for string value, got '",
                               value.text, "'"));
        }
        return;
    }
    if (value.kind != ValueKind::kMap) {
        error(entry.key_pos, absl::StrCat("Expected map, bool or string to define JetStream, got ",
                                          describe(value)));
        return;
    }
    bool enable = true;
    for (const MapEntry& field : value.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        if (key == "store" || key == "store_dir" || key == "storedir") {
            set_store_dir(field);
        } else if (key == "max_memory_store" || key == "max_mem_store" || key == "max_mem") {
            if (auto bytes = get_storage_size(field, "max_mem_store")) {
                opts_.max_memory_store_bytes = *bytes;
            }
        } else if (key == "max_file_store" || key == "max_file") {
            if (auto bytes = get_storage_size(field, "max_file_store")) {
                opts_.max_file_store_bytes = *bytes;
            }
        } else if (key == "enable" || key == "enabled") {
            if (auto on = get_bool(field)) enable = *on;
        } else if (key == "domain") {
            set_jetstream_domain(field);
        } else if (key == "key" || key == "ek" || key == "encryption_key" || key == "cipher") {
            unsupported("jetstream.encryption");
        } else if (key == "sync_interval" || key == "sync") {
            apply_sync_interval(field);
        } else if (key == "limits") {
            apply_jetstream_limits(field);
        } else if (key == "unique_tag" || key == "max_outstanding_catchup" || key == "extension_hint") {
            // Placement and catch-up between cluster peers, and a hint for leaf nodes: nothing
            // they change exists on a server without a cluster, nats-server's included.
        } else {
            refuse_unknown(field);
        }
    }
    opts_.jetstream = enable;
}

// parseCluster, for a cluster of one: a name and nothing else (routes, a listen port, cluster
// authorization or TLS ask for clustering, which this version does not have; port 0 listens
// nowhere, as in nats-server).
void OptionsLoader::apply_cluster(const MapEntry& entry) {
    if (entry.value.kind != ValueKind::kMap) {
        unsupported("cluster");
        return;
    }
    for (const MapEntry& field : entry.value.map) {
        if (field.used_as_variable || is_port_zero(field)) continue;
        if (absl::AsciiStrToLower(field.key) != "name") {
            unsupported("cluster");
            continue;
        }
        if (auto name = get_string(field)) opts_.cluster_name = *name;
    }
}

bool OptionsLoader::is_port_zero(const MapEntry& field) {
    return absl::AsciiStrToLower(field.key) == "port" && field.value.kind == ValueKind::kInteger && field.value.integer == 0;
}

// A block of a feature this version lacks that asks nothing of it, as nats-server reads it: empty
// ("leafnodes {}", "websocket {}", "default_js_domain {}"), or a listener on port 0 (none), or
// "prof_port: 0". Taken: there is nothing to ignore.
bool OptionsLoader::configures_nothing(const MapEntry& entry, std::string_view key) {
    if (key == "prof_port") return entry.value.kind == ValueKind::kInteger && entry.value.integer == 0;
    constexpr std::string_view kBlocks[] = {"gateway", "leaf", "leafnodes", "websocket", "ws", "mqtt", "default_js_domain"};
    if (entry.value.kind != ValueKind::kMap || !contains(kBlocks, key)) return false;
    return std::all_of(entry.value.map.begin(), entry.value.map.end(), [&](const MapEntry& field) {
        return field.used_as_variable || (key != "default_js_domain" && is_port_zero(field));
    });
}

// parseJetStreamLimits: integers, and duplicate_window as a duration string.
void OptionsLoader::apply_jetstream_limits(const MapEntry& entry) {
    if (entry.value.kind != ValueKind::kMap) {
        error(entry.key_pos, absl::StrCat("Expected a map to define JetStreamLimits, got ", describe(entry.value)));
        return;
    }
    config::JetStreamLimits limits;
    for (const MapEntry& field : entry.value.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        int64_t* count = key == "max_ack_pending"     ? &limits.max_ack_pending
                         : key == "max_ha_assets"     ? &limits.max_ha_assets
                         : key == "max_request_batch" ? &limits.max_request_batch
                                                      : nullptr;
        if (count != nullptr) {
            if (field.value.kind != ValueKind::kInteger) {
                wrong_kind(field, "an integer");
                continue;
            }
            *count = field.value.integer;
        } else if (key == "duplicate_window") {
            if (field.value.kind != ValueKind::kString) {
                wrong_kind(field, "a duration string such as \"1m\"");
                continue;
            }
            absl::StatusOr<int64_t> window = parse_go_duration_ns(field.value.text);
            if (!window.ok()) {
                error(field.key_pos, absl::StrCat("error parsing ", field.key, ": ", window.status().message()));
                continue;
            }
            limits.duplicate_window = std::chrono::nanoseconds(*window);
        } else {
            refuse_unknown(field);
        }
    }
    opts_.jetstream_limits = limits;
}

// nats-server's validateJetStreamOptions: $JS.<domain>.API.> must be a valid subject, and the
// domain a name (no '.', '*' or '>').
void OptionsLoader::set_jetstream_domain(const MapEntry& field) {
    if (field.value.kind != ValueKind::kString) {
        error(field.key_pos, absl::StrCat("Expected a string for \"", field.key, "\", got ", describe(field.value)));
        return;
    }
    const std::string& domain = field.value.text;
    if (domain.empty()) return;
    std::vector<std::string_view> tokens = base::split_on(domain, '.');
    bool bad_token = std::any_of(tokens.begin(), tokens.end(), [](std::string_view t) { return t.empty() || t == ">"; });
    if (bad_token ||
        std::any_of(domain.begin(), domain.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
        error(field.key_pos, absl::StrCat("invalid domain name: derived \"$JS.", domain,
                                          ".API.>\" is not a valid subject"));
        return;
    }
    if (domain.find_first_of(".*>") != std::string::npos) {
        error(field.key_pos, "invalid domain name: may not contain ., * or >");
        return;
    }
    opts_.jetstream_domain = domain;
}

// parseJetStreamForAccount: `jetstream: true`, `enabled`, or a map of limits (sizes as integers).
void OptionsLoader::parse_account_jetstream(const std::string& account, const MapEntry& entry) {
    const Value& value = entry.value;
    AccountJetStream limits;
    limits.account = account;
    bool enable = false;
    if (value.kind == ValueKind::kBool) {
        enable = value.boolean;
    } else if (value.kind == ValueKind::kString) {
        std::string word = absl::AsciiStrToLower(value.text);
        if (word == "enabled" || word == "enable") {
            enable = true;
        } else if (word != "disabled" && word != "disable") {
            error(entry.key_pos,
                  absl::StrCat("Expected 'enabled' or 'disabled' for string value, got '", value.text, "'"));
            return;
        }
    } else if (value.kind == ValueKind::kMap) {
        enable = true;
        for (const MapEntry& field : value.map) {
            const std::string key = absl::AsciiStrToLower(field.key);
            auto size = [&](int64_t& out) {
                if (field.value.kind != ValueKind::kInteger) {
                    error(field.key_pos, absl::StrCat("Expected a parseable size for \"", field.key, "\", got ",
                                                      describe(field.value)));
                    return;
                }
                out = field.value.integer;
            };
            if (key == "max_memory" || key == "max_mem" || key == "mem" || key == "memory") {
                size(limits.max_memory);
            } else if (key == "max_store" || key == "max_file" || key == "max_disk" || key == "store" ||
                       key == "disk") {
                size(limits.max_store);
            } else if (key == "max_streams" || key == "streams") {
                size(limits.max_streams);
            } else if (key == "max_consumers" || key == "consumers") {
                size(limits.max_consumers);
            } else if (key == "max_bytes_required" || key == "max_stream_bytes" || key == "max_bytes") {
                if (field.value.kind != ValueKind::kBool) {
                    error(field.key_pos, absl::StrCat("Expected a parseable bool for \"", field.key, "\", got ",
                                                      describe(field.value)));
                    continue;
                }
                limits.max_bytes_required = field.value.boolean;
            } else if (key == "mem_max_stream_bytes" || key == "memory_max_stream_bytes") {
                size(limits.memory_max_stream_bytes);
            } else if (key == "disk_max_stream_bytes" || key == "store_max_stream_bytes") {
                size(limits.store_max_stream_bytes);
            } else if (key == "max_ack_pending") {
                size(limits.max_ack_pending);
            } else if (!field.used_as_variable) {
                error(field.key_pos, absl::StrCat("unknown field \"", field.key, "\""));
            }
        }
    } else {
        error(entry.key_pos,
              absl::StrCat("Expected map, bool or string to define JetStream, got ", describe(value)));
        return;
    }
    std::erase_if(opts_.account_jetstream, [&](const AccountJetStream& js) { return js.account == account; });
    if (enable) opts_.account_jetstream.push_back(std::move(limits));
}

// parseAccountLimits: max_connections, max_subscriptions and max_payload as integers.
// max_leafnodes is taken too: Ringtail has no leaf nodes, so there is nothing over it.
void OptionsLoader::parse_account_limits(const std::string& account, const MapEntry& entry) {
    if (entry.value.kind != ValueKind::kMap) {
        error(entry.key_pos, absl::StrCat("Expected account limits to be a map/struct, got ", describe(entry.value)));
        return;
    }
    AccountLimits limits;
    limits.account = account;
    for (const MapEntry& field : entry.value.map) {
        const std::string key = absl::AsciiStrToLower(field.key);
        int64_t* target = nullptr;
        if (key == "max_connections" || key == "max_conn") {
            target = &limits.max_connections;
        } else if (key == "max_subscriptions" || key == "max_subs") {
            target = &limits.max_subscriptions;
        } else if (key == "max_payload" || key == "max_pay") {
            target = &limits.max_payload;
        } else if (key != "max_leafnodes" && key != "max_leafs") {
            if (!field.used_as_variable) {
                error(field.key_pos, absl::StrCat("Unknown field \"", field.key, "\" parsing account limits"));
            }
            continue;
        }
        if (field.value.kind != ValueKind::kInteger) {
            error(field.key_pos, absl::StrCat(field.key, ": expected an integer, got ", describe(field.value)));
            continue;
        }
        if (target != nullptr) *target = field.value.integer;
    }
    std::erase_if(opts_.account_limits, [&](const AccountLimits& one) { return one.account == account; });
    opts_.account_limits.push_back(std::move(limits));
}

absl::Status load_tree(const absl::StatusOr<Value>& tree, const std::string& source, Options& opts,
                       std::vector<std::string>& warnings) {
    if (!tree.ok()) return tree.status();
    Options updated = opts;
    std::vector<std::string> found_warnings;
    OptionsLoader loader(updated, found_warnings, source);
    loader.apply_root(*tree);
    warnings.insert(warnings.end(), found_warnings.begin(), found_warnings.end());
    if (!loader.errors().empty()) {
        return absl::InvalidArgumentError(absl::StrJoin(loader.errors(), "\n"));
    }
    opts = std::move(updated);
    return absl::OkStatus();
}

}  // namespace

absl::Status load_config_file(const std::string& path, Options& opts,
                              std::vector<std::string>& warnings) {
    absl::Status status = load_tree(parse_conf_file(path), path, opts, warnings);
    if (status.ok()) opts.config_file = path;
    return status;
}

absl::Status load_config_text(std::string_view text, const std::string& base_dir, Options& opts,
                              std::vector<std::string>& warnings) {
    return load_tree(parse_conf_text(text, std::string(kTextLabel), base_dir),
                     std::string(kTextLabel), opts, warnings);
}

std::string_view account_name(const Options& options, uint32_t id) {
    return id == 0 || id > options.accounts.size() ? std::string_view("$G") : std::string_view(options.accounts[id - 1]);
}

const AccountLimits* account_limits(const Options& options, uint32_t id) {
    if (id == 0 || options.account_limits.empty()) return nullptr;
    std::string_view name = account_name(options, id);
    for (const AccountLimits& limits : options.account_limits) {
        if (limits.account == name) return &limits;
    }
    return nullptr;
}

std::vector<MappingDestination> weighted_destinations(const SubjectMapping& mapping, std::string_view cluster) {
    std::vector<MappingDestination> out;
    uint32_t total = 0;
    bool has_source = false;  // among the destinations of any cluster, as nats-server's
    for (const MappingDestination& destination : mapping.destinations) {
        has_source = has_source || destination.subject == mapping.source;
        if (destination.cluster != cluster) continue;
        out.push_back(destination);
        total += destination.weight;
    }
    if (total != 100 && !has_source) {
        out.push_back({base::number_wildcards(mapping.source), out.empty() ? 100 : 100 - total, std::string(cluster)});
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.weight < b.weight; });
    uint32_t sum = 0;
    for (MappingDestination& destination : out) destination.weight = sum += destination.weight;
    return out;
}

std::vector<MappingDestination> destinations_for(const SubjectMapping& mapping, std::string_view cluster) {
    bool own = !cluster.empty() && std::any_of(mapping.destinations.begin(), mapping.destinations.end(),
                                               [&](const MappingDestination& d) { return d.cluster == cluster; });
    return weighted_destinations(mapping, own ? cluster : std::string_view());
}

bool imports_jetstream_api(const Options& options, std::string_view account) {
    return std::any_of(options.service_imports.begin(), options.service_imports.end(), [&](const ServiceImport& import) {
        const std::string& local = import.to.empty() ? import.subject : import.to;
        return import.account == account && base::subject_matches(local, "$JS.API.INFO");
    });
}

std::string server_tag(std::string_view text) {
    return absl::AsciiStrToLower(absl::StripAsciiWhitespace(av(text)));
}

void add_jetstream_domain_mappings(Options& options) {
    if (!options.jetstream || options.jetstream_domain.empty()) return;
    const std::string prefix = "$JS." + options.jetstream_domain + ".API.";
    const std::pair<std::string_view, std::string_view> table[] = {
        {"INFO", "$JS.API.INFO"},           {"STREAM.>", "$JS.API.STREAM.>"}, {"CONSUMER.>", "$JS.API.CONSUMER.>"},
        {"DIRECT.>", "$JS.API.DIRECT.>"},   {"META.>", "$JS.API.META.>"},     {"SERVER.>", "$JS.API.SERVER.>"},
        {"ACCOUNT.>", "$JS.API.ACCOUNT.>"}, {"$KV.>", "$KV.>"},               {"$OBJ.>", "$OBJ.>"},
    };
    // Without accounts, the global account is the one with JetStream.
    std::vector<std::string> accounts{""};
    accounts.insert(accounts.end(), options.accounts.begin(), options.accounts.end());
    for (const std::string& account : accounts) {
        if (!account.empty() && account == system_account_name(options)) continue;
        bool has_jetstream = options.accounts.empty() ? account.empty()
                                                      : std::any_of(options.account_jetstream.begin(),
                                                                    options.account_jetstream.end(),
                                                                    [&](const AccountJetStream& js) { return js.account == account; });
        if (!has_jetstream && imports_jetstream_api(options, account)) continue;
        std::vector<SubjectMapping> added;
        for (const auto& [suffix, destination] : table) {
            std::string source = prefix + std::string(suffix);
            bool taken = std::any_of(options.mappings.begin(), options.mappings.end(), [&](const SubjectMapping& m) {
                return m.account == account && m.source == source;
            });
            if (!taken) added.push_back({account, std::move(source), {{std::string(destination), 100}}});
        }
        options.mappings.insert(options.mappings.end(), added.begin(), added.end());
    }
}

bool has_system_account(const Options& options) {
    return !options.no_system_account || !options.system_account.empty() || system_account_id(options).has_value();
}

std::optional<uint32_t> system_account_id(const Options& options) {
    uint32_t id = account_id(options, system_account_name(options));
    return id == 0 ? std::nullopt : std::optional<uint32_t>(id);
}

uint32_t account_id(const Options& options, std::string_view name) {
    auto it = std::find(options.accounts.begin(), options.accounts.end(), name);
    return it == options.accounts.end() ? 0 : static_cast<uint32_t>(it - options.accounts.begin()) + 1;
}

}  // namespace ringtail::config
