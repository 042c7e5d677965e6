#pragma once

#include <cstdint>
#include <expected>
#include <string_view>

namespace ringtail {

// Operating errors: values that callers handle. A switch over Errc has no default, so that a
// new code makes every site decide.
enum class Errc : uint16_t {
    kOk = 0,
    kIo,             // the device failed a read or write (EIO); sticky for a log
    kNoSpace,        // ENOSPC; sticky for a log
    kTooLarge,       // a record larger than a segment can hold
    kInvalid,        // bad argument or malformed input
    kUnsupported,
    kClosed,
    kBusy,           // a bounded buffer is full; retry after the next completion
    kNotFound,       // no such record / file
    kCorruptRecord,  // a record failed its checksum on read; never served
    kForeign,        // a directory or file that is not Ringtail's, or not this stream's
    kLimit,          // a retention limit refuses the message (discard new)
};

template <class T>
using Result = std::expected<T, Errc>;

std::string_view errc_text(Errc errc);

}  // namespace ringtail
