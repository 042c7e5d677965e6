#include "core/shard/switch.h"

#include <algorithm>

#include "core/server/log.h"

namespace ringtail::core {

Switch::Switch(Mesh& mesh, uint64_t seed)
    : mesh_(mesh), random_(static_cast<Random::result_type>(seed)), ring_holds_(mesh.shards()) {}

Switch::Routes& Switch::routes(uint32_t account) {
    if (account >= routes_.size()) routes_.resize(account + 1);
    if (!routes_[account]) routes_[account] = std::make_unique<Routes>();
    return *routes_[account];
}

size_t Switch::subscriptions() const {
    size_t count = 0;
    for (const auto& routes : routes_) count += routes ? routes->sublist.count() : 0;
    return count;
}

size_t Switch::remote_interest_entries() const {
    size_t count = 0;
    for (const auto& routes : routes_) count += routes ? routes->interest.entries() : 0;
    return count;
}

void Switch::subscribe(Subscription& sub) {
    routes(sub.account).sublist.insert(sub.subject, sub.queue, &sub);
    change_interest(sub, +1);
}

void Switch::unsubscribe(Subscription& sub) {
    if (routes(sub.account).sublist.remove(sub.subject, sub.queue, &sub)) change_interest(sub, -1);
    forget(sub.owner);  // a hold on it ends early: harmless
}

bool Switch::holds(Hold& hold) {
    if (hold.on == nullptr) return false;
    if (Clock::now() < hold.until && hold.on->backed_up_for() > Clock::duration::zero()) return true;
    hold.on = nullptr;
    return false;
}

bool Switch::held(const Subscriber* origin) {
    for (auto it = publisher_holds_.begin(); it != publisher_holds_.end(); ++it) {
        if (it->first != origin) continue;
        if (holds(it->second)) return true;
        publisher_holds_.erase(it);
        return false;
    }
    return false;
}

bool Switch::reading(uint32_t from) {
    Hold& hold = ring_holds_[from];
    if (hold.on == nullptr) return true;
    if (holds(hold)) return false;
    --rings_held_;
    return true;
}

void Switch::forget(const Subscriber* subscriber) {
    std::erase_if(publisher_holds_, [subscriber](const auto& entry) {
        return entry.first == subscriber || entry.second.on == subscriber;
    });
    for (Hold& hold : ring_holds_) {
        if (hold.on != subscriber) continue;
        hold.on = nullptr;
        --rings_held_;
    }
}

void Switch::change_interest(const Subscription& sub, int32_t delta) {
    if (mesh_.shards() == 1) return;
    if (routes(sub.account).local_refs.change(sub.subject, sub.queue, delta)) {
        mesh_.send_interest(sub.account, sub.subject, sub.queue, delta);
    }
}

Routed Switch::publish(const MsgView& msg, const Subscriber* origin) {
    const uint32_t shards = mesh_.shards();
    decision_.reset(shards);
    Routes& in = routes(msg.account);
    const LocalMatch& local = in.sublist.match(msg.subject);
    const InterestMap::MatchResult* remote = shards > 1 ? &in.interest.match(msg.subject) : nullptr;
    decide_route(local, remote, origin, random_, decision_);
    // Every target must have room for all its records before anything is delivered, so a
    // pause has no effects and the same message is simply routed again.
    bool any_remote = false;
    for (uint32_t target = 0; target < shards; ++target) {
        if (!decision_.copy[target]) continue;
        switch (mesh_.room_for_msg(target, msg, decision_.queue_ids[target].size())) {
            case Mesh::Room::kYes:
                any_remote = true;
                break;
            case Mesh::Room::kFull:
                return Routed::kFull;
            case Mesh::Room::kNever:
                log_warn("message on " + std::string(msg.subject) + " matches too many queue groups on shard " +
                         std::to_string(target) + "; not delivered there");
                decision_.copy[target] = 0;
                break;
        }
    }
    for (uint32_t target = 0; target < shards; ++target) {
        if (decision_.copy[target]) mesh_.send_msg(target, msg, decision_.queue_ids[target]);
    }
    size_t delivered = deliver(msg, origin);
    sole_target_.reset();
    if (delivered == 0 && any_remote) {
        for (uint32_t target = 0; target < shards; ++target) {
            if (!decision_.copy[target]) continue;
            if (sole_target_) {
                sole_target_.reset();
                break;
            }
            sole_target_ = target;
        }
    }
    if (backed_up_ != nullptr && origin != nullptr) {
        Hold hold{backed_up_, Clock::now() + backed_up_for_};
        auto it = std::find_if(publisher_holds_.begin(), publisher_holds_.end(),
                               [origin](const auto& entry) { return entry.first == origin; });
        if (it == publisher_holds_.end()) {
            publisher_holds_.emplace_back(origin, hold);
        } else {
            it->second = hold;
        }
    }
    return delivered > 0 || any_remote ? Routed::kDelivered : Routed::kNoInterest;
}

Routed Switch::publish_here(const MsgView& msg) {
    decision_.reset(mesh_.shards());
    decide_route(routes(msg.account).sublist.match(msg.subject), nullptr, nullptr, random_, decision_);
    return deliver(msg, nullptr) > 0 ? Routed::kDelivered : Routed::kNoInterest;
}

bool Switch::deliver_to(Subscription& sub, const MsgView& msg) {
    Subscriber::Delivery delivery = sub.owner->deliver(sub, msg);
    if (delivery != Subscriber::Delivery::kRefused) {
        if (Clock::duration wait = sub.owner->backed_up_for(); wait > backed_up_for_) {
            backed_up_ = sub.owner;
            backed_up_for_ = wait;
        }
    }
    switch (delivery) {
        case Subscriber::Delivery::kDelivered:
            return true;
        case Subscriber::Delivery::kDeliveredLast:
            sub.expired = true;
            expired_.push_back(&sub);
            return true;
        case Subscriber::Delivery::kRefused:
            return false;
    }
    return false;
}

size_t Switch::deliver(const MsgView& msg, const Subscriber* origin) {
    backed_up_ = nullptr;
    backed_up_for_ = {};
    size_t count = 0;
    for (Subscription* sub : decision_.plain) count += deliver_to(*sub, msg);
    for (const std::vector<Subscription*>* members : decision_.groups) {
        if (Subscription* sub = pick_member(*members, origin, random_)) count += deliver_to(*sub, msg);
    }
    // Removed once the message is everywhere it goes: the subscriptions are gone from the
    // sublist before their owners forget them.
    for (Subscription* sub : expired_) {
        unsubscribe(*sub);
        sub->owner->expired(*sub);
    }
    expired_.clear();
    return count;
}

const Subscription* Switch::find_plain(uint32_t account, std::string_view subject, const Subscriber& owner) {
    for (Subscription* sub : routes(account).sublist.match(subject).plain) {
        if (sub->owner == &owner) return sub;
    }
    return nullptr;
}

bool Switch::has_interest(uint32_t account, std::string_view subject) {
    Routes& in = routes(account);
    if (!in.sublist.match(subject).empty()) return true;
    return mesh_.shards() > 1 && !in.interest.match(subject).empty();
}

size_t Switch::drain(JsRecordHandler* js) {
    js_ = js;
    size_t records = mesh_.drain(*this);
    js_ = nullptr;
    return records;
}

bool Switch::on_msg(uint32_t from, const MsgRecord& record) {
    queue_ids_.clear();
    for (size_t i = 0; i < record.queue_count(); ++i) queue_ids_.push_back(record.queue_id(i));
    decision_.plain.clear();
    decision_.groups.clear();
    decide_arrival(routes(record.msg.account).sublist.match(record.msg.subject), record.plain, queue_ids_, decision_);
    deliver(record.msg, nullptr);
    if (backed_up_ == nullptr) return true;
    if (ring_holds_[from].on == nullptr) ++rings_held_;
    ring_holds_[from] = {backed_up_, Clock::now() + backed_up_for_};
    return false;
}

void Switch::on_interest(uint32_t from, uint32_t account, std::string_view subject, std::string_view queue,
                         int32_t delta) {
    routes(account).interest.apply(from, subject, queue, delta);
}

void Switch::on_js(uint32_t, const MsgView& msg) {
    if (js_ != nullptr) js_->on_js_record(msg);
}

}  // namespace ringtail::core
