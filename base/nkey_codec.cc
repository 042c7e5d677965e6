#include "base/nkey_codec.h"

#include <algorithm>

namespace ringtail::base {
namespace {

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// CRC-16/XMODEM (polynomial 0x1021, initial 0), as the nkeys library checks its keys.
uint16_t crc16(const uint8_t* data, size_t size) {
    uint16_t crc = 0;
    for (size_t i = 0; i < size; ++i) {
        crc ^= static_cast<uint16_t>(data[i] << 8);
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
        }
    }
    return crc;
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

}  // namespace

std::optional<std::array<uint8_t, 32>> decode_public_nkey(std::string_view text, uint8_t prefix) {
    auto raw = base32_decode(text);
    if (!raw || raw->size() != 1 + 32 + 2 || (*raw)[0] != prefix) return std::nullopt;
    uint16_t crc = static_cast<uint16_t>((*raw)[33] | ((*raw)[34] << 8));
    if (crc != crc16(raw->data(), 33)) return std::nullopt;
    std::array<uint8_t, 32> key;
    std::copy(raw->begin() + 1, raw->begin() + 33, key.begin());
    return key;
}

std::string encode_nkey(std::vector<uint8_t> bytes) {
    uint16_t crc = crc16(bytes.data(), bytes.size());
    bytes.push_back(static_cast<uint8_t>(crc & 0xff));
    bytes.push_back(static_cast<uint8_t>(crc >> 8));
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

}  // namespace ringtail::base
