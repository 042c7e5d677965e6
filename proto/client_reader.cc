#include "proto/client_reader.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace ringtail::proto {

namespace {

enum class Verb : uint8_t { kBad, kMsg, kHmsg, kPing, kPong, kOk, kErr, kInfo };

// A control line split into its verb and up to kArgsMax blank-separated arguments.
struct ControlLine {
    static constexpr size_t kArgsMax = 6;
    Verb verb = Verb::kBad;
    std::array<std::string_view, kArgsMax> args;
    size_t arg_count = 0;
    std::string_view rest;  // everything after the verb (INFO's JSON, -ERR's text)
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_blanks(std::string_view text) {
    while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    return text;
}

// `line` excludes the line ending. Returns false when there are more arguments than any frame
// has (the frame is then malformed).
bool split_args(std::string_view line, ControlLine& out) {
    size_t pos = 0;
    while (pos < line.size()) {
        while (pos < line.size() && is_blank(line[pos])) ++pos;
        if (pos == line.size()) break;
        size_t end = pos;
        while (end < line.size() && !is_blank(line[end])) ++end;
        if (out.arg_count == ControlLine::kArgsMax) return false;
        out.args[out.arg_count++] = line.substr(pos, end - pos);
        pos = end;
    }
    return true;
}

// Servers send upper-case verbs; the first byte picks the candidate, then the word is checked.
ControlLine parse_control(std::string_view line) {
    ControlLine control;
    auto verb_is = [&](std::string_view word) {
        if (!line.starts_with(word)) return false;
        return line.size() == word.size() || is_blank(line[word.size()]);
    };
    auto set = [&](Verb verb, size_t verb_bytes) {
        control.verb = verb;
        control.rest = trim_blanks(line.substr(verb_bytes));
    };
    if (line.empty()) return control;
    switch (line[0]) {
        case 'M':
            if (verb_is("MSG")) set(Verb::kMsg, 3);
            break;
        case 'H':
            if (verb_is("HMSG")) set(Verb::kHmsg, 4);
            break;
        case 'P':
            if (verb_is("PING")) set(Verb::kPing, 4);
            if (verb_is("PONG")) set(Verb::kPong, 4);
            break;
        case '+':
            if (verb_is("+OK")) set(Verb::kOk, 3);
            break;
        case '-':
            if (verb_is("-ERR")) set(Verb::kErr, 4);
            break;
        case 'I':
            if (verb_is("INFO")) set(Verb::kInfo, 4);
            break;
        default:
            break;
    }
    if (control.verb == Verb::kMsg || control.verb == Verb::kHmsg) {
        if (!split_args(control.rest, control)) control.verb = Verb::kBad;
    }
    return control;
}

// The parsed arguments of MSG/HMSG. Sizes are -1 when malformed.
struct MsgArgs {
    std::string_view subject;
    std::string_view sid;
    std::string_view reply;
    int64_t header_bytes = 0;
    int64_t total_bytes = -1;
};

// MSG <subject> <sid> [reply] <#bytes>
// HMSG <subject> <sid> [reply] <#header bytes> <#total bytes>
bool parse_msg_args(const ControlLine& control, MsgArgs& out) {
    const size_t sizes = control.verb == Verb::kHmsg ? 2 : 1;
    const size_t n = control.arg_count;
    if (n != 2 + sizes && n != 3 + sizes) return false;
    out.subject = control.args[0];
    out.sid = control.args[1];
    if (n == 3 + sizes) out.reply = control.args[2];
    out.total_bytes = parse_frame_size(control.args[n - 1]);
    if (sizes == 2) out.header_bytes = parse_frame_size(control.args[n - 2]);
    if (out.total_bytes < 0 || out.header_bytes < 0) return false;
    return out.header_bytes <= out.total_bytes;
}

std::string_view line_before(std::string_view buffer, size_t start, size_t line_end) {
    std::string_view line = buffer.substr(start, line_end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

std::string_view err_text(std::string_view rest) {
    if (rest.size() >= 2 && rest.front() == '\'' && rest.back() == '\'') {
        return rest.substr(1, rest.size() - 2);
    }
    return rest;
}

}  // namespace

int64_t parse_frame_size(std::string_view digits) {
    if (digits.empty() || digits.size() > 9) return -1;
    int64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return -1;
        value = value * 10 + (c - '0');
    }
    return value;
}

size_t ClientReader::frame_bytes(std::string_view buffer, size_t line_end) const {
    ControlLine control = parse_control(line_before(buffer, 0, line_end));
    switch (control.verb) {
        case Verb::kBad:
            return 0;
        case Verb::kMsg:
        case Verb::kHmsg: {
            MsgArgs args;
            if (!parse_msg_args(control, args)) return 0;
            return line_end + 1 + static_cast<size_t>(args.total_bytes) + 2;
        }
        case Verb::kPing:
        case Verb::kPong:
        case Verb::kOk:
        case Verb::kErr:
        case Verb::kInfo:
            return line_end + 1;
    }
    return 0;
}

ClientReader::Progress ClientReader::parse(std::string_view buffer,
                                           ClientReaderHandler& handler) const {
    size_t pos = 0;
    while (pos < buffer.size()) {
        const size_t remaining = buffer.size() - pos;
        const void* found = std::memchr(buffer.data() + pos, '\n', remaining);
        if (found == nullptr) {
            if (remaining > limits_.max_control_line_bytes)
                return {pos, ClientReadStatus::kTooLarge};
            break;
        }
        const size_t line_end =
            static_cast<size_t>(static_cast<const char*>(found) - buffer.data());
        if (line_end - pos > limits_.max_control_line_bytes)
            return {pos, ClientReadStatus::kTooLarge};
        ControlLine control = parse_control(line_before(buffer, pos, line_end));
        switch (control.verb) {
            case Verb::kBad:
                return {pos, ClientReadStatus::kBadFrame};
            case Verb::kMsg:
            case Verb::kHmsg: {
                MsgArgs args;
                if (!parse_msg_args(control, args)) return {pos, ClientReadStatus::kBadFrame};
                const auto total = static_cast<size_t>(args.total_bytes);
                if (total > limits_.max_payload_bytes) return {pos, ClientReadStatus::kTooLarge};
                const size_t body = line_end + 1;
                if (buffer.size() - body < total + 2) return {pos, ClientReadStatus::kOk};
                if (buffer[body + total] != '\r' || buffer[body + total + 1] != '\n') {
                    return {pos, ClientReadStatus::kBadFrame};
                }
                const auto header_bytes = static_cast<size_t>(args.header_bytes);
                MsgFrame frame{args.subject, args.sid, args.reply,
                               buffer.substr(body, header_bytes),
                               buffer.substr(body + header_bytes, total - header_bytes)};
                handler.on_msg(frame);
                pos = body + total + 2;
                continue;
            }
            case Verb::kPing:
                handler.on_ping();
                break;
            case Verb::kPong:
                handler.on_pong();
                break;
            case Verb::kOk:
                handler.on_ok();
                break;
            case Verb::kErr:
                handler.on_err(err_text(control.rest));
                break;
            case Verb::kInfo:
                handler.on_info(control.rest);
                break;
        }
        pos = line_end + 1;
    }
    return {pos, ClientReadStatus::kOk};
}

ClientReadStatus ClientReader::measure_pending() {
    pending_frame_bytes_ = 0;
    const size_t line_end = pending_.find('\n');
    if (line_end == std::string::npos) {
        if (pending_.size() > limits_.max_control_line_bytes) return ClientReadStatus::kTooLarge;
        return ClientReadStatus::kOk;
    }
    const size_t bytes = frame_bytes(pending_, line_end);
    if (bytes == 0) return ClientReadStatus::kBadFrame;
    if (bytes - line_end > limits_.max_payload_bytes + 3) return ClientReadStatus::kTooLarge;
    pending_frame_bytes_ = bytes;
    return ClientReadStatus::kOk;
}

ClientReadStatus ClientReader::feed(std::string_view data, ClientReaderHandler& handler) {
    if (!pending_.empty()) {
        if (pending_frame_bytes_ == 0) {
            // The control line is still open: take bytes up to and including its '\n' only.
            const size_t line_end = data.find('\n');
            if (line_end == std::string_view::npos) {
                if (pending_.size() + data.size() > limits_.max_control_line_bytes) {
                    return ClientReadStatus::kTooLarge;
                }
                pending_.append(data);
                return ClientReadStatus::kOk;
            }
            pending_.append(data.substr(0, line_end + 1));
            data.remove_prefix(line_end + 1);
            if (ClientReadStatus status = measure_pending(); status != ClientReadStatus::kOk) {
                return status;
            }
        }
        const size_t take = std::min(pending_frame_bytes_ - pending_.size(), data.size());
        pending_.append(data.substr(0, take));
        data.remove_prefix(take);
        if (pending_.size() < pending_frame_bytes_) return ClientReadStatus::kOk;
        Progress progress = parse(pending_, handler);
        if (progress.status != ClientReadStatus::kOk) return progress.status;
        // pending_ held exactly one complete frame, so it must all have been consumed.
        if (progress.consumed_bytes != pending_.size()) return ClientReadStatus::kBadFrame;
        pending_.clear();
        pending_frame_bytes_ = 0;
    }
    Progress progress = parse(data, handler);
    if (progress.status != ClientReadStatus::kOk) return progress.status;
    pending_.assign(data.substr(progress.consumed_bytes));
    if (pending_.empty()) return ClientReadStatus::kOk;
    return measure_pending();
}

}  // namespace ringtail::proto
