#include "bench/harness/js_endpoints.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "bench/harness/stamp.h"

namespace ringtail::bench {

namespace {

std::string first_line(std::string_view text) {
    return std::string(text.substr(0, text.find('\r')));
}

// The number after `"key":` in a small JSON object, or -1 (PubAcks are parsed by hand: they
// come back at the publish rate, and their shape is fixed).
int64_t json_number(std::string_view json, std::string_view key) {
    const std::string needle = "\"" + std::string(key) + "\":";
    size_t at = json.find(needle);
    if (at == std::string_view::npos) return -1;
    at += needle.size();
    while (at < json.size() && json[at] == ' ') ++at;
    int64_t value = -1;
    std::from_chars(json.data() + at, json.data() + json.size(), value);
    return value;
}

// The dot-separated tokens of a subject.
std::vector<std::string_view> tokens(std::string_view subject) {
    std::vector<std::string_view> out;
    while (true) {
        size_t dot = subject.find('.');
        out.push_back(subject.substr(0, dot));
        if (dot == std::string_view::npos) return out;
        subject.remove_prefix(dot + 1);
    }
}

// The value of header `name` in a header block, or "".
std::string_view header_value(std::string_view headers, std::string_view name) {
    size_t at = 0;
    while ((at = headers.find("\r\n", at)) != std::string_view::npos) {
        at += 2;
        std::string_view line = headers.substr(at, headers.find("\r\n", at) - at);
        if (line.size() > name.size() && line.starts_with(name) && line[name.size()] == ':') {
            std::string_view value = line.substr(name.size() + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            return value;
        }
    }
    return {};
}

}  // namespace

int status_code(std::string_view headers) {
    if (!headers.starts_with("NATS/1.0")) return 0;
    std::string_view rest = headers.substr(8);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    int code = 0;
    std::from_chars(rest.data(), rest.data() + std::min<size_t>(rest.size(), 3), code);
    return code;
}

Expected<nlohmann::json> js_api(Connection& conn, const std::string& what,
                                const nlohmann::json& request) {
    auto reply = conn.request_sync("$JS.API." + what, request.is_null() ? "" : request.dump());
    if (!reply) return std::unexpected(reply.error());
    if (int code = status_code(reply->headers); code == 503) {
        return std::unexpected("$JS.API." + what + ": no responders (JetStream not enabled?)");
    }
    nlohmann::json json = nlohmann::json::parse(reply->payload, nullptr, false);
    if (json.is_discarded()) return std::unexpected("$JS.API." + what + ": malformed response");
    if (json.contains("error")) {
        const nlohmann::json& error = json["error"];
        const bool described =
            error.is_object() && error.contains("description") && error["description"].is_string();
        return std::unexpected(
            "$JS.API." + what + ": " +
            (described ? error["description"].get<std::string>() : error.dump()));
    }
    return json;
}

int64_t last_token_number(std::string_view subject) {
    size_t dot = subject.rfind('.');
    std::string_view token = dot == std::string_view::npos ? subject : subject.substr(dot + 1);
    int64_t value = -1;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc() || end != token.data() + token.size()) return -1;
    return value;
}

// ---- JsRequester ----

JsRequester::JsRequester(std::string name, std::unique_ptr<Connection> conn, RunControl& run,
                         uint64_t count, uint64_t window, std::string reply_noun,
                         std::string lost_text, double rate_per_s)
    : Endpoint(std::move(name), std::move(conn), run),
      count_(count),
      rate_per_s_(rate_per_s),
      reply_noun_(std::move(reply_noun)),
      lost_text_(std::move(lost_text)),
      in_flight_(window) {}

void JsRequester::tick(uint64_t now_ns) {
    wakeup_ns_ = kNever;
    if (done_ || failed_) return;
    if (!stopped_ && (in_flight_.sent() == count_ || now_ns >= run_.publish_deadline_ns ||
                      run_.abort.load(std::memory_order_relaxed))) {
        stopped_ = true;
        stop_ns_ = now_ns;
    }
    if (stopped_) {
        if (in_flight_.completed() == in_flight_.sent()) {
            done_ = true;
            on_finished();
        } else if (now_ns - stop_ns_ > run_.drain_timeout_ns) {
            fail("LOSS: " + std::to_string(in_flight_.sent() - in_flight_.completed()) + " " +
                 lost_text_);
        } else {
            wakeup_ns_ = now_ns + 1'000'000;
        }
        return;
    }
    if (last_progress_ns_ == 0) last_progress_ns_ = now_ns;
    if (in_flight_.sent() > in_flight_.completed() &&
        now_ns - last_progress_ns_ > run_.drain_timeout_ns) {
        fail("LOSS: no " + reply_noun_ + " for the drain timeout, " +
             std::to_string(in_flight_.sent() - in_flight_.completed()) + " outstanding");
        return;
    }
    std::string& out = conn_->out();
    if (in_flight_.can_send() && in_flight_.sent() < count_) last_progress_ns_ = now_ns;
    wakeup_ns_ = now_ns + 10'000'000;
    while (in_flight_.sent() < count_ && in_flight_.can_send()) {
        if (rate_per_s_ > 0) {
            // Request seq is due at seq / rate after the epoch.
            const auto due = static_cast<uint64_t>(std::floor(
                                 static_cast<double>(now_ns - run_.epoch_ns) * rate_per_s_ / 1e9)) +
                             1;
            if (due <= in_flight_.sent()) {
                wakeup_ns_ = std::min(
                    wakeup_ns_,
                    run_.epoch_ns + static_cast<uint64_t>(static_cast<double>(in_flight_.sent()) *
                                                          1e9 / rate_per_s_));
                break;
            }
        }
        append_request(out, in_flight_.send(now_ns), now_ns);
    }
    progress_sent.store(in_flight_.sent(), std::memory_order_relaxed);
}

JsRequester::Answer JsRequester::complete(const proto::MsgFrame& msg) {
    const int64_t seq = last_token_number(msg.subject);
    const uint64_t sent_ns = seq < 0 ? kNever : in_flight_.complete(static_cast<uint64_t>(seq));
    if (sent_ns == kNever) {
        fail("unexpected or DUPLICATE " + reply_noun_ + " on " + std::string(msg.subject));
    }
    return Answer{static_cast<uint64_t>(seq), sent_ns};
}

void JsRequester::record_reply(uint64_t sent_ns) {
    latency_.record(read_ns_ - std::min(read_ns_, sent_ns));
    last_reply_ns_ = read_ns_;
    last_progress_ns_ = read_ns_;
    progress_received.store(in_flight_.completed(), std::memory_order_relaxed);
}

// ---- JsPublisher ----

JsPublisher::JsPublisher(std::unique_ptr<Connection> conn, RunControl& run,
                         JsPublisherConfig config)
    : JsRequester("js publisher " + std::to_string(config.id), std::move(conn), run, config.count,
                  config.window, "PubAck", "PubAcks never came", config.rate_per_s),
      config_(std::move(config)),
      payload_(config_.size_bytes, 'x') {}

void JsPublisher::append_request(std::string& out, uint64_t seq, uint64_t now_ns) {
    out += "PUB ";
    if (config_.keys > 0) {
        out += config_.key_prefix;
        out += std::to_string(seq % config_.keys);
    } else {
        out += config_.subject;
    }
    out += ' ';
    out += config_.inbox;
    out += '.';
    out += std::to_string(seq);
    out += ' ';
    out += std::to_string(config_.size_bytes);
    out += "\r\n";
    const size_t at = out.size();
    out += payload_;
    out += "\r\n";
    write_stamp(out.data() + at, config_.size_bytes, config_.id, seq, now_ns - run_.epoch_ns);
}

void JsPublisher::on_msg(const proto::MsgFrame& msg) {
    if (int code = status_code(msg.headers); code != 0) {
        fail("status instead of a PubAck: " + first_line(msg.headers));
        return;
    }
    if (msg.payload.find("\"error\"") != std::string_view::npos) {
        fail("PubAck error: " + std::string(msg.payload));
        return;
    }
    if (json_number(msg.payload, "seq") <= 0) {
        fail("PubAck without a stream sequence: " + std::string(msg.payload));
        return;
    }
    if (msg.payload.find("\"duplicate\":true") != std::string_view::npos) {
        fail("PubAck marked duplicate (the harness never repeats a message)");
        return;
    }
    const Answer answer = complete(msg);
    if (answer.sent_ns == kNever) return;
    record_reply(answer.sent_ns);
    if (config_.board != nullptr) acked_ns_.set(answer.seq, read_ns_);
}

void JsPublisher::on_finished() {
    if (config_.board != nullptr) config_.board->publisher_finished(answered());
}

// ---- JsConsumer ----

JsConsumer::JsConsumer(std::string name, std::unique_ptr<Connection> conn, RunControl& run,
                       ConsumeBoard& board, JsConsumerConfig config)
    : Endpoint(std::move(name), std::move(conn), run),
      board_(board),
      config_(std::move(config)),
      delivered_ns_(config_.live_publishers) {}

bool JsConsumer::keep_going(uint64_t now_ns) {
    wakeup_ns_ = kNever;
    if (done_ || failed_) return false;
    if (last_progress_ns_ == 0) last_progress_ns_ = now_ns;
    // Without --live the duration bounds the consumption itself; with it, the duration bounds
    // the publishing and the consumers then take what was stored.
    if (board_.complete() || (!board_.live && now_ns >= run_.publish_deadline_ns)) {
        done_ = true;
        return false;
    }
    if (now_ns - last_progress_ns_ > run_.drain_timeout_ns) {
        fail("LOSS: nothing delivered for the drain timeout; consumed " +
             std::to_string(board_.consumed.load()) + " of " +
             std::to_string(board_.stored.load()) +
             (board_.publishers_running.load() > 0 ? " stored so far" : ""));
        return false;
    }
    return true;
}

bool JsConsumer::consume(const proto::MsgFrame& msg) {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>,
    // or with <domain>.<account hash> after ACK and a random token at the end (2.10+).
    const std::vector<std::string_view> parts = tokens(msg.reply);
    size_t base = parts.size() == 9 ? 4 : parts.size() >= 11 ? 6 : 0;
    if (base == 0 || parts[0] != "$JS" || parts[1] != "ACK") {
        fail("message without a JetStream ack subject: " + std::string(msg.reply));
        return false;
    }
    const int64_t delivered = last_token_number(parts[base]);
    const int64_t stream_seq = last_token_number(parts[base + 1]);
    if (delivered != 1) {
        fail("REDELIVERY of stream seq " + std::string(parts[base + 1]) + " (delivered " +
             std::string(parts[base]) + " times)");
        return false;
    }
    if (stream_seq < 1 || !bitmap_.mark(0, static_cast<uint64_t>(stream_seq - 1))) {
        fail("DUPLICATE stream seq " + std::string(parts[base + 1]));
        return false;
    }
    if (msg.payload.size() != config_.size_bytes) {
        fail("payload of " + std::to_string(msg.payload.size()) + " bytes, expected " +
             std::to_string(config_.size_bytes));
        return false;
    }
    if (config_.live_publishers > 0) {
        const Stamp stamp = read_stamp(msg.payload);
        if (!stamp.has_seq || stamp.publisher >= config_.live_publishers) {
            fail("payload without a stamp of this run at stream seq " +
                 std::string(parts[base + 1]));
            return false;
        }
        if (stamp.has_time) {
            const uint64_t received_ns = read_ns_ - run_.epoch_ns;
            from_send_.record(received_ns - std::min(received_ns, stamp.sent_ns));
        }
        delivered_ns_[stamp.publisher].set(stamp.seq, read_ns_);
    }
    std::string& out = conn_->out();
    out += "PUB ";
    out += msg.reply;
    out += " 0\r\n\r\n";  // an empty body is +ACK
    ++consumed_;
    last_msg_ns_ = read_ns_;
    return true;
}

void JsConsumer::after_read() {
    board_.consumed.fetch_add(consumed_ - published_consumed_, std::memory_order_relaxed);
    if (consumed_ != published_consumed_) last_progress_ns_ = read_ns_;
    published_consumed_ = consumed_;
    progress_received.store(consumed_, std::memory_order_relaxed);
}

// ---- PullConsumer ----

PullConsumer::PullConsumer(std::unique_ptr<Connection> conn, RunControl& run, ConsumeBoard& board,
                           JsConsumerConfig config)
    : JsConsumer("consumer " + std::to_string(config.id), std::move(conn), run, board,
                 std::move(config)) {
    next_subject_ = "$JS.API.CONSUMER.MSG.NEXT." + config_.stream + "." + config_.durable;
}

void PullConsumer::pull() {
    // Expires in 1 s (in ns, as the API wants): a pull left empty then ends with a 408.
    const std::string body =
        "{\"batch\":" + std::to_string(config_.batch) + ",\"expires\":1000000000}";
    const uint64_t number = pulls_++;
    conn_->out() += "PUB " + next_subject_ + " " + config_.inbox + "." + std::to_string(number) +
                    " " + std::to_string(body.size()) + "\r\n" + body + "\r\n";
    open_pulls_.emplace_back(number, config_.batch);
}

void PullConsumer::tick(uint64_t now_ns) {
    if (!keep_going(now_ns)) return;
    // Two pulls outstanding: the server always has a request to fill while the next is on the way.
    while (open_pulls_.size() < 2) pull();
    wakeup_ns_ = now_ns + 10'000'000;
}

void PullConsumer::on_msg(const proto::MsgFrame& msg) {
    if (int code = status_code(msg.headers); code != 0) {
        // 408: the pull expired; 404: nothing to pull; either way that request is finished.
        // Status replies come to the request's own reply subject, inbox.<request number>.
        if (code != 408 && code != 404) {
            fail("pull request answered with " + first_line(msg.headers));
            return;
        }
        const int64_t number = last_token_number(msg.subject);
        std::erase_if(open_pulls_,
                      [&](const auto& item) { return static_cast<int64_t>(item.first) == number; });
        return;
    }
    if (!consume(msg)) return;
    // Messages carry their stream subject, not the request's: the server fills waiting pull
    // requests oldest first, so this one counts against the oldest open request.
    if (!open_pulls_.empty() && --open_pulls_.front().second == 0)
        open_pulls_.erase(open_pulls_.begin());
}

// ---- PushConsumer ----

PushConsumer::PushConsumer(std::unique_ptr<Connection> conn, RunControl& run, ConsumeBoard& board,
                           JsConsumerConfig config)
    : JsConsumer("push consumer " + std::to_string(config.id), std::move(conn), run, board,
                 std::move(config)) {}

void PushConsumer::start(uint64_t now_ns) {
    (void)now_ns;
    const std::string& body = config_.create_request;
    conn_->out() += "PUB $JS.API.CONSUMER.DURABLE.CREATE." + config_.stream + "." +
                    config_.durable + " " + config_.inbox + ".create " +
                    std::to_string(body.size()) + "\r\n" + body + "\r\n";
}

void PushConsumer::tick(uint64_t now_ns) {
    if (!keep_going(now_ns)) return;
    wakeup_ns_ = now_ns + 10'000'000;
}

void PushConsumer::on_status(const proto::MsgFrame& msg, int code) {
    if (code != 100) {
        fail("push consumer sent " + first_line(msg.headers));
        return;
    }
    // 100 is a flow-control request when it has a reply subject, else an idle heartbeat.
    std::string_view reply = msg.reply;
    if (reply.empty()) reply = header_value(msg.headers, "Nats-Consumer-Stalled");
    if (reply.empty()) return;
    std::string& out = conn_->out();
    out += "PUB ";
    out += reply;
    out += " 0\r\n\r\n";
    if (!msg.reply.empty()) ++flow_control_answered_;
}

void PushConsumer::on_msg(const proto::MsgFrame& msg) {
    if (msg.subject.ends_with(".create")) {
        if (int code = status_code(msg.headers); code != 0) {
            fail("consumer create answered with " + first_line(msg.headers));
        } else if (msg.payload.find("\"error\"") != std::string_view::npos) {
            fail("consumer create: " + std::string(msg.payload));
        }
        return;
    }
    if (int code = status_code(msg.headers); code != 0) {
        on_status(msg, code);
        return;
    }
    (void)consume(msg);
}

// ---- KvGetter ----

KvGetter::KvGetter(std::unique_ptr<Connection> conn, RunControl& run, KvGetterConfig config)
    : JsRequester("kv getter " + std::to_string(config.id), std::move(conn), run, config.count,
                  config.window, "get reply", "gets never answered"),
      config_(std::move(config)) {}

void KvGetter::append_request(std::string& out, uint64_t seq, uint64_t now_ns) {
    (void)now_ns;
    const uint64_t written = std::min(config_.keys, config_.puts);
    out += "PUB " + config_.get_prefix + std::to_string(seq % written) + " " + config_.inbox + "." +
           std::to_string(seq) + " 0\r\n\r\n";
}

void KvGetter::on_msg(const proto::MsgFrame& msg) {
    if (int code = status_code(msg.headers); code != 0) {
        fail("direct get answered with " + first_line(msg.headers));
        return;
    }
    const Answer answer = complete(msg);
    if (answer.sent_ns == kNever) return;
    // Key j last received put number j + m*keys, the largest such number below `puts`.
    const uint64_t written = std::min(config_.keys, config_.puts);
    const uint64_t key = answer.seq % written;
    const uint64_t last_put = key + (config_.puts - 1 - key) / config_.keys * config_.keys;
    const Stamp stamp = read_stamp(msg.payload);
    if (msg.payload.size() != config_.size_bytes || !stamp.has_seq ||
        stamp.publisher != config_.id || stamp.seq != last_put) {
        fail("WRONG VALUE for key " + std::to_string(key) + ": expected put " +
             std::to_string(last_put) + ", got put " + std::to_string(stamp.seq));
        return;
    }
    record_reply(answer.sent_ns);
}

}  // namespace ringtail::bench
