#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// The client side of the NATS protocol: a reader of what a server sends (INFO, MSG, HMSG,
// PING, PONG, +OK, -ERR). The server side is parser.h; the two share nothing but the grammar.
namespace ringtail::proto {

// One MSG or HMSG. Every view points into the buffer being read (the caller's receive buffer,
// or the reader's own copy of a frame that straddled two reads) and is valid only during the
// handler call.
struct MsgFrame {
    std::string_view subject;
    std::string_view sid;
    std::string_view reply;    // empty when the server sent none
    std::string_view headers;  // HMSG: "NATS/1.0...\r\n\r\n"; MSG: empty
    std::string_view payload;  // the body after the headers
};

class ClientReaderHandler {
 public:
    virtual ~ClientReaderHandler() = default;
    virtual void on_info(std::string_view json) = 0;
    virtual void on_msg(const MsgFrame& msg) = 0;
    virtual void on_ping() = 0;
    virtual void on_pong() = 0;
    virtual void on_ok() = 0;
    // The text between the quotes of -ERR '...' (the whole argument when unquoted).
    virtual void on_err(std::string_view text) = 0;
};

enum class ClientReadStatus : uint8_t {
    kOk,        // everything consumed, or a partial frame kept for the next read
    kBadFrame,  // unknown verb, malformed arguments, or a payload not followed by \r\n
    kTooLarge,  // a control line or payload beyond the reader's limits
};

// A resumable reader of server-to-client frames. Servers write verbs in upper case with single
// spaces (nats-server's client.go); the reader also accepts runs of blanks and a bare \n.
//
// Owner: one connection, one thread. Frames that arrive whole are parsed in place (zero copy);
// only a frame that straddles two reads is copied, and only up to the bytes it needs, so the
// copy cost is one frame per read rather than the whole stream.
class ClientReader {
 public:
    struct Limits {
        size_t max_control_line_bytes = 64 * 1024;  // INFO lines can be long
        size_t max_payload_bytes = 64 * 1024 * 1024;
    };

    ClientReader() : ClientReader(Limits{}) {}
    explicit ClientReader(Limits limits) : limits_(limits) {}

    // Reads `data`, calling `handler` for each complete frame; keeps an incomplete tail.
    // After an error the reader is unusable (the connection is to be closed).
    [[nodiscard]] ClientReadStatus feed(std::string_view data, ClientReaderHandler& handler);

    size_t pending_bytes() const { return pending_.size(); }

 private:
    struct Progress {
        size_t consumed_bytes;
        ClientReadStatus status;
    };
    // Parses whole frames from the front of `buffer`; stops at the first incomplete one.
    Progress parse(std::string_view buffer, ClientReaderHandler& handler) const;
    // The total length of the frame at the start of `buffer`, whose control line is complete
    // (ends at `line_end`, the index of its '\n'); 0 on a malformed control line.
    size_t frame_bytes(std::string_view buffer, size_t line_end) const;
    // Sets pending_frame_bytes_ from pending_ when its control line is complete.
    ClientReadStatus measure_pending();

    Limits limits_;
    std::string pending_;
    // Length of the frame at the start of pending_ once its control line is known, else 0.
    size_t pending_frame_bytes_ = 0;
};

// nats-server's parseSize for the size fields a server writes: 1 to 9 ASCII digits, else -1.
int64_t parse_frame_size(std::string_view digits);

}  // namespace ringtail::proto
