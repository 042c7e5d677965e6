// SIGKILL durability of a durable pull consumer's acks, end to end. The server under test
// (ringtail, or nats-server with RT_TEST_SERVER=nats-server) runs with `-js -sd DIR`; a stream
// holds kMessages messages and a durable consumer with explicit acks hands them out. A client
// pulls batches and acks nine in ten with AckSync (the server's empty reply confirms the ack),
// leaving the rest for redelivery. The server is SIGKILLed at a seeded random moment and
// restarted on the same DIR, for RT_CONSUMER_KILL_ROUNDS rounds (default 5). Then:
//   - the consumer is still there, with its config;
//   - no message whose ack was confirmed is ever delivered again (a delivery is compared by
//     the server's delivery timestamp in the ack subject, so a redelivery already under way
//     when the confirmation arrived is not counted);
//   - every message is delivered at least once: after the last round the client drains the
//     consumer until nothing is pending or owed, and by then it has seen every message.
//
// nats-server 2.9.10 does not pass: it answers AckSync before the consumer's state reaches its
// file, so a SIGKILL can take confirmed acks (and deliveries) with it.
//
// Environment: RT_SEED=<n> replays a run's kill moments and ack choices (printed at start);
// RT_CONSUMER_KILL_ROUNDS=<n>; RT_TEST_SERVER / RINGTAIL_BIN / NATS_SERVER_BIN as for
// integration.

#include <gtest/gtest.h>
#include <nats/nats.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/integration/nats_helpers.h"
#include "tests/crash/kill_test.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr uint64_t kMessages = 3000;
constexpr int kRoundsDefault = 5;
constexpr int kKillDelayMsMin = 100;
constexpr int kKillDelayMsMax = 600;
constexpr int kBatch = 25;
constexpr int64_t kPullExpiresNs = 300'000'000;
constexpr int64_t kAckWaitNs = 1'000'000'000;
constexpr int kLeaveUnackedOneIn = 10;
constexpr auto kApiWait = milliseconds(5000);
constexpr auto kRecoveryWait = milliseconds(15'000);
constexpr auto kDrainLimit = std::chrono::seconds(60);

int64_t wall_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

int rounds_from_env() {
    const char* text = std::getenv("RT_CONSUMER_KILL_ROUNDS");
    return text == nullptr || text[0] == '\0' ? kRoundsDefault : std::atoi(text);
}

std::optional<json> api_request(natsConnection* connection, const std::string& subject,
                                const std::string& body, std::chrono::milliseconds wait) {
    natsMsg* reply = nullptr;
    if (natsConnection_Request(&reply, connection, subject.c_str(), body.data(),
                               static_cast<int>(body.size()), wait.count()) != NATS_OK) {
        return std::nullopt;
    }
    MsgPtr owned(reply);
    json value = json::parse(msg_data(reply), nullptr, false);
    if (value.is_discarded()) return std::nullopt;
    return value;
}

// A delivery's ack subject: $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>
struct AckSubject {
    uint64_t stream_seq = 0;
    int64_t timestamp_ns = 0;
};

std::optional<AckSubject> parse_ack_subject(std::string_view subject) {
    std::vector<std::string_view> tokens;
    while (true) {
        size_t dot = subject.find('.');
        tokens.push_back(subject.substr(0, dot));
        if (dot == std::string_view::npos) break;
        subject.remove_prefix(dot + 1);
    }
    if (tokens.size() != 9 || tokens[0] != "$JS" || tokens[1] != "ACK") return std::nullopt;
    AckSubject out;
    out.stream_seq = std::strtoull(std::string(tokens[5]).c_str(), nullptr, 10);
    out.timestamp_ns = std::strtoll(std::string(tokens[7]).c_str(), nullptr, 10);
    if (out.stream_seq == 0 || out.stream_seq > kMessages) return std::nullopt;
    return out;
}

class ConsumerKill : public KillTest {
 protected:
    ConsumerKill() : KillTest("consumer_kill") {}

    void create(natsConnection* connection);
    void check_consumer(natsConnection* connection, int after_round);
    // Pulls and acks until `stop` is set, `deadline` passes or the connection fails.
    // Returns how many deliveries it saw.
    size_t consume(natsConnection* connection, std::mt19937_64& random,
                   const std::atomic<bool>& stop,
                   std::chrono::steady_clock::time_point deadline =
                       std::chrono::steady_clock::time_point::max());
    void on_delivery(const AckSubject& delivery);

    // By stream sequence: when the client received the confirmation of its ack (wall ns).
    std::map<uint64_t, int64_t> confirmed_;
    std::set<uint64_t> delivered_;  // every stream sequence delivered at least once
    size_t redelivered_after_confirm_ = 0;
};

void ConsumerKill::create(natsConnection* connection) {
    std::optional<json> reply =
        api_request(connection, "$JS.API.STREAM.CREATE.CK",
                    R"({"name":"CK","subjects":["ck.>"],"storage":"file"})", kApiWait);
    ASSERT_TRUE(reply.has_value());
    ASSERT_FALSE(reply->contains("error")) << reply->dump();
    for (uint64_t i = 1; i <= kMessages; ++i) {
        std::string subject = "ck." + std::to_string(i % 7);
        std::string payload = "message " + std::to_string(i);
        natsMsg* ack = nullptr;
        ASSERT_EQ(NATS_OK, natsConnection_Request(&ack, connection, subject.c_str(),
                                                  payload.data(),
                                                  static_cast<int>(payload.size()), 5000));
        natsMsg_Destroy(ack);
    }
    std::string config = R"({"stream_name":"CK","config":{"durable_name":"D","ack_policy":"explicit",)"
                         R"("ack_wait":)" +
                         std::to_string(kAckWaitNs) + R"(,"max_ack_pending":500}})";
    reply = api_request(connection, "$JS.API.CONSUMER.DURABLE.CREATE.CK.D", config, kApiWait);
    ASSERT_TRUE(reply.has_value());
    ASSERT_FALSE(reply->contains("error")) << reply->dump();
}

void ConsumerKill::check_consumer(natsConnection* connection, int after_round) {
    // The first API request after a restart may find JetStream still recovering.
    std::optional<json> info;
    auto deadline = std::chrono::steady_clock::now() + kRecoveryWait;
    while (std::chrono::steady_clock::now() < deadline) {
        info = api_request(connection, "$JS.API.CONSUMER.INFO.CK.D", "", milliseconds(1000));
        if (info.has_value() && !info->contains("error")) break;
        std::this_thread::sleep_for(milliseconds(100));
    }
    ASSERT_TRUE(info.has_value()) << "no CONSUMER.INFO after round " << after_round;
    ASSERT_FALSE(info->contains("error")) << info->dump();
    const json& config = (*info)["config"];
    EXPECT_EQ("D", config.value("durable_name", ""));
    EXPECT_EQ(kAckWaitNs, config.value("ack_wait", int64_t{0}));
    EXPECT_EQ(500, config.value("max_ack_pending", 0));
    // Everything below the ack floor counts as acked; nothing confirmed may be above the
    // delivered sequence.
    uint64_t delivered = (*info)["delivered"].value("stream_seq", uint64_t{0});
    uint64_t confirmed_max = confirmed_.empty() ? 0 : confirmed_.rbegin()->first;
    EXPECT_GE(delivered, confirmed_max) << "after round " << after_round << ": " << info->dump();
    std::printf("consumer_kill: after round %d: %s\n", after_round,
                (*info)["ack_floor"].dump().c_str());
}

void ConsumerKill::on_delivery(const AckSubject& delivery) {
    delivered_.insert(delivery.stream_seq);
    auto it = confirmed_.find(delivery.stream_seq);
    if (it != confirmed_.end() && delivery.timestamp_ns > it->second) {
        if (++redelivered_after_confirm_ <= 5) {
            ADD_FAILURE() << "stream seq " << delivery.stream_seq
                          << " delivered again after its ack was confirmed";
        }
    }
}

size_t ConsumerKill::consume(natsConnection* connection, std::mt19937_64& random,
                             const std::atomic<bool>& stop,
                             std::chrono::steady_clock::time_point deadline) {
    SubscriptionPtr inbox = subscribe_sync(connection, "_INBOX.ck.pull");
    if (!inbox) return 0;
    std::string request = R"({"batch":)" + std::to_string(kBatch) +
                          R"(,"expires":)" + std::to_string(kPullExpiresNs) + "}";
    size_t deliveries = 0;
    while (!stop && std::chrono::steady_clock::now() < deadline) {
        if (natsConnection_PublishRequestString(connection, "$JS.API.CONSUMER.MSG.NEXT.CK.D",
                                                "_INBOX.ck.pull",
                                                request.c_str()) != NATS_OK) {
            return deliveries;
        }
        int received = 0;
        while (!stop && received < kBatch) {
            MsgPtr msg = next_msg(inbox.get(), milliseconds(kPullExpiresNs / 1'000'000 + 500));
            if (!msg) return deliveries;  // the server is gone
            const char* reply = natsMsg_GetReply(msg.get());
            if (reply == nullptr || reply[0] == '\0') break;  // a status: 408, 409
            std::optional<AckSubject> delivery = parse_ack_subject(reply);
            if (!delivery) {
                ADD_FAILURE() << "unexpected ack subject " << reply;
                return deliveries;
            }
            ++received;
            ++deliveries;
            on_delivery(*delivery);
            if (random() % kLeaveUnackedOneIn == 0) continue;
            natsMsg* confirmation = nullptr;
            if (natsConnection_RequestString(&confirmation, connection, reply, "+ACK", 2000) !=
                NATS_OK) {
                return deliveries;
            }
            natsMsg_Destroy(confirmation);
            confirmed_.emplace(delivery->stream_seq, wall_ns());
        }
    }
    return deliveries;
}

TEST_F(ConsumerKill, ConfirmedAcksSurviveSigkillAndEveryMessageIsDelivered) {
    std::mt19937_64 random(seed_);
    int rounds = rounds_from_env();
    ASSERT_GT(rounds, 0);
    for (int round = 0; round <= rounds; ++round) {
        std::unique_ptr<ServerProcess> server = start();
        ASSERT_NE(server, nullptr) << "could not start the server with -js -sd " << store_dir_;
        ConnectionPtr connection = connect(server->url());
        ASSERT_NE(connection, nullptr);
        if (round == 0) {
            ASSERT_NO_FATAL_FAILURE(create(connection.get()));
        } else {
            ASSERT_NO_FATAL_FAILURE(check_consumer(connection.get(), round - 1));
        }
        if (round == rounds) {
            // Drain: in the end nothing is pending or owed, and every message was delivered.
            std::atomic<bool> stop{false};
            auto deadline = std::chrono::steady_clock::now() + kDrainLimit;
            std::optional<json> info;
            while (std::chrono::steady_clock::now() < deadline) {
                consume(connection.get(), random, stop,
                        std::chrono::steady_clock::now() + std::chrono::seconds(2));
                info = api_request(connection.get(), "$JS.API.CONSUMER.INFO.CK.D", "", kApiWait);
                ASSERT_TRUE(info.has_value());
                if (info->value("num_pending", -1) == 0 && info->value("num_ack_pending", -1) == 0) {
                    break;
                }
            }
            EXPECT_EQ(0, info->value("num_pending", -1)) << info->dump();
            EXPECT_EQ(0, info->value("num_ack_pending", -1)) << info->dump();
            EXPECT_EQ(kMessages, (*info)["ack_floor"].value("stream_seq", uint64_t{0}))
                << info->dump();
            EXPECT_EQ(kMessages, delivered_.size()) << "messages never delivered";
            break;
        }
        std::atomic<bool> stop{false};
        size_t deliveries = 0;
        std::thread consumer([&] { deliveries = consume(connection.get(), random, stop); });
        int delay_ms = kKillDelayMsMin +
                       static_cast<int>(random() % (kKillDelayMsMax - kKillDelayMsMin + 1));
        std::this_thread::sleep_for(milliseconds(delay_ms));
        bool alive = server->running();
        int status = server->stop(SIGKILL);
        stop = true;
        consumer.join();
        connection.reset();
        EXPECT_TRUE(alive) << "the server died by itself in round " << round << "\n"
                           << server->log();
        EXPECT_EQ(status, 128 + SIGKILL);
        std::printf("consumer_kill: round %d killed after %d ms: %zu deliveries, %zu confirmed "
                    "acks in total\n",
                    round, delay_ms, deliveries, confirmed_.size());
        if (HasFailure()) return;
    }
    EXPECT_EQ(0u, redelivered_after_confirm_);
}

// Consumers created and deleted by three clients while the server is SIGKILLed: every create and delete the
// server answered stays done after the restart (an unanswered one may have happened or not).
// nats-server 2.9.10 passes too: it writes a consumer's directory before it answers.
class ConsumerCreateKill : public KillTest {
 protected:
    ConsumerCreateKill() : KillTest("consumer_create_kill") {}
};

TEST_F(ConsumerCreateKill, AnsweredCreatesAndDeletesSurviveSigkill) {
    constexpr int kRounds = 8;
    constexpr int kWorkers = 3;
    std::mt19937_64 random(seed_);
    std::mutex mutex;
    std::set<std::string> live;     // answered created, not answered deleted
    std::set<std::string> deleted;  // answered deleted
    std::atomic<int> next{0};
    for (int round = 0; round <= kRounds; ++round) {
        std::unique_ptr<ServerProcess> server = start();
        ASSERT_NE(server, nullptr);
        ConnectionPtr connection = connect(server->url());
        ASSERT_NE(connection, nullptr);
        if (round == 0) {
            auto created = api_request(connection.get(), "$JS.API.STREAM.CREATE.CC",
                                       R"({"name":"CC","subjects":["cc"]})", kApiWait);
            ASSERT_TRUE(created.has_value() && !created->contains("error"));
        }
        std::set<std::string> found;
        for (size_t offset = 0;; offset = found.size()) {
            auto names = api_request(connection.get(), "$JS.API.CONSUMER.NAMES.CC",
                                     R"({"offset":)" + std::to_string(offset) + "}", kRecoveryWait);
            ASSERT_TRUE(names.has_value());
            if (!names->contains("consumers") || (*names)["consumers"].empty()) break;
            for (const auto& name : (*names)["consumers"]) found.insert(name.get<std::string>());
        }
        for (const std::string& name : live) EXPECT_TRUE(found.contains(name)) << name << " lost in round " << round;
        for (const std::string& name : deleted) EXPECT_FALSE(found.contains(name)) << name << " back in round " << round;
        if (HasFailure() || round == kRounds) return;
        live = found;  // what was in flight settled one way or the other
        deleted.clear();
        std::vector<std::thread> workers;
        for (int w = 0; w < kWorkers; ++w) {
            workers.emplace_back([&, w] {
                ConnectionPtr own = connect(server->url());
                if (!own) return;
                std::mt19937_64 choose(seed_ + static_cast<uint64_t>(round * kWorkers + w));
                while (true) {
                    std::string name;
                    bool remove = false;
                    {
                        std::lock_guard lock(mutex);
                        remove = !live.empty() && choose() % 3 == 0;
                        name = remove ? *std::next(live.begin(), static_cast<long>(choose() % live.size()))
                                      : "C" + std::to_string(next++);
                        if (remove) live.erase(name);  // in flight: either way until answered
                    }
                    auto answer = remove ? api_request(own.get(), "$JS.API.CONSUMER.DELETE.CC." + name, "",
                                                       milliseconds(2000))
                                         : api_request(own.get(), "$JS.API.CONSUMER.DURABLE.CREATE.CC." + name,
                                                       R"({"stream_name":"CC","config":{"durable_name":")" + name +
                                                           R"(","ack_policy":"explicit"}})",
                                                       milliseconds(2000));
                    if (!answer.has_value()) return;  // the server is gone: this went either way
                    if (answer->contains("error")) continue;  // deleted by another worker meanwhile
                    std::lock_guard lock(mutex);
                    (remove ? deleted : live).insert(name);
                }
            });
        }
        std::this_thread::sleep_for(milliseconds(200 + static_cast<int>(random() % 1500)));
        server->stop(SIGKILL);
        for (std::thread& worker : workers) worker.join();
        connection.reset();
        std::printf("consumer_create_kill: round %d: %zu answered live, %zu answered deleted\n", round,
                    live.size(), deleted.size());
    }
}

}  // namespace
}  // namespace ringtail::test
