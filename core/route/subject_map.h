#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringtail::core {

// An import's subjects: what matches `from` in the exporting account is seen as `to` in the
// importing account (a stream import), or the other way round (a service import, by
// inverse()). `to` places `from`'s wildcards: each "*" the next one in order, "$n" or
// "{{wildcard(n)}}" the n-th, ">" the trailing tokens (`from` "orders.*.>" to
// "shop.orders.*.>": "orders.eu.new.1" is seen as "shop.orders.eu.new.1"; `from` "a.*.*" to
// "b.$2.$1": "a.x.y" is seen as "b.y.x"). Plain data, shared read-only by the subscriptions
// that use it.
class SubjectMap {
public:
    // `to` places every wildcard of `from` (the config has checked it, as nats-server's
    // newTransform does).
    SubjectMap(std::string_view from, std::string_view to);

    // The map from `to`'s subjects back to `from`'s.
    SubjectMap inverse() const;
    // The subjects `to` stands for: a pattern, its placeholders "*".
    std::string to_pattern() const;
    // What `subject` (a literal that matches `from`) is in the importing account.
    std::string apply(std::string_view subject) const;
    // The pattern of the exporting account's subjects that are seen as subjects `pattern`
    // matches (a subscription of the importing account), or nullopt when there are none.
    std::optional<std::string> reverse(std::string_view pattern) const;

private:
    SubjectMap() = default;
    // `pattern` with its wildcards filled by `values` (by number, in order; a missing one left).
    static std::string fill(const std::vector<std::string>& pattern, const std::vector<std::string>& values);
    // The tokens of `subject` at `pattern`'s wildcards ('>' takes the rest, joined).
    static std::vector<std::string> capture(const std::vector<std::string>& pattern, std::string_view subject);

    std::vector<std::string> from_;  // a pattern
    std::vector<std::string> to_;    // a pattern: each placeholder "*"
    // Per wildcard of to_, in order: the wildcard of from_ it places (from 0, ">" last).
    std::vector<size_t> placed_;
};

// One stream import of an account: the account it imports from and how subjects map.
struct ImportedStream {
    uint32_t from_account = 0;
    SubjectMap map;
};

// Where a subscription also listens through its account's stream imports: an exporting
// account, the pattern there, and the map that takes a subject from there back to the
// subscription's account.
struct ImportPath {
    uint32_t account = 0;
    std::string pattern;
    const SubjectMap* map = nullptr;
};

// The paths of a subscription to `pattern` in `account`: one for each stream import whose
// subjects `pattern` covers. One step only, as nats-server's shadow subscriptions: what the
// exporting account itself imports is not passed on. `imports_of` gives an account's stream
// imports.
std::vector<ImportPath> import_paths(uint32_t account, std::string_view pattern,
                                     const std::function<const std::vector<ImportedStream>&(uint32_t)>& imports_of);

}  // namespace ringtail::core
