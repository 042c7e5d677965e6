#include "proto/js/consumer_config.h"

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <set>
#include <utility>

#include "base/assert.h"
#include "proto/js/config_common.h"
#include "proto/subject.h"

namespace ringtail::proto::js {
namespace {

using internal::decode_object;
using internal::get_bool;
using internal::get_int64;
using internal::get_string;
using internal::get_uint64;
using internal::Json;
using internal::OrderedJson;
using internal::subject_is_literal;
using internal::subject_is_subset_match;
using internal::tokenize;

constexpr int64_t kMaxNameBytes = 255;             // JSMaxNameLen (jetstream_api.go)
constexpr int64_t kMaxDescriptionBytes = 4096;     // JSMaxDescriptionLen (jetstream_api.go)
constexpr int64_t kMaxMetadataBytes = 128 * 1024;  // JSMaxMetadataLen (2.10 jetstream_api.go)
constexpr int64_t kMillisecondNs = 1'000'000;
constexpr int64_t kSecondNs = 1'000'000'000;
constexpr int64_t kWaitQueueDefaultMax = 512;            // JSWaitQueueDefaultMax (jetstream_api.go)
constexpr int64_t kAckWaitDefaultNs = 30 * kSecondNs;    // JsAckWaitDefault (consumer.go)
constexpr int64_t kDefaultMaxAckPending = 1000;          // JsDefaultMaxAckPending (consumer.go)
constexpr int64_t kDeleteWaitDefaultNs = 5 * kSecondNs;  // JsDeleteWaitTimeDefault (consumer.go)
constexpr int64_t kHeartbeatMinNs = 100 * kMillisecondNs;
constexpr int64_t kRequestExpiresMinNs = kMillisecondNs;
// Tokens of the create subjects: $JS.API.CONSUMER.CREATE.<stream>[.<consumer>[.<filter>...]]
// and $JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable>.
constexpr size_t kLegacyEphemeralTokens = 5;
constexpr size_t kLegacyDurableTokens = 7;

// ---------------------------------------------------------------------------------------------
// Decoding like json.Unmarshal into CreateConsumerRequest.

// The enums' UnmarshalJSON methods (server/store.go): exact strings; null and any other type are
// errors. DeliverPolicy also takes "undefined", what its MarshalJSON writes for unknown values.
bool decode_deliver_policy(const OrderedJson& value, DeliverPolicy& out) {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    if (text == "all" || text == "undefined") {
        out = DeliverPolicy::kAll;
    } else if (text == "last") {
        out = DeliverPolicy::kLast;
    } else if (text == "last_per_subject") {
        out = DeliverPolicy::kLastPerSubject;
    } else if (text == "new") {
        out = DeliverPolicy::kNew;
    } else if (text == "by_start_sequence") {
        out = DeliverPolicy::kByStartSequence;
    } else if (text == "by_start_time") {
        out = DeliverPolicy::kByStartTime;
    } else {
        return false;
    }
    return true;
}

bool decode_ack_policy(const OrderedJson& value, AckPolicy& out) {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    if (text == "none") {
        out = AckPolicy::kNone;
    } else if (text == "all") {
        out = AckPolicy::kAll;
    } else if (text == "explicit") {
        out = AckPolicy::kExplicit;
    } else {
        return false;
    }
    return true;
}

bool decode_replay_policy(const OrderedJson& value, ReplayPolicy& out) {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    if (text == "instant") {
        out = ReplayPolicy::kInstant;
    } else if (text == "original") {
        out = ReplayPolicy::kOriginal;
    } else {
        return false;
    }
    return true;
}

// *time.Time: null makes it nil; otherwise an RFC 3339 string (time.Time's UnmarshalJSON).
bool decode_opt_start_time(const OrderedJson& value, ConsumerConfig& config) {
    if (value.is_null()) {
        config.has_opt_start_time = false;
        config.opt_start_time_ns = 0;
        config.opt_start_time_utc_offset_s = 0;
        return true;
    }
    if (!value.is_string()) return false;
    const std::string& text = value.get_ref<const std::string&>();
    std::optional<std::string> normal = normalize_rfc3339(text);
    if (!normal) return false;
    int32_t offset_s = 0;
    std::optional<int64_t> time_ns = parse_rfc3339(text, offset_s);
    if (!time_ns) {
        // Well formed, but beyond int64 nanoseconds of the Unix epoch either way.
        time_ns = *normal < "1970" ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
    }
    config.has_opt_start_time = true;
    config.opt_start_time_ns = *time_ns;
    config.opt_start_time_utc_offset_s = offset_s;
    config.opt_start_time_text = std::move(*normal);
    return true;
}

// []time.Duration: null makes the slice nil, a null element is 0.
bool decode_durations(const OrderedJson& value, std::vector<int64_t>& out) {
    if (value.is_null()) {
        out.clear();
        return true;
    }
    if (!value.is_array()) return false;
    std::vector<int64_t> durations;
    for (const OrderedJson& element : value) {
        int64_t duration_ns = 0;
        if (!get_int64(element, duration_ns)) return false;
        durations.push_back(duration_ns);
    }
    out = std::move(durations);
    return true;
}

// The newer fields: taken when well formed, otherwise ignored, as 2.9.10 ignores them.

bool decode_filter_subjects(const OrderedJson& value, std::vector<std::string>& out) {
    Json list;
    if (!internal::get_string_list(value, list)) return true;
    out.clear();
    if (list.is_array()) {
        for (const Json& filter : list) out.push_back(filter.get<std::string>());
    }
    return true;
}

// map[string]string: an object's members are added to the map (Go keeps existing entries).
bool decode_metadata(const OrderedJson& value, std::map<std::string, std::string>& out) {
    if (value.is_null()) {
        out.clear();
        return true;
    }
    if (!value.is_object()) return true;
    for (const auto& item : value.items()) {
        if (!item.value().is_string()) return true;
    }
    for (const auto& item : value.items()) out[item.key()] = item.value().get<std::string>();
    return true;
}

// A well-formed time beyond int64 nanoseconds is clamped: a pause until the year 9999 stays a
// pause until the end of int64 time (2262), one that ended before 1678 is no pause.
bool decode_pause_until(const OrderedJson& value, int64_t& out) {
    if (value.is_null()) {
        out = 0;
        return true;
    }
    if (!value.is_string()) return true;
    const auto& text = value.get_ref<const std::string&>();
    if (std::optional<int64_t> time_ns = parse_rfc3339(text)) {
        out = *time_ns;
    } else if (normalize_rfc3339(text)) {
        out = text < "1970" ? 0 : std::numeric_limits<int64_t>::max();
    }
    return true;
}

bool decode_action(const OrderedJson& value, ConsumerAction& out) {
    if (!value.is_string()) return true;
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty()) {
        out = ConsumerAction::kCreateOrUpdate;
    } else if (text == "update") {
        out = ConsumerAction::kUpdate;
    } else if (text == "create") {
        out = ConsumerAction::kCreate;
    }
    return true;
}

using ConfigField = std::pair<std::string_view, bool (*)(const OrderedJson&, ConsumerConfig&)>;

// ConsumerConfig's json tags (server/consumer.go), folded to lower case, then the newer ones.
const ConfigField kConfigFields[] = {
    {"durable_name",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_string(v, c.durable_name); }},
    {"name", [](const OrderedJson& v, ConsumerConfig& c) { return get_string(v, c.name); }},
    {"description",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_string(v, c.description); }},
    {"deliver_policy",
     [](const OrderedJson& v, ConsumerConfig& c) {
         return decode_deliver_policy(v, c.deliver_policy);
     }},
    {"opt_start_seq",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_uint64(v, c.opt_start_seq); }},
    {"opt_start_time", decode_opt_start_time},
    {"ack_policy",
     [](const OrderedJson& v, ConsumerConfig& c) { return decode_ack_policy(v, c.ack_policy); }},
    {"ack_wait",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.ack_wait_ns); }},
    {"max_deliver",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.max_deliver); }},
    {"backoff",
     [](const OrderedJson& v, ConsumerConfig& c) { return decode_durations(v, c.backoff_ns); }},
    {"filter_subject",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_string(v, c.filter_subject); }},
    {"replay_policy", [](const OrderedJson& v,
                         ConsumerConfig& c) { return decode_replay_policy(v, c.replay_policy); }},
    {"rate_limit_bps",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_uint64(v, c.rate_limit_bps); }},
    {"sample_freq",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_string(v, c.sample_freq); }},
    {"max_waiting",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.max_waiting); }},
    {"max_ack_pending",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.max_ack_pending); }},
    {"idle_heartbeat",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.idle_heartbeat_ns); }},
    {"flow_control",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_bool(v, c.flow_control); }},
    {"headers_only",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_bool(v, c.headers_only); }},
    {"max_batch",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.max_batch); }},
    {"max_expires",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.max_expires_ns); }},
    {"max_bytes",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.max_bytes); }},
    {"deliver_subject",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_string(v, c.deliver_subject); }},
    {"deliver_group",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_string(v, c.deliver_group); }},
    {"inactive_threshold",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.inactive_threshold_ns); }},
    {"num_replicas",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_int64(v, c.num_replicas); }},
    {"mem_storage",
     [](const OrderedJson& v, ConsumerConfig& c) { return get_bool(v, c.mem_storage); }},
    {"direct", [](const OrderedJson& v, ConsumerConfig& c) { return get_bool(v, c.direct); }},
    {"filter_subjects",
     [](const OrderedJson& v, ConsumerConfig& c) {
         return decode_filter_subjects(v, c.filter_subjects);
     }},
    {"metadata",
     [](const OrderedJson& v, ConsumerConfig& c) { return decode_metadata(v, c.metadata); }},
    {"pause_until", [](const OrderedJson& v,
                       ConsumerConfig& c) { return decode_pause_until(v, c.pause_until_ns); }},
};

using RequestField =
    std::pair<std::string_view, bool (*)(const OrderedJson&, ConsumerCreateRequest&)>;

// CreateConsumerRequest's json tags; "action" is 2.10's.
const RequestField kRequestFields[] = {
    {"stream_name",
     [](const OrderedJson& v, ConsumerCreateRequest& r) { return get_string(v, r.stream_name); }},
    {"config",
     [](const OrderedJson& v, ConsumerCreateRequest& r) {
         if (v.is_null()) return true;
         r.has_config = true;
         return decode_object(v, kConfigFields, r.config);  // a second "config" merges
     }},
    {"action",
     [](const OrderedJson& v, ConsumerCreateRequest& r) { return decode_action(v, r.action); }},
};

// ---------------------------------------------------------------------------------------------
// checkConsumerCfg, step by step.

bool is_pull(const ConsumerConfig& config) { return config.deliver_subject.empty(); }
bool is_durable(const ConsumerConfig& config) { return !config.durable_name.empty(); }
bool acks(const ConsumerConfig& config) {
    return config.ack_policy == AckPolicy::kExplicit || config.ack_policy == AckPolicy::kAll;
}

// isValidName (jetstream.go).
bool is_valid_name(std::string_view name) {
    return !name.empty() && name.find_first_of(" \t\r\n\f.*>") == std::string_view::npos;
}

std::string_view member_string(const Json& object, const char* key) {
    if (!object.is_object()) return {};
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) return {};
    return it->get_ref<const std::string&>();
}

bool is_external(const Json& source) {
    if (!source.is_object()) return false;
    auto it = source.find("external");
    return it != source.end() && it->is_object();
}

struct OriginSubjects {
    std::vector<std::string> subjects;
    bool has_external = false;
};

void add_source_subjects(const Json& source, const ConsumerCheckOptions& options,
                         std::set<std::string, std::less<>>& seen, OriginSubjects& out);

// streamSourceSubjectsNotClustered: the subjects of stream `name` and, recursively, of its
// origins. `seen` bounds the walk by the number of streams. Like nats-server, among sources
// only the last one's external flag counts, and the walk stops at the first external one.
void add_stream_subjects(std::string_view name, const ConsumerCheckOptions& options,
                         std::set<std::string, std::less<>>& seen, OriginSubjects& out) {
    if (seen.contains(name)) return;
    const StreamConfig* origin = options.find_stream ? options.find_stream(name) : nullptr;
    if (origin == nullptr) {
        out.has_external = out.has_external || options.unseen_origin_allows_any;
        return;
    }
    seen.emplace(name);
    out.subjects.insert(out.subjects.end(), origin->subjects.begin(), origin->subjects.end());
    if (origin->mirror.is_object()) {
        add_source_subjects(origin->mirror, options, seen, out);
    } else if (origin->sources.is_array()) {
        for (const Json& source : origin->sources) {
            out.has_external = false;
            add_source_subjects(source, options, seen, out);
            if (out.has_external) break;
        }
    }
}

// streamSourceSubjects: an external origin allows any filter.
void add_source_subjects(const Json& source, const ConsumerCheckOptions& options,
                         std::set<std::string, std::less<>>& seen, OriginSubjects& out) {
    if (is_external(source)) {
        out.has_external = true;
        return;
    }
    add_stream_subjects(member_string(source, "name"), options, seen, out);
}

// gatherSourceMirrorSubjects: the stream's subjects and those of its origins.
OriginSubjects gather_subjects(const StreamConfig& stream, const ConsumerCheckOptions& options) {
    OriginSubjects gathered{stream.subjects, false};
    if (options.recovering) {
        gathered.has_external = true;  // nats-server skips the filter check when recovering
        return gathered;
    }
    std::set<std::string, std::less<>> seen;
    if (stream.mirror.is_object()) {
        OriginSubjects origin;
        add_source_subjects(stream.mirror, options, seen, origin);
        gathered.subjects.insert(gathered.subjects.end(), origin.subjects.begin(),
                                 origin.subjects.end());
        gathered.has_external = origin.has_external;
    } else if (stream.sources.is_array()) {
        for (const Json& source : stream.sources) {
            OriginSubjects origin;
            add_source_subjects(source, options, seen, origin);
            gathered.subjects.insert(gathered.subjects.end(), origin.subjects.begin(),
                                     origin.subjects.end());
            gathered.has_external = gathered.has_external || origin.has_external;
        }
    }
    return gathered;
}

// validFilteredSubject: the filter is valid and lies within a subject, or (with a wildcard)
// spans one.
bool valid_filtered_subject(std::string_view filter, const std::vector<std::string>& subjects) {
    if (!is_valid_subject(filter)) return false;
    bool has_wildcard = !subject_is_literal(filter);
    return std::any_of(subjects.begin(), subjects.end(), [&](const std::string& subject) {
        return subject_is_subset_match(filter, subject) ||
               (has_wildcard && subject_is_subset_match(subject, filter));
    });
}

std::optional<ApiError> check_push(const ConsumerConfig& config, const StreamConfig& stream) {
    if (!subject_is_literal(config.deliver_subject)) return ConsumerDeliverToWildcards();
    if (!is_valid_subject(config.deliver_subject)) return ConsumerInvalidDeliverSubject();
    // deliveryFormsCycle
    for (const std::string& subject : stream.subjects) {
        if (subject_is_subset_match(config.deliver_subject, subject)) {
            return ConsumerDeliverCycle();
        }
    }
    if (config.max_waiting != 0) return ConsumerPushMaxWaiting();
    if (config.max_ack_pending > 0 && config.ack_policy == AckPolicy::kNone) {
        return ConsumerMaxPendingAckPolicyRequired();
    }
    if (config.idle_heartbeat_ns > 0 && config.idle_heartbeat_ns < kHeartbeatMinNs) {
        return ConsumerSmallHeartbeat();
    }
    return std::nullopt;
}

std::optional<ApiError> check_pull(const ConsumerConfig& config, const StreamConfig& stream,
                                   const ConsumerCheckOptions& options) {
    if (config.ack_policy == AckPolicy::kNone && stream.retention == Retention::kWorkQueue) {
        return ConsumerPullRequiresAck();
    }
    if (config.rate_limit_bps > 0) return ConsumerPullWithRateLimit();
    if (config.max_waiting < 0) return ConsumerMaxWaitingNegative();
    if (config.idle_heartbeat_ns > 0) return ConsumerHBRequiresPush();
    if (config.flow_control) return ConsumerFCRequiresPush();
    if (config.max_batch < 0) return ConsumerMaxRequestBatchNegative();
    if (config.max_expires_ns != 0 && config.max_expires_ns < kRequestExpiresMinNs) {
        return ConsumerMaxRequestExpiresToSmall();
    }
    const int64_t batch_limit = options.server_max_request_batch;
    if (batch_limit > 0 && config.max_batch > batch_limit) {
        return ConsumerMaxRequestBatchExceeded(batch_limit);
    }
    return std::nullopt;
}

// filter_subject as 2.9.10 checks it; filter_subjects as 2.10 adds them.
std::optional<ApiError> check_filters(const ConsumerConfig& config, const StreamConfig& stream,
                                      const ConsumerCheckOptions& options) {
    if (!config.filter_subject.empty() && !config.filter_subjects.empty()) {
        return ConsumerDuplicateFilterSubjects();
    }
    if (config.filter_subject.empty() && config.filter_subjects.empty()) return std::nullopt;
    for (const std::string& filter : config.filter_subjects) {
        if (filter.empty()) return ConsumerEmptyFilter();
    }
    OriginSubjects gathered = gather_subjects(stream, options);
    auto valid = [&](const std::string& filter) {
        return gathered.has_external || valid_filtered_subject(filter, gathered.subjects);
    };
    if (!config.filter_subject.empty() && !valid(config.filter_subject)) {
        return ConsumerFilterNotSubset();
    }
    if (!std::all_of(config.filter_subjects.begin(), config.filter_subjects.end(), valid)) {
        return ConsumerFilterNotSubset();
    }
    const std::vector<std::string>& filters = config.filter_subjects;
    for (size_t outer = 0; outer < filters.size(); ++outer) {
        for (size_t inner = 0; inner < filters.size(); ++inner) {
            if (inner != outer && subjects_collide(filters[outer], filters[inner])) {
                return ConsumerOverlappingSubjectFilters();
            }
        }
    }
    return std::nullopt;
}

std::string_view deliver_policy_words(DeliverPolicy policy) {
    switch (policy) {
        case DeliverPolicy::kAll:
            return "all";
        case DeliverPolicy::kLast:
            return "last";
        case DeliverPolicy::kNew:
            return "new";
        case DeliverPolicy::kByStartSequence:
            return "by start sequence";
        case DeliverPolicy::kByStartTime:
            return "by start time";
        case DeliverPolicy::kLastPerSubject:
            return "last per subject";
    }
    return "all";
}

// The start-position conflicts, with nats-server's two sentence shapes (its "start start
// sequence" included).
std::optional<ApiError> check_start(const ConsumerConfig& config) {
    const std::string policy(deliver_policy_words(config.deliver_policy));
    auto bad_start = [&](std::string_view start) {
        return ConsumerInvalidPolicy("consumer delivery policy is deliver " + policy +
                                     ", but optional start " + std::string(start) + " is also set");
    };
    auto not_set = [&](std::string_view what) {
        return ConsumerInvalidPolicy("consumer delivery policy is deliver " + policy +
                                     ", but optional " + std::string(what) + " is not set");
    };
    switch (config.deliver_policy) {
        case DeliverPolicy::kAll:
        case DeliverPolicy::kLast:
        case DeliverPolicy::kNew:
        case DeliverPolicy::kLastPerSubject:
            if (config.opt_start_seq > 0) return bad_start("sequence");
            if (config.has_opt_start_time) return bad_start("time");
            if (config.deliver_policy == DeliverPolicy::kLastPerSubject &&
                config.filter_subject.empty() && config.filter_subjects.empty()) {
                return not_set("filter subject");
            }
            return std::nullopt;
        case DeliverPolicy::kByStartSequence:
            if (config.opt_start_seq == 0) return not_set("start sequence");
            if (config.has_opt_start_time) return bad_start("time");
            return std::nullopt;
        case DeliverPolicy::kByStartTime:
            if (!config.has_opt_start_time) return not_set("start time");
            if (config.opt_start_seq != 0) return bad_start("start sequence");
            return std::nullopt;
    }
    return std::nullopt;
}

// strconv.Atoi's verdict on `text` as nats-server reports it: nullopt for a number, else the
// error text ("strconv.Atoi: parsing \"x\": invalid syntax"). Below 19 bytes Atoi scans for
// digits only; longer input goes through ParseInt, which reports an overflow as soon as it
// happens, before any later bad byte.
std::optional<std::string> atoi_error(std::string_view text) {
    auto error = [&](std::string_view why) {
        return "strconv.Atoi: parsing " + go_quote(text) + ": " + std::string(why);
    };
    std::string_view digits = text;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
        negative = digits[0] == '-';
        digits.remove_prefix(1);
    }
    if (digits.empty()) return error("invalid syntax");
    uint64_t magnitude = 0;
    constexpr uint64_t kMaxUint = std::numeric_limits<uint64_t>::max();
    for (char c : digits) {
        if (c < '0' || c > '9') return error("invalid syntax");
        auto digit = static_cast<uint64_t>(c - '0');
        if (magnitude > (kMaxUint - digit) / 10) return error("value out of range");
        magnitude = magnitude * 10 + digit;
    }
    constexpr auto kMaxInt = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (magnitude > kMaxInt + (negative ? 1 : 0)) return error("value out of range");
    return std::nullopt;
}

std::optional<ApiError> check_sampling(const ConsumerConfig& config) {
    if (config.sample_freq.empty()) return std::nullopt;
    std::string_view text = config.sample_freq;
    if (text.ends_with('%')) text.remove_suffix(1);
    if (std::optional<std::string> error = atoi_error(text)) {
        return ConsumerInvalidSampling(*error);
    }
    // A negative number passes Atoi; nats-server then formats its nil error.
    if (internal::go_atoi(text).value_or(0) < 0) return ConsumerInvalidSampling("<nil>");
    return std::nullopt;
}

std::optional<ApiError> check_all(const ConsumerConfig& config, const StreamConfig& stream,
                                  const ConsumerCheckOptions& options) {
    if (config.num_replicas > 0 && config.num_replicas > stream.num_replicas) {
        return ConsumerReplicasExceedsStream();
    }
    if (config.num_replicas < 0) return ReplicasCountCannotBeNegative();
    const auto backoff_count = static_cast<int64_t>(config.backoff_ns.size());
    if (backoff_count > 0 && config.max_deliver <= backoff_count) {
        return ConsumerMaxDeliverBackoff();
    }
    if (std::cmp_greater(config.description.size(), kMaxDescriptionBytes)) {
        return ConsumerDescriptionTooLong(kMaxDescriptionBytes);
    }
    auto mode_error =
        is_pull(config) ? check_pull(config, stream, options) : check_push(config, stream);
    if (mode_error) return mode_error;
    for (int64_t limit : {options.server_max_ack_pending, options.account_max_ack_pending,
                          stream.consumer_limits_max_ack_pending}) {
        if (limit > 0 && config.max_ack_pending > limit) return ConsumerMaxPendingAckExcess(limit);
    }
    if (int64_t limit = stream.consumer_limits_inactive_threshold_ns; limit > 0 && config.inactive_threshold_ns > limit) {
        return ConsumerInactiveThresholdExcess(limit);
    }
    if (config.direct) {
        if (is_pull(config)) return ConsumerDirectRequiresPush();
        if (is_durable(config)) return ConsumerDirectRequiresEphemeral();
    }
    if (auto error = check_filters(config, stream, options)) return error;
    if (auto error = check_start(config)) return error;
    if (auto error = check_sampling(config)) return error;
    if (config.flow_control && config.idle_heartbeat_ns == 0) {
        return ConsumerWithFlowControlNeedsHeartbeats();
    }
    if (is_durable(config) && !config.name.empty() && config.name != config.durable_name) {
        return ConsumerCreateDurableAndNameMismatch();
    }
    size_t metadata_bytes = 0;
    for (const auto& [key, value] : config.metadata) metadata_bytes += key.size() + value.size();
    if (std::cmp_greater(metadata_bytes, kMaxMetadataBytes)) {
        return ConsumerMetadataLength(std::to_string(kMaxMetadataBytes / 1024) + "KB");
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Go's serialisation.

std::string_view deliver_policy_text(DeliverPolicy policy) {
    switch (policy) {
        case DeliverPolicy::kAll:
            return "all";
        case DeliverPolicy::kLast:
            return "last";
        case DeliverPolicy::kNew:
            return "new";
        case DeliverPolicy::kByStartSequence:
            return "by_start_sequence";
        case DeliverPolicy::kByStartTime:
            return "by_start_time";
        case DeliverPolicy::kLastPerSubject:
            return "last_per_subject";
    }
    return "undefined";
}

std::string_view ack_policy_text(AckPolicy policy) {
    switch (policy) {
        case AckPolicy::kNone:
            return "none";
        case AckPolicy::kAll:
            return "all";
        case AckPolicy::kExplicit:
            return "explicit";
    }
    return "none";
}

std::string_view replay_policy_text(ReplayPolicy policy) {
    switch (policy) {
        case ReplayPolicy::kInstant:
            return "instant";
        case ReplayPolicy::kOriginal:
            return "original";
    }
    return "instant";
}

ApiError cannot_update(std::string_view what) {
    return ConsumerCreate(std::string(what) + " can not be updated");
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::optional<ApiError> refuse_newer_consumer_fields(std::string_view body) {
    nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || !json.contains("config") || !json["config"].is_object()) return std::nullopt;
    const nlohmann::json& config = json["config"];
    auto in_use = [&](const char* field) {
        auto it = config.find(field);
        if (it == config.end() || it->is_null()) return false;
        if (it->is_string()) return !it->get<std::string>().empty() && it->get<std::string>() != "none";
        if (it->is_number()) return it->get<double>() != 0;
        return !it->empty();
    };
    for (const char* field : {"priority_groups", "priority_policy", "priority_timeout"}) {
        if (in_use(field)) return ConsumerCreate(std::string(field) + " is not supported by this ringtail version yet");
    }
    return std::nullopt;
}

std::expected<ConsumerCreateRequest, ApiError> parse_consumer_create_request(
    std::string_view body) {
    std::optional<OrderedJson> document = internal::parse_go_json(body);
    if (!document) return std::unexpected(InvalidJSON());
    ConsumerCreateRequest request;
    if (document->is_null()) return request;  // json.Unmarshal of null is a no-op
    if (!decode_object(*document, kRequestFields, request)) return std::unexpected(InvalidJSON());
    return request;
}

std::expected<ConsumerConfig, ApiError> check_consumer_create(
    std::string_view subject, const ConsumerCreateRequest& request) {
    const std::vector<std::string_view> tokens = tokenize(subject);
    RT_ASSERT(tokens.size() >= kLegacyEphemeralTokens);
    const bool legacy_ephemeral = tokens.size() == kLegacyEphemeralTokens;
    const bool legacy_durable = !legacy_ephemeral && tokens[3] == "DURABLE";
    std::string_view stream_name = tokens[4];
    std::string_view subject_consumer;
    std::string_view filter;
    if (legacy_durable) {
        if (tokens.size() != kLegacyDurableTokens) {
            return std::unexpected(ConsumerDurableNameNotInSubject());
        }
        stream_name = tokens[5];
        subject_consumer = tokens[6];
    } else if (!legacy_ephemeral) {
        subject_consumer = tokens[5];
        // nats-server 2.9.10 takes a filter only from eight tokens on (2.10: seven).
        if (tokens.size() > kLegacyDurableTokens) {
            filter = subject.substr(static_cast<size_t>(tokens[6].data() - subject.data()));
        }
    }
    ConsumerConfig config = request.config;
    if (stream_name != request.stream_name) return std::unexpected(StreamMismatch());
    if (subject_consumer.find_first_of("\\/") != std::string_view::npos) {
        return std::unexpected(ConsumerNameContainsPathSeparators());
    }
    if (legacy_durable) {
        if (config.durable_name.empty()) return std::unexpected(ConsumerDurableNameNotSet());
        if (subject_consumer != config.durable_name) {
            return std::unexpected(ConsumerDurableNameNotMatchSubject());
        }
    } else if (!legacy_ephemeral) {
        if (is_durable(config) && subject_consumer != config.durable_name) {
            return std::unexpected(ConsumerDurableNameNotMatchSubject());
        }
        config.name = subject_consumer;
    } else if (is_durable(config)) {
        return std::unexpected(ConsumerEphemeralWithDurableName());
    }
    if (!filter.empty() && !config.filter_subjects.empty()) {
        return std::unexpected(ConsumerMultipleFiltersNotAllowed());
    }
    if (!filter.empty() && config.filter_subject != filter) {
        return std::unexpected(ConsumerCreateFilterSubjectMismatch());
    }
    if (config.num_replicas > 1) return std::unexpected(StreamReplicasNotSupported());
    return config;
}

void set_consumer_defaults(ConsumerConfig& config, const ConsumerCheckOptions& options) {
    if (is_pull(config) && config.max_waiting == 0) config.max_waiting = kWaitQueueDefaultMax;
    if (config.ack_wait_ns == 0 && acks(config)) config.ack_wait_ns = kAckWaitDefaultNs;
    if (config.max_deliver == 0) config.max_deliver = -1;
    if (!config.backoff_ns.empty()) config.ack_wait_ns = config.backoff_ns.front();
    if (acks(config) && config.max_ack_pending == 0) {
        int64_t pending = kDefaultMaxAckPending;
        for (int64_t limit : {options.server_max_ack_pending, options.account_max_ack_pending}) {
            if (limit > 0 && limit < pending) pending = limit;
        }
        config.max_ack_pending = pending;
    }
    if (is_pull(config) && config.max_batch == 0 && options.server_max_request_batch > 0) {
        config.max_batch = options.server_max_request_batch;
    }
}

std::expected<ConsumerConfig, ApiError> check_consumer_config(ConsumerConfig config,
                                                              const StreamConfig& stream,
                                                              const ConsumerCheckOptions& options) {
    // 2.10: the stream's consumer_limits are the defaults, before the server's own.
    if (config.max_ack_pending == 0) config.max_ack_pending = stream.consumer_limits_max_ack_pending;
    if (config.inactive_threshold_ns == 0) config.inactive_threshold_ns = stream.consumer_limits_inactive_threshold_ns;
    set_consumer_defaults(config, options);
    if (auto error = check_all(config, stream, options)) return std::unexpected(std::move(*error));
    return config;
}

std::expected<CheckedConsumerCreate, ApiError> check_consumer_create_request(std::string_view subject,
                                                                             std::string_view body,
                                                                             const StreamConfig& stream,
                                                                             const ConsumerCheckOptions& options) {
    auto request = parse_consumer_create_request(body);
    if (!request) return std::unexpected(request.error());
    if (auto refused = refuse_newer_consumer_fields(body)) return std::unexpected(*refused);
    auto asked = check_consumer_create(subject, *request);
    if (!asked) return std::unexpected(asked.error());
    auto checked = check_consumer_config(std::move(*asked), stream, options);
    if (!checked) return std::unexpected(checked.error());
    return CheckedConsumerCreate{std::move(*request), std::move(*checked)};
}

std::string_view consumer_name(const ConsumerConfig& config) {
    return is_durable(config) ? config.durable_name : config.name;
}

int64_t sample_percent(const ConsumerConfig& config) {
    std::string_view text = config.sample_freq;
    if (text.ends_with('%')) text.remove_suffix(1);
    return internal::go_atoi(text).value_or(0);
}

std::optional<ApiError> check_consumer_absent(ConsumerAction action) {
    if (action == ConsumerAction::kUpdate) return ConsumerDoesNotExist();
    return std::nullopt;
}

std::optional<ApiError> check_consumer_update(const ConsumerConfig& old_config,
                                              const ConsumerConfig& new_config,
                                              ConsumerAction action,
                                              bool deliver_subject_has_interest) {
    ConsumerConfig updated = new_config;
    updated.pause_until_ns = old_config.pause_until_ns;
    if (action == ConsumerAction::kCreate && updated != old_config) {
        return ConsumerAlreadyExists();
    }
    if (updated == old_config) return std::nullopt;
    if (updated.deliver_policy != old_config.deliver_policy) {
        return cannot_update("deliver policy");
    }
    if (updated.opt_start_seq != old_config.opt_start_seq) return cannot_update("start sequence");
    auto saturated = [](int64_t ns) {
        return ns == std::numeric_limits<int64_t>::min() || ns == std::numeric_limits<int64_t>::max();
    };
    if (updated.has_opt_start_time != old_config.has_opt_start_time ||
        updated.opt_start_time_ns != old_config.opt_start_time_ns ||
        (saturated(updated.opt_start_time_ns) && updated.opt_start_time_text != old_config.opt_start_time_text)) {
        return cannot_update("start time");
    }
    if (updated.ack_policy != old_config.ack_policy) return cannot_update("ack policy");
    if (updated.replay_policy != old_config.replay_policy) return cannot_update("replay policy");
    if (updated.idle_heartbeat_ns != old_config.idle_heartbeat_ns) {
        return cannot_update("heart beats");
    }
    if (updated.flow_control != old_config.flow_control) return cannot_update("flow control");
    if (updated.max_waiting != old_config.max_waiting) return cannot_update("max waiting");
    if (updated.deliver_subject != old_config.deliver_subject) {
        if (is_pull(old_config))
            return ConsumerCreate("can not update pull consumer to push based");
        if (is_pull(updated)) return ConsumerCreate("can not update push consumer to pull based");
        if (deliver_subject_has_interest) return ConsumerNameExist();
    }
    const auto backoff_count = static_cast<int64_t>(updated.backoff_ns.size());
    if (backoff_count > 0 && updated.max_deliver <= backoff_count) {
        return ConsumerMaxDeliverBackoff();
    }
    return std::nullopt;
}

std::expected<ConsumerConfig, ApiError> updated_consumer_config(const ConsumerConfig& old_config,
                                                                ConsumerConfig new_config,
                                                                ConsumerAction action,
                                                                bool deliver_subject_has_interest) {
    if (auto error =
            check_consumer_update(old_config, new_config, action, deliver_subject_has_interest)) {
        return std::unexpected(std::move(*error));
    }
    new_config.pause_until_ns = old_config.pause_until_ns;
    // updateInactiveThreshold runs only on a change, and asks the running (old) consumer
    // whether it is durable.
    if (new_config.inactive_threshold_ns != old_config.inactive_threshold_ns &&
        !is_durable(old_config) && new_config.inactive_threshold_ns <= 0) {
        new_config.inactive_threshold_ns = kDeleteWaitDefaultNs;
    }
    return new_config;
}

std::optional<ApiError> check_work_queue_consumer(const ConsumerConfig& config,
                                                  const StreamConfig& stream,
                                                  std::span<const ConsumerConfig* const> others,
                                                  bool recovering) {
    if (stream.retention != Retention::kWorkQueue || config.direct) return std::nullopt;
    if (config.ack_policy != AckPolicy::kExplicit) return ConsumerWQRequiresExplicitAck();
    std::vector<std::string> filters = config.filter_subjects;
    if (!config.filter_subject.empty()) filters.push_back(config.filter_subject);
    if (!others.empty()) {
        if (filters.empty()) return ConsumerWQMultipleUnfiltered();
        // partitionUnique
        bool unique = true;
        for (const ConsumerConfig* other : others) {
            std::vector<std::string> taken = other->filter_subjects;
            if (!other->filter_subject.empty()) taken.push_back(other->filter_subject);
            if (taken.empty()) unique = false;
            for (const std::string& filter : filters) {
                for (const std::string& held : taken) {
                    if (subject_is_subset_match(filter, held) ||
                        subject_is_subset_match(held, filter)) {
                        unique = false;
                    }
                }
            }
        }
        if (!unique && !recovering) return ConsumerWQConsumerNotUnique();
    }
    if (config.deliver_policy != DeliverPolicy::kAll) return ConsumerWQConsumerNotDeliverAll();
    return std::nullopt;
}

std::optional<ApiError> check_consumer_name(const ConsumerConfig& config) {
    if (std::cmp_greater(config.durable_name.size(), kMaxNameBytes)) {
        return ConsumerNameTooLong(kMaxNameBytes);
    }
    std::string_view name = consumer_name(config);
    if (!name.empty() && !is_valid_name(name)) return ConsumerBadDurableName();
    return std::nullopt;
}

ConsumerConfig created_consumer_config(ConsumerConfig config) {
    if (!is_durable(config) && config.inactive_threshold_ns <= 0) {
        config.inactive_threshold_ns = kDeleteWaitDefaultNs;
    }
    return config;
}

nlohmann::ordered_json to_ordered_json(const ConsumerConfig& config) {
    OrderedJson out = OrderedJson::object();
    if (!config.durable_name.empty()) out["durable_name"] = config.durable_name;
    if (!config.name.empty()) out["name"] = config.name;
    if (!config.description.empty()) out["description"] = config.description;
    out["deliver_policy"] = deliver_policy_text(config.deliver_policy);
    if (config.opt_start_seq != 0) out["opt_start_seq"] = config.opt_start_seq;
    if (config.has_opt_start_time) {
        out["opt_start_time"] = !config.opt_start_time_text.empty()
                                    ? config.opt_start_time_text
                                    : rfc3339(config.opt_start_time_ns, config.opt_start_time_utc_offset_s);
    }
    out["ack_policy"] = ack_policy_text(config.ack_policy);
    if (config.ack_wait_ns != 0) out["ack_wait"] = config.ack_wait_ns;
    if (config.max_deliver != 0) out["max_deliver"] = config.max_deliver;
    if (!config.backoff_ns.empty()) out["backoff"] = config.backoff_ns;
    if (!config.filter_subject.empty()) out["filter_subject"] = config.filter_subject;
    if (!config.filter_subjects.empty()) out["filter_subjects"] = config.filter_subjects;
    out["replay_policy"] = replay_policy_text(config.replay_policy);
    if (config.rate_limit_bps != 0) out["rate_limit_bps"] = config.rate_limit_bps;
    if (!config.sample_freq.empty()) out["sample_freq"] = config.sample_freq;
    if (config.max_waiting != 0) out["max_waiting"] = config.max_waiting;
    if (config.max_ack_pending != 0) out["max_ack_pending"] = config.max_ack_pending;
    if (config.idle_heartbeat_ns != 0) out["idle_heartbeat"] = config.idle_heartbeat_ns;
    if (config.flow_control) out["flow_control"] = true;
    if (config.headers_only) out["headers_only"] = true;
    if (config.max_batch != 0) out["max_batch"] = config.max_batch;
    if (config.max_expires_ns != 0) out["max_expires"] = config.max_expires_ns;
    if (config.max_bytes != 0) out["max_bytes"] = config.max_bytes;
    if (!config.deliver_subject.empty()) out["deliver_subject"] = config.deliver_subject;
    if (!config.deliver_group.empty()) out["deliver_group"] = config.deliver_group;
    if (config.inactive_threshold_ns != 0) out["inactive_threshold"] = config.inactive_threshold_ns;
    out["num_replicas"] = config.num_replicas;
    if (config.mem_storage) out["mem_storage"] = true;
    if (config.direct) out["direct"] = true;
    if (!config.metadata.empty()) {
        OrderedJson metadata = OrderedJson::object();
        for (const auto& [key, value] : config.metadata) metadata[key] = value;  // Go sorts keys
        out["metadata"] = std::move(metadata);
    }
    if (config.pause_until_ns != 0) out["pause_until"] = rfc3339(config.pause_until_ns);
    return out;
}

nlohmann::json to_json(const ConsumerConfig& config) { return Json(to_ordered_json(config)); }

}  // namespace ringtail::proto::js
