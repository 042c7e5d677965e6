// Seeded simulation of routing across 2-8 shards: the real Switch and Mesh of every shard
// (tests/support/switch_cluster.h), driven by a random mix of SUB, UNSUB, PUB (plain and queue
// subscribers, wildcards, echo off), request-reply, and loop turns taken in random order, on
// rings small enough to fill, with connections in three accounts. What the subscribers receive
// is checked against one sublist per account holding every subscription of every shard (the
// oracle):
//   - a message never reaches a subscriber of another account;
//   - while subscriptions churn: a delivery always matches its subscription, no subscription
//     gets a message twice, one publisher's messages arrive in order (but a queue group's
//     message sent on by a shard that no longer had a member for it), a queue group gets a
//     message at most once, and a message refused for a full ring is retried, never lost;
//   - once interest has settled: every matching plain subscription gets each message exactly
//     once and every matching queue group exactly one copy;
//   - a request published right after subscribing to its inbox always gets its replies back
//     from responders on other shards (interest travels ahead of the messages sent after it).
// Every settling first turns only the shards the server would wake (their doorbells, or a
// flush that moved records waiting for room: Mesh::waiting_moved()); a publisher paused for a
// full ring tries again, and a moving connection is handed over, only in those turns. Then no
// shard may have anything left to do, no publisher may still be paused and no move may still
// wait: each would wait for the server's tick.
// Connections also move to another shard at random points, with their plain subscriptions
// (Switch: "Moving a connection with subscriptions"), as the server hands them over: stopped,
// handed over once the other shards have read what their shard sent before, then on the new
// shard once it has taken them in. Every check above holds across the moves.
// A failure prints its seed; RT_SEED=<seed> replays exactly that one, RT_SIM_SEEDS=<n> runs n
// from RT_SIM_FIRST (default 1).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/subject_match.h"
#include "core/route/sublist.h"
#include "tests/support/switch_cluster.h"

namespace ringtail::test {
namespace {

using core::MsgView;
using core::Routed;
using core::Switch;

const char* const kTokens[] = {"a", "b", "c"};
const char* const kQueues[] = {"q1", "q2"};
constexpr uint32_t kAccounts = 3;

struct Conn {
    std::unique_ptr<FakeSubscriber> sub;
    uint32_t shard = 0;
    uint32_t account = core::kGlobalAccount;
    bool echo = true;
    uint64_t sent = 0;                       // messages published so far
    std::optional<std::string> retry;        // a subject whose publish found a ring full
    std::map<std::string, std::string> sids;  // sid -> pattern, live plain or queue subscriptions
    std::optional<std::string> inbox;         // subscribed; its request not sent yet
    // Moving: stopped on `shard` until the rings it fed were read as far as `ends`, then on its
    // way to `target` until that shard has taken it in.
    std::optional<uint32_t> moving_to;
    std::vector<uint64_t> ends;
    bool in_transit = false;
    bool busy() const { return moving_to.has_value() || in_transit; }
};

// What the shard a connection moved to asks of it: its subscriptions (by its index).
class SimAdopter final : public core::MoveAdopter {
public:
    explicit SimAdopter(std::vector<Conn>& conns) : conns_(conns) {}
    Adopted adopt(uint64_t handle) override { return {conns_[handle].sub.get(), conns_[handle].sub->subscriptions()}; }

private:
    std::vector<Conn>& conns_;
};

// One subscription as the oracle knows it. Subscription ids are numbers unique across
// connections, so a sid names one subscription.
struct OracleSub {
    size_t conn;
    uint64_t sid;
    std::string subject;
    std::string queue;
};

// A message's id: its publisher and that publisher's count, "<conn>:<n>" in the payload.
using MsgId = uint64_t;
MsgId msg_id(size_t conn, uint64_t n) { return (uint64_t{conn} << 40) | n; }
MsgId parse_id(std::string_view payload) {
    size_t colon = payload.find(':');
    uint64_t conn = 0;
    uint64_t n = 0;
    std::from_chars(payload.data(), payload.data() + colon, conn);
    std::from_chars(payload.data() + colon + 1, payload.data() + payload.size(), n);
    return msg_id(conn, n);
}
std::string id_text(MsgId id) { return std::to_string(id >> 40) + ":" + std::to_string(id & ((uint64_t{1} << 40) - 1)); }

struct PairHash {
    size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
        return std::hash<uint64_t>{}(p.first * 0x9e3779b97f4a7c15ull ^ p.second);
    }
};

class Sim {
public:
    explicit Sim(uint64_t seed) : seed_(seed), random_(seed) {
        shards_ = 2 + static_cast<uint32_t>(random_() % 7);
        size_t ring_bytes = size_t{256 * 1024} << (random_() % 3);
        cluster_ = std::make_unique<SwitchCluster>(shards_, ring_bytes, seed);
        size_t conns = 4 + random_() % 20;
        for (size_t i = 0; i < conns; ++i) {
            Conn conn;
            conn.shard = static_cast<uint32_t>(random_() % shards_);
            conn.echo = random_() % 4 != 0;
            conn.sub = std::make_unique<FakeSubscriber>(conn.shard, conn.echo);
            conn.account = static_cast<uint32_t>(random_() % kAccounts);
            conn.sub->account = conn.account;
            conns_.push_back(std::move(conn));
        }
        // Responders for request-reply: settled before any request, never unsubscribed.
        size_t responders = 1 + random_() % 3;
        for (size_t i = 0; i < responders; ++i) {
            uint32_t shard = static_cast<uint32_t>(random_() % shards_);
            responders_.push_back(std::make_unique<FakeSubscriber>(shard));
            responders_.back()->subscribe(cluster_->at(shard), "svc", "", "svc");
        }
        for (uint32_t shard = 0; shard < shards_; ++shard) cluster_->at(shard).set_adopter(&adopter_);
        cluster_->settle();
    }

    // Returns an empty string, or what went wrong.
    std::string run() {
        for (int phase = 0; phase < 4 && failure_.empty(); ++phase) {
            churn(150 + random_() % 300);
            settle();
            steady(50 + random_() % 150);
            settle();
            check_steady();
        }
        check_requests();
        return failure_;
    }

private:
    std::string random_subject() {
        std::string subject;
        size_t depth = 1 + random_() % 3;
        for (size_t i = 0; i < depth; ++i) {
            if (i > 0) subject += '.';
            subject += kTokens[random_() % 3];
        }
        return subject;
    }
    std::string random_pattern() {
        std::string pattern;
        size_t depth = 1 + random_() % 3;
        for (size_t i = 0; i < depth; ++i) {
            if (i > 0) pattern += '.';
            uint64_t pick = random_() % 8;
            if (pick == 0 && i + 1 == depth) {
                pattern += '>';
            } else if (pick <= 2) {
                pattern += '*';
            } else {
                pattern += kTokens[random_() % 3];
            }
        }
        return pattern;
    }

    void fail(const std::string& what) {
        if (failure_.empty()) failure_ = what;
    }

    // Stops `index` to move it to another shard, when it may move: it has no publish waiting
    // and no queue subscription, and none of its subscriptions moved before.
    void start_move(size_t index) {
        Conn& conn = conns_[index];
        if (shards_ < 2 || conn.busy() || conn.retry) return;
        for (const core::Subscription* sub : conn.sub->subscriptions()) {
            if (!sub->queue.empty() || sub->moved_from != core::Subscription::kNotMoved) return;
        }
        auto target = static_cast<uint32_t>((conn.shard + 1 + random_() % (shards_ - 1)) % shards_);
        conn.moving_to = target;
        conn.ends = cluster_->mesh(conn.shard).ends();
        ++moves_;
    }

    // Hands over the stopped connections whose shard's rings were read far enough (as
    // Shard::send_leaving() does at the end of a turn), and takes in those that arrived: on
    // every shard, or on `only` (in its turn).
    void carry_moves(std::optional<uint32_t> only = std::nullopt) {
        for (size_t index = 0; index < conns_.size(); ++index) {
            Conn& conn = conns_[index];
            if (!conn.moving_to || (only && conn.shard != *only)) continue;
            if (!cluster_->mesh(conn.shard).handled_up_to(conn.ends, *conn.moving_to)) continue;
            uint32_t target = *conn.moving_to;
            cluster_->at(conn.shard).hand_over(index, conn.sub->subscriptions(), target);
            conn.moving_to.reset();
            conn.in_transit = true;
            conn.shard = target;
            conn.sub->set_shard(target);
        }
        for (uint32_t shard = 0; shard < shards_; ++shard) {
            if (only && shard != *only) continue;
            for (uint64_t handle : cluster_->at(shard).take_arrivals()) conns_[handle].in_transit = false;
        }
    }

    void subscribe(size_t index) {
        Conn& conn = conns_[index];
        if (conn.busy()) return;
        std::string pattern = random_pattern();
        std::string queue = random_() % 3 == 0 ? kQueues[random_() % 2] : "";
        uint64_t sid = ++sid_next_;
        conn.sub->subscribe(cluster_->at(conn.shard), pattern, queue, std::to_string(sid));
        conn.sids[std::to_string(sid)] = pattern;
        ever_[sid] = {pattern, queue};
        auto& oracle_sub = oracle_subs_[sid];
        oracle_sub = std::make_unique<OracleSub>(OracleSub{index, sid, pattern, queue});
        oracle_[conn.account].insert(pattern, queue, oracle_sub.get());
    }

    void unsubscribe(size_t index) {
        Conn& conn = conns_[index];
        if (conn.sids.empty() || conn.busy()) return;
        auto it = std::next(conn.sids.begin(), static_cast<long>(random_() % conn.sids.size()));
        uint64_t sid = std::stoull(it->first);
        conn.sub->unsubscribe(cluster_->at(conn.shard), it->first);
        conn.sids.erase(it);
        OracleSub* sub = oracle_subs_[sid].get();
        oracle_[conn.account].remove(sub->subject, sub->queue, sub);
        oracle_subs_.erase(sid);
    }

    // Publishes the next message of `index` (or the one a full ring refused). Returns its id
    // if it went out. The payload is "<conn>:<n>", for some messages with padding after a
    // '|', so that rings fill.
    std::optional<MsgId> publish(size_t index) {
        Conn& conn = conns_[index];
        if (conn.busy()) return std::nullopt;
        std::string subject = conn.retry ? *conn.retry : random_subject();
        MsgId id = msg_id(index, conn.sent);
        std::string payload = id_text(id);
        if (random_() % 8 == 0) payload += "|" + std::string(random_() % 32768, 'x');
        MsgView msg{subject, {}, {}, payload, false, {}, {}};
        msg.account = conn.account;
        Routed routed = cluster_->at(conn.shard).publish(msg, conn.sub.get());
        if (routed == Routed::kFull) {
            conn.retry = subject;
            ++refused_;
            return std::nullopt;
        }
        conn.retry.reset();
        ++conn.sent;
        published_[id] = subject;
        return id;
    }

    void turn(uint32_t shard) {
        cluster_->turn(shard);
        answer_requests(shard);
        carry_moves();
    }

    void settle() {
        // Keep retrying refused publishes and answering requests until everything is through.
        for (int round = 0; round < 50; ++round) {
            for (size_t i = 0; i < conns_.size(); ++i) {
                if (conns_[i].inbox) request(i);
            }
            // Woken as the server wakes its shards, where a publisher that a full ring refused
            // tries again and a moving connection is handed over once it may be (first at the
            // end of the turn it stopped in): nothing may be left waiting for a tick.
            carry_moves();
            bool quiet = cluster_->settle_by_wakeups([this](uint32_t shard) {
                for (size_t i = 0; i < conns_.size(); ++i) {
                    if (conns_[i].retry && conns_[i].shard == shard) publish(i);
                }
                carry_moves(shard);
            });
            if (!quiet) fail("a record waited on a shard nobody woke");
            for (size_t i = 0; i < conns_.size() && quiet; ++i) {
                Conn& conn = conns_[i];
                if (conn.retry && publish(i)) fail("a publisher paused for a full ring was never woken");
                if (conn.in_transit ||
                    (conn.moving_to && cluster_->mesh(conn.shard).handled_up_to(conn.ends, *conn.moving_to))) {
                    fail("a moving connection waited on a shard nobody woke");
                }
            }
            carry_moves();
            cluster_->settle();
            carry_moves();
            for (uint32_t shard = 0; shard < shards_; ++shard) answer_requests(shard);
            bool pending = !replies_due_.empty();
            for (const Conn& conn : conns_) {
                pending = pending || conn.retry.has_value() || conn.inbox.has_value() || conn.busy();
            }
            if (!pending) {
                cluster_->settle();
                return;
            }
        }
        fail("publishes refused for a full ring never got through");
    }

    void churn(size_t steps) {
        for (size_t step = 0; step < steps && failure_.empty(); ++step) {
            size_t index = random_() % conns_.size();
            switch (random_() % 10) {
                case 0:
                case 1:
                    subscribe(index);
                    break;
                case 2:
                    unsubscribe(index);
                    break;
                case 3:
                    request(index);
                    break;
                case 4:
                    turn(static_cast<uint32_t>(random_() % shards_));
                    if (random_() % 8 == 0) start_move(index);
                    break;
                default:
                    for (int burst = 1 + static_cast<int>(random_() % 8); burst > 0; --burst) publish(index);
                    break;
            }
            check_deliveries();
        }
    }

    // Messages published while nothing subscribes or unsubscribes, and what the oracle says each
    // must reach, computed when it is published.
    void steady(size_t count) {
        expected_.clear();
        for (size_t index = 0; index < conns_.size(); ++index) steady_from_[index] = conns_[index].sub->got.size();
        for (size_t i = 0; i < count; ++i) {
            size_t index = random_() % conns_.size();
            if (random_() % 4 == 0) turn(static_cast<uint32_t>(random_() % shards_));
            if (random_() % 64 == 0) start_move(index);
            Conn& conn = conns_[index];
            // Computed before publishing: nothing changes subscriptions in this phase.
            bool had_retry = conn.retry.has_value();
            auto id = publish(index);
            if (!id) continue;
            if (had_retry) continue;  // a message from the churn phase: checked loosely there
            const std::string& subject = published_[*id];
            Expected expected;
            const auto& match = oracle_[conn.account].match(subject);
            for (const OracleSub* sub : match.plain) {
                if (sub->conn == index && !conn.echo) continue;
                expected.plain.insert(sub->sid);
            }
            for (const auto& group : match.queues) {
                bool eligible = false;
                for (const OracleSub* sub : group.members) eligible = eligible || !(sub->conn == index && !conn.echo);
                if (eligible) expected.queues.insert(std::string(group.name));
            }
            expected_[*id] = std::move(expected);
        }
    }

    // Subscribes an inbox and sends a request with it as the reply subject, at once or (half
    // the time) at a later step, with turns of other shards in between.
    void request(size_t index) {
        Conn& conn = conns_[index];
        if (conn.account != core::kGlobalAccount || conn.busy()) return;  // the responders' account only
        if (!conn.inbox) {
            conn.inbox = "_INBOX." + std::to_string(++inbox_next_);
            conn.sub->subscribe(cluster_->at(conn.shard), *conn.inbox, "", "inbox" + conn.inbox->substr(7));
            if (random_() % 2 == 0) return;
        }
        Routed routed = cluster_->at(conn.shard).publish({"svc", *conn.inbox, {}, {}, false, {}, {}}, conn.sub.get());
        if (routed == Routed::kFull) {
            ++refused_;  // a paused connection: it sends the request when the ring has room
            return;
        }
        requests_[*conn.inbox] = index;
        conn.inbox.reset();
    }

    // Responders answer what they got since their last turn, as a client would after reading.
    void answer_requests(uint32_t shard) {
        for (auto& responder : responders_) {
            if (responder->shard() != shard) continue;
            for (; answered_[responder.get()] < responder->got.size(); ++answered_[responder.get()]) {
                const auto& got = responder->got[answered_[responder.get()]];
                replies_due_.push_back({responder.get(), got.reply});
            }
        }
        std::deque<std::pair<FakeSubscriber*, std::string>> due;
        due.swap(replies_due_);
        for (auto& [responder, inbox] : due) {
            if (responder->shard() != shard) {
                replies_due_.push_back({responder, inbox});
                continue;
            }
            Routed routed = cluster_->at(shard).publish({inbox, {}, {}, "reply", false, {}, {}}, responder);
            if (routed == Routed::kFull) {
                replies_due_.push_back({responder, inbox});
            } else if (routed == Routed::kNoInterest) {
                fail("a reply to " + inbox + " found no interest on shard " + std::to_string(shard) +
                     ": the inbox's interest did not travel ahead of the request");
            }
        }
    }

    // Loose checks on everything delivered since the last call.
    void check_deliveries() {
        for (size_t index = 0; index < conns_.size(); ++index) {
            auto& got = conns_[index].sub->got;
            for (size_t& at = checked_[index]; at < got.size(); ++at) {
                const FakeSubscriber::Got& delivery = got[at];
                // Requests and replies (which wildcards such as '>' match too): check_requests().
                if (delivery.subject.starts_with("_INBOX.") || delivery.subject == "svc") continue;
                MsgId id = parse_id(delivery.payload);
                auto published = published_.find(id);
                if (published == published_.end()) {
                    fail("conn " + std::to_string(index) + " got " + id_text(id) + ", never published");
                    return;
                }
                if (size_t from = id >> 40; conns_[from].account != conns_[index].account) {
                    fail("conn " + std::to_string(index) + " of account " + std::to_string(conns_[index].account) +
                         " got " + id_text(id) + " from account " + std::to_string(conns_[from].account));
                    return;
                }
                uint64_t sid = std::stoull(delivery.sid);
                const SubInfo& info = ever_[sid];
                if (!base::subject_matches(info.pattern, published->second)) {
                    fail("sid " + delivery.sid + " (" + info.pattern + ") got a message on " + published->second);
                    return;
                }
                if (!seen_.insert({sid, id}).second) {
                    fail("sid " + delivery.sid + " got " + id_text(id) + " twice");
                    return;
                }
                // From one publisher (the id's high bits), counts only go up, but for a queue
                // group's message that its shard had no member left for and sent on.
                if (!delivery.rerouted) {
                    auto [last, fresh] = last_from_.try_emplace({sid, id >> 40}, id);
                    if (!fresh && id <= last->second) {
                        fail("sid " + delivery.sid + " got " + id_text(id) + " after " + id_text(last->second));
                        return;
                    }
                    last->second = id;
                }
                if (!info.queue.empty() && ++queue_copies_[{id, info.queue == kQueues[0] ? 0u : 1u}] > 1) {
                    fail("queue group " + info.queue + " got " + id_text(id) + " twice");
                    return;
                }
            }
        }
    }

    void check_steady() {
        check_deliveries();
        if (!failure_.empty()) return;
        std::unordered_map<MsgId, std::set<uint64_t>> plain_got;            // message -> sids
        std::unordered_map<MsgId, std::map<std::string, int>> queue_got;    // message -> group -> copies
        for (size_t index = 0; index < conns_.size(); ++index) {
            for (size_t at = steady_from_[index]; at < conns_[index].sub->got.size(); ++at) {
                const auto& delivery = conns_[index].sub->got[at];
                if (delivery.sid.starts_with("inbox")) continue;
                MsgId id = parse_id(delivery.payload);
                if (!expected_.contains(id)) continue;
                const OracleSub& sub = *oracle_subs_.at(std::stoull(delivery.sid));
                if (sub.queue.empty()) {
                    plain_got[id].insert(sub.sid);
                } else {
                    ++queue_got[id][sub.queue];
                }
            }
        }
        for (const auto& [id, expected] : expected_) {
            if (plain_got[id] != expected.plain) {
                fail("message " + id_text(id) + " on " + published_[id] + " reached " +
                     std::to_string(plain_got[id].size()) + " plain subscriptions, the oracle says " +
                     std::to_string(expected.plain.size()));
                return;
            }
            std::set<std::string> groups;
            for (const auto& [group, copies] : queue_got[id]) {
                if (copies != 1) {
                    fail("queue group " + group + " got message " + id_text(id) + " " + std::to_string(copies) + " times");
                }
                groups.insert(group);
            }
            if (groups != expected.queues) {
                fail("message " + id_text(id) + " reached " + std::to_string(groups.size()) +
                     " queue groups, the oracle says " + std::to_string(expected.queues.size()));
                return;
            }
        }
    }

    void check_requests() {
        if (!failure_.empty()) return;
        std::map<std::string, size_t> replies;  // inbox -> replies its own subscription got
        for (const Conn& conn : conns_) {
            for (const auto& delivery : conn.sub->got) {
                if (delivery.sid.starts_with("inbox")) ++replies[delivery.subject];
            }
        }
        for (const auto& [inbox, index] : requests_) {
            if (replies[inbox] != responders_.size()) {
                fail("request with inbox " + inbox + " from shard " + std::to_string(conns_[index].shard) + " got " +
                     std::to_string(replies[inbox]) + " replies from " + std::to_string(responders_.size()) +
                     " responders");
                return;
            }
        }
    }

    struct Expected {
        std::set<uint64_t> plain;      // sids
        std::set<std::string> queues;  // group names
    };
    struct SubInfo {
        std::string pattern;
        std::string queue;
    };

    uint64_t seed_;
    std::mt19937_64 random_;
    uint32_t shards_ = 0;
    std::unique_ptr<SwitchCluster> cluster_;
    std::vector<Conn> conns_;
    std::vector<std::unique_ptr<FakeSubscriber>> responders_;
    core::Sublist<OracleSub> oracle_[kAccounts];
    std::unordered_map<uint64_t, std::unique_ptr<OracleSub>> oracle_subs_;  // by sid
    std::unordered_map<MsgId, std::string> published_;                     // message -> subject
    std::unordered_map<MsgId, Expected> expected_;  // messages of the current steady phase
    std::map<size_t, size_t> steady_from_;          // by conn: its first delivery of that phase
    std::map<std::string, size_t> requests_;  // inbox -> requesting conn
    std::deque<std::pair<FakeSubscriber*, std::string>> replies_due_;
    std::map<FakeSubscriber*, size_t> answered_;
    std::map<size_t, size_t> checked_;
    std::unordered_map<uint64_t, SubInfo> ever_;  // by sid: every subscription ever made
    std::unordered_set<std::pair<uint64_t, MsgId>, PairHash> seen_;                 // (sid, message)
    std::unordered_map<std::pair<uint64_t, uint64_t>, MsgId, PairHash> last_from_;  // (sid, publisher)
    std::unordered_map<std::pair<MsgId, uint64_t>, int, PairHash> queue_copies_;    // (message, group)
    uint64_t sid_next_ = 0;
    uint64_t inbox_next_ = 0;
    uint64_t refused_ = 0;
    uint64_t moves_ = 0;
    SimAdopter adopter_{conns_};
    std::string failure_;

public:
    uint32_t shards() const { return shards_; }
    uint64_t refused() const { return refused_; }
    uint64_t moves() const { return moves_; }
};

TEST(MultiShardSim, RoutingMatchesASingleSublist) {
    uint64_t first = 1;
    uint64_t count = 200;
    if (const char* from = std::getenv("RT_SIM_FIRST")) first = std::strtoull(from, nullptr, 10);
    if (const char* seeds = std::getenv("RT_SIM_SEEDS")) count = std::strtoull(seeds, nullptr, 10);
    if (const char* seed = std::getenv("RT_SEED")) {
        first = std::strtoull(seed, nullptr, 10);
        count = 1;
    }
    uint64_t refused = 0;
    uint64_t moves = 0;
    for (uint64_t seed = first; seed < first + count; ++seed) {
        Sim sim(seed);
        std::string failure = sim.run();
        ASSERT_TRUE(failure.empty()) << "seed " << seed << " (" << sim.shards() << " shards): " << failure
                                     << "\nreplay with RT_SEED=" << seed;
        refused += sim.refused();
        moves += sim.moves();
    }
    // The rings are small enough that some publishes find them full, so the retry path runs;
    // connections move.
    if (count >= 20) {
        EXPECT_GT(refused, 0u);
        EXPECT_GT(moves, 0u);
    }
}

}  // namespace
}  // namespace ringtail::test
