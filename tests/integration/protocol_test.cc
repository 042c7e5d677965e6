// Raw-protocol transcripts (after nats-server test/proto_test.go): verbose acks, max payload
// violation, and stale-connection detection by server PINGs.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Sends `command` and expects exactly `expected` back (and nothing else within the read).
void expect_reply(RawClient& raw, const std::string& command, const std::string& expected) {
    size_t start = raw.received().size();
    ASSERT_TRUE(raw.send(command));
    ASSERT_TRUE(raw.read_until(expected, 5s, start))
        << "after " << command << " got: " << raw.received().substr(start);
    EXPECT_EQ(expected, raw.received().substr(start)) << "after " << command;
}

TEST(Protocol, InfoIsSentFirstAndDescribesTheServer) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info()) << raw.received();
    const std::string& info = raw.received();
    EXPECT_TRUE(info.ends_with("\r\n"));
    EXPECT_NE(std::string::npos, info.find("\"max_payload\":1048576")) << info;
    EXPECT_NE(std::string::npos, info.find("\"headers\":true")) << info;
    EXPECT_NE(std::string::npos, info.find("\"port\":" + std::to_string(server->port()))) << info;
    EXPECT_EQ(std::string::npos, info.find("auth_required")) << info;
}

TEST(Protocol, VerboseConnectionGetsOkForConnectPubSubAndUnsub) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    expect_reply(raw, "CONNECT {\"verbose\":true,\"pedantic\":false}\r\n", "+OK\r\n");
    expect_reply(raw, "SUB verbose.sub 1\r\n", "+OK\r\n");
    expect_reply(raw, "PUB verbose.other 5\r\nhello\r\n", "+OK\r\n");
    expect_reply(raw, "UNSUB 1\r\n", "+OK\r\n");
    expect_reply(raw, "PING\r\n", "PONG\r\n");
    EXPECT_FALSE(raw.closed());
}

// A SUB with a sid in use leaves that subscription as it is, as nats-server does, whatever
// subject it names.
TEST(Protocol, ASubWithASidInUseChangesNothing) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    expect_reply(raw, "CONNECT {\"verbose\":true,\"pedantic\":false}\r\n", "+OK\r\n");
    expect_reply(raw, "SUB foo 1\r\n", "+OK\r\n");
    expect_reply(raw, "SUB foo..bar 1\r\n", "+OK\r\n");
    expect_reply(raw, "SUB bar 1\r\n", "+OK\r\n");
    expect_reply(raw, "PUB bar 1\r\nx\r\n", "+OK\r\n");
    expect_reply(raw, "PUB foo 1\r\ny\r\n", "+OK\r\nMSG foo 1 1\r\ny\r\n");
}

TEST(Protocol, NonVerboseConnectionGetsNoOk) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    raw.clear_received();
    ASSERT_TRUE(
        raw.send("CONNECT {\"verbose\":false}\r\nSUB q 1\r\nPUB z 1\r\nx\r\nUNSUB 1\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    EXPECT_EQ("PONG\r\n", raw.received());
}

TEST(Protocol, PublishOverMaxPayloadGetsErrorAndClose) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    // Only the header: the server must reject on the declared size, before any payload arrives.
    ASSERT_TRUE(raw.send("PUB too.big 1048577\r\n"));
    EXPECT_TRUE(raw.read_until("-ERR 'Maximum Payload Violation'\r\n", 5s)) << raw.received();
    EXPECT_TRUE(raw.wait_closed(5s));
}

TEST(Protocol, PublishOverConfiguredMaxPayloadGetsErrorAndClose) {
    TempFile config(".conf", "max_payload: 1024\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    EXPECT_NE(std::string::npos, raw.received().find("\"max_payload\":1024")) << raw.received();
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nPUB ok 1024\r\n" + std::string(1024, 'a') +
                         "\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    ASSERT_TRUE(raw.send("PUB too.big 1025\r\n"));
    EXPECT_TRUE(raw.read_until("-ERR 'Maximum Payload Violation'\r\n", 5s)) << raw.received();
    EXPECT_TRUE(raw.wait_closed(5s));
}

TEST(Protocol, InfoAdvertisesTheClientAdvertiseAddress) {
    TempFile config(".conf", "client_advertise: \"adv.example.com:4444\"\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    EXPECT_NE(raw.received().find("\"host\":\"adv.example.com\",\"port\":4444"), std::string::npos) << raw.received();
}

TEST(Protocol, ClientThatNeverAnswersPingsIsClosedAsStale) {
    TempFile config(".conf", "ping_interval: \"1s\"\nping_max: 1\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\n"));
    size_t start = raw.received().size();
    auto started = Clock::now();
    ASSERT_TRUE(raw.read_until("-ERR 'Stale Connection'\r\n", 8s, start)) << raw.received();
    auto elapsed = Clock::now() - started;
    std::string transcript = raw.received().substr(start);
    size_t ping = transcript.find("PING\r\n");
    ASSERT_NE(std::string::npos, ping) << transcript;
    EXPECT_LT(ping, transcript.find("-ERR 'Stale Connection'")) << transcript;
    EXPECT_TRUE(raw.wait_closed(3s));
    EXPECT_LT(elapsed, 6s);
    EXPECT_GE(elapsed, 900ms) << "stale before a single ping interval passed";
}

TEST(Protocol, ClientThatNeverSendsConnectIsPingedAndClosedAsStale) {
    // Without authorization nothing else would ever close it.
    TempFile config(".conf", "ping_interval: \"1s\"\nping_max: 2\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    size_t start = raw.received().size();
    ASSERT_TRUE(raw.read_until("-ERR 'Stale Connection'\r\n", 8s, start)) << raw.received();
    EXPECT_EQ(raw.received().substr(start), "PING\r\nPING\r\n-ERR 'Stale Connection'\r\n");
    EXPECT_TRUE(raw.wait_closed(3s));
}

// Messages sent to a client are activity, as in nats-server: one that only receives, steadily,
// is not pinged again after the first PING (which measures the round trip) and so is never
// stale, even if it never answers.
TEST(Protocol, ClientThatReceivesMessagesIsNotPingedAsIdle) {
    TempFile config(".conf", "ping_interval: \"1s\"\nping_max: 1\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\nSUB feed 1\r\nPING\r\n"));
    ASSERT_TRUE(raw.read_until("PONG\r\n"));
    RawClient publisher;
    ASSERT_TRUE(publisher.connect(server->port()));
    ASSERT_TRUE(publisher.read_info());
    ASSERT_TRUE(publisher.send("CONNECT {\"verbose\":false}\r\n"));
    auto deadline = Clock::now() + 3500ms;
    int sent = 0;
    while (Clock::now() < deadline && !raw.closed()) {
        ASSERT_TRUE(publisher.send("PUB feed 2\r\nhi\r\n"));
        ++sent;
        raw.read_for(250ms);  // takes in what comes, never answering a PING
    }
    EXPECT_FALSE(raw.closed()) << raw.received();
    EXPECT_EQ(std::string::npos, raw.received().find("Stale Connection")) << raw.received();
    EXPECT_GE(sent, 10);
}

TEST(Protocol, ClientThatAnswersPingsStaysConnected) {
    TempFile config(".conf", "ping_interval: \"1s\"\nping_max: 1\n");
    auto server = ServerProcess::start_under_test({"-c", config.path()});
    ASSERT_NE(server, nullptr);
    RawClient raw;
    ASSERT_TRUE(raw.connect(server->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send("CONNECT {\"verbose\":false}\r\n"));
    size_t start = raw.received().size();
    int pongs_sent = 0;
    auto deadline = Clock::now() + 4s;
    while (Clock::now() < deadline && !raw.closed()) {
        if (raw.read_until("PING\r\n", 200ms, start)) {
            start = raw.received().find("PING\r\n", start) + 6;
            ASSERT_TRUE(raw.send("PONG\r\n"));
            ++pongs_sent;
        }
    }
    EXPECT_FALSE(raw.closed()) << raw.received();
    EXPECT_GE(pongs_sent, 1);
    EXPECT_EQ(std::string::npos, raw.received().find("Stale Connection"));
}

}  // namespace
}  // namespace ringtail::test
