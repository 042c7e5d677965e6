#include "proto/headers.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ringtail::proto {
namespace {

using Headers = std::vector<std::pair<std::string_view, std::string_view>>;

TEST(Headers, ValueOfAHeader) {
    constexpr std::string_view kBlock =
        "NATS/1.0\r\nNats-Msg-Id: abc\r\nNats-Expected-Stream:    PA   \r\n\r\n";
    EXPECT_EQ(header_value(kBlock, "Nats-Msg-Id"), "abc");
    // Leading blanks are skipped, trailing ones kept: nats-server 2.9.10 answered a publish
    // with this header by "expected stream does not match" for stream "PA".
    EXPECT_EQ(header_value(kBlock, "Nats-Expected-Stream"), "PA   ");
    EXPECT_EQ(header_value(kBlock, "Nats-Rollup"), std::nullopt);
}

TEST(Headers, KeysAreCaseSensitive) {
    // nats-server stored a message published with "nats-expected-stream: zz" as if the
    // header were absent.
    EXPECT_EQ(header_value("NATS/1.0\r\nnats-expected-stream: zz\r\n\r\n", "Nats-Expected-Stream"),
              std::nullopt);
}

TEST(Headers, OnlyTheFirstOccurrenceOfTheKeyCounts) {
    // As getHeader: the first occurrence of the key anywhere decides, and it must start a line.
    EXPECT_EQ(header_value("NATS/1.0\r\nX-Nats-Msg-Id: 1\r\nNats-Msg-Id: 2\r\n\r\n", "Nats-Msg-Id"),
              std::nullopt);
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Idx: 1\r\nNats-Msg-Id: 2\r\n\r\n", "Nats-Msg-Id"),
              std::nullopt);
    EXPECT_EQ(header_value("NATS/1.0\r\nA: Nats-Msg-Id\r\nNats-Msg-Id: 2\r\n\r\n", "Nats-Msg-Id"),
              std::nullopt);
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Id: 1\r\nNats-Msg-Id: 2\r\n\r\n", "Nats-Msg-Id"),
              "1");
    // A key preceded by a bare "\n" is not at a line start.
    EXPECT_EQ(header_value("NATS/1.0\nNats-Msg-Id: 1\r\n\r\n", "Nats-Msg-Id"), std::nullopt);
}

TEST(Headers, EmptyOrUnterminatedValues) {
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Id:\r\n\r\n", "Nats-Msg-Id"), std::nullopt);
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Id:   \r\n\r\n", "Nats-Msg-Id"), std::nullopt);
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Id:a b\r\n\r\n", "Nats-Msg-Id"), "a b");
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Id: x", "Nats-Msg-Id"), "x");
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Id: x\ry\r\n", "Nats-Msg-Id"), "x\ry");
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Id", "Nats-Msg-Id"), std::nullopt);
    EXPECT_EQ(header_value("NATS/1.0\r\nNats-Msg-Id : x\r\n", "Nats-Msg-Id"), std::nullopt);
    EXPECT_EQ(header_value("", "Nats-Msg-Id"), std::nullopt);
    EXPECT_EQ(header_value("Nats-Msg-Id: x\r\n", "Nats-Msg-Id"), std::nullopt);
    EXPECT_EQ(header_value("NATS/1.0\r\nA: b\r\n\r\n", ""), std::nullopt);
}

TEST(Headers, Build) {
    EXPECT_EQ(build_headers(0, "", {}), "NATS/1.0\r\n\r\n");
    Headers headers = {{"Nats-Stream", "S"}, {"Nats-Sequence", "5"}};
    EXPECT_EQ(build_headers(0, "", headers),
              "NATS/1.0\r\nNats-Stream: S\r\nNats-Sequence: 5\r\n\r\n");
    EXPECT_EQ(build_headers(503, "", {}), "NATS/1.0 503\r\n\r\n");
    Headers heartbeat = {{"Nats-Last-Consumer", "3"}, {"Nats-Last-Stream", "7"}};
    EXPECT_EQ(
        build_headers(100, "Idle Heartbeat", heartbeat),
        "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 3\r\nNats-Last-Stream: 7\r\n\r\n");
    EXPECT_EQ(build_headers(404, "No Messages", {}), "NATS/1.0 404 No Messages\r\n\r\n");
}

TEST(Headers, BuiltBlocksReadBack) {
    Headers headers = {{"X-One", "1"}, {"Nats-Msg-Id", "id-7"}, {"B", ""}, {"A", "2"}};
    std::string block = build_headers(408, "Request Timeout", headers);
    EXPECT_EQ(header_value(block, "X-One"), "1");
    // getHeader's first occurrence of "A" is inside "NATS/1.0", so "A" reads as absent.
    EXPECT_EQ(header_value(block, "A"), std::nullopt);
    EXPECT_EQ(header_value(block, "Nats-Msg-Id"), "id-7");
    EXPECT_EQ(header_value(block, "B"), std::nullopt);
}

TEST(Headers, WithHeaderReplacesEveryLineOfTheKeyAndAddsItLast) {
    EXPECT_EQ(with_header("", "Nats-TTL", "5"), "NATS/1.0\r\nNats-TTL: 5\r\n\r\n");
    EXPECT_EQ(with_header("NATS/1.0\r\nNats-TTL: 1s\r\nA: b\r\nNats-TTL: 2s\r\nNats-TTLx: y\r\n\r\n", "Nats-TTL", "5"),
              "NATS/1.0\r\nA: b\r\nNats-TTLx: y\r\nNats-TTL: 5\r\n\r\n");
    // The status line is kept as it is.
    EXPECT_EQ(with_header("NATS/1.0 100 Idle\r\n\r\n", "K", "v"), "NATS/1.0 100 Idle\r\nK: v\r\n\r\n");
}

}  // namespace
}  // namespace ringtail::proto
