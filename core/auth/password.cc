#include "core/auth/password.h"

#include <crypt.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace ringtail::core::auth {

bool is_bcrypt(std::string_view secret) {
    // ^\$2[abxy]\$\d{2}\$
    if (secret.size() < 7 || secret[0] != '$' || secret[1] != '2' || secret[3] != '$' || secret[6] != '$') return false;
    char minor = secret[2];
    return (minor == 'a' || minor == 'b' || minor == 'x' || minor == 'y') &&
           std::isdigit(static_cast<unsigned char>(secret[4])) && std::isdigit(static_cast<unsigned char>(secret[5]));
}

bool bcrypt_matches(const std::string& hash, const std::string& password) {
    auto data = std::make_unique<crypt_data>();  // large: on the heap, zeroed
    const char* hashed = crypt_r(password.c_str(), hash.c_str(), data.get());
    // libcrypt answers a malformed setting with a string starting with '*'.
    if (hashed == nullptr || hashed[0] == '*') return false;
    return secrets_equal(hashed, hash);
}

bool secrets_equal(std::string_view a, std::string_view b) {
    unsigned char differ = a.size() == b.size() ? 0 : 1;
    size_t bytes = std::max(a.size(), b.size());
    for (size_t i = 0; i < bytes; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        differ |= static_cast<unsigned char>(x ^ y);
    }
    return differ == 0;
}

}  // namespace ringtail::core::auth
