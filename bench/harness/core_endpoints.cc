#include "bench/harness/core_endpoints.h"

#include <algorithm>
#include <cmath>

#include "bench/harness/stamp.h"

namespace ringtail::bench {

namespace {

// The number of messages a publisher at `rate_per_s` should have sent by `elapsed_ns` (the
// first one is due at once): message seq is due at seq / rate.
uint64_t due_by(uint64_t elapsed_ns, double rate_per_s) {
    return static_cast<uint64_t>(std::floor(static_cast<double>(elapsed_ns) * rate_per_s / 1e9)) +
           1;
}

uint64_t intended_ns(uint64_t seq, double rate_per_s) {
    return static_cast<uint64_t>(static_cast<double>(seq) * 1e9 / rate_per_s);
}

std::string payload_template(uint64_t size_bytes) { return std::string(size_bytes, 'x'); }

}  // namespace

// ---- FlowBoard ----

FlowBoard::FlowBoard(size_t publishers, size_t subscribers, bool queue_group)
    : publishers_(publishers),
      subscribers_(subscribers),
      queue_group_(queue_group),
      received_(std::make_unique<SharedCounter[]>(std::max<size_t>(1, publishers * subscribers))),
      final_sent_(std::make_unique<SharedCounter[]>(std::max<size_t>(1, publishers))) {}

uint64_t FlowBoard::delivered(size_t publisher) const {
    if (subscribers_ == 0) return 0;
    uint64_t total = 0;
    uint64_t slowest = UINT64_MAX;
    for (size_t s = 0; s < subscribers_; ++s) {
        const uint64_t count =
            received_[s * publishers_ + publisher].value.load(std::memory_order_relaxed);
        total += count;
        slowest = std::min(slowest, count);
    }
    return queue_group_ ? total : slowest;
}

uint64_t FlowBoard::group_received() const {
    uint64_t total = 0;
    for (size_t i = 0; i < publishers_ * subscribers_; ++i) {
        total += received_[i].value.load(std::memory_order_relaxed);
    }
    return total;
}

void FlowBoard::finish_publisher(size_t publisher, uint64_t sent) {
    final_sent_[publisher].value.store(sent, std::memory_order_relaxed);
    finished_.fetch_add(1, std::memory_order_release);
}

uint64_t FlowBoard::total_sent() const {
    uint64_t total = 0;
    for (size_t p = 0; p < publishers_; ++p) total += final_sent(p);
    return total;
}

// ---- Publisher ----

Publisher::Publisher(std::unique_ptr<Connection> conn, RunControl& run, FlowBoard* board,
                     PublisherConfig config)
    : Endpoint("publisher " + std::to_string(config.id), std::move(conn), run),
      board_(board),
      config_(std::move(config)) {
    frame_ = "PUB " + config_.subject + " " + std::to_string(config_.size_bytes) + "\r\n";
    payload_offset_ = frame_.size();
    frame_ += payload_template(config_.size_bytes);
    frame_ += "\r\n";
    per_batch_ = std::max<uint64_t>(1, kBatchBytes / frame_.size());
}

void Publisher::append(uint64_t n, uint64_t now_ns) {
    std::string& out = conn_->out();
    size_t at = out.size();
    out.resize(at + n * frame_.size());
    // One clock read per batch: every message of the batch carries the batch's send time.
    const uint64_t sent_ns = now_ns - run_.epoch_ns;
    if (config_.rate_per_s > 0) {
        for (uint64_t i = 0; i < n; ++i) {
            const uint64_t intended = intended_ns(sent_ + i, config_.rate_per_s);
            send_lag_.record(sent_ns - std::min(sent_ns, intended));
        }
    }
    for (uint64_t i = 0; i < n; ++i, at += frame_.size()) {
        std::memcpy(out.data() + at, frame_.data(), frame_.size());
        write_stamp(out.data() + at + payload_offset_, config_.size_bytes, config_.id, sent_ + i,
                    sent_ns);
    }
    sent_ += n;
    progress_sent.store(sent_, std::memory_order_relaxed);
}

void Publisher::finish() {
    finishing_ = true;
    wakeup_ns_ = kNever;
    conn_->out() += "PING\r\n";
    if (board_ != nullptr) board_->finish_publisher(config_.id, sent_);
}

void Publisher::tick(uint64_t now_ns) {
    if (finishing_) return;
    if (sent_ == config_.count || now_ns >= run_.publish_deadline_ns ||
        run_.abort.load(std::memory_order_relaxed)) {
        finish();
        return;
    }
    wakeup_ns_ = kNever;
    while (conn_->out_pending_bytes() < kQueuedBytesMax && sent_ < config_.count) {
        uint64_t n = std::min(per_batch_, config_.count - sent_);
        if (config_.rate_per_s > 0) {
            const uint64_t due = due_by(now_ns - run_.epoch_ns, config_.rate_per_s);
            if (due <= sent_) {
                wakeup_ns_ = run_.epoch_ns + intended_ns(sent_, config_.rate_per_s);
                break;
            }
            n = std::min(n, due - sent_);
        }
        if (config_.window > 0 && board_ != nullptr) {
            if (sent_ - delivered_seen_ >= config_.window) {
                delivered_seen_ = board_->delivered(config_.id);
            }
            const uint64_t in_flight = sent_ - delivered_seen_;
            if (in_flight >= config_.window) {
                // Deliveries stopped while the window is full: lost messages, or a stuck server.
                if (window_blocked_since_ns_ == 0) window_blocked_since_ns_ = now_ns;
                if (now_ns - window_blocked_since_ns_ > run_.drain_timeout_ns) {
                    fail("LOSS or stall: no deliveries for the drain timeout with " +
                         std::to_string(in_flight) + " messages in flight");
                    return;
                }
                // Subscribers on other threads do not wake this loop: look again shortly.
                wakeup_ns_ = now_ns + 50'000;
                break;
            }
            window_blocked_since_ns_ = 0;
            n = std::min(n, config_.window - in_flight);
        }
        append(n, now_ns);
    }
    // Stopped by the queued-bytes cap only: more is ready as soon as the socket takes this.
    if (wakeup_ns_ == kNever && sent_ < config_.count) wakeup_ns_ = 0;
}

void Publisher::on_msg(const proto::MsgFrame& msg) {
    fail("unexpected MSG on a publisher connection: " + std::string(msg.subject));
}

void Publisher::on_pong() {
    if (finishing_ && pong_ns_ == 0) pong_ns_ = read_ns_;
}

// ---- Subscriber ----

Subscriber::Subscriber(std::unique_ptr<Connection> conn, RunControl& run, FlowBoard& board,
                       SubscriberConfig config)
    : Endpoint("subscriber " + std::to_string(config.id), std::move(conn), run),
      board_(board),
      config_(std::move(config)),
      queue_member_(!config_.queue.empty()),
      checker_(queue_member_ ? SequenceChecker::Mode::kSubsequence : SequenceChecker::Mode::kEvery,
               board.publishers()),
      bitmap_(board.publishers()),
      per_publisher_(board.publishers(), 0) {}

void Subscriber::on_msg(const proto::MsgFrame& msg) {
    ++received_;
    last_msg_ns_ = read_ns_;
    if (msg.payload.size() != config_.size_bytes) [[unlikely]] {
        fail("payload of " + std::to_string(msg.payload.size()) + " bytes, expected " +
             std::to_string(config_.size_bytes));
        return;
    }
    const Stamp stamp = read_stamp(msg.payload);
    if (!stamp.has_seq) {
        ++per_publisher_[0];  // counts only: the publishers cannot be told apart
        return;
    }
    if (!checker_.observe(stamp.publisher, stamp.seq)) [[unlikely]] {
        fail(checker_.error());
        return;
    }
    ++per_publisher_[stamp.publisher];
    if (queue_member_ && !bitmap_.mark(stamp.publisher, stamp.seq)) [[unlikely]] {
        fail("DUPLICATE: publisher " + std::to_string(stamp.publisher) + " seq " +
             std::to_string(stamp.seq) + " delivered twice to this member");
        return;
    }
    if (stamp.has_time) {
        const uint64_t received_ns = read_ns_ - run_.epoch_ns;
        one_way_.record(received_ns - std::min(received_ns, stamp.sent_ns));
        if (config_.rate_per_pub > 0) {
            const uint64_t intended = intended_ns(stamp.seq, config_.rate_per_pub);
            one_way_corrected_.record(received_ns - std::min(received_ns, intended));
        }
    }
}

void Subscriber::after_read() {
    for (size_t p = 0; p < per_publisher_.size(); ++p) {
        board_.set_received(config_.id, p, per_publisher_[p]);
    }
    progress_received.store(received_, std::memory_order_relaxed);
}

bool Subscriber::complete() const {
    if (!board_.all_finished()) return false;
    if (queue_member_) return board_.group_received() >= board_.total_sent();
    if (config_.size_bytes < kStampSeqBytes) return received_ >= board_.total_sent();
    for (size_t p = 0; p < per_publisher_.size(); ++p) {
        if (per_publisher_[p] < board_.final_sent(p)) return false;
    }
    return true;
}

void Subscriber::tick(uint64_t now_ns) {
    wakeup_ns_ = kNever;
    if (done_ || failed_) return;
    if (complete_ns_ == 0 && complete()) complete_ns_ = now_ns;
    if (complete_ns_ != 0) {
        // Extra deliveries after the last expected one would be duplicates: keep reading a
        // little while before declaring the subscriber done.
        if (now_ns - complete_ns_ >= kLingerNs) {
            done_ = true;
        } else {
            wakeup_ns_ = complete_ns_ + kLingerNs;
        }
        return;
    }
    if (!board_.all_finished()) {
        wakeup_ns_ = now_ns + 1'000'000;
        return;
    }
    if (drain_start_ns_ == 0) drain_start_ns_ = now_ns;
    if (now_ns - drain_start_ns_ > run_.drain_timeout_ns) {
        const uint64_t expected = queue_member_ ? board_.total_sent() : board_.total_sent();
        const uint64_t got = queue_member_ ? board_.group_received() : received_;
        fail("LOSS: " + std::string(queue_member_ ? "the queue group" : "it") + " received " +
             std::to_string(got) + " of " + std::to_string(expected) +
             " messages within the drain timeout");
        return;
    }
    wakeup_ns_ = now_ns + 1'000'000;
}

void Subscriber::on_closed(const std::string& why) {
    fail(why + " (a slow-consumer disconnect, if the server logged one)");
}

// ---- Requester ----

Requester::Requester(std::unique_ptr<Connection> conn, RunControl& run, std::atomic<int>& finished,
                     RequesterConfig config)
    : Endpoint("requester " + std::to_string(config.id), std::move(conn), run),
      finished_(finished),
      config_(std::move(config)),
      in_flight_(config_.window) {
    head_ = "PUB " + config_.subject + " " + config_.inbox + " " +
            std::to_string(config_.size_bytes) + "\r\n";
    body_ = payload_template(config_.size_bytes) + "\r\n";
}

void Requester::tick(uint64_t now_ns) {
    wakeup_ns_ = kNever;
    if (done_ || failed_) return;
    if (!stopped_ && (in_flight_.sent() == config_.count || now_ns >= run_.publish_deadline_ns ||
                      run_.abort.load(std::memory_order_relaxed))) {
        stopped_ = true;
        stop_ns_ = now_ns;
    }
    const uint64_t outstanding = in_flight_.sent() - in_flight_.completed();
    if (stopped_) {
        if (outstanding == 0) {
            done_ = true;
            finished_.fetch_add(1, std::memory_order_release);
        } else if (now_ns - stop_ns_ > run_.drain_timeout_ns) {
            fail("LOSS: " + std::to_string(outstanding) + " of " +
                 std::to_string(in_flight_.sent()) + " requests never answered");
        } else {
            wakeup_ns_ = now_ns + 1'000'000;
        }
        return;
    }
    if (last_progress_ns_ == 0) last_progress_ns_ = now_ns;
    if (outstanding > 0 && now_ns - last_progress_ns_ > run_.drain_timeout_ns) {
        fail("LOSS: no reply for the drain timeout, " + std::to_string(outstanding) +
             " request(s) outstanding");
        return;
    }
    std::string& out = conn_->out();
    const uint64_t sent_ns = now_ns - run_.epoch_ns;
    const uint64_t sent_before = in_flight_.sent();
    while (in_flight_.sent() < config_.count && in_flight_.can_send()) {
        if (config_.rate_per_s > 0 &&
            due_by(now_ns - run_.epoch_ns, config_.rate_per_s) <= in_flight_.sent()) {
            wakeup_ns_ = run_.epoch_ns + intended_ns(in_flight_.sent(), config_.rate_per_s);
            break;
        }
        const uint64_t seq = in_flight_.send(now_ns);
        out += head_;
        const size_t at = out.size();
        out += body_;
        write_stamp(out.data() + at, config_.size_bytes, config_.id, seq, sent_ns);
        if (config_.rate_per_s > 0) {
            const uint64_t intended = intended_ns(seq, config_.rate_per_s);
            send_lag_.record(sent_ns - std::min(sent_ns, intended));
        }
    }
    if (in_flight_.sent() != sent_before) last_progress_ns_ = now_ns;
    if (in_flight_.sent() > in_flight_.completed() && wakeup_ns_ == kNever)
        wakeup_ns_ = now_ns + 10'000'000;
    progress_sent.store(in_flight_.sent(), std::memory_order_relaxed);
}

void Requester::on_msg(const proto::MsgFrame& msg) {
    if (!msg.headers.empty()) {
        // A status reply: 503 is no responders.
        fail("status reply to a request: " +
             std::string(msg.headers.substr(0, msg.headers.find('\r'))));
        return;
    }
    const Stamp stamp = read_stamp(msg.payload);
    const bool ours =
        msg.payload.size() == config_.size_bytes && stamp.has_seq && stamp.publisher == config_.id;
    const uint64_t sent_ns = ours ? in_flight_.complete(stamp.seq) : kNever;
    if (sent_ns == kNever) [[unlikely]] {
        fail("unexpected or DUPLICATE reply (seq " + std::to_string(stamp.seq) + ", " +
             std::to_string(msg.payload.size()) + " bytes)");
        return;
    }
    round_trip_.record(read_ns_ - std::min(read_ns_, sent_ns));
    if (config_.rate_per_s > 0) {
        const uint64_t intended = run_.epoch_ns + intended_ns(stamp.seq, config_.rate_per_s);
        round_trip_corrected_.record(read_ns_ - std::min(read_ns_, intended));
    }
    last_reply_ns_ = read_ns_;
    last_progress_ns_ = read_ns_;
    progress_received.store(in_flight_.completed(), std::memory_order_relaxed);
}

// ---- Responder ----

void Responder::on_msg(const proto::MsgFrame& msg) {
    if (msg.reply.empty()) {
        fail("request without a reply subject");
        return;
    }
    std::string& out = conn_->out();
    out += "PUB ";
    out += msg.reply;
    out += ' ';
    out += std::to_string(msg.payload.size());
    out += "\r\n";
    out += msg.payload;
    out += "\r\n";
    ++handled_;
}

}  // namespace ringtail::bench
