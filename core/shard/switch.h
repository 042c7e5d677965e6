#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/route/interest_map.h"
#include "core/route/router.h"
#include "core/route/sublist.h"
#include "core/route/subscription.h"
#include "core/shard/mesh.h"

namespace ringtail::core {

// Takes the JetStream records other shards send this one.
class JsRecordHandler {
public:
    virtual void on_js_record(const MsgView& msg) = 0;

protected:
    ~JsRecordHandler() = default;
};

// A shard's routing: its subscriptions, its replica of the other shards' interest (both kept
// apart by account: a message matches only subscriptions of the account it is published in),
// and the moves that carry out each routing decision (route/router.h) over the mesh. It knows nothing
// of sockets or io_uring, so it runs the same in the server and in the multi-shard simulation
// (tests/sim/).
// Owner: its shard's thread.
//
// The rule it keeps: a subscription's interest is announced on the same FIFO rings as the
// messages its shard sends afterwards, so nothing a connection publishes after a SUB can reach
// another shard before the interest does; and a message either goes everywhere it must or, when
// a ring is full, nowhere at all (kFull: the caller pauses and retries the same message).
class Switch final : private MeshReceiver {
public:
    Switch(Mesh& mesh, uint64_t seed);
    Switch(const Switch&) = delete;
    Switch& operator=(const Switch&) = delete;

    // `sub` must stay alive and unchanged until unsubscribe() (or its expiry).
    void subscribe(Subscription& sub);
    // Removes `sub` if it is subscribed.
    void unsubscribe(Subscription& sub);

    // Routes a message published on this shard by `origin` (null: the server itself).
    Routed publish(const MsgView& msg, const Subscriber* origin);
    // Delivers a message of the server's to this shard's subscribers only (each shard sends
    // its own copy: a queue group gets one per shard it has members on).
    Routed publish_here(const MsgView& msg);

    // Runs what the other shards sent: messages to local subscribers, interest changes into
    // the replica, JetStream records to `js` (dropped when null). Returns the records read.
    size_t drain(JsRecordHandler* js);
    // The connections other shards handed over in the drains since the last call (see
    // Mesh::send_conn), in the order they came; the caller owns them.
    std::vector<uint64_t> take_arrivals() { return std::exchange(arrivals_, {}); }
    bool has_arrivals() const { return !arrivals_.empty(); }
    // The shard the last message published here went to, when it went to exactly one other
    // shard and to no subscriber here (a publisher that might rather sit on that shard).
    std::optional<uint32_t> sole_target() const { return sole_target_; }

    // Back-pressure from a subscriber that reads, only slowly (Subscriber::backed_up_for()):
    // whoever fed it holds back until it catches up or the hold's time is up, as nats-server
    // stalls a fast producer. A publisher on this shard: held() says its next publish waits.
    // Another shard: its ring is not read meanwhile, so it fills and its publishers pause.
    bool held(const Subscriber* origin);
    // Whether a hold is waiting (the shard checks again each turn, and at least every tick).
    bool holding() const { return !publisher_holds_.empty() || rings_held_ > 0; }
    // `subscriber` is going away: no hold may refer to it, by it or on it.
    void forget(const Subscriber* subscriber);

    // The first plain subscription of `owner` in `account` matching `subject`.
    const Subscription* find_plain(uint32_t account, std::string_view subject, const Subscriber& owner);
    // Whether anyone in `account`, on this shard or (as far as this shard knows) another,
    // subscribes to something matching `subject`.
    bool has_interest(uint32_t account, std::string_view subject);

    Mesh& mesh() { return mesh_; }
    size_t subscriptions() const;
    size_t remote_interest_entries() const;

private:
    using Clock = std::chrono::steady_clock;
    struct Hold {
        const Subscriber* on = nullptr;  // the backed-up subscriber; null: none
        Clock::time_point until{};
    };
    // Whether `hold` still holds; clears it once it does not.
    bool holds(Hold& hold);
    // One account's subscriptions and interest (created at its first use).
    struct Routes {
        Sublist<Subscription> sublist;
        InterestMap interest;
        LocalInterest local_refs;
    };
    Routes& routes(uint32_t account);
    bool on_msg(uint32_t from, const MsgRecord& record) override;
    bool reading(uint32_t from) override;
    void on_interest(uint32_t from, uint32_t account, std::string_view subject, std::string_view queue,
                     int32_t delta) override;
    void on_js(uint32_t from, const MsgView& msg) override;
    void on_conn(uint32_t, uint64_t handle) override { arrivals_.push_back(handle); }
    // Carries out `decision_` locally: the plain subscribers, then a member of each group.
    // Returns how many took it. Removes the subscriptions that reached their max.
    size_t deliver(const MsgView& msg, const Subscriber* origin);
    bool deliver_to(Subscription& sub, const MsgView& msg);
    void change_interest(const Subscription& sub, int32_t delta);

    Mesh& mesh_;
    std::vector<std::unique_ptr<Routes>> routes_;  // by account
    Random random_;
    JsRecordHandler* js_ = nullptr;  // during drain()
    std::vector<uint64_t> arrivals_;
    std::optional<uint32_t> sole_target_;
    // The most backed-up subscriber the current message reached, and for how long to hold.
    const Subscriber* backed_up_ = nullptr;
    Clock::duration backed_up_for_{};
    std::vector<std::pair<const Subscriber*, Hold>> publisher_holds_;  // by publisher
    std::vector<Hold> ring_holds_;                                      // by shard
    size_t rings_held_ = 0;
    // Scratch, kept to avoid allocating per message.
    RouteDecision decision_;
    std::vector<uint64_t> queue_ids_;
    std::vector<Subscription*> expired_;
};

}  // namespace ringtail::core
