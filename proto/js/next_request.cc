#include "proto/js/next_request.h"

#include <charconv>
#include <optional>
#include <system_error>
#include <vector>

#include "proto/js/config_common.h"
#include "proto/utf8.h"

namespace ringtail::proto::js {
namespace {

// What bytes.TrimSpace removes: ASCII white space and the other code points of
// unicode.IsSpace, in UTF-8. Invalid UTF-8 is never white space.
constexpr std::string_view kGoSpaces[] = {
    "\t",           "\n",           "\v",           "\f",           "\r",           " ",
    "\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81", "\xE2\x80\x82",
    "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86", "\xE2\x80\x87", "\xE2\x80\x88",
    "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F",
    "\xE3\x80\x80",
};

std::string_view trim_go_space(std::string_view body) {
    auto strip = [&](bool front) {
        for (std::string_view space : kGoSpaces) {
            if (front ? body.starts_with(space) : body.ends_with(space)) {
                front ? body.remove_prefix(space.size()) : body.remove_suffix(space.size());
                return true;
            }
        }
        return false;
    };
    while (strip(true)) {
    }
    while (strip(false)) {
    }
    return body;
}

bool is_space(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
bool is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Go's quoteChar: strconv.Quote of the byte taken as a rune, between single quotes, with the
// two quote characters left bare. A byte above 0x7F is the Latin-1 code point, so 0xC3 reads
// 'Ã' (written in UTF-8) and 0x85 reads '\u0085'.
std::string quote_char(uint8_t c) {
    if (c == '\'') return "'\\''";
    if (c == '"') return "'\"'";
    constexpr std::string_view kHex = "0123456789abcdef";
    constexpr std::string_view kEscaped = "\a\b\f\n\r\t\v\\", kEscapes = "abfnrtv\\";
    std::string out = "'";
    if (size_t escape = kEscaped.find(static_cast<char>(c)); escape != std::string_view::npos) {
        out += '\\';
        out += kEscapes[escape];
    } else if (c < 0x20 || c == 0x7F) {
        out += "\\x";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    } else if (c < 0x7F) {
        out += static_cast<char>(c);
    } else if (c <= 0xA0 || c == 0xAD) {  // not strconv.IsPrint
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    } else {
        append_utf8(out, c);
    }
    out += '\'';
    return out;
}

// Go's checkValid: the scanner of encoding/json/scanner.go, fed one byte at a time, because its
// errors name the byte where the grammar broke, and end of input is fed as a space (so `{"a":1.`
// fails "after decimal point" on ' ').
class SyntaxChecker {
 public:
    // The first syntax error in `json`, in Go's words.
    static std::optional<std::string> first_error(std::string_view json) {
        SyntaxChecker checker;
        for (char c : json) {
            if (!checker.step(static_cast<uint8_t>(c))) return checker.error_;
        }
        if (checker.end_top_) return std::nullopt;
        if (!checker.step(' ')) return checker.error_;
        if (checker.end_top_) return std::nullopt;
        return "unexpected end of JSON input";
    }

 private:
    static constexpr size_t kMaxDepth = 10'000;  // Go's maxNestingDepth

    enum class State : uint8_t {
        kBeginValueOrEmpty,   // after '['
        kBeginValue,          // where any value may start
        kBeginStringOrEmpty,  // after '{'
        kBeginString,         // after a ',' in an object
        kEndValue,
        kEndTop,
        kInString,
        kInStringEsc,
        kInStringEscU,  // hex_left_ digits to go
        kNeg,
        k1,  // in the digits of an integer part not starting with 0
        k0,  // after the integer part
        kDot,
        kDot0,
        kE,
        kESign,
        kE0,
        kLiteral,  // in true, false or null, at literal_[literal_at_]
        kError,
    };
    enum class Parse : uint8_t { kObjectKey, kObjectValue, kArrayValue };

    // False once the document is known to be invalid.
    bool step(uint8_t c) {
        switch (state_) {
            case State::kBeginValueOrEmpty:
                if (is_space(c)) return true;
                return c == ']' ? end_value(c) : begin_value(c);
            case State::kBeginValue:
                return begin_value(c);
            case State::kBeginStringOrEmpty:
                if (is_space(c)) return true;
                if (c == '}') {
                    stack_.back() = Parse::kObjectValue;
                    return end_value(c);
                }
                return begin_string(c);
            case State::kBeginString:
                return begin_string(c);
            case State::kEndValue:
                return end_value(c);
            case State::kEndTop:
                return is_space(c) || fail(c, "after top-level value");
            case State::kInString:
                if (c == '"') return go(State::kEndValue);
                if (c == '\\') return go(State::kInStringEsc);
                return c >= 0x20 || fail(c, "in string literal");
            case State::kInStringEsc:
                if (c == 'u') {
                    hex_left_ = 4;
                    return go(State::kInStringEscU);
                }
                if (std::string_view("bfnrt\\/\"").find(static_cast<char>(c)) !=
                    std::string_view::npos) {
                    return go(State::kInString);
                }
                return fail(c, "in string escape code");
            case State::kInStringEscU:
                if (!is_hex(c)) return fail(c, "in \\u hexadecimal character escape");
                if (--hex_left_ == 0) state_ = State::kInString;
                return true;
            case State::kNeg:
                if (c == '0') return go(State::k0);
                if (is_digit(c)) return go(State::k1);
                return fail(c, "in numeric literal");
            case State::k1:
                if (is_digit(c)) return true;
                [[fallthrough]];
            case State::k0:
                if (c == '.') return go(State::kDot);
                if (c == 'e' || c == 'E') return go(State::kE);
                return end_value(c);
            case State::kDot:
                if (is_digit(c)) return go(State::kDot0);
                return fail(c, "after decimal point in numeric literal");
            case State::kDot0:
                if (is_digit(c)) return true;
                if (c == 'e' || c == 'E') return go(State::kE);
                return end_value(c);
            case State::kE:
                if (c == '+' || c == '-') return go(State::kESign);
                [[fallthrough]];
            case State::kESign:
                if (is_digit(c)) return go(State::kE0);
                return fail(c, "in exponent of numeric literal");
            case State::kE0:
                return is_digit(c) || end_value(c);
            case State::kLiteral:
                if (c != static_cast<uint8_t>(literal_[literal_at_])) {
                    return fail(c, std::string("in literal ") + std::string(literal_) +
                                       " (expecting '" + literal_[literal_at_] + "')");
                }
                if (++literal_at_ == literal_.size()) state_ = State::kEndValue;
                return true;
            case State::kError:
                return false;
        }
        return false;
    }

    bool begin_value(uint8_t c) {
        if (is_space(c)) return true;
        switch (c) {
            case '{':
                state_ = State::kBeginStringOrEmpty;
                return push(c, Parse::kObjectKey);
            case '[':
                state_ = State::kBeginValueOrEmpty;
                return push(c, Parse::kArrayValue);
            case '"':
                return go(State::kInString);
            case '-':
                return go(State::kNeg);
            case '0':
                return go(State::k0);
            case 't':
                return literal("true");
            case 'f':
                return literal("false");
            case 'n':
                return literal("null");
            default:
                break;
        }
        if (is_digit(c)) return go(State::k1);
        return fail(c, "looking for beginning of value");
    }

    bool begin_string(uint8_t c) {
        if (is_space(c)) return true;
        if (c == '"') return go(State::kInString);
        return fail(c, "looking for beginning of object key string");
    }

    bool end_value(uint8_t c) {
        if (stack_.empty()) {
            end_top_ = true;
            state_ = State::kEndTop;
            return step(c);
        }
        if (is_space(c)) return go(State::kEndValue);
        switch (stack_.back()) {
            case Parse::kObjectKey:
                if (c != ':') return fail(c, "after object key");
                stack_.back() = Parse::kObjectValue;
                return go(State::kBeginValue);
            case Parse::kObjectValue:
                if (c == ',') {
                    stack_.back() = Parse::kObjectKey;
                    return go(State::kBeginString);
                }
                if (c != '}') return fail(c, "after object key:value pair");
                pop();
                return true;
            case Parse::kArrayValue:
                if (c == ',') return go(State::kBeginValue);
                if (c != ']') return fail(c, "after array element");
                pop();
                return true;
        }
        return false;
    }

    bool push(uint8_t c, Parse parse) {
        stack_.push_back(parse);
        return stack_.size() <= kMaxDepth || fail(c, "exceeded max depth");
    }

    void pop() {
        stack_.pop_back();
        end_top_ = stack_.empty();
        state_ = end_top_ ? State::kEndTop : State::kEndValue;
    }

    bool go(State next) {
        state_ = next;
        return true;
    }

    // The first byte of a literal has been read.
    bool literal(std::string_view word) {
        literal_ = word;
        literal_at_ = 1;
        return go(State::kLiteral);
    }

    bool fail(uint8_t c, std::string_view context) {
        state_ = State::kError;
        error_ = "invalid character " + quote_char(c) + " " + std::string(context);
        return false;
    }

    State state_ = State::kBeginValue;
    std::vector<Parse> stack_;
    bool end_top_ = false;
    int hex_left_ = 0;
    std::string_view literal_;
    size_t literal_at_ = 0;
    std::string error_;
};

// Reads members of a document SyntaxChecker accepted, so nothing is checked twice.
class MemberReader {
 public:
    // `json` starts with the '{' of the top-level object.
    explicit MemberReader(std::string_view json) : json_(json), at_(1) {}

    // The next key, unescaped, or nullopt after the last member.
    std::optional<std::string> next_key() {
        skip_space();
        if (json_[at_] == ',') ++at_;
        skip_space();
        if (json_[at_] == '}') return std::nullopt;
        std::string key = read_key();
        skip_space();
        ++at_;  // ':'
        return key;
    }

    // The value after the key just read, as written.
    std::string_view next_value() {
        skip_space();
        size_t start = at_;
        char c = json_[at_];
        if (c == '"') {
            skip_string();
        } else if (c == '{' || c == '[') {
            size_t depth = 0;
            do {
                c = json_[at_];
                if (c == '"') {
                    skip_string();
                    continue;
                }
                if (c == '{' || c == '[') ++depth;
                if (c == '}' || c == ']') --depth;
                ++at_;
            } while (depth > 0);
        } else {
            while (std::string_view(" \t\r\n,}").find(json_[at_]) == std::string_view::npos) ++at_;
        }
        return json_.substr(start, at_ - start);
    }

 private:
    void skip_space() {
        while (at_ < json_.size() && is_space(static_cast<uint8_t>(json_[at_]))) ++at_;
    }

    void skip_string() {
        ++at_;
        while (json_[at_] != '"') at_ += json_[at_] == '\\' ? 2U : 1U;
        ++at_;
    }

    // Only escapes that can spell a field name matter: any key holding a surrogate (or invalid
    // UTF-8, kept as it is) matches no field, which is all Go's U+FFFD would decide either.
    std::string read_key() {
        std::string key;
        ++at_;
        while (json_[at_] != '"') {
            char c = json_[at_++];
            if (c != '\\') {
                key += c;
                continue;
            }
            char escape = json_[at_++];
            if (escape != 'u') {
                constexpr std::string_view kFrom = "bfnrt", kTo = "\b\f\n\r\t";
                size_t index = kFrom.find(escape);
                key += index == std::string_view::npos ? escape : kTo[index];
                continue;
            }
            uint32_t code = 0;
            std::from_chars(json_.data() + at_, json_.data() + at_ + 4, code, 16);
            at_ += 4;
            append_utf8(key, code >= 0xD800 && code <= 0xDFFF ? 0xFFFD : code);
        }
        ++at_;
        return key;
    }

    std::string_view json_;
    size_t at_;
};

std::string type_error(std::string_view what, std::string_view field, std::string_view go_type) {
    return "json: cannot unmarshal " + std::string(what) +
           " into Go struct field JSApiConsumerGetNextRequest." + std::string(field) + " of type " +
           std::string(go_type);
}

// How Go's UnmarshalTypeError names a JSON value it could not store; numbers are named with
// their text only where the target is an integer.
std::string_view value_kind(std::string_view value) {
    switch (value.front()) {
        case '"':
            return "string";
        case '{':
            return "object";
        case '[':
            return "array";
        case 't':
        case 'f':
            return "bool";
        case 'n':
            return "null";
        default:
            return "number";
    }
}

struct IntField {
    std::string_view name;
    std::string_view go_type;
    int64_t NextRequest::*member;
};
constexpr IntField kIntFields[] = {
    {"expires", "time.Duration", &NextRequest::expires_ns},
    {"batch", "int", &NextRequest::batch},
    {"max_bytes", "int", &NextRequest::max_bytes},
    {"idle_heartbeat", "time.Duration", &NextRequest::idle_heartbeat_ns},
};

// json.Unmarshal into JSApiConsumerGetNextRequest once the syntax is known to be valid: members
// in order (so a repeated key's last value wins), keys matched case-insensitively, unknown keys
// and nulls skipped. Go keeps decoding after a type error only to report the first one.
std::expected<NextRequest, std::string> decode(std::string_view json) {
    NextRequest request{.batch = 0};
    MemberReader reader(json);
    while (std::optional<std::string> key = reader.next_key()) {
        std::string folded = internal::fold_key(*key);
        std::string_view value = reader.next_value();
        std::string_view kind = value_kind(value);
        if (kind == "null") continue;
        if (folded == "no_wait") {
            if (kind != "bool") return std::unexpected(type_error(kind, "no_wait", "bool"));
            request.no_wait = value == "true";
            continue;
        }
        for (const IntField& field : kIntFields) {
            if (folded != field.name) continue;
            if (kind != "number")
                return std::unexpected(type_error(kind, field.name, field.go_type));
            int64_t number = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
            if (error != std::errc() || end != value.data() + value.size()) {
                return std::unexpected(
                    type_error("number " + std::string(value), field.name, field.go_type));
            }
            request.*field.member = number;
        }
    }
    return request;
}

}  // namespace

std::expected<NextRequest, std::string> parse_next_request(std::string_view body) {
    body = trim_go_space(body);
    if (body.empty()) return NextRequest{};
    if (body.front() != '{') return NextRequest{.batch = internal::go_atoi(body).value_or(1)};
    if (std::optional<std::string> error = SyntaxChecker::first_error(body)) {
        return std::unexpected(std::move(*error));
    }
    std::expected<NextRequest, std::string> request = decode(body);
    if (request && request->idle_heartbeat_ns > 0) {
        // Go's time.Duration arithmetic wraps: a heartbeat of 2^62 ns or more doubles to a
        // negative number and passes.
        auto doubled = static_cast<int64_t>(static_cast<uint64_t>(request->idle_heartbeat_ns) * 2);
        if (doubled > request->expires_ns) return std::unexpected("heartbeat value too large");
    }
    return request;
}

}  // namespace ringtail::proto::js
