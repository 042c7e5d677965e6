// Per-message TTL (allow_msg_ttl, the Nats-TTL header) and subject delete markers
// (subject_delete_marker_ttl) through libnats: a message goes when its TTL is up, "never"
// outlives max_age, both survive a restart, a subject's last expired message leaves a marker
// that itself expires, and bad TTLs get nats-server 2.11's errors with nothing stored. These
// came in nats-server 2.11, so the tests run on Ringtail only (2.9 ignores the fields); the
// expected behaviour is read from nats-server's stream.go and filestore.go.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;

class JetStreamTtl : public JetStreamTest {
 protected:
    void SetUp() override {
        if (!testing_ringtail()) GTEST_SKIP() << "per-message TTLs came in nats-server 2.11";
        JetStreamTest::SetUp();
    }
    void create(const std::string& name, const std::string& config) {
        nlohmann::json created = api_request(nc(), "$JS.API.STREAM.CREATE." + name, config);
        ASSERT_FALSE(created.contains("error")) << created.dump();
    }
    PubOutcome publish_ttl(const std::string& subject, const std::string& ttl, std::string_view data = "x") {
        return publish_with_headers(js(), subject, data, {{"Nats-TTL", ttl}});
    }
    bool present(const std::string& stream, uint64_t seq) { return get_msg(js(), stream, seq) != nullptr; }
    uint64_t msgs(const std::string& stream) {
        StreamInfoPtr info = stream_info(js(), stream);
        return info ? info->State.Msgs : 0;
    }
};

TEST_F(JetStreamTtl, AMessageGoesWhenItsTtlIsUpAndOthersStay) {
    create("T", R"({"name":"T","subjects":["t.>"],"allow_msg_ttl":true})");
    ASSERT_TRUE(publish_ttl("t.a", "1s").ok());
    ASSERT_TRUE(publish_ttl("t.b", "2").ok());  // plain seconds
    ASSERT_TRUE(publish(js(), "t.c", "kept").ok());
    EXPECT_TRUE(present("T", 1));
    EXPECT_TRUE(wait_for([&] { return !present("T", 1); }, 5s));
    EXPECT_TRUE(wait_for([&] { return !present("T", 2); }, 5s));
    EXPECT_TRUE(present("T", 3));
    EXPECT_EQ(msgs("T"), 1u);
    StreamInfoPtr info = stream_info(js(), "T");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->State.FirstSeq, 3u);
}

TEST_F(JetStreamTtl, NeverOutlivesMaxAgeAndBothSurviveARestart) {
    create("N", R"({"name":"N","subjects":["n.>"],"allow_msg_ttl":true,"max_age":2000000000})");
    ASSERT_TRUE(publish_ttl("n.keep", "never").ok());   // 1
    ASSERT_TRUE(publish(js(), "n.old", "aged").ok());   // 2
    ASSERT_TRUE(publish_ttl("n.long", "1h").ok());     // 3: max_age still applies
    ASSERT_TRUE(publish_ttl("n.short", "1s").ok());    // 4
    restart(SIGKILL);
    EXPECT_TRUE(wait_for([&] { return !present("N", 4); }, 5s));
    EXPECT_TRUE(present("N", 2));
    EXPECT_TRUE(wait_for([&] { return !present("N", 2) && !present("N", 3); }, 6s));
    EXPECT_TRUE(present("N", 1));
    EXPECT_EQ(msgs("N"), 1u);
    // Once more after the removals: the exempt message is still known as such.
    restart(SIGKILL);
    ASSERT_TRUE(publish(js(), "n.later", "aged").ok());  // 5
    EXPECT_TRUE(wait_for([&] { return !present("N", 5); }, 6s));
    EXPECT_TRUE(present("N", 1));
}

TEST_F(JetStreamTtl, BadOrUnwantedTtlsAreRefusedAndNothingIsStored) {
    create("OFF", R"({"name":"OFF","subjects":["off"]})");
    PubOutcome disabled = publish_ttl("off", "5s");
    EXPECT_EQ(disabled.outcome.err_code, 10166) << disabled;
    EXPECT_EQ(disabled.outcome.text, "per-message TTL is disabled");
    // A TTL that does not parse gets the invalid error even where TTLs are off; 0 is none.
    EXPECT_EQ(publish_ttl("off", "soon").outcome.err_code, 10165);
    EXPECT_TRUE(publish_ttl("off", "0").outcome.err_code == 10165);  // a Go duration under 1s
    create("ON", R"({"name":"ON","subjects":["on"],"allow_msg_ttl":true})");
    for (const char* bad : {"500ms", "-1s", "-5", "1x", "0s", ""}) {
        PubOutcome refused = publish_ttl("on", bad);
        if (std::string(bad).empty()) {
            EXPECT_TRUE(refused.ok()) << "an empty header is no TTL";
            continue;
        }
        EXPECT_EQ(refused.outcome.err_code, 10165) << bad << " " << refused;
        EXPECT_EQ(refused.outcome.text, "invalid per-message TTL") << bad;
    }
    EXPECT_EQ(msgs("OFF"), 0u);
    EXPECT_EQ(msgs("ON"), 1u);
    PubOutcome never = publish_ttl("on", "NEVER");
    EXPECT_TRUE(never.ok()) << never;

    // Once on, TTLs stay on.
    nlohmann::json off = api_request(nc(), "$JS.API.STREAM.UPDATE.ON", R"({"name":"ON","subjects":["on"]})");
    EXPECT_EQ(off["error"]["err_code"], 10052) << off.dump();
    EXPECT_EQ(off["error"]["description"], "message TTL status can not be disabled");
    // Turned on by an update, they apply to what follows.
    nlohmann::json on = api_request(nc(), "$JS.API.STREAM.UPDATE.OFF",
                                    R"({"name":"OFF","subjects":["off"],"allow_msg_ttl":true})");
    ASSERT_FALSE(on.contains("error")) << on.dump();
    EXPECT_EQ(on["config"]["allow_msg_ttl"], true);
    ASSERT_TRUE(publish_ttl("off", "1s").ok());
    EXPECT_TRUE(wait_for([&] { return msgs("OFF") == 0; }, 5s));
}

TEST_F(JetStreamTtl, TheLastExpiredMessageOfASubjectLeavesAMarkerThatExpiresToo) {
    nlohmann::json created = api_request(
        nc(), "$JS.API.STREAM.CREATE.M",
        R"({"name":"M","subjects":["m.>"],"max_age":1000000000,"subject_delete_marker_ttl":2000000000})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    // Markers need TTLs and rollups: both are turned on.
    EXPECT_EQ(created["config"]["allow_msg_ttl"], true);
    EXPECT_EQ(created["config"]["allow_rollup_hdrs"], true);
    EXPECT_EQ(created["config"]["subject_delete_marker_ttl"], 2000000000);
    ASSERT_TRUE(publish(js(), "m.a", "1").ok());  // 1: not the last of m.a, simply removed
    ASSERT_TRUE(publish(js(), "m.a", "2").ok());  // 2: the last, replaced by a marker
    ASSERT_TRUE(publish(js(), "m.b", "3").ok());  // 3: the last of m.b
    MsgPtr marker;
    ASSERT_TRUE(wait_for([&] { return (marker = get_last_msg(js(), "M", "m.a")) && natsMsg_GetSequence(marker.get()) > 3; }, 5s));
    EXPECT_EQ(header_value(marker.get(), "Nats-Marker-Reason"), "MaxAge");
    EXPECT_EQ(header_value(marker.get(), "Nats-TTL"), "2s");
    EXPECT_EQ(header_value(marker.get(), "Nats-Rollup"), "sub");
    EXPECT_EQ(natsMsg_GetDataLength(marker.get()), 0);
    EXPECT_TRUE(wait_for([&] { return msgs("M") == 2; }, 5s));  // one marker per subject
    for (uint64_t seq = 1; seq <= 3; ++seq) EXPECT_FALSE(present("M", seq)) << seq;
    // The markers go in their turn, leaving none behind.
    EXPECT_TRUE(wait_for([&] { return msgs("M") == 0; }, 8s));
    StreamInfoPtr info = stream_info(js(), "M");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->State.LastSeq, 5u);

    // A TTL below the markers' is raised to theirs, as the stored header says.
    ASSERT_TRUE(publish_ttl("m.c", "1s").ok());
    MsgPtr raised = get_last_msg(js(), "M", "m.c");
    ASSERT_NE(raised, nullptr);
    EXPECT_EQ(header_value(raised.get(), "Nats-TTL"), "2");
}

TEST_F(JetStreamTtl, MarkerConfigsNatsServerRefuses) {
    create("O", R"({"name":"O","subjects":["o"]})");
    nlohmann::json mirror = api_request(nc(), "$JS.API.STREAM.CREATE.MIR",
                                        R"({"name":"MIR","mirror":{"name":"O"},"subject_delete_marker_ttl":1000000000})");
    EXPECT_EQ(mirror["error"]["err_code"], 10052) << mirror.dump();
    EXPECT_EQ(mirror["error"]["description"], "subject delete markers forbidden on mirrors");
    nlohmann::json short_ttl = api_request(nc(), "$JS.API.STREAM.CREATE.S",
                                           R"({"name":"S","subjects":["s"],"subject_delete_marker_ttl":500000000})");
    EXPECT_EQ(short_ttl["error"]["description"], "subject delete marker TTL must be at least 1 second") << short_ttl.dump();
    nlohmann::json negative = api_request(nc(), "$JS.API.STREAM.CREATE.S",
                                          R"({"name":"S","subjects":["s"],"subject_delete_marker_ttl":-1})");
    EXPECT_EQ(negative["error"]["description"], "subject delete marker TTL must not be negative") << negative.dump();
    EXPECT_TRUE(stream_names(js()) == std::vector<std::string>{"O"});
}

TEST_F(JetStreamTtl, AMirrorExpiresItsCopiesByTheirOriginsTimes) {
    create("SRC", R"({"name":"SRC","subjects":["src.>"],"allow_msg_ttl":true})");
    create("MIR", R"({"name":"MIR","mirror":{"name":"SRC"},"allow_msg_ttl":true})");
    create("PLAIN", R"({"name":"PLAIN","mirror":{"name":"SRC"}})");
    ASSERT_TRUE(publish_ttl("src.a", "2s").ok());
    ASSERT_TRUE(publish(js(), "src.b", "kept").ok());
    ASSERT_TRUE(wait_for([&] { return msgs("MIR") == 2 && msgs("PLAIN") == 2; }, 5s));
    EXPECT_TRUE(wait_for([&] { return msgs("SRC") == 1 && msgs("MIR") == 1; }, 6s));
    EXPECT_FALSE(present("MIR", 1));
    EXPECT_TRUE(present("MIR", 2));
    // Without allow_msg_ttl a copy keeps the header and the message.
    EXPECT_EQ(msgs("PLAIN"), 2u);
}

}  // namespace
}  // namespace ringtail::test
