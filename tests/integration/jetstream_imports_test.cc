// JetStream reached from another account through service and stream imports, as the official
// clients' own tests of cross-account KV, mirrors and bound consumers use it: deliveries that
// cross a stream import keep the stream subject, an account without JetStream that imports the
// API gets the exporter's answers alone, and a mirror reaches another account's stream through
// its external prefixes. Every expectation is nats-server 2.9's behaviour (RT_TEST_SERVER=nats-server
// runs them there).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <string>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// JS has JetStream and exports its API and the deliver subjects of its consumers. U has none
// and imports all of it; IA has its own and imports only what a mirror needs, under prefixes.
const std::string kCrossAccountJsConfig = R"(
accounts {
  JS: {
    jetstream: enabled
    users: [ { user: js, password: js } ]
    exports: [ { service: "$JS.API.>" }, { stream: "deliver.>" } ]
  }
  U: {
    users: [ { user: u, password: u } ]
    imports: [
      { service: { account: JS, subject: "$JS.API.>" } }
      { stream: { account: JS, subject: "deliver.>" } }
    ]
  }
  IA: {
    jetstream: enabled
    users: [ { user: ia, password: ia } ]
    imports: [
      { service: { account: JS, subject: "$JS.API.CONSUMER.>" }, to: "ext.api.CONSUMER.>" }
      { stream: { account: JS, subject: "deliver.>" } }
    ]
  }
}
)";

constexpr int kOrdersStored = 20;

class JetStreamImports : public JetStreamWithConfig {
 protected:
    JetStreamImports() : JetStreamWithConfig(kCrossAccountJsConfig) {}
    void SetUp() override {
        JetStreamWithConfig::SetUp();
        if (HasFatalFailure()) return;
        js_ = user("js");
        ASSERT_TRUE(js_);
        // ORDERS in JS, with messages, and a push consumer delivering to a subject U imports.
        StreamConfig orders("ORDERS", {"orders.>"});
        ASSERT_EQ(add_stream(js_.get(), orders).status, NATS_OK);
        for (int i = 1; i <= kOrdersStored; ++i) {
            ASSERT_TRUE(publish(js_.get(), "orders." + std::to_string(i), "order " + std::to_string(i)).ok());
        }
    }
    // Each user's password is its name.
    JsClient user(const std::string& name) { return connect_js_as(server_->url(), name.c_str(), name.c_str()); }

    JsClient js_;
};

TEST_F(JetStreamImports, APushDeliveryThroughAStreamImportShowsTheStreamSubject) {
    JsClient u = user("u");
    ASSERT_TRUE(u);
    SubscriptionPtr sub = subscribe_sync(u.nc(), "deliver.orders");
    ASSERT_NE(sub, nullptr);
    ASSERT_EQ(natsConnection_Flush(u.nc()), NATS_OK);
    json created = api_request(js_.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.ORDERS.D",
                               R"({"stream_name":"ORDERS","config":{"durable_name":"D","deliver_subject":"deliver.orders","ack_policy":"none"}})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    for (int i = 1; i <= kOrdersStored; ++i) {
        MsgPtr msg = next_msg(sub.get(), 2s);
        ASSERT_NE(msg, nullptr) << i;
        // The subject it was stored under, not the deliver subject the import matched.
        EXPECT_EQ(natsMsg_GetSubject(msg.get()), "orders." + std::to_string(i));
        EXPECT_EQ(msg_data(msg.get()), "order " + std::to_string(i));
    }
}

TEST_F(JetStreamImports, AnAccountWithoutJetStreamThatImportsTheApiGetsTheExportersAnswerAlone) {
    JsClient u = user("u");
    ASSERT_TRUE(u);
    // Every reply to one request, counted: the import's answer and nothing else.
    SubscriptionPtr replies = subscribe_sync(u.nc(), "answers.1");
    ASSERT_NE(replies, nullptr);
    for (const char* subject : {"$JS.API.INFO", "$JS.API.STREAM.INFO.ORDERS"}) {
        ASSERT_EQ(natsConnection_PublishRequest(u.nc(), subject, "answers.1", nullptr, 0), NATS_OK);
        MsgPtr answer = next_msg(replies.get(), 2s);
        ASSERT_NE(answer, nullptr) << subject;
        json body = json::parse(msg_data(answer.get()), nullptr, false);
        EXPECT_FALSE(body.contains("error")) << subject << " " << body.dump();
        EXPECT_TRUE(no_more_msgs(replies.get(), 300ms)) << subject;
    }
    // libnats through the same imports: JS's stream.
    StreamInfoPtr info = stream_info(u.get(), "ORDERS");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->State.Msgs, static_cast<uint64_t>(kOrdersStored));
}

TEST_F(JetStreamImports, AMirrorReachesAnotherAccountsStreamThroughItsImports) {
    JsClient ia = user("ia");
    ASSERT_TRUE(ia);
    json created = api_request(ia.nc(), "$JS.API.STREAM.CREATE.M",
                               R"({"name":"M","mirror":{"name":"ORDERS","external":{"api":"ext.api","deliver":"deliver.mirror"}}})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    EXPECT_TRUE(wait_for(
        [&] {
            StreamInfoPtr info = stream_info(ia.get(), "M");
            return info != nullptr && info->State.Msgs == static_cast<uint64_t>(kOrdersStored);
        },
        10s, 50ms));
    // The copies keep the origin's subjects and sequences.
    MsgPtr first = get_msg(ia.get(), "M", 1);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(natsMsg_GetSubject(first.get()), std::string("orders.1"));
    EXPECT_EQ(msg_data(first.get()), "order 1");
    // And it follows what comes after.
    ASSERT_TRUE(publish(js_.get(), "orders.new", "later").ok());
    EXPECT_TRUE(wait_for(
        [&] {
            StreamInfoPtr info = stream_info(ia.get(), "M");
            return info != nullptr && info->State.Msgs == static_cast<uint64_t>(kOrdersStored) + 1;
        },
        10s, 50ms));
}

}  // namespace
}  // namespace ringtail::test
