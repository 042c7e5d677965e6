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

bool LocalInterest::change(std::string_view subject, std::string_view queue, int32_t delta) {
    std::string key = interest_key(subject, queue);
    int64_t& refs = refs_[key];
    refs += delta;
    RT_ASSERT(refs >= 0);
    bool first = delta > 0 && refs == 1;
    bool last = refs == 0;
    if (last) refs_.erase(key);
    return !queue.empty() || first || last;
}

}  // namespace ringtail::core
