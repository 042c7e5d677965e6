#include "core/js/message_ttl.h"

#include <charconv>
#include <limits>

#include "proto/config/conf.h"
#include "proto/headers.h"

namespace ringtail::core::js {

std::optional<int64_t> parse_message_ttl(std::string_view text) {
    constexpr int64_t kSecondNs = 1'000'000'000;
    if (text.size() == 5) {
        bool never = true;
        for (size_t i = 0; i < 5; ++i) never = never && (text[i] | 0x20) == "never"[i];
        if (never) return kTtlNever;
    }
    if (auto ns = config::parse_go_duration_ns(text); ns.ok()) {
        if (*ns < kSecondNs) return std::nullopt;
        return *ns / kSecondNs;
    }
    // Otherwise only digits (nats-server's parseInt64).
    int64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (text.empty() || text[0] == '-' || text[0] == '+' || ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return seconds;
}

void MessageTtls::add(uint64_t seq, int64_t timestamp_ns, int64_t ttl_s) {
    if (ttl_s == kTtlNever) {
        never_.insert(seq);
        return;
    }
    constexpr int64_t kSecondNs = 1'000'000'000;
    int64_t max = std::numeric_limits<int64_t>::max();
    int64_t expires = ttl_s > (max - timestamp_ns) / kSecondNs ? max : timestamp_ns + ttl_s * kSecondNs;
    due_.emplace(expires, seq);
}

void MessageTtls::note(uint64_t seq, int64_t timestamp_ns, std::string_view headers) {
    if (headers.empty()) return;
    auto text = proto::header_value(headers, "Nats-TTL");
    if (!text) return;
    if (auto ttl = parse_message_ttl(*text); ttl && *ttl != 0) add(seq, timestamp_ns, *ttl);
}

void MessageTtls::take_due(int64_t now_ns, const std::function<bool(uint64_t seq)>& expire) {
    while (!due_.empty() && due_.top().first <= now_ns) {
        if (!expire(due_.top().second)) return;
        due_.pop();
    }
}

void MessageTtls::clear() {
    due_ = {};
    never_.clear();
}

}  // namespace ringtail::core::js
