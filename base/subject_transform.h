#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ringtail::base {

// The functions that cut one token into several, as nats-server's transform() applies them:
// in two, n bytes from the left or the right; in pieces of n bytes from the left or the right;
// at each `delimiter`, empty pieces dropped. A cut that does not fit the token leaves it
// whole. Appends to `out`.
enum class TokenCut : uint8_t { kSplitFromLeft, kSplitFromRight, kSliceFromLeft, kSliceFromRight, kSplit };
void cut_token(TokenCut cut, int64_t n, std::string_view delimiter, std::string_view source, std::string& out);

// A subject mapping's destination as nats-server 2.9 builds one (newTransform): literal
// tokens, the source's wildcards by number ("$1", "{{wildcard(1)}}"), a partition number
// ("{{partition(n,1,2)}}": FNV-1a of those wildcards' tokens, modulo n), a wildcard's token
// cut into several ("{{splitFromLeft(1,n)}}", "{{splitFromRight(1,n)}}": in two, n bytes from
// that end; "{{sliceFromLeft(1,n)}}", "{{sliceFromRight(1,n)}}": in pieces of n bytes from
// that end; "{{split(1,-)}}": at each "-"), and a trailing ">" that carries the source's
// trailing tokens over.
class SubjectTransform {
public:
    // The transform from `source` to `destination`, or nats-server's reason it is not one
    // ("invalid subject", "invalid mapping destination: ... in <token>").
    static std::variant<SubjectTransform, std::string> make(std::string_view source, std::string_view destination);

    // `subject` (a literal that matches the source) mapped.
    std::string apply(std::string_view subject) const;
    // Whether the destination only places the source's wildcards (no partition or cut).
    bool wildcards_only() const;

private:
    struct Token {
        enum class Kind : uint8_t { kLiteral, kWildcard, kPartition, kCut } kind = Kind::kLiteral;
        std::string text;             // kLiteral; kCut: the delimiter of a split
        std::vector<size_t> sources;  // all but kLiteral: the source's token positions
        uint32_t buckets = 0;         // kPartition
        TokenCut cut = TokenCut::kSplit;  // kCut
        int bytes = 0;                // kCut: the position or size of a split or slice
    };
    size_t source_tokens_ = 0;
    bool literal_ = true;  // no wildcards in the source: the destination as it is
    std::string destination_;
    std::vector<Token> tokens_;
};

// The wildcard a destination's token places: n for "$n" or "{{wildcard(n)}}" (the source's
// n-th "*", from 1), nullopt for any other token.
std::optional<int> wildcard_placeholder(std::string_view token);
// A destination with each "*" numbered in order ("b.*.*" -> "b.$1.$2"), as nats-server's
// transformTokenize turns an import's subject into a transform's destination.
std::string number_wildcards(std::string_view destination);
// The subjects a destination's placeholders stand for: each of them "*" ("b.$2.$1" -> "b.*.*").
std::string placeholders_as_wildcards(std::string_view destination);

}  // namespace ringtail::base
