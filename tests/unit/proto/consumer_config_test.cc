#include "proto/js/consumer_config.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "proto/js/api.h"
#include "proto/js/stream_config.h"

// Expected bytes in this file were taken from a real nats-server 2.9.10 (Debian's build, Go
// 1.19) answering the same CONSUMER.CREATE requests over a raw socket, unless a test says
// otherwise. The fields and rules newer than 2.9.10 follow nats-server 2.10/2.11's source.
// The helpers' namespace keeps them apart from the stream tests' same-named ones when both files
// are compiled as one unit.
namespace ringtail::proto::js::consumer_tests {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr int64_t kSecondNs = 1'000'000'000;

// The error member as nats-server writes it (to_json(ApiError) is an unordered json).
std::string error_json(const ApiError& error) {
    OrderedJson out = {{"code", error.code}};
    if (error.err_code != 0) out["err_code"] = error.err_code;
    if (!error.description.empty()) out["description"] = error.description;
    return go_marshal(out);
}

std::string wire(const ConsumerConfig& config) { return go_marshal(to_ordered_json(config)); }

ConsumerCreateRequest parsed(std::string_view body) {
    auto request = parse_consumer_create_request(body);
    EXPECT_TRUE(request.has_value()) << body;
    return request.value_or(ConsumerCreateRequest{});
}

// The config member of a request body.
ConsumerConfig parsed_config(std::string_view config_json) {
    return parsed(R"({"stream_name":"S","config":)" + std::string(config_json) + "}").config;
}

StreamConfig stream(std::string_view body) {
    auto config = parse_stream_config(body);
    EXPECT_TRUE(config.has_value()) << body;
    auto checked = check_stream_config(config.value_or(StreamConfig{}));
    EXPECT_TRUE(checked.has_value()) << body;
    return checked.value_or(StreamConfig{});
}

const StreamConfig& plain_stream() {
    static const StreamConfig kStream = stream(R"({"name":"S","subjects":["s.>"]})");
    return kStream;
}

ConsumerConfig checked(std::string_view config_json, const ConsumerCheckOptions& options = {}) {
    auto config = check_consumer_config(parsed_config(config_json), plain_stream(), options);
    EXPECT_TRUE(config.has_value()) << config_json << " -> " << error_json(config.error());
    return config.value_or(ConsumerConfig{});
}

ApiError check_error(std::string_view config_json, const ConsumerCheckOptions& options = {},
                     const StreamConfig& parent = plain_stream()) {
    auto config = check_consumer_config(parsed_config(config_json), parent, options);
    EXPECT_FALSE(config.has_value()) << config_json;
    return config.has_value() ? ApiError{} : config.error();
}

TEST(ConsumerLimits, TheStreamsAreTheDefaultsAndTheCeilings) {
    StreamConfig limited = stream(
        R"({"name":"L","subjects":["l.>"],"consumer_limits":{"inactive_threshold":60000000000,"max_ack_pending":50}})");
    EXPECT_EQ(limited.consumer_limits_max_ack_pending, 50);
    auto defaulted = check_consumer_config(parsed_config(R"({"durable_name":"d","ack_policy":"explicit"})"), limited);
    ASSERT_TRUE(defaulted) << error_json(defaulted.error());
    EXPECT_EQ(defaulted->max_ack_pending, 50);
    EXPECT_EQ(defaulted->inactive_threshold_ns, 60'000'000'000);
    ApiError pending = check_error(R"({"durable_name":"d","ack_policy":"explicit","max_ack_pending":51})", {}, limited);
    EXPECT_EQ(pending.err_code, 10121);
    EXPECT_EQ(pending.description, "consumer max ack pending exceeds system limit of 50");
    ApiError threshold = check_error(R"({"durable_name":"d","inactive_threshold":120000000000})", {}, limited);
    EXPECT_EQ(threshold.err_code, 10153);
    EXPECT_EQ(threshold.description, "consumer inactive threshold exceeds system limit of 1m0s");
}

// ---------------------------------------------------------------------------------------------
// CONSUMER.CREATE against nats-server: parse, the create handler's checks, defaults and
// checkConsumerCfg, the name checks and the config nats-server stores, compared with the
// reply's "config" or "error" member byte for byte. Every consumer name is new on the server.

enum Server : uint8_t {
    kDefault,  // no limits
    kLimits,   // jetstream { limits { max_ack_pending: 100, max_request_batch: 10 } }
};

struct CreateCase {
    const char* label;
    Server server;
    const char* subject;
    const char* body;
    const char* expected;
};

const CreateCase kCreateCases[] = {
    {"empty body", kDefault, "$JS.API.CONSUMER.CREATE.S", "",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"null body", kDefault, "$JS.API.CONSUMER.CREATE.S", "null",
     "{\"code\":400,\"err_code\":10056,\"description\":\"stream name in subject does not match "
     "request\"}"},
    {"array body", kDefault, "$JS.API.CONSUMER.CREATE.S", "[]",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"trailing", kDefault, "$JS.API.CONSUMER.CREATE.S", "{\"stream_name\":\"S\",\"config\":{}} x",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"config null", kDefault, "$JS.API.CONSUMER.CREATE.S.CN",
     "{\"stream_name\":\"S\",\"config\":null}",
     "{\"name\":\"CN\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"config absent", kDefault, "$JS.API.CONSUMER.CREATE.S.CA", "{\"stream_name\":\"S\"}",
     "{\"name\":\"CA\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"config string", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":\"x\"}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"stream_name number", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":5,\"config\":{}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"deliver null", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":null}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"deliver undefined", kDefault, "$JS.API.CONSUMER.CREATE.S.DU",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"undefined\"}}",
     "{\"name\":\"DU\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"deliver ALL", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"ALL\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"deliver unknown", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"first\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"ack Explicit", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"ack_policy\":\"Explicit\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"ack number", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"ack_policy\":2}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"replay original", kDefault, "$JS.API.CONSUMER.CREATE.S.RO",
     "{\"stream_name\":\"S\",\"config\":{\"replay_policy\":\"original\"}}",
     "{\"name\":\"RO\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"original\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"replay null", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"replay_policy\":null}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"max_deliver 1.0", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"max_deliver\":1.0}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"max_deliver string", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"max_deliver\":\"5\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"opt_start_seq -1", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"opt_start_seq\":-1}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"rate_limit -1", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"rate_limit_bps\":-1}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"rate_limit max", kDefault, "$JS.API.CONSUMER.CREATE.S.RLM",
     "{\"stream_name\":\"S\",\"config\":{\"rate_limit_bps\":18446744073709551615,\"deliver_"
     "subject\":\"rl.max\"}}",
     "{\"name\":\"RLM\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"rate_limit_bps\":18446744073709551615,\"deliver_subject\":"
     "\"rl.max\",\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"ack_wait too big", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"ack_wait\":9223372036854775808}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"max_ack_pending big", kDefault, "$JS.API.CONSUMER.CREATE.S.MAPB",
     "{\"stream_name\":\"S\",\"config\":{\"ack_policy\":\"explicit\",\"max_ack_pending\":"
     "5000000000}}",
     "{\"name\":\"MAPB\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_"
     "pending\":5000000000,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"backoff null element", kDefault, "$JS.API.CONSUMER.CREATE.S.BN",
     "{\"stream_name\":\"S\",\"config\":{\"backoff\":[1000000000,null],\"max_deliver\":5}}",
     "{\"name\":\"BN\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"ack_wait\":1000000000,"
     "\"max_deliver\":5,\"backoff\":[1000000000,0],\"replay_policy\":\"instant\",\"max_waiting\":"
     "512,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"backoff float", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"backoff\":[1e9]}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"backoff null", kDefault, "$JS.API.CONSUMER.CREATE.S.BNL",
     "{\"stream_name\":\"S\",\"config\":{\"backoff\":null}}",
     "{\"name\":\"BNL\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"opt_start_time bad", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"opt_start_time\":\"yesterday\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"opt_start_time number", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"opt_start_time\":5}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"opt_start_time null", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
     "null}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver by "
     "start time, but optional start time is not set\"}"},
    {"opt_start_time utc", kDefault, "$JS.API.CONSUMER.CREATE.S.OT1",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
     "\"2024-01-02T03:04:05.120000000Z\"}}",
     "{\"name\":\"OT1\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2024-01-02T03:04:"
     "05.12Z\",\"ack_policy\":\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"opt_start_time offset", kDefault, "$JS.API.CONSUMER.CREATE.S.OT2",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
     "\"2024-01-02T03:04:05,5-07:30\"}}",
     "{\"name\":\"OT2\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2024-01-02T03:04:"
     "05.5-07:30\",\"ack_policy\":\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"opt_start_time minus zero", kDefault, "$JS.API.CONSUMER.CREATE.S.OT3",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
     "\"2024-01-02T03:04:05-00:00\"}}",
     "{\"name\":\"OT3\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2024-01-02T03:04:"
     "05Z\",\"ack_policy\":\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"opt_start_time zero time", kDefault, "$JS.API.CONSUMER.CREATE.S.OT4",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_time\",\"opt_start_time\":"
     "\"0001-01-01T00:00:00Z\"}}",
     "{\"name\":\"OT4\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"0001-01-01T00:00:"
     "00Z\",\"ack_policy\":\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"opt_start_time zero time all", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"opt_start_time\":\"0001-01-01T00:00:00Z\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver all, "
     "but optional start time is also set\"}"},
    {"case-insensitive keys", kDefault, "$JS.API.CONSUMER.CREATE.S.CI",
     "{\"Stream_Name\":\"S\",\"CONFIG\":{\"Ack_Policy\":\"explicit\",\"DESCRIPTION\":\"d\",\"Max_"
     "Deliver\":3}}",
     "{\"name\":\"CI\",\"description\":\"d\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":3,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"inactive_threshold\":5000000000,\"num_replicas\":"
     "0}"},
    {"last duplicate wins", kDefault, "$JS.API.CONSUMER.CREATE.S.LD",
     "{\"stream_name\":\"S\",\"config\":{\"description\":\"a\",\"description\":\"b\",\"max_"
     "deliver\":2,\"MAX_DELIVER\":4}}",
     "{\"name\":\"LD\",\"description\":\"b\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
     "\"max_deliver\":4,\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":"
     "5000000000,\"num_replicas\":0}"},
    {"duplicate config merges", kDefault, "$JS.API.CONSUMER.CREATE.S.DC",
     "{\"stream_name\":\"S\",\"config\":{\"description\":\"a\",\"ack_policy\":\"all\"},\"config\":{"
     "\"max_deliver\":7}}",
     "{\"name\":\"DC\",\"description\":\"a\",\"deliver_policy\":\"all\",\"ack_policy\":\"all\","
     "\"ack_wait\":30000000000,\"max_deliver\":7,\"replay_policy\":\"instant\",\"max_waiting\":512,"
     "\"max_ack_pending\":1000,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"unknown fields", kDefault, "$JS.API.CONSUMER.CREATE.S.UF",
     "{\"stream_name\":\"S\",\"foo\":[1,{\"x\":1e400}],\"config\":{\"bar\":{\"y\":null},\"ack_"
     "policy\":\"explicit\"}}",
     "{\"name\":\"UF\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_"
     "pending\":1000,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"escaped key", kDefault, "$JS.API.CONSUMER.CREATE.S.EK",
     "{\"stream_name\":\"S\",\"config\":{\"descr\\u0069ption\":\"e\"}}",
     "{\"name\":\"EK\",\"description\":\"e\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
     "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":"
     "5000000000,\"num_replicas\":0}"},
    {"sample_freq", kDefault, "$JS.API.CONSUMER.CREATE.S.SF",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\"50%\",\"ack_policy\":\"explicit\"}}",
     "{\"name\":\"SF\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"sample_freq\":\"50%\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"inactive_threshold\":5000000000,\"num_replicas\":"
     "0}"},
    {"stream mismatch", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"T\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10056,\"description\":\"stream name in subject does not match "
     "request\"}"},
    {"stream mismatch new", kDefault, "$JS.API.CONSUMER.CREATE.S.X",
     "{\"stream_name\":\"T\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10056,\"description\":\"stream name in subject does not match "
     "request\"}"},
    {"stream name empty", kDefault, "$JS.API.CONSUMER.CREATE.S", "{\"config\":{}}",
     "{\"code\":400,\"err_code\":10056,\"description\":\"stream name in subject does not match "
     "request\"}"},
    {"path separator", kDefault, "$JS.API.CONSUMER.CREATE.S.a/b",
     "{\"stream_name\":\"S\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10127,\"description\":\"Consumer name can not contain path "
     "separators\"}"},
    {"backslash", kDefault, "$JS.API.CONSUMER.CREATE.S.a\\b",
     "{\"stream_name\":\"S\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10127,\"description\":\"Consumer name can not contain path "
     "separators\"}"},
    {"durable path separator", kDefault, "$JS.API.CONSUMER.DURABLE.CREATE.S.a/b",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"a/b\"}}",
     "{\"code\":400,\"err_code\":10127,\"description\":\"Consumer name can not contain path "
     "separators\"}"},
    {"durable not set", kDefault, "$JS.API.CONSUMER.DURABLE.CREATE.S.D1",
     "{\"stream_name\":\"S\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10018,\"description\":\"consumer expected to be durable but a "
     "durable name was not set\"}"},
    {"durable mismatch", kDefault, "$JS.API.CONSUMER.DURABLE.CREATE.S.D1",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"D2\"}}",
     "{\"code\":400,\"err_code\":10017,\"description\":\"consumer name in subject does not match "
     "durable name in request\"}"},
    {"durable ok", kDefault, "$JS.API.CONSUMER.DURABLE.CREATE.S.D3",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"D3\",\"ack_policy\":\"explicit\",\"max_"
     "ack_pending\":20}}",
     "{\"durable_name\":\"D3\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_"
     "pending\":20,\"num_replicas\":0}"},
    {"durable name differs", kDefault, "$JS.API.CONSUMER.DURABLE.CREATE.S.D4",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"D4\",\"name\":\"X\"}}",
     "{\"code\":400,\"err_code\":10132,\"description\":\"Consumer Durable and Name have to be "
     "equal if both are provided\"}"},
    {"durable same name", kDefault, "$JS.API.CONSUMER.DURABLE.CREATE.S.D5",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"D5\",\"name\":\"D5\"}}",
     "{\"durable_name\":\"D5\",\"name\":\"D5\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
     "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"num_replicas\":0}"},
    {"new durable mismatch", kDefault, "$JS.API.CONSUMER.CREATE.S.N1",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"N2\"}}",
     "{\"code\":400,\"err_code\":10017,\"description\":\"consumer name in subject does not match "
     "durable name in request\"}"},
    {"new durable ok", kDefault, "$JS.API.CONSUMER.CREATE.S.N3",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"N3\"}}",
     "{\"durable_name\":\"N3\",\"name\":\"N3\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
     "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"num_replicas\":0}"},
    {"new name overridden", kDefault, "$JS.API.CONSUMER.CREATE.S.N4",
     "{\"stream_name\":\"S\",\"config\":{\"name\":\"OTHER\"}}",
     "{\"name\":\"N4\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"legacy ephemeral durable", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"E\"}}",
     "{\"code\":400,\"err_code\":10020,\"description\":\"consumer expected to be ephemeral but a "
     "durable name was set in request\"}"},
    {"legacy ephemeral named", kDefault, "$JS.API.CONSUMER.CREATE.S",
     "{\"stream_name\":\"S\",\"config\":{\"name\":\"LEN\"}}",
     "{\"name\":\"LEN\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"filter mismatch", kDefault, "$JS.API.CONSUMER.CREATE.S.F1.s.a",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\"s.b\"}}",
     "{\"code\":400,\"err_code\":10131,\"description\":\"Consumer create request did not match "
     "filtered subject from create subject\"}"},
    {"filter match", kDefault, "$JS.API.CONSUMER.CREATE.S.F2.s.a",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\"s.a\"}}",
     "{\"name\":\"F2\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"s.a\",\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"filter missing in body", kDefault, "$JS.API.CONSUMER.CREATE.S.F3.s.a",
     "{\"stream_name\":\"S\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10131,\"description\":\"Consumer create request did not match "
     "filtered subject from create subject\"}"},
    {"one-token filter ignored", kDefault, "$JS.API.CONSUMER.CREATE.S.F4.x",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\"s.b\"}}",
     "{\"name\":\"F4\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"s.b\",\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"filter wildcard subject", kDefault, "$JS.API.CONSUMER.CREATE.S.F5.s.*",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\"s.*\"}}",
     "{\"name\":\"F5\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"s.*\",\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"replicas 2", kDefault, "$JS.API.CONSUMER.CREATE.S.R2",
     "{\"stream_name\":\"S\",\"config\":{\"num_replicas\":2}}",
     "{\"code\":500,\"err_code\":10074,\"description\":\"replicas \\u003e 1 not supported in "
     "non-clustered mode\"}"},
    {"replicas 2 durable mismatch", kDefault, "$JS.API.CONSUMER.CREATE.S.R3",
     "{\"stream_name\":\"S\",\"config\":{\"num_replicas\":2,\"durable_name\":\"X\"}}",
     "{\"code\":400,\"err_code\":10017,\"description\":\"consumer name in subject does not match "
     "durable name in request\"}"},
    {"replicas -1", kDefault, "$JS.API.CONSUMER.CREATE.S.R4",
     "{\"stream_name\":\"S\",\"config\":{\"num_replicas\":-1}}",
     "{\"code\":400,\"err_code\":10133,\"description\":\"replicas count cannot be negative\"}"},
    {"replicas 1", kDefault, "$JS.API.CONSUMER.CREATE.S.R5",
     "{\"stream_name\":\"S\",\"config\":{\"num_replicas\":1}}",
     "{\"name\":\"R5\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":1}"},
    {"mismatch before path", kDefault, "$JS.API.CONSUMER.CREATE.S.a/b",
     "{\"stream_name\":\"T\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10056,\"description\":\"stream name in subject does not match "
     "request\"}"},
    {"path before durable", kDefault, "$JS.API.CONSUMER.CREATE.S.a/b",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"zz\"}}",
     "{\"code\":400,\"err_code\":10127,\"description\":\"Consumer name can not contain path "
     "separators\"}"},
    {"backoff needs max_deliver", kDefault, "$JS.API.CONSUMER.CREATE.S.B1",
     "{\"stream_name\":\"S\",\"config\":{\"backoff\":[1000000000]}}",
     "{\"code\":400,\"err_code\":10116,\"description\":\"max deliver is required to be \\u003e "
     "length of backoff values\"}"},
    {"backoff max_deliver equal", kDefault, "$JS.API.CONSUMER.CREATE.S.B2",
     "{\"stream_name\":\"S\",\"config\":{\"backoff\":[1000000000,2000000000],\"max_deliver\":2}}",
     "{\"code\":400,\"err_code\":10116,\"description\":\"max deliver is required to be \\u003e "
     "length of backoff values\"}"},
    {"backoff ok", kDefault, "$JS.API.CONSUMER.CREATE.S.B3",
     "{\"stream_name\":\"S\",\"config\":{\"backoff\":[1000000000,2000000000],\"max_deliver\":3,"
     "\"ack_policy\":\"explicit\",\"ack_wait\":7}}",
     "{\"name\":\"B3\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "1000000000,\"max_deliver\":3,\"backoff\":[1000000000,2000000000],\"replay_policy\":"
     "\"instant\",\"max_waiting\":512,\"max_ack_pending\":1000,\"inactive_threshold\":5000000000,"
     "\"num_replicas\":0}"},
    {"deliver wildcard", kDefault, "$JS.API.CONSUMER.CREATE.S.P1",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"a.*\"}}",
     "{\"code\":400,\"err_code\":10079,\"description\":\"consumer deliver subject has "
     "wildcards\"}"},
    {"deliver wildcard gt", kDefault, "$JS.API.CONSUMER.CREATE.S.P1",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\">\"}}",
     "{\"code\":400,\"err_code\":10079,\"description\":\"consumer deliver subject has "
     "wildcards\"}"},
    {"deliver star in token", kDefault, "$JS.API.CONSUMER.CREATE.S.P1b",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"a.b*\"}}",
     "{\"name\":\"P1b\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"deliver_subject\":\"a.b*\",\"inactive_threshold\":5000000000,"
     "\"num_replicas\":0}"},
    {"deliver invalid", kDefault, "$JS.API.CONSUMER.CREATE.S.P2",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"a..b\"}}",
     "{\"code\":400,\"err_code\":10112,\"description\":\"invalid push consumer deliver subject\"}"},
    {"deliver space", kDefault, "$JS.API.CONSUMER.CREATE.S.P3",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"a b\"}}",
     "{\"code\":400,\"err_code\":10112,\"description\":\"invalid push consumer deliver subject\"}"},
    {"deliver cycle", kDefault, "$JS.API.CONSUMER.CREATE.S.P4",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"s.x\"}}",
     "{\"code\":400,\"err_code\":10081,\"description\":\"consumer deliver subject forms a "
     "cycle\"}"},
    {"deliver no cycle", kDefault, "$JS.API.CONSUMER.CREATE.S.P4b",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"s\"}}",
     "{\"name\":\"P4b\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"deliver_subject\":\"s\",\"inactive_threshold\":5000000000,"
     "\"num_replicas\":0}"},
    {"push max_waiting", kDefault, "$JS.API.CONSUMER.CREATE.S.P5",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"p5\",\"max_waiting\":5}}",
     "{\"code\":400,\"err_code\":10080,\"description\":\"consumer in push mode can not set max "
     "waiting\"}"},
    {"push ack none pending", kDefault, "$JS.API.CONSUMER.CREATE.S.P6",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"p6\",\"max_ack_pending\":5}}",
     "{\"code\":400,\"err_code\":10082,\"description\":\"consumer requires ack policy for max ack "
     "pending\"}"},
    {"push heartbeat small", kDefault, "$JS.API.CONSUMER.CREATE.S.P7",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"p7\",\"idle_heartbeat\":99999999}}",
     "{\"code\":400,\"err_code\":10083,\"description\":\"consumer idle heartbeat needs to be "
     "\\u003e= 100ms\"}"},
    {"push heartbeat ok", kDefault, "$JS.API.CONSUMER.CREATE.S.P8",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"p8\",\"idle_heartbeat\":100000000,"
     "\"flow_control\":true,\"ack_policy\":\"all\",\"headers_only\":true,\"deliver_group\":\"g\","
     "\"rate_limit_bps\":1000}}",
     "{\"name\":\"P8\",\"deliver_policy\":\"all\",\"ack_policy\":\"all\",\"ack_wait\":30000000000,"
     "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"rate_limit_bps\":1000,\"max_ack_pending\":"
     "1000,\"idle_heartbeat\":100000000,\"flow_control\":true,\"headers_only\":true,\"deliver_"
     "subject\":\"p8\",\"deliver_group\":\"g\",\"inactive_threshold\":5000000000,\"num_replicas\":"
     "0}"},
    {"push flow control no hb", kDefault, "$JS.API.CONSUMER.CREATE.S.P9",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"p9\",\"flow_control\":true}}",
     "{\"code\":400,\"err_code\":10108,\"description\":\"consumer with flow control also needs "
     "heartbeats\"}"},
    {"push ack none", kDefault, "$JS.API.CONSUMER.CREATE.S.P10",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"p10\",\"mem_storage\":true,\"replay_"
     "policy\":\"original\"}}",
     "{\"name\":\"P10\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"original\",\"deliver_subject\":\"p10\",\"inactive_threshold\":5000000000,"
     "\"num_replicas\":0,\"mem_storage\":true}"},
    {"wq pull ack none", kDefault, "$JS.API.CONSUMER.CREATE.WQ.W1",
     "{\"stream_name\":\"WQ\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10084,\"description\":\"consumer in pull mode requires ack "
     "policy\"}"},
    {"pull rate limit", kDefault, "$JS.API.CONSUMER.CREATE.S.L1",
     "{\"stream_name\":\"S\",\"config\":{\"rate_limit_bps\":1}}",
     "{\"code\":400,\"err_code\":10086,\"description\":\"consumer in pull mode can not have rate "
     "limit set\"}"},
    {"pull max_waiting negative", kDefault, "$JS.API.CONSUMER.CREATE.S.L2",
     "{\"stream_name\":\"S\",\"config\":{\"max_waiting\":-1}}",
     "{\"code\":400,\"err_code\":10087,\"description\":\"consumer max waiting needs to be "
     "positive\"}"},
    {"pull heartbeat", kDefault, "$JS.API.CONSUMER.CREATE.S.L3",
     "{\"stream_name\":\"S\",\"config\":{\"idle_heartbeat\":1000000000}}",
     "{\"code\":400,\"err_code\":10088,\"description\":\"consumer idle heartbeat requires a push "
     "based consumer\"}"},
    {"pull flow control", kDefault, "$JS.API.CONSUMER.CREATE.S.L4",
     "{\"stream_name\":\"S\",\"config\":{\"flow_control\":true}}",
     "{\"code\":400,\"err_code\":10089,\"description\":\"consumer flow control requires a push "
     "based consumer\"}"},
    {"pull max_batch negative", kDefault, "$JS.API.CONSUMER.CREATE.S.L5",
     "{\"stream_name\":\"S\",\"config\":{\"max_batch\":-1}}",
     "{\"code\":400,\"err_code\":10114,\"description\":\"consumer max request batch needs to be "
     "\\u003e 0\"}"},
    {"pull max_expires small", kDefault, "$JS.API.CONSUMER.CREATE.S.L6",
     "{\"stream_name\":\"S\",\"config\":{\"max_expires\":999999}}",
     "{\"code\":400,\"err_code\":10115,\"description\":\"consumer max request expires needs to be "
     "\\u003e= 1ms\"}"},
    {"pull max_expires ok", kDefault, "$JS.API.CONSUMER.CREATE.S.L7",
     "{\"stream_name\":\"S\",\"config\":{\"max_expires\":1000000,\"max_batch\":5,\"max_bytes\":"
     "1024,\"max_waiting\":7}}",
     "{\"name\":\"L7\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":7,\"max_batch\":5,\"max_expires\":1000000,"
     "\"max_bytes\":1024,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"pull max_expires negative", kDefault, "$JS.API.CONSUMER.CREATE.S.L8",
     "{\"stream_name\":\"S\",\"config\":{\"max_expires\":-5}}",
     "{\"code\":400,\"err_code\":10115,\"description\":\"consumer max request expires needs to be "
     "\\u003e= 1ms\"}"},
    {"direct pull", kDefault, "$JS.API.CONSUMER.CREATE.S.DI1",
     "{\"stream_name\":\"S\",\"config\":{\"direct\":true}}",
     "{\"code\":400,\"err_code\":10090,\"description\":\"consumer direct requires a push based "
     "consumer\"}"},
    {"direct durable", kDefault, "$JS.API.CONSUMER.CREATE.S.DI2",
     "{\"stream_name\":\"S\",\"config\":{\"direct\":true,\"durable_name\":\"DI2\",\"deliver_"
     "subject\":\"di2\"}}",
     "{\"code\":400,\"err_code\":10091,\"description\":\"consumer direct requires an ephemeral "
     "consumer\"}"},
    {"filter not subset", kDefault, "$JS.API.CONSUMER.CREATE.S.FS1",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\"t.x\"}}",
     "{\"code\":400,\"err_code\":10093,\"description\":\"consumer filter subject is not a valid "
     "subset of the interest subjects\"}"},
    {"filter invalid", kDefault, "$JS.API.CONSUMER.CREATE.S.FS2",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\"s..x\"}}",
     "{\"code\":400,\"err_code\":10093,\"description\":\"consumer filter subject is not a valid "
     "subset of the interest subjects\"}"},
    {"filter wider", kDefault, "$JS.API.CONSUMER.CREATE.S.FS3",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\">\"}}",
     "{\"name\":\"FS3\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"\\u003e\",\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"filter wider star", kDefault, "$JS.API.CONSUMER.CREATE.S.FS4",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\"*.x\"}}",
     "{\"code\":400,\"err_code\":10093,\"description\":\"consumer filter subject is not a valid "
     "subset of the interest subjects\"}"},
    {"filter same", kDefault, "$JS.API.CONSUMER.CREATE.S.FS5",
     "{\"stream_name\":\"S\",\"config\":{\"filter_subject\":\"s.>\"}}",
     "{\"name\":\"FS5\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"s.\\u003e\",\"replay_policy\":\"instant\",\"max_waiting\":512,"
     "\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"filter on mirror", kDefault, "$JS.API.CONSUMER.CREATE.M.FM1",
     "{\"stream_name\":\"M\",\"config\":{\"filter_subject\":\"s.a\"}}",
     "{\"name\":\"FM1\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"s.a\",\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"filter on mirror bad", kDefault, "$JS.API.CONSUMER.CREATE.M.FM2",
     "{\"stream_name\":\"M\",\"config\":{\"filter_subject\":\"m.a\"}}",
     "{\"code\":400,\"err_code\":10093,\"description\":\"consumer filter subject is not a valid "
     "subset of the interest subjects\"}"},
    {"filter on source", kDefault, "$JS.API.CONSUMER.CREATE.SRC.FR1",
     "{\"stream_name\":\"SRC\",\"config\":{\"filter_subject\":\"s.a\"}}",
     "{\"name\":\"FR1\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"s.a\",\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"filter on source own", kDefault, "$JS.API.CONSUMER.CREATE.SRC.FR2",
     "{\"stream_name\":\"SRC\",\"config\":{\"filter_subject\":\"src.x\"}}",
     "{\"name\":\"FR2\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"src.x\",\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"filter on source bad", kDefault, "$JS.API.CONSUMER.CREATE.SRC.FR3",
     "{\"stream_name\":\"SRC\",\"config\":{\"filter_subject\":\"q\"}}",
     "{\"code\":400,\"err_code\":10093,\"description\":\"consumer filter subject is not a valid "
     "subset of the interest subjects\"}"},
    {"filter on external", kDefault, "$JS.API.CONSUMER.CREATE.EXT.FE1",
     "{\"stream_name\":\"EXT\",\"config\":{\"filter_subject\":\"any..thing\"}}",
     "{\"name\":\"FE1\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"any..thing\",\"replay_policy\":\"instant\",\"max_waiting\":512,"
     "\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"filter on mirror of mirror", kDefault, "$JS.API.CONSUMER.CREATE.MM.FMM",
     "{\"stream_name\":\"MM\",\"config\":{\"filter_subject\":\"s.q\"}}",
     "{\"name\":\"FMM\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"filter_subject\":\"s.q\",\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"all with seq", kDefault, "$JS.API.CONSUMER.CREATE.S.DP1",
     "{\"stream_name\":\"S\",\"config\":{\"opt_start_seq\":5}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver all, "
     "but optional start sequence is also set\"}"},
    {"all with time", kDefault, "$JS.API.CONSUMER.CREATE.S.DP2",
     "{\"stream_name\":\"S\",\"config\":{\"opt_start_time\":\"2024-01-02T03:04:05Z\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver all, "
     "but optional start time is also set\"}"},
    {"last with seq", kDefault, "$JS.API.CONSUMER.CREATE.S.DP3",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"last\",\"opt_start_seq\":5}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver last, "
     "but optional start sequence is also set\"}"},
    {"last with time", kDefault, "$JS.API.CONSUMER.CREATE.S.DP4",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"last\",\"opt_start_time\":\"2024-01-"
     "02T03:04:05Z\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver last, "
     "but optional start time is also set\"}"},
    {"lps with seq", kDefault, "$JS.API.CONSUMER.CREATE.S.DP5",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"last_per_subject\",\"opt_start_seq\":"
     "5}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver last "
     "per subject, but optional start sequence is also set\"}"},
    {"lps with time", kDefault, "$JS.API.CONSUMER.CREATE.S.DP6",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"last_per_subject\",\"opt_start_"
     "time\":\"2024-01-02T03:04:05Z\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver last "
     "per subject, but optional start time is also set\"}"},
    {"lps no filter", kDefault, "$JS.API.CONSUMER.CREATE.S.DP7",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"last_per_subject\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver last "
     "per subject, but optional filter subject is not set\"}"},
    {"lps ok", kDefault, "$JS.API.CONSUMER.CREATE.S.DP8",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"last_per_subject\",\"filter_"
     "subject\":\"s.a\"}}",
     "{\"name\":\"DP8\",\"deliver_policy\":\"last_per_subject\",\"ack_policy\":\"none\",\"max_"
     "deliver\":-1,\"filter_subject\":\"s.a\",\"replay_policy\":\"instant\",\"max_waiting\":512,"
     "\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"new with seq", kDefault, "$JS.API.CONSUMER.CREATE.S.DP9",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"new\",\"opt_start_seq\":5}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver new, "
     "but optional start sequence is also set\"}"},
    {"new with time", kDefault, "$JS.API.CONSUMER.CREATE.S.DP10",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"new\",\"opt_start_time\":\"2024-01-"
     "02T03:04:05Z\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver new, "
     "but optional start time is also set\"}"},
    {"by seq no seq", kDefault, "$JS.API.CONSUMER.CREATE.S.DP11",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_sequence\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver by "
     "start sequence, but optional start sequence is not set\"}"},
    {"by seq with time", kDefault, "$JS.API.CONSUMER.CREATE.S.DP12",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_sequence\",\"opt_start_"
     "seq\":5,\"opt_start_time\":\"2024-01-02T03:04:05Z\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver by "
     "start sequence, but optional start time is also set\"}"},
    {"by seq ok", kDefault, "$JS.API.CONSUMER.CREATE.S.DP13",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_sequence\",\"opt_start_"
     "seq\":18446744073709551615}}",
     "{\"name\":\"DP13\",\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":"
     "18446744073709551615,\"ack_policy\":\"none\",\"max_deliver\":-1,\"replay_policy\":"
     "\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"by time no time", kDefault, "$JS.API.CONSUMER.CREATE.S.DP14",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_time\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver by "
     "start time, but optional start time is not set\"}"},
    {"by time with seq", kDefault, "$JS.API.CONSUMER.CREATE.S.DP15",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"by_start_time\",\"opt_start_seq\":1,"
     "\"opt_start_time\":\"2024-01-02T03:04:05Z\"}}",
     "{\"code\":400,\"err_code\":10094,\"description\":\"consumer delivery policy is deliver by "
     "start time, but optional start start sequence is also set\"}"},
    {"new ok", kDefault, "$JS.API.CONSUMER.CREATE.S.DP16",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"new\"}}",
     "{\"name\":\"DP16\",\"deliver_policy\":\"new\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"last ok", kDefault, "$JS.API.CONSUMER.CREATE.S.DP17",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_policy\":\"last\"}}",
     "{\"name\":\"DP17\",\"deliver_policy\":\"last\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"sample bad", kDefault, "$JS.API.CONSUMER.CREATE.S.SF1",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\"abc\"}}",
     "{\"code\":400,\"err_code\":10095,\"description\":\"failed to parse consumer sampling "
     "configuration: strconv.Atoi: parsing \\\"abc\\\": invalid syntax\"}"},
    {"sample negative", kDefault, "$JS.API.CONSUMER.CREATE.S.SF2",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\"-5%\"}}",
     "{\"code\":400,\"err_code\":10095,\"description\":\"failed to parse consumer sampling "
     "configuration: \\u003cnil\\u003e\"}"},
    {"sample double percent", kDefault, "$JS.API.CONSUMER.CREATE.S.SF3",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\"5%%\"}}",
     "{\"code\":400,\"err_code\":10095,\"description\":\"failed to parse consumer sampling "
     "configuration: strconv.Atoi: parsing \\\"5%\\\": invalid syntax\"}"},
    {"sample huge", kDefault, "$JS.API.CONSUMER.CREATE.S.SF4",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\"99999999999999999999\"}}",
     "{\"code\":400,\"err_code\":10095,\"description\":\"failed to parse consumer sampling "
     "configuration: strconv.Atoi: parsing \\\"99999999999999999999\\\": value out of range\"}"},
    {"sample plus", kDefault, "$JS.API.CONSUMER.CREATE.S.SF5",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\"+7\"}}",
     "{\"name\":\"SF5\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"sample_freq\":\"+7\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"sample percent only", kDefault, "$JS.API.CONSUMER.CREATE.S.SF6",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\"%\"}}",
     "{\"code\":400,\"err_code\":10095,\"description\":\"failed to parse consumer sampling "
     "configuration: strconv.Atoi: parsing \\\"\\\": invalid syntax\"}"},
    {"sample space", kDefault, "$JS.API.CONSUMER.CREATE.S.SF7",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\" 5\"}}",
     "{\"code\":400,\"err_code\":10095,\"description\":\"failed to parse consumer sampling "
     "configuration: strconv.Atoi: parsing \\\" 5\\\": invalid syntax\"}"},
    {"sample quote", kDefault, "$JS.API.CONSUMER.CREATE.S.SF8",
     "{\"stream_name\":\"S\",\"config\":{\"sample_freq\":\"a\\\"b\\u00e9\"}}",
     "{\"code\":400,\"err_code\":10095,\"description\":\"failed to parse consumer sampling "
     "configuration: strconv.Atoi: parsing \\\"a\\\\\\\"bé\\\": invalid syntax\"}"},
    {"ack all", kDefault, "$JS.API.CONSUMER.CREATE.S.AA",
     "{\"stream_name\":\"S\",\"config\":{\"ack_policy\":\"all\",\"max_ack_pending\":-1}}",
     "{\"name\":\"AA\",\"deliver_policy\":\"all\",\"ack_policy\":\"all\",\"ack_wait\":30000000000,"
     "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_pending\":-1,"
     "\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"ack none with pending pull", kDefault, "$JS.API.CONSUMER.CREATE.S.AN",
     "{\"stream_name\":\"S\",\"config\":{\"max_ack_pending\":5}}",
     "{\"name\":\"AN\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_pending\":5,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"negatives", kDefault, "$JS.API.CONSUMER.CREATE.S.NG",
     "{\"stream_name\":\"S\",\"config\":{\"ack_policy\":\"explicit\",\"ack_wait\":-1,\"max_"
     "deliver\":-5,\"inactive_threshold\":-1,\"max_bytes\":-1}}",
     "{\"name\":\"NG\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":-1,"
     "\"max_deliver\":-5,\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_pending\":"
     "1000,\"max_bytes\":-1,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"durable inactive threshold", kDefault, "$JS.API.CONSUMER.CREATE.S.IT",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"IT\",\"inactive_threshold\":"
     "60000000000}}",
     "{\"durable_name\":\"IT\",\"name\":\"IT\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
     "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":"
     "60000000000,\"num_replicas\":0}"},
    {"durable negative threshold", kDefault, "$JS.API.CONSUMER.CREATE.S.IT2",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"IT2\",\"inactive_threshold\":-7}}",
     "{\"durable_name\":\"IT2\",\"name\":\"IT2\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":-7,\"num_replicas\":0}"},
    {"bad durable star", kDefault, "$JS.API.CONSUMER.CREATE.S.a*",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"a*\"}}",
     "{\"code\":400,\"err_code\":10103,\"description\":\"durable name can not contain '.', '*', "
     "'\\u003e'\"}"},
    {"bad name star", kDefault, "$JS.API.CONSUMER.CREATE.S.b*",
     "{\"stream_name\":\"S\",\"config\":{}}",
     "{\"code\":400,\"err_code\":10103,\"description\":\"durable name can not contain '.', '*', "
     "'\\u003e'\"}"},
    {"bad durable gt", kDefault, "$JS.API.CONSUMER.CREATE.S.a>",
     "{\"stream_name\":\"S\",\"config\":{\"durable_name\":\"a>\"}}",
     "{\"code\":400,\"err_code\":10103,\"description\":\"durable name can not contain '.', '*', "
     "'\\u003e'\"}"},
    {"control chars", kDefault, "$JS.API.CONSUMER.CREATE.S.CC",
     "{\"stream_name\":\"S\",\"config\":{\"description\":\"<>&\\u2028\\u0001\"}}",
     "{\"name\":\"CC\",\"description\":\"\\u003c\\u003e\\u0026\\u2028\\u0001\",\"deliver_policy\":"
     "\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"limit defaults pending", kLimits, "$JS.API.CONSUMER.CREATE.S.LM1",
     "{\"stream_name\":\"S\",\"config\":{\"ack_policy\":\"explicit\"}}",
     "{\"name\":\"LM1\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_"
     "pending\":100,\"max_batch\":10,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"limit pending exceeded", kLimits, "$JS.API.CONSUMER.CREATE.S.LM2",
     "{\"stream_name\":\"S\",\"config\":{\"ack_policy\":\"explicit\",\"max_ack_pending\":101}}",
     "{\"code\":400,\"err_code\":10121,\"description\":\"consumer max ack pending exceeds system "
     "limit of 100\"}"},
    {"limit pending ack none", kLimits, "$JS.API.CONSUMER.CREATE.S.LM3",
     "{\"stream_name\":\"S\",\"config\":{\"max_ack_pending\":101}}",
     "{\"code\":400,\"err_code\":10121,\"description\":\"consumer max ack pending exceeds system "
     "limit of 100\"}"},
    {"limit batch default", kLimits, "$JS.API.CONSUMER.CREATE.S.LM4",
     "{\"stream_name\":\"S\",\"config\":{}}",
     "{\"name\":\"LM4\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_batch\":10,\"inactive_threshold\":"
     "5000000000,\"num_replicas\":0}"},
    {"limit batch exceeded", kLimits, "$JS.API.CONSUMER.CREATE.S.LM5",
     "{\"stream_name\":\"S\",\"config\":{\"max_batch\":11}}",
     "{\"code\":400,\"err_code\":10125,\"description\":\"consumer max request batch exceeds server "
     "limit of 10\"}"},
    {"limit batch push", kLimits, "$JS.API.CONSUMER.CREATE.S.LM6",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"lm6\"}}",
     "{\"name\":\"LM6\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"deliver_subject\":\"lm6\",\"inactive_threshold\":5000000000,"
     "\"num_replicas\":0}"},
    {"limit batch push exceeded", kLimits, "$JS.API.CONSUMER.CREATE.S.LM7",
     "{\"stream_name\":\"S\",\"config\":{\"deliver_subject\":\"lm7\",\"max_batch\":11}}",
     "{\"name\":\"LM7\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_batch\":11,\"deliver_subject\":\"lm7\",\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
};

class JsConsumerCreate : public ::testing::Test {
 protected:
    void SetUp() override {
        add(R"({"name":"S","subjects":["s.>"]})");
        add(R"({"name":"WQ","subjects":["wq.>"],"retention":"workqueue"})");
        add(R"({"name":"WQ2","subjects":["wq2.>"],"retention":"workqueue"})");
        add(R"({"name":"WQ3","subjects":["wq3.>"],"retention":"workqueue"})");
        add(R"({"name":"M","mirror":{"name":"S"}})");
        add(R"({"name":"MM","mirror":{"name":"M"}})");
        add(R"({"name":"SRC","subjects":["src.x"],"sources":[{"name":"S"}]})");
        add(R"({"name":"EXT","mirror":{"name":"X","external":{"api":"$JS.hub.API"}}})");
        options_.find_stream = [this](std::string_view name) -> const StreamConfig* {
            auto it = streams_.find(std::string(name));
            return it == streams_.end() ? nullptr : &it->second;
        };
        limits_ = options_;
        limits_.server_max_ack_pending = 100;
        limits_.server_max_request_batch = 10;
    }

    void add(std::string_view body) {
        StreamConfig config = stream(body);
        streams_[config.name] = config;
    }

    // What the create handler answers on a single server, following the order documented in
    // consumer_config.h. Consumers created here are kept, so later requests may update them.
    std::string outcome(std::string_view subject, std::string_view body, Server server = kDefault,
                        bool deliver_subject_has_interest = false) {
        const ConsumerCheckOptions& options = server == kLimits ? limits_ : options_;
        auto request = parse_consumer_create_request(body);
        if (!request) return error_json(request.error());
        auto config = check_consumer_create(subject, *request);
        if (!config) return error_json(config.error());
        auto it = streams_.find(request->stream_name);
        if (it == streams_.end()) return error_json(StreamNotFound());
        auto result = check_consumer_config(*config, it->second, options);
        if (!result) return error_json(result.error());
        std::map<std::string, ConsumerConfig>& consumers = consumers_[request->stream_name];
        std::string name(consumer_name(*result));
        if (auto existing = consumers.find(name); !name.empty() && existing != consumers.end()) {
            auto updated = updated_consumer_config(existing->second, *result, request->action,
                                                   deliver_subject_has_interest);
            if (!updated) return error_json(updated.error());
            existing->second = *updated;
            return wire(*updated);
        }
        if (auto error = check_consumer_absent(request->action)) return error_json(*error);
        std::vector<const ConsumerConfig*> others;
        for (const auto& [other_name, other] : consumers) others.push_back(&other);
        if (auto error = check_work_queue_consumer(*result, it->second, others)) {
            return error_json(*error);
        }
        if (auto error = check_consumer_name(*result)) return error_json(*error);
        ConsumerConfig created = created_consumer_config(*result);
        if (name.empty()) name = "generated" + std::to_string(++generated_);
        consumers[name] = created;
        return wire(created);
    }

    std::map<std::string, StreamConfig> streams_;
    std::map<std::string, std::map<std::string, ConsumerConfig>> consumers_;
    ConsumerCheckOptions options_;
    ConsumerCheckOptions limits_;
    int generated_ = 0;
};

TEST_F(JsConsumerCreate, MatchesNatsServerByteForByte) {
    for (const CreateCase& c : kCreateCases) {
        EXPECT_EQ(outcome(c.subject, c.body, c.server), c.expected) << c.label << ": " << c.body;
    }
}

TEST_F(JsConsumerCreate, LongNamesAndDescriptions) {
    const std::string description(4096, 'y');
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.DM",
                      R"({"stream_name":"S","config":{"description":")" + description + R"("}})"),
              R"({"name":"DM","description":")" + description +
                  R"(","deliver_policy":"all","ack_policy":"none","max_deliver":-1,)"
                  R"("replay_policy":"instant","max_waiting":512,"inactive_threshold":5000000000,)"
                  R"("num_replicas":0})");
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.DL",
                      R"({"stream_name":"S","config":{"description":")" + description + R"(y"}})"),
              R"({"code":400,"err_code":10107,"description":"consumer description is too long, )"
              R"(maximum allowed is 4096"})");
    const std::string durable_256(256, 'L');
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S." + durable_256,
                      R"({"stream_name":"S","config":{"durable_name":")" + durable_256 + R"("}})"),
              R"({"code":400,"err_code":10102,"description":"consumer name is too long, )"
              R"(maximum allowed is 255"})");
    const std::string durable_255(255, 'L');
    EXPECT_TRUE(outcome("$JS.API.CONSUMER.CREATE.S." + durable_255,
                        R"({"stream_name":"S","config":{"durable_name":")" + durable_255 + R"("}})")
                    .starts_with(R"({"durable_name":")" + durable_255));
    // Not mirrored: a 256-byte ephemeral name passes every check; nats-server 2.9.10 then fails
    // in its file store (the directory name is too long) with
    // {"code":500,"err_code":10012,"description":"error creating store for consumer"}.
    const std::string name_256(256, 'K');
    EXPECT_TRUE(
        outcome("$JS.API.CONSUMER.CREATE.S." + name_256, R"({"stream_name":"S","config":{}})")
            .starts_with(R"({"name":")" + name_256));
}

struct UpdateCase {
    const char* label;
    const char* base;     // the config that created the consumer
    const char* updated;  // the config of the second create
    const char* expected;
};

// Each consumer is created with `base` on a fresh name, then created again with `updated`.
const UpdateCase kUpdateCases[] = {
    {"same again", "{\"durable_name\":\"U0\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U0\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U0\",\"name\":\"U0\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}"},
    {"description", "{\"durable_name\":\"U1\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U1\",\"ack_policy\":\"explicit\",\"description\":\"x\"}",
     "{\"durable_name\":\"U1\",\"name\":\"U1\",\"description\":\"x\",\"deliver_policy\":\"all\","
     "\"ack_policy\":\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":"
     "\"instant\",\"max_waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}"},
    {"deliver policy", "{\"durable_name\":\"U2\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U2\",\"ack_policy\":\"explicit\",\"deliver_policy\":\"new\"}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"deliver policy can not be updated\"}"},
    {"ack policy", "{\"durable_name\":\"U3\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U3\",\"ack_policy\":\"explicit\",\"ack_policy\":\"all\"}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"ack policy can not be updated\"}"},
    {"replay policy", "{\"durable_name\":\"U4\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U4\",\"ack_policy\":\"explicit\",\"replay_policy\":\"original\"}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"replay policy can not be updated\"}"},
    {"max waiting", "{\"durable_name\":\"U5\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U5\",\"ack_policy\":\"explicit\",\"max_waiting\":10}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"max waiting can not be updated\"}"},
    {"max waiting default explicit", "{\"durable_name\":\"U6\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U6\",\"ack_policy\":\"explicit\",\"max_waiting\":512}",
     "{\"durable_name\":\"U6\",\"name\":\"U6\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}"},
    {"pull to push", "{\"durable_name\":\"U7\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U7\",\"ack_policy\":\"explicit\",\"deliver_subject\":\"x.p2p\"}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"max waiting can not be updated\"}"},
    {"max ack pending", "{\"durable_name\":\"U8\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U8\",\"ack_policy\":\"explicit\",\"max_ack_pending\":5}",
     "{\"durable_name\":\"U8\",\"name\":\"U8\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":5,\"num_replicas\":0}"},
    {"ack wait", "{\"durable_name\":\"U9\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U9\",\"ack_policy\":\"explicit\",\"ack_wait\":5000000000}",
     "{\"durable_name\":\"U9\",\"name\":\"U9\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":5000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}"},
    {"max deliver", "{\"durable_name\":\"U10\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U10\",\"ack_policy\":\"explicit\",\"max_deliver\":5}",
     "{\"durable_name\":\"U10\",\"name\":\"U10\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":5,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}"},
    {"backoff", "{\"durable_name\":\"U11\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U11\",\"ack_policy\":\"explicit\",\"max_deliver\":5,\"backoff\":["
     "1000000000]}",
     "{\"durable_name\":\"U11\",\"name\":\"U11\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":1000000000,\"max_deliver\":5,\"backoff\":[1000000000],\"replay_"
     "policy\":\"instant\",\"max_waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}"},
    {"filter", "{\"durable_name\":\"U12\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U12\",\"ack_policy\":\"explicit\",\"filter_subject\":\"s.a\"}",
     "{\"durable_name\":\"U12\",\"name\":\"U12\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"filter_subject\":\"s.a\",\"replay_"
     "policy\":\"instant\",\"max_waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}"},
    {"sample", "{\"durable_name\":\"U13\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U13\",\"ack_policy\":\"explicit\",\"sample_freq\":\"10\"}",
     "{\"durable_name\":\"U13\",\"name\":\"U13\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\","
     "\"sample_freq\":\"10\",\"max_waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0}"},
    {"headers only", "{\"durable_name\":\"U14\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U14\",\"ack_policy\":\"explicit\",\"headers_only\":true}",
     "{\"durable_name\":\"U14\",\"name\":\"U14\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"headers_only\":true,\"num_replicas\":0}"},
    {"max batch", "{\"durable_name\":\"U15\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U15\",\"ack_policy\":\"explicit\",\"max_batch\":5}",
     "{\"durable_name\":\"U15\",\"name\":\"U15\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"max_batch\":5,\"num_replicas\":0}"},
    {"max expires", "{\"durable_name\":\"U16\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U16\",\"ack_policy\":\"explicit\",\"max_expires\":5000000000}",
     "{\"durable_name\":\"U16\",\"name\":\"U16\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"max_expires\":5000000000,\"num_replicas\":0}"},
    {"max bytes", "{\"durable_name\":\"U17\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U17\",\"ack_policy\":\"explicit\",\"max_bytes\":5}",
     "{\"durable_name\":\"U17\",\"name\":\"U17\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"max_bytes\":5,\"num_replicas\":0}"},
    {"mem storage", "{\"durable_name\":\"U18\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U18\",\"ack_policy\":\"explicit\",\"mem_storage\":true}",
     "{\"durable_name\":\"U18\",\"name\":\"U18\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":0,\"mem_storage\":true}"},
    {"replicas 1", "{\"durable_name\":\"U19\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U19\",\"ack_policy\":\"explicit\",\"num_replicas\":1}",
     "{\"durable_name\":\"U19\",\"name\":\"U19\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"num_replicas\":1}"},
    {"inactive threshold", "{\"durable_name\":\"U20\",\"ack_policy\":\"explicit\"}",
     "{\"durable_name\":\"U20\",\"ack_policy\":\"explicit\",\"inactive_threshold\":60000000000}",
     "{\"durable_name\":\"U20\",\"name\":\"U20\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"explicit\",\"ack_wait\":30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_"
     "waiting\":512,\"max_ack_pending\":1000,\"inactive_threshold\":60000000000,\"num_replicas\":"
     "0}"},
    {"push heartbeat",
     "{\"durable_name\":\"U21\",\"deliver_subject\":\"d.U21\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true}",
     "{\"durable_name\":\"U21\",\"deliver_subject\":\"d.U21\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true,\"idle_heartbeat\":2000000000}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"heart beats can not be updated\"}"},
    {"push flow control",
     "{\"durable_name\":\"U22\",\"deliver_subject\":\"d.U22\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true}",
     "{\"durable_name\":\"U22\",\"deliver_subject\":\"d.U22\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true,\"flow_control\":false}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"flow control can not be updated\"}"},
    {"push to pull",
     "{\"durable_name\":\"U23\",\"deliver_subject\":\"d.U23\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true}",
     "{\"durable_name\":\"U23\",\"deliver_subject\":\"d.U23\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true,\"deliver_subject\":\"\"}",
     "{\"code\":400,\"err_code\":10088,\"description\":\"consumer idle heartbeat requires a push "
     "based consumer\"}"},
    {"push deliver subject",
     "{\"durable_name\":\"U24\",\"deliver_subject\":\"d.U24\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true}",
     "{\"durable_name\":\"U24\",\"deliver_subject\":\"d.U24\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true,\"deliver_subject\":\"d.other\"}",
     "{\"durable_name\":\"U24\",\"name\":\"U24\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"idle_heartbeat\":1000000000,"
     "\"flow_control\":true,\"deliver_subject\":\"d.other\",\"num_replicas\":0}"},
    {"push deliver group",
     "{\"durable_name\":\"U25\",\"deliver_subject\":\"d.U25\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true}",
     "{\"durable_name\":\"U25\",\"deliver_subject\":\"d.U25\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true,\"deliver_group\":\"g\"}",
     "{\"durable_name\":\"U25\",\"name\":\"U25\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"idle_heartbeat\":1000000000,"
     "\"flow_control\":true,\"deliver_subject\":\"d.U25\",\"deliver_group\":\"g\",\"num_replicas\":"
     "0}"},
    {"push rate limit",
     "{\"durable_name\":\"U26\",\"deliver_subject\":\"d.U26\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true}",
     "{\"durable_name\":\"U26\",\"deliver_subject\":\"d.U26\",\"idle_heartbeat\":1000000000,\"flow_"
     "control\":true,\"rate_limit_bps\":100}",
     "{\"durable_name\":\"U26\",\"name\":\"U26\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"rate_limit_bps\":100,\"idle_"
     "heartbeat\":1000000000,\"flow_control\":true,\"deliver_subject\":\"d.U26\",\"num_replicas\":"
     "0}"},
    {"start time same",
     "{\"durable_name\":\"U27\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2024-01-"
     "02T03:04:05Z\"}",
     "{\"durable_name\":\"U27\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2024-01-"
     "02T03:04:05Z\"}",
     "{\"durable_name\":\"U27\",\"name\":\"U27\",\"deliver_policy\":\"by_start_time\",\"opt_start_"
     "time\":\"2024-01-02T03:04:05Z\",\"ack_policy\":\"none\",\"max_deliver\":-1,\"replay_policy\":"
     "\"instant\",\"max_waiting\":512,\"num_replicas\":0}"},
    {"start time changed",
     "{\"durable_name\":\"U29\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2024-01-"
     "02T03:04:05Z\"}",
     "{\"durable_name\":\"U29\",\"deliver_policy\":\"by_start_time\",\"opt_start_time\":\"2024-01-"
     "02T03:04:05Z\",\"opt_start_time\":\"2024-01-02T03:04:06Z\"}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"start time can not be updated\"}"},
    {"start seq changed",
     "{\"durable_name\":\"U30\",\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":3}",
     "{\"durable_name\":\"U30\",\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":3,\"opt_"
     "start_seq\":4}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"start sequence can not be updated\"}"},
    {"start seq same plus description",
     "{\"durable_name\":\"U31\",\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":3}",
     "{\"durable_name\":\"U31\",\"deliver_policy\":\"by_start_sequence\",\"opt_start_seq\":3,"
     "\"description\":\"x\"}",
     "{\"durable_name\":\"U31\",\"name\":\"U31\",\"description\":\"x\",\"deliver_policy\":\"by_"
     "start_sequence\",\"opt_start_seq\":3,\"ack_policy\":\"none\",\"max_deliver\":-1,\"replay_"
     "policy\":\"instant\",\"max_waiting\":512,\"num_replicas\":0}"},
    {"ephemeral again", "{\"name\":\"U32\"}", "{\"name\":\"U32\"}",
     "{\"name\":\"U32\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"ephemeral description", "{\"name\":\"U33\"}", "{\"name\":\"U33\",\"description\":\"x\"}",
     "{\"name\":\"U33\",\"description\":\"x\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
     "\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":"
     "5000000000,\"num_replicas\":0}"},
    {"ephemeral to durable", "{\"name\":\"U34\"}", "{\"name\":\"U34\",\"durable_name\":\"U34\"}",
     "{\"durable_name\":\"U34\",\"name\":\"U34\",\"deliver_policy\":\"all\",\"ack_policy\":"
     "\"none\",\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_"
     "threshold\":5000000000,\"num_replicas\":0}"},
    {"ephemeral policy", "{\"name\":\"U35\"}", "{\"name\":\"U35\",\"ack_policy\":\"explicit\"}",
     "{\"code\":500,\"err_code\":10012,\"description\":\"ack policy can not be updated\"}"},
    {"ephemeral threshold", "{\"name\":\"U36\"}",
     "{\"name\":\"U36\",\"inactive_threshold\":1000000000}",
     "{\"name\":\"U36\",\"deliver_policy\":\"all\",\"ack_policy\":\"none\",\"max_deliver\":-1,"
     "\"replay_policy\":\"instant\",\"max_waiting\":512,\"inactive_threshold\":1000000000,\"num_"
     "replicas\":0}"},
};

TEST_F(JsConsumerCreate, UpdatesMatchNatsServer) {
    for (const UpdateCase& c : kUpdateCases) {
        auto subject = [](std::string_view config_json) {
            return "$JS.API.CONSUMER.CREATE.S." +
                   std::string(consumer_name(parsed_config(config_json)));
        };
        auto body = [](std::string_view config_json) {
            return R"({"stream_name":"S","config":)" + std::string(config_json) + "}";
        };
        std::string created = outcome(subject(c.base), body(c.base));
        ASSERT_FALSE(created.starts_with(R"({"code")")) << c.label << ": " << created;
        EXPECT_EQ(outcome(subject(c.updated), body(c.updated)), c.expected) << c.label;
    }
}

TEST_F(JsConsumerCreate, DeliverSubjectMovesOnlyWhileNobodyListens) {
    const std::string base = R"({"stream_name":"S","config":{"durable_name":"UB",)"
                             R"("deliver_subject":"d.bound"}})";
    const std::string moved = R"({"stream_name":"S","config":{"durable_name":"UB",)"
                              R"("deliver_subject":"d.other2"}})";
    outcome("$JS.API.CONSUMER.CREATE.S.UB", base);
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.UB", moved, kDefault,
                      /*deliver_subject_has_interest=*/true),
              R"({"code":400,"err_code":10013,"description":"consumer name already in use"})");
    EXPECT_TRUE(outcome("$JS.API.CONSUMER.CREATE.S.UB", moved).find(R"("d.other2")") !=
                std::string::npos);
    // A legacy durable created twice moves the same way; the stored config has no name.
    EXPECT_EQ(
        outcome("$JS.API.CONSUMER.DURABLE.CREATE.S.LD",
                R"({"stream_name":"S","config":{"durable_name":"LD","deliver_subject":"ld"}})"),
        R"({"durable_name":"LD","deliver_policy":"all","ack_policy":"none","max_deliver":-1,)"
        R"("replay_policy":"instant","deliver_subject":"ld","num_replicas":0})");
    EXPECT_EQ(
        outcome("$JS.API.CONSUMER.DURABLE.CREATE.S.LD",
                R"({"stream_name":"S","config":{"durable_name":"LD","deliver_subject":"ld2"}})"),
        R"({"durable_name":"LD","deliver_policy":"all","ack_policy":"none","max_deliver":-1,)"
        R"("replay_policy":"instant","deliver_subject":"ld2","num_replicas":0})");
}

TEST_F(JsConsumerCreate, StartTimeMayStayAcrossAnUpdate) {
    // A documented difference: nats-server 2.9.10 answers
    // {"code":500,"err_code":10012,"description":"start time can not be updated"} because it
    // compares the two *time.Time pointers; 2.10 compares the instants, as ringtail does.
    const char* base =
        R"({"stream_name":"S","config":{"durable_name":"U28",)"
        R"("deliver_policy":"by_start_time","opt_start_time":"2024-01-02T03:04:05Z"}})";
    EXPECT_FALSE(outcome("$JS.API.CONSUMER.CREATE.S.U28", base).starts_with(R"({"code")"));
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.U28",
                      R"({"stream_name":"S","config":{"durable_name":"U28",)"
                      R"("deliver_policy":"by_start_time","opt_start_time":)"
                      R"("2024-01-02T05:04:05+02:00","description":"x"}})"),
              R"({"durable_name":"U28","name":"U28","description":"x",)"
              R"("deliver_policy":"by_start_time","opt_start_time":"2024-01-02T05:04:05+02:00",)"
              R"("ack_policy":"none","max_deliver":-1,"replay_policy":"instant",)"
              R"("max_waiting":512,"num_replicas":0})");
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.U28",
                      R"({"stream_name":"S","config":{"durable_name":"U28",)"
                      R"("deliver_policy":"by_start_time","opt_start_time":)"
                      R"("2024-01-02T03:04:06Z"}})"),
              R"({"code":500,"err_code":10012,"description":"start time can not be updated"})");
}

struct WorkQueueStep {
    const char* stream;
    const char* consumer;
    const char* config;
    const char* expected;
};

// One session against nats-server, in this order.
const WorkQueueStep kWorkQueueSteps[] = {
    {"WQ", "P1", "{\"deliver_subject\":\"p1\"}",
     "{\"code\":400,\"err_code\":10098,\"description\":\"workqueue stream requires explicit "
     "ack\"}"},
    {"WQ", "A", "{\"ack_policy\":\"all\"}",
     "{\"code\":400,\"err_code\":10098,\"description\":\"workqueue stream requires explicit "
     "ack\"}"},
    {"WQ", "W1", "{\"ack_policy\":\"explicit\"}",
     "{\"name\":\"W1\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_waiting\":512,\"max_ack_"
     "pending\":1000,\"inactive_threshold\":5000000000,\"num_replicas\":0}"},
    {"WQ", "W2", "{\"ack_policy\":\"explicit\"}",
     "{\"code\":400,\"err_code\":10099,\"description\":\"multiple non-filtered consumers not "
     "allowed on workqueue stream\"}"},
    {"WQ", "W3", "{\"ack_policy\":\"explicit\",\"filter_subject\":\"wq.a\"}",
     "{\"code\":400,\"err_code\":10100,\"description\":\"filtered consumer not unique on workqueue "
     "stream\"}"},
    {"WQ2", "X1", "{\"ack_policy\":\"explicit\",\"filter_subject\":\"wq2.a\"}",
     "{\"name\":\"X1\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"filter_subject\":\"wq2.a\",\"replay_policy\":\"instant\","
     "\"max_waiting\":512,\"max_ack_pending\":1000,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"WQ2", "X2", "{\"ack_policy\":\"explicit\",\"filter_subject\":\"wq2.*\"}",
     "{\"code\":400,\"err_code\":10100,\"description\":\"filtered consumer not unique on workqueue "
     "stream\"}"},
    {"WQ2", "X3", "{\"ack_policy\":\"explicit\",\"filter_subject\":\"wq2.a.b\"}",
     "{\"name\":\"X3\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"filter_subject\":\"wq2.a.b\",\"replay_policy\":\"instant\","
     "\"max_waiting\":512,\"max_ack_pending\":1000,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"WQ2", "X4", "{\"ack_policy\":\"explicit\",\"filter_subject\":\"wq2.b\"}",
     "{\"name\":\"X4\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"filter_subject\":\"wq2.b\",\"replay_policy\":\"instant\","
     "\"max_waiting\":512,\"max_ack_pending\":1000,\"inactive_threshold\":5000000000,\"num_"
     "replicas\":0}"},
    {"WQ2", "X5",
     "{\"ack_policy\":\"explicit\",\"filter_subject\":\"wq2.c\",\"deliver_policy\":\"new\"}",
     "{\"code\":400,\"err_code\":10101,\"description\":\"consumer must be deliver all on workqueue "
     "stream\"}"},
    {"WQ2", "X6", "{\"ack_policy\":\"explicit\"}",
     "{\"code\":400,\"err_code\":10099,\"description\":\"multiple non-filtered consumers not "
     "allowed on workqueue stream\"}"},
    {"WQ2", "X1", "{\"ack_policy\":\"explicit\",\"filter_subject\":\"wq2.>\"}",
     "{\"name\":\"X1\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"filter_subject\":\"wq2.\\u003e\",\"replay_policy\":"
     "\"instant\",\"max_waiting\":512,\"max_ack_pending\":1000,\"inactive_threshold\":5000000000,"
     "\"num_replicas\":0}"},
    {"WQ3", "Y1", "{\"ack_policy\":\"explicit\",\"deliver_policy\":\"last\"}",
     "{\"code\":400,\"err_code\":10101,\"description\":\"consumer must be deliver all on workqueue "
     "stream\"}"},
    {"WQ3", "Y2", "{\"ack_policy\":\"explicit\",\"direct\":true,\"deliver_subject\":\"y2\"}",
     "{\"name\":\"Y2\",\"deliver_policy\":\"all\",\"ack_policy\":\"explicit\",\"ack_wait\":"
     "30000000000,\"max_deliver\":-1,\"replay_policy\":\"instant\",\"max_ack_pending\":1000,"
     "\"deliver_subject\":\"y2\",\"inactive_threshold\":5000000000,\"num_replicas\":0,\"direct\":"
     "true}"},
};

TEST_F(JsConsumerCreate, WorkQueueRulesMatchNatsServer) {
    for (const WorkQueueStep& step : kWorkQueueSteps) {
        std::string subject =
            "$JS.API.CONSUMER.CREATE." + std::string(step.stream) + "." + step.consumer;
        std::string body =
            R"({"stream_name":")" + std::string(step.stream) + R"(","config":)" + step.config + "}";
        EXPECT_EQ(outcome(subject, body), step.expected) << step.stream << "." << step.consumer;
    }
}

TEST_F(JsConsumerCreate, NewerFieldsAreKept) {
    // A documented difference: nats-server 2.9.10 ignores these fields and answers
    // {"name":"NF","deliver_policy":"all","ack_policy":"none","max_deliver":-1,
    // "replay_policy":"instant","max_waiting":512,"inactive_threshold":5000000000,
    // "num_replicas":0}.
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.NF",
                      R"({"stream_name":"S","action":"create","config":{"metadata":{"a":"b"},)"
                      R"("pause_until":"2030-01-01T00:00:00Z","filter_subjects":["s.a"]}})"),
              R"({"name":"NF","deliver_policy":"all","ack_policy":"none","max_deliver":-1,)"
              R"("filter_subjects":["s.a"],"replay_policy":"instant","max_waiting":512,)"
              R"("inactive_threshold":5000000000,"num_replicas":0,"metadata":{"a":"b"},)"
              R"("pause_until":"2030-01-01T00:00:00Z"})");
    // "create" again with the same request: the stored config differs (its inactive_threshold
    // was stamped), so nats-server 2.10+ refuses it; "update" passes, and keeps the pause.
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.NF",
                      R"({"stream_name":"S","action":"create","config":{"metadata":{"a":"b"},)"
                      R"("pause_until":"2030-01-01T00:00:00Z","filter_subjects":["s.a"]}})"),
              error_json(ConsumerAlreadyExists()));
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.NF",
                      R"({"stream_name":"S","action":"update","config":{"metadata":{"a":"c"},)"
                      R"("filter_subjects":["s.b"]}})"),
              R"({"name":"NF","deliver_policy":"all","ack_policy":"none","max_deliver":-1,)"
              R"("filter_subjects":["s.b"],"replay_policy":"instant","max_waiting":512,)"
              R"("inactive_threshold":5000000000,"num_replicas":0,"metadata":{"a":"c"},)"
              R"("pause_until":"2030-01-01T00:00:00Z"})");
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S.NONE",
                      R"({"stream_name":"S","action":"update","config":{}})"),
              error_json(ConsumerDoesNotExist()));
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.S", R"({"stream_name":"S","action":"update"})"),
              error_json(ConsumerDoesNotExist()));
}

TEST_F(JsConsumerCreate, UnknownStream) {
    EXPECT_EQ(outcome("$JS.API.CONSUMER.CREATE.NOPE", R"({"stream_name":"NOPE"})"),
              error_json(StreamNotFound()));
}

// ---------------------------------------------------------------------------------------------
// Parsing like json.Unmarshal

TEST(JsConsumerParse, DefaultsOfAnEmptyObject) {
    ConsumerCreateRequest request = parsed("{}");
    EXPECT_EQ(request.stream_name, "");
    EXPECT_FALSE(request.has_config);
    EXPECT_EQ(request.action, ConsumerAction::kCreateOrUpdate);
    EXPECT_EQ(request.config, ConsumerConfig{});
    const ConsumerConfig& config = request.config;
    EXPECT_EQ(config.deliver_policy, DeliverPolicy::kAll);
    EXPECT_EQ(config.ack_policy, AckPolicy::kNone);
    EXPECT_EQ(config.replay_policy, ReplayPolicy::kInstant);
    EXPECT_FALSE(config.has_opt_start_time);
    EXPECT_EQ(config.max_deliver, 0);
    EXPECT_EQ(config.num_replicas, 0);
    EXPECT_EQ(parsed("null"), ConsumerCreateRequest{});
    EXPECT_EQ(parsed(R"({"config":null})"), ConsumerCreateRequest{});
    EXPECT_TRUE(parsed(R"({"config":{}})").has_config);
}

TEST(JsConsumerParse, EveryFieldIsRead) {
    ConsumerCreateRequest request = parsed(R"({"stream_name":"S","action":"update","config":{
        "durable_name":"D","name":"D","description":"d","deliver_policy":"by_start_time",
        "opt_start_seq":18446744073709551615,"opt_start_time":"2024-01-02T03:04:05.5+01:30",
        "ack_policy":"explicit","ack_wait":1,"max_deliver":2,"backoff":[3,4],
        "filter_subject":"f","replay_policy":"original","rate_limit_bps":5,"sample_freq":"6%",
        "max_waiting":7,"max_ack_pending":8,"idle_heartbeat":9,"flow_control":true,
        "headers_only":true,"max_batch":10,"max_expires":11,"max_bytes":12,
        "deliver_subject":"ds","deliver_group":"dg","inactive_threshold":13,"num_replicas":14,
        "mem_storage":true,"direct":true,"filter_subjects":["a","b"],"metadata":{"k":"v"},
        "pause_until":"2030-01-01T00:00:00Z"}})");
    EXPECT_EQ(request.stream_name, "S");
    EXPECT_EQ(request.action, ConsumerAction::kUpdate);
    EXPECT_TRUE(request.has_config);
    const ConsumerConfig& c = request.config;
    EXPECT_EQ(c.durable_name, "D");
    EXPECT_EQ(c.name, "D");
    EXPECT_EQ(c.description, "d");
    EXPECT_EQ(c.deliver_policy, DeliverPolicy::kByStartTime);
    EXPECT_EQ(c.opt_start_seq, std::numeric_limits<uint64_t>::max());
    EXPECT_TRUE(c.has_opt_start_time);
    EXPECT_EQ(c.opt_start_time_ns, 1'704'164'645'500'000'000 - 5400 * kSecondNs);
    EXPECT_EQ(c.opt_start_time_utc_offset_s, 5400);
    EXPECT_EQ(c.ack_policy, AckPolicy::kExplicit);
    EXPECT_EQ(c.ack_wait_ns, 1);
    EXPECT_EQ(c.max_deliver, 2);
    EXPECT_EQ(c.backoff_ns, (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(c.filter_subject, "f");
    EXPECT_EQ(c.replay_policy, ReplayPolicy::kOriginal);
    EXPECT_EQ(c.rate_limit_bps, 5U);
    EXPECT_EQ(c.sample_freq, "6%");
    EXPECT_EQ(c.max_waiting, 7);
    EXPECT_EQ(c.max_ack_pending, 8);
    EXPECT_EQ(c.idle_heartbeat_ns, 9);
    EXPECT_TRUE(c.flow_control);
    EXPECT_TRUE(c.headers_only);
    EXPECT_EQ(c.max_batch, 10);
    EXPECT_EQ(c.max_expires_ns, 11);
    EXPECT_EQ(c.max_bytes, 12);
    EXPECT_EQ(c.deliver_subject, "ds");
    EXPECT_EQ(c.deliver_group, "dg");
    EXPECT_EQ(c.inactive_threshold_ns, 13);
    EXPECT_EQ(c.num_replicas, 14);
    EXPECT_TRUE(c.mem_storage);
    EXPECT_TRUE(c.direct);
    EXPECT_EQ(c.filter_subjects, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(c.metadata, (std::map<std::string, std::string>{{"k", "v"}}));
    EXPECT_EQ(c.pause_until_ns, 1'893'456'000 * kSecondNs);
}

TEST(JsConsumerParse, GoDecodingRules) {
    // Keys fold case (and U+017F/U+212A) at both levels.
    EXPECT_EQ(parsed(R"({"STREAM_NAME":"S"})").stream_name, "S");
    EXPECT_EQ(parsed("{\"\xC5\xBFtream_name\":\"S\"}").stream_name, "S");
    EXPECT_EQ(parsed_config("{\"ac\xE2\x84\xAA_policy\":\"all\"}").ack_policy, AckPolicy::kAll);
    EXPECT_EQ(parsed_config(R"({"Deliver_Subject":"x"})").deliver_subject, "x");
    EXPECT_EQ(parsed_config(R"({"descr\u0069ption":"e"})").description, "e");
    // Every duplicate is decoded in turn: the last value wins, a later null changes nothing,
    // and a second "config" object merges into the first.
    EXPECT_EQ(parsed_config(R"({"max_deliver":2,"MAX_DELIVER":4,"max_deliver":3})").max_deliver, 3);
    EXPECT_EQ(parsed_config(R"({"description":"a","description":null})").description, "a");
    ConsumerConfig merged =
        parsed(R"({"config":{"description":"a","ack_policy":"all"},"config":{"max_deliver":7}})")
            .config;
    EXPECT_EQ(merged.description, "a");
    EXPECT_EQ(merged.ack_policy, AckPolicy::kAll);
    EXPECT_EQ(merged.max_deliver, 7);
    // A later list replaces an earlier one; a map takes the new keys (Go keeps the old ones).
    EXPECT_EQ(parsed_config(R"({"backoff":[1,2],"backoff":[3]})").backoff_ns,
              std::vector<int64_t>{3});
    EXPECT_TRUE(parsed_config(R"({"backoff":[1],"backoff":null})").backoff_ns.empty());
    EXPECT_EQ(parsed_config(R"({"backoff":[1,null]})").backoff_ns, (std::vector<int64_t>{1, 0}));
    EXPECT_EQ(parsed_config(R"({"metadata":{"a":"1","b":"2"},"metadata":{"b":"3"}})").metadata,
              (std::map<std::string, std::string>{{"a", "1"}, {"b", "3"}}));
    EXPECT_TRUE(parsed_config(R"({"metadata":{"a":"1"},"metadata":null})").metadata.empty());
    // Integer ranges: Go's int and time.Duration are 64 bits, the sequences unsigned.
    EXPECT_EQ(parsed_config(R"({"max_ack_pending":5000000000})").max_ack_pending, 5'000'000'000);
    EXPECT_EQ(parsed_config(R"({"ack_wait":-9223372036854775808})").ack_wait_ns,
              std::numeric_limits<int64_t>::min());
    EXPECT_EQ(parsed_config(R"({"rate_limit_bps":18446744073709551615})").rate_limit_bps,
              std::numeric_limits<uint64_t>::max());
    // opt_start_time: null is nil again; Go's zero time is a time.
    EXPECT_FALSE(parsed_config(R"({"opt_start_time":"2024-01-02T03:04:05Z","opt_start_time":null})")
                     .has_opt_start_time);
    ConsumerConfig zero = parsed_config(R"({"opt_start_time":"0001-01-01T00:00:00Z"})");
    EXPECT_TRUE(zero.has_opt_start_time);
    EXPECT_EQ(zero.opt_start_time_ns, 0);
    // Unknown members are skipped whatever they hold, at both levels.
    EXPECT_EQ(
        parsed(R"({"stream_name":"U","foo":{"x":[1,2.5,1e400,"s",null]},"config":{"bar":1e400}})")
            .stream_name,
        "U");
    EXPECT_EQ(parsed(" \t\r\n{\"stream_name\":\"W\"} \n").stream_name, "W");
}

TEST(JsConsumerParse, EnumStrings) {
    const std::map<std::string, DeliverPolicy> deliver = {
        {"all", DeliverPolicy::kAll},
        {"undefined", DeliverPolicy::kAll},
        {"last", DeliverPolicy::kLast},
        {"new", DeliverPolicy::kNew},
        {"by_start_sequence", DeliverPolicy::kByStartSequence},
        {"by_start_time", DeliverPolicy::kByStartTime},
        {"last_per_subject", DeliverPolicy::kLastPerSubject},
    };
    for (const auto& [text, policy] : deliver) {
        EXPECT_EQ(parsed_config(R"({"deliver_policy":")" + text + R"("})").deliver_policy, policy)
            << text;
    }
    EXPECT_EQ(parsed_config(R"({"ack_policy":"none"})").ack_policy, AckPolicy::kNone);
    EXPECT_EQ(parsed_config(R"({"ack_policy":"all"})").ack_policy, AckPolicy::kAll);
    EXPECT_EQ(parsed_config(R"({"ack_policy":"explicit"})").ack_policy, AckPolicy::kExplicit);
    EXPECT_EQ(parsed_config(R"({"replay_policy":"instant"})").replay_policy,
              ReplayPolicy::kInstant);
    EXPECT_EQ(parsed_config(R"({"replay_policy":"original"})").replay_policy,
              ReplayPolicy::kOriginal);
}

TEST(JsConsumerParse, EverythingGoRefusesIsInvalidJson) {
    for (const char* body : {
             "",
             " ",
             "[]",
             "5",
             "\"x\"",
             "{",
             R"({"stream_name":"S"} x)",
             R"({"stream_name":"S"}{})",
             "\xEF\xBB\xBF{}",
             R"({"stream_name":["S"]})",
             R"({"config":[]})",
             R"({"config":true})",
             R"({"config":{"durable_name":5}})",
             R"({"config":{"deliver_policy":null}})",
             R"({"config":{"deliver_policy":"Last"}})",
             R"({"config":{"deliver_policy":"last "}})",
             R"({"config":{"deliver_policy":""}})",
             R"({"config":{"ack_policy":null}})",
             R"({"config":{"ack_policy":"ALL"}})",
             R"({"config":{"replay_policy":"Instant"}})",
             R"({"config":{"replay_policy":0}})",
             R"({"config":{"opt_start_seq":-1}})",
             R"({"config":{"opt_start_seq":1.5}})",
             R"({"config":{"opt_start_seq":18446744073709551616}})",
             R"({"config":{"opt_start_time":"2024-01-02"}})",
             R"({"config":{"opt_start_time":"2024-01-02t03:04:05Z"}})",
             R"({"config":{"opt_start_time":"2023-02-29T03:04:05Z"}})",
             R"({"config":{"opt_start_time":1}})",
             R"({"config":{"ack_wait":"30s"}})",
             R"({"config":{"ack_wait":1e9}})",
             R"({"config":{"ack_wait":1.0}})",
             R"({"config":{"ack_wait":9223372036854775808}})",
             R"({"config":{"max_deliver":1e400}})",
             R"({"config":{"backoff":1}})",
             R"({"config":{"backoff":["1s"]}})",
             R"({"config":{"rate_limit_bps":-1}})",
             R"({"config":{"flow_control":"true"}})",
             R"({"config":{"flow_control":1}})",
             R"({"config":{"num_replicas":"1"}})",
             R"({"config":{"sample_freq":50}})",
         }) {
        auto request = parse_consumer_create_request(body);
        ASSERT_FALSE(request.has_value()) << body;
        EXPECT_EQ(request.error(), InvalidJSON()) << body;
    }
    std::string deep(10'001, '[');
    EXPECT_FALSE(parse_consumer_create_request(R"({"x":)" + deep).has_value());
}

TEST(JsConsumerParse, NewerFieldsAreTakenWhenWellFormed) {
    ConsumerCreateRequest request =
        parsed(R"({"action":"create","config":{"filter_subjects":["a",null],"metadata":{"k":"v"},)"
               R"("pause_until":"2030-01-01T01:00:00+01:00"}})");
    EXPECT_EQ(request.action, ConsumerAction::kCreate);
    EXPECT_EQ(request.config.filter_subjects, (std::vector<std::string>{"a", ""}));
    EXPECT_EQ(request.config.metadata, (std::map<std::string, std::string>{{"k", "v"}}));
    EXPECT_EQ(request.config.pause_until_ns, 1'893'456'000 * kSecondNs);
    EXPECT_EQ(parsed(R"({"action":""})").action, ConsumerAction::kCreateOrUpdate);
    EXPECT_EQ(parsed(R"({"action":"update","action":"create"})").action, ConsumerAction::kCreate);
    // Ill-formed, they are ignored as nats-server 2.9.10 ignores them (2.10+: InvalidJSON).
    EXPECT_EQ(parsed(R"({"action":"CREATE"})").action, ConsumerAction::kCreateOrUpdate);
    EXPECT_EQ(parsed(R"({"action":1})").action, ConsumerAction::kCreateOrUpdate);
    EXPECT_EQ(parsed(R"({"action":null})").action, ConsumerAction::kCreateOrUpdate);
    EXPECT_TRUE(parsed_config(R"({"filter_subjects":"a"})").filter_subjects.empty());
    EXPECT_TRUE(parsed_config(R"({"filter_subjects":["a",1]})").filter_subjects.empty());
    EXPECT_TRUE(parsed_config(R"({"metadata":{"a":1}})").metadata.empty());
    EXPECT_TRUE(parsed_config(R"({"metadata":["a"]})").metadata.empty());
    EXPECT_EQ(parsed_config(R"({"pause_until":"tomorrow"})").pause_until_ns, 0);
    EXPECT_EQ(parsed_config(R"({"pause_until":5})").pause_until_ns, 0);
    EXPECT_EQ(parsed_config(R"({"pause_until":"0001-01-01T00:00:00Z"})").pause_until_ns, 0);
    // Beyond int64 nanoseconds: the far future is the end of int64 time, the far past no pause.
    EXPECT_EQ(parsed_config(R"({"pause_until":"9999-01-01T00:00:00Z"})").pause_until_ns,
              std::numeric_limits<int64_t>::max());
    EXPECT_EQ(parsed_config(R"({"pause_until":"1000-01-01T00:00:00Z"})").pause_until_ns, 0);
}

// ---------------------------------------------------------------------------------------------
// The create handler's checks

ConsumerCreateRequest request_for(std::string_view config_json, std::string_view stream = "S") {
    return parsed(R"({"stream_name":")" + std::string(stream) + R"(","config":)" +
                  std::string(config_json) + "}");
}

ApiError create_error(std::string_view subject, std::string_view config_json) {
    auto config = check_consumer_create(subject, request_for(config_json));
    EXPECT_FALSE(config.has_value()) << subject << " " << config_json;
    return config.has_value() ? ApiError{} : config.error();
}

TEST(JsConsumerCreateChecks, SubjectForms) {
    // Named: the name from the subject, a filter from the tokens after it (three or more).
    auto named = check_consumer_create("$JS.API.CONSUMER.CREATE.S.C.a.b.c",
                                       request_for(R"({"filter_subject":"a.b.c","name":"X"})"));
    ASSERT_TRUE(named.has_value());
    EXPECT_EQ(named->name, "C");
    EXPECT_EQ(named->filter_subject, "a.b.c");
    // Legacy forms keep the body's name.
    auto legacy =
        check_consumer_create("$JS.API.CONSUMER.CREATE.S", request_for(R"({"name":"X"})"));
    ASSERT_TRUE(legacy.has_value());
    EXPECT_EQ(legacy->name, "X");
    auto durable = check_consumer_create("$JS.API.CONSUMER.DURABLE.CREATE.S.D",
                                         request_for(R"({"durable_name":"D"})"));
    ASSERT_TRUE(durable.has_value());
    EXPECT_EQ(durable->name, "");
    // DURABLE needs exactly the stream and the durable after it.
    EXPECT_EQ(create_error("$JS.API.CONSUMER.DURABLE.CREATE.S", R"({"durable_name":"D"})"),
              ConsumerDurableNameNotInSubject());
    EXPECT_EQ(create_error("$JS.API.CONSUMER.DURABLE.CREATE.S.D.x", R"({"durable_name":"D"})"),
              ConsumerDurableNameNotInSubject());
    // ... and that comes before the stream name is compared.
    EXPECT_EQ(create_error("$JS.API.CONSUMER.DURABLE.CREATE.T", R"({"durable_name":"D"})"),
              ConsumerDurableNameNotInSubject());
}

TEST(JsConsumerCreateChecks, SubjectFilterWithFilterSubjects) {
    // 2.10: a filter in the subject cannot go with filter_subjects, checked before it is
    // compared with filter_subject.
    EXPECT_EQ(create_error("$JS.API.CONSUMER.CREATE.S.C.s.a", R"({"filter_subjects":["s.a"]})"),
              ConsumerMultipleFiltersNotAllowed());
    EXPECT_EQ(create_error("$JS.API.CONSUMER.CREATE.S.C.s.a",
                           R"({"filter_subjects":["s.a"],"filter_subject":"s.b"})"),
              ConsumerMultipleFiltersNotAllowed());
    EXPECT_TRUE(check_consumer_create("$JS.API.CONSUMER.CREATE.S.C",
                                      request_for(R"({"filter_subjects":["s.a","s.b"]})"))
                    .has_value());
}

TEST(JsConsumerCreateChecks, InTheOrderOfTheHandler) {
    // Every fault at once: the stream name wins, then the path separator, then the durable
    // rules, then the filter, then the replicas.
    EXPECT_EQ(create_error("$JS.API.CONSUMER.CREATE.T.a/b.x.y",
                           R"({"durable_name":"z","filter_subject":"q","num_replicas":3})"),
              StreamMismatch());
    EXPECT_EQ(create_error("$JS.API.CONSUMER.CREATE.S.a/b.x.y",
                           R"({"durable_name":"z","filter_subject":"q","num_replicas":3})"),
              ConsumerNameContainsPathSeparators());
    EXPECT_EQ(create_error("$JS.API.CONSUMER.CREATE.S.ab.x.y",
                           R"({"durable_name":"z","filter_subject":"q","num_replicas":3})"),
              ConsumerDurableNameNotMatchSubject());
    EXPECT_EQ(create_error("$JS.API.CONSUMER.CREATE.S.ab.x.y",
                           R"({"filter_subject":"q","num_replicas":3})"),
              ConsumerCreateFilterSubjectMismatch());
    EXPECT_EQ(create_error("$JS.API.CONSUMER.CREATE.S.ab.x.y",
                           R"({"filter_subject":"x.y","num_replicas":3})"),
              StreamReplicasNotSupported());
    EXPECT_EQ(create_error("$JS.API.CONSUMER.CREATE.S", R"({"durable_name":"z","num_replicas":3})"),
              ConsumerEphemeralWithDurableName());
    EXPECT_EQ(create_error("$JS.API.CONSUMER.DURABLE.CREATE.S.D", R"({"num_replicas":3})"),
              ConsumerDurableNameNotSet());
}

// ---------------------------------------------------------------------------------------------
// Defaults and checkConsumerCfg

TEST(JsConsumerDefaults, AsSetConsumerConfigDefaultsFillsThem) {
    ConsumerConfig pull = checked("{}");
    EXPECT_EQ(pull.max_waiting, 512);
    EXPECT_EQ(pull.ack_wait_ns, 0);
    EXPECT_EQ(pull.max_deliver, -1);
    EXPECT_EQ(pull.max_ack_pending, 0);
    EXPECT_EQ(pull.max_batch, 0);
    EXPECT_EQ(pull.inactive_threshold_ns, 0);  // created_consumer_config stamps ephemerals
    EXPECT_EQ(pull.num_replicas, 0);
    ConsumerConfig explicit_ack = checked(R"({"ack_policy":"explicit"})");
    EXPECT_EQ(explicit_ack.ack_wait_ns, 30 * kSecondNs);
    EXPECT_EQ(explicit_ack.max_ack_pending, 1000);
    ConsumerConfig ack_all = checked(R"({"ack_policy":"all","deliver_subject":"p"})");
    EXPECT_EQ(ack_all.ack_wait_ns, 30 * kSecondNs);
    EXPECT_EQ(ack_all.max_ack_pending, 1000);
    EXPECT_EQ(ack_all.max_waiting, 0);
    // Set values stay; backoff[0] overrides ack_wait.
    ConsumerConfig set =
        checked(R"({"ack_policy":"explicit","ack_wait":7,"max_deliver":3,"max_waiting":9,)"
                R"("max_ack_pending":-1,"backoff":[5,6]})");
    EXPECT_EQ(set.ack_wait_ns, 5);
    EXPECT_EQ(set.max_deliver, 3);
    EXPECT_EQ(set.max_waiting, 9);
    EXPECT_EQ(set.max_ack_pending, -1);
    // The smaller of the default, the server limit and the account limit.
    ConsumerCheckOptions options;
    options.server_max_ack_pending = 500;
    options.account_max_ack_pending = 200;
    options.server_max_request_batch = 10;
    ConsumerConfig limited = checked(R"({"ack_policy":"explicit"})", options);
    EXPECT_EQ(limited.max_ack_pending, 200);
    EXPECT_EQ(limited.max_batch, 10);
    options.account_max_ack_pending = 2000;
    EXPECT_EQ(checked(R"({"ack_policy":"explicit"})", options).max_ack_pending, 500);
    // max_batch is a pull default only.
    EXPECT_EQ(checked(R"({"deliver_subject":"p"})", options).max_batch, 0);
}

TEST(JsConsumerDefaults, EphemeralsGetAnInactiveThresholdWhenCreated) {
    EXPECT_EQ(created_consumer_config(checked("{}")).inactive_threshold_ns, 5 * kSecondNs);
    EXPECT_EQ(
        created_consumer_config(checked(R"({"inactive_threshold":-1})")).inactive_threshold_ns,
        5 * kSecondNs);
    EXPECT_EQ(created_consumer_config(checked(R"({"inactive_threshold":7})")).inactive_threshold_ns,
              7);
    EXPECT_EQ(created_consumer_config(checked(R"({"durable_name":"D"})")).inactive_threshold_ns, 0);
    EXPECT_EQ(created_consumer_config(checked(R"({"durable_name":"D","inactive_threshold":-1})"))
                  .inactive_threshold_ns,
              -1);
}

TEST(JsConsumerCheck, CheckingTwiceChangesNothing) {
    for (const char* config_json :
         {"{}", R"({"ack_policy":"explicit","backoff":[1,2],"max_deliver":3})",
          R"({"deliver_subject":"p","idle_heartbeat":100000000,"flow_control":true})",
          R"({"deliver_policy":"by_start_time","opt_start_time":"2024-01-02T03:04:05+01:00"})"}) {
        ConsumerConfig once = checked(config_json);
        auto twice = check_consumer_config(once, plain_stream());
        ASSERT_TRUE(twice.has_value()) << config_json;
        EXPECT_EQ(*twice, once) << config_json;
    }
}

TEST(JsConsumerCheck, LimitsOfTheStreamAndTheAccount) {
    // Only reachable outside the create handler, which refuses num_replicas > 1 first.
    EXPECT_EQ(check_error(R"({"num_replicas":2})"), ConsumerReplicasExceedsStream());
    StreamConfig replicated = plain_stream();
    replicated.num_replicas = 3;
    EXPECT_TRUE(check_consumer_config(parsed_config(R"({"num_replicas":3})"), replicated));
    ConsumerCheckOptions options;
    options.account_max_ack_pending = 50;
    EXPECT_EQ(check_error(R"({"ack_policy":"explicit","max_ack_pending":51})", options),
              ConsumerMaxPendingAckExcess(50));
    options.server_max_ack_pending = 40;
    EXPECT_EQ(check_error(R"({"ack_policy":"explicit","max_ack_pending":51})", options),
              ConsumerMaxPendingAckExcess(40));
    EXPECT_EQ(error_json(ConsumerMaxPendingAckExcess(40)),
              R"({"code":400,"err_code":10121,"description":"consumer max ack pending exceeds )"
              R"(system limit of 40"})");
}

TEST(JsConsumerCheck, FilterSubjectsAsNatsServer210ChecksThem) {
    EXPECT_EQ(check_error(R"({"filter_subject":"s.a","filter_subjects":["s.b"]})"),
              ConsumerDuplicateFilterSubjects());
    EXPECT_EQ(check_error(R"({"filter_subjects":["s.a",""]})"), ConsumerEmptyFilter());
    // An empty filter is reported before an invalid one.
    EXPECT_EQ(check_error(R"({"filter_subjects":["t.a",""]})"), ConsumerEmptyFilter());
    EXPECT_EQ(check_error(R"({"filter_subjects":["s.a","t.a"]})"), ConsumerFilterNotSubset());
    EXPECT_EQ(check_error(R"({"filter_subjects":["s.a","s..b"]})"), ConsumerFilterNotSubset());
    EXPECT_EQ(check_error(R"({"filter_subjects":["s.a","s.*"]})"),
              ConsumerOverlappingSubjectFilters());
    EXPECT_EQ(check_error(R"({"filter_subjects":["s.>","s.a.b"]})"),
              ConsumerOverlappingSubjectFilters());
    EXPECT_EQ(check_error(R"({"filter_subjects":["s.a","s.a"]})"),
              ConsumerOverlappingSubjectFilters());
    ConsumerConfig two = checked(R"({"filter_subjects":["s.a","s.b.>"]})");
    EXPECT_EQ(two.filter_subjects, (std::vector<std::string>{"s.a", "s.b.>"}));
    EXPECT_TRUE(check_consumer_config(
        parsed_config(R"({"deliver_policy":"last_per_subject","filter_subjects":["s.a"]})"),
        plain_stream()));
    // Recovering skips the subset check, as for filter_subject.
    ConsumerCheckOptions recovering;
    recovering.recovering = true;
    EXPECT_TRUE(check_consumer_config(parsed_config(R"({"filter_subjects":["t.a","t.b"]})"),
                                      plain_stream(), recovering));
    EXPECT_TRUE(check_consumer_config(parsed_config(R"({"filter_subject":"t.a"})"), plain_stream(),
                                      recovering));
    EXPECT_EQ(error_json(ConsumerOverlappingSubjectFilters()),
              R"({"code":400,"err_code":10138,"description":"consumer subject filters cannot )"
              R"(overlap"})");
}

TEST(JsConsumerCheck, MetadataIsLimitedTo128KB) {
    std::map<std::string, std::string> metadata = {{"k", std::string(128 * 1024 - 1, 'v')}};
    ConsumerConfig config;
    config.metadata = metadata;
    EXPECT_TRUE(check_consumer_config(config, plain_stream()));
    config.metadata["x"] = "";
    auto result = check_consumer_config(config, plain_stream());
    ASSERT_FALSE(result);
    EXPECT_EQ(error_json(result.error()),
              R"({"code":400,"err_code":10135,"description":"consumer metadata exceeds maximum )"
              R"(size of 128KB"})");
}

TEST(JsConsumerCheck, SamplingAsStrconvAtoiReadsIt) {
    for (const char* ok : {"0", "100", "50%", "+7", "-0", "007", "999999999999999999",
                           "9223372036854775807", "0000000000000000000000001"}) {
        EXPECT_TRUE(check_consumer_config(
            parsed_config(R"({"sample_freq":")" + std::string(ok) + R"("})"), plain_stream()))
            << ok;
    }
    const std::string prefix = "failed to parse consumer sampling configuration: ";
    const std::map<std::string, std::string> bad = {
        {"-1", "<nil>"},
        {"-9223372036854775808", "<nil>"},
        {"9223372036854775808",
         R"(strconv.Atoi: parsing "9223372036854775808": value out of range)"},
        {"-9223372036854775809",
         R"(strconv.Atoi: parsing "-9223372036854775809": value out of range)"},
        {"99999999999999999999x",
         R"(strconv.Atoi: parsing "99999999999999999999x": value out of range)"},
        {"x99999999999999999999",
         R"(strconv.Atoi: parsing "x99999999999999999999": invalid syntax)"},
        {"1_000", R"(strconv.Atoi: parsing "1_000": invalid syntax)"},
        {"-", R"(strconv.Atoi: parsing "-": invalid syntax)"},
        {"5 %", R"(strconv.Atoi: parsing "5 ": invalid syntax)"},
        {"\\t", R"(strconv.Atoi: parsing "\t": invalid syntax)"},
    };
    for (const auto& [text, why] : bad) {
        EXPECT_EQ(check_error(R"({"sample_freq":")" + text + R"("})"), ConsumerInvalidSampling(why))
            << text;
    }
}

// ---------------------------------------------------------------------------------------------
// Updates and the create request's action

TEST(JsConsumerUpdate, ActionCreateRefusesADifferentConfig) {
    ConsumerConfig stored = created_consumer_config(checked(R"({"durable_name":"D"})"));
    ConsumerConfig same = checked(R"({"durable_name":"D"})");
    ConsumerConfig other = checked(R"({"durable_name":"D","description":"x"})");
    EXPECT_EQ(check_consumer_update(stored, same, ConsumerAction::kCreate), std::nullopt);
    EXPECT_EQ(check_consumer_update(stored, other, ConsumerAction::kCreate),
              ConsumerAlreadyExists());
    EXPECT_EQ(check_consumer_update(stored, other, ConsumerAction::kUpdate), std::nullopt);
    EXPECT_EQ(check_consumer_update(stored, other, ConsumerAction::kCreateOrUpdate), std::nullopt);
    // The comparison is with the stored config: an ephemeral's stamped inactive_threshold makes
    // a second identical "create" differ, as in nats-server 2.10/2.11.
    ConsumerConfig ephemeral = created_consumer_config(checked(R"({"name":"E"})"));
    EXPECT_EQ(check_consumer_update(ephemeral, checked(R"({"name":"E"})"), ConsumerAction::kCreate),
              ConsumerAlreadyExists());
    // pause_until comes from the stored consumer before the comparison.
    ConsumerConfig paused = stored;
    paused.pause_until_ns = 1'893'456'000 * kSecondNs;
    EXPECT_EQ(check_consumer_update(paused, same, ConsumerAction::kCreate), std::nullopt);
    EXPECT_EQ(error_json(ConsumerAlreadyExists()),
              R"({"code":400,"err_code":10148,"description":"consumer already exists"})");
}

TEST(JsConsumerUpdate, ActionUpdateNeedsAConsumer) {
    EXPECT_EQ(check_consumer_absent(ConsumerAction::kUpdate), ConsumerDoesNotExist());
    EXPECT_EQ(check_consumer_absent(ConsumerAction::kCreate), std::nullopt);
    EXPECT_EQ(check_consumer_absent(ConsumerAction::kCreateOrUpdate), std::nullopt);
    EXPECT_EQ(error_json(ConsumerDoesNotExist()),
              R"({"code":400,"err_code":10149,"description":"consumer does not exist"})");
}

TEST(JsConsumerUpdate, RulesInTheOrderOfCheckNewConsumerConfig) {
    ConsumerConfig pull;
    pull.durable_name = "D";
    pull.max_waiting = 0;
    ConsumerConfig push = pull;
    push.deliver_subject = "p";
    EXPECT_EQ(check_consumer_update(pull, push),
              ConsumerCreate("can not update pull consumer to push based"));
    EXPECT_EQ(check_consumer_update(push, pull),
              ConsumerCreate("can not update push consumer to pull based"));
    ConsumerConfig moved = push;
    moved.deliver_subject = "q";
    EXPECT_EQ(check_consumer_update(push, moved), std::nullopt);
    EXPECT_EQ(check_consumer_update(push, moved, ConsumerAction::kCreateOrUpdate, true),
              ConsumerNameExist());
    // Backoff against max_deliver, last.
    ConsumerConfig backoff = pull;
    backoff.backoff_ns = {1, 2};
    backoff.max_deliver = 2;
    EXPECT_EQ(check_consumer_update(pull, backoff), ConsumerMaxDeliverBackoff());
    // Several faults: deliver policy is reported first.
    ConsumerConfig many = moved;
    many.deliver_policy = DeliverPolicy::kNew;
    many.ack_policy = AckPolicy::kAll;
    EXPECT_EQ(check_consumer_update(pull, many),
              ConsumerCreate("deliver policy can not be updated"));
    many.deliver_policy = pull.deliver_policy;
    EXPECT_EQ(check_consumer_update(pull, many), ConsumerCreate("ack policy can not be updated"));
    // Start times compare as instants: another offset for the same instant is no change.
    ConsumerConfig timed = pull;
    timed.deliver_policy = DeliverPolicy::kByStartTime;
    timed.has_opt_start_time = true;
    timed.opt_start_time_ns = 1'704'164'645 * kSecondNs;
    ConsumerConfig shifted = timed;
    shifted.opt_start_time_utc_offset_s = 3600;
    shifted.description = "x";
    EXPECT_EQ(check_consumer_update(timed, shifted), std::nullopt);
    shifted.has_opt_start_time = false;
    shifted.opt_start_time_ns = 0;
    EXPECT_EQ(check_consumer_update(timed, shifted),
              ConsumerCreate("start time can not be updated"));
}

TEST(JsConsumerUpdate, StoredConfigKeepsPauseAndStampsEphemerals) {
    ConsumerConfig stored = created_consumer_config(checked(R"({"name":"E"})"));
    stored.pause_until_ns = 1'893'456'000 * kSecondNs;
    ConsumerConfig request = checked(R"({"name":"E","description":"x","pause_until":)"
                                     R"("2031-01-01T00:00:00Z"})");
    auto updated = updated_consumer_config(stored, request);
    ASSERT_TRUE(updated.has_value());
    EXPECT_EQ(updated->description, "x");
    EXPECT_EQ(updated->pause_until_ns, stored.pause_until_ns);
    EXPECT_EQ(updated->inactive_threshold_ns, 5 * kSecondNs);
    // The old config decides whether the consumer is an ephemeral.
    auto durable = updated_consumer_config(stored, checked(R"({"name":"E","durable_name":"E"})"));
    ASSERT_TRUE(durable.has_value());
    EXPECT_EQ(durable->inactive_threshold_ns, 5 * kSecondNs);
    ConsumerConfig stored_durable = created_consumer_config(checked(R"({"durable_name":"D"})"));
    auto threshold = updated_consumer_config(
        stored_durable, checked(R"({"durable_name":"D","inactive_threshold":-3})"));
    ASSERT_TRUE(threshold.has_value());
    EXPECT_EQ(threshold->inactive_threshold_ns, -3);
    auto refused = updated_consumer_config(stored, checked(R"({"name":"E","ack_policy":"all"})"));
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), ConsumerCreate("ack policy can not be updated"));
}

// ---------------------------------------------------------------------------------------------
// Names and work queues

TEST(JsConsumerName, ChecksOfAddConsumer) {
    ConsumerConfig config;
    EXPECT_EQ(consumer_name(config), "");
    EXPECT_EQ(check_consumer_name(config), std::nullopt);  // the core generates one
    config.name = "N";
    EXPECT_EQ(consumer_name(config), "N");
    config.durable_name = "D";
    EXPECT_EQ(consumer_name(config), "D");
    for (const char* bad : {"a.b", "a*", "a>", "a b", "a\tb", "a\nb", "a\rb", "a\fb"}) {
        ConsumerConfig named;
        named.name = bad;
        EXPECT_EQ(check_consumer_name(named), ConsumerBadDurableName()) << bad;
        ConsumerConfig durable;
        durable.durable_name = bad;
        EXPECT_EQ(check_consumer_name(durable), ConsumerBadDurableName()) << bad;
    }
    ConsumerConfig long_durable;
    long_durable.durable_name = std::string(256, 'd') + ".";
    EXPECT_EQ(check_consumer_name(long_durable), ConsumerNameTooLong(255));  // length first
}

TEST(JsConsumerWorkQueue, FilterSubjectsCountAsFilters) {
    const StreamConfig queue = stream(R"({"name":"Q","subjects":["q.>"],"retention":"workqueue"})");
    auto on_queue = [&](std::string_view config_json) {
        auto config = check_consumer_config(parsed_config(config_json), queue);
        EXPECT_TRUE(config.has_value()) << config_json;
        return config.value_or(ConsumerConfig{});
    };
    ConsumerConfig first = on_queue(R"({"ack_policy":"explicit","filter_subjects":["q.a","q.b"]})");
    std::vector<const ConsumerConfig*> others = {&first};
    EXPECT_EQ(check_work_queue_consumer(first, queue, {}), std::nullopt);
    EXPECT_EQ(check_work_queue_consumer(
                  on_queue(R"({"ack_policy":"explicit","filter_subject":"q.b"})"), queue, others),
              ConsumerWQConsumerNotUnique());
    EXPECT_EQ(check_work_queue_consumer(
                  on_queue(R"({"ack_policy":"explicit","filter_subjects":["q.c.x","q.*"]})"), queue,
                  others),
              ConsumerWQConsumerNotUnique());
    EXPECT_EQ(check_work_queue_consumer(
                  on_queue(R"({"ack_policy":"explicit","filter_subjects":["q.c","q.d"]})"), queue,
                  others),
              std::nullopt);
    // Recovering only logs an overlap; a direct consumer and other streams have no such rules.
    EXPECT_EQ(check_work_queue_consumer(
                  on_queue(R"({"ack_policy":"explicit","filter_subject":"q.b"})"), queue, others,
                  /*recovering=*/true),
              std::nullopt);
    EXPECT_EQ(check_work_queue_consumer(on_queue(R"({"direct":true,"deliver_subject":"d"})"), queue,
                                        others),
              std::nullopt);
    EXPECT_EQ(check_work_queue_consumer(checked("{}"), plain_stream(), others), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// Serialisation

TEST(JsConsumerJson, EveryFieldInGoOrder) {
    ConsumerConfig config = parsed(R"({"config":{
        "direct":true,"mem_storage":true,"num_replicas":1,"inactive_threshold":13,
        "deliver_group":"dg","deliver_subject":"ds","max_bytes":12,"max_expires":11,
        "max_batch":10,"headers_only":true,"flow_control":true,"idle_heartbeat":9,
        "max_ack_pending":8,"max_waiting":7,"sample_freq":"6%","rate_limit_bps":5,
        "replay_policy":"original","filter_subject":"f","backoff":[3,4],"max_deliver":2,
        "ack_wait":1,"ack_policy":"explicit","opt_start_time":"2024-01-02T03:04:05.5+01:30",
        "opt_start_seq":18446744073709551615,"deliver_policy":"by_start_time",
        "description":"<d>","name":"D","durable_name":"D","pause_until":"2030-01-01T01:00:00+01:00",
        "metadata":{"z":"1","a":"2"},"filter_subjects":["x"]}})")
                                .config;
    EXPECT_EQ(wire(config),
              R"({"durable_name":"D","name":"D","description":"\u003cd\u003e",)"
              R"("deliver_policy":"by_start_time","opt_start_seq":18446744073709551615,)"
              R"("opt_start_time":"2024-01-02T03:04:05.5+01:30","ack_policy":"explicit",)"
              R"("ack_wait":1,"max_deliver":2,"backoff":[3,4],"filter_subject":"f",)"
              R"("filter_subjects":["x"],"replay_policy":"original","rate_limit_bps":5,)"
              R"("sample_freq":"6%","max_waiting":7,"max_ack_pending":8,"idle_heartbeat":9,)"
              R"("flow_control":true,"headers_only":true,"max_batch":10,"max_expires":11,)"
              R"("max_bytes":12,"deliver_subject":"ds","deliver_group":"dg",)"
              R"("inactive_threshold":13,"num_replicas":1,"mem_storage":true,"direct":true,)"
              R"("metadata":{"a":"2","z":"1"},"pause_until":"2030-01-01T00:00:00Z"})");
    EXPECT_EQ(to_json(config), Json(to_ordered_json(config)));
    // The zero config: the enums and num_replicas only.
    EXPECT_EQ(wire(ConsumerConfig{}),
              R"({"deliver_policy":"all","ack_policy":"none","replay_policy":"instant",)"
              R"("num_replicas":0})");
}

TEST(JsConsumerJson, StartTimesAsGoWritesThem) {
    auto time_of = [](std::string_view text) {
        return to_ordered_json(parsed_config(R"({"opt_start_time":")" + std::string(text) +
                                             R"("})"))["opt_start_time"]
            .get<std::string>();
    };
    EXPECT_EQ(time_of("2024-01-02T03:04:05.120000000Z"), "2024-01-02T03:04:05.12Z");
    EXPECT_EQ(time_of("2024-01-02T03:04:05,5-07:30"), "2024-01-02T03:04:05.5-07:30");
    EXPECT_EQ(time_of("2024-01-02T03:04:05-00:00"), "2024-01-02T03:04:05Z");
    EXPECT_EQ(time_of("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
    EXPECT_EQ(time_of("1970-01-01T00:00:00+01:00"), "1970-01-01T00:00:00+01:00");
    EXPECT_EQ(time_of("1969-12-31T23:59:59.999999999-23:59"),
              "1969-12-31T23:59:59.999999999-23:59");
    // The wall clock may lie past int64 nanoseconds while the instant does not.
    EXPECT_EQ(time_of("2262-04-12T01:00:00+02:00"), "2262-04-12T01:00:00+02:00");
    EXPECT_EQ(time_of("1970-01-01T00:00:00Z"), "1970-01-01T00:00:00Z");
    // Instants beyond int64 nanoseconds are written back as given; they start after every
    // message, or at the first.
    EXPECT_EQ(time_of("2999-01-01T00:00:00Z"), "2999-01-01T00:00:00Z");
    EXPECT_EQ(time_of("1600-01-01T00:00:00-05:00"), "1600-01-01T00:00:00-05:00");
    EXPECT_EQ(parsed_config(R"({"opt_start_time":"2999-01-01T00:00:00Z"})").opt_start_time_ns,
              std::numeric_limits<int64_t>::max());
    EXPECT_EQ(parsed_config(R"({"opt_start_time":"1600-01-01T00:00:00Z"})").opt_start_time_ns,
              std::numeric_limits<int64_t>::min());
}

TEST(JsConsumerJson, RoundTrip) {
    std::vector<ConsumerConfig> configs = {
        ConsumerConfig{},
        checked(R"({"ack_policy":"explicit","backoff":[1000000000,2000000000],"max_deliver":3})"),
        checked(
            R"({"durable_name":"D","deliver_subject":"p","idle_heartbeat":100000000,)"
            R"("flow_control":true,"deliver_group":"g","rate_limit_bps":18446744073709551615})"),
        checked(
            R"({"deliver_policy":"by_start_time","opt_start_time":"2024-01-02T03:04:05+05:45"})"),
        checked(R"({"deliver_policy":"by_start_time","opt_start_time":"0001-01-01T00:00:00Z"})"),
        checked(R"({"filter_subjects":["s.a","s.b"],"metadata":{"k":"v","":""},)"
                R"("pause_until":"2030-01-01T00:00:00.000000001Z","description":"\u2028<>&"})"),
        checked(R"({"ack_wait":-1,"max_deliver":-5,"max_ack_pending":-1,"max_bytes":-1,)"
                R"("inactive_threshold":-1,"max_expires":5000000,"max_batch":3,"num_replicas":1})"),
    };
    for (const ConsumerConfig& config : configs) {
        std::string body = R"({"stream_name":"S","config":)" + wire(config) + "}";
        EXPECT_EQ(parsed(body).config, config) << body;
    }
}

// ---------------------------------------------------------------------------------------------
// The API pieces added with ConsumerConfig

TEST(JsApiError, ConsumerErrorsOfNewerNatsServers) {
    EXPECT_EQ(ConsumerAlreadyExists(), (ApiError{400, 10148, "consumer already exists"}));
    EXPECT_EQ(ConsumerDoesNotExist(), (ApiError{400, 10149, "consumer does not exist"}));
    EXPECT_EQ(ConsumerDuplicateFilterSubjects(),
              (ApiError{400, 10136,
                        "consumer cannot have both FilterSubject and FilterSubjects specified"}));
    EXPECT_EQ(ConsumerEmptyFilter(),
              (ApiError{400, 10139, "consumer filter in FilterSubjects cannot be empty"}));
    EXPECT_EQ(ConsumerMetadataLength("128KB"),
              (ApiError{400, 10135, "consumer metadata exceeds maximum size of 128KB"}));
    EXPECT_EQ(ConsumerMultipleFiltersNotAllowed(),
              (ApiError{400, 10137,
                        "consumer with multiple subject filters cannot use subject based API"}));
    EXPECT_EQ(ConsumerOverlappingSubjectFilters(),
              (ApiError{400, 10138, "consumer subject filters cannot overlap"}));
}

TEST(JsTime, OffsetsAreKeptLikeGo) {
    int32_t offset_s = 99;
    EXPECT_EQ(parse_rfc3339("2024-01-02T03:04:05+02:00", offset_s), 1'704'157'445 * kSecondNs);
    EXPECT_EQ(offset_s, 7200);
    EXPECT_EQ(parse_rfc3339("2024-01-02T03:04:05Z", offset_s), 1'704'164'645 * kSecondNs);
    EXPECT_EQ(offset_s, 0);
    EXPECT_EQ(parse_rfc3339("2024-01-02T03:04:05-00:30", offset_s), 1'704'166'445 * kSecondNs);
    EXPECT_EQ(offset_s, -1800);
    EXPECT_EQ(parse_rfc3339("2024-01-02", offset_s), std::nullopt);
    EXPECT_EQ(offset_s, -1800);
    EXPECT_EQ(rfc3339(1'704'157'445 * kSecondNs, 7200), "2024-01-02T03:04:05+02:00");
    EXPECT_EQ(rfc3339(1'704'166'445 * kSecondNs + 5, -1800), "2024-01-02T03:04:05.000000005-00:30");
    EXPECT_EQ(rfc3339(1'704'164'645 * kSecondNs, 0), "2024-01-02T03:04:05Z");
    EXPECT_EQ(rfc3339(0, 0), "0001-01-01T00:00:00Z");
    EXPECT_EQ(rfc3339(0, 3600), "1970-01-01T01:00:00+01:00");
    EXPECT_EQ(rfc3339(-1, -60), "1969-12-31T23:58:59.999999999-00:01");
}

}  // namespace
}  // namespace ringtail::proto::js::consumer_tests
