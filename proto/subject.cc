#include "proto/subject.h"

#include "base/subject_match.h"

namespace ringtail::proto {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Walks the tokens of `subject`; returns false on an empty token or whitespace.
template <class OnToken>
bool for_each_token(std::string_view subject, OnToken on_token) {
    if (subject.empty()) return false;
    size_t start = 0;
    for (size_t i = 0; i <= subject.size(); ++i) {
        if (i == subject.size() || subject[i] == '.') {
            if (i == start) return false;
            if (!on_token(subject.substr(start, i - start), i == subject.size())) return false;
            start = i + 1;
        } else if (is_space(subject[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool is_valid_subject(std::string_view subject) {
    return for_each_token(subject, [](std::string_view token, bool last) {
        return !(token == ">" && !last);
    });
}

bool is_valid_literal_subject(std::string_view subject) {
    return for_each_token(subject, [](std::string_view token, bool) {
        return token != "*" && token != ">";
    });
}

bool subject_matches(std::string_view pattern, std::string_view subject) {
    return base::subject_matches(pattern, subject);
}

bool is_reserved_reply(std::string_view reply) {
    for (std::string_view prefix : {std::string_view("_R_."), std::string_view("$JS.ACK."), std::string_view("_GR_.")}) {
        // "_R_." alone counts (isServiceReply); the others need more after them.
        if (reply.starts_with(prefix) && (prefix == "_R_." || reply.size() > prefix.size())) return true;
    }
    return false;
}

}  // namespace ringtail::proto
