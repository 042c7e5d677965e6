// Authentication with --user/--pass and --auth and the authorization block: right credentials
// connect, wrong or missing ones are refused with 'Authorization Violation' and the connection
// is closed. A configured password or token in bcrypt's form is a hash the client's secret must
// match, as nats-server checks it (server/auth.go comparePasswords).
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

// bcrypt hashes of "s3cr3t-password" (cost 4, quick to check) in the three prefixes nats-server
// takes, of "the-token", and of the password at cost 14 (about a second to check).
constexpr const char* kPassword = "s3cr3t-password";
constexpr const char* kHashes[] = {
    "$2a$04$abcdefghijklmnopqrstuu2zWLgmO7dnRH9X49UEpIMVV5e9BUBWu",
    "$2b$04$abcdefghijklmnopqrstuu2zWLgmO7dnRH9X49UEpIMVV5e9BUBWu",
    "$2y$04$abcdefghijklmnopqrstuu2zWLgmO7dnRH9X49UEpIMVV5e9BUBWu",
};
constexpr const char* kTokenHash = "$2a$04$zyxwvutsrqponmlkjihgfeRmRm38x8zcu6Rt3VJigHnq4/oQUAcp6";
constexpr const char* kSlowHash = "$2a$14$abcdefghijklmnopqrstuuQSp1NNV803e/USf7NRivt6W3sTrPx4.";

TEST(Auth, BcryptPasswordTakesThePasswordAndRefusesTheHashItself) {
    for (const char* hash : kHashes) {
        TempFile config(".conf", std::string("authorization { user: u, password: \"") + hash + "\" }\n");
        auto server = ServerProcess::start_under_test({"-c", config.path()});
        ASSERT_NE(server, nullptr) << hash;
        EXPECT_EQ(NATS_OK, connect_as(server->url(), "u", kPassword, nullptr)) << hash;
        EXPECT_EQ(kAuthRefused, connect_as(server->url(), "u", hash, nullptr)) << hash;
        EXPECT_EQ(kAuthRefused, connect_as(server->url(), "u", "s3cr3t-passwore", nullptr)) << hash;
        EXPECT_EQ(kAuthRefused, connect_as(server->url(), "v", kPassword, nullptr)) << hash;
        expect_raw_auth_violation(server->port(), std::string("CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"") +
                                                      hash + "\"}\r\nPING\r\n");
    }
}

TEST(Auth, BcryptPasswordOnTheCommandLine) {
    auto server = ServerProcess::start_under_test({"--user", "u", "--pass", kHashes[0]});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(NATS_OK, connect_as(server->url(), "u", kPassword, nullptr));
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), "u", kHashes[0], nullptr));
}

TEST(Auth, BcryptTokenTakesTheTokenAndRefusesTheHashItself) {
    TempFile config(".conf", std::string("authorization { token: \"") + kTokenHash + "\" }\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(NATS_OK, connect_as(server->url(), nullptr, nullptr, "the-token"));
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), nullptr, nullptr, kTokenHash));
    EXPECT_EQ(kAuthRefused, connect_as(server->url(), nullptr, nullptr, "the-tokem"));
}

// Checking a bcrypt password takes long (here about a second); the server goes on serving its
// other connections meanwhile, and what the client sent after CONNECT waits for the verdict.
TEST(AuthRingtail, ASlowBcryptCheckDoesNotHoldUpOtherConnections) {
    if (!testing_ringtail()) GTEST_SKIP() << "how ringtail schedules the check";
    TempFile config(".conf", std::string("authorization { user: u, password: \"") + kSlowHash + "\" }\n");
    auto server = ServerProcess::start(ringtail_binary(), {"--shards", "1", "-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient first;
    ASSERT_TRUE(first.connect(server->port()));
    ASSERT_TRUE(first.read_info());
    ASSERT_TRUE(first.send(std::string("CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"") + kPassword +
                           "\"}\r\nPING\r\n"));
    ASSERT_TRUE(first.read_until("PONG\r\n", 30s)) << first.received();
    RawClient second;
    ASSERT_TRUE(second.connect(server->port()));
    ASSERT_TRUE(second.read_info());
    size_t start = second.received().size();
    ASSERT_TRUE(second.send(std::string("CONNECT {\"verbose\":false,\"user\":\"u\",\"pass\":\"") + kPassword +
                            "\"}\r\nPING\r\n"));
    // While the second one's password is being checked, the first gets its PONGs.
    int pongs = 0;
    while (second.received().find("PONG", start) == std::string::npos && pongs < 1000) {
        size_t from = first.received().size();
        ASSERT_TRUE(first.send("PING\r\n"));
        ASSERT_TRUE(first.read_until("PONG\r\n", 5s, from));
        ++pongs;
        (void)second.read_until("PONG\r\n", 1ms, start);
    }
    EXPECT_GT(pongs, 1) << "the first connection was answered only after the check";
    ASSERT_TRUE(second.read_until("PONG\r\n", 30s, start)) << second.received();
    EXPECT_EQ("PONG\r\n", second.received().substr(start));
}

}  // namespace
}  // namespace ringtail::test
