#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/string_map.h"
#include "core/route/sublist.h"

namespace ringtail::core {

// Another shard's interest in a (subject, queue), as this shard's replica knows it.
struct RemoteInterest {
    uint32_t shard = 0;
    std::string subject;
    std::string queue;
    int64_t refs = 0;  // that shard's subscriptions behind this entry (queue members counted)
};

// The replica of which other shards have interest in which subjects: what a publishing shard
// matches to decide where copies go.
// Owner: one shard; fed in ring order by the interest records of every other shard.
class InterestMap {
public:
    using MatchResult = Sublist<RemoteInterest>::MatchResult;

    // Shard `shard` gained (+1) or lost (-1) a reference to (subject, queue). An entry
    // appears at its first reference and goes at its last.
    void apply(uint32_t shard, std::string_view subject, std::string_view queue, int32_t delta);
    // The remote interest matching the literal `subject`; valid until the next apply or match.
    const MatchResult& match(std::string_view subject) { return sublist_.match(subject); }
    size_t entries() const { return entries_.size(); }

private:
    Sublist<RemoteInterest> sublist_;
    base::StringMap<std::unique_ptr<RemoteInterest>> entries_;  // by (shard, subject, queue)
};

// What one change of this shard's references means to the other shards: a delta for every
// other shard but those listed, and one for each listed shard (0: nothing for it).
struct InterestChange {
    int32_t others = 0;
    std::vector<std::pair<uint32_t, int32_t>> listed;
    bool empty() const {
        return others == 0 && std::all_of(listed.begin(), listed.end(), [](const auto& l) { return l.second == 0; });
    }
};

// Counts this shard's own references per (subject, queue) and says which changes the other
// shards must hear of.
// Owner: one shard.
//
// A plain reference may be forwarded to a shard (a connection with subscriptions moved there:
// core/shard/switch.h): this shard keeps it for every other shard, but that one, which
// delivers to the subscription itself, must not count it (it would send its messages here
// only to have them sent back).
class LocalInterest {
public:
    // Applies `delta` to this shard's own references: the first and the last reference of a
    // plain subject are announced (to each shard as it sees them), and every queue member
    // (other shards weigh their choice of shard by member count).
    InterestChange change(std::string_view subject, std::string_view queue, int32_t delta);
    // +1: one own plain reference becomes one forwarded to `target` (which no longer sees it);
    // -1: a forwarded reference goes.
    InterestChange forward(std::string_view subject, uint32_t target, int32_t delta);
    size_t entries() const { return refs_.size(); }

private:
    struct Refs {
        int64_t total = 0;
        std::vector<std::pair<uint32_t, int64_t>> forwarded;  // by target, counts > 0
    };
    InterestChange apply(std::string_view subject, std::string_view queue, int32_t delta, uint32_t target,
                         int32_t forwarded_delta);
    base::StringMap<Refs> refs_;
};

// A key unambiguous whatever bytes the subject and queue hold: "<subject length>:<subject><queue>".
std::string interest_key(std::string_view subject, std::string_view queue);

}  // namespace ringtail::core
