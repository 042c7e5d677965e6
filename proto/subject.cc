#include "proto/subject.h"

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
    while (true) {
        size_t pattern_dot = pattern.find('.');
        size_t subject_dot = subject.find('.');
        std::string_view pattern_token = pattern.substr(0, pattern_dot);
        std::string_view subject_token = subject.substr(0, subject_dot);
        if (pattern_token == ">") return !subject.empty();
        if (pattern_token != "*" && pattern_token != subject_token) return false;
        bool pattern_last = pattern_dot == std::string_view::npos;
        bool subject_last = subject_dot == std::string_view::npos;
        if (pattern_last || subject_last) return pattern_last && subject_last;
        pattern.remove_prefix(pattern_dot + 1);
        subject.remove_prefix(subject_dot + 1);
    }
}

}  // namespace ringtail::proto
