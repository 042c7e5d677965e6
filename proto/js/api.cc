#include "proto/js/api.h"

#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <utility>
#include <vector>

#include "proto/utf8.h"

namespace ringtail::proto::js {
namespace {

ApiError plain(int code, int err_code, std::string_view description) {
    return ApiError{code, err_code, std::string(description)};
}

// Replaces each placeholder of `description` in one pass, like Go's strings.NewReplacer: text
// that a replacement brings in is not scanned again.
ApiError formatted(int code, int err_code, std::string_view description,
                   std::initializer_list<std::pair<std::string_view, std::string>> values) {
    std::string out;
    size_t i = 0;
    while (i < description.size()) {
        bool replaced = false;
        for (const auto& [key, value] : values) {
            if (description.substr(i, key.size()) == key) {
                out += value;
                i += key.size();
                replaced = true;
                break;
            }
        }
        if (!replaced) out += description[i++];
    }
    return ApiError{code, err_code, std::move(out)};
}

std::string text(std::string_view value) { return std::string(value); }

}  // namespace

ApiError AccountResourcesExceeded() {
    return plain(400, 10002, "resource limits exceeded for account");
}
ApiError BadRequest() { return plain(400, 10003, "bad request"); }
ApiError ClusterIncomplete() { return plain(503, 10004, "incomplete results"); }
ApiError ClusterNoPeers(std::string_view err) {
    return formatted(400, 10005, "{err}", {{"{err}", text(err)}});
}
ApiError ClusterNotActive() { return plain(500, 10006, "JetStream not in clustered mode"); }
ApiError ClusterNotAssigned() {
    return plain(500, 10007, "JetStream cluster not assigned to this server");
}
ApiError ClusterNotAvail() { return plain(503, 10008, "JetStream system temporarily unavailable"); }
ApiError ClusterNotLeader() {
    return plain(500, 10009, "JetStream cluster can not handle request");
}
ApiError ClusterPeerNotMember() { return plain(400, 10040, "peer not a member"); }
ApiError ClusterRequired() { return plain(503, 10010, "JetStream clustering support required"); }
ApiError ClusterServerNotMember() {
    return plain(400, 10044, "server is not a member of the cluster");
}
ApiError ClusterTags() { return plain(400, 10011, "tags placement not supported for operation"); }
ApiError ClusterUnSupportFeature() {
    return plain(503, 10036, "not currently supported in clustered mode");
}
ApiError ConsumerBadDurableName() {
    return plain(400, 10103, "durable name can not contain '.', '*', '>'");
}
ApiError ConsumerConfigRequired() { return plain(400, 10078, "consumer config required"); }
ApiError ConsumerCreate(std::string_view err) {
    return formatted(500, 10012, "{err}", {{"{err}", text(err)}});
}
ApiError ConsumerCreateDurableAndNameMismatch() {
    return plain(400, 10132, "Consumer Durable and Name have to be equal if both are provided");
}
ApiError ConsumerCreateFilterSubjectMismatch() {
    return plain(400, 10131,
                 "Consumer create request did not match filtered subject from create subject");
}
ApiError ConsumerDeliverCycle() {
    return plain(400, 10081, "consumer deliver subject forms a cycle");
}
ApiError ConsumerDeliverToWildcards() {
    return plain(400, 10079, "consumer deliver subject has wildcards");
}
ApiError ConsumerDescriptionTooLong(int64_t max) {
    return formatted(400, 10107, "consumer description is too long, maximum allowed is {max}",
                     {{"{max}", std::to_string(max)}});
}
ApiError ConsumerDirectRequiresEphemeral() {
    return plain(400, 10091, "consumer direct requires an ephemeral consumer");
}
ApiError ConsumerDirectRequiresPush() {
    return plain(400, 10090, "consumer direct requires a push based consumer");
}
ApiError ConsumerDurableNameNotInSubject() {
    return plain(400, 10016, "consumer expected to be durable but no durable name set in subject");
}
ApiError ConsumerDurableNameNotMatchSubject() {
    return plain(400, 10017, "consumer name in subject does not match durable name in request");
}
ApiError ConsumerDurableNameNotSet() {
    return plain(400, 10018, "consumer expected to be durable but a durable name was not set");
}
ApiError ConsumerEphemeralWithDurableInSubject() {
    return plain(400, 10019,
                 "consumer expected to be ephemeral but detected a durable name set in subject");
}
ApiError ConsumerEphemeralWithDurableName() {
    return plain(400, 10020,
                 "consumer expected to be ephemeral but a durable name was set in request");
}
ApiError ConsumerExistingActive() {
    return plain(400, 10105, "consumer already exists and is still active");
}
ApiError ConsumerFCRequiresPush() {
    return plain(400, 10089, "consumer flow control requires a push based consumer");
}
ApiError ConsumerFilterNotSubset() {
    return plain(400, 10093,
                 "consumer filter subject is not a valid subset of the interest subjects");
}
ApiError ConsumerHBRequiresPush() {
    return plain(400, 10088, "consumer idle heartbeat requires a push based consumer");
}
ApiError ConsumerInvalidDeliverSubject() {
    return plain(400, 10112, "invalid push consumer deliver subject");
}
ApiError ConsumerInvalidPolicy(std::string_view err) {
    return formatted(400, 10094, "{err}", {{"{err}", text(err)}});
}
ApiError ConsumerInvalidSampling(std::string_view err) {
    return formatted(400, 10095, "failed to parse consumer sampling configuration: {err}",
                     {{"{err}", text(err)}});
}
ApiError ConsumerMaxDeliverBackoff() {
    return plain(400, 10116, "max deliver is required to be > length of backoff values");
}
ApiError ConsumerInactiveThresholdExcess(int64_t limit_ns) {
    return formatted(400, 10153, "consumer inactive threshold exceeds system limit of {limit}",
                     {{"{limit}", go_duration(limit_ns)}});
}
ApiError ConsumerMaxPendingAckExcess(int64_t limit) {
    return formatted(400, 10121, "consumer max ack pending exceeds system limit of {limit}",
                     {{"{limit}", std::to_string(limit)}});
}
ApiError ConsumerMaxPendingAckPolicyRequired() {
    return plain(400, 10082, "consumer requires ack policy for max ack pending");
}
ApiError ConsumerMaxRequestBatchExceeded(int64_t limit) {
    return formatted(400, 10125, "consumer max request batch exceeds server limit of {limit}",
                     {{"{limit}", std::to_string(limit)}});
}
ApiError ConsumerMaxRequestBatchNegative() {
    return plain(400, 10114, "consumer max request batch needs to be > 0");
}
ApiError ConsumerMaxRequestExpiresToSmall() {
    return plain(400, 10115, "consumer max request expires needs to be >= 1ms");
}
ApiError ConsumerMaxWaitingNegative() {
    return plain(400, 10087, "consumer max waiting needs to be positive");
}
ApiError ConsumerNameContainsPathSeparators() {
    return plain(400, 10127, "Consumer name can not contain path separators");
}
ApiError ConsumerNameExist() { return plain(400, 10013, "consumer name already in use"); }
ApiError ConsumerNameTooLong(int64_t max) {
    return formatted(400, 10102, "consumer name is too long, maximum allowed is {max}",
                     {{"{max}", std::to_string(max)}});
}
ApiError ConsumerNotFound() { return plain(404, 10014, "consumer not found"); }
ApiError ConsumerOffline() { return plain(500, 10119, "consumer is offline"); }
ApiError ConsumerOnMapped() { return plain(400, 10092, "consumer direct on a mapped consumer"); }
ApiError ConsumerPullNotDurable() {
    return plain(400, 10085, "consumer in pull mode requires a durable name");
}
ApiError ConsumerPullRequiresAck() {
    return plain(400, 10084, "consumer in pull mode requires ack policy");
}
ApiError ConsumerPullWithRateLimit() {
    return plain(400, 10086, "consumer in pull mode can not have rate limit set");
}
ApiError ConsumerPushMaxWaiting() {
    return plain(400, 10080, "consumer in push mode can not set max waiting");
}
ApiError ConsumerReplacementWithDifferentName() {
    return plain(400, 10106, "consumer replacement durable config not the same");
}
ApiError ConsumerReplicasExceedsStream() {
    return plain(400, 10126, "consumer config replica count exceeds parent stream");
}
ApiError ConsumerSmallHeartbeat() {
    return plain(400, 10083, "consumer idle heartbeat needs to be >= 100ms");
}
ApiError ConsumerStoreFailed(std::string_view err) {
    return formatted(500, 10104, "error creating store for consumer: {err}",
                     {{"{err}", text(err)}});
}
ApiError ConsumerWQConsumerNotDeliverAll() {
    return plain(400, 10101, "consumer must be deliver all on workqueue stream");
}
ApiError ConsumerWQConsumerNotUnique() {
    return plain(400, 10100, "filtered consumer not unique on workqueue stream");
}
ApiError ConsumerWQMultipleUnfiltered() {
    return plain(400, 10099, "multiple non-filtered consumers not allowed on workqueue stream");
}
ApiError ConsumerWQRequiresExplicitAck() {
    return plain(400, 10098, "workqueue stream requires explicit ack");
}
ApiError ConsumerWithFlowControlNeedsHeartbeats() {
    return plain(400, 10108, "consumer with flow control also needs heartbeats");
}
ApiError InsufficientResources() { return plain(503, 10023, "insufficient resources"); }
ApiError InvalidJSON() { return plain(400, 10025, "invalid JSON"); }
ApiError MaximumConsumersLimit() { return plain(400, 10026, "maximum consumers limit reached"); }
ApiError MaximumStreamsLimit() { return plain(400, 10027, "maximum number of streams reached"); }
ApiError MemoryResourcesExceeded() {
    return plain(500, 10028, "insufficient memory resources available");
}
ApiError MirrorConsumerSetupFailed(std::string_view err) {
    return formatted(500, 10029, "{err}", {{"{err}", text(err)}});
}
ApiError MirrorMaxMessageSizeTooBig() {
    return plain(400, 10030, "stream mirror must have max message size >= source");
}
ApiError MirrorWithSources() {
    return plain(400, 10031, "stream mirrors can not also contain other sources");
}
ApiError MirrorInvalidStreamName() { return plain(400, 10142, "mirrored stream name is invalid"); }
ApiError SourceInvalidStreamName() { return plain(400, 10141, "sourced stream name is invalid"); }
ApiError SourceDuplicateDetected() { return plain(400, 10140, "duplicate source configuration detected"); }
ApiError MirrorWithFirstSeq() {
    return plain(400, 10143, "stream mirrors can not have first sequence configured");
}
ApiError MessageTTLInvalid() { return plain(400, 10165, "invalid per-message TTL"); }
ApiError MessageTTLDisabled() { return plain(400, 10166, "per-message TTL is disabled"); }
ApiError MirrorWithStartSeqAndTime() {
    return plain(400, 10032,
                 "stream mirrors can not have both start seq and start time configured");
}
ApiError MirrorWithSubjectFilters() {
    return plain(400, 10033, "stream mirrors can not contain filtered subjects");
}
ApiError MirrorWithSubjects() {
    return plain(400, 10034, "stream mirrors can not contain subjects");
}
ApiError NoAccount() { return plain(503, 10035, "account not found"); }
ApiError NoLimits() {
    return plain(400, 10120, "no JetStream default or applicable tiered limit present");
}
ApiError NoMessageFound() { return plain(404, 10037, "no message found"); }
ApiError NotEmptyRequest() { return plain(400, 10038, "expected an empty request payload"); }
ApiError NotEnabled() { return plain(503, 10076, "JetStream not enabled"); }
ApiError NotEnabledForAccount() { return plain(503, 10039, "JetStream not enabled for account"); }
ApiError PeerRemap() { return plain(503, 10075, "peer remap failed"); }
ApiError RaftGeneral(std::string_view err) {
    return formatted(500, 10041, "{err}", {{"{err}", text(err)}});
}
ApiError ReplicasCountCannotBeNegative() {
    return plain(400, 10133, "replicas count cannot be negative");
}
ApiError RestoreSubscribeFailed(std::string_view err, std::string_view subject) {
    return formatted(500, 10042,
                     "JetStream unable to subscribe to restore snapshot {subject}: {err}",
                     {{"{err}", text(err)}, {"{subject}", text(subject)}});
}
ApiError SequenceNotFound(uint64_t seq) {
    return formatted(400, 10043, "sequence {seq} not found", {{"{seq}", std::to_string(seq)}});
}
ApiError SnapshotDeliverSubjectInvalid() { return plain(400, 10015, "deliver subject not valid"); }
ApiError SourceConsumerSetupFailed(std::string_view err) {
    return formatted(500, 10045, "{err}", {{"{err}", text(err)}});
}
ApiError SourceMaxMessageSizeTooBig() {
    return plain(400, 10046, "stream source must have max message size >= target");
}
ApiError StorageResourcesExceeded() {
    return plain(500, 10047, "insufficient storage resources available");
}
ApiError StreamAssignment(std::string_view err) {
    return formatted(500, 10048, "{err}", {{"{err}", text(err)}});
}
ApiError StreamCreate(std::string_view err) {
    return formatted(500, 10049, "{err}", {{"{err}", text(err)}});
}
ApiError StreamDelete(std::string_view err) {
    return formatted(500, 10050, "{err}", {{"{err}", text(err)}});
}
ApiError StreamExternalApiOverlap(std::string_view prefix, std::string_view subject) {
    return formatted(400, 10021,
                     "stream external api prefix {prefix} must not overlap with {subject}",
                     {{"{prefix}", text(prefix)}, {"{subject}", text(subject)}});
}
ApiError StreamExternalDelPrefixOverlaps(std::string_view prefix, std::string_view subject) {
    return formatted(
        400, 10022,
        "stream external delivery prefix {prefix} overlaps with stream subject {subject}",
        {{"{prefix}", text(prefix)}, {"{subject}", text(subject)}});
}
ApiError StreamGeneralError(std::string_view err) {
    return formatted(500, 10051, "{err}", {{"{err}", text(err)}});
}
ApiError StreamHeaderExceedsMaximum() {
    return plain(400, 10097, "header size exceeds maximum allowed of 64k");
}
ApiError StreamInfoMaxSubjects() {
    return plain(500, 10117, "subject details would exceed maximum allowed");
}
ApiError StreamInvalid() { return plain(500, 10096, "stream not valid"); }
ApiError MirrorMultipleFiltersNotAllowed() {
    return plain(400, 10150, "mirror with multiple subject transforms cannot also have a single subject filter");
}
ApiError MirrorInvalidSubjectFilter(std::string_view err) {
    return formatted(400, 10151, "mirror transform source: {err}", {{"{err}", text(err)}});
}
ApiError MirrorOverlappingSubjectFilters() { return plain(400, 10152, "mirror subject filters can not overlap"); }
ApiError MirrorInvalidTransformDestination(std::string_view err) {
    return formatted(400, 10154, "mirror transform: {err}", {{"{err}", text(err)}});
}
ApiError SourceMultipleFiltersNotAllowed() {
    return plain(400, 10144, "source with multiple subject transforms cannot also have a single subject filter");
}
ApiError SourceInvalidSubjectFilter(std::string_view err) {
    return formatted(400, 10145, "source transform source: {err}", {{"{err}", text(err)}});
}
ApiError SourceInvalidTransformDestination(std::string_view err) {
    return formatted(400, 10146, "source transform: {err}", {{"{err}", text(err)}});
}
ApiError SourceOverlappingSubjectFilters() { return plain(400, 10147, "source filters can not overlap"); }
ApiError StreamTransformInvalidSource(std::string_view err) {
    return formatted(400, 10155, "stream transform source: {err}", {{"{err}", text(err)}});
}
ApiError StreamTransformInvalidDestination(std::string_view err) {
    return formatted(400, 10156, "stream transform: {err}", {{"{err}", text(err)}});
}
ApiError StreamInvalidConfig(std::string_view err) {
    return formatted(500, 10052, "{err}", {{"{err}", text(err)}});
}
ApiError StreamInvalidExternalDeliverySubj(std::string_view prefix) {
    return formatted(400, 10024,
                     "stream external delivery prefix {prefix} must not contain wildcards",
                     {{"{prefix}", text(prefix)}});
}
ApiError StreamLimits(std::string_view err) {
    return formatted(500, 10053, "{err}", {{"{err}", text(err)}});
}
ApiError StreamMaxBytesRequired() {
    return plain(400, 10113, "account requires a stream config to have max bytes set");
}
ApiError StreamMaxStreamBytesExceeded() {
    return plain(400, 10122, "stream max bytes exceeds account limit max stream bytes");
}
ApiError StreamMessageExceedsMaximum() {
    return plain(400, 10054, "message size exceeds maximum allowed");
}
ApiError StreamMirrorNotUpdatable() {
    return plain(400, 10055, "stream mirror configuration can not be updated");
}
ApiError StreamMismatch() {
    return plain(400, 10056, "stream name in subject does not match request");
}
ApiError StreamMoveAndScale() {
    return plain(400, 10123, "can not move and scale a stream in a single update");
}
ApiError StreamMoveInProgress(std::string_view msg) {
    return formatted(400, 10124, "stream move already in progress: {msg}", {{"{msg}", text(msg)}});
}
ApiError StreamMoveNotInProgress() { return plain(400, 10129, "stream move not in progress"); }
ApiError StreamMsgDeleteFailed(std::string_view err) {
    return formatted(500, 10057, "{err}", {{"{err}", text(err)}});
}
ApiError StreamNameContainsPathSeparators() {
    return plain(400, 10128, "Stream name can not contain path separators");
}
ApiError StreamNameExist() {
    return plain(400, 10058, "stream name already in use with a different configuration");
}
ApiError StreamNameExistRestoreFailed() {
    return plain(400, 10130, "stream name already in use, cannot restore");
}
ApiError StreamNotFound() { return plain(404, 10059, "stream not found"); }
ApiError StreamNotMatch() { return plain(400, 10060, "expected stream does not match"); }
ApiError StreamOffline() { return plain(500, 10118, "stream is offline"); }
ApiError StreamPurgeFailed(std::string_view err) {
    return formatted(500, 10110, "{err}", {{"{err}", text(err)}});
}
ApiError StreamReplicasNotSupported() {
    return plain(500, 10074, "replicas > 1 not supported in non-clustered mode");
}
ApiError StreamReplicasNotUpdatable() {
    return plain(400, 10061, "Replicas configuration can not be updated");
}
ApiError StreamRestore(std::string_view err) {
    return formatted(500, 10062, "restore failed: {err}", {{"{err}", text(err)}});
}
ApiError StreamRollupFailed(std::string_view err) {
    return formatted(500, 10111, "{err}", {{"{err}", text(err)}});
}
ApiError StreamSealed() { return plain(400, 10109, "invalid operation on sealed stream"); }
ApiError StreamSequenceNotMatch() {
    return plain(503, 10063, "expected stream sequence does not match");
}
ApiError StreamSnapshot(std::string_view err) {
    return formatted(500, 10064, "snapshot failed: {err}", {{"{err}", text(err)}});
}
ApiError StreamStoreFailed(std::string_view err) {
    return formatted(503, 10077, "{err}", {{"{err}", text(err)}});
}
ApiError StreamSubjectOverlap() {
    return plain(400, 10065, "subjects overlap with an existing stream");
}
ApiError StreamTemplateCreate(std::string_view err) {
    return formatted(500, 10066, "{err}", {{"{err}", text(err)}});
}
ApiError StreamTemplateDelete(std::string_view err) {
    return formatted(500, 10067, "{err}", {{"{err}", text(err)}});
}
ApiError StreamTemplateNotFound() { return plain(404, 10068, "template not found"); }
ApiError StreamUpdate(std::string_view err) {
    return formatted(500, 10069, "{err}", {{"{err}", text(err)}});
}
ApiError StreamWrongLastMsgID(std::string_view id) {
    return formatted(400, 10070, "wrong last msg ID: {id}", {{"{id}", text(id)}});
}
ApiError StreamWrongLastSequence(uint64_t seq) {
    return formatted(400, 10071, "wrong last sequence: {seq}", {{"{seq}", std::to_string(seq)}});
}
ApiError TempStorageFailed() {
    return plain(500, 10072, "JetStream unable to open temp storage for restore");
}
ApiError TemplateNameNotMatchSubject() {
    return plain(400, 10073, "template name in subject does not match request");
}

ApiError ConsumerAlreadyExists() { return plain(400, 10148, "consumer already exists"); }
ApiError ConsumerDoesNotExist() { return plain(400, 10149, "consumer does not exist"); }
ApiError ConsumerDuplicateFilterSubjects() {
    return plain(400, 10136,
                 "consumer cannot have both FilterSubject and FilterSubjects specified");
}
ApiError ConsumerEmptyFilter() {
    return plain(400, 10139, "consumer filter in FilterSubjects cannot be empty");
}
ApiError ConsumerMetadataLength(std::string_view limit) {
    return formatted(400, 10135, "consumer metadata exceeds maximum size of {limit}",
                     {{"{limit}", text(limit)}});
}
ApiError ConsumerMultipleFiltersNotAllowed() {
    return plain(400, 10137, "consumer with multiple subject filters cannot use subject based API");
}
ApiError ConsumerOverlappingSubjectFilters() {
    return plain(400, 10138, "consumer subject filters cannot overlap");
}

// ---------------------------------------------------------------------------------------------
// Go's encoding/json and strconv text rules.

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr uint32_t kRuneError = 0xFFFD;

struct Rune {
    uint32_t value;
    size_t width;
};

// Decodes one rune the way Go's utf8.DecodeRuneInString does: an invalid or truncated
// sequence, an overlong form or a surrogate gives {U+FFFD, 1}.
Rune decode_rune(std::string_view text, size_t at) {
    auto byte = [&](size_t i) { return static_cast<uint8_t>(text[at + i]); };
    auto cont = [&](size_t i, uint8_t low, uint8_t high) {
        return at + i < text.size() && byte(i) >= low && byte(i) <= high;
    };
    uint8_t b0 = byte(0);
    if (b0 < 0x80) return {b0, 1};
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (!cont(1, 0x80, 0xBF)) return {kRuneError, 1};
        return {(uint32_t{b0} & 0x1Fu) << 6 | (uint32_t{byte(1)} & 0x3Fu), 2};
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        uint8_t low = b0 == 0xE0 ? 0xA0 : 0x80;
        uint8_t high = b0 == 0xED ? 0x9F : 0xBF;
        if (!cont(1, low, high) || !cont(2, 0x80, 0xBF)) return {kRuneError, 1};
        return {(uint32_t{b0} & 0x0Fu) << 12 | (uint32_t{byte(1)} & 0x3Fu) << 6 |
                    (uint32_t{byte(2)} & 0x3Fu),
                3};
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        uint8_t low = b0 == 0xF0 ? 0x90 : 0x80;
        uint8_t high = b0 == 0xF4 ? 0x8F : 0xBF;
        if (!cont(1, low, high) || !cont(2, 0x80, 0xBF) || !cont(3, 0x80, 0xBF)) {
            return {kRuneError, 1};
        }
        return {(uint32_t{b0} & 0x07u) << 18 | (uint32_t{byte(1)} & 0x3Fu) << 12 |
                    (uint32_t{byte(2)} & 0x3Fu) << 6 | (uint32_t{byte(3)} & 0x3Fu),
                4};
    }
    return {kRuneError, 1};
}

void append_hex(std::string& out, uint32_t value, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out += kHexDigits[(value >> shift) & 0xF];
    }
}

// Go's float64 encoding (encoding/json floatEncoder): shortest round-trip digits, plain
// notation unless |f| < 1e-6 or |f| >= 1e21, and "e-07" shortened to "e-7".
void append_go_float(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";  // Go refuses to encode these; null is the nearest valid JSON.
        return;
    }
    std::array<char, 64> buffer{};
    double magnitude = std::fabs(value);
    bool exponent = magnitude != 0 && (magnitude < 1e-6 || magnitude >= 1e21);
    auto format = exponent ? std::chars_format::scientific : std::chars_format::fixed;
    auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, format);
    std::string digits(buffer.data(), ec == std::errc() ? end : buffer.data());
    size_t n = digits.size();
    if (exponent && n >= 4 && digits[n - 4] == 'e' && digits[n - 3] == '-' &&
        digits[n - 2] == '0') {
        digits.erase(n - 2, 1);
    }
    out += digits;
}

void append_base64(std::string& out, const std::vector<uint8_t>& bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out += '"';
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t group = uint32_t{bytes[i]} << 16 | uint32_t{bytes[i + 1]} << 8 | bytes[i + 2];
        for (int shift = 18; shift >= 0; shift -= 6) out += kAlphabet[(group >> shift) & 0x3F];
    }
    size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t group = uint32_t{bytes[i]} << 16;
        if (rest == 2) group |= uint32_t{bytes[i + 1]} << 8;
        out += kAlphabet[(group >> 18) & 0x3F];
        out += kAlphabet[(group >> 12) & 0x3F];
        out += rest == 2 ? kAlphabet[(group >> 6) & 0x3F] : '=';
        out += '=';
    }
    out += '"';
}

template <class Json>
void append_go_value(std::string& out, const Json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::null:
        case nlohmann::json::value_t::discarded:
            out += "null";
            return;
        case nlohmann::json::value_t::boolean:
            out += value.template get<bool>() ? "true" : "false";
            return;
        case nlohmann::json::value_t::number_integer:
            out += std::to_string(value.template get<int64_t>());
            return;
        case nlohmann::json::value_t::number_unsigned:
            out += std::to_string(value.template get<uint64_t>());
            return;
        case nlohmann::json::value_t::number_float:
            append_go_float(out, value.template get<double>());
            return;
        case nlohmann::json::value_t::string:
            append_go_json_string(out, value.template get_ref<const std::string&>());
            return;
        case nlohmann::json::value_t::binary:
            append_base64(out, value.get_binary());  // Go encodes []byte as base64.
            return;
        case nlohmann::json::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& element : value) {
                if (!first) out += ',';
                first = false;
                append_go_value(out, element);
            }
            out += ']';
            return;
        }
        case nlohmann::json::value_t::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, element] : value.items()) {
                if (!first) out += ',';
                first = false;
                append_go_json_string(out, key);
                out += ':';
                append_go_value(out, element);
            }
            out += '}';
            return;
        }
    }
}

// An approximation of Go's unicode.IsPrint for runes above ASCII: false for C1 controls,
// spaces other than U+0020, format characters, line/paragraph separators, private use and
// noncharacters; true otherwise (unassigned code points are not tracked).
bool is_go_printable(uint32_t rune) {
    if (rune < 0x20 || rune == 0x7F) return false;
    if (rune < 0x7F) return true;
    struct Range {
        uint32_t first, last;
    };
    static constexpr Range kNotPrintable[] = {
        {0x80, 0xA0},        {0xAD, 0xAD},       {0x600, 0x605},     {0x61C, 0x61C},
        {0x6DD, 0x6DD},      {0x70F, 0x70F},     {0x180E, 0x180E},   {0x1680, 0x1680},
        {0x2000, 0x200F},    {0x2028, 0x202F},   {0x205F, 0x206F},   {0x3000, 0x3000},
        {0xD800, 0xF8FF},    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0xFFFE, 0xFFFF},
        {0x110BD, 0x110BD},  {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
        {0xF0000, 0x10FFFF},
    };
    for (const Range& range : kNotPrintable) {
        if (rune >= range.first && rune <= range.last) return false;
    }
    return true;
}

}  // namespace

void append_go_json_string(std::string& out, std::string_view text) {
    out += '"';
    size_t i = 0;
    while (i < text.size()) {
        auto byte = static_cast<uint8_t>(text[i]);
        if (byte < 0x80) {
            switch (byte) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                default:
                    if (byte < 0x20 || byte == '<' || byte == '>' || byte == '&') {
                        out += "\\u00";
                        append_hex(out, byte, 2);
                    } else {
                        out += static_cast<char>(byte);
                    }
            }
            ++i;
            continue;
        }
        Rune rune = decode_rune(text, i);
        if (rune.value == kRuneError && rune.width == 1) {
            out += "\\ufffd";
        } else if (rune.value == 0x2028 || rune.value == 0x2029) {
            out += "\\u";
            append_hex(out, rune.value, 4);
        } else {
            out.append(text.substr(i, rune.width));
        }
        i += rune.width;
    }
    out += '"';
}

std::string go_marshal(const nlohmann::ordered_json& value) {
    std::string out;
    append_go_value(out, value);
    return out;
}

std::string go_marshal(const nlohmann::json& value) {
    std::string out;
    append_go_value(out, value);
    return out;
}

std::string go_quote(std::string_view text) {
    std::string out = "\"";
    size_t i = 0;
    while (i < text.size()) {
        Rune rune = decode_rune(text, i);
        if (rune.value == kRuneError && rune.width == 1) {
            out += "\\x";
            append_hex(out, static_cast<uint8_t>(text[i]), 2);
        } else if (rune.value == '"' || rune.value == '\\') {
            out += '\\';
            out += static_cast<char>(rune.value);
        } else if (is_go_printable(rune.value)) {
            out.append(text.substr(i, rune.width));
        } else {
            switch (rune.value) {
                case '\a':
                    out += "\\a";
                    break;
                case '\b':
                    out += "\\b";
                    break;
                case '\f':
                    out += "\\f";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '\v':
                    out += "\\v";
                    break;
                default:
                    if (rune.value < ' ' || rune.value == 0x7F) {
                        out += "\\x";
                        append_hex(out, rune.value, 2);
                    } else if (rune.value < 0x10000) {
                        out += "\\u";
                        append_hex(out, rune.value, 4);
                    } else {
                        out += "\\U";
                        append_hex(out, rune.value, 8);
                    }
            }
        }
        i += rune.width;
    }
    out += '"';
    return out;
}

std::string go_duration(int64_t nanos) {
    if (nanos == 0) return "0s";
    // The magnitude as unsigned, so that INT64_MIN works too.
    uint64_t magnitude =
        nanos < 0 ? 0 - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
    // Writes `value / 10^precision`'s fraction, trailing zeros dropped, and returns the rest.
    auto fraction = [](uint64_t value, int precision, std::string& digits) {
        std::string reversed;
        bool any = false;
        for (int i = 0; i < precision; ++i) {
            auto digit = static_cast<char>('0' + value % 10);
            any = any || digit != '0';
            if (any) reversed += digit;
            value /= 10;
        }
        if (any) digits = "." + std::string(reversed.rbegin(), reversed.rend());
        return value;
    };
    std::string out;
    std::string frac;
    constexpr uint64_t kSecond = 1'000'000'000;
    if (magnitude < kSecond) {
        int precision = 0;
        std::string unit;
        if (magnitude < 1'000) {
            unit = "ns";
        } else if (magnitude < 1'000'000) {
            precision = 3;
            unit = "\xC2\xB5s";  // U+00B5 micro sign, as Go writes it.
        } else {
            precision = 6;
            unit = "ms";
        }
        uint64_t whole = fraction(magnitude, precision, frac);
        out = std::to_string(whole) + frac + unit;
    } else {
        uint64_t seconds = fraction(magnitude, 9, frac);
        out = std::to_string(seconds % 60) + frac + "s";
        uint64_t minutes = seconds / 60;
        if (minutes > 0) {
            out = std::to_string(minutes % 60) + "m" + out;
            uint64_t hours = minutes / 60;
            if (hours > 0) out = std::to_string(hours) + "h" + out;
        }
    }
    return nanos < 0 ? "-" + out : out;
}

// ---------------------------------------------------------------------------------------------
// Error replies and PubAcks.

namespace {

void append_api_error(std::string& out, const ApiError& error) {
    out += "{\"code\":";
    out += std::to_string(error.code);
    if (error.err_code != 0) {
        out += ",\"err_code\":";
        out += std::to_string(error.err_code);
    }
    if (!error.description.empty()) {
        out += ",\"description\":";
        append_go_json_string(out, error.description);
    }
    out += '}';
}

// Replaces invalid UTF-8 with U+FFFD, as Go's encoder does when it writes the string.
std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        Rune rune = decode_rune(text, i);
        if (rune.value == kRuneError && rune.width == 1) {
            append_utf8(out, kRuneError);
        } else {
            out.append(text.substr(i, rune.width));
        }
        i += rune.width;
    }
    return out;
}

}  // namespace

nlohmann::json to_json(const ApiError& error) {
    nlohmann::json out = nlohmann::json::object();
    out["code"] = error.code;
    if (error.err_code != 0) out["err_code"] = error.err_code;
    if (!error.description.empty()) out["description"] = valid_utf8(error.description);
    return out;
}

std::string error_response(std::string_view type, const ApiError& error) {
    constexpr std::string_view kPaged = ",\"total\":0,\"offset\":0,\"limit\":0";
    std::string out = "{\"type\":";
    append_go_json_string(out, type);
    out += ",\"error\":";
    append_api_error(out, error);
    if (type == kStreamInfoResponse) {
        out += kPaged;
    } else if (type == kStreamListResponse) {
        out += kPaged;
        out += ",\"streams\":[]";  // jsStreamListRequest starts from an empty, non-nil slice
    } else if (type == kStreamNamesResponse || type == kStreamTemplateNamesResponse) {
        out += kPaged;
        out += ",\"streams\":null";
    } else if (type == kConsumerNamesResponse || type == kConsumerListResponse) {
        out += kPaged;
        out += ",\"consumers\":[]";  // both requests start from an empty, non-nil slice
    } else if (type == kStreamPurgeResponse) {
        out += ",\"purged\":0";
    } else if (type == kStreamRestoreResponse) {
        out += ",\"deliver_subject\":\"\"";
    }
    out += '}';
    return out;
}

std::string pub_ack(std::string_view stream, uint64_t seq, bool duplicate, std::string_view domain) {
    // nats-server keeps the prefix `{"stream":%q, "seq":` (with a domain, `{"stream":%q,
    // "domain":%q, "seq":`) per stream and appends the number.
    std::string out = "{\"stream\":";
    out += go_quote(stream);
    if (!domain.empty()) {
        out += ", \"domain\":";
        out += go_quote(domain);
    }
    out += ", \"seq\":";
    out += std::to_string(seq);
    out += duplicate ? ",\"duplicate\": true}" : "}";
    return out;
}

std::string pub_ack_error(std::string_view stream, const ApiError& error) {
    std::string out = "{\"error\":";
    append_api_error(out, error);
    out += ",\"stream\":";
    append_go_json_string(out, stream);
    out += ",\"seq\":0}";
    return out;
}

// ---------------------------------------------------------------------------------------------
// Timestamps.

namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
    year -= month <= 2 ? 1 : 0;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    int64_t year_of_era = year - era * 400;                                          // [0, 399]
    int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;  // [0, 365]
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146'097 + day_of_era - 719'468;
}

struct Civil {
    int64_t year, month, day;
};

// The inverse of days_from_civil.
Civil civil_from_days(int64_t days) {
    days += 719'468;
    int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
    int64_t day_of_era = days - era * 146'097;  // [0, 146096]
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t shifted_month = (5 * day_of_year + 2) / 153;  // March = 0
    int64_t day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    int64_t month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
    return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

bool is_leap(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int64_t days_in_month(int64_t year, int64_t month) {
    static constexpr int64_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

void append_digits(std::string& out, int64_t value, int width) {
    std::string digits = std::to_string(value);
    if (digits.size() < static_cast<size_t>(width)) {
        out.append(static_cast<size_t>(width) - digits.size(), '0');
    }
    out += digits;
}

// ".123" for 123000000 ns; nothing for 0.
void append_fraction(std::string& out, int64_t nanos) {
    if (nanos == 0) return;
    std::string digits;
    append_digits(digits, nanos, 9);
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
}

struct ParsedTime {
    int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    int64_t nanos = 0;
    int64_t offset_seconds = 0;  // east of UTC
};

// Reads exactly `width` decimal digits.
bool read_digits(std::string_view text, size_t& at, size_t width, int64_t& value) {
    if (at + width > text.size()) return false;
    value = 0;
    for (size_t i = 0; i < width; ++i) {
        char c = text[at + i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    at += width;
    return true;
}

bool read_char(std::string_view text, size_t& at, char expected) {
    if (at >= text.size() || text[at] != expected) return false;
    ++at;
    return true;
}

// "YYYY-MM-DDTHH:MM:SS[(.|,)digits](Z|+hh:mm|-hh:mm)", fields range-checked.
std::optional<ParsedTime> parse_time(std::string_view text) {
    ParsedTime t;
    size_t at = 0;
    if (!read_digits(text, at, 4, t.year) || !read_char(text, at, '-') ||
        !read_digits(text, at, 2, t.month) || !read_char(text, at, '-') ||
        !read_digits(text, at, 2, t.day) || !read_char(text, at, 'T') ||
        !read_digits(text, at, 2, t.hour) || !read_char(text, at, ':') ||
        !read_digits(text, at, 2, t.minute) || !read_char(text, at, ':') ||
        !read_digits(text, at, 2, t.second)) {
        return std::nullopt;
    }
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month) ||
        t.hour > 23 || t.minute > 59 || t.second > 59) {
        return std::nullopt;
    }
    if (at + 1 < text.size() && (text[at] == '.' || text[at] == ',') && text[at + 1] >= '0' &&
        text[at + 1] <= '9') {
        ++at;
        int64_t scale = 100'000'000;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
            t.nanos += (text[at] - '0') * scale;  // digits past the ninth add 0: truncated
            scale /= 10;
            ++at;
        }
    }
    if (at < text.size() && text[at] == 'Z') {
        ++at;
    } else {
        if (at >= text.size() || (text[at] != '+' && text[at] != '-')) return std::nullopt;
        int64_t sign = text[at] == '-' ? -1 : 1;
        ++at;
        int64_t hours = 0;
        int64_t minutes = 0;
        if (!read_digits(text, at, 2, hours) || !read_char(text, at, ':') ||
            !read_digits(text, at, 2, minutes) || hours > 23 || minutes > 59) {
            return std::nullopt;
        }
        t.offset_seconds = sign * (hours * 3600 + minutes * 60);
    }
    if (at != text.size()) return std::nullopt;
    return t;
}

// The wall clock of Unix second `seconds` plus `nanos`: "2024-01-02T03:04:05.123", no zone.
void append_wall_clock(std::string& out, int64_t seconds, int64_t nanos) {
    int64_t days = seconds / kSecondsPerDay;
    int64_t second_of_day = seconds % kSecondsPerDay;
    if (second_of_day < 0) {
        second_of_day += kSecondsPerDay;
        days -= 1;
    }
    Civil date = civil_from_days(days);
    append_digits(out, date.year, 4);
    out += '-';
    append_digits(out, date.month, 2);
    out += '-';
    append_digits(out, date.day, 2);
    out += 'T';
    append_digits(out, second_of_day / 3600, 2);
    out += ':';
    append_digits(out, second_of_day / 60 % 60, 2);
    out += ':';
    append_digits(out, second_of_day % 60, 2);
    append_fraction(out, nanos);
}

// Splits Unix nanoseconds into whole seconds (rounded down) and the nanoseconds past them.
void split_nanos(int64_t unix_nanos, int64_t& seconds, int64_t& nanos) {
    seconds = unix_nanos / kNanosPerSecond;
    nanos = unix_nanos % kNanosPerSecond;
    if (nanos < 0) {
        nanos += kNanosPerSecond;
        seconds -= 1;
    }
}

}  // namespace

std::string rfc3339(int64_t unix_nanos) {
    if (unix_nanos == 0) return "0001-01-01T00:00:00Z";
    int64_t seconds = 0;
    int64_t nanos = 0;
    split_nanos(unix_nanos, seconds, nanos);
    std::string out;
    out.reserve(30);
    append_wall_clock(out, seconds, nanos);
    out += 'Z';
    return out;
}

std::string rfc3339(int64_t unix_nanos, int32_t utc_offset_seconds) {
    if (utc_offset_seconds == 0) return rfc3339(unix_nanos);
    int64_t seconds = 0;
    int64_t nanos = 0;
    split_nanos(unix_nanos, seconds, nanos);
    std::string out;
    out.reserve(35);
    // Seconds, not nanoseconds, are shifted: the wall clock may lie past what int64 ns holds.
    append_wall_clock(out, seconds + utc_offset_seconds, nanos);
    int64_t magnitude = utc_offset_seconds < 0 ? -int64_t{utc_offset_seconds} : utc_offset_seconds;
    out += utc_offset_seconds < 0 ? '-' : '+';
    append_digits(out, magnitude / 3600, 2);
    out += ':';
    append_digits(out, magnitude / 60 % 60, 2);
    return out;
}

std::optional<int64_t> parse_rfc3339(std::string_view text) {
    std::optional<ParsedTime> t = parse_time(text);
    if (!t) return std::nullopt;
    if (t->year == 1 && t->month == 1 && t->day == 1 && t->hour == 0 && t->minute == 0 &&
        t->second == 0 && t->nanos == 0 && t->offset_seconds == 0) {
        return 0;  // Go's zero time
    }
    // Years 0000-9999 keep the seconds far inside int64; the nanoseconds are summed in 128
    // bits because seconds * 1e9 alone may leave int64 while the sum does not (INT64_MIN).
    int64_t seconds = days_from_civil(t->year, t->month, t->day) * kSecondsPerDay + t->hour * 3600 +
                      t->minute * 60 + t->second - t->offset_seconds;
    __int128 nanos = static_cast<__int128>(seconds) * kNanosPerSecond + t->nanos;
    if (nanos < std::numeric_limits<int64_t>::min() ||
        nanos > std::numeric_limits<int64_t>::max()) {
        return std::nullopt;
    }
    return static_cast<int64_t>(nanos);
}

std::optional<int64_t> parse_rfc3339(std::string_view text, int32_t& utc_offset_seconds) {
    std::optional<int64_t> nanos = parse_rfc3339(text);
    if (!nanos) return std::nullopt;
    // parse_time succeeded inside parse_rfc3339; its offset is below 24 h, so it fits int32.
    utc_offset_seconds = static_cast<int32_t>(parse_time(text)->offset_seconds);
    return nanos;
}

std::optional<std::string> normalize_rfc3339(std::string_view text) {
    std::optional<ParsedTime> t = parse_time(text);
    if (!t) return std::nullopt;
    std::string out;
    append_digits(out, t->year, 4);
    out += '-';
    append_digits(out, t->month, 2);
    out += '-';
    append_digits(out, t->day, 2);
    out += 'T';
    append_digits(out, t->hour, 2);
    out += ':';
    append_digits(out, t->minute, 2);
    out += ':';
    append_digits(out, t->second, 2);
    append_fraction(out, t->nanos);
    if (t->offset_seconds == 0) {
        out += 'Z';
    } else {
        int64_t magnitude = t->offset_seconds < 0 ? -t->offset_seconds : t->offset_seconds;
        out += t->offset_seconds < 0 ? '-' : '+';
        append_digits(out, magnitude / 3600, 2);
        out += ':';
        append_digits(out, magnitude / 60 % 60, 2);
    }
    return out;
}

}  // namespace ringtail::proto::js
