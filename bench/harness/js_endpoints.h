#pragma once

#include <atomic>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness/checker.h"
#include "bench/harness/histogram.h"
#include "bench/harness/in_flight.h"
#include "bench/harness/runtime.h"

// The roles of the JetStream scenarios: JsPublisher (js-pub, the kv puts, the js-consume
// prefill), PullConsumer (js-consume) and KvGetter (kv gets), and the blocking JetStream API
// calls that set a run up and check it afterwards.
namespace ringtail::bench {

// A JetStream API call ($JS.API.<what>): the response JSON, or its error description.
[[nodiscard]] Expected<nlohmann::json> js_api(Connection& conn, const std::string& what,
                                              const nlohmann::json& request);

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

// What JsPublisher and KvGetter share: requests that name inbox.<seq> as their reply subject,
// at most `window` of them unanswered, each reply matched to its request by that seq. Sending
// stops at `count`, the duration or an abort; the outstanding replies then have the drain
// timeout to come. While sending, the drain timeout without a reply fails the endpoint too.
// Owner: its worker, as every Endpoint.
class JsRequester : public Endpoint {
 public:
    void tick(uint64_t now_ns) final;
    uint64_t wakeup_ns() const final { return wakeup_ns_; }
    bool done() const final { return done_; }

    uint64_t sent() const { return in_flight_.sent(); }
    uint64_t answered() const { return in_flight_.completed(); }
    uint64_t last_reply_ns() const { return last_reply_ns_; }
    const Histogram& latency() const { return latency_; }

 protected:
    // The failures name a reply `reply_noun` ("PubAck"), and replies that never came
    // `lost_text` ("PubAcks never came").
    JsRequester(std::string name, std::unique_ptr<Connection> conn, RunControl& run, uint64_t count,
                uint64_t window, std::string reply_noun, std::string lost_text);

    // Appends request `seq` to `out`.
    virtual void append_request(std::string& out, uint64_t seq, uint64_t now_ns) = 0;

    struct Answer {
        uint64_t seq = 0;
        uint64_t sent_ns = kNever;  // kNever: not in flight, and the endpoint has failed
    };
    // Takes the request that `msg` answers out of flight.
    Answer complete(const proto::MsgFrame& msg);
    // Counts an answer that passed its checks.
    void record_reply(uint64_t sent_ns);

 private:
    uint64_t count_;
    std::string reply_noun_;
    std::string lost_text_;
    InFlight in_flight_;
    bool stopped_ = false;
    uint64_t stop_ns_ = 0;
    uint64_t last_progress_ns_ = 0;  // the last send or reply
    uint64_t last_reply_ns_ = 0;
    uint64_t wakeup_ns_ = kNever;
    bool done_ = false;
    Histogram latency_;
};

// Publishes with a reply subject per message and waits for each PubAck, keeping at most
// `window` outstanding. Every PubAck must come back once, without an error.
class JsPublisher final : public JsRequester {
 public:
    JsPublisher(std::unique_ptr<Connection> conn, RunControl& run, JsPublisherConfig config);
    void on_msg(const proto::MsgFrame& msg) override;

 private:
    void append_request(std::string& out, uint64_t seq, uint64_t now_ns) override;

    JsPublisherConfig config_;
    std::string payload_;
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
class KvGetter final : public JsRequester {
 public:
    KvGetter(std::unique_ptr<Connection> conn, RunControl& run, KvGetterConfig config);
    void on_msg(const proto::MsgFrame& msg) override;

 private:
    void append_request(std::string& out, uint64_t seq, uint64_t now_ns) override;

    KvGetterConfig config_;
};

}  // namespace ringtail::bench
