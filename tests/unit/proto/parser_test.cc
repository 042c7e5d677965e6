#include "proto/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringtail::proto {
namespace {

// Records every op as a line of text, so a whole parse compares as one vector.
class Recorder : public ParserHandler {
public:
    std::vector<std::string> ops;
    int pause_next_pubs = 0;
    int pause_after_next_pubs = 0;

    Flow on_connect(std::string_view json) override { return add("CONNECT " + std::string(json)); }
    Flow on_pub(const PubOp& op) override {
        if (pause_next_pubs > 0) {
            --pause_next_pubs;
            return Flow::kPause;
        }
        Flow flow = add(std::string(op.has_headers ? "HPUB" : "PUB") + " [" + std::string(op.subject) +
                        "] [" + std::string(op.reply) + "] [" + std::string(op.headers) + "] [" +
                        std::string(op.payload) + "]");
        if (pause_after_next_pubs == 0) return flow;
        --pause_after_next_pubs;
        return Flow::kPauseAfter;
    }
    Flow on_sub(const SubOp& op) override {
        return add("SUB [" + std::string(op.subject) + "] [" + std::string(op.queue) + "] [" +
                   std::string(op.sid) + "]");
    }
    Flow on_unsub(const UnsubOp& op) override {
        return add("UNSUB [" + std::string(op.sid) + "] " + std::to_string(op.max_msgs));
    }
    Flow on_ping() override { return add("PING"); }
    Flow on_pong() override { return add("PONG"); }
    Flow on_client_error(std::string_view text) override {
        add("ERR " + std::string(text));
        return Flow::kStop;
    }

private:
    Flow add(std::string op) {
        ops.push_back(std::move(op));
        return Flow::kContinue;
    }
};

const std::string kStream =
    "CONNECT {\"verbose\":false}\r\n"
    "PING\r\n"
    "pong\r\n"
    "SUB foo 1\r\n"
    "sub\tfoo.*  q1\t\t2\r\n"
    "PUB foo 5\r\nhello\r\n"
    "pub foo.bar reply.1 0\r\n\r\n"
    "PUB bin 4\r\n\r\n\r\n\r\n"
    "HPUB h 12 17\r\nNATS/1.0\r\n\r\nworld\r\n"
    "hpub h rep 12 12\r\nNATS/1.0\r\n\r\n\r\n"
    "UNSUB 1\r\n"
    "UNSUB 2 10\r\n"
    "+OK\r\n"
    "INFO {}\r\n"
    "PING\n";

const std::vector<std::string> kExpected = {
    "CONNECT {\"verbose\":false}",
    "PING",
    "PONG",
    "SUB [foo] [] [1]",
    "SUB [foo.*] [q1] [2]",
    "PUB [foo] [] [] [hello]",
    "PUB [foo.bar] [reply.1] [] []",
    "PUB [bin] [] [] [\r\n\r\n]",
    "HPUB [h] [] [NATS/1.0\r\n\r\n] [world]",
    "HPUB [h] [rep] [NATS/1.0\r\n\r\n] []",
    "UNSUB [1] -1",
    "UNSUB [2] 10",
    "PING",
};

TEST(Parser, WholeStreamInOneRead) {
    Parser parser({});
    parser.set_headers_allowed(true);
    Recorder recorder;
    EXPECT_EQ(parser.feed(kStream, recorder), ParseStatus::kOk);
    EXPECT_EQ(recorder.ops, kExpected);
    EXPECT_EQ(parser.pending_bytes(), 0u);
}

TEST(Parser, StreamSplitAtEveryByteBoundary) {
    for (size_t split = 0; split <= kStream.size(); ++split) {
        Parser parser({});
        parser.set_headers_allowed(true);
        Recorder recorder;
        ASSERT_EQ(parser.feed(std::string_view(kStream).substr(0, split), recorder), ParseStatus::kOk);
        ASSERT_EQ(parser.feed(std::string_view(kStream).substr(split), recorder), ParseStatus::kOk);
        ASSERT_EQ(recorder.ops, kExpected) << "split at " << split;
        ASSERT_EQ(parser.pending_bytes(), 0u);
    }
}

TEST(Parser, StreamFedOneByteAtATime) {
    Parser parser({});
    parser.set_headers_allowed(true);
    Recorder recorder;
    for (char c : kStream) ASSERT_EQ(parser.feed(std::string_view(&c, 1), recorder), ParseStatus::kOk);
    EXPECT_EQ(recorder.ops, kExpected);
}

TEST(Parser, StreamSplitAtEveryPairOfBoundaries) {
    for (size_t first = 0; first <= kStream.size(); first += 3) {
        for (size_t second = first; second <= kStream.size(); second += 5) {
            Parser parser({});
            parser.set_headers_allowed(true);
            Recorder recorder;
            std::string_view all = kStream;
            ASSERT_EQ(parser.feed(all.substr(0, first), recorder), ParseStatus::kOk);
            ASSERT_EQ(parser.feed(all.substr(first, second - first), recorder), ParseStatus::kOk);
            ASSERT_EQ(parser.feed(all.substr(second), recorder), ParseStatus::kOk);
            ASSERT_EQ(recorder.ops, kExpected) << first << "," << second;
        }
    }
}

TEST(Parser, PauseKeepsTheOpAndResumeDeliversItOnce) {
    Parser parser({});
    parser.set_headers_allowed(true);
    Recorder recorder;
    recorder.pause_next_pubs = 1;
    EXPECT_EQ(parser.feed("PUB a 1\r\nx\r\nPING\r\n", recorder), ParseStatus::kPaused);
    EXPECT_TRUE(recorder.ops.empty());
    EXPECT_EQ(parser.feed("PONG\r\n", recorder), ParseStatus::kOk);
    EXPECT_EQ(recorder.ops, (std::vector<std::string>{"PUB [a] [] [] [x]", "PING", "PONG"}));
}

TEST(Parser, PauseAfterTakesTheOpAndResumeGoesOnWithTheNext) {
    Parser parser({});
    parser.set_headers_allowed(true);
    Recorder recorder;
    recorder.pause_after_next_pubs = 1;
    EXPECT_EQ(parser.feed("PUB a 1\r\nx\r\nPING\r\n", recorder), ParseStatus::kPaused);
    EXPECT_EQ(recorder.ops, (std::vector<std::string>{"PUB [a] [] [] [x]"}));
    EXPECT_EQ(parser.feed("PONG\r\n", recorder), ParseStatus::kOk);
    EXPECT_EQ(recorder.ops, (std::vector<std::string>{"PUB [a] [] [] [x]", "PING", "PONG"}));
}

// Reads keep coming while a connection is paused (they were on their way): every one is kept,
// and resuming delivers every op once, in order.
TEST(Parser, ReadsThatArriveWhilePausedAreKeptInOrder) {
    for (size_t read_bytes : {1u, 3u, 7u, 64u}) {
        Parser parser({});
        parser.set_headers_allowed(true);
        Recorder recorder;
        recorder.pause_next_pubs = 3;
        for (size_t at = 0; at < kStream.size(); at += read_bytes) {
            ParseStatus status = parser.feed(std::string_view(kStream).substr(at, read_bytes), recorder);
            ASSERT_TRUE(status == ParseStatus::kOk || status == ParseStatus::kPaused) << read_bytes;
        }
        for (int resumes = 0; parser.pending_bytes() > 0 && resumes < 10; ++resumes) {
            ParseStatus status = parser.resume(recorder);
            ASSERT_TRUE(status == ParseStatus::kOk || status == ParseStatus::kPaused) << read_bytes;
        }
        EXPECT_EQ(parser.pending_bytes(), 0u) << read_bytes;
        EXPECT_EQ(recorder.ops, kExpected) << read_bytes;
    }
}

TEST(Parser, LargePayloadAcrossManyReadsIsCopiedOnce) {
    std::string payload(1 << 20, 'z');
    std::string stream = "PUB big 1048576\r\n" + payload + "\r\n";
    Parser parser({});
    parser.set_headers_allowed(true);
    Recorder recorder;
    for (size_t at = 0; at < stream.size(); at += 65536) {
        ASSERT_EQ(parser.feed(std::string_view(stream).substr(at, 65536), recorder), ParseStatus::kOk);
    }
    ASSERT_EQ(recorder.ops.size(), 1u);
    EXPECT_EQ(recorder.ops[0].size(), payload.size() + std::string("PUB [big] [] [] []").size());
}

struct BadInput {
    const char* input;
    ParseStatus status;
};

class ParserRejects : public testing::TestWithParam<BadInput> {};

TEST_P(ParserRejects, WithTheStatusNatsServerImplies) {
    Parser parser({1024, 4096});
    parser.set_headers_allowed(true);
    Recorder recorder;
    EXPECT_EQ(parser.feed(GetParam().input, recorder), GetParam().status) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, ParserRejects,
    testing::Values(BadInput{"FOO\r\n", ParseStatus::kUnknownOp},
                    BadInput{"X", ParseStatus::kUnknownOp},
                    BadInput{"\r\n", ParseStatus::kUnknownOp},
                    BadInput{"PUBX foo 1\r\n", ParseStatus::kUnknownOp},
                    BadInput{"PX", ParseStatus::kUnknownOp},
                    BadInput{"MSG foo 1 1\r\n", ParseStatus::kUnknownOp},
                    BadInput{"SUBfoo 1\r\n", ParseStatus::kUnknownOp},
                    BadInput{"PUB foo 3\r\nabcd\r\n", ParseStatus::kUnknownOp},
                    BadInput{"PUB foo 3\r\nabc\n\n", ParseStatus::kUnknownOp},
                    BadInput{"PUB foo\r\n", ParseStatus::kBadArgs},
                    BadInput{"PUB foo bar baz 1\r\n", ParseStatus::kBadArgs},
                    BadInput{"PUB foo x\r\n", ParseStatus::kBadArgs},
                    BadInput{"PUB foo -1\r\n", ParseStatus::kBadArgs},
                    BadInput{"PUB foo 1234567890\r\n", ParseStatus::kBadArgs},
                    BadInput{"HPUB foo 5\r\n", ParseStatus::kBadArgs},
                    BadInput{"HPUB foo 6 5\r\n", ParseStatus::kBadArgs},
                    BadInput{"SUB foo\r\n", ParseStatus::kBadArgs},
                    BadInput{"SUB a b c d\r\n", ParseStatus::kBadArgs},
                    BadInput{"UNSUB\t\r\n", ParseStatus::kBadArgs},
                    BadInput{"UNSUB 1 2 3\r\n", ParseStatus::kBadArgs},
                    BadInput{"PUB foo 1025\r\n", ParseStatus::kMaxPayload},
                    BadInput{"HPUB foo 10 2000\r\n", ParseStatus::kMaxPayload}));

TEST(Parser, ControlLineOverTheLimitIsRefusedEvenBeforeItsEnd) {
    Parser parser({1024, 64});
    parser.set_headers_allowed(true);
    Recorder recorder;
    EXPECT_EQ(parser.feed("SUB " + std::string(100, 'a') + " 1\r\n", recorder),
              ParseStatus::kMaxControlLine);
    Parser streaming({1024, 64});
    streaming.set_headers_allowed(true);
    EXPECT_EQ(streaming.feed("SUB " + std::string(200, 'a'), recorder), ParseStatus::kMaxControlLine);
}

TEST(Parser, RequireConnectRefusesAnyOtherFirstOp) {
    Parser parser({});
    parser.set_headers_allowed(true);
    Recorder recorder;
    parser.set_require_connect(true);
    EXPECT_EQ(parser.feed("PING\r\n", recorder), ParseStatus::kAuthViolation);
    Parser ok({});
    ok.set_headers_allowed(true);
    ok.set_require_connect(true);
    EXPECT_EQ(ok.feed("connect {}\r\n", recorder), ParseStatus::kOk);
}

TEST(Parser, ClientErrStopsParsing) {
    Parser parser({});
    parser.set_headers_allowed(true);
    Recorder recorder;
    EXPECT_EQ(parser.feed("-ERR 'boom'\r\nPING\r\n", recorder), ParseStatus::kStopped);
    EXPECT_EQ(recorder.ops, (std::vector<std::string>{"ERR 'boom'"}));
}

TEST(Parser, HpubIsRefusedUntilHeadersAreNegotiated) {
    Parser parser({});
    Recorder recorder;
    EXPECT_EQ(parser.feed("HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", recorder), ParseStatus::kBadArgs);
    EXPECT_TRUE(recorder.ops.empty());
}

// Records the fields PUB carries beyond its bytes.
class PubFields : public Recorder {
public:
    Flow on_pub(const PubOp& op) override {
        ops.push_back(std::string(op.has_headers ? "H" : "-") + " " + std::string(op.header_size_text) +
                      " " + std::string(op.total_size_text));
        return Flow::kContinue;
    }
};

TEST(Parser, EmptyHeaderBlockIsPlainAndSizeDigitsAreKept) {
    Parser parser({});
    parser.set_headers_allowed(true);
    PubFields recorder;
    EXPECT_EQ(parser.feed("HPUB foo 0 2\r\nhi\r\nPUB foo 002\r\nhi\r\n", recorder), ParseStatus::kOk);
    EXPECT_EQ(recorder.ops, (std::vector<std::string>{"- 0 2", "-  002"}));
}

TEST(Parser, ParseSizeMatchesNatsServer) {
    EXPECT_EQ(parse_size("0"), 0);
    EXPECT_EQ(parse_size("999999999"), 999999999);
    EXPECT_EQ(parse_size("1000000000"), -1);
    EXPECT_EQ(parse_size(""), -1);
    EXPECT_EQ(parse_size("1a"), -1);
    EXPECT_EQ(parse_size("+1"), -1);
}

}  // namespace
}  // namespace ringtail::proto
