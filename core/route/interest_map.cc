#include "core/route/interest_map.h"

#include "base/assert.h"

namespace ringtail::core {

std::string interest_key(std::string_view subject, std::string_view queue) {
    std::string key = std::to_string(subject.size());
    key.push_back(':');
    key.append(subject);
    key.append(queue);
    return key;
}

void InterestMap::apply(uint32_t shard, std::string_view subject, std::string_view queue, int32_t delta) {
    std::string key = std::to_string(shard) + "/" + interest_key(subject, queue);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        if (delta < 0) return;
        auto interest = std::make_unique<RemoteInterest>();
        interest->shard = shard;
        interest->subject = subject;
        interest->queue = queue;
        it = entries_.emplace(std::move(key), std::move(interest)).first;
        sublist_.insert(it->second->subject, it->second->queue, it->second.get());
    }
    RemoteInterest& interest = *it->second;
    interest.refs += delta;
    if (interest.refs <= 0) {
        sublist_.remove(interest.subject, interest.queue, &interest);
        entries_.erase(it);
    }
}

InterestChange LocalInterest::change(std::string_view subject, std::string_view queue, int32_t delta) {
    return apply(subject, queue, delta, 0, 0);
}

InterestChange LocalInterest::forward(std::string_view subject, uint32_t target, int32_t delta) {
    // Becoming a forwarder leaves the total as it was; a forwarder going takes one from it.
    return apply(subject, {}, delta > 0 ? 0 : delta, target, delta);
}

InterestChange LocalInterest::apply(std::string_view subject, std::string_view queue, int32_t delta, uint32_t target,
                                    int32_t forwarded_delta) {
    std::string key = interest_key(subject, queue);
    Refs& refs = refs_[key];
    int64_t before = refs.total;
    refs.total += delta;
    RT_ASSERT(refs.total >= 0);
    InterestChange change;
    if (!queue.empty()) {
        change.others = delta;
    } else {
        auto crossing = [](int64_t was, int64_t is) -> int32_t {
            return was > 0 && is <= 0 ? -1 : was <= 0 && is > 0 ? 1 : 0;
        };
        change.others = crossing(before, refs.total);
        bool target_listed = false;
        for (auto& [shard, count] : refs.forwarded) {
            int64_t was = before - count;
            if (shard == target) {
                count += forwarded_delta;
                target_listed = true;
            }
            change.listed.emplace_back(shard, crossing(was, refs.total - count));
        }
        if (forwarded_delta != 0 && !target_listed) {
            RT_ASSERT(forwarded_delta > 0);
            refs.forwarded.emplace_back(target, forwarded_delta);
            change.listed.emplace_back(target, crossing(before, refs.total - forwarded_delta));
        }
        std::erase_if(refs.forwarded, [](const auto& f) { return f.second == 0; });
    }
    if (refs.total == 0) refs_.erase(key);
    return change;
}

}  // namespace ringtail::core
