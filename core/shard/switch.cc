#include "core/shard/switch.h"

#include <algorithm>
#include <utility>

#include "base/subject_match.h"
#include "core/server/log.h"

namespace ringtail::core {

Switch::Switch(Mesh& mesh, uint64_t seed, bool sublist_cache)
    : mesh_(mesh),
      sublist_cache_(sublist_cache),
      random_(static_cast<Random::result_type>(seed)),
      ring_holds_(mesh.shards()),
      moved_here_(mesh.shards()),
      forward_ids_(mesh.shards()) {}

Switch::Routes& Switch::routes(uint32_t account) {
    if (account >= routes_.size()) routes_.resize(account + 1);
    if (!routes_[account]) routes_[account] = std::make_unique<Routes>(sublist_cache_);
    return *routes_[account];
}

size_t Switch::subscriptions() const {
    size_t count = 0;
    for (const auto& routes : routes_) count += routes ? routes->sublist.count() : 0;
    return count - forwarder_count_;  // those are the subscriptions of connections elsewhere
}

std::vector<monitor::SublistFigures> Switch::sublist_figures() const {
    std::vector<monitor::SublistFigures> out(routes_.size());
    for (size_t account = 0; account < routes_.size(); ++account) {
        if (!routes_[account]) continue;
        auto stats = routes_[account]->sublist.stats();
        out[account] = {stats.matches, stats.cache_hits, stats.cached, stats.fanout_total, stats.fanout_max};
    }
    return out;
}

size_t Switch::remote_interest_entries() const {
    size_t count = 0;
    for (const auto& routes : routes_) count += routes ? routes->interest.entries() : 0;
    return count;
}

void Switch::subscribe(Subscription& sub) {
    routes(sub.account).sublist.insert(sub.subject, sub.queue, &sub);
    change_interest(sub, +1);
    note_interest_change(sub.account, sub.subject, false);
}

void Switch::unsubscribe(Subscription& sub) {
    if (sub.moved_from != Subscription::kNotMoved) {
        // Its interest is its old shard's, which stops forwarding to it.
        if (routes(sub.account).sublist.remove(sub.subject, sub.queue, &sub)) {
            --moved_here_[sub.moved_from];
            mesh_.send_move_record(sub.moved_from, RecordKind::kDrop, sub.move_id, reinterpret_cast<uintptr_t>(&sub));
        }
        std::erase_if(held_, [&sub](const Held& held) { return held.sub == &sub; });
    } else if (routes(sub.account).sublist.remove(sub.subject, sub.queue, &sub)) {
        uint64_t announced = mesh_.interest_seq_sent();
        change_interest(sub, -1);
        note_interest_change(sub.account, sub.subject, true);
        // The group's last member here left and the other shards are told: see departed_.
        prune_departed();
        if (!sub.queue.empty() && !sub.expired && sub.parent == nullptr && sub.owner->takes_after_leaving() &&
            mesh_.interest_seq_sent() != announced) {
            auto copy = std::make_unique<Subscription>();
            copy->owner = sub.owner;
            copy->account = sub.account;
            copy->subject = sub.subject;
            copy->queue = sub.queue;
            copy->sid = sub.sid;
            departed_.push_back({std::move(copy), mesh_.interest_seq_sent()});
        }
    }
    release_holds(sub.owner);  // a hold on it ends early: harmless
}

void Switch::prune_departed() {
    std::erase_if(departed_, [this](const Departed& departed) { return mesh_.interest_applied(departed.interest_seq); });
}

Subscription* Switch::departed_member(uint64_t group, const MsgView& msg) {
    prune_departed();
    for (Departed& departed : departed_) {
        Subscription& sub = *departed.sub;
        if (sub.account == msg.account && queue_id(sub.queue) == group &&
            base::subject_matches(sub.subject, msg.subject)) {
            return &sub;
        }
    }
    return nullptr;
}

void Switch::hand_over(uint64_t handle, std::span<Subscription* const> subs, uint32_t target) {
    uint64_t move_id = (uint64_t{mesh_.self()} << 48) | ++moves_;
    // The target takes the connection before it hears that the interest is no longer counted
    // for it: a message it publishes in between goes to the connection directly and here,
    // behind its fence, so it is not forwarded back (a record of each can wait for ring room
    // on its own, so they may arrive in two drains).
    std::vector<std::pair<Subscription*, InterestChange>> changes;
    for (Subscription* sub : subs) {
        RT_ASSERT(sub->queue.empty() && sub->parent == nullptr && sub->moved_from == Subscription::kNotMoved);
        Routes& in = routes(sub->account);
        if (!in.sublist.remove(sub->subject, sub->queue, sub)) continue;
        auto forwarder = std::make_unique<Forwarder>();
        forwarder->owner = &forwarding_;
        forwarder->account = sub->account;
        forwarder->subject = sub->subject;
        forwarder->sid = sub->sid;
        forwarder->move_id = move_id;
        forwarder->target = target;
        forwarder->sub_id = reinterpret_cast<uintptr_t>(sub);
        in.sublist.insert(forwarder->subject, {}, forwarder.get());
        changes.emplace_back(sub, in.local_refs.forward(sub->subject, target, +1));
        forwarders_[move_id].push_back(std::move(forwarder));
        ++forwarder_count_;
        sub->moved_from = mesh_.self();
        sub->move_id = move_id;
    }
    mesh_.send_conn(target, handle);
    for (const auto& [sub, change] : changes) announce(sub->account, sub->subject, {}, change);
}

void Switch::on_conn(uint32_t from, uint64_t handle) {
    arrivals_.push_back(handle);
    if (adopter_ == nullptr) return;
    MoveAdopter::Adopted adopted = adopter_->adopt(handle);
    // What it sent the long way to subscriptions that moved here (5. above).
    for (uint32_t shard = 0; shard < mesh_.shards(); ++shard) {
        if (shard == from || moved_here_[shard] == 0) continue;
        Barrier& barrier = barriers_.emplace_back();
        barrier.id = (uint64_t{mesh_.self()} << 48) | ++moves_;
        barrier.publisher = adopted.subscriber;
        barrier.shard = shard;
        mesh_.send_move_record(shard, RecordKind::kFence, barrier.id);
    }
    uint64_t move_id = 0;
    for (Subscription* sub : adopted.subs) {
        if (sub->moved_from != from) continue;
        RT_ASSERT(move_id == 0 || sub->move_id == move_id);
        move_id = sub->move_id;
        routes(sub->account).sublist.insert(sub->subject, sub->queue, sub);
        note_interest_change(sub->account, sub->subject, false);
        ++moved_here_[from];
    }
    if (move_id == 0) return;
    fences_.push_back(move_id);
    mesh_.send_move_record(from, RecordKind::kFence, move_id);
}

void Switch::on_move_record(uint32_t from, RecordKind kind, uint64_t move_id, uint64_t sub_id) {
    switch (kind) {
        case RecordKind::kFence:
            if (auto it = forwarders_.find(move_id); it != forwarders_.end()) {
                for (auto& forwarder : it->second) forwarder->fenced = true;
            }
            mesh_.send_move_record(from, RecordKind::kFenceEcho, move_id);
            return;
        case RecordKind::kFenceEcho:
            std::erase(fences_, move_id);
            std::erase_if(barriers_, [move_id](const Barrier& barrier) { return barrier.id == move_id; });
            release_held();
            return;
        case RecordKind::kDrop: {
            auto move = forwarders_.find(move_id);
            if (move == forwarders_.end()) return;
            auto it = std::find_if(move->second.begin(), move->second.end(),
                                   [sub_id](const auto& forwarder) { return forwarder->sub_id == sub_id; });
            if (it == move->second.end()) return;
            Forwarder& forwarder = **it;
            Routes& in = routes(forwarder.account);
            in.sublist.remove(forwarder.subject, {}, &forwarder);
            note_interest_change(forwarder.account, forwarder.subject, true);
            announce(forwarder.account, forwarder.subject, {},
                     in.local_refs.forward(forwarder.subject, forwarder.target, -1));
            move->second.erase(it);
            if (move->second.empty()) forwarders_.erase(move);
            --forwarder_count_;
            return;
        }
        default:
            RT_ASSERT(false);
    }
}

bool Switch::must_hold(const Subscription& sub, const Subscriber* origin) const {
    if (std::find(fences_.begin(), fences_.end(), sub.move_id) != fences_.end()) return true;
    return origin != nullptr && std::any_of(barriers_.begin(), barriers_.end(), [&](const Barrier& barrier) {
               return barrier.publisher == origin && barrier.shard == sub.moved_from;
           });
}

void Switch::release_held() {
    // In order. What must still wait stays, and so does everything after it for the same
    // subscription and publisher (whose conditions are the same).
    for (size_t i = 0; i < held_.size();) {
        if (must_hold(*held_[i].sub, held_[i].origin)) {
            ++i;
            continue;
        }
        Held held = std::move(held_[i]);
        held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
        deliver_to(*held.sub, held.view());
        if (!expired_.empty()) {
            // Reaching its max, it went (unsubscribe() dropped what else waited for it, before
            // this entry too): look again from the start.
            remove_expired();
            i = 0;
        }
    }
}

MsgView Switch::Held::view() const {
    MsgView msg{subject, reply, headers, payload, has_headers, total_size_text, header_size_text, shown_subject};
    msg.account = account;
    return msg;
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
    // Messages forwarded to moved connections wait here while the ring to their shard is full
    // (Mesh::send_forwarded): past a bound, no ring that feeds them is read (their shards'
    // publishers pause) until they are through, and the shard then turns again before it
    // waits (Mesh::waiting_moved()).
    if (forwarder_count_ > 0 && mesh_.backlog_full()) return false;
    Hold& hold = ring_holds_[from];
    if (hold.on == nullptr) return true;
    if (holds(hold)) return false;
    --rings_held_;
    return true;
}

void Switch::forget(const Subscriber* subscriber) {
    release_holds(subscriber);
    std::erase_if(departed_, [subscriber](const Departed& departed) { return departed.sub->owner == subscriber; });
}

void Switch::release_holds(const Subscriber* subscriber) {
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
    announce(sub.account, sub.subject, sub.queue, routes(sub.account).local_refs.change(sub.subject, sub.queue, delta));
}

void Switch::announce(uint32_t account, std::string_view subject, std::string_view queue,
                      const InterestChange& change) {
    if (!change.empty()) mesh_.send_interest(account, subject, queue, change);
}

Routed Switch::publish(const MsgView& msg, const Subscriber* origin) {
    const uint32_t shards = mesh_.shards();
    decision_.reset(shards);
    Routes& in = routes(msg.account);
    const LocalMatch& local = in.sublist.match(msg.subject);
    const InterestMap::MatchResult* remote = shards > 1 ? &in.interest.match(msg.subject) : nullptr;
    decide_route(local, remote, origin, random_, decision_);
    if (forwarder_count_ > 0) {
        // What matches a forwarder goes on to the shard its connection moved to.
        std::erase_if(decision_.plain, [this](Subscription* sub) {
            if (!is_forwarder(*sub)) return false;
            uint32_t target = static_cast<Forwarder*>(sub)->target;
            decision_.copy[target] = 1;
            decision_.forward[target] = 1;
            return true;
        });
    }
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
        if (decision_.copy[target]) mesh_.send_msg(target, msg, decision_.queue_ids[target], decision_.forward[target]);
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
    // A moved connection gets its copy from the shard it is on.
    if (forwarder_count_ > 0) std::erase_if(decision_.plain, [this](Subscription* sub) { return is_forwarder(*sub); });
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

size_t Switch::deliver(const MsgView& msg, const Subscriber* origin, uint32_t from) {
    backed_up_ = nullptr;
    backed_up_for_ = {};
    size_t count = 0;
    bool forward = false;
    for (Subscription* sub : decision_.plain) {
        if (sub->moved_from != Subscription::kNotMoved && from == MsgView::kPublishedHere && must_hold(*sub, origin)) {
            // Kept until its old shard has forwarded what was sent to it the long way before.
            Held& held = held_.emplace_back();
            held.sub = sub;
            held.origin = origin;
            held.subject = msg.subject;
            held.reply = msg.reply;
            held.headers = msg.headers;
            held.payload = msg.payload;
            held.total_size_text = msg.total_size_text;
            held.header_size_text = msg.header_size_text;
            held.shown_subject = msg.shown_subject;
            held.has_headers = msg.has_headers;
            held.account = msg.account;
            ++count;
        } else if (is_forwarder(*sub)) {
            // Drained from another shard: forwarded, unless the target sent it after its
            // fence (it delivered it itself).
            auto& forwarder = static_cast<Forwarder&>(*sub);
            if (forwarder.target == from && forwarder.fenced) continue;
            std::vector<uint64_t>& ids = forward_ids_[forwarder.target];
            if (std::find(ids.begin(), ids.end(), forwarder.move_id) == ids.end()) ids.push_back(forwarder.move_id);
            forward = true;
            ++count;
        } else {
            count += deliver_to(*sub, msg);
        }
    }
    for (size_t i = 0; i < decision_.groups.size(); ++i) {
        auto take = [&](Subscription& sub) { return deliver_to(sub, msg); };
        if (pick_member(*decision_.groups[i], origin, random_, take) != nullptr) {
            ++count;
        } else if (i < decision_.group_ids.size()) {
            unserved_.push_back(decision_.group_ids[i]);
        }
    }
    if (forward) {
        for (uint32_t target = 0; target < mesh_.shards(); ++target) {
            if (forward_ids_[target].empty()) continue;
            mesh_.send_forwarded(target, msg, forward_ids_[target]);
            forward_ids_[target].clear();
        }
    }
    remove_expired();
    return count;
}

void Switch::remove_expired() {
    // Removed once the message is everywhere it goes: the subscriptions are gone from the
    // sublist before their owners forget them.
    for (Subscription* sub : expired_) {
        unsubscribe(*sub);
        sub->owner->expired(*sub);
        ++expired_removed_;
    }
    expired_.clear();
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

bool Switch::has_literal_interest(uint32_t account, std::string_view subject, std::string_view queue) {
    Routes& in = routes(account);
    auto literal_in = [&](const auto& match) {
        if (queue.empty()) {
            return std::ranges::any_of(match.plain, [&](const auto* sub) { return sub->subject == subject; });
        }
        return std::ranges::any_of(match.queues, [&](const auto& group) {
            return group.name == queue &&
                   std::ranges::any_of(group.members, [&](const auto* sub) { return sub->subject == subject; });
        });
    };
    if (literal_in(in.sublist.match(subject))) return true;
    return mesh_.shards() > 1 && literal_in(in.interest.match(subject));
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
    decision_.group_ids.clear();
    const LocalMatch& local = routes(record.msg.account).sublist.match(record.msg.subject);
    decide_arrival(local, record.plain, record.forwarded ? from : Subscription::kNotMoved, queue_ids_, decision_);
    // The groups no member here takes (none is left, or none can take it: deliver() adds
    // those) go to a departed member, or else to another shard. Looked at once the rest is
    // delivered, which may unsubscribe, and so change the sublist and the departed.
    unserved_.clear();
    for (uint64_t id : queue_ids_) {
        if (std::ranges::find(decision_.group_ids, id) == decision_.group_ids.end()) unserved_.push_back(id);
    }
    if (!record.move_ids.empty()) {
        std::erase_if(decision_.plain, [&record](const Subscription* sub) { return !record.for_move(sub->move_id); });
    }
    deliver(record.msg, nullptr, from);
    for (uint64_t id : unserved_) {
        Subscription* sub = departed_member(id, record.msg);
        if (sub != nullptr && deliver_to(*sub, record.msg)) continue;
        if (!record.msg.rerouted) bounce(id, record.msg);
    }
    if (backed_up_ == nullptr) return true;
    if (ring_holds_[from].on == nullptr) ++rings_held_;
    ring_holds_[from] = {backed_up_, Clock::now() + backed_up_for_};
    return false;
}

void Switch::bounce(uint64_t group, const MsgView& msg) {
    for (const auto& remote_group : routes(msg.account).interest.match(msg.subject).queues) {
        if (remote_group.id != group) continue;
        int64_t total = 0;
        for (const RemoteInterest* r : remote_group.members) total += r->refs;
        if (total <= 0) return;
        auto pick = static_cast<int64_t>(random_() % static_cast<uint64_t>(total));
        for (const RemoteInterest* r : remote_group.members) {
            if (pick < r->refs) {
                mesh_.send_bounced(r->shard, msg, group);
                return;
            }
            pick -= r->refs;
        }
    }
}

void Switch::on_interest(uint32_t from, uint32_t account, std::string_view subject, std::string_view queue,
                         int32_t delta) {
    routes(account).interest.apply(from, subject, queue, delta);
    note_interest_change(account, subject, delta < 0);
}

void Switch::note_interest_change(uint32_t account, std::string_view subject, bool lost) {
    ++interest_changes_;
    if (lost) ++interest_losses_;
    Routes& in = routes(account);
    if (!in.watched || in.overflowed) return;
    // Past this many (a burst of subscriptions between two turns), looking at every push
    // consumer once costs less than keeping the subjects.
    constexpr size_t kKeptMax = 4096;
    if (in.changed.size() >= kKeptMax) {
        in.overflowed = true;
        in.changed.clear();
        return;
    }
    in.changed.emplace_back(subject, lost);
}

void Switch::watch_interest(uint32_t account, bool on) {
    Routes& in = routes(account);
    in.watched = on;
    in.overflowed = false;
    in.changed.clear();
}

bool Switch::take_interest_changes(uint32_t account, std::vector<std::pair<std::string, bool>>& out) {
    Routes& in = routes(account);
    out.clear();
    out.swap(in.changed);
    return !std::exchange(in.overflowed, false);
}

void Switch::on_js(uint32_t, const MsgView& msg) {
    if (js_ != nullptr) js_->on_js_record(msg);
}

}  // namespace ringtail::core
