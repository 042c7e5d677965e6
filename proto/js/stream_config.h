#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/js/api.h"

// StreamConfig of nats-server 2.9.10 (server/stream.go): parsing a STREAM.CREATE/UPDATE body the
// way Go's json.Unmarshal does, the defaults and validation of checkStreamCfg, the update rules
// of configUpdateCheck, and the JSON nats-server writes in StreamInfo.config.
//
// The order of the checks on STREAM.CREATE.<name> in nats-server (jsStreamCreateRequest and
// addStream), for the core to follow:
//   parse_stream_config -> check_stream_create(subject name) -> account limits on the
//   unchecked config (MaximumStreamsLimit; resources as StreamLimits unless already an
//   ApiError) -> check_stream_config -> a stream of that name exists: same_config ? reply with
//   it (nats-server still says "did_create":true) : StreamNameExist -> account resource limits
//   -> subjects_overlap with every other stream: StreamSubjectOverlap -> create.
// On STREAM.UPDATE.<name>:
//   parse_stream_config -> check_stream_config -> name != subject name: StreamMismatch
//   -> no such stream: StreamNotFound -> updated_stream_config(old, new) -> account limits
//   -> subjects_overlap with every other stream: StreamSubjectOverlap -> update.
// Errors are passed on as they are; nats-server wraps only non-ApiErrors (StreamCreate /
// StreamUpdate with the error's text).
namespace ringtail::proto::js {

enum class Retention : uint8_t { kLimits, kInterest, kWorkQueue };
enum class Discard : uint8_t { kOld, kNew };
enum class Storage : uint8_t { kFile, kMemory };

struct StreamConfig {  // every field of nats-server 2.9.10's StreamConfig
    std::string name, description;
    std::vector<std::string> subjects;
    Retention retention = Retention::kLimits;
    int64_t max_consumers = -1, max_msgs = -1, max_bytes = -1, max_age_ns = 0,
            max_msgs_per_subject = -1;
    int32_t max_msg_size = -1;
    Discard discard = Discard::kOld;
    bool discard_new_per_subject = false;
    Storage storage = Storage::kFile;
    int num_replicas = 1;
    bool no_ack = false;
    int64_t duplicate_window_ns = 0;
    bool sealed = false, deny_delete = false, deny_purge = false, allow_rollup_hdrs = false,
         allow_direct = false, mirror_direct = false;
    uint64_t first_seq = 0;  // 2.10: a new stream's first sequence (0: 1)
    // 2.10: {"src":string,"dest":string}, applied to the subject of each message published to
    // the stream before it is stored; null when absent.
    nlohmann::json subject_transform;
    // 2.10's consumer_limits: defaults and ceilings for the stream's consumers (0: none).
    int64_t consumer_limits_inactive_threshold_ns = 0;
    int64_t consumer_limits_max_ack_pending = 0;
    // 2.11: a Nats-TTL header on a publish sets when that message expires; once on, it cannot
    // be turned off.
    bool allow_msg_ttl = false;
    // 2.11: a message that max_age or its TTL removes, the last of its subject, leaves a
    // marker (a message with Nats-Marker-Reason: MaxAge) that lives this long (0: none).
    int64_t subject_delete_marker_ttl_ns = 0;
    // Fields kept as JSON. null when absent.
    // parse_stream_config stores them in a canonical shape, an image of the Go struct (every
    // field present, unknown members dropped, times normalised), so that == on them is
    // reflect.DeepEqual on the Go side and to_json can apply Go's omitempty rules:
    //   placement: {"cluster":string,"tags":[string]|null}
    //   mirror, sources[i]: {"name":string,"opt_start_seq":uint,"opt_start_time":string|null,
    //                        "filter_subject":string,"external":{"api":s,"deliver":s}|null}
    //                       and 2.10's "subject_transforms":[{"src":s,"dest":s}] when not empty
    //   republish: {"src":string,"dest":string,"headers_only":bool}
    //   metadata: an object of strings. nats-server 2.9.10 ignores "metadata" (it came in 2.10);
    //             ringtail keeps and writes it back. Anything but an object of strings is
    //             ignored, as 2.9.10 ignores the whole field.
    // sources is an array (possibly empty, which Go distinguishes from absent) or null.
    nlohmann::json placement, mirror, sources, republish, metadata;
    std::string template_owner;  // legacy stream templates; never set by ringtail itself
};

// Parses a STREAM.CREATE/UPDATE request body like Go's json.Unmarshal into StreamConfig:
// unknown fields are ignored, keys match case-insensitively (ASCII) with an exact match
// preferred, the last of duplicate keys wins, null leaves a field as it is (but null for an
// enum is an error, as Go's UnmarshalJSON methods make it), integers must be integral and in
// range (1.0 and 1e2 are errors), "discard" is case-insensitive, "retention"/"storage" are not.
// Any failure gives InvalidJSON (400 10025), as jsStreamCreateRequest/jsStreamUpdateRequest
// answer every json.Unmarshal error. Like Go, invalid UTF-8 and escaped lone surrogates inside
// strings become U+FFFD, numbers too large for a double are fine in unknown fields, and
// documents nested deeper than 10000 are refused. Differences from Go, on input no client
// sends: "storage":"any" is an error (nats-server 2.9.10 accepts it and then crashes); a null
// element of "sources" is an error (nats-server dereferences it and crashes); "-0" is accepted
// for opt_start_seq; enum strings and keys are compared after JSON unescaping (Go compares the
// raw bytes of enums); key folding covers ASCII, U+017F and U+212A only; a repeated nested
// object (placement, mirror, ...) replaces the earlier one, where Go merges the two.
[[nodiscard]] std::expected<StreamConfig, ApiError> parse_stream_config(std::string_view body);

// Stream fields of later nats-server versions (2.10 and on) that clients now send and this
// server does not do: compression other than "none", allow_msg_counter, allow_atomic,
// allow_msg_schedules. nats-server 2.9 drops fields it does not know; doing so
// here would accept a setting and not apply it, so a request that uses one is refused
// (StreamInvalidConfig, naming the field). Returns the refusal, or none.
[[nodiscard]] std::optional<ApiError> refuse_newer_fields(std::string_view body);

// The checks jsStreamCreateRequest makes before checkStreamCfg, in its order: the name in the
// request subject must equal config.name (StreamMismatch), no '/' or '\' in it
// (StreamNameContainsPathSeparators), no sealed stream, no mirror_direct without a mirror
// (both StreamInvalidConfig). `config` is the parsed, unchecked request.
[[nodiscard]] std::optional<ApiError> check_stream_create(std::string_view subject_stream_name,
                                                          const StreamConfig& config);

// What check_stream_config may need to know about the server and the account.
struct StreamCheckOptions {
    // The account limits max_bytes_required, memory_max_stream_bytes and
    // storage_max_stream_bytes (0: no limit).
    bool max_bytes_required = false;
    int64_t memory_max_stream_bytes = 0;
    int64_t storage_max_stream_bytes = 0;
    // The server's jetstream { limits { duplicate_window } } (0: none).
    int64_t duplicate_window_max_ns = 0;
    // Looks up another stream of the account by name (nullptr if there is none). Mirrors and
    // sources use it: max_msg_size against the origin, filter subjects against its subjects,
    // source cycles, mirror_direct inherited from the origin's allow_direct. Without it, every
    // origin counts as absent, as for nats-server when the origin does not exist yet.
    std::function<const StreamConfig*(std::string_view name)> find_stream;
    // Set while recovering streams at startup: filter-subject mismatches are not errors.
    bool recovering = false;
    // nats-server rejects num_replicas > 1 (StreamReplicasNotSupported) when it adds a stream in
    // non-clustered mode; on update it accepts the number and reports it. Set this to accept.
    bool allow_replicas = false;
};

// checkStreamCfg of nats-server 2.9.10 (non-clustered, single account, no JetStream domain),
// followed by addStream's num_replicas > 1 check: fills the defaults (storage file, replicas 1,
// 0 limits -> -1, duplicate_window 2 min or max_age when smaller and set, subjects [name] when
// empty and neither mirror nor sources, republish src ">" when empty, mirror_direct from the
// mirror's origin) and returns the first error Go would return, with its exact text.
[[nodiscard]] std::expected<StreamConfig, ApiError> check_stream_config(
    StreamConfig config, bool max_bytes_required = false);
[[nodiscard]] std::expected<StreamConfig, ApiError> check_stream_config(
    StreamConfig config, const StreamCheckOptions& options);

// configUpdateCheck of nats-server 2.9.10, after its own checkStreamCfg: the name, storage,
// retention and max_consumers cannot change, template-owned streams cannot be updated, sealed,
// deny_delete and deny_purge only go from false to true, mirror and republish cannot change
// (StreamInvalidConfig with Go's texts; a mirror change is StreamMirrorNotUpdatable).
// `old_config` and `new_config` have both passed check_stream_config.
[[nodiscard]] std::optional<ApiError> check_stream_update(const StreamConfig& old_config,
                                                          const StreamConfig& new_config);
// check_stream_update, then the adjustments nats-server makes to the config it stores: a
// sealed stream gets max_age 0, discard new, deny_delete, deny_purge and no rollups.
[[nodiscard]] std::expected<StreamConfig, ApiError> updated_stream_config(
    const StreamConfig& old_config, StreamConfig new_config);

// The config as nats-server serialises it in StreamInfo.config: same names, omitempty rules,
// enums as "limits"/"interest"/"workqueue", "old"/"new", "file"/"memory", durations in ns.
// nlohmann::json sorts the members; to_ordered_json keeps Go's field order, and
// go_marshal(to_ordered_json(c)) gives nats-server's bytes.
nlohmann::json to_json(const StreamConfig& config);
nlohmann::ordered_json to_ordered_json(const StreamConfig& config);

// For an idempotent CREATE: reflect.DeepEqual of two checked configs, as addStream compares
// them. Like nats-server 2.9.10, two configs that both have sources are never the same (Go's
// stored sources carry an internal index name that a new request lacks), so creating a
// sourcing stream twice gives StreamNameExist there and here.
bool same_config(const StreamConfig& a, const StreamConfig& b);

// True if any subject of `a` overlaps (wildcard-aware, like nats-server's SubjectsCollide) any
// of `b`.
bool subjects_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b);
// nats-server's SubjectsCollide: could one literal subject match both?
bool subjects_collide(std::string_view subject_a, std::string_view subject_b);

// A subject transform as nats-server's newTransform builds it, for republish: each destination
// token is a literal or maps the source's wildcards ($N, {{wildcard(N)}}, {{partition(n,...)}},
// {{splitFromLeft(N,p)}}, {{splitFromRight}}, {{sliceFromLeft}}, {{sliceFromRight}},
// {{split(N,delim)}}); a trailing ">" carries the rest of the subject over.
class SubjectTransform {
public:
    enum class Function : uint8_t {
        kWildcard, kPartition, kSplitFromLeft, kSplitFromRight, kSliceFromLeft, kSliceFromRight, kSplit
    };

    // Nothing when 2.10's NewSubjectTransform refuses the pair (not strict: not every wildcard
    // of the source need be used).
    static std::optional<SubjectTransform> make(std::string_view source, std::string_view destination);
    // transform.Match: the destination for literal `subject`, or nothing when it does not
    // match the source.
    std::optional<std::string> apply(std::string_view subject) const;

private:
    struct Token {
        bool literal = true;
        std::string text;                    // a literal token
        Function function = Function::kWildcard;
        std::vector<size_t> source_indexes;  // the subject's tokens it reads
        int64_t int_arg = 0;
        std::string string_arg;
    };
    std::string source_;
    std::string destination_;
    size_t source_token_count_ = 0;
    bool full_wildcard_ = false;
    std::vector<Token> tokens_;  // empty: the destination as it is
};

}  // namespace ringtail::proto::js
