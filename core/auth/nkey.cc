#include "core/auth/nkey.h"

#include <sodium.h>

#include <absl/strings/escaping.h>

#include <vector>

#include "base/assert.h"
#include "base/nkey_codec.h"

namespace ringtail::core::auth {
namespace {

bool sodium_ready() {
    static const bool ready = sodium_init() >= 0;
    return ready;
}

}  // namespace

std::optional<PublicKey> decode_user_nkey(std::string_view nkey) {
    return base::decode_public_nkey(nkey, base::kNkeyPrefixUser);
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
    std::vector<uint8_t> nkey{base::kNkeyPrefixUser};
    nkey.insert(nkey.end(), public_key, public_key + sizeof public_key);
    // A seed's two prefix bytes carry the seed prefix and the key type.
    std::vector<uint8_t> encoded_seed{static_cast<uint8_t>(base::kNkeyPrefixSeed | (base::kNkeyPrefixUser >> 5)),
                                      static_cast<uint8_t>((base::kNkeyPrefixUser & 31) << 3)};
    encoded_seed.insert(encoded_seed.end(), seed.begin(), seed.end());
    return {base::encode_nkey(std::move(nkey)), base::encode_nkey(std::move(encoded_seed))};
}

}  // namespace ringtail::core::auth
