#include "core/js/source.h"

#include <charconv>

#include "base/clock.h"
#include "base/subject_match.h"
#include "core/js/jetstream.h"
#include "core/js/random.h"
#include "core/js/stream.h"
#include "core/server/log.h"
#include "proto/headers.h"

namespace ringtail::core::js {

namespace pjs = proto::js;

namespace {

// nats-server's sourceHealthCheckInterval (the consumer's heartbeat), the stall that makes a
// new consumer (3 of them), sourceConsumerRetryThreshold, and how long a create may go
// unanswered.
constexpr int64_t kHeartbeatNs = 1'000'000'000;
constexpr int64_t kStalledNs = 3 * kHeartbeatNs;
constexpr int64_t kRetryIntervalNs = 2'000'000'000;
constexpr int64_t kAnswerWaitNs = 5'000'000'000;
// The consumer's ack_wait: 22h, as nats-server asks for (nothing is acked).
constexpr int64_t kAckWaitNs = 22ll * 3600 * 1'000'000'000;
// Messages a mirror may still be behind its origin and answer the origin's direct gets
// (nats-server's dgetCaughtUpThresh).
constexpr uint64_t kDirectGetCaughtUp = 10;

uint64_t parse_number(std::string_view text) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

// The fields of "$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>".
struct AckReply {
    std::string_view consumer;
    uint64_t dc = 0, sseq = 0, dseq = 0, pending = 0;
    int64_t ts = 0;
};

std::optional<AckReply> parse_ack_reply(std::string_view reply) {
    std::string_view tokens[9];
    size_t count = 0;
    while (count < 9) {
        size_t dot = reply.find('.');
        tokens[count++] = reply.substr(0, dot);
        if (dot == std::string_view::npos) break;
        reply.remove_prefix(dot + 1);
    }
    if (count != 9 || reply.find('.') != std::string_view::npos || tokens[0] != "$JS" || tokens[1] != "ACK") {
        return std::nullopt;
    }
    AckReply out;
    out.consumer = tokens[3];
    out.dc = parse_number(tokens[4]);
    out.sseq = parse_number(tokens[5]);
    out.dseq = parse_number(tokens[6]);
    out.ts = static_cast<int64_t>(parse_number(tokens[7]));
    out.pending = parse_number(tokens[8]);
    return out;
}

}  // namespace

std::string source_identity(const nlohmann::json& source) {
    std::string identity = source.value("name", "");
    const auto transforms = source.find("subject_transforms");
    if (transforms == source.end() || !transforms->is_array() || transforms->empty()) return identity;
    std::string sources;
    std::string destinations;
    for (const auto& transform : *transforms) {
        std::string from = transform.value("src", "");
        std::string to = transform.value("dest", "");
        if (!sources.empty()) {
            sources += '\f';
            destinations += '\f';
        }
        sources += from.empty() ? ">" : from;
        destinations += to.empty() ? ">" : to;
    }
    return identity + " " + sources + " " + destinations;
}

Origin::Origin(Stream& stream, bool mirror, const nlohmann::json& source, uint64_t resume_after, int64_t start_ns)
    : stream_(stream),
      mirror_(mirror),
      name_(source.value("name", "")),
      config_(source),
      sseq_(resume_after),
      start_ns_(start_ns) {
    // An origin elsewhere (another account or domain, reached through imports): its API and
    // deliveries go through the prefixes given, as nats-server does.
    if (const auto external = source.find("external"); external != source.end() && external->is_object()) {
        if (std::string api = external->value("api", ""); !api.empty()) api_prefix_ = std::move(api);
        if (std::string deliver = external->value("deliver", ""); !deliver.empty()) deliver_prefix_ = std::move(deliver);
    }
    if (const auto transforms = source.find("subject_transforms"); transforms != source.end() && transforms->is_array()) {
        for (const auto& transform : *transforms) {
            std::string from = transform.value("src", "");
            std::string to = transform.value("dest", "");
            std::optional<proto::js::SubjectTransform> rename;
            if (!to.empty()) rename = proto::js::SubjectTransform::make(from.empty() ? ">" : from, to);
            transforms_.emplace_back(std::move(from), std::move(rename));
        }
    }
    header_suffix_ = source_identity(source).substr(name_.size());
}

Origin::~Origin() {
    stopped_ = true;  // the server or the stream is going: nothing more is sent
    cancel();
}

void Origin::stop() {
    cancel();
    stopped_ = true;
}

void Origin::cancel() {
    JetStream& js = stream_.jetstream();
    if (deliver_sub_) js.host().unsubscribe(*deliver_sub_);
    if (answer_sub_) js.host().unsubscribe(*answer_sub_);
    deliver_sub_.reset();
    answer_sub_.reset();
    if (!consumer_.empty() && !stopped_) {
        // nats-server's removeInternalConsumer: the old consumer goes at once.
        js.send(api_prefix_ + ".CONSUMER.DELETE." + name_ + "." + consumer_, {}, {});
    }
    consumer_.clear();
    waiting_answer_ = false;
    held_flow_control_.clear();
}

void Origin::poll() {
    if (!retry_due_ || stopped_) return;
    int64_t now = base::wall_clock_ns();
    if (started_ && now - requested_ns_ < kRetryIntervalNs) return;
    retry_due_ = false;
    setup();
}

void Origin::tick() {
    if (stopped_) return;
    int64_t now = base::wall_clock_ns();
    if (waiting_answer_ && now - requested_ns_ > kAnswerWaitNs) retry();
    if (!consumer_.empty() && now - last_heard_ns_ > kStalledNs) retry();
}

void Origin::setup() {
    cancel();
    JetStream& js = stream_.jetstream();
    const store::StreamLog& log = stream_.log();
    nlohmann::json config = {
        {"ack_policy", "none"}, {"ack_wait", kAckWaitNs}, {"max_deliver", 1},
        {"idle_heartbeat", kHeartbeatNs}, {"flow_control", true}, {"direct", true},
    };
    // Where to start: a mirror goes on after its last sequence; a source after the origin
    // sequence it stored last. The configured start applies to a first start only.
    if (mirror_) sseq_ = log.last_seq();
    uint64_t start = sseq_ > 0 ? sseq_ + 1 : 0;
    std::string start_time;
    if (start == 0) {
        if (uint64_t configured = config_.value("opt_start_seq", uint64_t{0}); configured > 0) {
            start = configured;
        } else if (const auto it = config_.find("opt_start_time"); it != config_.end() && it->is_string()) {
            start_time = it->get<std::string>();
            auto configured_ns = proto::js::parse_rfc3339(start_time);
            if (start_ns_ != 0 && configured_ns && *configured_ns < start_ns_) start_time = proto::js::rfc3339(start_ns_);
        } else if (start_ns_ != 0) {
            start_time = proto::js::rfc3339(start_ns_);
        }
    }
    if (start > 0) {
        config["deliver_policy"] = "by_start_sequence";
        config["opt_start_seq"] = start;
    } else if (!start_time.empty()) {
        config["deliver_policy"] = "by_start_time";
        config["opt_start_time"] = start_time;
    } else {
        config["deliver_policy"] = "all";
    }
    if (std::string filter = config_.value("filter_subject", ""); !filter.empty()) config["filter_subject"] = filter;
    if (transforms_.size() == 1 && !transforms_[0].first.empty()) config["filter_subject"] = transforms_[0].first;
    if (transforms_.size() > 1) {
        nlohmann::json filters = nlohmann::json::array();
        for (const auto& [from, rename] : transforms_) filters.push_back(from.empty() ? ">" : from);
        config["filter_subjects"] = std::move(filters);
    }

    std::string token = random_token(22);
    deliver_ = deliver_prefix_ + (mirror_ ? ".M." : ".S.") + token;
    deliver_sub_ = std::make_unique<Subscription>();
    deliver_sub_->owner = this;
    deliver_sub_->subject = deliver_;
    deliver_sub_->sid = "js:" + stream_.name() + ":origin";
    js.host().subscribe(*deliver_sub_);
    answer_sub_ = std::make_unique<Subscription>();
    answer_sub_->owner = this;
    answer_sub_->subject = deliver_ + ".CREATED";
    answer_sub_->sid = deliver_sub_->sid;
    js.host().subscribe(*answer_sub_);
    config["deliver_subject"] = deliver_;
    nlohmann::json request = {{"stream_name", name_}, {"config", std::move(config)}};
    // Held until every shard knows the inbox: the origin's shard checks interest before it
    // delivers.
    js.send({api_prefix_ + ".CONSUMER.CREATE." + name_, {}, answer_sub_->subject, {}, request.dump()},
            js.host().interest_seq_sent());
    started_ = true;
    waiting_answer_ = true;
    requested_ns_ = base::wall_clock_ns();
    dseq_ = 0;
}

Subscriber::Delivery Origin::deliver(Subscription& sub, const MsgView& msg) {
    if (stopped_) return Delivery::kRefused;
    if (&sub == answer_sub_.get()) {
        on_create_answer(msg.payload);
    } else if (&sub == deliver_sub_.get()) {
        if (msg.payload.empty() && msg.headers.starts_with("NATS/1.0 100 ")) {
            on_control(msg);
        } else {
            on_message(msg);
        }
    }
    return Delivery::kDelivered;
}

void Origin::on_create_answer(std::string_view payload) {
    if (!waiting_answer_) return;
    waiting_answer_ = false;
    nlohmann::json answer = nlohmann::json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (!answer.is_object()) {
        error_ = pjs::InvalidJSON();
        retry();
        return;
    }
    if (const auto it = answer.find("error"); it != answer.end() && it->is_object()) {
        error_ = pjs::ApiError{it->value("code", 0), it->value("err_code", 0), it->value("description", "")};
        log_warn("JetStream error response for create " + std::string(mirror_ ? "mirror" : "source") +
                 " consumer of stream '" + stream_.name() + "' from '" + name_ + "': " + error_->description);
        retry();
        return;
    }
    error_.reset();
    last_heard_ns_ = base::wall_clock_ns();
    std::string name = answer.value("name", "");
    if (!consumer_.empty() && consumer_ == name) return;  // its first messages came first
    consumer_ = std::move(name);
    uint64_t delivered = 0;
    if (const auto it = answer.find("delivered"); it != answer.end() && it->is_object()) {
        delivered = it->value("stream_seq", uint64_t{0});
    }
    if (mirror_) {
        // What the origin no longer has (expired, deleted, purged) is skipped, so that the
        // mirror's sequences stay the origin's.
        stream_.skip_to(delivered);
        sseq_ = delivered;
    } else if (sseq_ != delivered) {
        sseq_ = delivered;
    }
    dseq_ = 0;
}

void Origin::on_control(const MsgView& msg) {
    last_heard_ns_ = base::wall_clock_ns();
    if (!msg.reply.empty()) {  // flow control
        answer_flow_control(msg.reply);
        return;
    }
    // A heartbeat says which delivery came last: one we did not see means a retry.
    if (auto last = proto::header_value(msg.headers, "Nats-Last-Consumer")) {
        if (uint64_t ldseq = parse_number(*last); ldseq > 0 && ldseq != dseq_) {
            retry();
            return;
        }
    }
    if (auto stalled = proto::header_value(msg.headers, "Nats-Consumer-Stalled"); stalled && !stalled->empty()) {
        answer_flow_control(*stalled);
    }
}

void Origin::answer_flow_control(std::string_view reply) {
    if (stream_.storing_waits()) {
        held_flow_control_.assign(reply);  // the origin holds back until the queue drains
        return;
    }
    stream_.jetstream().send(reply, {}, {});
}

void Origin::resume() {
    if (held_flow_control_.empty()) return;
    stream_.jetstream().send(held_flow_control_, {}, {});
    held_flow_control_.clear();
}

void Origin::on_message(const MsgView& msg) {
    std::optional<AckReply> reply = parse_ack_reply(msg.reply);
    if (!reply || reply->dc > 1) return;
    if (consumer_.empty() && waiting_answer_) {
        // The consumer delivers as soon as it exists, so its first messages may come before
        // the answer: they name it (nats-server's mirror takes the name from them too).
        consumer_ = reply->consumer;
        if (mirror_ && reply->sseq > sseq_ + 1) sseq_ = reply->sseq - 1;
        if (!mirror_) sseq_ = reply->sseq - 1;
        dseq_ = reply->dseq - 1;
    }
    if (reply->consumer != consumer_) return;
    last_heard_ns_ = base::wall_clock_ns();
    uint64_t previous_dseq = dseq_;
    if (mirror_) {
        // nats-server's processInboundMirrorMsg.
        if (reply->sseq == sseq_ + 1) {
            dseq_ = reply->dseq;
            ++sseq_;
        } else if (reply->sseq <= sseq_) {
            return;  // already have it
        } else if (reply->dseq == dseq_ + 1) {
            dseq_ = reply->dseq;  // the origin's gap (deleted, expired): skipped when stored
            sseq_ = reply->sseq;
        } else {
            retry();
            return;
        }
    } else {
        // nats-server's processInboundSourceMsg.
        if (reply->dseq == dseq_ + 1) {
            dseq_ = reply->dseq;
            sseq_ = reply->sseq;
        } else {
            if (reply->dseq > dseq_) retry();
            return;
        }
    }
    lag_ = reply->pending == 0 ? 0 : reply->pending - 1;
    std::string_view subject = msg.subject_shown();
    std::optional<std::string> renamed;
    for (const auto& [from, rename] : transforms_) {
        if (!from.empty() && !base::subject_matches(from, subject)) continue;
        if (rename) renamed = rename->apply(subject);
        break;
    }
    if (renamed) subject = *renamed;
    bool taken = false;
    if (mirror_) {
        taken = stream_.take_mirrored(subject, msg.headers, msg.payload, reply->sseq, reply->ts);
    } else {
        std::string source = name_ + " " + std::to_string(reply->sseq) + header_suffix_;
        taken = stream_.take_sourced(subject, proto::with_header(msg.headers, "Nats-Stream-Source", source), msg.payload);
    }
    if (!taken) {
        // The stream's queue is full: ask again from this message on.
        sseq_ = reply->sseq - 1;
        dseq_ = previous_dseq;
        retry();
        return;
    }
    // Nearly caught up (not at zero: an origin still taking publishes keeps a mirror a little
    // behind): a mirror_direct mirror may answer its origin's direct gets from now on.
    if (mirror_ && reply->pending < kDirectGetCaughtUp) stream_.mirror_caught_up();
}

nlohmann::json Origin::info(bool heard_at) const {
    nlohmann::json out = {{"name", name_}, {"lag", lag_}};
    if (heard_at) {
        out["heard_ns"] = last_heard_ns_;
    } else {
        out["active"] = last_heard_ns_ == 0 ? int64_t{-1} : base::wall_clock_ns() - last_heard_ns_;
    }
    if (const auto external = config_.find("external"); external != config_.end() && external->is_object()) {
        out["external"] = {{"api", external->value("api", "")}, {"deliver", external->value("deliver", "")}};
    }
    if (error_) out["error"] = pjs::to_json(*error_);
    return out;
}

}  // namespace ringtail::core::js
