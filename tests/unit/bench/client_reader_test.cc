#include "proto/client_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringtail::proto {
namespace {

// Records every frame as one line of text, so that two feeds can be compared.
class Recorder : public ClientReaderHandler {
 public:
    void on_info(std::string_view json) override { events.push_back("INFO " + std::string(json)); }
    void on_msg(const MsgFrame& msg) override {
        events.push_back("MSG " + std::string(msg.subject) + "|" + std::string(msg.sid) + "|" +
                         std::string(msg.reply) + "|" + std::string(msg.headers) + "|" +
                         std::string(msg.payload));
    }
    void on_ping() override { events.push_back("PING"); }
    void on_pong() override { events.push_back("PONG"); }
    void on_ok() override { events.push_back("+OK"); }
    void on_err(std::string_view text) override { events.push_back("ERR " + std::string(text)); }
    std::vector<std::string> events;
};

const std::string kTranscript =
    "INFO {\"server_id\":\"X\",\"version\":\"2.9.10\"}\r\n"
    "+OK\r\n"
    "MSG foo.bar 1 5\r\nhello\r\n"
    "MSG foo 22 _INBOX.abc 0\r\n\r\n"
    "HMSG foo 3 reply 12 17\r\nNATS/1.0\r\n\r\nhello\r\n"
    "HMSG _INBOX.x.1 9 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
    "PING\r\nPONG\r\n"
    "MSG bin 1 4\r\n\r\n\r\n\r\n"  // a payload that is itself CRLF CRLF
    "-ERR 'Slow Consumer'\r\n";

std::vector<std::string> expected_events() {
    return {"INFO {\"server_id\":\"X\",\"version\":\"2.9.10\"}",
            "+OK",
            "MSG foo.bar|1|||hello",
            "MSG foo|22|_INBOX.abc||",
            "MSG foo|3|reply|NATS/1.0\r\n\r\n|hello",
            "MSG _INBOX.x.1|9||NATS/1.0 503\r\n\r\n|",
            "PING",
            "PONG",
            "MSG bin|1|||\r\n\r\n",
            "ERR Slow Consumer"};
}

TEST(ClientReader, ReadsEveryServerFrameInOneFeed) {
    ClientReader reader;
    Recorder recorder;
    ASSERT_EQ(reader.feed(kTranscript, recorder), ClientReadStatus::kOk);
    EXPECT_EQ(recorder.events, expected_events());
    EXPECT_EQ(reader.pending_bytes(), 0u);
}

TEST(ClientReader, SplitAcrossEveryByteBoundaryGivesTheSameFrames) {
    for (size_t cut = 0; cut <= kTranscript.size(); ++cut) {
        ClientReader reader;
        Recorder recorder;
        ASSERT_EQ(reader.feed(std::string_view(kTranscript).substr(0, cut), recorder),
                  ClientReadStatus::kOk);
        ASSERT_EQ(reader.feed(std::string_view(kTranscript).substr(cut), recorder),
                  ClientReadStatus::kOk);
        ASSERT_EQ(recorder.events, expected_events()) << "cut at " << cut;
    }
}

TEST(ClientReader, OneByteAtATimeGivesTheSameFrames) {
    ClientReader reader;
    Recorder recorder;
    for (char c : kTranscript)
        ASSERT_EQ(reader.feed(std::string_view(&c, 1), recorder), ClientReadStatus::kOk);
    EXPECT_EQ(recorder.events, expected_events());
}

TEST(ClientReader, RejectsMalformedFrames) {
    for (const char* bad :
         {"MSG foo\r\n", "MSG foo 1 x\r\n", "MSG foo 1 3\r\nabcXY", "HMSG foo 1 9 4\r\n",
          "BOGUS\r\n", "MSG a b c d e f g\r\n", "MSGfoo 1 1\r\n", "msg foo 1 1\r\na\r\n"}) {
        ClientReader reader;
        Recorder recorder;
        EXPECT_EQ(reader.feed(bad, recorder), ClientReadStatus::kBadFrame) << bad;
    }
}

TEST(ClientReader, RejectsOversizedControlLinesAndPayloads) {
    ClientReader::Limits limits;
    limits.max_control_line_bytes = 32;
    limits.max_payload_bytes = 100;
    {
        ClientReader reader(limits);
        Recorder recorder;
        EXPECT_EQ(reader.feed(std::string(40, 'M'), recorder), ClientReadStatus::kTooLarge);
    }
    {
        ClientReader reader(limits);
        Recorder recorder;
        EXPECT_EQ(reader.feed("MSG foo 1 101\r\n", recorder), ClientReadStatus::kTooLarge);
    }
    {
        ClientReader reader(limits);
        Recorder recorder;
        ASSERT_EQ(reader.feed("MSG foo 1", recorder), ClientReadStatus::kOk);
        EXPECT_EQ(reader.feed(" 101\r\n", recorder), ClientReadStatus::kTooLarge);
    }
}

TEST(ClientReader, AcceptsTabsAndRunsOfBlanks) {
    ClientReader reader;
    Recorder recorder;
    ASSERT_EQ(reader.feed("MSG  foo\t1   2\r\nhi\r\n", recorder), ClientReadStatus::kOk);
    EXPECT_EQ(recorder.events, std::vector<std::string>{"MSG foo|1|||hi"});
}

TEST(ClientReader, ParseFrameSizeIsNatsParseSize) {
    EXPECT_EQ(parse_frame_size("0"), 0);
    EXPECT_EQ(parse_frame_size("123456789"), 123456789);
    EXPECT_EQ(parse_frame_size("1234567890"), -1);
    EXPECT_EQ(parse_frame_size(""), -1);
    EXPECT_EQ(parse_frame_size("-1"), -1);
}

}  // namespace
}  // namespace ringtail::proto
