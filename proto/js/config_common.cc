#include "proto/js/config_common.h"

#include <charconv>
#include <climits>
#include <limits>
#include <system_error>
#include <utility>

namespace ringtail::proto::js::internal {
namespace {

constexpr size_t kMaxJsonDepth = 10'000;  // Go's encoding/json maxNestingDepth

// Replaces each byte of an invalid UTF-8 sequence with U+FFFD, as Go's decoder does inside
// strings (outside strings such bytes are a syntax error either way).
std::string replace_invalid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        auto b0 = static_cast<uint8_t>(text[i]);
        size_t width = 0;
        if (b0 < 0x80) {
            width = 1;
        } else {
            auto cont = [&](size_t k, uint8_t low, uint8_t high) {
                if (i + k >= text.size()) return false;
                auto b = static_cast<uint8_t>(text[i + k]);
                return b >= low && b <= high;
            };
            if (b0 >= 0xC2 && b0 <= 0xDF && cont(1, 0x80, 0xBF)) {
                width = 2;
            } else if (b0 >= 0xE0 && b0 <= 0xEF &&
                       cont(1, b0 == 0xE0 ? 0xA0 : 0x80, b0 == 0xED ? 0x9F : 0xBF) &&
                       cont(2, 0x80, 0xBF)) {
                width = 3;
            } else if (b0 >= 0xF0 && b0 <= 0xF4 &&
                       cont(1, b0 == 0xF0 ? 0x90 : 0x80, b0 == 0xF4 ? 0x8F : 0xBF) &&
                       cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF)) {
                width = 4;
            }
        }
        if (width == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(text.substr(i, width));
            i += width;
        }
    }
    return out;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view token) {
    size_t at = 0;
    auto digits = [&] {
        size_t start = at;
        while (at < token.size() && token[at] >= '0' && token[at] <= '9') ++at;
        return at > start;
    };
    if (at < token.size() && token[at] == '-') ++at;
    if (at < token.size() && token[at] == '0') {
        ++at;
    } else if (!digits()) {
        return false;
    }
    if (at < token.size() && token[at] == '.') {
        ++at;
        if (!digits()) return false;
    }
    if (at < token.size() && (token[at] == 'e' || token[at] == 'E')) {
        ++at;
        if (at < token.size() && (token[at] == '+' || token[at] == '-')) ++at;
        if (!digits()) return false;
    }
    return at == token.size();
}

// The value of the \uXXXX escape at `at`, or nullopt if it is not one.
std::optional<uint32_t> escape_value(std::string_view text, size_t at) {
    if (at + 6 > text.size() || text[at] != '\\' || text[at + 1] != 'u') return std::nullopt;
    uint32_t value = 0;
    for (size_t i = at + 2; i < at + 6; ++i) {
        char c = text[i];
        uint32_t digit = 0;
        if (c >= '0' && c <= '9') {
            digit = static_cast<uint32_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = static_cast<uint32_t>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            digit = static_cast<uint32_t>(c - 'A' + 10);
        } else {
            return std::nullopt;
        }
        value = value << 4 | digit;
    }
    return value;
}

// How many bytes of the "\u" escape at `at` to copy: 6 for an ordinary escape (or a malformed
// one, left to the parser), 12 for a surrogate pair, 0 for a lone surrogate, which Go's decoder
// turns into U+FFFD (consuming only that escape) and nlohmann refuses.
size_t surrogate_escape_width(std::string_view text, size_t at) {
    std::optional<uint32_t> value = escape_value(text, at);
    if (!value) return 2;
    if (*value < 0xD800 || *value > 0xDFFF) return 6;
    if (*value <= 0xDBFF) {
        std::optional<uint32_t> low = escape_value(text, at + 6);
        if (low && *low >= 0xDC00 && *low <= 0xDFFF) return 12;
    }
    return 0;
}

// Makes a body ready for nlohmann where it and Go's decoder disagree: invalid UTF-8 becomes
// U+FFFD, so does an escaped lone surrogate, and a number no double can hold (1e400) becomes 0.5,
// because Go skips it in an unknown field while nlohmann refuses the document; in a known field
// both are errors, as every known field is an integer, a bool or a string. nullopt for documents
// nested deeper than Go's limit of 10000, which nlohmann does not have.
std::optional<std::string> prepare_json(std::string_view body) {
    const std::string text = replace_invalid_utf8(body);
    std::string out;
    out.reserve(text.size());
    size_t depth = 0;
    bool in_string = false;
    size_t i = 0;
    while (i < text.size()) {
        char c = text[i];
        if (in_string) {
            if (c == '\\' && i + 1 < text.size() && text[i + 1] == 'u') {
                size_t width = surrogate_escape_width(text, i);
                if (width == 0) {
                    out += "\\ufffd";
                    i += 6;
                } else {
                    out.append(text, i, width);
                    i += width;
                }
                continue;
            }
            size_t width = c == '\\' && i + 1 < text.size() ? 2 : 1;
            if (c == '"') in_string = false;
            out.append(text, i, width);
            i += width;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t end = i;
            while (end < text.size() &&
                   std::string_view("0123456789+-.eE").find(text[end]) != std::string_view::npos) {
                ++end;
            }
            std::string_view token = std::string_view(text).substr(i, end - i);
            double value = 0;
            auto result = std::from_chars(token.data(), token.data() + token.size(), value);
            bool unrepresentable = result.ec == std::errc::result_out_of_range;
            out += is_json_number(token) && unrepresentable ? std::string_view("0.5") : token;
            i = end;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > kMaxJsonDepth) return std::nullopt;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
        out += c;
        ++i;
    }
    return out;
}

// Builds the document like nlohmann's DOM parser, except that a repeated key in an object is
// kept as a second member instead of overwriting the first: Go's decoder assigns every member
// in turn, so {"config":{..},"config":{..}} merges into one struct and the last scalar wins.
class KeepDuplicatesSax {
 public:
    explicit KeepDuplicatesSax(OrderedJson& root) : root_(root) {}

    bool null() { return add(nullptr); }
    bool boolean(bool value) { return add(value); }
    bool number_integer(OrderedJson::number_integer_t value) { return add(value); }
    bool number_unsigned(OrderedJson::number_unsigned_t value) { return add(value); }
    bool number_float(OrderedJson::number_float_t value, const std::string& /*text*/) {
        return add(value);
    }
    bool string(std::string& value) { return add(std::move(value)); }
    bool binary(OrderedJson::binary_t& /*value*/) { return false; }
    bool start_object(size_t /*size*/) { return open(OrderedJson::object()); }
    bool key(std::string& key) {
        key_ = std::move(key);
        return true;
    }
    bool end_object() { return close(); }
    bool start_array(size_t /*size*/) { return open(OrderedJson::array()); }
    bool end_array() { return close(); }
    bool parse_error(size_t /*position*/, const std::string& /*token*/,
                     const nlohmann::detail::exception& /*error*/) {
        return false;
    }

 private:
    // Appends `value` to the open container (or makes it the root) and returns its address,
    // which stays valid while it is open: nothing is appended to its ancestors meanwhile.
    OrderedJson* place(OrderedJson value) {
        if (open_.empty()) {
            root_ = std::move(value);
            return &root_;
        }
        OrderedJson& parent = *open_.back();
        if (parent.is_array()) {
            parent.push_back(std::move(value));
            return &parent.back();
        }
        // ordered_map is a vector of members; appending to the vector bypasses its key lookup.
        OrderedJson::object_t::Container& members = *parent.get_ptr<OrderedJson::object_t*>();
        members.emplace_back(std::move(key_), std::move(value));
        return &members.back().second;
    }
    bool add(OrderedJson value) {
        place(std::move(value));
        return true;
    }
    bool open(OrderedJson container) {
        open_.push_back(place(std::move(container)));
        return true;
    }
    bool close() {
        open_.pop_back();
        return true;
    }

    OrderedJson& root_;
    std::vector<OrderedJson*> open_;
    std::string key_;
};

}  // namespace

std::optional<OrderedJson> parse_go_json(std::string_view body) {
    // A byte order mark is no JSON to Go; nlohmann would skip it.
    if (body.starts_with("\xEF\xBB\xBF")) return std::nullopt;
    std::optional<std::string> text = prepare_json(body);
    if (!text) return std::nullopt;
    OrderedJson document;
    KeepDuplicatesSax sax(document);
    if (!OrderedJson::sax_parse(*text, &sax)) return std::nullopt;
    return document;
}

std::string fold_key(std::string_view key) {
    std::string out;
    out.reserve(key.size());
    for (size_t i = 0; i < key.size(); ++i) {
        char c = key[i];
        if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c - 'A' + 'a');
        } else if (key.substr(i, 2) == "\xC5\xBF") {
            out += 's';
            i += 1;
        } else if (key.substr(i, 3) == "\xE2\x84\xAA") {
            out += 'k';
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

bool get_string(const OrderedJson& value, std::string& out) {
    if (value.is_null()) return true;
    if (!value.is_string()) return false;
    out = value.get<std::string>();
    return true;
}

bool get_bool(const OrderedJson& value, bool& out) {
    if (value.is_null()) return true;
    if (!value.is_boolean()) return false;
    out = value.get<bool>();
    return true;
}

bool get_int64(const OrderedJson& value, int64_t& out) {
    if (value.is_null()) return true;
    if (value.is_number_integer() && !value.is_number_unsigned()) {
        out = value.get<int64_t>();
        return true;
    }
    if (value.is_number_unsigned()) {
        auto unsigned_value = value.get<uint64_t>();
        if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            return false;
        }
        out = static_cast<int64_t>(unsigned_value);
        return true;
    }
    return false;
}

bool get_int32(const OrderedJson& value, int32_t& out) {
    int64_t wide = out;
    if (!get_int64(value, wide)) return false;
    if (wide < INT32_MIN || wide > INT32_MAX) return false;
    out = static_cast<int32_t>(wide);
    return true;
}

bool get_int(const OrderedJson& value, int& out) {
    int64_t wide = out;
    if (!get_int64(value, wide)) return false;
    out = static_cast<int>(std::clamp<int64_t>(wide, INT_MIN, INT_MAX));
    return true;
}

bool get_uint64(const OrderedJson& value, uint64_t& out) {
    if (value.is_null()) return true;
    if (value.is_number_unsigned()) {
        out = value.get<uint64_t>();
        return true;
    }
    if (value.is_number_integer() && value.get<int64_t>() >= 0) {
        out = static_cast<uint64_t>(value.get<int64_t>());
        return true;
    }
    return false;
}

bool get_string_list(const OrderedJson& value, Json& out) {
    if (value.is_null()) {
        out = nullptr;
        return true;
    }
    if (!value.is_array()) return false;
    Json list = Json::array();
    for (const OrderedJson& element : value) {
        std::string text;
        if (!get_string(element, text)) return false;
        list.push_back(std::move(text));
    }
    out = std::move(list);
    return true;
}

std::optional<int64_t> go_atoi(std::string_view text) {
    bool negative = false;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text.empty()) return std::nullopt;
    uint64_t magnitude = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        if (magnitude > (std::numeric_limits<uint64_t>::max() - 9) / 10) return std::nullopt;
        magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');
    }
    constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (negative) {
        if (magnitude > kMax + 1) return std::nullopt;
        return magnitude == kMax + 1 ? std::numeric_limits<int64_t>::min()
                                     : -static_cast<int64_t>(magnitude);
    }
    if (magnitude > kMax) return std::nullopt;
    return static_cast<int64_t>(magnitude);
}

std::vector<std::string_view> tokenize(std::string_view subject) {
    std::vector<std::string_view> tokens;
    size_t start = 0;
    for (size_t i = 0; i <= subject.size(); ++i) {
        if (i == subject.size() || subject[i] == '.') {
            tokens.push_back(subject.substr(start, i - start));
            start = i + 1;
        }
    }
    return tokens;
}

bool is_pwc(std::string_view token) { return token == "*"; }
bool is_fwc(std::string_view token) { return token == ">"; }

bool is_subset_match(const std::vector<std::string_view>& tokens,
                     const std::vector<std::string_view>& test) {
    for (size_t i = 0; i < test.size(); ++i) {
        if (i >= tokens.size()) return false;
        std::string_view t2 = test[i];
        if (t2.empty()) return false;
        if (is_fwc(t2)) return true;
        std::string_view t1 = tokens[i];
        if (t1.empty() || is_fwc(t1)) return false;
        if (is_pwc(t1)) {
            if (!is_pwc(t2)) return false;
            continue;
        }
        if (t2[0] != '*' && t1 != t2) return false;
    }
    return tokens.size() == test.size();
}

bool subject_is_subset_match(std::string_view subject, std::string_view test) {
    return is_subset_match(tokenize(subject), tokenize(test));
}

bool subject_is_literal(std::string_view subject) {
    for (std::string_view token : tokenize(subject)) {
        if (is_pwc(token) || is_fwc(token)) return false;
    }
    return true;
}

}  // namespace ringtail::proto::js::internal
