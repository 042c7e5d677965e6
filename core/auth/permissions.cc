#include "core/auth/permissions.h"

#include <algorithm>

#include "base/subject_match.h"

namespace ringtail::core::auth {
namespace {

bool any_matches(const std::vector<std::string>& patterns, std::string_view subject) {
    return std::any_of(patterns.begin(), patterns.end(),
                       [subject](const std::string& pattern) { return base::subject_matches(pattern, subject); });
}

bool has_wildcard(std::string_view subject) {
    for (size_t at = 0; at < subject.size(); ++at) {
        char c = subject[at];
        if ((c == '*' || c == '>') && (at == 0 || subject[at - 1] == '.') &&
            (at + 1 == subject.size() || subject[at + 1] == '.')) {
            return true;
        }
    }
    return false;
}

// A subject with an empty token ("a..b", ".a", "a.") matches no permission, as nats-server's
// sublists match it: an allow list does not let it through, a deny list does not stop it.
bool has_empty_token(std::string_view subject) {
    return subject.empty() || subject.front() == '.' || subject.back() == '.' ||
           subject.find("..") != std::string_view::npos;
}

}  // namespace

Permissions::Permissions(const config::Permissions& config) : responses_(config.allow_responses) {
    if (config.publish.has_value()) {
        pub_allow_ = config.publish->allow;
        if (config.publish->deny.has_value() && !config.publish->deny->empty()) pub_deny_ = config.publish->deny;
    }
    auto entries = [](const std::vector<std::string>& subjects) {
        std::vector<Entry> out;
        for (const std::string& text : subjects) {
            // "subject queue": two words, however spaced (the config parser has checked the
            // form), as nats-server's splitSubjectQueue reads them.
            std::vector<std::string_view> words = base::fields(text);
            Entry& entry = out.emplace_back();
            entry.subject = words.empty() ? text : std::string(words[0]);
            if (words.size() == 2) entry.queue = words[1];
        }
        return out;
    };
    if (config.subscribe.has_value()) {
        if (config.subscribe->allow.has_value() && !config.subscribe->allow->empty()) {
            sub_allow_ = entries(*config.subscribe->allow);
        }
        if (config.subscribe->deny.has_value() && !config.subscribe->deny->empty()) {
            sub_deny_ = entries(*config.subscribe->deny);
        }
    }
}

bool Permissions::may_publish(std::string_view subject) const {
    if (has_empty_token(subject)) return !pub_allow_.has_value();
    if (pub_allow_.has_value() && !any_matches(*pub_allow_, subject)) return false;
    return !(pub_deny_.has_value() && any_matches(*pub_deny_, subject));
}

bool Permissions::decides(const std::vector<Entry>& entries, std::string_view subject, std::string_view queue,
                          bool& any_queue_entry, bool& plain) {
    // Of the entries matching `subject`: whether one has no queue (plain), and whether those
    // with a queue name `queue` (a literal name, or a pattern over names).
    plain = false;
    any_queue_entry = false;
    bool queue_named = false;
    for (const Entry& entry : entries) {
        if (!base::subject_matches(entry.subject, subject)) continue;
        if (entry.queue.empty()) {
            plain = true;
            continue;
        }
        any_queue_entry = true;
        if (entry.queue == queue || (has_wildcard(entry.queue) && base::subject_matches(entry.queue, queue))) {
            queue_named = true;
        }
    }
    return queue_named;
}

bool Permissions::may_subscribe(std::string_view subject, std::string_view queue) const {
    if (has_empty_token(subject)) return !sub_allow_.has_value();
    bool allowed = true;
    bool any_queue_entry = false;
    bool plain = false;
    if (sub_allow_.has_value()) {
        bool named = decides(*sub_allow_, subject, queue, any_queue_entry, plain);
        allowed = plain;
        if (!queue.empty() && any_queue_entry) allowed = named;
    }
    if (allowed && sub_deny_.has_value()) {
        bool named = decides(*sub_deny_, subject, queue, any_queue_entry, plain);
        allowed = !plain;
        if (!queue.empty() && any_queue_entry) allowed = !named;
    }
    return allowed;
}

bool Permissions::delivery_denied(std::string_view subject) const {
    if (!sub_deny_.has_value()) return false;
    return std::any_of(sub_deny_->begin(), sub_deny_->end(), [subject](const Entry& entry) {
        return entry.queue.empty() && base::subject_matches(entry.subject, subject);
    });
}

bool ConnPermissions::may_publish(std::string_view subject) {
    // The clock is read only for a reply (not on every publish).
    if (auto it = publish_cache_.find(subject); it != publish_cache_.end() && it->second) return true;
    return may_publish_at(subject, Clock::now());
}

bool ConnPermissions::may_publish_at(std::string_view subject, Clock::time_point now) {
    bool allowed;
    if (auto it = publish_cache_.find(subject); it != publish_cache_.end()) {
        allowed = it->second;
    } else {
        allowed = permissions_->may_publish(subject);
        if (publish_cache_.size() >= kCacheMax) publish_cache_.clear();
        publish_cache_.emplace(std::string(subject), allowed);
    }
    if (allowed || !permissions_->responses().has_value()) return allowed;
    // A reply to a request this connection received.
    auto it = replies_.find(subject);
    if (it == replies_.end()) return false;
    const config::ResponsePermission& responses = *permissions_->responses();
    ++it->second.sent;
    bool over = responses.msgs_max > 0 && it->second.sent > responses.msgs_max;
    bool expired = responses.expires.count() > 0 && now - it->second.at > responses.expires;
    if (over || expired) {
        replies_.erase(it);
        return false;
    }
    return true;
}

bool ConnPermissions::delivery_denied(std::string_view sub_subject, std::string_view subject) {
    if (!permissions_->has_subscribe_deny() || !has_wildcard(sub_subject)) return false;
    if (auto it = deny_cache_.find(subject); it != deny_cache_.end()) return it->second;
    bool denied = permissions_->delivery_denied(subject);
    if (deny_cache_.size() >= kCacheMax) deny_cache_.clear();
    deny_cache_.emplace(std::string(subject), denied);
    return denied;
}

void ConnPermissions::allow_reply(std::string_view reply, Clock::time_point now) {
    if (replies_.size() >= kRepliesMax) {
        // As nats-server prunes: what has expired or reached its count goes.
        const config::ResponsePermission& responses = *permissions_->responses();
        absl::erase_if(replies_, [&](const auto& entry) {
            return (responses.msgs_max > 0 && entry.second.sent >= responses.msgs_max) ||
                   (responses.expires.count() > 0 && now - entry.second.at > responses.expires);
        });
    }
    replies_.insert_or_assign(std::string(reply), Reply{now, 0});
}

}  // namespace ringtail::core::auth
