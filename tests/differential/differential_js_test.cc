// Differential tests of the JetStream JSON API: every scenario of corpus_js/ is a list of
// requests and publishes; each is sent to nats-server ("A", the reference) and to the server
// under test ("B", ringtail by default), both started with `-js -sd <fresh dir>`, and the
// replies must match after normalisation: JSON payloads field by field with times reduced to
// "zero or a well-formed time", raw replies (DIRECT.GET) by status line, header set and bytes.
// The corpus format and the ignore list are documented in README.md.
//
// Environment:
//   RT_DIFF_B=ringtail|nats-server|<path>  server B, as for differential_core (ringtail gets
//                                           `--shards 2`).
//   RT_DIFF_DUMP_DIR=<dir>                  write <dir>/<name>.js.{a,b}.txt, the rendered replies.
//   RT_DIFF_SHOW=1                          print both renderings even when they match.
//   RT_DIFF_JS_REPLY_MS=<ms>                how long to wait for a reply (default 1000); a
//                                           step with no reply by then records "no reply".

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/differential/scenario.h"
#include "tests/differential/servers.h"
#include "tests/support/raw_client.h"
#include "tests/support/server_process.h"

#ifndef RT_DIFF_JS_CORPUS_DIR
#error "RT_DIFF_JS_CORPUS_DIR must name the corpus directory"
#endif

namespace ringtail::test::differential {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr size_t kCorpusScenariosMin = 20;
constexpr uint32_t kRepeatCountMax = 10'000;
constexpr uint32_t kSleepMsMax = 5'000;
constexpr uint32_t kFillBytesMax = 8 * 1024 * 1024;
constexpr size_t kMismatchesShownMax = 8;
constexpr int kReplyWaitMsDefault = 1000;
constexpr std::string_view kInboxPrefix = "_INBOX.rtjs.";
constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";

// ---------------------------------------------------------------------------------------------
// Scenario

enum class JsStepKind : uint8_t {
    kPublish,  // REQ, PUB, HPUB, PUBFILL: a message with a reply subject; the reply is compared.
    kSleep,    // SLEEP ms.
};

struct Header {
    std::string key;
    std::string value;
    bool operator==(const Header&) const = default;
    auto operator<=>(const Header&) const = default;
};

struct JsStep {
    JsStepKind kind = JsStepKind::kPublish;
    std::string subject;
    bool has_headers = false;  // HPUB: sent as HPUB even when `headers` is empty.
    std::vector<Header> headers;
    std::string payload;
    uint32_t sleep_ms = 0;
    int line = 0;
    std::string text;  // The corpus line, for messages.
    // `# diverges: <why>` before the step: a nats-server 2.9.10 bug ringtail does not copy.
    // The step still runs on both (later steps see its effects); its replies are not compared.
    std::string diverges;
};

struct JsScenario {
    std::string name;
    std::string path;
    std::string summary;                   // The first comment line.
    std::vector<std::string> server_args;  // From `# args: ...`, after `-js -sd DIR`.
    std::vector<JsStep> steps;
};

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

// Splits off the first space-separated word of `rest`; `rest` keeps what follows the single
// space after it (so payloads keep their inner and trailing blanks as written).
std::string_view take_word(std::string_view& rest) {
    size_t end = rest.find(' ');
    std::string_view word = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    return word;
}

std::expected<uint32_t, std::string> parse_number(std::string_view text, uint32_t max) {
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > max) {
        return std::unexpected("bad number '" + std::string(text) + "'");
    }
    return value;
}

// `Key=Value;Key2=Value2`, each part escape-decoded after splitting.
std::expected<std::vector<Header>, std::string> parse_headers(std::string_view text) {
    std::vector<Header> headers;
    while (!text.empty()) {
        size_t end = text.find(';');
        std::string_view item = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        size_t equals = item.find('=');
        if (equals == std::string_view::npos || equals == 0) {
            return std::unexpected("header '" + std::string(item) + "' is not Key=Value");
        }
        auto key = decode_escapes(item.substr(0, equals));
        auto value = decode_escapes(item.substr(equals + 1));
        if (!key) return std::unexpected(key.error());
        if (!value) return std::unexpected(value.error());
        headers.push_back({*key, *value});
    }
    return headers;
}

std::expected<std::string, std::string> parse_subject(std::string_view word) {
    if (word.empty()) return std::unexpected(std::string("missing subject"));
    auto subject = decode_escapes(word);
    if (!subject) return std::unexpected(subject.error());
    return *subject;
}

// Parses one op line (no comment, no blank) into `steps`; REPEAT recurses on its tail.
std::expected<void, std::string> parse_op(std::string_view line, int number,
                                          std::vector<JsStep>& steps) {
    std::string_view rest = line;
    std::string op(take_word(rest));
    JsStep step;
    step.line = number;
    step.text = std::string(line);
    if (op == "REPEAT") {
        auto count = parse_number(take_word(rest), kRepeatCountMax);
        if (!count) return std::unexpected(count.error());
        for (uint32_t i = 0; i < *count; ++i) {
            if (auto done = parse_op(rest, number, steps); !done) return done;
        }
        return {};
    }
    if (op == "SLEEP") {
        auto ms = parse_number(rest, kSleepMsMax);
        if (!ms) return std::unexpected(ms.error());
        step.kind = JsStepKind::kSleep;
        step.sleep_ms = *ms;
        steps.push_back(std::move(step));
        return {};
    }
    if (op != "REQ" && op != "PUB" && op != "HPUB" && op != "PUBFILL") {
        return std::unexpected("unknown op '" + op + "'");
    }
    auto subject = parse_subject(take_word(rest));
    if (!subject) return std::unexpected(subject.error());
    step.subject = *subject;
    if (op == "HPUB") {
        auto headers = parse_headers(take_word(rest));
        if (!headers) return std::unexpected(headers.error());
        step.has_headers = true;
        step.headers = std::move(*headers);
    }
    if (op == "PUBFILL") {
        auto bytes = parse_number(rest, kFillBytesMax);
        if (!bytes) return std::unexpected(bytes.error());
        step.payload.assign(*bytes, 'x');
    } else {
        auto payload = decode_escapes(rest);
        if (!payload) return std::unexpected(payload.error());
        step.payload = std::move(*payload);
    }
    steps.push_back(std::move(step));
    return {};
}

std::expected<JsScenario, std::string> parse_js_scenario(std::string_view text, std::string name,
                                                         std::string path) {
    JsScenario scenario{std::move(name), std::move(path), {}, {}, {}};
    std::istringstream lines{std::string(text)};
    int number = 0;
    std::string diverges;
    for (std::string raw; std::getline(lines, raw);) {
        ++number;
        std::string_view line = raw;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (trim(line).empty()) continue;
        if (line.front() == '#') {
            std::string_view comment = trim(line.substr(1));
            if (comment.starts_with("diverges:")) {
                diverges = std::string(trim(comment.substr(9)));
            } else if (comment.starts_with("args:")) {
                std::istringstream words{std::string(comment.substr(5))};
                for (std::string word; words >> word;) scenario.server_args.push_back(word);
            } else if (scenario.summary.empty()) {
                scenario.summary = std::string(comment);
            }
            continue;
        }
        size_t first_new = scenario.steps.size();
        if (auto done = parse_op(line, number, scenario.steps); !done) {
            return std::unexpected(scenario.path + ":" + std::to_string(number) + ": " +
                                   done.error());
        }
        for (size_t i = first_new; i < scenario.steps.size(); ++i)
            scenario.steps[i].diverges = diverges;
        diverges.clear();
    }
    if (scenario.summary.empty()) {
        return std::unexpected(scenario.path + ": the first comment must say what it checks");
    }
    if (scenario.steps.empty()) return std::unexpected(scenario.path + ": no steps");
    return scenario;
}

std::expected<JsScenario, std::string> load_js_scenario(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected("cannot read " + path);
    std::stringstream text;
    text << in.rdbuf();
    return parse_js_scenario(text.str(), std::filesystem::path(path).stem().string(), path);
}

// ---------------------------------------------------------------------------------------------
// Client

// What one step got back. A reply is the first MSG/HMSG on the step's own inbox.
struct StepRecord {
    bool sent = false;
    bool replied = false;
    std::string status;           // First header line ("NATS/1.0 404 ..."); empty for MSG.
    std::vector<Header> headers;  // In arrival order.
    std::string payload;
    std::vector<std::string> notes;  // -ERR lines, a closed connection, a protocol error.
};

milliseconds remaining(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    return left.count() < 0 ? milliseconds(0) : left;
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::istringstream stream{std::string(text)};
    for (std::string word; stream >> word;) words.push_back(word);
    return words;
}

std::optional<size_t> parse_size(const std::string& text) {
    size_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Splits a received header block into its status line and headers.
void parse_header_block(std::string_view block, StepRecord& record) {
    size_t eol = block.find("\r\n");
    record.status = std::string(block.substr(0, eol));
    if (eol == std::string_view::npos) return;
    block.remove_prefix(eol + 2);
    while (!block.empty()) {
        eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
        if (line.empty()) continue;
        size_t colon = line.find(':');
        std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
        record.headers.push_back({std::string(line.substr(0, colon)), std::string(trim(value))});
    }
}

// One raw NATS connection that sends each step with a fresh reply inbox and waits for the
// reply. Owner: one player thread. Lifecycle: connect() once, then request() per step.
class JsClient {
 public:
    bool connect(int port) {
        if (!client_.connect(port) || !client_.read_info()) return false;
        offset_ = client_.received().find("\r\n") + 2;
        std::string hello =
            "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,"
            "\"no_responders\":true,\"protocol\":1,\"lang\":\"rt-diff-js\",\"version\":\"0\"}\r\n"
            "SUB " +
            std::string(kInboxPrefix) + "* 1\r\nPING\r\n";
        if (!client_.send(hello) || !client_.read_until("PONG\r\n", std::chrono::seconds(5))) {
            return false;
        }
        offset_ = client_.received().find("PONG\r\n") + 6;
        return true;
    }

    StepRecord request(const JsStep& step, milliseconds wait) {
        StepRecord record;
        std::string inbox = std::string(kInboxPrefix) + std::to_string(++requests_);
        record.sent = !client_.closed() && client_.send(encode(step, inbox));
        if (!record.sent) {
            record.notes.push_back("not sent: connection closed");
            return record;
        }
        await_reply(inbox, Clock::now() + wait, record);
        return record;
    }

 private:
    static std::string encode(const JsStep& step, const std::string& inbox) {
        if (!step.has_headers) {
            return "PUB " + step.subject + " " + inbox + " " + std::to_string(step.payload.size()) +
                   "\r\n" + step.payload + "\r\n";
        }
        std::string block = "NATS/1.0\r\n";
        for (const Header& header : step.headers) {
            block += header.key + ": " + header.value + "\r\n";
        }
        block += "\r\n";
        return "HPUB " + step.subject + " " + inbox + " " + std::to_string(block.size()) + " " +
               std::to_string(block.size() + step.payload.size()) + "\r\n" + block + step.payload +
               "\r\n";
    }

    // Reads frames until the reply on `inbox` arrives, the connection closes or the deadline
    // passes. Replies to other inboxes (late replies to earlier steps) are skipped.
    void await_reply(const std::string& inbox, Clock::time_point deadline, StepRecord& record) {
        while (true) {
            if (!client_.read_until("\r\n", remaining(deadline), offset_)) {
                if (client_.closed()) record.notes.push_back("connection closed by server");
                return;
            }
            const std::string& text = client_.received();
            size_t eol = text.find("\r\n", offset_);
            std::string line = text.substr(offset_, eol - offset_);
            if (!line.starts_with("MSG ") && !line.starts_with("HMSG ")) {
                offset_ = eol + 2;
                if (line == "PING") client_.send("PONG\r\n");
                if (line.starts_with("-ERR")) record.notes.push_back(line);
                continue;
            }
            std::optional<bool> done = read_msg(line, eol + 2, inbox, deadline, record);
            if (!done.has_value() || *done) return;
        }
    }

    // Reads the body of the MSG/HMSG whose control line is `line`; returns true when it was the
    // reply, false when it was for another inbox, nullopt when it could not be read.
    std::optional<bool> read_msg(const std::string& line, size_t body_at, const std::string& inbox,
                                 Clock::time_point deadline, StepRecord& record) {
        std::vector<std::string> words = split_words(line);
        bool with_headers = words[0] == "HMSG";
        size_t arity = with_headers ? 5 : 4;
        std::optional<size_t> total = words.size() >= arity ? parse_size(words.back()) : 0;
        std::optional<size_t> header_bytes =
            with_headers && words.size() >= arity ? parse_size(words[words.size() - 2]) : 0;
        if (words.size() < arity || words.size() > arity + 1 || !total || !header_bytes ||
            *header_bytes > *total) {
            record.notes.push_back("protocol error: bad control line '" + line + "'");
            return std::nullopt;
        }
        size_t end = body_at + *total;
        if (!client_.read_until("\r\n", remaining(deadline), end)) return std::nullopt;
        const std::string& text = client_.received();
        if (text.compare(end, 2, "\r\n") != 0) {
            record.notes.push_back("protocol error: payload not followed by CRLF");
            return std::nullopt;
        }
        offset_ = end + 2;
        if (words[1] != inbox) return false;
        record.replied = true;
        if (with_headers) {
            parse_header_block(std::string_view(text).substr(body_at, *header_bytes), record);
        }
        record.payload = text.substr(body_at + *header_bytes, *total - *header_bytes);
        return true;
    }

    RawClient client_;
    size_t offset_ = 0;  // Start of the first frame not yet consumed in client_.received().
    uint64_t requests_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Normalisation and comparison

// Keys whose values are wall-clock times: both sides must hold the zero time, or both a
// well-formed RFC 3339 UTC time; the instant itself is not compared.
bool is_time_key(std::string_view key) {
    return key == "created" || key == "ts" || key == "first_ts" || key == "last_ts" ||
           key == "time";
}

// Paths (with array indexes written as []) whose values are server identities. Neither server
// runs clustered here, so they should be absent; if present only their type is compared.
bool is_id_path(std::string_view path) {
    return path == "cluster.leader" || path.ends_with("server_id") ||
           path == "streams[].cluster.leader";
}

// True for the shape Go's RFC3339Nano gives in UTC: "2006-01-02T15:04:05[.fraction]Z", with a
// fraction of 1 to 9 digits. (Hand-written: std::regex trips g++ 12's -Wmaybe-uninitialized
// under ASan at -O1.)
bool is_rfc3339_utc(std::string_view text) {
    constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
    if (text.size() < kShape.size() + 1 || text.back() != 'Z') return false;
    for (size_t i = 0; i < kShape.size(); ++i) {
        const bool digit = std::isdigit(static_cast<unsigned char>(text[i])) != 0;
        if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return false;
    }
    std::string_view fraction = text.substr(kShape.size(), text.size() - kShape.size() - 1);
    if (fraction.empty()) return true;
    if (fraction[0] != '.' || fraction.size() < 2 || fraction.size() > 10) return false;
    return std::all_of(fraction.begin() + 1, fraction.end(),
                       [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

std::string time_class(const json& value) {
    if (!value.is_string()) return "not a string: " + value.dump();
    const std::string& text = value.get_ref<const std::string&>();
    if (text == kZeroTime) return "<zero time>";
    if (is_rfc3339_utc(text)) return "<time>";
    return "malformed time: " + text;
}

std::string join_path(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
}

// Appends one line per difference between `a` and `b` to `out`. `path` names the value for
// messages ("streams[2].state.bytes"), `shape` is the path with indexes dropped ("streams[].
// state.bytes") and `key` the object key it was found under ("" for array elements).
void diff_json(const json& a, const json& b, const std::string& path, const std::string& shape,
               const std::string& key, std::vector<std::string>& out) {
    // Subject names in state.subjects are data, even a subject called "time".
    if (is_time_key(key) && !shape.starts_with("state.subjects.")) {
        std::string class_a = time_class(a);
        std::string class_b = time_class(b);
        if (class_a != class_b || !class_a.starts_with("<")) {
            out.push_back(path + ": A " + class_a + ", B " + class_b);
        }
        return;
    }
    if (is_id_path(shape)) {
        if (a.type() != b.type()) out.push_back(path + ": A " + a.dump() + ", B " + b.dump());
        return;
    }
    bool both_numbers = a.is_number() && b.is_number();
    if (a.type() != b.type() && !both_numbers) {
        out.push_back(path + ": A " + a.dump() + ", B " + b.dump());
        return;
    }
    if (a.is_object()) {
        for (const auto& [name, value] : a.items()) {
            if (!b.contains(name)) {
                out.push_back(join_path(path, name) + ": only in A: " + value.dump());
                continue;
            }
            diff_json(value, b.at(name), join_path(path, name), join_path(shape, name), name, out);
        }
        for (const auto& [name, value] : b.items()) {
            if (!a.contains(name))
                out.push_back(join_path(path, name) + ": only in B: " + value.dump());
        }
        return;
    }
    if (a.is_array()) {
        if (a.size() != b.size()) {
            out.push_back(path + ": A has " + std::to_string(a.size()) + " elements, B " +
                          std::to_string(b.size()));
        }
        for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
            diff_json(a[i], b[i], path + "[" + std::to_string(i) + "]", shape + "[]", "", out);
        }
        return;
    }
    if (a != b) out.push_back(path + ": A " + a.dump() + ", B " + b.dump());
}

std::optional<json> parse_json_payload(const std::string& payload) {
    std::string_view text = trim(payload);
    if (!text.starts_with('{') && !text.starts_with('[')) return std::nullopt;
    json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) return std::nullopt;
    return value;
}

// Headers as compared: sorted (clients read them as a map; nats-server's order is not part
// of the contract) and with the Nats-Time-Stamp instant reduced to its time class.
std::vector<Header> normalized_headers(const std::vector<Header>& headers) {
    std::vector<Header> out = headers;
    for (Header& header : out) {
        if (header.key == "Nats-Time-Stamp") header.value = time_class(json(header.value));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string escape_bytes(std::string_view bytes) {
    std::string out;
    for (char c : bytes) {
        auto u = static_cast<unsigned char>(c);
        if (c == '\\') {
            out += "\\\\";
        } else if (u >= 0x20 && u < 0x7f) {
            out.push_back(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "\\x%02x", u);
            out += hex;
        }
    }
    return out;
}

// Differences between the two records of one step; empty when they match.
std::vector<std::string> diff_records(const StepRecord& a, const StepRecord& b) {
    std::vector<std::string> out;
    if (a.replied != b.replied) {
        out.push_back(std::string("reply: A ") + (a.replied ? "replied" : "no reply") + ", B " +
                      (b.replied ? "replied" : "no reply"));
    }
    if (a.notes != b.notes) out.push_back("notes (-ERR, close) differ");
    if (a.status != b.status)
        out.push_back("status line: A '" + a.status + "', B '" + b.status + "'");
    std::vector<Header> headers_a = normalized_headers(a.headers);
    std::vector<Header> headers_b = normalized_headers(b.headers);
    if (headers_a != headers_b) out.push_back("headers differ");
    std::optional<json> json_a = parse_json_payload(a.payload);
    std::optional<json> json_b = parse_json_payload(b.payload);
    if (json_a.has_value() && json_b.has_value()) {
        diff_json(*json_a, *json_b, "", "", "", out);
    } else if (json_a.has_value() != json_b.has_value()) {
        out.push_back(std::string("payload: JSON on ") + (json_a ? "A" : "B") + " only");
    } else if (a.payload != b.payload) {
        out.push_back("payload bytes differ");
    }
    return out;
}

std::string render_record(const StepRecord& record) {
    std::string out;
    if (!record.replied) out += "  <no reply>\n";
    for (const std::string& note : record.notes) out += "  note: " + note + "\n";
    if (!record.replied) return out;
    if (!record.status.empty()) out += "  status: " + record.status + "\n";
    for (const Header& header : normalized_headers(record.headers)) {
        out += "  header: " + header.key + ": " + header.value + "\n";
    }
    if (std::optional<json> value = parse_json_payload(record.payload)) {
        std::string pretty = value->dump(2);
        for (size_t at = 0; at < pretty.size();) {
            size_t eol = pretty.find('\n', at);
            out += "  " + pretty.substr(at, eol - at) + "\n";
            at = eol == std::string::npos ? pretty.size() : eol + 1;
        }
    } else {
        out += "  payload (" + std::to_string(record.payload.size()) + " bytes): \"" +
               escape_bytes(record.payload.substr(0, 400)) + "\"\n";
    }
    return out;
}

std::string render_all(const JsScenario& scenario, const std::vector<StepRecord>& records) {
    std::string out;
    for (size_t i = 0; i < records.size(); ++i) {
        const JsStep& step = scenario.steps[i];
        if (step.kind == JsStepKind::kSleep) continue;
        out += "line " + std::to_string(step.line) + ": " + step.text.substr(0, 200) + "\n";
        out += render_record(records[i]);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Running

milliseconds reply_wait() {
    std::string text = env_text("RT_DIFF_JS_REPLY_MS");
    return milliseconds(text.empty() ? kReplyWaitMsDefault : std::atoi(text.c_str()));
}

// A fresh store directory for one server, removed with this object.
class StoreDir {
 public:
    StoreDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "ringtail-diffjs-XXXXXX").string();
        if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    }
    ~StoreDir() {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    StoreDir(const StoreDir&) = delete;
    StoreDir& operator=(const StoreDir&) = delete;
    const std::string& path() const { return path_; }

 private:
    std::string path_;
};

// Plays every step against `port`; records one entry per step (sleeps get an empty one).
std::vector<StepRecord> play_js(const JsScenario& scenario, int port, milliseconds wait) {
    std::vector<StepRecord> records(scenario.steps.size());
    JsClient client;
    if (!client.connect(port)) {
        for (StepRecord& record : records) record.notes.push_back("could not connect");
        return records;
    }
    for (size_t i = 0; i < scenario.steps.size(); ++i) {
        const JsStep& step = scenario.steps[i];
        if (step.kind == JsStepKind::kSleep) {
            std::this_thread::sleep_for(milliseconds(step.sleep_ms));
            continue;
        }
        records[i] = client.request(step, wait);
    }
    return records;
}

std::string test_name(const std::string& path) {
    std::string name = std::filesystem::path(path).stem().string();
    for (char& c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
    }
    return name;
}

// Reports every step whose records differ; returns how many did.
size_t report_mismatches(const JsScenario& scenario, const std::vector<StepRecord>& records_a,
                         const std::vector<StepRecord>& records_b, const std::string& label_b) {
    size_t mismatches = 0;
    for (size_t i = 0; i < scenario.steps.size(); ++i) {
        std::vector<std::string> differences = diff_records(records_a[i], records_b[i]);
        if (differences.empty()) continue;
        if (!scenario.steps[i].diverges.empty()) {
            std::printf("%s:%d: known divergence (%s)\n", scenario.path.c_str(),
                        scenario.steps[i].line, scenario.steps[i].diverges.c_str());
            continue;
        }
        if (++mismatches > kMismatchesShownMax) continue;
        std::string listed;
        for (const std::string& difference : differences) listed += "  " + difference + "\n";
        const JsStep& step = scenario.steps[i];
        ADD_FAILURE() << scenario.path << ":" << step.line << ": " << step.text.substr(0, 200)
                      << "\ndifferences:\n"
                      << listed << "=== A: nats-server\n"
                      << render_record(records_a[i]) << "=== B: " << label_b << "\n"
                      << render_record(records_b[i]);
    }
    if (mismatches > kMismatchesShownMax) {
        ADD_FAILURE() << (mismatches - kMismatchesShownMax) << " more differing steps not shown";
    }
    return mismatches;
}

class DifferentialJs : public ::testing::TestWithParam<std::string> {};

TEST_P(DifferentialJs, SameReplies) {
    auto scenario = load_js_scenario(GetParam());
    ASSERT_TRUE(scenario.has_value()) << scenario.error();

    ServerSpec spec_a = server_a();
    ServerSpec spec_b = server_b();
    StoreDir store_a;
    StoreDir store_b;
    ASSERT_FALSE(store_a.path().empty());
    ASSERT_FALSE(store_b.path().empty());
    auto start = [&](const ServerSpec& spec, const StoreDir& store) {
        std::vector<std::string> args = spec.leading_args;
        args.insert(args.end(), {"-js", "-sd", store.path()});
        args.insert(args.end(), scenario->server_args.begin(), scenario->server_args.end());
        return ServerProcess::start(spec.binary, args);
    };
    // Started from this thread: the launcher's PR_SET_PDEATHSIG fires when the forking
    // *thread* exits (see differential_core_test.cc).
    std::unique_ptr<ServerProcess> process_a = start(spec_a, store_a);
    std::unique_ptr<ServerProcess> process_b = start(spec_b, store_b);
    ASSERT_NE(process_a, nullptr) << "could not start " << spec_a.binary << " -js";
    ASSERT_NE(process_b, nullptr) << "could not start " << spec_b.label << " (" << spec_b.binary
                                  << ") with -js; set RINGTAIL_BIN, or RT_DIFF_B=nats-server";

    milliseconds wait = reply_wait();
    std::vector<StepRecord> records_a;
    std::vector<StepRecord> records_b;
    std::thread player_a([&] { records_a = play_js(*scenario, process_a->port(), wait); });
    std::thread player_b([&] { records_b = play_js(*scenario, process_b->port(), wait); });
    player_a.join();
    player_b.join();

    bool alive_a = process_a->running();
    bool alive_b = process_b->running();
    process_a->stop();
    process_b->stop();
    EXPECT_TRUE(alive_a) << "nats-server died during " << scenario->path << "\n"
                         << log_tail(process_a->log());
    EXPECT_TRUE(alive_b) << spec_b.label << " died during " << scenario->path << "\n"
                         << log_tail(process_b->log());

    std::string rendered_a = render_all(*scenario, records_a);
    std::string rendered_b = render_all(*scenario, records_b);
    std::string dump_dir = env_text("RT_DIFF_DUMP_DIR");
    if (!dump_dir.empty()) {
        std::filesystem::create_directories(dump_dir);
        std::ofstream(dump_dir + "/" + scenario->name + ".js.a.txt") << rendered_a;
        std::ofstream(dump_dir + "/" + scenario->name + ".js.b.txt") << rendered_b;
    }
    if (!env_text("RT_DIFF_SHOW").empty()) {
        std::printf("=== %s\n=== A: %s\n%s=== B: %s\n%s", scenario->path.c_str(),
                    spec_a.label.c_str(), rendered_a.c_str(), spec_b.label.c_str(),
                    rendered_b.c_str());
    }
    size_t mismatches = report_mismatches(*scenario, records_a, records_b, spec_b.label);
    EXPECT_EQ(mismatches, 0u) << scenario->path << ": " << mismatches << " steps differ\n"
                              << spec_b.label << " log tail:\n"
                              << log_tail(process_b->log());
}

INSTANTIATE_TEST_SUITE_P(CorpusJs, DifferentialJs,
                         ::testing::ValuesIn(list_corpus(RT_DIFF_JS_CORPUS_DIR)),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                             return test_name(param_info.param);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DifferentialJs);

// ---------------------------------------------------------------------------------------------
// Tests of the harness itself

TEST(DifferentialJsCorpus, AllScenariosParse) {
    std::vector<std::string> paths = list_corpus(RT_DIFF_JS_CORPUS_DIR);
    EXPECT_GE(paths.size(), kCorpusScenariosMin) << "corpus at " << RT_DIFF_JS_CORPUS_DIR;
    for (const std::string& path : paths) {
        auto scenario = load_js_scenario(path);
        EXPECT_TRUE(scenario.has_value()) << scenario.error();
    }
}

TEST(DifferentialJsCorpus, ParsesEveryLineKind) {
    auto scenario = parse_js_scenario(
        "# What it checks.\n# args: --max_payload 2048\n"
        "REQ $JS.API.STREAM.CREATE.S {\"name\":\"S\"}\n"
        "PUB s.a hello world \n"
        "HPUB s.b Nats-Msg-Id=1;X=a\\x3bb\n"
        "PUBFILL s.c 5\n"
        "REPEAT 2 PUB s.d\n"
        "SLEEP 20\n",
        "inline", "inline.txt");
    ASSERT_TRUE(scenario.has_value()) << scenario.error();
    EXPECT_EQ(scenario->summary, "What it checks.");
    EXPECT_EQ(scenario->server_args, (std::vector<std::string>{"--max_payload", "2048"}));
    ASSERT_EQ(scenario->steps.size(), 7u);
    EXPECT_EQ(scenario->steps[0].subject, "$JS.API.STREAM.CREATE.S");
    EXPECT_EQ(scenario->steps[0].payload, "{\"name\":\"S\"}");
    EXPECT_EQ(scenario->steps[1].payload, "hello world ");
    EXPECT_TRUE(scenario->steps[2].has_headers);
    EXPECT_EQ(scenario->steps[2].headers,
              (std::vector<Header>{{"Nats-Msg-Id", "1"}, {"X", "a;b"}}));
    EXPECT_EQ(scenario->steps[2].payload, "");
    EXPECT_EQ(scenario->steps[3].payload, "xxxxx");
    EXPECT_EQ(scenario->steps[5].subject, "s.d");
    EXPECT_EQ(scenario->steps[6].kind, JsStepKind::kSleep);
    EXPECT_EQ(scenario->steps[6].sleep_ms, 20u);
    EXPECT_FALSE(parse_js_scenario("# x\nGET a\n", "x", "x.txt").has_value());
    EXPECT_FALSE(parse_js_scenario("# x\nHPUB a NoEquals\n", "x", "x.txt").has_value());
    EXPECT_FALSE(parse_js_scenario("# x\nREQ\n", "x", "x.txt").has_value());
    EXPECT_FALSE(parse_js_scenario("REQ a\n", "x", "x.txt").has_value());  // no summary
}

TEST(DifferentialJsCorpus, JsonDiffMasksTimesOnly) {
    json a = json::parse(R"({"created":"2024-01-02T03:04:05.123456789Z","state":{"messages":1,
        "first_ts":"0001-01-01T00:00:00Z"},"config":{"subjects":["a"]}})");
    json b = json::parse(R"({"created":"2025-11-12T13:14:15Z","state":{"messages":1,
        "first_ts":"0001-01-01T00:00:00Z"},"config":{"subjects":["a"]}})");
    std::vector<std::string> out;
    diff_json(a, b, "", "", "", out);
    EXPECT_TRUE(out.empty()) << out.front();

    b["state"]["first_ts"] = "2025-11-12T13:14:15Z";  // zero vs non-zero is a difference
    b["config"]["subjects"] = {"a", "b"};
    b["did_create"] = true;
    diff_json(a, b, "", "", "", out);
    ASSERT_EQ(out.size(), 3u);
    EXPECT_TRUE(out[0].starts_with("config.subjects")) << out[0];
    EXPECT_TRUE(out[1].starts_with("state.first_ts")) << out[1];
    EXPECT_TRUE(out[2].starts_with("did_create: only in B")) << out[2];

    out.clear();
    diff_json(json::parse(R"({"time":"yesterday"})"), json::parse(R"({"time":"yesterday"})"), "",
              "", "", out);
    EXPECT_EQ(out.size(), 1u) << "a malformed time never matches";
}

TEST(DifferentialJsCorpus, RecordsCompareHeadersAsSet) {
    StepRecord a;
    a.replied = true;
    parse_header_block(
        "NATS/1.0\r\nNats-Stream: S\r\nNats-Time-Stamp: 2024-01-02T03:04:05Z\r\n"
        "Nats-Sequence: 1\r\n\r\n",
        a);
    StepRecord b;
    b.replied = true;
    parse_header_block(
        "NATS/1.0\r\nNats-Sequence: 1\r\nNats-Stream: S\r\n"
        "Nats-Time-Stamp: 2030-01-02T03:04:05.5Z\r\n\r\n",
        b);
    EXPECT_EQ(a.status, "NATS/1.0");
    EXPECT_TRUE(diff_records(a, b).empty());
    b.headers[0].value = "2";
    EXPECT_FALSE(diff_records(a, b).empty());
    StepRecord c;
    c.replied = true;
    parse_header_block("NATS/1.0 404 Message Not Found\r\n\r\n", c);
    EXPECT_EQ(c.status, "NATS/1.0 404 Message Not Found");
    EXPECT_TRUE(c.headers.empty());
    EXPECT_FALSE(diff_records(a, c).empty());
}

}  // namespace
}  // namespace ringtail::test::differential
