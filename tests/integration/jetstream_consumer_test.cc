// JetStream consumers: pull consumers (fetch, metadata, acks, naks, redelivery, max_deliver,
// max_ack_pending), push consumers (deliver policies, filters, ordered, queue groups, headers
// only, heartbeats), the consumer management API (create, update, info, names, list, delete and
// their errors), interest and workqueue retention, the raw pull request statuses, and a durable
// consumer's state across a restart. Driven through libnats (js_*, natsSubscription_Fetch*,
// natsMsg_Ack*) and, where libnats hides the wire, raw requests whose JSON or status is checked.
// Every expectation is nats-server 2.9.10's behaviour; where that is surprising a comment says so.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/js_helpers.h"
#include "tests/support/raw_client.h"
#include "tests/integration/nats_helpers.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

int64_t nanos(std::chrono::milliseconds duration) { return duration.count() * kNanosPerMilli; }

struct ConsumerDeleter {
    void operator()(jsConsumerInfo* info) const { jsConsumerInfo_Destroy(info); }
    void operator()(jsMsgMetaData* meta) const { jsMsgMetaData_Destroy(meta); }
    void operator()(jsConsumerNamesList* list) const { jsConsumerNamesList_Destroy(list); }
    void operator()(jsConsumerInfoList* list) const { jsConsumerInfoList_Destroy(list); }
};
using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, ConsumerDeleter>;
using MetaDataPtr = std::unique_ptr<jsMsgMetaData, ConsumerDeleter>;
using ConsumerNamesPtr = std::unique_ptr<jsConsumerNamesList, ConsumerDeleter>;
using ConsumerListPtr = std::unique_ptr<jsConsumerInfoList, ConsumerDeleter>;

// Owns the strings a jsConsumerConfig points at. It starts from jsConsumerConfig_Init, which
// leaves the three policies at -1: libnats then sends deliver all, ack explicit and replay
// instant. get() points raw's string fields at the owned strings, so a copy stays valid.
class ConsumerConfig {
 public:
    ConsumerConfig() { jsConsumerConfig_Init(&raw); }
    explicit ConsumerConfig(std::string durable) : ConsumerConfig() {
        durable_ = std::move(durable);
    }
    ConsumerConfig& filter(std::string subject) {
        filter_ = std::move(subject);
        return *this;
    }
    ConsumerConfig& deliver_subject(std::string subject) {
        deliver_subject_ = std::move(subject);
        return *this;
    }
    ConsumerConfig& description(std::string text) {
        description_ = std::move(text);
        return *this;
    }
    ConsumerConfig& ack_wait(std::chrono::milliseconds wait) {
        raw.AckWait = nanos(wait);
        return *this;
    }
    jsConsumerConfig* get() {
        raw.Durable = or_null(durable_);
        raw.FilterSubject = or_null(filter_);
        raw.DeliverSubject = or_null(deliver_subject_);
        raw.Description = or_null(description_);
        return &raw;
    }

    jsConsumerConfig raw{};

 private:
    static const char* or_null(const std::string& text) {
        return text.empty() ? nullptr : text.c_str();
    }
    std::string durable_;
    std::string filter_;
    std::string deliver_subject_;
    std::string description_;
};

// The counters of a jsConsumerInfo, compared as one value so a failure prints all of them.
struct ConsumerState {
    uint64_t delivered_consumer = 0;
    uint64_t delivered_stream = 0;
    uint64_t ack_floor_consumer = 0;
    uint64_t ack_floor_stream = 0;
    int64_t num_ack_pending = 0;
    int64_t num_redelivered = 0;
    int64_t num_waiting = 0;
    uint64_t num_pending = 0;
    bool operator==(const ConsumerState&) const = default;
};
std::ostream& operator<<(std::ostream& out, const ConsumerState& state) {
    return out << "{delivered " << state.delivered_consumer << "/" << state.delivered_stream
               << ", ack_floor " << state.ack_floor_consumer << "/" << state.ack_floor_stream
               << ", num_ack_pending " << state.num_ack_pending << ", num_redelivered "
               << state.num_redelivered << ", num_waiting " << state.num_waiting << ", num_pending "
               << state.num_pending << "}";
}
ConsumerState state_of(const jsConsumerInfo& info) {
    return {info.Delivered.Consumer, info.Delivered.Stream, info.AckFloor.Consumer,
            info.AckFloor.Stream,    info.NumAckPending,    info.NumRedelivered,
            info.NumWaiting,         info.NumPending};
}
// What state() returns when the consumer info could not be read.
const ConsumerState kNoState{UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, -1, -1, -1, 0};

// What natsMsg_GetMetaData parsed out of a delivered message's ack subject.
struct Meta {
    std::string stream;
    std::string consumer;
    uint64_t stream_seq = 0;
    uint64_t consumer_seq = 0;
    uint64_t delivered = 0;
    uint64_t pending = 0;
    bool operator==(const Meta&) const = default;
};
std::ostream& operator<<(std::ostream& out, const Meta& meta) {
    return out << "{" << meta.stream << " > " << meta.consumer << ", stream_seq " << meta.stream_seq
               << ", consumer_seq " << meta.consumer_seq << ", delivered " << meta.delivered
               << ", pending " << meta.pending << "}";
}
Meta meta_of(natsMsg* msg) {
    jsMsgMetaData* raw = nullptr;
    if (msg == nullptr || natsMsg_GetMetaData(&raw, msg) != NATS_OK) return {};
    MetaDataPtr meta(raw);
    return {meta->Stream != nullptr ? meta->Stream : "",
            meta->Consumer != nullptr ? meta->Consumer : "",
            meta->Sequence.Stream,
            meta->Sequence.Consumer,
            meta->NumDelivered,
            meta->NumPending};
}
int64_t timestamp_of(natsMsg* msg) {
    jsMsgMetaData* raw = nullptr;
    if (msg == nullptr || natsMsg_GetMetaData(&raw, msg) != NATS_OK) return 0;
    MetaDataPtr meta(raw);
    return meta->Timestamp;
}

// RFC 3339 in UTC with all nine digits of the fraction ("2006-01-02T15:04:05.000000001Z"), which
// nats-server parses exactly. Start times are sent raw with it: libnats 3.4.1 writes the fraction
// without its leading zeros (0.05 s becomes ".5"), moving any start time whose fraction is below
// 0.1 s.
std::string rfc3339_utc(int64_t unix_ns) {
    time_t seconds = static_cast<time_t>(unix_ns / kNanosPerSecond);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[64];
    size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
    char fraction[16];
    std::snprintf(fraction, sizeof(fraction), ".%09lldZ",
                  static_cast<long long>(unix_ns % kNanosPerSecond));
    return std::string(text, length) + fraction;
}

// What a fetch returned: its status, the JetStream err_code and the messages, owned.
struct Fetched {
    natsStatus status = NATS_OK;
    int err_code = 0;
    std::vector<MsgPtr> msgs;
};
std::ostream& operator<<(std::ostream& out, const Fetched& fetched) {
    return out << "{status " << natsStatus_GetText(fetched.status) << ", err_code "
               << fetched.err_code << ", " << fetched.msgs.size() << " msgs}";
}
Fetched take_list(natsStatus status, jsErrCode err_code, natsMsgList& list) {
    Fetched fetched;
    fetched.status = status;
    fetched.err_code = static_cast<int>(err_code);
    for (int i = 0; i < list.Count; ++i) {
        fetched.msgs.emplace_back(list.Msgs[i]);
        list.Msgs[i] = nullptr;
    }
    natsMsgList_Destroy(&list);
    return fetched;
}
Fetched fetch(natsSubscription* sub, int batch, std::chrono::milliseconds timeout) {
    natsMsgList list{};
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = natsSubscription_Fetch(&list, sub, batch, timeout.count(), &err_code);
    return take_list(status, err_code, list);
}
Fetched fetch_request(natsSubscription* sub, jsFetchRequest& request) {
    natsMsgList list{};
    natsStatus status = natsSubscription_FetchRequest(&list, sub, &request);
    return take_list(status, static_cast<jsErrCode>(0), list);
}

std::vector<std::string> data_of(const std::vector<MsgPtr>& msgs) {
    std::vector<std::string> data;
    for (const MsgPtr& msg : msgs) data.emplace_back(msg_data(msg.get()));
    return data;
}
std::vector<uint64_t> stream_seqs_of(const std::vector<MsgPtr>& msgs) {
    std::vector<uint64_t> seqs;
    for (const MsgPtr& msg : msgs) seqs.push_back(meta_of(msg.get()).stream_seq);
    return seqs;
}
// "m<first>" ... "m<first + count - 1>": the payloads publish_numbered() stores.
std::vector<std::string> numbered(int first, int count) {
    std::vector<std::string> data;
    for (int i = first; i < first + count; ++i) data.push_back("m" + std::to_string(i));
    return data;
}

// The value of header `name` on `msg`, or "<absent>"; the status line of a JetStream status
// message is split by libnats into "Status" and "Description".
std::string status_of(natsMsg* msg) { return header_value(msg, "Status"); }
std::string description_of(natsMsg* msg) { return header_value(msg, "Description"); }

// Collects what an asynchronous subscription's callback receives.
class Collector {
 public:
    static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
        auto* self = static_cast<Collector*>(closure);
        std::lock_guard lock(self->mutex_);
        self->data_.emplace_back(msg_data(msg));
        natsMsg_Destroy(msg);
    }
    std::vector<std::string> data() const {
        std::lock_guard lock(mutex_);
        return data_;
    }
    size_t count() const {
        std::lock_guard lock(mutex_);
        return data_.size();
    }

 private:
    mutable std::mutex mutex_;
    std::vector<std::string> data_;
};

class JetStreamConsumer : public JetStreamTest {
 protected:
    // A file stream with `retention`.
    void create_stream(const std::string& name, std::vector<std::string> subjects,
                       jsRetentionPolicy retention = js_LimitsPolicy) {
        StreamConfig config(name, std::move(subjects));
        config.raw.Retention = retention;
        JsOutcome outcome = add_stream(js(), config);
        ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    }
    // Publishes "m<first>" ... to `subject`; false (with a failure recorded) if one is refused.
    bool publish_numbered(const std::string& subject, int count, int first = 1) {
        for (int i = first; i < first + count; ++i) {
            PubOutcome pub = publish(js(), subject, "m" + std::to_string(i));
            EXPECT_TRUE(pub.ok()) << pub;
            if (!pub.ok()) return false;
        }
        return true;
    }
    JsOutcome add_consumer(const std::string& stream, ConsumerConfig& config,
                           ConsumerInfoPtr* info = nullptr) {
        return consumer_call(&js_AddConsumer, stream, config, info);
    }
    JsOutcome update_consumer(const std::string& stream, ConsumerConfig& config,
                              ConsumerInfoPtr* info = nullptr) {
        return consumer_call(&js_UpdateConsumer, stream, config, info);
    }
    ConsumerInfoPtr consumer_info(const std::string& stream, const std::string& name,
                                  JsOutcome* outcome = nullptr) {
        jsConsumerInfo* raw = nullptr;
        jsErrCode err_code = static_cast<jsErrCode>(0);
        natsStatus status =
            js_GetConsumerInfo(&raw, js(), stream.c_str(), name.c_str(), nullptr, &err_code);
        if (outcome != nullptr) *outcome = outcome_of(status, err_code);
        return ConsumerInfoPtr(status == NATS_OK ? raw : nullptr);
    }
    ConsumerState state(const std::string& stream, const std::string& name) {
        ConsumerInfoPtr info = consumer_info(stream, name);
        return info ? state_of(*info) : kNoState;
    }
    // Acks are processed by the consumer after the client sent them, so a check after a plain
    // ack polls until the consumer shows `expected` (and then compares once more, for the log).
    void expect_state_reaches(const std::string& stream, const std::string& name,
                              const ConsumerState& expected) {
        wait_for([&] { return state(stream, name) == expected; }, 3s);
        EXPECT_EQ(expected, state(stream, name));
    }
    uint64_t stream_msgs(const std::string& stream) {
        StreamInfoPtr info = stream_info(js(), stream);
        return info ? info->State.Msgs : UINT64_MAX;
    }
    // A pull subscription bound to the existing consumer `stream` > `consumer`.
    SubscriptionPtr bind_pull(const std::string& stream, const std::string& consumer) {
        jsSubOptions options;
        jsSubOptions_Init(&options);
        options.Stream = stream.c_str();
        options.Consumer = consumer.c_str();
        natsSubscription* raw = nullptr;
        jsErrCode err_code = static_cast<jsErrCode>(0);
        natsStatus status =
            js_PullSubscribe(&raw, js(), nullptr, nullptr, nullptr, &options, &err_code);
        EXPECT_EQ(NATS_OK, status) << outcome_of(status, err_code);
        return SubscriptionPtr(status == NATS_OK ? raw : nullptr);
    }
    // Creates the pull consumer `config` on `stream` and binds a pull subscription to it.
    SubscriptionPtr pull_consumer(const std::string& stream, ConsumerConfig& config) {
        ConsumerInfoPtr info;
        JsOutcome outcome = add_consumer(stream, config, &info);
        EXPECT_EQ(NATS_OK, outcome.status) << outcome;
        if (!info) return nullptr;
        return bind_pull(stream, info->Name);
    }
    // js_SubscribeSync on `subject` with `options` (a push consumer libnats creates or binds).
    SubscriptionPtr push_subscribe(const std::string& subject, jsSubOptions& options,
                                   JsOutcome* outcome = nullptr) {
        natsSubscription* raw = nullptr;
        jsErrCode err_code = static_cast<jsErrCode>(0);
        natsStatus status =
            js_SubscribeSync(&raw, js(), subject.c_str(), nullptr, &options, &err_code);
        if (outcome != nullptr) *outcome = outcome_of(status, err_code);
        return SubscriptionPtr(status == NATS_OK ? raw : nullptr);
    }
    // Up to `count` messages from a push subscription, each within `timeout`.
    std::vector<MsgPtr> next_msgs(natsSubscription* sub, size_t count,
                                  std::chrono::milliseconds timeout = 2s) {
        std::vector<MsgPtr> msgs;
        while (msgs.size() < count) {
            MsgPtr msg = next_msg(sub, timeout);
            if (!msg) break;
            msgs.push_back(std::move(msg));
        }
        return msgs;
    }
    // A raw request to the consumer's next-message subject; the first reply.
    MsgPtr next_request(const std::string& stream, const std::string& consumer,
                        const std::string& body) {
        natsStatus status = NATS_OK;
        MsgPtr reply = raw_request(nc(), "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + consumer,
                                   body, 2s, &status);
        EXPECT_NE(nullptr, reply) << natsStatus_GetText(status);
        return reply;
    }

 private:
    using ConsumerCall = natsStatus (*)(jsConsumerInfo**, jsCtx*, const char*, jsConsumerConfig*,
                                        jsOptions*, jsErrCode*);
    JsOutcome consumer_call(ConsumerCall call, const std::string& stream, ConsumerConfig& config,
                            ConsumerInfoPtr* info) {
        jsConsumerInfo* raw = nullptr;
        jsErrCode err_code = static_cast<jsErrCode>(0);
        natsStatus status = call(&raw, js(), stream.c_str(), config.get(), nullptr, &err_code);
        JsOutcome outcome = outcome_of(status, err_code);
        ConsumerInfoPtr owned(raw);
        if (info != nullptr) *info = std::move(owned);
        return outcome;
    }
};

// --- Creating consumers through libnats --------------------------------------------------------

TEST_F(JetStreamConsumer, AddConsumerReturnsTheDefaultedConfigAndAnEmptyState) {
    create_stream("ORDERS", {"orders.*"});
    ASSERT_TRUE(publish_numbered("orders.new", 3));
    ConsumerConfig config("PROCESSOR");
    config.description("processes orders");
    ConsumerInfoPtr info;
    JsOutcome outcome = add_consumer("ORDERS", config, &info);
    ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    ASSERT_NE(nullptr, info);
    EXPECT_STREQ("ORDERS", info->Stream);
    EXPECT_STREQ("PROCESSOR", info->Name);
    EXPECT_GT(info->Created, 0);
    ASSERT_NE(nullptr, info->Config);
    const jsConsumerConfig& applied = *info->Config;
    EXPECT_STREQ("PROCESSOR", applied.Durable);
    EXPECT_STREQ("processes orders", applied.Description);
    EXPECT_EQ(js_DeliverAll, applied.DeliverPolicy);
    EXPECT_EQ(js_AckExplicit, applied.AckPolicy);
    EXPECT_EQ(js_ReplayInstant, applied.ReplayPolicy);
    // The server's defaults for an explicit-ack pull consumer.
    EXPECT_EQ(30 * kNanosPerSecond, applied.AckWait);
    EXPECT_EQ(-1, applied.MaxDeliver);
    EXPECT_EQ(1000, applied.MaxAckPending);
    EXPECT_EQ(512, applied.MaxWaiting);
    EXPECT_EQ(nullptr, applied.DeliverSubject);
    EXPECT_EQ(nullptr, applied.FilterSubject);
    EXPECT_FALSE(applied.HeadersOnly);
    // Nothing delivered yet; all three messages are pending.
    EXPECT_EQ((ConsumerState{.num_pending = 3}), state_of(*info));
    EXPECT_FALSE(info->PushBound);

    // An ephemeral consumer gets a name chosen by the server.
    ConsumerConfig ephemeral;
    ConsumerInfoPtr ephemeral_info;
    outcome = add_consumer("ORDERS", ephemeral, &ephemeral_info);
    ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    ASSERT_NE(nullptr, ephemeral_info);
    std::string name = ephemeral_info->Name;
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(nullptr, ephemeral_info->Config->Durable);
    EXPECT_NE(nullptr, consumer_info("ORDERS", name));
}

TEST_F(JetStreamConsumer, CreateOrUpdateOfADurableChangesOnlyEditableFields) {
    create_stream("UPD", {"upd.*"});
    ConsumerConfig config("WORKER");
    config.ack_wait(1000ms);
    ASSERT_EQ(NATS_OK, add_consumer("UPD", config).status);
    // The same config again is fine.
    ConsumerInfoPtr info;
    ASSERT_EQ(NATS_OK, add_consumer("UPD", config, &info).status);
    EXPECT_EQ(nanos(1000ms), info->Config->AckWait);

    // nats-server 2.9.10 has no separate update API: a create of an existing durable with
    // changed editable fields updates it, exactly as js_UpdateConsumer does.
    config.ack_wait(2000ms);
    config.description("edited by create");
    JsOutcome outcome = add_consumer("UPD", config, &info);
    ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    EXPECT_EQ(nanos(2000ms), info->Config->AckWait);
    EXPECT_STREQ("edited by create", info->Config->Description);

    config.raw.MaxDeliver = 5;
    config.raw.MaxAckPending = 7;
    config.description("edited by update");
    outcome = update_consumer("UPD", config, &info);
    ASSERT_EQ(NATS_OK, outcome.status) << outcome;
    EXPECT_EQ(5, info->Config->MaxDeliver);
    EXPECT_EQ(7, info->Config->MaxAckPending);
    EXPECT_STREQ("edited by update", info->Config->Description);
    info = consumer_info("UPD", "WORKER");
    ASSERT_NE(nullptr, info);
    EXPECT_EQ(5, info->Config->MaxDeliver);

    // Fixed fields cannot change; the error is the generic create error 10012 carrying the reason.
    struct FixedCase {
        const char* label;
        void (*mutate)(ConsumerConfig&);
        std::string description;
    };
    const std::vector<FixedCase> cases = {
        {"deliver policy", [](ConsumerConfig& c) { c.raw.DeliverPolicy = js_DeliverNew; },
         "deliver policy can not be updated"},
        {"ack policy", [](ConsumerConfig& c) { c.raw.AckPolicy = js_AckAll; },
         "ack policy can not be updated"},
        {"replay policy", [](ConsumerConfig& c) { c.raw.ReplayPolicy = js_ReplayOriginal; },
         "replay policy can not be updated"},
        // The first difference checked is max_waiting: 512 by default for pull, 0 for push.
        {"pull to push", [](ConsumerConfig& c) { c.deliver_subject("deliver.upd"); },
         "max waiting can not be updated"},
    };
    for (const FixedCase& c : cases) {
        SCOPED_TRACE(c.label);
        ConsumerConfig changed = config;
        c.mutate(changed);
        outcome = update_consumer("UPD", changed);
        EXPECT_EQ(NATS_ERR, outcome.status) << outcome;
        EXPECT_EQ(JSConsumerCreateErr, outcome.err_code);
        EXPECT_EQ(c.description, outcome.text);
    }
    // nats-server 2.9.10 quirk: "updating" a consumer that does not exist creates it, since
    // libnats sends updates to the create API.
    ConsumerConfig missing("MISSING");
    outcome = update_consumer("UPD", missing);
    EXPECT_EQ(NATS_OK, outcome.status) << outcome;
    EXPECT_NE(nullptr, consumer_info("UPD", "MISSING"));
}

// --- Pull consumers ----------------------------------------------------------------------------

TEST_F(JetStreamConsumer, PullFetchDeliversInOrderWithMetadataAndAcksMoveTheAckFloor) {
    create_stream("PULL", {"pull.*"});
    ASSERT_TRUE(publish_numbered("pull.a", 5));
    ConsumerConfig config("PULLER");
    SubscriptionPtr sub = pull_consumer("PULL", config);
    ASSERT_NE(nullptr, sub);

    Fetched fetched = fetch(sub.get(), 5, 2s);
    ASSERT_EQ(NATS_OK, fetched.status) << fetched;
    EXPECT_EQ(0, fetched.err_code);
    ASSERT_EQ(5u, fetched.msgs.size());
    EXPECT_EQ(numbered(1, 5), data_of(fetched.msgs));
    for (size_t i = 0; i < fetched.msgs.size(); ++i) {
        natsMsg* msg = fetched.msgs[i].get();
        SCOPED_TRACE(i);
        EXPECT_STREQ("pull.a", natsMsg_GetSubject(msg));
        EXPECT_EQ((Meta{"PULL", "PULLER", i + 1, i + 1, 1, 4 - i}), meta_of(msg));
        // The timestamp is the stored message's.
        MsgPtr stored = get_msg(js(), "PULL", i + 1);
        ASSERT_NE(nullptr, stored);
        EXPECT_EQ(natsMsg_GetTime(stored.get()), timestamp_of(msg));
    }
    // Delivered but not acked yet.
    EXPECT_EQ((ConsumerState{.delivered_consumer = 5, .delivered_stream = 5, .num_ack_pending = 5}),
              state("PULL", "PULLER"));

    for (const MsgPtr& msg : fetched.msgs) ASSERT_EQ(NATS_OK, natsMsg_Ack(msg.get(), nullptr));
    expect_state_reaches("PULL", "PULLER",
                         {.delivered_consumer = 5,
                          .delivered_stream = 5,
                          .ack_floor_consumer = 5,
                          .ack_floor_stream = 5});

    // More messages continue the sequences.
    ASSERT_TRUE(publish_numbered("pull.b", 2, 6));
    EXPECT_EQ(2u, state("PULL", "PULLER").num_pending);
    fetched = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, fetched.msgs.size()) << fetched;
    EXPECT_EQ((Meta{"PULL", "PULLER", 6, 6, 1, 1}), meta_of(fetched.msgs[0].get()));
    EXPECT_EQ("m6", msg_data(fetched.msgs[0].get()));
}

TEST_F(JetStreamConsumer, AcksOutOfOrderLeaveTheAckFloorAtTheFirstGap) {
    create_stream("GAPS", {"gaps"});
    ASSERT_TRUE(publish_numbered("gaps", 4));
    ConsumerConfig config("C");
    SubscriptionPtr sub = pull_consumer("GAPS", config);
    ASSERT_NE(nullptr, sub);
    Fetched fetched = fetch(sub.get(), 4, 2s);
    ASSERT_EQ(4u, fetched.msgs.size()) << fetched;

    // Acking 2 and 4 leaves 1 unacked: the floor stays at 0.
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[1].get(), nullptr, nullptr));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[3].get(), nullptr, nullptr));
    EXPECT_EQ((ConsumerState{.delivered_consumer = 4, .delivered_stream = 4, .num_ack_pending = 2}),
              state("GAPS", "C"));
    // Acking 1 moves the floor past 2, up to the next gap at 3.
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[0].get(), nullptr, nullptr));
    EXPECT_EQ((ConsumerState{.delivered_consumer = 4,
                             .delivered_stream = 4,
                             .ack_floor_consumer = 2,
                             .ack_floor_stream = 2,
                             .num_ack_pending = 1}),
              state("GAPS", "C"));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[2].get(), nullptr, nullptr));
    EXPECT_EQ((ConsumerState{.delivered_consumer = 4,
                             .delivered_stream = 4,
                             .ack_floor_consumer = 4,
                             .ack_floor_stream = 4}),
              state("GAPS", "C"));
}

TEST_F(JetStreamConsumer, FetchOnAnEmptyStreamTimesOut) {
    create_stream("EMPTY", {"empty"});
    ConsumerConfig config("C");
    SubscriptionPtr sub = pull_consumer("EMPTY", config);
    ASSERT_NE(nullptr, sub);

    // One message wanted: a waiting request that the server expires with 408.
    Fetched one = fetch(sub.get(), 1, 300ms);
    EXPECT_EQ(NATS_TIMEOUT, one.status) << one;
    EXPECT_EQ(0, one.err_code);
    EXPECT_TRUE(one.msgs.empty());
    // Several wanted: libnats asks with no_wait and an expiry, and nats-server holds such a
    // request until it expires too.
    Fetched several = fetch(sub.get(), 5, 300ms);
    EXPECT_EQ(NATS_TIMEOUT, several.status) << several;
    EXPECT_EQ(0, several.err_code);
    EXPECT_TRUE(several.msgs.empty());
    // A no_wait fetch request with an expiry waits for it too: nats-server answers "404 No
    // Messages" only to a no_wait request without expires.
    jsFetchRequest request;
    jsFetchRequest_Init(&request);
    request.Batch = 3;
    request.NoWait = true;
    request.Expires = nanos(300ms);
    Fetched no_wait = fetch_request(sub.get(), request);
    EXPECT_EQ(NATS_TIMEOUT, no_wait.status) << no_wait;
    EXPECT_TRUE(no_wait.msgs.empty());

    // The expired requests are gone and nothing was delivered.
    EXPECT_EQ(ConsumerState{}, state("EMPTY", "C"));
    // A message published now is fetched by the next request.
    ASSERT_TRUE(publish_numbered("empty", 1));
    Fetched later = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(NATS_OK, later.status) << later;
    EXPECT_EQ(numbered(1, 1), data_of(later.msgs));
}

TEST_F(JetStreamConsumer, FetchReturnsWhatIsThereWhenTheBatchIsLarger) {
    create_stream("SOME", {"some"});
    ASSERT_TRUE(publish_numbered("some", 3));
    ConsumerConfig config("C");
    SubscriptionPtr sub = pull_consumer("SOME", config);
    ASSERT_NE(nullptr, sub);

    // A no_wait request ends when the stream has nothing more (nats-server closes it with a 408
    // that libnats swallows because it has messages). It needs an expiry: without one libnats
    // 3.4.1 polls its queue once, right after sending, and returns NATS_TIMEOUT before any answer.
    jsFetchRequest request;
    jsFetchRequest_Init(&request);
    request.Batch = 10;
    request.NoWait = true;
    request.Expires = nanos(5000ms);
    Fetched fetched = fetch_request(sub.get(), request);
    ASSERT_EQ(NATS_OK, fetched.status) << fetched;
    EXPECT_EQ(numbered(1, 3), data_of(fetched.msgs));
    EXPECT_EQ(0, state("SOME", "C").num_waiting);

    // natsSubscription_Fetch does the same for a batch larger than what is pending.
    ASSERT_TRUE(publish_numbered("some", 2, 4));
    fetched = fetch(sub.get(), 10, 5000ms);
    ASSERT_EQ(NATS_OK, fetched.status) << fetched;
    EXPECT_EQ(numbered(4, 2), data_of(fetched.msgs));
    EXPECT_EQ((std::vector<uint64_t>{4, 5}), stream_seqs_of(fetched.msgs));
}

// A no_wait request for more than one turn's deliveries still gets its whole batch from a
// backlog (nats.go's Fetch asks no_wait for every batch above one).
TEST_F(JetStreamConsumer, ANoWaitFetchTakesItsWholeBatchFromABacklog) {
    create_stream("BIG", {"big"});
    ASSERT_TRUE(publish_numbered("big", 700));
    ConsumerConfig config("C");
    SubscriptionPtr sub = pull_consumer("BIG", config);
    ASSERT_NE(nullptr, sub);
    jsFetchRequest request;
    jsFetchRequest_Init(&request);
    request.Batch = 600;
    request.NoWait = true;
    request.Expires = nanos(5000ms);
    Fetched fetched = fetch_request(sub.get(), request);
    ASSERT_EQ(NATS_OK, fetched.status) << fetched;
    EXPECT_EQ(numbered(1, 600), data_of(fetched.msgs));
}

TEST_F(JetStreamConsumer, FetchMaxBytesStopsTheBatchEarly) {
    create_stream("BYTES", {"bytes"});
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(publish(js(), "bytes", std::string(100, 'x')).ok());
    ConsumerConfig config("C");
    SubscriptionPtr sub = pull_consumer("BYTES", config);
    ASSERT_NE(nullptr, sub);
    // nats-server counts a delivery as subject + ack subject + headers + payload: here 5 + 44 +
    // 0 + 100 = 149 bytes, so 400 bytes hold two; the third ends the request with "409 Message
    // Size Exceeds MaxBytes", which libnats swallows because it has messages.
    jsFetchRequest request;
    jsFetchRequest_Init(&request);
    request.Batch = 4;
    request.MaxBytes = 400;
    request.Expires = nanos(1000ms);
    Fetched fetched = fetch_request(sub.get(), request);
    EXPECT_EQ(NATS_OK, fetched.status) << fetched;
    EXPECT_EQ((std::vector<uint64_t>{1, 2}), stream_seqs_of(fetched.msgs));
}

TEST_F(JetStreamConsumer, UnackedMessageIsRedeliveredAfterAckWait) {
    create_stream("REDO", {"redo"});
    ASSERT_TRUE(publish_numbered("redo", 2));
    ConsumerConfig config("C");
    config.ack_wait(300ms);
    SubscriptionPtr sub = pull_consumer("REDO", config);
    ASSERT_NE(nullptr, sub);

    Fetched first = fetch(sub.get(), 2, 2s);
    ASSERT_EQ(2u, first.msgs.size()) << first;
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(first.msgs[1].get(), nullptr, nullptr));
    // Message 1 is never acked: after ack_wait it comes again, with the next consumer sequence.
    Fetched again = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, again.msgs.size()) << again;
    EXPECT_EQ("m1", msg_data(again.msgs[0].get()));
    EXPECT_EQ((Meta{"REDO", "C", 1, 3, 2, 0}), meta_of(again.msgs[0].get()));
    EXPECT_EQ((ConsumerState{.delivered_consumer = 3,
                             .delivered_stream = 2,
                             .num_ack_pending = 1,
                             .num_redelivered = 1}),
              state("REDO", "C"));

    // Once acked the floor jumps over both, and the redelivered count is cleared.
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(again.msgs[0].get(), nullptr, nullptr));
    EXPECT_EQ((ConsumerState{.delivered_consumer = 3,
                             .delivered_stream = 2,
                             .ack_floor_consumer = 3,
                             .ack_floor_stream = 2}),
              state("REDO", "C"));
}

TEST_F(JetStreamConsumer, MaxDeliverStopsRedelivery) {
    create_stream("MAXD", {"maxd"});
    ASSERT_TRUE(publish_numbered("maxd", 1));
    ConsumerConfig config("C");
    config.ack_wait(300ms);
    config.raw.MaxDeliver = 2;
    SubscriptionPtr sub = pull_consumer("MAXD", config);
    ASSERT_NE(nullptr, sub);

    Fetched first = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, first.msgs.size()) << first;
    EXPECT_EQ(1u, meta_of(first.msgs[0].get()).delivered);
    Fetched second = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, second.msgs.size()) << second;
    EXPECT_EQ((Meta{"MAXD", "C", 1, 2, 2, 0}), meta_of(second.msgs[0].get()));
    // Two deliveries were allowed; a third never comes, well past another ack_wait.
    Fetched third = fetch(sub.get(), 1, 900ms);
    EXPECT_EQ(NATS_TIMEOUT, third.status) << third;
    EXPECT_TRUE(third.msgs.empty());
    // nats-server 2.9.10 drops the message from the pending set when it would deliver it a
    // third time (here: for the waiting fetch, after the second ack wait), without acking it:
    // nothing is pending, yet the ack floor stays below it and it still counts as redelivered.
    EXPECT_EQ((ConsumerState{.delivered_consumer = 2, .delivered_stream = 1, .num_redelivered = 1}),
              state("MAXD", "C"));
    // Later messages are delivered as usual.
    ASSERT_TRUE(publish_numbered("maxd", 1, 2));
    Fetched later = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, later.msgs.size()) << later;
    EXPECT_EQ((Meta{"MAXD", "C", 2, 3, 1, 0}), meta_of(later.msgs[0].get()));
}

TEST_F(JetStreamConsumer, NakRedeliversAtOnce) {
    create_stream("NAK", {"nak"});
    // One message only: a nak is processed after the pull requests the client sends later, so
    // with more messages the next fetch could get the next message first.
    ASSERT_TRUE(publish_numbered("nak", 1));
    ConsumerConfig config("C");
    config.ack_wait(30000ms);
    SubscriptionPtr sub = pull_consumer("NAK", config);
    ASSERT_NE(nullptr, sub);

    Fetched first = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, first.msgs.size()) << first;
    ASSERT_EQ(NATS_OK, natsMsg_Nak(first.msgs[0].get(), nullptr));
    // The ack wait is 30 s; the nak'ed message is the next one delivered, long before that.
    Fetched again = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, again.msgs.size()) << again;
    EXPECT_EQ((Meta{"NAK", "C", 1, 2, 2, 0}), meta_of(again.msgs[0].get()));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(again.msgs[0].get(), nullptr, nullptr));
    ASSERT_TRUE(publish_numbered("nak", 1, 2));
    Fetched next = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, next.msgs.size()) << next;
    EXPECT_EQ((Meta{"NAK", "C", 2, 3, 1, 0}), meta_of(next.msgs[0].get()));
}

TEST_F(JetStreamConsumer, NakWithDelayRedeliversOnlyAfterTheDelay) {
    create_stream("NAKD", {"nakd"});
    ASSERT_TRUE(publish_numbered("nakd", 1));
    ConsumerConfig config("C");
    config.ack_wait(30000ms);
    SubscriptionPtr sub = pull_consumer("NAKD", config);
    ASSERT_NE(nullptr, sub);

    Fetched first = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, first.msgs.size()) << first;
    ASSERT_EQ(NATS_OK, natsMsg_NakWithDelay(first.msgs[0].get(), 700, nullptr));
    // Not within the first 250 ms of the 700 ms delay...
    Fetched early = fetch(sub.get(), 1, 250ms);
    EXPECT_EQ(NATS_TIMEOUT, early.status) << early;
    // ...but after it (and long before the 30 s ack wait).
    Fetched later = fetch(sub.get(), 1, 2500ms);
    ASSERT_EQ(1u, later.msgs.size()) << later;
    EXPECT_EQ((Meta{"NAKD", "C", 1, 2, 2, 0}), meta_of(later.msgs[0].get()));
}

TEST_F(JetStreamConsumer, InProgressExtendsTheAckWait) {
    create_stream("WPI", {"wpi"});
    ASSERT_TRUE(publish_numbered("wpi", 1));
    ConsumerConfig config("C");
    // The ack wait is six times the interval between progress reports, so that a client
    // stalled by a loaded machine does not let it lapse.
    config.ack_wait(1500ms);
    SubscriptionPtr sub = pull_consumer("WPI", config);
    ASSERT_NE(nullptr, sub);

    Fetched first = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, first.msgs.size()) << first;
    // Every 250 ms the worker says it is still busy: 2 s pass (more than the ack wait) without
    // a redelivery.
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(NATS_OK, natsMsg_InProgress(first.msgs[0].get(), nullptr));
        Fetched none = fetch(sub.get(), 1, 250ms);
        ASSERT_EQ(NATS_TIMEOUT, none.status) << "round " << i << ": " << none;
    }
    EXPECT_EQ(0, state("WPI", "C").num_redelivered);
    // When it stops, the message comes back one ack wait later.
    Fetched again = fetch(sub.get(), 1, 4s);
    ASSERT_EQ(1u, again.msgs.size()) << again;
    EXPECT_EQ((Meta{"WPI", "C", 1, 2, 2, 0}), meta_of(again.msgs[0].get()));
}

// Acks, progress reports included, are activity: a worker that takes longer than the
// inactive_threshold over a message, saying so, keeps its pull consumer; once it is quiet the
// consumer goes.
TEST_F(JetStreamConsumer, AcksKeepAPullConsumerPastItsInactiveThreshold) {
    create_stream("BUSY", {"busy"});
    ASSERT_TRUE(publish_numbered("busy", 1));
    ConsumerConfig config("C");
    config.ack_wait(30s);
    config.raw.InactiveThreshold = nanos(500ms);
    SubscriptionPtr sub = pull_consumer("BUSY", config);
    ASSERT_NE(nullptr, sub);
    Fetched first = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, first.msgs.size()) << first;
    for (int i = 0; i < 8; ++i) {
        ASSERT_EQ(NATS_OK, natsMsg_InProgress(first.msgs[0].get(), nullptr));
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_NE(nullptr, consumer_info("BUSY", "C")) << "gone while its worker reported progress";
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(first.msgs[0].get(), nullptr, nullptr));
    std::this_thread::sleep_for(2500ms);
    JsOutcome outcome;
    EXPECT_EQ(nullptr, consumer_info("BUSY", "C", &outcome));
    EXPECT_EQ(JSConsumerNotFoundErr, outcome.err_code) << outcome;
}

TEST_F(JetStreamConsumer, TermStopsRedelivery) {
    create_stream("TERM", {"term"});
    ASSERT_TRUE(publish_numbered("term", 2));
    ConsumerConfig config("C");
    config.ack_wait(300ms);
    SubscriptionPtr sub = pull_consumer("TERM", config);
    ASSERT_NE(nullptr, sub);

    Fetched first = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, first.msgs.size()) << first;
    ASSERT_EQ(NATS_OK, natsMsg_Term(first.msgs[0].get(), nullptr));
    // Terminated counts as acknowledged: the floor moves.
    expect_state_reaches("TERM", "C",
                         {.delivered_consumer = 1,
                          .delivered_stream = 1,
                          .ack_floor_consumer = 1,
                          .ack_floor_stream = 1,
                          .num_pending = 1});
    // The next delivery is message 2, and message 1 never comes back.
    Fetched next = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, next.msgs.size()) << next;
    EXPECT_EQ((Meta{"TERM", "C", 2, 2, 1, 0}), meta_of(next.msgs[0].get()));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(next.msgs[0].get(), nullptr, nullptr));
    Fetched none = fetch(sub.get(), 1, 700ms);
    EXPECT_EQ(NATS_TIMEOUT, none.status) << none;
}

TEST_F(JetStreamConsumer, AckSyncIsConfirmedByTheServer) {
    create_stream("SYNC", {"sync"});
    ASSERT_TRUE(publish_numbered("sync", 2));
    ConsumerConfig config("C");
    SubscriptionPtr sub = pull_consumer("SYNC", config);
    ASSERT_NE(nullptr, sub);
    Fetched fetched = fetch(sub.get(), 2, 2s);
    ASSERT_EQ(2u, fetched.msgs.size()) << fetched;

    jsErrCode err_code = static_cast<jsErrCode>(0);
    EXPECT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[0].get(), nullptr, &err_code));
    EXPECT_EQ(0, static_cast<int>(err_code));
    // The confirmation comes after the ack was applied: no polling needed.
    EXPECT_EQ((ConsumerState{.delivered_consumer = 2,
                             .delivered_stream = 2,
                             .ack_floor_consumer = 1,
                             .ack_floor_stream = 1,
                             .num_ack_pending = 1}),
              state("SYNC", "C"));
    // The raw confirmation is an empty message.
    natsStatus status = NATS_OK;
    MsgPtr reply = raw_request(nc(), natsMsg_GetReply(fetched.msgs[1].get()), "+ACK", 2s, &status);
    ASSERT_NE(nullptr, reply) << natsStatus_GetText(status);
    EXPECT_EQ(0, natsMsg_GetDataLength(reply.get()));
    EXPECT_EQ(0, state("SYNC", "C").num_ack_pending);
    // Acking again (already acked on the server) is confirmed as well.
    reply = raw_request(nc(), natsMsg_GetReply(fetched.msgs[1].get()), "+ACK", 2s, &status);
    EXPECT_NE(nullptr, reply) << natsStatus_GetText(status);
}

TEST_F(JetStreamConsumer, MaxAckPendingLimitsOutstandingDeliveries) {
    create_stream("MAP", {"map"});
    ASSERT_TRUE(publish_numbered("map", 5));
    ConsumerConfig config("C");
    config.raw.MaxAckPending = 2;
    SubscriptionPtr sub = pull_consumer("MAP", config);
    ASSERT_NE(nullptr, sub);

    // The request stays open (nats-server does not end a request held up by max_ack_pending),
    // so each fetch returns at its timeout.
    Fetched first = fetch(sub.get(), 5, 300ms);
    ASSERT_EQ(NATS_OK, first.status) << first;
    EXPECT_EQ(numbered(1, 2), data_of(first.msgs));
    // Nothing more while both are unacked.
    Fetched blocked = fetch(sub.get(), 5, 300ms);
    EXPECT_EQ(NATS_TIMEOUT, blocked.status) << blocked;
    EXPECT_EQ((ConsumerState{.delivered_consumer = 2,
                             .delivered_stream = 2,
                             .num_ack_pending = 2,
                             .num_pending = 3}),
              state("MAP", "C"));
    // One ack frees room for one more.
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(first.msgs[0].get(), nullptr, nullptr));
    Fetched second = fetch(sub.get(), 5, 300ms);
    ASSERT_EQ(NATS_OK, second.status) << second;
    EXPECT_EQ(numbered(3, 1), data_of(second.msgs));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(first.msgs[1].get(), nullptr, nullptr));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(second.msgs[0].get(), nullptr, nullptr));
    Fetched third = fetch(sub.get(), 5, 300ms);
    ASSERT_EQ(NATS_OK, third.status) << third;
    EXPECT_EQ(numbered(4, 2), data_of(third.msgs));
}

TEST_F(JetStreamConsumer, AckAllAcknowledgesEverythingUpToTheMessage) {
    create_stream("ALL", {"all"});
    ASSERT_TRUE(publish_numbered("all", 5));
    ConsumerConfig config("C");
    config.raw.AckPolicy = js_AckAll;
    SubscriptionPtr sub = pull_consumer("ALL", config);
    ASSERT_NE(nullptr, sub);
    Fetched fetched = fetch(sub.get(), 5, 2s);
    ASSERT_EQ(5u, fetched.msgs.size()) << fetched;

    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[2].get(), nullptr, nullptr));
    EXPECT_EQ((ConsumerState{.delivered_consumer = 5,
                             .delivered_stream = 5,
                             .ack_floor_consumer = 3,
                             .ack_floor_stream = 3,
                             .num_ack_pending = 2}),
              state("ALL", "C"));
}

TEST_F(JetStreamConsumer, AckNoneConsumerNeedsNoAcks) {
    create_stream("NONE", {"none"});
    ASSERT_TRUE(publish_numbered("none", 3));
    ConsumerConfig config("C");
    config.raw.AckPolicy = js_AckNone;
    ConsumerInfoPtr info;
    ASSERT_EQ(NATS_OK, add_consumer("NONE", config, &info).status);
    // Without acks there is no ack wait and no max ack pending.
    EXPECT_EQ(0, info->Config->AckWait);
    EXPECT_EQ(0, info->Config->MaxAckPending);
    SubscriptionPtr sub = bind_pull("NONE", "C");
    ASSERT_NE(nullptr, sub);
    Fetched fetched = fetch(sub.get(), 3, 2s);
    ASSERT_EQ(3u, fetched.msgs.size()) << fetched;
    expect_state_reaches("NONE", "C",
                         {.delivered_consumer = 3,
                          .delivered_stream = 3,
                          .ack_floor_consumer = 3,
                          .ack_floor_stream = 3});
}

TEST_F(JetStreamConsumer, FilterSubjectDeliversAndCountsOnlyMatchingMessages) {
    create_stream("FILT", {"f.>"});
    for (const char* subject : {"f.a", "f.b", "f.a.x", "f.a", "f.c"}) {
        ASSERT_TRUE(publish(js(), subject, subject).ok());
    }
    ConsumerConfig literal("LITERAL");
    literal.filter("f.a");
    SubscriptionPtr sub = pull_consumer("FILT", literal);
    ASSERT_NE(nullptr, sub);
    EXPECT_EQ(2u, state("FILT", "LITERAL").num_pending);
    Fetched fetched = fetch(sub.get(), 5, 2s);
    ASSERT_EQ(2u, fetched.msgs.size()) << fetched;
    EXPECT_EQ((Meta{"FILT", "LITERAL", 1, 1, 1, 1}), meta_of(fetched.msgs[0].get()));
    EXPECT_EQ((Meta{"FILT", "LITERAL", 4, 2, 1, 0}), meta_of(fetched.msgs[1].get()));

    ConsumerConfig wildcard("WILD");
    wildcard.filter("f.*");
    SubscriptionPtr wild = pull_consumer("FILT", wildcard);
    ASSERT_NE(nullptr, wild);
    EXPECT_EQ(4u, state("FILT", "WILD").num_pending);
    fetched = fetch(wild.get(), 10, 2s);
    EXPECT_EQ((std::vector<uint64_t>{1, 2, 4, 5}), stream_seqs_of(fetched.msgs));

    // A new matching message counts; a non-matching one does not.
    ASSERT_TRUE(publish(js(), "f.b.y", "no").ok());
    ASSERT_TRUE(publish(js(), "f.a", "yes").ok());
    EXPECT_EQ(1u, state("FILT", "LITERAL").num_pending);
    EXPECT_EQ(1u, state("FILT", "WILD").num_pending);

    // A filter outside the stream's subjects is refused.
    ConsumerConfig outside("OUTSIDE");
    outside.filter("g.a");
    JsOutcome outcome = add_consumer("FILT", outside);
    EXPECT_EQ(JSConsumerFilterNotSubsetErr, outcome.err_code) << outcome;
    EXPECT_EQ("consumer filter subject is not a valid subset of the interest subjects",
              outcome.text);
}

// A stream finds the consumers a message is for by their filters: a consumer that changes its
// filter, or goes, is found under the new one, or not at all, and a pull request waiting on a
// filter is woken by the first message that matches it, among many consumers on other keys.
TEST_F(JetStreamConsumer, MessagesReachTheConsumersTheirFiltersNameAfterUpdatesAndDeletes) {
    // nats-server 2.9.10 keeps signalling an updated consumer under its old filter, so a pull
    // request waits out its expiry; later versions move it to the new one (swapSigSubs).
    if (!testing_ringtail()) GTEST_SKIP() << "nats-server 2.9.10 signals by the filter a consumer was created with";
    create_stream("IDX", {"idx.*"});
    for (int i = 0; i < 50; ++i) {
        ConsumerConfig other("K" + std::to_string(i));
        other.filter("idx.k" + std::to_string(i));
        ASSERT_EQ(NATS_OK, add_consumer("IDX", other).status);
    }
    ConsumerConfig config("U");
    config.filter("idx.a");
    SubscriptionPtr sub = pull_consumer("IDX", config);
    ASSERT_NE(nullptr, sub);

    config.filter("idx.b");
    ASSERT_EQ(NATS_OK, update_consumer("IDX", config).status);
    ASSERT_TRUE(publish(js(), "idx.a", "a1").ok());
    ASSERT_TRUE(publish(js(), "idx.b", "b2").ok());
    EXPECT_EQ(1u, state("IDX", "U").num_pending);
    Fetched fetched = fetch(sub.get(), 5, 500ms);
    EXPECT_EQ((std::vector<std::string>{"b2"}), data_of(fetched.msgs)) << fetched;

    config.filter("idx.*");
    ASSERT_EQ(NATS_OK, update_consumer("IDX", config).status);
    ASSERT_TRUE(publish(js(), "idx.c", "c3").ok());
    EXPECT_EQ(1u, state("IDX", "U").num_pending);
    fetched = fetch(sub.get(), 5, 500ms);
    EXPECT_EQ((std::vector<std::string>{"c3"}), data_of(fetched.msgs)) << fetched;

    // A fetch that waits is served by a match published while it waits.
    config.filter("idx.k7");
    ASSERT_EQ(NATS_OK, update_consumer("IDX", config).status);
    std::thread publisher([&] {
        std::this_thread::sleep_for(200ms);
        EXPECT_TRUE(publish(js(), "idx.d", "d4").ok());
        EXPECT_TRUE(publish(js(), "idx.k7", "k5").ok());
    });
    fetched = fetch(sub.get(), 1, 3s);
    publisher.join();
    EXPECT_EQ((std::vector<std::string>{"k5"}), data_of(fetched.msgs)) << fetched;
    EXPECT_EQ(1u, state("IDX", "K7").num_pending);
    EXPECT_EQ(0u, state("IDX", "K8").num_pending);

    // Deleted consumers are no longer asked; those left still are.
    for (int i = 0; i < 50; i += 2) {
        ASSERT_EQ(NATS_OK, js_DeleteConsumer(js(), "IDX", ("K" + std::to_string(i)).c_str(), nullptr, nullptr));
    }
    ASSERT_TRUE(publish(js(), "idx.k8", "k6").ok());
    ASSERT_TRUE(publish(js(), "idx.k9", "k7").ok());
    EXPECT_EQ(1u, state("IDX", "K9").num_pending);
    EXPECT_EQ(kNoState, state("IDX", "K8"));
}

// A message delivered under a consumer's old filter and still owed an ack stops being owed when
// it leaves the stream, as any other (nats-server tells every consumer of a removal).
TEST_F(JetStreamConsumer, AMessageOwedUnderAnOldFilterIsNoLongerOwedOnceRemoved) {
    create_stream("REF", {"ref.*"});
    ConsumerConfig config("R");
    config.filter("ref.a");
    SubscriptionPtr sub = pull_consumer("REF", config);
    ASSERT_NE(nullptr, sub);
    ASSERT_TRUE(publish(js(), "ref.a", "a1").ok());
    Fetched fetched = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, fetched.msgs.size()) << fetched;
    config.filter("ref.b");
    ASSERT_EQ(NATS_OK, update_consumer("REF", config).status);
    EXPECT_EQ(1, state("REF", "R").num_ack_pending);
    ASSERT_EQ(NATS_OK, js_DeleteMsg(js(), "REF", 1, nullptr, nullptr));
    expect_state_reaches("REF", "R", {1, 1, 1, 1, 0, 0, 0, 0});
}

TEST_F(JetStreamConsumer, StartPositionShowsInDeliveredAndNumPending) {
    create_stream("START", {"start.*"});
    // 1 start.a, 2 start.b, 3 start.c, 4 start.a, 5 start.b, 6 start.a
    for (const char* subject : {"start.a", "start.b", "start.c", "start.a", "start.b", "start.a"}) {
        ASSERT_TRUE(publish(js(), subject, "x").ok());
    }
    struct StartCase {
        const char* name;
        jsDeliverPolicy policy;
        uint64_t start_seq;
        const char* filter;
        uint64_t delivered_stream;
        uint64_t num_pending;
    };
    const std::vector<StartCase> cases = {
        {"ALL", js_DeliverAll, 0, nullptr, 0, 6},
        {"LAST", js_DeliverLast, 0, nullptr, 5, 1},
        {"NEW", js_DeliverNew, 0, nullptr, 6, 0},
        {"BYSEQ", js_DeliverByStartSequence, 4, nullptr, 3, 3},
        // The first last-per-subject message is 3 (start.c).
        {"LASTPER", js_DeliverLastPerSubject, 0, "start.*", 2, 3},
        {"LASTPERA", js_DeliverLastPerSubject, 0, "start.a", 5, 1},
    };
    for (const StartCase& c : cases) {
        SCOPED_TRACE(c.name);
        ConsumerConfig config(c.name);
        config.raw.DeliverPolicy = c.policy;
        config.raw.OptStartSeq = c.start_seq;
        if (c.filter != nullptr) config.filter(c.filter);
        ConsumerInfoPtr info;
        JsOutcome outcome = add_consumer("START", config, &info);
        ASSERT_EQ(NATS_OK, outcome.status) << outcome;
        // delivered.stream_seq is one before the first message to deliver; the ack floor starts
        // at 0 whatever the start.
        EXPECT_EQ(
            (ConsumerState{.delivered_stream = c.delivered_stream, .num_pending = c.num_pending}),
            state_of(*info));
    }

    // By start time: the first message stored at or after it, here the fifth.
    MsgPtr fifth = get_msg(js(), "START", 5);
    ASSERT_NE(nullptr, fifth);
    json request = {{"stream_name", "START"},
                    {"config",
                     {{"durable_name", "BYTIME"},
                      {"deliver_policy", "by_start_time"},
                      {"opt_start_time", rfc3339_utc(natsMsg_GetTime(fifth.get()))},
                      {"ack_policy", "explicit"}}}};
    json created =
        api_request(nc(), "$JS.API.CONSUMER.DURABLE.CREATE.START.BYTIME", request.dump());
    ASSERT_FALSE(created.contains("error")) << created.dump();
    EXPECT_EQ((json{{"consumer_seq", 0}, {"stream_seq", 4}}), created["delivered"]);
    EXPECT_EQ(2, created.value("num_pending", -1));
}

TEST_F(JetStreamConsumer, EphemeralPullConsumerIsDeletedAfterItsInactiveThreshold) {
    create_stream("EPH", {"eph"});
    // A durable without a threshold, created first, outlives the ephemeral.
    ConsumerConfig durable("STAYS");
    ASSERT_EQ(NATS_OK, add_consumer("EPH", durable).status);
    ConsumerConfig config;
    config.raw.InactiveThreshold = nanos(300ms);
    ConsumerInfoPtr info;
    ASSERT_EQ(NATS_OK, add_consumer("EPH", config, &info).status);
    std::string name = info->Name;
    EXPECT_EQ(nanos(300ms), info->Config->InactiveThreshold);
    EXPECT_TRUE(wait_for([&] { return consumer_info("EPH", name) == nullptr; }, 3s));
    JsOutcome outcome;
    EXPECT_EQ(nullptr, consumer_info("EPH", name, &outcome));
    EXPECT_EQ(JSConsumerNotFoundErr, outcome.err_code) << outcome;
    EXPECT_NE(nullptr, consumer_info("EPH", "STAYS"));
}

// --- Push consumers ----------------------------------------------------------------------------

TEST_F(JetStreamConsumer, PushDurableDeliversInOrderWithMetadataAndAcks) {
    create_stream("PUSH", {"push.*"});
    ASSERT_TRUE(publish_numbered("push.a", 3));
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Config.Durable = "PUSHER";
    options.Config.AckPolicy = js_AckExplicit;
    JsOutcome outcome;
    SubscriptionPtr sub = push_subscribe("push.*", options, &outcome);
    ASSERT_NE(nullptr, sub) << outcome;
    ASSERT_TRUE(publish_numbered("push.b", 2, 4));

    std::vector<MsgPtr> msgs = next_msgs(sub.get(), 5);
    ASSERT_EQ(5u, msgs.size());
    EXPECT_EQ(numbered(1, 5), data_of(msgs));
    for (size_t i = 0; i < msgs.size(); ++i) {
        SCOPED_TRACE(i);
        Meta meta = meta_of(msgs[i].get());
        EXPECT_EQ("PUSH", meta.stream);
        EXPECT_EQ("PUSHER", meta.consumer);
        EXPECT_EQ(i + 1, meta.stream_seq);
        EXPECT_EQ(i + 1, meta.consumer_seq);
        EXPECT_EQ(1u, meta.delivered);
        ASSERT_EQ(NATS_OK, natsMsg_Ack(msgs[i].get(), nullptr));
    }
    // The last one was delivered when nothing else was pending.
    EXPECT_EQ(0u, meta_of(msgs.back().get()).pending);
    expect_state_reaches("PUSH", "PUSHER",
                         {.delivered_consumer = 5,
                          .delivered_stream = 5,
                          .ack_floor_consumer = 5,
                          .ack_floor_stream = 5});
    ConsumerInfoPtr info = consumer_info("PUSH", "PUSHER");
    ASSERT_NE(nullptr, info);
    EXPECT_TRUE(info->PushBound);
    ASSERT_NE(nullptr, info->Config->DeliverSubject);
    EXPECT_EQ(natsSubscription_GetSubject(sub.get()), std::string(info->Config->DeliverSubject));
    EXPECT_STREQ("push.*", info->Config->FilterSubject);
}

// A push consumer takes one subscriber: a second bind right after the first is refused by the
// client, which reads push_bound from the consumer's info, and the first one is served at once.
TEST_F(JetStreamConsumer, APushConsumerIsBoundAsSoonAsItsSubscriberIs) {
    create_stream("BIND", {"bind.*"});
    ASSERT_TRUE(publish_numbered("bind.a", 1));
    ConsumerConfig config("BOUND");
    config.deliver_subject("deliver.bind");
    ASSERT_EQ(NATS_OK, add_consumer("BIND", config).status);
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = "BIND";
    options.Consumer = "BOUND";
    SubscriptionPtr first = push_subscribe("bind.*", options);
    ASSERT_NE(nullptr, first);
    ASSERT_EQ(NATS_OK, natsConnection_Flush(nc()));
    JsOutcome outcome;
    SubscriptionPtr second = push_subscribe("bind.*", options, &outcome);
    EXPECT_EQ(nullptr, second);
    EXPECT_NE(std::string::npos, outcome.text.find("already bound")) << outcome;
    ConsumerInfoPtr info = consumer_info("BIND", "BOUND");
    ASSERT_NE(nullptr, info);
    EXPECT_TRUE(info->PushBound);
    EXPECT_EQ(1u, next_msgs(first.get(), 1).size());
}

// A push consumer starts for a subscriber on its deliver subject itself, in its deliver group
// (a plain one when it has none), as nats-server's: a wildcard tap or a subscriber of another
// kind neither starts it nor takes what it would deliver.
TEST_F(JetStreamConsumer, APushConsumerStartsOnlyForASubscriberOfItsOwnSubjectAndGroup) {
    create_stream("KIND", {"kind"});
    ASSERT_TRUE(publish_numbered("kind", 2));
    struct Case {
        const char* name;
        const char* group;      // the consumer's deliver group (null: none)
        const char* tap_group;  // the subscriber that must not start it (null: plain)
        const char* tap_subject;
    };
    for (const Case& c : {Case{"GROUPED", "g", nullptr, "kind.grouped"}, Case{"GROUPED2", "g", "other", "kind.grouped2"},
                          Case{"PLAIN", nullptr, "g", "kind.plain"}, Case{"PLAIN2", nullptr, nullptr, "kind.>"}}) {
        SCOPED_TRACE(c.name);
        std::string deliver = "kind." + std::string(c.name);
        for (char& ch : deliver) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        ConsumerConfig config(c.name);
        config.deliver_subject(deliver);
        config.raw.DeliverGroup = c.group;
        ASSERT_EQ(NATS_OK, add_consumer("KIND", config).status);
        SubscriptionPtr tap = c.tap_group != nullptr ? queue_subscribe_sync(nc(), c.tap_subject, c.tap_group)
                                                     : subscribe_sync(nc(), c.tap_subject);
        ASSERT_NE(nullptr, tap);
        ASSERT_EQ(NATS_OK, natsConnection_Flush(nc()));
        EXPECT_TRUE(no_more_msgs(tap.get(), 300ms));
        ConsumerInfoPtr info = consumer_info("KIND", c.name);
        ASSERT_NE(nullptr, info);
        EXPECT_FALSE(info->PushBound);
        EXPECT_EQ(0u, info->Delivered.Stream);
        // Its own kind of subscriber gets both messages.
        SubscriptionPtr own = c.group != nullptr ? queue_subscribe_sync(nc(), deliver, c.group)
                                                 : subscribe_sync(nc(), deliver);
        ASSERT_NE(nullptr, own);
        for (const char* want : {"m1", "m2"}) {
            MsgPtr got = next_msg(own.get(), 2s);
            ASSERT_NE(nullptr, got);
            EXPECT_EQ(want, msg_data(got.get()));
        }
    }
}

// A push consumer starts when its subscriber comes, also among a burst of other subscriptions
// taken in at once (more than the server notes one by one), with no tick to fall back on.
TEST_F(JetStreamConsumer, APushConsumerStartsForItsSubscriberAmongABurstOfSubscriptions) {
    create_stream("BURST", {"burst"});
    ASSERT_TRUE(publish_numbered("burst", 1));
    const std::map<int, std::string> deliver = {{10, "EARLY"}, {5990, "LATE"}};
    for (const auto& [at, name] : deliver) {
        ConsumerConfig config(name.c_str());
        config.deliver_subject("deliver.burst." + name);
        ASSERT_EQ(NATS_OK, add_consumer("BURST", config).status);
    }
    // All 6,000 in one write.
    std::string burst = "CONNECT {\"verbose\":false}\r\n";
    for (int i = 0; i < 6000; ++i) {
        auto it = deliver.find(i);
        burst += "SUB deliver.burst." + (it != deliver.end() ? it->second : std::to_string(i)) + " " +
                 std::to_string(i) + "\r\n";
    }
    RawClient raw;
    ASSERT_TRUE(raw.connect(server_->port()));
    ASSERT_TRUE(raw.read_info());
    ASSERT_TRUE(raw.send(burst));
    for (const auto& [at, name] : deliver) {
        // Delivered under the stream's subject, to the subscription on the deliver subject.
        EXPECT_TRUE(raw.read_until("MSG burst " + std::to_string(at) + " $JS.ACK.BURST." + name + ".", 2s))
            << raw.received();
    }
}

// An ephemeral push consumer's inactive_threshold counts from when its subscriber went away,
// as nats-server's: one of 50 ms is gone 90 ms after the subscriber's connection closed (not
// at a tick of the server's after it noticed, up to 200 ms later).
TEST_F(JetStreamConsumer, APushConsumersInactiveThresholdCountsFromItsSubscribersDeparture) {
    create_stream("GONE", {"gone.*"});
    std::string name;
    {
        JsClient other = connect_js(server_->url());
        ASSERT_TRUE(other);
        jsSubOptions options;
        jsSubOptions_Init(&options);
        options.Config.InactiveThreshold = nanos(50ms);
        natsSubscription* raw = nullptr;
        ASSERT_EQ(NATS_OK, js_SubscribeSync(&raw, other.get(), "gone.*", nullptr, &options, nullptr));
        SubscriptionPtr sub(raw);
        jsConsumerInfo* info = nullptr;
        ASSERT_EQ(NATS_OK, natsSubscription_GetConsumerInfo(&info, sub.get(), nullptr, nullptr));
        name = info->Name;
        jsConsumerInfo_Destroy(info);
        // Still there while its subscriber is, past the threshold.
        std::this_thread::sleep_for(150ms);
        EXPECT_NE(nullptr, consumer_info("GONE", name));
        natsConnection_Close(other.nc());
    }
    std::this_thread::sleep_for(90ms);
    JsOutcome outcome;
    EXPECT_EQ(nullptr, consumer_info("GONE", name, &outcome));
    EXPECT_EQ(JSConsumerNotFoundErr, outcome.err_code) << outcome;
}

// And unbound as soon as its subscriber's connection is gone: a client binding right after
// (the official clients check push_bound first) is not refused, and gets what comes next.
TEST_F(JetStreamConsumer, APushConsumerIsUnboundAsSoonAsItsSubscribersConnectionCloses) {
    create_stream("REBIND", {"rebind.*"});
    ConsumerConfig config("AGAIN");
    config.deliver_subject("deliver.rebind");
    ASSERT_EQ(NATS_OK, add_consumer("REBIND", config).status);
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = "REBIND";
    options.Consumer = "AGAIN";
    {
        JsClient other = connect_js(server_->url());
        ASSERT_TRUE(other);
        natsSubscription* raw = nullptr;
        ASSERT_EQ(NATS_OK, js_SubscribeSync(&raw, other.get(), "rebind.*", nullptr, &options, nullptr));
        SubscriptionPtr first(raw);
        ASSERT_EQ(NATS_OK, natsConnection_Flush(other.nc()));
        ConsumerInfoPtr info = consumer_info("REBIND", "AGAIN");
        ASSERT_NE(nullptr, info);
        EXPECT_TRUE(info->PushBound);
        natsConnection_Close(other.nc());
    }
    // A new connection, as a restarted application makes, binds at once.
    JsClient again = connect_js(server_->url());
    ASSERT_TRUE(again);
    ConsumerInfoPtr info = consumer_info("REBIND", "AGAIN");
    ASSERT_NE(nullptr, info);
    EXPECT_FALSE(info->PushBound);
    natsSubscription* raw = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_SubscribeSync(&raw, again.get(), "rebind.*", nullptr, &options, &err_code);
    ASSERT_EQ(NATS_OK, status) << outcome_of(status, err_code);
    SubscriptionPtr second(raw);
    ASSERT_TRUE(publish_numbered("rebind.a", 1));
    EXPECT_EQ(1u, next_msgs(second.get(), 1).size());
}

TEST_F(JetStreamConsumer, PushDeliverPoliciesChooseWhereDeliveryStarts) {
    create_stream("DP", {"dp.*"});
    // 1 dp.a a1, 2 dp.b b1, 3 dp.c c1, 4 dp.a a2, 5 dp.b b2, 6 dp.a a3
    const std::vector<std::pair<std::string, std::string>> stored = {
        {"dp.a", "a1"}, {"dp.b", "b1"}, {"dp.c", "c1"},
        {"dp.a", "a2"}, {"dp.b", "b2"}, {"dp.a", "a3"}};
    for (const auto& [subject, data] : stored) ASSERT_TRUE(publish(js(), subject, data).ok());

    struct PolicyCase {
        const char* label;
        jsDeliverPolicy policy;
        uint64_t start_seq;
        std::vector<std::string> expected;
    };
    const std::vector<PolicyCase> cases = {
        {"all", js_DeliverAll, 0, {"a1", "b1", "c1", "a2", "b2", "a3"}},
        {"last", js_DeliverLast, 0, {"a3"}},
        {"by start sequence", js_DeliverByStartSequence, 4, {"a2", "b2", "a3"}},
        // The last message of each subject, in stream order.
        {"last per subject", js_DeliverLastPerSubject, 0, {"c1", "b2", "a3"}},
    };
    for (const PolicyCase& c : cases) {
        SCOPED_TRACE(c.label);
        jsSubOptions options;
        jsSubOptions_Init(&options);
        options.Config.DeliverPolicy = c.policy;
        options.Config.OptStartSeq = c.start_seq;
        JsOutcome outcome;
        SubscriptionPtr sub = push_subscribe("dp.*", options, &outcome);
        ASSERT_NE(nullptr, sub) << outcome;
        std::vector<MsgPtr> msgs = next_msgs(sub.get(), c.expected.size());
        EXPECT_EQ(c.expected, data_of(msgs));
        for (size_t i = 0; i < msgs.size(); ++i) {
            Meta meta = meta_of(msgs[i].get());
            EXPECT_EQ(i + 1, meta.consumer_seq);
            EXPECT_EQ(msgs.size() - i - 1, meta.pending) << meta;
        }
        // Everything the consumer will deliver has been delivered.
        jsConsumerInfo* raw = nullptr;
        ASSERT_EQ(NATS_OK, natsSubscription_GetConsumerInfo(&raw, sub.get(), nullptr, nullptr));
        ConsumerInfoPtr info(raw);
        EXPECT_EQ(c.expected.size(), info->Delivered.Consumer);
        EXPECT_EQ(6u, info->Delivered.Stream);
        EXPECT_EQ(0u, info->NumPending);
        natsSubscription_Unsubscribe(sub.get());
    }

    // Deliver new: only what is published after the subscription.
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Config.DeliverPolicy = js_DeliverNew;
    SubscriptionPtr sub = push_subscribe("dp.*", options);
    ASSERT_NE(nullptr, sub);
    ASSERT_TRUE(publish(js(), "dp.c", "c2").ok());
    std::vector<MsgPtr> msgs = next_msgs(sub.get(), 1);
    ASSERT_EQ(1u, msgs.size());
    EXPECT_EQ("c2", msgs[0] ? msg_data(msgs[0].get()) : "");
    EXPECT_EQ(7u, meta_of(msgs[0].get()).stream_seq);
    EXPECT_EQ(1u, meta_of(msgs[0].get()).consumer_seq);

    // By start time (created raw, see rfc3339_utc): from the fifth message on.
    MsgPtr fifth = get_msg(js(), "DP", 5);
    ASSERT_NE(nullptr, fifth);
    SubscriptionPtr deliver = subscribe_sync(nc(), "deliver.bytime");
    ASSERT_NE(nullptr, deliver);
    json request = {{"stream_name", "DP"},
                    {"config",
                     {{"durable_name", "BYTIME"},
                      {"deliver_subject", "deliver.bytime"},
                      {"deliver_policy", "by_start_time"},
                      {"opt_start_time", rfc3339_utc(natsMsg_GetTime(fifth.get()))},
                      {"ack_policy", "none"}}}};
    json created = api_request(nc(), "$JS.API.CONSUMER.DURABLE.CREATE.DP.BYTIME", request.dump());
    ASSERT_FALSE(created.contains("error")) << created.dump();
    msgs = next_msgs(deliver.get(), 3);
    EXPECT_EQ((std::vector<std::string>{"b2", "a3", "c2"}), data_of(msgs));
    EXPECT_EQ((std::vector<uint64_t>{5, 6, 7}), stream_seqs_of(msgs));
}

TEST_F(JetStreamConsumer, RawPushDeliveryCarriesTheAckSubjectAndIdleHeartbeats) {
    create_stream("RAWP", {"rawp"});
    ASSERT_TRUE(publish_numbered("rawp", 2));
    SubscriptionPtr deliver = subscribe_sync(nc(), "deliver.rawp");
    ASSERT_NE(nullptr, deliver);
    ConsumerConfig config("HB");
    config.deliver_subject("deliver.rawp");
    config.raw.Heartbeat = nanos(100ms);
    config.raw.FlowControl = true;
    ASSERT_EQ(NATS_OK, add_consumer("RAWP", config).status);

    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp ns>.<pending>
    for (uint64_t seq = 1; seq <= 2; ++seq) {
        MsgPtr msg = next_msg(deliver.get(), 2s);
        ASSERT_NE(nullptr, msg);
        EXPECT_STREQ("rawp", natsMsg_GetSubject(msg.get()));
        MsgPtr stored = get_msg(js(), "RAWP", seq);
        ASSERT_NE(nullptr, stored);
        std::string expected_reply =
            "$JS.ACK.RAWP.HB.1." + std::to_string(seq) + "." + std::to_string(seq) + "." +
            std::to_string(natsMsg_GetTime(stored.get())) + "." + std::to_string(2 - seq);
        EXPECT_STREQ(expected_reply.c_str(), natsMsg_GetReply(msg.get()));
        // A plain publish to the ack subject acks.
        ASSERT_EQ(NATS_OK, natsConnection_PublishString(nc(), natsMsg_GetReply(msg.get()), ""));
    }
    // Then, idle, the consumer sends a heartbeat: a status message with no payload naming the
    // last consumer and stream sequences.
    MsgPtr heartbeat = next_msg(deliver.get(), 2s);
    ASSERT_NE(nullptr, heartbeat);
    EXPECT_EQ("100", status_of(heartbeat.get()));
    EXPECT_EQ("Idle Heartbeat", description_of(heartbeat.get()));
    EXPECT_EQ("2", header_value(heartbeat.get(), "Nats-Last-Consumer"));
    EXPECT_EQ("2", header_value(heartbeat.get(), "Nats-Last-Stream"));
    EXPECT_EQ(0, natsMsg_GetDataLength(heartbeat.get()));
    EXPECT_EQ(nullptr, natsMsg_GetReply(heartbeat.get()));
    expect_state_reaches("RAWP", "HB",
                         {.delivered_consumer = 2,
                          .delivered_stream = 2,
                          .ack_floor_consumer = 2,
                          .ack_floor_stream = 2});
}

TEST_F(JetStreamConsumer, OrderedConsumerGetsEveryMessageInOrder) {
    create_stream("ORD", {"ord.*"});
    ASSERT_TRUE(publish_numbered("ord.a", 50));
    Collector collector;
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Ordered = true;
    natsSubscription* raw = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_Subscribe(&raw, js(), "ord.*", &Collector::on_msg, &collector, nullptr,
                                     &options, &err_code);
    ASSERT_EQ(NATS_OK, status) << outcome_of(status, err_code);
    SubscriptionPtr sub(raw);
    ASSERT_TRUE(publish_numbered("ord.b", 50, 51));
    EXPECT_TRUE(wait_for([&] { return collector.count() >= 100; }, 5s)) << collector.count();
    EXPECT_EQ(numbered(1, 100), collector.data());

    // The ordered consumer is an ephemeral push consumer with flow control and heartbeats, no
    // acks, one delivery, memory storage.
    jsConsumerInfo* raw_info = nullptr;
    ASSERT_EQ(NATS_OK, natsSubscription_GetConsumerInfo(&raw_info, sub.get(), nullptr, nullptr));
    ConsumerInfoPtr info(raw_info);
    EXPECT_EQ(nullptr, info->Config->Durable);
    EXPECT_EQ(js_AckNone, info->Config->AckPolicy);
    EXPECT_EQ(1, info->Config->MaxDeliver);
    EXPECT_TRUE(info->Config->FlowControl);
    EXPECT_EQ(5 * kNanosPerSecond, info->Config->Heartbeat);
    EXPECT_TRUE(info->Config->MemoryStorage);
    EXPECT_EQ(100u, info->Delivered.Stream);
    EXPECT_EQ(100u, info->AckFloor.Stream);
    ASSERT_EQ(NATS_OK, natsSubscription_Drain(sub.get()));
    EXPECT_EQ(NATS_OK, natsSubscription_WaitForDrainCompletion(sub.get(), 2000));
}

TEST_F(JetStreamConsumer, QueueSubscribersShareEachMessageOnce) {
    create_stream("QUEUE", {"queue"});
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Queue = "workers";
    JsOutcome outcome;
    SubscriptionPtr first = push_subscribe("queue", options, &outcome);
    ASSERT_NE(nullptr, first) << outcome;
    // The second member binds to the consumer the first created (named after the queue).
    SubscriptionPtr second = push_subscribe("queue", options, &outcome);
    ASSERT_NE(nullptr, second) << outcome;
    ConsumerInfoPtr info = consumer_info("QUEUE", "workers");
    ASSERT_NE(nullptr, info);
    EXPECT_STREQ("workers", info->Config->DeliverGroup);
    EXPECT_STREQ("workers", info->Config->Durable);

    constexpr int kMsgs = 20;
    ASSERT_TRUE(publish_numbered("queue", kMsgs));
    std::multiset<std::string> received;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (received.size() < kMsgs && std::chrono::steady_clock::now() < deadline) {
        for (natsSubscription* member : {first.get(), second.get()}) {
            MsgPtr msg = next_msg(member, 20ms);
            if (!msg) continue;
            received.emplace(msg_data(msg.get()));
            ASSERT_EQ(NATS_OK, natsMsg_Ack(msg.get(), nullptr));
        }
    }
    std::vector<std::string> expected = numbered(1, kMsgs);
    EXPECT_EQ(std::multiset<std::string>(expected.begin(), expected.end()), received);
    expect_state_reaches("QUEUE", "workers",
                         {.delivered_consumer = kMsgs,
                          .delivered_stream = kMsgs,
                          .ack_floor_consumer = kMsgs,
                          .ack_floor_stream = kMsgs});
    // A plain (non-queue) subscription cannot bind to a consumer with a deliver group.
    jsSubOptions plain;
    jsSubOptions_Init(&plain);
    plain.Config.Durable = "workers";
    EXPECT_EQ(nullptr, push_subscribe("queue", plain, &outcome));
    EXPECT_EQ(NATS_ERR, outcome.status) << outcome;
}

TEST_F(JetStreamConsumer, HeadersOnlyDeliversTheSizeInsteadOfThePayload) {
    create_stream("HDRS", {"hdrs"});
    ASSERT_TRUE(publish_with_headers(js(), "hdrs", "hello world", {{"Foo", "bar"}}).ok());
    ASSERT_TRUE(publish(js(), "hdrs", "no headers here").ok());
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Config.HeadersOnly = true;
    JsOutcome outcome;
    SubscriptionPtr sub = push_subscribe("hdrs", options, &outcome);
    ASSERT_NE(nullptr, sub) << outcome;
    std::vector<MsgPtr> msgs = next_msgs(sub.get(), 2);
    ASSERT_EQ(2u, msgs.size());
    EXPECT_EQ(0, natsMsg_GetDataLength(msgs[0].get()));
    EXPECT_EQ("11", header_value(msgs[0].get(), "Nats-Msg-Size"));
    EXPECT_EQ("bar", header_value(msgs[0].get(), "Foo"));
    EXPECT_EQ(0, natsMsg_GetDataLength(msgs[1].get()));
    EXPECT_EQ("15", header_value(msgs[1].get(), "Nats-Msg-Size"));
    // The metadata is still there: only the payload is left out.
    Meta meta = meta_of(msgs[1].get());
    EXPECT_EQ(2u, meta.stream_seq);
    EXPECT_EQ(2u, meta.consumer_seq);
    EXPECT_EQ(0u, meta.pending);
}

// --- Pacing and ack sampling ------------------------------------------------------------------

TEST_F(JetStreamConsumer, ReplayOriginalKeepsTheGapsBetweenStoredMessages) {
    create_stream("REPLAY", {"replay"});
    ASSERT_TRUE(publish_numbered("replay", 1));
    std::this_thread::sleep_for(500ms);
    ASSERT_TRUE(publish_numbered("replay", 2, 2));
    SubscriptionPtr deliver = subscribe_sync(nc(), "deliver.replay");
    ASSERT_NE(nullptr, deliver);
    ConsumerConfig config("R");
    config.deliver_subject("deliver.replay");
    config.raw.ReplayPolicy = js_ReplayOriginal;
    ASSERT_EQ(NATS_OK, add_consumer("REPLAY", config).status);

    std::vector<std::chrono::steady_clock::time_point> arrived;
    std::vector<MsgPtr> msgs;
    for (int i = 0; i < 3; ++i) {
        MsgPtr msg = next_msg(deliver.get(), 3s);
        ASSERT_NE(nullptr, msg) << "message " << i + 1;
        arrived.push_back(std::chrono::steady_clock::now());
        msgs.push_back(std::move(msg));
    }
    EXPECT_EQ(numbered(1, 3), data_of(msgs));
    // The second message was stored half a second after the first, and is delivered so.
    EXPECT_GE(arrived[1] - arrived[0], 400ms);
    // Once caught up, a new message goes out as it is stored.
    ASSERT_TRUE(publish_numbered("replay", 1, 4));
    MsgPtr live = next_msg(deliver.get(), 2s);
    ASSERT_NE(nullptr, live);
    EXPECT_EQ("m4", msg_data(live.get()));
}

TEST_F(JetStreamConsumer, RateLimitSpreadsPushDeliveriesOverTime) {
    // Bursts are one maximal message: the stream's max_msg_size when it has one.
    StreamConfig stream("RATE", {"rate"});
    stream.raw.MaxMsgSize = 1000;
    ASSERT_EQ(NATS_OK, add_stream(js(), stream).status);
    const std::string payload(900, 'x');
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(publish(js(), "rate", payload).ok());
    SubscriptionPtr deliver = subscribe_sync(nc(), "deliver.rate");
    ASSERT_NE(nullptr, deliver);
    ConsumerConfig config("RL");
    config.deliver_subject("deliver.rate");
    config.raw.RateLimit = 8 * 4000;  // bits a second: 4000 bytes a second
    auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(NATS_OK, add_consumer("RATE", config).status);
    std::vector<MsgPtr> msgs = next_msgs(deliver.get(), 8, 3s);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_EQ(8u, msgs.size());
    // Seven messages of more than 900 bytes beyond the first burst take 1.6 s at 4000 B/s.
    EXPECT_GE(elapsed, 1400ms);
    EXPECT_EQ((std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}), stream_seqs_of(msgs));
}

TEST_F(JetStreamConsumer, SampledAcksPublishAnAckMetric) {
    create_stream("SMPL", {"smpl"});
    ASSERT_TRUE(publish_numbered("smpl", 2));
    SubscriptionPtr metrics = subscribe_sync(nc(), "$JS.EVENT.METRIC.CONSUMER.ACK.SMPL.C");
    ASSERT_NE(nullptr, metrics);
    ConsumerConfig config("C");
    config.raw.SampleFrequency = "100%";
    SubscriptionPtr sub = pull_consumer("SMPL", config);
    ASSERT_NE(nullptr, sub);
    Fetched fetched = fetch(sub.get(), 2, 2s);
    ASSERT_EQ(2u, fetched.msgs.size()) << fetched;
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[1].get(), nullptr, nullptr));

    MsgPtr metric = next_msg(metrics.get(), 2s);
    ASSERT_NE(nullptr, metric);
    json body = json::parse(msg_data(metric.get()), nullptr, false);
    ASSERT_TRUE(body.is_object()) << msg_data(metric.get());
    EXPECT_EQ("io.nats.jetstream.metric.v1.consumer_ack", body.value("type", ""));
    EXPECT_EQ("SMPL", body.value("stream", ""));
    EXPECT_EQ("C", body.value("consumer", ""));
    EXPECT_EQ(2u, body.value("stream_seq", 0u));
    EXPECT_EQ(2u, body.value("consumer_seq", 0u));
    EXPECT_EQ(1u, body.value("deliveries", 0u));
    EXPECT_GE(body.value("ack_time", int64_t{-1}), 0);
    EXPECT_FALSE(body.value("id", "").empty());
    EXPECT_FALSE(body.value("timestamp", "").empty());
    // A terminated message is not an ack that is sampled.
    ASSERT_EQ(NATS_OK, natsMsg_Term(fetched.msgs[0].get(), nullptr));
    EXPECT_EQ(nullptr, next_msg(metrics.get(), 300ms));
}

TEST_F(JetStreamConsumer, StreamDeleteAnnouncesItsConsumersThenItself) {
    // The differential corpus leaves these out: nats-server 2.9.10 loses them at times.
    // Not $JS.EVENT.ADVISORY.API, nats-server's audit of every request.
    SubscriptionPtr advisories = subscribe_sync(nc(), "$JS.EVENT.ADVISORY.*.*.>");
    ASSERT_NE(nullptr, advisories);
    create_stream("ANN", {"ann"});
    ConsumerConfig config("C");
    ASSERT_EQ(NATS_OK, add_consumer("ANN", config).status);
    json deleted = api_request(nc(), "$JS.API.STREAM.DELETE.ANN");
    ASSERT_TRUE(deleted.value("success", false)) << deleted.dump();

    std::vector<std::string> seen;
    for (MsgPtr msg = next_msg(advisories.get(), 2s); msg != nullptr && seen.size() < 4;
         msg = seen.size() < 4 ? next_msg(advisories.get(), 2s) : nullptr) {
        json body = json::parse(msg_data(msg.get()), nullptr, false);
        seen.push_back(std::string(natsMsg_GetSubject(msg.get())) + " " + body.value("action", ""));
    }
    EXPECT_EQ((std::vector<std::string>{"$JS.EVENT.ADVISORY.STREAM.CREATED.ANN create",
                                        "$JS.EVENT.ADVISORY.CONSUMER.CREATED.ANN.C create",
                                        "$JS.EVENT.ADVISORY.CONSUMER.DELETED.ANN.C delete",
                                        "$JS.EVENT.ADVISORY.STREAM.DELETED.ANN delete"}),
              seen);
}

TEST_F(JetStreamConsumer, TermWithReasonAnnouncesTheReason) {
    // nats-server 2.11's form of +TERM (the differential corpus covers the plain one).
    create_stream("TRM", {"trm"});
    ASSERT_TRUE(publish_numbered("trm", 1));
    SubscriptionPtr advisories = subscribe_sync(nc(), "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.TRM.C");
    ASSERT_NE(nullptr, advisories);
    ConsumerConfig config("C");
    SubscriptionPtr sub = pull_consumer("TRM", config);
    ASSERT_NE(nullptr, sub);
    Fetched fetched = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, fetched.msgs.size()) << fetched;
    const char* ack = natsMsg_GetReply(fetched.msgs[0].get());
    ASSERT_EQ(NATS_OK, natsConnection_PublishString(nc(), ack, "+TERM  poison message \r\n"));

    MsgPtr advisory = next_msg(advisories.get(), 2s);
    ASSERT_NE(nullptr, advisory);
    json body = json::parse(msg_data(advisory.get()), nullptr, false);
    ASSERT_TRUE(body.is_object()) << msg_data(advisory.get());
    EXPECT_EQ("io.nats.jetstream.advisory.v1.terminated", body.value("type", ""));
    EXPECT_EQ("poison message", body.value("reason", ""));
    EXPECT_EQ(1u, body.value("stream_seq", 0u));
    EXPECT_EQ(1u, body.value("consumer_seq", 0u));
    EXPECT_EQ(1u, body.value("deliveries", 0u));
    // Terminated: not owed any more.
    json info = api_request(nc(), "$JS.API.CONSUMER.INFO.TRM.C");
    EXPECT_EQ(0u, info.value("num_ack_pending", 1u)) << info.dump();
}

// A message owed an ack that leaves the stream (deleted here; a limit or max_age likewise) is
// terminated: nats-server announces it, with the reason its later versions give.
TEST_F(JetStreamConsumer, AnUnackedMessageDeletedFromTheStreamIsAnnouncedAsTerminated) {
    create_stream("GONEMSG", {"gonemsg"});
    ASSERT_TRUE(publish_numbered("gonemsg", 2));
    SubscriptionPtr advisories = subscribe_sync(nc(), "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.GONEMSG.C");
    ASSERT_NE(nullptr, advisories);
    ConsumerConfig config("C");
    SubscriptionPtr sub = pull_consumer("GONEMSG", config);
    ASSERT_NE(nullptr, sub);
    Fetched fetched = fetch(sub.get(), 2, 2s);
    ASSERT_EQ(2u, fetched.msgs.size()) << fetched;
    json deleted = api_request(nc(), "$JS.API.STREAM.MSG.DELETE.GONEMSG", R"({"seq":2})");
    ASSERT_TRUE(deleted.value("success", false)) << deleted.dump();

    MsgPtr advisory = next_msg(advisories.get(), 2s);
    ASSERT_NE(nullptr, advisory);
    json body = json::parse(msg_data(advisory.get()), nullptr, false);
    ASSERT_TRUE(body.is_object()) << msg_data(advisory.get());
    EXPECT_EQ("io.nats.jetstream.advisory.v1.terminated", body.value("type", ""));
    EXPECT_EQ(2u, body.value("stream_seq", 0u));
    EXPECT_EQ(2u, body.value("consumer_seq", 0u));
    EXPECT_EQ(1u, body.value("deliveries", 0u));
    // nats-server 2.9 gives no reason.
    if (testing_ringtail()) {
        EXPECT_EQ("Unacknowledged message was deleted", body.value("reason", ""));
    }
    EXPECT_EQ(nullptr, next_msg(advisories.get(), 300ms)) << "one advisory for one message";
    json info = api_request(nc(), "$JS.API.CONSUMER.INFO.GONEMSG.C");
    EXPECT_EQ(1u, info.value("num_ack_pending", 0u)) << info.dump();
}

// --- The consumer management API, raw ----------------------------------------------------------

TEST_F(JetStreamConsumer, RawInfoNamesListAndDelete) {
    create_stream("MGMT", {"mgmt.*"});
    ASSERT_TRUE(publish_numbered("mgmt.a", 2));
    ConsumerConfig beta("BETA");
    beta.filter("mgmt.b");
    ConsumerConfig alpha("ALPHA");
    ASSERT_EQ(NATS_OK, add_consumer("MGMT", beta).status);
    ASSERT_EQ(NATS_OK, add_consumer("MGMT", alpha).status);

    json info = api_request(nc(), "$JS.API.CONSUMER.INFO.MGMT.ALPHA");
    ASSERT_FALSE(info.is_discarded());
    EXPECT_EQ("io.nats.jetstream.api.v1.consumer_info_response", info.value("type", ""));
    EXPECT_EQ("MGMT", info.value("stream_name", ""));
    EXPECT_EQ("ALPHA", info.value("name", ""));
    EXPECT_TRUE(info.contains("created")) << info.dump();
    EXPECT_EQ((json{{"consumer_seq", 0}, {"stream_seq", 0}}), info["delivered"]);
    EXPECT_EQ((json{{"consumer_seq", 0}, {"stream_seq", 0}}), info["ack_floor"]);
    EXPECT_EQ(0, info.value("num_ack_pending", -1));
    EXPECT_EQ(0, info.value("num_redelivered", -1));
    EXPECT_EQ(0, info.value("num_waiting", -1));
    EXPECT_EQ(2, info.value("num_pending", -1));
    EXPECT_FALSE(info.contains("push_bound")) << info.dump();
    EXPECT_EQ((json{{"durable_name", "ALPHA"},
                    {"deliver_policy", "all"},
                    {"ack_policy", "explicit"},
                    {"ack_wait", 30 * kNanosPerSecond},
                    {"max_deliver", -1},
                    {"replay_policy", "instant"},
                    {"max_waiting", 512},
                    {"max_ack_pending", 1000},
                    {"num_replicas", 0}}),
              info["config"]);

    json names = api_request(nc(), "$JS.API.CONSUMER.NAMES.MGMT");
    EXPECT_EQ((json{{"type", "io.nats.jetstream.api.v1.consumer_names_response"},
                    {"total", 2},
                    {"offset", 0},
                    {"limit", 1024},
                    {"consumers", {"ALPHA", "BETA"}}}),
              names);

    json list = api_request(nc(), "$JS.API.CONSUMER.LIST.MGMT");
    ASSERT_FALSE(list.is_discarded());
    EXPECT_EQ("io.nats.jetstream.api.v1.consumer_list_response", list.value("type", ""));
    EXPECT_EQ(2, list.value("total", -1));
    EXPECT_EQ(0, list.value("offset", -1));
    EXPECT_EQ(256, list.value("limit", -1));
    ASSERT_TRUE(list["consumers"].is_array()) << list.dump();
    std::vector<std::string> listed;
    for (const json& entry : list["consumers"]) {
        EXPECT_EQ("MGMT", entry.value("stream_name", ""));
        listed.push_back(entry.value("name", ""));
    }
    std::sort(listed.begin(), listed.end());
    EXPECT_EQ((std::vector<std::string>{"ALPHA", "BETA"}), listed);

    json not_found = {{"type", "io.nats.jetstream.api.v1.consumer_info_response"},
                      {"error",
                       {{"code", 404},
                        {"err_code", JSConsumerNotFoundErr},
                        {"description", "consumer not found"}}}};
    EXPECT_EQ(not_found, api_request(nc(), "$JS.API.CONSUMER.INFO.MGMT.GAMMA"));
    json no_stream = api_request(nc(), "$JS.API.CONSUMER.INFO.NOPE.ALPHA");
    EXPECT_EQ(
        (json{
            {"code", 404}, {"err_code", JSStreamNotFoundErr}, {"description", "stream not found"}}),
        no_stream["error"]);

    EXPECT_EQ(
        (json{{"type", "io.nats.jetstream.api.v1.consumer_delete_response"}, {"success", true}}),
        api_request(nc(), "$JS.API.CONSUMER.DELETE.MGMT.BETA"));
    EXPECT_EQ(not_found, api_request(nc(), "$JS.API.CONSUMER.INFO.MGMT.BETA"));
    json deleted_again = api_request(nc(), "$JS.API.CONSUMER.DELETE.MGMT.BETA");
    EXPECT_EQ("io.nats.jetstream.api.v1.consumer_delete_response", deleted_again.value("type", ""));
    EXPECT_EQ((json{{"code", 404},
                    {"err_code", JSConsumerNotFoundErr},
                    {"description", "consumer not found"}}),
              deleted_again["error"]);
    names = api_request(nc(), "$JS.API.CONSUMER.NAMES.MGMT");
    EXPECT_EQ(1, names.value("total", -1));
    EXPECT_EQ((json{"ALPHA"}), names["consumers"]);
}

TEST_F(JetStreamConsumer, NamesListInfoAndDeleteThroughLibnats) {
    create_stream("LIB", {"lib.*"});
    for (const char* name : {"C3", "C1", "C2"}) {
        ConsumerConfig config(name);
        ASSERT_EQ(NATS_OK, add_consumer("LIB", config).status);
    }
    jsConsumerNamesList* raw_names = nullptr;
    ASSERT_EQ(NATS_OK, js_ConsumerNames(&raw_names, js(), "LIB", nullptr, nullptr));
    ConsumerNamesPtr names(raw_names);
    std::vector<std::string> got;
    for (int i = 0; i < names->Count; ++i) got.emplace_back(names->List[i]);
    // libnats collects the names in a hash table, so their order is lost.
    std::sort(got.begin(), got.end());
    EXPECT_EQ((std::vector<std::string>{"C1", "C2", "C3"}), got);

    jsConsumerInfoList* raw_list = nullptr;
    ASSERT_EQ(NATS_OK, js_Consumers(&raw_list, js(), "LIB", nullptr, nullptr));
    ConsumerListPtr list(raw_list);
    ASSERT_EQ(3, list->Count);
    for (int i = 0; i < list->Count; ++i) EXPECT_STREQ("LIB", list->List[i]->Stream);

    jsErrCode err_code = static_cast<jsErrCode>(0);
    ASSERT_EQ(NATS_OK, js_DeleteConsumer(js(), "LIB", "C2", nullptr, &err_code));
    natsStatus status = js_DeleteConsumer(js(), "LIB", "C2", nullptr, &err_code);
    JsOutcome again = outcome_of(status, err_code);
    EXPECT_EQ(NATS_NOT_FOUND, again.status) << again;
    EXPECT_EQ(JSConsumerNotFoundErr, again.err_code);
    JsOutcome lookup;
    EXPECT_EQ(nullptr, consumer_info("LIB", "C2", &lookup));
    EXPECT_EQ(NATS_NOT_FOUND, lookup.status) << lookup;
    EXPECT_EQ(JSConsumerNotFoundErr, lookup.err_code);

    // Deleting the stream takes its consumers with it.
    ASSERT_EQ(NATS_OK, delete_stream(js(), "LIB").status);
    create_stream("LIB", {"lib.*"});
    EXPECT_EQ(nullptr, consumer_info("LIB", "C1", &lookup));
    EXPECT_EQ(JSConsumerNotFoundErr, lookup.err_code) << lookup;
}

TEST_F(JetStreamConsumer, RawCreateErrors) {
    create_stream("ERR", {"err.*"});
    struct RawCase {
        std::string subject;
        std::string body;
        int code;
        int err_code;
        std::string description;
    };
    const std::string kCreate = "$JS.API.CONSUMER.CREATE.ERR";
    const std::string kDurable = "$JS.API.CONSUMER.DURABLE.CREATE.ERR.D1";
    const std::vector<RawCase> cases = {
        {kCreate, "not json", 400, JSInvalidJSONErr, "invalid JSON"},
        {kCreate, R"({"stream_name":"ERR","config":{"ack_policy":"sometimes"}})", 400,
         JSInvalidJSONErr, "invalid JSON"},
        {kCreate, R"({"stream_name":"OTHER","config":{}})", 400, JSStreamMismatchErr,
         "stream name in subject does not match request"},
        {kCreate, R"({"config":{}})", 400, JSStreamMismatchErr,
         "stream name in subject does not match request"},
        {"$JS.API.CONSUMER.CREATE.NOPE", R"({"stream_name":"NOPE","config":{}})", 404,
         JSStreamNotFoundErr, "stream not found"},
        {kCreate, R"({"stream_name":"ERR","config":{"durable_name":"D1"}})", 400,
         JSConsumerEphemeralWithDurableNameErr,
         "consumer expected to be ephemeral but a durable name was set in request"},
        {kDurable, R"({"stream_name":"ERR","config":{"durable_name":"D2"}})", 400,
         JSConsumerDurableNameNotMatchSubjectErr,
         "consumer name in subject does not match durable name in request"},
        {kDurable, R"({"stream_name":"ERR","config":{}})", 400, JSConsumerDurableNameNotSetErr,
         "consumer expected to be durable but a durable name was not set"},
        {kDurable, R"({"stream_name":"OTHER","config":{"durable_name":"D1"}})", 400,
         JSStreamMismatchErr, "stream name in subject does not match request"},
        {kCreate, R"({"stream_name":"ERR","config":{"filter_subject":"zzz"}})", 400,
         JSConsumerFilterNotSubsetErr,
         "consumer filter subject is not a valid subset of the interest subjects"},
        {kCreate, R"({"stream_name":"ERR","config":{"deliver_policy":"by_start_sequence"}})", 400,
         JSConsumerInvalidPolicyErr,
         "consumer delivery policy is deliver by start sequence, but optional start sequence is "
         "not set"},
        {kCreate, R"({"stream_name":"ERR","config":{"deliver_policy":"all","opt_start_seq":3}})",
         400, JSConsumerInvalidPolicyErr,
         "consumer delivery policy is deliver all, but optional start sequence is also set"},
        {kCreate, R"({"stream_name":"ERR","config":{"deliver_policy":"last_per_subject"}})", 400,
         JSConsumerInvalidPolicyErr,
         "consumer delivery policy is deliver last per subject, but optional filter subject is "
         "not set"},
        {kCreate, R"({"stream_name":"ERR","config":{"idle_heartbeat":1000000000}})", 400,
         JSConsumerHBRequiresPushErr, "consumer idle heartbeat requires a push based consumer"},
        {kCreate, R"({"stream_name":"ERR","config":{"flow_control":true}})", 400,
         JSConsumerFCRequiresPushErr, "consumer flow control requires a push based consumer"},
        {kCreate, R"({"stream_name":"ERR","config":{"deliver_subject":"d.x","flow_control":true}})",
         400, JSConsumerWithFlowControlNeedsHeartbeatsErr,
         "consumer with flow control also needs heartbeats"},
        {kCreate,
         R"({"stream_name":"ERR","config":{"deliver_subject":"d.x","idle_heartbeat":50000000}})",
         400, JSConsumerSmallHeartbeatErr, "consumer idle heartbeat needs to be >= 100ms"},
        {kCreate, R"({"stream_name":"ERR","config":{"deliver_subject":"d.*"}})", 400,
         JSConsumerDeliverToWildcardsErr, "consumer deliver subject has wildcards"},
        {kCreate, R"({"stream_name":"ERR","config":{"deliver_subject":"err.x"}})", 400,
         JSConsumerDeliverCycleErr, "consumer deliver subject forms a cycle"},
        {kCreate, R"({"stream_name":"ERR","config":{"deliver_subject":"d.x","max_waiting":5}})",
         400, JSConsumerPushMaxWaitingErr, "consumer in push mode can not set max waiting"},
        {kCreate, R"({"stream_name":"ERR","config":{"deliver_subject":"d.x","max_ack_pending":5}})",
         400, JSConsumerMaxPendingAckPolicyRequiredErr,
         "consumer requires ack policy for max ack pending"},
        {kCreate, R"({"stream_name":"ERR","config":{"max_batch":-1}})", 400,
         JSConsumerMaxRequestBatchNegativeErr, "consumer max request batch needs to be > 0"},
        // The one 500 among them.
        {kCreate, R"({"stream_name":"ERR","config":{"num_replicas":3}})", 500,
         JSStreamReplicasNotSupportedErr, "replicas > 1 not supported in non-clustered mode"},
    };
    for (const RawCase& c : cases) {
        SCOPED_TRACE(c.subject + " " + c.body);
        json reply = api_request(nc(), c.subject, c.body);
        ASSERT_TRUE(reply.contains("error")) << reply.dump();
        EXPECT_EQ("io.nats.jetstream.api.v1.consumer_create_response", reply.value("type", ""));
        EXPECT_EQ(
            (json{{"code", c.code}, {"err_code", c.err_code}, {"description", c.description}}),
            reply["error"]);
    }
    EXPECT_EQ(0, api_request(nc(), "$JS.API.CONSUMER.NAMES.ERR").value("total", -1))
        << "no rejected create may leave a consumer";

    // A good raw create answers with the consumer info.
    json created = api_request(nc(), kDurable,
                               R"({"stream_name":"ERR","config":{"durable_name":"D1",)"
                               R"("ack_policy":"explicit"}})");
    EXPECT_EQ("io.nats.jetstream.api.v1.consumer_create_response", created.value("type", ""));
    EXPECT_EQ("D1", created.value("name", "")) << created.dump();
    EXPECT_FALSE(created.contains("error"));
}

TEST_F(JetStreamConsumer, WorkQueueStreamRestrictsItsConsumers) {
    create_stream("WQ", {"wq.*"}, js_WorkQueuePolicy);
    struct WqCase {
        const char* label;
        void (*mutate)(ConsumerConfig&);
        int err_code;
        std::string description;
    };
    ConsumerConfig first("FIRST");
    first.filter("wq.a");
    ASSERT_EQ(NATS_OK, add_consumer("WQ", first).status);
    const std::vector<WqCase> cases = {
        {"second unfiltered", [](ConsumerConfig&) {}, JSConsumerWQMultipleUnfilteredErr,
         "multiple non-filtered consumers not allowed on workqueue stream"},
        {"same filter", [](ConsumerConfig& c) { c.filter("wq.a"); },
         JSConsumerWQConsumerNotUniqueErr, "filtered consumer not unique on workqueue stream"},
        {"overlapping filter", [](ConsumerConfig& c) { c.filter("wq.*"); },
         JSConsumerWQConsumerNotUniqueErr, "filtered consumer not unique on workqueue stream"},
        {"ack all",
         [](ConsumerConfig& c) {
             c.filter("wq.b");
             c.raw.AckPolicy = js_AckAll;
         },
         JSConsumerWQRequiresExplicitAckErr, "workqueue stream requires explicit ack"},
        // For a pull consumer the generic pull check answers first.
        {"pull ack none",
         [](ConsumerConfig& c) {
             c.filter("wq.b");
             c.raw.AckPolicy = js_AckNone;
         },
         JSConsumerPullRequiresAckErr, "consumer in pull mode requires ack policy"},
        {"push ack none",
         [](ConsumerConfig& c) {
             c.filter("wq.b");
             c.deliver_subject("deliver.wq");
             c.raw.AckPolicy = js_AckNone;
         },
         JSConsumerWQRequiresExplicitAckErr, "workqueue stream requires explicit ack"},
        {"deliver new",
         [](ConsumerConfig& c) {
             c.filter("wq.b");
             c.raw.DeliverPolicy = js_DeliverNew;
         },
         JSConsumerWQConsumerNotDeliverAllErr, "consumer must be deliver all on workqueue stream"},
    };
    for (const WqCase& c : cases) {
        SCOPED_TRACE(c.label);
        ConsumerConfig config("OTHER");
        c.mutate(config);
        JsOutcome outcome = add_consumer("WQ", config);
        EXPECT_EQ(NATS_ERR, outcome.status) << outcome;
        EXPECT_EQ(c.err_code, outcome.err_code);
        EXPECT_EQ(c.description, outcome.text);
    }
    // A disjoint filter is fine.
    ConsumerConfig second("SECOND");
    second.filter("wq.b");
    EXPECT_EQ(NATS_OK, add_consumer("WQ", second).status);
}

// --- Retention ---------------------------------------------------------------------------------

TEST_F(JetStreamConsumer, WorkQueueRetentionRemovesAckedMessages) {
    create_stream("JOBS", {"jobs"}, js_WorkQueuePolicy);
    ASSERT_TRUE(publish_numbered("jobs", 3));
    ConsumerConfig config("WORKER");
    SubscriptionPtr sub = pull_consumer("JOBS", config);
    ASSERT_NE(nullptr, sub);
    Fetched fetched = fetch(sub.get(), 3, 2s);
    ASSERT_EQ(3u, fetched.msgs.size()) << fetched;
    // Delivery alone removes nothing.
    EXPECT_EQ(3u, stream_msgs("JOBS"));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[1].get(), nullptr, nullptr));
    EXPECT_TRUE(wait_for([&] { return stream_msgs("JOBS") == 2; }, 3s)) << stream_msgs("JOBS");
    JsOutcome gone;
    EXPECT_EQ(nullptr, get_msg(js(), "JOBS", 2, &gone));
    EXPECT_NE(nullptr, get_msg(js(), "JOBS", 1));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[0].get(), nullptr, nullptr));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[2].get(), nullptr, nullptr));
    EXPECT_TRUE(wait_for([&] { return stream_msgs("JOBS") == 0; }, 3s)) << stream_msgs("JOBS");
    StreamInfoPtr info = stream_info(js(), "JOBS");
    ASSERT_NE(nullptr, info);
    EXPECT_EQ(4u, info->State.FirstSeq);
    EXPECT_EQ(3u, info->State.LastSeq);
}

TEST_F(JetStreamConsumer, InterestRetentionRemovesAMessageOnceEveryConsumerAckedIt) {
    create_stream("EVENTS", {"events"}, js_InterestPolicy);
    ConsumerConfig one("ONE");
    ConsumerConfig two("TWO");
    SubscriptionPtr first = pull_consumer("EVENTS", one);
    SubscriptionPtr second = pull_consumer("EVENTS", two);
    ASSERT_NE(nullptr, first);
    ASSERT_NE(nullptr, second);
    ASSERT_TRUE(publish_numbered("events", 2));
    EXPECT_EQ(2u, stream_msgs("EVENTS"));

    Fetched from_one = fetch(first.get(), 2, 2s);
    Fetched from_two = fetch(second.get(), 2, 2s);
    ASSERT_EQ(2u, from_one.msgs.size()) << from_one;
    ASSERT_EQ(2u, from_two.msgs.size()) << from_two;
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(from_one.msgs[0].get(), nullptr, nullptr));
    // Consumer TWO still has interest in message 1.
    EXPECT_EQ(2u, stream_msgs("EVENTS"));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(from_two.msgs[0].get(), nullptr, nullptr));
    EXPECT_TRUE(wait_for([&] { return stream_msgs("EVENTS") == 1; }, 3s));
    EXPECT_EQ(nullptr, get_msg(js(), "EVENTS", 1));

    // Deleting consumer TWO leaves only ONE's interest; its ack removes message 2.
    ASSERT_EQ(NATS_OK, js_DeleteConsumer(js(), "EVENTS", "TWO", nullptr, nullptr));
    ASSERT_EQ(NATS_OK, natsMsg_AckSync(from_one.msgs[1].get(), nullptr, nullptr));
    EXPECT_TRUE(wait_for([&] { return stream_msgs("EVENTS") == 0; }, 3s)) << stream_msgs("EVENTS");
}

// --- Raw pull requests -------------------------------------------------------------------------

TEST_F(JetStreamConsumer, RawPullRequestsAnswerWithStatusMessages) {
    create_stream("RAW", {"raw"});
    ConsumerConfig config("C");
    config.raw.MaxRequestBatch = 3;
    ASSERT_EQ(NATS_OK, add_consumer("RAW", config).status);
    ConsumerConfig push("PUSHED");
    push.deliver_subject("deliver.raw");
    ASSERT_EQ(NATS_OK, add_consumer("RAW", push).status);

    struct StatusCase {
        std::string consumer;
        std::string body;
        std::string status;
        std::string description;
    };
    const std::vector<StatusCase> cases = {
        {"C", R"({"batch":1,"no_wait":true})", "404", "No Messages"},
        {"C", R"({"batch":1,"expires":200000000})", "408", "Request Timeout"},
        {"C", R"({"batch":5})", "409", "Exceeded MaxRequestBatch of 3"},
        {"C", "4", "409", "Exceeded MaxRequestBatch of 3"},
        {"C", R"({"batch":1,"expires":200000000,"idle_heartbeat":150000000})", "400",
         "Bad Request - heartbeat value too large"},
        {"PUSHED", R"({"batch":1,"no_wait":true})", "409", "Consumer is push based"},
    };
    for (const StatusCase& c : cases) {
        SCOPED_TRACE(c.consumer + " " + c.body);
        MsgPtr reply = next_request("RAW", c.consumer, c.body);
        ASSERT_NE(nullptr, reply);
        EXPECT_EQ(c.status, status_of(reply.get()));
        EXPECT_EQ(c.description, description_of(reply.get()));
        EXPECT_EQ(0, natsMsg_GetDataLength(reply.get()));
    }
    // The 408 of an expired request says how much of it was left.
    MsgPtr expired = next_request("RAW", "C", R"({"batch":2,"expires":100000000})");
    ASSERT_NE(nullptr, expired);
    EXPECT_EQ("408", status_of(expired.get()));
    EXPECT_EQ("2", header_value(expired.get(), "Nats-Pending-Messages"));
    EXPECT_EQ("0", header_value(expired.get(), "Nats-Pending-Bytes"));
    // Malformed JSON is a 400 with the parser's complaint after "Bad Request - ".
    MsgPtr bad = next_request("RAW", "C", R"({"batch":"x"})");
    ASSERT_NE(nullptr, bad);
    EXPECT_EQ("400", status_of(bad.get()));
    EXPECT_TRUE(description_of(bad.get()).starts_with("Bad Request - "))
        << description_of(bad.get());

    // With a message there, a plain request (empty body: one message) gets it, with the ack
    // subject as reply.
    ASSERT_TRUE(publish_numbered("raw", 1));
    MsgPtr msg = next_request("RAW", "C", "");
    ASSERT_NE(nullptr, msg);
    EXPECT_EQ("m1", msg_data(msg.get()));
    EXPECT_STREQ("raw", natsMsg_GetSubject(msg.get()));
    std::string reply = natsMsg_GetReply(msg.get()) != nullptr ? natsMsg_GetReply(msg.get()) : "";
    EXPECT_TRUE(reply.starts_with("$JS.ACK.RAW.C.1.1.1.")) << reply;
}

TEST_F(JetStreamConsumer, RawPullRequestBeyondMaxWaitingIsRefused) {
    create_stream("MW", {"mw"});
    ConsumerConfig config("C");
    config.raw.MaxWaiting = 1;
    ASSERT_EQ(NATS_OK, add_consumer("MW", config).status);
    // The first request waits (its reply subject has a subscriber, so it stays interesting).
    SubscriptionPtr waiting = subscribe_sync(nc(), "waiting.reply");
    ASSERT_NE(nullptr, waiting);
    ASSERT_EQ(NATS_OK, natsConnection_PublishRequestString(nc(), "$JS.API.CONSUMER.MSG.NEXT.MW.C",
                                                           "waiting.reply",
                                                           R"({"batch":1,"expires":1500000000})"));
    ASSERT_TRUE(wait_for([&] { return state("MW", "C").num_waiting == 1; }, 2s));
    MsgPtr refused = next_request("MW", "C", R"({"batch":1,"expires":1000000000})");
    ASSERT_NE(nullptr, refused);
    EXPECT_EQ("409", status_of(refused.get()));
    EXPECT_EQ("Exceeded MaxWaiting", description_of(refused.get()));
    // The waiting request is served by the next message.
    ASSERT_TRUE(publish_numbered("mw", 1));
    MsgPtr served = next_msg(waiting.get(), 2s);
    ASSERT_NE(nullptr, served);
    EXPECT_EQ("m1", msg_data(served.get()));
}

// Several pull requests waiting at once take turns, one message each, as nats-server serves
// them: workers that fetch together share what arrives rather than the first taking all.
TEST_F(JetStreamConsumer, WaitingPullRequestsTakeTurnsOneMessageEach) {
    create_stream("TURNS", {"turns"});
    ConsumerConfig config("C");
    ASSERT_EQ(NATS_OK, add_consumer("TURNS", config).status);
    std::vector<SubscriptionPtr> workers;
    for (int i = 0; i < 3; ++i) {
        std::string reply = "turns.reply." + std::to_string(i);
        workers.push_back(subscribe_sync(nc(), reply.c_str()));
        ASSERT_NE(nullptr, workers.back());
        ASSERT_EQ(NATS_OK, natsConnection_PublishRequestString(nc(), "$JS.API.CONSUMER.MSG.NEXT.TURNS.C", reply.c_str(),
                                                               R"({"batch":2,"expires":5000000000})"));
        // In this order: each request is waiting before the next is sent.
        ASSERT_TRUE(wait_for([&] { return state("TURNS", "C").num_waiting == static_cast<int64_t>(i) + 1; }, 2s));
    }
    ASSERT_TRUE(publish_numbered("turns", 5));
    const std::vector<std::vector<std::string>> expected = {{"m1", "m4"}, {"m2", "m5"}, {"m3"}};
    for (size_t i = 0; i < workers.size(); ++i) {
        SCOPED_TRACE(i);
        for (const std::string& want : expected[i]) {
            MsgPtr got = next_msg(workers[i].get(), 2s);
            ASSERT_NE(nullptr, got);
            EXPECT_EQ(want, msg_data(got.get()));
        }
    }
}

// A pull request waiting when the server stops is told so (409 Server Shutdown, with what it
// still wanted), as nats-server tells it, instead of being left to wait out its expiry; from
// a connection on either shard.
TEST_F(JetStreamConsumer, AWaitingPullRequestIsToldTheServerStops) {
    create_stream("STOP", {"stop"});
    ConsumerConfig config("C");
    ASSERT_EQ(NATS_OK, add_consumer("STOP", config).status);
    const std::string body = R"({"batch":3,"expires":30000000000})";
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 2; ++i) {
        auto& client = clients.emplace_back(std::make_unique<RawClient>());
        ASSERT_TRUE(client->connect(server_->port()));
        ASSERT_TRUE(client->send("CONNECT {\"headers\":true,\"verbose\":false}\r\nSUB stop.inbox 1\r\nPUB "
                                 "$JS.API.CONSUMER.MSG.NEXT.STOP.C stop.inbox " + std::to_string(body.size()) + "\r\n" +
                                 body + "\r\nPING\r\n"));
        ASSERT_TRUE(client->read_until("PONG\r\n"));
    }
    for (int i = 0; i < 100 && state("STOP", "C").num_waiting < 2; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_EQ(2, state("STOP", "C").num_waiting);
    server_->stop(SIGTERM);
    for (auto& client : clients) {
        EXPECT_TRUE(client->wait_closed());
        EXPECT_NE(std::string::npos, client->received().find("NATS/1.0 409 Server Shutdown\r\nNats-Pending-Messages: 3\r\n"))
            << client->received();
    }
}

TEST_F(JetStreamConsumer, AWaitingRequestWhoseRequesterLeftIsNotCounted) {
    create_stream("LEFT", {"left"});
    ConsumerConfig config("C");
    ASSERT_EQ(NATS_OK, add_consumer("LEFT", config).status);
    SubscriptionPtr waiting = subscribe_sync(nc(), "left.reply");
    ASSERT_NE(nullptr, waiting);
    ASSERT_EQ(NATS_OK, natsConnection_PublishRequestString(nc(), "$JS.API.CONSUMER.MSG.NEXT.LEFT.C", "left.reply",
                                                           R"({"batch":1,"expires":30000000000})"));
    ASSERT_TRUE(wait_for([&] { return state("LEFT", "C").num_waiting == 1; }, 2s));
    // The requester gives up (a fetch abandoned, a client gone): nats-server's CONSUMER.INFO
    // drops such requests before it counts them.
    waiting.reset();
    ASSERT_EQ(NATS_OK, natsConnection_Flush(nc()));
    EXPECT_TRUE(wait_for([&] { return state("LEFT", "C").num_waiting == 0; }, 2s));
}

TEST_F(JetStreamConsumer, RawWaitingRequestIsReleasedWhenTheConsumerIsDeleted) {
    create_stream("GONE", {"gone"});
    ConsumerConfig config("C");
    ASSERT_EQ(NATS_OK, add_consumer("GONE", config).status);
    SubscriptionPtr waiting = subscribe_sync(nc(), "waiting.reply");
    ASSERT_NE(nullptr, waiting);
    ASSERT_EQ(NATS_OK, natsConnection_PublishRequestString(nc(), "$JS.API.CONSUMER.MSG.NEXT.GONE.C",
                                                           "waiting.reply",
                                                           R"({"batch":5,"expires":5000000000})"));
    ASSERT_TRUE(wait_for([&] { return state("GONE", "C").num_waiting == 1; }, 2s));
    ASSERT_EQ(NATS_OK, js_DeleteConsumer(js(), "GONE", "C", nullptr, nullptr));
    MsgPtr released = next_msg(waiting.get(), 2s);
    ASSERT_NE(nullptr, released);
    EXPECT_EQ("409", status_of(released.get()));
    EXPECT_EQ("Consumer Deleted", description_of(released.get()));
    EXPECT_EQ(0, natsMsg_GetDataLength(released.get()));
}

// --- Restart -----------------------------------------------------------------------------------

TEST_F(JetStreamConsumer, DurableConsumerStateSurvivesARestart) {
    create_stream("KEEP", {"keep"});
    ASSERT_TRUE(publish_numbered("keep", 5));
    ConsumerConfig config("KEEPER");
    config.ack_wait(500ms);
    config.description("survives");
    {
        SubscriptionPtr sub = pull_consumer("KEEP", config);
        ASSERT_NE(nullptr, sub);
        Fetched fetched = fetch(sub.get(), 5, 2s);
        ASSERT_EQ(5u, fetched.msgs.size()) << fetched;
        for (int i = 0; i < 3; ++i) {
            ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[i].get(), nullptr, nullptr));
        }
    }
    ConsumerInfoPtr before = consumer_info("KEEP", "KEEPER");
    ASSERT_NE(nullptr, before);
    EXPECT_EQ((ConsumerState{.delivered_consumer = 5,
                             .delivered_stream = 5,
                             .ack_floor_consumer = 3,
                             .ack_floor_stream = 3,
                             .num_ack_pending = 2}),
              state_of(*before));

    int64_t restarted_ns = unix_now_ns();
    ASSERT_NO_FATAL_FAILURE(restart(SIGTERM));
    ConsumerInfoPtr after = consumer_info("KEEP", "KEEPER");
    ASSERT_NE(nullptr, after);
    EXPECT_EQ(state_of(*before), state_of(*after));
    // nats-server 2.9.10 quirk: the creation time comes back as when the consumer's files were
    // first written, a fraction of a millisecond after the time reported at creation; it is not
    // reset to the restart.
    EXPECT_GE(after->Created, before->Created);
    EXPECT_LT(after->Created, restarted_ns);
    EXPECT_STREQ("survives", after->Config->Description);
    EXPECT_EQ(nanos(500ms), after->Config->AckWait);

    // The two unacked messages come again (after the ack wait), the acked ones never. A plain
    // request for two (not no_wait) waits for both even if their ack waits end apart.
    SubscriptionPtr sub = bind_pull("KEEP", "KEEPER");
    ASSERT_NE(nullptr, sub);
    jsFetchRequest request;
    jsFetchRequest_Init(&request);
    request.Batch = 2;
    request.Expires = nanos(2000ms);
    Fetched redelivered = fetch_request(sub.get(), request);
    ASSERT_EQ(NATS_OK, redelivered.status) << redelivered;
    EXPECT_EQ(numbered(4, 2), data_of(redelivered.msgs));
    for (const MsgPtr& msg : redelivered.msgs) {
        EXPECT_EQ(2u, meta_of(msg.get()).delivered);
        ASSERT_EQ(NATS_OK, natsMsg_AckSync(msg.get(), nullptr, nullptr));
    }
    EXPECT_EQ((ConsumerState{.delivered_consumer = 7,
                             .delivered_stream = 5,
                             .ack_floor_consumer = 7,
                             .ack_floor_stream = 5}),
              state("KEEP", "KEEPER"));
    ASSERT_TRUE(publish_numbered("keep", 1, 6));
    Fetched next = fetch(sub.get(), 1, 2s);
    ASSERT_EQ(1u, next.msgs.size()) << next;
    EXPECT_EQ((Meta{"KEEP", "KEEPER", 6, 8, 1, 0}), meta_of(next.msgs[0].get()));
}

// A stream's first consumer with state on disk may come long after the stream, after restarts
// and after consumers that keep their state in memory; its state lasts through a kill all the
// same, and the memory one is gone as on nats-server.
TEST_F(JetStreamConsumer, AFirstDurableConsumerMadeAfterRestartsSurvivesAKill) {
    // nats-server 2.9.10 writes a consumer's state behind its acks: a kill loses acked ones.
    if (!testing_ringtail()) GTEST_SKIP() << "acks lost at a kill on nats-server";
    create_stream("LATE", {"late"});
    ASSERT_TRUE(publish_numbered("late", 3));
    ASSERT_NO_FATAL_FAILURE(restart(SIGTERM));
    nlohmann::json memory = api_request(nc(), "$JS.API.CONSUMER.DURABLE.CREATE.LATE.MEM",
                                        R"({"stream_name":"LATE","config":{"durable_name":"MEM",)"
                                        R"("ack_policy":"explicit","mem_storage":true}})");
    ASSERT_FALSE(memory.contains("error")) << memory;
    {
        ConsumerConfig config("FIRST");
        SubscriptionPtr sub = pull_consumer("LATE", config);
        ASSERT_NE(nullptr, sub);
        Fetched fetched = fetch(sub.get(), 3, 2s);
        ASSERT_EQ(3u, fetched.msgs.size()) << fetched;
        for (int i = 0; i < 2; ++i) ASSERT_EQ(NATS_OK, natsMsg_AckSync(fetched.msgs[i].get(), nullptr, nullptr));
    }
    ASSERT_NO_FATAL_FAILURE(restart(SIGKILL));
    EXPECT_EQ((ConsumerState{.delivered_consumer = 3,
                             .delivered_stream = 3,
                             .ack_floor_consumer = 2,
                             .ack_floor_stream = 2,
                             .num_ack_pending = 1}),
              state("LATE", "FIRST"));
    nlohmann::json gone = api_request(nc(), "$JS.API.CONSUMER.INFO.LATE.MEM");
    EXPECT_EQ(gone["error"]["err_code"], 10014) << gone;  // consumer not found
    ASSERT_NO_FATAL_FAILURE(restart(SIGKILL));
    EXPECT_EQ(3u, state("LATE", "FIRST").delivered_stream);
}

TEST_F(JetStreamConsumer, TheStreamsConsumerLimitsAreDefaultsCeilingsAndGuardUpdates) {
    if (!testing_ringtail()) GTEST_SKIP() << "consumer_limits came in nats-server 2.10";
    nlohmann::json created = api_request(
        nc(), "$JS.API.STREAM.CREATE.LIM",
        R"({"name":"LIM","subjects":["lim.>"],"consumer_limits":{"inactive_threshold":60000000000,"max_ack_pending":50}})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    EXPECT_EQ(created["config"]["consumer_limits"]["max_ack_pending"], 50);
    nlohmann::json consumer = api_request(nc(), "$JS.API.CONSUMER.CREATE.LIM.D",
                                          R"({"stream_name":"LIM","config":{"durable_name":"D","ack_policy":"explicit"}})");
    ASSERT_FALSE(consumer.contains("error")) << consumer.dump();
    EXPECT_EQ(consumer["config"]["max_ack_pending"], 50);
    EXPECT_EQ(consumer["config"]["inactive_threshold"], 60000000000);
    nlohmann::json over = api_request(
        nc(), "$JS.API.CONSUMER.CREATE.LIM.E",
        R"({"stream_name":"LIM","config":{"durable_name":"E","ack_policy":"explicit","max_ack_pending":500}})");
    EXPECT_EQ(over["error"]["err_code"], 10121) << over.dump();
    // Lowering the limit below what consumer D has is refused, naming it.
    nlohmann::json lowered = api_request(
        nc(), "$JS.API.STREAM.UPDATE.LIM",
        R"({"name":"LIM","subjects":["lim.>"],"consumer_limits":{"inactive_threshold":60000000000,"max_ack_pending":10}})");
    ASSERT_TRUE(lowered.contains("error")) << lowered.dump();
    EXPECT_EQ(lowered["error"]["description"], "change to limits violates consumers: D");
    nlohmann::json info = api_request(nc(), "$JS.API.STREAM.INFO.LIM");
    EXPECT_EQ(info["config"]["consumer_limits"]["max_ack_pending"], 50) << info.dump();
}

}  // namespace
}  // namespace ringtail::test
