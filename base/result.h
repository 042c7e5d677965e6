#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace ringtail {

// Operating errors: values that callers handle. A switch over Errc has no default, so that a
// new code makes every site decide.
enum class Errc : uint16_t {
    kOk = 0,
    kIo,             // the device failed a read or write (EIO); sticky for a log
    kNoSpace,        // ENOSPC; sticky for a log's failed write, not for a segment it could not create
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

// An operating error someone will read: the code callers switch on, and the words an operator
// needs to act (the call, the path, errno), written where the error was found. Control paths
// (start-up, opening files, stream creation) return it; data paths return a bare Errc.
struct Error {
    Errc code = Errc::kIo;
    std::string text;
};

// Result<T> carries a value or an Errc; Result<T, Error> a value or an Error.
template <class T, class E = Errc>
using Result = std::expected<T, E>;

std::string_view errc_text(Errc errc);

// An Error for `code` with `text`, ready to return from a Result<T, Error> function.
inline std::unexpected<Error> fail(Errc code, std::string text) {
    return std::unexpected(Error{code, std::move(text)});
}

// "what: <errno text>" with the Errc errno maps to (ENOSPC and EDQUOT kNoSpace, ENOENT
// kNotFound, EEXIST and EINVAL kInvalid, the rest kIo).
std::unexpected<Error> fail_errno(int error, std::string_view what);
Errc errc_from_errno(int error);

}  // namespace ringtail
