#include "proto/config/flags.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "proto/config/conf.h"

namespace ringtail::config {
namespace {

constexpr int kDefaultPort = 4222;
constexpr std::string_view kDefaultHost = "0.0.0.0";
// glibc's CPU_SETSIZE; sched_setaffinity with a plain cpu_set_t cannot name more.
constexpr int kCpuCountMax = 1024;
constexpr int64_t kShardCountMax = 1024;

// Debian's Abseil is built with its own string_view, distinct from std::string_view, so
// std::string_view arguments to absl::StrCat and friends go through this.
absl::string_view av(std::string_view text) { return absl::string_view(text.data(), text.size()); }

enum class FlagKind : uint8_t { kBool, kInt, kString, kCpuList };

enum class FlagId : uint8_t {
    kHelp,
    kHelpTls,
    kVersion,
    kPort,
    kHost,
    kServerName,
    kClusterName,
    kClientAdvertise,
    kDebug,
    kTrace,
    kTraceVerbose,
    kDebugTrace,
    kDebugTraceVerbose,
    kLogtime,
    kUser,
    kPass,
    kAuth,
    kHttpPort,
    kHttpsPort,
    kConfig,
    kCheckConfig,
    kPidFile,
    kPortsFileDir,
    kLogFile,
    kLogSizeLimit,
    kSyslog,
    kRemoteSyslog,
    kMaxTracedMsgLen,
    kJetStream,
    kStoreDir,
    kShards,
    kCpus,
    kSignal,
    kUnsupported,  // Accepted and recorded in Options::unsupported_flags.
};

struct FlagDef {
    std::string_view name;
    FlagId id;
    FlagKind kind;
};

// Every name nats-server 2.9 registers (ConfigureOptions), plus Ringtail's own.
constexpr FlagDef kFlags[] = {
    {"h", FlagId::kHelp, FlagKind::kBool},
    {"help", FlagId::kHelp, FlagKind::kBool},
    {"help_tls", FlagId::kHelpTls, FlagKind::kBool},
    {"v", FlagId::kVersion, FlagKind::kBool},
    {"version", FlagId::kVersion, FlagKind::kBool},
    {"p", FlagId::kPort, FlagKind::kInt},
    {"port", FlagId::kPort, FlagKind::kInt},
    {"a", FlagId::kHost, FlagKind::kString},
    {"addr", FlagId::kHost, FlagKind::kString},
    {"net", FlagId::kHost, FlagKind::kString},
    {"n", FlagId::kServerName, FlagKind::kString},
    {"name", FlagId::kServerName, FlagKind::kString},
    {"server_name", FlagId::kServerName, FlagKind::kString},
    {"client_advertise", FlagId::kClientAdvertise, FlagKind::kString},
    {"D", FlagId::kDebug, FlagKind::kBool},
    {"debug", FlagId::kDebug, FlagKind::kBool},
    {"V", FlagId::kTrace, FlagKind::kBool},
    {"trace", FlagId::kTrace, FlagKind::kBool},
    {"VV", FlagId::kTraceVerbose, FlagKind::kBool},
    {"DV", FlagId::kDebugTrace, FlagKind::kBool},
    {"DVV", FlagId::kDebugTraceVerbose, FlagKind::kBool},
    {"T", FlagId::kLogtime, FlagKind::kBool},
    {"logtime", FlagId::kLogtime, FlagKind::kBool},
    {"user", FlagId::kUser, FlagKind::kString},
    {"pass", FlagId::kPass, FlagKind::kString},
    {"auth", FlagId::kAuth, FlagKind::kString},
    {"m", FlagId::kHttpPort, FlagKind::kInt},
    {"http_port", FlagId::kHttpPort, FlagKind::kInt},
    {"ms", FlagId::kHttpsPort, FlagKind::kInt},
    {"https_port", FlagId::kHttpsPort, FlagKind::kInt},
    {"c", FlagId::kConfig, FlagKind::kString},
    {"config", FlagId::kConfig, FlagKind::kString},
    {"t", FlagId::kCheckConfig, FlagKind::kBool},
    {"P", FlagId::kPidFile, FlagKind::kString},
    {"pid", FlagId::kPidFile, FlagKind::kString},
    {"ports_file_dir", FlagId::kPortsFileDir, FlagKind::kString},
    {"l", FlagId::kLogFile, FlagKind::kString},
    {"log", FlagId::kLogFile, FlagKind::kString},
    {"log_size_limit", FlagId::kLogSizeLimit, FlagKind::kInt},
    {"s", FlagId::kSyslog, FlagKind::kBool},
    {"syslog", FlagId::kSyslog, FlagKind::kBool},
    {"r", FlagId::kRemoteSyslog, FlagKind::kString},
    {"remote_syslog", FlagId::kRemoteSyslog, FlagKind::kString},
    {"max_traced_msg_len", FlagId::kMaxTracedMsgLen, FlagKind::kInt},
    {"js", FlagId::kJetStream, FlagKind::kBool},
    {"jetstream", FlagId::kJetStream, FlagKind::kBool},
    {"sd", FlagId::kStoreDir, FlagKind::kString},
    {"store_dir", FlagId::kStoreDir, FlagKind::kString},
    {"shards", FlagId::kShards, FlagKind::kInt},
    {"cpus", FlagId::kCpus, FlagKind::kCpuList},
    {"sl", FlagId::kSignal, FlagKind::kString},
    {"signal", FlagId::kSignal, FlagKind::kString},
    // Clustering, TLS, profiling: not provided by Ringtail.
    {"profile", FlagId::kUnsupported, FlagKind::kInt},
    {"routes", FlagId::kUnsupported, FlagKind::kString},
    {"cluster", FlagId::kUnsupported, FlagKind::kString},
    {"cluster_listen", FlagId::kUnsupported, FlagKind::kString},
    {"cluster_advertise", FlagId::kUnsupported, FlagKind::kString},
    {"cluster_name", FlagId::kClusterName, FlagKind::kString},
    {"no_advertise", FlagId::kUnsupported, FlagKind::kBool},
    {"connect_retries", FlagId::kUnsupported, FlagKind::kInt},
    {"tls", FlagId::kUnsupported, FlagKind::kBool},
    {"tlsverify", FlagId::kUnsupported, FlagKind::kBool},
    {"tlscert", FlagId::kUnsupported, FlagKind::kString},
    {"tlskey", FlagId::kUnsupported, FlagKind::kString},
    {"tlscacert", FlagId::kUnsupported, FlagKind::kString},
};

const FlagDef* find_flag(std::string_view name) {
    for (const FlagDef& def : kFlags) {
        if (def.name == name) return &def;
    }
    return nullptr;
}

// One flag as given on the command line, its value already converted.
struct FlagUse {
    const FlagDef* def = nullptr;
    std::string spelled;  // Dashes and name as typed: "--tls".
    std::string text;
    int64_t number = 0;
    bool on = false;
    std::vector<int> cpus;
};

// Go's %q, enough for command-line text: quotes, backslashes and control bytes escaped.
std::string go_quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        unsigned char byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (byte < 0x20 || byte == 0x7F) {
            constexpr std::string_view kHex = "0123456789abcdef";
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xF];
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

enum class IntError : uint8_t { kNone, kSyntax, kRange };

// Go's strconv.ParseInt(text, 0, 64): optional sign, then decimal, 0x hex, 0o or leading-0
// octal, 0b binary, with '_' allowed between digits.
IntError parse_go_int(std::string_view text, int64_t& out) {
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s.empty()) return IntError::kSyntax;

    uint64_t base = 10;
    bool prefixed = false;  // "0x" style: underscores may follow the prefix directly.
    if (s[0] == '0') {
        char mark = s.size() >= 3 ? absl::ascii_tolower(static_cast<unsigned char>(s[1])) : '\0';
        if (mark == 'b' || mark == 'o' || mark == 'x') {
            base = mark == 'b' ? 2 : (mark == 'o' ? 8 : 16);
            prefixed = true;
            s.remove_prefix(2);
        } else {
            base = 8;  // Leading zero: octal. "0" alone is fine and yields 0.
        }
    }

    // Underscores must sit between digits (or right after a base prefix).
    char last = prefixed ? '0' : '^';  // '0' digit, '_' underscore, '^' start.
    uint64_t value = 0;
    bool overflow = false;
    for (char c : s) {
        if (c == '_') {
            if (last != '0') return IntError::kSyntax;
            last = '_';
            continue;
        }
        uint64_t digit = 0;
        char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
        if (c >= '0' && c <= '9') {
            digit = static_cast<uint64_t>(c - '0');
        } else if (lower >= 'a' && lower <= 'z') {
            digit = static_cast<uint64_t>(lower - 'a') + 10;
        } else {
            return IntError::kSyntax;
        }
        if (digit >= base) return IntError::kSyntax;
        last = '0';
        if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) {
            overflow = true;
        } else {
            value = value * base + digit;
        }
    }
    if (last == '_') return IntError::kSyntax;
    constexpr uint64_t kLimit = uint64_t{1} << 63;
    if (overflow || (negative ? value > kLimit : value >= kLimit)) return IntError::kRange;
    if (negative) {
        out = value == kLimit ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(value);
    } else {
        out = static_cast<int64_t>(value);
    }
    return IntError::kNone;
}

// Go's strconv.ParseBool.
std::optional<bool> parse_go_bool(std::string_view text) {
    if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" ||
        text == "True") {
        return true;
    }
    if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" ||
        text == "False") {
        return false;
    }
    return std::nullopt;
}

// "0,2,4-7": CPU numbers and inclusive ranges, in the order given. Returns the reason on error.
std::optional<std::string> parse_cpu_list(std::string_view text, std::vector<int>& cpus) {
    if (text.empty()) return "empty CPU list";
    auto parse_cpu = [](std::string_view part, int& cpu) -> std::optional<std::string> {
        if (part.empty() || part.size() > 9 ||
            part.find_first_not_of("0123456789") != std::string_view::npos) {
            return absl::StrCat(go_quote(part), " is not a CPU number");
        }
        int value = 0;
        for (char c : part) value = value * 10 + (c - '0');
        if (value >= kCpuCountMax) {
            return absl::StrCat("CPU ", value, " is out of range (0 to ", kCpuCountMax - 1, ")");
        }
        cpu = value;
        return std::nullopt;
    };
    size_t start = 0;
    for (;;) {
        size_t comma = text.find(',', start);
        std::string_view item = text.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (item.empty()) return "empty entry in CPU list";
        size_t dash = item.find('-');
        int first = 0;
        int last = 0;
        if (auto bad = parse_cpu(item.substr(0, dash), first)) return bad;
        last = first;
        if (dash != std::string_view::npos) {
            if (auto bad = parse_cpu(item.substr(dash + 1), last)) return bad;
            if (last < first) return absl::StrCat("range ", av(item), " runs backwards");
        }
        for (int cpu = first; cpu <= last; ++cpu) {
            if (std::find(cpus.begin(), cpus.end(), cpu) != cpus.end()) {
                return absl::StrCat("CPU ", cpu, " is listed twice");
            }
            cpus.push_back(cpu);
        }
        if (comma == std::string_view::npos) return std::nullopt;
        start = comma + 1;
    }
}

FlagOutcome fail(std::string message, FlagOutcome::Action action = FlagOutcome::Action::kError) {
    FlagOutcome outcome;
    outcome.action = action;
    outcome.message = std::move(message);
    return outcome;
}

// Converts the value of a non-boolean flag. Returns an error message in Go's wording.
std::optional<std::string> convert_value(FlagUse& use, std::string_view name,
                                         std::string_view value) {
    use.text = std::string(value);
    auto invalid = [&](std::string_view reason) {
        return absl::StrCat("invalid value ", go_quote(value), " for flag -", av(name), ": ",
                            av(reason));
    };
    if (use.def->kind == FlagKind::kCpuList) {
        if (auto bad = parse_cpu_list(value, use.cpus)) return invalid(*bad);
        return std::nullopt;
    }
    if (use.def->kind != FlagKind::kInt) return std::nullopt;
    IntError err = parse_go_int(value, use.number);
    if (err == IntError::kSyntax) return invalid("parse error");
    if (err == IntError::kRange) return invalid("value out of range");
    switch (use.def->id) {
        case FlagId::kPort:
        case FlagId::kHttpPort:
        case FlagId::kHttpsPort:
            if (use.number < -1 || use.number > 65535) {
                return invalid("port must be between -1 and 65535");
            }
            break;
        case FlagId::kShards:
            if (use.number < 0 || use.number > kShardCountMax) {
                return invalid(absl::StrCat("shard count must be between 0 and ", kShardCountMax));
            }
            break;
        case FlagId::kMaxTracedMsgLen:
            if (use.number > std::numeric_limits<int32_t>::max()) {
                return invalid("value out of range");
            }
            break;
        default:
            break;
    }
    return std::nullopt;
}

void apply_use(const FlagUse& use, Options& opts) {
    switch (use.def->id) {
        case FlagId::kPort:
            // nats-server treats port 0 as "not set", i.e. the default port.
            opts.port = use.number == 0 ? kDefaultPort : static_cast<int>(use.number);
            break;
        case FlagId::kHost:
            opts.host = use.text.empty() ? std::string(kDefaultHost) : use.text;
            break;
        case FlagId::kServerName:
            opts.server_name = use.text;
            break;
        case FlagId::kClusterName:
            opts.cluster_name = use.text;
            break;
        case FlagId::kClientAdvertise:
            opts.client_advertise = use.text;
            break;
        case FlagId::kDebug:
            opts.debug = use.on;
            break;
        case FlagId::kTrace:
            opts.trace = use.on;
            break;
        case FlagId::kLogtime:
            opts.logtime = use.on;
            break;
        case FlagId::kUser:
            opts.user = use.text;
            break;
        case FlagId::kPass:
            opts.password = use.text;
            break;
        case FlagId::kAuth:
            opts.token = use.text;
            break;
        case FlagId::kHttpPort:
            opts.http_port = static_cast<int>(use.number);
            break;
        case FlagId::kHttpsPort:
            opts.https_port = static_cast<int>(use.number);
            break;
        case FlagId::kCheckConfig:
            opts.check_config = use.on;
            break;
        case FlagId::kPidFile:
            opts.pid_file = use.text;
            break;
        case FlagId::kPortsFileDir:
            opts.ports_file_dir = use.text;
            break;
        case FlagId::kLogFile:
            opts.log_file = use.text;
            break;
        case FlagId::kLogSizeLimit:
            opts.log_size_limit_bytes = std::max<int64_t>(use.number, 0);
            break;
        case FlagId::kSyslog:
            opts.syslog = use.on;
            break;
        case FlagId::kRemoteSyslog:
            opts.remote_syslog = use.text;
            break;
        case FlagId::kMaxTracedMsgLen:
            opts.max_traced_msg_bytes = static_cast<int32_t>(std::max<int64_t>(use.number, 0));
            break;
        case FlagId::kJetStream:
            opts.jetstream = use.on;
            break;
        case FlagId::kStoreDir:
            opts.store_dir = use.text;
            break;
        case FlagId::kShards:
            opts.shards = static_cast<int>(use.number);
            break;
        case FlagId::kCpus:
            opts.cpus = use.cpus;
            break;
        case FlagId::kSignal:
            opts.signal_command = use.text;
            break;
        case FlagId::kUnsupported: {
            // A value that leaves the feature off (--tls=false, --routes "") asks for nothing.
            bool asks = use.def->kind == FlagKind::kBool  ? use.on
                        : use.def->kind == FlagKind::kInt ? use.number != 0
                                                          : !use.text.empty();
            auto& list = opts.unsupported_flags;
            if (asks && std::find(list.begin(), list.end(), use.spelled) == list.end()) {
                list.push_back(use.spelled);
            }
            break;
        }
        // Handled before or after the plain flags.
        case FlagId::kHelp:
        case FlagId::kHelpTls:
        case FlagId::kVersion:
        case FlagId::kConfig:
        case FlagId::kTraceVerbose:
        case FlagId::kDebugTrace:
        case FlagId::kDebugTraceVerbose:
            break;
    }
}

}  // namespace

FlagOutcome parse_flags(int argc, const char* const* argv, Options& opts,
                        std::vector<std::string>& warnings) {
    std::vector<FlagUse> uses;
    int index = 1;
    while (index < argc && argv[index] != nullptr) {
        std::string_view arg = argv[index];
        if (arg.size() < 2 || arg[0] != '-') break;  // First non-flag argument.
        size_t dashes = 1;
        if (arg[1] == '-') {
            dashes = 2;
            if (arg.size() == 2) {  // "--" ends the flags and is consumed.
                ++index;
                break;
            }
        }
        std::string_view name = arg.substr(dashes);
        if (name.empty() || name[0] == '-' || name[0] == '=') {
            return fail(absl::StrCat("bad flag syntax: ", av(arg)));
        }
        ++index;
        std::optional<std::string_view> value;
        if (size_t eq = name.find('='); eq != std::string_view::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const FlagDef* def = find_flag(name);
        if (def == nullptr) return fail(absl::StrCat("flag provided but not defined: -", av(name)));

        FlagUse use;
        use.def = def;
        use.spelled = absl::StrCat(av(arg.substr(0, dashes)), av(name));
        if (def->kind == FlagKind::kBool) {
            // Booleans never take the next argument: `-D true` leaves "true" as a command.
            if (value.has_value()) {
                std::optional<bool> on = parse_go_bool(*value);
                if (!on.has_value()) {
                    return fail(absl::StrCat("invalid boolean value ", go_quote(*value), " for -",
                                             av(name), ": parse error"));
                }
                use.on = *on;
            } else {
                use.on = true;
            }
        } else {
            if (!value.has_value() && index < argc && argv[index] != nullptr) {
                value = std::string_view(argv[index]);
                ++index;
            }
            if (!value.has_value()) {
                return fail(absl::StrCat("flag needs an argument: -", av(name)));
            }
            if (auto bad = convert_value(use, name, *value)) return fail(*std::move(bad));
        }
        uses.push_back(std::move(use));
    }

    // Later flags replace earlier ones, so each setting's last use is the one that counts.
    auto last_use = [&uses](FlagId id) -> const FlagUse* {
        for (auto it = uses.rbegin(); it != uses.rend(); ++it) {
            if (it->def->id == id) return &*it;
        }
        return nullptr;
    };
    auto is_on = [&last_use](FlagId id) {
        const FlagUse* use = last_use(id);
        return use != nullptr && use->on;
    };

    FlagOutcome outcome;
    if (is_on(FlagId::kVersion)) {
        outcome.action = FlagOutcome::Action::kShowVersion;
        return outcome;
    }
    if (is_on(FlagId::kHelp) || is_on(FlagId::kHelpTls)) {
        outcome.action = FlagOutcome::Action::kShowHelp;
        return outcome;
    }
    // nats-server's ProcessCommandLineArgs: "version" and "help" are commands.
    if (index < argc && argv[index] != nullptr) {
        std::string command = absl::AsciiStrToLower(argv[index]);
        if (command == "version") {
            outcome.action = FlagOutcome::Action::kShowVersion;
            return outcome;
        }
        if (command == "help") {
            outcome.action = FlagOutcome::Action::kShowHelp;
            return outcome;
        }
        return fail(absl::StrCat("unrecognized command: ", go_quote(argv[index])), FlagOutcome::Action::kFatal);
    }

    Options updated = opts;
    const FlagUse* config = last_use(FlagId::kConfig);
    std::string config_path = config != nullptr ? config->text : std::string();
    if (!config_path.empty()) {
        absl::Status status = load_config_file(config_path, updated, warnings);
        if (!status.ok()) return fail(std::string(status.message()), FlagOutcome::Action::kFatal);
    } else if (is_on(FlagId::kCheckConfig)) {
        return fail("must specify [-c, --config] option to check configuration file syntax", FlagOutcome::Action::kFatal);
    }

    for (const FlagUse& use : uses) apply_use(use, updated);
    // nats-server applies the combined flags after the others, in name order (DV, DVV, VV),
    // so `-D=false -DV` still turns debug on.
    if (const FlagUse* use = last_use(FlagId::kDebugTrace)) {
        updated.debug = use->on;
        updated.trace = use->on;
    }
    if (const FlagUse* use = last_use(FlagId::kDebugTraceVerbose)) {
        updated.debug = use->on;
        updated.trace = use->on;
        updated.trace_verbose = use->on;
    }
    if (const FlagUse* use = last_use(FlagId::kTraceVerbose)) {
        updated.trace = use->on;
        updated.trace_verbose = use->on;
    }
    opts = std::move(updated);
    return outcome;
}

std::string usage_text() {
    // nats-server 2.9's usageStr (main.go), option lines unchanged.
    constexpr std::string_view kNatsUsage =
        "\n"
        "Usage: nats-server [options]\n"
        "\n"
        "Server Options:\n"
        "    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)\n"
        "    -p, --port <port>                Use port for clients (default: 4222)\n"
        "    -n, --name\n"
        "        --server_name <server_name>  Server name (default: auto)\n"
        "    -P, --pid <file>                 File to store PID\n"
        "    -m, --http_port <port>           Use port for http monitoring\n"
        "    -ms,--https_port <port>          Use port for https monitoring\n"
        "    -c, --config <file>              Configuration file\n"
        "    -t                               Test configuration and exit\n"
        "    -sl,--signal <signal>[=<pid>]    Send signal to nats-server process (ldm, stop, quit, "
        "term, reopen, reload)\n"
        "                                     pid> can be either a PID (e.g. 1) or the path to a "
        "PID file (e.g. /var/run/nats-server.pid)\n"
        "        --client_advertise <string>  Client URL to advertise to other servers\n"
        "        --ports_file_dir <dir>       Creates a ports file in the specified directory "
        "(<executable_name>_<pid>.ports).\n"
        "\n"
        "Logging Options:\n"
        "    -l, --log <file>                 File to redirect log output\n"
        "    -T, --logtime                    Timestamp log entries (default: true)\n"
        "    -s, --syslog                     Log to syslog or windows event log\n"
        "    -r, --remote_syslog <addr>       Syslog server addr (udp://localhost:514)\n"
        "    -D, --debug                      Enable debugging output\n"
        "    -V, --trace                      Trace the raw protocol\n"
        "    -VV                              Verbose trace (traces system account as well)\n"
        "    -DV                              Debug and trace\n"
        "    -DVV                             Debug and verbose trace (traces system account as "
        "well)\n"
        "        --log_size_limit <limit>     Logfile size limit (default: auto)\n"
        "        --max_traced_msg_len <len>   Maximum printable length for traced messages "
        "(default: unlimited)\n"
        "\n"
        "JetStream Options:\n"
        "    -js, --jetstream                 Enable JetStream functionality\n"
        "    -sd, --store_dir <dir>           Set the storage directory\n"
        "\n"
        "Authorization Options:\n"
        "        --user <user>                User required for connections\n"
        "        --pass <password>            Password required for connections\n"
        "        --auth <token>               Authorization token required for connections\n"
        "\n"
        "TLS Options:\n"
        "        --tls                        Enable TLS, do not verify clients (default: false)\n"
        "        --tlscert <file>             Server certificate file\n"
        "        --tlskey <file>              Private key for server certificate\n"
        "        --tlsverify                  Enable TLS, verify client certificates\n"
        "        --tlscacert <file>           Client certificate CA for verification\n"
        "\n"
        "Cluster Options:\n"
        "        --routes <rurl-1, rurl-2>    Routes to solicit and connect\n"
        "        --cluster <cluster-url>      Cluster URL for solicited routes\n"
        "        --cluster_name <string>      Cluster Name, if not set one will be dynamically "
        "generated\n"
        "        --no_advertise <bool>        Do not advertise known cluster information to "
        "clients\n"
        "        --cluster_advertise <string> Cluster URL to advertise to other servers\n"
        "        --connect_retries <number>   For implicit routes, number of connect retries\n"
        "        --cluster_listen <url>       Cluster url from which members can solicit routes\n"
        "\n"
        "Profiling Options:\n"
        "        --profile <port>             Profiling HTTP port\n"
        "\n";
    constexpr std::string_view kRingtailUsage = R"(Ringtail Options:
        --shards <count>             Number of shards (default: one per usable CPU)
        --cpus <list>                CPUs to pin shards to, e.g. 0,1 or 0-3 (default: all usable)

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
        --help_tls                   TLS help
)";
    return absl::StrCat(absl::StrReplaceAll(av(kNatsUsage), {{"nats-server", "ringtail"}}),
                        av(kRingtailUsage));
}

}  // namespace ringtail::config
