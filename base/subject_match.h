#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// The parts of `text` between `separator`s (empty ones included).
inline std::vector<std::string_view> split_on(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    while (true) {
        size_t at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) return parts;
        text.remove_prefix(at + 1);
    }
}

// The words of `text` between runs of white space, as Go's strings.Fields finds them (what a
// permission's "subject queue" is read as).
inline std::vector<std::string_view> fields(std::string_view text) {
    constexpr std::string_view kSpace = " \t\n\v\f\r";
    std::vector<std::string_view> words;
    for (size_t start = text.find_first_not_of(kSpace); start != std::string_view::npos;) {
        size_t end = text.find_first_of(kSpace, start);
        words.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
        start = end == std::string_view::npos ? end : text.find_first_not_of(kSpace, end);
    }
    return words;
}

// The tokens of a subject or pattern ("a.*.>" -> a, *, >).
inline std::vector<std::string_view> subject_tokens(std::string_view subject) { return split_on(subject, '.'); }

// The pattern matching exactly the subjects both patterns match, or nullopt if none does
// ("a.*" and "*.b": "a.b"; "a.>" and "*.b.c": "a.b.c").
inline std::optional<std::string> pattern_intersection(std::string_view first, std::string_view second) {
    std::vector<std::string_view> p = subject_tokens(first);
    std::vector<std::string_view> q = subject_tokens(second);
    std::string out;
    auto add = [&out](std::string_view token) {
        if (!out.empty()) out += '.';
        out += token;
    };
    for (size_t i = 0;; ++i) {
        if (i == p.size() || i == q.size()) return i == p.size() && i == q.size() ? std::optional(out) : std::nullopt;
        if (p[i] == ">" || q[i] == ">") {
            const auto& rest = p[i] == ">" ? q : p;
            for (size_t j = i; j < rest.size(); ++j) add(rest[j]);
            return out;
        }
        if (p[i] == "*") {
            add(q[i]);
        } else if (q[i] == "*" || p[i] == q[i]) {
            add(p[i]);
        } else {
            return std::nullopt;
        }
    }
}

// Whether every subject `inner` matches, `outer` matches too ("a.b" and "a.*" in "a.>").
inline bool pattern_is_subset(std::string_view inner, std::string_view outer) {
    std::vector<std::string_view> p = subject_tokens(inner);
    std::vector<std::string_view> q = subject_tokens(outer);
    for (size_t i = 0; i < q.size(); ++i) {
        if (q[i] == ">") return i < p.size();
        if (i == p.size() || p[i] == ">") return false;
        if (q[i] != "*" && (p[i] == "*" || p[i] != q[i])) return false;
    }
    return p.size() == q.size();
}

}  // namespace ringtail::base
