#pragma once

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness/checker.h"
#include "bench/harness/histogram.h"
#include "bench/harness/runtime.h"

// The roles of the JetStream scenarios: JsPublisher (js-pub, the kv puts, the js-consume
// prefill), PullConsumer (js-consume) and KvGetter (kv gets), and the blocking JetStream API
// calls that set a run up and check it afterwards.
namespace ringtail::bench {

// A JetStream API call ($JS.API.<what>): the response JSON, or its error description.
[[nodiscard]] Expected<nlohmann::json> js_api(Connection& conn, const std::string& what,
                                              const nlohmann::json& request);

// Requests in flight, identified by a seq carried in the reply subject (inbox.<seq>). The
// span from the oldest unanswered seq to the next one is at most `window`, so the send times
// fit a ring indexed by seq % window.
class InFlight {
 public:
    explicit InFlight(uint64_t window) : send_ns_(std::max<uint64_t>(window, 1), kNever) {}
    bool can_send() const { return next_ - oldest_ < send_ns_.size(); }
    uint64_t send(uint64_t now_ns);  // returns the seq
    // The request's send time, or kNever when `seq` is not in flight (unknown or answered).
    uint64_t complete(uint64_t seq);
    uint64_t sent() const { return next_; }
    uint64_t completed() const { return completed_; }

 private:
    std::vector<uint64_t> send_ns_;
    uint64_t next_ = 0;
    uint64_t oldest_ = 0;
    uint64_t completed_ = 0;
};

// The last dot-separated token of a subject as a number, or -1.
int64_t last_token_number(std::string_view subject);

struct JsPublisherConfig {
    uint32_t id = 0;
    std::string subject;     // js-pub: every message goes here
    std::string key_prefix;  // kv: subject = key_prefix + (seq % keys)
    uint64_t keys = 0;
    std::string inbox;  // PubAcks come back to inbox.<seq>
    uint64_t size_bytes = 0;
    uint64_t count = 0;
    uint64_t window = 1;  // outstanding PubAcks; 1 is a synchronous publisher
};

// Publishes with a reply subject per message and waits for each PubAck, keeping at most
// `window` outstanding. Every PubAck must come back once, without an error.
class JsPublisher final : public Endpoint {
 public:
    JsPublisher(std::unique_ptr<Connection> conn, RunControl& run, JsPublisherConfig config);
    void tick(uint64_t now_ns) override;
    uint64_t wakeup_ns() const override { return wakeup_ns_; }
    bool done() const override { return done_; }
    void on_msg(const proto::MsgFrame& msg) override;

    uint64_t sent() const { return in_flight_.sent(); }
    uint64_t acked() const { return in_flight_.completed(); }
    uint64_t last_ack_ns() const { return last_ack_ns_; }
    const Histogram& ack_latency() const { return ack_latency_; }

 private:
    JsPublisherConfig config_;
    InFlight in_flight_;
    std::string payload_;
    bool stopped_ = false;
    uint64_t stop_ns_ = 0;
    uint64_t last_progress_ns_ = 0;  // the last send or PubAck
    uint64_t last_ack_ns_ = 0;
    uint64_t wakeup_ns_ = kNever;
    bool done_ = false;
    Histogram ack_latency_;
};

// What the consumers of one js-consume run share.
struct ConsumeBoard {
    uint64_t stored = 0;                // messages in the stream (set before the run)
    std::atomic<uint64_t> consumed{0};  // over all consumers, added per read batch
};

struct PullConsumerConfig {
    uint32_t id = 0;
    std::string stream;
    std::string durable;
    std::string inbox;  // pull requests reply to inbox.<request number>
    uint64_t batch = 1;
    uint64_t size_bytes = 0;
};

// Pulls from a durable consumer (CONSUMER.MSG.NEXT with a batch and an expiry), keeping two
// pulls outstanding, and acks every message explicitly (+ACK as an empty PUB to its reply).
// Checks that every stream sequence arrives once and is a first delivery.
class PullConsumer final : public Endpoint {
 public:
    PullConsumer(std::unique_ptr<Connection> conn, RunControl& run, ConsumeBoard& board,
                 PullConsumerConfig config);
    void tick(uint64_t now_ns) override;
    uint64_t wakeup_ns() const override { return wakeup_ns_; }
    bool done() const override { return done_; }
    void on_msg(const proto::MsgFrame& msg) override;
    void after_read() override;

    uint64_t consumed() const { return consumed_; }
    uint64_t last_msg_ns() const { return last_msg_ns_; }
    const DeliveryBitmap& bitmap() const { return bitmap_; }

 private:
    void pull();

    ConsumeBoard& board_;
    PullConsumerConfig config_;
    std::string next_subject_;
    uint64_t pulls_ = 0;
    // Messages still owed by open pull requests, by request number.
    std::vector<std::pair<uint64_t, uint64_t>> open_pulls_;
    uint64_t consumed_ = 0;
    uint64_t published_consumed_ = 0;
    uint64_t last_msg_ns_ = 0;
    uint64_t last_progress_ns_ = 0;
    uint64_t wakeup_ns_ = kNever;
    bool done_ = false;
    DeliveryBitmap bitmap_{1};
};

struct KvGetterConfig {
    uint32_t id = 0;
    std::string get_prefix;  // "$JS.API.DIRECT.GET.KV_<bucket>.$KV.<bucket>.k<id>_"
    std::string inbox;
    uint64_t keys = 0;  // keys 0..keys-1 were written by the putter with the same id
    uint64_t puts = 0;  // how many puts that putter made (to know each key's last value)
    uint64_t size_bytes = 0;
    uint64_t count = 0;
    uint64_t window = 1;
};

// Direct-gets keys round-robin and checks each value is the last one put for that key.
class KvGetter final : public Endpoint {
 public:
    KvGetter(std::unique_ptr<Connection> conn, RunControl& run, KvGetterConfig config);
    void tick(uint64_t now_ns) override;
    uint64_t wakeup_ns() const override { return wakeup_ns_; }
    bool done() const override { return done_; }
    void on_msg(const proto::MsgFrame& msg) override;

    uint64_t sent() const { return in_flight_.sent(); }
    uint64_t answered() const { return in_flight_.completed(); }
    uint64_t last_reply_ns() const { return last_reply_ns_; }
    const Histogram& latency() const { return latency_; }

 private:
    KvGetterConfig config_;
    InFlight in_flight_;
    bool stopped_ = false;
    uint64_t stop_ns_ = 0;
    uint64_t last_progress_ns_ = 0;  // the last send or reply
    uint64_t last_reply_ns_ = 0;
    uint64_t wakeup_ns_ = kNever;
    bool done_ = false;
    Histogram latency_;
};

}  // namespace ringtail::bench
