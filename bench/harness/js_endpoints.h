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
#include "bench/harness/js_consume.h"
#include "bench/harness/runtime.h"

// The roles of the JetStream scenarios: JsPublisher (js-pub, the kv puts, the prefill and the
// --live publishing of js-consume and js-push), PullConsumer (js-consume), PushConsumer
// (js-push) and KvGetter (kv gets), and the blocking JetStream API calls that set a run up and
// check it afterwards.
namespace ringtail::bench {

// A JetStream API call ($JS.API.<what>): the response JSON, or its error description.
[[nodiscard]] Expected<nlohmann::json> js_api(Connection& conn, const std::string& what,
                                              const nlohmann::json& request);

// The last dot-separated token of a subject as a number, or -1.
int64_t last_token_number(std::string_view subject);

// A status header block ("NATS/1.0 408 Request Timeout\r\n..."): its code, or 0 for none.
int status_code(std::string_view headers);

// What the consumers (and the --live publishers) of one js-consume or js-push run share.
// Publishers post their acked counts once, when they finish; the harness's consumers add to
// `consumed` once per read batch, so nothing here is touched per message (libnats consumers
// add per message: libnats itself takes locks per message anyway).
struct ConsumeBoard {
    std::atomic<uint64_t> stored{0};              // messages the consumers must get
    std::atomic<uint32_t> publishers_running{0};  // --live: publishers not finished yet
    std::atomic<uint64_t> consumed{0};            // over all consumers
    bool live = false;                            // set before the run

    void publisher_finished(uint64_t acked) {
        stored.fetch_add(acked, std::memory_order_relaxed);
        publishers_running.fetch_sub(1, std::memory_order_release);
    }
    // Every message that will ever be stored has been consumed.
    bool complete() const {
        return publishers_running.load(std::memory_order_acquire) == 0 &&
               consumed.load(std::memory_order_relaxed) >= stored.load(std::memory_order_relaxed);
    }
};

struct JsPublisherConfig {
    uint32_t id = 0;
    std::string subject;     // js-pub: every message goes here
    std::string key_prefix;  // kv: subject = key_prefix + (seq % keys)
    uint64_t keys = 0;
    std::string inbox;  // PubAcks come back to inbox.<seq>
    uint64_t size_bytes = 0;
    uint64_t count = 0;
    uint64_t window = 1;  // outstanding PubAcks; 1 is a synchronous publisher
    double rate_per_s = 0;  // 0: as fast as the window allows
    // --live: when it finishes, the publisher adds its acked count to this board, and it
    // keeps each PubAck's arrival time for the latency join.
    ConsumeBoard* board = nullptr;
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
                uint64_t window, std::string reply_noun, std::string lost_text,
                double rate_per_s = 0);

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
    // Called once, when every request is answered after sending stopped.
    virtual void on_finished() {}

 private:
    uint64_t count_;
    double rate_per_s_;
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

    // --live: when each PubAck arrived, by the publisher's seq.
    SeqTimes& acked_ns() { return acked_ns_; }

 private:
    void append_request(std::string& out, uint64_t seq, uint64_t now_ns) override;
    void on_finished() override;

    JsPublisherConfig config_;
    std::string payload_;
    SeqTimes acked_ns_;
};

struct JsConsumerConfig {
    uint32_t id = 0;
    std::string stream;
    std::string durable;
    std::string inbox;   // pull: requests reply to inbox.<request number>; push: see PushConsumer
    uint64_t batch = 1;  // pull only
    uint64_t size_bytes = 0;
    // --live: how many publishers stamp the payloads; each delivery is timed against its
    // stamp and kept by (publisher, seq) for the PubAck join.
    uint32_t live_publishers = 0;
    // push: the CONSUMER.DURABLE.CREATE request body the consumer sends when the run starts.
    std::string create_request;
};

// What pull and push consumers share: the checks on every delivered message (an ack subject
// with delivery count 1, each stream sequence once, the payload size), the explicit ack (an
// empty PUB to the reply subject, which is +ACK), the latencies of --live runs, and the end of
// the run: done when the board is complete, or at the duration when nothing is published
// meanwhile; failed when nothing arrives for the drain timeout.
class JsConsumer : public Endpoint {
 public:
    uint64_t wakeup_ns() const final { return wakeup_ns_; }
    bool done() const final { return done_; }
    void after_read() final;

    uint64_t consumed() const { return consumed_; }
    uint64_t last_msg_ns() const { return last_msg_ns_; }
    DeliveryBitmap& bitmap() { return bitmap_; }
    const Histogram& from_send() const { return from_send_; }
    std::vector<SeqTimes>& delivered_ns() { return delivered_ns_; }

 protected:
    JsConsumer(std::string name, std::unique_ptr<Connection> conn, RunControl& run,
               ConsumeBoard& board, JsConsumerConfig config);
    // The shared part of tick(): false when the consumer is done or failed.
    bool keep_going(uint64_t now_ns);
    // Checks and acks one delivered message; false when it failed the endpoint.
    bool consume(const proto::MsgFrame& msg);

    ConsumeBoard& board_;
    JsConsumerConfig config_;
    uint64_t wakeup_ns_ = kNever;

 private:
    uint64_t consumed_ = 0;
    uint64_t published_consumed_ = 0;
    uint64_t last_msg_ns_ = 0;
    uint64_t last_progress_ns_ = 0;
    bool done_ = false;
    DeliveryBitmap bitmap_{1};
    Histogram from_send_;
    std::vector<SeqTimes> delivered_ns_;
};

// Pulls from a durable consumer (CONSUMER.MSG.NEXT with a batch and an expiry), keeping two
// pulls outstanding.
class PullConsumer final : public JsConsumer {
 public:
    PullConsumer(std::unique_ptr<Connection> conn, RunControl& run, ConsumeBoard& board,
                 JsConsumerConfig config);
    void tick(uint64_t now_ns) override;
    void on_msg(const proto::MsgFrame& msg) override;

 private:
    void pull();

    std::string next_subject_;
    uint64_t pulls_ = 0;
    // Messages still owed by open pull requests, by request number.
    std::vector<std::pair<uint64_t, uint64_t>> open_pulls_;
};

// A durable push consumer as nats.go's js.Subscribe sets one up: the client subscribes to its
// deliver subject (inbox.d) first, then creates the consumer (its reply comes to
// inbox.create), with flow control and idle heartbeats. It answers every flow-control request
// ("NATS/1.0 100 FlowControl Request" with a reply subject) with an empty publish to that
// reply, as soon as the messages before it are processed, and a heartbeat that reports a
// stalled consumer (Nats-Consumer-Stalled) the same way.
class PushConsumer final : public JsConsumer {
 public:
    static constexpr int64_t kIdleHeartbeatNs = 5'000'000'000;  // nats.go's default, 5 s

    PushConsumer(std::unique_ptr<Connection> conn, RunControl& run, ConsumeBoard& board,
                 JsConsumerConfig config);
    void start(uint64_t now_ns) override;
    void tick(uint64_t now_ns) override;
    void on_msg(const proto::MsgFrame& msg) override;

    uint64_t flow_control_answered() const { return flow_control_answered_; }

 private:
    void on_status(const proto::MsgFrame& msg, int code);

    uint64_t flow_control_answered_ = 0;
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
