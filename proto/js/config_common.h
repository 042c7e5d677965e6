#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Internal to proto/js: what stream_config.cc and consumer_config.cc share. Decoding a request
// body the way Go's json.Unmarshal decodes it into nats-server's structs, and nats-server's
// subject helpers with their quirks (server/sublist.go). Not part of the module's interface;
// include it only from proto/js/*.cc.
namespace ringtail::proto::js::internal {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// Decoding like json.Unmarshal

// Parses a request body as Go's decoder reads it, or nullopt where Go fails: a byte order mark,
// trailing data, nesting deeper than 10000. Invalid UTF-8 and escaped lone surrogates inside
// strings become U+FFFD, and a number too large for a double becomes 0.5 (Go skips it in an
// unknown field; in a known one both are errors). Objects keep every member in document order,
// duplicates included, so that decode_object visits them as Go does and the last one wins.
std::optional<OrderedJson> parse_go_json(std::string_view body);

// Go matches a key to a field case-insensitively, folding like its equalFoldRight (which also
// maps U+017F to 's' and U+212A to 'k'). Field names are given folded.
std::string fold_key(std::string_view key);

// Each getter leaves `out` alone for null (json.Unmarshal's "null is a no-op") and returns false
// for a value of the wrong type or out of range.
bool get_string(const OrderedJson& value, std::string& out);
bool get_bool(const OrderedJson& value, bool& out);
bool get_int64(const OrderedJson& value, int64_t& out);
bool get_int32(const OrderedJson& value, int32_t& out);
// A Go `int` is 64 bits; values beyond `int` saturate, which keeps every check's outcome.
bool get_int(const OrderedJson& value, int& out);
// A non-negative integer (nlohmann reads "-0" as 0, which Go's ParseUint refuses; no client
// sends it).
bool get_uint64(const OrderedJson& value, uint64_t& out);
// []string: null makes the slice nil; a null element becomes "".
bool get_string_list(const OrderedJson& value, Json& out);

// Decodes the members of object `value` into `target` through `fields`, a range of
// {folded json tag, bool (*)(const OrderedJson&, Target&)}: members visited in order, unknown
// ones ignored, the first failing decoder fails the whole object.
template <class Fields, class Target>
bool decode_object(const OrderedJson& value, const Fields& fields, Target& target) {
    if (!value.is_object()) return false;
    for (const auto& item : value.items()) {
        std::string key = fold_key(item.key());
        for (const auto& [name, decode] : fields) {
            if (key == name) {
                if (!decode(item.value(), target)) return false;
                break;
            }
        }
    }
    return true;
}

// Go's strconv.Atoi: an optional sign, then decimal digits, within int64.
std::optional<int64_t> go_atoi(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Subjects as nats-server's sublist.go handles them

std::vector<std::string_view> tokenize(std::string_view subject);
bool is_pwc(std::string_view token);
bool is_fwc(std::string_view token);
// isSubsetMatchTokenized: is every subject `tokens` matches also matched by `test`? nats-server
// looks only at the first byte of a test token for '*', so "*x" counts as a wildcard there.
bool is_subset_match(const std::vector<std::string_view>& tokens,
                     const std::vector<std::string_view>& test);
// subjectIsSubsetMatch(subject, test).
bool subject_is_subset_match(std::string_view subject, std::string_view test);
// subjectIsLiteral: no token is exactly "*" or ">" (validity aside).
bool subject_is_literal(std::string_view subject);

}  // namespace ringtail::proto::js::internal
