#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

// The JetStream API's JSON vocabulary as nats-server 2.9.10 writes it: ApiError and its
// constructors, the error envelope, PubAck, timestamps, and Go's encoding/json output rules.
// Everything here is a pure function; nothing allocates on a message path except the reply
// string a caller asked for.
namespace ringtail::proto::js {

// The "error" object of every JetStream API reply (server/jetstream_errors.go `ApiError`).
// `code` is HTTP-like, `err_code` the stable 10xxx number clients key on.
struct ApiError {
    int code = 0;
    int err_code = 0;
    std::string description;

    bool operator==(const ApiError&) const = default;
};

// {"code":..,"err_code":..,"description":..}; err_code 0 and an empty description are left out
// (Go's omitempty). Invalid UTF-8 in the description becomes U+FFFD, as Go's encoder does.
nlohmann::json to_json(const ApiError& error);

// Every error of nats-server 2.9.10's jetstream_errors_generated.go: one function per Go
// constant, named without the JS prefix and the Err/ErrF/F suffix. Placeholders ({err},
// {seq}, ...) are parameters, in the Go function's order. The comment gives code, err_code and
// the description template; descriptions are byte-identical to nats-server's.

// 400 10002 "resource limits exceeded for account"
ApiError AccountResourcesExceeded();
// 400 10003 "bad request"
ApiError BadRequest();
// 503 10004 "incomplete results"
ApiError ClusterIncomplete();
// 400 10005 "{err}"
ApiError ClusterNoPeers(std::string_view err);
// 500 10006 "JetStream not in clustered mode"
ApiError ClusterNotActive();
// 500 10007 "JetStream cluster not assigned to this server"
ApiError ClusterNotAssigned();
// 503 10008 "JetStream system temporarily unavailable"
ApiError ClusterNotAvail();
// 500 10009 "JetStream cluster can not handle request"
ApiError ClusterNotLeader();
// 400 10040 "peer not a member"
ApiError ClusterPeerNotMember();
// 503 10010 "JetStream clustering support required"
ApiError ClusterRequired();
// 400 10044 "server is not a member of the cluster"
ApiError ClusterServerNotMember();
// 400 10011 "tags placement not supported for operation"
ApiError ClusterTags();
// 503 10036 "not currently supported in clustered mode"
ApiError ClusterUnSupportFeature();
// 400 10103 "durable name can not contain '.', '*', '>'"
ApiError ConsumerBadDurableName();
// 400 10078 "consumer config required"
ApiError ConsumerConfigRequired();
// 500 10012 "{err}"
ApiError ConsumerCreate(std::string_view err);
// 400 10132 "Consumer Durable and Name have to be equal if both are provided"
ApiError ConsumerCreateDurableAndNameMismatch();
// 400 10131 "Consumer create request did not match filtered subject from create subject"
ApiError ConsumerCreateFilterSubjectMismatch();
// 400 10081 "consumer deliver subject forms a cycle"
ApiError ConsumerDeliverCycle();
// 400 10079 "consumer deliver subject has wildcards"
ApiError ConsumerDeliverToWildcards();
// 400 10107 "consumer description is too long, maximum allowed is {max}"
ApiError ConsumerDescriptionTooLong(int64_t max);
// 400 10091 "consumer direct requires an ephemeral consumer"
ApiError ConsumerDirectRequiresEphemeral();
// 400 10090 "consumer direct requires a push based consumer"
ApiError ConsumerDirectRequiresPush();
// 400 10016 "consumer expected to be durable but no durable name set in subject"
ApiError ConsumerDurableNameNotInSubject();
// 400 10017 "consumer name in subject does not match durable name in request"
ApiError ConsumerDurableNameNotMatchSubject();
// 400 10018 "consumer expected to be durable but a durable name was not set"
ApiError ConsumerDurableNameNotSet();
// 400 10019 "consumer expected to be ephemeral but detected a durable name set in subject"
ApiError ConsumerEphemeralWithDurableInSubject();
// 400 10020 "consumer expected to be ephemeral but a durable name was set in request"
ApiError ConsumerEphemeralWithDurableName();
// 400 10105 "consumer already exists and is still active"
ApiError ConsumerExistingActive();
// 400 10089 "consumer flow control requires a push based consumer"
ApiError ConsumerFCRequiresPush();
// 400 10093 "consumer filter subject is not a valid subset of the interest subjects"
ApiError ConsumerFilterNotSubset();
// 400 10088 "consumer idle heartbeat requires a push based consumer"
ApiError ConsumerHBRequiresPush();
// 400 10112 "invalid push consumer deliver subject"
ApiError ConsumerInvalidDeliverSubject();
// 400 10094 "{err}"
ApiError ConsumerInvalidPolicy(std::string_view err);
// 400 10095 "failed to parse consumer sampling configuration: {err}"
ApiError ConsumerInvalidSampling(std::string_view err);
// 400 10116 "max deliver is required to be > length of backoff values"
ApiError ConsumerMaxDeliverBackoff();
// 400 10121 "consumer max ack pending exceeds system limit of {limit}"
ApiError ConsumerMaxPendingAckExcess(int64_t limit);
// 400 10153 "consumer inactive threshold exceeds system limit of {limit}" (2.10; a Go duration)
ApiError ConsumerInactiveThresholdExcess(int64_t limit_ns);
// 400 10082 "consumer requires ack policy for max ack pending"
ApiError ConsumerMaxPendingAckPolicyRequired();
// 400 10125 "consumer max request batch exceeds server limit of {limit}"
ApiError ConsumerMaxRequestBatchExceeded(int64_t limit);
// 400 10114 "consumer max request batch needs to be > 0"
ApiError ConsumerMaxRequestBatchNegative();
// 400 10115 "consumer max request expires needs to be >= 1ms"
ApiError ConsumerMaxRequestExpiresToSmall();
// 400 10087 "consumer max waiting needs to be positive"
ApiError ConsumerMaxWaitingNegative();
// 400 10127 "Consumer name can not contain path separators"
ApiError ConsumerNameContainsPathSeparators();
// 400 10013 "consumer name already in use"
ApiError ConsumerNameExist();
// 400 10102 "consumer name is too long, maximum allowed is {max}"
ApiError ConsumerNameTooLong(int64_t max);
// 404 10014 "consumer not found"
ApiError ConsumerNotFound();
// 500 10119 "consumer is offline"
ApiError ConsumerOffline();
// 400 10092 "consumer direct on a mapped consumer"
ApiError ConsumerOnMapped();
// 400 10085 "consumer in pull mode requires a durable name"
ApiError ConsumerPullNotDurable();
// 400 10084 "consumer in pull mode requires ack policy"
ApiError ConsumerPullRequiresAck();
// 400 10086 "consumer in pull mode can not have rate limit set"
ApiError ConsumerPullWithRateLimit();
// 400 10080 "consumer in push mode can not set max waiting"
ApiError ConsumerPushMaxWaiting();
// 400 10106 "consumer replacement durable config not the same"
ApiError ConsumerReplacementWithDifferentName();
// 400 10126 "consumer config replica count exceeds parent stream"
ApiError ConsumerReplicasExceedsStream();
// 400 10083 "consumer idle heartbeat needs to be >= 100ms"
ApiError ConsumerSmallHeartbeat();
// 500 10104 "error creating store for consumer: {err}"
ApiError ConsumerStoreFailed(std::string_view err);
// 400 10101 "consumer must be deliver all on workqueue stream"
ApiError ConsumerWQConsumerNotDeliverAll();
// 400 10100 "filtered consumer not unique on workqueue stream"
ApiError ConsumerWQConsumerNotUnique();
// 400 10099 "multiple non-filtered consumers not allowed on workqueue stream"
ApiError ConsumerWQMultipleUnfiltered();
// 400 10098 "workqueue stream requires explicit ack"
ApiError ConsumerWQRequiresExplicitAck();
// 400 10108 "consumer with flow control also needs heartbeats"
ApiError ConsumerWithFlowControlNeedsHeartbeats();
// 503 10023 "insufficient resources"
ApiError InsufficientResources();
// 400 10025 "invalid JSON"
ApiError InvalidJSON();
// 400 10026 "maximum consumers limit reached"
ApiError MaximumConsumersLimit();
// 400 10027 "maximum number of streams reached"
ApiError MaximumStreamsLimit();
// 500 10028 "insufficient memory resources available"
ApiError MemoryResourcesExceeded();
// 500 10029 "{err}"
ApiError MirrorConsumerSetupFailed(std::string_view err);
// 400 10030 "stream mirror must have max message size >= source"
ApiError MirrorMaxMessageSizeTooBig();
// 400 10031 "stream mirrors can not also contain other sources"
ApiError MirrorWithSources();
// 2.10's: a mirror's or a source's stream name that no stream may have.
ApiError MirrorInvalidStreamName();
ApiError SourceInvalidStreamName();
// 400 10140 "duplicate source configuration detected" (2.10: the same stream, filter,
// transforms and external API twice)
ApiError SourceDuplicateDetected();
// 400 10143 "stream mirrors can not have first sequence configured" (2.10)
ApiError MirrorWithFirstSeq();
// 400 10165 "invalid per-message TTL" (2.11)
ApiError MessageTTLInvalid();
// 400 10166 "per-message TTL is disabled" (2.11)
ApiError MessageTTLDisabled();
// 400 10032 "stream mirrors can not have both start seq and start time configured"
ApiError MirrorWithStartSeqAndTime();
// 400 10033 "stream mirrors can not contain filtered subjects"
ApiError MirrorWithSubjectFilters();
// 400 10034 "stream mirrors can not contain subjects"
ApiError MirrorWithSubjects();
// 503 10035 "account not found"
ApiError NoAccount();
// 400 10120 "no JetStream default or applicable tiered limit present"
ApiError NoLimits();
// 404 10037 "no message found"
ApiError NoMessageFound();
// 400 10038 "expected an empty request payload"
ApiError NotEmptyRequest();
// 503 10076 "JetStream not enabled"
ApiError NotEnabled();
// 503 10039 "JetStream not enabled for account"
ApiError NotEnabledForAccount();
// 503 10075 "peer remap failed"
ApiError PeerRemap();
// 500 10041 "{err}"
ApiError RaftGeneral(std::string_view err);
// 400 10133 "replicas count cannot be negative"
ApiError ReplicasCountCannotBeNegative();
// 500 10042 "JetStream unable to subscribe to restore snapshot {subject}: {err}"
ApiError RestoreSubscribeFailed(std::string_view err, std::string_view subject);
// 400 10043 "sequence {seq} not found"
ApiError SequenceNotFound(uint64_t seq);
// 400 10015 "deliver subject not valid"
ApiError SnapshotDeliverSubjectInvalid();
// 500 10045 "{err}"
ApiError SourceConsumerSetupFailed(std::string_view err);
// 400 10046 "stream source must have max message size >= target"
ApiError SourceMaxMessageSizeTooBig();
// 500 10047 "insufficient storage resources available"
ApiError StorageResourcesExceeded();
// 500 10048 "{err}"
ApiError StreamAssignment(std::string_view err);
// 500 10049 "{err}"
ApiError StreamCreate(std::string_view err);
// 500 10050 "{err}"
ApiError StreamDelete(std::string_view err);
// 400 10021 "stream external api prefix {prefix} must not overlap with {subject}"
ApiError StreamExternalApiOverlap(std::string_view prefix, std::string_view subject);
// 400 10022 "stream external delivery prefix {prefix} overlaps with stream subject {subject}"
ApiError StreamExternalDelPrefixOverlaps(std::string_view prefix, std::string_view subject);
// 500 10051 "{err}"
ApiError StreamGeneralError(std::string_view err);
// 400 10097 "header size exceeds maximum allowed of 64k"
ApiError StreamHeaderExceedsMaximum();
// 500 10117 "subject details would exceed maximum allowed"
ApiError StreamInfoMaxSubjects();
// 500 10096 "stream not valid"
ApiError StreamInvalid();
// 500 10052 "{err}"
ApiError StreamInvalidConfig(std::string_view err);
// 2.10's subject_transforms of a mirror or a source:
// 400 10150 "mirror with multiple subject transforms cannot also have a single subject filter"
ApiError MirrorMultipleFiltersNotAllowed();
// 400 10151 "mirror transform source: {err}"
ApiError MirrorInvalidSubjectFilter(std::string_view err);
// 400 10152 "mirror subject filters can not overlap"
ApiError MirrorOverlappingSubjectFilters();
// 400 10154 "mirror transform: {err}"
ApiError MirrorInvalidTransformDestination(std::string_view err);
// 400 10144 "source with multiple subject transforms cannot also have a single subject filter"
ApiError SourceMultipleFiltersNotAllowed();
// 400 10145 "source transform source: {err}"
ApiError SourceInvalidSubjectFilter(std::string_view err);
// 400 10146 "source transform: {err}"
ApiError SourceInvalidTransformDestination(std::string_view err);
// 400 10147 "source filters can not overlap"
ApiError SourceOverlappingSubjectFilters();
// 400 10155 "stream transform source: {err}" (2.10)
ApiError StreamTransformInvalidSource(std::string_view err);
// 400 10156 "stream transform: {err}" (2.10)
ApiError StreamTransformInvalidDestination(std::string_view err);
// 400 10024 "stream external delivery prefix {prefix} must not contain wildcards"
ApiError StreamInvalidExternalDeliverySubj(std::string_view prefix);
// 500 10053 "{err}"
ApiError StreamLimits(std::string_view err);
// 400 10113 "account requires a stream config to have max bytes set"
ApiError StreamMaxBytesRequired();
// 400 10122 "stream max bytes exceeds account limit max stream bytes"
ApiError StreamMaxStreamBytesExceeded();
// 400 10054 "message size exceeds maximum allowed"
ApiError StreamMessageExceedsMaximum();
// 400 10055 "stream mirror configuration can not be updated"
ApiError StreamMirrorNotUpdatable();
// 400 10056 "stream name in subject does not match request"
ApiError StreamMismatch();
// 400 10123 "can not move and scale a stream in a single update"
ApiError StreamMoveAndScale();
// 400 10124 "stream move already in progress: {msg}"
ApiError StreamMoveInProgress(std::string_view msg);
// 400 10129 "stream move not in progress"
ApiError StreamMoveNotInProgress();
// 500 10057 "{err}"
ApiError StreamMsgDeleteFailed(std::string_view err);
// 400 10128 "Stream name can not contain path separators"
ApiError StreamNameContainsPathSeparators();
// 400 10058 "stream name already in use with a different configuration"
ApiError StreamNameExist();
// 400 10130 "stream name already in use, cannot restore"
ApiError StreamNameExistRestoreFailed();
// 404 10059 "stream not found"
ApiError StreamNotFound();
// 400 10060 "expected stream does not match"
ApiError StreamNotMatch();
// 500 10118 "stream is offline"
ApiError StreamOffline();
// 500 10110 "{err}"
ApiError StreamPurgeFailed(std::string_view err);
// 500 10074 "replicas > 1 not supported in non-clustered mode"
ApiError StreamReplicasNotSupported();
// 400 10061 "Replicas configuration can not be updated"
ApiError StreamReplicasNotUpdatable();
// 500 10062 "restore failed: {err}"
ApiError StreamRestore(std::string_view err);
// 500 10111 "{err}"
ApiError StreamRollupFailed(std::string_view err);
// 400 10109 "invalid operation on sealed stream"
ApiError StreamSealed();
// 503 10063 "expected stream sequence does not match"
ApiError StreamSequenceNotMatch();
// 500 10064 "snapshot failed: {err}"
ApiError StreamSnapshot(std::string_view err);
// 503 10077 "{err}"
ApiError StreamStoreFailed(std::string_view err);
// 400 10065 "subjects overlap with an existing stream"
ApiError StreamSubjectOverlap();
// 500 10066 "{err}"
ApiError StreamTemplateCreate(std::string_view err);
// 500 10067 "{err}"
ApiError StreamTemplateDelete(std::string_view err);
// 404 10068 "template not found"
ApiError StreamTemplateNotFound();
// 500 10069 "{err}"
ApiError StreamUpdate(std::string_view err);
// 400 10070 "wrong last msg ID: {id}"
ApiError StreamWrongLastMsgID(std::string_view id);
// 400 10071 "wrong last sequence: {seq}"
ApiError StreamWrongLastSequence(uint64_t seq);
// 500 10072 "JetStream unable to open temp storage for restore"
ApiError TempStorageFailed();
// 400 10073 "template name in subject does not match request"
ApiError TemplateNameNotMatchSubject();

// Errors nats-server added after 2.9.10 (texts unchanged from 2.10.0 to 2.11), for the newer
// consumer fields ringtail accepts: filter_subjects, metadata and the create request's action.

// 400 10148 "consumer already exists"
ApiError ConsumerAlreadyExists();
// 400 10149 "consumer does not exist"
ApiError ConsumerDoesNotExist();
// 400 10136 "consumer cannot have both FilterSubject and FilterSubjects specified"
ApiError ConsumerDuplicateFilterSubjects();
// 400 10139 "consumer filter in FilterSubjects cannot be empty"
ApiError ConsumerEmptyFilter();
// 400 10135 "consumer metadata exceeds maximum size of {limit}"
ApiError ConsumerMetadataLength(std::string_view limit);
// 400 10137 "consumer with multiple subject filters cannot use subject based API"
ApiError ConsumerMultipleFiltersNotAllowed();
// 400 10138 "consumer subject filters cannot overlap"
ApiError ConsumerOverlappingSubjectFilters();

// The server's own queue group: a stream's direct gets are answered in it, and no client may
// join it (nats-server's sysGroup).
inline constexpr std::string_view kSystemQueueGroup = "_sys_";

// The "type" of each API reply (server/jetstream_api.go `JSApi*ResponseType`).
inline constexpr std::string_view kAccountInfoResponse =
    "io.nats.jetstream.api.v1.account_info_response";
inline constexpr std::string_view kStreamCreateResponse =
    "io.nats.jetstream.api.v1.stream_create_response";
inline constexpr std::string_view kStreamUpdateResponse =
    "io.nats.jetstream.api.v1.stream_update_response";
inline constexpr std::string_view kStreamDeleteResponse =
    "io.nats.jetstream.api.v1.stream_delete_response";
inline constexpr std::string_view kStreamInfoResponse =
    "io.nats.jetstream.api.v1.stream_info_response";
inline constexpr std::string_view kStreamNamesResponse =
    "io.nats.jetstream.api.v1.stream_names_response";
inline constexpr std::string_view kStreamListResponse =
    "io.nats.jetstream.api.v1.stream_list_response";
inline constexpr std::string_view kStreamPurgeResponse =
    "io.nats.jetstream.api.v1.stream_purge_response";
inline constexpr std::string_view kStreamMsgGetResponse =
    "io.nats.jetstream.api.v1.stream_msg_get_response";
inline constexpr std::string_view kStreamMsgDeleteResponse =
    "io.nats.jetstream.api.v1.stream_msg_delete_response";
inline constexpr std::string_view kStreamSnapshotResponse =
    "io.nats.jetstream.api.v1.stream_snapshot_response";
inline constexpr std::string_view kStreamRestoreResponse =
    "io.nats.jetstream.api.v1.stream_restore_response";
inline constexpr std::string_view kStreamRemovePeerResponse =
    "io.nats.jetstream.api.v1.stream_remove_peer_response";
inline constexpr std::string_view kStreamLeaderStepdownResponse =
    "io.nats.jetstream.api.v1.stream_leader_stepdown_response";
inline constexpr std::string_view kConsumerCreateResponse =
    "io.nats.jetstream.api.v1.consumer_create_response";
inline constexpr std::string_view kConsumerDeleteResponse =
    "io.nats.jetstream.api.v1.consumer_delete_response";
inline constexpr std::string_view kConsumerInfoResponse =
    "io.nats.jetstream.api.v1.consumer_info_response";
inline constexpr std::string_view kConsumerNamesResponse =
    "io.nats.jetstream.api.v1.consumer_names_response";
inline constexpr std::string_view kConsumerListResponse =
    "io.nats.jetstream.api.v1.consumer_list_response";
inline constexpr std::string_view kConsumerLeaderStepdownResponse =
    "io.nats.jetstream.api.v1.consumer_leader_stepdown_response";
inline constexpr std::string_view kMetaLeaderStepdownResponse =
    "io.nats.jetstream.api.v1.meta_leader_stepdown_response";
inline constexpr std::string_view kMetaServerRemoveResponse =
    "io.nats.jetstream.api.v1.meta_server_remove_response";
inline constexpr std::string_view kAccountPurgeResponse =
    "io.nats.jetstream.api.v1.account_purge_response";
inline constexpr std::string_view kStreamTemplateNamesResponse =
    "io.nats.jetstream.api.v1.stream_template_names_response";

// The error reply of an API call: {"type":<type>,"error":{...}}. Some reply types embed
// non-omitempty fields that Go writes even in the error form; they follow the error exactly as
// nats-server writes them (verified against 2.9.10):
//   stream_info:                  ,"total":0,"offset":0,"limit":0
//   stream_names/stream_list:     ,"total":0,"offset":0,"limit":0,"streams":null
//   stream_template_names:        ,"total":0,"offset":0,"limit":0,"streams":null
//   consumer_names/consumer_list: ,"total":0,"offset":0,"limit":0,"consumers":null
//   stream_purge:                 ,"purged":0
//   stream_restore:               ,"deliver_subject":""
std::string error_response(std::string_view type, const ApiError& error);

// The PubAck of a stored message, byte for byte as nats-server 2.9.10 builds it (by string
// concatenation in stream.go, hence the blanks): {"stream":"S", "seq":N} and, for a duplicate
// Nats-Msg-Id, {"stream":"S", "seq":N,"duplicate": true}; with a JetStream domain,
// {"stream":"S", "domain":"D", "seq":N}. The stream name and the domain are Go-%q-quoted.
std::string pub_ack(std::string_view stream, uint64_t seq, bool duplicate, std::string_view domain = {});
// The error PubAck (json.Marshal of JSPubAckResponse):
// {"error":{"code":..,"err_code":..,"description":".."},"stream":"S","seq":0}.
std::string pub_ack_error(std::string_view stream, const ApiError& error);

// A UTC time as Go's time.Time marshals it (RFC 3339 with nanoseconds, trailing zeros of the
// fraction removed, no fraction when it is 0): "2024-01-02T03:04:05.123456789Z".
// By convention 0 stands for Go's zero time and gives "0001-01-01T00:00:00Z" (first_ts of an
// empty stream), so the Unix epoch itself cannot be written.
std::string rfc3339(int64_t unix_nanos);
// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" (RFC 3339 / RFC3339Nano; a ','
// before the fraction is accepted as Go does; digits past the ninth are truncated) into Unix
// nanoseconds. nullopt if malformed, if a field is out of range (month, day of that month,
// hour, minute, second; leap seconds are refused, as Go refuses them) or if the instant does
// not fit int64 nanoseconds. "0001-01-01T00:00:00Z" (Go's zero time) gives 0, matching rfc3339.
std::optional<int64_t> parse_rfc3339(std::string_view text);
// parse_rfc3339 that also gives the UTC offset the text was written with, in seconds east of
// UTC (0 for "Z"); `utc_offset_seconds` is left alone when the text does not parse.
std::optional<int64_t> parse_rfc3339(std::string_view text, int32_t& utc_offset_seconds);
// rfc3339 at a UTC offset (seconds east, |offset| < 24 h): the wall clock there followed by
// "+hh:mm", as Go writes back a time.Time it parsed from such a text. An offset of 0 gives
// rfc3339(unix_nanos), the zero-time convention included.
std::string rfc3339(int64_t unix_nanos, int32_t utc_offset_seconds);
// Parses like parse_rfc3339 and writes the time back as Go re-marshals a parsed time.Time:
// the offset is kept ("+02:00"; a zero offset becomes "Z"), the fraction is trimmed. Any year
// 0000-9999 is accepted. nullopt if malformed. Used for opt_start_time and the like.
std::optional<std::string> normalize_rfc3339(std::string_view text);

// Go's encoding/json bytes for a JSON value (Go 1.19, which built Debian's nats-server 2.9.10):
// no blanks; '<' '>' '&' U+2028 U+2029 escaped as \u003c..; control characters as \n \r \t
// or \u00XX; invalid UTF-8 as \ufffd; floats as Go formats float64. Object members come in
// the value's own order: insertion order for ordered_json (build replies with it to get Go's
// struct field order), sorted for json.
std::string go_marshal(const nlohmann::ordered_json& value);
std::string go_marshal(const nlohmann::json& value);
// Appends `text` as a Go encoding/json string literal (quotes included).
void append_go_json_string(std::string& out, std::string_view text);
// Go's strconv.Quote (fmt's %q), used where nats-server formats with %q. Printable runes stay
// as they are; the test for "printable" covers ASCII, C1 controls, Unicode spaces and format
// characters, private use and noncharacters, not the full Unicode table.
std::string go_quote(std::string_view text);
// Go's time.Duration.String(): "2m0s", "1.5s", "100ms", "1µs", "0s".
std::string go_duration(int64_t nanos);

}  // namespace ringtail::proto::js
