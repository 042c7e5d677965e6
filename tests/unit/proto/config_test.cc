#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "proto/config/conf.h"
#include "proto/config/flags.h"
#include "proto/config/options.h"

namespace ringtail::config {
namespace {

using std::chrono::milliseconds;
using Action = FlagOutcome::Action;

// ---------------------------------------------------------------------------------------------
// Helpers.

// A scratch directory removed at the end of the test.
class TempDir {
 public:
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "rt_config_XXXXXX").string();
        char* made = mkdtemp(pattern.data());
        EXPECT_NE(made, nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string write(const std::string& name, std::string_view text) const {
        std::filesystem::path file = std::filesystem::path(path_) / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary);
        out << text;
        return file.string();
    }
    const std::string& path() const { return path_; }

 private:
    std::string path_;
};

// Sets an environment variable for the length of a test.
class ScopedEnv {
 public:
    ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
    ~ScopedEnv() { unsetenv(name_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
    const char* name_;
};

struct FlagRun {
    FlagOutcome outcome;
    Options opts;
    std::vector<std::string> warnings;
};

FlagRun run_flags(const std::vector<std::string>& args, Options start = {}) {
    std::vector<const char*> argv = {"ringtail"};
    for (const std::string& arg : args) argv.push_back(arg.c_str());
    FlagRun run;
    run.opts = std::move(start);
    run.outcome = parse_flags(static_cast<int>(argv.size()), argv.data(), run.opts, run.warnings);
    return run;
}

// Runs flags expected to succeed.
Options flags_ok(const std::vector<std::string>& args) {
    FlagRun run = run_flags(args);
    EXPECT_EQ(run.outcome.action, Action::kRun) << run.outcome.message;
    return run.opts;
}

// Runs flags expected to fail and returns the message.
std::string flags_error(const std::vector<std::string>& args, Action action = Action::kError) {
    FlagRun run = run_flags(args);
    EXPECT_EQ(run.outcome.action, action);
    return run.outcome.message;
}

Value parse_ok(std::string_view text, const std::string& base_dir = "") {
    absl::StatusOr<Value> tree = parse_conf_text(text, "test.conf", base_dir);
    EXPECT_TRUE(tree.ok()) << tree.status();
    return tree.ok() ? *tree : Value{};
}

std::string parse_error(std::string_view text, const std::string& base_dir = "") {
    absl::StatusOr<Value> tree = parse_conf_text(text, "test.conf", base_dir);
    EXPECT_FALSE(tree.ok()) << "parsed unexpectedly: " << text;
    return tree.ok() ? std::string() : std::string(tree.status().message());
}

const Value& at(const Value& map, std::string_view key) {
    static const Value kMissing;
    const MapEntry* entry = map.find(key);
    EXPECT_NE(entry, nullptr) << "missing key " << key;
    return entry != nullptr ? entry->value : kMissing;
}

int64_t int_at(const Value& map, std::string_view key) {
    const Value& value = at(map, key);
    EXPECT_EQ(value.kind, ValueKind::kInteger) << key;
    return value.integer;
}

std::string string_at(const Value& map, std::string_view key) {
    const Value& value = at(map, key);
    EXPECT_EQ(value.kind, ValueKind::kString) << key;
    return value.text;
}

struct LoadResult {
    absl::Status status;
    Options opts;
    std::vector<std::string> warnings;
};

LoadResult load(std::string_view text, const std::string& base_dir = "") {
    LoadResult result;
    result.status = load_config_text(text, base_dir, result.opts, result.warnings);
    return result;
}

Options load_ok(std::string_view text) {
    LoadResult result = load(text);
    EXPECT_TRUE(result.status.ok()) << result.status;
    return result.opts;
}

std::string load_error(std::string_view text) {
    LoadResult result = load(text);
    EXPECT_FALSE(result.status.ok()) << "loaded unexpectedly: " << text;
    return std::string(result.status.message());
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
    for (const std::string& entry : list) {
        if (entry == item) return true;
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// Flags: spellings.

TEST(Flags, NoArgumentsKeepDefaults) {
    FlagRun run = run_flags({});
    EXPECT_EQ(run.outcome.action, Action::kRun);
    EXPECT_EQ(run.opts.port, 4222);
    EXPECT_EQ(run.opts.host, "0.0.0.0");
    EXPECT_TRUE(run.opts.logtime);
    EXPECT_TRUE(run.opts.unsupported_flags.empty());
}

TEST(Flags, HostAcceptsEveryNatsSpelling) {
    for (const char* name : {"-a", "--a", "-addr", "--addr", "-net", "--net"}) {
        EXPECT_EQ(flags_ok({name, "127.0.0.1"}).host, "127.0.0.1") << name;
        EXPECT_EQ(flags_ok({std::string(name) + "=10.0.0.1"}).host, "10.0.0.1") << name;
    }
}

TEST(Flags, PortAcceptsEveryNatsSpelling) {
    for (const char* name : {"-p", "--p", "-port", "--port"}) {
        EXPECT_EQ(flags_ok({name, "5222"}).port, 5222) << name;
        EXPECT_EQ(flags_ok({std::string(name) + "=5223"}).port, 5223) << name;
    }
}

TEST(Flags, PortMinusOneMeansRandomAndIsAccepted) {
    EXPECT_EQ(flags_ok({"-p", "-1"}).port, -1);
    EXPECT_EQ(flags_ok({"--port=-1"}).port, -1);
}

TEST(Flags, PortZeroMeansDefaultPortAsInNatsServer) { EXPECT_EQ(flags_ok({"-p", "0"}).port, 4222); }

TEST(Flags, IntegersUseGoSyntaxWithBasePrefixesAndUnderscores) {
    EXPECT_EQ(flags_ok({"-p", "0x10"}).port, 16);
    EXPECT_EQ(flags_ok({"-p", "0o17"}).port, 15);
    EXPECT_EQ(flags_ok({"-p", "017"}).port, 15);  // Leading zero: octal, as in Go.
    EXPECT_EQ(flags_ok({"-p", "0b101"}).port, 5);
    EXPECT_EQ(flags_ok({"-p", "1_000"}).port, 1000);
    EXPECT_EQ(flags_ok({"-p", "+80"}).port, 80);
}

TEST(Flags, ServerNameAcceptsEveryNatsSpelling) {
    for (const char* name : {"-n", "-name", "--name", "--server_name", "-server_name"}) {
        EXPECT_EQ(flags_ok({name, "alpha"}).server_name, "alpha") << name;
    }
}

TEST(Flags, FileAndDirectoryFlagsAcceptEverySpelling) {
    EXPECT_EQ(flags_ok({"-P", "/run/a.pid"}).pid_file, "/run/a.pid");
    EXPECT_EQ(flags_ok({"--pid", "/run/b.pid"}).pid_file, "/run/b.pid");
    EXPECT_EQ(flags_ok({"-l", "/var/log/a"}).log_file, "/var/log/a");
    EXPECT_EQ(flags_ok({"--log=/var/log/b"}).log_file, "/var/log/b");
    EXPECT_EQ(flags_ok({"--ports_file_dir", "/tmp/ports"}).ports_file_dir, "/tmp/ports");
    EXPECT_EQ(flags_ok({"-sd", "/data"}).store_dir, "/data");
    EXPECT_EQ(flags_ok({"--store_dir", "/data2"}).store_dir, "/data2");
}

TEST(Flags, MonitoringPortsAcceptEverySpellingIncludingRandom) {
    EXPECT_EQ(flags_ok({"-m", "8222"}).http_port, 8222);
    EXPECT_EQ(flags_ok({"--http_port", "-1"}).http_port, -1);
    EXPECT_EQ(flags_ok({"-ms", "8443"}).https_port, 8443);
    EXPECT_EQ(flags_ok({"--https_port=8444"}).https_port, 8444);
}

TEST(Flags, LoggingFlagsAcceptEverySpelling) {
    EXPECT_FALSE(flags_ok({"-T=false"}).logtime);
    EXPECT_FALSE(flags_ok({"--logtime=false"}).logtime);
    EXPECT_TRUE(flags_ok({"-T"}).logtime);
    EXPECT_TRUE(flags_ok({"-s"}).syslog);
    EXPECT_TRUE(flags_ok({"--syslog"}).syslog);
    EXPECT_EQ(flags_ok({"-r", "udp://h:514"}).remote_syslog, "udp://h:514");
    EXPECT_EQ(flags_ok({"--remote_syslog", "udp://g:514"}).remote_syslog, "udp://g:514");
    EXPECT_EQ(flags_ok({"--log_size_limit", "1048576"}).log_size_limit_bytes, 1048576);
    EXPECT_EQ(flags_ok({"--max_traced_msg_len", "128"}).max_traced_msg_bytes, 128);
}

TEST(Flags, DebugAndTraceFlagsSetTheirFields) {
    EXPECT_TRUE(flags_ok({"-D"}).debug);
    EXPECT_TRUE(flags_ok({"--debug"}).debug);
    EXPECT_TRUE(flags_ok({"-V"}).trace);
    EXPECT_TRUE(flags_ok({"--trace"}).trace);

    Options vv = flags_ok({"-VV"});
    EXPECT_TRUE(vv.trace);
    EXPECT_TRUE(vv.trace_verbose);
    EXPECT_FALSE(vv.debug);

    Options dv = flags_ok({"-DV"});
    EXPECT_TRUE(dv.debug);
    EXPECT_TRUE(dv.trace);
    EXPECT_FALSE(dv.trace_verbose);

    Options dvv = flags_ok({"--DVV"});
    EXPECT_TRUE(dvv.debug);
    EXPECT_TRUE(dvv.trace);
    EXPECT_TRUE(dvv.trace_verbose);
}

TEST(Flags, BooleanFlagsAcceptGoBooleanSpellings) {
    for (const char* yes : {"1", "t", "T", "true", "TRUE", "True"}) {
        EXPECT_TRUE(flags_ok({std::string("-D=") + yes}).debug) << yes;
    }
    for (const char* no : {"0", "f", "F", "false", "FALSE", "False"}) {
        EXPECT_FALSE(flags_ok({"-D", std::string("--debug=") + no}).debug) << no;
    }
}

TEST(Flags, CombinedDebugTraceFlagWinsOverPlainFlagsRegardlessOfOrder) {
    Options opts = flags_ok({"-DV", "-D=false"});
    EXPECT_TRUE(opts.debug);
    EXPECT_TRUE(opts.trace);
    opts = flags_ok({"-D", "-V", "-DV=false"});
    EXPECT_FALSE(opts.debug);
    EXPECT_FALSE(opts.trace);
}

TEST(Flags, JetStreamAndAuthFlagsAcceptEverySpelling) {
    EXPECT_TRUE(flags_ok({"-js"}).jetstream);
    EXPECT_TRUE(flags_ok({"--jetstream"}).jetstream);
    Options opts = flags_ok({"--user", "alice", "--pass", "secret", "--auth", "tok"});
    EXPECT_EQ(opts.user, "alice");
    EXPECT_EQ(opts.password, "secret");
    EXPECT_EQ(opts.token, "tok");
    EXPECT_EQ(flags_ok({"--client_advertise", "nats://a:4222"}).client_advertise, "nats://a:4222");
}

TEST(Flags, EmptyHostMeansDefaultHost) { EXPECT_EQ(flags_ok({"-a", ""}).host, "0.0.0.0"); }

TEST(Flags, LaterFlagReplacesEarlierOne) {
    EXPECT_EQ(flags_ok({"-p", "1000", "--port", "2000"}).port, 2000);
}

TEST(Flags, HelpAndVersionInEverySpelling) {
    for (const char* help : {"-h", "--h", "-help", "--help", "--help_tls", "-help_tls"}) {
        EXPECT_EQ(run_flags({help}).outcome.action, Action::kShowHelp) << help;
    }
    for (const char* version : {"-v", "--v", "-version", "--version"}) {
        EXPECT_EQ(run_flags({version}).outcome.action, Action::kShowVersion) << version;
    }
    EXPECT_EQ(run_flags({"-v", "-h"}).outcome.action, Action::kShowVersion);
    EXPECT_EQ(run_flags({"-v=false"}).outcome.action, Action::kRun);
}

TEST(Flags, VersionAndHelpWorkAsCommands) {
    EXPECT_EQ(run_flags({"version"}).outcome.action, Action::kShowVersion);
    EXPECT_EQ(run_flags({"-p", "5", "VERSION"}).outcome.action, Action::kShowVersion);
    EXPECT_EQ(run_flags({"help"}).outcome.action, Action::kShowHelp);
}

TEST(Flags, HelpIsReportedBeforeLoadingTheConfig) {
    FlagRun run = run_flags({"-c", "/nonexistent/ringtail.conf", "-h"});
    EXPECT_EQ(run.outcome.action, Action::kShowHelp);
}

// ---------------------------------------------------------------------------------------------
// Flags: errors, in Go's words.

TEST(Flags, UnknownFlagUsesGoMessageWithOneDash) {
    EXPECT_EQ(flags_error({"-foo"}), "flag provided but not defined: -foo");
    EXPECT_EQ(flags_error({"--foo"}), "flag provided but not defined: -foo");
    EXPECT_EQ(flags_error({"--foo=bar"}), "flag provided but not defined: -foo");
    EXPECT_EQ(flags_error({"-d"}), "flag provided but not defined: -d");  // Case matters.
    EXPECT_EQ(flags_error({"-p", "1", "-x"}), "flag provided but not defined: -x");
}

TEST(Flags, UnknownFlagIsReportedEvenWithHelp) {
    EXPECT_EQ(flags_error({"-h", "--nope"}), "flag provided but not defined: -nope");
}

TEST(Flags, NonIntegerValueForIntegerFlagUsesGoMessage) {
    EXPECT_EQ(flags_error({"-p", "abc"}), "invalid value \"abc\" for flag -p: parse error");
    EXPECT_EQ(flags_error({"--port=abc"}), "invalid value \"abc\" for flag -port: parse error");
    EXPECT_EQ(flags_error({"-p", ""}), "invalid value \"\" for flag -p: parse error");
    EXPECT_EQ(flags_error({"-p", "12abc"}), "invalid value \"12abc\" for flag -p: parse error");
    EXPECT_EQ(flags_error({"-p", "1__0"}), "invalid value \"1__0\" for flag -p: parse error");
    EXPECT_EQ(flags_error({"-p", "_10"}), "invalid value \"_10\" for flag -p: parse error");
    EXPECT_EQ(flags_error({"-p", "10_"}), "invalid value \"10_\" for flag -p: parse error");
    EXPECT_EQ(flags_error({"-p", "08"}), "invalid value \"08\" for flag -p: parse error");
    EXPECT_EQ(flags_error({"-p", "0x"}), "invalid value \"0x\" for flag -p: parse error");
    EXPECT_EQ(flags_error({"-m", "1.5"}), "invalid value \"1.5\" for flag -m: parse error");
}

TEST(Flags, IntegerBeyondInt64IsOutOfRange) {
    EXPECT_EQ(flags_error({"-p", "99999999999999999999"}),
              "invalid value \"99999999999999999999\" for flag -p: value out of range");
    EXPECT_EQ(flags_error({"--log_size_limit", "-9223372036854775809"}),
              "invalid value \"-9223372036854775809\" for flag -log_size_limit: value out of "
              "range");
}

TEST(Flags, PortOutsideTcpRangeIsRejected) {
    EXPECT_EQ(flags_error({"-p", "70000"}),
              "invalid value \"70000\" for flag -p: port must be between -1 and 65535");
    EXPECT_EQ(flags_error({"-m", "-2"}),
              "invalid value \"-2\" for flag -m: port must be between -1 and 65535");
}

TEST(Flags, MissingValueUsesGoMessage) {
    EXPECT_EQ(flags_error({"-p"}), "flag needs an argument: -p");
    EXPECT_EQ(flags_error({"--config"}), "flag needs an argument: -config");
    EXPECT_EQ(flags_error({"-D", "--store_dir"}), "flag needs an argument: -store_dir");
}

TEST(Flags, NonBooleanFlagTakesNextArgumentEvenIfItLooksLikeAFlag) {
    EXPECT_EQ(flags_ok({"-n", "-D"}).server_name, "-D");
}

TEST(Flags, InvalidBooleanValueUsesGoMessage) {
    EXPECT_EQ(flags_error({"-D=maybe"}), "invalid boolean value \"maybe\" for -D: parse error");
    EXPECT_EQ(flags_error({"--jetstream="}),
              "invalid boolean value \"\" for -jetstream: parse error");
}

TEST(Flags, BooleanFlagDoesNotConsumeTheNextArgument) {
    // Like Go: "true" is the first non-flag argument, and not a known command.
    EXPECT_EQ(flags_error({"-D", "true"}, Action::kFatal), "unrecognized command: \"true\"");
}

TEST(Flags, ParsingStopsAtFirstNonFlagArgument) {
    EXPECT_EQ(flags_error({"-p", "5000", "serve", "-p", "6000"}, Action::kFatal),
              "unrecognized command: \"serve\"");
    EXPECT_EQ(flags_error({"-"}, Action::kFatal), "unrecognized command: \"-\"");
}

TEST(Flags, DoubleDashEndsFlags) {
    EXPECT_EQ(flags_error({"-D", "--", "-p", "5"}, Action::kFatal), "unrecognized command: \"-p\"");
    FlagRun run = run_flags({"-D", "--"});
    EXPECT_EQ(run.outcome.action, Action::kRun);
    EXPECT_TRUE(run.opts.debug);
    EXPECT_EQ(run_flags({"--", "version"}).outcome.action, Action::kShowVersion);
}

TEST(Flags, MalformedFlagSyntaxUsesGoMessage) {
    EXPECT_EQ(flags_error({"---p"}), "bad flag syntax: ---p");
    EXPECT_EQ(flags_error({"-=5"}), "bad flag syntax: -=5");
    EXPECT_EQ(flags_error({"--=5"}), "bad flag syntax: --=5");
}

TEST(Flags, ErrorLeavesOptionsUntouched) {
    Options start;
    start.server_name = "before";
    FlagRun run = run_flags({"-n", "after", "-p", "bad"}, start);
    EXPECT_EQ(run.outcome.action, Action::kError);
    EXPECT_EQ(run.opts.server_name, "before");
}

// ---------------------------------------------------------------------------------------------
// Flags: features Ringtail does not have.

TEST(Flags, ClusterTlsAndProfileFlagsAreAcceptedButListedAsUnsupported) {
    Options opts = flags_ok({"--tls",
                             "--tlscert",
                             "c.pem",
                             "--tlskey",
                             "k.pem",
                             "--tlsverify",
                             "--tlscacert",
                             "ca.pem",
                             "--routes",
                             "nats://a:6222",
                             "--cluster",
                             "nats://0.0.0.0:6222",
                             "--cluster_listen",
                             "nats://x:1",
                             "--no_advertise",
                             "--cluster_advertise",
                             "h:1",
                             "--connect_retries",
                             "3",
                             "--profile",
                             "6060"});
    for (const char* flag :
         {"--tls", "--tlscert", "--tlskey", "--tlsverify", "--tlscacert", "--routes", "--cluster",
          "--cluster_listen", "--no_advertise", "--cluster_advertise", "--connect_retries", "--profile"}) {
        EXPECT_TRUE(contains(opts.unsupported_flags, flag)) << flag;
    }
    EXPECT_EQ(opts.unsupported_flags.size(), 12u);
}

TEST(Flags, AClusterNameAloneNamesTheServersCluster) {
    Options opts = flags_ok({"--cluster_name", "c1"});
    EXPECT_EQ(opts.cluster_name, "c1");
    EXPECT_TRUE(opts.unsupported_flags.empty());
}

TEST(Flags, SignalTakesACommandAndAPid) {
    EXPECT_EQ(flags_ok({"-sl", "stop"}).signal_command, "stop");
    EXPECT_EQ(flags_ok({"--signal", "reload=/run/ringtail.pid"}).signal_command, "reload=/run/ringtail.pid");
    EXPECT_TRUE(flags_ok({"--signal", "ldm=12"}).unsupported_flags.empty());
}

TEST(Flags, UnsupportedFlagThatLeavesFeatureOffIsNotListed) {
    Options opts = flags_ok({"--tls=false", "--profile", "0", "--routes", "", "--no_advertise=f"});
    EXPECT_TRUE(opts.unsupported_flags.empty());
}

TEST(Flags, UnsupportedFlagListedOnceAsSpelled) {
    Options opts = flags_ok({"-tls", "-tls", "--tls"});
    EXPECT_EQ(opts.unsupported_flags, (std::vector<std::string>{"-tls", "--tls"}));
}

TEST(Flags, UnsupportedIntegerFlagStillValidatesItsValue) {
    EXPECT_EQ(flags_error({"--profile", "x"}),
              "invalid value \"x\" for flag -profile: parse error");
}

// ---------------------------------------------------------------------------------------------
// Flags: Ringtail's own.

TEST(Flags, ShardsTakesACount) {
    EXPECT_EQ(flags_ok({"--shards", "4"}).shards, 4);
    EXPECT_EQ(flags_ok({"-shards=0"}).shards, 0);
    EXPECT_EQ(flags_error({"--shards", "four"}),
              "invalid value \"four\" for flag -shards: parse error");
    EXPECT_EQ(flags_error({"--shards", "-1"}),
              "invalid value \"-1\" for flag -shards: shard count must be between 0 and 1024");
}

TEST(Flags, CpusTakesListsAndRanges) {
    EXPECT_EQ(flags_ok({"--cpus", "0,1"}).cpus, (std::vector<int>{0, 1}));
    EXPECT_EQ(flags_ok({"--cpus", "0-3"}).cpus, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(flags_ok({"--cpus=5"}).cpus, (std::vector<int>{5}));
    EXPECT_EQ(flags_ok({"--cpus", "6-7,0,2-2"}).cpus, (std::vector<int>{6, 7, 0, 2}));
}

TEST(Flags, CpusRejectsMalformedLists) {
    struct Case {
        const char* list;
        const char* reason;
    };
    for (const Case& c : {
             Case{"", "empty CPU list"},
             Case{"0,,1", "empty entry in CPU list"},
             Case{"1,2,", "empty entry in CPU list"},
             Case{",1", "empty entry in CPU list"},
             Case{"a", "\"a\" is not a CPU number"},
             Case{"0-", "\"\" is not a CPU number"},
             Case{"-1", "\"\" is not a CPU number"},
             Case{"1-2-3", "\"2-3\" is not a CPU number"},
             Case{"0 ,1", "\"0 \" is not a CPU number"},
             Case{"3-1", "range 3-1 runs backwards"},
             Case{"0,0", "CPU 0 is listed twice"},
             Case{"0-3,2", "CPU 2 is listed twice"},
             Case{"5000", "CPU 5000 is out of range (0 to 1023)"},
             Case{"99999999999", "\"99999999999\" is not a CPU number"},
         }) {
        EXPECT_EQ(flags_error({"--cpus", c.list}),
                  std::string("invalid value \"") + c.list + "\" for flag -cpus: " + c.reason)
            << c.list;
    }
}

// ---------------------------------------------------------------------------------------------
// Flags with a config file.

TEST(Flags, FlagsOverrideConfigFileValues) {
    TempDir dir;
    std::string conf = dir.write("nats.conf",
                                 "port: 5000\nserver_name: from_file\ndebug: true\n"
                                 "logtime: true\nmax_payload: 2MB\n");
    for (const auto& args : {std::vector<std::string>{"-c", conf, "-p", "6000", "-T=false"},
                             std::vector<std::string>{"-p", "6000", "-T=false", "-c", conf}}) {
        Options opts = flags_ok(args);
        EXPECT_EQ(opts.port, 6000);                  // Flag wins.
        EXPECT_FALSE(opts.logtime);                  // Flag wins, even setting false.
        EXPECT_EQ(opts.server_name, "from_file");    // File value kept.
        EXPECT_TRUE(opts.debug);                     // File value kept.
        EXPECT_EQ(opts.max_payload_bytes, 2 << 20);  // File value kept.
        EXPECT_EQ(opts.config_file, conf);
    }
}

TEST(Flags, FlagCanTurnOffABooleanTheFileTurnedOn) {
    TempDir dir;
    std::string conf = dir.write("nats.conf", "debug: true\njetstream: true\n");
    Options opts = flags_ok({"--config", conf, "-D=false", "--jetstream=false"});
    EXPECT_FALSE(opts.debug);
    EXPECT_FALSE(opts.jetstream);
}

TEST(Flags, ConfigFileErrorIsAConfigErrorNamingFileAndLine) {
    TempDir dir;
    std::string conf = dir.write("nats.conf", "port: 4222\nmax_payload: [1]\n");
    FlagRun run = run_flags({"-c", conf, "-n", "x"});
    EXPECT_EQ(run.outcome.action, Action::kFatal);
    EXPECT_EQ(run.outcome.message, conf + ":2:1: max_payload: expected an integer, got an array");
    EXPECT_EQ(run.opts.server_name, "");
}

TEST(Flags, MissingConfigFileIsAConfigError) {
    FlagRun run = run_flags({"-c", "/nonexistent/dir/nats.conf"});
    EXPECT_EQ(run.outcome.action, Action::kFatal);
    EXPECT_EQ(run.outcome.message,
              "error opening config file: /nonexistent/dir/nats.conf: No such file or directory");
}

TEST(Flags, AnUnknownConfigKeyStopsTheRun) {
    // As nats-server: a misspelt key (or one from a later version) is not ignored.
    TempDir dir;
    std::string conf = dir.write("nats.conf", "port: 4333\nbogus: 1\n");
    FlagRun run = run_flags({"-c", conf});
    EXPECT_EQ(run.outcome.action, Action::kFatal);
    EXPECT_EQ(run.outcome.message, conf + ":2:1: unknown field \"bogus\"");
}

TEST(Flags, CheckConfigNeedsAConfigFile) {
    EXPECT_EQ(flags_error({"-t"}, Action::kFatal),
              "must specify [-c, --config] option to check configuration file syntax");
    TempDir dir;
    std::string conf = dir.write("nats.conf", "port: 4333\n");
    Options opts = flags_ok({"-t", "-c", conf});
    EXPECT_TRUE(opts.check_config);
    EXPECT_EQ(opts.port, 4333);
}

TEST(Flags, UsageTextIsNatsUsageRenamedPlusRingtailSection) {
    std::string usage = usage_text();
    EXPECT_EQ(usage.find("nats-server"), std::string::npos);
    EXPECT_EQ(usage.rfind("\nUsage: ringtail [options]\n", 0), 0u);
    for (const char* line :
         {"    -p, --port <port>                Use port for clients (default: 4222)\n",
          "    -ms,--https_port <port>          Use port for https monitoring\n",
          "    -DVV                             Debug and verbose trace (traces system account "
          "as well)\n",
          "Send signal to ringtail process", "/var/run/ringtail.pid", "\nRingtail Options:\n",
          "--shards <count>", "--cpus <list>", "        --help_tls                   TLS help\n"}) {
        EXPECT_NE(usage.find(line), std::string::npos) << line;
    }
    EXPECT_LT(usage.find("Ringtail Options:"), usage.find("Common Options:"));
    EXPECT_EQ(usage.back(), '\n');
}

// ---------------------------------------------------------------------------------------------
// Grammar.

TEST(Grammar, KeyValueSeparatorsAreColonEqualsOrWhitespace) {
    for (const char* text : {"a: 1", "a = 1", "a 1", "a:1", "a=1", "a\t1", "  a  :  1  "}) {
        EXPECT_EQ(int_at(parse_ok(text), "a"), 1) << text;
    }
}

TEST(Grammar, KeyValueMayContinueOnTheNextLine) { EXPECT_EQ(int_at(parse_ok("a\n  = 1"), "a"), 1); }

TEST(Grammar, TopLevelValuesEndAtNewLineSemicolonOrComma) {
    Value root = parse_ok("a = 1; b = 2, c = 3\nd = 4\r\ne = 5");
    EXPECT_EQ(int_at(root, "a"), 1);
    EXPECT_EQ(int_at(root, "b"), 2);
    EXPECT_EQ(int_at(root, "c"), 3);
    EXPECT_EQ(int_at(root, "d"), 4);
    EXPECT_EQ(int_at(root, "e"), 5);
}

TEST(Grammar, HashAndSlashCommentsRunToEndOfLine) {
    Value root = parse_ok(
        "# leading comment\n"
        "a = 1 # trailing\n"
        "// slash comment\n"
        "b = 2 // trailing slash\n"
        "c = x#y\n"  // '#' inside an unquoted value is part of it, as in nats-server.
        "d = \"# not a comment\"\n");
    EXPECT_EQ(root.map.size(), 4u);
    EXPECT_EQ(int_at(root, "a"), 1);
    EXPECT_EQ(int_at(root, "b"), 2);
    EXPECT_EQ(string_at(root, "c"), "x#y");
    EXPECT_EQ(string_at(root, "d"), "# not a comment");
}

TEST(Grammar, EmptyDocumentIsAnEmptyMap) {
    for (const char* text : {"", "   \n\n", "# only a comment", "{}", " { } "}) {
        Value root = parse_ok(text);
        EXPECT_EQ(root.kind, ValueKind::kMap) << text;
        EXPECT_TRUE(root.map.empty()) << text;
    }
}

TEST(Grammar, MapsWithAndWithoutSeparatorsAndCommas) {
    for (const char* text : {
             "auth { user: a, pass: b }",
             "auth: { user: a, pass: b }",
             "auth = {user = a; pass = b}",
             "auth {\n  user a\n  pass b\n}",
             "auth {\n  user: a,\n  pass: b,\n}",
             "auth\n{\n  # comment\n  user: a // c\n  pass:\n    b\n}",
         }) {
        Value root = parse_ok(text);
        const Value& auth = at(root, "auth");
        ASSERT_EQ(auth.kind, ValueKind::kMap) << text;
        EXPECT_EQ(string_at(auth, "user"), "a") << text;
        EXPECT_EQ(string_at(auth, "pass"), "b") << text;
    }
}

TEST(Grammar, MapsNest) {
    Value root = parse_ok("a { b { c { d: 4 } }, e: [ { f: 5 } ] }");
    EXPECT_EQ(int_at(at(at(at(root, "a"), "b"), "c"), "d"), 4);
    const Value& e = at(at(root, "a"), "e");
    ASSERT_EQ(e.kind, ValueKind::kArray);
    ASSERT_EQ(e.array.size(), 1u);
    EXPECT_EQ(int_at(e.array[0], "f"), 5);
}

TEST(Grammar, ArraysWithCommasOrNewLines) {
    Value root = parse_ok(
        "a = [1, 2, 3]\n"
        "b = [\n  x\n  y # comment\n  // another\n  z\n]\n"
        "c = [1, 'two', \"three\", true, 4.5, [6]]\n"
        "d = [1, 2, ]\n"
        "e = []\n"
        "f: [a,b]\n");
    EXPECT_EQ(at(root, "a").array.size(), 3u);
    EXPECT_EQ(at(root, "a").array[2].integer, 3);
    const Value& b = at(root, "b");
    ASSERT_EQ(b.array.size(), 3u);
    EXPECT_EQ(b.array[0].text, "x");
    EXPECT_EQ(b.array[2].text, "z");
    const Value& c = at(root, "c");
    ASSERT_EQ(c.array.size(), 6u);
    EXPECT_EQ(c.array[0].kind, ValueKind::kInteger);
    EXPECT_EQ(c.array[1].text, "two");
    EXPECT_EQ(c.array[2].text, "three");
    EXPECT_EQ(c.array[3].kind, ValueKind::kBool);
    EXPECT_DOUBLE_EQ(c.array[4].real, 4.5);
    EXPECT_EQ(c.array[5].array[0].integer, 6);
    EXPECT_EQ(at(root, "d").array.size(), 2u);
    EXPECT_TRUE(at(root, "e").array.empty());
    EXPECT_EQ(at(root, "f").array[1].text, "b");
}

TEST(Grammar, DoubleQuotedStringsHandleEscapes) {
    Value root = parse_ok(R"(a = "tab\tnl\ncr\rquote\"slash\\hex\x41")"
                          "\n"
                          R"(b = "caf\u00e9 \ud83d\ude00 \/")"
                          "\n"
                          "c = \"spaces and : = { } [ ] , ; inside\"\n"
                          "d = \"\"\n");
    EXPECT_EQ(string_at(root, "a"), "tab\tnl\ncr\rquote\"slash\\hexA");
    EXPECT_EQ(string_at(root, "b"), "caf\xC3\xA9 \xF0\x9F\x98\x80 /");
    EXPECT_EQ(string_at(root, "c"), "spaces and : = { } [ ] , ; inside");
    EXPECT_EQ(string_at(root, "d"), "");
}

TEST(Grammar, SingleQuotedStringsAreRaw) {
    Value root = parse_ok(R"(a = 'no \n escapes "here"')");
    EXPECT_EQ(string_at(root, "a"), R"(no \n escapes "here")");
}

TEST(Grammar, QuotedStringsStayStrings) {
    Value root = parse_ok("a = \"true\"\nb = '42'\nc = \"$HOME\"");
    EXPECT_EQ(string_at(root, "a"), "true");
    EXPECT_EQ(string_at(root, "b"), "42");
    EXPECT_EQ(string_at(root, "c"), "$HOME");
}

TEST(Grammar, UnquotedStringsStopAtDelimiters) {
    Value root = parse_ok(
        "a = foo-bar.baz/qux\n"
        "b = 127.0.0.1:4222\n"
        "c = 10.0.0.1\n"
        "d = localhost:4222\n"
        "e = nats://user:pw@host:4222\n"
        "f = x\\ty\n");  // An escape makes it a string with the escaped byte.
    EXPECT_EQ(string_at(root, "a"), "foo-bar.baz/qux");
    EXPECT_EQ(string_at(root, "b"), "127.0.0.1:4222");
    EXPECT_EQ(string_at(root, "c"), "10.0.0.1");
    EXPECT_EQ(string_at(root, "d"), "localhost:4222");
    EXPECT_EQ(string_at(root, "e"), "nats://user:pw@host:4222");
    EXPECT_EQ(string_at(root, "f"), "x\ty");
}

TEST(Grammar, QuotedKeysMayHoldAnything) {
    Value root = parse_ok("\"my key\": 1\n'other key' = 2\nm { \"a.b\": 3 }");
    EXPECT_EQ(int_at(root, "my key"), 1);
    EXPECT_EQ(int_at(root, "other key"), 2);
    EXPECT_EQ(int_at(at(root, "m"), "a.b"), 3);
}

TEST(Grammar, IntegersTakeCaseInsensitiveSizeSuffixes) {
    struct Case {
        const char* text;
        int64_t value;
    };
    constexpr int64_t kKi = 1024;
    for (const Case& c : {
             Case{"0", 0},
             Case{"42", 42},
             Case{"-7", -7},
             Case{"007", 7},
             Case{"1k", 1000},
             Case{"1K", 1000},
             Case{"1kb", kKi},
             Case{"1KB", kKi},
             Case{"1ki", kKi},
             Case{"1KiB", kKi},
             Case{"2m", 2'000'000},
             Case{"2mb", 2 * kKi * kKi},
             Case{"2MI", 2 * kKi * kKi},
             Case{"2mib", 2 * kKi * kKi},
             Case{"3g", 3'000'000'000},
             Case{"3GB", 3 * kKi * kKi * kKi},
             Case{"1gi", kKi * kKi * kKi},
             Case{"1t", 1'000'000'000'000},
             Case{"1tb", kKi * kKi * kKi * kKi},
             Case{"1p", 1'000'000'000'000'000},
             Case{"1pib", kKi * kKi * kKi * kKi * kKi},
             Case{"1e", 1'000'000'000'000'000'000},
             Case{"1eb", kKi * kKi * kKi * kKi * kKi * kKi},
             Case{"-5k", -5000},
             Case{"9223372036854775807", INT64_MAX},
             Case{"-9223372036854775808", INT64_MIN},
         }) {
        Value root = parse_ok(std::string("a = ") + c.text);
        EXPECT_EQ(int_at(root, "a"), c.value) << c.text;
    }
}

TEST(Grammar, TextStartingWithDigitsButNotANumberIsAString) {
    for (const char* text :
         {"10s", "1h30m", "500ms", "1e3", "4222abc", "0-3", "1.5x", "2mins", "1.2.3"}) {
        EXPECT_EQ(string_at(parse_ok(std::string("a = ") + text), "a"), text) << text;
    }
}

TEST(Grammar, MalformedOrOversizedNumbersAreErrors) {
    EXPECT_EQ(parse_error("a = 99999999999999999999"),
              "test.conf:1:5: integer '99999999999999999999' is out of the range");
    EXPECT_EQ(parse_error("a = 8eb"), "test.conf:1:5: integer '8eb' is out of the range");
    EXPECT_EQ(parse_error("a = 10000p"), "test.conf:1:5: integer '10000p' is out of the range");
    EXPECT_EQ(parse_error("a = 1kbb"),
              "test.conf:1:5: invalid size suffix in '1kbb' (use k, kb, ki or kib, and so on)");
    EXPECT_EQ(parse_error("a = -abc"), "test.conf:1:5: expected a number after '-', got '-abc'");
    EXPECT_EQ(parse_error("a = -"), "test.conf:1:5: expected a number after '-', got '-'");
    EXPECT_EQ(parse_error("a = .5"), "test.conf:1:5: floats must start with a digit");
}

TEST(Grammar, FloatsParse) {
    Value root = parse_ok("a = 1.5\nb = -0.25\nc = 0.0");
    EXPECT_EQ(at(root, "a").kind, ValueKind::kFloat);
    EXPECT_DOUBLE_EQ(at(root, "a").real, 1.5);
    EXPECT_DOUBLE_EQ(at(root, "b").real, -0.25);
    EXPECT_DOUBLE_EQ(at(root, "c").real, 0.0);
}

TEST(Grammar, BooleansInEveryNatsSpelling) {
    for (const char* yes : {"true", "TRUE", "yes", "Yes", "on", "ON"}) {
        Value root = parse_ok(std::string("a = ") + yes);
        const Value& value = at(root, "a");
        EXPECT_EQ(value.kind, ValueKind::kBool) << yes;
        EXPECT_TRUE(value.boolean) << yes;
    }
    for (const char* no : {"false", "False", "no", "NO", "off", "Off"}) {
        Value root = parse_ok(std::string("a = ") + no);
        const Value& value = at(root, "a");
        EXPECT_EQ(value.kind, ValueKind::kBool) << no;
        EXPECT_FALSE(value.boolean) << no;
    }
    EXPECT_EQ(string_at(parse_ok("a = truth"), "a"), "truth");
}

TEST(Grammar, ZuluDatetimesParse) {
    Value root = parse_ok("a = 2006-01-02T15:04:05Z");
    const Value& value = at(root, "a");
    EXPECT_EQ(value.kind, ValueKind::kDatetime);
    EXPECT_EQ(value.text, "2006-01-02T15:04:05Z");
    EXPECT_EQ(parse_error("a = 2006-13-02T15:04:05Z"),
              "test.conf:1:5: expected Zulu formatted DateTime, but got '2006-13-02T15:04:05Z'");
}

TEST(Grammar, BlocksKeepRawTextUntilALoneClosingParen) {
    Value root = parse_ok("a (\nline one\n  (nested) )\n)\nb = 1\n");
    EXPECT_EQ(string_at(root, "a"), "\nline one\n  (nested) )\n");
    EXPECT_EQ(int_at(root, "b"), 1);
    EXPECT_EQ(parse_error("a (\nnever closed )"), "test.conf:1:3: unexpected EOF processing block");
}

TEST(Grammar, RepeatedKeyReplacesEarlierValue) {
    Value root = parse_ok("a = 1\nb = 2\na = 3");
    ASSERT_EQ(root.map.size(), 2u);
    EXPECT_EQ(root.map[0].key, "a");
    EXPECT_EQ(root.map[0].value.integer, 3);
    EXPECT_EQ(root.map[0].key_pos.line, 3);
}

TEST(Grammar, PositionsAreOneBasedLineAndColumn) {
    Value root = parse_ok("\n  key: value\n");
    const MapEntry* entry = root.find("key");
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->key_pos.to_string(), "test.conf:2:3");
    EXPECT_EQ(entry->value.pos.to_string(), "test.conf:2:8");
}

TEST(Grammar, JsonDocumentParses) {
    Value root = parse_ok(R"({
  "port": 4222,
  "debug": true,
  "name": "caf\u00e9",
  "ratio": -1.5,
  "nothing": null,
  "authorization": {"user": "a", "password": "b", "timeout": 2},
  "list": [1, 2, {"x": []}],
  "empty": {}
})");
    EXPECT_EQ(int_at(root, "port"), 4222);
    EXPECT_TRUE(at(root, "debug").boolean);
    EXPECT_EQ(string_at(root, "name"), "caf\xC3\xA9");
    EXPECT_DOUBLE_EQ(at(root, "ratio").real, -1.5);
    EXPECT_EQ(string_at(root, "nothing"), "null");
    EXPECT_EQ(string_at(at(root, "authorization"), "password"), "b");
    EXPECT_EQ(at(root, "list").array.size(), 3u);
    EXPECT_EQ(at(root, "list").array[1].integer, 2);
    EXPECT_TRUE(at(root, "empty").map.empty());
}

TEST(Grammar, JsonOnOneLineParses) {
    Value root = parse_ok(R"({"a":1,"b":[true,false],"c":{"d":"e"}})");
    EXPECT_EQ(int_at(root, "a"), 1);
    EXPECT_EQ(at(root, "b").array.size(), 2u);
    EXPECT_EQ(string_at(at(root, "c"), "d"), "e");
}

TEST(Grammar, UnclosedJsonDocumentIsAnError) {
    EXPECT_EQ(parse_error("{\"a\": 1"),
              "test.conf:1:8: unexpected EOF, expected '}' to close the document");
    EXPECT_EQ(parse_error("{\"a\": 1}\nb = 2"),
              "test.conf:2:1: unexpected 'b' after the closing '}'");
}

// ---------------------------------------------------------------------------------------------
// Grammar: variables.

TEST(Variables, ReferToEarlierAssignmentInSameOrEnclosingBlock) {
    Value root = parse_ok(
        "PORT = 4222\n"
        "port: $PORT\n"
        "outer = top\n"
        "block {\n"
        "  inner = 7\n"
        "  a = $inner\n"
        "  b = $outer\n"
        "  list = [$PORT, $inner]\n"
        "  outer = shadowed\n"
        "  c = $outer\n"
        "}\n");
    EXPECT_EQ(int_at(root, "port"), 4222);
    const Value& block = at(root, "block");
    EXPECT_EQ(int_at(block, "a"), 7);
    EXPECT_EQ(string_at(block, "b"), "top");
    EXPECT_EQ(at(block, "list").array[0].integer, 4222);
    EXPECT_EQ(at(block, "list").array[1].integer, 7);
    EXPECT_EQ(string_at(block, "c"), "shadowed");
}

TEST(Variables, CopyMapsAndArraysAndMarkTheDefinitionUsed) {
    Value root = parse_ok("TEMPLATE = { user: a }\nx = $TEMPLATE\nunused = 1\n");
    EXPECT_EQ(string_at(at(root, "x"), "user"), "a");
    EXPECT_TRUE(root.find("TEMPLATE")->used_as_variable);
    EXPECT_FALSE(root.find("unused")->used_as_variable);
}

TEST(Variables, FallBackToEnvironmentParsedAsAValue) {
    ScopedEnv port("RT_CFGTEST_PORT", "5222");
    ScopedEnv flag("RT_CFGTEST_FLAG", "true");
    ScopedEnv name("RT_CFGTEST_NAME", "hello");
    ScopedEnv size("RT_CFGTEST_SIZE", "2MB");
    ScopedEnv empty("RT_CFGTEST_EMPTY", "");
    Value root = parse_ok(
        "a = $RT_CFGTEST_PORT\nb = $RT_CFGTEST_FLAG\nc = $RT_CFGTEST_NAME\nd = $RT_CFGTEST_SIZE\n"
        "e = $RT_CFGTEST_EMPTY\n");
    EXPECT_EQ(int_at(root, "a"), 5222);
    EXPECT_TRUE(at(root, "b").boolean);
    EXPECT_EQ(string_at(root, "c"), "hello");
    EXPECT_EQ(int_at(root, "d"), 2 << 20);
    EXPECT_EQ(string_at(root, "e"), "");
}

TEST(Variables, DocumentAssignmentShadowsEnvironment) {
    ScopedEnv env("RT_CFGTEST_SHADOW", "from_env");
    EXPECT_EQ(string_at(parse_ok("RT_CFGTEST_SHADOW = mine\na = $RT_CFGTEST_SHADOW"), "a"), "mine");
}

TEST(Variables, UndefinedVariableIsAnErrorWithPosition) {
    unsetenv("RT_CFGTEST_UNDEFINED");
    EXPECT_EQ(parse_error("a = 1\nb {\n  c = $RT_CFGTEST_UNDEFINED\n}"),
              "test.conf:3:7: variable reference for 'RT_CFGTEST_UNDEFINED' on line 3 can not "
              "be found");
    EXPECT_EQ(parse_error("a = $"),
              "test.conf:1:5: variable reference for '' on line 1 can "
              "not be found");
}

TEST(Variables, OnlyEarlierAssignmentsAreVisible) {
    unsetenv("later");
    EXPECT_EQ(parse_error("a = $later\nlater = 1"),
              "test.conf:1:5: variable reference for 'later' on line 1 can not be found");
}

TEST(Variables, EnvironmentValueThatDoesNotParseIsAnError) {
    ScopedEnv env("RT_CFGTEST_BAD", "two words");
    EXPECT_EQ(parse_error("a = $RT_CFGTEST_BAD"),
              "test.conf:1:5: variable reference for 'RT_CFGTEST_BAD' on line 1 could not be "
              "parsed: expected a top-level value to end with a new line, comment or EOF, but "
              "got 'w' instead");
}

TEST(Variables, EnvironmentCycleIsAnError) {
    ScopedEnv a("RT_CFGTEST_CYCLE_A", "$RT_CFGTEST_CYCLE_B");
    ScopedEnv b("RT_CFGTEST_CYCLE_B", "$RT_CFGTEST_CYCLE_A");
    std::string message = parse_error("a = $RT_CFGTEST_CYCLE_A");
    EXPECT_NE(message.find("refers to itself"), std::string::npos) << message;
    EXPECT_EQ(message.rfind("test.conf:1:5: variable reference for 'RT_CFGTEST_CYCLE_A'", 0), 0u)
        << message;
}

TEST(Variables, EnvironmentMayReferToAnotherEnvironmentVariable) {
    ScopedEnv a("RT_CFGTEST_CHAIN_A", "$RT_CFGTEST_CHAIN_B");
    ScopedEnv b("RT_CFGTEST_CHAIN_B", "99");
    EXPECT_EQ(int_at(parse_ok("a = $RT_CFGTEST_CHAIN_A"), "a"), 99);
}

TEST(Variables, BcryptHashIsNotAVariable) {
    EXPECT_EQ(string_at(parse_ok("p = $2a$11$abcdefghijklmnopqrstuv"), "p"),
              "$2a$11$abcdefghijklmnopqrstuv");
}

// ---------------------------------------------------------------------------------------------
// Grammar: include.

TEST(Include, ReadsFileRelativeToTheIncludingFile) {
    TempDir dir;
    dir.write("conf/auth.conf", "authorization { user: a, password: b }\n");
    dir.write("conf/sub/limits.conf", "max_payload: 2MB\ninclude ../more.conf\n");
    dir.write("conf/more.conf", "ping_max: 5\n");
    std::string main = dir.write(
        "conf/main.conf", "port: 1\ninclude 'auth.conf'\ninclude \"sub/limits.conf\"\nport: 2\n");
    absl::StatusOr<Value> root = parse_conf_file(main);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(int_at(*root, "port"), 2);
    EXPECT_EQ(string_at(at(*root, "authorization"), "user"), "a");
    EXPECT_EQ(int_at(*root, "max_payload"), 2 << 20);
    EXPECT_EQ(int_at(*root, "ping_max"), 5);
}

TEST(Include, WorksInsideABlockAndItsKeysCanBeOverridden) {
    TempDir dir;
    dir.write("users.conf", "user: fromfile\npassword: p\n");
    Value root =
        parse_ok("authorization {\n  include users.conf\n  user: override\n}\n", dir.path());
    const Value& auth = at(root, "authorization");
    EXPECT_EQ(string_at(auth, "user"), "override");
    EXPECT_EQ(string_at(auth, "password"), "p");
}

TEST(Include, IncludedKeysAreVisibleAsVariables) {
    TempDir dir;
    dir.write("vars.conf", "SECRET = s3cret\n");
    Value root = parse_ok("include vars.conf\npassword = $SECRET\n", dir.path());
    EXPECT_EQ(string_at(root, "password"), "s3cret");
}

TEST(Include, MissingFileIsAnErrorAtTheIncludeLine) {
    TempDir dir;
    EXPECT_EQ(parse_error("a = 1\ninclude nope.conf\n", dir.path()),
              "test.conf:2:1: error opening include file 'nope.conf': No such file or directory");
}

TEST(Include, ErrorInIncludedFileNamesThatFile) {
    TempDir dir;
    std::string bad = dir.write("bad.conf", "ok = 1\nbroken = [1,,2]\n");
    std::string main = dir.write("main.conf", "\ninclude bad.conf\n");
    absl::StatusOr<Value> root = parse_conf_file(main);
    ASSERT_FALSE(root.ok());
    EXPECT_EQ(root.status().message(), bad + ":2:13: unexpected array value terminator ',' " +
                                           "(included from " + main + ":2:1)");
}

TEST(Include, CycleIsAnError) {
    TempDir dir;
    dir.write("a.conf", "include b.conf\n");
    dir.write("b.conf", "include a.conf\n");
    absl::StatusOr<Value> root = parse_conf_file(dir.path() + "/a.conf");
    ASSERT_FALSE(root.ok());
    EXPECT_NE(root.status().message().find("include cycle: 'a.conf' is already being included"),
              std::string::npos)
        << root.status();
}

TEST(Include, MalformedDirectivesAreErrors) {
    EXPECT_EQ(parse_error("include [a]"),
              "test.conf:1:9: expected include value but found start of an array");
    EXPECT_EQ(parse_error("include {a}"),
              "test.conf:1:9: expected include value but found start of a map");
    EXPECT_EQ(parse_error("include 5"),
              "test.conf:1:9: expected include value but found start of a number");
    EXPECT_EQ(parse_error("include \n"),
              "test.conf:1:9: expected include value but found new line");
    EXPECT_EQ(parse_error("include 'x"), "test.conf:1:9: unexpected EOF in quoted include");
}

TEST(Include, KeyNamedIncludeWithSeparatorIsAnOrdinaryKey) {
    EXPECT_EQ(string_at(parse_ok("include: yes_please"), "include"), "yes_please");
}

// ---------------------------------------------------------------------------------------------
// Grammar: errors and their positions.

TEST(GrammarErrors, ReportFileLineAndColumn) {
    struct Case {
        const char* text;
        const char* message;
    };
    for (const Case& c : {
             Case{"port: 4222 extra",
                  "test.conf:1:12: expected a top-level value to end with a "
                  "new line, comment or EOF, but got 'e' instead"},
             Case{"a {\n  b = 1\n  c = \"open\n}",
                  "test.conf:3:7: unexpected EOF in quoted "
                  "string"},
             Case{"a = 'open", "test.conf:1:5: unexpected EOF in quoted string"},
             Case{"a = \"bad \\q\"",
                  "test.conf:1:10: invalid escape character 'q'. Only the "
                  "following escape characters are allowed: \\xXX, \\uXXXX, "
                  "\\t, \\n, \\r, \\b, \\f, \\\", \\/, \\\\"},
             Case{"a = \"\\xZZ\"", "test.conf:1:6: expected two hexadecimal digits after '\\x'"},
             Case{"a = \"\\u12\"", "test.conf:1:6: expected four hexadecimal digits after '\\u'"},
             Case{"= 5", "test.conf:1:1: unexpected key separator '='"},
             Case{"a = [1,,2]", "test.conf:1:8: unexpected array value terminator ','"},
             Case{"a = [,]", "test.conf:1:6: unexpected array value terminator ','"},
             Case{"a = [1 2]",
                  "test.conf:1:8: expected an array value terminator ',' or an "
                  "array terminator ']', but got '2' instead"},
             Case{"a = [1, 2", "test.conf:1:10: unexpected EOF processing array"},
             Case{"a = [\n1\n", "test.conf:3:1: unexpected EOF processing array"},
             Case{"a {\n b = 1 c = 2\n}",
                  "test.conf:2:8: expected a map value terminator ',' "
                  "or a map terminator '}', but got 'c' instead"},
             Case{"a { b = 1", "test.conf:1:10: unexpected EOF processing map"},
             Case{"a { b { c: 1 } d: 2 }",
                  "test.conf:1:16: expected a map value terminator "
                  "',' or a map terminator '}', but got 'd' instead"},
             Case{"auth:\n{ user: a }", "test.conf:1:6: expected a value but found new line"},
             Case{"a { b }", "test.conf:1:5: key 'b' has no value"},
             Case{"a { b = , }", "test.conf:1:9: unexpected map value terminator ','"},
             Case{"a { : 1 }", "test.conf:1:5: unexpected key separator ':'"},
             Case{"a { ] }", "test.conf:1:5: unexpected array end ']' processing map"},
             Case{"a { 'b: 1 }", "test.conf:1:5: unexpected EOF processing quoted key"},
             Case{"a =\n5", "test.conf:1:4: expected a value but found new line"},
             Case{"a =", "test.conf:1:4: expected a value but found EOF"},
             Case{"a = ;", "test.conf:1:5: expected a value but got ';'"},
             Case{"foo", "test.conf:1:1: key 'foo' has no value"},
             Case{"\"foo\"", "test.conf:1:1: key 'foo' has no value"},
             Case{"\"foo", "test.conf:1:1: unexpected EOF processing quoted key"},
             Case{"}", "test.conf:1:1: unexpected '}' at the top level"},
             Case{"a = 1 }",
                  "test.conf:1:7: expected a top-level value to end with a new line, "
                  "comment or EOF, but got '}' instead"},
         }) {
        EXPECT_EQ(parse_error(c.text), c.message) << c.text;
    }
}

TEST(GrammarErrors, DeepNestingIsRefusedInsteadOfExhaustingTheStack) {
    std::string text = "a = " + std::string(200, '[') + std::string(200, ']');
    EXPECT_NE(parse_error(text).find("nested deeper than 64 levels"), std::string::npos);
    std::string maps = "a = ";
    for (int i = 0; i < 200; ++i) maps += "{ b = ";
    maps += "1";
    EXPECT_NE(parse_error(maps).find("nested deeper than 64 levels"), std::string::npos);
}

TEST(GrammarErrors, EmbeddedNulBytesDoNotEndTheInput) {
    std::string text("a = x\0y\nb = 2", 13);
    Value root = parse_ok(text);
    EXPECT_EQ(string_at(root, "a"), std::string("x\0y", 3));
    EXPECT_EQ(int_at(root, "b"), 2);
}

// ---------------------------------------------------------------------------------------------
// Go durations.

TEST(Durations, ParseGoSyntax) {
    struct Case {
        const char* text;
        int64_t ns;
    };
    constexpr int64_t kSecond = 1'000'000'000;
    for (const Case& c : {
             Case{"0", 0},
             Case{"2m", 120 * kSecond},
             Case{"10s", 10 * kSecond},
             Case{"1h30m", 5400 * kSecond},
             Case{"500ms", kSecond / 2},
             Case{"1.5s", 3 * kSecond / 2},
             Case{".5s", kSecond / 2},
             Case{"1.s", kSecond},
             Case{"-1s", -kSecond},
             Case{"+5m", 300 * kSecond},
             Case{"100ns", 100},
             Case{"3us", 3000},
             Case{"3\xC2\xB5s", 3000},
             Case{"1h1m1s1ms1us1ns", 3661 * kSecond + 1'001'001},
             Case{"2562047h47m16.854775807s", INT64_MAX},
         }) {
        absl::StatusOr<int64_t> ns = parse_go_duration_ns(c.text);
        ASSERT_TRUE(ns.ok()) << c.text << ": " << ns.status();
        EXPECT_EQ(*ns, c.ns) << c.text;
    }
}

TEST(Durations, RejectWithGoMessages) {
    struct Case {
        const char* text;
        const char* message;
    };
    for (const Case& c : {
             Case{"", "time: invalid duration \"\""},
             Case{"abc", "time: invalid duration \"abc\""},
             Case{"s", "time: invalid duration \"s\""},
             Case{"-", "time: invalid duration \"-\""},
             Case{".s", "time: invalid duration \".s\""},
             Case{"10", "time: missing unit in duration \"10\""},
             Case{"1h30", "time: missing unit in duration \"1h30\""},
             Case{"10x", "time: unknown unit \"x\" in duration \"10x\""},
             Case{"10 s", "time: unknown unit \" s\" in duration \"10 s\""},
             Case{"9999999999h", "time: invalid duration \"9999999999h\""},
             Case{"2562047h47m16.854775808s",
                  "time: invalid duration \"2562047h47m16.854775808s\""},
         }) {
        absl::StatusOr<int64_t> ns = parse_go_duration_ns(c.text);
        ASSERT_FALSE(ns.ok()) << c.text;
        EXPECT_EQ(ns.status().message(), c.message) << c.text;
    }
}

// ---------------------------------------------------------------------------------------------
// Config keys -> Options.

TEST(ConfigOptions, ListenTakesHostPortOrPort) {
    Options opts = load_ok("listen: 127.0.0.1:5222");
    EXPECT_EQ(opts.host, "127.0.0.1");
    EXPECT_EQ(opts.port, 5222);
    opts = load_ok("host: 10.0.0.1\nlisten: 5333");
    EXPECT_EQ(opts.host, "0.0.0.0");  // A bare port resets the host, as in nats-server.
    EXPECT_EQ(opts.port, 5333);
    opts = load_ok("listen: \"[::1]:4223\"");
    EXPECT_EQ(opts.host, "::1");
    EXPECT_EQ(opts.port, 4223);
    opts = load_ok("listen: \":4224\"");
    EXPECT_EQ(opts.host, "0.0.0.0");
    EXPECT_EQ(opts.port, 4224);
    opts = load_ok("listen: localhost:-1");
    EXPECT_EQ(opts.port, -1);
}

TEST(ConfigOptions, ListenRejectsMalformedAddresses) {
    EXPECT_EQ(load_error("listen: nonsense"),
              "<string>:1:1: could not parse address string \"nonsense\"");
    EXPECT_EQ(load_error("listen: \"h:abc\""), "<string>:1:1: could not parse port \"abc\"");
    EXPECT_EQ(load_error("listen: \"h:\""), "<string>:1:1: could not parse port \"\"");
    EXPECT_EQ(load_error("listen: \"a:b:1\""),
              "<string>:1:1: could not parse address string \"a:b:1\"");
    EXPECT_EQ(load_error("listen: \"h:70000\""),
              "<string>:1:1: listen: port 70000 is out of range (-1 to 65535)");
    EXPECT_EQ(load_error("listen: [1]"),
              "<string>:1:1: listen: expected port or host:port, got "
              "an array");
}

TEST(ConfigOptions, ServerKeysMapToOptions) {
    Options opts = load_ok(
        "port: 4333\n"
        "net: 127.0.0.2\n"
        "server_name: srv1\n"
        "client_advertise: \"a:1\"\n"
        "debug: true\n"
        "trace: on\n"
        "logtime: no\n"
        "log_file: /var/log/r.log\n"
        "pid_file: /run/r.pid\n"
        "ports_file_dir: /tmp/pf\n"
        "syslog: true\n"
        "remote_syslog: \"udp://h:514\"\n"
        "log_size_limit: 10MB\n"
        "max_traced_msg_len: 64\n");
    EXPECT_EQ(opts.port, 4333);
    EXPECT_EQ(opts.host, "127.0.0.2");
    EXPECT_EQ(opts.server_name, "srv1");
    EXPECT_EQ(opts.client_advertise, "a:1");
    EXPECT_TRUE(opts.debug);
    EXPECT_TRUE(opts.trace);
    EXPECT_FALSE(opts.logtime);
    EXPECT_EQ(opts.log_file, "/var/log/r.log");
    EXPECT_EQ(opts.pid_file, "/run/r.pid");
    EXPECT_EQ(opts.ports_file_dir, "/tmp/pf");
    EXPECT_TRUE(opts.syslog);
    EXPECT_EQ(opts.remote_syslog, "udp://h:514");
    EXPECT_EQ(opts.log_size_limit_bytes, 10 << 20);
    EXPECT_EQ(opts.max_traced_msg_bytes, 64);
}

TEST(ConfigOptions, AliasesMapToTheSameOption) {
    EXPECT_EQ(load_ok("host: h1").host, "h1");
    EXPECT_EQ(load_ok("logfile: a").log_file, "a");
    EXPECT_EQ(load_ok("pidfile: b").pid_file, "b");
    EXPECT_EQ(load_ok("max_conn: 10").max_connections, 10);
    EXPECT_EQ(load_ok("max_connections: 11").max_connections, 11);
    EXPECT_EQ(load_ok("max_subs: 12").max_subscriptions, 12);
    EXPECT_EQ(load_ok("max_subscriptions: 13").max_subscriptions, 13);
    EXPECT_EQ(load_ok("monitor_port: 8222").http_port, 8222);
    EXPECT_EQ(load_ok("http_port: 8223").http_port, 8223);
    EXPECT_EQ(load_ok("logfile_size_limit: 5").log_size_limit_bytes, 5);
    Options verbose = load_ok("trace_verbose: true");
    EXPECT_TRUE(verbose.trace);
    EXPECT_TRUE(verbose.trace_verbose);
}

TEST(ConfigOptions, TopLevelKeysAreCaseInsensitive) {
    Options opts = load_ok("PORT: 1234\nDebug: true\nMax_Payload: 2k");
    EXPECT_EQ(opts.port, 1234);
    EXPECT_TRUE(opts.debug);
    EXPECT_EQ(opts.max_payload_bytes, 2000);
}

TEST(ConfigOptions, LimitsMapToOptions) {
    Options opts = load_ok(
        "max_payload: 2MB\nmax_pending: 128MB\nmax_control_line: 8KB\nmax_connections: 100\n"
        "max_subscriptions: 50\nping_max: 4\n");
    EXPECT_EQ(opts.max_payload_bytes, 2 << 20);
    EXPECT_EQ(opts.max_pending_bytes, 128LL << 20);
    EXPECT_EQ(opts.max_control_line_bytes, 8 << 10);
    EXPECT_EQ(opts.max_connections, 100);
    EXPECT_EQ(opts.max_subscriptions, 50);
    EXPECT_EQ(opts.ping_max, 4);
}

TEST(ConfigOptions, ZeroLimitMeansTheDefaultAsInNatsServer) {
    Options opts = load_ok(
        "port: 0\nmax_payload: 0\nmax_pending: 0\nmax_control_line: 0\nmax_connections: 0\n"
        "ping_max: 0\nping_interval: \"0s\"\nwrite_deadline: \"0\"\n");
    Options defaults;
    EXPECT_EQ(opts.port, 4222);
    EXPECT_EQ(opts.max_payload_bytes, defaults.max_payload_bytes);
    EXPECT_EQ(opts.max_pending_bytes, defaults.max_pending_bytes);
    EXPECT_EQ(opts.max_control_line_bytes, defaults.max_control_line_bytes);
    EXPECT_EQ(opts.max_connections, defaults.max_connections);
    EXPECT_EQ(opts.ping_max, defaults.ping_max);
    EXPECT_EQ(opts.ping_interval, defaults.ping_interval);
    EXPECT_EQ(opts.write_deadline, defaults.write_deadline);
}

TEST(ConfigOptions, LimitsOutOfRangeAreErrors) {
    EXPECT_EQ(load_error("max_payload: 3GB"),
              "<string>:1:1: max_payload value is too big (3221225472, the maximum is "
              "2147483647)");
    EXPECT_EQ(load_error("max_control_line: -1"),
              "<string>:1:1: max_control_line value -1 is too small (the minimum is 0)");
    EXPECT_EQ(load_error("max_connections: 3000000000"),
              "<string>:1:1: max_connections value is too big (3000000000, the maximum is "
              "2147483647)");
    EXPECT_EQ(load_error("port: 65536"),
              "<string>:1:1: port value is too big (65536, the maximum is 65535)");
    EXPECT_EQ(load_error("port: -2"),
              "<string>:1:1: port value -2 is too small (the minimum is -1)");
}

TEST(ConfigOptions, MaxPayloadAbovePendingIsAnError) {
    EXPECT_EQ(load_error("max_payload: 2MB\nmax_pending: 1MB"),
              "<string>: max_payload (2097152) cannot be higher than max_pending (1048576)");
}

TEST(ConfigOptions, DurationsTakeGoStrings) {
    Options opts = load_ok("ping_interval: \"30s\"\nwrite_deadline: \"1m30s\"");
    EXPECT_EQ(opts.ping_interval, milliseconds(30'000));
    EXPECT_EQ(opts.write_deadline, milliseconds(90'000));
    EXPECT_EQ(load_ok("ping_interval: 1h30m").ping_interval, milliseconds(5'400'000));
    EXPECT_EQ(load_ok("ping_interval: 500ms").ping_interval, milliseconds(500));
}

TEST(ConfigOptions, IntegerDurationsMeanSecondsWithAWarning) {
    LoadResult result = load("ping_interval: 30\nwrite_deadline: 3");
    ASSERT_TRUE(result.status.ok()) << result.status;
    EXPECT_EQ(result.opts.ping_interval, milliseconds(30'000));
    EXPECT_EQ(result.opts.write_deadline, milliseconds(3'000));
    EXPECT_EQ(result.warnings,
              (std::vector<std::string>{
                  "<string>:1:1: invalid use of field \"ping_interval\": ping_interval should be "
                  "converted to a duration",
                  "<string>:2:1: invalid use of field \"write_deadline\": write_deadline should "
                  "be converted to a duration"}));
}

TEST(ConfigOptions, UnquotedTwoMIsTwoMillionSecondsAsInNatsServer) {
    // `2m` unquoted is the integer 2,000,000, so it means seconds; quote durations.
    LoadResult result = load("ping_interval: 2m");
    ASSERT_TRUE(result.status.ok());
    EXPECT_EQ(result.opts.ping_interval, milliseconds(2'000'000'000));
    EXPECT_EQ(result.warnings.size(), 1u);
}

TEST(ConfigOptions, BadDurationsAreErrors) {
    EXPECT_EQ(load_error("ping_interval: \"soon\""),
              "<string>:1:1: error parsing ping_interval: time: invalid duration \"soon\"");
    EXPECT_EQ(load_error("write_deadline: \"10\""),
              "<string>:1:1: error parsing write_deadline: time: missing unit in duration \"10\"");
    EXPECT_EQ(load_error("ping_interval: \"-5s\""),
              "<string>:1:1: ping_interval can not be negative");
    EXPECT_EQ(load_error("ping_interval: 1.5"),
              "<string>:1:1: ping_interval: expected a duration such as \"2m\", got float 1.5");
}

TEST(ConfigOptions, WrongValueKindsAreErrorsNamingKeyAndPosition) {
    EXPECT_EQ(load_error("\n\n    port: \"abc\""),
              "<string>:3:5: port: expected an integer, got string \"abc\"");
    EXPECT_EQ(load_error("debug: 1"), "<string>:1:1: debug: expected a boolean, got integer 1");
    EXPECT_EQ(load_error("server_name: [a]"),
              "<string>:1:1: server_name: expected a string, got an array");
    EXPECT_EQ(load_error("log_file: { a: 1 }"),
              "<string>:1:1: log_file: expected a string, got a map");
}

TEST(ConfigOptions, AllErrorsAreReportedTogether) {
    EXPECT_EQ(load_error("port: x\ndebug: 2\nmax_payload: y"),
              "<string>:1:1: port: expected an integer, got string \"x\"\n"
              "<string>:2:1: debug: expected a boolean, got integer 2\n"
              "<string>:3:1: max_payload: expected an integer, got string \"y\"");
}

TEST(ConfigOptions, ErrorLeavesOptionsUntouched) {
    Options opts;
    opts.server_name = "before";
    std::vector<std::string> warnings;
    absl::Status status = load_config_text("server_name: after\nport: bad", "", opts, warnings);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(opts.server_name, "before");
    EXPECT_EQ(opts.port, 4222);
}

TEST(ConfigOptions, LoadingKeepsFieldsTheDocumentDoesNotName) {
    Options opts;
    opts.server_name = "kept";
    std::vector<std::string> warnings;
    ASSERT_TRUE(load_config_text("port: 1", "", opts, warnings).ok());
    EXPECT_EQ(opts.server_name, "kept");
    EXPECT_EQ(opts.port, 1);
}

TEST(ConfigOptions, UnknownTopLevelKeyIsAnError) {
    EXPECT_EQ(load_error("port: 1\nfoo: 2"), "<string>:2:1: unknown field \"foo\"");
    EXPECT_EQ(load_error("port: 1\nbar { x: 1 }"), "<string>:2:1: unknown field \"bar\"");
    EXPECT_EQ(load_error("max_paylod: 1024"), "<string>:1:1: unknown field \"max_paylod\"");
    // Newer than nats-server 2.9.10, which refuses them too.
    EXPECT_EQ(load_error("trace_headers: true"), "<string>:1:1: unknown field \"trace_headers\"");
}

TEST(ConfigOptions, KeyUsedAsVariableIsNotReportedUnknown) {
    Options opts = load_ok("MY_PORT = 4555\nport: $MY_PORT");
    EXPECT_EQ(opts.port, 4555);
    // A variable nothing uses is an unknown key to nats-server.
    EXPECT_EQ(load_error("MY_PORT = 4555\nport: $MY_PORT\nunused_var = 1"),
              "<string>:3:1: unknown field \"unused_var\"");
}

TEST(ConfigOptions, SubscriptionTokensAreLimitedAndTagsKept) {
    EXPECT_EQ(load_ok("max_sub_tokens: 3").max_sub_tokens, 3);
    EXPECT_EQ(load_ok("max_subscription_tokens: 255").max_sub_tokens, 255);
    EXPECT_NE(load_error("max_sub_tokens: 256").find("max_sub_tokens value is too big"), std::string::npos);
    EXPECT_NE(load_error("max_sub_tokens: 0").find("max_sub_tokens value 0 is too small"), std::string::npos);
    EXPECT_EQ(load_ok("server_tags: [\"AZ:1\", \" blue \", \"az:1\", \"\"]").server_tags,
              (std::vector<std::string>{"az:1", "blue"}));
    EXPECT_EQ(load_ok("server_tags: Edge").server_tags, (std::vector<std::string>{"edge"}));
}

TEST(ConfigOptions, UnsupportedFeaturesAreRecordedNotWarned) {
    LoadResult result = load(
        "cluster { listen: 0.0.0.0:6222 }\n"
        "tls { cert_file: a }\n"
        "websocket { port: 8080 }\n"
        "leafnodes { port: 7422 }\n"
        "tls { cert_file: b }\n");
    ASSERT_TRUE(result.status.ok()) << result.status;
    EXPECT_TRUE(result.warnings.empty());
    EXPECT_EQ(result.opts.unsupported_features,
              (std::vector<std::string>{"cluster", "tls", "websocket", "leafnodes"}));
    EXPECT_TRUE(load_ok("no_header_support: true").unsupported_features.empty());
    EXPECT_TRUE(load_ok("no_header_support: true").no_header_support);
}

// A block of a missing feature that asks nothing of it (empty, or listening on port 0) is taken,
// as nats-server takes it: there is nothing to refuse.
TEST(ConfigOptions, ABlockThatConfiguresNothingIsTaken) {
    for (const char* text : {"leafnodes {}", "websocket {}", "ws {}", "mqtt { port: 0 }", "gateway {}",
                             "cluster { port: 0 }", "cluster { name: east, port: 0 }", "prof_port: 0",
                             "default_js_domain {}"}) {
        EXPECT_TRUE(load_ok(text).unsupported_features.empty()) << text;
    }
    for (const char* text : {"leafnodes { port: 7422 }", "websocket { port: 0, no_tls: true }", "prof_port: 6060",
                             "tls {}", "default_js_domain { acc: dom }"}) {
        EXPECT_FALSE(load_ok(text).unsupported_features.empty()) << text;
    }
}

TEST(ConfigOptions, AClusterBlockWithOnlyANameNamesTheCluster) {
    LoadResult named = load("cluster { name: east }");
    ASSERT_TRUE(named.status.ok()) << named.status;
    EXPECT_EQ(named.opts.cluster_name, "east");
    EXPECT_TRUE(named.opts.unsupported_features.empty());
    EXPECT_TRUE(load_ok("cluster {}").unsupported_features.empty());
    // Anything more asks for routes between servers.
    for (const char* text : {"cluster { name: east, port: 6222 }", "cluster { name: east, routes: [] }",
                             "cluster: nats://0.0.0.0:6222"}) {
        EXPECT_EQ(load_ok(text).unsupported_features, (std::vector<std::string>{"cluster"})) << text;
    }
    EXPECT_EQ(load_error("cluster { name: 5 }"), "<string>:1:11: name: expected a string, got integer 5");
}

TEST(ConfigOptions, HarmlessNatsKeysAreAcceptedSilently) {
    LoadResult result = load(
        "lame_duck_duration: \"2m\"\nmax_closed_clients: 10\nhttp_base_path: /x\n"
        "disable_sublist_cache: true\nlogtime_utc: true\nno_system_account: true\n");
    ASSERT_TRUE(result.status.ok());
    EXPECT_TRUE(result.warnings.empty());
    EXPECT_TRUE(result.opts.unsupported_features.empty());
    EXPECT_EQ(result.opts.http_base_path, "/x");
    EXPECT_EQ(result.opts.max_closed_clients, 10);
    EXPECT_EQ(load_ok("max_closed_clients: 0").max_closed_clients, 10000);  // nats-server's default
    EXPECT_EQ(result.opts.lame_duck_duration, std::chrono::minutes(2));
    EXPECT_TRUE(result.opts.log_utc);
    EXPECT_TRUE(result.opts.no_sublist_cache);
    EXPECT_TRUE(load_ok("no_sublist_cache: true").no_sublist_cache);
    EXPECT_FALSE(load_ok("").no_sublist_cache);
}

TEST(ConfigOptions, LameDuckAndLogRotationKeys) {
    Options opts = load_ok("lame_duck_duration: \"45s\"\nlame_duck_grace_period: \"3s\"\n"
                           "logfile_size_limit: 1000\nlogfile_max_num: 3\n");
    EXPECT_EQ(opts.lame_duck_duration, std::chrono::seconds(45));
    EXPECT_EQ(opts.lame_duck_grace_period, std::chrono::seconds(3));
    EXPECT_EQ(opts.log_size_limit_bytes, 1000);
    EXPECT_EQ(opts.log_max_files, 3);
    LoadResult short_duck = load("lame_duck_duration: \"10s\"\n");
    EXPECT_FALSE(short_duck.status.ok());
    EXPECT_NE(std::string(short_duck.status.message()).find("invalid lame_duck_duration of 10s, minimum is 30 seconds"),
              std::string::npos)
        << short_duck.status.message();
    // The grace period must end before lame duck mode does (nats-server's validateOptions).
    EXPECT_NE(load_error("lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"40s\"\n")
                  .find("lame duck grace period (40s) should be strictly lower than lame duck duration (30s)"),
              std::string::npos);
    EXPECT_NE(load_error("lame_duck_grace_period: \"2m\"\n").find("grace period (2m0s)"), std::string::npos);
}

TEST(ConfigOptions, ANegativeMaxConnectionsIsNoLimit) {
    EXPECT_EQ(load_ok("max_connections: -1").max_connections, -1);
    EXPECT_EQ(load_ok("max_connections: 0").max_connections, 64 * 1024);
}

TEST(ConfigOptions, MonitoringKeysTakePortsOrHostPort) {
    Options opts = load_ok("http: 8222");
    EXPECT_EQ(opts.http_port, 8222);
    EXPECT_EQ(opts.http_host, "");
    opts = load_ok("http: \"127.0.0.1:8223\"");
    EXPECT_EQ(opts.http_host, "127.0.0.1");
    EXPECT_EQ(opts.http_port, 8223);
    opts = load_ok("https: 0.0.0.0:8443\nhttps_port: 8444");
    EXPECT_EQ(opts.https_port, 8444);
    EXPECT_EQ(load_ok("http_port: -1").http_port, -1);
    EXPECT_EQ(load_error("http: \"bad\""), "<string>:1:1: could not parse address string \"bad\"");
}

TEST(ConfigOptions, AuthorizationSetsSingleUser) {
    Options opts = load_ok("authorization { user: alice, password: s3cret, timeout: 5 }");
    EXPECT_EQ(opts.user, "alice");
    EXPECT_EQ(opts.password, "s3cret");
    EXPECT_EQ(opts.auth_timeout, milliseconds(5000));
    opts = load_ok("authorization { username: bob\n pass: pw\n timeout: 0.5 }");
    EXPECT_EQ(opts.user, "bob");
    EXPECT_EQ(opts.password, "pw");
    EXPECT_EQ(opts.auth_timeout, milliseconds(500));
    EXPECT_EQ(load_ok("authorization { token: t, timeout: \"3s\" }").auth_timeout,
              milliseconds(3000));
    EXPECT_EQ(load_ok("authorization { token: t }").token, "t");
    EXPECT_EQ(load_ok("authorization { token: t, timeout: 0 }").auth_timeout, milliseconds(2000));
}

TEST(ConfigOptions, AuthorizationBlockReplacesAllSingleUserSettings) {
    Options opts;
    opts.user = "old";
    opts.password = "old";
    std::vector<std::string> warnings;
    ASSERT_TRUE(load_config_text("authorization { token: t }", "", opts, warnings).ok());
    EXPECT_EQ(opts.user, "");
    EXPECT_EQ(opts.password, "");
    EXPECT_EQ(opts.token, "t");
}

TEST(ConfigOptions, AuthorizationRejectsContradictionsAndUnknownFields) {
    EXPECT_EQ(load_error("authorization { user: a, token: t }"),
              "<string>:1:1: Cannot have a user/pass and token");
    EXPECT_EQ(load_error("authorization { user: a, users: [{user: b}] }"),
              "<string>:1:1: Can not have a single user/pass and a users array");
    EXPECT_EQ(load_error("authorization { token: t, users: [] }"),
              "<string>:1:1: Can not have a token and a users array");
    EXPECT_EQ(load_error("authorization {\n  user: a\n  pasword: typo\n}"),
              "<string>:3:3: unknown field \"pasword\"");
    EXPECT_EQ(load_error("authorization: secret"),
              "<string>:1:1: authorization: expected a map, got string \"secret\"");
    EXPECT_EQ(load_error("authorization { timeout: \"x\" }"),
              "<string>:1:17: error parsing authorization timeout: time: invalid duration \"x\"");
    EXPECT_EQ(load_error("authorization { timeout: -1 }"),
              "<string>:1:17: authorization timeout must be between 0 and 1e9 seconds");
}

TEST(ConfigOptions, UsersAndPermissionsAreParsed) {
    Options opts = load_ok(R"(
authorization {
  default_permissions: { publish: "public.>" }
  users: [
    { user: alice, password: a, permissions: {
        publish: { allow: ["orders.*", "billing.>"], deny: "orders.secret" }
        subscribe: ["_INBOX.>", "work.* workers"]
    } }
    { user: bob, password: "$2a$11$hash" }
    { user: carol, password: c, permissions: { allow_responses: true } }
    { user: dave, password: d, permissions: { allow_responses: { max: 5, expires: "1m" } } }
  ]
}
)");
    ASSERT_EQ(opts.users.size(), 4u);
    const User& alice = opts.users[0];
    EXPECT_EQ(alice.user, "alice");
    ASSERT_TRUE(alice.permissions.has_value());
    ASSERT_TRUE(alice.permissions->publish.has_value());
    EXPECT_EQ(*alice.permissions->publish->allow,
              (std::vector<std::string>{"orders.*", "billing.>"}));
    EXPECT_EQ(*alice.permissions->publish->deny, (std::vector<std::string>{"orders.secret"}));
    EXPECT_EQ(*alice.permissions->subscribe->allow,
              (std::vector<std::string>{"_INBOX.>", "work.* workers"}));
    EXPECT_FALSE(alice.permissions->subscribe->deny.has_value());

    const User& bob = opts.users[1];  // No permissions of its own: gets the defaults.
    EXPECT_EQ(bob.password, "$2a$11$hash");
    ASSERT_TRUE(bob.permissions.has_value());
    EXPECT_EQ(*bob.permissions->publish->allow, (std::vector<std::string>{"public.>"}));

    const User& carol = opts.users[2];
    ASSERT_TRUE(carol.permissions->allow_responses.has_value());
    EXPECT_EQ(carol.permissions->allow_responses->msgs_max, 1);
    EXPECT_EQ(carol.permissions->allow_responses->expires, milliseconds(120'000));
    // Allowing responses turns off the blanket publish allowance.
    ASSERT_TRUE(carol.permissions->publish->allow.has_value());
    EXPECT_TRUE(carol.permissions->publish->allow->empty());

    const User& dave = opts.users[3];
    EXPECT_EQ(dave.permissions->allow_responses->msgs_max, 5);
    EXPECT_EQ(dave.permissions->allow_responses->expires, milliseconds(60'000));

    ASSERT_TRUE(opts.default_permissions.has_value());
    EXPECT_TRUE(opts.unsupported_features.empty());
    EXPECT_TRUE(opts.auth_required());
}

TEST(ConfigOptions, NoAuthUserMustNameAUser) {
    Options opts = load_ok("authorization { users: [ { user: a, password: b } ] }\nno_auth_user: a\n");
    EXPECT_EQ(opts.no_auth_user, "a");
    EXPECT_EQ(load_error("authorization { users: [ { user: a, password: b } ] }\nno_auth_user: ghost\n"),
              "no_auth_user: \"ghost\" not present as user in authorization block or account configuration");
    EXPECT_EQ(load_error("no_auth_user: ghost\n"), "no_auth_user: \"ghost\" present, but users are not defined");
}

TEST(ConfigOptions, DefaultPermissionsWithoutUsersAreRefused) {
    Options opts = load_ok("authorization { user: a, password: b, permissions: { publish: \"x\" } }");
    EXPECT_TRUE(contains(opts.unsupported_features, "authorization.permissions without users"));
}

TEST(ConfigOptions, NkeyUsersAreValidated) {
    const std::string nkey = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
    Options opts = load_ok("authorization { users: [ { nkey: " + nkey + " } ] }");
    ASSERT_EQ(opts.users.size(), 1u);
    EXPECT_EQ(opts.users[0].nkey, nkey);
    EXPECT_TRUE(opts.unsupported_features.empty());
    EXPECT_EQ(load_error("authorization { users: [ { nkey: NOTAKEY } ] }"),
              "<string>:1:26: Not a valid public nkey for a user");
    EXPECT_EQ(load_error("authorization { users: [ { nkey: " + nkey + ", user: x } ] }"),
              "<string>:1:26: Nkey users do not take usernames or passwords");
}

TEST(ConfigOptions, MalformedUsersAndPermissionsAreErrors) {
    EXPECT_EQ(load_error("authorization { users: [ { password: x } ] }"),
              "<string>:1:26: User entry requires a user");
    EXPECT_EQ(load_error("authorization { users: [ alice ] }"),
              "<string>:1:26: Expected user entry to be a map/struct, got string \"alice\"");
    EXPECT_EQ(load_error("authorization { users: alice }"),
              "<string>:1:17: users: expected an array of users, got string \"alice\"");
    EXPECT_EQ(load_error("authorization { users: [ {user: a}, {user: a} ] }"),
              "<string>:1:1: Duplicate user \"a\" detected");
    EXPECT_EQ(load_error("authorization { users: [ {user: a, colour: red} ] }"),
              "<string>:1:36: unknown field \"colour\"");
    EXPECT_EQ(load_error("authorization { users: [ {user: a, permissions: yes} ] }"),
              "<string>:1:36: Expected permissions to be a map/struct, got boolean true");
    EXPECT_EQ(load_error("authorization { permissions: { publish: 5 } }"),
              "<string>:1:32: Expected subject permissions to be a subject, or array of "
              "subjects, got integer 5");
    EXPECT_EQ(load_error("authorization { permissions: { publish: [a, 5] } }"),
              "<string>:1:45: Subject in permissions array cannot be cast to string");
    EXPECT_EQ(load_error("authorization { permissions: { publish: \"a..b\" } }"),
              "<string>:1:32: subject \"a..b\" is not a valid subject");
    EXPECT_EQ(load_error("authorization { permissions: { publish: \"a.>.b\" } }"),
              "<string>:1:32: subject \"a.>.b\" is not a valid subject");
    // "subject queue" is two words however spaced; nats-server names the subject when it is the
    // bad part, the whole text when the words are not two.
    EXPECT_EQ(load_error("authorization { permissions: { subscribe: \"a..b q\" } }"),
              "<string>:1:32: subject \"a..b\" is not a valid subject");
    EXPECT_EQ(load_error("authorization { permissions: { subscribe: \"a q r\" } }"),
              "<string>:1:32: subject \"a q r\" is not a valid subject");
    EXPECT_EQ(load_ok("authorization { users: [ { user: u, password: p, permissions: { subscribe: [\"a  q\", \"b\\tr\", \" c s\"] } } ] }")
                  .users[0].permissions->subscribe->allow->size(),
              3u);
    EXPECT_EQ(load_error("authorization { permissions: { publish: { allow: a, nope: b } } }"),
              "<string>:1:53: Unknown field name \"nope\" parsing subject permissions, only "
              "'allow' or 'deny' are permitted");
    EXPECT_EQ(load_error("authorization { permissions: { publsh: a } }"),
              "<string>:1:32: Unknown field \"publsh\" parsing permissions");
    EXPECT_EQ(load_error("authorization { permissions: { allow_responses: 5 } }"),
              "<string>:1:32: error parsing response permissions, expected a boolean or a map");
    EXPECT_EQ(load_error("authorization { permissions: { allow_responses: { expires: 5 } } }"),
              "<string>:1:51: error parsing expires, not a duration string");
}

TEST(ConfigOptions, JetStreamTakesBooleanWordOrMap) {
    EXPECT_TRUE(load_ok("jetstream: true").jetstream);
    EXPECT_TRUE(load_ok("jetstream: enabled").jetstream);
    EXPECT_TRUE(load_ok("jetstream: Enable").jetstream);
    EXPECT_FALSE(load_ok("jetstream: disabled").jetstream);
    EXPECT_FALSE(load_ok("jetstream: off").jetstream);

    Options opts = load_ok("jetstream { store_dir: /data/js, max_mem: 1G, max_file: \"10G\" }");
    EXPECT_TRUE(opts.jetstream);  // A map enables JetStream unless it says otherwise.
    EXPECT_EQ(opts.store_dir, "/data/js");
    EXPECT_EQ(opts.max_memory_store_bytes, 1'000'000'000);  // Unquoted G: decimal.
    EXPECT_EQ(opts.max_file_store_bytes, 10LL << 30);       // Quoted "G": binary.

    opts = load_ok(
        "jetstream { enabled: false, store: /x, max_memory_store: \"512M\", "
        "max_file_store: 1TB }");
    EXPECT_FALSE(opts.jetstream);
    EXPECT_EQ(opts.store_dir, "/x");
    EXPECT_EQ(opts.max_memory_store_bytes, 512LL << 20);
    EXPECT_EQ(opts.max_file_store_bytes, 1LL << 40);
    EXPECT_EQ(load_ok("store_dir: /top").store_dir, "/top");
}

TEST(ConfigOptions, JetStreamRejectsBadValues) {
    EXPECT_EQ(load_error("jetstream: maybe"),
              "<string>:1:1: Expected 'enabled' or 'disabled' for string value, got 'maybe'");
    EXPECT_EQ(load_error("jetstream: 5"),
              "<string>:1:1: Expected map, bool or string to define JetStream, got integer 5");
    EXPECT_EQ(load_error("jetstream { max_mem: \"10X\" }"),
              "<string>:1:13: max_mem_store sizes defined as strings must end in K, M, G, T");
    EXPECT_EQ(load_error("jetstream { max_file: \"xG\" }"),
              "<string>:1:13: max_file_store invalid size \"xG\"");
    EXPECT_EQ(load_error("jetstream { max_file: true }"),
              "<string>:1:13: max_file_store must be int64 or string");
    EXPECT_EQ(load_error("store_dir: /a\njetstream { store_dir: /b }"),
              "<string>:2:13: Duplicate 'store_dir' configuration");
}

TEST(ConfigOptions, JetStreamSyncIntervalIsAlwaysOrADuration) {
    EXPECT_EQ(load_ok("jetstream: true").sync_interval, std::chrono::milliseconds(0));  // always
    EXPECT_EQ(load_ok("jetstream { sync_interval: always }").sync_interval, std::chrono::milliseconds(0));
    EXPECT_EQ(load_ok("jetstream { sync: ALWAYS }").sync_interval, std::chrono::milliseconds(0));
    EXPECT_EQ(load_ok("jetstream { sync_interval: \"2m\" }").sync_interval, std::chrono::minutes(2));
    EXPECT_EQ(load_ok("jetstream { sync: \"250ms\" }").sync_interval, std::chrono::milliseconds(250));
    EXPECT_EQ(load_error("jetstream { sync_interval: \"soon\" }"),
              "<string>:1:13: error parsing sync_interval: time: invalid duration \"soon\"");
    EXPECT_EQ(load_error("jetstream { sync_interval: \"0s\" }"),
              "<string>:1:13: sync_interval must be \"always\" or a positive duration");
}

TEST(ConfigOptions, JetStreamUnknownKeyIsAnErrorAndUnsupportedKeyIsRecorded) {
    EXPECT_EQ(load_error("jetstream { colour: red }"), "<string>:1:13: unknown field \"colour\"");
    LoadResult result = load("jetstream { domain: hub, cipher: aes }");
    ASSERT_TRUE(result.status.ok());
    EXPECT_EQ(result.opts.unsupported_features, (std::vector<std::string>{"jetstream.encryption"}));
}

TEST(ConfigOptions, JetStreamLimitsAreCountsAndADuplicateWindow) {
    Options options = load_ok(
        "jetstream { limits: { max_ack_pending: 100, max_request_batch: 10, max_ha_assets: 3, "
        "duplicate_window: \"1m30s\" } }");
    EXPECT_EQ(options.jetstream_limits.max_ack_pending, 100);
    EXPECT_EQ(options.jetstream_limits.max_request_batch, 10);
    EXPECT_EQ(options.jetstream_limits.max_ha_assets, 3);
    EXPECT_EQ(options.jetstream_limits.duplicate_window, std::chrono::seconds(90));
    EXPECT_TRUE(options.unsupported_features.empty());
    EXPECT_EQ(load_ok("jetstream: true").jetstream_limits, JetStreamLimits{});
    EXPECT_EQ(load_error("jetstream { limits: { max_batch: 5 } }"), "<string>:1:23: unknown field \"max_batch\"");
    EXPECT_EQ(load_error("jetstream { limits: 5 }"), "<string>:1:13: Expected a map to define JetStreamLimits, got integer 5");
    EXPECT_EQ(load_error("jetstream { limits: { max_ack_pending: \"many\" } }"),
              "<string>:1:23: max_ack_pending: expected an integer, got string \"many\"");
    EXPECT_EQ(load_error("jetstream { limits: { duplicate_window: \"soon\" } }"),
              "<string>:1:23: error parsing duplicate_window: time: invalid duration \"soon\"");
    EXPECT_EQ(load_error("jetstream { limits: { duplicate_window: 60 } }"),
              "<string>:1:23: duplicate_window: expected a duration string such as \"1m\", got integer 60");
}

TEST(ConfigOptions, AJetStreamDomainIsANameAndMapsItsApiInEveryAccountThatHasJetStream) {
    Options plain = load_ok("jetstream { domain: hub }");
    EXPECT_EQ(plain.jetstream_domain, "hub");
    // nats-server's generateJSMappingTable, in the global account.
    std::vector<std::pair<std::string, std::string>> mapped;
    for (const SubjectMapping& m : plain.mappings) {
        EXPECT_EQ(m.account, "");
        ASSERT_EQ(m.destinations.size(), 1u);
        mapped.emplace_back(m.source, m.destinations[0].subject);
    }
    EXPECT_EQ(mapped, (std::vector<std::pair<std::string, std::string>>{
                          {"$JS.hub.API.INFO", "$JS.API.INFO"},
                          {"$JS.hub.API.STREAM.>", "$JS.API.STREAM.>"},
                          {"$JS.hub.API.CONSUMER.>", "$JS.API.CONSUMER.>"},
                          {"$JS.hub.API.DIRECT.>", "$JS.API.DIRECT.>"},
                          {"$JS.hub.API.META.>", "$JS.API.META.>"},
                          {"$JS.hub.API.SERVER.>", "$JS.API.SERVER.>"},
                          {"$JS.hub.API.ACCOUNT.>", "$JS.API.ACCOUNT.>"},
                          {"$JS.hub.API.$KV.>", "$KV.>"},
                          {"$JS.hub.API.$OBJ.>", "$OBJ.>"}}));
    // With accounts: each but the system account, and not one that imports the API without
    // JetStream of its own; a mapping the config has keeps its destination.
    Options accounts = load_ok(
        "jetstream { domain: hub }\n"
        "accounts {\n"
        "  A: { jetstream: enabled, mappings: { \"$JS.hub.API.INFO\": \"elsewhere\" },\n"
        "       exports: [ { service: \"$JS.API.>\" } ] }\n"
        "  B: {}\n"
        "  C: { imports: [ { service: { account: A, subject: \"$JS.API.>\" } } ] }\n"
        "  SYS: {}\n"
        "}\n"
        "system_account: SYS\n");
    auto count = [&](const std::string& account) {
        return std::count_if(accounts.mappings.begin(), accounts.mappings.end(),
                             [&](const SubjectMapping& m) { return m.account == account; });
    };
    EXPECT_EQ(count("A"), 9);
    EXPECT_EQ(count("B"), 9);
    EXPECT_EQ(count("C"), 0);
    EXPECT_EQ(count("SYS"), 0);
    EXPECT_EQ(count(""), 9);
    EXPECT_EQ(accounts.mappings[0].destinations[0].subject, "elsewhere");
    // nats-server's validateJetStreamOptions.
    EXPECT_EQ(load_error("jetstream { domain: \"a.b\" }"),
              "<string>:1:13: invalid domain name: may not contain ., * or >");
    EXPECT_EQ(load_error("jetstream { domain: \"*\" }"),
              "<string>:1:13: invalid domain name: may not contain ., * or >");
    EXPECT_EQ(load_error("jetstream { domain: \"a b\" }"),
              "<string>:1:13: invalid domain name: derived \"$JS.a b.API.>\" is not a valid subject");
    EXPECT_EQ(load_error("jetstream { domain: \">\" }"),
              "<string>:1:13: invalid domain name: derived \"$JS.>.API.>\" is not a valid subject");
    // Without JetStream, no mappings.
    EXPECT_TRUE(load_ok("jetstream { domain: hub, enabled: false }").mappings.empty());
}

TEST(ConfigOptions, VariablesAndEnvironmentFeedOptions) {
    ScopedEnv env("RT_CFGTEST_SECRET", "from_env");
    Options opts = load_ok(
        "LIMIT = 4MB\nmax_payload: $LIMIT\n"
        "authorization { user: u, password: $RT_CFGTEST_SECRET }");
    EXPECT_EQ(opts.max_payload_bytes, 4 << 20);
    EXPECT_EQ(opts.password, "from_env");
}

TEST(ConfigOptions, JsonConfigLoads) {
    Options opts = load_ok(R"({"port": 4999, "debug": true, "jetstream": {"max_mem": "1G"}})");
    EXPECT_EQ(opts.port, 4999);
    EXPECT_TRUE(opts.debug);
    EXPECT_EQ(opts.max_memory_store_bytes, 1LL << 30);
}

TEST(ConfigFile, LoadSetsConfigFileAndResolvesIncludes) {
    TempDir dir;
    dir.write("inc/limits.conf", "max_payload: 512KB\n");
    std::string conf = dir.write("nats.conf", "port: 4777\ninclude inc/limits.conf\n");
    Options opts;
    std::vector<std::string> warnings;
    absl::Status status = load_config_file(conf, opts, warnings);
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(opts.config_file, conf);
    EXPECT_EQ(opts.port, 4777);
    EXPECT_EQ(opts.max_payload_bytes, 512 << 10);
}

TEST(ConfigFile, ErrorsNameTheFileLineAndColumn) {
    TempDir dir;
    std::string conf = dir.write("nats.conf", "port: 4222\nblock {\n    x = [1 2]\n}\n");
    Options opts;
    std::vector<std::string> warnings;
    absl::Status status = load_config_file(conf, opts, warnings);
    EXPECT_EQ(status.message(), conf +
                                    ":3:12: expected an array value terminator ',' or an "
                                    "array terminator ']', but got '2' instead");
    EXPECT_EQ(opts.config_file, "");
}

TEST(ConfigFile, UnreadableFileIsAnError) {
    TempDir dir;
    Options opts;
    std::vector<std::string> warnings;
    absl::Status status = load_config_file(dir.path(), opts, warnings);  // A directory.
    EXPECT_EQ(status.message(), "error opening config file: " + dir.path() + ": Is a directory");
}

TEST(ConfigOptions, AccountsHoldTheirUsersAndTheirOrderNumbersThem) {
    Options opts = load_ok(
        "authorization { users: [ { user: g, password: x } ] }\n"
        "accounts {\n"
        "  A: { users: [ { user: a, password: x }, { nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4 } ] }\n"
        "  B: { users: [ { user: b, password: x } ], default_permissions: { publish: \"b.>\" } }\n"
        "  C: {}\n"
        "}\n"
        "no_auth_user: b\n");
    EXPECT_EQ(opts.accounts, (std::vector<std::string>{"A", "B", "C"}));
    ASSERT_EQ(opts.users.size(), 4u);
    EXPECT_EQ(opts.users[0].account, "");
    EXPECT_EQ(opts.users[1].account, "A");
    EXPECT_EQ(opts.users[2].account, "A");
    EXPECT_EQ(opts.users[3].account, "B");
    ASSERT_TRUE(opts.users[3].permissions.has_value());  // the account's default permissions
    EXPECT_FALSE(opts.users[1].permissions.has_value());
    EXPECT_TRUE(opts.auth_required());
    EXPECT_EQ(account_id(opts, ""), 0u);
    EXPECT_EQ(account_id(opts, "$G"), 0u);
    EXPECT_EQ(account_id(opts, "A"), 1u);
    EXPECT_EQ(account_id(opts, "C"), 3u);
    EXPECT_EQ(load_ok("accounts: [X, Y]").accounts, (std::vector<std::string>{"X", "Y"}));
    EXPECT_FALSE(load_ok("accounts: { A: {} }").auth_required());  // no users, no authentication
}

TEST(ConfigOptions, BadAccountsAreRefusedAsNatsServerRefusesThem) {
    EXPECT_EQ(load_error("accounts { $G: {} }"), "<string>:1:12: \"$G\" is a Reserved Account");
    EXPECT_EQ(load_error("accounts: [A, A]"), "<string>:1:15: Duplicate Account Entry: A");
    EXPECT_EQ(load_error("accounts { A: 1 }"), "<string>:1:12: Expected map entries for accounts");
    EXPECT_EQ(load_error("accounts { A: { users: [ {user: u, password: p} ] }, B: { users: [ {user: u, password: q} ] } }"),
              "<string>:1:59: Duplicate user \"u\" detected");
    EXPECT_EQ(load_error("authorization { users: [ {user: u, password: p} ] }\naccounts { A: { users: [ {user: u, password: q} ] } }"),
              "<string>:2:17: Duplicate user \"u\" detected");
    EXPECT_EQ(load_error("authorization { user: s, password: p }\naccounts { A: { users: [ {user: u, password: q} ] } }"),
              "<string>:2:17: Can not have a single user/pass and accounts");
    EXPECT_EQ(load_error("authorization { token: t }\naccounts { A: { users: [ {user: u, password: q} ] } }"),
              "<string>:2:17: Can not have a token and accounts");
    EXPECT_EQ(load_error("accounts { A: { colour: red } }"), "<string>:1:17: unknown field \"colour\"");
    EXPECT_TRUE(load_ok("accounts { A: { nkey: AC5GRL36RQV7MJ2GT6WQSCKDKJKYTK4T2LGLWJ2SEJKRDHFOQQWGGFQL } }")
                    .unsupported_features.empty());
    EXPECT_EQ(load_error("accounts { A: { nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4 } }"),
              "<string>:1:17: Not a valid public nkey for an account: \"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4\"");
    // no_auth_user may name an account's user.
    EXPECT_EQ(load_ok("accounts { A: { users: [ {user: u, password: p} ] } }\nno_auth_user: u").no_auth_user, "u");
}

TEST(ConfigOptions, AnAccountsJetStreamIsEnabledWithItsLimits) {
    Options opts = load_ok(
        "accounts {\n"
        "  A: { jetstream: enabled }\n"
        "  B: { jetstream: { max_mem: 1M, max_file: 2G, max_streams: 3, consumers: 4, max_bytes_required: true,\n"
        "                    mem_max_stream_bytes: 5, store_max_stream_bytes: 6 } }\n"
        "  C: { jetstream: disabled }\n"
        "  D: { jetstream: false }\n"
        "  E: { jetstream: true }\n"
        "  F: {}\n"
        "}\n");
    ASSERT_EQ(opts.account_jetstream.size(), 3u);
    EXPECT_EQ(opts.account_jetstream[0], (AccountJetStream{.account = "A"}));
    EXPECT_EQ(opts.account_jetstream[1], (AccountJetStream{.account = "B",
                                                           .max_memory = 1'000'000,  // as nats-server reads 1M and 2G
                                                           .max_store = 2'000'000'000,
                                                           .max_streams = 3,
                                                           .max_consumers = 4,
                                                           .max_bytes_required = true,
                                                           .memory_max_stream_bytes = 5,
                                                           .store_max_stream_bytes = 6}));
    EXPECT_EQ(opts.account_jetstream[2].account, "E");
    EXPECT_TRUE(opts.unsupported_features.empty());
    Options pending = load_ok("accounts { A: { jetstream: { max_ack_pending: 10 } } }");
    EXPECT_TRUE(pending.unsupported_features.empty());
    ASSERT_EQ(pending.account_jetstream.size(), 1u);
    EXPECT_EQ(pending.account_jetstream[0].max_ack_pending, 10);
    EXPECT_EQ(load_error("accounts { A: { jetstream: maybe } }"),
              "<string>:1:17: Expected 'enabled' or 'disabled' for string value, got 'maybe'");
    EXPECT_EQ(load_error("accounts { A: { jetstream: { max_mem: \"1G\" } } }"),
              "<string>:1:30: Expected a parseable size for \"max_mem\", got string \"1G\"");
    EXPECT_EQ(load_error("accounts { A: { jetstream: { max_bytes_required: 1 } } }"),
              "<string>:1:30: Expected a parseable bool for \"max_bytes_required\", got integer 1");
    EXPECT_EQ(load_error("accounts { A: { jetstream: { colour: 1 } } }"), "<string>:1:30: unknown field \"colour\"");
}

TEST(ConfigOptions, AnAccountsLimitsAreNatsServers) {
    Options opts = load_ok(
        "accounts {\n"
        "  A: { limits: { max_connections: 2, max_subs: 3, max_pay: 4, max_leafnodes: 5 } }\n"
        "  B: {}\n"
        "}\n");
    ASSERT_EQ(opts.account_limits.size(), 1u);
    EXPECT_EQ(opts.account_limits[0], (AccountLimits{.account = "A", .max_connections = 2, .max_subscriptions = 3, .max_payload = 4}));
    ASSERT_NE(account_limits(opts, 1), nullptr);
    EXPECT_EQ(account_limits(opts, 2), nullptr);
    EXPECT_EQ(account_limits(opts, 0), nullptr);
    EXPECT_EQ(load_error("accounts { A: { limits: 1 } }"),
              "<string>:1:17: Expected account limits to be a map/struct, got integer 1");
    EXPECT_EQ(load_error("accounts { A: { limits: { max_cars: 1 } } }"),
              "<string>:1:27: Unknown field \"max_cars\" parsing account limits");
    EXPECT_EQ(load_error("accounts { A: { limits: { max_conn: x } } }"),
              "<string>:1:27: max_conn: expected an integer, got string \"x\"");
}

TEST(ConfigOptions, TheSystemAccountIsOneTheConfigDefines) {
    Options opts = load_ok("accounts { SYS: { users: [ { user: admin, password: s } ] }, A: {} }\nsystem_account: SYS\n");
    EXPECT_EQ(opts.system_account, "SYS");
    EXPECT_EQ(system_account_id(opts), std::optional<uint32_t>(1));
    EXPECT_EQ(system_account_id(load_ok("accounts { A: {} }")), std::nullopt);  // $SYS, not defined
    EXPECT_EQ(system_account_id(load_ok("accounts { A: {}, $SYS: {} }")), std::optional<uint32_t>(2));
    EXPECT_EQ(load_ok("system: SYS\naccounts { SYS: {} }").system_account, "SYS");
    EXPECT_EQ(load_error("system_account: NOPE"), "<string>:1:1: error resolving system account: account missing");
    EXPECT_EQ(load_error("system_account: 1"), "<string>:1:1: system account name must be a string");
    // Only the system account defined: clients without credentials go to the global account.
    Options only = load_ok("accounts { $SYS: { users: [ { user: admin, password: s } ] } }");
    EXPECT_EQ(only.no_auth_user, kSystemOnlyNoAuthUser);
    ASSERT_EQ(only.users.size(), 2u);
    EXPECT_EQ(only.users[1].account, "");
    // Not when other accounts, global users or a no_auth_user are there.
    EXPECT_TRUE(load_ok("accounts { $SYS: {}, A: {} }").no_auth_user.empty());
    EXPECT_TRUE(load_ok("authorization { users: [ {user: g, password: g} ] }\naccounts { $SYS: {} }").no_auth_user.empty());
}

TEST(ConfigOptions, AUsersConnectionTypesAreNatsServers) {
    Options opts = load_ok(
        "authorization { users: [ { user: a, password: a, allowed_connection_types: [standard, \"MQTT\"] },\n"
        "                         { user: b, password: b, clients: WEBSOCKET }, { user: c, password: c } ] }\n");
    ASSERT_EQ(opts.users.size(), 3u);
    EXPECT_EQ(opts.users[0].connection_types, (std::vector<std::string>{"STANDARD", "MQTT"}));
    EXPECT_EQ(opts.users[1].connection_types, (std::vector<std::string>{"WEBSOCKET"}));
    EXPECT_TRUE(opts.users[2].connection_types.empty());
    EXPECT_EQ(load_error("authorization { users: [ { user: a, password: a, connection_types: [STANDARD, foo, Bar] } ] }"),
              "<string>:1:50: invalid connection types [\"FOO\" \"BAR\"]");
}

TEST(ConfigOptions, StreamExportsAndImportsAreCheckedAsNatsServerChecksThem) {
    const std::string exporter =
        "accounts {\n  A: { exports: [ { stream: \"orders.>\" }, { stream: \"private.>\", accounts: [B] } ] }\n";
    Options opts = load_ok(exporter +
                           "  B: { imports: [ { stream: { account: A, subject: \"orders.eu.>\" }, prefix: shop },\n"
                           "                  { stream: { account: A, subject: \"private.>\" } } ] }\n"
                           "  C: { imports: [ { stream: { account: A, subject: \"orders.*\" }, to: \"new.*\" } ] }\n}\n");
    ASSERT_EQ(opts.stream_exports.size(), 2u);
    EXPECT_EQ(opts.stream_exports[1].accounts, (std::vector<std::string>{"B"}));
    ASSERT_EQ(opts.stream_imports.size(), 3u);
    EXPECT_EQ(opts.stream_imports[0].to, "shop.orders.eu.>");
    EXPECT_EQ(opts.stream_imports[1].to, "private.>");
    EXPECT_EQ(opts.stream_imports[2].account, "C");
    EXPECT_EQ(opts.stream_imports[2].to, "new.*");
    auto with_b = [&](const std::string& imports) { return exporter + "  B: { imports: [ " + imports + " ] }\n}\n"; };
    EXPECT_EQ(load_error(with_b("{ stream: { account: Z, subject: \"x\" } }")),
              "<string>:3:19: \"Z\" account not defined for stream import");
    EXPECT_EQ(load_error(with_b("{ stream: { account: A, subject: \"other.>\" } }")),
              "<string>:3:19: Error adding stream import \"other.>\": stream import not authorized");
    EXPECT_EQ(load_error(with_b("{ stream: { account: A, subject: \"orders.>\" }, prefix: \"p.*\" }")),
              "<string>:3:19: Error adding stream import \"orders.>\": stream import prefix can not contain wildcard tokens");
    EXPECT_EQ(load_error(with_b("{ stream: { account: A, subject: \"orders.>\" }, prefix: p, to: q }")),
              "<string>:3:19: Stream import can not have a 'prefix' and a 'to' property");
    EXPECT_EQ(load_error(with_b("{ stream: { account: A, subject: \"orders.>\" } }, { stream: { account: A, subject: \"orders.>\" } }")),
              "<string>:3:68: Error adding stream import \"orders.>\": stream import already exists");
    EXPECT_EQ(load_error(with_b("{ stream: { account: A } }")), "<string>:3:21: Expect an account name and a subject");
    EXPECT_EQ(load_error("accounts { A: { exports: [ { stream: x, accounts: [Q] } ] } }"),
              "<string>:1:28: \"Q\" account not defined for stream export");
    // Only the accounts an export lists may import it.
    EXPECT_EQ(load_error(exporter + "  B: {}\n  C: { imports: [ { stream: { account: A, subject: \"private.x\" } } ] }\n}\n"),
              "<string>:4:19: Error adding stream import \"private.x\": stream import not authorized");
    // Messages that would come back to where they started.
    EXPECT_EQ(load_error("accounts {\n"
                         "  A: { exports: [ { stream: \"x.>\" } ], imports: [ { stream: { account: B, subject: \"y.>\" }, to: \"x.>\" } ] }\n"
                         "  B: { exports: [ { stream: \"y.>\" } ], imports: [ { stream: { account: A, subject: \"x.>\" }, to: \"y.>\" } ] }\n}\n"),
              "<string>:2:51: Error adding stream import \"y.>\": import forms a cycle");
}

// An import's `to` may place the exporter's wildcards by number, as nats-server's transforms do;
// one that leaves a wildcard out is refused with nats-server's words, one with another function
// (a partition) by name.
TEST(ConfigOptions, AnImportPlacesTheExportersWildcardsByNumber) {
    const std::string exporter = "accounts {\n  A: { exports: [ { stream: \"foo.*.*\" }, { service: \"svc.*.*\" } ] }\n";
    Options opts = load_ok(exporter +
                           "  B: { imports: [ { stream: { account: A, subject: \"foo.*.*\" }, to: \"bar.$2.$1\" },\n"
                           "                  { service: { account: A, subject: \"svc.*.*\" }, to: \"s.{{wildcard(2)}}.$1\" } ] }\n}\n");
    ASSERT_EQ(opts.stream_imports.size(), 1u);
    EXPECT_EQ(opts.stream_imports[0].to, "bar.$2.$1");
    ASSERT_EQ(opts.service_imports.size(), 1u);
    EXPECT_EQ(opts.service_imports[0].to, "s.{{wildcard(2)}}.$1");
    EXPECT_EQ(load_error(exporter + "  B: { imports: [ { stream: { account: A, subject: \"foo.*.*\" }, to: \"bar.$1\" } ] }\n}\n"),
              "<string>:3:19: Error adding stream import \"foo.*.*\": failed to create mapping transform for stream import "
              "subject \"foo.*.*\" to \"bar.$1\": invalid mapping destination: not using all of the token wildcard(s) in "
              "bar.$1");
    EXPECT_NE(load_error(exporter + "  B: { imports: [ { stream: { account: A, subject: \"foo.*.*\" }, "
                                    "to: \"bar.{{partition(2,1)}}.$2\" } ] }\n}\n")
                  .find("an import places wildcards only"),
              std::string::npos);
}

TEST(ConfigOptions, ServiceExportsAndImportsAreCheckedAsNatsServerChecksThem) {
    const std::string exporter =
        "accounts {\n  A: { exports: [ { service: \"time.>\" }, { service: feed, response_type: Stream, "
        "response_threshold: \"5s\" }, { service: \"private.>\", accounts: [B], response: chunked } ] }\n";
    Options opts = load_ok(exporter +
                           "  B: { imports: [ { service: { account: A, subject: \"time.*\" }, to: \"clock.*\" },\n"
                           "                  { service: { account: A, subject: feed } },\n"
                           "                  { service: { account: A, subject: \"private.x\" }, share: false } ] }\n}\n");
    ASSERT_EQ(opts.service_exports.size(), 3u);
    EXPECT_EQ(opts.service_exports[0].response_type, ResponseType::kSingleton);
    EXPECT_EQ(opts.service_exports[0].response_threshold_ns, 120'000'000'000);  // nats-server's default
    EXPECT_EQ(opts.service_exports[1].response_type, ResponseType::kStream);
    EXPECT_EQ(opts.service_exports[1].response_threshold_ns, 5'000'000'000);
    EXPECT_EQ(opts.service_exports[2].response_type, ResponseType::kChunked);
    EXPECT_EQ(opts.service_exports[2].accounts, (std::vector<std::string>{"B"}));
    ASSERT_EQ(opts.service_imports.size(), 3u);
    EXPECT_EQ(opts.service_imports[0].to, "clock.*");
    EXPECT_EQ(opts.service_imports[0].subject, "time.*");
    EXPECT_EQ(opts.service_imports[1].to, "feed");  // the subject when not given
    auto with_b = [&](const std::string& imports) { return exporter + "  B: { imports: [ " + imports + " ] }\n}\n"; };
    EXPECT_EQ(load_error(with_b("{ service: { account: Z, subject: x } }")),
              "<string>:3:19: \"Z\" account not defined for service import");
    EXPECT_EQ(load_error(with_b("{ service: { account: A, subject: other } }")),
              "<string>:3:19: Error adding service import \"other\": service import not authorized");
    EXPECT_EQ(load_error(with_b("{ service: { account: A } }")), "<string>:3:21: Expect an account name and a subject");
    EXPECT_EQ(load_error(with_b("{ service: { account: A, subject: \"time.*\" }, to: \"clock.>\" }")),
              "<string>:3:19: Error adding service import \"time.*\": failed to create mapping transform for service import "
              "subject \"clock.>\" to \"time.*\": invalid subject");
    EXPECT_EQ(load_error(with_b("{ service: { account: A, subject: feed } }, { service: { account: A, subject: \"time.x\" }, to: feed }")),
              "<string>:3:63: Duplicate service import subject \"feed\", previously used in import for account \"A\", subject \"feed\"");
    EXPECT_EQ(load_error(with_b("{ service: { account: A, subject: feed }, stream: { account: A, subject: feed } }")),
              "<string>:3:61: Detected stream but already saw a service");
    EXPECT_EQ(load_error("accounts { A: { exports: [ { service: x, accounts: [Q] } ] } }"),
              "<string>:1:28: \"Q\" account not defined for service export");
    EXPECT_EQ(load_error("accounts { A: { exports: [ { service: x, response_type: sometimes } ] } }"),
              "<string>:1:42: Unknown response type: \"sometimes\"");
    EXPECT_EQ(load_error("accounts { A: { exports: [ { service: x, threshold: soon } ] } }"),
              "<string>:1:42: Expected response threshold to be a parseable time duration, got \"soon\"");
    EXPECT_EQ(load_error("accounts { A: { exports: [ { stream: x, response_type: stream } ] } }"),
              "<string>:1:41: Detected response directive on non-service");
    // Only the accounts an export lists may import it.
    EXPECT_EQ(load_error(exporter + "  B: {}\n  C: { imports: [ { service: { account: A, subject: \"private.x\" } } ] }\n}\n"),
              "<string>:4:19: Error adding service import \"private.x\": service import not authorized");
    // A request that would come back to where it started.
    EXPECT_EQ(load_error("accounts {\n"
                         "  A: { exports: [ { service: \"x.>\" } ], imports: [ { service: { account: B, subject: \"y.>\" }, to: \"x.>\" } ] }\n"
                         "  B: { exports: [ { service: \"y.>\" } ], imports: [ { service: { account: A, subject: \"x.>\" }, to: \"y.>\" } ] }\n}\n"),
              "<string>:2:52: Error adding service import \"y.>\": import forms a cycle");
    // What is not done here is refused, not ignored.
    EXPECT_EQ(load_ok("accounts { A: { exports: [ { service: s, latency: { sampling: 100, subject: lat } } ] } }").unsupported_features,
              (std::vector<std::string>{"accounts.exports.latency"}));
    EXPECT_EQ(load_ok(exporter + "  B: { imports: [ { service: { account: A, subject: feed }, share: true } ] }\n}\n").unsupported_features,
              (std::vector<std::string>{"accounts.imports.share"}));
}

TEST(ConfigOptions, SubjectMappingsAreParsedAndCheckedAsNatsServerChecksThem) {
    Options opts = load_ok(
        "mappings { foo: bar, \"a.*\": [ { destination: \"b.$1\", weight: 40% }, { dest: \"c.$1\", weight: \"60\" } ] }\n"
        "accounts { A: { mappings: { x: y } } }\n");
    ASSERT_EQ(opts.mappings.size(), 3u);
    EXPECT_EQ(opts.mappings[0].account, "");
    EXPECT_EQ(opts.mappings[0].destinations, (std::vector<MappingDestination>{{"bar", 100}}));
    EXPECT_EQ(opts.mappings[1].destinations, (std::vector<MappingDestination>{{"b.$1", 40}, {"c.$1", 60}}));
    EXPECT_EQ(opts.mappings[2].account, "A");
    EXPECT_EQ(load_error("mappings { \"a..b\": c }"), "<string>:1:12: Subject \"a..b\" is not a valid subject");
    EXPECT_EQ(load_error("mappings { a: [ { destination: b, weight: 60 }, { destination: c, weight: 60 } ] }"),
              "<string>:1:12: Error adding mapping for \"a\" to \"b\" : total weight needs to be <= 100");
    EXPECT_EQ(load_error("mappings { a: { destination: b, weight: 101 } }"),
              "<string>:1:33: Invalid weight 101 for mapping destination");
    EXPECT_EQ(load_error("mappings { \"a.*\": \"b.{{wildcard(2)}}\" }"),
              "<string>:1:12: Error adding mapping for \"a.*\" to \"b.{{wildcard(2)}}\" : invalid mapping destination: "
              "wildcard index out of range in {{wildcard(2)}}: [2]");
    Options clustered = load_ok("mappings { a: { destination: b, cluster: c1 } }");
    EXPECT_TRUE(clustered.unsupported_features.empty());
    ASSERT_EQ(clustered.mappings.size(), 1u);
    EXPECT_EQ(clustered.mappings[0].destinations, (std::vector<MappingDestination>{{"b", 100, "c1"}}));
    EXPECT_EQ(destinations_for(clustered.mappings[0], "c1"), (std::vector<MappingDestination>{{"b", 100, "c1"}}));
    EXPECT_EQ(destinations_for(clustered.mappings[0], "c2"), (std::vector<MappingDestination>{{"a", 100}}));
}

}  // namespace
}  // namespace ringtail::config
