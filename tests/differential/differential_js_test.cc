// Differential tests of the JetStream JSON API: every scenario of corpus_js/ is a list of
// requests and publishes; each is sent to nats-server ("A", the reference) and to the server
// under test ("B", ringtail by default), both started with `-js -sd <fresh dir>`, and the
// replies must match after normalisation: JSON payloads field by field with times reduced to
// "zero or a well-formed time", raw replies (DIRECT.GET) by status line, header set and bytes.
// Consumer deliveries (pull batches, push subscriptions, +NXT) are recorded message by
// message with their subjects, ack subjects normalised to drop only the delivery time.
// The corpus format and the ignore list are documented in README.md.
//
// Environment:
//   RT_DIFF_B=ringtail|nats-server|<path>  server B, as for differential_core (ringtail gets
//                                           `--shards 2`).
//   RT_DIFF_DUMP_DIR=<dir>                  write <dir>/<name>.js.{a,b}.txt, the rendered replies.
//   RT_DIFF_SHOW=1                          print both renderings even when they match.
//   RT_DIFF_JS_REPLY_MS=<ms>                how long to wait for a reply (default 1000); a
//                                           step with no reply by then records "no reply".
//   RT_DIFF_JS_SETTLE_MS=<ms>               the silence that ends a FETCH/ACKSYNC step
//                                           (default 300).

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
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
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
constexpr uint32_t kJsRepeatCountMax = 10'000;
constexpr uint32_t kFillBytesMax = 8 * 1024 * 1024;
constexpr size_t kMismatchesShownMax = 8;
constexpr int kReplyWaitMsDefault = 1000;
constexpr int kSettleMsDefault = 300;
constexpr int kCollectMsMax = 5000;
constexpr int kDrainMsMax = 3000;
constexpr std::string_view kInboxPrefix = "_INBOX.rtjs.";
constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";
constexpr std::string_view kAckPrefix = "$JS.ACK.";
constexpr std::string_view kFlowControlPrefix = "$JS.FC.";

// ---------------------------------------------------------------------------------------------
// Scenario

enum class JsStepKind : uint8_t {
    kPublish,    // REQ, PUB, HPUB, PUBFILL: a message with a reply subject; the first reply.
    kFetch,      // FETCH: a request whose inbox keeps every message it is sent (pull batches).
    kSubscribe,  // SUB: the connection subscribes; every message on the subject is recorded.
    kAck,        // ACK, ACKSYNC: a body sent to the ack subject of a delivered message.
    kSleep,      // SLEEP ms: frames are still read meanwhile (flow control is answered).
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
    // kAck: the message acked is the `ack_index`-th (from 1; 0 is the last) one carrying an
    // ack subject among those recorded by step `ack_source`. `ack_sync` sends a reply inbox
    // and records everything sent to it (the empty AckSync reply, or +NXT deliveries).
    size_t ack_source = 0;
    uint32_t ack_index = 0;
    bool ack_sync = false;
    int line = 0;
    std::string text;  // The corpus line, for messages.
    // `# diverges: <why>` before the step: a nats-server 2.9.10 bug ringtail does not copy.
    // The step still runs on both (later steps see its effects); its replies are not compared.
    std::string diverges;
};

// Steps whose record is every message sent to their inbox or subscription, for the whole
// scenario, rather than the first reply.
bool collects(const JsStep& step) {
    return step.kind == JsStepKind::kFetch || step.kind == JsStepKind::kSubscribe ||
           (step.kind == JsStepKind::kAck && step.ack_sync);
}

// Steps whose messages an ACK line can refer to: those that receive stream messages.
bool delivers(const JsStep& step) {
    return step.kind == JsStepKind::kFetch || step.kind == JsStepKind::kSubscribe ||
           (step.kind == JsStepKind::kAck && step.ack_sync && step.payload.starts_with("+NXT"));
}

struct JsScenario {
    std::string name;
    std::string path;
    std::string summary;                   // The first comment line.
    std::vector<std::string> server_args;  // From `# args: ...`, after `-js -sd DIR`.
    std::vector<JsStep> steps;
};

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

// `ACK <n|last> [body]`: the message is chosen among those of the latest delivering step
// before this line, so that a corpus reads top to bottom.
std::expected<void, std::string> parse_ack(std::string_view rest, bool sync, JsStep& step,
                                           std::vector<JsStep>& steps) {
    step.kind = JsStepKind::kAck;
    step.ack_sync = sync;
    std::string_view which = take_word(rest);
    if (which != "last") {
        auto index = parse_number(which, kJsRepeatCountMax);
        if (!index || *index == 0) return std::unexpected("ACK wants n >= 1 or 'last'");
        step.ack_index = *index;
    }
    auto source = std::find_if(steps.rbegin(), steps.rend(), delivers);
    if (source == steps.rend()) return std::unexpected(std::string("ACK before any delivery"));
    step.ack_source = static_cast<size_t>(steps.rend() - source) - 1;
    auto payload = decode_escapes(rest);
    if (!payload) return std::unexpected(payload.error());
    step.payload = std::move(*payload);
    steps.push_back(std::move(step));
    return {};
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
        auto count = parse_number(take_word(rest), kJsRepeatCountMax);
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
    if (op == "ACK" || op == "ACKSYNC") return parse_ack(rest, op == "ACKSYNC", step, steps);
    if (op != "REQ" && op != "PUB" && op != "HPUB" && op != "PUBFILL" && op != "FETCH" &&
        op != "SUB") {
        return std::unexpected("unknown op '" + op + "'");
    }
    auto subject = parse_subject(take_word(rest));
    if (!subject) return std::unexpected(subject.error());
    step.subject = *subject;
    if (op == "FETCH") step.kind = JsStepKind::kFetch;
    if (op == "SUB") {
        if (!rest.empty()) return std::unexpected(std::string("SUB takes only a subject"));
        step.kind = JsStepKind::kSubscribe;
        steps.push_back(std::move(step));
        return {};
    }
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
                for (auto& word : split_words(comment.substr(5))) {
                    scenario.server_args.push_back(std::move(word));
                }
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

// One message received: a reply, a pull delivery, a push delivery or a status message.
struct Message {
    std::string subject;
    std::string reply;
    std::string status;           // First header line ("NATS/1.0 404 ..."); empty for MSG.
    std::vector<Header> headers;  // In arrival order.
    std::string payload;
};

// What one step got back. A publish step keeps the first reply on its own inbox; a collecting
// step (collects()) every message sent to its inbox or subscription until the scenario ends.
struct StepRecord {
    bool sent = false;
    std::string ack_subject;  // kAck: where the body went.
    std::vector<Message> messages;
    std::vector<std::string> notes;  // -ERR lines, a closed connection, a protocol error.
    bool replied() const { return !messages.empty(); }
};

milliseconds remaining(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    return left.count() < 0 ? milliseconds(0) : left;
}

std::optional<size_t> parse_size(const std::string& text) {
    size_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Splits a received header block into its status line and headers.
void parse_header_block(std::string_view block, Message& message) {
    size_t eol = block.find("\r\n");
    message.status = std::string(block.substr(0, eol));
    if (eol == std::string_view::npos) return;
    block.remove_prefix(eol + 2);
    while (!block.empty()) {
        eol = block.find("\r\n");
        std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
        if (line.empty()) continue;
        size_t colon = line.find(':');
        std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
        message.headers.push_back({std::string(line.substr(0, colon)), std::string(trim(value))});
    }
}

bool is_flow_control_request(const Message& message) {
    return message.status == "NATS/1.0 100 FlowControl Request";
}

bool is_idle_heartbeat(const Message& message) {
    return message.status == "NATS/1.0 100 Idle Heartbeat";
}

// Plays a scenario over one raw NATS connection and records what each step gets back.
// Every step that sends a message with a reply uses a fresh inbox `_INBOX.rtjs.<n>` (with
// `.all` for collecting steps); the numbering follows the steps, so it is the same on both
// servers. Owner: one player thread. Lifecycle:
// connect() once, then play() once.
class JsPlayer {
 public:
    JsPlayer(const JsScenario& scenario, milliseconds wait, milliseconds settle)
        : scenario_(scenario),
          wait_(wait),
          settle_(settle),
          records_(scenario.steps.size()),
          last_arrival_(scenario.steps.size()) {}

    bool connect(int port) {
        if (!client_.connect(port) || !client_.read_info()) return false;
        offset_ = client_.received().find("\r\n") + 2;
        std::string hello =
            "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,"
            "\"no_responders\":true,\"protocol\":1,\"lang\":\"rt-diff-js\",\"version\":\"0\"}\r\n"
            "SUB " +
            std::string(kInboxPrefix) + "* " + std::string(kInboxSid) + "\r\nPING\r\n";
        if (!client_.send(hello) || !client_.read_until("PONG\r\n", std::chrono::seconds(5))) {
            return false;
        }
        offset_ = client_.received().find("PONG\r\n") + 6;
        return true;
    }

    std::vector<StepRecord> play() {
        for (current_ = 0; current_ < scenario_.steps.size(); ++current_) run_step(current_);
        if (std::any_of(scenario_.steps.begin(), scenario_.steps.end(), collects)) {
            // Late deliveries (a pull request's 408 after its step moved on) belong to the
            // record too: read until the connection is quiet.
            auto hard = Clock::now() + milliseconds(kDrainMsMax);
            while (pump(std::min(Clock::now() + settle_, hard))) {
            }
        }
        return std::move(records_);
    }

 private:
    void run_step(size_t index) {
        const JsStep& step = scenario_.steps[index];
        StepRecord& record = records_[index];
        switch (step.kind) {
            case JsStepKind::kSleep: {
                auto until = Clock::now() + milliseconds(step.sleep_ms);
                while (Clock::now() < until) pump(until);
                return;
            }
            case JsStepKind::kPublish:
                if (send(record, encode(step.subject, new_inbox(index), step))) {
                    await_first_reply(index);
                }
                return;
            case JsStepKind::kFetch: {
                std::string inbox = new_collecting_inbox(index);
                if (send(record, subscribe(inbox, index) + encode(step.subject, inbox, step))) {
                    settle(index);
                }
                return;
            }
            case JsStepKind::kSubscribe: {
                uint64_t pongs = pongs_;
                if (send(record, subscribe(step.subject, index) + "PING\r\n")) {
                    auto deadline = Clock::now() + wait_;
                    while (pongs_ == pongs && pump(deadline)) {
                    }
                }
                return;
            }
            case JsStepKind::kAck:
                run_ack(index);
                return;
        }
    }

    void run_ack(size_t index) {
        const JsStep& step = scenario_.steps[index];
        StepRecord& record = records_[index];
        std::optional<std::string> target = ack_target(step);
        if (!target.has_value()) {
            record.notes.push_back("no delivered message " + std::to_string(step.ack_index) +
                                   " to ack");
            return;
        }
        record.ack_subject = *target;
        if (!step.ack_sync) {
            send(record, encode(*target, "", step));
            return;
        }
        std::string inbox = new_collecting_inbox(index);
        if (!send(record, subscribe(inbox, index) + encode(*target, inbox, step))) return;
        // Only +NXT has more than the one empty reply to wait for; anything else that comes
        // later is still recorded.
        if (delivers(step)) {
            settle(index);
        } else {
            await_first_reply(index);
        }
    }

    // The ack subject of the message an ACK line names, waiting for a push delivery that has
    // not arrived yet.
    std::optional<std::string> ack_target(const JsStep& step) {
        const StepRecord& source = records_[step.ack_source];
        auto acked = [&] {
            std::vector<const Message*> out;
            for (const Message& message : source.messages) {
                if (message.reply.starts_with(kAckPrefix)) out.push_back(&message);
            }
            return out;
        };
        auto deadline = Clock::now() + wait_;
        size_t needed = std::max<size_t>(step.ack_index, 1);
        while (acked().size() < needed && pump(deadline)) {
        }
        std::vector<const Message*> candidates = acked();
        if (candidates.size() < needed) return std::nullopt;
        return step.ack_index == 0 ? candidates.back()->reply
                                   : candidates[step.ack_index - 1]->reply;
    }

    std::string new_inbox(size_t index) {
        std::string inbox = std::string(kInboxPrefix) + std::to_string(++inboxes_);
        inbox_owner_.emplace(inbox, index);
        last_arrival_[index] = Clock::now();
        return inbox;
    }

    // Deliveries to an inbox carry the stream message's subject, so a collecting step's inbox
    // gets a subscription of its own and its messages are told apart by sid. The extra token
    // keeps it out of the `_INBOX.rtjs.*` subscription.
    std::string new_collecting_inbox(size_t index) {
        last_arrival_[index] = Clock::now();
        return std::string(kInboxPrefix) + std::to_string(++inboxes_) + ".all";
    }

    // The SUB line for `subject`, whose messages become step `index`'s record.
    std::string subscribe(const std::string& subject, size_t index) {
        sid_owner_.push_back(index);
        return "SUB " + subject + " " + std::to_string(sid_owner_.size() + 1) + "\r\n";
    }

    bool send(StepRecord& record, const std::string& bytes) {
        record.sent = !client_.closed() && client_.send(bytes);
        if (!record.sent) record.notes.push_back("not sent: connection closed");
        return record.sent;
    }

    static std::string encode(const std::string& subject, const std::string& reply,
                              const JsStep& step) {
        std::string head = subject + (reply.empty() ? "" : " " + reply) + " ";
        if (!step.has_headers) {
            return "PUB " + head + std::to_string(step.payload.size()) + "\r\n" + step.payload +
                   "\r\n";
        }
        std::string block = "NATS/1.0\r\n";
        for (const Header& header : step.headers) {
            block += header.key + ": " + header.value + "\r\n";
        }
        block += "\r\n";
        return "HPUB " + head + std::to_string(block.size()) + " " +
               std::to_string(block.size() + step.payload.size()) + "\r\n" + block + step.payload +
               "\r\n";
    }

    void await_first_reply(size_t index) {
        auto deadline = Clock::now() + wait_;
        while (records_[index].messages.empty() && pump(deadline)) {
        }
    }

    // Waits until `settle_` has passed without a message for step `index` (at most
    // kCollectMsMax): a pull batch arrives back to back, so silence ends it.
    void settle(size_t index) {
        auto hard = Clock::now() + milliseconds(kCollectMsMax);
        while (true) {
            auto until = std::min(last_arrival_[index] + settle_, hard);
            if (Clock::now() >= until || client_.closed()) return;
            pump(until);
        }
    }

    // Reads and handles one frame; false when none was complete by `deadline` or the
    // connection is closed.
    bool pump(Clock::time_point deadline) {
        if (!client_.read_until("\r\n", remaining(deadline), offset_)) {
            if (client_.closed() && !close_noted_) {
                close_noted_ = true;
                note("connection closed by server");
            }
            return false;
        }
        const std::string& text = client_.received();
        size_t eol = text.find("\r\n", offset_);
        std::string line = text.substr(offset_, eol - offset_);
        if (!line.starts_with("MSG ") && !line.starts_with("HMSG ")) {
            offset_ = eol + 2;
            if (line == "PING") client_.send("PONG\r\n");
            if (line == "PONG") ++pongs_;
            if (line.starts_with("-ERR")) note(line);
            return true;
        }
        return read_msg(line, eol + 2, deadline);
    }

    void note(const std::string& text) {
        records_[std::min(current_, records_.size() - 1)].notes.push_back(text);
    }

    // Reads the body of the MSG/HMSG whose control line is `line` and files the message
    // under the step that owns its inbox or subscription.
    bool read_msg(const std::string& line, size_t body_at, Clock::time_point deadline) {
        std::vector<std::string> words = split_words(line);
        bool with_headers = words[0] == "HMSG";
        size_t arity = with_headers ? 5 : 4;
        std::optional<size_t> total = words.size() >= arity ? parse_size(words.back()) : 0;
        std::optional<size_t> header_bytes =
            with_headers && words.size() >= arity ? parse_size(words[words.size() - 2]) : 0;
        if (words.size() < arity || words.size() > arity + 1 || !total || !header_bytes ||
            *header_bytes > *total) {
            note("protocol error: bad control line '" + line + "'");
            client_.close();
            return false;
        }
        size_t end = body_at + *total;
        if (!client_.read_until("\r\n", remaining(deadline), end)) return false;
        const std::string& text = client_.received();
        if (text.compare(end, 2, "\r\n") != 0) {
            note("protocol error: payload not followed by CRLF");
            client_.close();
            return false;
        }
        offset_ = end + 2;
        Message message;
        message.subject = words[1];
        if (words.size() == arity + 1) message.reply = words[3];
        if (with_headers) {
            parse_header_block(std::string_view(text).substr(body_at, *header_bytes), message);
        }
        message.payload = text.substr(body_at + *header_bytes, *total - *header_bytes);
        file_message(words[2], std::move(message));
        return true;
    }

    void file_message(const std::string& sid, Message message) {
        std::optional<size_t> owner;
        if (sid == kInboxSid) {
            auto found = inbox_owner_.find(message.subject);
            // A publish step keeps only a reply that came while it was the current step.
            if (found != inbox_owner_.end() && found->second == current_ &&
                records_[current_].messages.empty()) {
                owner = found->second;
            }
        } else if (std::optional<size_t> number = parse_size(sid);
                   number && *number >= 2 && *number - 2 < sid_owner_.size()) {
            owner = sid_owner_[*number - 2];
            // Answered as clients do, or the server stops delivering.
            if (is_flow_control_request(message) && !message.reply.empty()) {
                client_.send("PUB " + message.reply + " 0\r\n\r\n");
            }
        }
        if (!owner.has_value()) return;
        last_arrival_[*owner] = Clock::now();
        records_[*owner].messages.push_back(std::move(message));
    }

    static constexpr std::string_view kInboxSid = "1";

    const JsScenario& scenario_;
    milliseconds wait_;
    milliseconds settle_;
    std::vector<StepRecord> records_;
    std::vector<Clock::time_point> last_arrival_;  // Per step: send time, then last message.
    std::map<std::string, size_t> inbox_owner_;    // Inbox subject -> step.
    std::vector<size_t> sid_owner_;                // Sid 2, 3, ... -> step.
    RawClient client_;
    size_t offset_ = 0;  // Start of the first frame not yet consumed in client_.received().
    size_t current_ = 0;
    uint64_t inboxes_ = 0;
    uint64_t pongs_ = 0;
    bool close_noted_ = false;
};

// ---------------------------------------------------------------------------------------------
// Normalisation and comparison

// Keys whose values are wall-clock times: both sides must hold the zero time, or both a
// well-formed RFC 3339 UTC time; the instant itself is not compared.
bool is_time_key(std::string_view key) {
    return key == "created" || key == "ts" || key == "first_ts" || key == "last_ts" ||
           key == "time" || key == "last_active" || key == "timestamp";
}

// Paths (with array indexes written as []) whose values are server identities or random: a
// server's id (neither server runs clustered here, so they should be absent) and an advisory's
// own id. Only their type is compared.
bool is_id_path(std::string_view path) {
    return path == "cluster.leader" || path.ends_with("server_id") ||
           path == "streams[].cluster.leader" || path == "id" || path == "server" || path == "client.server";
}

// Paths left out of the comparison, present or not: known divergences, written down where the
// server documents itself. An API audit event's client `rtt` (the requester's round trip, which
// ringtail's stream owners do not know).
bool is_skipped_path(std::string_view path) { return path == "client.rtt"; }

// An API audit event carries the request and the answer as JSON text: compared as JSON.
bool holds_json_text(std::string_view path) { return path == "request" || path == "response"; }

// Paths whose values are the time since a mirror or source last heard from its origin (ns,
// -1 if never): only "never" against "some time" is compared.
bool is_elapsed_path(std::string_view path) { return path == "mirror.active" || path == "sources[].active"; }

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
    if (holds_json_text(shape) && a.is_string() && b.is_string()) {
        json inner_a = json::parse(a.get<std::string>(), nullptr, false);
        json inner_b = json::parse(b.get<std::string>(), nullptr, false);
        if (!inner_a.is_discarded() && !inner_b.is_discarded()) {
            diff_json(inner_a, inner_b, path, "", "", out);
            return;
        }
    }
    if (is_id_path(shape)) {
        if (a.type() != b.type()) out.push_back(path + ": A " + a.dump() + ", B " + b.dump());
        return;
    }
    if (is_elapsed_path(shape)) {
        auto heard = [](const json& v) { return !v.is_number_integer() ? "not a number" : v.get<int64_t>() < 0 ? "never" : "some time"; };
        if (std::string_view(heard(a)) != heard(b)) out.push_back(path + ": A " + a.dump() + ", B " + b.dump());
        return;
    }
    bool both_numbers = a.is_number() && b.is_number();
    if (a.type() != b.type() && !both_numbers) {
        out.push_back(path + ": A " + a.dump() + ", B " + b.dump());
        return;
    }
    if (a.is_object()) {
        for (const auto& [name, value] : a.items()) {
            if (is_skipped_path(join_path(shape, name))) continue;
            if (!b.contains(name)) {
                out.push_back(join_path(path, name) + ": only in A: " + value.dump());
                continue;
            }
            diff_json(value, b.at(name), join_path(path, name), join_path(shape, name), name, out);
        }
        for (const auto& [name, value] : b.items()) {
            if (!a.contains(name) && !is_skipped_path(join_path(shape, name)))
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

bool is_base62(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0;
    });
}

bool is_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
    });
}

// Ack and flow-control subjects as compared; every token but a time or a random one stays,
// so a different token count is still a difference.
// `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>` is nats-server
// 2.9's ack subject (7 tokens after $JS.ACK); 2.10 puts a domain and an account hash first
// (9 tokens, sometimes a 10th random one). <ts> is the delivery time in ns: "<ts>".
// `$JS.FC.<stream>.<consumer>.<4 random [0-9A-Za-z]>`: the last token becomes "<rand>".
std::string normalized_subject(std::string_view subject) {
    std::vector<std::string> tokens;
    for (size_t at = 0; at <= subject.size();) {
        size_t dot = std::min(subject.find('.', at), subject.size());
        tokens.emplace_back(subject.substr(at, dot - at));
        at = dot + 1;
    }
    if (subject.starts_with(kAckPrefix)) {
        size_t after = tokens.size() - 2;
        size_t ts_at = after == 7 ? 7 : (after >= 9 ? 9 : 0);
        if (ts_at != 0 && is_digits(tokens[ts_at])) tokens[ts_at] = "<ts>";
    } else if (subject.starts_with(kFlowControlPrefix) && tokens.size() == 5 &&
               tokens[4].size() == 4 && is_base62(tokens[4])) {
        tokens[4] = "<rand>";
    }
    std::string out;
    for (const std::string& token : tokens) out += (out.empty() ? "" : ".") + token;
    return out;
}

// Headers as compared: sorted (clients read them as a map; nats-server's order is not part
// of the contract), the Nats-Time-Stamp instant reduced to its time class and a stalled
// heartbeat's flow-control subject normalised.
std::vector<Header> normalized_headers(const std::vector<Header>& headers) {
    std::vector<Header> out = headers;
    for (Header& header : out) {
        if (header.key == "Nats-Time-Stamp") header.value = time_class(json(header.value));
        if (header.key == "Nats-Consumer-Stalled") header.value = normalized_subject(header.value);
    }
    std::sort(out.begin(), out.end());
    return out;
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
        text.replace(at, from.size(), to);
        at += to.size();
    }
}

// The name the server chose for an ephemeral consumer, when `step` created one: a
// CONSUMER.CREATE.<stream> request whose config names no consumer, answered with a name of
// nats-server's shape (8 random [0-9A-Za-z]).
std::optional<std::string> chosen_consumer_name(const JsStep& step, const StepRecord& record) {
    constexpr std::string_view kCreate = "$JS.API.CONSUMER.CREATE.";
    if (step.kind != JsStepKind::kPublish || !step.subject.starts_with(kCreate) ||
        step.subject.find('.', kCreate.size()) != std::string::npos || !record.replied()) {
        return std::nullopt;
    }
    std::optional<json> request = parse_json_payload(step.payload);
    if (request.has_value() && request->is_object() && request->contains("config")) {
        const json& config = request->at("config");
        for (const char* key : {"name", "durable_name"}) {
            if (config.is_object() && config.contains(key) && config[key] != "")
                return std::nullopt;
        }
    }
    std::optional<json> reply = parse_json_payload(record.messages.front().payload);
    if (!reply.has_value() || !reply->is_object() || !reply->contains("name")) return std::nullopt;
    const json& name = reply->at("name");
    if (!name.is_string() || name.get_ref<const std::string&>().size() != 8 ||
        !is_base62(name.get_ref<const std::string&>())) {
        return std::nullopt;
    }
    return name.get<std::string>();
}

// Ephemeral consumer names are random: each side's are learnt from its create replies and
// replaced everywhere (JSON, subjects, headers) by "<ephemeral-N>", N counting creations,
// so A's Nth ephemeral meets B's Nth. A name of another shape stays and shows as a difference.
void name_ephemerals(const JsScenario& scenario, std::vector<StepRecord>& records) {
    std::vector<std::pair<std::string, std::string>> names;
    for (size_t i = 0; i < scenario.steps.size(); ++i) {
        std::optional<std::string> name = chosen_consumer_name(scenario.steps[i], records[i]);
        if (name.has_value()) {
            names.emplace_back(*name, "<ephemeral-" + std::to_string(names.size() + 1) + ">");
        }
    }
    // The consumers a mirror or source makes on its origin have random names too: learnt from
    // their CONSUMER.CREATED advisories, in the order they arrive.
    constexpr std::string_view kCreated = "$JS.EVENT.ADVISORY.CONSUMER.CREATED.";
    size_t internal = 0;
    for (const StepRecord& record : records) {
        for (const Message& message : record.messages) {
            if (!message.subject.starts_with(kCreated)) continue;
            std::string name = message.subject.substr(message.subject.rfind('.') + 1);
            bool known = std::any_of(names.begin(), names.end(), [&](const auto& entry) { return entry.first == name; });
            if (name.size() == 8 && is_base62(name) && !known) {
                names.emplace_back(name, "<internal-" + std::to_string(++internal) + ">");
            }
        }
    }
    for (const auto& [name, label] : names) {
        for (StepRecord& record : records) {
            replace_all(record.ack_subject, name, label);
            for (Message& message : record.messages) {
                for (std::string* text : {&message.subject, &message.reply, &message.payload}) {
                    replace_all(*text, name, label);
                }
                for (Header& header : message.headers) replace_all(header.value, name, label);
            }
        }
    }
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

// The idle heartbeats of a record as a set: their number and their place among deliveries
// follow wall time, what they say does not.
std::set<std::string> heartbeat_set(const StepRecord& record) {
    std::set<std::string> out;
    for (const Message& message : record.messages) {
        if (!is_idle_heartbeat(message)) continue;
        std::string text = message.subject + " " + message.status;
        for (const Header& header : normalized_headers(message.headers)) {
            text += "; " + header.key + ": " + header.value;
        }
        out.insert(text);
    }
    return out;
}

std::vector<const Message*> deliveries(const StepRecord& record) {
    std::vector<const Message*> out;
    for (const Message& message : record.messages) {
        if (!is_idle_heartbeat(message)) out.push_back(&message);
    }
    return out;
}

void diff_message(const Message& a, const Message& b, const std::string& label,
                  std::vector<std::string>& out) {
    if (a.subject != b.subject)
        out.push_back(label + "subject: A '" + a.subject + "', B '" + b.subject + "'");
    std::string reply_a = normalized_subject(a.reply);
    std::string reply_b = normalized_subject(b.reply);
    if (reply_a != reply_b)
        out.push_back(label + "reply: A '" + reply_a + "', B '" + reply_b + "'");
    if (a.status != b.status)
        out.push_back(label + "status line: A '" + a.status + "', B '" + b.status + "'");
    if (normalized_headers(a.headers) != normalized_headers(b.headers))
        out.push_back(label + "headers differ");
    std::optional<json> json_a = parse_json_payload(a.payload);
    std::optional<json> json_b = parse_json_payload(b.payload);
    if (json_a.has_value() && json_b.has_value()) {
        std::vector<std::string> fields;
        diff_json(*json_a, *json_b, "", "", "", fields);
        for (const std::string& field : fields) out.push_back(label + field);
    } else if (json_a.has_value() != json_b.has_value()) {
        out.push_back(label + "payload: JSON on " + (json_a ? "A" : "B") + " only");
    } else if (a.payload != b.payload) {
        out.push_back(label + "payload bytes differ");
    }
}

// Differences between the two records of one step; empty when they match.
std::vector<std::string> diff_records(const StepRecord& a, const StepRecord& b) {
    std::vector<std::string> out;
    if (a.notes != b.notes) out.push_back("notes (-ERR, close) differ");
    std::string ack_a = normalized_subject(a.ack_subject);
    std::string ack_b = normalized_subject(b.ack_subject);
    if (ack_a != ack_b) out.push_back("acked: A '" + ack_a + "', B '" + ack_b + "'");
    std::vector<const Message*> messages_a = deliveries(a);
    std::vector<const Message*> messages_b = deliveries(b);
    if (messages_a.empty() != messages_b.empty()) {
        out.push_back(std::string("reply: A ") + (messages_a.empty() ? "no reply" : "replied") +
                      ", B " + (messages_b.empty() ? "no reply" : "replied"));
    } else if (messages_a.size() != messages_b.size()) {
        out.push_back("messages: A " + std::to_string(messages_a.size()) + ", B " +
                      std::to_string(messages_b.size()));
    }
    bool several = messages_a.size() > 1 || messages_b.size() > 1;
    for (size_t i = 0; i < std::min(messages_a.size(), messages_b.size()); ++i) {
        std::string label = several ? "message " + std::to_string(i + 1) + ": " : "";
        diff_message(*messages_a[i], *messages_b[i], label, out);
    }
    if (heartbeat_set(a) != heartbeat_set(b)) out.push_back("idle heartbeats differ");
    return out;
}

void render_body(const Message& message, const std::string& indent, std::string& out) {
    if (!message.status.empty()) out += indent + "status: " + message.status + "\n";
    for (const Header& header : normalized_headers(message.headers)) {
        out += indent + "header: " + header.key + ": " + header.value + "\n";
    }
    if (std::optional<json> value = parse_json_payload(message.payload)) {
        std::string pretty = value->dump(2);
        for (size_t at = 0; at < pretty.size();) {
            size_t eol = pretty.find('\n', at);
            out += indent + pretty.substr(at, eol - at) + "\n";
            at = eol == std::string::npos ? pretty.size() : eol + 1;
        }
    } else {
        out += indent + "payload (" + std::to_string(message.payload.size()) + " bytes): \"" +
               escape_bytes(message.payload.substr(0, 400)) + "\"\n";
    }
}

// A publish step shows its one reply; a collecting step each message with its subjects, then
// its distinct heartbeats.
std::string render_record(const JsStep& step, const StepRecord& record) {
    std::string out;
    if (!record.ack_subject.empty())
        out += "  acked: " + normalized_subject(record.ack_subject) + "\n";
    std::vector<const Message*> messages = deliveries(record);
    if (messages.empty()) out += "  <no reply>\n";
    for (const std::string& note : record.notes) out += "  note: " + note + "\n";
    if (!collects(step)) {
        if (!messages.empty()) render_body(*messages.front(), "  ", out);
        return out;
    }
    for (const Message* message : messages) {
        out += "  msg " + message->subject;
        if (!message->reply.empty()) out += " reply " + normalized_subject(message->reply);
        out += "\n";
        render_body(*message, "    ", out);
    }
    for (const std::string& beat : heartbeat_set(record)) out += "  heartbeat: " + beat + "\n";
    return out;
}

std::string render_all(const JsScenario& scenario, const std::vector<StepRecord>& records) {
    std::string out;
    for (size_t i = 0; i < records.size(); ++i) {
        const JsStep& step = scenario.steps[i];
        if (step.kind == JsStepKind::kSleep) continue;
        out += "line " + std::to_string(step.line) + ": " + step.text.substr(0, 200) + "\n";
        out += render_record(step, records[i]);
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Running

milliseconds env_ms(const char* name, int fallback) {
    std::string text = env_text(name);
    return milliseconds(text.empty() ? fallback : std::atoi(text.c_str()));
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
std::vector<StepRecord> play_js(const JsScenario& scenario, int port, milliseconds wait,
                                milliseconds settle) {
    JsPlayer player(scenario, wait, settle);
    if (!player.connect(port)) {
        std::vector<StepRecord> records(scenario.steps.size());
        for (StepRecord& record : records) record.notes.push_back("could not connect");
        return records;
    }
    std::vector<StepRecord> records = player.play();
    name_ephemerals(scenario, records);
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
                      << render_record(step, records_a[i]) << "=== B: " << label_b << "\n"
                      << render_record(step, records_b[i]);
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

    milliseconds wait = env_ms("RT_DIFF_JS_REPLY_MS", kReplyWaitMsDefault);
    milliseconds settle = env_ms("RT_DIFF_JS_SETTLE_MS", kSettleMsDefault);
    std::vector<StepRecord> records_a;
    std::vector<StepRecord> records_b;
    std::thread player_a([&] { records_a = play_js(*scenario, process_a->port(), wait, settle); });
    std::thread player_b([&] { records_b = play_js(*scenario, process_b->port(), wait, settle); });
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

StepRecord reply_record(std::string_view header_block) {
    StepRecord record;
    record.messages.emplace_back();
    parse_header_block(header_block, record.messages.back());
    return record;
}

TEST(DifferentialJsCorpus, RecordsCompareHeadersAsSet) {
    StepRecord a = reply_record(
        "NATS/1.0\r\nNats-Stream: S\r\nNats-Time-Stamp: 2024-01-02T03:04:05Z\r\n"
        "Nats-Sequence: 1\r\n\r\n");
    StepRecord b = reply_record(
        "NATS/1.0\r\nNats-Sequence: 1\r\nNats-Stream: S\r\n"
        "Nats-Time-Stamp: 2030-01-02T03:04:05.5Z\r\n\r\n");
    EXPECT_EQ(a.messages[0].status, "NATS/1.0");
    EXPECT_TRUE(diff_records(a, b).empty());
    b.messages[0].headers[0].value = "2";
    EXPECT_FALSE(diff_records(a, b).empty());
    StepRecord c = reply_record("NATS/1.0 404 Message Not Found\r\n\r\n");
    EXPECT_EQ(c.messages[0].status, "NATS/1.0 404 Message Not Found");
    EXPECT_TRUE(c.messages[0].headers.empty());
    EXPECT_FALSE(diff_records(a, c).empty());
}

TEST(DifferentialJsCorpus, ParsesConsumerOps) {
    auto scenario = parse_js_scenario(
        "# What it checks.\n"
        "FETCH $JS.API.CONSUMER.MSG.NEXT.S.C {\"batch\":2}\n"
        "ACK 2 +ACK\n"
        "ACKSYNC last +NXT {\"batch\":2}\n"
        "ACK last -NAK {\"delay\":\"1s\"}\n"
        "SUB push.c\n"
        "ACK 1\n",
        "inline", "inline.txt");
    ASSERT_TRUE(scenario.has_value()) << scenario.error();
    ASSERT_EQ(scenario->steps.size(), 6u);
    EXPECT_EQ(scenario->steps[0].kind, JsStepKind::kFetch);
    EXPECT_EQ(scenario->steps[1].kind, JsStepKind::kAck);
    EXPECT_EQ(scenario->steps[1].ack_source, 0u);
    EXPECT_EQ(scenario->steps[1].ack_index, 2u);
    EXPECT_FALSE(scenario->steps[1].ack_sync);
    EXPECT_EQ(scenario->steps[2].ack_index, 0u);
    EXPECT_TRUE(scenario->steps[2].ack_sync);
    EXPECT_EQ(scenario->steps[2].payload, "+NXT {\"batch\":2}");
    EXPECT_EQ(scenario->steps[3].ack_source, 2u) << "+NXT deliveries are ackable";
    EXPECT_EQ(scenario->steps[4].kind, JsStepKind::kSubscribe);
    EXPECT_EQ(scenario->steps[5].ack_source, 4u);
    EXPECT_EQ(scenario->steps[5].payload, "");
    EXPECT_FALSE(parse_js_scenario("# x\nACK 1 +ACK\n", "x", "x.txt").has_value());
    EXPECT_FALSE(parse_js_scenario("# x\nSUB a\nACK 0 +ACK\n", "x", "x.txt").has_value());
    EXPECT_FALSE(parse_js_scenario("# x\nSUB a b\n", "x", "x.txt").has_value());
}

TEST(DifferentialJsCorpus, SubjectsMaskTimeAndRandomTokensOnly) {
    EXPECT_EQ(normalized_subject("$JS.ACK.S.C.1.2.3.1700000000123456789.4"),
              "$JS.ACK.S.C.1.2.3.<ts>.4");
    EXPECT_EQ(normalized_subject("$JS.ACK._.ABC.S.C.1.2.3.1700000000123456789.4.xyz"),
              "$JS.ACK._.ABC.S.C.1.2.3.<ts>.4.xyz");
    EXPECT_NE(normalized_subject("$JS.ACK.S.C.1.2.3.17.4"),
              normalized_subject("$JS.ACK._.ABC.S.C.1.2.3.17.4"));
    EXPECT_EQ(normalized_subject("$JS.ACK.S.C.1.2.3.late.4"), "$JS.ACK.S.C.1.2.3.late.4");
    EXPECT_EQ(normalized_subject("$JS.FC.S.C.a9Z0"), "$JS.FC.S.C.<rand>");
    EXPECT_EQ(normalized_subject("$JS.FC.S.C.a9Z0x"), "$JS.FC.S.C.a9Z0x");
    EXPECT_EQ(normalized_subject("push.c"), "push.c");
}

TEST(DifferentialJsCorpus, HeartbeatsCompareAsSet) {
    Message data;
    data.subject = "push.c";
    data.reply = "$JS.ACK.S.C.1.1.1.1700000000000000000.0";
    Message beat;
    beat.subject = "push.c";
    parse_header_block("NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 1\r\n\r\n", beat);
    StepRecord a;
    a.messages = {beat, data, beat, beat};
    StepRecord b;
    b.messages = {data, beat};
    b.messages[0].reply = "$JS.ACK.S.C.1.1.1.1800000000000000000.0";
    EXPECT_TRUE(diff_records(a, b).empty());
    b.messages[1].headers[0].value = "2";
    EXPECT_FALSE(diff_records(a, b).empty());
}

TEST(DifferentialJsCorpus, EphemeralNamesLearntFromCreateReplies) {
    auto scenario = parse_js_scenario(
        "# x\nREQ $JS.API.CONSUMER.CREATE.S {\"stream_name\":\"S\",\"config\":{}}\n"
        "FETCH $JS.API.CONSUMER.MSG.NEXT.S.Ab3dE6g8\n",
        "x", "x.txt");
    ASSERT_TRUE(scenario.has_value()) << scenario.error();
    std::vector<StepRecord> records(2);
    records[0].messages.push_back({"_INBOX.rtjs.1", "", "", {}, R"({"name":"Ab3dE6g8"})"});
    records[1].messages.push_back({"s.a", "$JS.ACK.S.Ab3dE6g8.1.1.1.17.0", "", {}, "x"});
    name_ephemerals(*scenario, records);
    EXPECT_EQ(records[0].messages[0].payload, R"({"name":"<ephemeral-1>"})");
    EXPECT_EQ(records[1].messages[0].reply, "$JS.ACK.S.<ephemeral-1>.1.1.1.17.0");
}

}  // namespace
}  // namespace ringtail::test::differential
