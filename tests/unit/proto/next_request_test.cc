#include "proto/js/next_request.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

// The expectations are nats-server 2.9.10's answers (Debian's build, Go 1.19) to the same bodies
// sent over a raw socket to $JS.API.CONSUMER.MSG.NEXT.S.C: the text after "NATS/1.0 400 Bad
// Request - " in its status reply. For accepted bodies the consumer had max_batch 3,
// max_expires 1s and max_bytes 100, so its 409s, its 404 (no_wait) and its 408 (expiry)
// showed which fields it had read.
namespace ringtail::proto::js {
namespace {

using namespace std::string_view_literals;  // bodies may hold a NUL byte

// The error text, or a marker that no test expects.
std::string error_of(std::string_view body) {
    auto request = parse_next_request(body);
    return request ? "(accepted)" : request.error();
}

struct Rejected {
    std::string_view body;
    std::string_view error;
};

// Syntax errors come from checkValid, which runs over the whole body before any field is
// decoded, so one anywhere wins over a type error before it.
constexpr Rejected kSyntaxErrors[] = {
    {"{b}"sv, "invalid character 'b' looking for beginning of object key string"},
    {"{"sv, "unexpected end of JSON input"},
    {"{\"batch\""sv, "unexpected end of JSON input"},
    {"{\"batch\":"sv, "unexpected end of JSON input"},
    {"{\"batch\":}"sv, "invalid character '}' looking for beginning of value"},
    {"{\"batch\" 1}"sv, "invalid character '1' after object key"},
    {"{\"batch\":1 x}"sv, "invalid character 'x' after object key:value pair"},
    {"{\"batch\":1}]"sv, "invalid character ']' after top-level value"},
    {"{\"batch\":1}}"sv, "invalid character '}' after top-level value"},
    {"{\"batch\":1,}"sv, "invalid character '}' looking for beginning of object key string"},
    {"{,}"sv, "invalid character ',' looking for beginning of object key string"},
    {"{\"a\":[1,}"sv, "invalid character '}' looking for beginning of value"},
    {"{\"a\":[1 2]}"sv, "invalid character '2' after array element"},
    {"{\"a\":\"\\x\"}"sv, "invalid character 'x' in string escape code"},
    {"{\"a\":\"\\u12g4\"}"sv, "invalid character 'g' in \\u hexadecimal character escape"},
    {"{\"a\":\"\\u\"}"sv, "invalid character '\"' in \\u hexadecimal character escape"},
    {"{\"a\":\"ab\ncd\"}"sv, "invalid character '\\n' in string literal"},
    {"{\"a\":\"\x00\"}"sv, "invalid character '\\x00' in string literal"},
    {"{\"a\":\"\t\"}"sv, "invalid character '\\t' in string literal"},
    {"{\"a\":\"\x1F\"}"sv, "invalid character '\\x1f' in string literal"},
    {"{\"a\":-}"sv, "invalid character '}' in numeric literal"},
    {"{\"a\":-x}"sv, "invalid character 'x' in numeric literal"},
    {"{\"a\":01}"sv, "invalid character '1' after object key:value pair"},
    {"{\"a\":1.}"sv, "invalid character '}' after decimal point in numeric literal"},
    {"{\"a\":1.x}"sv, "invalid character 'x' after decimal point in numeric literal"},
    {"{\"a\":1e}"sv, "invalid character '}' in exponent of numeric literal"},
    {"{\"a\":1.5e+}"sv, "invalid character '}' in exponent of numeric literal"},
    {"{\"a\":1e+x}"sv, "invalid character 'x' in exponent of numeric literal"},
    {"{\"a\":tru}"sv, "invalid character '}' in literal true (expecting 'e')"},
    {"{\"a\":trux}"sv, "invalid character 'x' in literal true (expecting 'e')"},
    {"{\"a\":nul}"sv, "invalid character '}' in literal null (expecting 'l')"},
    {"{\"a\":nulx}"sv, "invalid character 'x' in literal null (expecting 'l')"},
    {"{\"a\":fals}"sv, "invalid character '}' in literal false (expecting 'e')"},
    {"{\"a\":fx}"sv, "invalid character 'x' in literal false (expecting 'a')"},
    {"{\"a\":t}"sv, "invalid character '}' in literal true (expecting 'r')"},
    {"{\"a\":n1}"sv, "invalid character '1' in literal null (expecting 'u')"},
    {"{\"a\":{\"b\":[{\"c\":}]}}"sv, "invalid character '}' looking for beginning of value"},
    {"{\"a\":{\"b\":1]}"sv, "invalid character ']' after object key:value pair"},
    {"{\"a\":[1}"sv, "invalid character '}' after array element"},
    {"{\"a\":{}}x"sv, "invalid character 'x' after top-level value"},
    {"{}\x00"sv, "invalid character '\\x00' after top-level value"},
    {"{'a':1}"sv, "invalid character '\\'' looking for beginning of object key string"},
    {"{\"a\"'"sv, "invalid character '\\'' after object key"},
    {"{\"a\":\x7F}"sv, "invalid character '\\x7f' looking for beginning of value"},
    {"{\"a\":\\}"sv, "invalid character '\\\\' looking for beginning of value"},
    {"{\"a\":\xC3\xA9}"sv, "invalid character '\xC3\x83' looking for beginning of value"},
    {"{\"a\":\xC2\x80}"sv, "invalid character '\xC3\x82' looking for beginning of value"},
    {"{\"a\":\xC2\xA0}"sv, "invalid character '\xC3\x82' looking for beginning of value"},
    {"{\"a\":\xC2\xAD}"sv, "invalid character '\xC3\x82' looking for beginning of value"},
    {"{\"a\":\xE2\x82\xAC}"sv, "invalid character '\xC3\xA2' looking for beginning of value"},
    {"{\"a\":\x0B}"sv, "invalid character '\\v' looking for beginning of value"},
    {"{\"a\":\x07}"sv, "invalid character '\\a' looking for beginning of value"},
    {"{\"a\":\x08}"sv, "invalid character '\\b' looking for beginning of value"},
    {"{\"a\":\x0C}"sv, "invalid character '\\f' looking for beginning of value"},
    {"{\"a\":\r\n\t @}"sv, "invalid character '@' looking for beginning of value"},
    {"{\"a\":1,\"b\"}"sv, "invalid character '}' after object key"},
    {"{\"a\"::1}"sv, "invalid character ':' looking for beginning of value"},
    {"{\"a\":1:}"sv, "invalid character ':' after object key:value pair"},
    {"{\"batch\":\"x\",\"a\":tru}"sv, "invalid character '}' in literal true (expecting 'e')"},
    {"{\"idle_heartbeat\":10,\"expires\":19}"sv, "heartbeat value too large"},
    {"{\"idle_heartbeat\":10}"sv, "heartbeat value too large"},
    {"{\"IDLE_HEARTBEAT\":10,\"expires\":19}"sv, "heartbeat value too large"},
    {"{\"idle_heartbeat\":10,\"Expires\":19}"sv, "heartbeat value too large"},
    {"{\"batch\":\"x\"}x"sv, "invalid character 'x' after top-level value"},
    {"{\"batch\":tru}"sv, "invalid character '}' in literal true (expecting 'e')"},
    {"{\"batch\":1}\n{\"batch\":2}"sv, "invalid character '{' after top-level value"},
    {"{\"a\":1}\xEF\xBB\xBF"sv, "invalid character '\xC3\xAF' after top-level value"},
    {"{\"a\":1,\"a\":}"sv, "invalid character '}' looking for beginning of value"},
    {"{\"expires\":-5,\"idle_heartbeat\":1}"sv, "heartbeat value too large"},
    {"{\"a\":\"x\\u00e9\\uDBFF\\uDFFF\"}x"sv, "invalid character 'x' after top-level value"},
    {"{\"a\":1}   }"sv, "invalid character '}' after top-level value"},
    {"{\"a\":\xE9}"sv, "invalid character '\xC3\xA9' looking for beginning of value"},
    {"{\"\x01\":1}"sv, "invalid character '\\x01' in string literal"},
    {"{\"a\\q\":1}"sv, "invalid character 'q' in string escape code"},
    {"{\"no_wait\":tRue}"sv, "invalid character 'R' in literal true (expecting 'r')"},
    {"{\"batch\":0x10}"sv, "invalid character 'x' after object key:value pair"},
    {"{\"batch\":.5}"sv, "invalid character '.' looking for beginning of value"},
    {"{\"batch\":+1}"sv, "invalid character '+' looking for beginning of value"},
    {"{\"batch\":Infinity}"sv, "invalid character 'I' looking for beginning of value"},
    {"{\"batch\":NaN}"sv, "invalid character 'N' looking for beginning of value"},
    {"{\"batch\":00}"sv, "invalid character '0' after object key:value pair"},
    {"{\"batch\":-01}"sv, "invalid character '1' after object key:value pair"},
    {"{\"a\":\x80}"sv, "invalid character '\\u0080' looking for beginning of value"},
    {"{\"a\":\x9F}"sv, "invalid character '\\u009f' looking for beginning of value"},
    {"{\"a\":\xA0}"sv, "invalid character '\\u00a0' looking for beginning of value"},
    {"{\"a\":\xAD}"sv, "invalid character '\\u00ad' looking for beginning of value"},
    {"{\"a\":\xA1}"sv, "invalid character '\xC2\xA1' looking for beginning of value"},
    {"{\"a\":\xFF}"sv, "invalid character '\xC3\xBF' looking for beginning of value"},
    {"{\"a\":\xC3}"sv, "invalid character '\xC3\x83' looking for beginning of value"},
    {"{\"a\":1\"}"sv, "invalid character '\"' after object key:value pair"},
    {"{\"a\":\x1B}"sv, "invalid character '\\x1b' looking for beginning of value"},
    {"{\"a\":\r}"sv, "invalid character '}' looking for beginning of value"},
    {"{\"a\":1}\x85"sv, "invalid character '\\u0085' after top-level value"},
    {"{\"batch\":\xC2\x85}"sv, "invalid character '\xC3\x82' looking for beginning of value"},
    {"{\"a\":[]]}"sv, "invalid character ']' after object key:value pair"},
    {"{\"a\":1."sv, "invalid character ' ' after decimal point in numeric literal"},
    {"{\"a\":tr"sv, "invalid character ' ' in literal true (expecting 'u')"},
    {"{\"a\":\"\\u12"sv, "invalid character ' ' in \\u hexadecimal character escape"},
    {"{\"a\":-"sv, "invalid character ' ' in numeric literal"},
    {"{\"a\":1e"sv, "invalid character ' ' in exponent of numeric literal"},
    {"{\"a\":1e+"sv, "invalid character ' ' in exponent of numeric literal"},
    {"{\"a\":1"sv, "unexpected end of JSON input"},
    {"{\"a\":\"abc"sv, "unexpected end of JSON input"},
    {"{\"a\":\"\\"sv, "invalid character ' ' in string escape code"},
    {"{\"a\":{"sv, "unexpected end of JSON input"},
    {"{\"a\":["sv, "unexpected end of JSON input"},
    {"{\"a\":t"sv, "invalid character ' ' in literal true (expecting 'r')"},
    {"{\"a\":nul"sv, "invalid character ' ' in literal null (expecting 'l')"},
    {"{\"a\":fals"sv, "invalid character ' ' in literal false (expecting 'e')"},
    {"{\"a\":[1"sv, "unexpected end of JSON input"},
    {"{\"a\":0"sv, "unexpected end of JSON input"},
    {"{\"a\":-0.5"sv, "unexpected end of JSON input"},
    {"{\"a\":1.5e3"sv, "unexpected end of JSON input"},
};

TEST(NextRequest, SyntaxErrorsInGoWords) {
    for (const Rejected& test : kSyntaxErrors) {
        EXPECT_EQ(error_of(test.body), test.error) << test.body;
    }
}

struct TypeError {
    std::string_view body;
    std::string_view value;  // how Go names the JSON value
    std::string_view field;
    std::string_view go_type;
};

constexpr TypeError kTypeErrors[] = {
    {"{\"a\xC3\":1,\"batch\":\"x\"}"sv, "string", "batch", "int"},
    {"{\"batch\":\"1\"}"sv, "string", "batch", "int"},
    {"{\"batch\":1.5}"sv, "number 1.5", "batch", "int"},
    {"{\"batch\":true}"sv, "bool", "batch", "int"},
    {"{\"batch\":false}"sv, "bool", "batch", "int"},
    {"{\"batch\":{}}"sv, "object", "batch", "int"},
    {"{\"batch\":[]}"sv, "array", "batch", "int"},
    {"{\"batch\":1e3}"sv, "number 1e3", "batch", "int"},
    {"{\"batch\":9223372036854775808}"sv, "number 9223372036854775808", "batch", "int"},
    {"{\"batch\":-9223372036854775809}"sv, "number -9223372036854775809", "batch", "int"},
    {"{\"batch\":1E400}"sv, "number 1E400", "batch", "int"},
    {"{\"expires\":\"1s\"}"sv, "string", "expires", "time.Duration"},
    {"{\"expires\":1.0}"sv, "number 1.0", "expires", "time.Duration"},
    {"{\"expires\":true}"sv, "bool", "expires", "time.Duration"},
    {"{\"expires\":[1]}"sv, "array", "expires", "time.Duration"},
    {"{\"expires\":{\"a\":1}}"sv, "object", "expires", "time.Duration"},
    {"{\"max_bytes\":\"x\"}"sv, "string", "max_bytes", "int"},
    {"{\"max_bytes\":2.5}"sv, "number 2.5", "max_bytes", "int"},
    {"{\"max_bytes\":false}"sv, "bool", "max_bytes", "int"},
    {"{\"no_wait\":1}"sv, "number", "no_wait", "bool"},
    {"{\"no_wait\":\"true\"}"sv, "string", "no_wait", "bool"},
    {"{\"no_wait\":{}}"sv, "object", "no_wait", "bool"},
    {"{\"no_wait\":[]}"sv, "array", "no_wait", "bool"},
    {"{\"no_wait\":0.5}"sv, "number", "no_wait", "bool"},
    {"{\"idle_heartbeat\":\"5s\"}"sv, "string", "idle_heartbeat", "time.Duration"},
    {"{\"idle_heartbeat\":1.5}"sv, "number 1.5", "idle_heartbeat", "time.Duration"},
    {"{\"idle_heartbeat\":true}"sv, "bool", "idle_heartbeat", "time.Duration"},
    {"{\"BATCH\":\"x\"}"sv, "string", "batch", "int"},
    {"{\"Batch\":\"x\"}"sv, "string", "batch", "int"},
    {"{\"NO_WAIT\":1}"sv, "number", "no_wait", "bool"},
    {"{\"Max_Bytes\":\"x\"}"sv, "string", "max_bytes", "int"},
    {"{\"EXPIRE\xC5\xBF\":\"x\"}"sv, "string", "expires", "time.Duration"},
    {"{\"Idle_HeartBeat\":\"x\"}"sv, "string", "idle_heartbeat", "time.Duration"},
    {"{\"\\u0062atch\":\"x\"}"sv, "string", "batch", "int"},
    {"{\"batch\":\"x\",\"expires\":\"y\"}"sv, "string", "batch", "int"},
    {"{\"expires\":\"y\",\"batch\":\"x\"}"sv, "string", "expires", "time.Duration"},
    {"{\"batch\":1,\"batch\":\"x\"}"sv, "string", "batch", "int"},
    {"{\"batch\":\"x\",\"batch\":1}"sv, "string", "batch", "int"},
    {" {\"batch\":\"x\"} "sv, "string", "batch", "int"},
    {"\xC2\xA0{\"batch\":\"x\"}\xE3\x80\x80"sv, "string", "batch", "int"},
    {"\x0B{\"batch\":\"x\"}\x0C"sv, "string", "batch", "int"},
    {"{\"a\":\"\xFF\",\"batch\":\"\xC3\xA9\"}"sv, "string", "batch", "int"},
    {"{\"a\":[{\"b\":\"\\\"\"}],\"batch\":\"x\"}"sv, "string", "batch", "int"},
    {"{\"batch\":\"\\ud800\"}"sv, "string", "batch", "int"},
    {"{\"a\":0.0e-0,\"b\":-0.1E+10,\"c\":[true,false,null],\"batch\":\"x\"}"sv, "string", "batch",
     "int"},
    {"{\"a\":1 , \"batch\" : \"x\" }"sv, "string", "batch", "int"},
    {"{\"batch\":1.0}"sv, "number 1.0", "batch", "int"},
    {"{\"batch\":1.5e+3}"sv, "number 1.5e+3", "batch", "int"},
    {"{\"batch\":2e0}"sv, "number 2e0", "batch", "int"},
    {"{\"batch\":20e-1}"sv, "number 20e-1", "batch", "int"},
    {"{\"max_bytes\":99999999999999999999}"sv, "number 99999999999999999999", "max_bytes", "int"},
    {"{\"batch\":\"x\"}  \t\n"sv, "string", "batch", "int"},
};

TEST(NextRequest, TypeErrorsNameValueFieldAndGoType) {
    for (const TypeError& test : kTypeErrors) {
        EXPECT_EQ(error_of(test.body), "json: cannot unmarshal " + std::string(test.value) +
                                           " into Go struct field JSApiConsumerGetNextRequest." +
                                           std::string(test.field) + " of type " +
                                           std::string(test.go_type))
            << test.body;
    }
}

TEST(NextRequest, TypeErrorTextIsGoUnmarshalTypeError) {
    EXPECT_EQ(error_of(R"({"Batch":1.5})"),
              "json: cannot unmarshal number 1.5 into Go struct field "
              "JSApiConsumerGetNextRequest.batch of type int");
    EXPECT_EQ(error_of(R"({"idle_heartbeat":[]})"),
              "json: cannot unmarshal array into Go struct field "
              "JSApiConsumerGetNextRequest.idle_heartbeat of type time.Duration");
}

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

struct Accepted {
    std::string_view body;
    NextRequest expected;
};

// The comments give nats-server's answer where it showed a field; "-" is no answer (the
// request waited).
constexpr Accepted kAccepted[] = {
    {""sv, {.batch = 1}},                           // not sent: read from nextReqFromMsg
    {"  "sv, {.batch = 1}},                         // -
    {"5"sv, {.batch = 5}},                          // 409 MaxRequestBatch
    {" 5 "sv, {.batch = 5}},                        // 409 MaxRequestBatch
    {"+5"sv, {.batch = 5}},                         // 409 MaxRequestBatch
    {"4"sv, {.batch = 4}},                          // 409 MaxRequestBatch
    {"3"sv, {.batch = 3}},                          // -
    {"-5"sv, {.batch = -5}},                        // -
    {"-0"sv, {.batch = 0}},                         // -
    {"5x"sv, {.batch = 1}},                         // -
    {"abc"sv, {.batch = 1}},                        // -
    {"9223372036854775808"sv, {.batch = 1}},        // -
    {"\xEF\xBB\xBF{\"batch\":5}"sv, {.batch = 1}},  // -
    {"{}"sv, {.batch = 0}},                         // -
    {"{} "sv, {.batch = 0}},                        // -
    {"{\"a\":1}"sv, {.batch = 0}},                  // -
    {"{\"a\" \t\n\r:\r1}"sv, {.batch = 0}},         // -
    {"{\"a\":\"\\uD800\"}"sv, {.batch = 0}},        // -
    {"{\"a\":\"\xFF\xFE\"}"sv, {.batch = 0}},       // -
    {"{\"\xE2\x84\xAA"
     "ey\":\"x\"}"sv,
     {.batch = 0}},                                                          // -
    {"{\"batch\":5}"sv, {.batch = 5}},                                       // 409 MaxRequestBatch
    {"\r\n{\"batch\":5}\t"sv, {.batch = 5}},                                 // 409 MaxRequestBatch
    {"{\"batch\":-1}"sv, {.batch = -1}},                                     // -
    {"{\"batch\":-0}"sv, {.batch = 0}},                                      // -
    {"{\"batch\":9223372036854775807}"sv, {.batch = kInt64Max}},             // 409 MaxRequestBatch
    {"{\"batch\":null}"sv, {.batch = 0}},                                    // -
    {"{\"unknown\":\"x\",\"batch\":2}"sv, {.batch = 2}},                     // -
    {"{\"batch\":2,\"BATCH\":5}"sv, {.batch = 5}},                           // 409 MaxRequestBatch
    {"{\"a\":{\"batch\":\"x\"},\"batch\":9}"sv, {.batch = 9}},               // 409 MaxRequestBatch
    {"{\"a\":\"\\/\\b\\f\\n\\r\\t\\\\\\\"\",\"batch\":9}"sv, {.batch = 9}},  // 409 MaxRequestBatch
    {"{\"batch\":9,\"expires\":0}"sv, {.batch = 9}},                         // 409 MaxRequestBatch
    {"{\"expires\":2000000000}"sv,
     {.expires_ns = 2'000'000'000, .batch = 0}},  // 409 MaxRequestExpires
    {"{\"EXPIRES\":2000000000}"sv,
     {.expires_ns = 2'000'000'000, .batch = 0}},                // 409 MaxRequestExpires
    {"{\"max_bytes\":200}"sv, {.batch = 0, .max_bytes = 200}},  // 409 MaxRequestMaxBytes
    {"{\"MAX_BYTES\":200}"sv, {.batch = 0, .max_bytes = 200}},  // 409 MaxRequestMaxBytes
    {"{\"no_wait\":true}"sv, {.batch = 0, .no_wait = true}},    // 404 No Messages
    {"{\"No_Wait\":true}"sv, {.batch = 0, .no_wait = true}},    // 404 No Messages
    {"{\"no_wait\":true,\"no_wait\":false}"sv, {.batch = 0}},   // -
    {"{\"idle_heartbeat\":10,\"expires\":20}"sv,
     {.expires_ns = 20, .batch = 0, .idle_heartbeat_ns = 10}},               // 408 Request Timeout
    {"{\"idle_heartbeat\":-10}"sv, {.batch = 0, .idle_heartbeat_ns = -10}},  // -
    {"{\"batch\":null,\"expires\":null,\"no_wait\":null,\"max_bytes\":null,"
     "\"idle_heartbeat\":null}"sv,
     {.batch = 0}},  // -
    // Doubling 2^62 wraps to -2^63 in Go, which is not above expires.
    {"{\"idle_heartbeat\":4611686018427387904,\"expires\":1}"sv,
     {.expires_ns = 1, .batch = 0, .idle_heartbeat_ns = 4611686018427387904}},  // 408
    {"{\"idle_heartbeat\":4611686018427387904}"sv,
     {.batch = 0, .idle_heartbeat_ns = 4611686018427387904}},  // -
};

TEST(NextRequest, AcceptedBodiesGiveNextReqFromMsgFields) {
    for (const Accepted& test : kAccepted) {
        auto request = parse_next_request(test.body);
        ASSERT_TRUE(request.has_value()) << test.body << ": " << request.error();
        EXPECT_EQ(request->expires_ns, test.expected.expires_ns) << test.body;
        EXPECT_EQ(request->batch, test.expected.batch) << test.body;
        EXPECT_EQ(request->max_bytes, test.expected.max_bytes) << test.body;
        EXPECT_EQ(request->no_wait, test.expected.no_wait) << test.body;
        EXPECT_EQ(request->idle_heartbeat_ns, test.expected.idle_heartbeat_ns) << test.body;
    }
}

// Go's scanner allows 10000 open objects and arrays, the top-level object included.
TEST(NextRequest, NestingDepthLimitIsGos) {
    auto nested = [](size_t arrays) {
        return "{\"a\":" + std::string(arrays, '[') + std::string(arrays, ']') +
               ",\"batch\":\"x\"}";
    };
    EXPECT_EQ(error_of(nested(9'999)),
              "json: cannot unmarshal string into Go struct field "
              "JSApiConsumerGetNextRequest.batch of type int");
    EXPECT_EQ(error_of(nested(10'000)), "invalid character '[' exceeded max depth");

    std::string objects = "{\"a\":";
    for (int i = 0; i < 9'999; ++i) objects += "{\"b\":";
    objects += "1" + std::string(10'000, '}');
    EXPECT_TRUE(parse_next_request(objects).has_value());
}

}  // namespace
}  // namespace ringtail::proto::js
