#include "core/js/consumer.h"

#include <algorithm>
#include <charconv>

#include "base/clock.h"
#include "base/subject_match.h"
#include "core/js/consumer_log.h"
#include "core/js/jetstream.h"
#include "core/js/random.h"
#include "core/js/request_body.h"
#include "core/js/stream.h"
#include "core/server/log.h"
#include "proto/headers.h"
#include "proto/js/next_request.h"

namespace ringtail::core::js {
namespace {

namespace pjs = proto::js;
using nlohmann::json;
using pjs::AckPolicy;
using pjs::DeliverPolicy;

// nats-server's ackWaitDelay: a redelivery check fires a little after the deadline, so acks
// that arrive in the same burst are seen first.
constexpr auto kAckWaitDelay = std::chrono::milliseconds(1);
// Flow control for push consumers (nats-server's JsFlowControlMaxPending and the window it
// starts with, a sixteenth, doubling with each answer).
constexpr int64_t kFlowControlMaxPendingBytes = 32ll << 20;

std::optional<uint64_t> parse_number(std::string_view text) {
    uint64_t value = 0;
    if (text.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Go's bytes.TrimSpace, for the arguments of -NAK and +TERM.
std::string_view trimmed(std::string_view text) {
    constexpr std::string_view kSpace = " \t\r\n\v\f";
    size_t first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// Go's time.ParseDuration for what -NAK carries ("5s", "1.5m", "300ms", "2h45m").
std::optional<int64_t> parse_go_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    bool negative = false;
    if (text[0] == '-' || text[0] == '+') {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text == "0") return 0;
    if (text.empty()) return std::nullopt;
    double total = 0;
    while (!text.empty()) {
        size_t digits = 0;
        while (digits < text.size() && ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) ++digits;
        if (digits == 0) return std::nullopt;
        double value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
        if (ec != std::errc() || end != text.data() + digits) return std::nullopt;
        text.remove_prefix(digits);
        size_t unit_bytes = 0;
        while (unit_bytes < text.size() && !((text[unit_bytes] >= '0' && text[unit_bytes] <= '9') || text[unit_bytes] == '.')) {
            ++unit_bytes;
        }
        std::string_view unit = text.substr(0, unit_bytes);
        text.remove_prefix(unit_bytes);
        double scale;
        if (unit == "ns") scale = 1;
        else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") scale = 1e3;
        else if (unit == "ms") scale = 1e6;
        else if (unit == "s") scale = 1e9;
        else if (unit == "m") scale = 60e9;
        else if (unit == "h") scale = 3600e9;
        else return std::nullopt;
        total += value * scale;
    }
    return static_cast<int64_t>(negative ? -total : total);
}

// "$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>": nats-server's
// ackReplyInfo, which takes exactly nine tokens; anything else is (0, 0, 0).
struct AckInfo {
    uint64_t sseq = 0;
    uint64_t dseq = 0;
    uint64_t dc = 0;
};
AckInfo ack_info(std::string_view subject) {
    std::string_view tokens[9];
    size_t count = 0;
    while (true) {
        size_t dot = subject.find('.');
        if (count == 9) return {};
        tokens[count++] = subject.substr(0, dot);
        if (dot == std::string_view::npos) break;
        subject.remove_prefix(dot + 1);
    }
    if (count != 9 || tokens[0] != "$JS" || tokens[1] != "ACK") return {};
    auto number = [](std::string_view text) { return parse_number(text).value_or(UINT64_MAX); };
    return {number(tokens[5]), number(tokens[6]), number(tokens[4])};
}


}  // namespace

Consumer::Consumer(JetStream& js, Stream& stream, pjs::ConsumerConfig config, std::string name, int64_t created_ns,
                   ConsumerLog* log, uint32_t log_id)
    : js_(js),
      stream_(stream),
      config_(std::move(config)),
      name_(std::move(name)),
      created_ns_(created_ns),
      log_(log),
      log_id_(log_id),
      ack_prefix_("$JS.ACK." + stream.name() + "." + name_ + "."),
      ack_timer_([this] { on_ack_wait(); }),
      heartbeat_timer_([this] { on_heartbeat_timer(); }),
      // As nats-server's expiry timer: a one-shot request that got some messages and then
      // stopped at max_ack_pending ends here too, not only at the end of the stream.
      waiting_timer_([this] { process_waiting(true); }),
      pace_timer_([this] { signal(); }) {
    pending_bytes_max_ = kFlowControlMaxPendingBytes / 16;
    sample_percent_ = pjs::sample_percent(config_);
    paused_until_ns_ = config_.pause_until_ns;
    last_request_ = io::Clock::now();
}

Consumer::~Consumer() { unsubscribe_all(); }

void Consumer::subscribe_all() {
    auto add = [&](std::string subject) {
        auto sub = std::make_unique<Subscription>();
        sub->owner = this;
        sub->subject = std::move(subject);
        sub->sid = "js:" + stream_.name() + ":" + name_;
        js_.host().subscribe(*sub);
        subs_.push_back(std::move(sub));
    };
    add(ack_prefix_ + "*.*.*.*.*");
    // Push consumers listen too, to answer a pull request with "409 Consumer is push based".
    add("$JS.API.CONSUMER.MSG.NEXT." + stream_.name() + "." + name_);
    if (push() && config_.flow_control) add("$JS.FC." + stream_.name() + "." + name_ + ".*");
}

void Consumer::unsubscribe_all() {
    for (auto& sub : subs_) js_.host().unsubscribe(*sub);
    subs_.clear();
}

void Consumer::start_new() {
    select_start();
    write_snapshot();
    recount_pending();
    go_live();
    send_action_advisory("CREATED", "create");
}

void Consumer::start_recovered(ConsumerState state) {
    state_ = std::move(state);
    // nats-server's readStoredState: delivery resumes after what was delivered; what is still
    // owed is sent again once its ack wait runs out.
    dseq_ = state_.delivered_consumer + 1;
    sseq_ = std::max(state_.delivered_stream + 1, stream_.log().first_seq());
    state_.on_stream_floor(stream_.log().first_seq());
    recount_pending();
    if (!state_.pending.empty()) arm_ack_timer();
    go_live();
}

void Consumer::go_live() {
    subscribe_all();
    if (push()) {
        active_ = deliver_interest();
        if (!active_) {
            inactive_since_ = io::Clock::now();
            if (config_.inactive_threshold_ns > 0) {
                js_.tick_by(inactive_since_ + std::chrono::nanoseconds(config_.inactive_threshold_ns));
            }
        }
        if (config_.idle_heartbeat_ns > 0) {
            js_.host().loop().schedule(heartbeat_timer_,
                                       io::Clock::now() + std::chrono::nanoseconds(config_.idle_heartbeat_ns));
        }
    }
    // As nats-server's setLeader: replay_policy original paces what was stored by now.
    replaying_ = config_.replay_policy == pjs::ReplayPolicy::kOriginal;
    replay_last_seq_ = stream_.log().last_seq();
    signal();
}

// nats-server's selectStartingSeqNo.
void Consumer::select_start() {
    const store::StreamLog& log = stream_.log();
    store::StoreState state = log.state();
    if (config_.opt_start_seq == 0) {
        switch (config_.deliver_policy) {
            case DeliverPolicy::kAll:
                sseq_ = state.first_seq;
                break;
            case DeliverPolicy::kLast:
                sseq_ = state.last_seq;
                if (!config_.filter_subject.empty() || !config_.filter_subjects.empty()) {
                    uint64_t last = 0;
                    log.for_each_subject([&](std::string_view subject, uint64_t, uint64_t seq) {
                        if (wants_subject(subject)) last = std::max(last, seq);
                    });
                    sseq_ = last;
                }
                break;
            case DeliverPolicy::kLastPerSubject: {
                log.for_each_subject([&](std::string_view subject, uint64_t, uint64_t seq) {
                    if (wants_subject(subject)) skip_list_.push_back(seq);
                });
                std::sort(skip_list_.begin(), skip_list_.end());
                if (!skip_list_.empty()) {
                    skip_resume_ = state.last_seq;
                    sseq_ = skip_list_.front();
                } else {
                    sseq_ = state.last_seq;
                }
                break;
            }
            case DeliverPolicy::kByStartTime:
                sseq_ = log.seq_at_time(config_.opt_start_time_ns);
                break;
            case DeliverPolicy::kNew:
            case DeliverPolicy::kByStartSequence:
                sseq_ = state.last_seq + 1;
                break;
        }
    } else {
        sseq_ = config_.opt_start_seq;
    }
    if (state.msgs == 0 && state.last_seq == 0) {
        sseq_ = 1;
    } else if (sseq_ < state.first_seq) {
        sseq_ = state.first_seq;
    } else if (sseq_ > state.last_seq) {
        sseq_ = state.last_seq + 1;
    }
    dseq_ = 1;
    // As in nats-server the ack floor starts at zero, whatever the start: what lies before
    // the start is not owed because it is below sseq_ and not pending (see needs()).
    state_.ack_floor_consumer = 0;
    state_.ack_floor_stream = 0;
    state_.delivered_consumer = 0;
    state_.delivered_stream = sseq_ - 1;
}

bool Consumer::wants_subject(std::string_view subject) const {
    if (config_.filter_subjects.empty()) {
        return config_.filter_subject.empty() || base::subject_matches(config_.filter_subject, subject);
    }
    return std::any_of(config_.filter_subjects.begin(), config_.filter_subjects.end(),
                       [&](const std::string& filter) { return base::subject_matches(filter, subject); });
}

void Consumer::signal() {
    if (signalled_ || destroyed_) return;
    stream_.wake();  // what it does may write to the consumer log
    signalled_ = true;
    js_.consumer_ready(*this);
}

bool Consumer::has_interest(std::string_view subject) const { return js_.host().has_interest(subject); }

// nats-server's push consumer waits for a subscriber on its deliver subject itself, in its
// deliver group (a plain one without): a wildcard tap or another group does not start it.
bool Consumer::deliver_interest() const {
    return js_.host().has_literal_interest(config_.deliver_subject, config_.deliver_group);
}

// ---------------------------------------------------------------------------------------------
// What arrives on its subscriptions

Subscriber::Delivery Consumer::deliver(Subscription& sub, const MsgView& msg) {
    if (destroyed_) return Delivery::kRefused;
    stream_.wake();  // an ack is written to the consumer log
    if (sub.subject.starts_with("$JS.ACK.")) {
        on_ack(msg.subject, msg.reply, msg.payload);
    } else if (sub.subject.starts_with("$JS.FC.")) {
        on_flow_control(msg.subject);
    } else if (!msg.reply.empty()) {
        on_next_request(msg.reply, msg.payload);
    }
    return Delivery::kDelivered;
}

// nats-server's processAck.
void Consumer::on_ack(std::string_view subject, std::string_view reply, std::string_view body) {
    // Any ack is activity (nats-server's suppressDeletion): it restarts the inactive_threshold
    // of a pull consumer, and of a push consumer whose subscriber has gone.
    if (config_.inactive_threshold_ns > 0) {
        if (!push()) {
            last_request_ = io::Clock::now();
        } else if (!active_) {
            inactive_since_ = io::Clock::now();
        }
    }
    AckInfo info = ack_info(subject);
    bool confirm = !reply.empty() && info.sseq != 0 && info.sseq != UINT64_MAX;
    if (body.empty() || body == "+ACK" || body == "+OK") {
        ack(info.sseq, info.dseq, info.dc, confirm ? reply : std::string_view{}, true);
        return;
    }
    if (body.starts_with("+NXT")) {
        ack(info.sseq, info.dseq, info.dc, {}, true);
        if (!reply.empty()) on_next_request(reply, body.substr(4));
        return;
    }
    if (body.starts_with("-NAK")) {
        nak(info.sseq, info.dseq, info.dc, body.substr(4));
    } else if (body == "+WPI") {
        progress(info.sseq);
    } else if (body.starts_with("+TERM")) {
        ack(info.sseq, info.dseq, info.dc, {}, false);
        // nats-server's processTerm: the advisory goes out whether the message was owed or not.
        std::string_view reason = trimmed(body.substr(5));
        nlohmann::ordered_json fields = {{"stream", stream_.name()},
                                         {"consumer", name_},
                                         {"consumer_seq", info.dseq},
                                         {"stream_seq", info.sseq},
                                         {"deliveries", info.dc}};
        if (!reason.empty()) fields["reason"] = reason;
        js_.send_event(event_subject("ADVISORY.CONSUMER.MSG_TERMINATED"), "io.nats.jetstream.advisory.v1.terminated",
                       fields);
    }
    if (confirm) js_.send({reply, {}, {}, {}, {}});
}

void Consumer::ack(uint64_t sseq, uint64_t dseq, uint64_t dc, std::string_view reply, bool sample) {
    if (sseq == 0 || sseq == UINT64_MAX || config_.ack_policy == AckPolicy::kNone) {
        if (!reply.empty()) js_.send({reply, {}, {}, {}, {}});
        return;
    }
    bool was_full = config_.max_ack_pending > 0 &&
                    static_cast<int64_t>(state_.pending.size()) >= config_.max_ack_pending;
    uint64_t floor_before = state_.ack_floor_stream;
    if (sample && sample_percent_ > 0 && config_.ack_policy == AckPolicy::kExplicit) {
        if (auto it = state_.pending.find(sseq); it != state_.pending.end()) {
            sample_ack(sseq, dseq, dc, it->second.timestamp_ns);
        }
    }
    // nats-server's updateAcks marks activity for every explicit ack, owed or not.
    if (config_.ack_policy == AckPolicy::kExplicit) last_acked_ns_ = base::wall_clock_ns();
    if (!state_.on_acked(config_.ack_policy, sseq, dseq)) {
        // Not owed: acked already or never delivered. Confirmed all the same.
        if (!reply.empty()) js_.send({reply, {}, {}, {}, {}});
        return;
    }
    floor_to_scanned();
    if (config_.ack_policy == AckPolicy::kExplicit) {
        if (redeliver_set_.erase(sseq) > 0) std::erase(redeliver_, sseq);
    } else {
        while (!redeliver_.empty() && redeliver_.front() <= sseq) {
            redeliver_set_.erase(redeliver_.front());
            redeliver_.pop_front();
        }
    }
    last_acked_ns_ = base::wall_clock_ns();
    uint64_t log_seq = log_acked(sseq, dseq);
    // With the consumer log failed the ack is not durable, and AckSync has no answer that
    // says so: it is left unanswered, and the client's AckSync times out.
    bool recorded = log_ == nullptr || log_seq != 0;
    if (!reply.empty() && recorded) {
        if (log_seq <= stream_.consumer_log_durable_seq()) {
            js_.send({reply, {}, {}, {}, {}});
        } else {
            if (ack_confirms_.empty()) stream_.await_log(*this);
            ack_confirms_.emplace_back(log_seq, std::string(reply));
        }
    }
    // Interest and work-queue streams drop what nobody owes an ack for any more.
    if (stream_.config().retention != pjs::Retention::kLimits) {
        if (config_.ack_policy == AckPolicy::kAll) {
            uint64_t first = std::max(floor_before + 1, stream_.log().first_seq());
            for (uint64_t seq = first; seq <= sseq; ++seq) stream_.acked_by(*this, seq);
        } else {
            stream_.acked_by(*this, sseq);
        }
    }
    if (was_full) signal();
}

// nats-server's sampleAck: sample_freq percent of explicit acks are reported, with how long
// the message waited for its ack.
void Consumer::sample_ack(uint64_t sseq, uint64_t dseq, uint64_t dc, int64_t delivered_ns) {
    if (sample_percent_ < 100 && static_cast<int64_t>(shard_random()() % 100) > sample_percent_) return;
    js_.send_event(event_subject("METRIC.CONSUMER.ACK"), "io.nats.jetstream.metric.v1.consumer_ack",
                   {{"stream", stream_.name()},
                    {"consumer", name_},
                    {"consumer_seq", dseq},
                    {"stream_seq", sseq},
                    {"ack_time", base::wall_clock_ns() - delivered_ns},
                    {"deliveries", dc}});
}

// nats-server's processNak.
void Consumer::nak(uint64_t sseq, uint64_t dseq, uint64_t dc, std::string_view arg) {
    if (dseq <= state_.ack_floor_consumer || dseq >= dseq_) return;
    auto pending = state_.pending.find(sseq);
    if (pending == state_.pending.end()) return;
    js_.send_event(event_subject("ADVISORY.CONSUMER.MSG_NAKED"), "io.nats.jetstream.advisory.v1.nak",
                   {{"stream", stream_.name()},
                    {"consumer", name_},
                    {"consumer_seq", dseq},
                    {"stream_seq", sseq},
                    {"deliveries", dc}});
    arg = trimmed(arg);
    if (!arg.empty()) {
        std::optional<int64_t> delay;
        if (arg.front() == '{') {
            RequestBody body(arg);
            int64_t value = body.i64("delay");
            if (body.valid()) delay = value;
        } else {
            delay = parse_go_duration(arg);
        }
        if (!delay) {
            log_warn("JetStream consumer '" + js_.account_name() + " > " + stream_.name() + " > " + name_ + "' bad NAK delay value: \"" +
                     std::string(arg) + "\"");
        } else {
            // Redelivered once the delay is over: its delivery time moves so that ack wait
            // ends then.
            if (redeliver_set_.erase(sseq) > 0) std::erase(redeliver_, sseq);
            pending->second.timestamp_ns = base::wall_clock_ns() - config_.ack_wait_ns + *delay;
            js_.host().loop().schedule(ack_timer_, io::Clock::now() + std::chrono::milliseconds(10));
            return;
        }
    }
    if (redeliver_set_.emplace(sseq, true).second) redeliver_.push_back(sseq);
    signal();
}

// nats-server's progressUpdate: the ack wait starts again; a message already queued for
// redelivery (its ack wait ran out before) stays queued.
void Consumer::progress(uint64_t sseq) {
    auto pending = state_.pending.find(sseq);
    if (pending == state_.pending.end()) return;
    pending->second.timestamp_ns = base::wall_clock_ns();
}

void Consumer::on_flow_control(std::string_view subject) {
    if (subject != fc_reply_) return;
    pending_bytes_max_ = std::min(pending_bytes_max_ * 2, kFlowControlMaxPendingBytes);
    pending_bytes_ = std::max<int64_t>(0, pending_bytes_ - fc_bytes_);
    fc_reply_.clear();
    fc_bytes_ = 0;
    signal();
}

// nats-server's processNextMsgRequest.
void Consumer::on_next_request(std::string_view reply, std::string_view body) {
    if (push()) {
        send_status(reply, "409 Consumer is push based");
        return;
    }
    auto parsed = pjs::parse_next_request(body);
    if (!parsed) {
        send_status(reply, "400 Bad Request - " + parsed.error());
        return;
    }
    WaitingRequest request;
    request.reply = reply;
    request.received = io::Clock::now();
    request.batch = parsed->batch;
    request.max_bytes = parsed->max_bytes;
    request.no_wait = parsed->no_wait;
    int64_t expires_ns = parsed->expires_ns;
    if (parsed->idle_heartbeat_ns > 0) {
        request.heartbeat = std::chrono::nanoseconds(parsed->idle_heartbeat_ns);
        request.next_heartbeat = request.received + request.heartbeat;
    }
    // A negative expires is already over: the request times out at once (or goes unanswered
    // if a message is there to take it, as nats-server's nextWaiting drops it).
    if (expires_ns != 0) request.expires = request.received + std::chrono::nanoseconds(expires_ns);
    if (config_.max_batch > 0 && request.batch > config_.max_batch) {
        send_status(reply, "409 Exceeded MaxRequestBatch of " + std::to_string(config_.max_batch));
        return;
    }
    if (expires_ns > 0 && config_.max_expires_ns > 0 && expires_ns > config_.max_expires_ns) {
        send_status(reply, "409 Exceeded MaxRequestExpires of " + pjs::go_duration(config_.max_expires_ns));
        return;
    }
    if (request.max_bytes > 0 && config_.max_bytes > 0 && request.max_bytes > config_.max_bytes) {
        send_status(reply, "409 Exceeded MaxRequestMaxBytes of " + std::to_string(config_.max_bytes));
        return;
    }
    if (static_cast<int64_t>(waiting_.size()) >= config_.max_waiting) process_waiting(false);
    if (request.no_wait) {
        uint64_t available = num_pending() + redeliver_.size();
        if (available == 0 && expires_ns == 0) {
            last_request_ = io::Clock::now();
            send_status(reply, "404 No Messages");
            return;
        }
        if (available > 0) {
            int64_t asked = 0;
            for (const WaitingRequest& waiting : waiting_) asked += waiting.batch;
            if (available < static_cast<uint64_t>(asked)) {
                last_request_ = io::Clock::now();
                send_status(reply, "408 Requests Pending");
                return;
            }
        }
    }
    if (static_cast<int64_t>(waiting_.size()) >= config_.max_waiting) {
        send_status(reply, "409 Exceeded MaxWaiting");
        return;
    }
    // A batch of 0 or less (or none) still takes one message, and a timeout shows it as asked.
    last_request_ = request.received;
    waiting_.push_back(std::move(request));
    arm_waiting_timer();
    signal();
}

// ---------------------------------------------------------------------------------------------
// Delivery

uint64_t Consumer::next_matching(uint64_t from) const {
    const store::StreamLog& log = stream_.log();
    if (config_.filter_subjects.empty()) {
        auto seq = log.next_seq(from, config_.filter_subject);
        return seq ? *seq : 0;
    }
    uint64_t best = 0;
    for (const std::string& filter : config_.filter_subjects) {
        auto seq = log.next_seq(from, filter);
        if (seq && (best == 0 || *seq < best)) best = *seq;
    }
    return best;
}

// nats-server's getNextMsg: redeliveries first, then the skip list of last_per_subject, then
// the next message after the cursor, unless max_ack_pending is reached.
Consumer::Next Consumer::next_message() {
    while (!redeliver_.empty()) {
        uint64_t seq = redeliver_.front();
        redeliver_.pop_front();
        redeliver_set_.erase(seq);
        if (!state_.pending.contains(seq) || !stream_.log().contains(seq)) {
            state_.pending.erase(seq);
            continue;
        }
        uint64_t dc = ++state_.redelivered[seq] + 1;
        if (config_.max_deliver > 0 && dc > static_cast<uint64_t>(config_.max_deliver)) {
            // Delivered as often as allowed: it stays owed but is not sent again.
            if (dc == static_cast<uint64_t>(config_.max_deliver) + 1) {
                js_.send_event(event_subject("ADVISORY.CONSUMER.MAX_DELIVERIES"), "io.nats.jetstream.advisory.v1.max_deliver",
                               {{"stream", stream_.name()}, {"consumer", name_}, {"stream_seq", seq}, {"deliveries", dc - 1}});
            }
            state_.pending.erase(seq);
            --state_.redelivered[seq];
            continue;
        }
        return {seq, dc};
    }
    if (skip_next_ < skip_list_.size()) {
        uint64_t seq = skip_list_[skip_next_++];
        if (skip_next_ == skip_list_.size()) {
            sseq_ = skip_resume_ + 1;
            skip_list_.clear();
            skip_next_ = 0;
        }
        if (config_.max_ack_pending > 0 && static_cast<int64_t>(state_.pending.size()) >= config_.max_ack_pending) {
            give_back({seq, 1, true});
            return {};
        }
        if (stream_.log().contains(seq)) return {seq, 1, true};
    }
    if (config_.max_ack_pending > 0 && static_cast<int64_t>(state_.pending.size()) >= config_.max_ack_pending) {
        return {};
    }
    uint64_t seq = next_matching(sseq_);
    if (seq == 0) {
        sseq_ = std::max(sseq_, stream_.log().last_seq() + 1);
        return {};
    }
    // Only what is on stable storage goes out: a message a crash could still lose is never
    // shown to a consumer. The stream's durable callback signals it then.
    if (seq > stream_.log().durable_seq()) {
        await_durable();
        return {};
    }
    sseq_ = seq + 1;
    if (npc_ > 0) --npc_;
    return {seq, 1};
}

void Consumer::give_back(const Next& next) {
    if (next.dc > 1) {
        --state_.redelivered[next.seq];
        if (redeliver_set_.emplace(next.seq, true).second) redeliver_.push_front(next.seq);
    } else if (next.from_skip_list) {
        if (skip_list_.empty()) {
            skip_list_.push_back(next.seq);
            skip_next_ = 0;
        } else {
            --skip_next_;
        }
    } else {
        sseq_ = std::min(sseq_, next.seq);
        ++npc_;
    }
}

Consumer::WaitingRequest* Consumer::next_waiting(size_t bytes) {
    while (!waiting_.empty()) {
        WaitingRequest& request = waiting_.front();
        if (request.max_bytes > 0) {
            if (static_cast<int64_t>(bytes) <= request.max_bytes) {
                request.max_bytes -= static_cast<int64_t>(bytes);
                if (request.max_bytes == 0) request.batch = 1;  // this one, then done
            } else {
                send_status(request.reply, "409 Message Size Exceeds MaxBytes", request.pending_headers());
                waiting_.pop_front();
                continue;
            }
        }
        bool live = request.expires == io::Clock::time_point{} || io::Clock::now() < request.expires;
        if (live && has_interest(request.reply)) return &request;
        waiting_.pop_front();
    }
    return nullptr;
}

bool Consumer::pump(size_t budget) {
    signalled_ = false;
    if (destroyed_) return false;
    int64_t now_ns = base::wall_clock_ns();
    if (paused_until_ns_ > now_ns) return false;
    bool more = false;
    bool stalled_on_acks = false;
    bool held = false;  // by hold_until: pull requests wait for it as for a new message
    for (; budget > 0; --budget) {
        if (js_.outbox_full()) {
            more = true;
            break;
        }
        if (push()) {
            if (!active_ || (pending_bytes_max_ > 0 && config_.flow_control && pending_bytes_ > pending_bytes_max_)) break;
        } else if (waiting_.empty()) {
            break;
        }
        Next next = next_message();
        if (next.dc == 0) {
            stalled_on_acks = config_.max_ack_pending > 0 &&
                              static_cast<int64_t>(state_.pending.size()) >= config_.max_ack_pending;
            break;
        }
        auto record = stream_.load(next.seq);
        if (!record) continue;
        Prepared out = prepare(*record, next.dc);
        if (auto due = hold_until(*record, out.bytes)) {
            give_back(next);
            js_.host().loop().schedule(pace_timer_, *due);
            held = true;
            break;
        }
        if (push()) {
            send_message(*record, out, next.dc, config_.deliver_subject);
        } else if (WaitingRequest* request = next_waiting(out.bytes)) {
            send_message(*record, out, next.dc, request->reply);
            ++request->delivered;
            if (--request->batch <= 0) {
                waiting_.pop_front();
            } else {
                if (request->heartbeat.count() > 0) request->next_heartbeat = io::Clock::now() + request->heartbeat;
                // Waiting requests take turns, one message each, as nats-server's waitQueue.pop
                // sends one that wants more to the back: several workers fetching at once
                // share a burst instead of the first taking its whole batch.
                if (waiting_.size() > 1) {
                    waiting_.push_back(std::move(waiting_.front()));
                    waiting_.pop_front();
                }
            }
        } else {
            give_back(next);  // nobody to send it to after all
            break;
        }
    }
    if (budget == 0) more = true;
    // Out of budget or outbox room is not the end of what is there: a no_wait request that
    // got something ends (408) only when nothing more is left for it.
    if (!push() && !stalled_on_acks && !held) process_waiting(!more);
    return more;
}

// The pacing of loopAndGatherMsgs: replay_policy original keeps the stream's gaps between
// messages until the consumer has caught up with what was stored when it started, and
// rate_limit_bps lets a burst of one maximal message through, then bps/8 bytes a second.
// Returns when `record` may go; nothing when it may go now, and then counts it as sent.
std::optional<io::Clock::time_point> Consumer::hold_until(const store::RecordView& record, size_t bytes) {
    io::Clock::time_point now = io::Clock::now();
    if (replaying_ && record.seq > replay_last_seq_) replaying_ = false;
    if (replaying_ && replay_last_ts_ns_ > 0) {
        auto gap = std::chrono::nanoseconds(record.timestamp_ns - replay_last_ts_ns_);
        if (gap > std::chrono::milliseconds(1) && now < replay_sent_at_ + gap) return replay_sent_at_ + gap;
    }
    if (config_.rate_limit_bps > 0) {
        double per_ns = static_cast<double>(config_.rate_limit_bps) / 8 / 1e9;
        double burst = static_cast<double>(stream_.config().max_msg_size > 0 ? stream_.config().max_msg_size
                                                                             : js_.max_payload());
        double elapsed = std::chrono::duration<double, std::nano>(now - rate_refilled_).count();
        rate_tokens_ = std::min(burst, rate_tokens_ + elapsed * per_ns);
        rate_refilled_ = now;
        double need = std::min(static_cast<double>(bytes), burst);
        if (rate_tokens_ < need) {
            return now + std::chrono::nanoseconds(static_cast<int64_t>((need - rate_tokens_) / per_ns) + 1);
        }
        rate_tokens_ -= need;
    }
    replay_last_ts_ns_ = record.timestamp_ns;
    replay_sent_at_ = now;
    return std::nullopt;
}

// What loopAndGatherMsgs works out before it picks where a message goes: the ack reply
// ackReply builds, the headers (convertToHeadersOnly adds the payload's size) and the size
// that max_bytes and the rate limit count.
Consumer::Prepared Consumer::prepare(const store::RecordView& record, uint64_t dc) const {
    Prepared out;
    out.reply = ack_prefix_;
    out.reply += std::to_string(dc);
    out.reply += '.';
    out.reply += std::to_string(record.seq);
    out.reply += '.';
    out.reply += std::to_string(dseq_);
    out.reply += '.';
    out.reply += std::to_string(record.timestamp_ns);
    out.reply += '.';
    out.reply += std::to_string(num_pending());
    out.record_headers = record.headers;
    out.payload = record.payload;
    if (config_.headers_only) {
        std::string& headers = out.headers_only;
        headers = record.headers.empty() ? std::string("NATS/1.0\r\n") : std::string(record.headers);
        if (headers.ends_with("\r\n\r\n")) headers.resize(headers.size() - 2);
        headers += "Nats-Msg-Size: " + std::to_string(record.payload.size()) + "\r\n\r\n";
        out.payload = {};
    }
    out.bytes = record.subject.size() + out.reply.size() + out.headers().size() + out.payload.size();
    return out;
}

// nats-server's deliverMsg.
void Consumer::send_message(const store::RecordView& record, const Prepared& out, uint64_t dc,
                            std::string_view target) {
    uint64_t seq = record.seq;
    uint64_t dseq = dseq_++;
    auto size = static_cast<int64_t>(out.bytes);
    js_.send({target, record.subject, out.reply, out.headers(), out.payload});
    int64_t now_ns = base::wall_clock_ns();
    last_delivered_ns_ = now_ns;
    state_.on_delivered(config_.ack_policy, seq, dseq, dc, now_ns);
    if (config_.ack_policy != AckPolicy::kNone && !ack_timer_.scheduled()) arm_ack_timer();
    log_delivered(seq, dseq, dc, now_ns);
    if (push() && config_.flow_control) {
        pending_bytes_ += size;
        if (fc_reply_.empty() && pending_bytes_ > pending_bytes_max_ / 2) {
            fc_reply_ = "$JS.FC." + stream_.name() + "." + name_ + "." + random_token(4);
            fc_bytes_ = pending_bytes_;
            js_.send({config_.deliver_subject, {}, fc_reply_, "NATS/1.0 100 FlowControl Request\r\n\r\n", {}});
        } else if (!fc_reply_.empty() && pending_bytes_ - fc_bytes_ >= pending_bytes_max_) {
            fc_bytes_ += size;
        }
    }
    if (push() && config_.idle_heartbeat_ns > 0) {
        js_.host().loop().schedule(heartbeat_timer_, io::Clock::now() + std::chrono::nanoseconds(config_.idle_heartbeat_ns));
    }
    if (!push()) last_request_ = io::Clock::now();
    if (config_.ack_policy == AckPolicy::kNone && stream_.config().retention != pjs::Retention::kLimits) {
        stream_.acked_by(*this, seq);
    }
}

void Consumer::send_status(std::string_view subject, std::string_view status_line, std::string_view extra_headers) {
    std::string headers = "NATS/1.0 ";
    headers.append(status_line);
    headers.append("\r\n");
    headers.append(extra_headers);
    headers.append("\r\n");
    js_.send({subject, {}, {}, headers, {}});
}

// nats-server's sendIdleHeartbeat.
void Consumer::send_heartbeat(std::string_view subject) {
    std::string extra = "Nats-Last-Consumer: " + std::to_string(dseq_ - 1) +
                        "\r\nNats-Last-Stream: " + std::to_string(sseq_ - 1) + "\r\n";
    if (!fc_reply_.empty()) extra += "Nats-Consumer-Stalled: " + fc_reply_ + "\r\n";
    send_status(subject, "100 Idle Heartbeat", extra);
}

void Consumer::on_heartbeat_timer() {
    if (destroyed_ || !push() || config_.idle_heartbeat_ns <= 0) return;
    if (active_) send_heartbeat(config_.deliver_subject);
    js_.host().loop().schedule(heartbeat_timer_, io::Clock::now() + std::chrono::nanoseconds(config_.idle_heartbeat_ns));
}

// nats-server's processWaiting: 408 for the requests that expired (or no_wait ones that got
// something, at the end of what is there), heartbeats, and requests whose reply lost interest.
void Consumer::process_waiting(bool end_of_stream) {
    if (destroyed_) return;
    io::Clock::time_point now = io::Clock::now();
    std::erase_if(waiting_, [&](WaitingRequest& request) {
        bool expired = request.expires != io::Clock::time_point{} && now >= request.expires;
        if ((end_of_stream && request.no_wait && request.delivered > 0) || expired) {
            send_status(request.reply, "408 Request Timeout", request.pending_headers());
            return true;
        }
        if (!has_interest(request.reply)) return true;
        if (request.heartbeat.count() > 0 && now >= request.next_heartbeat) {
            send_heartbeat(request.reply);
            request.next_heartbeat = now + request.heartbeat;
        }
        return false;
    });
    arm_waiting_timer();
}

void Consumer::arm_waiting_timer() {
    io::Clock::time_point next{};
    for (const WaitingRequest& request : waiting_) {
        for (io::Clock::time_point at : {request.expires, request.heartbeat.count() > 0 ? request.next_heartbeat
                                                                                       : io::Clock::time_point{}}) {
            if (at != io::Clock::time_point{} && (next == io::Clock::time_point{} || at < next)) next = at;
        }
    }
    if (next == io::Clock::time_point{}) {
        js_.host().loop().cancel(waiting_timer_);
    } else {
        js_.host().loop().schedule(waiting_timer_, next);
    }
}

// nats-server's checkPending: every delivery whose ack wait (or backoff step) is over goes
// on the redelivery queue, oldest first.
void Consumer::on_ack_wait() {
    if (destroyed_) return;
    int64_t now = base::wall_clock_ns();
    int64_t next = config_.ack_wait_ns;
    if (!config_.backoff_ns.empty()) next = config_.backoff_ns.back();
    uint64_t first = stream_.log().first_seq();
    std::vector<uint64_t> expired;
    for (auto it = state_.pending.begin(); it != state_.pending.end();) {
        uint64_t seq = it->first;
        if (seq < first) {
            state_.redelivered.erase(seq);
            if (redeliver_set_.erase(seq) > 0) std::erase(redeliver_, seq);
            it = state_.pending.erase(it);
            continue;
        }
        int64_t elapsed = now - it->second.timestamp_ns;
        int64_t deadline = config_.ack_wait_ns;
        if (!config_.backoff_ns.empty()) {
            auto rdc = state_.redelivered.find(seq);
            size_t dc = rdc == state_.redelivered.end() ? 0 : rdc->second;
            size_t index = std::min(dc, config_.backoff_ns.size() - 1);
            size_t next_index = std::min(dc + 1, config_.backoff_ns.size() - 1);
            deadline = config_.backoff_ns[index];
            next = std::min(next, config_.backoff_ns[next_index]);
        }
        if (elapsed >= deadline) {
            if (!redeliver_set_.contains(seq)) expired.push_back(seq);
        } else {
            next = std::min(next, deadline - elapsed);
        }
        ++it;
    }
    if (!expired.empty()) {
        int64_t offset = now - state_.pending[expired.front()].timestamp_ns;
        for (uint64_t seq : expired) {
            redeliver_set_.emplace(seq, true);
            redeliver_.push_back(seq);
            state_.pending[seq].timestamp_ns += offset;
        }
        signal();
    }
    if (!state_.pending.empty()) {
        js_.host().loop().schedule(ack_timer_, io::Clock::now() + std::chrono::nanoseconds(next) + kAckWaitDelay);
    }
}

void Consumer::arm_ack_timer() {
    int64_t wait = config_.backoff_ns.empty() ? config_.ack_wait_ns : config_.backoff_ns.front();
    js_.host().loop().schedule(ack_timer_, io::Clock::now() + std::chrono::nanoseconds(wait) + kAckWaitDelay);
}

void Consumer::check_interest(io::Clock::time_point now) {
    bool interest = deliver_interest();
    if (interest == active_) return;
    active_ = interest;
    if (active_) {
        signal();
    } else {
        inactive_since_ = now;
        if (config_.inactive_threshold_ns > 0) {
            js_.tick_by(now + std::chrono::nanoseconds(config_.inactive_threshold_ns));
        }
    }
}

void Consumer::interest_changed(bool lost) {
    if (!destroyed_ && push() && (lost || !active_)) check_interest(io::Clock::now());
}

void Consumer::on_tick() {
    if (destroyed_) return;
    io::Clock::time_point now = io::Clock::now();
    // A durable's inactive_threshold counts too (set for it, none by default). One that ends
    // before the next tick brings that tick forward.
    const auto threshold = std::chrono::nanoseconds(config_.inactive_threshold_ns);
    auto expire_from = [&](io::Clock::time_point since) {
        if (now - since >= threshold) {
            inactive_expired_ = true;
        } else {
            js_.tick_by(since + threshold);
        }
    };
    if (push()) {
        if (!active_ && threshold.count() > 0) expire_from(inactive_since_);
    } else if (threshold.count() > 0 && waiting_.empty()) {
        expire_from(last_request_);
    }
    if (paused_until_ns_ > 0 && paused_until_ns_ <= base::wall_clock_ns()) {
        paused_until_ns_ = 0;
        signal();
    }
}

// ---------------------------------------------------------------------------------------------
// The stream's events

void Consumer::on_appended(uint64_t seq) {
    if (seq >= sseq_) ++npc_;
    // It goes out once durable (next_message()).
    if (seq <= stream_.log().durable_seq()) {
        signal();
    } else {
        await_durable();
    }
}

void Consumer::await_durable() {
    if (awaiting_durable_) return;
    awaiting_durable_ = true;
    stream_.await_durable(*this);
}

void Consumer::on_stream_durable() {
    awaiting_durable_ = false;
    signal();
}

void Consumer::on_removed(uint64_t seq, bool wanted, bool single) {
    if (wanted && seq >= sseq_ && npc_ > 0) --npc_;
    // nats-server's decStreamPending: a message delivered and owed an ack that leaves the
    // stream by itself (deleted, dropped by a limit, expired) counts as terminated; what a
    // purge takes, on_purged or on_purged_some settle. Only the consumer's own state changes
    // here (the advisory waits in the outbox): the stream is in the middle of removing it.
    if (!single) return;
    auto it = state_.pending.find(seq);
    if (it == state_.pending.end()) return;
    uint64_t dseq = it->second.consumer_seq;
    auto redelivered = state_.redelivered.find(seq);
    uint64_t deliveries = 1 + (redelivered == state_.redelivered.end() ? 0 : redelivered->second);
    if (!state_.on_acked(config_.ack_policy, seq, dseq)) return;
    js_.send_event(event_subject("ADVISORY.CONSUMER.MSG_TERMINATED"), "io.nats.jetstream.advisory.v1.terminated",
                   {{"stream", stream_.name()},
                    {"consumer", name_},
                    {"consumer_seq", dseq},
                    {"stream_seq", seq},
                    {"deliveries", deliveries},
                    {"reason", "Unacknowledged message was deleted"}});
    floor_to_scanned();
    if (redeliver_set_.erase(seq) > 0) std::erase(redeliver_, seq);
    last_acked_ns_ = base::wall_clock_ns();
    (void)log_acked(seq, dseq);
    signal();
}

void Consumer::on_purged(uint64_t first_seq) {
    // nats-server's consumer purge: nothing below the new first message is owed any more.
    if (sseq_ < first_seq) sseq_ = first_seq;
    if (state_.ack_floor_stream < first_seq) {
        state_.ack_floor_stream = first_seq - 1;
        state_.ack_floor_consumer = dseq_ - 1;
    }
    state_.pending.clear();
    state_.redelivered.clear();
    std::erase_if(redeliver_, [&](uint64_t seq) { return seq < sseq_; });
    redeliver_set_.clear();
    for (uint64_t seq : redeliver_) redeliver_set_.emplace(seq, true);
    skip_list_.clear();
    skip_next_ = 0;
    recount_pending();
    write_snapshot();
    signal();
}

void Consumer::on_purged_some() {
    const store::StreamLog& log = stream_.log();
    auto gone = [&](uint64_t seq) { return !log.contains(seq); };
    // Redeliveries are only of messages still owed: with none forgotten, nothing changed.
    if (!state_.forget(gone)) return;
    std::erase_if(redeliver_, gone);
    std::erase_if(redeliver_set_, [&](const auto& entry) { return gone(entry.first); });
    write_snapshot();
    signal();
}

bool Consumer::on_log_durable(uint64_t log_seq) {
    while (!ack_confirms_.empty() && ack_confirms_.front().first <= log_seq) {
        js_.send({ack_confirms_.front().second, {}, {}, {}, {}});
        ack_confirms_.pop_front();
    }
    return !ack_confirms_.empty();
}

void Consumer::on_log_rewritten(uint64_t log_seq) {
    for (auto& confirm : ack_confirms_) confirm.first = std::max(confirm.first, log_seq);
}

// nats-server's needAck: not yet delivered, or delivered and still owed an ack. (nats-server
// also holds what lies between an ack-all or ack-none consumer's zero ack floor and its
// start; nothing is owed there, so here it is not held.)
bool Consumer::needs(uint64_t seq, std::string_view subject) const {
    if (!wants_subject(subject) || seq <= state_.ack_floor_stream) return false;
    return seq >= sseq_ || state_.pending.contains(seq);
}

// ---------------------------------------------------------------------------------------------
// Counting and durability

uint64_t Consumer::num_pending() const { return npc_ + (skip_list_.size() - skip_next_); }

void Consumer::recount_pending() {
    const store::StreamLog& log = stream_.log();
    // With a skip list (last_per_subject starting), it counts itself; what follows it here.
    uint64_t from = skip_next_ < skip_list_.size() ? skip_resume_ + 1 : sseq_;
    if (config_.filter_subjects.empty()) {
        npc_ = log.count_from(from, config_.filter_subject);
        return;
    }
    npc_ = 0;
    for (const std::string& filter : config_.filter_subjects) npc_ += log.count_from(from, filter);
}

void Consumer::floor_to_scanned() {
    if (config_.ack_policy != AckPolicy::kExplicit || !state_.pending.empty() || skip_next_ < skip_list_.size()) return;
    state_.ack_floor_stream = std::max(state_.ack_floor_stream, sseq_ - 1);
}

void Consumer::log_delivered(uint64_t sseq, uint64_t dseq, uint64_t dc, int64_t ts_ns) {
    if (log_ != nullptr) log_->write_delivered(log_id_, sseq, dseq, dc, ts_ns);
}

uint64_t Consumer::log_acked(uint64_t sseq, uint64_t dseq) {
    return log_ == nullptr ? 0 : log_->write_acked(log_id_, sseq, dseq);
}

void Consumer::write_snapshot() {
    if (log_ != nullptr) {
        log_->write_consumer(log_id_, name_, config_.ack_policy, created_ns_, pjs::to_json(config_).dump(), state_);
    }
}

// ---------------------------------------------------------------------------------------------
// The API

json Consumer::info() const {
    // nats-server shows the stream sequence it has scanned up to (o.sseq - 1), past messages a
    // filter skipped; while last_per_subject's list is sent, that is the last one delivered.
    uint64_t scanned = skip_next_ < skip_list_.size() ? state_.delivered_stream
                                                      : std::max(state_.delivered_stream, sseq_ - 1);
    json delivered = {{"consumer_seq", state_.delivered_consumer}, {"stream_seq", scanned}};
    json ack_floor = {{"consumer_seq", state_.ack_floor_consumer}, {"stream_seq", state_.ack_floor_stream}};
    if (last_delivered_ns_ != 0) delivered["last_active"] = pjs::rfc3339(last_delivered_ns_);
    if (last_acked_ns_ != 0) ack_floor["last_active"] = pjs::rfc3339(last_acked_ns_);
    json out = {{"stream_name", stream_.name()},
                {"name", name_},
                {"created", pjs::rfc3339(created_ns_)},
                {"config", pjs::to_json(config_)},
                {"delivered", delivered},
                {"ack_floor", ack_floor},
                {"num_ack_pending", state_.pending.size()},
                {"num_redelivered", state_.redelivered.size()},
                {"num_waiting", push() ? 0 : waiting_.size()},
                {"num_pending", num_pending()}};
    if (push() && active_) out["push_bound"] = true;
    if (paused_until_ns_ > base::wall_clock_ns()) {
        out["paused"] = true;
        out["pause_remaining"] = paused_until_ns_ - base::wall_clock_ns();
    }
    return out;
}

void Consumer::update(pjs::ConsumerConfig config) {
    bool deliver_changed = config.deliver_subject != config_.deliver_subject;
    bool filter_changed = config.filter_subject != config_.filter_subject || config.filter_subjects != config_.filter_subjects;
    config_ = std::move(config);
    if (filter_changed) recount_pending();
    paused_until_ns_ = config_.pause_until_ns;
    sample_percent_ = pjs::sample_percent(config_);
    rate_tokens_ = kBucketFull;
    if (deliver_changed) {
        unsubscribe_all();
        subscribe_all();
        active_ = deliver_interest();
    }
    write_snapshot();
    signal();
}

void Consumer::pause(int64_t until_ns) {
    paused_until_ns_ = until_ns;
    config_.pause_until_ns = until_ns;
    write_snapshot();
    signal();
}

// nats-server's consumer_action advisories; those of the consumers that copy into mirrors and
// sources too, as nats-server announces them.
void Consumer::send_action_advisory(std::string_view event, std::string_view action) {
    js_.send_event(event_subject("ADVISORY.CONSUMER." + std::string(event)), "io.nats.jetstream.advisory.v1.consumer_action",
                   {{"stream", stream_.name()}, {"consumer", name_}, {"action", action}});
}

std::string Consumer::event_subject(std::string_view kind) const {
    return "$JS.EVENT." + std::string(kind) + "." + stream_.name() + "." + name_;
}

void Consumer::release_waiting_at_shutdown() {
    for (const WaitingRequest& request : waiting_) {
        send_status(request.reply, "409 Server Shutdown", request.pending_headers());
    }
    waiting_.clear();
}

void Consumer::destroy() {
    if (destroyed_) return;
    send_action_advisory("DELETED", "delete");
    for (const WaitingRequest& request : waiting_) send_status(request.reply, "409 Consumer Deleted");
    waiting_.clear();
    on_log_durable(UINT64_MAX);
    unsubscribe_all();
    js_.host().loop().cancel(ack_timer_);
    js_.host().loop().cancel(heartbeat_timer_);
    js_.host().loop().cancel(waiting_timer_);
    js_.host().loop().cancel(pace_timer_);
    if (log_ != nullptr) log_->write_deleted(log_id_);
    destroyed_ = true;
}

}  // namespace ringtail::core::js
