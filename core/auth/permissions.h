#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/string_map.h"
#include "proto/config/options.h"

namespace ringtail::core::auth {

// A user's permissions as nats-server applies them (server/client.go setPermissions,
// pubAllowedFullCheck, canSubscribe, checkDenySub). Each list holds subjects with wildcards; no
// allow list allows everything, and a deny list overrules it. Subscribe entries may name a
// queue group ("subject queue"): such an entry decides for subscriptions in that group.
// A subject a client gives (which may itself hold wildcards) is matched token by token, its
// '*' and '>' as plain tokens, as nats-server's sublist matches it.
// Read-only once built.
class Permissions {
public:
    explicit Permissions(const config::Permissions& config);

    bool may_publish(std::string_view subject) const;
    bool may_subscribe(std::string_view subject, std::string_view queue) const;
    // Whether a deny entry keeps a message on `subject` from this user's wildcard
    // subscriptions (a subscription to "a.*" is allowed with "a.b" denied; "a.b" is not
    // delivered to it). Unlike nats-server, this holds for every deny entry: nats-server
    // filters a subscription only by deny entries inside it, so with "foo.*.baz" denied a
    // subscription to "foo.bar.*" still gets "foo.bar.baz" there (a leak, not copied).
    bool delivery_denied(std::string_view subject) const;
    bool has_subscribe_deny() const { return sub_deny_.has_value(); }
    const std::optional<config::ResponsePermission>& responses() const { return responses_; }

private:
    struct Entry {
        std::string subject;
        std::string queue;  // empty: any subscription, plain or in a group
    };
    static bool decides(const std::vector<Entry>& entries, std::string_view subject, std::string_view queue,
                        bool& any_queue_entry, bool& plain);

    std::optional<std::vector<std::string>> pub_allow_;
    std::optional<std::vector<std::string>> pub_deny_;
    std::optional<std::vector<Entry>> sub_allow_;
    std::optional<std::vector<Entry>> sub_deny_;
    std::optional<config::ResponsePermission> responses_;
};

// One connection's use of its user's permissions: publish verdicts cached per subject (as
// nats-server's pcache), and under allow_responses the reply subjects of the requests it
// received, which it may then publish to (up to the configured count, within the expiry).
class ConnPermissions {
public:
    using Clock = std::chrono::steady_clock;
    explicit ConnPermissions(std::shared_ptr<const Permissions> permissions) : permissions_(std::move(permissions)) {}

    bool may_publish(std::string_view subject);
    bool may_subscribe(std::string_view subject, std::string_view queue) const {
        return permissions_->may_subscribe(subject, queue);
    }
    // A message on `subject` reached one of this connection's subscriptions, to `sub_subject`.
    bool delivery_denied(std::string_view sub_subject, std::string_view subject);
    // A message with `reply` was delivered: under allow_responses it may be answered.
    void delivered(std::string_view reply) {
        if (!reply.empty() && permissions_->responses().has_value()) allow_reply(reply, Clock::now());
    }
    // For tests: the same at a given time.
    bool may_publish_at(std::string_view subject, Clock::time_point now);
    void allow_reply(std::string_view reply, Clock::time_point now);

private:
    struct Reply {
        Clock::time_point at;
        int64_t sent = 0;
    };
    static constexpr size_t kCacheMax = 128;  // nats-server's maxPermCacheSize
    static constexpr size_t kRepliesMax = 10'000;  // nats-server's replyPermLimit

    std::shared_ptr<const Permissions> permissions_;
    base::StringMap<bool> publish_cache_;
    base::StringMap<bool> deny_cache_;
    base::StringMap<Reply> replies_;
};

}  // namespace ringtail::core::auth
