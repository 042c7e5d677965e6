#pragma once

#include "base/string_map.h"

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"

namespace ringtail::core {

// A queue group's identity across shards: a 64-bit hash of its name (equal on every shard of
// the process). Messages name the groups a shard must serve by id, 8 bytes whatever the
// name's length.
inline uint64_t queue_id(std::string_view name) { return std::hash<std::string_view>{}(name); }

// The subscription index of nats-server's sublist.go, for one shard: a trie of subject tokens
// with '*' and '>' nodes, plain and queue subscribers kept apart, and a bounded cache of match
// results that any insert or remove invalidates.
//
// Owner: one shard; no locking. T is the subscriber type; the caller owns the T objects and
// must remove() each before destroying it. Returned MatchResult references stay valid only until
// the next match(), insert() or remove().
template <class T>
class Sublist {
public:
    struct QueueGroup {
        std::string_view name;
        uint64_t id;  // queue_id(name)
        std::vector<T*> members;
    };
    struct MatchResult {
        std::vector<T*> plain;
        std::vector<QueueGroup> queues;  // one entry per queue name, merged across patterns
        bool empty() const { return plain.empty() && queues.empty(); }
    };

    static constexpr size_t kCacheEntriesMax = 1024;
    static constexpr size_t kSeenSlots = 4096;

    // `cached` false: every match walks the trie (nats-server's no_sublist_cache).
    explicit Sublist(bool cached = true) : root_(std::make_unique<Level>()), cached_(cached) {}

    // `subject` must be a valid subject (proto::is_valid_subject). `queue` empty: plain.
    void insert(std::string_view subject, std::string_view queue, T* subscriber) {
        Node* node = find_node(subject, /*create=*/true);
        if (queue.empty()) {
            node->plain.push_back(subscriber);
        } else {
            auto& group = node->queues[std::string(queue)];
            group.push_back(subscriber);
        }
        ++count_;
        clear_cache();
    }

    // Returns false if the subscriber was not there. Nodes left empty are freed, so subjects
    // that come and go (reply inboxes) do not grow the trie.
    bool remove(std::string_view subject, std::string_view queue, T* subscriber) {
        bool removed = false;
        remove_in(root_.get(), subject, queue, subscriber, removed);
        if (removed) {
            --count_;
            clear_cache();
        }
        return removed;
    }

    // Subjects with an empty token ("foo..bar", ".foo", "foo.") match nothing, as in
    // nats-server, whatever the subscriptions.
    const MatchResult& match(std::string_view subject) {
        ++matches_;
        // A publisher mostly publishes to the subject it published to last: that result is
        // found without hashing.
        if (last_ != nullptr && subject == last_subject_) {
            ++cache_hits_;
            return *last_;
        }
        const uint64_t hash = base::StringHash{}(subject);
        auto it = cache_.find(subject, hash);
        if (it != cache_.end()) {
            ++cache_hits_;
            return remember(*it);
        }
        // A subject is cached the second time it misses. Most subjects seen once are seen only
        // once (every PubAck and reply goes to its own inbox): caching them would cost an
        // allocation each and evict the subjects that do repeat.
        uint64_t& seen = seen_[hash % kSeenSlots];
        MatchResult* result = &scratch_;
        if (seen == hash && cached_) {
            if (cache_.size() >= kCacheEntriesMax) {
                // Evict a quarter (in the table's own, arbitrary order) rather than clear:
                // clear() frees the table, which then regrows from nothing.
                size_t evict = kCacheEntriesMax / 4;
                for (auto at = cache_.begin(); at != cache_.end() && evict > 0; --evict) cache_.erase(at++);
            }
            result = &remember(*cache_.try_emplace(std::string(subject)).first);
        } else {
            last_ = nullptr;
            seen = hash;
            scratch_.plain.clear();
            scratch_.queues.clear();
        }
        if (!has_empty_token(subject)) match_level(root_.get(), subject, *result);
        return *result;
    }

    size_t count() const { return count_; }

    // nats-server's sublist statistics: matches and how many the cache answered, and the
    // fan-out (subscribers plus queue groups) of the results cached now.
    struct Stats {
        uint64_t matches = 0;
        uint64_t cache_hits = 0;
        uint64_t cached = 0;
        uint64_t fanout_total = 0;
        uint64_t fanout_max = 0;
    };
    Stats stats() const {
        Stats out{.matches = matches_, .cache_hits = cache_hits_, .cached = cache_.size()};
        for (const auto& [subject, result] : cache_) {
            uint64_t fanout = result.plain.size() + result.queues.size();
            out.fanout_total += fanout;
            out.fanout_max = std::max(out.fanout_max, fanout);
        }
        return out;
    }

private:
    struct Level;
    struct Node {
        std::unique_ptr<Level> next;
        std::vector<T*> plain;
        base::StringMap<std::vector<T*>> queues;
    };
    struct Level {
        base::StringMap<std::unique_ptr<Node>> literal;
        std::unique_ptr<Node> star;  // '*'
        std::unique_ptr<Node> tail;  // '>'
    };

    void clear_cache() {
        cache_.clear();
        last_ = nullptr;
    }
    // The cache entry match() returns, kept as the last result: valid until the cache changes
    // (an insert or remove clears it; a new entry replaces it).
    MatchResult& remember(std::pair<const std::string, MatchResult>& entry) {
        last_subject_ = entry.first;
        last_ = &entry.second;
        return entry.second;
    }

    static bool erase_one(std::vector<T*>& list, T* subscriber) {
        auto it = std::find(list.begin(), list.end(), subscriber);
        if (it == list.end()) return false;
        *it = list.back();
        list.pop_back();
        return true;
    }

    Node* find_node(std::string_view subject, bool create) {
        Level* level = root_.get();
        Node* node = nullptr;
        while (true) {
            size_t dot = subject.find('.');
            std::string_view token = subject.substr(0, dot);
            std::unique_ptr<Node>* slot;
            if (token == "*") {
                slot = &level->star;
            } else if (token == ">") {
                slot = &level->tail;
            } else {
                auto it = level->literal.find(token);
                if (it == level->literal.end()) {
                    if (!create) return nullptr;
                    it = level->literal.emplace(std::string(token), nullptr).first;
                }
                slot = &it->second;
            }
            if (*slot == nullptr) {
                if (!create) return nullptr;
                *slot = std::make_unique<Node>();
            }
            node = slot->get();
            if (dot == std::string_view::npos) return node;
            subject.remove_prefix(dot + 1);
            if (node->next == nullptr) {
                if (!create) return nullptr;
                node->next = std::make_unique<Level>();
            }
            level = node->next.get();
        }
    }

    static bool node_empty(const Node* node) {
        return node->plain.empty() && node->queues.empty() && node->next == nullptr;
    }
    static bool level_empty(const Level* level) {
        return level->literal.empty() && level->star == nullptr && level->tail == nullptr;
    }

    static void remove_in(Level* level, std::string_view subject, std::string_view queue,
                          T* subscriber, bool& removed) {
        size_t dot = subject.find('.');
        std::string_view token = subject.substr(0, dot);
        std::unique_ptr<Node>* slot = nullptr;
        auto literal = level->literal.end();
        if (token == "*") {
            slot = &level->star;
        } else if (token == ">") {
            slot = &level->tail;
        } else {
            literal = level->literal.find(token);
            if (literal == level->literal.end()) return;
            slot = &literal->second;
        }
        Node* node = slot->get();
        if (node == nullptr) return;
        if (dot == std::string_view::npos) {
            if (queue.empty()) {
                removed = erase_one(node->plain, subscriber);
            } else if (auto group = node->queues.find(queue); group != node->queues.end()) {
                removed = erase_one(group->second, subscriber);
                if (group->second.empty()) node->queues.erase(group);
            }
        } else if (node->next != nullptr) {
            remove_in(node->next.get(), subject.substr(dot + 1), queue, subscriber, removed);
            if (level_empty(node->next.get())) node->next.reset();
        }
        if (!node_empty(node)) return;
        if (slot == &level->star || slot == &level->tail) {
            slot->reset();
        } else {
            level->literal.erase(literal);
        }
    }

    static void add_node(const Node* node, MatchResult& result) {
        result.plain.insert(result.plain.end(), node->plain.begin(), node->plain.end());
        for (const auto& [name, members] : node->queues) {
            auto group = std::find_if(result.queues.begin(), result.queues.end(),
                                      [&](const QueueGroup& g) { return g.name == name; });
            if (group == result.queues.end()) {
                result.queues.push_back({name, queue_id(name), members});
            } else {
                group->members.insert(group->members.end(), members.begin(), members.end());
            }
        }
    }

    static bool has_empty_token(std::string_view subject) {
        return subject.empty() || subject.front() == '.' || subject.back() == '.' ||
               subject.find("..") != std::string_view::npos;
    }

    // Matches the literal `subject` against `level`, recursing for '*' (one token) and
    // collecting '>' (the rest, at least one token). The order of results follows
    // nats-server's matchLevel: '>' nodes as they are passed, then at the last token the
    // literal node before the '*' node.
    static void match_level(const Level* level, std::string_view subject, MatchResult& result) {
        while (level != nullptr) {
            size_t dot = subject.find('.');
            std::string_view token = subject.substr(0, dot);
            bool last = dot == std::string_view::npos;
            std::string_view rest = last ? std::string_view{} : subject.substr(dot + 1);
            if (level->tail != nullptr) add_node(level->tail.get(), result);
            const Node* star = level->star.get();
            if (star != nullptr && !last) match_level(star->next.get(), rest, result);
            auto it = level->literal.find(token);
            const Node* node = it == level->literal.end() ? nullptr : it->second.get();
            if (last) {
                if (node != nullptr) add_node(node, result);
                if (star != nullptr) add_node(star, result);
                return;
            }
            if (node == nullptr) return;
            level = node->next.get();
            subject = rest;
        }
    }

    std::unique_ptr<Level> root_;
    bool cached_;
    base::StringMap<MatchResult> cache_;
    uint64_t matches_ = 0;
    uint64_t cache_hits_ = 0;
    std::array<uint64_t, kSeenSlots> seen_{};  // hashes of subjects that missed the cache once
    MatchResult scratch_;                        // the result of a subject not cached
    // The last result match() returned from the cache, and its subject (the cache's key).
    MatchResult* last_ = nullptr;
    std::string_view last_subject_;
    size_t count_ = 0;
};

}  // namespace ringtail::core
