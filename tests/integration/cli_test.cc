// The command line a user of nats-server relies on: flag errors and their exit status, -v/-h,
// -l/-P/--ports_file_dir/-n, flag spellings, -c config files, and Ringtail's --shards/--cpus.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <utility>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string server_binary() {
    return testing_ringtail() ? ringtail_binary() : nats_server_binary();
}

// Ringtail's default is one shard per usable CPU; tests pin it as ServerProcess does.
std::vector<std::string> default_shards() {
    return testing_ringtail() ? std::vector<std::string>{"--shards", "2"}
                              : std::vector<std::string>{};
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

class TempDir {
 public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "ringtail-cli-XXXXXX").string();
        if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        if (!path_.empty()) fs::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
    std::string path_;
};

// A server process started with exactly the given arguments (ServerProcess always adds
// `-a 127.0.0.1 -p PORT`, which would hide a config file's `listen`), stdout and stderr captured
// separately. Killed by the destructor if still running.
class Child {
 public:
    Child() { std::filesystem::create_directory(ports_dir()); }
    ~Child() {
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            wait_exit(10s);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    std::string ports_dir() const { return dir_.file("ports"); }
    std::string path(const std::string& name) const { return dir_.file(name); }

    bool start(std::vector<std::string> args, const std::string& binary = server_binary()) {
        std::vector<std::string> argv_text = {binary};
        argv_text.insert(argv_text.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (std::string& arg : argv_text) argv.push_back(arg.data());
        argv.push_back(nullptr);
        int out_fd =
            open(dir_.file("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int err_fd =
            open(dir_.file("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (out_fd < 0 || err_fd < 0 || null_fd < 0) return false;
        pid_t parent = getpid();
        pid_ = fork();
        if (pid_ == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127);
            dup2(null_fd, STDIN_FILENO);
            dup2(out_fd, STDOUT_FILENO);
            dup2(err_fd, STDERR_FILENO);
            close_range(3, ~0U, 0);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(out_fd);
        close(err_fd);
        close(null_fd);
        return pid_ > 0;
    }

    // The exit status (WEXITSTATUS, or 128+signal), or nullopt if still running at the deadline.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
        if (exited_) return status_;
        auto deadline = Clock::now() + timeout;
        while (true) {
            int status = 0;
            pid_t result = waitpid(pid_, &status, WNOHANG);
            if (result == pid_) {
                exited_ = true;
                status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                return status_;
            }
            if (result < 0 || Clock::now() >= deadline) return std::nullopt;
            std::this_thread::sleep_for(10ms);
        }
    }

    // Waits for the ports file in ports_dir() (pass `--ports_file_dir ports_dir()`); its port or 0.
    int wait_port(std::chrono::milliseconds timeout = 10s) {
        auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            std::error_code error;
            for (const auto& entry : fs::directory_iterator(ports_dir(), error)) {
                if (entry.path().extension() != ".ports") continue;
                std::string text = read_text(entry.path().string());
                size_t end = text.find("\"]");
                size_t colon = text.rfind(':', end);
                if (end == std::string::npos || colon == std::string::npos) continue;
                return std::atoi(text.substr(colon + 1, end - colon - 1).c_str());
            }
            if (wait_exit(0ms).has_value()) return 0;
            std::this_thread::sleep_for(10ms);
        }
        return 0;
    }

    int stop(int signal) {
        if (!exited_) kill(pid_, signal);
        return wait_exit(10s).value_or(-1);
    }

    std::string out() const { return read_text(dir_.file("stdout")); }
    std::string err() const { return read_text(dir_.file("stderr")); }

 private:
    TempDir dir_;
    pid_t pid_ = -1;
    bool exited_ = false;
    int status_ = -1;
};

struct RunResult {
    int status = -1;  // -1: still running after the timeout (then killed)
    std::string out;
    std::string err;
};

// Runs the server under test with `args` and waits (<= 5 s) for it to exit.
RunResult run(const std::vector<std::string>& args) {
    Child child;
    RunResult result;
    if (!child.start(args)) return result;
    result.status = child.wait_exit(5s).value_or(-1);
    result.out = child.out();
    result.err = child.err();
    return result;
}

// A TCP port that was free a moment ago (bound to 127.0.0.1:0 and released).
int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
        port = ntohs(address.sin_port);
    }
    close(fd);
    return port;
}

// Connects to ip:port and returns the first line the server sends ("" if refused or silent).
std::string first_line_from(const char* ip, int port) {
    sockaddr_storage address{};
    socklen_t length = 0;
    if (std::strchr(ip, ':') != nullptr) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&address);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET6, ip, &in6->sin6_addr);
        length = sizeof *in6;
    } else {
        auto* in = reinterpret_cast<sockaddr_in*>(&address);
        in->sin_family = AF_INET;
        in->sin_port = htons(static_cast<uint16_t>(port));
        inet_pton(AF_INET, ip, &in->sin_addr);
        length = sizeof *in;
    }
    int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    std::string text;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), length) == 0) {
        auto deadline = Clock::now() + 5s;
        while (text.find("\r\n") == std::string::npos && Clock::now() < deadline) {
            pollfd entry{fd, POLLIN, 0};
            if (poll(&entry, 1, 100) <= 0) continue;
            char buffer[4096];
            ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
            if (got <= 0) break;
            text.append(buffer, static_cast<size_t>(got));
        }
    }
    close(fd);
    return text.substr(0, text.find("\r\n"));
}

std::string info_line(int port) { return first_line_from("127.0.0.1", port); }

// Polls the server's output until `needle` shows up (logs may be written a moment late).
bool log_shows(const ServerProcess& server, const std::string& needle) {
    auto deadline = Clock::now() + 3s;
    while (Clock::now() < deadline) {
        if (server.log().find(needle) != std::string::npos) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

// --- 1. Flag errors ------------------------------------------------------------------------------

// Go's flag package prints the error on stderr, then nats-server's usage() prints the usage on
// stdout and exits 0. Ringtail exits 2 (Go's own flag.ExitOnError status) with both on stderr.
void expect_flag_error(const RunResult& result, const std::string& message) {
    if (testing_ringtail()) {
        EXPECT_EQ(2, result.status);
    } else {
        EXPECT_TRUE(result.status == 0 || result.status == 2) << "status " << result.status;
    }
    EXPECT_TRUE(result.err.starts_with(message + "\n")) << result.err;
    const std::string& usage = testing_ringtail() ? result.err : result.out;
    EXPECT_NE(std::string::npos, usage.find("Usage:")) << result.out << result.err;
}

TEST(Cli, UnknownFlagExitsWithUsage) {
    expect_flag_error(run({"--no_such_flag"}), "flag provided but not defined: -no_such_flag");
    expect_flag_error(run({"-no_such_flag"}), "flag provided but not defined: -no_such_flag");
}

TEST(Cli, BadFlagValueExitsWithUsage) {
    expect_flag_error(run({"-p", "abc"}), "invalid value \"abc\" for flag -p: parse error");
    expect_flag_error(run({"--port=abc"}), "invalid value \"abc\" for flag -port: parse error");
}

// An argument that is no flag, or -t without -c: nats-server's PrintAndDie, one line on stderr
// naming the program and exit 1, no usage.
TEST(Cli, AStrayArgumentOrACheckWithoutAConfigIsOneLineAndExitOne) {
    for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"extra"}, "unrecognized command: \"extra\""},
             {{"-t"}, "must specify [-c, --config] option to check configuration file syntax"}}) {
        RunResult result = run(args);
        EXPECT_EQ(1, result.status) << message;
        EXPECT_TRUE(result.err.ends_with(": " + message + "\n")) << result.err;
        EXPECT_EQ(result.err.size() - 1, result.err.find('\n')) << result.err;
        EXPECT_EQ(std::string::npos, (result.out + result.err).find("Usage:")) << message;
    }
}

// --- 2. -v / -h ----------------------------------------------------------------------------------

TEST(Cli, VersionPrintsAVersionLineAndExitsZero) {
    for (const char* flag : {"-v", "--version"}) {
        RunResult result = run({flag});
        EXPECT_EQ(0, result.status) << flag;
        std::string first = result.out.substr(0, result.out.find('\n'));
        // "nats-server: v2.9.10" / "ringtail: v0.1.0 (nats-server compatible: v2.9.10)"
        EXPECT_NE(std::string::npos, first.find(": v")) << flag << ": " << result.out;
        EXPECT_EQ(std::string::npos, result.out.find("Usage:")) << flag;
        EXPECT_EQ("", result.err) << flag;
    }
}

TEST(Cli, HelpPrintsUsageAndExitsZero) {
    for (const char* flag : {"-h", "--help"}) {
        RunResult result = run({flag});
        EXPECT_EQ(0, result.status) << flag;
        EXPECT_NE(std::string::npos, result.out.find("Usage:")) << flag << ": " << result.out;
        EXPECT_NE(std::string::npos, result.out.find("--ports_file_dir")) << flag;
        EXPECT_EQ("", result.err) << flag;
    }
}

// --- 3. -l, -P, --ports_file_dir, -n -------------------------------------------------------------

TEST(Cli, LogFileReceivesTheLog) {
    TempDir dir;
    std::string log_path = dir.file("server.log");
    auto server = ServerProcess::start_under_test({"-l", log_path});
    ASSERT_NE(server, nullptr);
    auto deadline = Clock::now() + 3s;
    while (read_text(log_path).find("Server is ready") == std::string::npos &&
           Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    std::string log = read_text(log_path);
    EXPECT_NE(std::string::npos, log.find("Server is ready")) << log;
    EXPECT_NE(std::string::npos, log.find("Listening for client connections on 127.0.0.1:" +
                                          std::to_string(server->port())))
        << log;
    EXPECT_EQ(std::string::npos, server->log().find("Server is ready")) << server->log();
}

TEST(Cli, PidFileHoldsThePidWhileRunning) {
    TempDir dir;
    std::string pid_path = dir.file("server.pid");
    auto server = ServerProcess::start_under_test({"-P", pid_path});
    ASSERT_NE(server, nullptr);
    std::string text = read_text(pid_path);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    EXPECT_EQ(std::to_string(server->pid()), text);
    EXPECT_TRUE(server->running());
}

TEST(Cli, PortsFileNamesThePortWhileRunning) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    std::string expected_name = std::string(testing_ringtail() ? "ringtail" : "nats-server") + "_" +
                                std::to_string(server->pid()) + ".ports";
    std::string ports_path = server->temp_path("ports") + "/" + expected_name;
    std::string text = read_text(ports_path);
    EXPECT_NE(std::string::npos,
              text.find("\"nats://127.0.0.1:" + std::to_string(server->port()) + "\""))
        << ports_path << ": " << text;
    EXPECT_EQ(0, server->stop(SIGINT));
    EXPECT_FALSE(fs::exists(ports_path)) << "ports file left behind after shutdown";
}

TEST(Cli, ServerNameFlagSetsInfoServerName) {
    for (const char* flag : {"-n", "--name", "--server_name"}) {
        auto server = ServerProcess::start_under_test({flag, "rt-named"});
        ASSERT_NE(server, nullptr) << flag;
        EXPECT_NE(std::string::npos, info_line(server->port()).find("\"server_name\":\"rt-named\""))
            << flag;
    }
}

// --- 4. Flag spellings ---------------------------------------------------------------------------

// Binds a second loopback address (the whole of 127/8 is local on Linux): the listener must be
// there and not on 127.0.0.1, which ServerProcess passed first with -a.
void expect_listening_only_on(const ServerProcess& server, const char* ip) {
    EXPECT_TRUE(first_line_from(ip, server.port()).starts_with("INFO ")) << ip;
    EXPECT_EQ("", first_line_from("127.0.0.1", server.port())) << "still on 127.0.0.1";
    EXPECT_TRUE(log_shows(server, std::string("Listening for client connections on ") + ip + ":" +
                                      std::to_string(server.port())))
        << server.log();
}

TEST(Cli, HostFlagSpellings) {
    const std::array<std::array<const char*, 2>, 3> cases = {{
        {"-a", "127.0.0.2"},
        {"--addr", "127.0.0.3"},
        {"--net", "127.0.0.4"},
    }};
    for (const auto& [flag, ip] : cases) {
        SCOPED_TRACE(flag);
        auto server = ServerProcess::start_under_test({flag, ip});
        ASSERT_NE(server, nullptr);
        expect_listening_only_on(*server, ip);
    }
}

// Any address takes IPv4 and IPv6 clients on one port, as Go's listener does for nats-server,
// and the ports file lists the addresses of every interface.
TEST(Cli, AnyAddressListensOnIPv4AndIPv6) {
    if (!fs::exists("/proc/net/if_inet6") || read_text("/proc/net/if_inet6").find(" lo") == std::string::npos) {
        GTEST_SKIP() << "no IPv6 loopback";
    }
    auto server = ServerProcess::start_under_test({"-a", "0.0.0.0", "-m", "-1"});
    ASSERT_NE(server, nullptr);
    EXPECT_TRUE(first_line_from("127.0.0.1", server->port()).starts_with("INFO ")) << server->log();
    EXPECT_TRUE(first_line_from("::1", server->port()).starts_with("INFO ")) << server->log();
    // Both URLs work for a client.
    for (std::string url : {"nats://127.0.0.1:", "nats://[::1]:"}) {
        natsConnection* nc = nullptr;
        EXPECT_EQ(natsConnection_ConnectTo(&nc, (url + std::to_string(server->port())).c_str()), NATS_OK) << url;
        natsConnection_Destroy(nc);
    }
    std::string ports_path = server->temp_path("ports") + "/" +
                             (testing_ringtail() ? "ringtail" : "nats-server") + "_" + std::to_string(server->pid()) +
                             ".ports";
    std::string text = read_text(ports_path);
    std::string port = std::to_string(server->port());
    EXPECT_NE(text.find("\"nats://127.0.0.1:" + port + "\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"nats://[::1]:" + port + "\""), std::string::npos) << text;
    EXPECT_LT(text.find("\"nats\""), text.find("\"monitoring\"")) << text;
    EXPECT_NE(text.find("\"http://[::1]:" + std::to_string(server->monitor_port()) + "\""), std::string::npos) << text;
}

TEST(Cli, EqualsStyleValues) {
    TempDir store;
    auto server = ServerProcess::start_under_test(
        {"-a=127.0.0.5", "--name=rt-equals", "-sd=" + store.path(), "-DV=false"});
    ASSERT_NE(server, nullptr);
    expect_listening_only_on(*server, "127.0.0.5");
    EXPECT_NE(std::string::npos,
              first_line_from("127.0.0.5", server->port()).find("\"server_name\":\"rt-equals\""));
}

TEST(Cli, PortMinusOnePicksARandomFreePort) {
    auto first = ServerProcess::start_under_test({"-p", "-1"});
    auto second = ServerProcess::start_under_test({"--port=-1"});
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    EXPECT_NE(4222, first->port());
    EXPECT_NE(first->port(), second->port());
    EXPECT_TRUE(info_line(first->port()).starts_with("INFO "));
    EXPECT_TRUE(info_line(second->port()).starts_with("INFO "));
}

TEST(Cli, DebugTraceFlagStartsAndTraces) {
    auto server = ServerProcess::start_under_test({"-DV"});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    EXPECT_TRUE(log_shows(*server, "[DBG]")) << server->log();
    EXPECT_TRUE(log_shows(*server, "[TRC]")) << server->log();
    EXPECT_TRUE(log_shows(*server, "<<- [PING]")) << server->log();
}

// After its CONNECT a client's log lines carry its version, language and name, as
// nats-server's do, so an operator can tell whose line it is.
TEST(Cli, LogLinesNameTheClientAfterItsConnect) {
    auto server = ServerProcess::start_under_test({"-DV"});
    ASSERT_NE(server, nullptr);
    struct Case {
        const char* connect;
        const char* shown;  // between "cid:N - " and " - <<- [PING]"
    };
    for (const Case& c : {Case{R"({"verbose":false,"version":"1.2.3","lang":"go","name":"my \"app\""})",
                               R"("v1.2.3:go:my \"app\"")"},
                          Case{R"({"verbose":false,"name":"only-name"})", R"("only-name")"}}) {
        SCOPED_TRACE(c.connect);
        RawClient raw;
        ASSERT_TRUE(raw.connect(server->port()));
        ASSERT_TRUE(raw.read_info());
        ASSERT_TRUE(raw.send("CONNECT " + std::string(c.connect) + "\r\nPING\r\n"));
        ASSERT_TRUE(raw.read_until("PONG\r\n"));
        EXPECT_TRUE(log_shows(*server, std::string(" - ") + c.shown + " - <<- [PING]")) << server->log();
    }
    // Nothing named: the line stays "ip:port - cid:N - <<- [PING]".
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    auto unnamed_pings = [&] {
        std::string log = server->log();
        size_t count = 0;
        for (size_t at = log.find(" - <<- [PING]"); at != std::string::npos; at = log.find(" - <<- [PING]", at + 1)) {
            size_t line = log.rfind('\n', at);
            if (log.substr(line, at - line).find('"') == std::string::npos) ++count;
        }
        return count;
    };
    auto deadline = Clock::now() + 3s;
    while (unnamed_pings() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
    EXPECT_EQ(1u, unnamed_pings()) << server->log();
}

TEST(Cli, TraceShowsPayloadsQuotedAndCutAtMaxTracedMsgLen) {
    TempFile config(".conf", "max_traced_msg_len: 5\n");
    for (bool limited : {false, true}) {
        SCOPED_TRACE(limited);
        std::vector<std::string> args = {"-V"};
        if (limited) args.insert(args.end(), {"-c", config.path()});
        auto server = ServerProcess::start_under_test(args);
        ASSERT_NE(server, nullptr);
        RawClient raw;
        ASSERT_TRUE(raw.connect(server->port()));
        ASSERT_TRUE(raw.read_info());
        ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nPUB x 19\r\nhello world payload\r\n"
                             "HPUB y 18 20\r\nNATS/1.0\r\nA: b\r\n\r\nhi\r\nPUB z 5\r\na\tb\x7f\x01\r\nPING\r\n"));
        ASSERT_TRUE(raw.read_until("PONG\r\n"));
        // As nats-server writes them (Go's %q of headers and payload).
        for (const char* line : {limited ? R"(<<- MSG_PAYLOAD: ["hello..."])" : R"(<<- MSG_PAYLOAD: ["hello world payload"])",
                                 limited ? R"(<<- MSG_PAYLOAD: ["NATS/..."])" : R"(<<- MSG_PAYLOAD: ["NATS/1.0\r\nA: b\r\n\r\nhi"])",
                                 R"(<<- MSG_PAYLOAD: ["a\tb\x7f\x01"])"}) {
            EXPECT_TRUE(log_shows(*server, line)) << line << "\n" << server->log();
        }
    }
}

// --- 5. Config files -----------------------------------------------------------------------------

TEST(Cli, ConfigListenIsHonoured) {
    int port = free_port();
    ASSERT_GT(port, 0);
    TempFile config(".conf", "listen: 127.0.0.1:" + std::to_string(port) + "\n");
    Child child;
    std::vector<std::string> args = default_shards();
    args.insert(args.end(), {"-c", config.path(), "--ports_file_dir", child.ports_dir()});
    ASSERT_TRUE(child.start(args));
    EXPECT_EQ(port, child.wait_port()) << child.out() << child.err();
    EXPECT_TRUE(info_line(port).starts_with("INFO ")) << child.out() << child.err();
}

TEST(Cli, FlagOverridesConfigFile) {
    int config_port = free_port();
    int flag_port = free_port();
    // The kernel may hand out the same free port twice in a row.
    for (int i = 0; i < 20 && flag_port == config_port; ++i) flag_port = free_port();
    ASSERT_GT(config_port, 0);
    ASSERT_GT(flag_port, 0);
    ASSERT_NE(config_port, flag_port);
    TempFile config(".conf", "listen: 127.0.0.1:" + std::to_string(config_port) +
                                 "\nserver_name: from-config\n");
    Child child;
    std::vector<std::string> args = default_shards();
    args.insert(args.end(), {"-c", config.path(), "-p", std::to_string(flag_port), "--name",
                             "from-flag", "--ports_file_dir", child.ports_dir()});
    ASSERT_TRUE(child.start(args));
    ASSERT_EQ(flag_port, child.wait_port()) << child.out() << child.err();
    EXPECT_NE(std::string::npos, info_line(flag_port).find("\"server_name\":\"from-flag\""));
    EXPECT_EQ("", info_line(config_port)) << "also listening on the config file's port";
}

TEST(Cli, ConfigSyntaxErrorExitsNonZeroNamingTheProblem) {
    TempFile config(".conf", "listen: 127.0.0.1:4222\nfoo {\n  bar: [1, \n");
    Child child;
    ASSERT_TRUE(child.start({"-c", config.path()}));
    std::optional<int> status = child.wait_exit(5s);
    ASSERT_TRUE(status.has_value()) << "server started despite the syntax error";
    EXPECT_NE(0, *status);
    std::string output = child.out() + child.err();
    if (testing_ringtail()) {
        // "<file>:4:1: unexpected EOF processing array"
        EXPECT_NE(std::string::npos, output.find(config.path() + ":4:")) << output;
    } else {
        // nats-server 2.9.10 names only the line for lexer errors: "Parse error on line 4: ..."
        EXPECT_NE(std::string::npos, output.find("line 4")) << output;
    }
    EXPECT_EQ(std::string::npos, output.find("Server is ready")) << output;
}

TEST(Cli, CheckConfigSaysValidOrFailsOnAWarning) {
    TempFile good(".conf", "max_payload: 2048\nlog_file: \"/nonexistent-dir/x.log\"\n");
    Child valid;
    ASSERT_TRUE(valid.start({"-t", "-c", good.path()}));
    std::optional<int> status = valid.wait_exit(5s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(0, *status) << valid.err();  // the log file is not opened to check the config
    EXPECT_NE(std::string::npos, valid.err().find("configuration file " + good.path() + " is valid")) << valid.err();
    // A warning fails the check, as with nats-server's -t (a start goes on with it).
    TempFile warned(".conf", "ping_interval: 90\n");
    Child check;
    ASSERT_TRUE(check.start({"-t", "-c", warned.path()}));
    status = check.wait_exit(5s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(1, *status);
    EXPECT_NE(std::string::npos, check.err().find("ping_interval should be converted to a duration")) << check.err();
}

TEST(Cli, ConfigValueErrorExitsNonZeroNamingTheFile) {
    TempFile config(".conf", "max_payload: \"abc\"\n");
    Child child;
    ASSERT_TRUE(child.start({"-c", config.path()}));
    std::optional<int> status = child.wait_exit(5s);
    ASSERT_TRUE(status.has_value()) << "server started despite the bad value";
    EXPECT_NE(0, *status);
    std::string output = child.out() + child.err();
    EXPECT_NE(std::string::npos, output.find(config.path() + ":1:")) << output;
}

// Bad accounts and permissions: each server exits 1 naming the problem as nats-server names it.
TEST(Cli, BadAccountsAndPermissionsExitOneWithNatsServersMessage) {
    const std::pair<const char*, const char*> cases[] = {
        {"authorization { users: [ { user: u, password: p, permissions: { publish: \"a..b\" } } ] }\n",
         "subject \"a..b\" is not a valid subject"},
        {"authorization { users: [ { user: u, password: p, permissions: { subscribe: { allow: a, nope: b } } } ] }\n",
         "Unknown field name \"nope\" parsing subject permissions, only 'allow' or 'deny' are permitted"},
        {"accounts {\n"
         "  A: { exports: [ { service: \"x.>\" } ], imports: [ { service: { account: B, subject: \"y.>\" }, to: \"x.>\" } ] }\n"
         "  B: { exports: [ { service: \"y.>\" } ], imports: [ { service: { account: A, subject: \"x.>\" }, to: \"y.>\" } ] }\n}\n",
         "import forms a cycle"},
        {"accounts {\n  A: { exports: [ { service: \"svc.>\" } ] }\n"
         "  B: { imports: [ { service: { account: A, subject: \"other\" } } ] }\n}\n",
         "Error adding service import \"other\": service import not authorized"},
        {"accounts { A: { users: [ { user: u, password: p, account: B } ] }, B: {} }\n", "unknown field \"account\""},
        {"authorization { users: [ { user: u, password: p, allowed_connection_types: [TELNET] } ] }\n",
         "invalid connection types [\"TELNET\"]"},
    };
    for (const auto& [text, message] : cases) {
        TempFile config(".conf", text);
        RunResult result = run({"-c", config.path()});
        EXPECT_EQ(result.status, 1) << text;
        std::string output = result.out + result.err;
        EXPECT_NE(output.find(message), std::string::npos) << text << "\n" << output;
        EXPECT_EQ(output.find("Server is ready"), std::string::npos) << output;
    }
}

// Accounts whose JetStream limits together exceed the server's: neither server starts.
TEST(Cli, AccountLimitsBeyondTheServersStopTheStart) {
    TempDir store;
    const std::pair<std::string, const char*> cases[] = {
        {"jetstream { store_dir: \"" + store.path() + "\", max_mem: 2M, max_file: 20M }\n"
         "accounts { A: { jetstream: { max_mem: 5M, max_file: 10M }, users: [ { user: a, password: a } ] } }\n",
         "insufficient memory resources available (10028)"},
        {"jetstream { store_dir: \"" + store.path() + "\", max_mem: 2M, max_file: 20M }\n"
         "accounts {\n  A: { jetstream: { max_mem: 1M, max_file: 15M }, users: [ { user: a, password: a } ] }\n"
         "  B: { jetstream: { max_mem: 1M, max_file: 15M }, users: [ { user: b, password: b } ] }\n}\n",
         "insufficient storage resources available (10047)"},
    };
    for (const auto& [text, message] : cases) {
        TempFile config(".conf", text);
        RunResult result = run({"-c", config.path(), "-p", "-1"});
        EXPECT_EQ(result.status, 1) << text;
        std::string output = result.out + result.err;
        EXPECT_NE(output.find(std::string("Can't start JetStream: Error enabling jetstream on configured accounts: ") +
                              message),
                  std::string::npos)
            << text << "\n" << output;
    }
}

// Logging to the local syslog with no daemon listening would lose every line: both servers stop.
TEST(Cli, SyslogWithoutALocalDaemonStops) {
    for (const char* path : {"/dev/log", "/var/run/syslog", "/var/run/log"}) {
        if (fs::is_socket(path)) GTEST_SKIP() << path << " is a socket: a syslog daemon may be listening";
    }
    RunResult result = run({"--syslog", "-p", "-1"});
    EXPECT_EQ(result.status, 1);
    std::string output = result.out + result.err;
    EXPECT_NE(output.find("error connecting to syslog: \"Unix syslog delivery error\""), std::string::npos) << output;
    EXPECT_EQ(output.find("Server is ready"), std::string::npos) << output;
}

TEST(Cli, MissingConfigFileExitsNonZero) {
    TempDir dir;
    std::string missing = dir.file("missing.conf");
    Child child;
    ASSERT_TRUE(child.start({"-c", missing}));
    std::optional<int> status = child.wait_exit(5s);
    ASSERT_TRUE(status.has_value()) << "server started without its config file";
    EXPECT_NE(0, *status);
    EXPECT_NE(std::string::npos, (child.out() + child.err()).find(missing))
        << child.out() << child.err();
}

// --- 11. Ringtail's --shards and --cpus ----------------------------------------------------------

// --- Exclusive ports and store directories -------------------------------------------------------

// A port has one server. Ringtail's shards share it with SO_REUSEPORT, which alone would let a
// second Ringtail bind it too and take half of the new connections; it must stop instead, with
// nats-server's fatal error.
TEST(Cli, ASecondServerOnAPortInUseStopsWithTheListenError) {
    auto first = ServerProcess::start_under_test();
    ASSERT_NE(first, nullptr);
    std::string port = std::to_string(first->port());
    RunResult second = run({"-a", "127.0.0.1", "-p", port});
    EXPECT_EQ(1, second.status) << second.err;
    std::string expected = "[FTL] Error listening on port: 127.0.0.1:" + port + ", \"listen tcp 127.0.0.1:" + port +
                           ": bind: address already in use\"";
    EXPECT_NE(std::string::npos, (second.out + second.err).find(expected)) << second.out << second.err;
    // Every new connection still reaches the first server.
    std::string first_id = info_line(first->port());
    ASSERT_NE(std::string::npos, first_id.find("server_id"));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(first_id.substr(0, 70), info_line(first->port()).substr(0, 70));
}

TEST(CliRingtail, RingtailAndNatsServerDoNotShareAPort) {
    if (!testing_ringtail()) GTEST_SKIP() << "ringtail against nats-server";
    auto nats = ServerProcess::start(nats_server_binary());
    ASSERT_NE(nats, nullptr);
    RunResult ringtail = run({"-a", "127.0.0.1", "-p", std::to_string(nats->port())});
    EXPECT_EQ(1, ringtail.status) << ringtail.err;
    EXPECT_NE(std::string::npos, ringtail.err.find("bind: address already in use")) << ringtail.err;

    auto ours = ServerProcess::start_under_test();
    ASSERT_NE(ours, nullptr);
    Child theirs;
    ASSERT_TRUE(theirs.start({"-a", "127.0.0.1", "-p", std::to_string(ours->port())}, nats_server_binary()));
    EXPECT_EQ(1, theirs.wait_exit(5s).value_or(-1)) << theirs.err();
}

// Once a server is told to stop, its port refuses new connections at once, while it still
// drains the ones it has; it never accepts a connection only to reset it.
TEST(Cli, AStoppingServerRefusesNewConnections) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    // A subscriber that does not read keeps the server draining for a while.
    RawClient stuck;
    ASSERT_TRUE(stuck.connect(server->port()));
    ASSERT_TRUE(stuck.read_info());
    ASSERT_TRUE(stuck.send("CONNECT {\"verbose\":false}\r\nSUB flood 1\r\nPING\r\n"));
    ASSERT_TRUE(stuck.read_until("PONG\r\n"));
    RawClient publisher;
    ASSERT_TRUE(publisher.connect(server->port()));
    ASSERT_TRUE(publisher.read_info());
    std::string payload(32 * 1024, 'x');
    std::string batch = "CONNECT {\"verbose\":false}\r\n";
    for (int i = 0; i < 256; ++i) batch += "PUB flood " + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
    batch += "PING\r\n";
    ASSERT_TRUE(publisher.send(batch));
    ASSERT_TRUE(publisher.read_until("PONG\r\n", 10s));
    ASSERT_EQ(0, kill(server->pid(), SIGTERM));
    ASSERT_TRUE(log_shows(*server, "Initiating Shutdown...") || !server->running()) << server->log();
    for (int attempt = 0; attempt < 20; ++attempt) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<uint16_t>(server->port()));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
        int error = errno;
        close(fd);
        EXPECT_NE(0, rc) << "attempt " << attempt << ": a stopping server accepted a connection";
        if (rc != 0) {
            EXPECT_EQ(ECONNREFUSED, error) << std::strerror(error);
        }
        std::this_thread::sleep_for(10ms);
    }
}

TEST(CliRingtail, TwoServersCannotShareAJetStreamStore) {
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server 2.9 does not lock its store directory";
    TempDir store;
    auto first = ServerProcess::start_under_test({"-js", "-sd", store.path()});
    ASSERT_NE(first, nullptr);
    RunResult second = run({"-a", "127.0.0.1", "-p", "-1", "-js", "-sd", store.path()});
    EXPECT_EQ(1, second.status) << second.err;
    EXPECT_NE(std::string::npos,
              second.err.find("JetStream store directory \"" + store.path() + "/jetstream\" is in use by another server"))
        << second.err;
    // The first one still works, its store untouched.
    ConnectionPtr client = connect(first->url());
    ASSERT_TRUE(client);
    EXPECT_EQ(NATS_OK, natsConnection_Flush(client.get()));
}

TEST(CliRingtail, ThreeShardsServePubSubAcrossConnections) {
    if (!testing_ringtail()) GTEST_SKIP() << "ringtail-only flag";
    constexpr int kShards = 3;
    auto server = ServerProcess::start(ringtail_binary(), {"--shards", "3"});
    ASSERT_NE(server, nullptr);
    EXPECT_TRUE(log_shows(*server, "Shards:   3")) << server->log();

    // One connection per shard: client ids encode the shard as (id - 1) % shards.
    std::array<ConnectionPtr, kShards> connections;
    for (int attempt = 0; attempt < 64; ++attempt) {
        ConnectionPtr connection = connect(server->url());
        ASSERT_TRUE(connection);
        uint64_t id = 0;
        ASSERT_EQ(NATS_OK, natsConnection_GetClientID(connection.get(), &id));
        auto shard = static_cast<size_t>((id - 1) % kShards);
        if (!connections[shard]) connections[shard] = std::move(connection);
    }
    std::vector<SubscriptionPtr> subs;
    std::string subject = fresh_subject("shards3");
    for (const ConnectionPtr& connection : connections) {
        ASSERT_TRUE(connection) << "no connection landed on some shard in 64 tries";
        subs.push_back(subscribe_sync(connection.get(), subject));
        ASSERT_TRUE(subs.back());
        ASSERT_EQ(NATS_OK, natsConnection_Flush(connection.get()));
    }
    for (int from = 0; from < kShards; ++from) {
        std::string data = "from-" + std::to_string(from);
        ASSERT_EQ(NATS_OK,
                  natsConnection_PublishString(connections[static_cast<size_t>(from)].get(),
                                               subject.c_str(), data.c_str()));
    }
    for (int to = 0; to < kShards; ++to) {
        std::vector<std::string> got;
        for (int i = 0; i < kShards; ++i) {
            MsgPtr msg = next_msg(subs[static_cast<size_t>(to)].get(), 5s);
            ASSERT_TRUE(msg) << "subscriber on shard " << to << " got " << got.size();
            got.emplace_back(msg_data(msg.get()));
        }
        std::sort(got.begin(), got.end());
        EXPECT_EQ((std::vector<std::string>{"from-0", "from-1", "from-2"}), got);
        EXPECT_TRUE(no_more_msgs(subs[static_cast<size_t>(to)].get(), 100ms));
    }
}

TEST(CliRingtail, TwoShardsOnOneCpuStart) {
    if (!testing_ringtail()) GTEST_SKIP() << "ringtail-only flag";
    auto server = ServerProcess::start(ringtail_binary(), {"--cpus", "0", "--shards", "2"});
    ASSERT_NE(server, nullptr);
    EXPECT_TRUE(log_shows(*server, "Shards:   2")) << server->log();
    ConnectionPtr client = connect(server->url());
    ASSERT_TRUE(client);
    std::string subject = fresh_subject("cpus0");
    SubscriptionPtr sub = subscribe_sync(client.get(), subject);
    ASSERT_TRUE(sub);
    ASSERT_EQ(NATS_OK, natsConnection_PublishString(client.get(), subject.c_str(), "x"));
    EXPECT_TRUE(next_msg(sub.get(), 5s));
    EXPECT_EQ(0, server->stop(SIGTERM));
}

TEST(CliRingtail, BadShardsOrCpusFailWithAMessage) {
    if (!testing_ringtail()) GTEST_SKIP() << "ringtail-only flags";
    const std::array<std::array<const char*, 3>, 5> cases = {{
        {"--shards", "-1",
         "invalid value \"-1\" for flag -shards: shard count must be between 0 and 1024"},
        {"--shards", "1025",
         "invalid value \"1025\" for flag -shards: shard count must be between 0 and 1024"},
        {"--shards", "two", "invalid value \"two\" for flag -shards: parse error"},
        {"--cpus", "x", "invalid value \"x\" for flag -cpus: \"x\" is not a CPU number"},
        {"--cpus", "", "invalid value \"\" for flag -cpus: empty CPU list"},
    }};
    for (const auto& [flag, value, message] : cases) {
        SCOPED_TRACE(std::string(flag) + " '" + value + "'");
        RunResult result = run({"-a", "127.0.0.1", "-p", "-1", flag, value});
        EXPECT_EQ(2, result.status);
        EXPECT_TRUE(result.err.starts_with(std::string(message) + "\n")) << result.err;
        EXPECT_EQ(std::string::npos, (result.out + result.err).find("Server is ready"));
    }
}

TEST(Cli, BusyMonitorPortStopsTheServer) {
    int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ASSERT_EQ(0, bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof(address)));
    ASSERT_EQ(0, listen(holder, 4));
    ASSERT_EQ(0, getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length));
    std::string port = std::to_string(ntohs(address.sin_port));
    RunResult result = run({"-a", "127.0.0.1", "-p", "-1", "-m", port});
    close(holder);
    EXPECT_EQ(1, result.status);
    std::string expected = "[FTL] Can't start monitoring: can't listen to the monitor port: listen tcp 127.0.0.1:" +
                           port + ": bind: address already in use";
    EXPECT_NE(std::string::npos, (result.out + result.err).find(expected)) << result.out << result.err;
}

// Blocks of features this version lacks that ask nothing of them (empty, or a listener on port
// 0) start the server as they start nats-server; one that asks for the feature is refused by
// name before the server starts.
TEST(Cli, ABlockThatConfiguresNothingStartsTheServer) {
    TempFile config(".conf", "leafnodes {}\nwebsocket {}\nmqtt { port: 0 }\ncluster { port: 0 }\nprof_port: 0\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    EXPECT_NE(connect(server->url()), nullptr);
}

TEST(CliRingtail, ABlockThatAsksForAMissingFeatureIsRefused) {
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server has leaf nodes";
    TempFile config(".conf", "leafnodes { port: 7422 }\n");
    RunResult result = run({"-a", "127.0.0.1", "-p", "-1", "-c", config.path()});
    EXPECT_EQ(1, result.status);
    EXPECT_NE(std::string::npos, (result.out + result.err).find("not supported by this ringtail version: leafnodes"))
        << result.out << result.err;
}

TEST(CliRingtail, HttpsMonitoringIsRefusedUntilThereIsTls) {
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server serves HTTPS monitoring";
    RunResult result = run({"-a", "127.0.0.1", "-p", "-1", "-ms", "8443"});
    EXPECT_EQ(1, result.status);
    EXPECT_NE(std::string::npos, (result.out + result.err).find("HTTPS monitoring")) << result.err;
    EXPECT_EQ(std::string::npos, (result.out + result.err).find("Server is ready"));
}

}  // namespace
}  // namespace ringtail::test
