#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/monitor/figures.h"
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

// Takes in the connections handed over to this shard (the shard knows its connections;
// Switch only their subscriptions).
class MoveAdopter {
public:
    struct Adopted {
        const Subscriber* subscriber = nullptr;  // the connection, as routing knows it
        // Its subscriptions: those that moved with it have moved_from set by the shard it left
        // (none for a connection that only publishes).
        std::vector<Subscription*> subs;
    };
    // Takes in the connection `handle` (Mesh::send_conn) as it arrives, before anything is
    // delivered to it here or published by it.
    virtual Adopted adopt(uint64_t handle) = 0;

protected:
    ~MoveAdopter() = default;
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
//
// Moving a connection with subscriptions (plain ones only, without a max, not imported:
// ClientConn decides) from shard A to shard B, so that what it asks of B's clients and what
// they answer stop crossing the mesh:
//   1. A, handing it over (hand_over()), puts a forwarder in the place of each subscription:
//      A keeps the interest towards every other shard, which goes on routing to A, and sends
//      what matches a forwarder on to B: A's own messages (kMsgForwarded), other shards' and
//      B's earlier ones (kForwarded), in the order A handles them. B stops counting that interest
//      (LocalInterest::forward), so B's messages no longer go to A for it.
//   2. B, taking the connection (on_conn()), puts its subscriptions in its sublist without
//      announcing them, and answers kFence. B's own messages reach them directly from then on,
//      forwarded records from A too; other records never (A forwards what is theirs). A
//      message B sent before the fence comes back forwarded, so until A's kFenceEcho, B keeps
//      its direct deliveries to them (copies, in order) and then delivers them: nothing of one
//      publisher overtakes its predecessors.
//   3. A, at kFence, stops forwarding B's messages (B delivered them) and answers kFenceEcho
//      behind everything it forwarded.
//   4. The subscription going on B (UNSUB, its max, the connection's close) sends kDrop to A,
//      which removes the forwarder and announces the interest as any unsubscribe does.
//   5. A publisher arriving at B from a shard C may have sent messages to B's moved
//      subscriptions the long way (C to A to B): until each such A echoes a fence sent after
//      the arrival (A read what C sent before the handover, and forwarded it, before that), B
//      keeps the publisher's direct deliveries to subscriptions moved from A.
// Other shards never change their routing: what they send for the connection keeps one more
// hop through A.
class Switch final : private MeshReceiver {
public:
    // `sublist_cache` false: no account's sublist caches match results.
    Switch(Mesh& mesh, uint64_t seed, bool sublist_cache = true);
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
    // ---- moving a connection with subscriptions (see above) ----
    // Hands the connection `handle` over to `target` (Mesh::send_conn) with `subs` (all of its
    // subscriptions, none if it only publishes): forwarders take their place here and they are
    // marked as moved.
    void hand_over(uint64_t handle, std::span<Subscription* const> subs, uint32_t target);
    // Where the subscriptions of connections handed over to this shard are found; null: none
    // move with their connection.
    void set_adopter(MoveAdopter* adopter) { adopter_ = adopter; }
    size_t forwarders() const { return forwarder_count_; }

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
    // `subscriber` is going away: no hold may refer to it, by it or on it, nor a departed
    // queue subscription.
    void forget(const Subscriber* subscriber);

    // The first plain subscription of `owner` in `account` matching `subject`.
    const Subscription* find_plain(uint32_t account, std::string_view subject, const Subscriber& owner);
    // Whether anyone in `account`, on this shard or (as far as this shard knows) another,
    // subscribes to something matching `subject`.
    bool has_interest(uint32_t account, std::string_view subject);
    // Whether a subscription on exactly `subject` in group `queue` (empty: plain) is known here
    // or on another shard; a wildcard that matches `subject` does not count.
    bool has_literal_interest(uint32_t account, std::string_view subject, std::string_view queue);
    // Counts every subscription made or removed here and every interest change applied from
    // another shard: has_interest() may answer otherwise once it moved.
    uint64_t interest_changes() const { return interest_changes_; }
    // Of those, the subscriptions removed and the interest other shards lost.
    uint64_t interest_losses() const { return interest_losses_; }
    // While `on`, each interest change in `account` keeps its subject (and whether it was a
    // loss) for take_interest_changes(): JetStream's push consumers look again only when their
    // deliver subject's interest changed, not at every change on the shard.
    void watch_interest(uint32_t account, bool on);
    // Moves the subjects kept since the last take into `out` (cleared first). False when more
    // changed than are kept: then any subject may have changed.
    bool take_interest_changes(uint32_t account, std::vector<std::pair<std::string, bool>>& out);

    Mesh& mesh() { return mesh_; }
    size_t subscriptions() const;
    size_t remote_interest_entries() const;
    // Each account's sublist statistics, by account id.
    std::vector<monitor::SublistFigures> sublist_figures() const;
    // Subscriptions removed here, not by their owners: those that reached their max.
    uint64_t expired_removed() const { return expired_removed_; }

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
        explicit Routes(bool sublist_cache) : sublist(sublist_cache) {}
        Sublist<Subscription> sublist;
        InterestMap interest;
        LocalInterest local_refs;
        // watch_interest(): the subjects whose interest changed since the last take.
        bool watched = false;
        bool overflowed = false;
        std::vector<std::pair<std::string, bool>> changed;
    };
    Routes& routes(uint32_t account);
    bool on_msg(uint32_t from, const MsgRecord& record) override;
    bool reading(uint32_t from) override;
    void on_interest(uint32_t from, uint32_t account, std::string_view subject, std::string_view queue,
                     int32_t delta) override;
    void on_js(uint32_t from, const MsgView& msg) override;
    void on_conn(uint32_t from, uint64_t handle) override;
    void on_move_record(uint32_t from, RecordKind kind, uint64_t move_id, uint64_t sub_id) override;
    // Carries out `decision_` locally: the plain subscribers, then a member of each group.
    // Returns how many took it. Removes the subscriptions that reached their max. `from`: the
    // shard the message came from (kPublishedHere: published here).
    size_t deliver(const MsgView& msg, const Subscriber* origin, uint32_t from = MsgView::kPublishedHere);
    bool deliver_to(Subscription& sub, const MsgView& msg);
    // Removes the subscriptions that reached their max in the last deliveries.
    void remove_expired();
    void change_interest(const Subscription& sub, int32_t delta);
    // Counts an interest change (see interest_changes()) and keeps its subject if watched.
    void note_interest_change(uint32_t account, std::string_view subject, bool lost);
    void announce(uint32_t account, std::string_view subject, std::string_view queue, const InterestChange& change);

    // A subscription of a connection that moved away, as its old shard keeps it (see above).
    struct Forwarder : Subscription {
        uint32_t target = 0;   // the shard the connection moved to
        uint64_t sub_id = 0;   // the subscription's address there
        bool fenced = false;   // the target's own messages are no longer forwarded
    };
    // Owns forwarders in the sublist; never delivered to (deliver() forwards instead).
    class ForwardingOwner final : public Subscriber {
    public:
        Delivery deliver(Subscription&, const MsgView&) override { return Delivery::kRefused; }
        bool accepts(const Subscription&, const Subscriber*) const override { return true; }
        void expired(Subscription&) override {}
    };
    // A direct delivery to a moved subscription kept until the fences it waits for are echoed
    // (must_hold()).
    struct Held {
        Subscription* sub = nullptr;
        const Subscriber* origin = nullptr;  // compared only: it may be gone by then
        std::string subject, reply, headers, payload, total_size_text, header_size_text, shown_subject;
        bool has_headers = false;
        uint32_t account = 0;
        MsgView view() const;
    };
    // A publisher that arrived here, whose deliveries to subscriptions moved from `shard` wait
    // for the echo of fence `id` (see 5. above).
    struct Barrier {
        uint64_t id = 0;
        const Subscriber* publisher = nullptr;
        uint32_t shard = 0;
    };
    bool is_forwarder(const Subscription& sub) const { return sub.owner == &forwarding_; }
    // Whether a delivery to the moved `sub` by `origin` (null: the server) must wait.
    bool must_hold(const Subscription& sub, const Subscriber* origin) const;
    // Delivers what no longer has to wait, in order.
    void release_held();

    Mesh& mesh_;
    bool sublist_cache_;
    uint64_t interest_changes_ = 0;
    uint64_t interest_losses_ = 0;
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
    MoveAdopter* adopter_ = nullptr;
    ForwardingOwner forwarding_;
    std::unordered_map<uint64_t, std::vector<std::unique_ptr<Forwarder>>> forwarders_;  // by move id
    size_t forwarder_count_ = 0;
    uint64_t moves_ = 0;                  // fences and connections handed over from here (ids)
    std::vector<uint64_t> fences_;       // moves here whose kFenceEcho has not come back
    std::vector<Barrier> barriers_;
    std::vector<size_t> moved_here_;      // by shard: subscriptions here that moved from it
    std::deque<Held> held_;
    std::vector<std::vector<uint64_t>> forward_ids_;  // by target: the moves a drained message goes on for
    // Scratch, kept to avoid allocating per message.
    RouteDecision decision_;
    std::vector<uint64_t> queue_ids_;
    std::vector<Subscription*> expired_;
    // Queue subscriptions that left (UNSUB) while other shards may not know yet: what they chose
    // this shard for meanwhile still goes to the member, as nats-server's one sublist would
    // have delivered it, rather than to nobody (the group has no member here any more). Kept
    // until every shard has applied the departure (`interest_seq`): whatever they sent before
    // has arrived by then, ahead of their acknowledgements. A copy: the client forgot its own.
    struct Departed {
        std::unique_ptr<Subscription> sub;
        uint64_t interest_seq = 0;
    };
    std::vector<Departed> departed_;
    uint64_t expired_removed_ = 0;  // subscriptions removed at their auto-unsubscribe max
    std::vector<uint64_t> unserved_;  // scratch for on_msg(): the groups no member here took
    // A message another shard chose this shard for, for the group `group` (its queue_id), that
    // no member here could take: the last one left or reached its auto-unsubscribe limit while
    // the message was on its way. Sent on to a shard with members, as the replica knows them,
    // as nats-server's one sublist would have picked a member that stays; once only, so shards
    // whose replicas both lag cannot pass it back and forth.
    void bounce(uint64_t group, const MsgView& msg);
    void release_holds(const Subscriber* subscriber);
    // Drops the departed whose departure every shard has applied (at each departure too, so a
    // connection that keeps joining and leaving groups keeps none for long).
    void prune_departed();
    // The departed member of the group `group` (its queue_id) matching `msg`, if any still waits.
    Subscription* departed_member(uint64_t group, const MsgView& msg);
};

}  // namespace ringtail::core
