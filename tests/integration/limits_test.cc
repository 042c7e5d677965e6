// Server limits set in a config file (max_connections, the authorization timeout,
// max_control_line, max_payload, max_subscriptions) and shutdown on SIGINT/SIGTERM with clients
// connected: the errors nats-server sends, and whether the connection is closed afterwards.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<ServerProcess> start_with_config(const TempFile& config) {
    return ServerProcess::start_under_test({"-c", config.path()});
}

// Reads INFO, sends CONNECT + PING and expects PONG (and no error).
void handshake(RawClient& raw, int port) {
    ASSERT_TRUE(raw.connect(port));
    ASSERT_TRUE(raw.read_info()) << raw.received();
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n")) << raw.received();
    ASSERT_EQ(std::string::npos, raw.received().find("-ERR")) << raw.received();
}

// Sends `command` and expects `error` (a whole -ERR line) and then the server closing.
void expect_error_and_close(RawClient& raw, const std::string& command, const std::string& error) {
    size_t start = raw.received().size();
    ASSERT_TRUE(raw.send(command));
    EXPECT_TRUE(raw.read_until(error, 5s, start)) << raw.received().substr(start);
    EXPECT_TRUE(raw.wait_closed(5s)) << "connection left open after " << error;
}

// --- 6. max_connections --------------------------------------------------------------------------

// no_header_support: INFO offers no headers, a client asking for them gets none, and
// no_responders, which needs them, is refused as nats-server refuses it.
TEST(Limits, NoHeaderSupportTurnsHeadersOff) {
    TempFile config(".conf", "no_header_support: true\n");
    auto server = start_with_config(config);
    ASSERT_NE(server, nullptr);
    RawClient client;
    ASSERT_TRUE(client.connect(server->port()));
    ASSERT_TRUE(client.read_info());
    EXPECT_NE(client.received().find("\"headers\":false"), std::string::npos) << client.received();
    ASSERT_TRUE(client.send("CONNECT {\"verbose\":false,\"headers\":true}\r\nSUB a 1\r\nPUB a 1\r\nx\r\nPING\r\n"));
    EXPECT_TRUE(client.read_until("MSG a 1 1\r\nx\r\nPONG\r\n")) << client.received();
    RawClient asking;
    ASSERT_TRUE(asking.connect(server->port()));
    ASSERT_TRUE(asking.read_info());
    ASSERT_TRUE(asking.send("CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\nPING\r\n"));
    EXPECT_TRUE(asking.read_until("-ERR 'no responders requires headers support'\r\n")) << asking.received();
    EXPECT_TRUE(asking.wait_closed(5s));
}

// A reload that lowers max_connections below the clients connected closes as many as are over
// it, each with the -ERR a client over the limit gets, as nats-server's does.
TEST(Limits, LoweringMaxConnectionsClosesTheClientsOverIt) {
    TempFile config(".conf", "max_connections: 10\n");
    auto server = start_with_config(config);
    ASSERT_NE(server, nullptr);
    RawClient clients[4];
    for (RawClient& client : clients) handshake(client, server->port());
    { std::ofstream(config.path()) << "max_connections: 2\n"; }
    ASSERT_EQ(::kill(server->pid(), SIGHUP), 0);
    int closed = 0;
    for (RawClient& client : clients) {
        if (client.wait_closed(2s)) {
            ++closed;
            EXPECT_NE(client.received().find("-ERR 'maximum connections exceeded'\r\n"), std::string::npos)
                << client.received();
        }
    }
    EXPECT_EQ(closed, 2);
    EXPECT_NE(server->log().find("Closed 2 connections to fall within max_connections"), std::string::npos)
        << server->log();
    // And an error line for each.
    std::istringstream log(server->log());
    int lines = 0;
    for (std::string line; std::getline(log, line);) {
        lines += line.find("[ERR]") != std::string::npos && line.ends_with(" - maximum connections exceeded");
    }
    EXPECT_EQ(lines, 2) << server->log();
}

// A negative max_connections is no limit, as nats-server checks only a positive one.
TEST(Limits, NegativeMaxConnectionsIsNoLimit) {
    TempFile config(".conf", "max_connections: -1\n");
    auto server = start_with_config(config);
    ASSERT_NE(server, nullptr);
    RawClient clients[3];
    for (RawClient& client : clients) handshake(client, server->port());
    for (RawClient& client : clients) EXPECT_FALSE(client.closed());
}

TEST(Limits, MaxConnectionsRejectsTheThirdAndFreesASlotOnDisconnect) {
    TempFile config(".conf", "max_connections: 2\n");
    auto server = start_with_config(config);
    ASSERT_NE(server, nullptr);
    auto first = std::make_unique<RawClient>();
    RawClient second;
    handshake(*first, server->port());
    handshake(second, server->port());

    RawClient third;
    ASSERT_TRUE(third.connect(server->port()));
    EXPECT_TRUE(third.read_until("-ERR 'maximum connections exceeded'\r\n")) << third.received();
    EXPECT_TRUE(third.received().starts_with("INFO ")) << third.received();
    EXPECT_LT(third.received().find("\r\n"), third.received().find("-ERR")) << third.received();
    EXPECT_TRUE(third.wait_closed(5s));

    // The slot is released once the server notices the close; retry briefly until it has.
    first.reset();
    bool accepted = false;
    auto deadline = Clock::now() + 4s;
    while (!accepted && Clock::now() < deadline) {
        RawClient next;
        ASSERT_TRUE(next.connect(server->port()));
        ASSERT_TRUE(next.read_info()) << next.received();
        ASSERT_TRUE(next.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
        next.read_until("\r\n", 5s, next.received().find("\r\n") + 2);
        if (next.received().find("PONG\r\n") != std::string::npos) {
            accepted = true;
        } else {
            EXPECT_NE(std::string::npos, next.received().find("maximum connections exceeded"))
                << next.received();
            std::this_thread::sleep_for(50ms);
        }
    }
    EXPECT_TRUE(accepted) << "no connection accepted after one of the two disconnected";

    // The survivor was never affected.
    size_t start = second.received().size();
    ASSERT_TRUE(second.send("PING\r\n"));
    EXPECT_TRUE(second.read_until("PONG\r\n", 5s, start));
}

// --- 7. Authorization timeout --------------------------------------------------------------------

TEST(Limits, ConnectionWithoutConnectGetsAuthenticationTimeout) {
    TempFile config(".conf", "authorization { user: u, password: p, timeout: 1 }\n");
    auto server = start_with_config(config);
    ASSERT_NE(server, nullptr);
    RawClient raw;
    auto started = Clock::now();
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info()) << raw.received();
    EXPECT_NE(std::string::npos, raw.received().find("\"auth_required\":true"));
    EXPECT_TRUE(raw.read_until("-ERR 'Authentication Timeout'\r\n", 4s)) << raw.received();
    EXPECT_TRUE(raw.wait_closed(3s));
    auto elapsed = Clock::now() - started;
    EXPECT_GE(elapsed, 900ms) << "closed before the 1 s timeout";
    EXPECT_LT(elapsed, 3500ms);
}

TEST(Limits, AuthenticatedConnectionOutlivesTheAuthTimeout) {
    TempFile config(".conf", "authorization { user: u, password: p, timeout: 1 }\n");
    auto server = start_with_config(config);
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"p\"}\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    raw.read_for(1500ms);
    EXPECT_FALSE(raw.closed()) << raw.received();
    EXPECT_EQ(std::string::npos, raw.received().find("-ERR")) << raw.received();
}

// --- 8. max_control_line, max_payload ------------------------------------------------------------

TEST(Limits, MaxControlLineExceededGetsErrorAndClose) {
    TempFile config(".conf", "max_control_line: 256\n");
    auto server = start_with_config(config);
    ASSERT_NE(server, nullptr);
    RawClient raw;
    handshake(raw, server->port());
    size_t start = raw.received().size();
    ASSERT_TRUE(raw.send("SUB " + std::string(200, 's') + " 1\r\nPING\r\n"));  // 208 bytes: fine
    ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, start)) << raw.received().substr(start);
    expect_error_and_close(raw, "SUB " + std::string(300, 's') + " 2\r\n",
                           "-ERR 'maximum control line exceeded'\r\n");
}

TEST(Limits, MaxPayloadIsAdvertisedAndEnforced) {
    TempFile config(".conf", "max_payload: 100\n");
    auto server = start_with_config(config);
    ASSERT_NE(server, nullptr);
    RawClient raw;
    handshake(raw, server->port());
    EXPECT_NE(std::string::npos, raw.received().find("\"max_payload\":100,")) << raw.received();
    size_t start = raw.received().size();
    ASSERT_TRUE(raw.send("SUB p 1\r\nPUB p 100\r\n" + std::string(100, 'x') + "\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, start)) << raw.received().substr(start);
    EXPECT_NE(std::string::npos, raw.received().find("MSG p 1 100\r\n", start));
    expect_error_and_close(raw, "PUB p 101\r\n", "-ERR 'Maximum Payload Violation'\r\n");
}

// --- 9. max_subscriptions ------------------------------------------------------------------------

TEST(Limits, MaxSubTokensRefusesADeeperSubscriptionButKeepsTheConnection) {
    for (const char* key : {"max_sub_tokens", "max_subscription_tokens"}) {
        SCOPED_TRACE(key);
        TempFile config(".conf", std::string(key) + ": 3\n");
        auto server = start_with_config(config);
        ASSERT_NE(server, nullptr);
        RawClient raw;
        handshake(raw, server->port());
        size_t start = raw.received().size();
        ASSERT_TRUE(raw.send("SUB a.b.c 1\r\nSUB a.b.c.d 2\r\nPUB a.b.c 1\r\nx\r\nPUB a.b.c.d 1\r\ny\r\nPING\r\n"));
        ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, start)) << raw.received().substr(start);
        std::string reply = raw.received().substr(start);
        EXPECT_NE(std::string::npos,
                  reply.find("-ERR 'Permissions Violation for Subscription to \"a.b.c.d\", too many tokens'\r\n"))
            << reply;
        EXPECT_NE(std::string::npos, reply.find("MSG a.b.c 1 1\r\nx\r\n")) << reply;
        EXPECT_EQ(std::string::npos, reply.find("MSG a.b.c.d")) << reply;
    }
}

TEST(Limits, MaxSubscriptionsRejectsTheThirdButKeepsTheConnection) {
    for (const char* key : {"max_subscriptions", "max_subs"}) {
        SCOPED_TRACE(key);
        TempFile config(".conf", std::string(key) + ": 2\n");
        auto server = start_with_config(config);
        ASSERT_NE(server, nullptr);
        RawClient raw;
        handshake(raw, server->port());
        size_t start = raw.received().size();
        ASSERT_TRUE(raw.send("SUB a 1\r\nSUB b 2\r\nPING\r\n"));
        ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, start));
        EXPECT_EQ(std::string::npos, raw.received().find("-ERR", start)) << raw.received();

        start = raw.received().size();
        ASSERT_TRUE(raw.send("SUB c 3\r\nPING\r\n"));
        ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, start)) << raw.received().substr(start);
        std::string reply = raw.received().substr(start);
        size_t error = reply.find("-ERR 'maximum subscriptions exceeded'\r\n");
        EXPECT_NE(std::string::npos, error) << reply;
        EXPECT_LT(error, reply.find("PONG\r\n")) << reply;

        // Still open; the two subscriptions work and the refused one does not exist.
        start = raw.received().size();
        ASSERT_TRUE(raw.send("PUB c 1\r\nz\r\nPUB a 1\r\ny\r\nPING\r\n"));
        ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, start)) << raw.received().substr(start);
        reply = raw.received().substr(start);
        EXPECT_NE(std::string::npos, reply.find("MSG a 1 1\r\ny\r\n")) << reply;
        EXPECT_EQ(std::string::npos, reply.find("MSG c")) << reply;

        // Unsubscribing frees a slot.
        start = raw.received().size();
        ASSERT_TRUE(raw.send("UNSUB 1\r\nSUB c 4\r\nPUB c 1\r\nw\r\nPING\r\n"));
        ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, start)) << raw.received().substr(start);
        reply = raw.received().substr(start);
        EXPECT_EQ(std::string::npos, reply.find("-ERR")) << reply;
        EXPECT_NE(std::string::npos, reply.find("MSG c 4 1\r\nw\r\n")) << reply;
        EXPECT_FALSE(raw.closed());
    }
}

// --- 10. SIGINT / SIGTERM with clients connected -------------------------------------------------

// Ringtail exits 0; nats-server 2.9.10 exits 0 or 1 (see lifecycle_test.cc).
void expect_clean_status(int status) {
    if (testing_ringtail()) {
        EXPECT_EQ(0, status);
    } else {
        EXPECT_TRUE(status == 0 || status == 1) << "status " << status;
    }
}

struct ConnectionEvents {
    std::mutex mutex;
    std::condition_variable changed;
    bool disconnected = false;
    bool closed = false;

    static void on_disconnected(natsConnection*, void* self) {
        auto* events = static_cast<ConnectionEvents*>(self);
        std::lock_guard lock(events->mutex);
        events->disconnected = true;
        events->changed.notify_all();
    }
    static void on_closed(natsConnection*, void* self) {
        auto* events = static_cast<ConnectionEvents*>(self);
        std::lock_guard lock(events->mutex);
        events->closed = true;
        events->changed.notify_all();
    }
    bool wait_closed(std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, timeout, [this] { return closed; });
    }
};

void shutdown_with_clients_then_rebind(int signal) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    const int port = server->port();

    ConnectionEvents events;  // outlives the connection that calls into it
    OptionsPtr options = make_options(server->url());
    ASSERT_TRUE(options);
    ASSERT_EQ(NATS_OK, natsOptions_SetDisconnectedCB(options.get(),
                                                     &ConnectionEvents::on_disconnected, &events));
    ASSERT_EQ(NATS_OK,
              natsOptions_SetClosedCB(options.get(), &ConnectionEvents::on_closed, &events));
    ConnectionPtr client = connect_with(options.get());
    ASSERT_TRUE(client);
    SubscriptionPtr sub = subscribe_sync(client.get(), "shutdown.wait");
    ASSERT_TRUE(sub);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(client.get()));
    RawClient raw;
    handshake(raw, port);

    // A consumer blocked in NextMsg must be woken by the disconnect, not sit out its timeout.
    auto waiter = std::async(std::launch::async, [&sub] {
        natsMsg* msg = nullptr;
        auto started = Clock::now();
        natsStatus status = natsSubscription_NextMsg(&msg, sub.get(), 20'000);
        if (msg != nullptr) natsMsg_Destroy(msg);
        return std::make_pair(status, Clock::now() - started);
    });
    std::this_thread::sleep_for(100ms);  // let it block

    expect_clean_status(server->stop(signal));
    EXPECT_TRUE(events.wait_closed(5s)) << "libnats did not notice the shutdown";
    {
        std::lock_guard lock(events.mutex);
        EXPECT_TRUE(events.disconnected);
    }
    ASSERT_EQ(std::future_status::ready, waiter.wait_for(5s)) << "NextMsg still blocked";
    auto [status, waited] = waiter.get();
    EXPECT_NE(NATS_OK, status);
    EXPECT_NE(NATS_TIMEOUT, status);
    EXPECT_LT(waited, 8s);
    EXPECT_TRUE(natsConnection_IsClosed(client.get()));
    EXPECT_TRUE(raw.wait_closed(2s));

    auto next = ServerProcess::start_under_test({}, port);
    ASSERT_NE(next, nullptr) << "could not rebind port " << port;
    EXPECT_EQ(port, next->port());
    ConnectionPtr again = connect(next->url());
    ASSERT_TRUE(again);
    EXPECT_EQ(NATS_OK, natsConnection_Flush(again.get()));
}

TEST(Limits, SigintWithClientsConnectedDisconnectsThemAndFreesThePort) {
    shutdown_with_clients_then_rebind(SIGINT);
}

TEST(Limits, SigtermWithClientsConnectedDisconnectsThemAndFreesThePort) {
    shutdown_with_clients_then_rebind(SIGTERM);
}

}  // namespace
}  // namespace ringtail::test
