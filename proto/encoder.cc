#include "proto/encoder.h"

#include <charconv>

namespace ringtail::proto {
namespace {

void append_number(std::string& out, size_t value, std::string_view text) {
    if (!text.empty()) {
        out.append(text);
        return;
    }
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, end);
}

void append_head(std::string& out, std::string_view verb, std::string_view subject,
                 std::string_view sid, std::string_view reply) {
    out.append(verb);
    out.append(subject);
    out.push_back(' ');
    out.append(sid);
    out.push_back(' ');
    if (!reply.empty()) {
        out.append(reply);
        out.push_back(' ');
    }
}

}  // namespace

void append_msg(std::string& out, std::string_view subject, std::string_view sid,
                std::string_view reply, std::string_view payload, std::string_view size_text) {
    append_head(out, "MSG ", subject, sid, reply);
    append_number(out, payload.size(), size_text);
    out.append("\r\n");
    out.append(payload);
    out.append("\r\n");
}

void append_hmsg(std::string& out, std::string_view subject, std::string_view sid,
                 std::string_view reply, std::string_view headers, std::string_view payload,
                 std::string_view header_size_text, std::string_view total_size_text) {
    append_head(out, "HMSG ", subject, sid, reply);
    append_number(out, headers.size(), header_size_text);
    out.push_back(' ');
    append_number(out, headers.size() + payload.size(), total_size_text);
    out.append("\r\n");
    out.append(headers);
    out.append(payload);
    out.append("\r\n");
}

void append_err(std::string& out, std::string_view text) {
    out.append("-ERR '");
    out.append(text);
    out.append("'\r\n");
}

}  // namespace ringtail::proto
