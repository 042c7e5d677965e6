#pragma once

#include <string>
#include <string_view>

// Writers of server-to-client frames, appending to a connection's outbound buffer.
namespace ringtail::proto {

// MSG <subject> <sid> [reply] <#bytes>\r\n<payload>\r\n
// `size_text`, when given, is written instead of the byte count (the publisher's own digits).
void append_msg(std::string& out, std::string_view subject, std::string_view sid,
                std::string_view reply, std::string_view payload, std::string_view size_text = {});

// HMSG <subject> <sid> [reply] <#header bytes> <#total bytes>\r\n<headers><payload>\r\n
void append_hmsg(std::string& out, std::string_view subject, std::string_view sid,
                 std::string_view reply, std::string_view headers, std::string_view payload,
                 std::string_view header_size_text = {}, std::string_view total_size_text = {});

// -ERR '<text>'\r\n
void append_err(std::string& out, std::string_view text);

inline constexpr std::string_view kPong = "PONG\r\n";
inline constexpr std::string_view kPing = "PING\r\n";
inline constexpr std::string_view kOk = "+OK\r\n";

// The status header block of a no-responders reply: "NATS/1.0 503\r\n\r\n" (16 bytes).
inline constexpr std::string_view kNoRespondersHeaders = "NATS/1.0 503\r\n\r\n";

}  // namespace ringtail::proto
