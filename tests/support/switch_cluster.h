// Several shards' routing wired as in the server (Mesh + Switch over MeshLinks) but driven by
// hand, with no threads and no io_uring: for the unit tests of routing and the multi-shard
// simulation (tests/sim/).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/shard/mesh.h"
#include "core/shard/switch.h"

namespace ringtail::test {

// A client as routing sees it: it records what it gets, and can be closing or have echo off.
class FakeSubscriber final : public core::Subscriber {
public:
    struct Got {
        std::string sid;
        std::string subject;
        std::string reply;
        std::string payload;
        bool has_headers = false;
        std::string headers;
        bool rerouted = false;
    };
    explicit FakeSubscriber(uint32_t shard, bool echo = true) : shard_(shard), echo_(echo) {}

    // Subscribes on `sw` (which must be this subscriber's shard's).
    core::Subscription& subscribe(core::Switch& sw, const std::string& subject, const std::string& queue,
                                  const std::string& sid, int64_t max_msgs = 0);
    // Removes one subscription (false if it is not there).
    bool unsubscribe(core::Switch& sw, const std::string& sid);
    void unsubscribe_all(core::Switch& sw);
    bool has(const std::string& sid) const { return subs_.contains(sid); }
    // Its subscriptions, as a connection moving to another shard takes them along.
    std::vector<core::Subscription*> subscriptions() const;
    void set_shard(uint32_t shard) { shard_ = shard; }

    Delivery deliver(core::Subscription& sub, const core::MsgView& msg) override;
    bool accepts(const core::Subscription& sub, const core::Subscriber* origin) const override;
    void expired(core::Subscription& sub) override { subs_.erase(sub.sid); }
    std::chrono::steady_clock::duration backed_up_for() const override { return backed_up; }

    uint32_t shard() const { return shard_; }
    std::vector<Got> got;
    bool closing = false;
    std::chrono::steady_clock::duration backed_up{};  // what backed_up_for() answers
    uint32_t account = core::kGlobalAccount;           // the account its subscriptions are in

private:
    uint32_t shard_;
    bool echo_;
    std::map<std::string, std::unique_ptr<core::Subscription>> subs_;
};

class SwitchCluster {
public:
    explicit SwitchCluster(uint32_t shards, size_t ring_bytes = 1 << 20, uint64_t seed = 1);
    uint32_t shards() const { return links_.shards(); }
    core::Switch& at(uint32_t shard) { return *switches_[shard]; }
    core::Mesh& mesh(uint32_t shard) { return *meshes_[shard]; }

    // One loop turn of `shard` as the server runs it: drain what others sent, then flush.
    // Returns whether anything moved (records read or published).
    bool turn(uint32_t shard, core::JsRecordHandler* js = nullptr);
    // Turns of every shard, round and round, until everything sent has arrived and been
    // acknowledged.
    void settle();
    // Turns only shards the server would wake, until none is: each shard first flushes (the
    // end of the turn its clients acted in), then one turns whose doorbell another shard rang
    // since it last drained (a doorbell is kept until then), or whose flush just moved records
    // that waited for room (Mesh::waiting_moved()). `resume`, if given, runs in those turns
    // between the drain and the flush, where the server resumes paused connections. Returns
    // false if a round of every shard's turns then still finds work: a record whose reader
    // nobody woke, which in the server waits for the next tick.
    bool settle_by_wakeups(const std::function<void(uint32_t shard)>& resume = {});
    // How often `shard` rang `target`'s doorbell.
    uint64_t doorbells(uint32_t shard, uint32_t target) const { return doorbells_[shard]->rung[target]; }

private:
    struct CountingDoorbell final : core::Doorbell {
        explicit CountingDoorbell(uint32_t shards) : rung(shards, 0) {}
        void ring(uint32_t shard) override { ++rung[shard]; }
        std::vector<uint64_t> rung;
    };
    // Doorbells rung for `shard` by every other shard so far.
    uint64_t rung_for(uint32_t shard) const;
    // One turn, with `resume` between the drain and the flush.
    bool turn_resuming(uint32_t shard, core::JsRecordHandler* js, const std::function<void(uint32_t)>& resume);

    core::MeshLinks links_;
    std::vector<std::unique_ptr<CountingDoorbell>> doorbells_;
    std::vector<uint64_t> rung_at_drain_;  // by shard: rung_for() when it last drained
    std::vector<std::unique_ptr<core::Mesh>> meshes_;
    std::vector<std::unique_ptr<core::Switch>> switches_;
};

}  // namespace ringtail::test
