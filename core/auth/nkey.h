#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringtail::core::auth {

// NATS nkeys (the nkeys library's encoding, and nats-server's check in server/auth.go): a user's
// public key is "U..." (base32 of a prefix byte, the 32-byte Ed25519 key and a CRC-16); the
// server sends a random nonce in INFO and the client proves it holds the key by signing it.
using PublicKey = std::array<uint8_t, 32>;

// The key of a user public nkey ("U" + 55 base32 characters, checksum verified); none if it is
// not one.
std::optional<PublicKey> decode_user_nkey(std::string_view nkey);
// Whether `signature` (base64, URL-safe or standard, padded or not) is `key`'s Ed25519
// signature of `nonce`.
bool signature_valid(const PublicKey& key, std::string_view nonce, std::string_view signature);
// A fresh nonce as nats-server makes them: 11 random bytes, base64 URL-safe without padding.
std::string make_nonce();

// For tests and tools: the user nkey and the seed ("SU...") of the Ed25519 key pair made from
// `seed`, as the nkeys library encodes them.
struct UserKeys {
    std::string nkey;
    std::string seed;
};
UserKeys user_keys_from_seed(const std::array<uint8_t, 32>& seed);

}  // namespace ringtail::core::auth
