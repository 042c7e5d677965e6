#include "base/result.h"

#include <cerrno>
#include <cstring>

namespace ringtail {

std::string_view errc_text(Errc errc) {
    switch (errc) {
        case Errc::kOk: return "ok";
        case Errc::kIo: return "I/O error";
        case Errc::kNoSpace: return "no space left on device";
        case Errc::kTooLarge: return "too large";
        case Errc::kInvalid: return "invalid";
        case Errc::kUnsupported: return "unsupported";
        case Errc::kClosed: return "closed";
        case Errc::kBusy: return "busy";
        case Errc::kNotFound: return "not found";
        case Errc::kCorruptRecord: return "corrupt record";
        case Errc::kForeign: return "not a Ringtail stream directory";
        case Errc::kLimit: return "a stream limit refuses the message";
    }
    return "unknown";
}

Errc errc_from_errno(int error) {
    switch (error) {
        case ENOSPC:
        case EDQUOT:
            return Errc::kNoSpace;
        case ENOENT:
            return Errc::kNotFound;
        case EEXIST:
        case EINVAL:
            return Errc::kInvalid;
        default:
            return Errc::kIo;
    }
}

std::unexpected<Error> fail_errno(int error, std::string_view what) {
    std::string text(what);
    text.append(": ");
    text.append(std::strerror(error));
    return fail(errc_from_errno(error), std::move(text));
}

}  // namespace ringtail
