#pragma once

#include <cstdint>
#include <expected>

namespace ringtail {

// Operating errors: values that callers handle. A switch over Errc has no default, so that a
// new code makes every site decide.
enum class Errc : uint16_t {
    kOk = 0,
    kIo,
    kNoSpace,
    kTooLarge,
    kInvalid,
    kUnsupported,
    kClosed,
};

template <class T>
using Result = std::expected<T, Errc>;

}  // namespace ringtail
