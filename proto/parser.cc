#include "proto/parser.h"

#include <algorithm>
#include <array>

namespace ringtail::proto {
namespace {

enum class Verb : uint8_t { kConnect, kPub, kHpub, kSub, kUnsub, kPing, kPong, kInfo, kOk, kErr };

// What may follow a verb before its argument starts.
enum class After : uint8_t {
    kSpaceRequired,  // PUB HPUB SUB UNSUB -ERR: one or more blanks, then the argument
    kSpaceOptional,  // CONNECT INFO: blanks are skipped, the argument may start at once
    kIgnoreToEol,    // PING PONG +OK: everything up to \n is ignored
};

struct VerbSpec {
    std::string_view name;  // upper case; matched case-insensitively
    Verb verb;
    After after;
};

constexpr std::array<VerbSpec, 10> kVerbs = {{
    {"CONNECT", Verb::kConnect, After::kSpaceOptional},
    {"PUB", Verb::kPub, After::kSpaceRequired},
    {"PING", Verb::kPing, After::kIgnoreToEol},
    {"PONG", Verb::kPong, After::kIgnoreToEol},
    {"HPUB", Verb::kHpub, After::kSpaceRequired},
    {"SUB", Verb::kSub, After::kSpaceRequired},
    {"UNSUB", Verb::kUnsub, After::kSpaceRequired},
    {"INFO", Verb::kInfo, After::kSpaceOptional},
    {"+OK", Verb::kOk, After::kIgnoreToEol},
    {"-ERR", Verb::kErr, After::kSpaceRequired},
}};

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

enum class Match : uint8_t { kFound, kNeedMore, kError };

struct VerbMatch {
    Match match;
    Verb verb;
    size_t arg_start;  // offset of the argument (or of the ignored rest) in the op
};

// Recognises the verb at the start of `op` the way parser.go's states do: it fails at the
// first byte that cannot continue any verb, even before the line is complete.
VerbMatch match_verb(std::string_view op) {
    // Most ops are a PUB as clients write it: upper case, one blank.
    if (op.size() > 4 && op[0] == 'P' && op[1] == 'U' && op[2] == 'B' && op[3] == ' ' && !is_blank(op[4])) {
        return {Match::kFound, Verb::kPub, 4};
    }
    // Candidates share a first letter (P: PUB, PING, PONG); the second byte picks one.
    for (const VerbSpec& spec : kVerbs) {
        size_t n = std::min(op.size(), spec.name.size());
        bool prefix = true;
        for (size_t i = 0; i < n && prefix; ++i) prefix = upper(op[i]) == spec.name[i];
        if (!prefix) continue;
        if (op.size() < spec.name.size()) {
            // A partial verb matches a prefix of this one; PU/PI/PO are decided by byte 2.
            return {Match::kNeedMore, spec.verb, 0};
        }
        size_t pos = spec.name.size();
        switch (spec.after) {
            case After::kIgnoreToEol:
                return {Match::kFound, spec.verb, pos};
            case After::kSpaceRequired:
                if (pos == op.size()) return {Match::kNeedMore, spec.verb, 0};
                if (!is_blank(op[pos])) return {Match::kError, spec.verb, 0};
                [[fallthrough]];
            case After::kSpaceOptional:
                while (pos < op.size() && is_blank(op[pos])) ++pos;
                if (pos == op.size()) return {Match::kNeedMore, spec.verb, 0};
                return {Match::kFound, spec.verb, pos};
        }
    }
    return {Match::kError, Verb::kPing, 0};
}

// Splits on blanks (PUB/HPUB) or blanks and CR/LF (SUB/UNSUB, as splitArg); at most N args,
// returns the count found (N + 1 means "too many").
template <size_t N>
size_t split_args(std::string_view arg, std::array<std::string_view, N>& out, bool crlf_too) {
    size_t count = 0;
    size_t start = std::string_view::npos;
    auto is_sep = [crlf_too](char c) { return is_blank(c) || (crlf_too && (c == '\r' || c == '\n')); };
    for (size_t i = 0; i <= arg.size(); ++i) {
        bool sep = i == arg.size() || is_sep(arg[i]);
        if (!sep && start == std::string_view::npos) start = i;
        if (sep && start != std::string_view::npos) {
            if (count == N) return N + 1;
            out[count++] = arg.substr(start, i - start);
            start = std::string_view::npos;
        }
    }
    return count;
}

}  // namespace

int64_t parse_size(std::string_view digits) {
    if (digits.empty() || digits.size() > 9) return -1;
    int64_t n = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return -1;
        n = n * 10 + (c - '0');
    }
    return n;
}

Parser::Progress Parser::parse(std::string_view buffer, ParserHandler& handler) {
    size_t pos = 0;
    pending_op_bytes_ = 0;
    while (pos < buffer.size()) {
        std::string_view op = buffer.substr(pos);
        if (require_connect_ && upper(op[0]) != 'C') {
            if (!handler.on_op_before_connect()) return {pos, ParseStatus::kAuthViolation};
            require_connect_ = false;
        }

        VerbMatch verb = match_verb(op);
        if (verb.match == Match::kError) return {pos, ParseStatus::kUnknownOp};
        size_t eol = verb.match == Match::kFound ? op.find('\n', verb.arg_start) : std::string_view::npos;
        if (eol == std::string_view::npos) {
            // The control line is incomplete; bound what we are willing to hold for it.
            if (static_cast<int64_t>(op.size()) > limits_.max_control_line_bytes + 16) {
                return {pos, ParseStatus::kMaxControlLine};
            }
            return {pos, ParseStatus::kOk};
        }

        // parser.go drops one byte from the argument if a \r was seen in it (normally the
        // \r of the \r\n line ending).
        std::string_view arg = op.substr(verb.arg_start, eol - verb.arg_start);
        if (!arg.empty() && (arg.back() == '\r' || arg.find('\r') != std::string_view::npos)) arg.remove_suffix(1);
        if (static_cast<int64_t>(arg.size()) > limits_.max_control_line_bytes) {
            return {pos, ParseStatus::kMaxControlLine};
        }
        size_t line_bytes = eol + 1;

        Flow flow = Flow::kContinue;
        switch (verb.verb) {
            case Verb::kPing:
                flow = handler.on_ping();
                break;
            case Verb::kPong:
                flow = handler.on_pong();
                break;
            case Verb::kOk:
            case Verb::kInfo:
                break;
            case Verb::kErr:
                flow = handler.on_client_error(arg);
                break;
            case Verb::kConnect:
                flow = handler.on_connect(arg);
                break;
            case Verb::kSub: {
                std::array<std::string_view, 3> args;
                size_t n = split_args(arg, args, true);
                if (n == 2) {
                    flow = handler.on_sub({args[0], {}, args[1]});
                } else if (n == 3) {
                    flow = handler.on_sub({args[0], args[1], args[2]});
                } else {
                    return {pos, ParseStatus::kBadArgs};
                }
                break;
            }
            case Verb::kUnsub: {
                std::array<std::string_view, 2> args;
                size_t n = split_args(arg, args, true);
                if (n == 1) {
                    flow = handler.on_unsub({args[0], -1});
                } else if (n == 2) {
                    flow = handler.on_unsub({args[0], parse_size(args[1])});
                } else {
                    return {pos, ParseStatus::kBadArgs};
                }
                break;
            }
            case Verb::kPub:
            case Verb::kHpub: {
                bool hpub = verb.verb == Verb::kHpub;
                if (hpub && !headers_allowed_) return {pos, ParseStatus::kBadArgs};
                std::array<std::string_view, 4> args;
                size_t n = split_args(arg, args, false);
                // The op is filled once, at the end: zeroing it up front (a rep stos) was a
                // fifth of this function's time with small messages.
                size_t sizes = hpub ? 2 : 1;
                if (n != sizes + 1 && n != sizes + 2) return {pos, ParseStatus::kBadArgs};
                std::string_view reply = n == sizes + 2 ? args[1] : std::string_view();
                std::string_view total_size_text = args[n - 1];
                std::string_view header_size_text = hpub ? args[n - 2] : std::string_view();
                int64_t total_bytes = parse_size(total_size_text);
                int64_t header_bytes = hpub ? parse_size(header_size_text) : 0;
                if (header_bytes < 0 || total_bytes < 0 || header_bytes > total_bytes) {
                    return {pos, ParseStatus::kBadArgs};
                }
                if (total_bytes > limits_.max_payload_bytes) return {pos, ParseStatus::kMaxPayload};
                size_t op_bytes = line_bytes + static_cast<size_t>(total_bytes) + 2;
                if (op.size() < op_bytes) {
                    pending_op_bytes_ = op_bytes;
                    return {pos, ParseStatus::kOk};
                }
                if (op[op_bytes - 2] != '\r' || op[op_bytes - 1] != '\n') {
                    return {pos, ParseStatus::kUnknownOp};
                }
                std::string_view body = op.substr(line_bytes, static_cast<size_t>(total_bytes));
                flow = handler.on_pub(PubOp{
                    .subject = args[0],
                    .reply = reply,
                    .headers = body.substr(0, static_cast<size_t>(header_bytes)),
                    .payload = body.substr(static_cast<size_t>(header_bytes)),
                    // An empty header block is delivered as a plain MSG, as nats-server does.
                    .has_headers = header_bytes > 0,
                    .total_size_text = total_size_text,
                    .header_size_text = header_size_text,
                });
                line_bytes = op_bytes;
                break;
            }
        }
        switch (flow) {
            case Flow::kContinue:
                pos += line_bytes;
                break;
            case Flow::kPause:
                return {pos, ParseStatus::kPaused};
            case Flow::kPauseAfter:
                return {pos + line_bytes, ParseStatus::kPaused};
            case Flow::kStop:
                return {pos + line_bytes, ParseStatus::kStopped};
        }
    }
    return {pos, ParseStatus::kOk};
}

ParseStatus Parser::feed(std::string_view data, ParserHandler& handler) {
    size_t unparsed = 0;
    if (held_.empty()) {
        ParseStatus status = feed_read(data, handler, unparsed);
        hold(data.substr(data.size() - unparsed));
        return status;
    }
    // Reads that came while paused go first, in order, each as it came; what a pause leaves
    // of one stays where it is.
    hold(data);
    while (!held_.empty()) {
        std::string& read = held_.front();
        ParseStatus status = feed_read(read, handler, unparsed);
        if (unparsed != 0) {
            held_bytes_ -= read.size() - unparsed;
            read.erase(0, read.size() - unparsed);
            return status;
        }
        held_bytes_ -= read.size();
        held_.pop_front();
        if (status != ParseStatus::kOk) return status;
    }
    return ParseStatus::kOk;
}

void Parser::hold(std::string_view data) {
    if (data.empty()) return;
    held_.emplace_back(data);
    held_bytes_ += data.size();
}

ParseStatus Parser::feed_read(std::string_view data, ParserHandler& handler, size_t& unparsed) {
    unparsed = 0;
    // First finish what is held from earlier reads, taking from `data` only the bytes the
    // held op needs, so that the bulk of `data` is parsed in place.
    while (!pending_.empty()) {
        Progress progress = parse(pending_, handler);
        pending_.erase(0, progress.consumed_bytes);
        if (progress.status != ParseStatus::kOk) {
            // Paused before the rest of `data` was parsed: it waits, ahead of later reads.
            if (progress.status == ParseStatus::kPaused) unparsed = data.size();
            return progress.status;
        }
        if (pending_.empty() || data.empty()) break;
        size_t take;
        if (pending_op_bytes_ > pending_.size()) {
            take = std::min(data.size(), pending_op_bytes_ - pending_.size());
        } else {
            size_t eol = data.find('\n');
            take = eol == std::string_view::npos ? data.size() : eol + 1;
        }
        pending_.append(data.substr(0, take));
        data.remove_prefix(take);
    }
    if (data.empty()) return ParseStatus::kOk;

    Progress progress = parse(data, handler);
    if (progress.status == ParseStatus::kOk || progress.status == ParseStatus::kPaused) {
        pending_.assign(data.substr(progress.consumed_bytes));
    }
    return progress.status;
}

}  // namespace ringtail::proto
