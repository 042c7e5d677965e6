#include "core/route/router.h"

#include <algorithm>

namespace ringtail::core {
void RouteDecision::reset(uint32_t shards) {
    plain.clear();
    groups.clear();
    group_ids.clear();
    copy.assign(shards, 0);
    forward.assign(shards, 0);
    queue_ids.resize(shards);  // the inner vectors keep their room from message to message
    for (auto& ids : queue_ids) ids.clear();
}

void decide_route(const LocalMatch& local, const InterestMap::MatchResult* remote, const Subscriber* origin,
                  Random& random, RouteDecision& out) {
    for (Subscription* sub : local.plain) {
        if (accepts(*sub, origin)) out.plain.push_back(sub);
    }
    if (remote == nullptr) {
        for (const auto& group : local.queues) out.groups.push_back(&group.members);
        return;
    }
    for (const RemoteInterest* interest : remote->plain) out.copy[interest->shard] = 1;
    // The members here that take the message weigh this shard's share: counted one by one in a
    // small group; a large one weighs its size once one member is found to take it (a walk that
    // stops at the first), so that a message costs no more with a thousand members than with ten.
    constexpr size_t kCountedMembersMax = 64;
    auto choose = [&](uint64_t id, const std::vector<Subscription*>* members_local,
                      const std::vector<RemoteInterest*>* members_remote) {
        int64_t local_count = 0;
        if (members_local != nullptr && members_local->size() <= kCountedMembersMax) {
            for (const Subscription* sub : *members_local) local_count += accepts(*sub, origin);
        } else if (members_local != nullptr &&
                   std::any_of(members_local->begin(), members_local->end(),
                               [&](const Subscription* sub) { return accepts(*sub, origin); })) {
            local_count = static_cast<int64_t>(members_local->size());
        }
        int64_t total = local_count;
        if (members_remote != nullptr) {
            for (const RemoteInterest* r : *members_remote) total += r->refs;
        }
        if (total <= 0) return;
        auto pick = static_cast<int64_t>(random() % static_cast<uint64_t>(total));
        if (pick < local_count) {
            out.groups.push_back(members_local);
            return;
        }
        pick -= local_count;
        for (const RemoteInterest* r : *members_remote) {
            if (pick < r->refs) {
                out.copy[r->shard] = 1;
                out.queue_ids[r->shard].push_back(id);
                return;
            }
            pick -= r->refs;
        }
    };
    for (const auto& group : local.queues) {
        const std::vector<RemoteInterest*>* members_remote = nullptr;
        for (const auto& remote_group : remote->queues) {
            if (remote_group.name == group.name) members_remote = &remote_group.members;
        }
        choose(group.id, &group.members, members_remote);
    }
    for (const auto& remote_group : remote->queues) {
        bool seen = std::any_of(local.queues.begin(), local.queues.end(),
                                [&](const auto& g) { return g.name == remote_group.name; });
        if (!seen) choose(remote_group.id, nullptr, &remote_group.members);
    }
}

void decide_arrival(const LocalMatch& local, bool plain, uint32_t forwarded_from, std::span<const uint64_t> queue_ids,
                    RouteDecision& out) {
    if (plain || forwarded_from != Subscription::kNotMoved) {
        for (Subscription* sub : local.plain) {
            bool wanted = sub->moved_from == Subscription::kNotMoved ? plain : sub->moved_from == forwarded_from;
            if (wanted && accepts(*sub, nullptr)) out.plain.push_back(sub);
        }
    }
    for (uint64_t id : queue_ids) {
        for (const auto& group : local.queues) {
            if (group.id != id) continue;
            out.groups.push_back(&group.members);
            out.group_ids.push_back(id);
            break;
        }
    }
}

}  // namespace ringtail::core
