#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>

namespace ringtail::proto {

// Parsed client operations. Every view points into the buffer being parsed (the caller's
// receive buffer, or the parser's own pending copy when an op straddled two reads) and is
// valid only during the handler call.
struct PubOp {
    std::string_view subject;
    std::string_view reply;    // empty when the PUB has none
    std::string_view headers;  // HPUB: the header block ("NATS/1.0...\r\n\r\n"); PUB: empty
    std::string_view payload;  // the body after the headers
    bool has_headers = false;  // HPUB with a non-empty header block
    // The size fields as the client wrote them: nats-server copies them into MSG/HMSG verbatim
    // (so "PUB foo 02" arrives as "MSG foo 1 02").
    std::string_view total_size_text;
    std::string_view header_size_text;
};

struct SubOp {
    std::string_view subject;
    std::string_view queue;  // empty: a plain subscription
    std::string_view sid;
};

struct UnsubOp {
    std::string_view sid;
    int64_t max_msgs = -1;  // -1: unsubscribe now
};

// What a handler tells the parser after each op.
enum class Flow : uint8_t {
    kContinue,  // op consumed, go on
    kPause,     // op NOT consumed (back-pressure); feed() returns kPaused and resume() retries it
    kPauseAfter,  // op consumed; feed() returns kPaused and resume() goes on with the next
    kStop,      // the connection is closing; stop parsing
};

class ParserHandler {
public:
    virtual ~ParserHandler() = default;
    virtual Flow on_connect(std::string_view json) = 0;
    virtual Flow on_pub(const PubOp& op) = 0;
    virtual Flow on_sub(const SubOp& op) = 0;
    virtual Flow on_unsub(const UnsubOp& op) = 0;
    virtual Flow on_ping() = 0;
    virtual Flow on_pong() = 0;
    // The client sent -ERR: nats-server logs it and closes the connection.
    virtual Flow on_client_error(std::string_view text) = 0;
    // While a CONNECT is required, another op came first: true lets it in (the handler
    // connected the client some other way), false makes it an authorization violation.
    virtual bool on_op_before_connect() { return false; }
};

// Why parsing stopped. Each error has exactly one client-visible consequence (see the
// connection): kUnknownOp sends -ERR 'Unknown Protocol Operation' and closes; kBadArgs closes
// without an -ERR (nats-server returns the arg error from parse and closes); kMaxControlLine,
// kMaxPayload and kAuthViolation send their -ERR and close.
enum class ParseStatus : uint8_t {
    kOk,  // everything consumed or kept for the next read
    kPaused,
    kStopped,
    kUnknownOp,
    kBadArgs,
    kMaxControlLine,
    kMaxPayload,
    kAuthViolation,
};

// A resumable parser of the NATS client protocol, equivalent to nats-server's parser.go state
// machine for client connections: verbs are case-insensitive, arguments are separated by runs of
// spaces or tabs, a payload must be followed by \r\n.
//
// Owner: one connection. Ops that arrive whole are parsed in place (zero copy); only an op that
// straddles two reads is copied into `pending_`, and then only up to the bytes the op needs.
// While paused, the rest of the read that paused is kept in `pending_`, later reads in `held_`.
class Parser {
public:
    struct Limits {
        int64_t max_payload_bytes = 1 << 20;
        int64_t max_control_line_bytes = 4096;
    };

    explicit Parser(Limits limits) : limits_(limits) {}

    // While set, any op that does not start with CONNECT is an authorization violation, unless
    // the handler's on_op_before_connect() lets it in (which clears it).
    void set_require_connect(bool require) { require_connect_ = require; }
    void set_max_payload(int64_t bytes) { limits_.max_payload_bytes = bytes; }
    void set_max_control_line(int64_t bytes) { limits_.max_control_line_bytes = bytes; }
    // HPUB is refused (closed without -ERR, as nats-server) until CONNECT negotiated headers.
    void set_headers_allowed(bool allowed) { headers_allowed_ = allowed; }

    // Parses `data`, calling `handler` for each complete op. Incomplete trailing bytes are kept.
    // After kPaused, the unconsumed bytes are kept too; call resume() to continue.
    ParseStatus feed(std::string_view data, ParserHandler& handler);
    ParseStatus resume(ParserHandler& handler) { return feed({}, handler); }

    // Bytes held across reads (a partial op, or input held back by a pause).
    size_t pending_bytes() const { return pending_.size() + held_bytes_; }
    // Keeps `data` unparsed, after what is already waiting, for the next feed(): a read that
    // came while the handler wants nothing parsed (its connection is moving to another shard).
    void keep(std::string_view data) { hold(data); }

private:
    struct Progress {
        size_t consumed_bytes;
        ParseStatus status;
    };
    Progress parse(std::string_view buffer, ParserHandler& handler);
    // feed() for one read, with nothing held back by a pause before it. `unparsed`: the bytes
    // at the end of `data` a pause left unparsed, and not in pending_ (the caller keeps them
    // in held_).
    ParseStatus feed_read(std::string_view data, ParserHandler& handler, size_t& unparsed);
    void hold(std::string_view data);  // a read to parse after those held

    Limits limits_;
    bool require_connect_ = false;
    bool headers_allowed_ = false;
    std::string pending_;
    // Reads that came while paused, whole and in order, not yet looked at: copies each of its
    // own, since appending them all to pending_ would copy everything held at every
    // reallocation and hold twice the bytes at its peak.
    std::deque<std::string> held_;
    size_t held_bytes_ = 0;
    // When the op at the start of pending_ has a known total length (control line read, payload
    // not complete), that length; 0 when still waiting for the end of the control line.
    size_t pending_op_bytes_ = 0;
};

// nats-server's parseSize: 1 to 9 ASCII digits, else -1.
int64_t parse_size(std::string_view digits);

}  // namespace ringtail::proto
