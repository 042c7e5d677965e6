// libnats RAII wrappers and connection helpers shared by the integration tests.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringtail::test {

struct NatsDeleter {
    void operator()(natsConnection* connection) const { natsConnection_Destroy(connection); }
    void operator()(natsSubscription* sub) const { natsSubscription_Destroy(sub); }
    void operator()(natsMsg* msg) const { natsMsg_Destroy(msg); }
    void operator()(natsOptions* options) const { natsOptions_Destroy(options); }
};
using ConnectionPtr = std::unique_ptr<natsConnection, NatsDeleter>;
using SubscriptionPtr = std::unique_ptr<natsSubscription, NatsDeleter>;
using MsgPtr = std::unique_ptr<natsMsg, NatsDeleter>;
using OptionsPtr = std::unique_ptr<natsOptions, NatsDeleter>;

// Options for `url` with reconnects off (a test must see a disconnect, not paper over it) and a
// 2 s connect timeout. Returns nullptr on failure.
OptionsPtr make_options(const std::string& url);
// Connects with make_options; `status` (if given) receives the libnats status.
ConnectionPtr connect(const std::string& url, natsStatus* status = nullptr);
ConnectionPtr connect_with(natsOptions* options, natsStatus* status = nullptr);

SubscriptionPtr subscribe_sync(natsConnection* connection, const std::string& subject);
SubscriptionPtr queue_subscribe_sync(natsConnection* connection, const std::string& subject,
                                     const std::string& queue_group);
// Next message or nullptr on timeout/error.
MsgPtr next_msg(natsSubscription* sub, std::chrono::milliseconds timeout);
std::string_view msg_data(const natsMsg* msg);
// True if no message arrives within `quiet` (used after everything expected was received).
bool no_more_msgs(natsSubscription* sub, std::chrono::milliseconds quiet);

// The Ringtail shard that accepted a connection: client ids encode it as (client_id - 1) %
// kRingtailShards. (A connection that only publishes may move on: docs/DESIGN.md.)
constexpr int kRingtailShards = 2;
int shard_of(natsConnection* connection);

struct ShardedConnection {
    ConnectionPtr connection;
    int shard = 0;  // meaningful only when testing ringtail
};
// Opens connections until every ringtail shard holds at least `per_shard` of them (extras are
// closed; gives up after 128 attempts and returns what it has). Against nats-server it opens
// kRingtailShards * per_shard connections. The result is ordered by shard when testing ringtail.
std::vector<ShardedConnection> connect_spread(const std::string& url, int per_shard);
// Whether `connections` covers every shard (always true against nats-server).
bool covers_all_shards(const std::vector<ShardedConnection>& connections);

// A unique subject per call, so repeated scenarios never see each other's messages.
std::string fresh_subject(std::string_view prefix);

}  // namespace ringtail::test
