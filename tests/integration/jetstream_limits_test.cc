// The server's JetStream limits (jetstream { limits { ... } }): the most a consumer's
// max_ack_pending and a pull consumer's max_batch may be, and the defaults they take under
// them; a stream's duplicate window by default no longer than the limit. Every expectation is
// nats-server's behaviour (RT_TEST_SERVER=nats-server runs them there), but for one it added
// after 2.9, named where it is.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"

namespace ringtail::test {
namespace {

using nlohmann::json;

const std::string kLimitsConfig = R"(
jetstream { limits { max_ack_pending: 100, max_request_batch: 10, max_ha_assets: 2, duplicate_window: "1m" } }
)";

class JetStreamLimits : public JetStreamWithConfig {
 protected:
    JetStreamLimits() : JetStreamWithConfig(kLimitsConfig) {}
    void SetUp() override {
        JetStreamWithConfig::SetUp();
        js_ = connect_js(server_->url());
        ASSERT_TRUE(js_);
        StreamConfig work("WORK", {"work"});
        ASSERT_EQ(add_stream(js_.get(), work).status, NATS_OK);
    }
    json create_consumer(const std::string& name, const std::string& config) {
        return api_request(js_.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.WORK." + name,
                           R"({"stream_name":"WORK","config":{"durable_name":")" + name + "\"," + config + "}}");
    }

    JsClient js_;
};

TEST_F(JetStreamLimits, MaxAckPendingBoundsEveryConsumerAndLowersTheDefault) {
    json over = create_consumer("OVER", R"("ack_policy":"explicit","max_ack_pending":101)");
    ASSERT_TRUE(over.contains("error")) << over.dump();
    EXPECT_EQ(over["error"].value("code", 0), 400);
    EXPECT_EQ(over["error"].value("err_code", 0), 10121);
    EXPECT_EQ(over["error"].value("description", ""), "consumer max ack pending exceeds system limit of 100");

    json defaulted = create_consumer("DEFAULT", R"("ack_policy":"explicit")");
    ASSERT_FALSE(defaulted.contains("error")) << defaulted.dump();
    EXPECT_EQ(defaulted["config"].value("max_ack_pending", 0), 100);

    json at_limit = create_consumer("AT", R"("ack_policy":"explicit","max_ack_pending":100)");
    EXPECT_FALSE(at_limit.contains("error")) << at_limit.dump();
}

TEST_F(JetStreamLimits, MaxRequestBatchBoundsPullConsumersAndTheirRequests) {
    json over = create_consumer("OVER", R"("ack_policy":"explicit","max_batch":11)");
    ASSERT_TRUE(over.contains("error")) << over.dump();
    EXPECT_EQ(over["error"].value("err_code", 0), 10125);
    EXPECT_EQ(over["error"].value("description", ""), "consumer max request batch exceeds server limit of 10");

    // A pull consumer that sets none takes the limit, and a request for more is refused.
    json defaulted = create_consumer("PULL", R"("ack_policy":"explicit")");
    ASSERT_FALSE(defaulted.contains("error")) << defaulted.dump();
    EXPECT_EQ(defaulted["config"].value("max_batch", 0), 10);
    MsgPtr refused = raw_request(js_.nc(), "$JS.API.CONSUMER.MSG.NEXT.WORK.PULL", R"({"batch":20})",
                                 std::chrono::seconds(2));
    ASSERT_NE(refused, nullptr);
    EXPECT_EQ(header_value(refused.get(), "Status"), "409");
    EXPECT_EQ(header_value(refused.get(), "Description"), "Exceeded MaxRequestBatch of 10");

    // Through the client: a fetch within the limit gets its messages.
    for (int i = 0; i < 3; ++i) ASSERT_EQ(js_Publish(nullptr, js_.get(), "work", "w", 1, nullptr, nullptr), NATS_OK);
    natsSubscription* sub = nullptr;
    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Stream = "WORK";
    sub_options.Consumer = "PULL";
    ASSERT_EQ(js_PullSubscribe(&sub, js_.get(), "work", "PULL", nullptr, &sub_options, nullptr), NATS_OK);
    natsMsgList list{};
    ASSERT_EQ(natsSubscription_Fetch(&list, sub, 5, 2000, nullptr), NATS_OK);
    EXPECT_EQ(list.Count, 3);
    natsMsgList_Destroy(&list);
    natsSubscription_Destroy(sub);

    // A push consumer has no batch to bound.
    json push = create_consumer("PUSH", R"("ack_policy":"explicit","deliver_subject":"deliver.work")");
    ASSERT_FALSE(push.contains("error")) << push.dump();
    EXPECT_FALSE(push["config"].contains("max_batch")) << push.dump();
}

TEST_F(JetStreamLimits, TheDuplicateWindowDefaultsToTheLimit) {
    StreamInfoPtr work = stream_info(js_.get(), "WORK");
    ASSERT_NE(work, nullptr);
    EXPECT_EQ(work->Config->Duplicates, 60'000'000'000);

    // Shorter than the limit: as asked.
    json shorter = api_request(js_.nc(), "$JS.API.STREAM.CREATE.SHORT",
                               R"({"name":"SHORT","subjects":["short"],"duplicate_window":30000000000})");
    ASSERT_FALSE(shorter.contains("error")) << shorter.dump();
    EXPECT_EQ(shorter["config"].value("duplicate_window", int64_t{0}), 30'000'000'000);

    // Longer: nats-server 2.10 refuses it (2.9 took it as asked).
    json longer = api_request(js_.nc(), "$JS.API.STREAM.CREATE.LONG",
                              R"({"name":"LONG","subjects":["long"],"duplicate_window":120000000000})");
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server 2.9 does not bound an asked-for window";
    ASSERT_TRUE(longer.contains("error")) << longer.dump();
    EXPECT_EQ(longer["error"].value("err_code", 0), 10052);
    EXPECT_EQ(longer["error"].value("description", ""),
              "duplicates window can not be larger then server limit of 1m0s");
}

}  // namespace
}  // namespace ringtail::test
