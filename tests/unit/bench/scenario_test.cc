// End-to-end runs of the harness against its fake server: a clean server passes, and a server
// that drops, duplicates or disconnects on purpose fails the run with the right verdict.
#include <gtest/gtest.h>

#include "bench/harness/fake_server.h"
#include "bench/harness/report.h"
#include "bench/harness/runner.h"

namespace ringtail::bench {
namespace {

Options quick(const std::string& scenario, const FakeServer& server) {
    Options options;
    options.scenario = scenario;
    options.url = server.url();
    options.count = 20'000;
    options.size_bytes = 32;
    options.duration_s = 5;
    options.drain_timeout_s = 0.5;
    options.progress = 0;
    return options;
}

RunResult run(FakeServer::Config config, const std::string& scenario,
              void (*adjust)(Options&) = nullptr) {
    FakeServer server(config);
    EXPECT_TRUE(server.start().has_value());
    Options options = quick(scenario, server);
    if (adjust != nullptr) adjust(options);
    return run_scenario(options);
}

TEST(Scenario, PubsubAgainstACorrectServerPasses) {
    RunResult result = run({}, "pubsub", [](Options& o) {
        o.pubs = 2;
        o.subs = 2;
    });
    ASSERT_EQ(result.status, RunStatus::kOk) << result.message;
    EXPECT_EQ(result.sent, 20'000u);
    EXPECT_EQ(result.received, 40'000u);
    ASSERT_NE(result.headline(), nullptr);
    EXPECT_EQ(result.headline()->label, "delivered");
    EXPECT_EQ(result.latencies.at(0).histogram.count(), 40'000u);
    // The client's CPU time is measured (here the fake server's, in this process, with it).
    EXPECT_GT(result.client_cpu_s, 0);
    EXPECT_GT(result.client_cpu_us_per_msg(), 0);
    EXPECT_DOUBLE_EQ(result.client_cpu_us_per_msg(), result.client_cpu_s * 1e6 / 40'000);
}

TEST(Scenario, DroppedMessagesAreLossNotALowerRate) {
    RunResult result = run({.drop_every = 1000}, "pubsub");
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("LOSS"), std::string::npos) << result.message;
    EXPECT_TRUE(result.rates.empty());
}

TEST(Scenario, DroppingOnlyTheLastMessageIsStillLoss) {
    // No gap to notice: only the drain timeout can tell.
    RunResult result = run({.drop_every = 20'000}, "pubsub");
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("LOSS"), std::string::npos) << result.message;
}

TEST(Scenario, LossIsCaughtEvenWithoutStamps) {
    RunResult result = run({.drop_every = 5000}, "pubsub", [](Options& o) { o.size_bytes = 4; });
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("LOSS"), std::string::npos) << result.message;
}

TEST(Scenario, LibnatsWithSeveralPublishersOfPayloadsTooSmallForAStampFinishes) {
    // Nothing says which publisher such a message came from: the window still opens.
    RunResult result = run({}, "pubsub", [](Options& o) {
        o.client = "libnats";
        o.pubs = 3;
        o.subs = 2;
        o.size_bytes = 4;
        o.window = 64;
    });
    ASSERT_EQ(result.status, RunStatus::kOk) << result.message;
    EXPECT_EQ(result.received, 40'000u);
}

TEST(Scenario, FanoutLossAtOneSubscriberFails) {
    RunResult result = run({.drop_every = 7919}, "fanout");
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("LOSS"), std::string::npos) << result.message;
}

TEST(Scenario, QueueGroupDeliversExactlyOnce) {
    RunResult result = run({}, "queue", [](Options& o) {
        o.pubs = 2;
        o.subs = 3;
    });
    ASSERT_EQ(result.status, RunStatus::kOk) << result.message;
    EXPECT_EQ(result.received, 20'000u);
}

TEST(Scenario, QueueGroupDuplicateFails) {
    RunResult result = run({.duplicate_every = 5000}, "queue");
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("DUPLICATE"), std::string::npos) << result.message;
}

TEST(Scenario, QueueGroupLossFails) {
    RunResult result = run({.drop_every = 3000}, "queue");
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("LOSS"), std::string::npos) << result.message;
}

TEST(Scenario, ServerDisconnectingASubscriberFailsTheRun) {
    RunResult result = run({.disconnect_after = 5000}, "pubsub");
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("closed"), std::string::npos) << result.message;
}

TEST(Scenario, PubCountsAreConfirmedByThePong) {
    FakeServer server({});
    ASSERT_TRUE(server.start().has_value());
    Options options = quick("pub", server);
    options.pubs = 3;
    RunResult result = run_scenario(options);
    ASSERT_EQ(result.status, RunStatus::kOk) << result.message;
    EXPECT_EQ(result.sent, 20'000u);
    EXPECT_EQ(server.published(), 20'000u);
}

TEST(Scenario, RequestReplyAnswersEveryRequest) {
    RunResult result = run({}, "reqrep", [](Options& o) {
        o.pubs = 3;
        o.window = 4;
        o.count = 3000;
    });
    ASSERT_EQ(result.status, RunStatus::kOk) << result.message;
    EXPECT_EQ(result.received, 3000u);
    EXPECT_EQ(result.latencies.at(0).histogram.count(), 3000u);
}

TEST(Scenario, RespondersConnectToTheResponderUrl) {
    // Responders on another server never see the requests: the run fails as loss, which shows
    // where they connected.
    FakeServer elsewhere({});
    ASSERT_TRUE(elsewhere.start().has_value());
    static std::string responder_url;
    responder_url = elsewhere.url();
    RunResult result = run({}, "reqrep", [](Options& o) {
        o.count = 200;
        o.responder_url = responder_url;
    });
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("LOSS"), std::string::npos) << result.message;
}

TEST(Scenario, RequestReplyLossFails) {
    RunResult result = run({.drop_every = 500}, "reqrep", [](Options& o) { o.count = 2000; });
    ASSERT_EQ(result.status, RunStatus::kFailed);
    EXPECT_NE(result.message.find("LOSS"), std::string::npos) << result.message;
}

TEST(Scenario, FixedRateRunsReportCoordinatedOmissionCorrectedLatency) {
    RunResult result = run({}, "pubsub", [](Options& o) {
        o.rate = 20'000;
        o.count = 4000;
    });
    ASSERT_EQ(result.status, RunStatus::kOk) << result.message;
    ASSERT_EQ(result.latencies.size(), 3u);
    EXPECT_NE(result.latencies[1].label.find("CO-corrected"), std::string::npos);
    EXPECT_NE(result.latencies[2].label.find("harness send lag"), std::string::npos);
    EXPECT_EQ(result.latencies[2].histogram.count(), 4000u);
    // Measured from the intended send time, latency can only grow.
    EXPECT_GE(result.latencies[1].histogram.quantile(0.5), result.latencies[0].histogram.quantile(0.5));
    // At 20k msgs/s, 4000 messages take at least 0.2 s of publishing.
    EXPECT_GE(result.rates.at(0).seconds, 0.19);
}

TEST(Scenario, JetStreamScenariosSayWhenJetStreamIsMissing) {
    RunResult result = run({}, "js-pub");
    EXPECT_EQ(result.status, RunStatus::kSkipped);
    EXPECT_NE(result.message.find("JetStream not available"), std::string::npos);
    EXPECT_NE(format_table(result).find("SKIPPED"), std::string::npos);
}

TEST(Scenario, ConsumeScenariosSayWhenJetStreamIsMissingWithEitherClient) {
    for (const char* scenario : {"js-consume", "js-push"}) {
        for (const char* client : {"ringtail-bench", "libnats"}) {
            FakeServer server({});
            ASSERT_TRUE(server.start().has_value());
            Options options = quick(scenario, server);
            options.client = client;
            options.live = true;
            RunResult result = run_scenario(options);
            EXPECT_EQ(result.status, RunStatus::kSkipped) << scenario << " " << client;
            EXPECT_NE(result.message.find("JetStream not available"), std::string::npos);
        }
    }
}

TEST(Scenario, TimeBoundStopsPublishingAndStillChecksEverything) {
    RunResult result = run({}, "pubsub", [](Options& o) {
        o.count = 1'000'000'000;
        o.duration_s = 0.3;
        // Up to 32 MiB may be in flight when publishing stops; on a busy machine the fake
        // server can take longer than quick()'s half second to deliver it all.
        o.drain_timeout_s = 5;
    });
    ASSERT_EQ(result.status, RunStatus::kOk) << result.message;
    EXPECT_LT(result.sent, 1'000'000'000u);
    EXPECT_EQ(result.received, result.sent);
}

}  // namespace
}  // namespace ringtail::bench
