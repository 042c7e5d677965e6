#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/route/subscription.h"
#include "proto/js/api.h"
#include "proto/js/stream_config.h"

namespace ringtail::core::js {

class Stream;

// How a source names itself in the Nats-Stream-Source headers it writes, and finds where it
// stopped: its origin's name; with 2.10's subject_transforms, also their sources and
// destinations (each list joined by '\f', an empty one as ">"), as nats-server's iname.
std::string source_identity(const nlohmann::json& source);

// One origin a stream copies from: its mirror, or one of its sources. As nats-server does it,
// the copy is read through the ordinary API: a push consumer on the origin (ack none, flow
// control, heartbeats each second) delivering to an inbox this stream subscribes on its own
// shard, so the origin may live on any shard and may be missing for a while.
// A mirror stores each message at its origin's sequence and time (skipping the origin's gaps);
// a source stores it as a publish with a Nats-Stream-Source header ("<origin> <seq>", or with
// subject transforms 2.10's "<origin> <seq> <sources> <destinations>"). subject_transforms
// filter what the origin sends and rename it before it is stored.
// Stalled (nothing heard for 3 heartbeats), out of order or refused, the consumer is made again
// from the next sequence wanted, at most every 2 s.
// Owner: its stream, on the stream's shard.
class Origin final : public Subscriber {
public:
    // `source` is the mirror or source config ({"name", "opt_start_seq", "opt_start_time",
    // "filter_subject"}). `resume_after`: for a source, the origin sequence last stored (found
    // in the Nats-Stream-Source headers), 0 if none; then, unless a start sequence is
    // configured, it starts at `start_ns` (if not 0) or the configured start time if later.
    Origin(Stream& stream, bool mirror, const nlohmann::json& source, uint64_t resume_after, int64_t start_ns = 0);
    ~Origin();
    Origin(const Origin&) = delete;
    Origin& operator=(const Origin&) = delete;

    // Subscriber: the consumer's deliveries, flow control and heartbeats, and the answer to
    // the consumer create request.
    Delivery deliver(Subscription& sub, const MsgView& msg) override;
    bool accepts(const Subscription&, const Subscriber*) const override { return true; }
    void expired(Subscription&) override {}

    // Once per turn (outside deliveries): makes the consumer when it is due.
    void poll();
    // Every JetStream tick: notices a stall or a lost answer.
    void tick();
    // The stream's queue of messages to store has drained: answer flow control held meanwhile.
    void resume();
    // Stops copying: removes the consumer on the origin.
    void stop();

    const std::string& name() const { return name_; }
    const nlohmann::json& config() const { return config_; }
    // The StreamSourceInfo shape: {"name", "external", "lag", "active", "error"}; with
    // `heard_at`, "heard_ns" (the wall clock it was last heard from, 0: never) for "active".
    nlohmann::json info(bool heard_at = false) const;

private:
    void setup();
    void cancel();
    // Retry soon (at most every kRetryInterval) from the next sequence wanted.
    void retry() { retry_due_ = true; }
    void on_create_answer(std::string_view payload);
    void on_control(const MsgView& msg);
    void on_message(const MsgView& msg);
    void answer_flow_control(std::string_view reply);

    Stream& stream_;
    const bool mirror_;
    const std::string name_;  // the origin stream
    const nlohmann::json config_;
    // subject_transforms: each source filter (empty: every subject) with its transform (none:
    // the subject is kept).
    std::vector<std::pair<std::string, std::optional<proto::js::SubjectTransform>>> transforms_;
    // What follows "<origin> <seq>" in a Nats-Stream-Source value: the rest of the identity.
    std::string header_suffix_;
    std::string api_prefix_ = "$JS.API";
    std::string deliver_prefix_ = "$JS";
    uint64_t sseq_ = 0;         // the origin sequence last stored (or skipped)
    const int64_t start_ns_;    // where to start when sseq_ is 0 (0: as configured)
    uint64_t dseq_ = 0;         // the consumer's delivery sequence last seen
    uint64_t lag_ = 0;
    std::string consumer_;      // the current consumer's name; empty until it answered
    std::string deliver_;       // its deliver subject
    std::unique_ptr<Subscription> deliver_sub_;
    std::unique_ptr<Subscription> answer_sub_;
    std::optional<proto::js::ApiError> error_;
    int64_t last_heard_ns_ = 0;   // 0: never
    int64_t requested_ns_ = 0;    // the last create request
    bool started_ = false;        // a create request was ever sent
    bool waiting_answer_ = false;
    bool retry_due_ = true;
    std::string held_flow_control_;  // answered once the stream's queue drains
    bool stopped_ = false;
};

}  // namespace ringtail::core::js
