#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/route/subscription.h"
#include "io/loop.h"

namespace ringtail::core::js {

// What JetStream needs from the shard that runs it: routing, the other shards, the loop's
// timers. The shard implements it; JetStream never reaches the shard otherwise.
class Host {
public:
    virtual uint32_t shard_index() const = 0;
    virtual uint32_t shard_count() const = 0;

    virtual void subscribe(Subscription& sub) = 0;
    virtual void unsubscribe(Subscription& sub) = 0;
    // Whether any subscription, here or on another shard, matches `subject` (a push
    // consumer's deliver subject, a pull request's inbox).
    virtual bool has_interest(std::string_view subject) = 0;
    // Whether a subscription on exactly `subject` (not a wildcard that matches it) in group
    // `queue` (empty: a plain one) is here or on another shard: what makes a push consumer
    // active, as nats-server's interest notification for its deliver subject and group.
    virtual bool has_literal_interest(std::string_view subject, std::string_view queue) = 0;
    // Moves whenever has_interest() may answer otherwise (any account's interest changed).
    virtual uint64_t interest_changes() const = 0;
    // Moves whenever some interest went away (a part of interest_changes()).
    virtual uint64_t interest_losses() const = 0;
    // While `on`, the account's interest changes keep their subjects and whether each was a
    // loss, for take_interest_changes(), which moves them into `out`; it returns false when
    // more changed than were kept (any subject may have changed).
    virtual void watch_interest(bool on) = 0;
    virtual bool take_interest_changes(std::vector<std::pair<std::string, bool>>& out) = 0;
    // Interest changes announced so far, and whether every shard has applied them up to `seq`.
    virtual uint64_t interest_seq_sent() const = 0;
    virtual bool interest_applied(uint64_t seq) const = 0;

    // Routes a message the server sends (acks, API answers). False when a ring to another
    // shard is full: nothing was delivered; retry on a later turn (the shard is woken when
    // there is room).
    virtual bool publish(const MsgView& msg) = 0;
    // Hands `msg` to shard `target`'s JetStream (on_js_record), in order with everything else
    // this shard sends there. Never fails. Without `wake`, `target` is not woken for it: it is
    // read at the target's next turn, which anything that depends on it (a request the target
    // answers) brings about anyway.
    virtual void send_to_shard(uint32_t target, const MsgView& msg, bool wake) = 0;
    // True while records this shard sent shard `target` wait for room in the ring.
    virtual bool records_waiting(uint32_t target) const = 0;
    // Runs what the other shards have sent by now.
    virtual void drain_inbound() = 0;

    virtual io::Loop& loop() = 0;

protected:
    ~Host() = default;
};

}  // namespace ringtail::core::js
