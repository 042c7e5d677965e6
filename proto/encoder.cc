#include "proto/encoder.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <span>

namespace ringtail::proto {
namespace {

// Copies n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), as two words that may overlap.
template <class Word>
void copy_ends(char* to, const char* from, size_t n) {
    Word head;
    Word tail;
    std::memcpy(&head, from, sizeof(Word));
    std::memcpy(&tail, from + n - sizeof(Word), sizeof(Word));
    std::memcpy(to, &head, sizeof(Word));
    std::memcpy(to + n - sizeof(Word), &tail, sizeof(Word));
}

struct Block16 {
    char bytes[16];
};

// Writes `text` at `at`; returns the end. Most pieces of a frame are a few bytes long, so up
// to 32 bytes are copied in line instead of by a call to memcpy.
char* put(char* at, std::string_view text) {
    const char* from = text.data();
    const size_t n = text.size();
    if (n > 32) {
        std::memcpy(at, from, n);
    } else if (n > 16) {
        copy_ends<Block16>(at, from, n);
    } else if (n >= 8) {
        copy_ends<uint64_t>(at, from, n);
    } else if (n >= 4) {
        copy_ends<uint32_t>(at, from, n);
    } else {
        for (size_t i = 0; i < n; ++i) at[i] = from[i];
    }
    return at + n;
}

// `text` if given, else the digits of `value`, written into `digits`.
std::string_view number(size_t value, std::string_view text, std::span<char, 24> digits) {
    if (!text.empty()) return text;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    return {digits.data(), end};
}

// <verb><subject> <sid> [reply ]<sizes>\r\n<headers><payload>\r\n, grown once and written in
// place: a frame is built for every delivery, and appending it piece by piece paid a capacity
// check and a terminator for each of its nine pieces.
void append_frame(std::string& out, std::string_view verb, std::string_view subject, std::string_view sid,
                  std::string_view reply, std::string_view sizes_first, std::string_view sizes_second,
                  std::string_view headers, std::string_view payload) {
    const size_t bytes = verb.size() + subject.size() + 1 + sid.size() + 1 + (reply.empty() ? 0 : reply.size() + 1) +
                         sizes_first.size() + (sizes_second.empty() ? 0 : 1 + sizes_second.size()) + 2 +
                         headers.size() + payload.size() + 2;
    // The size is taken here, not from the callback's argument: libstdc++ 12 passes the grown
    // capacity there when the string reallocates.
    const size_t from = out.size();
    out.resize_and_overwrite(from + bytes, [&](char* data, size_t) {
        char* at = put(data + from, verb);
        at = put(at, subject);
        *at++ = ' ';
        at = put(at, sid);
        *at++ = ' ';
        if (!reply.empty()) {
            at = put(at, reply);
            *at++ = ' ';
        }
        at = put(at, sizes_first);
        if (!sizes_second.empty()) {
            *at++ = ' ';
            at = put(at, sizes_second);
        }
        at = put(at, "\r\n");
        at = put(at, headers);
        at = put(at, payload);
        put(at, "\r\n");
        return from + bytes;
    });
}

}  // namespace

void append_msg(std::string& out, std::string_view subject, std::string_view sid,
                std::string_view reply, std::string_view payload, std::string_view size_text) {
    char digits[24];
    append_frame(out, "MSG ", subject, sid, reply, number(payload.size(), size_text, digits), {}, {}, payload);
}

void append_hmsg(std::string& out, std::string_view subject, std::string_view sid,
                 std::string_view reply, std::string_view headers, std::string_view payload,
                 std::string_view header_size_text, std::string_view total_size_text) {
    char header_digits[24];
    char total_digits[24];
    append_frame(out, "HMSG ", subject, sid, reply, number(headers.size(), header_size_text, header_digits),
                 number(headers.size() + payload.size(), total_size_text, total_digits), headers, payload);
}

void append_err(std::string& out, std::string_view text) {
    out.append("-ERR '");
    out.append(text);
    out.append("'\r\n");
}

}  // namespace ringtail::proto
