#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "core/js/consumer_state.h"
#include "core/route/subscription.h"
#include "io/loop.h"
#include "proto/js/api.h"
#include "proto/js/consumer_config.h"
#include "store/record.h"

namespace ringtail::core::js {

class JetStream;
class Stream;
class ConsumerLog;

// One JetStream consumer: a cursor over its stream that delivers messages, push (to its
// deliver subject) or pull (to the requests on $JS.API.CONSUMER.MSG.NEXT.<stream>.<name>),
// and takes acks on $JS.ACK.<stream>.<name>.> as nats-server's consumer.go does.
// Owner: its stream, on the stream's shard. It subscribes there to its ack, next-message and
// flow-control subjects, so clients on any shard reach it by ordinary routing, and it sends
// through JetStream's outbox, in order with everything else the shard's JetStream sends.
//
// Work happens in pump(), which JetStream calls at the end of the turn for the consumers that
// said they have some (a new message, an ack that freed room under max_ack_pending, a pull
// request, a redelivery due): nothing is sent from inside a delivery to it.
//
// State: ConsumerState (delivered, ack floor, pending, redelivery counts) with every change
// also written to the stream's ConsumerLog when the consumer is durable on disk; an ack sent
// with a reply subject (AckSync) is confirmed only once its record is on stable storage.
// Memory is bounded by max_ack_pending (pending), max_waiting (pull requests) and the outbox.
class Consumer final : public Subscriber {
public:
    // `log` is null when the state is kept in memory only (memory streams, mem_storage).
    Consumer(JetStream& js, Stream& stream, proto::js::ConsumerConfig config, std::string name, int64_t created_ns,
             ConsumerLog* log, uint32_t log_id);
    ~Consumer();
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    // A new consumer: picks its starting sequence, writes its first record, subscribes.
    void start_new();
    // A consumer recovered from the log: takes up `state` where it was.
    void start_recovered(ConsumerState state);

    const std::string& name() const { return name_; }
    const proto::js::ConsumerConfig& config() const { return config_; }
    bool push() const { return !config_.deliver_subject.empty(); }
    bool durable() const { return !config_.durable_name.empty(); }

    // Subscriber: acks, pull requests and flow-control answers.
    Delivery deliver(Subscription& sub, const MsgView& msg) override;
    bool accepts(const Subscription&, const Subscriber*) const override { return true; }
    void expired(Subscription&) override {}

    // ---- the stream's events ----
    // The stream stored `seq`, on a subject it wants (as on_removed; see ConsumerIndex).
    void on_appended(uint64_t seq);
    // The stream's log is durable further: what waited for it (Stream::await_durable) may go.
    void on_stream_durable();
    // Message `seq` left the stream; `single`: deleted, dropped by a limit or expired, not purged.
    // `wanted`: on a subject it wants; otherwise it may only have been delivered under the
    // filter it had before an update.
    void on_removed(uint64_t seq, bool wanted, bool single);
    // The stream was purged: it now starts at `first_seq` (nats-server's consumer purge).
    void on_purged(uint64_t first_seq);
    // A purge took some of the messages delivered and owed an ack, not all below one point.
    void on_purged_some();
    // The consumer log made its records up to `log_seq` durable. Returns whether AckSyncs
    // still wait for more (Stream::await_log).
    bool on_log_durable(uint64_t log_seq);
    // The consumer log, failed for want of space, wrote every consumer again up to `log_seq`:
    // the acks waiting to be confirmed waited for records never written, and wait for that.
    void on_log_rewritten(uint64_t log_seq);
    // Writes the whole config and state to the log (its "S" record), so older records of
    // this consumer are no longer needed.
    void write_snapshot();
    // Interest and work-queue retention: whether this consumer still owes an ack for `seq`.
    bool needs(uint64_t seq, std::string_view subject) const;
    bool wants_subject(std::string_view subject) const;
    uint64_t ack_floor_stream() const { return state_.ack_floor_stream; }

    // ---- work ----
    // Delivers what it can, at most `budget` messages. Returns true if it has more to do.
    bool pump(size_t budget);
    // JetStream's tick (every 100 ms): whether the consumer has been inactive long enough to
    // go, and whether its pause has ended.
    void on_tick();
    // Whether on_tick() has anything to do for its config: an inactive_threshold, a pause to
    // end. A durable consumer has none.
    bool needs_ticks() const { return config_.inactive_threshold_ns > 0 || config_.pause_until_ns > 0; }
    // Interest in the deliver subject changed (JetStream calls only the push consumers of the
    // subjects that changed): one without a subscriber looks again at once, so a new
    // subscriber is push_bound and served in this turn; when some was `lost`, one with a
    // subscriber looks too, so that its inactive_threshold counts from the loss.
    void interest_changed(bool lost);
    // Before an answer that shows push_bound: whether a push consumer has a subscriber now,
    // either way (a client that just closed is not bound, as nats-server's answer says).
    void look_at_interest() {
        if (!destroyed_ && push()) check_interest(io::Clock::now());
    }
    // Before CONSUMER.INFO, as nats-server's info: pull requests expired or whose requester
    // is gone are dropped, so num_waiting counts only live ones.
    void drop_dead_requests() {
        if (!push()) process_waiting(false);
    }
    bool inactive_expired() const { return inactive_expired_; }
    // There may be work: JetStream calls pump() at the end of the turn.
    void signal();

    // ---- the API ----
    nlohmann::json info() const;
    // Applies an updated config (check_consumer_update has accepted it).
    void update(proto::js::ConsumerConfig config);
    // The consumer is deleted: waiting pull requests are told, its record is dropped.
    void destroy();
    // The server stops: waiting pull requests are told (409 Server Shutdown, with what each
    // still wanted, as nats-server's signalPullConsumers), so their clients need not wait out
    // their expiry.
    void release_waiting_at_shutdown();
    // 2.11's PAUSE: until `until_ns` (0: resume).
    void pause(int64_t until_ns);

private:
    struct WaitingRequest {
        std::string reply;
        int64_t batch = 1;      // messages still to send, but one at least (as asked when under 1)
        int64_t max_bytes = 0;  // bytes still allowed (0: no limit)
        int64_t delivered = 0;  // messages sent to it so far
        io::Clock::time_point expires{};   // zero: none
        io::Clock::time_point received{};
        std::chrono::nanoseconds heartbeat{0};
        io::Clock::time_point next_heartbeat{};
        bool no_wait = false;

        // The headers of a status that ends it: what it still wanted.
        std::string pending_headers() const {
            return "Nats-Pending-Messages: " + std::to_string(batch) + "\r\nNats-Pending-Bytes: " +
                   std::to_string(max_bytes) + "\r\n";
        }
    };

    void subscribe_all();
    void unsubscribe_all();
    void select_start();
    // Subscribes and starts delivering (both starts end here).
    void go_live();

    // Acks and requests.
    void on_ack(std::string_view subject, std::string_view reply, std::string_view body);
    // `sample`: counts for sample_freq (+ACK, +NXT and AckSync do, +TERM does not).
    void ack(uint64_t sseq, uint64_t dseq, uint64_t dc, std::string_view reply, bool sample);
    void sample_ack(uint64_t sseq, uint64_t dseq, uint64_t dc, int64_t delivered_ns);
    void nak(uint64_t sseq, uint64_t dseq, uint64_t dc, std::string_view arg);
    void progress(uint64_t sseq);
    void on_next_request(std::string_view reply, std::string_view body);
    void on_flow_control(std::string_view subject);

    // Delivery.
    struct Next {
        uint64_t seq = 0;
        uint64_t dc = 0;  // 0: nothing to send
        bool from_skip_list = false;
    };
    Next next_message();
    // Waits for the stream's next durable callback (once however often asked).
    void await_durable();
    uint64_t next_matching(uint64_t from) const;
    struct Prepared {
        std::string reply;
        std::string headers_only;        // the headers sent when config headers_only is set
        std::string_view record_headers;  // otherwise, the stored ones
        std::string_view payload;
        size_t bytes = 0;  // subject, reply, headers and payload, as nats-server counts them
        std::string_view headers() const { return headers_only.empty() ? record_headers : headers_only; }
    };
    Prepared prepare(const store::RecordView& record, uint64_t dc) const;
    void send_message(const store::RecordView& record, const Prepared& out, uint64_t dc, std::string_view target);
    // replay_policy original and rate_limit_bps: when `record` (`bytes` on the wire) may go.
    std::optional<io::Clock::time_point> hold_until(const store::RecordView& record, size_t bytes);
    // Puts back a message next_message() gave that could not be sent.
    void give_back(const Next& next);
    WaitingRequest* next_waiting(size_t bytes);
    // Pull requests: expiries, heartbeats, lost interest. With `end_of_stream`, no_wait
    // requests that got something are done.
    void process_waiting(bool end_of_stream);
    void send_status(std::string_view subject, std::string_view status_line, std::string_view extra_headers = {});
    void send_heartbeat(std::string_view subject);
    void arm_waiting_timer();
    void on_ack_wait();
    void arm_ack_timer();
    void on_heartbeat_timer();
    bool has_interest(std::string_view subject) const;
    bool deliver_interest() const;
    // $JS.EVENT.<kind>.<stream>.<consumer>, where nats-server sends this consumer's events.
    std::string event_subject(std::string_view kind) const;
    void send_action_advisory(std::string_view event, std::string_view action);

    // Counting what is left to deliver (num_pending).
    uint64_t num_pending() const;
    void recount_pending();
    // processAckMsg's floor with nothing owed: where the consumer has scanned to (o.sseq - 1),
    // past the messages its filter skipped, not just the last one delivered.
    void floor_to_scanned();
    // Whether the deliver subject has a subscriber now (active_), and since when it has none.
    void check_interest(io::Clock::time_point now);

    // Durability.
    void log_delivered(uint64_t sseq, uint64_t dseq, uint64_t dc, int64_t ts_ns);
    uint64_t log_acked(uint64_t sseq, uint64_t dseq);

    JetStream& js_;
    Stream& stream_;
    proto::js::ConsumerConfig config_;
    const std::string name_;
    const int64_t created_ns_;
    ConsumerLog* log_;
    const uint32_t log_id_;

    std::vector<std::unique_ptr<Subscription>> subs_;
    std::string ack_prefix_;  // "$JS.ACK.<stream>.<name>."

    ConsumerState state_;
    uint64_t sseq_ = 1;  // the next stream sequence to consider
    uint64_t dseq_ = 1;  // the next consumer (delivery) sequence
    std::deque<uint64_t> redeliver_;        // stream sequences to send again, in order
    std::map<uint64_t, bool> redeliver_set_;  // the same, to look up
    // deliver_policy last_per_subject: the last message of each subject, then the rest.
    std::vector<uint64_t> skip_list_;
    size_t skip_next_ = 0;
    uint64_t skip_resume_ = 0;
    uint64_t npc_ = 0;  // matching messages from sseq_ on (num_pending, without redeliveries)

    std::deque<WaitingRequest> waiting_;  // pull requests, next to be served first
    io::Clock::time_point last_request_{};  // when the last pull request came (inactivity)

    // Push: whether the deliver subject has interest, and flow control.
    bool active_ = true;
    io::Clock::time_point inactive_since_{};
    bool inactive_expired_ = false;
    int64_t pending_bytes_ = 0;   // delivered and not yet covered by a flow-control answer
    int64_t pending_bytes_max_ = 0;
    std::string fc_reply_;        // the flow-control request awaiting its answer
    int64_t fc_bytes_ = 0;
    int64_t paused_until_ns_ = 0;

    // Pacing (hold_until) and ack sampling.
    bool replaying_ = false;
    uint64_t replay_last_seq_ = 0;   // the stream's last message when delivery started
    int64_t replay_last_ts_ns_ = 0;  // the stored time of the last message sent
    io::Clock::time_point replay_sent_at_{};
    static constexpr double kBucketFull = std::numeric_limits<double>::infinity();  // clamped to the burst
    double rate_tokens_ = kBucketFull;  // bytes rate_limit_bps lets through now
    io::Clock::time_point rate_refilled_{};
    int64_t sample_percent_ = 0;
    // For info's last_active: the last delivery, the last ack (wall clock; 0: none yet).
    int64_t last_delivered_ns_ = 0;
    int64_t last_acked_ns_ = 0;

    // AckSync: replies to send once the log records up to a seq are durable.
    std::deque<std::pair<uint64_t, std::string>> ack_confirms_;

    io::Timer ack_timer_;        // ack wait and backoff redeliveries
    io::Timer heartbeat_timer_;  // push idle heartbeats
    io::Timer waiting_timer_;    // pull request expiry and heartbeats
    io::Timer pace_timer_;       // a message held back by hold_until
    bool signalled_ = false;
    bool awaiting_durable_ = false;  // listed by the stream (await_durable())
    bool destroyed_ = false;
    friend class JetStream;
};

}  // namespace ringtail::core::js
