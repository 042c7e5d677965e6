#pragma once

#include <string>
#include <string_view>

namespace ringtail::core::auth {

// Passwords and tokens as nats-server checks them (server/auth.go comparePasswords): a
// configured secret in bcrypt's form ("$2a$", "$2b$", "$2x$" or "$2y$", two cost digits, "$")
// is a hash the client's secret must match; any other is compared as it is.

// True for a secret in bcrypt's form.
bool is_bcrypt(std::string_view secret);

// Whether `password` hashes to `hash` (bcrypt, through libcrypt). Takes as long as the hash's
// cost says (about 0.1 s at cost 11): call it off the loop.
bool bcrypt_matches(const std::string& hash, const std::string& password);

// Equal, in a time that depends on the lengths only, never on where they first differ.
bool secrets_equal(std::string_view a, std::string_view b);

}  // namespace ringtail::core::auth
