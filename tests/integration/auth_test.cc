// Authentication with --user/--pass and --auth: right credentials connect, wrong or missing ones
// are refused with 'Authorization Violation' and the connection is closed.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <string>

#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;

// What libnats reports when the server answers CONNECT with -ERR 'Authorization Violation'.
constexpr natsStatus kAuthRefused = NATS_CONNECTION_AUTH_FAILED;

natsStatus connect_as(const std::string& url, const char* user, const char* password,
                      const char* token) {
    OptionsPtr options = make_options(url);
    if (!options) return NATS_ERR;
    if (user != nullptr && natsOptions_SetUserInfo(options.get(), user, password) != NATS_OK) {
        return NATS_ERR;
    }
    if (token != nullptr && natsOptions_SetToken(options.get(), token) != NATS_OK) return NATS_ERR;
    natsStatus status = NATS_OK;
    ConnectionPtr connection = connect_with(options.get(), &status);
    if (status == NATS_OK) {
        // Prove the connection is usable, not just the handshake.
        SubscriptionPtr sub = subscribe_sync(connection.get(), "auth.check");
        if (!sub) return NATS_ERR;
        if (natsConnection_PublishString(connection.get(), "auth.check", "ok") != NATS_OK) {
            return NATS_ERR;
        }
        if (!next_msg(sub.get(), 5s)) return NATS_ERR;
    }
    return status;
}

// Reads INFO, sends `connect_line`, and expects the auth error followed by the server closing.
void expect_raw_auth_violation(int port, const std::string& connect_line) {
    RawClient raw;
    ASSERT_TRUE(raw.connect(port));
    ASSERT_TRUE(raw.read_info());
    EXPECT_NE(std::string::npos, raw.received().find("\"auth_required\":true")) << raw.received();
    size_t start = raw.received().size();
    ASSERT_TRUE(raw.send(connect_line));
    EXPECT_TRUE(raw.read_until("-ERR 'Authorization Violation'\r\n", 5s, start))
        << "after " << connect_line << " got: " << raw.received().substr(start);
    EXPECT_TRUE(raw.wait_closed(5s)) << "server kept the connection open after " << connect_line;
    EXPECT_EQ(std::string::npos, raw.received().find("PONG", start));
}

TEST(Auth, UserPasswordRightCredentialsConnect) {
    auto server = ServerProcess::start_under_test({"--user", "u", "--pass", "p"});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(NATS_OK, connect_as(server->url(), "u", "p", nullptr));
    EXPECT_EQ(NATS_OK, connect_as("nats://u:p@127.0.0.1:" + std::to_string(server->port()), nullptr,
                                  nullptr, nullptr));
}

TEST(Auth, UserPasswordWrongOrMissingCredentialsAreRefused) {
    auto server = ServerProcess::start_under_test({"--user", "u", "--pass", "p"});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), "u", "wrong", nullptr));
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), "wrong", "p", nullptr));
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), nullptr, nullptr, nullptr));
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), nullptr, nullptr, "p"));
}

TEST(Auth, TokenRightTokenConnects) {
    auto server = ServerProcess::start_under_test({"--auth", "s3cr3t"});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(NATS_OK, connect_as(server->url(), nullptr, nullptr, "s3cr3t"));
}

TEST(Auth, TokenWrongOrMissingIsRefused) {
    auto server = ServerProcess::start_under_test({"--auth", "s3cr3t"});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), nullptr, nullptr, "wrong"));
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), nullptr, nullptr, nullptr));
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), "s3cr3t", "s3cr3t", nullptr));
}

TEST(Auth, RawWrongPasswordGetsAuthorizationViolationThenClose) {
    auto server = ServerProcess::start_under_test({"--user", "u", "--pass", "p"});
    ASSERT_NE(server, nullptr);
    expect_raw_auth_violation(
        server->port(), "CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"x\"}\r\nPING\r\n");
    expect_raw_auth_violation(server->port(), "CONNECT {\"verbose\":false}\r\nPING\r\n");
}

TEST(Auth, RawWrongTokenGetsAuthorizationViolationThenClose) {
    auto server = ServerProcess::start_under_test({"--auth", "s3cr3t"});
    ASSERT_NE(server, nullptr);
    expect_raw_auth_violation(server->port(),
                              "CONNECT {\"verbose\":false,\"auth_token\":\"nope\"}\r\nPING\r\n");
}

TEST(Auth, RawCommandBeforeConnectIsAnAuthorizationViolation) {
    auto server = ServerProcess::start_under_test({"--user", "u", "--pass", "p"});
    ASSERT_NE(server, nullptr);
    expect_raw_auth_violation(server->port(), "PING\r\n");
    expect_raw_auth_violation(server->port(), "SUB foo 1\r\n");
}

TEST(Auth, RawRightCredentialsGetPong) {
    auto server = ServerProcess::start_under_test({"--user", "u", "--pass", "p"});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    size_t start = raw.received().size();
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"p\"}\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n", 5s, start));
    EXPECT_EQ("PONG\r\n", raw.received().substr(start));
}

}  // namespace
}  // namespace ringtail::test
