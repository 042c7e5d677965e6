// A JetStream domain on one server (jetstream { domain: HUB }): a client bound to the domain
// reaches the API as $JS.HUB.API (KV included), and INFO, the account's info and every PubAck
// name it. And an account's max_ack_pending: the most its consumers may set, and their default
// below 1000. Every expectation is nats-server 2.9's behaviour (RT_TEST_SERVER=nats-server runs
// them there).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <string>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"
#include "tests/support/raw_client.h"

namespace ringtail::test {
namespace {

using nlohmann::json;

const std::string kDomainConfig = R"(
jetstream { domain: HUB }
accounts {
  A: { jetstream: { max_ack_pending: 100 }, users: [ { user: a, password: a } ] }
}
)";

class JetStreamDomain : public JetStreamWithConfig {
 protected:
    JetStreamDomain() : JetStreamWithConfig(kDomainConfig) {}
    // User a's connection, its JetStream context bound to `domain` (none: the plain API).
    JsClient user_a(const char* domain) { return connect_js_as(server_->url(), "a", "a", domain); }
};

TEST_F(JetStreamDomain, AClientBoundToTheDomainReachesJetStreamAndEveryAnswerNamesIt) {
    RawClient raw;
    ASSERT_TRUE(raw.connect(server_->port()));
    ASSERT_TRUE(raw.read_info());
    EXPECT_NE(raw.received().find(R"("domain":"HUB")"), std::string::npos) << raw.received();

    JsClient bound = user_a("HUB");
    ASSERT_TRUE(bound);
    jsAccountInfo* info = nullptr;
    ASSERT_EQ(js_GetAccountInfo(&info, bound.get(), nullptr, nullptr), NATS_OK);
    ASSERT_NE(info->Domain, nullptr);
    EXPECT_STREQ(info->Domain, "HUB");
    jsAccountInfo_Destroy(info);

    StreamConfig orders("ORDERS", {"orders.>"});
    ASSERT_EQ(add_stream(bound.get(), orders).status, NATS_OK);
    jsPubAck* ack = nullptr;
    ASSERT_EQ(js_Publish(&ack, bound.get(), "orders.1", "one", 3, nullptr, nullptr), NATS_OK);
    ASSERT_NE(ack->Domain, nullptr);
    EXPECT_STREQ(ack->Domain, "HUB");
    EXPECT_EQ(ack->Sequence, 1u);
    jsPubAck_Destroy(ack);

    // The plain API is the same JetStream.
    JsClient plain = user_a(nullptr);
    ASSERT_TRUE(plain);
    StreamInfoPtr stream = stream_info(plain.get(), "ORDERS");
    ASSERT_NE(stream, nullptr);
    EXPECT_EQ(stream->State.Msgs, 1u);
    json answer = api_request(plain.nc(), "$JS.API.STREAM.INFO.ORDERS");
    EXPECT_EQ(answer.value("domain", ""), "HUB") << answer.dump();

    // KV through the domain: $JS.HUB.API.$KV.> reaches the bucket's subjects.
    kvConfig kv_config;
    kvConfig_Init(&kv_config);
    kv_config.Bucket = "PROFILES";
    kvStore* kv = nullptr;
    ASSERT_EQ(js_CreateKeyValue(&kv, bound.get(), &kv_config), NATS_OK);
    uint64_t revision = 0;
    EXPECT_EQ(kvStore_PutString(&revision, kv, "ada", "lovelace"), NATS_OK);
    EXPECT_EQ(revision, 1u);
    kvEntry* entry = nullptr;
    ASSERT_EQ(kvStore_Get(&entry, kv, "ada"), NATS_OK);
    EXPECT_STREQ(kvEntry_ValueString(entry), "lovelace");
    kvEntry_Destroy(entry);
    kvStore_Destroy(kv);
}

TEST_F(JetStreamDomain, AnAccountsMaxAckPendingBoundsItsConsumersAndLowersTheirDefault) {
    JsClient a = user_a(nullptr);
    ASSERT_TRUE(a);
    jsAccountInfo* info = nullptr;
    ASSERT_EQ(js_GetAccountInfo(&info, a.get(), nullptr, nullptr), NATS_OK);
    EXPECT_EQ(info->Limits.MaxAckPending, 100);
    jsAccountInfo_Destroy(info);
    StreamConfig work("WORK", {"work"});
    ASSERT_EQ(add_stream(a.get(), work).status, NATS_OK);

    json over = api_request(a.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.WORK.OVER",
                            R"({"stream_name":"WORK","config":{"durable_name":"OVER","ack_policy":"explicit","max_ack_pending":101}})");
    ASSERT_TRUE(over.contains("error")) << over.dump();
    EXPECT_EQ(over["error"].value("err_code", 0), 10121);
    EXPECT_EQ(over["error"].value("description", ""), "consumer max ack pending exceeds system limit of 100");

    json defaulted = api_request(a.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.WORK.DEFAULT",
                                 R"({"stream_name":"WORK","config":{"durable_name":"DEFAULT","ack_policy":"explicit"}})");
    ASSERT_FALSE(defaulted.contains("error")) << defaulted.dump();
    EXPECT_EQ(defaulted["config"].value("max_ack_pending", 0), 100);
}

}  // namespace
}  // namespace ringtail::test
