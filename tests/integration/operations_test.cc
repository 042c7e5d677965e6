// Running the server as an operator does: reloading the config (SIGHUP), reopening and rotating
// the log, lame duck mode moving clients to another server, --signal, and remote syslog. Every
// test runs against the server under test (RT_TEST_SERVER), so each also holds for nats-server.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nats/nats.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string binary() { return testing_ringtail() ? ringtail_binary() : nats_server_binary(); }

std::vector<std::string> with_shards(std::vector<std::string> args) {
    if (testing_ringtail()) args.insert(args.begin(), {"--shards", "2"});
    return args;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

ConnectionPtr connect_as(const std::string& url, const char* user, const char* password, natsStatus* status = nullptr) {
    OptionsPtr options = make_options(url);
    natsOptions_SetUserInfo(options.get(), user, password);
    return connect_with(options.get(), status);
}

// ---------------------------------------------------------------------------------------------
// SIGHUP

// The reload's lines come in the order of nats-server's options, which always reloads users
// and accounts, changed or not.
TEST(Operations, ReloadSaysWhatChangedInNatsServersOrder) {
    TempFile conf(".conf", "max_payload: 2048\n");
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    ASSERT_NE(server, nullptr);
    write_file(conf.path(), "max_payload: 4096\nping_interval: \"90s\"\ntrace: true\nwrite_deadline: \"3s\"\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    ASSERT_TRUE(eventually([&] { return server->log().find("Reloaded server configuration") != std::string::npos; }));
    std::string log = server->log();
    size_t at = 0;
    for (const char* line : {"Reloaded: trace = true", "Reloaded: authorization users", "Reloaded: accounts",
                             "Reloaded: ping_interval = 1m30s", "Reloaded: max_payload = 4096",
                             "Reloaded: write_deadline = 3s", "Reloaded server configuration"}) {
        size_t found = log.find(line, at);
        EXPECT_NE(found, std::string::npos) << line << ", in order, in\n" << log;
        if (found != std::string::npos) at = found;
    }
}

// nats-server 2.9.10 closes every client when it reloads a config with an authorization block,
// changed or not; Ringtail keeps the ones still allowed.
TEST(Operations, ReloadUnderLoadKeepsTheClientsStillAllowed) {
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server 2.9.10 closes every client on such a reload";
    TempFile conf(".conf", "authorization { user: alice, password: secret }\n");
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    ASSERT_NE(server, nullptr);
    EXPECT_NE(server->log().find("[WRN] Plaintext passwords detected, use nkeys or bcrypt"), std::string::npos)
        << server->log();
    ConnectionPtr subscriber = connect_as(server->url(), "alice", "secret");
    ConnectionPtr publisher = connect_as(server->url(), "alice", "secret");
    ASSERT_TRUE(subscriber && publisher);
    SubscriptionPtr sub = subscribe_sync(subscriber.get(), "load");
    ASSERT_TRUE(sub);
    ASSERT_EQ(natsConnection_FlushTimeout(subscriber.get(), 2000), NATS_OK);

    // A reload that leaves the credentials alone, under load: nobody is dropped, nothing lost.
    std::atomic<bool> publishing{true};
    std::atomic<int> sent{0};
    std::thread load([&] {
        while (publishing) {
            if (natsConnection_PublishString(publisher.get(), "load", "x") == NATS_OK) ++sent;
            if (sent % 100 == 0) std::this_thread::sleep_for(1ms);
        }
    });
    std::this_thread::sleep_for(100ms);
    write_file(conf.path(), "authorization { user: alice, password: secret }\nmax_payload: 4096\ndebug: true\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    ASSERT_TRUE(eventually([&] { return server->log().find("Reloaded server configuration") != std::string::npos; }));
    std::this_thread::sleep_for(100ms);
    publishing = false;
    load.join();
    ASSERT_EQ(natsConnection_FlushTimeout(publisher.get(), 2000), NATS_OK);
    int received = 0;
    while (MsgPtr msg = next_msg(sub.get(), 2s)) {
        if (++received == sent) break;
    }
    EXPECT_EQ(received, sent.load());
    EXPECT_NE(server->log().find("Reloaded: max_payload = 4096"), std::string::npos) << server->log();
    EXPECT_FALSE(natsConnection_IsClosed(subscriber.get()));
    EXPECT_EQ(natsConnection_FlushTimeout(subscriber.get(), 2000), NATS_OK);

}

TEST(Operations, ReloadedPasswordTakesEffect) {
    TempFile conf(".conf", "authorization { user: alice, password: secret }\n");
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    ASSERT_NE(server, nullptr);
    ConnectionPtr subscriber = connect_as(server->url(), "alice", "secret");
    ASSERT_TRUE(subscriber);
    // A new password: the old one no longer gets in, and clients that used it are closed.
    write_file(conf.path(), "authorization { user: alice, password: changed }\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    ASSERT_TRUE(eventually([&] { return server->log().find("Reloaded: authorization password") != std::string::npos; }));
    EXPECT_TRUE(eventually([&] { return natsConnection_IsClosed(subscriber.get()); }));
    natsStatus status = NATS_OK;
    EXPECT_EQ(connect_as(server->url(), "alice", "secret", &status), nullptr);
    ConnectionPtr fresh = connect_as(server->url(), "alice", "changed");
    EXPECT_NE(fresh, nullptr);
}

TEST(Operations, ReloadToABcryptPasswordChecksConnectedClientsAgain) {
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server 2.9.10 closes every client on such a reload";
    // bcrypt (cost 4) of "s3cr3t-password", and of "the-token".
    const std::string same = "$2a$04$abcdefghijklmnopqrstuu2zWLgmO7dnRH9X49UEpIMVV5e9BUBWu";
    const std::string other = "$2a$04$zyxwvutsrqponmlkjihgfeRmRm38x8zcu6Rt3VJigHnq4/oQUAcp6";
    TempFile conf(".conf", "authorization { user: bob, password: s3cr3t-password }\n");
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    ASSERT_NE(server, nullptr);
    ConnectionPtr client = connect_as(server->url(), "bob", "s3cr3t-password");
    ASSERT_TRUE(client);
    write_file(conf.path(), "authorization { user: bob, password: \"" + same + "\" }\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    ASSERT_TRUE(eventually([&] { return server->log().find("Reloaded server configuration") != std::string::npos; }));
    std::this_thread::sleep_for(200ms);  // the bcrypt checks run off the loop
    EXPECT_EQ(natsConnection_FlushTimeout(client.get(), 2000), NATS_OK);
    EXPECT_NE(connect_as(server->url(), "bob", "s3cr3t-password"), nullptr);
    write_file(conf.path(), "authorization { user: bob, password: \"" + other + "\" }\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    EXPECT_TRUE(eventually([&] { return natsConnection_IsClosed(client.get()); }));
    EXPECT_EQ(connect_as(server->url(), "bob", "s3cr3t-password"), nullptr);
}

// client_advertise reloads: a client that connects after the reload is told the new address.
TEST(Operations, ReloadedClientAdvertiseIsWhatNewClientsAreTold) {
    TempFile conf(".conf", "client_advertise: \"first.example:4333\"\n");
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    ASSERT_NE(server, nullptr);
    auto info_of = [&] {
        RawClient raw;
        if (!raw.connect(server->port()) || !raw.read_info()) return nlohmann::json();
        std::string line = raw.received().substr(5, raw.received().find("\r\n") - 5);
        return nlohmann::json::parse(line, nullptr, false);
    };
    nlohmann::json before = info_of();
    EXPECT_EQ(before.value("host", ""), "first.example");
    EXPECT_EQ(before.value("port", 0), 4333);
    write_file(conf.path(), "client_advertise: \"second.example:5444\"\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    ASSERT_TRUE(eventually([&] {
        return server->log().find("Reload: client_advertise = second.example:5444") != std::string::npos;
    })) << server->log();
    nlohmann::json after = info_of();
    EXPECT_EQ(after.value("host", ""), "second.example");
    EXPECT_EQ(after.value("port", 0), 5444);
}

TEST(Operations, ReloadRefusesWhatCannotChangeAndKeepsServing) {
    TempFile conf(".conf", "max_pending: 10MB\n");
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    ASSERT_NE(server, nullptr);
    EXPECT_NE(server->log().find("[INF] Using configuration file: " + conf.path()), std::string::npos) << server->log();
    write_file(conf.path(), "max_pending: 20MB\nmax_payload: 2048\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    std::string expected =
        "[ERR] Failed to reload server configuration: config reload not supported for MaxPending: old=10485760, "
        "new=20971520";
    EXPECT_TRUE(eventually([&] { return server->log().find(expected) != std::string::npos; })) << server->log();
    EXPECT_EQ(server->log().find("Reloaded: max_payload"), std::string::npos);  // nothing applied
    ConnectionPtr nc = connect(server->url());
    EXPECT_NE(nc, nullptr);
}

TEST(Operations, ReloadDropsANoAuthUserOnlyWithItsUser) {
    const std::string users = "authorization { users: [{user: alice, password: a}, {user: guest, password: g}] }\n";
    TempFile conf(".conf", users + "no_auth_user: guest\n");
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    ASSERT_NE(server, nullptr);
    ConnectionPtr anonymous = connect(server->url());
    ASSERT_TRUE(anonymous);
    ConnectionPtr alice = connect_as(server->url(), "alice", "a");
    ASSERT_TRUE(alice);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    // Without no_auth_user but with its user: refused, as nats-server refuses it.
    write_file(conf.path(), users);
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    EXPECT_TRUE(eventually([&] {
        return server->log().find("config reload not supported for NoAuthUser: old=guest, new=") != std::string::npos;
    })) << server->log();
    EXPECT_EQ(natsConnection_FlushTimeout(anonymous.get(), 2000), NATS_OK);
    // Another user's password changed: the clients that came in as guest are still guest.
    write_file(conf.path(), "authorization { users: [{user: alice, password: a2}, {user: guest, password: g}] }\n"
                            "no_auth_user: guest\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    EXPECT_TRUE(eventually([&] { return server->log().find("Reloaded: authorization users") != std::string::npos; }))
        << server->log();
    EXPECT_EQ(natsConnection_FlushTimeout(anonymous.get(), 2000), NATS_OK);
    EXPECT_TRUE(natsConnection_IsClosed(alice.get()) || natsConnection_FlushTimeout(alice.get(), 2000) != NATS_OK);
    alice = connect_as(server->url(), "alice", "a2");
    ASSERT_TRUE(alice);
    // Both gone: applied. The clients that came in as guest are refused, the others stay.
    write_file(conf.path(), "authorization { users: [{user: alice, password: a2}] }\n");
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    EXPECT_TRUE(eventually([&] { return natsConnection_IsClosed(anonymous.get()); })) << server->log();
    // Closed as a client whose user is gone, without an -ERR (nats-server's
    // clientHasMovedToDifferentAccount): it is not an authorization violation.
    EXPECT_TRUE(raw.wait_closed());
    EXPECT_EQ(raw.received().find("-ERR"), std::string::npos) << raw.received();
    EXPECT_EQ(natsConnection_FlushTimeout(alice.get(), 2000), NATS_OK);
    natsStatus status = NATS_OK;
    EXPECT_EQ(connect(server->url(), &status), nullptr);
    EXPECT_NE(connect_as(server->url(), "alice", "a2"), nullptr);
}

TEST(Operations, ReloadWithoutAConfigFileIsAnError) {
    auto server = ServerProcess::start(binary(), with_shards({}));
    ASSERT_NE(server, nullptr);
    ASSERT_EQ(0, kill(server->pid(), SIGHUP));
    EXPECT_TRUE(eventually([&] {
        return server->log().find("can only reload config when a file is provided using -c or --config") !=
               std::string::npos;
    })) << server->log();
    EXPECT_TRUE(server->running());
}

// ---------------------------------------------------------------------------------------------
// The log file

TEST(Operations, Sigusr1ReopensTheLogFile) {
    TempFile place(".txt", "");
    std::string log = (fs::path(place.path()).parent_path() / "server.log").string();
    auto server = ServerProcess::start(binary(), with_shards({"-l", log}));
    ASSERT_NE(server, nullptr);
    ASSERT_TRUE(eventually([&] { return read_file(log).find("Server is ready") != std::string::npos; }));
    fs::rename(log, log + ".old");  // as logrotate does
    ASSERT_EQ(0, kill(server->pid(), SIGUSR1));
    EXPECT_TRUE(eventually([&] { return read_file(log).find("File log re-opened") != std::string::npos; }));
    EXPECT_EQ(read_file(log + ".old").find("File log re-opened"), std::string::npos);
}

TEST(Operations, TheLogRotatesPastItsSizeLimit) {
    TempFile place(".txt", "");
    std::string log = (fs::path(place.path()).parent_path() / "rotating.log").string();
    // logfile_max_num came with nats-server 2.10: Ringtail only.
    std::string keep = testing_ringtail() ? "logfile_max_num: 2\n" : "";
    TempFile conf(".conf", "logfile: \"" + log + "\"\nlogfile_size_limit: 2000\ndebug: true\n" + keep);
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    ASSERT_NE(server, nullptr);
    for (int i = 0; i < 20; ++i) ConnectionPtr nc = connect(server->url());  // debug lines
    auto backups = [&] {
        int count = 0;
        for (const auto& entry : fs::directory_iterator(fs::path(log).parent_path())) {
            if (entry.path().filename().string().starts_with("rotating.log.")) ++count;
        }
        return count;
    };
    EXPECT_TRUE(eventually([&] { return backups() >= 1; })) << read_file(log);
    EXPECT_TRUE(eventually([&] { return read_file(log).find("Rotated log, backup saved as") != std::string::npos; }));
    EXPECT_LT(fs::file_size(log), 2000u + 1000u);
    if (testing_ringtail()) {
        for (int i = 0; i < 40; ++i) ConnectionPtr nc = connect(server->url());
        EXPECT_TRUE(eventually([&] { return backups() == 2; })) << backups();
    }
}

// ---------------------------------------------------------------------------------------------
// Lame duck mode

struct Flags {
    std::atomic<bool> lame_duck{false};
    std::atomic<bool> reconnected{false};
};

void on_lame_duck(natsConnection*, void* closure) { static_cast<Flags*>(closure)->lame_duck = true; }
void on_reconnected(natsConnection*, void* closure) { static_cast<Flags*>(closure)->reconnected = true; }

TEST(Operations, LameDuckModeMovesClientsToAnotherServer) {
    TempFile conf(".conf", "lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"1s\"\n");
    auto leaving = ServerProcess::start(binary(), with_shards({"-c", conf.path()}));
    auto staying = ServerProcess::start(binary(), with_shards({}));
    ASSERT_TRUE(leaving && staying);
    Flags flags;
    OptionsPtr options = make_options(leaving->url());
    std::string urls[] = {leaving->url(), staying->url()};
    const char* servers[] = {urls[0].c_str(), urls[1].c_str()};
    natsOptions_SetServers(options.get(), servers, 2);
    natsOptions_SetNoRandomize(options.get(), true);
    natsOptions_SetAllowReconnect(options.get(), true);
    natsOptions_SetMaxReconnect(options.get(), 10);
    natsOptions_SetReconnectWait(options.get(), 50);
    natsOptions_SetLameDuckModeCB(options.get(), on_lame_duck, &flags);
    natsOptions_SetReconnectedCB(options.get(), on_reconnected, &flags);
    ConnectionPtr nc = connect_with(options.get());
    ASSERT_TRUE(nc);

    ASSERT_EQ(0, kill(leaving->pid(), SIGUSR2));
    EXPECT_TRUE(eventually([&] { return flags.lame_duck.load(); }, 3s));
    // No new clients while it winds down.
    EXPECT_EQ(connect(leaving->url()), nullptr);
    EXPECT_TRUE(eventually([&] { return flags.reconnected.load(); }, 10s));
    char url[256] = {};
    natsConnection_GetConnectedUrl(nc.get(), url, sizeof url);
    EXPECT_NE(std::string(url).find(":" + std::to_string(staying->port())), std::string::npos) << url;
    // Then it stops by itself, cleanly.
    EXPECT_TRUE(eventually([&] { return !leaving->running(); }, 10s));
    EXPECT_EQ(leaving->stop(), 0);
    std::string log = leaving->log();
    EXPECT_NE(log.find("Entering lame duck mode, stop accepting new clients"), std::string::npos) << log;
    EXPECT_NE(log.find("Closing existing clients"), std::string::npos) << log;
    EXPECT_EQ(natsConnection_FlushTimeout(nc.get(), 2000), NATS_OK);
}

// ---------------------------------------------------------------------------------------------
// --signal

struct Ran {
    int status = -1;
    std::string output;
};

Ran run_binary(const std::vector<std::string>& args) {
    std::string command = binary();
    for (const std::string& arg : args) command += " '" + arg + "'";
    command += " 2>&1";
    Ran ran;
    FILE* pipe = popen(command.c_str(), "r");
    char buffer[512];
    while (size_t got = fread(buffer, 1, sizeof buffer, pipe)) ran.output.append(buffer, got);
    int status = pclose(pipe);
    ran.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return ran;
}

TEST(Operations, SignalFlagSignalsTheServerNamedByItsPidFile) {
    TempFile place(".txt", "");
    std::string pid_file = (fs::path(place.path()).parent_path() / "server.pid").string();
    TempFile conf(".conf", "debug: false\n");
    auto server = ServerProcess::start(binary(), with_shards({"-c", conf.path(), "-P", pid_file}));
    ASSERT_NE(server, nullptr);
    std::string exe = fs::path(binary()).filename().string();

    Ran unknown = run_binary({"--signal", "bogus=" + pid_file});
    EXPECT_EQ(unknown.status, 1);
    EXPECT_EQ(unknown.output, exe + ": unknown signal \"bogus\"\n");
    Ran bad_pid = run_binary({"--signal", "quit=not-a-pid"});
    EXPECT_EQ(bad_pid.status, 1);
    EXPECT_EQ(bad_pid.output, exe + ": invalid pid: not-a-pid\n");

    write_file(conf.path(), "debug: true\n");
    Ran reload = run_binary({"--signal", "reload=" + pid_file});
    EXPECT_EQ(reload.status, 0) << reload.output;
    EXPECT_TRUE(eventually([&] { return server->log().find("Reloaded: debug = true") != std::string::npos; }));
    Ran quit = run_binary({"-sl", "quit=" + std::to_string(server->pid())});
    EXPECT_EQ(quit.status, 0) << quit.output;
    EXPECT_TRUE(eventually([&] { return !server->running(); }));
    EXPECT_EQ(server->stop(), 0);
}

// ---------------------------------------------------------------------------------------------
// Remote syslog

TEST(Operations, RemoteSyslogGetsTheLogOverUdp) {
    int receiver = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(receiver, reinterpret_cast<sockaddr*>(&address), sizeof address));
    socklen_t length = sizeof address;
    ASSERT_EQ(0, getsockname(receiver, reinterpret_cast<sockaddr*>(&address), &length));
    timeval timeout{0, 200'000};
    setsockopt(receiver, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string url = "udp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
    auto server = ServerProcess::start(binary(), with_shards({"-r", url}));
    ASSERT_NE(server, nullptr);
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (seen.find("Server is ready") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        char buffer[2048];
        ssize_t got = recv(receiver, buffer, sizeof buffer, 0);
        if (got > 0) seen.append(buffer, static_cast<size_t>(got));
    }
    ::close(receiver);
    EXPECT_NE(seen.find("<5>"), std::string::npos) << seen;  // notice, as nats-server sends info lines
    EXPECT_NE(seen.find("]: Server is ready"), std::string::npos) << seen;
}

}  // namespace
}  // namespace ringtail::test
