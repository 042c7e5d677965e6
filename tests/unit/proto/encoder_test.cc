// The frames the server writes to clients: MSG and HMSG, byte for byte, for every length of
// each piece the encoder copies differently (nothing, under 4, 4-7, 8-16, 17-32, longer).
#include "proto/encoder.h"

#include <gtest/gtest.h>

#include <string>

namespace ringtail::proto {
namespace {

const size_t kLengths[] = {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 1000};

std::string text(size_t bytes, char first) {
    std::string s;
    for (size_t i = 0; i < bytes; ++i) s.push_back(static_cast<char>(first + i % 26));
    return s;
}

TEST(Encoder, MsgFramesAreWhatTheProtocolSaysForEveryPieceLength) {
    for (size_t length : kLengths) {
        std::string subject = length == 0 ? "s" : text(length, 'a');
        std::string sid = length == 0 ? "1" : text(length, 'A');
        std::string payload = text(length, 'k');
        for (std::string reply : {std::string(), text(length + 1, 'r')}) {
            std::string out = "kept";
            append_msg(out, subject, sid, reply, payload);
            std::string expected = "keptMSG " + subject + " " + sid + " " + (reply.empty() ? "" : reply + " ") +
                                   std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
            EXPECT_EQ(out, expected) << "length " << length;
        }
    }
    std::string out;
    append_msg(out, "x", "9", "", "hello", "0005");  // the publisher's own digits
    EXPECT_EQ(out, "MSG x 9 0005\r\nhello\r\n");
}

TEST(Encoder, HmsgFramesCountHeadersAndTotal) {
    for (size_t length : kLengths) {
        std::string headers = "NATS/1.0\r\n" + std::string(length, 'h') + "\r\n\r\n";
        std::string payload = text(length, 'p');
        std::string out;
        append_hmsg(out, "orders.created", "22", "_INBOX.x", headers, payload);
        EXPECT_EQ(out, "HMSG orders.created 22 _INBOX.x " + std::to_string(headers.size()) + " " +
                           std::to_string(headers.size() + payload.size()) + "\r\n" + headers + payload + "\r\n")
            << "length " << length;
    }
    std::string out;
    append_hmsg(out, "x", "9", "", "NATS/1.0\r\n\r\n", "ab", "012", "014");
    EXPECT_EQ(out, "HMSG x 9 012 014\r\nNATS/1.0\r\n\r\nab\r\n");
}

TEST(Encoder, AFrameGrowsTheBufferAsNeeded) {
    std::string out;
    out.reserve(8);
    std::string payload(100000, 'z');
    for (int i = 0; i < 3; ++i) append_msg(out, "big", "1", "", payload);
    EXPECT_EQ(out.size(), 3 * (std::string("MSG big 1 100000\r\n").size() + payload.size() + 2));
    EXPECT_EQ(out.substr(0, 18), "MSG big 1 100000\r\n");
}

}  // namespace
}  // namespace ringtail::proto
