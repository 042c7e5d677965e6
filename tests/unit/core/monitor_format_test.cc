// The duration texts of the monitoring endpoints: Go's time.Duration.String() (rtt) and
// nats-server's uptime form (uptime, idle).
#include <gtest/gtest.h>

#include "core/monitor/monitor.h"

namespace ringtail::core::monitor {
namespace {

TEST(MonitorFormat, GoDurationText) {
    EXPECT_EQ(Monitor::go_duration(0), "0s");
    EXPECT_EQ(Monitor::go_duration(350), "350ns");
    EXPECT_EQ(Monitor::go_duration(1'000), "1\u00b5s");
    EXPECT_EQ(Monitor::go_duration(2'300), "2.3\u00b5s");
    EXPECT_EQ(Monitor::go_duration(564'000), "564\u00b5s");
    EXPECT_EQ(Monitor::go_duration(2'285'298), "2.285298ms");
    EXPECT_EQ(Monitor::go_duration(1'500'000'000), "1.5s");
    EXPECT_EQ(Monitor::go_duration(60'000'000'000), "1m0s");
    EXPECT_EQ(Monitor::go_duration(3'723'000'000'000), "1h2m3s");
    EXPECT_EQ(Monitor::go_duration(3'600'000'000'001), "1h0m0.000000001s");
    EXPECT_EQ(Monitor::go_duration(-1'500'000), "-1.5ms");
}

TEST(MonitorFormat, UptimeText) {
    constexpr int64_t kSecond = 1'000'000'000;
    EXPECT_EQ(Monitor::uptime(0), "0s");
    EXPECT_EQ(Monitor::uptime(999'999'999), "0s");
    EXPECT_EQ(Monitor::uptime(59 * kSecond), "59s");
    EXPECT_EQ(Monitor::uptime(61 * kSecond), "1m1s");
    EXPECT_EQ(Monitor::uptime(3600 * kSecond), "1h0m0s");
    EXPECT_EQ(Monitor::uptime((86400 + 3661) * kSecond), "1d1h1m1s");
    EXPECT_EQ(Monitor::uptime((365 * 86400 + 86400) * kSecond), "1y1d0h0m0s");
    EXPECT_EQ(Monitor::uptime(-5), "0s");
}

}  // namespace
}  // namespace ringtail::core::monitor
