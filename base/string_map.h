#pragma once

#include <absl/container/flat_hash_map.h>

#include <functional>
#include <string>
#include <string_view>

#include "base/hash.h"

namespace ringtail::base {

// A key with its hash64 already computed, for a caller that needs the hash itself too: a map
// looks it up (or inserts it) without hashing it again.
struct HashedKey {
    std::string_view text;
    uint64_t hash;
    explicit HashedKey(std::string_view key) : text(key), hash(hash64(key.data(), key.size())) {}
    operator std::string_view() const { return text; }  // for equality, and to build the stored key
};

// Hash and equality for std::string keys that also accept std::string_view, so lookups with a
// view into a receive buffer allocate nothing. (Debian's abseil is built with its own
// string_view type, so its default transparent hash does not take std::string_view.) XXH3:
// several times faster than std::hash on short keys such as subjects.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return hash64(text.data(), text.size()); }
    size_t operator()(const HashedKey& key) const { return key.hash; }
};
struct StringEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

template <class V>
using StringMap = absl::flat_hash_map<std::string, V, StringHash, StringEq>;

}  // namespace ringtail::base
