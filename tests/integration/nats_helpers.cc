#include "tests/integration/nats_helpers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>

#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

constexpr int64_t kConnectTimeoutMs = 2000;
constexpr int kSpreadAttemptsMax = 128;

// libnats cannot be re-initialised after nats_Close(), so it is closed exactly once, at the end.
class NatsLibraryEnvironment : public ::testing::Environment {
 public:
    void TearDown() override { nats_Close(); }
};

[[maybe_unused]] ::testing::Environment* const kNatsEnvironment =
    ::testing::AddGlobalTestEnvironment(new NatsLibraryEnvironment);

}  // namespace

OptionsPtr make_options(const std::string& url) {
    natsOptions* raw = nullptr;
    if (natsOptions_Create(&raw) != NATS_OK) return nullptr;
    OptionsPtr options(raw);
    if (natsOptions_SetURL(raw, url.c_str()) != NATS_OK ||
        natsOptions_SetAllowReconnect(raw, false) != NATS_OK ||
        natsOptions_SetTimeout(raw, kConnectTimeoutMs) != NATS_OK) {
        return nullptr;
    }
    return options;
}

ConnectionPtr connect_with(natsOptions* options, natsStatus* status) {
    natsConnection* raw = nullptr;
    natsStatus result = natsConnection_Connect(&raw, options);
    if (status != nullptr) *status = result;
    if (result != NATS_OK) {
        if (raw != nullptr) natsConnection_Destroy(raw);
        return nullptr;
    }
    return ConnectionPtr(raw);
}

ConnectionPtr connect(const std::string& url, natsStatus* status) {
    OptionsPtr options = make_options(url);
    if (!options) {
        if (status != nullptr) *status = NATS_ERR;
        return nullptr;
    }
    return connect_with(options.get(), status);
}

SubscriptionPtr subscribe_sync(natsConnection* connection, const std::string& subject) {
    natsSubscription* raw = nullptr;
    if (natsConnection_SubscribeSync(&raw, connection, subject.c_str()) != NATS_OK) return nullptr;
    return SubscriptionPtr(raw);
}

SubscriptionPtr queue_subscribe_sync(natsConnection* connection, const std::string& subject,
                                     const std::string& queue_group) {
    natsSubscription* raw = nullptr;
    if (natsConnection_QueueSubscribeSync(&raw, connection, subject.c_str(), queue_group.c_str()) !=
        NATS_OK) {
        return nullptr;
    }
    return SubscriptionPtr(raw);
}

MsgPtr next_msg(natsSubscription* sub, std::chrono::milliseconds timeout) {
    natsMsg* raw = nullptr;
    if (natsSubscription_NextMsg(&raw, sub, timeout.count()) != NATS_OK) return nullptr;
    return MsgPtr(raw);
}

std::string_view msg_data(const natsMsg* msg) {
    const char* data = natsMsg_GetData(msg);
    int length = natsMsg_GetDataLength(msg);
    if (data == nullptr || length <= 0) return {};
    return std::string_view(data, static_cast<size_t>(length));
}

bool no_more_msgs(natsSubscription* sub, std::chrono::milliseconds quiet) {
    return next_msg(sub, quiet) == nullptr;
}

int shard_of(natsConnection* connection) {
    uint64_t client_id = 0;
    if (natsConnection_GetClientID(connection, &client_id) != NATS_OK || client_id == 0) return -1;
    return static_cast<int>((client_id - 1) % kRingtailShards);
}

std::vector<ShardedConnection> connect_spread(const std::string& url, int per_shard) {
    std::vector<ShardedConnection> result;
    if (!testing_ringtail()) {
        for (int i = 0; i < kRingtailShards * per_shard; ++i) {
            ConnectionPtr connection = connect(url);
            if (!connection) return result;
            result.push_back({std::move(connection), i % kRingtailShards});
        }
        return result;
    }
    std::array<int, kRingtailShards> counts{};
    for (int attempt = 0; attempt < kSpreadAttemptsMax; ++attempt) {
        if (std::all_of(counts.begin(), counts.end(), [&](int n) { return n >= per_shard; })) {
            break;
        }
        ConnectionPtr connection = connect(url);
        if (!connection) return result;
        int shard = shard_of(connection.get());
        if (shard < 0 || counts[static_cast<size_t>(shard)] >= per_shard) continue;  // closes it
        ++counts[static_cast<size_t>(shard)];
        result.push_back({std::move(connection), shard});
    }
    std::stable_sort(
        result.begin(), result.end(),
        [](const ShardedConnection& a, const ShardedConnection& b) { return a.shard < b.shard; });
    return result;
}

bool covers_all_shards(const std::vector<ShardedConnection>& connections) {
    if (!testing_ringtail()) return true;
    std::array<bool, kRingtailShards> seen{};
    for (const ShardedConnection& entry : connections) {
        if (entry.shard >= 0 && entry.shard < kRingtailShards) {
            seen[static_cast<size_t>(entry.shard)] = true;
        }
    }
    return std::all_of(seen.begin(), seen.end(), [](bool b) { return b; });
}

std::string fresh_subject(std::string_view prefix) {
    static std::atomic<uint64_t> counter{0};
    return std::string(prefix) + "." + std::to_string(counter.fetch_add(1));
}

}  // namespace ringtail::test
