// Request-reply across connections and the no-responders fast failure.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <string>

#include "tests/integration/nats_helpers.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Replies "echo:<request payload>" on the request's reply subject.
void echo_responder(natsConnection* connection, natsSubscription*, natsMsg* msg, void*) {
    std::string reply = "echo:" + std::string(msg_data(msg));
    if (natsMsg_GetReply(msg) != nullptr) {
        natsConnection_Publish(connection, natsMsg_GetReply(msg), reply.data(),
                               static_cast<int>(reply.size()));
    }
    natsMsg_Destroy(msg);
}

TEST(RequestReply, ResponderOnAnotherConnectionAnswersEveryRequest) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    std::vector<ShardedConnection> connections = connect_spread(server->url(), 1);
    ASSERT_EQ(2u, connections.size());
    // Both directions: the responder lives on one connection (shard), requesters on both.
    natsConnection* responder = connections[0].connection.get();
    natsSubscription* raw_sub = nullptr;
    ASSERT_EQ(NATS_OK,
              natsConnection_Subscribe(&raw_sub, responder, "svc.echo", echo_responder, nullptr));
    SubscriptionPtr sub(raw_sub);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(responder));

    ConnectionPtr requester = connect(server->url());
    ASSERT_TRUE(requester);
    for (int i = 0; i < 20; ++i) {
        natsConnection* from = (i % 2 == 0) ? requester.get() : connections[1].connection.get();
        std::string payload = "req" + std::to_string(i);
        natsMsg* raw_reply = nullptr;
        ASSERT_EQ(NATS_OK, natsConnection_Request(&raw_reply, from, "svc.echo", payload.data(),
                                                  static_cast<int>(payload.size()), 2000))
            << "request " << i;
        MsgPtr reply(raw_reply);
        EXPECT_EQ("echo:" + payload, msg_data(reply.get()));
    }
}

TEST(RequestReply, RequestWithoutSubscriberFailsFastWithNoResponders) {
    auto server = ServerProcess::start_under_test();
    ASSERT_NE(server, nullptr);
    ConnectionPtr requester = connect(server->url());
    ASSERT_TRUE(requester);
    for (int i = 0; i < 3; ++i) {
        natsMsg* raw_reply = nullptr;
        auto started = Clock::now();
        natsStatus status = natsConnection_RequestString(&raw_reply, requester.get(), "svc.nobody",
                                                         "anyone?", 5000);
        auto elapsed = Clock::now() - started;
        MsgPtr reply(raw_reply);
        EXPECT_EQ(NATS_NO_RESPONDERS, status) << natsStatus_GetText(status);
        EXPECT_LT(elapsed, 1s) << "no-responders must not wait for the request timeout";
    }
}

}  // namespace
}  // namespace ringtail::test
