#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "proto/js/api.h"
#include "proto/js/consumer_config.h"
#include "proto/js/stream_config.h"

// Expected bytes in this file were taken from a real nats-server 2.9.10 (Debian's build, Go
// 1.19) answering the same requests over a raw socket, unless a test says otherwise.
namespace ringtail::proto::js {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

std::string error_json(const ApiError& error) {
    OrderedJson out = {{"code", error.code}};
    if (error.err_code != 0) out["err_code"] = error.err_code;
    if (!error.description.empty()) out["description"] = error.description;
    return go_marshal(out);
}

StreamConfig parsed(std::string_view body) {
    auto config = parse_stream_config(body);
    EXPECT_TRUE(config.has_value()) << body;
    return config.value_or(StreamConfig{});
}

StreamConfig checked(std::string_view body, const StreamCheckOptions& options = {}) {
    auto config = check_stream_config(parsed(body), options);
    EXPECT_TRUE(config.has_value()) << body << " -> " << error_json(config.error());
    return config.value_or(StreamConfig{});
}

ApiError check_error(std::string_view body, const StreamCheckOptions& options = {}) {
    auto config = check_stream_config(parsed(body), options);
    EXPECT_FALSE(config.has_value()) << body;
    return config.has_value() ? ApiError{} : config.error();
}

std::string wire(const StreamConfig& config) { return go_marshal(to_ordered_json(config)); }

// ---------------------------------------------------------------------------------------------
// ApiError

TEST(StreamConfigNewerFields, ThoseInUseAreRefusedNamingTheField) {
    EXPECT_FALSE(refuse_newer_fields(R"({"name":"S","subjects":["a"]})"));
    // Defaults a client sends are not a use.
    EXPECT_FALSE(refuse_newer_fields(
        R"({"name":"S","compression":"none","first_seq":0,"consumer_limits":{},"allow_msg_ttl":false,"subject_transform":null})"));
    for (const char* body : {R"({"compression":"s2"})", R"({"allow_msg_counter":true})",
                             R"({"allow_atomic":true})", R"({"allow_msg_schedules":true})"}) {
        auto refused = refuse_newer_fields(body);
        ASSERT_TRUE(refused) << body;
        EXPECT_EQ(refused->err_code, 10052) << body;
        std::string field = std::string(body).substr(2, std::string(body).find('"', 2) - 2);
        EXPECT_EQ(refused->description, field + " is not supported by this ringtail version yet");
    }
}

TEST(StreamConfigMessageTtl, MarkersTurnOnTtlsAndRollupsAndAreShownOnlyWhenSet) {
    EXPECT_FALSE(refuse_newer_fields(R"({"allow_msg_ttl":true,"subject_delete_marker_ttl":1000000000})"));
    auto plain = check_stream_config(parsed(R"({"name":"S","subjects":["a"]})"), {});
    ASSERT_TRUE(plain);
    EXPECT_EQ(wire(*plain).find("allow_msg_ttl"), std::string::npos);
    EXPECT_EQ(wire(*plain).find("subject_delete_marker_ttl"), std::string::npos);
    auto markers = check_stream_config(
        parsed(R"({"name":"S","subjects":["a"],"deny_purge":true,"subject_delete_marker_ttl":5000000000})"), {});
    ASSERT_TRUE(markers);
    EXPECT_TRUE(markers->allow_msg_ttl);
    EXPECT_TRUE(markers->allow_rollup_hdrs);
    EXPECT_FALSE(markers->deny_purge);
    EXPECT_NE(wire(*markers).find(R"("allow_msg_ttl":true,"subject_delete_marker_ttl":5000000000)"), std::string::npos)
        << wire(*markers);
    EXPECT_EQ(check_error(R"({"name":"S","subjects":["a"],"subject_delete_marker_ttl":999999999})").description,
              "subject delete marker TTL must be at least 1 second");
    EXPECT_EQ(check_error(R"({"name":"S","subjects":["a"],"subject_delete_marker_ttl":-1})").description,
              "subject delete marker TTL must not be negative");
    EXPECT_EQ(check_error(R"({"name":"S","mirror":{"name":"O"},"subject_delete_marker_ttl":1000000000})").description,
              "subject delete markers forbidden on mirrors");
}

TEST(StreamConfigMessageTtl, AnUpdateMayTurnTtlsOnButNotOff) {
    StreamConfig off = parsed(R"({"name":"S","subjects":["a"]})");
    StreamConfig on = parsed(R"({"name":"S","subjects":["a"],"allow_msg_ttl":true})");
    EXPECT_FALSE(check_stream_update(off, on));
    auto refused = check_stream_update(on, off);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->err_code, 10052);
    EXPECT_EQ(refused->description, "message TTL status can not be disabled");
    EXPECT_FALSE(same_config(off, on));
}

TEST(StreamConfigOriginTransforms, AreKeptWhenNotEmptyAndShownAfterTheFilter) {
    EXPECT_FALSE(refuse_newer_fields(R"({"name":"S","mirror":{"name":"A","subject_transforms":[{"src":"a","dest":"b"}]}})"));
    StreamConfig plain = checked(R"({"name":"S","sources":[{"name":"A","subject_transforms":[]}]})");
    EXPECT_EQ(wire(plain).find("subject_transforms"), std::string::npos) << wire(plain);
    StreamConfig config = checked(
        R"({"name":"S","sources":[{"name":"A","subject_transforms":[{"src":"a.*","dest":"b"},null]},{"name":"A"}]})");
    EXPECT_NE(wire(config).find(R"({"name":"A","subject_transforms":[{"src":"a.*","dest":"b"},{"src":"","dest":""}]})"),
              std::string::npos)
        << wire(config);
    EXPECT_FALSE(same_config(config, plain));
    // Not every wildcard of the source need be used (2.10 is not strict here); a literal source
    // takes no function.
    EXPECT_EQ(check_error(R"({"name":"S","sources":[{"name":"A","subject_transforms":[{"src":"a","dest":"{{wildcard(1)}}"}]}]})")
                  .err_code,
              10146);
}

TEST(StreamConfigFirstSeq, IsKeptAndShownAndRefusedForAMirror) {
    StreamConfig config = checked(R"({"name":"S","subjects":["a"],"first_seq":1000})");
    EXPECT_EQ(config.first_seq, 1000u);
    EXPECT_NE(wire(config).find(R"("first_seq":1000)"), std::string::npos) << wire(config);
    EXPECT_EQ(wire(checked(R"({"name":"S","subjects":["a"]})")).find("first_seq"), std::string::npos);
    ApiError error = check_error(R"({"name":"M","subjects":["a"],"mirror":{"name":"O"},"first_seq":5})");
    EXPECT_EQ(error.err_code, 10143);
    EXPECT_EQ(error.description, "stream mirrors can not have first sequence configured");
}

// A mirror's or a source's name no stream could have (2.10's errors): it would otherwise end
// up in subjects the mirror subscribes (its origin's direct gets) and asks on.
TEST(StreamConfigOrigins, ANameNoStreamCouldHaveIsRefused) {
    const std::string too_long(256, 'x');
    for (const std::string name : {std::string(""), std::string("a.b"), std::string("a*"), std::string(">"),
                                   std::string("a b"), too_long}) {
        SCOPED_TRACE("'" + name + "'");
        nlohmann::json mirror = {{"name", "M"}, {"mirror", {{"name", name}}}};
        ApiError error = check_error(mirror.dump());
        EXPECT_EQ(error.err_code, 10142);
        EXPECT_EQ(error.description, "mirrored stream name is invalid");
        nlohmann::json source = {{"name", "S"}, {"sources", {{{"name", name}}}}};
        error = check_error(source.dump());
        EXPECT_EQ(error.err_code, 10141);
        EXPECT_EQ(error.description, "sourced stream name is invalid");
    }
    EXPECT_TRUE(check_stream_config(parsed(R"({"name":"M","mirror":{"name":"O-1_x"}})"), {}).has_value());
}

// Two sources alike would copy every message twice (2.10's error); another filter makes them two.
TEST(StreamConfigOrigins, TheSameSourceTwiceIsRefused) {
    ApiError error = check_error(R"({"name":"S","sources":[{"name":"O"},{"name":"P"},{"name":"O"}]})");
    EXPECT_EQ(error.code, 400);
    EXPECT_EQ(error.err_code, 10140);
    EXPECT_EQ(error.description, "duplicate source configuration detected");
    EXPECT_EQ(check_error(R"({"name":"S","sources":[{"name":"O","filter_subject":"a"},{"name":"O","filter_subject":"a"}]})").err_code,
              10140);
    EXPECT_TRUE(check_stream_config(
                    parsed(R"({"name":"S","sources":[{"name":"O","filter_subject":"a"},{"name":"O","filter_subject":"b"}]})"), {})
                    .has_value());
}

TEST(StreamConfigSubjectTransform, IsKeptShownAndCheckedAs2_10ChecksIt) {
    StreamConfig config = checked(R"({"name":"S","subjects":["in.>"],"subject_transform":{"src":"in.>","dest":"out.>"}})");
    EXPECT_NE(wire(config).find(R"("subject_transform":{"src":"in.\u003e","dest":"out.\u003e"})"), std::string::npos) << wire(config);
    EXPECT_EQ(wire(checked(R"({"name":"S","subjects":["a"]})")).find("subject_transform"), std::string::npos);
    ApiError source = check_error(R"({"name":"S","subjects":["a"],"subject_transform":{"src":"a..b","dest":"c"}})");
    EXPECT_EQ(source.err_code, 10155);
    EXPECT_EQ(source.description, "stream transform source: invalid subject a..b");
    ApiError destination = check_error(R"({"name":"S","subjects":["a.*"],"subject_transform":{"src":"a.*","dest":"b.{{wildcard(3)}}"}})");
    EXPECT_EQ(destination.err_code, 10156);
    EXPECT_EQ(destination.description, "stream transform: invalid mapping destination");
}

TEST(ConsumerConfigNewerFields, PriorityGroupsAreRefused) {
    EXPECT_FALSE(refuse_newer_consumer_fields(R"({"config":{"durable_name":"d","priority_policy":"none"}})"));
    auto refused = refuse_newer_consumer_fields(R"({"config":{"priority_groups":["g"],"priority_policy":"pinned_client"}})");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->err_code, 10012);
    EXPECT_EQ(refused->description, "priority_groups is not supported by this ringtail version yet");
}

TEST(JsApiError, StreamErrorsCarryNatsServerCodesAndTexts) {
    struct Case {
        ApiError error;
        int code;
        int err_code;
        const char* description;
    };
    const Case cases[] = {
        {StreamNotFound(), 404, 10059, "stream not found"},
        {StreamNameExist(), 400, 10058,
         "stream name already in use with a different configuration"},
        {StreamSubjectOverlap(), 400, 10065, "subjects overlap with an existing stream"},
        {StreamNameContainsPathSeparators(), 400, 10128,
         "Stream name can not contain path separators"},
        {StreamInvalidConfig("boom"), 500, 10052, "boom"},
        {StreamUpdate("boom"), 500, 10069, "boom"},
        {StreamCreate("boom"), 500, 10049, "boom"},
        {StreamReplicasNotSupported(), 500, 10074,
         "replicas > 1 not supported in non-clustered mode"},
        {StreamMismatch(), 400, 10056, "stream name in subject does not match request"},
        {BadRequest(), 400, 10003, "bad request"},
        {InvalidJSON(), 400, 10025, "invalid JSON"},
        {NoMessageFound(), 404, 10037, "no message found"},
        {StreamWrongLastSequence(7), 400, 10071, "wrong last sequence: 7"},
        {StreamWrongLastMsgID("abc"), 400, 10070, "wrong last msg ID: abc"},
        {StreamNotMatch(), 400, 10060, "expected stream does not match"},
        {StreamMessageExceedsMaximum(), 400, 10054, "message size exceeds maximum allowed"},
        {StreamHeaderExceedsMaximum(), 400, 10097, "header size exceeds maximum allowed of 64k"},
        {StreamStoreFailed("maximum messages exceeded"), 503, 10077, "maximum messages exceeded"},
        {StreamRollupFailed("rollup not permitted"), 500, 10111, "rollup not permitted"},
        {StreamSealed(), 400, 10109, "invalid operation on sealed stream"},
        {StreamPurgeFailed("x"), 500, 10110, "x"},
        {StreamMsgDeleteFailed("stream store EOF"), 500, 10057, "stream store EOF"},
        {StreamGeneralError("x"), 500, 10051, "x"},
        {MaximumStreamsLimit(), 400, 10027, "maximum number of streams reached"},
        {MaximumConsumersLimit(), 400, 10026, "maximum consumers limit reached"},
        {StreamLimits("x"), 500, 10053, "x"},
        {MemoryResourcesExceeded(), 500, 10028, "insufficient memory resources available"},
        {StorageResourcesExceeded(), 500, 10047, "insufficient storage resources available"},
        {InsufficientResources(), 503, 10023, "insufficient resources"},
        {AccountResourcesExceeded(), 400, 10002, "resource limits exceeded for account"},
        {NotEnabled(), 503, 10076, "JetStream not enabled"},
        {NotEnabledForAccount(), 503, 10039, "JetStream not enabled for account"},
        {NotEmptyRequest(), 400, 10038, "expected an empty request payload"},
        {StreamMaxBytesRequired(), 400, 10113,
         "account requires a stream config to have max bytes set"},
        {StreamMaxStreamBytesExceeded(), 400, 10122,
         "stream max bytes exceeds account limit max stream bytes"},
        {StreamInvalid(), 500, 10096, "stream not valid"},
        {StreamMirrorNotUpdatable(), 400, 10055, "stream mirror configuration can not be updated"},
        {StreamReplicasNotUpdatable(), 400, 10061, "Replicas configuration can not be updated"},
        {StreamSequenceNotMatch(), 503, 10063, "expected stream sequence does not match"},
        {SequenceNotFound(5), 400, 10043, "sequence 5 not found"},
        {ReplicasCountCannotBeNegative(), 400, 10133, "replicas count cannot be negative"},
        {MirrorWithSubjects(), 400, 10034, "stream mirrors can not contain subjects"},
        {MirrorWithSources(), 400, 10031, "stream mirrors can not also contain other sources"},
        {MirrorMaxMessageSizeTooBig(), 400, 10030,
         "stream mirror must have max message size >= source"},
        {SourceMaxMessageSizeTooBig(), 400, 10046,
         "stream source must have max message size >= target"},
        {StreamExternalApiOverlap("$JS.API", "$JS.API"), 400, 10021,
         "stream external api prefix $JS.API must not overlap with $JS.API"},
        {StreamExternalDelPrefixOverlaps("p", "s.>"), 400, 10022,
         "stream external delivery prefix p overlaps with stream subject s.>"},
        {StreamInvalidExternalDeliverySubj("a.*"), 400, 10024,
         "stream external delivery prefix a.* must not contain wildcards"},
        {NoLimits(), 400, 10120, "no JetStream default or applicable tiered limit present"},
        {ClusterNotAvail(), 503, 10008, "JetStream system temporarily unavailable"},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(c.error.code, c.code) << c.description;
        EXPECT_EQ(c.error.err_code, c.err_code) << c.description;
        EXPECT_EQ(c.error.description, c.description);
    }
}

TEST(JsApiError, ConsumerErrorsAStreamOnlyServerReturns) {
    EXPECT_EQ(ConsumerNotFound(), (ApiError{404, 10014, "consumer not found"}));
    EXPECT_EQ(ConsumerCreate("boom"), (ApiError{500, 10012, "boom"}));
    EXPECT_EQ(ConsumerNameTooLong(255),
              (ApiError{400, 10102, "consumer name is too long, maximum allowed is 255"}));
    EXPECT_EQ(ConsumerMaxPendingAckExcess(-1),
              (ApiError{400, 10121, "consumer max ack pending exceeds system limit of -1"}));
    EXPECT_EQ(ConsumerBadDurableName(),
              (ApiError{400, 10103, "durable name can not contain '.', '*', '>'"}));
}

TEST(JsApiError, PlaceholdersAreReplacedOnceInTheGoOrder) {
    EXPECT_EQ(RestoreSubscribeFailed("boom", "$JS.SNAPSHOT.RESTORE.S.x").description,
              "JetStream unable to subscribe to restore snapshot $JS.SNAPSHOT.RESTORE.S.x: boom");
    // Text brought in by a replacement is not scanned again (strings.NewReplacer).
    EXPECT_EQ(RestoreSubscribeFailed("{subject}", "s").description,
              "JetStream unable to subscribe to restore snapshot s: {subject}");
    EXPECT_EQ(StreamInvalidConfig("{err}").description, "{err}");
    EXPECT_EQ(StreamWrongLastSequence(std::numeric_limits<uint64_t>::max()).description,
              "wrong last sequence: 18446744073709551615");
    EXPECT_EQ(StreamMoveInProgress("x").description, "stream move already in progress: x");
}

TEST(JsApiError, ToJsonOmitsEmptyFieldsAndRepairsUtf8) {
    EXPECT_EQ(to_json(StreamNotFound()),
              Json::parse(R"({"code":404,"err_code":10059,"description":"stream not found"})"));
    EXPECT_EQ(to_json(ApiError{503, 0, ""}), Json::parse(R"({"code":503})"));
    EXPECT_EQ(to_json(StreamWrongLastMsgID("a\xff")),
              Json::parse("{\"code\":400,\"err_code\":10070,"
                          "\"description\":\"wrong last msg ID: a\xEF\xBF\xBD\"}"));
}

TEST(JsApiError, ErrorResponseEnvelope) {
    EXPECT_EQ(error_response(kStreamCreateResponse, StreamReplicasNotSupported()),
              R"({"type":"io.nats.jetstream.api.v1.stream_create_response","error":{"code":500,)"
              R"("err_code":10074,"description":"replicas \u003e 1 not supported in non-clustered )"
              R"(mode"}})");
    EXPECT_EQ(error_response(kStreamUpdateResponse, StreamNotFound()),
              R"({"type":"io.nats.jetstream.api.v1.stream_update_response","error":{"code":404,)"
              R"("err_code":10059,"description":"stream not found"}})");
    EXPECT_EQ(error_response(kStreamMsgGetResponse, NoMessageFound()),
              R"({"type":"io.nats.jetstream.api.v1.stream_msg_get_response","error":{"code":404,)"
              R"("err_code":10037,"description":"no message found"}})");
    EXPECT_EQ(error_response(kConsumerInfoResponse, ConsumerNotFound()),
              R"({"type":"io.nats.jetstream.api.v1.consumer_info_response","error":{"code":404,)"
              R"("err_code":10014,"description":"consumer not found"}})");
    EXPECT_EQ(
        error_response(kStreamMsgDeleteResponse, StreamMsgDeleteFailed("stream store EOF")),
        R"({"type":"io.nats.jetstream.api.v1.stream_msg_delete_response","error":{"code":500,)"
        R"("err_code":10057,"description":"stream store EOF"}})");
}

TEST(JsApiError, ErrorResponsesKeepTheNonOmitemptyFieldsOfTheirType) {
    EXPECT_EQ(error_response(kStreamInfoResponse, StreamNotFound()),
              R"({"type":"io.nats.jetstream.api.v1.stream_info_response","error":{"code":404,)"
              R"("err_code":10059,"description":"stream not found"},"total":0,"offset":0,)"
              R"("limit":0})");
    EXPECT_EQ(error_response(kStreamNamesResponse, InvalidJSON()),
              R"({"type":"io.nats.jetstream.api.v1.stream_names_response","error":{"code":400,)"
              R"("err_code":10025,"description":"invalid JSON"},"total":0,"offset":0,"limit":0,)"
              R"("streams":null})");
    EXPECT_EQ(error_response(kStreamPurgeResponse, StreamNotFound()),
              R"({"type":"io.nats.jetstream.api.v1.stream_purge_response","error":{"code":404,)"
              R"("err_code":10059,"description":"stream not found"},"purged":0})");
    EXPECT_EQ(error_response(kStreamPurgeResponse, BadRequest()),
              R"({"type":"io.nats.jetstream.api.v1.stream_purge_response","error":{"code":400,)"
              R"("err_code":10003,"description":"bad request"},"purged":0})");
    // STREAM.LIST starts from an empty slice: [] as captured by the differential corpus
    // (stream_names_list.txt, a LIST with bad JSON).
    EXPECT_TRUE(error_response(kStreamListResponse, BadRequest()).ends_with(R"(,"streams":[]})"));
    // These three follow from the Go types (ApiPaged / non-omitempty fields), not from a capture.
    EXPECT_TRUE(
        error_response(kConsumerNamesResponse, BadRequest()).ends_with(R"(,"consumers":[]})"));
    EXPECT_TRUE(
        error_response(kConsumerListResponse, BadRequest()).ends_with(R"(,"consumers":[]})"));
    EXPECT_TRUE(error_response(kStreamRestoreResponse, BadRequest())
                    .ends_with(R"(,"deliver_subject":""})"));
}

// ---------------------------------------------------------------------------------------------
// PubAck

TEST(JsPubAck, StoredAndDuplicate) {
    EXPECT_EQ(pub_ack("PA", 1, false), R"({"stream":"PA", "seq":1})");
    EXPECT_EQ(pub_ack("PA", 2, true), R"({"stream":"PA", "seq":2,"duplicate": true})");
    EXPECT_EQ(pub_ack("PA", 3, false, "HUB"), R"({"stream":"PA", "domain":"HUB", "seq":3})");
    EXPECT_EQ(pub_ack("S", std::numeric_limits<uint64_t>::max(), false),
              R"({"stream":"S", "seq":18446744073709551615})");
    // The name goes through Go's %q, not the JSON encoder: '<' and '&' stay, '"' is escaped.
    EXPECT_EQ(pub_ack("a<&\"", 3, false), R"({"stream":"a<&\"", "seq":3})");
}

TEST(JsPubAck, ErrorForms) {
    EXPECT_EQ(pub_ack_error("K", StreamSealed()),
              R"({"error":{"code":400,"err_code":10109,"description":"invalid operation on )"
              R"(sealed stream"},"stream":"K","seq":0})");
    EXPECT_EQ(pub_ack_error("PA", StreamNotMatch()),
              R"({"error":{"code":400,"err_code":10060,"description":"expected stream does not )"
              R"(match"},"stream":"PA","seq":0})");
    EXPECT_EQ(pub_ack_error("PA", StreamWrongLastSequence(2)),
              R"({"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 2"},)"
              R"("stream":"PA","seq":0})");
    EXPECT_EQ(pub_ack_error("PA", StreamWrongLastMsgID("a")),
              R"({"error":{"code":400,"err_code":10070,"description":"wrong last msg ID: a"},)"
              R"("stream":"PA","seq":0})");
    EXPECT_EQ(pub_ack_error("PA", StreamRollupFailed("rollup not permitted")),
              R"({"error":{"code":500,"err_code":10111,"description":"rollup not permitted"},)"
              R"("stream":"PA","seq":0})");
    EXPECT_EQ(pub_ack_error("a<b", StreamMessageExceedsMaximum()),
              R"({"error":{"code":400,"err_code":10054,"description":"message size exceeds )"
              R"(maximum allowed"},"stream":"a\u003cb","seq":0})");
}

// ---------------------------------------------------------------------------------------------
// Go text formats

TEST(JsGoFormat, MarshalEscapesLikeGoEncodingJson) {
    EXPECT_EQ(go_marshal(Json("<a&b>")), R"("\u003ca\u0026b\u003e")");
    EXPECT_EQ(go_marshal(Json("q\"\\/")), R"("q\"\\/")");
    EXPECT_EQ(go_marshal(Json("\n\r\t\b\f\x01\x1f\x7f")),
              "\"\\n\\r\\t\\u0008\\u000c\\u0001\\u001f\x7f\"");
    EXPECT_EQ(go_marshal(Json("\xE2\x80\xA8\xE2\x80\xA9\xC3\xA9")), R"("\u2028\u2029)"
                                                                    "\xC3\xA9\"");
    std::string out;
    append_go_json_string(out, "a\xFF\xC3(\xED\xA0\x80z");  // bad byte, truncated, surrogate
    EXPECT_EQ(out, R"("a\ufffd\ufffd(\ufffd\ufffd\ufffdz")");
}

TEST(JsGoFormat, MarshalNumbersArraysObjects) {
    EXPECT_EQ(go_marshal(Json::parse(R"([1,-2,18446744073709551615,true,null,{}])")),
              R"([1,-2,18446744073709551615,true,null,{}])");
    EXPECT_EQ(go_marshal(Json(1.5)), "1.5");
    EXPECT_EQ(go_marshal(Json(100.0)), "100");
    EXPECT_EQ(go_marshal(Json(1e21)), "1e+21");
    EXPECT_EQ(go_marshal(Json(1e20)), "100000000000000000000");
    EXPECT_EQ(go_marshal(Json(1e-7)), "1e-7");
    EXPECT_EQ(go_marshal(Json(0.000001)), "0.000001");
    // nlohmann::json sorts members; ordered_json keeps insertion order.
    EXPECT_EQ(go_marshal(Json{{"b", 1}, {"a", 2}}), R"({"a":2,"b":1})");
    OrderedJson ordered = OrderedJson::object();
    ordered["b"] = 1;
    ordered["a"] = OrderedJson::array({"x"});
    EXPECT_EQ(go_marshal(ordered), R"({"b":1,"a":["x"]})");
    EXPECT_EQ(go_marshal(Json::binary({1, 2, 3, 4})), R"("AQIDBA==")");
}

TEST(JsGoFormat, QuoteLikeStrconvQuote) {
    EXPECT_EQ(go_quote("a.*"), R"("a.*")");
    EXPECT_EQ(go_quote("a\x01.b"), R"("a\x01.b")");  // as nats-server wrote it (see below)
    EXPECT_EQ(go_quote("\a\b\f\n\r\t\v\x7f"), R"("\a\b\f\n\r\t\v\x7f")");
    EXPECT_EQ(go_quote("q\"\\<>&"), R"("q\"\\<>&")");
    EXPECT_EQ(go_quote("\xC3\xA9"), "\"\xC3\xA9\"");
    EXPECT_EQ(go_quote("\xFF"), R"("\xff")");
    EXPECT_EQ(go_quote("\xC2\xA0\xC2\x85"), R"("\u00a0\u0085")");
    EXPECT_EQ(go_quote("\xF3\xA0\x80\x81"), R"("\U000e0001")");
}

TEST(JsGoFormat, DurationLikeTimeDurationString) {
    EXPECT_EQ(go_duration(0), "0s");
    EXPECT_EQ(go_duration(1), "1ns");
    EXPECT_EQ(go_duration(999), "999ns");
    EXPECT_EQ(go_duration(1'500), "1.5\xC2\xB5s");
    EXPECT_EQ(go_duration(100'000'000), "100ms");
    EXPECT_EQ(go_duration(1'000'000'000), "1s");
    EXPECT_EQ(go_duration(1'500'000'000), "1.5s");
    EXPECT_EQ(go_duration(60'000'000'000), "1m0s");
    EXPECT_EQ(go_duration(90'000'000'000), "1m30s");
    EXPECT_EQ(go_duration(120'000'000'000), "2m0s");
    EXPECT_EQ(go_duration(3'600'000'000'000), "1h0m0s");
    EXPECT_EQ(go_duration(3'723'500'000'000), "1h2m3.5s");
    EXPECT_EQ(go_duration(-1'500'000'000), "-1.5s");
    EXPECT_EQ(go_duration(-1'500'000), "-1.5ms");
    EXPECT_EQ(go_duration(2'285'298), "2.285298ms");
    EXPECT_EQ(go_duration(3'600'000'000'001), "1h0m0.000000001s");
    EXPECT_EQ(go_duration(std::numeric_limits<int64_t>::min()), "-2562047h47m16.854775808s");
    EXPECT_EQ(go_duration(std::numeric_limits<int64_t>::max()), "2562047h47m16.854775807s");
}

// ---------------------------------------------------------------------------------------------
// Timestamps

TEST(JsTime, FormatsLikeGoTimeMarshalJson) {
    EXPECT_EQ(rfc3339(0), "0001-01-01T00:00:00Z");
    EXPECT_EQ(rfc3339(1'704'164'645'123'456'789), "2024-01-02T03:04:05.123456789Z");
    EXPECT_EQ(rfc3339(1'704'164'645'120'000'000), "2024-01-02T03:04:05.12Z");
    EXPECT_EQ(rfc3339(1'704'164'645'000'000'000), "2024-01-02T03:04:05Z");
    EXPECT_EQ(rfc3339(1'704'164'645'000'000'001), "2024-01-02T03:04:05.000000001Z");
    EXPECT_EQ(rfc3339(1), "1970-01-01T00:00:00.000000001Z");
    EXPECT_EQ(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
    EXPECT_EQ(rfc3339(951'782'400'000'000'000), "2000-02-29T00:00:00Z");
    EXPECT_EQ(rfc3339(std::numeric_limits<int64_t>::max()), "2262-04-11T23:47:16.854775807Z");
    EXPECT_EQ(rfc3339(std::numeric_limits<int64_t>::min()), "1677-09-21T00:12:43.145224192Z");
}

TEST(JsTime, ParsesWhatItFormats) {
    for (int64_t nanos : {int64_t{1'704'164'645'123'456'789}, int64_t{1}, int64_t{-1},
                          int64_t{951'782'400'000'000'000}, std::numeric_limits<int64_t>::max(),
                          std::numeric_limits<int64_t>::min(), int64_t{0}}) {
        EXPECT_EQ(parse_rfc3339(rfc3339(nanos)), nanos) << rfc3339(nanos);
    }
}

TEST(JsTime, ParsesOffsetsAndFractions) {
    EXPECT_EQ(parse_rfc3339("2024-01-02T03:04:05+02:00"), 1'704'157'445'000'000'000);
    EXPECT_EQ(parse_rfc3339("2024-01-02T03:04:05-00:30"), 1'704'166'445'000'000'000);
    EXPECT_EQ(parse_rfc3339("2024-01-02T03:04:05.5Z"), 1'704'164'645'500'000'000);
    EXPECT_EQ(parse_rfc3339("2024-01-02T03:04:05,5Z"), 1'704'164'645'500'000'000);
    EXPECT_EQ(parse_rfc3339("2024-01-02T03:04:05.1234567899999Z"), 1'704'164'645'123'456'789);
    EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1'709'164'800'000'000'000);
    EXPECT_EQ(parse_rfc3339("0001-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
}

TEST(JsTime, RefusesMalformedOrOutOfRange) {
    for (const char* text : {"",
                             "2024-01-02",
                             "2024-01-02T03:04:05",
                             "2024-01-02t03:04:05Z",
                             "2024-01-02T03:04:05z",
                             "2024-01-02 03:04:05Z",
                             "2024-1-02T03:04:05Z",
                             "2024-01-02T3:04:05Z",
                             "2024-13-02T03:04:05Z",
                             "2024-00-02T03:04:05Z",
                             "2023-02-29T03:04:05Z",
                             "2024-04-31T03:04:05Z",
                             "2024-01-02T24:00:00Z",
                             "2024-01-02T03:60:05Z",
                             "2024-01-02T03:04:60Z",
                             "2024-01-02T03:04:05.Z",
                             "2024-01-02T03:04:05Zx",
                             "2024-01-02T03:04:05+0200",
                             "2024-01-02T03:04:05+24:00",
                             "2024-01-02T03:04:05+02:60",
                             "2262-04-12T00:00:00Z",
                             "1677-09-21T00:00:00Z",
                             "0001-01-01T00:00:00.1Z",
                             "+024-01-02T03:04:05Z",
                             " 2024-01-02T03:04:05Z"}) {
        EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
    }
}

TEST(JsTime, NormalizeKeepsTheOffsetLikeGo) {
    EXPECT_EQ(normalize_rfc3339("2024-01-02T03:04:05.5+02:00"), "2024-01-02T03:04:05.5+02:00");
    EXPECT_EQ(normalize_rfc3339("2024-01-02T03:04:05.120000000Z"), "2024-01-02T03:04:05.12Z");
    EXPECT_EQ(normalize_rfc3339("2024-01-02T03:04:05,5-00:00"), "2024-01-02T03:04:05.5Z");
    EXPECT_EQ(normalize_rfc3339("2024-01-02T03:04:05.1234567891234-07:30"),
              "2024-01-02T03:04:05.123456789-07:30");
    EXPECT_EQ(normalize_rfc3339("0001-01-01T00:00:00Z"), "0001-01-01T00:00:00Z");
    EXPECT_EQ(normalize_rfc3339("9999-12-31T23:59:59.999999999+23:59"),
              "9999-12-31T23:59:59.999999999+23:59");
    EXPECT_EQ(normalize_rfc3339("2024-01-02"), std::nullopt);
}

// ---------------------------------------------------------------------------------------------
// STREAM.CREATE against nats-server: parse, the create-handler checks and checkStreamCfg,
// compared with the reply's "config" or "error" member byte for byte. The origins below are
// the streams that existed on the real server at that point.

struct CreateCase {
    const char* label;
    const char* subject_name;
    const char* body;
    const char* expected;
};

const CreateCase kCreateCases[] = {
    {"replicas 6", "R", "{\"name\": \"R\", \"num_replicas\": 6}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"maximum replicas is 5\"}"},
    {"replicas -1", "R", "{\"name\": \"R\", \"num_replicas\": -1}",
     "{\"code\":400,\"err_code\":10133,\"description\":\"replicas count cannot be negative\"}"},
    {"replicas 2", "R", "{\"name\": \"R\", \"num_replicas\": 2}",
     "{\"code\":500,\"err_code\":10074,\"description\":\"replicas \\u003e 1 not supported in "
     "non-clustered mode\"}"},
    {"maxage 50ms", "M", "{\"name\": \"M\", \"max_age\": 50000000}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"max age needs to be \\u003e= 100ms\"}"},
    {"dup neg", "M", "{\"name\": \"M\", \"duplicate_window\": -1}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"duplicates window can not be negative\"}"},
    {"dup>age", "M", "{\"name\": \"M\", \"max_age\": 1000000000, \"duplicate_window\": 2000000000}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"duplicates window can not be larger then "
     "max age\"}"},
    {"dup small", "M", "{\"name\": \"M\", \"duplicate_window\": 50000000}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"duplicates window needs to be \\u003e= "
     "100ms\"}"},
    {"maxage neg", "M", "{\"name\": \"M\", \"max_age\": -5}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"duplicates window can not be negative\"}"},
    {"rollup+denypurge", "M",
     "{\"name\": \"M\", \"deny_purge\": true, \"allow_rollup_hdrs\": true}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"roll-ups require the purge permission\"}"},
    {"dnps no new", "M", "{\"name\": \"M\", \"discard_new_per_subject\": true}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"discard new per subject requires discard "
     "new policy to be set\"}"},
    {"dnps no per", "M",
     "{\"name\": \"M\", \"discard_new_per_subject\": true, \"discard\": \"new\"}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"discard new per subject requires max msgs "
     "per subject \\u003e 0\"}"},
    {"mirror+subjects", "M",
     "{\"name\": \"M\", \"mirror\": {\"name\": \"O\"}, \"subjects\": [\"x\"]}",
     "{\"code\":400,\"err_code\":10034,\"description\":\"stream mirrors can not contain "
     "subjects\"}"},
    {"mirror+sources", "M",
     "{\"name\": \"M\", \"mirror\": {\"name\": \"O\"}, \"sources\": [{\"name\": \"P\"}]}",
     "{\"code\":400,\"err_code\":10031,\"description\":\"stream mirrors can not also contain other "
     "sources\"}"},
    {"dup subjects", "M", "{\"name\": \"M\", \"subjects\": [\"a\", \"a\"]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"duplicate subjects detected\"}"},
    {"api subj", "M", "{\"name\": \"M\", \"subjects\": [\"$JS.API.>\"]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"subjects overlap with jetstream api\"}"},
    {"api subj2", "M", "{\"name\": \"M\", \"subjects\": [\"$JS.API.STREAM.INFO.x\"]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"subjects overlap with jetstream api\"}"},
    {"invalid subj", "M", "{\"name\": \"M\", \"subjects\": [\"a..b\"]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"invalid subject\"}"},
    {"empty subj", "M", "{\"name\": \"M\", \"subjects\": [\"\"]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"invalid subject\"}"},
    {"overlap self", "M", "{\"name\": \"M\", \"subjects\": [\"a.*\", \"a.b\"]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"subject \\\"a.*\\\" overlaps with "
     "\\\"a.b\\\"\"}"},
    {"overlap self2", "M", "{\"name\": \"M\", \"subjects\": [\"a.b\", \"a.>\"]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"subject \\\"a.b\\\" overlaps with "
     "\\\"a.\\u003e\\\"\"}"},
    {"republish bad src", "M",
     "{\"name\": \"M\", \"subjects\": [\"a.>\"], \"republish\": {\"src\": \"b.>\", \"dest\": "
     "\"c.>\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish source "
     "is not valid subset of subjects\"}"},
    {"republish cycle", "M",
     "{\"name\": \"M\", \"subjects\": [\"a.>\"], \"republish\": {\"src\": \"a.>\", \"dest\": "
     "\"a.x.>\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish "
     "destination forms a cycle\"}"},
    {"republish bad transform", "M",
     "{\"name\": \"M\", \"subjects\": [\"a.*\"], \"republish\": {\"src\": \"a.*\", \"dest\": "
     "\"c.$2\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish not "
     "valid\"}"},
    {"sealed create", "M", "{\"name\": \"M\", \"sealed\": true}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for create can not "
     "be sealed\"}"},
    {"mirror direct", "M", "{\"name\": \"M\", \"mirror_direct\": true}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream has no mirror but does have mirror "
     "direct\"}"},
    {"retention null", "M", "{\"name\": \"M\", \"retention\": null}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"discard NEW", "DN", "{\"name\": \"DN\", \"discard\": \"NEW\"}",
     "{\"name\":\"DN\",\"subjects\":[\"DN\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"new\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"storage MEMORY", "M", "{\"name\": \"M\", \"storage\": \"MEMORY\"}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"max_msgs string", "M", "{\"name\":\"M\",\"max_msgs\":\"5\"}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"max_msgs float", "M", "{\"name\":\"M\",\"max_msgs\":1.5}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"max_msgs 1.0", "M", "{\"name\":\"M\",\"max_msgs\":1.0}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"max_msgs 1e2", "M", "{\"name\":\"M\",\"max_msgs\":1e2}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"name number", "M", "{\"name\":5}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"subjects string", "M", "{\"name\":\"M\",\"subjects\":\"a\"}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"unknown + NAME", "CI", "{\"NAME\":\"CI\",\"Subjects\":[\"ci\"],\"foo\":{\"x\":[1,2]}}",
     "{\"name\":\"CI\",\"subjects\":[\"ci\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"null name", "M", "{\"name\":null}",
     "{\"code\":400,\"err_code\":10056,\"description\":\"stream name in subject does not match "
     "request\"}"},
    {"empty body", "M", "", "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"null body", "M", "null",
     "{\"code\":400,\"err_code\":10056,\"description\":\"stream name in subject does not match "
     "request\"}"},
    {"array body", "M", "[]", "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"trailing", "M", "{\"name\":\"M\"} x",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"mismatch", "N", "{\"name\": \"M\"}",
     "{\"code\":400,\"err_code\":10056,\"description\":\"stream name in subject does not match "
     "request\"}"},
    {"path sep", "a/b", "{\"name\": \"a/b\"}",
     "{\"code\":400,\"err_code\":10128,\"description\":\"Stream name can not contain path "
     "separators\"}"},
    {"backslash", "a\\b", "{\"name\": \"a\\\\b\"}",
     "{\"code\":400,\"err_code\":10128,\"description\":\"Stream name can not contain path "
     "separators\"}"},
    {"max_msg_size big", "M", "{\"name\":\"M\",\"max_msg_size\":3000000000}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"replicas huge", "M", "{\"name\":\"M\",\"num_replicas\":10000000000}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"maximum replicas is 5\"}"},
    {"zero limits", "Z",
     "{\"name\": \"Z\", \"max_msgs\": 0, \"max_bytes\": 0, \"max_consumers\": 0, \"max_msg_size\": "
     "0, \"max_msgs_per_subject\": 0, \"num_replicas\": 0}",
     "{\"name\":\"Z\",\"subjects\":[\"Z\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"maxage 1s", "AG", "{\"name\": \"AG\", \"max_age\": 1000000000}",
     "{\"name\":\"AG\",\"subjects\":[\"AG\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":1000000000,\"max_msgs_per_subject\":-1,\"max_msg_"
     "size\":-1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "1000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"neg limits", "NL",
     "{\"name\": \"NL\", \"max_msgs\": -7, \"max_msg_size\": -3, \"max_bytes\": -9}",
     "{\"name\":\"NL\",\"subjects\":[\"NL\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-7,\"max_bytes\":-9,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-3,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"full", "F",
     "{\"name\": \"F\", \"description\": \"d <&>\", \"subjects\": [\"f.>\", \"g\"], \"retention\": "
     "\"interest\", \"max_consumers\": 5, \"max_msgs\": 10, \"max_bytes\": 1000, \"max_age\": "
     "3600000000000, \"max_msgs_per_subject\": 3, \"max_msg_size\": 100, \"discard\": \"new\", "
     "\"storage\": \"memory\", \"num_replicas\": 1, \"no_ack\": true, \"duplicate_window\": "
     "1000000000, \"placement\": {\"cluster\": \"\", \"tags\": []}, \"allow_direct\": true, "
     "\"discard_new_per_subject\": true, \"deny_delete\": true, \"deny_purge\": true, "
     "\"republish\": {\"dest\": \"rp.>\"}, \"template_owner\": \"\"}",
     "{\"name\":\"F\",\"description\":\"d "
     "\\u003c\\u0026\\u003e\",\"subjects\":[\"f.\\u003e\",\"g\"],\"retention\":\"interest\",\"max_"
     "consumers\":5,\"max_msgs\":10,\"max_bytes\":1000,\"max_age\":3600000000000,\"max_msgs_per_"
     "subject\":3,\"max_msg_size\":100,\"discard\":\"new\",\"storage\":\"memory\",\"num_replicas\":"
     "1,\"no_ack\":true,\"duplicate_window\":1000000000,\"placement\":{},\"republish\":{\"src\":"
     "\"\\u003e\",\"dest\":\"rp.\\u003e\"},\"allow_direct\":true,\"mirror_direct\":false,\"discard_"
     "new_per_subject\":true,\"sealed\":false,\"deny_delete\":true,\"deny_purge\":true,\"allow_"
     "rollup_hdrs\":false}"},
    {"sources", "SRC",
     "{\"name\": \"SRC\", \"sources\": [{\"name\": \"F\", \"opt_start_time\": "
     "\"2024-01-02T03:04:05.5+02:00\", \"external\": {\"api\": \"$JS.x.API\", \"deliver\": \"\"}}, "
     "{\"name\": \"G\", \"filter_subject\": \"q\"}]}",
     "{\"name\":\"SRC\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":120000000000,\"sources\":[{"
     "\"name\":\"F\",\"opt_start_time\":\"2024-01-02T03:04:05.5+02:00\",\"external\":{\"api\":\"$"
     "JS.x.API\",\"deliver\":\"\"}},{\"name\":\"G\",\"filter_subject\":\"q\"}],\"allow_direct\":"
     "false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,"
     "\"allow_rollup_hdrs\":false}"},
    {"mirror", "MIR", "{\"name\": \"MIR\", \"mirror\": {\"name\": \"F\", \"opt_start_seq\": 5}}",
     "{\"name\":\"MIR\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"F\",\"opt_start_seq\":5},"
     "\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_"
     "purge\":false,\"allow_rollup_hdrs\":false}"},
    {"placement empty", "PL", "{\"name\": \"PL\", \"placement\": {}}",
     "{\"name\":\"PL\",\"subjects\":[\"PL\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"placement\":{},\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":"
     "false,\"deny_delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"sources empty", "SE", "{\"name\": \"SE\", \"sources\": []}",
     "{\"name\":\"SE\",\"subjects\":[\"SE\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"opt_start_time bad", "M",
     "{\"name\": \"M\", \"mirror\": {\"name\": \"F\", \"opt_start_time\": \"2024-01-02\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"placement wrong", "M", "{\"name\": \"M\", \"placement\": 5}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"metadata wrong", "MD", "{\"name\": \"MD\", \"metadata\": 5}",
     "{\"name\":\"MD\",\"subjects\":[\"MD\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"ext api overlap", "M",
     "{\"name\": \"M\", \"sources\": [{\"name\": \"F\", \"external\": {\"api\": \"$JS.API\", "
     "\"deliver\": \"\"}}]}",
     "{\"code\":400,\"err_code\":10021,\"description\":\"stream external api prefix $JS.API must "
     "not overlap with $JS.API\"}"},
    {"ext deliver wildcard", "M",
     "{\"name\": \"M\", \"sources\": [{\"name\": \"F\", \"external\": {\"api\": \"x\", "
     "\"deliver\": \"a.*\"}}]}",
     "{\"code\":400,\"err_code\":10024,\"description\":\"stream external delivery prefix a.* must "
     "not contain wildcards\"}"},
    {"ext api wildcard", "M",
     "{\"name\": \"M\", \"sources\": [{\"name\": \"F\", \"external\": {\"api\": \"a.*\", "
     "\"deliver\": \"\"}}]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream external api prefix \\\"a.*\\\" "
     "must be a valid subject without wildcards\"}"},
    {"subjects null elem", "M", "{\"name\":\"M\",\"subjects\":[null]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"invalid subject\"}"},
    {"bool as int", "M", "{\"name\":\"M\",\"no_ack\":1}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"dup keys", "DK", "{\"name\":\"DK\",\"max_msgs\":5,\"max_msgs\":6}",
     "{\"name\":\"DK\",\"subjects\":[\"DK\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":6,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"nested unknown", "NU",
     "{\"name\":\"NU\",\"mirror\":null,\"placement\":{\"cluster\":\"c\",\"x\":1}}",
     "{\"name\":\"NU\",\"subjects\":[\"NU\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"placement\":{\"cluster\":\"c\"},\"allow_direct\":false,\"mirror_direct\":"
     "false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":"
     "false}"},
    {"weird subj", "WS", "{\"name\": \"WS\", \"subjects\": [\"a\\u0001b\", \"\\u00e9\"]}",
     "{\"name\":\"WS\",\"subjects\":[\"a\\u0001b\",\"\303\251\"],\"retention\":\"limits\",\"max_"
     "consumers\":-1,\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,"
     "\"max_msg_size\":-1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_"
     "window\":120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_"
     "delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"overlap weird", "M", "{\"name\": \"M\", \"subjects\": [\"a\\u0001.*\", \"a\\u0001.b\"]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"subject \\\"a\\\\x01.*\\\" overlaps with "
     "\\\"a\\\\x01.b\\\"\"}"},
    {"gt subj", "M", "{\"name\": \"M\", \"subjects\": [\"$JS.>\"]}",
     "{\"name\":\"M\",\"subjects\":[\"$JS.\\u003e\"],\"retention\":\"limits\",\"max_consumers\":-1,"
     "\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-"
     "1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"mirror inherits allow_direct", "MD", "{\"name\": \"MD\", \"mirror\": {\"name\": \"ORIG\"}}",
     "{\"name\":\"MD\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_bytes\":"
     "-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"ORIG\"},\"allow_direct\":"
     "false,\"mirror_direct\":true,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,"
     "\"allow_rollup_hdrs\":false}"},
    {"mirror max_msg_size too small", "MS",
     "{\"name\": \"MS\", \"mirror\": {\"name\": \"ORIG\"}, \"max_msg_size\": 10}",
     "{\"code\":400,\"err_code\":10030,\"description\":\"stream mirror must have max message size "
     "\\u003e= source\"}"},
    {"mirror max_msg_size larger ok", "MS2",
     "{\"name\": \"MS2\", \"mirror\": {\"name\": \"ORIG\"}, \"max_msg_size\": 2000}",
     "{\"name\":\"MS2\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":2000,\"discard\":"
     "\"old\",\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"ORIG\"},\"allow_"
     "direct\":false,\"mirror_direct\":true,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":"
     "false,\"allow_rollup_hdrs\":false}"},
    {"mirror filter no overlap", "MF",
     "{\"name\": \"MF\", \"mirror\": {\"name\": \"ORIG\", \"filter_subject\": \"zzz\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"mirror 'ORIG' filter subject 'zzz' does "
     "not overlap with any origin stream subject\"}"},
    {"mirror filter overlap", "MF2",
     "{\"name\": \"MF2\", \"mirror\": {\"name\": \"ORIG\", \"filter_subject\": \"orig.x\"}}",
     "{\"name\":\"MF2\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"ORIG\",\"filter_subject\":"
     "\"orig.x\"},\"allow_direct\":false,\"mirror_direct\":true,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"source max_msg_size too small", "SS",
     "{\"name\": \"SS\", \"sources\": [{\"name\": \"ORIG\"}], \"max_msg_size\": 10}",
     "{\"code\":400,\"err_code\":10046,\"description\":\"stream source must have max message size "
     "\\u003e= target\"}"},
    {"source filter no overlap", "SF",
     "{\"name\": \"SF\", \"sources\": [{\"name\": \"ORIG\", \"filter_subject\": \"zzz\"}]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"source 'ORIG' filter subject 'zzz' does "
     "not overlap with any origin stream subject\"}"},
    {"source filter overlaps earlier origin", "SF2",
     "{\"name\": \"SF2\", \"sources\": [{\"name\": \"ORIG\"}, {\"name\": \"ORIG2\", "
     "\"filter_subject\": \"orig.y\"}]}",
     "{\"name\":\"SF2\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":120000000000,\"sources\":[{"
     "\"name\":\"ORIG\"},{\"name\":\"ORIG2\",\"filter_subject\":\"orig.y\"}],\"allow_direct\":"
     "false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,"
     "\"allow_rollup_hdrs\":false}"},
    {"self source cycle", "CY", "{\"name\": \"CY\", \"sources\": [{\"name\": \"CY\"}]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"detected cycle\"}"},
    {"two stream cycle", "CB", "{\"name\": \"CB\", \"sources\": [{\"name\": \"CA\"}]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"detected cycle\"}"},
    {"diamond counted as cycle", "DA",
     "{\"name\": \"DA\", \"sources\": [{\"name\": \"DB\"}, {\"name\": \"DC\"}]}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"detected cycle\"}"},
    {"deliver prefix overlaps origin subject", "DP",
     "{\"name\": \"DP\", \"sources\": [{\"name\": \"ORIG\", \"external\": {\"api\": \"\", "
     "\"deliver\": \"orig\"}}]}",
     "{\"code\":400,\"err_code\":10022,\"description\":\"stream external delivery prefix orig "
     "overlaps with stream subject orig.\\u003e\"}"},
    {"deliver prefix fine", "DP2",
     "{\"name\": \"DP2\", \"sources\": [{\"name\": \"ORIG\", \"external\": {\"api\": "
     "\"$JS.other.API\", \"deliver\": \"dlv\"}}]}",
     "{\"name\":\"DP2\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":120000000000,\"sources\":[{"
     "\"name\":\"ORIG\",\"external\":{\"api\":\"$JS.other.API\",\"deliver\":\"dlv\"}}],\"allow_"
     "direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":"
     "false,\"allow_rollup_hdrs\":false}"},
    {"api prefix overlaps", "AP",
     "{\"name\": \"AP\", \"mirror\": {\"name\": \"X\", \"external\": {\"api\": \"$JS.API.>\", "
     "\"deliver\": \"\"}}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream external api prefix "
     "\\\"$JS.API.\\u003e\\\" must be a valid subject without wildcards\"}"},
    {"api prefix collides literal", "AP2",
     "{\"name\": \"AP2\", \"mirror\": {\"name\": \"X\", \"external\": {\"api\": \"$JS.API\", "
     "\"deliver\": \"\"}}}",
     "{\"code\":400,\"err_code\":10021,\"description\":\"stream external api prefix $JS.API must "
     "not overlap with $JS.API\"}"},
    {"mirror with start seq and time", "ST",
     "{\"name\": \"ST\", \"mirror\": {\"name\": \"X\", \"opt_start_seq\": 3, \"opt_start_time\": "
     "\"2024-01-02T03:04:05Z\"}}",
     "{\"name\":\"ST\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_bytes\":"
     "-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"X\",\"opt_start_seq\":3,\"opt_"
     "start_time\":\"2024-01-02T03:04:05Z\"},\"allow_direct\":false,\"mirror_direct\":false,"
     "\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"republish wildcard ok", "RP",
     "{\"name\": \"RP\", \"subjects\": [\"a.*.*\"], \"republish\": {\"src\": \"a.*.*\", \"dest\": "
     "\"b.{{wildcard(2)}}.$1\", \"headers_only\": true}}",
     "{\"name\":\"RP\",\"subjects\":[\"a.*.*\"],\"retention\":\"limits\",\"max_consumers\":-1,"
     "\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-"
     "1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"republish\":{\"src\":\"a.*.*\",\"dest\":\"b.{{wildcard(2)}}.$1\",\"headers_"
     "only\":true},\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"republish index out of range", "RP2",
     "{\"name\": \"RP2\", \"subjects\": [\"a.*\"], \"republish\": {\"src\": \"a.*\", \"dest\": "
     "\"b.$2\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish not "
     "valid\"}"},
    {"republish not all wildcards used", "RP3",
     "{\"name\": \"RP3\", \"subjects\": [\"a.*.*\"], \"republish\": {\"src\": \"a.*.*\", \"dest\": "
     "\"b.$1\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish not "
     "valid\"}"},
    {"republish unknown function", "RP4",
     "{\"name\": \"RP4\", \"subjects\": [\"a.*\"], \"republish\": {\"src\": \"a.*\", \"dest\": "
     "\"b.{{foo(1)}}\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish not "
     "valid\"}"},
    {"republish partition", "RP5",
     "{\"name\": \"RP5\", \"subjects\": [\"a.*\"], \"republish\": {\"src\": \"a.*\", \"dest\": "
     "\"b.{{partition(3,1)}}\"}}",
     "{\"name\":\"RP5\",\"subjects\":[\"a.*\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"republish\":{\"src\":\"a.*\",\"dest\":\"b.{{partition(3,1)}}\"},\"allow_"
     "direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":"
     "false,\"allow_rollup_hdrs\":false}"},
    {"republish split bad delimiter", "RP6",
     "{\"name\": \"RP6\", \"subjects\": [\"a.*\"], \"republish\": {\"src\": \"a.*\", \"dest\": "
     "\"b.{{split(1,.)}}\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish not "
     "valid\"}"},
    {"republish fwc mismatch", "RP7",
     "{\"name\": \"RP7\", \"subjects\": [\"a.>\"], \"republish\": {\"src\": \"a.>\", \"dest\": "
     "\"b.c\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish not "
     "valid\"}"},
    {"republish literal", "RP8",
     "{\"name\": \"RP8\", \"subjects\": [\"a.b\"], \"republish\": {\"src\": \"a.b\", \"dest\": "
     "\"c.d\"}}",
     "{\"name\":\"RP8\",\"subjects\":[\"a.b\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"republish\":{\"src\":\"a.b\",\"dest\":\"c.d\"},\"allow_direct\":false,"
     "\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,\"allow_"
     "rollup_hdrs\":false}"},
    {"republish dest pwc", "RP9",
     "{\"name\": \"RP9\", \"subjects\": [\"a.*\"], \"republish\": {\"src\": \"a.*\", \"dest\": "
     "\"c.*\"}}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"stream configuration for republish not "
     "valid\"}"},
    {"republish dollar text", "RP10",
     "{\"name\": \"RP10\", \"subjects\": [\"a.*\"], \"republish\": {\"src\": \"a.*\", \"dest\": "
     "\"c.$x.{{Wildcard( 1 )}}\"}}",
     "{\"name\":\"RP10\",\"subjects\":[\"a.*\"],\"retention\":\"limits\",\"max_consumers\":-1,"
     "\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-"
     "1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"republish\":{\"src\":\"a.*\",\"dest\":\"c.$x.{{Wildcard( 1 "
     ")}}\"},\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,"
     "\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"star api", "SA", "{\"name\": \"SA\", \"subjects\": [\"$JS.*.>\"]}",
     "{\"name\":\"SA\",\"subjects\":[\"$JS.*.\\u003e\"],\"retention\":\"limits\",\"max_consumers\":"
     "-1,\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_"
     "size\":-1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"replicas 5", "R5", "{\"name\": \"R5\", \"num_replicas\": 5}",
     "{\"code\":500,\"err_code\":10074,\"description\":\"replicas \\u003e 1 not supported in "
     "non-clustered mode\"}"},
    {"max_age 100ms", "A100", "{\"name\": \"A100\", \"max_age\": 100000000}",
     "{\"name\":\"A100\",\"subjects\":[\"A100\"],\"retention\":\"limits\",\"max_consumers\":-1,"
     "\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":100000000,\"max_msgs_per_subject\":-1,\"max_msg_"
     "size\":-1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "100000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"dup 100ms", "D100", "{\"name\": \"D100\", \"duplicate_window\": 100000000}",
     "{\"name\":\"D100\",\"subjects\":[\"D100\"],\"retention\":\"limits\",\"max_consumers\":-1,"
     "\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-"
     "1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":100000000,"
     "\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_"
     "purge\":false,\"allow_rollup_hdrs\":false}"},
    {"max_age 99ms", "A99", "{\"name\": \"A99\", \"max_age\": 99999999}",
     "{\"code\":500,\"err_code\":10052,\"description\":\"max age needs to be \\u003e= 100ms\"}"},
    {"max_age 150ms", "A150", "{\"name\": \"A150\", \"max_age\": 150000000}",
     "{\"name\":\"A150\",\"subjects\":[\"A150\"],\"retention\":\"limits\",\"max_consumers\":-1,"
     "\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":150000000,\"max_msgs_per_subject\":-1,\"max_msg_"
     "size\":-1,\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "150000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"mirror no dup default", "MND",
     "{\"name\": \"MND\", \"mirror\": {\"name\": \"NOPE\"}, \"max_age\": 1000000000}",
     "{\"name\":\"MND\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":1000000000,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"NOPE\"},"
     "\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_"
     "purge\":false,\"allow_rollup_hdrs\":false}"},
    {"sources keep no subjects", "SK",
     "{\"name\": \"SK\", \"sources\": [{\"name\": \"NOPE\", \"opt_start_seq\": 0, "
     "\"filter_subject\": \"\"}], \"description\": \"\\u2028<>&\\u0001\"}",
     "{\"name\":\"SK\",\"description\":\"\\u2028\\u003c\\u003e\\u0026\\u0001\",\"retention\":"
     "\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_"
     "per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\",\"storage\":\"file\",\"num_"
     "replicas\":1,\"duplicate_window\":120000000000,\"sources\":[{\"name\":\"NOPE\"}],\"allow_"
     "direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":"
     "false,\"allow_rollup_hdrs\":false}"},
    {"dnps ok", "DNPS",
     "{\"name\": \"DNPS\", \"discard\": \"new\", \"discard_new_per_subject\": true, "
     "\"max_msgs_per_subject\": 1}",
     "{\"name\":\"DNPS\",\"subjects\":[\"DNPS\"],\"retention\":\"limits\",\"max_consumers\":-1,"
     "\"max_msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":1,\"max_msg_size\":-"
     "1,\"discard\":\"new\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"discard_new_per_subject\":true,"
     "\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"placement tags", "PT",
     "{\"name\": \"PT\", \"placement\": {\"cluster\": \"c1\", \"tags\": [\"a\", \"b\"]}}",
     "{\"name\":\"PT\",\"subjects\":[\"PT\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"placement\":{\"cluster\":\"c1\",\"tags\":[\"a\",\"b\"]},\"allow_direct\":"
     "false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,"
     "\"allow_rollup_hdrs\":false}"},
    {"mirror external null", "MEN",
     "{\"name\": \"MEN\", \"mirror\": {\"name\": \"NOPE\", \"external\": null, \"opt_start_time\": "
     "null}}",
     "{\"name\":\"MEN\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"NOPE\"},\"allow_direct\":"
     "false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,"
     "\"allow_rollup_hdrs\":false}"},
    {"opt_start_time utc frac", "OST",
     "{\"name\": \"OST\", \"mirror\": {\"name\": \"NOPE\", \"opt_start_time\": "
     "\"2024-01-02T03:04:05.120000000Z\"}}",
     "{\"name\":\"OST\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"NOPE\",\"opt_start_time\":"
     "\"2024-01-02T03:04:05.12Z\"},\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,"
     "\"deny_delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"opt_start_time minus zero", "OST2",
     "{\"name\": \"OST2\", \"mirror\": {\"name\": \"NOPE\", \"opt_start_time\": "
     "\"2024-01-02T03:04:05,5-00:00\"}}",
     "{\"name\":\"OST2\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"NOPE\",\"opt_start_time\":"
     "\"2024-01-02T03:04:05.5Z\"},\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,"
     "\"deny_delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"opt_start_time long frac", "OST3",
     "{\"name\": \"OST3\", \"mirror\": {\"name\": \"NOPE\", \"opt_start_time\": "
     "\"2024-01-02T03:04:05.1234567891234-07:30\"}}",
     "{\"name\":\"OST3\",\"retention\":\"limits\",\"max_consumers\":-1,\"max_msgs\":-1,\"max_"
     "bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,\"discard\":\"old\","
     "\"storage\":\"file\",\"num_replicas\":1,\"mirror\":{\"name\":\"NOPE\",\"opt_start_time\":"
     "\"2024-01-02T03:04:05.123456789-07:30\"},\"allow_direct\":false,\"mirror_direct\":false,"
     "\"sealed\":false,\"deny_delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"opt_start_time lowercase", "OST4",
     "{\"name\": \"OST4\", \"mirror\": {\"name\": \"NOPE\", \"opt_start_time\": "
     "\"2024-01-02t03:04:05Z\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"opt_start_time feb 29 2023", "OST5",
     "{\"name\": \"OST5\", \"mirror\": {\"name\": \"NOPE\", \"opt_start_time\": "
     "\"2023-02-29T03:04:05Z\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"opt_start_time sec 60", "OST6",
     "{\"name\": \"OST6\", \"mirror\": {\"name\": \"NOPE\", \"opt_start_time\": "
     "\"2024-01-02T03:04:60Z\"}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"opt_start_seq negative", "OSN",
     "{\"name\": \"OSN\", \"mirror\": {\"name\": \"NOPE\", \"opt_start_seq\": -1}}",
     "{\"code\":400,\"err_code\":10025,\"description\":\"invalid JSON\"}"},
    {"long s key", "LS", "{\"name\":\"LS\",\"\305\277ubjects\":[\"ls\"]}",
     "{\"name\":\"LS\",\"subjects\":[\"ls\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"kelvin key", "KK", "{\"name\":\"KK\",\"no_ac\342\204\252\":true}",
     "{\"name\":\"KK\",\"subjects\":[\"KK\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"no_ack\":true,\"duplicate_"
     "window\":120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_"
     "delete\":false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
    {"escaped key", "EK", "{\"n\\u0061me\":\"EK\"}",
     "{\"name\":\"EK\",\"subjects\":[\"EK\"],\"retention\":\"limits\",\"max_consumers\":-1,\"max_"
     "msgs\":-1,\"max_bytes\":-1,\"max_age\":0,\"max_msgs_per_subject\":-1,\"max_msg_size\":-1,"
     "\"discard\":\"old\",\"storage\":\"file\",\"num_replicas\":1,\"duplicate_window\":"
     "120000000000,\"allow_direct\":false,\"mirror_direct\":false,\"sealed\":false,\"deny_delete\":"
     "false,\"deny_purge\":false,\"allow_rollup_hdrs\":false}"},
};

class JsStreamCreate : public ::testing::Test {
 protected:
    void SetUp() override {
        add(R"({"name":"ORIG","subjects":["orig.>"],"max_msg_size":1000,"allow_direct":true})");
        add(R"({"name":"ORIG2","subjects":["o2.a","o2.b"]})");
        add(R"({"name":"CA","sources":[{"name":"CB"}]})");
        add(R"({"name":"DB","subjects":["db"]})");
        add(R"({"name":"DC","sources":[{"name":"DB"}]})");
        options_.find_stream = [this](std::string_view name) -> const StreamConfig* {
            auto it = streams_.find(std::string(name));
            return it == streams_.end() ? nullptr : &it->second;
        };
    }

    void add(std::string_view body) {
        StreamConfig config = checked(body);
        streams_[config.name] = config;
    }

    // What the create handler answers, up to the account-wide checks.
    std::string outcome(std::string_view subject_name, std::string_view body) const {
        auto config = parse_stream_config(body);
        if (!config) return error_json(config.error());
        if (auto error = check_stream_create(subject_name, *config)) return error_json(*error);
        auto result = check_stream_config(*config, options_);
        if (!result) return error_json(result.error());
        return wire(*result);
    }

    std::map<std::string, StreamConfig> streams_;
    StreamCheckOptions options_;
};

TEST_F(JsStreamCreate, MatchesNatsServerByteForByte) {
    for (const CreateCase& c : kCreateCases) {
        EXPECT_EQ(outcome(c.subject_name, c.body), c.expected) << c.label << ": " << c.body;
    }
}

TEST_F(JsStreamCreate, NameAndDescriptionLengths) {
    std::string name_255(255, 'N');
    std::string body = R"({"name":")" + name_255 + R"("})";
    EXPECT_EQ(checked(body).name, name_255);
    std::string name_256(256, 'N');
    EXPECT_EQ(outcome(name_256, R"({"name":")" + name_256 + R"("})"),
              R"({"code":500,"err_code":10052,"description":"stream name is too long, maximum )"
              R"(allowed is 255"})");
    std::string description(4096, 'x');
    EXPECT_EQ(checked(R"({"name":"D","description":")" + description + R"("})").description,
              description);
    EXPECT_EQ(outcome("D", R"({"name":"D","description":")" + description + R"(x"})"),
              R"({"code":500,"err_code":10052,"description":"stream description is too long, )"
              R"(maximum allowed is 4096"})");
}

TEST_F(JsStreamCreate, InvalidNamesAreRefusedByCheckStreamConfig) {
    // On UPDATE the name reaches checkStreamCfg before any subject comparison.
    const std::string expected = "stream name is required and can not contain '.', '*', '>'";
    for (const char* body : {R"({"name":"a.b"})", R"({"name":"a*"})", R"({"name":"a>"})",
                             R"({"name":"a b"})", R"({"name":"a\tb"})", R"({"name":"a\fb"})",
                             R"({"name":"a\nb"})", R"({"name":"a\rb"})", R"({"name":""})", "{}"}) {
        EXPECT_EQ(check_error(body), StreamInvalidConfig(expected)) << body;
    }
    EXPECT_EQ(error_json(check_error(R"({"name":"a.b"})")),
              R"({"code":500,"err_code":10052,"description":"stream name is required and can )"
              R"(not contain '.', '*', '\u003e'"})");
}

TEST_F(JsStreamCreate, ChecksOutsideCheckStreamConfig) {
    // A stream whose subjects are ">" passes the config checks; nats-server then refuses it
    // only because it overlaps other streams (StreamSubjectOverlap, the core's check).
    EXPECT_EQ(checked(R"({"name":"GT","subjects":[">"]})").subjects, std::vector<std::string>{">"});
    // template_owner passes too; nats-server then fails in addStream with StreamCreate
    // "stream not owned by template".
    EXPECT_EQ(checked(R"({"name":"TO","template_owner":"T"})").template_owner, "T");
}

// ---------------------------------------------------------------------------------------------
// Parsing like json.Unmarshal

TEST(JsStreamConfigParse, DefaultsOfAnEmptyObject) {
    StreamConfig config = parsed("{}");
    EXPECT_EQ(config.name, "");
    EXPECT_TRUE(config.subjects.empty());
    EXPECT_EQ(config.retention, Retention::kLimits);
    EXPECT_EQ(config.max_msgs, -1);
    EXPECT_EQ(config.max_msg_size, -1);
    EXPECT_EQ(config.num_replicas, 1);
    EXPECT_EQ(config.storage, Storage::kFile);
    EXPECT_TRUE(config.mirror.is_null());
    EXPECT_TRUE(config.sources.is_null());
    EXPECT_TRUE(same_config(parsed("null"), config));
}

TEST(JsStreamConfigParse, EveryFieldIsRead) {
    StreamConfig config = parsed(R"({
        "name":"S","description":"d","subjects":["a","b.*"],"retention":"workqueue",
        "max_consumers":3,"max_msgs":4,"max_bytes":5,"max_age":6000000000,
        "max_msgs_per_subject":7,"max_msg_size":8,"discard":"new","storage":"memory",
        "num_replicas":1,"no_ack":true,"template_owner":"T","duplicate_window":1000000000,
        "placement":{"cluster":"c","tags":["t"]},"mirror":{"name":"M","opt_start_seq":9},
        "sources":[{"name":"X","filter_subject":"f","external":{"api":"A","deliver":"D"}}],
        "republish":{"src":"a","dest":"r","headers_only":true},"allow_direct":true,
        "mirror_direct":true,"discard_new_per_subject":true,"sealed":true,"deny_delete":true,
        "deny_purge":true,"allow_rollup_hdrs":true,"metadata":{"k":"v"}})");
    EXPECT_EQ(config.name, "S");
    EXPECT_EQ(config.description, "d");
    EXPECT_EQ(config.subjects, (std::vector<std::string>{"a", "b.*"}));
    EXPECT_EQ(config.retention, Retention::kWorkQueue);
    EXPECT_EQ(config.max_consumers, 3);
    EXPECT_EQ(config.max_msgs, 4);
    EXPECT_EQ(config.max_bytes, 5);
    EXPECT_EQ(config.max_age_ns, 6'000'000'000);
    EXPECT_EQ(config.max_msgs_per_subject, 7);
    EXPECT_EQ(config.max_msg_size, 8);
    EXPECT_EQ(config.discard, Discard::kNew);
    EXPECT_EQ(config.storage, Storage::kMemory);
    EXPECT_EQ(config.num_replicas, 1);
    EXPECT_TRUE(config.no_ack);
    EXPECT_EQ(config.template_owner, "T");
    EXPECT_EQ(config.duplicate_window_ns, 1'000'000'000);
    EXPECT_EQ(config.placement, Json::parse(R"({"cluster":"c","tags":["t"]})"));
    EXPECT_EQ(config.mirror, Json::parse(R"({"name":"M","opt_start_seq":9,"opt_start_time":null,
                                             "filter_subject":"","external":null})"));
    EXPECT_EQ(config.sources, Json::parse(R"([{"name":"X","opt_start_seq":0,"opt_start_time":null,
                                              "filter_subject":"f",
                                              "external":{"api":"A","deliver":"D"}}])"));
    EXPECT_EQ(config.republish, Json::parse(R"({"src":"a","dest":"r","headers_only":true})"));
    EXPECT_TRUE(config.allow_direct);
    EXPECT_TRUE(config.mirror_direct);
    EXPECT_TRUE(config.discard_new_per_subject);
    EXPECT_TRUE(config.sealed);
    EXPECT_TRUE(config.deny_delete);
    EXPECT_TRUE(config.deny_purge);
    EXPECT_TRUE(config.allow_rollup_hdrs);
    EXPECT_EQ(config.metadata, Json::parse(R"({"k":"v"})"));
}

TEST(JsStreamConfigParse, GoDecodingRules) {
    // Keys fold case (and U+017F/U+212A), the last duplicate wins, null is a no-op.
    EXPECT_EQ(parsed(R"({"NAME":"A","Max_Msgs":5,"max_msgs":7,"MAX_MSGS":9})").max_msgs, 9);
    EXPECT_EQ(parsed(R"({"NAME":"A"})").name, "A");
    EXPECT_EQ(parsed("{\"\xC5\xBFubjects\":[\"x\"]}").subjects, std::vector<std::string>{"x"});
    EXPECT_TRUE(parsed("{\"no_ac\xE2\x84\xAA\":true}").no_ack);
    EXPECT_EQ(parsed(R"({"n\u0061me":"E"})").name, "E");
    // Every duplicate is decoded in turn, so a later null leaves the earlier value (nats-server
    // creates stream A for this body), and a later differently-cased key still wins.
    EXPECT_EQ(parsed(R"({"name":"A","name":null})").name, "A");
    EXPECT_EQ(parsed(R"({"max_msgs":5,"MAX_MSGS":6,"max_msgs":7})").max_msgs, 7);
    EXPECT_EQ(parsed(R"({"max_msgs":null})").max_msgs, -1);
    EXPECT_EQ(parsed(R"({"subjects":[null,"a"]})").subjects, (std::vector<std::string>{"", "a"}));
    EXPECT_TRUE(parsed(R"({"subjects":["a"],"subjects":null})").subjects.empty());
    EXPECT_EQ(parsed(R"({"discard":"NEW"})").discard, Discard::kNew);
    EXPECT_EQ(parsed(R"({"discard":"Old"})").discard, Discard::kOld);
    EXPECT_EQ(parsed(R"({"max_msgs":-9223372036854775808})").max_msgs,
              std::numeric_limits<int64_t>::min());
    EXPECT_EQ(parsed(R"({"max_msgs":9223372036854775807})").max_msgs,
              std::numeric_limits<int64_t>::max());
    EXPECT_EQ(parsed(R"({"max_msg_size":2147483647})").max_msg_size, 2147483647);
    EXPECT_EQ(parsed(R"({"max_msg_size":-2147483648})").max_msg_size, -2147483648LL);
    EXPECT_EQ(parsed(R"({"num_replicas":10000000000})").num_replicas,
              std::numeric_limits<int>::max());
    EXPECT_EQ(parsed(R"({"num_replicas":-10000000000})").num_replicas,
              std::numeric_limits<int>::min());
    // Unknown members are skipped whatever they hold, also inside nested objects.
    EXPECT_EQ(parsed(R"({"name":"U","foo":{"x":[1,2.5,1e400,"s",null]},"bar":[]})").name, "U");
    EXPECT_EQ(parsed(R"({"placement":{"cluster":"c","x":1}})").placement,
              Json::parse(R"({"cluster":"c","tags":null})"));
    // "metadata" is unknown to nats-server 2.9.10: a wrong type is ignored, not an error.
    EXPECT_TRUE(parsed(R"({"metadata":5})").metadata.is_null());
    EXPECT_TRUE(parsed(R"({"metadata":{"a":1}})").metadata.is_null());
    // Whitespace around the document is fine.
    EXPECT_EQ(parsed(" \t\r\n{\"name\":\"W\"} \n").name, "W");
}

TEST(JsStreamConfigParse, InvalidUtf8InStringsBecomesReplacementCharacters) {
    EXPECT_EQ(parsed("{\"description\":\"a\xFF\xC3z\"}").description, "a\xEF\xBF\xBD\xEF\xBF\xBDz");
}

TEST(JsStreamConfigParse, EverythingGoRefusesIsInvalidJson) {
    const std::string deep_ok = std::string(10'000, '[') + std::string(10'000, ']');
    const std::string too_deep = std::string(10'001, '[') + std::string(10'001, ']');
    for (std::string body :
         std::vector<std::string>{"",
                                  " ",
                                  "[]",
                                  "\"x\"",
                                  "5",
                                  "true",
                                  R"({"name":"M"} x)",
                                  R"({"name":"M"}})",
                                  R"({"name":5})",
                                  R"({"name":true})",
                                  R"({"subjects":"a"})",
                                  R"({"subjects":[1]})",
                                  R"({"subjects":{}})",
                                  R"({"max_msgs":"5"})",
                                  R"({"max_msgs":1.5})",
                                  R"({"max_msgs":1.0})",
                                  R"({"max_msgs":1e2})",
                                  R"({"max_msgs":9223372036854775808})",
                                  R"({"max_msgs":-9223372036854775809})",
                                  R"({"max_msg_size":3000000000})",
                                  R"({"max_msg_size":-2147483649})",
                                  R"({"no_ack":1})",
                                  R"({"no_ack":"true"})",
                                  R"({"retention":null})",
                                  R"({"retention":"Limits"})",
                                  R"({"retention":1})",
                                  R"({"storage":"MEMORY"})",
                                  R"({"storage":"any"})",
                                  R"({"storage":null})",
                                  R"({"discard":"older"})",
                                  R"({"discard":null})",
                                  R"({"placement":5})",
                                  R"({"placement":{"cluster":1}})",
                                  R"({"placement":{"tags":"a"}})",
                                  R"({"mirror":[]})",
                                  R"({"mirror":{"opt_start_seq":-1}})",
                                  R"({"mirror":{"opt_start_seq":1.5}})",
                                  R"({"mirror":{"opt_start_time":"2024-01-02"}})",
                                  R"({"mirror":{"opt_start_time":5}})",
                                  R"({"mirror":{"external":"x"}})",
                                  R"({"sources":{}})",
                                  R"({"sources":[null]})",
                                  R"({"sources":[5]})",
                                  R"({"republish":"x"})",
                                  R"({"republish":{"headers_only":"yes"}})",
                                  "{\"name\":\"a\x01\"}",
                                  "\xEF\xBB\xBF{}",
                                  R"({"a":)" + too_deep + "}",
                                  "{'name':'x'}",
                                  R"({"name":"x",})"}) {
        auto config = parse_stream_config(body);
        ASSERT_FALSE(config.has_value()) << body;
        EXPECT_EQ(config.error(), InvalidJSON()) << body;
    }
    EXPECT_TRUE(
        parse_stream_config(R"({"a":)" + deep_ok.substr(1, deep_ok.size() - 2) + "}").has_value());
}

// ---------------------------------------------------------------------------------------------
// checkStreamCfg details

TEST(JsStreamConfigCheck, DefaultsAsNatsServerFillsThem) {
    EXPECT_EQ(
        wire(checked(R"({"name":"X"})")),
        R"({"name":"X","subjects":["X"],"retention":"limits","max_consumers":-1,)"
        R"("max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,)"
        R"("max_msg_size":-1,"discard":"old","storage":"file","num_replicas":1,)"
        R"("duplicate_window":120000000000,"allow_direct":false,"mirror_direct":false,)"
        R"("sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false})");
    // 0 limits become -1; a max_age below 2 minutes becomes the duplicate window.
    StreamConfig config = checked(R"({"name":"Z","max_msgs":0,"max_bytes":0,"max_consumers":0,
                                     "max_msg_size":0,"max_msgs_per_subject":0,"num_replicas":0,
                                     "max_age":1000000000})");
    EXPECT_EQ(config.max_msgs, -1);
    EXPECT_EQ(config.max_bytes, -1);
    EXPECT_EQ(config.max_consumers, -1);
    EXPECT_EQ(config.max_msg_size, -1);
    EXPECT_EQ(config.max_msgs_per_subject, -1);
    EXPECT_EQ(config.num_replicas, 1);
    EXPECT_EQ(config.duplicate_window_ns, 1'000'000'000);
    EXPECT_EQ(checked(R"({"name":"L","max_age":600000000000})").duplicate_window_ns,
              120'000'000'000);
    // A mirror gets no default window; sources keep the stream without subjects.
    EXPECT_EQ(checked(R"({"name":"M","mirror":{"name":"O"}})").duplicate_window_ns, 0);
    EXPECT_TRUE(checked(R"({"name":"S","sources":[{"name":"O"}]})").subjects.empty());
    EXPECT_EQ(checked(R"({"name":"E","sources":[]})").subjects, std::vector<std::string>{"E"});
    // An empty republish source means all subjects.
    EXPECT_EQ(checked(R"({"name":"R","subjects":["a.>"],"republish":{"dest":"b.>"}})").republish,
              Json::parse(R"({"src":">","dest":"b.>","headers_only":false})"));
}

TEST(JsStreamConfigCheck, CheckingTwiceChangesNothing) {
    for (const char* body :
         {R"({"name":"X"})", R"({"name":"A","max_age":1000000000})",
          R"({"name":"R","subjects":["a.>"],"republish":{"dest":"b.>"}})",
          R"({"name":"M","mirror":{"name":"O","opt_start_time":"2024-01-02T03:04:05.50+01:00"}})",
          R"({"name":"S","sources":[{"name":"O"}],"placement":{}})"}) {
        StreamConfig once = checked(body);
        auto twice = check_stream_config(once);
        ASSERT_TRUE(twice.has_value()) << body;
        EXPECT_TRUE(same_config(once, *twice) || once.sources.is_array()) << body;
        EXPECT_EQ(wire(once), wire(*twice)) << body;
    }
}

TEST(JsStreamConfigCheck, ServerAndAccountLimits) {
    // Verified against nats-server 2.9.10 with jetstream { limits { duplicate_window: "1m30s" } }
    // and an account with max_bytes_required, store_max_stream_bytes 1000,
    // mem_max_stream_bytes 500.
    StreamCheckOptions options;
    options.duplicate_window_max_ns = 90'000'000'000;
    options.max_bytes_required = true;
    options.storage_max_stream_bytes = 1000;
    options.memory_max_stream_bytes = 500;
    EXPECT_EQ(check_error(R"({"name":"A"})", options), StreamMaxBytesRequired());
    EXPECT_EQ(check_error(R"({"name":"A","max_bytes":2000})", options),
              StreamMaxStreamBytesExceeded());
    EXPECT_EQ(check_error(R"({"name":"A","max_bytes":600,"storage":"memory"})", options),
              StreamMaxStreamBytesExceeded());
    EXPECT_EQ(checked(R"({"name":"A","max_bytes":1000})", options).duplicate_window_ns,
              90'000'000'000);
    EXPECT_EQ(
        check_error(R"({"name":"A","max_bytes":100,"duplicate_window":100000000000})", options),
        StreamInvalidConfig("duplicates window can not be larger then server limit of 1m30s"));
    EXPECT_EQ(checked(R"({"name":"A","max_bytes":100,"max_age":3600000000000})", options)
                  .duplicate_window_ns,
              90'000'000'000);
    EXPECT_EQ(checked(R"({"name":"A","max_bytes":100,"max_age":60000000000})", options)
                  .duplicate_window_ns,
              60'000'000'000);
    EXPECT_EQ(check_error(R"({"name":"A","max_bytes":100,"subjects":["a","a"]})", options),
              StreamInvalidConfig("duplicate subjects detected"));
    // The plain overload: only max_bytes_required.
    EXPECT_EQ(check_stream_config(parsed(R"({"name":"A"})"), true).error(),
              StreamMaxBytesRequired());
    EXPECT_TRUE(check_stream_config(parsed(R"({"name":"A","max_bytes":1})"), true).has_value());
}

TEST(JsStreamConfigCheck, ReplicasOnlyWhenAllowed) {
    StreamCheckOptions options;
    options.allow_replicas = true;
    EXPECT_EQ(checked(R"({"name":"R","num_replicas":3})", options).num_replicas, 3);
    EXPECT_EQ(check_error(R"({"name":"R","num_replicas":6})", options),
              StreamInvalidConfig("maximum replicas is 5"));
    // Every other check comes first.
    EXPECT_EQ(check_error(R"({"name":"R","num_replicas":3,"max_age":1})"),
              StreamInvalidConfig("max age needs to be >= 100ms"));
}

TEST(JsStreamConfigCheck, RecoveringSkipsFilterSubjectChecks) {
    StreamConfig origin = checked(R"({"name":"O","subjects":["o.>"]})");
    StreamCheckOptions options;
    options.find_stream = [&](std::string_view name) { return name == "O" ? &origin : nullptr; };
    const char* body = R"({"name":"M","mirror":{"name":"O","filter_subject":"x"}})";
    EXPECT_EQ(check_error(body, options),
              StreamInvalidConfig("mirror 'O' filter subject 'x' does not overlap with any "
                                  "origin stream subject"));
    options.recovering = true;
    EXPECT_TRUE(check_stream_config(parsed(body), options).has_value());
}

TEST(JsStreamConfigCheck, ConfigsBuiltInCodeAreCanonicalised) {
    StreamConfig config;
    config.name = "C";
    config.mirror = {{"name", "O"}, {"opt_start_seq", 5}};
    config.placement = Json::object();
    auto result = check_stream_config(config);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->mirror["opt_start_seq"], 5u);
    EXPECT_EQ(to_json(*result)["mirror"], Json::parse(R"({"name":"O","opt_start_seq":5})"));
    EXPECT_EQ(to_json(*result)["placement"], Json::object());
}

// ---------------------------------------------------------------------------------------------
// check_stream_create

TEST(JsStreamCreateChecks, InTheOrderOfTheHandler) {
    StreamConfig config = parsed(R"({"name":"a/b","sealed":true})");
    EXPECT_EQ(check_stream_create("x", config), StreamMismatch());
    EXPECT_EQ(check_stream_create("a/b", config), StreamNameContainsPathSeparators());
    EXPECT_EQ(check_stream_create("a\\b", parsed(R"({"name":"a\\b"})")),
              StreamNameContainsPathSeparators());
    EXPECT_EQ(
        check_stream_create("S", parsed(R"({"name":"S","sealed":true,"mirror_direct":true})")),
        StreamInvalidConfig("stream configuration for create can not be sealed"));
    EXPECT_EQ(check_stream_create("S", parsed(R"({"name":"S","mirror_direct":true})")),
              StreamInvalidConfig("stream has no mirror but does have mirror direct"));
    EXPECT_EQ(check_stream_create(
                  "S", parsed(R"({"name":"S","mirror_direct":true,"mirror":{"name":"O"}})")),
              std::nullopt);
    EXPECT_EQ(check_stream_create("", parsed("null")), std::nullopt);
}

TEST(JsStreamConfigParse, LoneSurrogateEscapesBecomeReplacementCharacters) {
    // As Go's decoder (and nats-server's reply) does; a valid pair stays a pair.
    EXPECT_EQ(parsed(R"({"description":"\ud800"})").description, "\xEF\xBF\xBD");
    EXPECT_EQ(parsed(R"({"description":"a\udc00\ud800\u0041"})").description,
              "a\xEF\xBF\xBD\xEF\xBF\xBD"
              "A");
    EXPECT_EQ(parsed(R"({"description":"\ud83d\ude00"})").description, "\xF0\x9F\x98\x80");
    EXPECT_EQ(parsed(R"({"description":"\\ud800"})").description, "\\ud800");
    EXPECT_EQ(parse_stream_config(R"({"description":"\ud8"})").error(), InvalidJSON());
}

TEST(JsStreamConfigParse, DocumentedDifferencesFromGo) {
    // Go's ParseUint refuses "-0" for an unsigned field; nlohmann reads it as 0.
    EXPECT_TRUE(parse_stream_config(R"({"mirror":{"name":"X","opt_start_seq":-0}})").has_value());
    // nats-server 2.9.10 drops "metadata"; ringtail keeps an object of strings and writes it
    // back after the 2.9.10 fields.
    StreamConfig config = checked(R"({"name":"MD","metadata":{"b":"2","a":"1"}})");
    EXPECT_TRUE(
        wire(config).ends_with(R"("allow_rollup_hdrs":false,"metadata":{"a":"1","b":"2"}})"))
        << wire(config);
}

// ---------------------------------------------------------------------------------------------
// STREAM.UPDATE (configUpdateCheck); texts verified against nats-server 2.9.10.

StreamConfig updated(const StreamConfig& old_config, std::string_view body) {
    auto result = updated_stream_config(old_config, checked(body));
    EXPECT_TRUE(result.has_value()) << body << " -> " << error_json(result.error());
    return result.value_or(StreamConfig{});
}

ApiError update_error(const StreamConfig& old_config, std::string_view body) {
    auto error = check_stream_update(old_config, checked(body));
    EXPECT_TRUE(error.has_value()) << body;
    return error.value_or(ApiError{});
}

TEST(JsStreamUpdate, FieldsThatCannotChange) {
    StreamConfig old_config = checked(R"({"name":"I","subjects":["i.>"]})");
    EXPECT_EQ(update_error(old_config, R"({"name":"J","subjects":["i.>"]})"),
              StreamInvalidConfig("stream configuration name must match original"));
    EXPECT_EQ(update_error(old_config, R"({"name":"I","subjects":["i.>"],"storage":"memory"})"),
              StreamInvalidConfig("stream configuration update can not change storage type"));
    EXPECT_EQ(update_error(old_config, R"({"name":"I","subjects":["i.>"],"retention":"interest"})"),
              StreamInvalidConfig("stream configuration update can not change retention policy"));
    EXPECT_EQ(
        update_error(old_config, R"({"name":"I","subjects":["i.>"],"retention":"workqueue"})"),
        StreamInvalidConfig("stream configuration update can not change retention policy"));
    EXPECT_EQ(update_error(old_config, R"({"name":"I","subjects":["i.>"],"max_consumers":3})"),
              StreamInvalidConfig("stream configuration update can not change MaxConsumers"));
    EXPECT_EQ(
        update_error(old_config, R"({"name":"I","subjects":["i.>"],"republish":{"dest":"z.>"}})"),
        StreamInvalidConfig("stream configuration update can not change RePublish"));
    EXPECT_EQ(update_error(old_config, R"({"name":"I","subjects":["i.>"],"template_owner":"t"})"),
              StreamInvalidConfig("stream configuration update can not be owned by a template"));
    StreamConfig owned = old_config;
    owned.template_owner = "t";
    EXPECT_EQ(
        update_error(owned, R"({"name":"I","subjects":["i.>"]})"),
        StreamInvalidConfig("stream configuration update not allowed on template owned stream"));
    // The order: name before max_consumers before storage before retention.
    EXPECT_EQ(
        update_error(old_config,
                     R"({"name":"J","max_consumers":3,"storage":"memory","retention":"interest"})"),
        StreamInvalidConfig("stream configuration name must match original"));
    EXPECT_EQ(update_error(old_config, R"({"name":"I","max_consumers":3,"storage":"memory"})"),
              StreamInvalidConfig("stream configuration update can not change MaxConsumers"));
}

TEST(JsStreamUpdate, FieldsThatMayChange) {
    StreamConfig old_config = checked(R"({"name":"I","subjects":["i.>"]})");
    StreamConfig config =
        updated(old_config, R"({"name":"I","subjects":["i.>","j"],"max_msgs":5,"max_bytes":10,
                       "max_age":3600000000000,"duplicate_window":1000000000,"discard":"new",
                       "max_msgs_per_subject":2,"discard_new_per_subject":true,"no_ack":true,
                       "allow_direct":true,"allow_rollup_hdrs":true,"description":"d",
                       "placement":{"cluster":"c"},"sources":[{"name":"Q"}],"max_msg_size":9})");
    EXPECT_EQ(config.subjects, (std::vector<std::string>{"i.>", "j"}));
    EXPECT_EQ(config.max_msgs, 5);
    EXPECT_TRUE(config.discard_new_per_subject);
    EXPECT_TRUE(config.allow_direct);
}

TEST(JsStreamUpdate, OneWayFlags) {
    StreamConfig old_config = checked(R"({"name":"K","subjects":["k"]})");
    StreamConfig denied = updated(
        old_config, R"({"name":"K","subjects":["k"],"deny_delete":true,"deny_purge":true})");
    EXPECT_EQ(
        update_error(denied, R"({"name":"K","subjects":["k"],"deny_purge":true})"),
        StreamInvalidConfig("stream configuration update can not cancel deny message deletes"));
    EXPECT_EQ(update_error(denied, R"({"name":"K","subjects":["k"],"deny_delete":true})"),
              StreamInvalidConfig("stream configuration update can not cancel deny purge"));
    // Sealing: nats-server replied with max_age 0, discard new, both denies and no rollups, and
    // kept the duplicate window derived from the request's max_age.
    StreamConfig sealed =
        updated(denied, R"({"name":"K","subjects":["k"],"deny_delete":true,"deny_purge":true,
                   "sealed":true,"max_age":10000000000,"allow_rollup_hdrs":false})");
    EXPECT_EQ(wire(sealed),
              R"({"name":"K","subjects":["k"],"retention":"limits","max_consumers":-1,)"
              R"("max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,)"
              R"("max_msg_size":-1,"discard":"new","storage":"file","num_replicas":1,)"
              R"("duplicate_window":10000000000,"allow_direct":false,"mirror_direct":false,)"
              R"("sealed":true,"deny_delete":true,"deny_purge":true,"allow_rollup_hdrs":false})");
    EXPECT_EQ(update_error(sealed, R"({"name":"K","subjects":["k"],"deny_delete":true,
                                      "deny_purge":true})"),
              StreamInvalidConfig("stream configuration update can not unseal a sealed stream"));
    // Unsealing is checked before the denies.
    EXPECT_EQ(update_error(sealed, R"({"name":"K","subjects":["k"]})"),
              StreamInvalidConfig("stream configuration update can not unseal a sealed stream"));
}

TEST(JsStreamUpdate, MirrorCannotChange) {
    StreamConfig old_config = checked(R"({"name":"M1","mirror":{"name":"I"}})");
    EXPECT_EQ(update_error(old_config, R"({"name":"M1","mirror":{"name":"J"}})"),
              StreamMirrorNotUpdatable());
    EXPECT_EQ(update_error(old_config, R"({"name":"M1","mirror":{"name":"I","opt_start_seq":2}})"),
              StreamMirrorNotUpdatable());
    EXPECT_EQ(check_stream_update(old_config, checked(R"({"name":"M1","mirror":{"name":"I"}})")),
              std::nullopt);
    // Unknown members and their order do not matter, the normalised time does.
    StreamConfig timed =
        checked(R"({"name":"T","mirror":{"name":"I","opt_start_time":"2024-01-02T03:04:05.50Z"}})");
    EXPECT_EQ(check_stream_update(timed, checked(R"({"name":"T","mirror":{"x":1,"opt_start_time":
                                    "2024-01-02T03:04:05.5Z","name":"I"}})")),
              std::nullopt);
    EXPECT_EQ(update_error(timed, R"({"name":"T","mirror":{"name":"I","opt_start_time":
                                     "2024-01-02T05:04:05.5+02:00"}})"),
              StreamMirrorNotUpdatable());
}

// ---------------------------------------------------------------------------------------------
// Idempotent create

TEST(JsSameConfig, EqualAfterDefaults) {
    EXPECT_TRUE(same_config(checked(R"({"name":"I","subjects":["i.>"]})"),
                            checked(R"({"name":"I","subjects":["i.>"],"max_msgs":0,"foo":1})")));
    EXPECT_FALSE(same_config(checked(R"({"name":"I","subjects":["i.>"]})"),
                             checked(R"({"name":"I","subjects":["i.>"],"max_msgs":5})")));
    EXPECT_TRUE(same_config(checked(R"({"name":"M1","mirror":{"name":"I"}})"),
                            checked(R"({"name":"M1","mirror":{"name":"I"}})")));
    EXPECT_TRUE(same_config(checked(R"({"name":"P1","placement":{"cluster":"x"}})"),
                            checked(R"({"name":"P1","placement":{"cluster":"x","tags":null}})")));
    // reflect.DeepEqual tells an empty placement from none, and [] tags from none.
    EXPECT_FALSE(
        same_config(checked(R"({"name":"P"})"), checked(R"({"name":"P","placement":{}})")));
    EXPECT_FALSE(same_config(checked(R"({"name":"P","placement":{"tags":[]}})"),
                             checked(R"({"name":"P","placement":{}})")));
    // Subject order matters to DeepEqual.
    EXPECT_FALSE(same_config(checked(R"({"name":"S","subjects":["a","b"]})"),
                             checked(R"({"name":"S","subjects":["b","a"]})")));
}

TEST(JsSameConfig, SourcingStreamsNeverCompareEqualLikeNatsServer) {
    // nats-server 2.9.10 answered the second identical create with 10058.
    EXPECT_FALSE(same_config(checked(R"({"name":"S1","sources":[{"name":"I"}]})"),
                             checked(R"({"name":"S1","sources":[{"name":"I"}]})")));
    EXPECT_FALSE(
        same_config(checked(R"({"name":"S1","sources":[]})"), checked(R"({"name":"S1"})")));
    EXPECT_TRUE(same_config(checked(R"({"name":"S1","sources":[]})"),
                            checked(R"({"name":"S1","sources":[]})")));
}

// ---------------------------------------------------------------------------------------------
// Subject overlap (SubjectsCollide)

TEST(JsSubjectsCollide, Cases) {
    struct Case {
        const char* a;
        const char* b;
        bool collide;
    };
    const Case cases[] = {
        {"foo", "foo", true},
        {"foo", "bar", false},
        {"foo.*", "foo.bar", true},
        {"foo.bar", "foo.*", true},
        {"foo.*", "foo.bar.baz", false},
        {"foo.>", "foo.bar.baz", true},
        {"foo.>", "foo", false},
        {">", "foo", true},
        {">", "$JS.API.INFO", true},
        {"*", "foo.bar", false},
        {"foo.*", "*.bar", true},
        {"foo.*", "*.*.*", false},
        {"foo.>", "*.*.*", true},
        {"*.>", "foo", false},
        {"*.>", "foo.bar", true},
        {"foo.*.baz", "foo.bar.*", true},
        {"foo.*.baz", "foo.bar.qux", false},
        {"a.*", "b.*", false},
        {"a.>", "b.>", false},
        {"a.*.c", "a.>", true},
        {"i.>", "i.x", true},
        {"orig.>", "orig.orig.>", true},
        {"$JS.*.>", "$JS.API.>", true},
        // A token like "*x" is no wildcard, but once a subject has a real wildcard nats-server
        // looks only at the first byte of the other tokens.
        {"foo.*x", "foo.bar", false},
        {"foo.*x.>", "foo.bar.baz", true},
        {"foo.*", "foo.*x", true},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(subjects_collide(c.a, c.b), c.collide) << c.a << " vs " << c.b;
        EXPECT_EQ(subjects_collide(c.b, c.a), c.collide) << c.b << " vs " << c.a;
    }
}

TEST(JsSubjectsCollide, ListsOverlap) {
    EXPECT_TRUE(subjects_overlap({"a", "i.>"}, {"x", "i.y"}));
    EXPECT_FALSE(subjects_overlap({"a", "i.>"}, {"x", "j.y"}));
    EXPECT_FALSE(subjects_overlap({}, {"x"}));
    EXPECT_TRUE(subjects_overlap({"k"}, {"k", "i.y"}));
}

}  // namespace
}  // namespace ringtail::proto::js
