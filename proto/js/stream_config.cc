#include "proto/js/stream_config.h"

#include <algorithm>
#include <deque>
#include <set>
#include <utility>

#include "base/subject_transform.h"
#include "proto/js/config_common.h"
#include "proto/subject.h"

namespace ringtail::proto::js {
namespace {

using internal::decode_object;
using internal::get_bool;
using internal::get_int;
using internal::get_int32;
using internal::get_int64;
using internal::get_string;
using internal::get_string_list;
using internal::get_uint64;
using internal::go_atoi;
using internal::is_fwc;
using internal::is_pwc;
using internal::is_subset_match;
using internal::Json;
using internal::OrderedJson;
using internal::tokenize;

constexpr size_t kMaxNameBytes = 255;          // JSMaxNameLen
constexpr size_t kMaxDescriptionBytes = 4096;  // JSMaxDescriptionLen
constexpr int kMaxReplicas = 5;                // StreamMaxReplicas
constexpr int64_t kMillisecondNs = 1'000'000;
constexpr int64_t kSecondNs = 1'000'000'000;
constexpr int64_t kDefaultDuplicateWindowNs = 2 * 60 * 1'000'000'000LL;  // 2 minutes
constexpr std::string_view kJsApiPrefix = "$JS.API";
// Bound on the source-cycle walk: far more streams than an account holds.
constexpr size_t kCycleWalkSteps = 100'000;

// ---------------------------------------------------------------------------------------------
// Subject helpers with nats-server's exact semantics (server/sublist.go), quirks included.

// tokensCanMatch: nats-server also looks only at the first byte here.
bool tokens_can_match(std::string_view t1, std::string_view t2) {
    if (t1.empty() || t2.empty()) return false;
    auto wildcard = [](char c) { return c == '*' || c == '>'; };
    if (wildcard(t1[0]) || wildcard(t2[0])) return true;
    return t1 == t2;
}

struct SubjectInfo {
    bool valid = false;
    std::vector<std::string_view> tokens;
    int64_t partial_wildcards = 0;
    bool full_wildcard = false;
};

// subjectInfo: validity without the whitespace check, and the wildcard counts.
SubjectInfo subject_info(std::string_view subject) {
    SubjectInfo info;
    if (subject.empty()) return info;
    info.tokens = tokenize(subject);
    for (std::string_view token : info.tokens) {
        if (token.empty() || info.full_wildcard) return SubjectInfo{};
        if (is_fwc(token)) info.full_wildcard = true;
        if (is_pwc(token)) ++info.partial_wildcards;
    }
    info.valid = true;
    return info;
}

bool is_valid_stream_name(std::string_view name) {
    return !name.empty() && name.find_first_of(" \t\r\n\f.*>") == std::string_view::npos;
}

// ---------------------------------------------------------------------------------------------
// Subject transform validation (newTransform in server/accounts.go), for republish.

std::string_view trim_spaces(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return text;
}

bool is_regex_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

// Matches `{{\s*NAME\s*\((.*)\)\s*}}` anywhere in `token` (Go regexp, leftmost-first, greedy,
// '.' not matching '\n') and returns the capture split on `,\s*`; nullopt if no match. An
// upper-case letter of `name` matches either case ([wW]ildcard), lower-case ones only
// themselves.
std::optional<std::vector<std::string_view>> mapping_args(std::string_view token,
                                                          std::string_view name) {
    auto letter_matches = [](char pattern, char c) {
        if (pattern >= 'A' && pattern <= 'Z') return c == pattern || c == pattern - 'A' + 'a';
        return c == pattern;
    };
    for (size_t start = 0; start + 1 < token.size(); ++start) {
        if (token[start] != '{' || token[start + 1] != '{') continue;
        size_t at = start + 2;
        while (at < token.size() && is_regex_space(token[at])) ++at;
        bool name_ok = at + name.size() <= token.size();
        for (size_t i = 0; name_ok && i < name.size(); ++i) {
            name_ok = letter_matches(name[i], token[at + i]);
        }
        if (!name_ok) continue;
        at += name.size();
        while (at < token.size() && is_regex_space(token[at])) ++at;
        if (at >= token.size() || token[at] != '(') continue;
        size_t capture_start = at + 1;
        size_t capture_limit = token.find('\n', capture_start);
        if (capture_limit == std::string_view::npos) capture_limit = token.size();
        // Greedy: the longest capture followed by `\)\s*}}` wins.
        for (size_t end = capture_limit + 1; end-- > capture_start;) {
            if (end >= token.size() || token[end] != ')') continue;
            size_t after = end + 1;
            while (after < token.size() && is_regex_space(token[after])) ++after;
            if (token.substr(after, 2) != "}}") continue;
            std::string_view capture = token.substr(capture_start, end - capture_start);
            std::vector<std::string_view> args;
            size_t piece = 0;
            for (size_t i = 0; i < capture.size(); ++i) {
                if (capture[i] != ',') continue;
                args.push_back(capture.substr(piece, i - piece));
                size_t next = i + 1;
                while (next < capture.size() && is_regex_space(capture[next])) ++next;
                piece = next;
                i = next - 1;
            }
            args.push_back(capture.substr(piece));
            return args;
        }
    }
    return std::nullopt;
}

enum class Placeholder : uint8_t { kNone, kTransform, kBad };
// The mapping functions of nats-server 2.9's transforms ($N is kWildcard).
using MappingFunction = SubjectTransform::Function;

struct PlaceholderInfo {
    Placeholder kind = Placeholder::kNone;
    std::vector<int64_t> wildcard_indexes;
    MappingFunction function = MappingFunction::kWildcard;
    int64_t int_arg = 0;  // partitions, split position, slice size
    std::string string_arg;  // split's delimiter
};

// indexPlaceHolders: what a destination token of a transform refers to.
PlaceholderInfo index_placeholders(std::string_view token) {
    const PlaceholderInfo bad{Placeholder::kBad, {}};
    size_t length = token.size();
    if (length <= 1) return {};
    if (token[0] == '$') {
        std::optional<int64_t> index = go_atoi(token.substr(1));
        if (!index) return {};  // other things use '$' tokens: left as they are
        return {Placeholder::kTransform, {*index}};
    }
    if (length <= 4 || token.substr(0, 2) != "{{" || token.substr(length - 2) != "}}") return {};
    if (auto args = mapping_args(token, "Wildcard")) {
        if (args->size() != 1 || (*args)[0].empty()) return bad;
        std::optional<int64_t> index = go_atoi(trim_spaces((*args)[0]));
        if (!index) return bad;
        return {Placeholder::kTransform, {*index}};
    }
    if (auto args = mapping_args(token, "Partition")) {
        std::optional<int64_t> partitions;
        if (args->size() < 2 || !(partitions = go_atoi(trim_spaces((*args)[0])))) return bad;
        PlaceholderInfo info{Placeholder::kTransform, {}, MappingFunction::kPartition, *partitions, {}};
        for (size_t i = 1; i < args->size(); ++i) {
            std::optional<int64_t> index = go_atoi(trim_spaces((*args)[i]));
            if (!index) return bad;
            info.wildcard_indexes.push_back(*index);
        }
        return info;
    }
    static constexpr std::pair<std::string_view, MappingFunction> kPositional[] = {
        {"SplitFromLeft", MappingFunction::kSplitFromLeft},
        {"SplitFromRight", MappingFunction::kSplitFromRight},
        {"SliceFromLeft", MappingFunction::kSliceFromLeft},
        {"SliceFromRight", MappingFunction::kSliceFromRight},
    };
    for (const auto& [name, function] : kPositional) {
        if (auto args = mapping_args(token, name)) {
            if (args->size() != 2) return bad;
            std::optional<int64_t> index = go_atoi(trim_spaces((*args)[0]));
            std::optional<int64_t> position = go_atoi(trim_spaces((*args)[1]));
            if (!index || !position) return bad;
            return {Placeholder::kTransform, {*index}, function, *position, {}};
        }
    }
    if (auto args = mapping_args(token, "Split")) {
        if (args->size() != 2) return bad;
        std::optional<int64_t> index = go_atoi(trim_spaces((*args)[0]));
        if (!index) return bad;
        std::string_view delimiter = (*args)[1];
        if (delimiter.find_first_of(" .") != std::string_view::npos) return bad;
        return {Placeholder::kTransform, {*index}, MappingFunction::kSplit, 0, std::string(delimiter)};
    }
    return bad;  // an unknown mapping function
}

bool is_valid_transform(std::string_view source, std::string_view destination) {
    SubjectInfo from = subject_info(source);
    SubjectInfo to = subject_info(destination);
    if (!from.valid || !to.valid || to.partial_wildcards > 0 ||
        from.full_wildcard != to.full_wildcard) {
        return false;
    }
    if (from.partial_wildcards == 0 && !from.full_wildcard) return true;
    int64_t placeholders = 0;
    for (std::string_view token : to.tokens) {
        PlaceholderInfo info = index_placeholders(token);
        if (info.kind == Placeholder::kBad) return false;
        if (info.kind == Placeholder::kNone) continue;
        ++placeholders;
        for (int64_t index : info.wildcard_indexes) {
            if (index > from.partial_wildcards) return false;
        }
    }
    return placeholders >= from.partial_wildcards;
}

// 2.10's NewSubjectTransform, not strict (stream and source transforms): the source's
// wildcards need not all be used. A literal source takes no function (nats-server allows
// partition() of the whole subject there, which this server does not do).
bool is_valid_lenient_transform(std::string_view source, std::string_view destination) {
    SubjectInfo from = subject_info(source);
    SubjectInfo to = subject_info(destination);
    if (!from.valid || !to.valid || to.partial_wildcards > 0 || from.full_wildcard != to.full_wildcard) return false;
    bool literal = from.partial_wildcards == 0 && !from.full_wildcard;
    for (std::string_view token : to.tokens) {
        PlaceholderInfo info = index_placeholders(token);
        if (info.kind == Placeholder::kBad) return false;
        if (info.kind == Placeholder::kNone) continue;
        if (literal) return false;
        for (int64_t index : info.wildcard_indexes) {
            if (index > from.partial_wildcards) return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Decoding JSON the way Go's json.Unmarshal decodes into nats-server's structs.

using JsonField = std::pair<std::string_view, bool (*)(const OrderedJson&, Json&)>;

bool decode_string_member(const OrderedJson& value, Json& target, const char* member) {
    std::string text = target[member].get<std::string>();
    if (!get_string(value, text)) return false;
    target[member] = std::move(text);
    return true;
}

// Placement{cluster, tags}.
bool decode_placement(const OrderedJson& value, Json& out) {
    if (value.is_null()) {
        out = nullptr;
        return true;
    }
    static const JsonField kFields[] = {
        {"cluster",
         [](const OrderedJson& v, Json& t) { return decode_string_member(v, t, "cluster"); }},
        {"tags", [](const OrderedJson& v, Json& t) { return get_string_list(v, t["tags"]); }},
    };
    Json placement = {{"cluster", ""}, {"tags", nullptr}};
    if (!decode_object(value, kFields, placement)) return false;
    out = std::move(placement);
    return true;
}

// ExternalStream{api, deliver}.
bool decode_external(const OrderedJson& value, Json& out) {
    if (value.is_null()) {
        out = nullptr;
        return true;
    }
    static const JsonField kFields[] = {
        {"api", [](const OrderedJson& v, Json& t) { return decode_string_member(v, t, "api"); }},
        {"deliver",
         [](const OrderedJson& v, Json& t) { return decode_string_member(v, t, "deliver"); }},
    };
    Json external = {{"api", ""}, {"deliver", ""}};
    if (!decode_object(value, kFields, external)) return false;
    out = std::move(external);
    return true;
}

bool decode_subject_transform(const OrderedJson& value, Json& out);

// StreamSource{name, opt_start_seq, opt_start_time, filter_subject, subject_transforms, external}.
bool decode_source(const OrderedJson& value, Json& out) {
    if (value.is_null()) {
        out = nullptr;
        return true;
    }
    static const JsonField kFields[] = {
        {"name", [](const OrderedJson& v, Json& t) { return decode_string_member(v, t, "name"); }},
        {"opt_start_seq",
         [](const OrderedJson& v, Json& t) {
             auto seq = t["opt_start_seq"].get<uint64_t>();
             if (!get_uint64(v, seq)) return false;
             t["opt_start_seq"] = seq;
             return true;
         }},
        {"opt_start_time",
         [](const OrderedJson& v, Json& t) {
             if (v.is_null()) {
                 t["opt_start_time"] = nullptr;
                 return true;
             }
             if (!v.is_string()) return false;
             std::optional<std::string> time = normalize_rfc3339(v.get<std::string>());
             if (!time) return false;
             t["opt_start_time"] = std::move(*time);
             return true;
         }},
        {"filter_subject", [](const OrderedJson& v,
                              Json& t) { return decode_string_member(v, t, "filter_subject"); }},
        // 2.10; kept only when not empty, so that sources without it keep 2.9's shape.
        {"subject_transforms",
         [](const OrderedJson& v, Json& t) {
             t.erase("subject_transforms");
             if (v.is_null()) return true;
             if (!v.is_array()) return false;
             Json transforms = Json::array();
             for (const OrderedJson& element : v) {
                 Json transform = {{"src", ""}, {"dest", ""}};
                 if (!element.is_null() && !decode_subject_transform(element, transform)) return false;
                 transforms.push_back(std::move(transform));
             }
             if (!transforms.empty()) t["subject_transforms"] = std::move(transforms);
             return true;
         }},
        {"external",
         [](const OrderedJson& v, Json& t) { return decode_external(v, t["external"]); }},
    };
    Json source = {{"name", ""},
                   {"opt_start_seq", uint64_t{0}},
                   {"opt_start_time", nullptr},
                   {"filter_subject", ""},
                   {"external", nullptr}};
    if (!decode_object(value, kFields, source)) return false;
    out = std::move(source);
    return true;
}

// []*StreamSource. A null element would crash nats-server 2.9.10; it is refused here.
bool decode_sources(const OrderedJson& value, Json& out) {
    if (value.is_null()) {
        out = nullptr;
        return true;
    }
    if (!value.is_array()) return false;
    Json sources = Json::array();
    for (const OrderedJson& element : value) {
        if (element.is_null()) return false;
        Json source;
        if (!decode_source(element, source)) return false;
        sources.push_back(std::move(source));
    }
    out = std::move(sources);
    return true;
}

// SubjectTransformConfig{src, dest} (2.10).
bool decode_subject_transform(const OrderedJson& value, Json& out) {
    if (value.is_null()) {
        out = nullptr;
        return true;
    }
    static const JsonField kFields[] = {
        {"src", [](const OrderedJson& v, Json& t) { return decode_string_member(v, t, "src"); }},
        {"dest", [](const OrderedJson& v, Json& t) { return decode_string_member(v, t, "dest"); }},
    };
    Json transform = {{"src", ""}, {"dest", ""}};
    if (!decode_object(value, kFields, transform)) return false;
    out = std::move(transform);
    return true;
}

// RePublish{src, dest, headers_only}.
bool decode_republish(const OrderedJson& value, Json& out) {
    if (value.is_null()) {
        out = nullptr;
        return true;
    }
    static const JsonField kFields[] = {
        {"src", [](const OrderedJson& v, Json& t) { return decode_string_member(v, t, "src"); }},
        {"dest", [](const OrderedJson& v, Json& t) { return decode_string_member(v, t, "dest"); }},
        {"headers_only",
         [](const OrderedJson& v, Json& t) {
             bool headers_only = t["headers_only"].get<bool>();
             if (!get_bool(v, headers_only)) return false;
             t["headers_only"] = headers_only;
             return true;
         }},
    };
    Json republish = {{"src", ""}, {"dest", ""}, {"headers_only", false}};
    if (!decode_object(value, kFields, republish)) return false;
    out = std::move(republish);
    return true;
}

// nats-server 2.9.10 has no "metadata"; an object of strings is kept, anything else ignored.
bool decode_metadata(const OrderedJson& value, Json& out) {
    if (value.is_null()) {
        out = nullptr;
        return true;
    }
    if (!value.is_object()) return true;
    Json metadata = Json::object();
    for (const auto& item : value.items()) {
        if (!item.value().is_string()) return true;
        metadata[item.key()] = item.value().get<std::string>();
    }
    out = std::move(metadata);
    return true;
}

// The enums' UnmarshalJSON methods: exact strings, "discard" case-insensitively; null and any
// other type are errors.
bool decode_retention(const OrderedJson& value, Retention& out) {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    if (text == "limits") {
        out = Retention::kLimits;
    } else if (text == "interest") {
        out = Retention::kInterest;
    } else if (text == "workqueue") {
        out = Retention::kWorkQueue;
    } else {
        return false;
    }
    return true;
}

bool decode_discard(const OrderedJson& value, Discard& out) {
    if (!value.is_string()) return false;
    std::string text = value.get<std::string>();
    std::transform(text.begin(), text.end(), text.begin(), [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    if (text == "old") {
        out = Discard::kOld;
    } else if (text == "new") {
        out = Discard::kNew;
    } else {
        return false;
    }
    return true;
}

bool decode_storage(const OrderedJson& value, Storage& out) {
    if (!value.is_string()) return false;
    const auto& text = value.get_ref<const std::string&>();
    if (text == "file") {
        out = Storage::kFile;
    } else if (text == "memory") {
        out = Storage::kMemory;
    } else {
        return false;  // includes "any", which nats-server 2.9.10 accepts and then crashes on
    }
    return true;
}

bool decode_subjects(const OrderedJson& value, std::vector<std::string>& out) {
    Json list;
    if (!get_string_list(value, list)) return false;
    out.clear();
    if (list.is_array()) {
        for (const Json& subject : list) out.push_back(subject.get<std::string>());
    }
    return true;
}

using ConfigField = std::pair<std::string_view, bool (*)(const OrderedJson&, StreamConfig&)>;

// StreamConfig's json tags (server/stream.go), folded to lower case.
const ConfigField kConfigFields[] = {
    {"name", [](const OrderedJson& v, StreamConfig& c) { return get_string(v, c.name); }},
    {"description",
     [](const OrderedJson& v, StreamConfig& c) { return get_string(v, c.description); }},
    {"subjects",
     [](const OrderedJson& v, StreamConfig& c) { return decode_subjects(v, c.subjects); }},
    {"retention",
     [](const OrderedJson& v, StreamConfig& c) { return decode_retention(v, c.retention); }},
    {"max_consumers",
     [](const OrderedJson& v, StreamConfig& c) { return get_int64(v, c.max_consumers); }},
    {"max_msgs", [](const OrderedJson& v, StreamConfig& c) { return get_int64(v, c.max_msgs); }},
    {"max_bytes", [](const OrderedJson& v, StreamConfig& c) { return get_int64(v, c.max_bytes); }},
    {"max_age", [](const OrderedJson& v, StreamConfig& c) { return get_int64(v, c.max_age_ns); }},
    {"max_msgs_per_subject",
     [](const OrderedJson& v, StreamConfig& c) { return get_int64(v, c.max_msgs_per_subject); }},
    {"max_msg_size",
     [](const OrderedJson& v, StreamConfig& c) { return get_int32(v, c.max_msg_size); }},
    {"discard", [](const OrderedJson& v, StreamConfig& c) { return decode_discard(v, c.discard); }},
    {"storage", [](const OrderedJson& v, StreamConfig& c) { return decode_storage(v, c.storage); }},
    {"num_replicas",
     [](const OrderedJson& v, StreamConfig& c) { return get_int(v, c.num_replicas); }},
    {"no_ack", [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.no_ack); }},
    {"template_owner",
     [](const OrderedJson& v, StreamConfig& c) { return get_string(v, c.template_owner); }},
    {"duplicate_window",
     [](const OrderedJson& v, StreamConfig& c) { return get_int64(v, c.duplicate_window_ns); }},
    {"placement",
     [](const OrderedJson& v, StreamConfig& c) { return decode_placement(v, c.placement); }},
    {"mirror", [](const OrderedJson& v, StreamConfig& c) { return decode_source(v, c.mirror); }},
    {"sources", [](const OrderedJson& v, StreamConfig& c) { return decode_sources(v, c.sources); }},
    {"republish",
     [](const OrderedJson& v, StreamConfig& c) { return decode_republish(v, c.republish); }},
    {"allow_direct",
     [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.allow_direct); }},
    {"mirror_direct",
     [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.mirror_direct); }},
    {"first_seq", [](const OrderedJson& v, StreamConfig& c) { return get_uint64(v, c.first_seq); }},
    {"subject_transform",
     [](const OrderedJson& v, StreamConfig& c) { return decode_subject_transform(v, c.subject_transform); }},
    {"consumer_limits",
     [](const OrderedJson& v, StreamConfig& c) {
         if (v.is_null()) return true;
         static const ConfigField kLimits[] = {
             {"inactive_threshold",
              [](const OrderedJson& f, StreamConfig& t) { return get_int64(f, t.consumer_limits_inactive_threshold_ns); }},
             {"max_ack_pending",
              [](const OrderedJson& f, StreamConfig& t) { return get_int64(f, t.consumer_limits_max_ack_pending); }},
         };
         return decode_object(v, kLimits, c);
     }},
    {"allow_msg_ttl", [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.allow_msg_ttl); }},
    {"subject_delete_marker_ttl",
     [](const OrderedJson& v, StreamConfig& c) { return get_int64(v, c.subject_delete_marker_ttl_ns); }},
    {"discard_new_per_subject",
     [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.discard_new_per_subject); }},
    {"sealed", [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.sealed); }},
    {"deny_delete",
     [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.deny_delete); }},
    {"deny_purge", [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.deny_purge); }},
    {"allow_rollup_hdrs",
     [](const OrderedJson& v, StreamConfig& c) { return get_bool(v, c.allow_rollup_hdrs); }},
    {"metadata",
     [](const OrderedJson& v, StreamConfig& c) { return decode_metadata(v, c.metadata); }},
};

// ---------------------------------------------------------------------------------------------
// Canonical shapes and Go's serialisation of the nested structs.

// object[key] for a const value: null when `object` is no object or lacks the key (nlohmann's
// const operator[] must not be used for a missing key).
const Json& member(const Json& object, const char* key) {
    static const Json kNull;
    if (!object.is_object()) return kNull;
    auto it = object.find(key);
    return it == object.end() ? kNull : *it;
}

std::string member_string(const Json& object, const char* key) {
    const Json& value = member(object, key);
    return value.is_string() ? value.get<std::string>() : std::string();
}

// A nested value in its canonical shape (as parse_stream_config stores it), whatever shape a
// caller built it in. Values that do not decode are kept as they are.
template <bool (*Decode)(const OrderedJson&, Json&)>
Json canonical(const Json& value) {
    Json out;
    if (!Decode(OrderedJson(value), out)) return value;
    return out;
}

Json canonical_sources(const Json& value) { return canonical<decode_sources>(value); }
Json canonical_source(const Json& value) { return canonical<decode_source>(value); }
Json canonical_placement(const Json& value) { return canonical<decode_placement>(value); }
Json canonical_republish(const Json& value) { return canonical<decode_republish>(value); }

OrderedJson source_to_json(const Json& raw) {
    Json source = canonical_source(raw);
    if (!source.is_object()) return OrderedJson(source);
    OrderedJson out = OrderedJson::object();
    out["name"] = member_string(source, "name");
    if (const Json& seq = member(source, "opt_start_seq");
        seq.is_number_unsigned() && seq.get<uint64_t>() != 0) {
        out["opt_start_seq"] = seq.get<uint64_t>();
    }
    if (const Json& time = member(source, "opt_start_time"); time.is_string()) {
        out["opt_start_time"] = time.get<std::string>();
    }
    if (std::string filter = member_string(source, "filter_subject"); !filter.empty()) {
        out["filter_subject"] = filter;
    }
    if (const Json& transforms = member(source, "subject_transforms"); transforms.is_array()) {
        OrderedJson list = OrderedJson::array();
        for (const Json& transform : transforms) {
            list.push_back({{"src", member_string(transform, "src")}, {"dest", member_string(transform, "dest")}});
        }
        out["subject_transforms"] = std::move(list);
    }
    if (const Json& external = member(source, "external"); external.is_object()) {
        out["external"] = {{"api", member_string(external, "api")},
                           {"deliver", member_string(external, "deliver")}};
    }
    return out;
}

OrderedJson placement_to_json(const Json& raw) {
    Json placement = canonical_placement(raw);
    if (!placement.is_object()) return OrderedJson(placement);
    OrderedJson out = OrderedJson::object();
    if (std::string cluster = member_string(placement, "cluster"); !cluster.empty()) {
        out["cluster"] = cluster;
    }
    if (const Json& tags = member(placement, "tags"); tags.is_array() && !tags.empty()) {
        out["tags"] = OrderedJson(tags);
    }
    return out;
}

OrderedJson republish_to_json(const Json& raw) {
    Json republish = canonical_republish(raw);
    if (!republish.is_object()) return OrderedJson(republish);
    OrderedJson out = OrderedJson::object();
    if (std::string source = member_string(republish, "src"); !source.empty()) out["src"] = source;
    out["dest"] = member_string(republish, "dest");
    if (const Json& headers_only = member(republish, "headers_only");
        headers_only.is_boolean() && headers_only.get<bool>()) {
        out["headers_only"] = true;
    }
    return out;
}

std::string_view retention_text(Retention retention) {
    switch (retention) {
        case Retention::kLimits:
            return "limits";
        case Retention::kInterest:
            return "interest";
        case Retention::kWorkQueue:
            return "workqueue";
    }
    return "limits";
}

std::string_view discard_text(Discard discard) {
    switch (discard) {
        case Discard::kOld:
            return "old";
        case Discard::kNew:
            return "new";
    }
    return "old";
}

std::string_view storage_text(Storage storage) {
    switch (storage) {
        case Storage::kFile:
            return "file";
        case Storage::kMemory:
            return "memory";
    }
    return "file";
}

bool has_elements(const Json& list) { return list.is_array() && !list.empty(); }

// ---------------------------------------------------------------------------------------------
// checkStreamCfg, step by step.

ApiError invalid_config(std::string_view why) { return StreamInvalidConfig(why); }

// hasFilterSubjectOverlap: an empty filter or an origin without subjects always overlaps.
bool filter_overlaps(std::string_view filter, const std::vector<std::string>& subjects) {
    if (filter.empty() || subjects.empty()) return true;
    return std::any_of(subjects.begin(), subjects.end(), [&](const std::string& subject) {
        return subjects_collide(subject, filter);
    });
}

struct Prefixes {
    std::vector<std::string> deliver, api;
    std::vector<std::string> origin_subjects;  // streamSubs: subjects of the origins seen

    void add_external(const Json& source) {
        const Json& external = member(source, "external");
        if (!external.is_object()) return;
        if (std::string deliver_prefix = member_string(external, "deliver");
            !deliver_prefix.empty()) {
            deliver.push_back(deliver_prefix);
        }
        if (std::string api_prefix = member_string(external, "api"); !api_prefix.empty()) {
            api.push_back(api_prefix);
        }
    }
};

const StreamConfig* find(const StreamCheckOptions& options, std::string_view name) {
    return options.find_stream ? options.find_stream(name) : nullptr;
}

// 2.10's checks of a mirror's or a source's subject_transforms, in nats-server's order.
std::optional<ApiError> check_origin_transforms(const Json& source, bool mirror) {
    const Json& transforms = member(source, "subject_transforms");
    if (!transforms.is_array() || transforms.empty()) return std::nullopt;
    if (!member_string(source, "filter_subject").empty()) {
        return mirror ? MirrorMultipleFiltersNotAllowed() : SourceMultipleFiltersNotAllowed();
    }
    auto valid = [&](const Json& transform) -> std::optional<ApiError> {
        std::string from = member_string(transform, "src");
        std::string to = member_string(transform, "dest");
        if (!from.empty() && !is_valid_subject(from)) {
            return mirror ? MirrorInvalidSubjectFilter("invalid subject " + from)
                          : SourceInvalidSubjectFilter("invalid subject " + from);
        }
        if (!to.empty() && !is_valid_lenient_transform(from.empty() ? ">" : from, to)) {
            return mirror ? MirrorInvalidTransformDestination("invalid mapping destination")
                          : SourceInvalidTransformDestination("invalid mapping destination");
        }
        return std::nullopt;
    };
    auto overlap = [&](size_t outer) {
        std::string a = member_string(transforms[outer], "src");
        for (size_t inner = 0; inner < transforms.size(); ++inner) {
            std::string b = member_string(transforms[inner], "src");
            if (inner != outer && (mirror ? subjects_collide(a, b) : internal::subject_is_subset_match(a, b))) return true;
        }
        return false;
    };
    if (mirror) {  // each in turn: valid, then apart from the others
        for (size_t i = 0; i < transforms.size(); ++i) {
            if (auto error = valid(transforms[i])) return error;
            if (overlap(i)) return MirrorOverlappingSubjectFilters();
        }
        return std::nullopt;
    }
    for (const Json& transform : transforms) {
        if (auto error = valid(transform)) return error;
    }
    for (size_t i = 0; i < transforms.size(); ++i) {
        if (overlap(i)) return SourceOverlappingSubjectFilters();
    }
    return std::nullopt;
}

std::optional<ApiError> check_mirror(StreamConfig& config, const StreamCheckOptions& options,
                                     Prefixes& prefixes) {
    if (config.mirror.is_null()) return std::nullopt;
    if (config.first_seq > 0) return MirrorWithFirstSeq();  // checked first from 2.10 on
    if (!config.subjects.empty()) return MirrorWithSubjects();
    if (has_elements(config.sources)) return MirrorWithSources();
    if (config.subject_delete_marker_ttl_ns > 0) {
        // A marker would use up a sequence the origin does not have.
        return invalid_config("subject delete markers forbidden on mirrors");
    }
    if (auto error = check_origin_transforms(config.mirror, true)) return error;
    std::string origin_name = member_string(config.mirror, "name");
    if (!is_valid_stream_name(origin_name) || origin_name.size() > kMaxNameBytes) return MirrorInvalidStreamName();
    const StreamConfig* origin = find(options, origin_name);
    if (origin != nullptr) {
        prefixes.origin_subjects.insert(prefixes.origin_subjects.end(), origin->subjects.begin(),
                                        origin->subjects.end());
        if (config.max_msg_size > 0 && origin->max_msg_size > 0 &&
            config.max_msg_size < origin->max_msg_size) {
            return MirrorMaxMessageSizeTooBig();
        }
        std::string filter = member_string(config.mirror, "filter_subject");
        if (!options.recovering && !filter_overlaps(filter, origin->subjects)) {
            return invalid_config("mirror '" + origin_name + "' filter subject '" + filter +
                                  "' does not overlap with any origin stream subject");
        }
    }
    prefixes.add_external(config.mirror);
    if (origin != nullptr) config.mirror_direct = origin->allow_direct;
    return std::nullopt;
}

std::optional<ApiError> check_sources(const StreamConfig& config, const StreamCheckOptions& options,
                                      Prefixes& prefixes) {
    if (!has_elements(config.sources)) return std::nullopt;
    std::set<std::string> seen;
    for (const Json& source : config.sources) {
        if (auto error = check_origin_transforms(source, false)) return error;
        std::string origin_name = member_string(source, "name");
        if (!is_valid_stream_name(origin_name) || origin_name.size() > kMaxNameBytes) return SourceInvalidStreamName();
        // nats-server 2.10's composeIName: a source is its stream, filter, transforms and
        // external API; two alike would copy every message twice.
        const Json& external = member(source, "external");
        std::string identity = origin_name + "\n" + member_string(source, "filter_subject") + "\n" +
                               member(source, "subject_transforms").dump() + "\n" +
                               (external.is_object() ? member_string(external, "api") : std::string());
        if (!seen.insert(identity).second) return SourceDuplicateDetected();
        const StreamConfig* origin = find(options, origin_name);
        if (origin != nullptr) {
            prefixes.origin_subjects.insert(prefixes.origin_subjects.end(),
                                            origin->subjects.begin(), origin->subjects.end());
            if (config.max_msg_size > 0 && origin->max_msg_size > 0 &&
                config.max_msg_size < origin->max_msg_size) {
                return SourceMaxMessageSizeTooBig();
            }
            // nats-server checks against the subjects of all origins seen so far.
            std::string filter = member_string(source, "filter_subject");
            if (!options.recovering && !filter_overlaps(filter, prefixes.origin_subjects)) {
                return invalid_config("source '" + origin_name + "' filter subject '" + filter +
                                      "' does not overlap with any origin stream subject");
            }
        }
        prefixes.add_external(source);
    }
    return std::nullopt;
}

std::optional<ApiError> check_prefixes(const Prefixes& prefixes) {
    for (const std::string& prefix : prefixes.deliver) {
        if (!is_valid_literal_subject(prefix)) return StreamInvalidExternalDeliverySubj(prefix);
        for (const std::string& subject : prefixes.origin_subjects) {
            if (subjects_collide(subject, prefix + "." + subject)) {
                return StreamExternalDelPrefixOverlaps(prefix, subject);
            }
        }
    }
    for (const std::string& prefix : prefixes.api) {
        if (!is_valid_literal_subject(prefix)) {
            return invalid_config("stream external api prefix " + go_quote(prefix) +
                                  " must be a valid subject without wildcards");
        }
        if (subjects_collide(prefix, kJsApiPrefix)) {
            return StreamExternalApiOverlap(prefix, kJsApiPrefix);
        }
    }
    return std::nullopt;
}

// The source-cycle walk of checkStreamCfg, breadth first over the origins that exist. Like
// nats-server it reports a "cycle" when an origin was already visited, which also catches some
// diamonds (A sources B and C, C sources B).
std::optional<ApiError> check_cycles(const StreamConfig& config,
                                     const StreamCheckOptions& options) {
    std::deque<const StreamConfig*> to_visit{&config};
    std::set<std::string, std::less<>> visited;
    for (size_t steps = 0; !to_visit.empty() && steps < kCycleWalkSteps; ++steps) {
        const StreamConfig* current = to_visit.front();
        to_visit.pop_front();
        visited.insert(current->name);
        if (current->sources.is_array()) {
            for (const Json& source : current->sources) {
                if (member(source, "external").is_object()) continue;
                std::string name = member_string(source, "name");
                if (visited.contains(name)) return invalid_config("detected cycle");
                if (const StreamConfig* origin = find(options, name)) to_visit.push_back(origin);
            }
        }
        const Json& mirror = current->mirror;
        if (mirror.is_object() && !member(mirror, "external").is_object()) {
            std::string name = member_string(mirror, "name");
            if (visited.contains(name)) return invalid_config("detected cycle");
            if (const StreamConfig* origin = find(options, name)) to_visit.push_back(origin);
        }
    }
    return std::nullopt;
}

std::optional<ApiError> check_subjects(StreamConfig& config) {
    if (config.subjects.empty()) {
        if (config.mirror.is_null() && !has_elements(config.sources)) {
            config.subjects.push_back(config.name);
        }
        return std::nullopt;
    }
    if (!config.mirror.is_null()) return MirrorWithSubjects();
    static const std::vector<std::string_view> kApiSubjects = tokenize("$JS.API.>");
    std::set<std::string_view> seen;
    for (const std::string& subject : config.subjects) {
        if (seen.contains(subject)) return invalid_config("duplicate subjects detected");
        if (is_subset_match(tokenize(subject), kApiSubjects)) {
            return invalid_config("subjects overlap with jetstream api");
        }
        if (!is_valid_subject(subject)) return invalid_config("invalid subject");
        seen.insert(subject);
    }
    return std::nullopt;
}

std::optional<ApiError> check_self_overlap(const StreamConfig& config) {
    if (config.subjects.size() < 2) return std::nullopt;
    for (const std::string& subject : config.subjects) {
        for (const std::string& other : config.subjects) {
            if (other != subject && subjects_collide(other, subject)) {
                return invalid_config("subject " + go_quote(subject) + " overlaps with " +
                                      go_quote(other));
            }
        }
    }
    return std::nullopt;
}

// 2.10's check of the stream's subject transform (an empty source is every subject).
std::optional<ApiError> check_subject_transform(const StreamConfig& config) {
    if (!config.subject_transform.is_object()) return std::nullopt;
    std::string source = member_string(config.subject_transform, "src");
    std::string destination = member_string(config.subject_transform, "dest");
    if (!source.empty() && !is_valid_subject(source)) return StreamTransformInvalidSource("invalid subject " + source);
    if (!is_valid_lenient_transform(source.empty() ? ">" : source, destination)) {
        return StreamTransformInvalidDestination("invalid mapping destination");
    }
    return std::nullopt;
}

std::optional<ApiError> check_republish(StreamConfig& config) {
    if (config.republish.is_null()) return std::nullopt;
    config.republish = canonical_republish(config.republish);
    if (!config.republish.is_object()) return std::nullopt;
    if (member_string(config.republish, "src").empty()) config.republish["src"] = ">";
    std::string source = member_string(config.republish, "src");
    std::string destination = member_string(config.republish, "dest");
    auto collides_with = [&](const std::string& subject) {
        return std::any_of(config.subjects.begin(), config.subjects.end(),
                           [&](const std::string& s) { return subjects_collide(subject, s); });
    };
    if (!collides_with(source)) {
        return invalid_config(
            "stream configuration for republish source is not valid subset of subjects");
    }
    if (collides_with(destination)) {
        return invalid_config("stream configuration for republish destination forms a cycle");
    }
    if (!is_valid_transform(source, destination)) {
        return invalid_config("stream configuration for republish not valid");
    }
    return std::nullopt;
}

// Defaults and the checks up to the mirror: name, description, replicas, limits, windows.
std::optional<ApiError> check_basics(StreamConfig& config, const StreamCheckOptions& options) {
    if (!is_valid_stream_name(config.name)) {
        return invalid_config("stream name is required and can not contain '.', '*', '>'");
    }
    if (config.name.size() > kMaxNameBytes) {
        return invalid_config("stream name is too long, maximum allowed is " +
                              std::to_string(kMaxNameBytes));
    }
    if (config.description.size() > kMaxDescriptionBytes) {
        return invalid_config("stream description is too long, maximum allowed is " +
                              std::to_string(kMaxDescriptionBytes));
    }
    if (config.num_replicas == 0) config.num_replicas = 1;
    if (config.num_replicas > kMaxReplicas) {
        return invalid_config("maximum replicas is " + std::to_string(kMaxReplicas));
    }
    if (config.num_replicas < 0) return ReplicasCountCannotBeNegative();
    if (config.max_msgs == 0) config.max_msgs = -1;
    if (config.max_msgs_per_subject == 0) config.max_msgs_per_subject = -1;
    if (config.max_bytes == 0) config.max_bytes = -1;
    if (config.max_msg_size == 0) config.max_msg_size = -1;
    if (config.max_consumers == 0) config.max_consumers = -1;
    const int64_t limit_ns = options.duplicate_window_max_ns;
    if (config.duplicate_window_ns == 0 && config.mirror.is_null()) {
        int64_t window_ns = kDefaultDuplicateWindowNs;
        if (limit_ns > 0 && window_ns > limit_ns) window_ns = limit_ns;
        config.duplicate_window_ns =
            config.max_age_ns != 0 && config.max_age_ns < window_ns ? config.max_age_ns : window_ns;
    }
    if (config.max_age_ns > 0 && config.max_age_ns < 100 * kMillisecondNs) {
        return invalid_config("max age needs to be >= 100ms");
    }
    if (config.duplicate_window_ns < 0) {
        return invalid_config("duplicates window can not be negative");
    }
    if (config.max_age_ns != 0 && config.duplicate_window_ns > config.max_age_ns) {
        return invalid_config("duplicates window can not be larger then max age");
    }
    if (limit_ns > 0 && config.duplicate_window_ns > limit_ns) {
        return invalid_config("duplicates window can not be larger then server limit of " +
                              go_duration(limit_ns));
    }
    if (config.duplicate_window_ns > 0 && config.duplicate_window_ns < 100 * kMillisecondNs) {
        return invalid_config("duplicates window needs to be >= 100ms");
    }
    if (config.deny_purge && config.allow_rollup_hdrs) {
        return invalid_config("roll-ups require the purge permission");
    }
    if (config.discard_new_per_subject) {
        if (config.discard != Discard::kNew) {
            return invalid_config("discard new per subject requires discard new policy to be set");
        }
        if (config.max_msgs_per_subject <= 0) {
            return invalid_config("discard new per subject requires max msgs per subject > 0");
        }
    }
    // As 2.11 without pedantic mode: markers turn on what they need.
    if (config.subject_delete_marker_ttl_ns > 0) {
        if (config.subject_delete_marker_ttl_ns < kSecondNs) {
            return invalid_config("subject delete marker TTL must be at least 1 second");
        }
        config.allow_msg_ttl = true;
        config.allow_rollup_hdrs = true;
        config.deny_purge = false;
    } else if (config.subject_delete_marker_ttl_ns < 0) {
        return invalid_config("subject delete marker TTL must not be negative");
    }
    return std::nullopt;
}

std::optional<ApiError> check_all(StreamConfig& config, const StreamCheckOptions& options) {
    // Configs built in code rather than parsed get the canonical nested shapes too.
    config.placement = canonical_placement(config.placement);
    config.mirror = canonical_source(config.mirror);
    config.sources = canonical_sources(config.sources);
    config.republish = canonical_republish(config.republish);
    if (auto error = check_basics(config, options)) return error;
    Prefixes prefixes;
    if (auto error = check_mirror(config, options, prefixes)) return error;
    if (auto error = check_sources(config, options, prefixes)) return error;
    if (auto error = check_prefixes(prefixes)) return error;
    if (auto error = check_cycles(config, options)) return error;
    if (auto error = check_subjects(config)) return error;
    if (config.subjects.empty() && !has_elements(config.sources) && config.mirror.is_null()) {
        return invalid_config("stream needs at least one configured subject or be a source/mirror");
    }
    int64_t max_stream_bytes = config.storage == Storage::kMemory
                                   ? options.memory_max_stream_bytes
                                   : options.storage_max_stream_bytes;
    if (options.max_bytes_required && config.max_bytes <= 0) return StreamMaxBytesRequired();
    if (max_stream_bytes > 0 && config.max_bytes > max_stream_bytes) {
        return StreamMaxStreamBytesExceeded();
    }
    if (auto error = check_self_overlap(config)) return error;
    if (auto error = check_subject_transform(config)) return error;
    if (auto error = check_republish(config)) return error;
    if (config.num_replicas > 1 && !options.allow_replicas) return StreamReplicasNotSupported();
    return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::optional<ApiError> refuse_newer_fields(std::string_view body) {
    nlohmann::json json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) return std::nullopt;  // the parser answers that
    auto in_use = [&](const char* field) {
        auto it = json.find(field);
        if (it == json.end() || it->is_null()) return false;
        if (it->is_boolean()) return it->get<bool>();
        if (it->is_number()) return it->get<double>() != 0;
        if (it->is_string()) return !it->get<std::string>().empty() && it->get<std::string>() != "none";
        return !it->empty();  // an object or array with something in it
    };
    for (const char* field : {"compression", "allow_msg_counter", "allow_atomic", "allow_msg_schedules"}) {
        if (in_use(field)) {
            return StreamInvalidConfig(std::string(field) + " is not supported by this ringtail version yet");
        }
    }
    return std::nullopt;
}

std::expected<StreamConfig, ApiError> parse_stream_config(std::string_view body) {
    std::optional<OrderedJson> document = internal::parse_go_json(body);
    if (!document) return std::unexpected(InvalidJSON());
    StreamConfig config;
    if (document->is_null()) return config;  // json.Unmarshal of null is a no-op
    if (!decode_object(*document, kConfigFields, config)) return std::unexpected(InvalidJSON());
    return config;
}

std::optional<ApiError> check_stream_create(std::string_view subject_stream_name,
                                            const StreamConfig& config) {
    if (subject_stream_name != config.name) return StreamMismatch();
    if (subject_stream_name.find_first_of("\\/") != std::string_view::npos) {
        return StreamNameContainsPathSeparators();
    }
    if (config.sealed) return invalid_config("stream configuration for create can not be sealed");
    if (config.mirror_direct && config.mirror.is_null()) {
        return invalid_config("stream has no mirror but does have mirror direct");
    }
    return std::nullopt;
}

std::expected<StreamConfig, ApiError> check_stream_config(StreamConfig config,
                                                          bool max_bytes_required) {
    StreamCheckOptions options;
    options.max_bytes_required = max_bytes_required;
    return check_stream_config(std::move(config), options);
}

std::expected<StreamConfig, ApiError> check_stream_config(StreamConfig config,
                                                          const StreamCheckOptions& options) {
    if (auto error = check_all(config, options)) return std::unexpected(std::move(*error));
    return config;
}

std::optional<ApiError> check_stream_update(const StreamConfig& old_config,
                                            const StreamConfig& new_config) {
    const StreamConfig& updated = new_config;
    if (updated.name != old_config.name) {
        return invalid_config("stream configuration name must match original");
    }
    if (updated.max_consumers != old_config.max_consumers) {
        return invalid_config("stream configuration update can not change MaxConsumers");
    }
    if (updated.storage != old_config.storage) {
        return invalid_config("stream configuration update can not change storage type");
    }
    if (updated.retention != old_config.retention) {
        return invalid_config("stream configuration update can not change retention policy");
    }
    if (!old_config.template_owner.empty()) {
        return invalid_config("stream configuration update not allowed on template owned stream");
    }
    if (!updated.template_owner.empty()) {
        return invalid_config("stream configuration update can not be owned by a template");
    }
    if (!updated.sealed && old_config.sealed) {
        return invalid_config("stream configuration update can not unseal a sealed stream");
    }
    if (!updated.deny_delete && old_config.deny_delete) {
        return invalid_config("stream configuration update can not cancel deny message deletes");
    }
    if (!updated.deny_purge && old_config.deny_purge) {
        return invalid_config("stream configuration update can not cancel deny purge");
    }
    if (!updated.allow_msg_ttl && old_config.allow_msg_ttl) {
        return invalid_config("message TTL status can not be disabled");
    }
    if (canonical_source(updated.mirror) != canonical_source(old_config.mirror)) {
        return StreamMirrorNotUpdatable();
    }
    if (canonical_republish(updated.republish) != canonical_republish(old_config.republish)) {
        return invalid_config("stream configuration update can not change RePublish");
    }
    if (updated.discard_new_per_subject) {
        if (updated.discard != Discard::kNew) {
            return invalid_config("discard new per subject requires discard new policy to be set");
        }
        if (updated.max_msgs_per_subject <= 0) {
            return invalid_config("discard new per subject requires max msgs per subject > 0");
        }
    }
    return std::nullopt;
}

std::expected<StreamConfig, ApiError> updated_stream_config(const StreamConfig& old_config,
                                                            StreamConfig new_config) {
    if (auto error = check_stream_update(old_config, new_config)) {
        return std::unexpected(std::move(*error));
    }
    if (new_config.sealed) {
        new_config.max_age_ns = 0;
        new_config.discard = Discard::kNew;
        new_config.deny_delete = true;
        new_config.deny_purge = true;
        new_config.allow_rollup_hdrs = false;
    }
    return new_config;
}

nlohmann::ordered_json to_ordered_json(const StreamConfig& config) {
    OrderedJson out = OrderedJson::object();
    out["name"] = config.name;
    if (!config.description.empty()) out["description"] = config.description;
    if (!config.subjects.empty()) out["subjects"] = config.subjects;
    out["retention"] = retention_text(config.retention);
    out["max_consumers"] = config.max_consumers;
    out["max_msgs"] = config.max_msgs;
    out["max_bytes"] = config.max_bytes;
    out["max_age"] = config.max_age_ns;
    out["max_msgs_per_subject"] = config.max_msgs_per_subject;
    if (config.max_msg_size != 0) out["max_msg_size"] = config.max_msg_size;
    out["discard"] = discard_text(config.discard);
    out["storage"] = storage_text(config.storage);
    out["num_replicas"] = config.num_replicas;
    if (config.no_ack) out["no_ack"] = true;
    if (!config.template_owner.empty()) out["template_owner"] = config.template_owner;
    if (config.duplicate_window_ns != 0) out["duplicate_window"] = config.duplicate_window_ns;
    if (!config.placement.is_null()) out["placement"] = placement_to_json(config.placement);
    if (!config.mirror.is_null()) out["mirror"] = source_to_json(config.mirror);
    if (has_elements(config.sources)) {
        OrderedJson sources = OrderedJson::array();
        for (const Json& source : config.sources) sources.push_back(source_to_json(source));
        out["sources"] = std::move(sources);
    }
    if (config.first_seq != 0) out["first_seq"] = config.first_seq;
    if (config.consumer_limits_inactive_threshold_ns != 0 || config.consumer_limits_max_ack_pending != 0) {
        // 2.10 always writes it; it is left out while empty, as 2.9 does not know it.
        OrderedJson limits = OrderedJson::object();
        if (config.consumer_limits_inactive_threshold_ns != 0) {
            limits["inactive_threshold"] = config.consumer_limits_inactive_threshold_ns;
        }
        if (config.consumer_limits_max_ack_pending != 0) limits["max_ack_pending"] = config.consumer_limits_max_ack_pending;
        out["consumer_limits"] = std::move(limits);
    }
    if (config.subject_transform.is_object()) {
        OrderedJson transform = OrderedJson::object();
        transform["src"] = member_string(config.subject_transform, "src");
        transform["dest"] = member_string(config.subject_transform, "dest");
        out["subject_transform"] = std::move(transform);
    }
    if (!config.republish.is_null()) out["republish"] = republish_to_json(config.republish);
    // 2.11 always writes allow_msg_ttl; left out while off, as 2.9 does not know it.
    if (config.allow_msg_ttl) out["allow_msg_ttl"] = true;
    if (config.subject_delete_marker_ttl_ns > 0) out["subject_delete_marker_ttl"] = config.subject_delete_marker_ttl_ns;
    out["allow_direct"] = config.allow_direct;
    out["mirror_direct"] = config.mirror_direct;
    if (config.discard_new_per_subject) out["discard_new_per_subject"] = true;
    out["sealed"] = config.sealed;
    out["deny_delete"] = config.deny_delete;
    out["deny_purge"] = config.deny_purge;
    out["allow_rollup_hdrs"] = config.allow_rollup_hdrs;
    if (config.metadata.is_object() && !config.metadata.empty()) {
        out["metadata"] = OrderedJson(config.metadata);
    }
    return out;
}

nlohmann::json to_json(const StreamConfig& config) { return Json(to_ordered_json(config)); }

bool same_config(const StreamConfig& a, const StreamConfig& b) {
    if (has_elements(a.sources) && has_elements(b.sources)) return false;
    return a.name == b.name && a.description == b.description && a.subjects == b.subjects &&
           a.retention == b.retention && a.max_consumers == b.max_consumers &&
           a.max_msgs == b.max_msgs && a.max_bytes == b.max_bytes && a.max_age_ns == b.max_age_ns &&
           a.max_msgs_per_subject == b.max_msgs_per_subject && a.max_msg_size == b.max_msg_size &&
           a.discard == b.discard && a.discard_new_per_subject == b.discard_new_per_subject &&
           a.storage == b.storage && a.num_replicas == b.num_replicas && a.no_ack == b.no_ack &&
           a.duplicate_window_ns == b.duplicate_window_ns && a.sealed == b.sealed &&
           a.deny_delete == b.deny_delete && a.deny_purge == b.deny_purge &&
           a.allow_rollup_hdrs == b.allow_rollup_hdrs && a.allow_direct == b.allow_direct &&
           a.mirror_direct == b.mirror_direct && a.first_seq == b.first_seq &&
           a.subject_transform == b.subject_transform &&
           a.consumer_limits_inactive_threshold_ns == b.consumer_limits_inactive_threshold_ns &&
           a.consumer_limits_max_ack_pending == b.consumer_limits_max_ack_pending &&
           a.allow_msg_ttl == b.allow_msg_ttl && a.subject_delete_marker_ttl_ns == b.subject_delete_marker_ttl_ns &&
           a.template_owner == b.template_owner &&
           canonical_placement(a.placement) == canonical_placement(b.placement) &&
           canonical_source(a.mirror) == canonical_source(b.mirror) &&
           canonical_sources(a.sources) == canonical_sources(b.sources) &&
           canonical_republish(a.republish) == canonical_republish(b.republish) &&
           a.metadata == b.metadata;
}

std::optional<SubjectTransform> SubjectTransform::make(std::string_view source, std::string_view destination) {
    if (!is_valid_lenient_transform(source, destination)) return std::nullopt;
    SubjectTransform transform;
    transform.source_ = source;
    transform.destination_ = destination;
    SubjectInfo from = subject_info(source);
    transform.source_token_count_ = from.tokens.size();
    transform.full_wildcard_ = from.full_wildcard;
    if (from.partial_wildcards == 0 && !from.full_wildcard) return transform;
    std::vector<size_t> wildcard_at;  // by wildcard number - 1: its token position
    for (size_t i = 0; i < from.tokens.size(); ++i) {
        if (from.tokens[i] == "*") wildcard_at.push_back(i);
    }
    for (std::string_view text : subject_info(destination).tokens) {
        PlaceholderInfo info = index_placeholders(text);
        Token token;
        if (info.kind == Placeholder::kNone) {
            token.text = text;
        } else {
            token.literal = false;
            token.function = info.function;
            token.int_arg = info.int_arg;
            token.string_arg = info.string_arg;
            for (int64_t index : info.wildcard_indexes) {
                // nats-server reads a missing index as position 0.
                token.source_indexes.push_back(index >= 1 && static_cast<size_t>(index) <= wildcard_at.size()
                                                   ? wildcard_at[static_cast<size_t>(index) - 1]
                                                   : 0);
            }
        }
        transform.tokens_.push_back(std::move(token));
    }
    return transform;
}

std::optional<std::string> SubjectTransform::apply(std::string_view subject) const {
    bool any = source_.empty() || source_ == ">";
    if (any && (destination_.empty() || destination_ == ">")) return std::string(subject);
    std::vector<std::string_view> tokens = tokenize(subject);
    for (std::string_view token : tokens) {
        if (token.empty() || is_pwc(token) || is_fwc(token)) return std::nullopt;
    }
    if (!any && !is_subset_match(tokens, tokenize(source_))) return std::nullopt;
    if (tokens_.empty()) return destination_;
    std::string out;
    for (size_t i = 0; i < tokens_.size(); ++i) {
        const Token& token = tokens_[i];
        if (token.literal) {
            if (token.text == ">") break;
            out += token.text;
        } else {
            std::string_view source = tokens[token.source_indexes.front()];
            switch (token.function) {
                case Function::kWildcard:
                    out += source;
                    break;
                case Function::kPartition: {
                    uint32_t hash = 2166136261u;  // FNV-1a, 32 bits
                    for (size_t index : token.source_indexes) {
                        for (char c : tokens[index]) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
                    }
                    // nats-server panics on zero partitions; here they all map to 0.
                    out += std::to_string(token.int_arg > 0 ? hash % static_cast<uint32_t>(token.int_arg) : 0);
                    break;
                }
                case Function::kSplitFromLeft:
                    base::cut_token(base::TokenCut::kSplitFromLeft, token.int_arg, {}, source, out);
                    break;
                case Function::kSplitFromRight:
                    base::cut_token(base::TokenCut::kSplitFromRight, token.int_arg, {}, source, out);
                    break;
                case Function::kSliceFromLeft:
                    base::cut_token(base::TokenCut::kSliceFromLeft, token.int_arg, {}, source, out);
                    break;
                case Function::kSliceFromRight:
                    base::cut_token(base::TokenCut::kSliceFromRight, token.int_arg, {}, source, out);
                    break;
                case Function::kSplit:
                    base::cut_token(base::TokenCut::kSplit, 0, token.string_arg, source, out);
                    break;
            }
        }
        if (i + 1 < tokens_.size()) out += '.';
    }
    if (!tokens_.empty() && tokens_.back().literal && tokens_.back().text == ">") {
        for (size_t i = source_token_count_ - 1; i < tokens.size(); ++i) {
            out += tokens[i];
            if (i + 1 < tokens.size()) out += '.';
        }
    }
    return out;
}

bool subjects_collide(std::string_view subject_a, std::string_view subject_b) {
    if (subject_a == subject_b) return true;
    std::vector<std::string_view> tokens_a = tokenize(subject_a);
    std::vector<std::string_view> tokens_b = tokenize(subject_b);
    auto analyze = [](const std::vector<std::string_view>& tokens, bool& pwc, bool& fwc) {
        for (std::string_view token : tokens) {
            pwc = pwc || is_pwc(token);
            fwc = fwc || is_fwc(token);
        }
    };
    bool pwc_a = false, fwc_a = false, pwc_b = false, fwc_b = false;
    analyze(tokens_a, pwc_a, fwc_a);
    analyze(tokens_b, pwc_b, fwc_b);
    bool literal_a = !(pwc_a || fwc_a);
    bool literal_b = !(pwc_b || fwc_b);
    if (literal_a && literal_b) return false;  // unequal literals
    if (literal_a) return is_subset_match(tokens_a, tokens_b);
    if (literal_b) return is_subset_match(tokens_b, tokens_a);
    size_t size_a = tokens_a.size();
    size_t size_b = tokens_b.size();
    if (!fwc_a && !fwc_b && size_a != size_b) return false;
    if ((size_a < size_b && !fwc_a) || (size_b < size_a && !fwc_b)) return false;
    size_t stop = std::min(size_a, size_b);
    for (size_t i = 0; i < stop; ++i) {
        if (!tokens_can_match(tokens_a[i], tokens_b[i])) return false;
    }
    return true;
}

bool subjects_overlap(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const std::string& subject_a : a) {
        for (const std::string& subject_b : b) {
            if (subjects_collide(subject_a, subject_b)) return true;
        }
    }
    return false;
}

}  // namespace ringtail::proto::js
