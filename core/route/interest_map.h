#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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

// Counts this shard's own references per (subject, queue) and says which changes the other
// shards must hear of.
// Owner: one shard.
class LocalInterest {
public:
    // Applies `delta` and returns true when it must be announced: the first and the last
    // reference of a plain subject, and every queue member (other shards weigh their choice
    // of shard by member count).
    bool change(std::string_view subject, std::string_view queue, int32_t delta);
    size_t entries() const { return refs_.size(); }

private:
    base::StringMap<int64_t> refs_;
};

// A key unambiguous whatever bytes the subject and queue hold: "<subject length>:<subject><queue>".
std::string interest_key(std::string_view subject, std::string_view queue);

}  // namespace ringtail::core
