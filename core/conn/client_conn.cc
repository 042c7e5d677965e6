#include "core/conn/client_conn.h"

#include <algorithm>
#include <random>

#include "core/auth/nkey.h"
#include "core/auth/password.h"
#include "core/server/log.h"
#include "proto/config/conf.h"
#include "proto/encoder.h"
#include "proto/errors.h"
#include "proto/js/api.h"
#include "proto/subject.h"

namespace ringtail::core {
namespace {

// A random duration below `limit` (zero if it is not positive).
Clock::duration up_to(Clock::duration limit) {
    static thread_local std::minstd_rand random{std::random_device{}()};
    return limit.count() > 0 ? Clock::duration(static_cast<Clock::rep>(random() % static_cast<uint64_t>(limit.count())))
                             : Clock::duration::zero();
}

}  // namespace

using proto::Flow;
using proto::js::go_quote;

ClientConn::ClientConn(ConnHost& host, uint32_t slot, io::Loop& loop, int fd, uint16_t buffer_group,
                       uint64_t recv_user_data, uint64_t send_user_data, Identity identity)
    : host_(&host),
      slot_(slot),
      socket_(loop, fd, buffer_group, recv_user_data, send_user_data),
      identity_(std::move(identity)),
      log_prefix_(identity_.ip + ":" + std::to_string(identity_.port) + " - cid:" +
                  std::to_string(identity_.client_id) + " - "),
      tracing_(logger().trace_enabled()),
      parser_({host.options().max_payload_bytes, host.options().max_control_line_bytes}),
      max_pending_(host.options().max_pending_bytes),
      mapped_(host.has_mappings(kGlobalAccount)),
      out_(host.out_blocks()) {
    parser_.set_require_connect(host.auth_required());
    apply_limits();
    created_at_ = last_activity_ = last_read_ = Clock::now();
    // As nats-server: a client is pinged from the start, CONNECT or not (one that never sends
    // it is closed as stale); CONNECT brings the first PING forward.
    next_ping_check_ = created_at_ + host.options().ping_interval;
}

// ---------------------------------------------------------------------------------------------
// Driven by the shard

void ClientConn::start(const std::string& info_line, bool refuse) {
    out(info_line.size()).append(info_line);
    queued_output();
    if (refuse) {
        error_line(proto::err::kMaxConnections);
        close(proto::err::kMaxConnections, "Maximum Connections Exceeded");
        return;
    }
    socket_.start_recv();
}

void ClientConn::on_recv(int32_t result, uint32_t flags, std::string_view data) {
    socket_.recv_completed(flags);
    if (result > 0) {
        if (moving_) {
            parser_.keep(data);  // parsed on the shard it moves to, after the waiting PUB
        } else if (!closing_) {
            on_data(data);
        }
        if (paused_ && parser_.pending_bytes() > kHeldBytesMax) single_reads_until_ = last_read_ + kSingleReadsFor;
    } else if (result == 0) {
        close({}, "Client Closed");
    } else if (result != -ENOBUFS && result != -ECANCELED) {
        close({}, "Read Error");
    }
    // A multishot recv ends on -ENOBUFS (every buffer in use), on a cancel issued by a pause
    // that may already be over, or by itself: re-arm at the end of the turn, once buffers have
    // been given back, unless the connection is paused (resume re-arms) or closing.
    if (!socket_.recv_armed() && reading_allowed()) request_rearm();
}

void ClientConn::request_rearm() {
    if (rearm_requested_) return;
    rearm_requested_ = true;
    host_->want_recv(*this);
}

void ClientConn::request_send() {
    if (send_requested_) return;
    send_requested_ = true;
    host_->want_send(*this);
}

void ClientConn::rearm_recv() {
    rearm_requested_ = false;
    if (reading_allowed()) socket_.start_recv(last_read_ > single_reads_until_);
}

void ClientConn::on_sent(int32_t result) {
    socket_.send_completed();
    if (result < 0) {
        out_.sent(0);
        dropped_at_close_ = out_.size();  // what was pending, as /connz shows a closed one
        out_.clear();
        close({}, "Write Error");
        return;
    }
    out_.sent(static_cast<size_t>(result));
    if (!out_.empty()) request_send();
}

void ClientConn::flush_output() {
    send_requested_ = false;
    // Being sent messages is activity, as nats-server's flushClients counts it: a busy
    // subscriber is not pinged, and /connz shows when it last got one.
    if (traffic_.out_msgs != out_msgs_at_flush_) {
        out_msgs_at_flush_ = traffic_.out_msgs;
        last_activity_ = Clock::now();
    }
    if (socket_.send_in_flight() || socket_.closed() || out_.empty()) return;
    socket_.send(out_.prepare_send());
}

bool ClientConn::may_move() const {
    if (paused_ || waiting_for_interest_ || rechecking_ || auth_ == Auth::kVerifying ||
        Clock::now() < next_move_at_ || !shadows_.empty()) {
        return false;
    }
    if (subs_.empty()) return true;
    // Subscriptions move along (Switch, "Moving a connection with subscriptions"): plain ones
    // without a max, once; and only for a connection that gets about as much as it asks for
    // (its answers): what else it gets would cross the mesh from then on.
    uint64_t got = traffic_.out_msgs - follow_out_msgs_;
    return follow_requests_ && got <= 2 * uint64_t{follow_count_} &&
           std::all_of(subs_.begin(), subs_.end(), [](const auto& entry) {
               const Subscription& sub = *entry.second;
               return sub.queue.empty() && sub.max_msgs == 0 && sub.moved_from == Subscription::kNotMoved;
           });
}

std::vector<Subscription*> ClientConn::subscription_list() const {
    std::vector<Subscription*> list;
    list.reserve(subs_.size());
    for (const auto& [sid, sub] : subs_) list.push_back(sub.get());
    return list;
}

void ClientConn::arrive(ConnHost& host, uint32_t slot, io::Loop& loop, uint16_t buffer_group,
                        uint64_t recv_user_data, uint64_t send_user_data) {
    host_ = &host;
    slot_ = slot;
    socket_.move_to(loop, buffer_group, recv_user_data, send_user_data);
    out_.move_to(host.out_blocks());
    follow_count_ = 0;
    // Its interest changes were all read before the handover (Shard::send_leaving): a PING
    // here has none to wait for, and the old shard's sequence means nothing here.
    interest_seq_needed_ = 0;
    stay(kMovesApart);
}

void ClientConn::stay(Clock::duration retry_after) {
    next_move_at_ = Clock::now() + retry_after;
    moving_ = false;
    paused_ = true;  // resume() parses the waiting PUB and re-arms reading
    host_->retry_each_turn(*this);
}

bool ClientConn::resume() {
    if (closing_) return true;
    if (waiting_for_interest_) {
        if (!host_->interest_applied(interest_seq_needed_)) return false;
        if (!awaited_reply_.empty() && Clock::now() < awaited_until_) return false;
        awaited_reply_.clear();
        waiting_for_interest_ = false;
    }
    paused_ = false;
    on_data({});
    if (!socket_.recv_armed() && reading_allowed()) request_rearm();
    return true;
}

void ClientConn::on_tick(Clock::time_point now) {
    const config::Options& options = host_->options();
    if (closing_) {
        // Closing output the peer never reads must not keep the socket open forever.
        if (socket_.send_in_flight() && now - socket_.send_started() > options.write_deadline) socket_.shutdown();
        return;
    }
    if (!connect_received_ && host_->auth_required() && now - created_at_ > options.auth_timeout) {
        close(proto::err::kAuthenticationTimeout, "Authentication Timeout");
        return;
    }
    if (socket_.send_in_flight() && now - socket_.send_started() > options.write_deadline) {
        // nats-server's log line, its "chunks" being the blocks of the outbound queue here.
        std::string detected = "Slow Consumer Detected: WriteDeadline of " + config::go_duration_text(options.write_deadline) +
                               " exceeded with " + std::to_string(out_.blocks()) + " chunks of " +
                               std::to_string(out_.size()) + " total bytes.";
        dropped_at_close_ = out_.size();
        out_.clear();
        socket_.shutdown();
        close({}, "Slow Consumer (Write Deadline)", detected);
        return;
    }
    if (now < next_ping_check_) return;
    next_ping_check_ = now + options.ping_interval;
    // nats-server's processPingTimer: no PING while the client is active or pings itself,
    // unless the round trip time wants measuring (never yet, or not for an hour).
    bool need_rtt = rtt_started_ == Clock::time_point{} || now - rtt_started_ > std::chrono::hours(1);
    if (!need_rtt &&
        (now - last_activity_ < options.ping_interval || now - last_ping_received_ < options.ping_interval)) {
        return;
    }
    if (pings_out_ + 1 > options.ping_max) {
        close(proto::err::kStaleConnection, "Stale Connection");
        return;
    }
    ++pings_out_;
    ping_sent_at_ = rtt_started_ = now;
    out(proto::kPing.size()).append(proto::kPing);
    queued_output();
}

void ClientConn::release_subscriptions() {
    for (auto& [sid, sub] : subs_) host_->unsubscribe(*sub);
    for (auto& [sid, shadows] : shadows_) {
        for (auto& shadow : shadows) host_->unsubscribe(*shadow);
    }
    subs_.clear();
    shadows_.clear();
    socket_.stop_recv();
    request_send();  // what is queued is sent, then can_free() closes the socket
}

bool ClientConn::can_free() {
    if (!closing_) return false;
    bool output_done = out_.empty();
    if (!socket_.closed() && !socket_.send_in_flight() && output_done) socket_.close();
    return socket_.closed() && !socket_.recv_armed() && !socket_.send_in_flight() && !send_requested_ &&
           !rearm_requested_;
}

void ClientConn::close(std::string_view error, std::string_view reason, std::string_view log_text) {
    if (closing_) return;
    closing_ = true;
    close_reason_ = reason;
    if (!error.empty()) {
        if (tracing_) trace("->>", "-ERR", "'" + std::string(error) + "'");
        proto::append_err(out(error.size() + kFrameSlack), error);
        request_send();
    }
    // As nats-server: the close itself is a debug line; what the operator should see was
    // logged where it happened (error_line) or comes as `log_text`.
    if (!log_text.empty()) log_line(log_text, false);
    log_line("Client connection closed: " + std::string(reason), true);
    host_->closing(*this);
}

void ClientConn::figures(monitor::ConnFigures& out, bool with_subs, Clock::time_point now,
                         int64_t wall_now_ns) const {
    auto wall = [&](Clock::time_point t) {
        return wall_now_ns - std::chrono::duration_cast<std::chrono::nanoseconds>(now - t).count();
    };
    out.cid = identity_.client_id;
    out.ip = identity_.ip;
    out.port = identity_.port;
    out.start_ns = wall(created_at_);
    out.last_activity_ns = wall(last_activity_);
    out.rtt_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(rtt_).count();
    out.pending_bytes = std::max(pending_output_bytes(), dropped_at_close_);
    out.traffic = traffic_;
    out.subscriptions = static_cast<uint32_t>(subs_.size());
    out.name = options_.name;
    out.lang = options_.lang;
    out.version = options_.version;
    out.user = options_.nkey.empty() ? options_.user : options_.nkey;  // as nats-server names the client
    out.reason = close_reason_;
    out.account = config::account_name(host_->options(), account_);
    if (with_subs) subscription_figures(out.subs);
}

void ClientConn::subscription_figures(std::vector<monitor::SubFigures>& out) const {
    for (const auto& [sid, sub] : subs_) {
        out.push_back({sub->subject, sub->queue, sub->sid, sub->delivered, sub->max_msgs, identity_.client_id,
                       std::string(config::account_name(host_->options(), account_))});
    }
}

void ClientConn::log_line(std::string_view what, bool debug_only) const {
    if (debug_only && !logger().debug_enabled()) return;
    std::string line = log_prefix_;
    line.append(what);
    if (debug_only) {
        log_debug(line);
    } else {
        log_info(line);
    }
}

void ClientConn::trace(std::string_view direction, std::string_view op, std::string_view arg) const {
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

void ClientConn::trace_payload(std::string_view headers, std::string_view payload) const {
    // nats-server's traceMsg: headers and payload as Go quotes them, cut after
    // max_traced_msg_len bytes of the quoted text.
    std::string message(headers);
    message.append(payload);
    int32_t max = host_->options().max_traced_msg_bytes;
    std::string line = log_prefix_ + "<<- MSG_PAYLOAD: [";
    if (max > 0 && message.size() > static_cast<size_t>(max)) {
        std::string quoted = go_quote(std::string_view(message).substr(0, static_cast<size_t>(max)));
        line += "\"" + quoted.substr(1, static_cast<size_t>(max)) + "...\"";
    } else {
        line += go_quote(message);
    }
    line.push_back(']');
    log_trace(line);
}

bool ClientConn::queued_output() {
    if (closing_) return false;
    request_send();
    if (static_cast<int64_t>(pending_output_bytes()) > max_pending_) {
        // As nats-server: no -ERR, the connection is closed; what is queued is dropped.
        dropped_at_close_ = out_.size();
        out_.clear();
        // A send stuck on a peer that does not read would keep the socket forever: abort it.
        if (socket_.send_in_flight()) socket_.shutdown();
        close({}, "Slow Consumer (Pending Bytes)",
              "Slow Consumer Detected: MaxPending of " + std::to_string(max_pending_) + " Exceeded");
        return false;
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Subscriber

Subscriber::Delivery ClientConn::deliver(Subscription& via, const MsgView& msg) {
    // A stand-in delivers for its parent, under the subject the imports map the message to.
    Subscription& sub = via.parent != nullptr ? *via.parent : via;
    if (sub.expired || closing_) return Delivery::kRefused;
    // The imports map the subject the message is routed on. A JetStream delivery, routed on
    // its deliver subject, still shows the stream subject unchanged, as nats-server's.
    std::string mapped;
    std::string_view routed = msg.subject;
    if (via.map != nullptr) {
        mapped = via.map->apply(msg.subject);
        routed = mapped;
    }
    std::string_view subject = msg.shown_subject.empty() ? routed : msg.shown_subject;
    if (!awaited_reply_.empty() && routed == awaited_reply_) awaited_reply_.clear();  // resume() reads on
    if (permissions_) {
        if (permissions_->delivery_denied(sub.subject, routed)) return Delivery::kRefused;
        permissions_->delivered(msg.reply);
    }
    std::string& out = this->out(subject.size() + sub.sid.size() + msg.reply.size() + msg.headers.size() +
                                 msg.payload.size() + kFrameSlack);
    if (!msg.has_headers) {
        proto::append_msg(out, subject, sub.sid, msg.reply, msg.payload, msg.total_size_text);
    } else if (options_.headers) {
        proto::append_hmsg(out, subject, sub.sid, msg.reply, msg.headers, msg.payload, msg.header_size_text,
                           msg.total_size_text);
    } else {
        // A subscriber without header support gets the payload alone.
        proto::append_msg(out, subject, sub.sid, msg.reply, msg.payload);
    }
    if (tracing_) {
        trace("->>", "MSG", std::string(subject) + " " + sub.sid + " " + std::to_string(msg.headers.size() + msg.payload.size()));
    }
    ++sub.delivered;
    ++traffic_.out_msgs;
    traffic_.out_bytes += msg.headers.size() + msg.payload.size();
    queued_output();
    if (sub.max_msgs == 0 || sub.delivered < sub.max_msgs) return Delivery::kDelivered;
    sub.expired = true;  // the parent too, when a stand-in took the last one (expired() removes it)
    return Delivery::kDeliveredLast;
}

bool ClientConn::accepts(const Subscription&, const Subscriber* origin) const {
    if (closing_) return false;
    return !(origin == this && !options_.echo);
}

void ClientConn::expired(Subscription& sub) {
    // Routing has removed `sub` itself; the rest of its family goes here.
    std::string sid = sub.sid;
    Subscription* parent = sub.parent;
    if (parent != nullptr) {
        host_->unsubscribe(*parent);
    }
    if (auto it = shadows_.find(sid); it != shadows_.end()) {
        for (auto& shadow : it->second) {
            if (shadow.get() != &sub) host_->unsubscribe(*shadow);
        }
        shadows_.erase(it);
    }
    subs_.erase(sid);
}

void ClientConn::add_shadows(Subscription& parent) {
    auto imports_of = [this](uint32_t account) -> const std::vector<ImportedStream>& { return host_->stream_imports(account); };
    for (ImportPath& path : import_paths(parent.account, parent.subject, imports_of)) {
        auto shadow = std::make_unique<Subscription>();
        shadow->owner = this;
        shadow->account = path.account;
        shadow->subject = std::move(path.pattern);
        // One group per importing account and name, apart from the exporter's own groups (a
        // space never appears in a queue name a client sends).
        if (!parent.queue.empty()) shadow->queue = std::to_string(parent.account) + " " + parent.queue;
        shadow->sid = parent.sid;
        shadow->parent = &parent;
        shadow->map = path.map;
        host_->subscribe(*shadow);
        shadows_[parent.sid].push_back(std::move(shadow));
    }
}

void ClientConn::refresh_shadows() {
    for (auto& [sid, shadows] : shadows_) {
        for (auto& shadow : shadows) host_->unsubscribe(*shadow);
    }
    shadows_.clear();
    if (closing_) return;
    for (auto& [sid, sub] : subs_) add_shadows(*sub);
}

void ClientConn::remove_subscription(const std::string& sid) {
    if (auto it = shadows_.find(sid); it != shadows_.end()) {
        for (auto& shadow : it->second) host_->unsubscribe(*shadow);
        shadows_.erase(it);
    }
    if (auto it = subs_.find(sid); it != subs_.end()) {
        host_->unsubscribe(*it->second);
        subs_.erase(it);
    }
}

std::chrono::steady_clock::duration ClientConn::backed_up_for() const {
    // nats-server's stall: from half of max_pending on, 100 ms plus 100 ms per further
    // twentieth of it; at max_pending (where a slow consumer is cut off), 1 s.
    using std::chrono::milliseconds;
    auto pending = static_cast<int64_t>(pending_output_bytes());
    int64_t max = max_pending_;
    if (pending <= max / 2 || closing_ || max <= 0) return {};
    if (pending >= max) return milliseconds(1000);
    int64_t steps = (pending - max / 2) / std::max<int64_t>(1, max / 20);
    return milliseconds(100) * (1 + steps);
}

// ---------------------------------------------------------------------------------------------
// Protocol

void ClientConn::on_data(std::string_view data) {
    last_read_ = Clock::now();
    proto::ParseStatus status = parser_.feed(data, *this);
    if (active_read_) {
        active_read_ = false;
        last_activity_ = last_read_;
    }
    switch (status) {
        case proto::ParseStatus::kOk:
        case proto::ParseStatus::kPaused:
        case proto::ParseStatus::kStopped:
            break;
        // As nats-server's readLoop: a parse error is an error line and a protocol violation.
        case proto::ParseStatus::kUnknownOp:
            error_line("Client parser ERROR: unknown protocol operation");
            close(proto::err::kUnknownProtocol, "Protocol Violation");
            break;
        case proto::ParseStatus::kBadArgs:
            error_line("Client parser ERROR: bad or missing arguments");
            close({}, "Protocol Violation");
            break;
        case proto::ParseStatus::kMaxControlLine:
            error_line(proto::err::kMaxControlLine);
            close(proto::err::kMaxControlLine, "Maximum Control Line Exceeded");
            break;
        case proto::ParseStatus::kMaxPayload:
            error_line("maximum payload exceeded");
            close(proto::err::kMaxPayload, "Maximum Message Payload Exceeded");
            break;
        case proto::ParseStatus::kAuthViolation:
            auth_violation();
            break;
    }
}

Flow ClientConn::pause() {
    paused_ = true;
    socket_.stop_recv();
    host_->retry_each_turn(*this);
    return Flow::kPause;
}

ClientConn::Auth ClientConn::check_auth() {
    if (auth_ == Auth::kPassed || auth_ == Auth::kFailed) return auth_;  // a verdict that came back
    const config::Options& server = host_->options();
    if (!server.users.empty()) return check_user(server);
    permissions_.reset();
    bool token = !server.token.empty();
    const std::string& secret = token ? server.token : server.password;
    const std::string& given = token ? options_.auth_token : options_.pass;
    if (!token && !auth::secrets_equal(options_.user, server.user)) return Auth::kFailed;
    if (!auth::is_bcrypt(secret)) return auth::secrets_equal(given, secret) ? Auth::kPassed : Auth::kFailed;
    auth_ = Auth::kVerifying;
    host_->verify_password(*this, secret, given);
    return auth_;
}

ClientConn::Auth ClientConn::check_user(const config::Options& server) {
    if (!options_.nkey.empty()) {
        // An nkey user proves it holds the key by signing the nonce INFO carried.
        auto user = std::find_if(server.users.begin(), server.users.end(),
                                 [this](const config::User& u) { return !u.nkey.empty() && u.nkey == options_.nkey; });
        if (user == server.users.end() || identity_.nonce.empty()) return Auth::kFailed;
        auto key = auth::decode_user_nkey(user->nkey);
        if (!key || !auth::signature_valid(*key, identity_.nonce, options_.sig)) return Auth::kFailed;
        named_user_ = true;
        return grant(*user);
    }
    // As nats-server: a client that sent no credentials at all is no_auth_user, if there is one.
    bool anonymous = options_.user.empty() && options_.pass.empty() && options_.auth_token.empty() &&
                     !server.no_auth_user.empty();
    const std::string& name = anonymous ? server.no_auth_user : options_.user;
    auto user = std::find_if(server.users.begin(), server.users.end(),
                             [&name](const config::User& u) { return u.nkey.empty() && u.user == name; });
    if (name.empty() || user == server.users.end()) return Auth::kFailed;
    named_user_ = true;
    if (anonymous) {
        // As nats-server: from here on the client is that user, by its name and password (named
        // so in logs and /connz, checked so again at a reload, closed if a reload removes it).
        options_.user = user->user;
        options_.pass = user->password;
        return grant(*user);
    }
    if (!auth::is_bcrypt(user->password)) {
        if (!auth::secrets_equal(options_.pass, user->password)) return Auth::kFailed;
        return grant(*user);
    }
    granting_ = *user;
    auth_ = Auth::kVerifying;
    host_->verify_password(*this, user->password, options_.pass);
    return auth_;
}

ClientConn::Auth ClientConn::grant(const config::User& user) {
    if (!user.connection_types.empty() &&
        std::find(user.connection_types.begin(), user.connection_types.end(), "STANDARD") == user.connection_types.end()) {
        return Auth::kFailed;  // a user for websocket, leaf node or MQTT connections only
    }
    uint32_t account = config::account_id(host_->options(), user.account);
    // A connection's subscriptions live in its account: one that a reload moved elsewhere is
    // refused (closed), as nats-server closes the clients of a changed account.
    if (account != account_ && !subs_.empty()) return Auth::kFailed;
    account_ = account;
    mapped_ = host_->has_mappings(account);
    apply_limits();
    permissions_.reset();
    if (user.permissions.has_value()) {
        permissions_ = std::make_unique<auth::ConnPermissions>(std::make_shared<auth::Permissions>(*user.permissions));
    }
    return Auth::kPassed;
}

std::string ClientConn::auth_user() const {
    if (!options_.nkey.empty()) return "Nkey " + go_quote(options_.nkey);
    return "User " + (options_.user.empty() ? std::string("\"N/A\"") : go_quote(options_.user));
}

void ClientConn::error_line(std::string_view text) const { log_error(log_prefix_ + std::string(text)); }

// nats-server's authViolation: the log names the nkey the client gave when the server has nkey
// users, else the user name it gave (empty or not) when it has users.
void ClientConn::auth_violation() {
    const std::vector<config::User>& users = host_->options().users;
    std::string line = "authentication error";
    if (std::ranges::any_of(users, [](const config::User& user) { return !user.nkey.empty(); })) {
        line += " - Nkey " + go_quote(options_.nkey);
    } else if (!users.empty()) {
        line += " - User " + go_quote(options_.user);
    }
    error_line(line);
    close(proto::err::kAuthorizationViolation, "Authentication Failure");
}

void ClientConn::permission_violation(std::string_view error, std::string_view log) {
    proto::append_err(out(error.size() + kFrameSlack), error);
    queued_output();
    log_error(log_prefix_ + std::string(log));
}

void ClientConn::on_password_verified(bool ok) {
    if (auth_ != Auth::kVerifying) return;
    auth_ = !ok ? Auth::kFailed : granting_ ? grant(*granting_) : Auth::kPassed;  // granting_: a users entry
    ok = auth_ == Auth::kPassed;
    granting_.reset();
    if (rechecking_) {
        rechecking_ = false;
        if (!ok) {
            auth_violation();
            return;
        }
        drop_disallowed_subscriptions();
        request_rearm();  // reading stopped while the check ran
        return;
    }
    resume();
}

void ClientConn::drop_disallowed_subscriptions() {
    if (!permissions_ || closing_) return;
    std::vector<std::string> gone;
    for (const auto& [sid, sub] : subs_) {
        bool plain = permissions_->may_subscribe(sub->subject, {});
        bool queued = !sub->queue.empty() && permissions_->may_subscribe(sub->subject, sub->queue);
        if (!plain && !queued) gone.push_back(sid);
    }
    for (const std::string& sid : gone) {
        std::string subject = subs_.at(sid)->subject;
        remove_subscription(sid);
        std::string error = "Permissions Violation for Subscription to " + go_quote(subject) + " (sid " + go_quote(sid) + ")";
        proto::append_err(out(error.size() + kFrameSlack), error);
        log_info("Removed sub " + go_quote(subject) + " (sid " + go_quote(sid) + ") for " + auth_user() + " - not authorized");
    }
    if (!gone.empty()) {
        interest_seq_needed_ = host_->interest_seq_sent();
        queued_output();
    }
}

void ClientConn::send_async_info(const std::string& info_line) {
    if (closing_ || !connect_received_ || options_.protocol < 1) return;
    out(info_line.size()).append(info_line);
    queued_output();
}

void ClientConn::apply_limits() {
    const config::Options& options = host_->options();
    int64_t max_payload = options.max_payload_bytes;
    max_subscriptions_ = options.max_subscriptions > 0 ? options.max_subscriptions : -1;  // the server's 0: none
    // nats-server's applyAccountLimits: the lower of the server's and the account's (whose 0
    // allows no subscription at all).
    if (const config::AccountLimits* limits = config::account_limits(options, account_)) {
        if (limits->max_payload >= 0) max_payload = std::min(max_payload, limits->max_payload);
        if (limits->max_subscriptions >= 0 &&
            (max_subscriptions_ < 0 || limits->max_subscriptions < max_subscriptions_)) {
            max_subscriptions_ = limits->max_subscriptions;
        }
    }
    max_payload_ = max_payload;
    parser_.set_max_payload(max_payload);
}

void ClientConn::options_reloaded(bool auth_changed) {
    const config::Options& options = host_->options();
    tracing_ = logger().trace_enabled();
    mapped_ = host_->has_mappings(account_);
    apply_limits();
    parser_.set_max_control_line(options.max_control_line_bytes);
    max_pending_ = options.max_pending_bytes;
    if (!auth_changed || closing_ || !connect_received_ || auth_ == Auth::kVerifying) return;
    // nats-server's clientHasMovedToDifferentAccount: a client logged in by name (or nkey)
    // whose user is gone or now belongs to another account is closed without an -ERR; it
    // reconnects into the right one (or is refused).
    if (named_user_) {
        auto user = std::find_if(options.users.begin(), options.users.end(), [this](const config::User& u) {
            return options_.nkey.empty() ? u.nkey.empty() && u.user == options_.user : u.nkey == options_.nkey;
        });
        if (user == options.users.end() || config::account_id(options, user->account) != account_) {
            close({}, "Client Closed");
            return;
        }
    }
    if (!host_->auth_required()) {
        auth_ = Auth::kPassed;
        return;
    }
    auth_ = Auth::kUnchecked;
    switch (check_auth()) {
        case Auth::kFailed:
            auth_violation();
            break;
        case Auth::kVerifying:
            rechecking_ = true;
            socket_.stop_recv();
            break;
        case Auth::kUnchecked:
        case Auth::kPassed:
            auth_ = Auth::kPassed;
            drop_disallowed_subscriptions();
            break;
    }
}

Flow ClientConn::on_connect(std::string_view json) {
    if (closing_) return Flow::kStop;
    bool again = auth_ == Auth::kPassed || auth_ == Auth::kFailed;  // taken up after a bcrypt check
    if (tracing_ && !again) trace("<<-", "CONNECT", json.find("pass") == std::string_view::npos ? json : "{...}");
    if (!proto::decode_connect(json, options_)) {
        error_line("invalid CONNECT: " + go_quote(json.substr(0, 64)));
        close({}, "Protocol Violation");
        return Flow::kStop;
    }
    options_.headers = options_.headers && !host_->options().no_header_support;  // both must support them
    if (!connect_received_) {
        // From here on the log names the client as nats-server's processConnect does:
        // `ip:port - cid:N - "v1.2.3:go:name" - ` (version, lang and name, those given).
        std::string names;
        for (const std::string* part : {&options_.version, &options_.lang, &options_.name}) {
            if (part->empty()) continue;
            if (!names.empty()) names.push_back(':');
            if (part == &options_.version) names.push_back('v');
            names.append(*part);
        }
        if (!names.empty()) log_prefix_ += go_quote(names) + " - ";
        // nats-server's processConnect: the round trip time is estimated from the accept, and
        // the first PING comes after at most 2 s (plus up to a fifth, at random), then one
        // every ping_interval.
        Clock::time_point now = Clock::now();
        last_activity_ = now;
        rtt_ = std::max<Clock::duration>(now - created_at_, std::chrono::nanoseconds(1));
        auto first = std::min<Clock::duration>(host_->options().ping_interval, std::chrono::seconds(2));
        next_ping_check_ = now + first + up_to(first / 5);
    }
    connect_received_ = true;
    if (host_->auth_required()) {
        switch (check_auth()) {
            case Auth::kVerifying:
                socket_.stop_recv();
                return Flow::kPause;  // the parser hands this CONNECT back once resumed
            case Auth::kFailed:
                auth_violation();
                return Flow::kStop;
            case Auth::kUnchecked:
            case Auth::kPassed:
                break;
        }
    }
    if (!options_.account.empty() || options_.new_account) {
        auth_violation();  // processConnect
        return Flow::kStop;
    }
    if (const config::AccountLimits* limits = config::account_limits(host_->options(), account_);
        !counted_in_ && limits != nullptr && limits->max_connections >= 0) {
        if (!host_->enter_account(account_)) {
            error_line(proto::err::kMaxAccountConnections);
            close(proto::err::kMaxAccountConnections, "Maximum Account Connections Exceeded");
            return Flow::kStop;
        }
        counted_in_ = account_;
    }
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
        out(proto::kOk.size()).append(proto::kOk);
        queued_output();
    }
    if (!announced_) {
        announced_ = true;
        host_->connected(*this);
    }
    return Flow::kContinue;
}

// nats-server lets in a client that skips CONNECT when there is a no_auth_user (a telnet
// demo): it is that user, with nats-server's default options (verbose, pedantic, echo), and
// without the +OK a verbose CONNECT would get.
bool ClientConn::on_op_before_connect() {
    if (host_->options().no_auth_user.empty()) return false;
    (void)on_connect(R"({"verbose":false})");
    options_.verbose = true;
    return true;
}

Flow ClientConn::on_pub(const proto::PubOp& op) {
    if (closing_) return Flow::kStop;
    if (move_wanted_) {
        if (!may_move()) {
            move_wanted_ = false;
        } else if (subs_.empty() || (out_.empty() && !socket_.send_in_flight())) {
            // This PUB waits in the parser and is taken up again on the target shard. (A
            // subscriber starts with nothing to send, at a PUB after a quiet moment.)
            move_wanted_ = false;
            moving_ = true;
            socket_.stop_recv();
            host_->move(*this, follow_target_);
            return Flow::kPause;
        }
    }
    if (host_->publish_held(*this)) return pause();  // retried each turn (the tick wakes the loop)
    active_read_ = true;  // nats-server counts a message as activity, refused or not
    if (tracing_ && !paused_) {
        trace("<<-", op.has_headers ? "HPUB" : "PUB",
              std::string(op.subject) + (op.reply.empty() ? "" : " ") + std::string(op.reply) + " " +
                  std::to_string(op.headers.size() + op.payload.size()));
        trace_payload(op.headers, op.payload);
    }
    // Frames for this publish are appended first (as nats-server orders them: a pedantic
    // -ERR, then +OK, then the message to ourselves); a pause takes them back.
    size_t out_before = out_.size();
    if (options_.pedantic && !proto::is_valid_literal_subject(op.subject)) {
        proto::append_err(out(proto::err::kInvalidPublishSubject.size() + kFrameSlack), proto::err::kInvalidPublishSubject);
    }
    // The account's subject mappings route the message on another subject, or drop it. As in
    // nats-server, the permissions apply to the subject it goes on.
    std::string mapped;
    std::string_view subject = mapped_ ? host_->map_subject(account_, op.subject, mapped) : op.subject;
    std::string_view checked = subject.empty() ? op.subject : subject;
    // A violation is counted as received, then dropped; the connection stays (nats-server).
    auto violation = [&](const std::string& error, const std::string& log) {
        ++traffic_.in_msgs;
        traffic_.in_bytes += op.headers.size() + op.payload.size();
        permission_violation(error, log);
        return Flow::kContinue;
    };
    if (permissions_ && !permissions_->may_publish(checked)) {
        return violation("Permissions Violation for Publish to " + go_quote(checked),
                         "Publish Violation - " + auth_user() + ", Subject " + go_quote(checked));
    }
    // Replies the server itself makes (service imports' "_R_.", JetStream acks, gateway
    // replies) are not a client's to give.
    if (proto::is_reserved_reply(op.reply)) {
        return violation("Permissions Violation for Publish with Reply of " + go_quote(op.reply),
                         "Publish Violation - " + auth_user() + ", Reply " + go_quote(op.reply));
    }
    if (options_.verbose) out(proto::kOk.size()).append(proto::kOk);
    if (subject.empty()) {
        ++traffic_.in_msgs;
        traffic_.in_bytes += op.headers.size() + op.payload.size();
        if (out_.size() != out_before) queued_output();
        return Flow::kContinue;
    }
    MsgView msg{subject, op.reply, op.headers, op.payload, op.has_headers, {}, {}};
    msg.account = account_;
    // Digits with leading zeros are echoed as sent (nats-server copies them); canonical ones
    // are re-encoded, which keeps them out of ring records.
    auto odd = [](std::string_view digits) { return digits.size() > 1 && digits[0] == '0'; };
    if (odd(op.total_size_text) || odd(op.header_size_text)) {
        msg.total_size_text = op.total_size_text;
        if (op.has_headers) msg.header_size_text = op.header_size_text;
    }
    Routed outcome = host_->publish(msg, *this);
    if (outcome == Routed::kFull) {
        out_.truncate(out_before);
        return pause();
    }
    ++traffic_.in_msgs;
    traffic_.in_bytes += op.headers.size() + op.payload.size();
    if (std::optional<uint32_t> target = host_->sole_target()) {
        if (*target != follow_target_ || follow_count_ == 0) {
            follow_target_ = *target;
            follow_count_ = 0;
            follow_requests_ = true;
            follow_out_msgs_ = traffic_.out_msgs;
        }
        follow_requests_ = follow_requests_ && !op.reply.empty();
        if (++follow_count_ >= kFollowAfter) move_wanted_ = true;
    } else {
        follow_count_ = 0;
        move_wanted_ = false;
    }
    if (outcome == Routed::kNoInterest && !op.reply.empty() && options_.no_responders) {
        if (const Subscription* sub = host_->find_plain(op.reply, *this)) {
            proto::append_hmsg(out(op.reply.size() + sub->sid.size() + proto::kNoRespondersHeaders.size() + kFrameSlack),
                               op.reply, sub->sid, {}, proto::kNoRespondersHeaders, {});
        }
    }
    if (out_.size() != out_before) queued_output();
    if (closing_) return Flow::kStop;
    if (outcome != Routed::kNoInterest && !op.reply.empty() && changes_jetstream(subject)) {
        awaited_reply_.assign(op.reply);
        awaited_until_ = Clock::now() + kJetStreamWait;
        waiting_for_interest_ = true;
        host_->wait_for_interest(*this);
        socket_.stop_recv();
        return Flow::kPauseAfter;
    }
    return Flow::kContinue;
}

bool ClientConn::changes_jetstream(std::string_view subject) {
    constexpr std::string_view kApi = "$JS.API.";
    if (!subject.starts_with(kApi)) return false;
    subject.remove_prefix(kApi.size());
    for (std::string_view op : {"STREAM.CREATE.", "STREAM.UPDATE.", "STREAM.DELETE.", "STREAM.PURGE.",
                                "STREAM.MSG.DELETE.", "CONSUMER.CREATE.", "CONSUMER.DURABLE.CREATE.",
                                "CONSUMER.DELETE."}) {
        if (subject.starts_with(op)) return true;
    }
    return false;
}

Flow ClientConn::on_sub(const proto::SubOp& op) {
    if (closing_) return Flow::kStop;
    if (host_->interest_backlog_full()) return pause();
    active_read_ = true;
    if (tracing_) {
        trace("<<-", "SUB",
              std::string(op.subject) + " " + std::string(op.queue) + (op.queue.empty() ? "" : " ") +
                  std::string(op.sid));
    }
    // As nats-server's processSub: not the system queue group either.
    if ((permissions_ && !permissions_->may_subscribe(op.subject, op.queue)) || op.queue == proto::js::kSystemQueueGroup) {
        std::string error = "Permissions Violation for Subscription to " + go_quote(op.subject);
        std::string log = "Subscription Violation - " + auth_user() + ", Subject " +
                          go_quote(op.subject);
        if (!op.queue.empty()) {
            error += " using queue " + go_quote(op.queue);
            log += ", Queue: " + go_quote(op.queue);
        }
        permission_violation(error, log + ", SID " + std::string(op.sid));
        return Flow::kContinue;
    }
    if (int32_t max_tokens = host_->options().max_sub_tokens;
        max_tokens > 0 && std::count(op.subject.begin(), op.subject.end(), '.') + 1 > max_tokens) {
        permission_violation("Permissions Violation for Subscription to " + go_quote(op.subject) + ", too many tokens",
                             "Subscription Violation Too Many Tokens - " + auth_user() + ", Subject " +
                                 go_quote(op.subject) + ", SID " + std::string(op.sid));
        return Flow::kContinue;
    }
    if (max_subscriptions_ >= 0 && static_cast<int64_t>(subs_.size()) >= max_subscriptions_) {
        // Logged once per connection (nats-server holds it to one line per account at a time).
        if (!max_subs_logged_) error_line(proto::err::kMaxSubscriptions);
        max_subs_logged_ = true;
        proto::append_err(out(proto::err::kMaxSubscriptions.size() + kFrameSlack), proto::err::kMaxSubscriptions);
        queued_output();
        return Flow::kContinue;
    }
    // As nats-server: a sid in use keeps its subscription, whatever this SUB says (+OK).
    auto [it, inserted] = subs_.try_emplace(std::string(op.sid));
    if (inserted) {
        // Interest records carry 16-bit lengths; only a raised max_control_line reaches this.
        if (!proto::is_valid_subject(op.subject) || op.subject.size() > 0xffff || op.queue.size() > 0xffff) {
            subs_.erase(it);
            proto::append_err(out(proto::err::kInvalidSubject.size() + kFrameSlack), proto::err::kInvalidSubject);
            queued_output();
            return Flow::kContinue;
        }
        it->second = std::make_unique<Subscription>();
        Subscription& sub = *it->second;
        sub.owner = this;
        sub.account = account_;
        sub.subject = op.subject;
        sub.queue = op.queue;
        sub.sid = op.sid;
        host_->subscribe(sub);
        add_shadows(sub);
        interest_seq_needed_ = host_->interest_seq_sent();
    }
    if (options_.verbose) {
        out(proto::kOk.size()).append(proto::kOk);
        queued_output();
    }
    return Flow::kContinue;
}

Flow ClientConn::on_unsub(const proto::UnsubOp& op) {
    if (closing_) return Flow::kStop;
    if (host_->interest_backlog_full()) return pause();
    active_read_ = true;
    if (tracing_) {
        trace("<<-", "UNSUB", std::string(op.sid) + (op.max_msgs > 0 ? " " + std::to_string(op.max_msgs) : ""));
    }
    auto it = subs_.find(op.sid);
    if (it != subs_.end()) {
        Subscription& sub = *it->second;
        if (op.max_msgs > 0 && op.max_msgs > sub.delivered) {
            sub.max_msgs = op.max_msgs;
        } else {
            remove_subscription(std::string(op.sid));
            interest_seq_needed_ = host_->interest_seq_sent();
        }
    }
    if (options_.verbose) {
        out(proto::kOk.size()).append(proto::kOk);
        queued_output();
    }
    return Flow::kContinue;
}

Flow ClientConn::on_ping() {
    if (closing_) return Flow::kStop;
    // "flush returned" must mean "my subscriptions are visible on every shard". Until then
    // the connection is not read either, so what it sends meanwhile stays in the socket.
    if (!host_->interest_applied(interest_seq_needed_)) {
        waiting_for_interest_ = true;
        host_->wait_for_interest(*this);
        socket_.stop_recv();
        return Flow::kPause;
    }
    last_ping_received_ = Clock::now();
    if (tracing_) {
        trace("<<-", "PING", {});
        trace("->>", "PONG", {});
    }
    out(proto::kPong.size()).append(proto::kPong);
    // As nats-server: with the first PONG (clients flush after CONNECT), a client that takes
    // async INFO learns a max_payload its account lowered.
    if (!first_pong_sent_ && connect_received_) {
        first_pong_sent_ = true;
        if (options_.protocol >= 1 && max_payload_ != host_->options().max_payload_bytes) {
            std::string info = host_->info_line(*this, max_payload_);
            out(info.size()).append(info);
        }
    }
    queued_output();
    return closing_ ? Flow::kStop : Flow::kContinue;
}

Flow ClientConn::on_pong() {
    if (tracing_) trace("<<-", "PONG", {});
    pings_out_ = 0;
    if (ping_sent_at_ != Clock::time_point{}) {
        rtt_ = Clock::now() - ping_sent_at_;
        ping_sent_at_ = {};
    }
    return Flow::kContinue;
}

Flow ClientConn::on_client_error(std::string_view text) {
    close({}, std::string("Client Error ") + std::string(text));
    return Flow::kStop;
}

}  // namespace ringtail::core
