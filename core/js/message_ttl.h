#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ringtail::core::js {

// A Nats-TTL header's value as nats-server 2.11 reads it: "never" (any case) is kTtlNever; a Go
// duration must be at least 1s and counts in whole seconds; else a plain number of seconds,
// where 0 means no TTL. nullopt: invalid.
inline constexpr int64_t kTtlNever = -1;
[[nodiscard]] std::optional<int64_t> parse_message_ttl(std::string_view text);

// When a stream's messages with a per-message TTL (allow_msg_ttl) expire.
// Owner: the stream; entries of messages removed otherwise stay until they come due and are
// then passed over by the caller.
class MessageTtls {
public:
    // Message `seq`, stored at `timestamp_ns`, with a TTL of `ttl_s` (> 0, or kTtlNever).
    void add(uint64_t seq, int64_t timestamp_ns, int64_t ttl_s);
    // As add() with the TTL of `headers`' Nats-TTL; none or an invalid one is not noted.
    void note(uint64_t seq, int64_t timestamp_ns, std::string_view headers);
    // Whether message `seq` never expires (max_age passes over it).
    bool never(uint64_t seq) const { return !never_.empty() && never_.contains(seq); }
    bool any_never() const { return !never_.empty(); }
    void forget(uint64_t seq) { never_.erase(seq); }
    // Forgets the never-expiring messages `gone` says are no longer stored.
    template <class Gone>
    void forget_if(Gone gone) {
        std::erase_if(never_, gone);
    }
    // Hands each message due at `now_ns` to `expire`, soonest first, until it returns false
    // (that message stays due).
    void take_due(int64_t now_ns, const std::function<bool(uint64_t seq)>& expire);
    void clear();

private:
    using Due = std::pair<int64_t, uint64_t>;  // (expires at, seq)
    std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
    std::unordered_set<uint64_t> never_;
};

}  // namespace ringtail::core::js
