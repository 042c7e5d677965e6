#include "core/conn/client_conn.h"

#include <sys/socket.h>

#include "core/server/log.h"
#include "core/server/server.h"
#include "core/shard/shard.h"
#include "proto/encoder.h"
#include "proto/errors.h"
#include "proto/subject.h"

namespace ringtail::core {

using proto::Flow;

ClientConn::ClientConn(Shard& shard, uint32_t slot, uint32_t generation, int fd,
                       uint64_t client_id, std::string client_ip, int client_port)
    : shard_(shard),
      slot_(slot),
      generation_(generation),
      fd_(fd),
      client_id_(client_id),
      client_ip_(std::move(client_ip)),
      log_prefix_(client_ip_ + ":" + std::to_string(client_port) + " - cid:" + std::to_string(client_id) + " - "),
      tracing_(logger().trace_enabled()),
      parser_({shard.server().options().max_payload_bytes,
               shard.server().options().max_control_line_bytes}) {
    parser_.set_require_connect(shard.server().auth_required());
    created_at_ = last_activity_ = Clock::now();
    // nats-server's first client ping comes after at most 2 s, then every ping_interval.
    auto first = std::min<Clock::duration>(shard.server().options().ping_interval,
                                            std::chrono::seconds(2));
    next_ping_check_ = created_at_ + first;
}

void ClientConn::on_data(std::string_view data) {
    last_activity_ = Clock::now();
    proto::ParseStatus status = parser_.feed(data, *this);
    switch (status) {
        case proto::ParseStatus::kOk:
        case proto::ParseStatus::kPaused:
        case proto::ParseStatus::kStopped:
            break;
        case proto::ParseStatus::kUnknownOp:
            close(proto::err::kUnknownProtocol, "Parser Error");
            break;
        case proto::ParseStatus::kBadArgs:
            close({}, "Protocol Violation");
            break;
        case proto::ParseStatus::kMaxControlLine:
            close(proto::err::kMaxControlLine, "Maximum Control Line Exceeded");
            break;
        case proto::ParseStatus::kMaxPayload:
            close(proto::err::kMaxPayload, "Maximum Message Payload Exceeded");
            break;
        case proto::ParseStatus::kAuthViolation:
            close(proto::err::kAuthorizationViolation, "Authentication Failure");
            break;
    }
}

void ClientConn::resume() {
    paused_ = false;
    if (!closing_) on_data({});
}

void ClientConn::close(std::string_view error, std::string_view reason) {
    if (closing_) return;
    closing_ = true;
    if (!error.empty()) {
        if (tracing_) trace("->>", "-ERR", "'" + std::string(error) + "'");
        proto::append_err(out_, error);
        shard_.mark_dirty(*this);
    }
    // Ordinary ends are debug lines, as in nats-server; anything the operator should see is not.
    shard_.log_conn(*this, reason, reason == "Client Closed" || reason == "Server Shutdown");
    shard_.schedule_close(*this);
}

void ClientConn::trace(std::string_view direction, std::string_view op, std::string_view arg) {
    std::string line = log_prefix_;
    line.append(direction);
    line.append(" [");
    line.append(op);
    if (!arg.empty()) {
        line.push_back(' ');
        line.append(arg);
    }
    line.push_back(']');
    log_trace(line);
}

bool ClientConn::queued_output() {
    if (closing_) return false;
    shard_.mark_dirty(*this);
    size_t pending = out_.size() + (sending_.size() - sending_offset_);
    if (static_cast<int64_t>(pending) > shard_.server().options().max_pending_bytes) {
        // As nats-server: no -ERR, the connection is closed; what is queued is dropped.
        out_.clear();
        // A send stuck on a peer that does not read would keep the socket forever: abort it.
        if (send_in_flight_) ::shutdown(fd_, SHUT_RDWR);
        close({}, "Slow Consumer Detected");
        return false;
    }
    return true;
}

Flow ClientConn::on_connect(std::string_view json) {
    if (closing_) return Flow::kStop;
    if (tracing_) trace("<<-", "CONNECT", json.find("pass") == std::string_view::npos ? json : "{...}");
    if (!proto::decode_connect(json, options_)) {
        close({}, "Protocol Violation: bad CONNECT");
        return Flow::kStop;
    }
    connect_received_ = true;
    const config::Options& server_options = shard_.server().options();
    if (shard_.server().auth_required()) {
        bool ok = server_options.token.empty()
                      ? options_.user == server_options.user && options_.pass == server_options.password
                      : options_.auth_token == server_options.token;
        if (!ok) {
            close(proto::err::kAuthorizationViolation, "Authentication Failure");
            return Flow::kStop;
        }
    }
    auth_ok_ = true;
    parser_.set_require_connect(false);
    parser_.set_headers_allowed(options_.headers);
    if (options_.protocol < 0 || options_.protocol > 1) {
        close(proto::err::kBadClientProtocol, "Bad Client Protocol Version");
        return Flow::kStop;
    }
    if (options_.no_responders && !options_.headers) {
        close(proto::err::kNoRespondersRequiresHeaders, "No Responders Requires Headers");
        return Flow::kStop;
    }
    if (options_.verbose) {
        out_.append(proto::kOk);
        queued_output();
    }
    return Flow::kContinue;
}

Flow ClientConn::on_pub(const proto::PubOp& op) {
    if (closing_) return Flow::kStop;
    if (tracing_ && !paused_) {
        trace("<<-", op.has_headers ? "HPUB" : "PUB",
              std::string(op.subject) + (op.reply.empty() ? "" : " ") + std::string(op.reply) + " " +
                  std::to_string(op.headers.size() + op.payload.size()));
    }
    // Frames for this publish are appended first (as nats-server orders them: a pedantic
    // -ERR, then +OK, then the message to ourselves); a pause takes them back.
    size_t out_before = out_.size();
    if (options_.pedantic && !proto::is_valid_literal_subject(op.subject)) {
        proto::append_err(out_, proto::err::kInvalidPublishSubject);
    }
    if (options_.verbose) out_.append(proto::kOk);

    MsgView msg{op.subject, op.reply, op.headers, op.payload, op.has_headers, {}, {}};
    // Digits with leading zeros are echoed as sent (nats-server copies them); canonical ones
    // are re-encoded, which keeps them out of ring records.
    auto odd = [](std::string_view digits) { return digits.size() > 1 && digits[0] == '0'; };
    if (odd(op.total_size_text) || odd(op.header_size_text)) {
        msg.total_size_text = op.total_size_text;
        if (op.has_headers) msg.header_size_text = op.header_size_text;
    }
    bool delivered = false;
    if (!shard_.route_publish(*this, msg, delivered)) {
        out_.resize(out_before);
        paused_ = true;
        return Flow::kPause;
    }
    if (!delivered && !op.reply.empty() && options_.no_responders) {
        std::string_view sid = shard_.reply_sid(*this, op.reply);
        if (!sid.empty()) proto::append_hmsg(out_, op.reply, sid, {}, proto::kNoRespondersHeaders, {});
    }
    if (out_.size() != out_before) queued_output();
    return closing_ ? Flow::kStop : Flow::kContinue;
}

Flow ClientConn::on_sub(const proto::SubOp& op) {
    if (closing_) return Flow::kStop;
    if (shard_.interest_backlog_full()) {
        shard_.pause_reading(*this);
        paused_ = true;
        return Flow::kPause;
    }
    if (tracing_) {
        trace("<<-", "SUB", std::string(op.subject) + " " + std::string(op.queue) +
                                (op.queue.empty() ? "" : " ") + std::string(op.sid));
    }
    const config::Options& server_options = shard_.server().options();
    if (server_options.max_subscriptions > 0 &&
        static_cast<int64_t>(subs_.size()) >= server_options.max_subscriptions) {
        proto::append_err(out_, proto::err::kMaxSubscriptions);
        queued_output();
        return Flow::kContinue;
    }
    // Interest records carry 16-bit lengths; only a raised max_control_line reaches this.
    if (!proto::is_valid_subject(op.subject) || op.subject.size() > 0xffff || op.queue.size() > 0xffff) {
        proto::append_err(out_, proto::err::kInvalidSubject);
        queued_output();
        return Flow::kContinue;
    }
    auto [it, inserted] = subs_.try_emplace(std::string(op.sid));
    if (inserted) {
        it->second = std::make_unique<Subscription>();
        Subscription& sub = *it->second;
        sub.conn = this;
        sub.subject = op.subject;
        sub.queue = op.queue;
        sub.sid = op.sid;
        shard_.add_subscription(&sub);
        interest_seq_needed_ = shard_.interest_seq_sent();
    }
    if (options_.verbose) {
        out_.append(proto::kOk);
        queued_output();
    }
    return Flow::kContinue;
}

Flow ClientConn::on_unsub(const proto::UnsubOp& op) {
    if (closing_) return Flow::kStop;
    if (shard_.interest_backlog_full()) {
        shard_.pause_reading(*this);
        paused_ = true;
        return Flow::kPause;
    }
    if (tracing_) {
        trace("<<-", "UNSUB", std::string(op.sid) + (op.max_msgs > 0 ? " " + std::to_string(op.max_msgs) : ""));
    }
    auto it = subs_.find(op.sid);
    if (it != subs_.end()) {
        Subscription& sub = *it->second;
        if (op.max_msgs > 0 && op.max_msgs > sub.delivered) {
            sub.max_msgs = op.max_msgs;
        } else {
            shard_.remove_subscription(&sub);
            subs_.erase(it);
            interest_seq_needed_ = shard_.interest_seq_sent();
        }
    }
    if (options_.verbose) {
        out_.append(proto::kOk);
        queued_output();
    }
    return Flow::kContinue;
}

Flow ClientConn::on_ping() {
    if (closing_) return Flow::kStop;
    // "flush returned" must mean "my subscriptions are visible on every shard". Until then
    // the connection is not read either, so what it sends meanwhile stays in the socket.
    if (!shard_.interest_applied(interest_seq_needed_)) {
        waiting_for_interest_ = true;
        shard_.wait_for_interest(*this);
        shard_.stop_reading(*this);
        return Flow::kPause;
    }
    last_ping_received_ = Clock::now();
    if (tracing_) {
        trace("<<-", "PING", {});
        trace("->>", "PONG", {});
    }
    out_.append(proto::kPong);
    queued_output();
    return closing_ ? Flow::kStop : Flow::kContinue;
}

Flow ClientConn::on_pong() {
    if (tracing_) trace("<<-", "PONG", {});
    pings_out_ = 0;
    return Flow::kContinue;
}

Flow ClientConn::on_client_error(std::string_view text) {
    close({}, std::string("Client Error ") + std::string(text));
    return Flow::kStop;
}

}  // namespace ringtail::core
