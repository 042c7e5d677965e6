#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include <absl/container/inlined_vector.h>

#include "base/string_map.h"
#include "core/js/consumer.h"
#include "core/route/sublist.h"
#include "proto/subject.h"

namespace ringtail::core::js {

// A stream's consumers by the subjects they want, so that a message stored or removed reaches
// only the consumers it concerns (as nats-server's stream keeps its consumers' filters in a
// sublist): a consumer whose filters are all literal is listed under each of them, one with a
// single wildcard filter is kept in a subject trie, the rest (no filter, or several with a
// wildcard among them) are asked one by one. Thousands of consumers on single keys (KV
// watchers) or on their own wildcard subtrees then cost a message a lookup or a trie walk
// instead of one call each.
// A consumer is indexed with the filters it has when added: remove it before they change.
class ConsumerIndex {
public:
    void add(Consumer& consumer) {
        if (const std::string* filter = single_wildcard(consumer)) {
            wildcard_.insert(*filter, {}, &consumer);
            return;
        }
        if (!all_literal(consumer)) {
            others_.push_back(&consumer);
            return;
        }
        for_each_filter(consumer, [&](const std::string& filter) { literal_[filter].push_back(&consumer); });
    }

    void remove(Consumer& consumer) {
        if (const std::string* filter = single_wildcard(consumer)) {
            wildcard_.remove(*filter, {}, &consumer);
            return;
        }
        if (!all_literal(consumer)) {
            std::erase(others_, &consumer);
            return;
        }
        for_each_filter(consumer, [&](const std::string& filter) {
            auto it = literal_.find(filter);
            if (it == literal_.end()) return;
            std::erase(it->second, &consumer);
            if (it->second.empty()) literal_.erase(it);
        });
    }

    // Calls `f` for each consumer that wants `subject`; `f` must not add or remove consumers.
    template <typename F>
    void for_each_wanting(std::string_view subject, F&& f) {
        for (Consumer* consumer : wanting(subject)) f(*consumer);
    }

    template <typename F>
    bool any_wanting(std::string_view subject, F&& f) {
        auto found = wanting(subject);
        return std::any_of(found.begin(), found.end(), [&](Consumer* consumer) { return f(*consumer); });
    }

private:
    // A copy: what `f` does may match again, which reuses the trie's result.
    absl::InlinedVector<Consumer*, 8> wanting(std::string_view subject) {
        absl::InlinedVector<Consumer*, 8> found;
        if (auto it = literal_.empty() ? literal_.end() : literal_.find(subject); it != literal_.end()) {
            found.insert(found.end(), it->second.begin(), it->second.end());
        }
        if (wildcard_.count() > 0) {
            const auto& matched = wildcard_.match(subject).plain;
            found.insert(found.end(), matched.begin(), matched.end());
        }
        for (Consumer* consumer : others_) {
            if (consumer->wants_subject(subject)) found.push_back(consumer);
        }
        return found;
    }

    template <typename F>
    static void for_each_filter(const Consumer& consumer, F&& f) {
        const proto::js::ConsumerConfig& config = consumer.config();
        if (config.filter_subjects.empty()) {
            f(config.filter_subject);
        } else {
            for (const std::string& filter : config.filter_subjects) f(filter);
        }
    }

    // The filter of a consumer that has one, with a wildcard; null otherwise.
    static const std::string* single_wildcard(const Consumer& consumer) {
        const proto::js::ConsumerConfig& config = consumer.config();
        const std::string* filter = config.filter_subjects.empty()       ? &config.filter_subject
                                    : config.filter_subjects.size() == 1 ? &config.filter_subjects.front()
                                                                         : nullptr;
        if (filter == nullptr || filter->empty() || proto::is_valid_literal_subject(*filter)) return nullptr;
        return filter;
    }

    static bool all_literal(const Consumer& consumer) {
        bool literal = true;
        for_each_filter(consumer, [&](const std::string& filter) {
            literal = literal && !filter.empty() && proto::is_valid_literal_subject(filter);
        });
        return literal;
    }

    base::StringMap<std::vector<Consumer*>> literal_;
    core::Sublist<Consumer> wildcard_;
    std::vector<Consumer*> others_;
};

}  // namespace ringtail::core::js
