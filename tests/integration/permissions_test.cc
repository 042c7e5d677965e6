// authorization { users: [...] }: each user logs in with its own password (plain or bcrypt) and
// gets its own permissions; violations are answered as nats-server answers them
// (-ERR 'Permissions Violation for Publish to "x"', for Subscription with and without a queue)
// and the connection stays open. no_auth_user names the user of a client with no credentials.
// Every expectation is nats-server 2.9's behaviour (RT_TEST_SERVER=nats-server runs them there).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>

#include "core/auth/nkey.h"
#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;

// bcrypt (cost 4) of "s3cr3t-password".
constexpr const char* kBcryptOfPassword = "$2a$04$abcdefghijklmnopqrstuu2zWLgmO7dnRH9X49UEpIMVV5e9BUBWu";

const std::string kUsersConfig = std::string(R"(
authorization {
  default_permissions: { publish: "default.>", subscribe: "default.>" }
  users: [
    { user: admin, password: admin-pass }
    { user: hashed, password: ")") + kBcryptOfPassword + R"(", permissions: { publish: ">", subscribe: ">" } }
    { user: limited, password: limited-pass, permissions: {
        publish: { allow: ["allowed.>", "_INBOX.>"], deny: ["allowed.secret"] }
        subscribe: { allow: ["allowed.>", "_INBOX.>", "jobs.* workers"], deny: ["allowed.hidden"] }
    } }
    { user: plain }
    { user: responder, password: responder-pass, permissions: {
        subscribe: "service.>"
        allow_responses: { max: 1 }
    } }
  ]
}
)";

// A raw connection logged in as `user`, past its first PONG.
void login(RawClient& raw, int port, const std::string& user, const std::string& password) {
    ASSERT_TRUE(raw.connect(port));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false,\"user\":\"" + user + "\",\"pass\":\"" + password +
                         "\"}\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n")) << raw.received();
    raw.clear_received();
}

// Sends `line` then a PING; returns what came back up to the PONG (the connection stays open).
std::string exchange(RawClient& raw, const std::string& line) {
    raw.clear_received();
    EXPECT_TRUE(raw.send(line + "PING\r\n"));
    EXPECT_TRUE(raw.read_until("PONG\r\n")) << raw.received();
    return raw.received();
}

bool wait_for_log(ServerProcess& server, const std::string& text) {
    for (int i = 0; i < 200; ++i) {
        if (server.log().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

natsStatus connect_as(const std::string& url, const char* user, const char* password) {
    OptionsPtr options = make_options(url);
    if (!options) return NATS_ERR;
    if (user != nullptr && natsOptions_SetUserInfo(options.get(), user, password) != NATS_OK) return NATS_ERR;
    natsStatus status = NATS_OK;
    ConnectionPtr connection = connect_with(options.get(), &status);
    return status;
}

TEST(Permissions, EachUserLogsInWithItsOwnPassword) {
    TempFile config(".conf", kUsersConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(connect_as(server->url(), "admin", "admin-pass"), NATS_OK);
    EXPECT_EQ(connect_as(server->url(), "limited", "limited-pass"), NATS_OK);
    EXPECT_EQ(connect_as(server->url(), "hashed", "s3cr3t-password"), NATS_OK);
    EXPECT_EQ(connect_as(server->url(), "hashed", kBcryptOfPassword), NATS_CONNECTION_AUTH_FAILED);
    EXPECT_EQ(connect_as(server->url(), "admin", "limited-pass"), NATS_CONNECTION_AUTH_FAILED);
    EXPECT_EQ(connect_as(server->url(), "nobody", "admin-pass"), NATS_CONNECTION_AUTH_FAILED);
    EXPECT_EQ(connect_as(server->url(), nullptr, nullptr), NATS_CONNECTION_AUTH_FAILED);
    // The log names the user the client gave, none included.
    EXPECT_TRUE(wait_for_log(*server, "authentication error - User \"nobody\"")) << server->log();
    EXPECT_TRUE(wait_for_log(*server, "authentication error - User \"\"\n")) << server->log();
}

// allowed_connection_types: a user whose list lacks STANDARD cannot log in as a NATS client.
TEST(Permissions, AUserLogsInOnlyWithTheConnectionTypesItIsAllowed) {
    TempFile config(".conf", R"(authorization { users: [
  { user: plain, password: p, allowed_connection_types: ["STANDARD", "WEBSOCKET"] },
  { user: web, password: w, allowed_connection_types: ["WEBSOCKET", "MQTT"] },
  { user: any, password: a } ] }
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    EXPECT_EQ(connect_as(server->url(), "plain", "p"), NATS_OK);
    EXPECT_EQ(connect_as(server->url(), "web", "w"), NATS_CONNECTION_AUTH_FAILED);
    EXPECT_EQ(connect_as(server->url(), "any", "a"), NATS_OK);
    // An unknown type is a config error.
    TempFile bad(".conf", "authorization { users: [ { user: u, password: p, allowed_connection_types: [TELNET] } ] }\n");
    auto refused = ServerProcess::start_under_test({"-c", bad.path()});
    if (refused != nullptr) {
        refused->stop(SIGTERM);
        ADD_FAILURE() << "an unknown connection type was accepted";
    }
}

TEST(Permissions, APublishOutsideTheAllowListIsRefusedAndTheConnectionStays) {
    TempFile config(".conf", kUsersConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient watcher;
    login(watcher, server->port(), "hashed", "s3cr3t-password");
    exchange(watcher, "SUB > 1\r\n");
    RawClient limited;
    login(limited, server->port(), "limited", "limited-pass");

    EXPECT_EQ(exchange(limited, "PUB other.subject 2\r\nhi\r\n"),
              "-ERR 'Permissions Violation for Publish to \"other.subject\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(limited, "PUB allowed.secret 2\r\nhi\r\n"),
              "-ERR 'Permissions Violation for Publish to \"allowed.secret\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(limited, "PUB allowed.fine 2\r\nok\r\n"), "PONG\r\n");
    // Only the allowed one got through.
    EXPECT_TRUE(watcher.read_until("MSG allowed.fine 1 2\r\nok\r\n")) << watcher.received();
    EXPECT_EQ(watcher.received().find("other.subject"), std::string::npos);
    EXPECT_EQ(watcher.received().find("allowed.secret"), std::string::npos);
}

// An empty list is no list, as nats-server reads one: `publish: []` or `allow: []` leaves the
// user free, where a list with entries would bind it.
TEST(Permissions, AnEmptyListRestrictsNothing) {
    TempFile config(".conf", R"(authorization { users: [
  { user: a, password: a, permissions: { publish: [] } }
  { user: b, password: b, permissions: { publish: { allow: [] }, subscribe: { allow: [] } } }
  { user: c, password: c, permissions: { publish: { deny: [] }, subscribe: [] } }
] }
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    for (const char* user : {"a", "b", "c"}) {
        SCOPED_TRACE(user);
        RawClient raw;
        login(raw, server->port(), user, user);
        EXPECT_EQ(exchange(raw, "SUB foo 1\r\nPUB foo 2\r\nhi\r\n"), "MSG foo 1 2\r\nhi\r\nPONG\r\n");
    }
}

// A subject with an empty token matches no permission, as in nats-server's sublists: no allow
// entry lets it through (a violation), no deny entry stops it (then the subject is invalid).
TEST(Permissions, ASubjectWithAnEmptyTokenMatchesNoPermission) {
    TempFile config(".conf", R"(authorization { users: [
  { user: bob, password: b, permissions: { publish: "foo.>", subscribe: "foo.*" } }
  { user: carol, password: c, permissions: { publish: { deny: "foo.bar" }, subscribe: { deny: ">" } } }
] }
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient bob;
    login(bob, server->port(), "bob", "b");
    // (pedantic, as a CONNECT that does not say otherwise is, also says the subject is invalid)
    EXPECT_EQ(exchange(bob, "PUB foo..bar 0\r\n\r\n"),
              "-ERR 'Invalid Publish Subject'\r\n-ERR 'Permissions Violation for Publish to \"foo..bar\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(bob, "SUB foo. 1\r\n"),
              "-ERR 'Permissions Violation for Subscription to \"foo.\"'\r\nPONG\r\n");
    RawClient carol;
    login(carol, server->port(), "carol", "c");
    EXPECT_EQ(exchange(carol, "SUB .foo 1\r\n"), "-ERR 'Invalid Subject'\r\nPONG\r\n");
}

// The queue group "_sys_" is the server's own: a client may not join it, with or without
// permissions of its own.
TEST(Permissions, NoClientJoinsTheSystemQueueGroup) {
    auto server = ServerProcess::start_under_test({});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\n"));
    EXPECT_EQ(exchange(raw, "SUB foo _sys_ 1\r\nPUB foo 2\r\nhi\r\n"),
              "-ERR 'Permissions Violation for Subscription to \"foo\" using queue \"_sys_\"'\r\nPONG\r\n");
    // The connection stays, and another group is fine.
    EXPECT_EQ(exchange(raw, "SUB foo workers 2\r\nPUB foo 2\r\nhi\r\n"), "MSG foo 2 2\r\nhi\r\nPONG\r\n");
}

// Publish permissions apply to the subject a mapping sends the message on, as nats-server maps
// before it checks: a user allowed only the source may not reach a destination it may not
// publish to, and one allowed the destination may publish on the source.
TEST(Permissions, PublishPermissionsApplyToTheMappedSubject) {
    TempFile config(".conf", R"(
mappings: { "in.x": "out.x" }
authorization { users: [
  { user: src, password: s, permissions: { publish: "in.>" } }
  { user: dst, password: d, permissions: { publish: "out.>" } }
  { user: all, password: a }
] }
)");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient watcher;
    login(watcher, server->port(), "all", "a");
    exchange(watcher, "SUB > 1\r\n");
    RawClient src;
    login(src, server->port(), "src", "s");
    RawClient dst;
    login(dst, server->port(), "dst", "d");

    EXPECT_EQ(exchange(src, "PUB in.x 1\r\n1\r\n"), "-ERR 'Permissions Violation for Publish to \"out.x\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(dst, "PUB in.x 1\r\n2\r\n"), "PONG\r\n");
    EXPECT_TRUE(watcher.read_until("MSG out.x 1 1\r\n2\r\n")) << watcher.received();
    EXPECT_EQ(watcher.received().find("\r\n1\r\n"), std::string::npos) << watcher.received();
}

TEST(Permissions, ASubscriptionOutsideTheAllowListIsRefusedWithAndWithoutAQueue) {
    TempFile config(".conf", kUsersConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient limited;
    login(limited, server->port(), "limited", "limited-pass");
    EXPECT_EQ(exchange(limited, "SUB other.subject 1\r\n"),
              "-ERR 'Permissions Violation for Subscription to \"other.subject\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(limited, "SUB other.subject grp 2\r\n"),
              "-ERR 'Permissions Violation for Subscription to \"other.subject\" using queue \"grp\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(limited, "SUB allowed.hidden 3\r\n"),
              "-ERR 'Permissions Violation for Subscription to \"allowed.hidden\"'\r\nPONG\r\n");
    // A queue named in the list: only that group may subscribe.
    EXPECT_EQ(exchange(limited, "SUB jobs.run workers 4\r\n"), "PONG\r\n");
    EXPECT_EQ(exchange(limited, "SUB jobs.run others 5\r\n"),
              "-ERR 'Permissions Violation for Subscription to \"jobs.run\" using queue \"others\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(limited, "SUB jobs.run 6\r\n"),
              "-ERR 'Permissions Violation for Subscription to \"jobs.run\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(limited, "SUB allowed.> 7\r\n"), "PONG\r\n");
}

TEST(Permissions, AWildcardSubscriptionDoesNotGetWhatADenyEntryCovers) {
    TempFile config(".conf", kUsersConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient limited;
    login(limited, server->port(), "limited", "limited-pass");
    EXPECT_EQ(exchange(limited, "SUB allowed.* 1\r\n"), "PONG\r\n");
    RawClient admin;
    login(admin, server->port(), "hashed", "s3cr3t-password");
    exchange(admin, "PUB allowed.hidden 6\r\nhidden\r\nPUB allowed.shown 5\r\nshown\r\n");
    EXPECT_TRUE(limited.read_until("MSG allowed.shown 1 5\r\nshown\r\n")) << limited.received();
    EXPECT_EQ(limited.received().find("hidden"), std::string::npos) << limited.received();
}

// A queue member whose permissions deny the subject is passed over for one that may have it:
// the group still gets every message (nats-server's walk goes on past a refused delivery).
TEST(Permissions, AQueueMemberDeniedTheSubjectLeavesItToAnotherMember) {
    TempFile config(".conf", kUsersConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient limited;
    login(limited, server->port(), "limited", "limited-pass");
    EXPECT_EQ(exchange(limited, "SUB allowed.* g 1\r\n"), "PONG\r\n");
    RawClient admin;
    login(admin, server->port(), "hashed", "s3cr3t-password");
    EXPECT_EQ(exchange(admin, "SUB allowed.* g 1\r\n"), "PONG\r\n");
    std::string batch;
    for (int i = 0; i < 40; ++i) batch += "PUB allowed.hidden 1\r\nx\r\n";
    exchange(admin, batch.c_str());
    exchange(limited, "");
    admin.read_for(std::chrono::milliseconds(300));
    size_t got = 0;
    for (size_t at = admin.received().find("MSG allowed.hidden 1 1"); at != std::string::npos;
         at = admin.received().find("MSG allowed.hidden 1 1", at + 1)) {
        ++got;
    }
    EXPECT_EQ(got, 40u) << admin.received();
    EXPECT_EQ(limited.received().find("hidden"), std::string::npos) << limited.received();
}

TEST(Permissions, DefaultPermissionsApplyToUsersWithoutTheirOwn) {
    TempFile config(".conf", kUsersConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient admin;
    login(admin, server->port(), "admin", "admin-pass");
    EXPECT_EQ(exchange(admin, "PUB default.x 0\r\n\r\n"), "PONG\r\n");
    EXPECT_EQ(exchange(admin, "PUB elsewhere 0\r\n\r\n"),
              "-ERR 'Permissions Violation for Publish to \"elsewhere\"'\r\nPONG\r\n");
}

TEST(Permissions, AllowResponsesLetsAResponderAnswerEachRequestOnce) {
    TempFile config(".conf", kUsersConfig);
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient responder;
    login(responder, server->port(), "responder", "responder-pass");
    EXPECT_EQ(exchange(responder, "SUB service.echo 1\r\n"), "PONG\r\n");
    RawClient requester;
    login(requester, server->port(), "hashed", "s3cr3t-password");
    exchange(requester, "SUB reply.inbox 9\r\nPUB service.echo reply.inbox 4\r\nping\r\n");
    ASSERT_TRUE(responder.read_until("MSG service.echo 1 reply.inbox 4\r\nping\r\n")) << responder.received();
    // Publishing anywhere else is not allowed (allow_responses turns off the blanket allow).
    EXPECT_EQ(exchange(responder, "PUB service.other 0\r\n\r\n"),
              "-ERR 'Permissions Violation for Publish to \"service.other\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(responder, "PUB reply.inbox 4\r\npong\r\n"), "PONG\r\n");
    EXPECT_EQ(exchange(responder, "PUB reply.inbox 5\r\nagain\r\n"),
              "-ERR 'Permissions Violation for Publish to \"reply.inbox\"'\r\nPONG\r\n");
    EXPECT_TRUE(requester.read_until("MSG reply.inbox 9 4\r\npong\r\n")) << requester.received();
    EXPECT_EQ(requester.received().find("again"), std::string::npos);
}

TEST(Permissions, NoAuthUserIsTheUserOfAClientWithoutCredentials) {
    TempFile config(".conf", kUsersConfig + "no_auth_user: limited\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient anonymous;
    ASSERT_TRUE(anonymous.connect(server->port()));
    ASSERT_TRUE(anonymous.read_info());
    // INFO does not ask for credentials: a client need not give any.
    EXPECT_EQ(anonymous.received().find("auth_required"), std::string::npos) << anonymous.received();
    EXPECT_EQ(exchange(anonymous, "CONNECT {\"verbose\":false}\r\n"), "PONG\r\n");
    EXPECT_EQ(exchange(anonymous, "PUB other.subject 0\r\n\r\n"),
              "-ERR 'Permissions Violation for Publish to \"other.subject\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(anonymous, "PUB allowed.x 0\r\n\r\n"), "PONG\r\n");
    // Credentials that are wrong are still refused.
    EXPECT_EQ(connect_as(server->url(), "limited", "wrong"), NATS_CONNECTION_AUTH_FAILED);
    EXPECT_EQ(connect_as(server->url(), "admin", "admin-pass"), NATS_OK);
}

// With a no_auth_user a client may even skip CONNECT (a telnet demo): it is that user, with
// nats-server's default options, verbose and pedantic.
TEST(Permissions, WithANoAuthUserAClientMaySkipConnect) {
    TempFile config(".conf", kUsersConfig + "no_auth_user: limited\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient telnet;
    ASSERT_TRUE(telnet.connect(server->port()));
    ASSERT_TRUE(telnet.read_info());
    telnet.clear_received();
    ASSERT_TRUE(telnet.send("PING\r\nSUB allowed.x 1\r\nPUB allowed.x 2\r\nhi\r\nPUB other.x 0\r\n\r\nPING\r\n"));
    ASSERT_TRUE(telnet.read_until("PONG\r\n", std::chrono::seconds(5), 6)) << telnet.received();
    EXPECT_EQ(telnet.received(),
              "PONG\r\n+OK\r\n+OK\r\nMSG allowed.x 1 2\r\nhi\r\n"
              "-ERR 'Permissions Violation for Publish to \"other.x\"'\r\nPONG\r\n");
    EXPECT_FALSE(telnet.closed());
    // Without a no_auth_user it is an authorization violation.
    TempFile strict(".conf", kUsersConfig);
    auto other = ServerProcess::start_under_test({"-c", strict.path()});
    ASSERT_NE(other, nullptr);
    RawClient refused;
    ASSERT_TRUE(refused.connect(other->port()));
    ASSERT_TRUE(refused.read_info());
    ASSERT_TRUE(refused.send("PING\r\n"));
    EXPECT_TRUE(refused.read_until("-ERR 'Authorization Violation'\r\n")) << refused.received();
    EXPECT_TRUE(refused.wait_closed());
}

TEST(Permissions, ANoAuthUserThatIsNotAUserIsAConfigError) {
    for (const std::string& text : {kUsersConfig + "no_auth_user: ghost\n", std::string("no_auth_user: ghost\n")}) {
        TempFile config(".conf", text);
        auto server = ServerProcess::start_under_test({"-c", config.path()});
        if (server == nullptr) continue;  // refused at start: what is expected
        EXPECT_NE(server->stop(SIGTERM), 0) << "started with " << text;
        ADD_FAILURE() << "accepted no_auth_user: ghost";
    }
}

TEST(Permissions, AReloadGivesConnectedClientsTheirUsersNewPermissions) {
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server 2.9 closes every client when its users change";
    auto users = [](const std::string& subject) {
        return "authorization { users: [ { user: u, password: p, permissions: { publish: \"" + subject + "\" } } ] }\n";
    };
    TempFile config(".conf", users("before.>"));
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient client;
    login(client, server->port(), "u", "p");
    EXPECT_EQ(exchange(client, "PUB before.x 0\r\n\r\n"), "PONG\r\n");
    { std::ofstream(config.path()) << users("after.>"); }
    ASSERT_EQ(::kill(server->pid(), SIGHUP), 0);
    ASSERT_TRUE(wait_for_log(*server, "Reloaded: authorization users"));
    EXPECT_EQ(exchange(client, "PUB before.x 0\r\n\r\n"),
              "-ERR 'Permissions Violation for Publish to \"before.x\"'\r\nPONG\r\n");
    EXPECT_EQ(exchange(client, "PUB after.x 0\r\n\r\n"), "PONG\r\n");
}

// Subscriptions a reload no longer allows are removed, each with an -ERR, as nats-server's
// processSubsOnConfigReload does; those still allowed stay.
TEST(Permissions, AReloadRemovesSubscriptionsNoLongerAllowed) {
    auto users = [](const std::string& subscribe) {
        return "authorization { users: [ { user: u, password: p, permissions: { subscribe: " + subscribe +
               " } }, { user: admin, password: a } ] }\n";
    };
    TempFile config(".conf", users(R"(["foo", "bar.>", "secret.>"])"));
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient client;
    login(client, server->port(), "u", "p");
    EXPECT_EQ(exchange(client, "SUB foo 1\r\nSUB bar.x 2\r\nSUB bar.* q 3\r\nSUB secret.x 4\r\n"), "PONG\r\n");
    { std::ofstream(config.path()) << users(R"({ allow: ["foo", "secret.>"], deny: ["secret.>"] })"); }
    ASSERT_EQ(::kill(server->pid(), SIGHUP), 0);
    ASSERT_TRUE(wait_for_log(*server, "Reloaded server configuration"));
    EXPECT_TRUE(client.read_until("(sid \"4\")'\r\n")) << client.received();
    for (const char* line : {"-ERR 'Permissions Violation for Subscription to \"bar.x\" (sid \"2\")'\r\n",
                             "-ERR 'Permissions Violation for Subscription to \"bar.*\" (sid \"3\")'\r\n",
                             "-ERR 'Permissions Violation for Subscription to \"secret.x\" (sid \"4\")'\r\n"}) {
        EXPECT_NE(client.received().find(line), std::string::npos) << line << client.received();
    }
    EXPECT_TRUE(wait_for_log(*server, "Removed sub \"bar.x\" (sid \"2\") for User \"u\" - not authorized"));
    RawClient admin;
    login(admin, server->port(), "admin", "a");
    client.clear_received();
    exchange(admin, "PUB foo 1\r\nf\r\nPUB bar.x 1\r\nb\r\nPUB secret.x 1\r\ns\r\n");
    // Only foo still arrives.
    EXPECT_TRUE(client.read_until("MSG foo 1 1\r\nf\r\n")) << client.received();
    EXPECT_EQ(exchange(client, ""), "PONG\r\n");
}

TEST(Permissions, AnNkeyUserSignsTheNonceAndGetsItsPermissions) {
    std::array<uint8_t, 32> seed{};
    seed.fill(7);
    core::auth::UserKeys keys = core::auth::user_keys_from_seed(seed);
    seed.fill(8);
    core::auth::UserKeys other = core::auth::user_keys_from_seed(seed);
    TempFile config(".conf", "authorization { users: [\n  { nkey: " + keys.nkey +
                                 ", permissions: { publish: \"nk.>\", subscribe: \">\" } }\n"
                                 "  { user: admin, password: admin-pass }\n] }\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    TempFile right_seed(".nk", keys.seed + "\n");
    TempFile wrong_seed(".nk", other.seed + "\n");

    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    EXPECT_NE(raw.received().find("\"nonce\":\""), std::string::npos) << raw.received();

    OptionsPtr options = make_options(server->url());
    ASSERT_TRUE(options);
    ASSERT_EQ(natsOptions_SetNKeyFromSeed(options.get(), keys.nkey.c_str(), right_seed.path().c_str()), NATS_OK);
    static std::atomic<int> async_errors{0};
    async_errors = 0;
    natsOptions_SetErrorHandler(
        options.get(),
        [](natsConnection*, natsSubscription*, natsStatus error, void*) {
            if (error == NATS_NOT_PERMITTED) ++async_errors;
        },
        nullptr);
    natsStatus status = NATS_OK;
    ConnectionPtr connection = connect_with(options.get(), &status);
    ASSERT_EQ(status, NATS_OK);
    SubscriptionPtr sub = subscribe_sync(connection.get(), "nk.>");
    ASSERT_TRUE(sub);
    ASSERT_EQ(natsConnection_PublishString(connection.get(), "nk.one", "signed"), NATS_OK);
    MsgPtr msg = next_msg(sub.get(), 5s);
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg_data(msg.get()), "signed");
    // Outside its permissions: libnats reports the -ERR to the error handler.
    ASSERT_EQ(natsConnection_PublishString(connection.get(), "elsewhere", "no"), NATS_OK);
    ASSERT_EQ(natsConnection_Flush(connection.get()), NATS_OK);
    for (int i = 0; i < 100 && async_errors.load() == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(async_errors.load(), 1);

    // Another key's seed signs the nonce with the wrong key: refused.
    OptionsPtr wrong = make_options(server->url());
    ASSERT_TRUE(wrong);
    ASSERT_EQ(natsOptions_SetNKeyFromSeed(wrong.get(), keys.nkey.c_str(), wrong_seed.path().c_str()), NATS_OK);
    ConnectionPtr refused = connect_with(wrong.get(), &status);
    EXPECT_EQ(status, NATS_CONNECTION_AUTH_FAILED);
    EXPECT_EQ(connect_as(server->url(), "admin", "admin-pass"), NATS_OK);
}

}  // namespace
}  // namespace ringtail::test
