#pragma once

#include <cstddef>
#include <cstdint>

// xxHash compiled into each caller rather than called in libxxhash: for the short inputs most
// hashes here see (subjects, small records), the call into the shared library and its size
// dispatch cost as much as the hashing.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ringtail::base {

// XXH3-64 of `bytes` at `data`: the checksum of every stored record, and the hash of subjects
// and names.
inline uint64_t hash64(const void* data, size_t bytes) { return XXH3_64bits(data, bytes); }

}  // namespace ringtail::base
