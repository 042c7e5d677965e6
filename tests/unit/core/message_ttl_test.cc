// The Nats-TTL header as nats-server 2.11 reads it, and the order messages come due in.
#include <gtest/gtest.h>

#include <vector>

#include "core/js/message_ttl.h"

namespace ringtail::core::js {
namespace {

TEST(MessageTtl, ParsesAsNatsServerDoes) {
    EXPECT_EQ(parse_message_ttl("never"), kTtlNever);
    EXPECT_EQ(parse_message_ttl("NeVeR"), kTtlNever);
    EXPECT_EQ(parse_message_ttl("1s"), 1);
    EXPECT_EQ(parse_message_ttl("1.9s"), 1);  // whole seconds
    EXPECT_EQ(parse_message_ttl("1m30s"), 90);
    EXPECT_EQ(parse_message_ttl("2h"), 7200);
    EXPECT_EQ(parse_message_ttl("5"), 5);      // not a duration: plain seconds
    EXPECT_EQ(parse_message_ttl("00"), 0);     // no TTL
    // A duration under a second, "0" (a valid duration) and anything else are invalid.
    for (const char* bad : {"0", "0s", "999ms", "-1s", "-1", "+5", "5x", "never ", "1 s", "", "99999999999999999999"}) {
        EXPECT_EQ(parse_message_ttl(bad), std::nullopt) << bad;
    }
}

TEST(MessageTtl, MessagesComeDueSoonestFirstAndNeverOnesNever) {
    constexpr int64_t kSecond = 1'000'000'000;
    MessageTtls ttls;
    ttls.add(1, 10 * kSecond, 5);
    ttls.add(2, 10 * kSecond, 1);
    ttls.add(3, 10 * kSecond, kTtlNever);
    ttls.note(4, 10 * kSecond, "NATS/1.0\r\nNats-TTL: 2s\r\n\r\n");
    ttls.note(5, 10 * kSecond, "NATS/1.0\r\nNats-TTL: soon\r\n\r\n");  // invalid: not noted
    ttls.add(6, 10 * kSecond, INT64_MAX / kSecond);                   // clamped, not overflowed
    EXPECT_TRUE(ttls.never(3));
    EXPECT_FALSE(ttls.never(1));
    std::vector<uint64_t> due;
    ttls.take_due(12 * kSecond, [&](uint64_t seq) {
        due.push_back(seq);
        return true;
    });
    EXPECT_EQ(due, (std::vector<uint64_t>{2, 4}));
    // A message its caller cannot expire yet stays due.
    due.clear();
    ttls.take_due(20 * kSecond, [&](uint64_t seq) {
        due.push_back(seq);
        return false;
    });
    ttls.take_due(20 * kSecond, [&](uint64_t seq) {
        due.push_back(seq);
        return true;
    });
    EXPECT_EQ(due, (std::vector<uint64_t>{1, 1}));
    ttls.forget(3);
    EXPECT_FALSE(ttls.any_never());
}

}  // namespace
}  // namespace ringtail::core::js
