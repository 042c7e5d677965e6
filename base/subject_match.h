#pragma once

#include <string_view>

namespace ringtail::base {

// Does the literal `subject` match `pattern` ('*' one token, '>' one or more, whole tokens)?
// The reference matcher: the sublist tests compare against it, and the store filters with it.
inline bool subject_matches(std::string_view pattern, std::string_view subject) {
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

}  // namespace ringtail::base
