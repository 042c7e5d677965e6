// io/listener's parse_host_port: nats-server's parseHostPort over Go's net.SplitHostPort.
#include "io/listener.h"

#include <gtest/gtest.h>

namespace ringtail::io {
namespace {

TEST(ParseHostPort, SplitsAsGoDoes) {
    auto plain = parse_host_port("adv.example.com:4444", 4222);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->host, "adv.example.com");
    EXPECT_EQ(plain->port, 4444);
    auto bare = parse_host_port("adv.example.com", 4222);  // no port: the listener's
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->port, 4222);
    auto zero = parse_host_port("h:0", 4222);  // 0 and -1 too
    ASSERT_TRUE(zero);
    EXPECT_EQ(zero->port, 4222);
    auto v6 = parse_host_port("[::1]:5000", 4222);
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 5000);
    auto v6_bare = parse_host_port("[::1]", 4222);
    ASSERT_TRUE(v6_bare);
    EXPECT_EQ(v6_bare->port, 4222);
}

TEST(ParseHostPort, RefusesWhatGoRefuses) {
    auto url = parse_host_port("nats://a:4222", 4222);
    ASSERT_FALSE(url);
    EXPECT_EQ(url.error().text, "address nats://a:4222: too many colons in address");
    auto word = parse_host_port("a:port", 4222);
    ASSERT_FALSE(word);
    EXPECT_EQ(word.error().text, "strconv.Atoi: parsing \"port\": invalid syntax");
    EXPECT_FALSE(parse_host_port("", 4222));
}

}  // namespace
}  // namespace ringtail::io
