#include "core/auth/nkey.h"

#include <sodium.h>

#include <absl/strings/escaping.h>

#include <vector>

#include "base/assert.h"

namespace ringtail::core::auth {
namespace {

constexpr uint8_t kPrefixUser = 20 << 3;  // 'U'
constexpr uint8_t kPrefixSeed = 18 << 3;  // 'S'
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// CRC-16/XMODEM (polynomial 0x1021, initial 0), as the nkeys library checks its keys.
uint16_t crc16(const uint8_t* data, size_t size) {
    uint16_t crc = 0;
    for (size_t i = 0; i < size; ++i) {
        crc ^= static_cast<uint16_t>(data[i]) << 8;
        for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    }
    return crc;
}

std::string base32_encode(const std::vector<uint8_t>& bytes) {
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    for (uint8_t byte : bytes) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
    return out;
}

std::optional<std::vector<uint8_t>> base32_decode(std::string_view text) {
    std::vector<uint8_t> out;
    uint32_t buffer = 0;
    int bits = 0;
    for (char c : text) {
        size_t value = kBase32.find(c);
        if (value == std::string_view::npos) return std::nullopt;
        buffer = (buffer << 5) | static_cast<uint32_t>(value);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
            bits -= 8;
        }
    }
    return out;
}

// Bytes followed by their CRC-16, little-endian, in base32.
std::string with_checksum(std::vector<uint8_t> bytes) {
    uint16_t crc = crc16(bytes.data(), bytes.size());
    bytes.push_back(static_cast<uint8_t>(crc & 0xff));
    bytes.push_back(static_cast<uint8_t>(crc >> 8));
    return base32_encode(bytes);
}

bool sodium_ready() {
    static const bool ready = sodium_init() >= 0;
    return ready;
}

}  // namespace

std::optional<PublicKey> decode_user_nkey(std::string_view nkey) {
    auto raw = base32_decode(nkey);
    if (!raw || raw->size() != 1 + 32 + 2 || (*raw)[0] != kPrefixUser) return std::nullopt;
    uint16_t crc = static_cast<uint16_t>((*raw)[33] | ((*raw)[34] << 8));
    if (crc != crc16(raw->data(), 33)) return std::nullopt;
    PublicKey key;
    std::copy(raw->begin() + 1, raw->begin() + 33, key.begin());
    return key;
}

bool signature_valid(const PublicKey& key, std::string_view nonce, std::string_view signature) {
    if (!sodium_ready()) return false;
    std::string decoded;
    absl::string_view text(signature.data(), signature.size());
    // As nats-server: URL-safe base64 first, the standard alphabet as a fallback.
    if (!absl::WebSafeBase64Unescape(text, &decoded) && !absl::Base64Unescape(text, &decoded)) return false;
    if (decoded.size() != crypto_sign_BYTES) return false;
    return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(decoded.data()),
                                       reinterpret_cast<const unsigned char*>(nonce.data()), nonce.size(),
                                       key.data()) == 0;
}

std::string make_nonce() {
    RT_ASSERT(sodium_ready());
    unsigned char raw[11];
    randombytes_buf(raw, sizeof raw);
    std::string out;
    absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<const char*>(raw), sizeof raw), &out);
    return out;
}

UserKeys user_keys_from_seed(const std::array<uint8_t, 32>& seed) {
    RT_ASSERT(sodium_ready());
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret_key, seed.data());
    std::vector<uint8_t> nkey{kPrefixUser};
    nkey.insert(nkey.end(), public_key, public_key + sizeof public_key);
    // A seed's two prefix bytes carry the seed prefix and the key type.
    std::vector<uint8_t> encoded_seed{static_cast<uint8_t>(kPrefixSeed | (kPrefixUser >> 5)),
                                      static_cast<uint8_t>((kPrefixUser & 31) << 3)};
    encoded_seed.insert(encoded_seed.end(), seed.begin(), seed.end());
    return {with_checksum(std::move(nkey)), with_checksum(std::move(encoded_seed))};
}

}  // namespace ringtail::core::auth
