// The uptime form of the monitoring endpoints (uptime, idle); rtt is Go's time.Duration.String(),
// tested with proto::js::go_duration.
#include <gtest/gtest.h>

#include "core/monitor/monitor.h"

namespace ringtail::core::monitor {
namespace {

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
