#include "tests/support/switch_cluster.h"

#include <deque>

#include "base/assert.h"

namespace ringtail::test {

core::Subscription& FakeSubscriber::subscribe(core::Switch& sw, const std::string& subject, const std::string& queue,
                                              const std::string& sid, int64_t max_msgs) {
    auto sub = std::make_unique<core::Subscription>();
    sub->owner = this;
    sub->account = account;
    sub->subject = subject;
    sub->queue = queue;
    sub->sid = sid;
    sub->max_msgs = max_msgs;
    core::Subscription& ref = *sub;
    subs_[sid] = std::move(sub);
    sw.subscribe(ref);
    return ref;
}

bool FakeSubscriber::unsubscribe(core::Switch& sw, const std::string& sid) {
    auto it = subs_.find(sid);
    if (it == subs_.end()) return false;
    sw.unsubscribe(*it->second);
    subs_.erase(it);
    return true;
}

std::vector<core::Subscription*> FakeSubscriber::subscriptions() const {
    std::vector<core::Subscription*> list;
    for (const auto& [sid, sub] : subs_) list.push_back(sub.get());
    return list;
}

void FakeSubscriber::unsubscribe_all(core::Switch& sw) {
    for (auto& [sid, sub] : subs_) sw.unsubscribe(*sub);
    subs_.clear();
}

core::Subscriber::Delivery FakeSubscriber::deliver(core::Subscription& sub, const core::MsgView& msg) {
    if (closing || sub.expired) return Delivery::kRefused;
    got.push_back({sub.sid, std::string(msg.subject), std::string(msg.reply), std::string(msg.payload),
                   msg.has_headers, std::string(msg.headers), msg.rerouted});
    ++sub.delivered;
    return sub.max_msgs > 0 && sub.delivered >= sub.max_msgs ? Delivery::kDeliveredLast : Delivery::kDelivered;
}

bool FakeSubscriber::accepts(const core::Subscription&, const core::Subscriber* origin) const {
    return !closing && !(origin == this && !echo_);
}

SwitchCluster::SwitchCluster(uint32_t shards, size_t ring_bytes, uint64_t seed)
    : links_(shards, ring_bytes), rung_at_drain_(shards, 0) {
    for (uint32_t i = 0; i < shards; ++i) {
        doorbells_.push_back(std::make_unique<CountingDoorbell>(shards));
        meshes_.push_back(std::make_unique<core::Mesh>(i, links_, *doorbells_[i]));
        switches_.push_back(std::make_unique<core::Switch>(*meshes_[i], seed * 7919 + i));
    }
}

bool SwitchCluster::turn(uint32_t shard, core::JsRecordHandler* js) { return turn_resuming(shard, js, {}); }

bool SwitchCluster::turn_resuming(uint32_t shard, core::JsRecordHandler* js,
                                  const std::function<void(uint32_t)>& resume) {
    rung_at_drain_[shard] = rung_for(shard);
    size_t read = switches_[shard]->drain(js);
    if (resume) resume(shard);
    bool published = meshes_[shard]->flush();
    return read > 0 || published;
}

uint64_t SwitchCluster::rung_for(uint32_t shard) const {
    uint64_t rung = 0;
    for (const auto& doorbell : doorbells_) rung += doorbell->rung[shard];
    return rung;
}

void SwitchCluster::settle() {
    // Until a whole round of turns moves nothing: every record has arrived, every interest
    // ack has come back, every control record that waited for room has gone.
    for (int round = 0; round < 1000; ++round) {
        bool moved = false;
        for (uint32_t shard = 0; shard < shards(); ++shard) moved = turn(shard) || moved;
        if (!moved) return;
    }
    bool settled = false;  // a round that moves something every time is a bug
    RT_ASSERT(settled);
}

bool SwitchCluster::settle_by_wakeups(const std::function<void(uint32_t shard)>& resume) {
    for (uint32_t shard = 0; shard < shards(); ++shard) meshes_[shard]->flush();
    std::deque<uint32_t> woken;
    std::vector<bool> queued(shards(), false);
    auto wake = [&](uint32_t shard) {
        if (queued[shard]) return;
        queued[shard] = true;
        woken.push_back(shard);
    };
    auto wake_rung = [&] {
        for (uint32_t shard = 0; shard < shards(); ++shard) {
            if (rung_for(shard) != rung_at_drain_[shard]) wake(shard);
        }
    };
    wake_rung();
    for (uint32_t shard = 0; shard < shards(); ++shard) {
        if (meshes_[shard]->waiting_moved()) wake(shard);
    }
    for (size_t turns = 0; !woken.empty(); ++turns) {
        RT_ASSERT(turns < 1'000'000);  // turns that go on waking each other forever are a bug
        uint32_t shard = woken.front();
        woken.pop_front();
        queued[shard] = false;
        turn_resuming(shard, nullptr, resume);
        wake_rung();
        if (meshes_[shard]->waiting_moved()) wake(shard);
    }
    bool quiet = true;
    for (uint32_t shard = 0; shard < shards(); ++shard) quiet = !turn(shard) && quiet;
    return quiet;
}

}  // namespace ringtail::test
