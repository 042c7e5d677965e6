#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringtail::base {

// The nkeys library's text form of a key: base32 (RFC 4648, no padding) of a prefix byte that
// says what the key is, the key bytes and their CRC-16/XMODEM, little-endian.
inline constexpr uint8_t kNkeyPrefixAccount = 0;     // "A..."
inline constexpr uint8_t kNkeyPrefixUser = 20 << 3;  // "U..."
inline constexpr uint8_t kNkeyPrefixSeed = 18 << 3;  // "S..."

// The 32-byte Ed25519 key of a public nkey of the kind `prefix` says (checksum verified);
// none if `text` is not one.
std::optional<std::array<uint8_t, 32>> decode_public_nkey(std::string_view text, uint8_t prefix);
// `bytes` followed by their checksum, in base32.
std::string encode_nkey(std::vector<uint8_t> bytes);

}  // namespace ringtail::base
