#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/harness/checker.h"
#include "bench/harness/histogram.h"
#include "bench/harness/in_flight.h"
#include "bench/harness/runtime.h"

// The roles of the Core NATS scenarios: Publisher and Subscriber (pub, pubsub, fanout, queue),
// Requester and Responder (reqrep).
namespace ringtail::bench {

// A counter alone on its cache line, so that writers on different threads do not share one.
struct alignas(64) SharedCounter {
    std::atomic<uint64_t> value{0};
};

// What the publishers and subscribers of one Core run share. Subscribers publish their
// per-publisher counts once per read batch; a publisher reads them only when its window is
// full; publishers post their final counts when they stop. Nothing here is touched per message.
class FlowBoard {
 public:
    FlowBoard(size_t publishers, size_t subscribers, bool queue_group);

    size_t publishers() const { return publishers_; }
    size_t subscribers() const { return subscribers_; }

    void set_received(size_t subscriber, size_t publisher, uint64_t count) {
        received_[subscriber * publishers_ + publisher].value.store(count,
                                                                    std::memory_order_relaxed);
    }
    // Publisher p's messages that are through: the slowest subscriber's count, or for a queue
    // group the members' total.
    uint64_t delivered(size_t publisher) const;
    // The queue group's total over all publishers.
    uint64_t group_received() const;

    void finish_publisher(size_t publisher, uint64_t sent);
    bool all_finished() const { return finished_.load(std::memory_order_acquire) == publishers_; }
    // Valid once all_finished().
    uint64_t final_sent(size_t publisher) const {
        return final_sent_[publisher].value.load(std::memory_order_relaxed);
    }
    uint64_t total_sent() const;

 private:
    size_t publishers_;
    size_t subscribers_;
    bool queue_group_;
    std::unique_ptr<SharedCounter[]> received_;    // [subscriber][publisher]
    std::unique_ptr<SharedCounter[]> final_sent_;  // [publisher]
    std::atomic<size_t> finished_{0};
};

struct PublisherConfig {
    uint32_t id = 0;
    std::string subject;
    uint64_t size_bytes = 0;
    uint64_t count = 0;     // this publisher's share of --count
    double rate_per_s = 0;  // 0: as fast as the socket takes it
    uint64_t window = 0;    // 0: no publish-to-delivery bound
};

// Writes stamped PUB frames in batches of ~64 KiB, keeping at most 256 KiB queued in user
// space (the socket's back-pressure then holds it), within the rate and window limits. When it
// stops (count, duration or abort) it sends PING: the PONG means the server has processed
// every PUB, and ends the publisher's measured interval.
class Publisher final : public Endpoint {
 public:
    Publisher(std::unique_ptr<Connection> conn, RunControl& run, FlowBoard* board,
              PublisherConfig config);
    void tick(uint64_t now_ns) override;
    uint64_t wakeup_ns() const override { return wakeup_ns_; }
    bool done() const override { return pong_ns_ != 0; }
    void on_msg(const proto::MsgFrame& msg) override;
    void on_pong() override;

    uint64_t sent() const { return sent_; }
    uint64_t pong_ns() const { return pong_ns_; }
    // At a fixed rate: how late each message left against its schedule. This is the harness's
    // own lag (thread scheduling, a full socket); it is part of CO-corrected latency.
    const Histogram& send_lag() const { return send_lag_; }

 private:
    static constexpr size_t kBatchBytes = 64 * 1024;
    static constexpr size_t kQueuedBytesMax = 256 * 1024;
    void append(uint64_t n, uint64_t now_ns);
    void finish();

    FlowBoard* board_;  // null: no subscribers
    PublisherConfig config_;
    std::string frame_;  // one PUB frame; the payload starts at payload_offset_
    size_t payload_offset_ = 0;
    uint64_t per_batch_ = 1;
    uint64_t sent_ = 0;
    uint64_t delivered_seen_ = 0;
    uint64_t window_blocked_since_ns_ = 0;  // 0: not blocked by the window
    bool finishing_ = false;
    uint64_t pong_ns_ = 0;
    uint64_t wakeup_ns_ = kNever;
    Histogram send_lag_;
};

struct SubscriberConfig {
    uint32_t id = 0;
    std::string subject;
    std::string queue;  // empty: a plain subscription
    std::string sid;
    uint64_t size_bytes = 0;
    double rate_per_pub = 0;  // the publishers' fixed rate, for CO-corrected latency
};

// Counts and checks every MSG: payload size, per-publisher order (SequenceChecker), and for a
// queue member its own deliveries (DeliveryBitmap) for the exactly-once check after the run.
// Records one-way latency from the stamp's send time (and from the intended send time at a
// fixed rate). Done when it has everything the publishers sent, plus a short linger to catch
// late duplicates; it fails when deliveries stop short for --drain-timeout.
class Subscriber final : public Endpoint {
 public:
    Subscriber(std::unique_ptr<Connection> conn, RunControl& run, FlowBoard& board,
               SubscriberConfig config);
    void on_msg(const proto::MsgFrame& msg) override;
    void after_read() override;
    void tick(uint64_t now_ns) override;
    uint64_t wakeup_ns() const override { return wakeup_ns_; }
    bool done() const override { return done_; }
    void on_closed(const std::string& why) override;

    uint64_t received() const { return received_; }
    uint64_t last_msg_ns() const { return last_msg_ns_; }
    const Histogram& one_way() const { return one_way_; }
    const Histogram& one_way_corrected() const { return one_way_corrected_; }
    const DeliveryBitmap& bitmap() const { return bitmap_; }

 private:
    static constexpr uint64_t kLingerNs = 20'000'000;
    bool complete() const;

    FlowBoard& board_;
    SubscriberConfig config_;
    bool queue_member_;
    SequenceChecker checker_;
    DeliveryBitmap bitmap_;
    std::vector<uint64_t> per_publisher_;
    uint64_t received_ = 0;
    uint64_t last_msg_ns_ = 0;
    uint64_t drain_start_ns_ = 0;
    uint64_t complete_ns_ = 0;
    uint64_t wakeup_ns_ = kNever;
    bool done_ = false;
    Histogram one_way_;
    Histogram one_way_corrected_;
};

struct RequesterConfig {
    uint32_t id = 0;
    std::string subject;
    std::string inbox;  // this requester's reply subject
    std::string sid;
    uint64_t size_bytes = 0;
    uint64_t count = 0;
    uint64_t window = 1;    // outstanding requests (1: closed loop)
    double rate_per_s = 0;  // > 0: open loop on a fixed schedule
};

// Sends requests with its own inbox as the reply subject and matches each reply by the stamp
// the responder echoes back: every request must be answered exactly once, with its payload.
class Requester final : public Endpoint {
 public:
    Requester(std::unique_ptr<Connection> conn, RunControl& run, std::atomic<int>& finished,
              RequesterConfig config);
    void tick(uint64_t now_ns) override;
    uint64_t wakeup_ns() const override { return wakeup_ns_; }
    bool done() const override { return done_; }
    void on_msg(const proto::MsgFrame& msg) override;

    uint64_t sent() const { return in_flight_.sent(); }
    uint64_t completed() const { return in_flight_.completed(); }
    uint64_t last_reply_ns() const { return last_reply_ns_; }
    const Histogram& round_trip() const { return round_trip_; }
    const Histogram& round_trip_corrected() const { return round_trip_corrected_; }
    const Histogram& send_lag() const { return send_lag_; }  // as Publisher::send_lag()

 private:
    std::atomic<int>& finished_;
    RequesterConfig config_;
    std::string head_;               // "PUB subject inbox size\r\n"
    std::string body_;               // payload template + "\r\n"
    InFlight in_flight_;             // by the seq in the stamp the responder echoes
    bool stopped_ = false;
    uint64_t stop_ns_ = 0;
    uint64_t last_progress_ns_ = 0;  // the last send or reply
    uint64_t last_reply_ns_ = 0;
    uint64_t wakeup_ns_ = kNever;
    bool done_ = false;
    Histogram round_trip_;
    Histogram round_trip_corrected_;
    Histogram send_lag_;
};

// Echoes every request's payload to its reply subject; done when all requesters are.
class Responder final : public Endpoint {
 public:
    Responder(std::unique_ptr<Connection> conn, RunControl& run, const std::atomic<int>& finished,
              int requesters)
        : Endpoint("responder", std::move(conn), run),
          finished_(finished),
          requesters_(requesters) {}
    void on_msg(const proto::MsgFrame& msg) override;
    void after_read() override { progress_received.store(handled_, std::memory_order_relaxed); }
    bool done() const override { return finished_.load(std::memory_order_acquire) == requesters_; }
    uint64_t handled() const { return handled_; }

 private:
    const std::atomic<int>& finished_;
    int requesters_;
    uint64_t handled_ = 0;
};

}  // namespace ringtail::bench
