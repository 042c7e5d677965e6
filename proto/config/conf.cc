#include "proto/config/conf.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "proto/utf8.h"

// The nats-conf grammar (nats-server conf/lex.go, conf/parse.go), written as a recursive-descent
// parser over the bytes instead of Go's state-function lexer. Where nats-server accepts odd input
// by accident (a number directly followed by `]` becoming a string, a key with no value at EOF
// vanishing, an unknown size suffix silently dropping the key) this parser either does the
// obvious thing or reports an error; every document nats-server reads sensibly reads the same.

namespace ringtail::config {

std::string SourcePos::to_string() const { return absl::StrCat(file, ":", line, ":", column); }

std::string_view kind_name(ValueKind kind) {
    switch (kind) {
        case ValueKind::kString:
            return "string";
        case ValueKind::kInteger:
            return "integer";
        case ValueKind::kFloat:
            return "float";
        case ValueKind::kBool:
            return "boolean";
        case ValueKind::kDatetime:
            return "datetime";
        case ValueKind::kArray:
            return "array";
        case ValueKind::kMap:
            return "map";
    }
    return "value";
}

const MapEntry* Value::find(std::string_view key) const {
    if (kind != ValueKind::kMap) return nullptr;
    for (const MapEntry& entry : map) {
        if (entry.key == key) return &entry;
    }
    return nullptr;
}

namespace {

// Guards against stack exhaustion on hostile input; real configs nest a handful of levels.
constexpr int kNestingDepthMax = 64;
// nats-server has no limit and recurses forever on an include cycle; we refuse both.
constexpr size_t kIncludeDepthMax = 16;
constexpr size_t kEnvExpansionDepthMax = 16;

// bcrypt hashes ("$2a$11$...") are allowed unquoted although they start with '$'.
constexpr std::string_view kBcryptPrefix = "2a$";

// Debian's Abseil is built with its own string_view, distinct from std::string_view, so
// std::string_view arguments to absl::StrCat and friends go through this.
absl::string_view av(std::string_view text) { return absl::string_view(text.data(), text.size()); }

bool is_blank(char c) { return c == ' ' || c == '\t'; }
bool is_newline(char c) { return c == '\n' || c == '\r'; }
bool is_space(char c) { return is_blank(c) || is_newline(c) || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Characters that end an unquoted value (lexString's terminators, plus `]` for numbers).
bool ends_unquoted(char c) {
    return is_blank(c) || is_newline(c) || c == ';' || c == ',' || c == ']' || c == '}';
}

// How a character is shown inside an error message.
std::string show_char(char c) {
    switch (c) {
        case '\n':
            return "\\n";
        case '\r':
            return "\\r";
        case '\t':
            return "\\t";
        default:
            return std::string(1, c);
    }
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

absl::StatusOr<std::string> read_whole_file(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) return absl::NotFoundError(std::strerror(errno));
    std::string data;
    char buf[8192];
    for (;;) {
        size_t got = std::fread(buf, 1, sizeof(buf), file.get());
        data.append(buf, got);
        if (got < sizeof(buf)) break;
    }
    if (std::ferror(file.get())) return absl::InvalidArgumentError(std::strerror(errno));
    return data;
}

std::string parent_dir(const std::string& path) {
    std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return parent.string();
}

// State shared by a document and everything it pulls in (includes, environment variables),
// so that cycles through either are caught.
struct ParseContext {
    std::vector<std::string> include_chain;  // Canonical paths of files being parsed.
    std::vector<std::string> env_chain;      // Environment variables being expanded.
};

// Parses one document. Owner: a single parse call; not reused.
class Parser {
 public:
    Parser(std::string_view text, std::string file, std::string base_dir, ParseContext& context)
        : text_(text), file_(std::move(file)), base_dir_(std::move(base_dir)), context_(context) {}

    absl::StatusOr<Value> parse_document();

    // The reason of the last error without its position, for wrapping by an outer parser.
    const std::string& error_reason() const { return error_reason_; }

 private:
    // Keeps `scopes_` balanced when a map is left early because of an error.
    class ScopeGuard {
     public:
        ScopeGuard(Parser& parser, std::vector<MapEntry>* scope) : parser_(parser) {
            parser_.scopes_.push_back(scope);
        }
        ~ScopeGuard() { parser_.scopes_.pop_back(); }
        ScopeGuard(const ScopeGuard&) = delete;
        ScopeGuard& operator=(const ScopeGuard&) = delete;

     private:
        Parser& parser_;
    };

    bool at_end() const { return pos_ >= text_.size(); }
    char peek(size_t ahead = 0) const {
        return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
    }
    void advance() {
        if (text_[pos_] == '\n') {
            ++line_;
            line_start_ = pos_ + 1;
        }
        ++pos_;
    }
    SourcePos here() const { return {file_, line_, static_cast<int>(pos_ - line_start_) + 1}; }
    bool at_comment() const { return peek() == '#' || (peek() == '/' && peek(1) == '/'); }

    absl::Status error_at(const SourcePos& pos, std::string reason) {
        error_reason_ = std::move(reason);
        return absl::InvalidArgumentError(absl::StrCat(pos.to_string(), ": ", error_reason_));
    }

    void skip_blanks() {
        while (!at_end() && is_blank(peek())) advance();
    }
    void skip_comment() {
        while (!at_end() && !is_newline(peek())) advance();
    }
    void skip_space_and_comments() {
        while (!at_end()) {
            if (is_space(peek())) {
                advance();
            } else if (at_comment()) {
                skip_comment();
            } else {
                break;
            }
        }
    }

    absl::Status parse_entry(std::vector<MapEntry>& map, bool in_map, int depth);
    absl::Status parse_include(std::vector<MapEntry>& map, const SourcePos& include_pos);
    absl::StatusOr<Value> parse_value(int depth);
    absl::StatusOr<Value> parse_array(int depth);
    absl::StatusOr<Value> parse_map(int depth);
    absl::StatusOr<Value> parse_double_quoted();
    absl::StatusOr<Value> parse_single_quoted();
    absl::StatusOr<Value> parse_block();
    absl::StatusOr<Value> parse_unquoted();
    absl::Status parse_escape(std::string& out);
    absl::StatusOr<Value> classify_unquoted(std::string raw, const SourcePos& pos);
    absl::StatusOr<std::optional<Value>> parse_number(const std::string& raw, const SourcePos& pos);
    absl::StatusOr<Value> lookup_variable(const std::string& name, const SourcePos& pos);

    static void set_entry(std::vector<MapEntry>& map, MapEntry entry);

    std::string_view text_;
    std::string file_;
    std::string base_dir_;
    ParseContext& context_;
    size_t pos_ = 0;
    size_t line_start_ = 0;
    int line_ = 1;
    // Maps under construction, outermost first: `$name` looks for `name` from the innermost
    // outwards. Pointers stay valid because a map is not resized while a child is parsed.
    std::vector<std::vector<MapEntry>*> scopes_;
    std::string error_reason_;
};

void Parser::set_entry(std::vector<MapEntry>& map, MapEntry entry) {
    for (MapEntry& existing : map) {
        if (existing.key == entry.key) {
            existing = std::move(entry);
            return;
        }
    }
    map.push_back(std::move(entry));
}

absl::StatusOr<Value> Parser::parse_document() {
    Value root;
    root.kind = ValueKind::kMap;
    root.pos = {file_, 1, 1};
    ScopeGuard scope(*this, &root.map);

    // A whole document may sit inside one pair of braces, which is what makes JSON valid.
    skip_space_and_comments();
    bool braced = false;
    if (!at_end() && peek() == '{') {
        braced = true;
        advance();
    }
    for (;;) {
        skip_space_and_comments();
        if (at_end()) {
            if (braced) {
                return error_at(here(), "unexpected EOF, expected '}' to close the document");
            }
            break;
        }
        if (peek() == '}') {
            if (!braced) return error_at(here(), "unexpected '}' at the top level");
            advance();
            skip_space_and_comments();
            if (!at_end()) {
                return error_at(here(), absl::StrCat("unexpected '", show_char(peek()),
                                                     "' after the closing '}'"));
            }
            break;
        }
        absl::Status status = parse_entry(root.map, /*in_map=*/false, 0);
        if (!status.ok()) return status;

        // A top-level value ends at a new line, a comment, EOF, ';' or ','.
        skip_blanks();
        if (at_end()) continue;
        char c = peek();
        if (at_comment()) {
            skip_comment();
        } else if (is_newline(c) || c == ';' || c == ',') {
            advance();
        } else if (c != '}' || !braced) {
            return error_at(here(), absl::StrCat("expected a top-level value to end with a new "
                                                 "line, comment or EOF, but got '",
                                                 show_char(c), "' instead"));
        }
    }
    return root;
}

absl::Status Parser::parse_entry(std::vector<MapEntry>& map, bool in_map, int depth) {
    SourcePos key_pos = here();
    char c = peek();
    if (c == '=' || c == ':') {
        return error_at(key_pos, absl::StrCat("unexpected key separator '", show_char(c), "'"));
    }
    if (in_map && c == ']') return error_at(key_pos, "unexpected array end ']' processing map");

    std::string key;
    bool quoted = c == '"' || c == '\'';
    if (quoted) {
        advance();
        size_t start = pos_;
        while (!at_end() && peek() != c) advance();
        if (at_end()) return error_at(key_pos, "unexpected EOF processing quoted key");
        key.assign(text_.substr(start, pos_ - start));
        advance();
    } else {
        size_t start = pos_;
        while (!at_end() && !is_space(peek()) && peek() != '=' && peek() != ':') advance();
        key.assign(text_.substr(start, pos_ - start));
    }

    // `include` followed by a space is the include directive, not a key (lexer keyCheckKeyword).
    if (!quoted && !at_end() && is_space(peek()) && absl::AsciiStrToLower(key) == "include") {
        skip_blanks();
        if (!at_end() && is_newline(peek())) {
            return error_at(here(), "expected include value but found new line");
        }
        return parse_include(map, key_pos);
    }

    // The separator is optional, and a key may be separated from its value by new lines.
    skip_space_and_comments();
    if (at_end()) return error_at(key_pos, absl::StrCat("key '", key, "' has no value"));
    if (peek() == '=' || peek() == ':') advance();
    if (in_map) {
        // Inside a map, new lines may also follow the separator (lexMapValue).
        while (!at_end() && is_space(peek())) advance();
        if (at_end()) return error_at(here(), "unexpected EOF processing map");
        if (peek() == ',') return error_at(here(), "unexpected map value terminator ','");
        if (peek() == '}') return error_at(key_pos, absl::StrCat("key '", key, "' has no value"));
    }
    absl::StatusOr<Value> value = parse_value(depth);
    if (!value.ok()) return value.status();

    MapEntry entry;
    entry.key = std::move(key);
    entry.key_pos = std::move(key_pos);
    entry.value = *std::move(value);
    set_entry(map, std::move(entry));
    return absl::OkStatus();
}

absl::Status Parser::parse_include(std::vector<MapEntry>& map, const SourcePos& include_pos) {
    SourcePos name_pos = here();
    if (at_end()) return error_at(name_pos, "expected include value but found EOF");
    char c = peek();
    std::string name;
    if (c == '"' || c == '\'') {
        advance();
        size_t start = pos_;
        while (!at_end() && peek() != c) advance();
        if (at_end()) return error_at(name_pos, "unexpected EOF in quoted include");
        name.assign(text_.substr(start, pos_ - start));
        advance();
    } else {
        if (c == '[') {
            return error_at(name_pos, "expected include value but found start of an array");
        }
        if (c == '{') return error_at(name_pos, "expected include value but found start of a map");
        if (c == '(') {
            return error_at(name_pos, "expected include value but found start of a block");
        }
        if (is_digit(c) || c == '-') {
            return error_at(name_pos, "expected include value but found start of a number");
        }
        if (c == '\\') {
            return error_at(name_pos, "expected include value but found escape sequence");
        }
        size_t start = pos_;
        while (!at_end() && !is_space(peek()) && peek() != ';' && peek() != '}') advance();
        name.assign(text_.substr(start, pos_ - start));
    }
    if (name.empty()) return error_at(name_pos, "include needs a file name");

    std::filesystem::path path(name);
    if (path.is_relative() && !base_dir_.empty()) path = std::filesystem::path(base_dir_) / path;
    std::string path_text = path.string();

    std::error_code ec;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
    std::string identity = ec ? path_text : canonical.string();
    if (std::find(context_.include_chain.begin(), context_.include_chain.end(), identity) !=
        context_.include_chain.end()) {
        return error_at(include_pos,
                        absl::StrCat("include cycle: '", name, "' is already being included"));
    }
    if (context_.include_chain.size() >= kIncludeDepthMax) {
        return error_at(include_pos,
                        absl::StrCat("includes nested deeper than ", kIncludeDepthMax, " files"));
    }
    absl::StatusOr<std::string> data = read_whole_file(path_text);
    if (!data.ok()) {
        return error_at(include_pos, absl::StrCat("error opening include file '", name,
                                                  "': ", data.status().message()));
    }

    context_.include_chain.push_back(identity);
    Parser child(*data, path_text, parent_dir(path_text), context_);
    absl::StatusOr<Value> included = child.parse_document();
    context_.include_chain.pop_back();
    if (!included.ok()) {
        error_reason_ = child.error_reason();
        return absl::InvalidArgumentError(absl::StrCat(
            included.status().message(), " (included from ", include_pos.to_string(), ")"));
    }
    for (MapEntry& entry : included->map) set_entry(map, std::move(entry));
    return absl::OkStatus();
}

absl::StatusOr<Value> Parser::parse_value(int depth) {
    skip_blanks();
    SourcePos pos = here();
    if (at_end()) return error_at(pos, "expected a value but found EOF");
    if (depth > kNestingDepthMax) {
        return error_at(pos,
                        absl::StrCat("values nested deeper than ", kNestingDepthMax, " levels"));
    }
    char c = peek();
    switch (c) {
        case '[':
            return parse_array(depth);
        case '{':
            return parse_map(depth);
        case '"':
            return parse_double_quoted();
        case '\'':
            return parse_single_quoted();
        case '(':
            return parse_block();
        case '\n':
        case '\r':
            return error_at(pos, "expected a value but found new line");
        case '.':
            return error_at(pos, "floats must start with a digit");
        case ',':
        case ';':
        case ']':
        case '}':
            return error_at(pos, absl::StrCat("expected a value but got '", show_char(c), "'"));
        default:
            return parse_unquoted();
    }
}

absl::StatusOr<Value> Parser::parse_array(int depth) {
    Value array;
    array.kind = ValueKind::kArray;
    array.pos = here();
    advance();  // '['
    for (;;) {
        skip_space_and_comments();
        if (at_end()) return error_at(here(), "unexpected EOF processing array");
        char c = peek();
        if (c == ']') {
            advance();
            return array;
        }
        if (c == ',') return error_at(here(), "unexpected array value terminator ','");
        absl::StatusOr<Value> item = parse_value(depth + 1);
        if (!item.ok()) return item.status();
        array.array.push_back(*std::move(item));

        // Items are separated by ',' or new lines; a comment runs to the new line.
        skip_blanks();
        if (at_end()) return error_at(here(), "unexpected EOF processing array");
        c = peek();
        if (at_comment()) {
            skip_comment();
        } else if (c == ',' || is_newline(c)) {
            advance();
        } else if (c == ']') {
            advance();
            return array;
        } else {
            return error_at(here(), absl::StrCat("expected an array value terminator ',' or an "
                                                 "array terminator ']', but got '",
                                                 show_char(c), "' instead"));
        }
    }
}

absl::StatusOr<Value> Parser::parse_map(int depth) {
    Value map;
    map.kind = ValueKind::kMap;
    map.pos = here();
    advance();  // '{'
    ScopeGuard scope(*this, &map.map);
    for (;;) {
        skip_space_and_comments();
        if (at_end()) return error_at(here(), "unexpected EOF processing map");
        if (peek() == '}') {
            advance();
            return map;
        }
        absl::Status status = parse_entry(map.map, /*in_map=*/true, depth + 1);
        if (!status.ok()) return status;

        skip_blanks();
        if (at_end()) return error_at(here(), "unexpected EOF processing map");
        char c = peek();
        if (at_comment()) {
            skip_comment();
        } else if (c == ',' || c == ';' || is_newline(c)) {
            advance();
        } else if (c == '}') {
            advance();
            return map;
        } else {
            return error_at(here(), absl::StrCat("expected a map value terminator ',' or a map "
                                                 "terminator '}', but got '",
                                                 show_char(c), "' instead"));
        }
    }
}

absl::Status Parser::parse_escape(std::string& out) {
    SourcePos pos = here();
    advance();  // '\\'
    if (at_end()) return error_at(pos, "unexpected EOF in escape sequence");
    char c = peek();
    advance();
    switch (c) {
        case 't':
            out += '\t';
            return absl::OkStatus();
        case 'n':
            out += '\n';
            return absl::OkStatus();
        case 'r':
            out += '\r';
            return absl::OkStatus();
        case '"':
            out += '"';
            return absl::OkStatus();
        case '\\':
            out += '\\';
            return absl::OkStatus();
        // JSON's other escapes, so that any JSON document reads; nats-server rejects these.
        case '/':
            out += '/';
            return absl::OkStatus();
        case 'b':
            out += '\b';
            return absl::OkStatus();
        case 'f':
            out += '\f';
            return absl::OkStatus();
        case 'x': {
            int high = hex_digit(peek());
            int low = hex_digit(peek(1));
            if (pos_ + 2 > text_.size() || high < 0 || low < 0) {
                return error_at(pos, "expected two hexadecimal digits after '\\x'");
            }
            advance();
            advance();
            out += static_cast<char>(high * 16 + low);
            return absl::OkStatus();
        }
        case 'u': {
            auto read_quad = [this]() -> int32_t {
                int32_t cp = 0;
                for (size_t i = 0; i < 4; ++i) {
                    int digit = pos_ + i < text_.size() ? hex_digit(text_[pos_ + i]) : -1;
                    if (digit < 0) return -1;
                    cp = cp * 16 + digit;
                }
                for (int i = 0; i < 4; ++i) advance();
                return cp;
            };
            int32_t cp = read_quad();
            if (cp < 0) return error_at(pos, "expected four hexadecimal digits after '\\u'");
            // A UTF-16 surrogate pair spells one code point beyond the BMP.
            if (cp >= 0xD800 && cp <= 0xDBFF && peek() == '\\' && peek(1) == 'u') {
                size_t saved_pos = pos_;
                advance();
                advance();
                int32_t low = read_quad();
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                } else {
                    pos_ = saved_pos;  // Not a pair; the next escape is read on its own.
                }
            }
            proto::append_utf8(out, static_cast<uint32_t>(cp));
            return absl::OkStatus();
        }
        default:
            return error_at(pos, absl::StrCat("invalid escape character '", show_char(c),
                                              "'. Only the following escape characters are "
                                              "allowed: \\xXX, \\uXXXX, \\t, \\n, \\r, \\b, "
                                              "\\f, \\\", \\/, \\\\"));
    }
}

absl::StatusOr<Value> Parser::parse_double_quoted() {
    Value value;
    value.kind = ValueKind::kString;
    value.pos = here();
    advance();  // '"'
    for (;;) {
        if (at_end()) return error_at(value.pos, "unexpected EOF in quoted string");
        char c = peek();
        if (c == '"') {
            advance();
            return value;
        }
        if (c == '\\') {
            absl::Status status = parse_escape(value.text);
            if (!status.ok()) return status;
        } else {
            value.text += c;
            advance();
        }
    }
}

absl::StatusOr<Value> Parser::parse_single_quoted() {
    Value value;
    value.kind = ValueKind::kString;
    value.pos = here();
    advance();  // '\''
    size_t start = pos_;
    while (!at_end() && peek() != '\'') advance();
    if (at_end()) return error_at(value.pos, "unexpected EOF in quoted string");
    value.text.assign(text_.substr(start, pos_ - start));
    advance();
    return value;
}

// `( ... )`: raw text up to a line holding only ')'. The text keeps its final new line, as
// nats-server's lexBlock does.
absl::StatusOr<Value> Parser::parse_block() {
    Value value;
    value.kind = ValueKind::kString;
    value.pos = here();
    advance();  // '('
    size_t start = pos_;
    while (!at_end()) {
        bool closes = peek() == ')' && pos_ > start && text_[pos_ - 1] == '\n' &&
                      (pos_ + 1 >= text_.size() || is_newline(text_[pos_ + 1]));
        if (closes) {
            value.text.assign(text_.substr(start, pos_ - start));
            advance();
            return value;
        }
        advance();
    }
    return error_at(value.pos, "unexpected EOF processing block");
}

absl::StatusOr<Value> Parser::parse_unquoted() {
    SourcePos pos = here();
    std::string raw;
    bool escaped = false;
    while (!at_end() && !ends_unquoted(peek())) {
        if (peek() == '\\') {
            escaped = true;
            absl::Status status = parse_escape(raw);
            if (!status.ok()) return status;
        } else {
            raw += peek();
            advance();
        }
    }
    if (escaped) {
        // An escape makes the token a string, never a number, boolean or variable.
        Value value;
        value.kind = ValueKind::kString;
        value.text = std::move(raw);
        value.pos = std::move(pos);
        return value;
    }
    return classify_unquoted(std::move(raw), pos);
}

absl::StatusOr<Value> Parser::classify_unquoted(std::string raw, const SourcePos& pos) {
    std::string lower = absl::AsciiStrToLower(raw);
    if (lower == "true" || lower == "yes" || lower == "on" || lower == "false" || lower == "no" ||
        lower == "off") {
        Value value;
        value.kind = ValueKind::kBool;
        value.boolean = lower == "true" || lower == "yes" || lower == "on";
        value.pos = pos;
        return value;
    }
    if (raw[0] == '$') return lookup_variable(raw.substr(1), pos);
    if (raw[0] == '-' || is_digit(raw[0])) {
        absl::StatusOr<std::optional<Value>> number = parse_number(raw, pos);
        if (!number.ok()) return number.status();
        if (number->has_value()) return **std::move(number);
        if (raw[0] == '-') {
            return error_at(pos, absl::StrCat("expected a number after '-', got '", raw, "'"));
        }
        // Text that merely starts with a digit ("10s", "1h30m", "127.0.0.1:4222") is a string.
    }
    Value value;
    value.kind = ValueKind::kString;
    value.text = std::move(raw);
    value.pos = pos;
    return value;
}

// Integers (optionally with a size suffix), floats and Zulu datetimes. Returns nullopt when
// `raw` is none of these, an error when it is one of them but malformed or out of range.
absl::StatusOr<std::optional<Value>> Parser::parse_number(const std::string& raw,
                                                          const SourcePos& pos) {
    Value value;
    value.pos = pos;
    size_t i = raw[0] == '-' ? 1 : 0;
    size_t digits_start = i;
    while (i < raw.size() && is_digit(raw[i])) ++i;
    size_t digits_count = i - digits_start;
    if (digits_count == 0) return std::optional<Value>();

    // "2006-01-02T15:04:05Z"
    constexpr std::string_view kDatetimeShape = "0000-00-00T00:00:00Z";
    if (raw.size() == kDatetimeShape.size() && raw[0] != '-') {
        bool shaped = true;
        for (size_t k = 0; k < raw.size() && shaped; ++k) {
            shaped = kDatetimeShape[k] == '0' ? is_digit(raw[k]) : kDatetimeShape[k] == raw[k];
        }
        if (shaped) {
            auto field = [&raw](size_t at) { return (raw[at] - '0') * 10 + (raw[at + 1] - '0'); };
            int month = field(5), day = field(8), hour = field(11), minute = field(14);
            int second = field(17);
            if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
                second > 59) {
                return error_at(
                    pos, absl::StrCat("expected Zulu formatted DateTime, but got '", raw, "'"));
            }
            value.kind = ValueKind::kDatetime;
            value.text = raw;
            return std::optional<Value>(std::move(value));
        }
    }

    if (i < raw.size() && raw[i] == '.') {
        size_t frac_start = i + 1;
        size_t k = frac_start;
        while (k < raw.size() && is_digit(raw[k])) ++k;
        if (k == frac_start || k != raw.size()) return std::optional<Value>();
        double real = 0;
        auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), real);
        if (ec == std::errc::result_out_of_range) {
            return error_at(pos, absl::StrCat("float '", raw, "' is out of the range"));
        }
        if (ec != std::errc() || end != raw.data() + raw.size()) return std::optional<Value>();
        value.kind = ValueKind::kFloat;
        value.real = real;
        return std::optional<Value>(std::move(value));
    }

    int64_t multiplier = 1;
    if (i < raw.size()) {
        std::string suffix = absl::AsciiStrToLower(av(std::string_view(raw).substr(i)));
        // Only [kmgtpe][bi]* is a size suffix; anything else ("10s", "1e3") is a string.
        if (std::string_view("kmgtpe").find(suffix[0]) == std::string_view::npos) {
            return std::optional<Value>();
        }
        if (suffix.find_first_not_of("bi", 1) != std::string::npos) return std::optional<Value>();
        int power = static_cast<int>(std::string_view("kmgtpe").find(suffix[0])) + 1;
        std::string_view tail = std::string_view(suffix).substr(1);
        int64_t base = 0;
        if (tail.empty()) {
            base = 1000;
        } else if (tail == "b" || tail == "i" || tail == "ib") {
            base = 1024;
        } else {
            return error_at(pos, absl::StrCat("invalid size suffix in '", raw,
                                              "' (use k, kb, ki or kib, and so on)"));
        }
        for (int p = 0; p < power; ++p) {
            if (__builtin_mul_overflow(multiplier, base, &multiplier)) {
                return error_at(pos, absl::StrCat("integer '", raw, "' is out of the range"));
            }
        }
    }
    int64_t number = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + i, number);
    if (ec == std::errc::result_out_of_range ||
        (ec == std::errc() && __builtin_mul_overflow(number, multiplier, &number))) {
        return error_at(pos, absl::StrCat("integer '", raw, "' is out of the range"));
    }
    if (ec != std::errc() || end != raw.data() + i) {
        return error_at(pos, absl::StrCat("expected integer, but got '", raw, "'"));
    }
    value.kind = ValueKind::kInteger;
    value.integer = number;
    return std::optional<Value>(std::move(value));
}

absl::StatusOr<Value> Parser::lookup_variable(const std::string& name, const SourcePos& pos) {
    if (name.starts_with(kBcryptPrefix)) {
        Value value;
        value.kind = ValueKind::kString;
        value.text = absl::StrCat("$", name);
        value.pos = pos;
        return value;
    }
    // Earlier keys of this map and the maps around it, innermost first; arrays are skipped.
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
        for (MapEntry& entry : **scope) {
            if (entry.key != name) continue;
            entry.used_as_variable = true;
            Value value = entry.value;
            value.pos = pos;
            return value;
        }
    }
    // Then the environment, whose text is read as a value: "4222" is an integer, "true" a bool.
    const char* env = name.empty() ? nullptr : std::getenv(name.c_str());
    if (env == nullptr) {
        return error_at(pos, absl::StrCat("variable reference for '", name, "' on line ", pos.line,
                                          " can not be found"));
    }
    if (std::find(context_.env_chain.begin(), context_.env_chain.end(), name) !=
            context_.env_chain.end() ||
        context_.env_chain.size() >= kEnvExpansionDepthMax) {
        return error_at(pos, absl::StrCat("variable reference for '", name, "' on line ", pos.line,
                                          " refers to itself"));
    }
    Value value;
    value.kind = ValueKind::kString;
    value.pos = pos;
    if (*env != '\0') {
        std::string text = absl::StrCat("pk=", env);
        context_.env_chain.push_back(name);
        Parser child(text, absl::StrCat("$", name), base_dir_, context_);
        absl::StatusOr<Value> parsed = child.parse_document();
        context_.env_chain.pop_back();
        if (!parsed.ok()) {
            return error_at(pos,
                            absl::StrCat("variable reference for '", name, "' on line ", pos.line,
                                         " could not be parsed: ", child.error_reason()));
        }
        const MapEntry* entry = parsed->find("pk");
        if (entry != nullptr) {
            value = entry->value;
            value.pos = pos;
        }
    }
    return value;
}

}  // namespace

absl::StatusOr<Value> parse_conf_text(std::string_view text, const std::string& file_name,
                                      const std::string& base_dir) {
    ParseContext context;
    Parser parser(text, file_name, base_dir, context);
    return parser.parse_document();
}

absl::StatusOr<Value> parse_conf_file(const std::string& path) {
    absl::StatusOr<std::string> data = read_whole_file(path);
    if (!data.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("error opening config file: ", path, ": ", data.status().message()));
    }
    ParseContext context;
    std::error_code ec;
    std::filesystem::path canonical = std::filesystem::weakly_canonical(path, ec);
    context.include_chain.push_back(ec ? path : canonical.string());
    Parser parser(*data, path, parent_dir(path), context);
    return parser.parse_document();
}

std::string go_duration_text(std::chrono::milliseconds value) {
    int64_t ms = value.count();
    if (ms == 0) return "0s";
    if (ms < 1000) return std::to_string(ms) + "ms";
    int64_t hours = ms / 3'600'000;
    int64_t minutes = ms / 60'000 % 60;
    int64_t rest_ms = ms % 60'000;
    std::string out;
    if (hours > 0) out += std::to_string(hours) + "h";
    if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
    out += std::to_string(rest_ms / 1000);
    if (rest_ms % 1000 != 0) {
        char fraction[8];
        std::snprintf(fraction, sizeof fraction, ".%03ld", static_cast<long>(rest_ms % 1000));
        std::string digits = fraction;
        while (digits.back() == '0') digits.pop_back();
        out += digits;
    }
    return out + "s";
}

absl::StatusOr<int64_t> parse_go_duration_ns(std::string_view text) {
    auto invalid = [text]() {
        return absl::InvalidArgumentError(
            absl::StrCat("time: invalid duration \"", av(text), "\""));
    };
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0") return 0;
    if (s.empty()) return invalid();

    constexpr uint64_t kLimit = uint64_t{1} << 63;  // |int64 min|
    uint64_t total = 0;
    while (!s.empty()) {
        if (!(s[0] == '.' || is_digit(s[0]))) return invalid();
        uint64_t whole = 0;
        size_t i = 0;
        for (; i < s.size() && is_digit(s[i]); ++i) {
            uint64_t digit = static_cast<uint64_t>(s[i] - '0');
            if (whole > (kLimit - digit) / 10) return invalid();
            whole = whole * 10 + digit;
        }
        bool had_whole = i > 0;
        // Fraction digits beyond what fits are dropped, as Go does.
        uint64_t fraction = 0;
        double scale = 1;
        bool had_fraction = false;
        if (i < s.size() && s[i] == '.') {
            ++i;
            bool overflowed = false;
            for (; i < s.size() && is_digit(s[i]); ++i) {
                had_fraction = true;
                if (overflowed) continue;
                uint64_t digit = static_cast<uint64_t>(s[i] - '0');
                if (fraction > (std::numeric_limits<uint64_t>::max() / 10 - digit)) {
                    overflowed = true;
                    continue;
                }
                fraction = fraction * 10 + digit;
                scale *= 10;
            }
        }
        if (!had_whole && !had_fraction) return invalid();
        s.remove_prefix(i);

        size_t unit_len = 0;
        while (unit_len < s.size() && s[unit_len] != '.' && !is_digit(s[unit_len])) ++unit_len;
        std::string_view unit = s.substr(0, unit_len);
        s.remove_prefix(unit_len);
        if (unit.empty()) {
            return absl::InvalidArgumentError(
                absl::StrCat("time: missing unit in duration \"", av(text), "\""));
        }
        uint64_t unit_ns = 0;
        if (unit == "ns") {
            unit_ns = 1;
        } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {  // µs, μs
            unit_ns = 1'000;
        } else if (unit == "ms") {
            unit_ns = 1'000'000;
        } else if (unit == "s") {
            unit_ns = 1'000'000'000;
        } else if (unit == "m") {
            unit_ns = 60 * uint64_t{1'000'000'000};
        } else if (unit == "h") {
            unit_ns = 3600 * uint64_t{1'000'000'000};
        } else {
            return absl::InvalidArgumentError(absl::StrCat("time: unknown unit \"", av(unit),
                                                           "\" in duration \"", av(text), "\""));
        }
        if (whole > kLimit / unit_ns) return invalid();
        whole *= unit_ns;
        if (fraction > 0) {
            double extra = static_cast<double>(fraction) * (static_cast<double>(unit_ns) / scale);
            whole += static_cast<uint64_t>(extra);
            if (whole > kLimit) return invalid();
        }
        total += whole;
        if (total > kLimit) return invalid();
    }
    if (negative) {
        return total == kLimit ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(total);
    }
    if (total >= kLimit) return invalid();
    return static_cast<int64_t>(total);
}

}  // namespace ringtail::config
