#include "bench/harness/options.h"

#include <gtest/gtest.h>

#include <vector>

namespace ringtail::bench {
namespace {

Expected<Options> parse(std::string_view scenario, std::vector<std::string_view> args) {
    return parse_options(scenario, args);
}

TEST(Options, CountsAndSizesTakeSuffixes) {
    EXPECT_EQ(parse_count("10k").value(), 10'000u);
    EXPECT_EQ(parse_count("2M").value(), 2'000'000u);
    EXPECT_EQ(parse_bytes("1KiB").value(), 1024u);
    EXPECT_EQ(parse_bytes("64k").value(), 65536u);
    EXPECT_FALSE(parse_count("12x").has_value());
    EXPECT_FALSE(parse_count("").has_value());
}

TEST(Options, CpuListsExpandRanges) {
    EXPECT_EQ(parse_cpu_list("0,2-4").value(), (std::vector<int>{0, 2, 3, 4}));
    EXPECT_FALSE(parse_cpu_list("3-1").has_value());
    EXPECT_FALSE(parse_cpu_list("a").has_value());
}

TEST(Options, FlagsParseWithSpaceOrEquals) {
    auto options = parse("pubsub", {"--size", "1KiB", "--count=5k", "--pubs", "3", "--subs=2",
                                    "--cpus", "0-1", "--rate", "1000", "--json"});
    ASSERT_TRUE(options.has_value()) << options.error();
    EXPECT_EQ(options->size_bytes, 1024u);
    EXPECT_EQ(options->count, 5000u);
    EXPECT_EQ(options->pubs, 3);
    EXPECT_EQ(options->subs, 2);
    EXPECT_EQ(options->cpus, (std::vector<int>{0, 1}));
    EXPECT_EQ(options->rate, 1000.0);
    EXPECT_TRUE(options->json);
}

TEST(Options, UnknownFlagIsAnError) {
    auto options = parse("pub", {"--bogus"});
    ASSERT_FALSE(options.has_value());
    EXPECT_NE(options.error().find("unknown flag --bogus"), std::string::npos);
}

TEST(Options, KvHistoryIsOneToSixtyFour) {
    Options kv = parse("kv", {}).value();
    ASSERT_TRUE(resolve_defaults(kv).has_value());
    EXPECT_EQ(kv.history, 1u);
    Options five = parse("kv", {"--history", "5"}).value();
    ASSERT_TRUE(resolve_defaults(five).has_value());
    EXPECT_EQ(five.history, 5u);
    for (std::string_view bad : {"0", "65"}) {
        Options options = parse("kv", {"--history", bad}).value();
        EXPECT_FALSE(resolve_defaults(options).has_value()) << bad;
    }
}

TEST(Options, DefaultsDependOnTheScenario) {
    Options fanout = parse("fanout", {}).value();
    ASSERT_TRUE(resolve_defaults(fanout).has_value());
    EXPECT_EQ(fanout.pubs, 1);
    EXPECT_EQ(fanout.subs, 4);
    EXPECT_GT(fanout.window, 0);

    Options reqrep = parse("reqrep", {}).value();
    ASSERT_TRUE(resolve_defaults(reqrep).has_value());
    EXPECT_EQ(reqrep.window, 1);

    Options js = parse("js-pub", {"--sync"}).value();
    ASSERT_TRUE(resolve_defaults(js).has_value());
    EXPECT_EQ(js.window, 1);
}

TEST(Options, QueueNeedsAStampToCheckExactlyOnce) {
    Options queue = parse("queue", {"--size", "4"}).value();
    auto status = resolve_defaults(queue);
    ASSERT_FALSE(status.has_value());
    EXPECT_NE(status.error().find("--size >= 8"), std::string::npos);
}

TEST(Options, PubHasNoSubscribersAndFanoutOnePublisher) {
    Options pub = parse("pub", {"--subs", "1"}).value();
    EXPECT_FALSE(resolve_defaults(pub).has_value());
    Options fanout = parse("fanout", {"--pubs", "2"}).value();
    EXPECT_FALSE(resolve_defaults(fanout).has_value());
}

TEST(Options, JsPushHasExactlyOneConsumer) {
    Options push = parse("js-push", {}).value();
    ASSERT_TRUE(resolve_defaults(push).has_value());
    EXPECT_EQ(push.subs, 1);
    EXPECT_EQ(push.pubs, 0);
    EXPECT_EQ(push.window, 1024);
    EXPECT_TRUE(is_jetstream_scenario("js-push"));
    Options two = parse("js-push", {"--consumers", "2"}).value();
    auto status = resolve_defaults(two);
    ASSERT_FALSE(status.has_value());
    EXPECT_NE(status.error().find("exactly one consumer"), std::string::npos);
}

TEST(Options, LiveRunsPublishersBesideTheConsumers) {
    for (std::string_view scenario : {"js-consume", "js-push"}) {
        Options live = parse(scenario, {"--live", "--rate", "20k"}).value();
        ASSERT_TRUE(resolve_defaults(live).has_value()) << scenario;
        EXPECT_TRUE(live.live);
        EXPECT_EQ(live.pubs, 1) << scenario;
        EXPECT_EQ(live.rate, 20'000.0);
        Options none = parse(scenario, {"--live", "--pubs", "0"}).value();
        EXPECT_FALSE(resolve_defaults(none).has_value()) << scenario;
    }
    Options consume = parse("js-consume", {}).value();
    ASSERT_TRUE(resolve_defaults(consume).has_value());
    EXPECT_FALSE(consume.live);
    EXPECT_EQ(consume.pubs, 0);
    for (std::string_view scenario : {"pubsub", "js-pub", "kv"}) {
        Options other = parse(scenario, {"--live"}).value();
        auto status = resolve_defaults(other);
        ASSERT_FALSE(status.has_value()) << scenario;
        EXPECT_NE(status.error().find("--live is for js-consume and js-push"), std::string::npos);
    }
}

TEST(Options, AResponderUrlIsForReqrepWithTheHarnessOwnClient) {
    Options reqrep = parse("reqrep", {"--responder-url", "nats://s:s@127.0.0.1:4222"}).value();
    ASSERT_TRUE(resolve_defaults(reqrep).has_value());
    EXPECT_EQ(reqrep.responder_url, "nats://s:s@127.0.0.1:4222");
    Options pubsub = parse("pubsub", {"--responder-url", "nats://127.0.0.1:4222"}).value();
    EXPECT_EQ(resolve_defaults(pubsub).error(), "--responder-url is for reqrep");
    Options libnats = parse("reqrep", {"--responder-url", "nats://127.0.0.1:4222", "--client", "libnats"}).value();
    EXPECT_EQ(resolve_defaults(libnats).error(), "--responder-url works with the harness's own client only");
}

TEST(Options, LibnatsDrivesTheConsumeScenariosButNotJsPubOrKv) {
    for (std::string_view scenario : {"pubsub", "js-consume", "js-push"}) {
        Options options = parse(scenario, {"--client", "libnats"}).value();
        EXPECT_TRUE(resolve_defaults(options).has_value()) << scenario;
    }
    for (std::string_view scenario : {"js-pub", "kv"}) {
        Options options = parse(scenario, {"--client", "libnats"}).value();
        EXPECT_FALSE(resolve_defaults(options).has_value()) << scenario;
    }
}

TEST(Options, NatsGoDrivesTheCoreScenariosJsPubAndKvOnly) {
    for (std::string_view scenario : {"pub", "pubsub", "fanout", "queue", "reqrep", "js-pub", "kv"}) {
        Options options = parse(scenario, {"--client", "nats.go"}).value();
        EXPECT_TRUE(resolve_defaults(options).has_value()) << scenario;
    }
    for (std::string_view scenario : {"js-consume", "js-push"}) {
        Options options = parse(scenario, {"--client", "nats.go"}).value();
        EXPECT_FALSE(resolve_defaults(options).has_value()) << scenario;
    }
    Options paced = parse("pubsub", {"--client", "nats.go", "--rate", "1000"}).value();
    EXPECT_FALSE(resolve_defaults(paced).has_value());
    EXPECT_FALSE(parse("pubsub", {"--client", "nats.js"}).has_value());
}

TEST(Options, HelpNamesTheConsumeScenariosAndLive) {
    const std::string help = usage_text();
    EXPECT_NE(help.find("js-push"), std::string::npos);
    EXPECT_NE(help.find("--live"), std::string::npos);
    for (std::string_view scenario : kScenarios) {
        EXPECT_NE(help.find("  " + std::string(scenario) + " "), std::string::npos) << scenario;
    }
}

}  // namespace
}  // namespace ringtail::bench
