#include "core/route/subject_map.h"

#include "base/subject_match.h"

namespace ringtail::core {
namespace {

std::vector<std::string> tokens_of(std::string_view subject) {
    std::vector<std::string> out;
    for (std::string_view token : base::subject_tokens(subject)) out.emplace_back(token);
    return out;
}

bool wildcard(const std::string& token) { return token == "*" || token == ">"; }

}  // namespace

SubjectMap::SubjectMap(std::string_view from, std::string_view to) : from_(tokens_of(from)), to_(tokens_of(to)) {}

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

std::string SubjectMap::fill(const std::vector<std::string>& pattern, const std::vector<std::string>& captured) {
    std::string out;
    size_t next = 0;
    for (const std::string& token : pattern) {
        if (!out.empty()) out += '.';
        out += wildcard(token) && next < captured.size() ? captured[next++] : token;
    }
    return out;
}

std::string SubjectMap::apply(std::string_view subject) const { return fill(to_, capture(from_, subject)); }

std::optional<std::string> SubjectMap::reverse(std::string_view pattern) const {
    std::string to;
    for (const std::string& token : to_) (to.empty() ? to : to += '.') += token;
    std::optional<std::string> both = base::pattern_intersection(pattern, to);
    if (!both) return std::nullopt;
    return fill(from_, capture(to_, *both));
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
