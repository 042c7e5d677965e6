#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringtail::core {

// A message as routing sees it: views into a receive buffer, a ring record or a server part's
// own buffer, valid only for the call they are passed to.
struct MsgView {
    std::string_view subject;  // what the message is routed on
    std::string_view reply;
    std::string_view headers;
    std::string_view payload;
    bool has_headers = false;
    // The publisher's size digits when they are not canonical (leading zeros): MSG repeats
    // them as nats-server does. Empty when the sizes are written afresh.
    std::string_view total_size_text;
    std::string_view header_size_text;
    // The subject MSG shows when it is not the one routed on: a JetStream delivery goes to
    // its deliver subject (or a pull request's inbox) and shows the stream subject, as
    // nats-server's deliveries do. Empty: `subject`.
    std::string_view shown_subject;

    // The account whose subject space the message is published in (kGlobalAccount: the
    // server's default, $G). Subjects of one account never reach another's subscribers.
    uint32_t account = 0;
    // The shard whose client published it, when it came over a ring from another shard;
    // kPublishedHere when published on the shard delivering it.
    static constexpr uint32_t kPublishedHere = UINT32_MAX;
    uint32_t from_shard = kPublishedHere;
    // A queue group's message that the shard chosen for it had no member for, sent on from
    // there (Switch::bounce()): it may arrive after later messages of its publisher.
    bool rerouted = false;

    std::string_view subject_shown() const { return shown_subject.empty() ? subject : shown_subject; }
};

// Accounts are numbered by the server: 0 is the global account ($G), the others follow the
// config's accounts block in order (config::account_id()).
inline constexpr uint32_t kGlobalAccount = 0;

struct Subscription;
class SubjectMap;

// What routing did with a published message.
enum class Routed : uint8_t {
    kDelivered,   // at least one local subscriber took it, or another shard got a copy
    kNoInterest,  // nobody wanted it
    kFull,        // a ring to another shard is full: nothing was delivered; retry when woken
};

// Whoever a subscription delivers to: a client connection, or a part of the server that
// subscribes itself (a JetStream stream, the JetStream API).
// Runs on the subscription's shard, inside routing: deliver() must not publish or change
// subscriptions; it queues work for later in the turn.
class Subscriber {
public:
    enum class Delivery : uint8_t {
        kDelivered,
        kDeliveredLast,  // delivered, and the subscription reached its max: unsubscribe it
        kRefused,        // not taken (the connection is closing, the subscription expired)
    };

    virtual Delivery deliver(Subscription& sub, const MsgView& msg) = 0;
    // Whether a message published by `origin` (null: by the server) may go to `sub`: false
    // for a connection that is closing, or for the publisher itself with echo off.
    virtual bool accepts(const Subscription& sub, const Subscriber* origin) const = 0;
    // `sub` reached its max and routing has removed it: forget it (it may be destroyed).
    virtual void expired(Subscription& sub) = 0;
    // Zero, unless this subscriber is backed up (a client with more than half its max_pending
    // unsent): then how long whoever feeds it should hold back at most, the longer the further
    // behind, as nats-server stalls a fast producer rather than cut off a slow reader at once.
    // The hold ends early once it is zero again.
    virtual std::chrono::steady_clock::duration backed_up_for() const { return {}; }
    // Whether a queue subscription of this subscriber, once it left, may still take what other
    // shards chose it for before they learnt it left (a client: Switch::unsubscribe). Such a
    // delivery comes with a copy of the subscription.
    virtual bool takes_after_leaving() const { return false; }

protected:
    ~Subscriber() = default;
};

// One subscription: a client's SUB, or one the server holds itself.
// Owner: its subscriber, on the shard the subscriber lives on.
struct Subscription {
    Subscriber* owner = nullptr;
    uint32_t account = kGlobalAccount;
    std::string subject;
    std::string queue;  // empty: a plain subscription
    std::string sid;
    int64_t max_msgs = 0;  // 0: no auto-unsubscribe
    int64_t delivered = 0;
    bool expired = false;  // reached max_msgs; removed right after the current delivery
    // A stream import's stand-in: a subscription of another account whose messages go to
    // `parent` (same owner, sid, max and count), their subjects mapped by `map`.
    Subscription* parent = nullptr;
    const SubjectMap* map = nullptr;
    // A plain subscription whose connection moved here from shard `moved_from` (kNotMoved:
    // subscribed here). That shard still holds its interest towards every other shard and
    // forwards what matches it; `move_id` names the move there (core/shard/switch.h, "Moving
    // a connection with subscriptions").
    static constexpr uint32_t kNotMoved = UINT32_MAX;
    uint32_t moved_from = kNotMoved;
    uint64_t move_id = 0;
};

}  // namespace ringtail::core
