#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

// The NATS/1.0 header block of HPUB/HMSG: "NATS/1.0[ <status>[ <description>]]\r\n",
// then "Key: Value\r\n" lines, then "\r\n".
namespace ringtail::proto {

// The value of header `key` exactly as nats-server's getHeader (server/client.go) finds it:
// the key is matched case-sensitively at its FIRST occurrence anywhere in the block, which must
// start a line (follow "\r\n") and be followed by ':'; otherwise the header counts as absent,
// even if a proper line comes later. Leading blanks of the value are skipped, trailing ones
// are kept (nats-server compares " PA " unequal to "PA"); the value ends at "\r\n" or at the
// end of the block. nullopt if absent or empty: nats-server treats an empty value as absent for
// every JetStream header (Nats-Msg-Id, Nats-Expected-*, Nats-Rollup).
std::optional<std::string_view> header_value(std::string_view block, std::string_view key);

// Builds "NATS/1.0\r\n", or "NATS/1.0 <status>\r\n" / "NATS/1.0 <status> <description>\r\n"
// when status != 0, then "K: V\r\n" per header in order, then "\r\n". Keys and values are
// written as given; they must not contain "\r\n".
std::string build_headers(int status, std::string_view description,
                          std::span<const std::pair<std::string_view, std::string_view>> headers);

// `block` (a header block, or empty for none) without any `key` line, with "key: value" added
// last, as nats-server's removeHeaderIfPresent then genHeader (the key matched exactly).
std::string with_header(std::string_view block, std::string_view key, std::string_view value);

}  // namespace ringtail::proto
