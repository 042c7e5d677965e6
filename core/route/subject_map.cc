#include "core/route/subject_map.h"

#include <algorithm>

#include "base/subject_match.h"
#include "base/subject_transform.h"

namespace ringtail::core {
namespace {

std::vector<std::string> tokens_of(std::string_view subject) {
    std::vector<std::string> out;
    for (std::string_view token : base::subject_tokens(subject)) out.emplace_back(token);
    return out;
}

bool wildcard(std::string_view token) { return token == "*" || token == ">"; }

std::string joined(const std::vector<std::string>& tokens) {
    std::string out;
    for (const std::string& token : tokens) (out.empty() ? out : out += '.') += token;
    return out;
}

}  // namespace

SubjectMap::SubjectMap(std::string_view from, std::string_view to) : from_(tokens_of(from)) {
    size_t stars = 0;
    for (const std::string& token : from_) stars += token == "*";
    size_t next_star = 0;
    for (std::string_view token : base::subject_tokens(to)) {
        if (token == "*") {
            placed_.push_back(next_star++);
        } else if (token == ">") {
            placed_.push_back(stars);
        } else if (std::optional<int> n = base::wildcard_placeholder(token); n && *n >= 1) {
            placed_.push_back(static_cast<size_t>(*n - 1));
            token = "*";
        }
        to_.emplace_back(token);
    }
}

SubjectMap SubjectMap::inverse() const {
    SubjectMap back;
    back.from_ = to_;
    back.to_ = from_;
    size_t wildcard_index = 0;
    for (const std::string& token : from_) {
        if (!wildcard(token)) continue;
        auto at = std::find(placed_.begin(), placed_.end(), wildcard_index++);
        back.placed_.push_back(static_cast<size_t>(at - placed_.begin()));
    }
    return back;
}

std::string SubjectMap::to_pattern() const { return joined(to_); }

std::vector<std::string> SubjectMap::capture(const std::vector<std::string>& pattern, std::string_view subject) {
    std::vector<std::string_view> tokens = base::subject_tokens(subject);
    std::vector<std::string> captured;
    for (size_t i = 0; i < pattern.size() && i < tokens.size(); ++i) {
        if (pattern[i] == "*") {
            captured.emplace_back(tokens[i]);
        } else if (pattern[i] == ">") {
            std::string rest(tokens[i]);
            for (size_t j = i + 1; j < tokens.size(); ++j) (rest += '.') += tokens[j];
            captured.push_back(std::move(rest));
        }
    }
    return captured;
}

std::string SubjectMap::fill(const std::vector<std::string>& pattern, const std::vector<std::string>& values) {
    std::string out;
    size_t next = 0;
    for (const std::string& token : pattern) {
        if (!out.empty()) out += '.';
        bool placed = wildcard(token) && next < values.size() && !values[next].empty();
        out += placed ? values[next] : token;
        next += wildcard(token);
    }
    return out;
}

std::string SubjectMap::apply(std::string_view subject) const {
    std::vector<std::string> captured = capture(from_, subject);
    std::vector<std::string> values;
    for (size_t index : placed_) values.push_back(index < captured.size() ? captured[index] : std::string());
    return fill(to_, values);
}

std::optional<std::string> SubjectMap::reverse(std::string_view pattern) const {
    std::optional<std::string> both = base::pattern_intersection(pattern, joined(to_));
    if (!both) return std::nullopt;
    std::vector<std::string> captured = capture(to_, *both);
    std::vector<std::string> values;
    for (size_t i = 0; i < captured.size() && i < placed_.size(); ++i) {
        if (values.size() <= placed_[i]) values.resize(placed_[i] + 1);
        values[placed_[i]] = captured[i];
    }
    return fill(from_, values);
}

std::vector<ImportPath> import_paths(uint32_t account, std::string_view pattern,
                                     const std::function<const std::vector<ImportedStream>&(uint32_t)>& imports_of) {
    std::vector<ImportPath> out;
    for (const ImportedStream& imported : imports_of(account)) {
        if (std::optional<std::string> wanted = imported.map.reverse(pattern)) {
            out.push_back({imported.from_account, std::move(*wanted), &imported.map});
        }
    }
    return out;
}

}  // namespace ringtail::core
