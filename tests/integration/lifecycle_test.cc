// Process lifecycle: startup log lines, clean exit on signals, and the port being reusable at once.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;

// Ringtail exits 0 on SIGTERM. nats-server 2.9.10 races os.Exit(1) in its SIGTERM handler against
// main() returning after shutdown, so it exits 1 or (less often) 0; both are accepted for it.
void expect_clean_sigterm_status(int status) {
    if (testing_ringtail()) {
        EXPECT_EQ(0, status);
    } else {
        EXPECT_TRUE(status == 0 || status == 1) << "status " << status;
    }
}

void expect_startup_lines(const ServerProcess& server) {
    // The ports file, which start_under_test waits for, may come before the last lines do
    // (nats-server writes it before "Server is ready").
    std::string log = server.log();
    for (auto deadline = std::chrono::steady_clock::now() + 5s;
         log.find("Server is ready") == std::string::npos && std::chrono::steady_clock::now() < deadline;
         log = server.log()) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_NE(std::string::npos, log.find("Server is ready")) << log;
    EXPECT_NE(std::string::npos, log.find("Listening for client connections on 127.0.0.1:" +
                                          std::to_string(server.port())))
        << log;
}

TEST(Lifecycle, SigtermWithConnectedClientsShutsDownCleanly) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    expect_startup_lines(*server);
    ConnectionPtr client = connect(server->url());
    ASSERT_TRUE(client);
    SubscriptionPtr sub = subscribe_sync(client.get(), "lifecycle");
    ASSERT_TRUE(sub);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(client.get()));
    expect_clean_sigterm_status(server->stop(SIGTERM));
    EXPECT_FALSE(server->running());
}

// With debug logging each signal the server takes is named as Go names it.
// A SIGTERM that comes while the server is still starting (here, at delays up to 60 ms after
// the exec, the monitoring port among what it starts) stops it all the same. Before, one that
// came before the monitoring listener's thread was up was lost on it, and the server never
// exited.
TEST(Lifecycle, SigtermWhileStartingStopsTheServer) {
    std::string binary = testing_ringtail() ? ringtail_binary() : nats_server_binary();
    int hung = 0;
    for (int round = 0; round < 2; ++round) {
        for (int delay_ms = 0; delay_ms < 60; delay_ms += 3) {
            pid_t pid = ::fork();
            ASSERT_GE(pid, 0);
            if (pid == 0) {
                int null = ::open("/dev/null", O_WRONLY);
                ::dup2(null, 1);
                ::dup2(null, 2);
                ::execl(binary.c_str(), binary.c_str(), "-a", "127.0.0.1", "-p", "-1", "-m", "-1", nullptr);
                ::_exit(127);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
            ::kill(pid, SIGTERM);
            bool exited = false;
            for (auto deadline = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < deadline;) {
                if (::waitpid(pid, nullptr, WNOHANG) == pid) {
                    exited = true;
                    break;
                }
                std::this_thread::sleep_for(5ms);
            }
            if (!exited) {
                ++hung;
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
        }
    }
    EXPECT_EQ(hung, 0) << "of 40 starts, stopped by SIGTERM after 0 to 60 ms";
}

TEST(Lifecycle, DebugLogNamesEachTrappedSignal) {
    auto server = ServerProcess::start_under_test({"-D"});
    ASSERT_NE(server, nullptr);
    for (int signal_number : {SIGHUP, SIGUSR1}) ASSERT_EQ(0, ::kill(server->pid(), signal_number));
    for (const char* line : {"Trapped \"hangup\" signal", "Trapped \"user defined signal 1\" signal"}) {
        bool seen = false;
        for (auto deadline = std::chrono::steady_clock::now() + 5s; !seen && std::chrono::steady_clock::now() < deadline;) {
            seen = server->log().find(line) != std::string::npos;
            if (!seen) std::this_thread::sleep_for(20ms);
        }
        EXPECT_TRUE(seen) << line << "\n" << server->log();
    }
}

TEST(Lifecycle, SigintShutsDownWithStatusZero) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    expect_startup_lines(*server);
    ConnectionPtr client = connect(server->url());
    ASSERT_TRUE(client);
    EXPECT_EQ(0, server->stop(SIGINT)) << server->log();
}

TEST(Lifecycle, PortIsReusableImmediatelyAfterShutdown) {
    auto first = ServerProcess::start_under_test();
    ASSERT_NE(first, nullptr);
    const int port = first->port();
    {
        // Live connections at shutdown leave server-side sockets in TIME_WAIT; the listener must
        // still be rebindable (SO_REUSEADDR).
        ConnectionPtr client = connect(first->url());
        ASSERT_TRUE(client);
        RawClient raw;
        ASSERT_TRUE(raw.connect(port));
        ASSERT_TRUE(raw.read_info());
        ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
        ASSERT_TRUE(raw.read_until("PONG\r\n"));
        expect_clean_sigterm_status(first->stop(SIGTERM));
        EXPECT_TRUE(raw.wait_closed(2s));
    }

    auto second = ServerProcess::start_under_test({}, port);
    ASSERT_NE(second, nullptr) << "could not rebind port " << port;
    EXPECT_EQ(port, second->port());
    expect_startup_lines(*second);
    ConnectionPtr client = connect(second->url());
    ASSERT_TRUE(client);
    EXPECT_EQ(NATS_OK, natsConnection_Flush(client.get()));
}

TEST(Lifecycle, StopIsIdempotentAndReportsTheSameStatus) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    int status = server->stop(SIGINT);
    EXPECT_EQ(0, status);
    EXPECT_EQ(status, server->stop(SIGINT));
}

}  // namespace
}  // namespace ringtail::test
