#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/route/interest_map.h"
#include "core/route/sublist.h"
#include "core/route/subscription.h"

namespace ringtail::core {

using LocalMatch = Sublist<Subscription>::MatchResult;
using Random = std::minstd_rand;

// Where one message goes: the plain subscriptions on this shard that get it, the queue groups
// this shard serves (one member each, picked with pick_member() as the message is delivered,
// after the plain subscribers, so a member whose connection an earlier delivery closed is
// passed over), and for every other shard whether it gets a copy and which groups it serves.
// The group lists point into the sublist's match result: valid until the sublist changes.
struct RouteDecision {
    std::vector<Subscription*> plain;
    std::vector<const std::vector<Subscription*>*> groups;
    std::vector<uint64_t> group_ids;               // by group: its queue_id() (decide_arrival() only)
    std::vector<uint8_t> copy;                     // by shard: gets a copy
    std::vector<uint8_t> forward;                  // by shard: its copy is also for what moved there from here
    std::vector<std::vector<uint64_t>> queue_ids;  // by shard: queue groups it picks a member of

    void reset(uint32_t shards);
};

// Routing decisions are plain functions of what this shard's sublist and interest replica
// match and of the random source; they deliver nothing and touch no I/O.
//
// A message published on this shard by `origin` (null: by the server). `remote` is null when
// this is the only shard. A queue group's member is picked among every shard's members that
// can take it, weighted by how many each shard has; a group with members only elsewhere is
// decided here too, so every group gets the message exactly once.
void decide_route(const LocalMatch& local, const InterestMap::MatchResult* remote, const Subscriber* origin,
                  Random& random, RouteDecision& out);

// A message another shard sent here: every plain subscriber when `plain` (but those that
// moved here: their old shard forwards what is theirs), those that moved here from
// `forwarded_from` (Subscription::kNotMoved: none), and the queue groups in `queue_ids` (the
// sender chose this shard for them) that have members here. Fills `out.plain`, `out.groups`
// and `out.group_ids`.
void decide_arrival(const LocalMatch& local, bool plain, uint32_t forwarded_from, std::span<const uint64_t> queue_ids,
                    RouteDecision& out);

// Whether `sub` can take a message from `origin` now (not at its max, its owner willing).
inline bool accepts(const Subscription& sub, const Subscriber* origin) {
    return !sub.expired && sub.owner->accepts(sub, origin);
}

// One member of `members` that takes a message from `origin`: from a random start, the first
// that accepts it and for which `take` (the delivery) succeeds, as nats-server's walk in
// processMsgResults goes on past a member whose delivery fails. Null if none took it.
template <class Take>
Subscription* pick_member(const std::vector<Subscription*>& members, const Subscriber* origin, Random& random,
                          Take&& take) {
    size_t count = members.size();
    size_t start = random() % count;
    for (size_t i = 0; i < count; ++i) {
        Subscription* sub = members[(start + i) % count];
        if (accepts(*sub, origin) && take(*sub)) return sub;
    }
    return nullptr;
}
// The member that would take it, if every delivery succeeded.
inline Subscription* pick_member(const std::vector<Subscription*>& members, const Subscriber* origin, Random& random) {
    return pick_member(members, origin, random, [](Subscription&) { return true; });
}

}  // namespace ringtail::core
