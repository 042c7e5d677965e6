// What a SIGHUP may change: nats-server's reloadable options go into the plan with its
// "Reloaded: ..." lines; anything else is its error and nothing is applied.
#include <gtest/gtest.h>

#include "core/server/reload.h"

namespace ringtail::core {
namespace {

using config::Options;

TEST(Reload, ReloadableOptionsMakeThePlan) {
    Options now;
    Options fresh = now;
    fresh.debug = true;
    fresh.password = "new";
    fresh.max_payload_bytes = 2048;
    fresh.ping_interval = std::chrono::seconds(90);
    fresh.cluster_name = "east";
    fresh.auth_timeout = std::chrono::milliseconds(500);
    auto plan = plan_reload(now, fresh);
    ASSERT_TRUE(plan) << plan.error().text;
    EXPECT_TRUE(plan->logging);
    EXPECT_TRUE(plan->auth);
    // In the order of nats-server's Options fields, users and accounts always among them.
    EXPECT_EQ(plan->lines,
              (std::vector<std::string>{"Reloaded: debug = true", "Reloaded: authorization users", "Reloaded: accounts",
                                        "Reloaded: authorization password", "Reloaded: ping_interval = 1m30s",
                                        "Reloaded: authorization timeout = 0.5", "Reloaded: max_payload = 2048",
                                        "Reloaded: cluster"}));
}

TEST(Reload, NothingChangedReloadsOnlyUsersAndAccounts) {
    Options now;
    auto plan = plan_reload(now, now);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->lines, (std::vector<std::string>{"Reloaded: authorization users", "Reloaded: accounts"}));
    EXPECT_FALSE(plan->logging || plan->auth);
}

TEST(Reload, FixedOptionsAreRefusedWithNatsServersError) {
    Options now;
    Options fresh = now;
    fresh.port = 4333;
    fresh.debug = true;
    auto plan = plan_reload(now, fresh);
    ASSERT_FALSE(plan);
    EXPECT_EQ(plan.error().text, "config reload not supported for Port: old=4222, new=4333");
    fresh = now;
    fresh.lame_duck_duration = std::chrono::seconds(45);
    EXPECT_EQ(plan_reload(now, fresh).error().text,
              "config reload not supported for LameDuckDuration: old=2m0s, new=45s");
    fresh = now;
    fresh.no_sublist_cache = true;
    EXPECT_EQ(plan_reload(now, fresh).error().text,
              "config reload not supported for NoSublistCache: old=false, new=true");
    fresh = now;
    fresh.jetstream_limits.max_ack_pending = 100;
    fresh.jetstream_limits.duplicate_window = std::chrono::seconds(90);
    EXPECT_EQ(plan_reload(now, fresh).error().text,
              "config reload not supported for JetStreamLimits: old={0 0 0 0s}, new={0 100 0 1m30s}");
    // Of several, the first of nats-server's fields is named.
    fresh = now;
    fresh.port = 4333;
    fresh.server_name = "renamed";
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for ServerName: old=, new=renamed");
    // The JetStream store in nats-server's words: a directory moved, or dropped (a temporary one).
    fresh = now;
    fresh.store_dir = "/elsewhere";
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for jetstream storage directory");
    now.store_dir = "/here";
    fresh.store_dir = "";
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for jetstream storage dir");
    // A limit set where it was derived, changed, or dropped.
    fresh = now;
    fresh.max_file_store_bytes = 1 << 30;
    EXPECT_EQ(plan_reload(now, fresh).error().text,
              "config reload not supported for jetstream dynamic max memory and store");
    now.max_file_store_bytes = 1 << 30;
    fresh.max_file_store_bytes = 1 << 20;
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for jetstream max memory and store");
    fresh.max_file_store_bytes = -1;
    EXPECT_EQ(plan_reload(now, fresh).error().text,
              "config reload not supported for jetstream max memory and max store");
}

// The stand-in no_auth_user of a server whose only account is the system account is no
// configured one: naming that account the system account is refused as that, not as it.
TEST(Reload, TheSystemOnlyStandInIsNoNoAuthUser) {
    Options now;
    now.accounts = {"SYS"};
    Options fresh = now;
    fresh.system_account = "SYS";
    fresh.no_auth_user = std::string(config::kSystemOnlyNoAuthUser);
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for SystemAccount: old=, new=SYS");
}

TEST(Reload, AnAccountsJetStreamStaysAsItStarted) {
    Options now;
    now.accounts = {"A", "B"};
    now.account_jetstream = {{.account = "B"}};
    Options fresh = now;
    fresh.account_jetstream[0].max_streams = 3;
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for account jetstream");
    fresh = now;
    fresh.account_jetstream.clear();
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for account jetstream");
    // B would be known by another number.
    fresh = now;
    fresh.accounts = {"B", "A"};
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for account jetstream");
    // A new account after the others leaves B where it is.
    fresh = now;
    fresh.accounts = {"A", "B", "C"};
    EXPECT_TRUE(plan_reload(now, fresh));
    // Account limits and the system account stay as they started too.
    fresh = now;
    fresh.account_limits = {{.account = "A", .max_connections = 1}};
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for account limits");
    fresh = now;
    fresh.system_account = "A";
    EXPECT_EQ(plan_reload(now, fresh).error().text, "config reload not supported for SystemAccount: old=, new=A");
}

}  // namespace
}  // namespace ringtail::core
