#include "base/subject_transform.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <utility>

#include "base/subject_match.h"

namespace ringtail::base {
namespace {

bool valid_subject(std::string_view subject) {
    if (subject.empty()) return false;
    std::vector<std::string_view> tokens = subject_tokens(subject);
    for (size_t i = 0; i < tokens.size(); ++i) {
        // A function may have spaces around its arguments, as nats-server's expressions allow.
        bool function = tokens[i].starts_with("{{") && tokens[i].ends_with("}}");
        if (tokens[i].empty() || (!function && tokens[i].find_first_of(" \t\r\n") != std::string_view::npos)) {
            return false;
        }
        if (tokens[i] == ">" && i + 1 != tokens.size()) return false;
    }
    return true;
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return text;
}

std::optional<int> number(std::string_view text) {
    text = trimmed(text);
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// The arguments of "{{name(a,b)}}" when `token` calls `name` (case-insensitive), else nullopt.
std::optional<std::vector<std::string_view>> call_args(std::string_view token, std::string_view name) {
    std::string_view inner = trimmed(token.substr(2, token.size() - 4));
    if (inner.size() < name.size() + 2 || inner.back() != ')') return std::nullopt;
    for (size_t i = 0; i < name.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(inner[i])) != name[i]) return std::nullopt;
    }
    std::string_view rest = inner.substr(name.size());
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty() || rest.front() != '(') return std::nullopt;
    return split_on(rest.substr(1, rest.size() - 2), ',');
}

uint32_t fnv1a(std::string_view key) {
    uint32_t hash = 2166136261u;
    for (char c : key) {
        hash ^= static_cast<uint8_t>(c);
        hash *= 16777619u;
    }
    return hash;
}

}  // namespace

std::variant<SubjectTransform, std::string> SubjectTransform::make(std::string_view source, std::string_view destination) {
    std::vector<std::string_view> src = subject_tokens(source);
    std::vector<std::string_view> dest = subject_tokens(destination);
    size_t wildcards = 0;
    std::map<int, size_t> positions;  // wildcard number (from 1) -> source token position
    for (size_t i = 0; i < src.size(); ++i) {
        if (src[i] == "*") positions[static_cast<int>(++wildcards)] = i;
    }
    bool src_fwc = !src.empty() && src.back() == ">";
    bool dest_fwc = !dest.empty() && dest.back() == ">";
    bool dest_pwc = false;
    for (std::string_view token : dest) dest_pwc = dest_pwc || token == "*";
    if (!valid_subject(source) || !valid_subject(destination) || dest_pwc || src_fwc != dest_fwc) {
        return std::string("invalid subject");
    }
    SubjectTransform transform;
    transform.source_tokens_ = src.size();
    transform.destination_ = destination;
    transform.literal_ = wildcards == 0 && !src_fwc;
    if (transform.literal_) return transform;
    const std::string invalid = "invalid mapping destination: ";
    size_t placeholders = 0;
    for (std::string_view text : dest) {
        Token token;
        token.text = text;
        std::vector<int> indexes;
        if (text.size() > 1 && text[0] == '$') {
            if (auto n = number(text.substr(1))) {
                token.kind = Token::Kind::kWildcard;
                indexes.push_back(*n);
            }
        } else if (text.size() > 4 && text.starts_with("{{") && text.ends_with("}}")) {
            if (auto args = call_args(text, "wildcard")) {
                if (args->size() == 1 && (*args)[0].find_first_not_of(' ') == std::string_view::npos) {
                    return invalid + "not enough arguments passed to the function in " + std::string(text);
                }
                if (args->size() > 1) return invalid + "too many arguments passed to the function in " + std::string(text);
                auto n = number((*args)[0]);
                if (!n) return invalid + "function argument is invalid or in the wrong format in " + std::string(text);
                token.kind = Token::Kind::kWildcard;
                indexes.push_back(*n);
            } else if (auto parts = call_args(text, "partition")) {
                if (parts->size() < 2) return invalid + "not enough arguments passed to the function in " + std::string(text);
                auto buckets = number((*parts)[0]);
                if (!buckets) return invalid + "function argument is invalid or in the wrong format in " + std::string(text);
                token.kind = Token::Kind::kPartition;
                token.buckets = static_cast<uint32_t>(*buckets);
                for (size_t i = 1; i < parts->size(); ++i) {
                    auto n = number((*parts)[i]);
                    if (!n) return invalid + "function argument is invalid or in the wrong format in " + std::string(text);
                    indexes.push_back(*n);
                }
            } else {
                constexpr std::pair<std::string_view, TokenCut> kCuts[] = {
                    {"splitfromleft", TokenCut::kSplitFromLeft}, {"splitfromright", TokenCut::kSplitFromRight},
                    {"slicefromleft", TokenCut::kSliceFromLeft}, {"slicefromright", TokenCut::kSliceFromRight},
                    {"split", TokenCut::kSplit},
                };
                for (auto [name, cut] : kCuts) {
                    auto cut_args = call_args(text, name);
                    if (!cut_args) continue;
                    if (cut_args->size() < 2) return invalid + "not enough arguments passed to the function in " + std::string(text);
                    if (cut_args->size() > 2) return invalid + "too many arguments passed to the function in " + std::string(text);
                    auto n = number((*cut_args)[0]);
                    if (!n) return invalid + "function argument is invalid or in the wrong format in " + std::string(text);
                    indexes.push_back(*n);
                    token.kind = Token::Kind::kCut;
                    token.cut = cut;
                    if (cut == TokenCut::kSplit) {
                        // nats-server splits the arguments at ",\s*": the delimiter keeps no
                        // leading space, and may have none inside, nor a dot.
                        std::string_view delimiter = (*cut_args)[1];
                        while (!delimiter.empty() && std::isspace(static_cast<unsigned char>(delimiter.front()))) {
                            delimiter.remove_prefix(1);
                        }
                        if (delimiter.find_first_of(" .") != std::string_view::npos) {
                            return invalid + "function argument is invalid or in the wrong format in " + std::string(text);
                        }
                        token.text = delimiter;
                    } else {
                        auto bytes = number((*cut_args)[1]);
                        if (!bytes) return invalid + "function argument is invalid or in the wrong format in " + std::string(text);
                        token.bytes = *bytes;
                    }
                    break;
                }
                if (token.kind == Token::Kind::kLiteral) return invalid + "unknown function in " + std::string(text);
            }
        }
        if (token.kind != Token::Kind::kLiteral) {
            ++placeholders;
            for (int index : indexes) {
                if (index < 1 || static_cast<size_t>(index) > wildcards) {
                    return invalid + "wildcard index out of range in " + std::string(text) + ": [" + std::to_string(index) + "]";
                }
                token.sources.push_back(positions[index]);
            }
            if (token.kind == Token::Kind::kPartition && token.buckets == 0) {
                return invalid + "function argument is invalid or in the wrong format in " + std::string(text);
            }
        }
        transform.tokens_.push_back(std::move(token));
    }
    if (placeholders < wildcards) return invalid + "not using all of the token wildcard(s) in " + std::string(destination);
    return transform;
}

bool SubjectTransform::wildcards_only() const {
    return std::all_of(tokens_.begin(), tokens_.end(), [](const Token& token) {
        return token.kind == Token::Kind::kLiteral || token.kind == Token::Kind::kWildcard;
    });
}

std::string SubjectTransform::apply(std::string_view subject) const {
    if (literal_) return destination_;
    std::vector<std::string_view> tokens = subject_tokens(subject);
    std::string out;
    for (const Token& token : tokens_) {
        if (!out.empty()) out += '.';
        if (token.kind == Token::Kind::kLiteral && token.text == ">") {
            // The source's trailing tokens, from where its own ">" stood.
            for (size_t i = source_tokens_ - 1; i < tokens.size(); ++i) {
                if (i != source_tokens_ - 1) out += '.';
                out += tokens[i];
            }
            break;
        }
        switch (token.kind) {
            case Token::Kind::kLiteral:
                out += token.text;
                break;
            case Token::Kind::kWildcard:
                out += tokens[token.sources[0]];
                break;
            case Token::Kind::kPartition: {
                std::string key;
                for (size_t position : token.sources) key += tokens[position];
                out += std::to_string(fnv1a(key) % token.buckets);
                break;
            }
            case Token::Kind::kCut:
                cut_token(token.cut, token.bytes, token.text, tokens[token.sources[0]], out);
                break;
        }
    }
    return out;
}

std::optional<int> wildcard_placeholder(std::string_view token) {
    if (token.size() > 1 && token[0] == '$') return number(token.substr(1));
    if (token.size() > 4 && token.starts_with("{{") && token.ends_with("}}")) {
        auto args = call_args(token, "wildcard");
        if (args && args->size() == 1) return number((*args)[0]);
    }
    return std::nullopt;
}

std::string number_wildcards(std::string_view destination) {
    std::string out;
    int next = 0;
    for (std::string_view token : subject_tokens(destination)) {
        if (!out.empty()) out += '.';
        out += token == "*" ? "$" + std::to_string(++next) : std::string(token);
    }
    return out;
}

std::string placeholders_as_wildcards(std::string_view destination) {
    std::string out;
    for (std::string_view token : subject_tokens(destination)) {
        if (!out.empty()) out += '.';
        out += wildcard_placeholder(token) ? std::string("*") : std::string(token);
    }
    return out;
}

void cut_token(TokenCut cut, int64_t n, std::string_view delimiter, std::string_view source, std::string& out) {
    const auto length = static_cast<int64_t>(source.size());
    auto piece = [&](int64_t from, int64_t bytes) {
        out += source.substr(static_cast<size_t>(from), static_cast<size_t>(bytes));
    };
    const bool fits = n > 0 && n < length;
    switch (cut) {
        case TokenCut::kSplitFromLeft:
        case TokenCut::kSplitFromRight: {
            if (!fits) break;
            int64_t at = cut == TokenCut::kSplitFromLeft ? n : length - n;
            piece(0, at);
            out += '.';
            piece(at, length - at);
            return;
        }
        case TokenCut::kSliceFromLeft:
        case TokenCut::kSliceFromRight: {
            if (!fits) break;
            // From the left the short piece ends the token, from the right it starts it.
            int64_t first = cut == TokenCut::kSliceFromLeft ? 0 : length % n;
            if (first > 0) {
                piece(0, first);
                out += '.';
            }
            for (int64_t at = first; at < length; at += n) {
                if (at != first) out += '.';
                piece(at, std::min(n, length - at));
            }
            return;
        }
        case TokenCut::kSplit: {
            // Go's strings.Split (an empty delimiter splits every byte), then the pieces
            // joined with dots as nats-server joins them: empty pieces dropped.
            std::vector<std::string_view> pieces;
            if (delimiter.empty()) {
                for (size_t i = 0; i < source.size(); ++i) pieces.push_back(source.substr(i, 1));
            } else {
                for (size_t start = 0;;) {
                    size_t at = source.find(delimiter, start);
                    pieces.push_back(source.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
                    if (at == std::string_view::npos) break;
                    start = at + delimiter.size();
                }
            }
            for (size_t j = 0; j < pieces.size(); ++j) {
                out += pieces[j];
                if (j + 1 < pieces.size() && !pieces[j + 1].empty() && !(j == 0 && pieces[j].empty())) out += '.';
            }
            return;
        }
    }
    out += source;
}

}  // namespace ringtail::base
