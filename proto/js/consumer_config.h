#pragma once

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "proto/js/api.h"
#include "proto/js/stream_config.h"

// ConsumerConfig of nats-server 2.9.10 (server/consumer.go): parsing a CONSUMER.CREATE body the
// way Go's json.Unmarshal does, the checks of jsConsumerCreateRequest, the defaults of
// setConsumerConfigDefaults and the checks of checkConsumerCfg, the update rules of
// checkNewConsumerConfig, and the JSON nats-server writes in ConsumerInfo.config. Newer fields
// that clients send are accepted as nats-server 2.10/2.11 handles them: filter_subjects,
// metadata, pause_until and the request's "action".
//
// The order on $JS.API.CONSUMER.CREATE.<stream>, .CREATE.<stream>.<consumer>[.<filter>] and
// $JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable> in nats-server (jsConsumerCreateRequest,
// then addConsumerWithAssignment), for the core to follow:
//   parse_consumer_create_request -> check_consumer_create(subject) (the account's JetStream
//   check sits between its DURABLE token-count check and the rest; a core with one account
//   has nothing to do there) -> no such stream: StreamNotFound -> check_consumer_config (defaults,
//   then checkConsumerCfg) -> a consumer named consumer_name(config) exists:
//   updated_consumer_config(existing, config, action, bound) and reply with it -> else
//   check_consumer_absent(action) -> as many consumers (direct ones not counted) as the
//   smaller of the stream's and the account's max_consumers, where set: MaximumConsumersLimit
//   -> check_work_queue_consumer -> check_consumer_name -> create with
//   created_consumer_config(config).
// Errors are passed on as they are: every error here is already what nats-server puts in the
// reply (its plain Go errors arrive as ConsumerCreate, 500 10012, with their text).
//
// Differences from nats-server 2.9.10:
// - An update that keeps opt_start_time passes when the instant is unchanged. 2.9.10 compares
//   the two *time.Time pointers, so every update of a consumer with a start time fails with
//   "start time can not be updated" unless the whole config is unchanged; 2.10 fixed this.
// - The newer fields are ignored by 2.9.10. Here they are read when well formed and, like
//   stream metadata, ignored when not (nats-server 2.10+ answers InvalidJSON), and checked as
//   2.10/2.11 checks them (see check_consumer_config).
// - An opt_start_time after 2262 starts after every message, one before 1678 at the first
//   (int64 nanoseconds saturate; 2.9.10's overflow delivers everything for the first and
//   nothing for the second).
// - Go's reflect.DeepEqual tells a nil backoff, filter_subjects or metadata from an empty one;
//   == here does not (nats-server only sees the difference in "action":"create" after a
//   restart).
namespace ringtail::proto::js {

enum class DeliverPolicy : uint8_t {
    kAll,
    kLast,
    kNew,
    kByStartSequence,
    kByStartTime,
    kLastPerSubject
};
enum class AckPolicy : uint8_t { kNone, kAll, kExplicit };
enum class ReplayPolicy : uint8_t { kInstant, kOriginal };
// The create request's "action" (nats-server 2.10): "" creates or updates, "update" only
// updates, "create" only creates (or repeats an identical create).
enum class ConsumerAction : uint8_t { kCreateOrUpdate, kUpdate, kCreate };

struct ConsumerConfig {  // every field of nats-server 2.9.10's ConsumerConfig, in its order
    std::string durable_name, name, description;
    DeliverPolicy deliver_policy = DeliverPolicy::kAll;
    uint64_t opt_start_seq = 0;
    // Go's *time.Time: has_opt_start_time false is nil. The instant in Unix nanoseconds (Go's
    // zero time is 0, as in parse_rfc3339; a year past 2262 or before 1678 the largest or
    // smallest int64) and the UTC offset the client wrote it with, which nats-server keeps and
    // writes back ("2024-01-02T03:04:05+02:00"). The text is that written-back form, when the
    // time came from one (decode_consumer_config).
    bool has_opt_start_time = false;
    int64_t opt_start_time_ns = 0;
    int32_t opt_start_time_utc_offset_s = 0;
    std::string opt_start_time_text;
    AckPolicy ack_policy = AckPolicy::kNone;
    int64_t ack_wait_ns = 0;
    int64_t max_deliver = 0;
    std::vector<int64_t> backoff_ns;
    std::string filter_subject;
    ReplayPolicy replay_policy = ReplayPolicy::kInstant;
    uint64_t rate_limit_bps = 0;
    std::string sample_freq;
    int64_t max_waiting = 0;
    int64_t max_ack_pending = 0;
    int64_t idle_heartbeat_ns = 0;
    bool flow_control = false, headers_only = false;
    // Pull consumers: max_batch, max_expires, max_bytes of a pull request.
    int64_t max_batch = 0, max_expires_ns = 0, max_bytes = 0;
    // Push consumers.
    std::string deliver_subject, deliver_group;
    int64_t inactive_threshold_ns = 0;
    int64_t num_replicas = 0;  // 0: as the stream (nats-server writes the 0 back)
    bool mem_storage = false, direct = false;
    // Newer than 2.9.10 (written only when set):
    std::vector<std::string> filter_subjects;     // 2.10, instead of filter_subject
    std::map<std::string, std::string> metadata;  // 2.10
    int64_t pause_until_ns = 0;  // 2.11, Unix nanoseconds, 0: not paused; written in UTC

    bool operator==(const ConsumerConfig&) const = default;
};

struct ConsumerCreateRequest {  // CreateConsumerRequest
    std::string stream_name;
    ConsumerConfig config;
    ConsumerAction action = ConsumerAction::kCreateOrUpdate;
    // Whether the body had a "config" object. nats-server does not look: a missing config is
    // the zero config (ConsumerConfigRequired is never sent by its create handler).
    bool has_config = false;

    bool operator==(const ConsumerCreateRequest&) const = default;
};

// Parses a CONSUMER.CREATE request body like Go's json.Unmarshal into CreateConsumerRequest,
// with the rules and the documented differences of parse_stream_config (unknown fields
// ignored, case-insensitive keys, the last of duplicate keys wins, null leaves a field alone,
// integers must be integral and in range); a repeated "config" object merges into the first.
// The enums take their exact strings ("all" "last" "new" "by_start_sequence" "by_start_time"
// "last_per_subject", and "undefined" as "all"; "none" "all" "explicit"; "instant"
// "original"); anything else, null included, is an error, as their UnmarshalJSON methods make
// it. opt_start_time is an RFC 3339 string or null. Any failure gives InvalidJSON (400 10025).
// "action" is "", "create" or "update"; filter_subjects a list of strings, metadata an object
// of strings, pause_until an RFC 3339 string; a value of another shape leaves the field unset.
[[nodiscard]] std::expected<ConsumerCreateRequest, ApiError> parse_consumer_create_request(
    std::string_view body);

// Consumer fields of later nats-server versions (2.11 and on) that this server does not do:
// priority_groups, priority_policy other than "none", priority_timeout. A request using one is
// refused (ConsumerCreate, naming the field) rather than accepted and not applied.
[[nodiscard]] std::optional<ApiError> refuse_newer_consumer_fields(std::string_view body);

// The checks jsConsumerCreateRequest makes before it looks up the stream, in its order, and
// the config it goes on with. `subject` is one the handler subscribes to, so it has at least
// five tokens. Its forms: $JS.API.CONSUMER.CREATE.<stream> (legacy ephemeral),
// $JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable> (legacy durable) and
// $JS.API.CONSUMER.CREATE.<stream>.<consumer>[.<filter>] (named; the name is copied into
// config.name). The checks: DURABLE with other than seven tokens
// (ConsumerDurableNameNotInSubject); stream name against request.stream_name (StreamMismatch);
// '/' or '\' in the subject's consumer name (ConsumerNameContainsPathSeparators); a legacy
// durable without durable_name (ConsumerDurableNameNotSet) or with another one
// (ConsumerDurableNameNotMatchSubject); a named create whose durable_name differs
// (ConsumerDurableNameNotMatchSubject); a legacy ephemeral with a durable_name
// (ConsumerEphemeralWithDurableName); a subject filter with filter_subjects
// (ConsumerMultipleFiltersNotAllowed, 2.10) or unlike filter_subject
// (ConsumerCreateFilterSubjectMismatch); num_replicas > 1 (StreamReplicasNotSupported). Like
// 2.9.10, a filter of one token in the subject is not compared (2.10 compares it too).
[[nodiscard]] std::expected<ConsumerConfig, ApiError> check_consumer_create(
    std::string_view subject, const ConsumerCreateRequest& request);

// What check_consumer_config may need to know about the server and the account.
struct ConsumerCheckOptions {
    // The server's jetstream { limits { max_ack_pending, max_request_batch } } (0: none).
    int64_t server_max_ack_pending = 0;
    int64_t server_max_request_batch = 0;
    // The account's JetStream limit max_ack_pending (0: none).
    int64_t account_max_ack_pending = 0;
    // Looks up another stream of the account by name (nullptr if there is none). A filter on a
    // stream that mirrors or sources may name the subjects of its origins (and theirs); an
    // external origin allows any filter. Without it, every origin counts as absent.
    std::function<const StreamConfig*(std::string_view name)> find_stream;
    // An origin find_stream does not see allows any filter, as an external one: for a lookup
    // that sees only some of the account's streams, after a check that saw them all.
    bool unseen_origin_allows_any = false;
    // Set while recovering consumers at startup: filter subjects are not checked.
    bool recovering = false;
};

// setConsumerConfigDefaults of nats-server 2.9.10:
//   max_waiting 512 for a pull consumer that sets none (JSWaitQueueDefaultMax, jetstream_api.go);
//   ack_wait 30 s for ack explicit/all that sets none (JsAckWaitDefault, consumer.go);
//   max_deliver -1 for 0 (no limit);
//   ack_wait = backoff[0] when backoff is set;
//   max_ack_pending 1000 for ack explicit/all that sets none (JsDefaultMaxAckPending,
//     consumer.go), or the server's or the account's max_ack_pending limit when smaller;
//   max_batch = the server's max_request_batch limit for a pull consumer that sets none.
// inactive_threshold is not defaulted here: see created_consumer_config.
void set_consumer_defaults(ConsumerConfig& config, const ConsumerCheckOptions& options = {});

// set_consumer_defaults, then checkConsumerCfg of nats-server 2.9.10 against the parent stream
// (a checked StreamConfig): returns the config nats-server goes on with, or the first error Go
// returns, with its exact text. Where 2.9.10 checks filter_subject, the 2.10 filter_subjects are
// checked too, as 2.10/2.11 do: not both (ConsumerDuplicateFilterSubjects), each as
// filter_subject is checked (ConsumerFilterNotSubset), none empty (ConsumerEmptyFilter), none
// overlapping another (ConsumerOverlappingSubjectFilters); last_per_subject accepts either; and
// metadata is limited to 128 KB of keys and values (ConsumerMetadataLength, JSMaxMetadataLen).
[[nodiscard]] std::expected<ConsumerConfig, ApiError> check_consumer_config(
    ConsumerConfig config, const StreamConfig& stream, const ConsumerCheckOptions& options = {});

// A create request's checks up to the consumer lookup, in nats-server's order:
// parse_consumer_create_request, refuse_newer_consumer_fields, check_consumer_create(subject),
// check_consumer_config against its stream. The request and its checked config, or the first
// error.
struct CheckedConsumerCreate {
    ConsumerCreateRequest request;
    ConsumerConfig config;
};
[[nodiscard]] std::expected<CheckedConsumerCreate, ApiError> check_consumer_create_request(
    std::string_view subject, std::string_view body, const StreamConfig& stream,
    const ConsumerCheckOptions& options = {});

// The name under which addConsumer looks the consumer up and stores it: durable_name, else
// name; empty for a legacy ephemeral, whose name the core generates (nats-server then stores
// the config without it, as ConsumerInfo.config shows).
std::string_view consumer_name(const ConsumerConfig& config);

// sample_freq as the percentage of acks sampled ("50%" or "50"; 0 when empty or not a number).
int64_t sample_percent(const ConsumerConfig& config);

// 2.10's "action" when no consumer named consumer_name(config) exists: "update" gives
// ConsumerDoesNotExist.
[[nodiscard]] std::optional<ApiError> check_consumer_absent(ConsumerAction action);

// Whether the existing consumer `old_config` may become `new_config` (both checked). 2.10's
// "create" first: a config unlike the stored one gives ConsumerAlreadyExists. Then
// checkNewConsumerConfig of 2.9.10, in its order: an identical config passes; deliver_policy,
// opt_start_seq, opt_start_time, ack_policy, replay_policy, idle_heartbeat, flow_control and
// max_waiting cannot change (ConsumerCreate with Go's text, e.g. "ack policy can not be
// updated"); a push consumer cannot become pull or the reverse; the deliver subject may change
// only while nobody listens on the old one (`deliver_subject_has_interest`: ConsumerNameExist);
// backoff needs max_deliver > its length. Everything else may change, durable_name and
// filter_subject included. pause_until is compared as updated_consumer_config sets it.
[[nodiscard]] std::optional<ApiError> check_consumer_update(
    const ConsumerConfig& old_config, const ConsumerConfig& new_config,
    ConsumerAction action = ConsumerAction::kCreateOrUpdate,
    bool deliver_subject_has_interest = false);

// check_consumer_update, then the config nats-server stores: pause_until stays as it was (2.11
// changes it only through CONSUMER.PAUSE), and an ephemeral (judged by the old config) whose
// inactive_threshold is not positive gets the 5 s default, as updateInactiveThreshold stamps it.
[[nodiscard]] std::expected<ConsumerConfig, ApiError> updated_consumer_config(
    const ConsumerConfig& old_config, ConsumerConfig new_config,
    ConsumerAction action = ConsumerAction::kCreateOrUpdate,
    bool deliver_subject_has_interest = false);

// The work-queue rules of addConsumerWithAssignment, for a new consumer (not an update) on a
// work-queue stream; nothing for other streams or a direct consumer. ack_policy must be
// explicit (ConsumerWQRequiresExplicitAck); when the stream has other consumers, the new one
// needs a filter (ConsumerWQMultipleUnfiltered) that neither contains nor is contained in
// another's filter (ConsumerWQConsumerNotUnique; a consumer without a filter takes everything;
// only logged when recovering); deliver_policy must be all (ConsumerWQConsumerNotDeliverAll).
// filter_subjects count as filters, each compared like filter_subject.
[[nodiscard]] std::optional<ApiError> check_work_queue_consumer(
    const ConsumerConfig& config, const StreamConfig& stream,
    std::span<const ConsumerConfig* const> others, bool recovering = false);

// The name checks addConsumerWithAssignment makes last: a durable_name over 255 bytes
// (ConsumerNameTooLong, JSMaxNameLen), then a consumer_name with whitespace, '.', '*' or '>'
// (ConsumerBadDurableName). An empty name passes (the core generates one). A longer name
// without durable_name passes too; nats-server's file store then fails to create a directory
// of that name and answers ConsumerCreate "error creating store for consumer".
[[nodiscard]] std::optional<ApiError> check_consumer_name(const ConsumerConfig& config);

// The config nats-server stores for a new consumer: an ephemeral whose inactive_threshold is
// not positive gets 5 s (JsDeleteWaitTimeDefault, consumer.go; the jitter nats-server adds to
// its timer is not in the config).
[[nodiscard]] ConsumerConfig created_consumer_config(ConsumerConfig config);

// The config as nats-server serialises it in ConsumerInfo.config: Go's field names and order,
// omitempty as in 2.9.10 (num_replicas, deliver_policy, ack_policy and replay_policy always),
// durations in ns, opt_start_time as RFC 3339 with its offset, filter_subjects after
// filter_subject and metadata, pause_until after direct, only when set. nlohmann::json sorts
// the members; go_marshal(to_ordered_json(c)) gives nats-server's bytes.
nlohmann::json to_json(const ConsumerConfig& config);
nlohmann::ordered_json to_ordered_json(const ConsumerConfig& config);

}  // namespace ringtail::proto::js
