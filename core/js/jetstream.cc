#include "core/js/jetstream.h"

#include <chrono>
#include <cstring>
#include <utility>

#include "base/clock.h"
#include "core/js/consumer.h"
#include "core/js/random.h"
#include "core/js/request_body.h"
#include "core/js/stream.h"
#include "core/js/stream_requests.h"
#include "core/server/log.h"
#include "proto/subject.h"

namespace ringtail::core::js {
namespace {

namespace pjs = proto::js;
using nlohmann::json;

constexpr std::string_view kApiPrefix = "$JS.API.";
constexpr std::string_view kDirectGetPrefix = "$JS.API.DIRECT.GET.";
constexpr std::string_view kPullPrefix = "$JS.API.CONSUMER.MSG.NEXT.";
constexpr std::string_view kAccountInfoType = pjs::kAccountInfoResponse;
constexpr std::string_view kCreateType = pjs::kStreamCreateResponse;
constexpr std::string_view kUpdateType = pjs::kStreamUpdateResponse;
constexpr std::string_view kDeleteType = pjs::kStreamDeleteResponse;
constexpr std::string_view kInfoType = pjs::kStreamInfoResponse;
constexpr std::string_view kNamesType = pjs::kStreamNamesResponse;
constexpr std::string_view kListType = pjs::kStreamListResponse;
constexpr std::string_view kPurgeType = pjs::kStreamPurgeResponse;
constexpr std::string_view kMsgGetType = pjs::kStreamMsgGetResponse;
constexpr std::string_view kMsgDeleteType = pjs::kStreamMsgDeleteResponse;
constexpr std::string_view kConsumerCreateType = pjs::kConsumerCreateResponse;

constexpr size_t kNamesLimit = 1024;
constexpr size_t kListLimit = 256;
constexpr auto kExpiryInterval = std::chrono::milliseconds(100);

// An owner's reports to shard 0, as JetStream records (never routed: only the JetStream of
// the shard they are sent to reads them). The payload starts with the stream's name and a
// newline.
constexpr std::string_view kReportOpened = "report.opened";   // the stream is open
constexpr std::string_view kReportFailed = "report.failed";   // it could not be created
constexpr std::string_view kReportDeleted = "report.deleted"; // a delete forwarded to it is done
constexpr std::string_view kReportUnavailable = "report.unavailable";  // restored, but could not open
constexpr std::string_view kReportConfig = "report.config";   // an update failed: the config it keeps (JSON)
constexpr std::string_view kReportState = "report.state";     // StateReport
constexpr std::string_view kReportOrigins = "report.origins"; // StreamEntry::origins
// Starts the headers of a request forwarded to its owner: the client's request follows.
constexpr std::string_view kAuditMark = "audit:";

struct StateReport {
    store::StoreState state;
    char first_ts[48];  // RFC 3339, NUL-terminated
    int64_t last_ts_ns;
    uint64_t consumers;
    uint64_t public_consumers;
};

// A stream subscribes its subjects, and interest records carry 16-bit lengths (a client's SUB
// is bounded by max_control_line anyway).
std::optional<std::string> too_long_subject(const std::vector<std::string>& subjects) {
    for (const std::string& subject : subjects) {
        if (subject.size() > 0xffff) return "subject longer than 65535 bytes";
    }
    return std::nullopt;
}

// The config shard 0 decided, as the owner receives it: the same JSON meta.json keeps, read
// back the way a restart reads it.
std::expected<pjs::StreamConfig, pjs::ApiError> decided_config(const json& config) {
    auto parsed = pjs::parse_stream_config(config.dump());
    if (!parsed) return parsed;
    pjs::StreamCheckOptions options;
    options.recovering = true;
    options.allow_replicas = true;
    return pjs::check_stream_config(std::move(*parsed), options);
}

// "STREAM.INFO.ORDERS" → op "STREAM.INFO", name "ORDERS", rest "". The consumer requests
// leave what follows the stream name in rest. Direct gets and pull requests are no API
// requests: the streams' and consumers' own subscriptions take them, as nats-server's do.
struct ApiSubject {
    std::string_view op;
    std::string_view name;
    std::string_view rest;
};

std::optional<ApiSubject> split_api(std::string_view api) {
    // What may follow the stream name, as nats-server's API subscriptions allow it.
    enum class Rest : uint8_t { kNone, kOneToken, kAny };
    struct Op {
        std::string_view name;
        Rest rest;
    };
    static constexpr Op kOps[] = {
        {"STREAM.CREATE", Rest::kNone},          {"STREAM.UPDATE", Rest::kNone},
        {"STREAM.DELETE", Rest::kNone},          {"STREAM.INFO", Rest::kNone},
        {"STREAM.PURGE", Rest::kNone},           {"STREAM.MSG.GET", Rest::kNone},
        {"STREAM.MSG.DELETE", Rest::kNone},
        {"CONSUMER.DURABLE.CREATE", Rest::kOneToken}, {"CONSUMER.CREATE", Rest::kAny},
        {"CONSUMER.INFO", Rest::kOneToken},      {"CONSUMER.DELETE", Rest::kOneToken},
        {"CONSUMER.NAMES", Rest::kNone},         {"CONSUMER.LIST", Rest::kNone},
        {"CONSUMER.PAUSE", Rest::kOneToken},     {"CONSUMER.LEADER.STEPDOWN", Rest::kOneToken},
        {"STREAM.SNAPSHOT", Rest::kNone},        {"STREAM.RESTORE", Rest::kNone},
        {"STREAM.LEADER.STEPDOWN", Rest::kNone}, {"STREAM.PEER.REMOVE", Rest::kNone},
        {"STREAM.TEMPLATE.CREATE", Rest::kNone}, {"STREAM.TEMPLATE.INFO", Rest::kNone},
        {"STREAM.TEMPLATE.DELETE", Rest::kNone},
    };
    for (const Op& op : kOps) {
        if (api.size() <= op.name.size() + 1 || !api.starts_with(op.name) || api[op.name.size()] != '.') continue;
        std::string_view tail = api.substr(op.name.size() + 1);
        size_t dot = tail.find('.');
        std::string_view name = tail.substr(0, dot);
        std::string_view rest = dot == std::string_view::npos ? std::string_view{} : tail.substr(dot + 1);
        if (op.rest == Rest::kNone && !rest.empty()) return std::nullopt;
        if (op.rest == Rest::kOneToken && (rest.empty() || rest.find('.') != std::string_view::npos)) {
            return std::nullopt;
        }
        return ApiSubject{op.name, name, rest};
    }
    return std::nullopt;
}

std::string_view type_of(std::string_view op) {
    if (op == "CONSUMER.CREATE" || op == "CONSUMER.DURABLE.CREATE") return pjs::kConsumerCreateResponse;
    if (op == "CONSUMER.INFO") return pjs::kConsumerInfoResponse;
    if (op == "CONSUMER.DELETE") return pjs::kConsumerDeleteResponse;
    if (op == "CONSUMER.NAMES") return pjs::kConsumerNamesResponse;
    if (op == "CONSUMER.LIST") return pjs::kConsumerListResponse;
    if (op == "CONSUMER.PAUSE") return "io.nats.jetstream.api.v1.consumer_pause_response";
    if (op == "CONSUMER.LEADER.STEPDOWN") return pjs::kConsumerLeaderStepdownResponse;
    if (op == "STREAM.CREATE") return kCreateType;
    if (op == "STREAM.UPDATE") return kUpdateType;
    if (op == "STREAM.DELETE") return kDeleteType;
    if (op == "STREAM.PURGE") return kPurgeType;
    if (op == "STREAM.MSG.GET") return kMsgGetType;
    if (op == "STREAM.MSG.DELETE") return kMsgDeleteType;
    if (op == "STREAM.SNAPSHOT") return pjs::kStreamSnapshotResponse;
    if (op == "STREAM.RESTORE") return pjs::kStreamRestoreResponse;
    if (op == "STREAM.LEADER.STEPDOWN") return "io.nats.jetstream.api.v1.stream_leader_stepdown_response";
    if (op == "STREAM.PEER.REMOVE") return "io.nats.jetstream.api.v1.stream_remove_peer_response";
    if (op == "STREAM.TEMPLATE.CREATE") return "io.nats.jetstream.api.v1.stream_template_create_response";
    if (op == "STREAM.TEMPLATE.INFO") return "io.nats.jetstream.api.v1.stream_template_info_response";
    if (op == "STREAM.TEMPLATE.DELETE") return "io.nats.jetstream.api.v1.stream_template_delete_response";
    return kInfoType;
}

}  // namespace

JetStream::JetStream(Host& host, store::Disk& file_disk, ShardSetup setup)
    : host_(host), file_disk_(file_disk), setup_(std::move(setup)), expiry_([this] { on_tick(); }) {}

void JetStream::push_consumer_added(Consumer& consumer) {
    if (push_consumers_.empty()) host_.watch_interest(true);
    push_consumers_.emplace(consumer.config().deliver_subject, &consumer);
}

void JetStream::push_consumer_removed(Consumer& consumer) {
    auto [first, last] = push_consumers_.equal_range(consumer.config().deliver_subject);
    for (auto it = first; it != last; ++it) {
        if (it->second == &consumer) {
            push_consumers_.erase(it);
            break;
        }
    }
    if (push_consumers_.empty()) host_.watch_interest(false);
}

JetStream::~JetStream() {
    streams_.clear();
    if (api_sub_) host_.unsubscribe(*api_sub_);
}

bool JetStream::over_account_limit(pjs::Storage storage, uint64_t adding) const {
    bool memory = storage == pjs::Storage::kMemory;
    const config::AccountJetStream& limits = setup_.limits;
    int64_t stream_max = memory ? limits.memory_max_stream_bytes : limits.store_max_stream_bytes;
    int64_t account_max = memory ? limits.max_memory : limits.max_store;
    if (stream_max <= 0 && account_max < 0) return false;
    int64_t used = (memory ? setup_.counters->memory_bytes() : setup_.counters->file_bytes()) +
                   static_cast<int64_t>(adding);
    return (stream_max > 0 && used > stream_max) || (account_max >= 0 && used > account_max);
}

bool JetStream::over_store_limit(pjs::Storage storage) const {
    bool memory = storage == pjs::Storage::kMemory;
    int64_t max = memory ? setup_.options->max_memory_store_bytes : setup_.options->max_file_store_bytes;
    if (max < 0) return false;
    int64_t everyone = 0;
    for (const Counters* account : setup_.every_account) {
        everyone += memory ? account->memory_bytes() : account->file_bytes();
    }
    return everyone > max;
}

const pjs::StreamConfig* JetStream::catalogued_config(std::string_view name) const {
    auto it = setup_.catalogue->streams.find(std::string(name));
    return it == setup_.catalogue->streams.end() ? nullptr : &it->second.config;
}

pjs::StreamCheckOptions JetStream::check_options_for_account() const {
    pjs::StreamCheckOptions options;
    // A mirror's or source's origin is looked up in the catalogue, on create and on update
    // alike (a mirror's mirror_direct follows its origin's allow_direct).
    options.find_stream = [this](std::string_view name) { return catalogued_config(name); };
    options.max_bytes_required = setup_.limits.max_bytes_required;
    options.memory_max_stream_bytes = std::max<int64_t>(setup_.limits.memory_max_stream_bytes, 0);
    options.storage_max_stream_bytes = std::max<int64_t>(setup_.limits.store_max_stream_bytes, 0);
    options.duplicate_window_max_ns = std::max<int64_t>(setup_.options->jetstream_limits.duplicate_window.count(), 0);
    return options;
}

std::optional<pjs::ApiError> JetStream::over_limits(const pjs::StreamConfig& config,
                                                    const pjs::StreamConfig* before) const {
    const config::AccountJetStream& limits = setup_.limits;
    const auto& streams = setup_.catalogue->streams;
    if (before == nullptr && limits.max_streams > 0 && static_cast<int64_t>(streams.size()) >= limits.max_streams) {
        return pjs::MaximumStreamsLimit();
    }
    if (config.max_consumers > 0 && limits.max_consumers > 0 && config.max_consumers > limits.max_consumers) {
        return pjs::MaximumConsumersLimit();
    }
    // What the account's other streams of this storage reserve with their max_bytes.
    bool memory = config.storage == pjs::Storage::kMemory;
    int64_t reserved = 0;
    for (const auto& [name, entry] : streams) {
        if (name != config.name && entry.config.storage == config.storage && entry.config.max_bytes > 0) {
            reserved += entry.config.max_bytes;
        }
    }
    // An update reserves only what it adds to the stream's own reservation.
    int64_t adds = config.max_bytes > 0 ? config.max_bytes : 1;
    if (before != nullptr) {
        reserved += before->max_bytes;  // as nats-server adds it, -1 included
        adds = std::max<int64_t>(config.max_bytes - before->max_bytes, 0);
    }
    auto exceeded = [memory] { return memory ? pjs::MemoryResourcesExceeded() : pjs::StorageResourcesExceeded(); };
    int64_t account_max = memory ? limits.max_memory : limits.max_store;
    if (account_max >= 0 && reserved + adds > account_max) return exceeded();
    // The server's: what every account's streams reserve, this one's included (as nats-server
    // counts, a create of a name that exists adds to what the stream holds).
    int64_t everyone = 0;
    for (const Counters* account : setup_.every_account) {
        everyone += (memory ? account->reserved_memory : account->reserved_store).load(std::memory_order_relaxed);
    }
    if (everyone + adds > (memory ? setup_.server_max_memory : setup_.server_max_store)) return exceeded();
    return std::nullopt;
}

void JetStream::count_reservations() {
    int64_t memory = 0;
    int64_t store = 0;
    for (const auto& [name, entry] : setup_.catalogue->streams) {
        if (entry.config.max_bytes <= 0) continue;
        (entry.config.storage == pjs::Storage::kMemory ? memory : store) += entry.config.max_bytes;
    }
    setup_.counters->reserved_memory.store(memory, std::memory_order_relaxed);
    setup_.counters->reserved_store.store(store, std::memory_order_relaxed);
}

Result<void, Error> JetStream::start() {
    for (RestoredStream& restored : setup_.owned) {
        auto stream = Stream::open(*this, restored.config, restored.created_ns, false);
        if (!stream) {
            // One damaged stream must not keep the server (and every other stream) down: it is
            // set aside, its files untouched, and requests for it answer "stream is offline".
            log_error("Stream '" + restored.config.name + "' is unavailable, its files are kept as they are: " +
                      stream.error().text);
            report(kReportUnavailable, restored.config.name, stream.error().text);
            continue;
        }
        // What max_age or a message TTL removed before the stop, or while the server was down,
        // is gone before anyone can read the stream (nats-server expires at load too).
        (*stream)->expire(base::wall_clock_ns());
        (*stream)->publish_state();
        (*stream)->report_origins();
        log_info("  Restored stream '" + restored.config.name + "' on shard " + std::to_string(host_.shard_index()));
        streams_.emplace(restored.config.name, std::move(*stream));
    }
    setup_.owned.clear();
    if (host_.shard_index() == 0) {
        RT_ASSERT(setup_.catalogue != nullptr);
        if (setup_.enabled) count_reservations();
        api_sub_ = std::make_unique<Subscription>();
        api_sub_->owner = this;
        api_sub_->subject = "$JS.API.>";
        api_sub_->sid = "js:api";
        host_.subscribe(*api_sub_);
    }
    next_tick_ = io::Clock::now() + kExpiryInterval;
    host_.loop().schedule(expiry_, next_tick_);
    return {};
}

void JetStream::send(const OutMsg& msg, uint64_t interest_seq) {
    if (interest_seq > 0 && !host_.interest_applied(interest_seq)) {
        held_.push_back({std::string(msg.subject), std::string(msg.headers), std::string(msg.payload), interest_seq,
                         std::string(msg.reply), std::string(msg.shown_subject)});
    } else {
        outbox_.push(0, {msg.subject, msg.shown_subject, msg.reply, msg.headers, msg.payload});
    }
}

void JetStream::send_event(const std::string& subject, std::string_view type, const nlohmann::ordered_json& fields) {
    if (!host_.has_interest(subject)) return;
    nlohmann::ordered_json event = {{"type", type}, {"id", random_token(22)}, {"timestamp", pjs::rfc3339(base::wall_clock_ns())}};
    for (const auto& [key, value] : fields.items()) event[key] = value;
    if (!setup_.domain.empty()) event["domain"] = setup_.domain;  // as every advisory of nats-server's
    send(subject, {}, pjs::go_marshal(event));
}

// nats-server's stream_action advisories, sent before the API's answer as there.
void JetStream::send_stream_advisory(std::string_view name, std::string_view event, std::string_view action) {
    send_event("$JS.EVENT.ADVISORY.STREAM." + std::string(event) + "." + std::string(name),
               "io.nats.jetstream.advisory.v1.stream_action", {{"stream", name}, {"action", action}});
}

void JetStream::activate(Stream& stream) {
    stream.woken_ = true;
    active_.push_back(&stream);
}

void JetStream::take_active() {
    for (Stream* stream : active_) {
        stream->woken_ = false;
        if (!stream->in_turn_) {
            stream->in_turn_ = true;
            turn_.push_back(stream);
        }
    }
    active_.clear();
}

void JetStream::pump_consumers() {
    // Consumers that still have work after their budget are listed again: the shard then
    // turns again without waiting (busy()).
    pumping_.swap(ready_);
    for (Consumer* consumer : pumping_) {
        if (consumer->pump(kConsumerBudget)) consumer->signal();
    }
    pumping_.clear();
}

void JetStream::figures(const monitor::Query& query, monitor::ShardFigures& out) const {
    for (const auto& [name, stream] : streams_) {
        monitor::StreamFigures& figures = out.streams.emplace_back();
        figures.account = setup_.account_name;
        stream->figures(query, figures);
    }
}

void JetStream::run_turn() {
    // With more than two shards, a client's request can come in on one ring before a stream's
    // report on another that the client has already seen the effect of (its PubAck, say): read
    // the rings once more, so the catalogue is at least as new as what the client saw.
    if (!requests_.empty() && host_.shard_count() > 2) host_.drain_inbound();
    while (!requests_.empty()) {
        Request request = std::move(requests_.front());
        requests_.pop_front();
        MsgView msg;
        msg.subject = request.subject;
        msg.reply = request.reply;
        msg.headers = request.headers;
        msg.payload = request.payload;
        msg.has_headers = !request.headers.empty();
        msg.from_shard = request.from_shard;
        AuditedRequest audited{msg.subject, msg.payload};
        audited_ = &audited;
        handle_api(msg);
        audited_ = nullptr;
        if (setup_.enabled) count_reservations();
    }
    // Appends go out first, then consumers deliver what is durable (a memory stream's write
    // completes in the poll), then what the deliveries and acks wrote goes out too. Only the
    // streams woken since the last turn, or with work left from it, take part.
    take_active();
    for (Stream* stream : turn_) stream->flush();
    memory_disk_.poll();
    if (uint64_t changes = host_.interest_changes(); changes != interest_changes_seen_) {
        interest_changes_seen_ = changes;
        bool lost = host_.interest_losses() != interest_losses_seen_;
        interest_losses_seen_ = host_.interest_losses();
        for (auto& [name, stream] : streams_) stream->interest_changed();
        // A push consumer looks again when its deliver subject's interest changed: one without
        // a subscriber whenever some came, one with a subscriber whenever some went.
        if (host_.take_interest_changes(interest_changed_)) {
            for (const auto& [subject, went] : interest_changed_) {
                auto [first, last] = push_consumers_.equal_range(subject);
                for (auto it = first; it != last; ++it) it->second->interest_changed(went);
            }
        } else {
            for (auto& [subject, consumer] : push_consumers_) consumer->interest_changed(lost);
        }
    }
    pump_consumers();
    take_active();
    for (Stream* stream : turn_) stream->flush();
    memory_disk_.poll();
    take_active();
    for (Stream* stream : turn_) stream->publish_state();
    for (Stream* stream : turn_) {
        stream->in_turn_ = false;
        if (stream->has_work()) stream->wake();
    }
    turn_.clear();
    // A reply must not reach a client before the report it depends on reaches the catalogue
    // (a create's "opened", the state a PubAck implies): while reports to shard 0 wait for
    // ring room, replies wait too. Reports still in the ring are read by shard 0 before it
    // answers (the second drain above).
    if (host_.shard_index() != 0 && host_.records_waiting(0)) return;
    if (!held_.empty()) {
        std::erase_if(held_, [&](Outgoing& out) {
            if (!host_.interest_applied(out.interest_seq)) return false;
            outbox_.push(0, {out.subject, out.shown_subject, out.reply, out.headers, out.payload});
            return true;
        });
    }
    // Published from sending_, never from outbox_: a publish can make an internal subscriber
    // send() at once, which must not move the bytes being published.
    while (!sending_.empty() || !outbox_.empty()) {
        if (sending_.empty()) std::swap(sending_, outbox_);
        const auto parts = sending_.front().parts;
        MsgView msg;
        msg.subject = parts[0];
        msg.shown_subject = parts[1];
        msg.reply = parts[2];
        msg.headers = parts[3];
        msg.payload = parts[4];
        msg.has_headers = !msg.headers.empty();
        if (!host_.publish(msg)) break;  // a ring is full: the rest go next turn
        sending_.pop();
    }
}

void JetStream::release_waiting_at_shutdown() {
    for (auto& [name, stream] : streams_) stream->release_waiting_at_shutdown();
}

void JetStream::checkpoint() {
    for (auto& [name, stream] : streams_) stream->checkpoint();
}

void JetStream::tick_by(io::Clock::time_point deadline) {
    if (deadline >= next_tick_) return;
    next_tick_ = deadline;
    host_.loop().schedule(expiry_, next_tick_);
}

void JetStream::on_tick() {
    next_tick_ = io::Clock::now() + kExpiryInterval;
    host_.loop().schedule(expiry_, next_tick_);
    int64_t now = base::wall_clock_ns();
    for (auto& [name, stream] : streams_) {
        stream->expire(now);
        stream->tick_consumers();
        stream->maintain_log();
        if (stream->has_work()) stream->wake();
    }
}

// ---------------------------------------------------------------------------------------------
// Shard 0: the API

void JetStream::api_reply(std::string_view reply, std::string_view body, uint64_t interest_seq) {
    if (setup_.counters != nullptr) counters().api_total.fetch_add(1, std::memory_order_relaxed);
    if (!reply.empty()) send(reply, {}, body, interest_seq);
    audit(body);
}

void JetStream::api_error(std::string_view reply, std::string_view type, const pjs::ApiError& error) {
    if (setup_.counters != nullptr) {
        counters().api_total.fetch_add(1, std::memory_order_relaxed);
        counters().api_errors.fetch_add(1, std::memory_order_relaxed);
    }
    std::string body = pjs::error_response(type, error);
    if (!reply.empty()) send(reply, {}, body);
    audit(body);
}

void JetStream::audit(std::string_view response) {
    static const std::string kSubject = "$JS.EVENT.ADVISORY.API";
    if (audited_ == nullptr || !host_.has_interest(kSubject)) return;
    // The client as nats-server's service import describes it: its account and this server
    // (no rtt: the owner of a stream does not know the requester's).
    const std::string& server = setup_.options->server_name;
    nlohmann::ordered_json fields = {{"server", server},
                                     {"client", {{"acc", account_name()}, {"server", server}}},
                                     {"subject", audited_->subject}};
    if (!audited_->payload.empty()) fields["request"] = audited_->payload;
    fields["response"] = response;
    send_event(kSubject, "io.nats.jetstream.advisory.v1.api_audit", fields);
}

Subscriber::Delivery JetStream::deliver(Subscription&, const MsgView& msg) {
    // Direct gets and pull requests match $JS.API.> too; their own subscriptions take them.
    if (msg.subject.starts_with(kDirectGetPrefix) || msg.subject.starts_with(kPullPrefix)) return Delivery::kDelivered;
    // Inside a delivery: answering may create subscriptions, so it waits for run_turn().
    requests_.push_back({std::string(msg.subject), std::string(msg.reply), std::string(msg.headers),
                         std::string(msg.payload), msg.from_shard});
    return Delivery::kDelivered;
}

void JetStream::on_js_record(const MsgView& msg) {
    if (msg.subject.starts_with(kApiPrefix)) {
        on_forward(msg);
    } else {
        on_report(msg);
        // Only these change what the catalogue's streams reserve (state reports come each turn
        // a stream changes, and need no recount).
        if (msg.subject == kReportFailed || msg.subject == kReportConfig) count_reservations();
    }
}

void JetStream::handle_api(const MsgView& msg) {
    if (!msg.subject.starts_with(kApiPrefix)) return;
    std::string_view api = msg.subject.substr(kApiPrefix.size());
    if (!setup_.enabled) {
        answer_not_enabled(api, msg.reply);
        return;
    }
    if (api == "INFO") {
        api_account_info(msg.reply);
        return;
    }
    if (api == "STREAM.NAMES" || api == "STREAM.LIST") {
        api_names(msg, api == "STREAM.LIST");
        return;
    }
    // A cluster's requests: nats-server (not clustered) leaves these two unanswered; every
    // request gets an answer here.
    if (api == "META.LEADER.STEPDOWN") {
        api_error(msg.reply, "io.nats.jetstream.api.v1.meta_leader_stepdown_response", pjs::ClusterRequired());
        return;
    }
    if (api == "SERVER.REMOVE") {
        api_error(msg.reply, "io.nats.jetstream.api.v1.meta_server_remove_response", pjs::ClusterRequired());
        return;
    }
    if (api.starts_with("ACCOUNT.PURGE.") && api.find('.', 14) == std::string_view::npos) {
        api_account_purge(api.substr(14), msg.reply);
        return;
    }
    if (api == "STREAM.TEMPLATE.NAMES") {
        api_template_names(msg);
        return;
    }
    std::optional<ApiSubject> parts = split_api(api);
    if (!parts) return;  // nats-server has no handler there either: no answer
    if (parts->op.starts_with("STREAM.TEMPLATE.")) {
        api_template(parts->op, parts->name, msg);
        return;
    }
    if (parts->op == "STREAM.LEADER.STEPDOWN" || parts->op == "STREAM.PEER.REMOVE") {
        api_error(msg.reply, type_of(parts->op), pjs::ClusterRequired());
        return;
    }
    if (parts->op == "STREAM.SNAPSHOT" || parts->op == "STREAM.RESTORE") {
        api_backup(parts->op, parts->name, msg);
        return;
    }
    if (parts->op == "CONSUMER.LEADER.STEPDOWN") {
        api_error(msg.reply, type_of(parts->op), pjs::ClusterRequired());
        return;
    }
    if (auto offline = setup_.catalogue->streams.find(std::string(parts->name));
        offline != setup_.catalogue->streams.end() && !offline->second.unavailable.empty()) {
        // Nothing may change or remove a stream set aside as damaged; nothing is served from it.
        api_error(msg.reply, type_of(parts->op), pjs::StreamOffline());
        return;
    }
    if (parts->op == "STREAM.CREATE") {
        api_create(parts->name, msg);
        return;
    }
    if (parts->op == "STREAM.UPDATE") {
        api_update(parts->name, msg);
        return;
    }
    if (parts->op == "STREAM.DELETE") {
        api_delete(parts->name, msg);
        return;
    }
    auto it = setup_.catalogue->streams.find(std::string(parts->name));
    bool ready = it != setup_.catalogue->streams.end() && it->second.ready;
    bool creates_consumer = parts->op == "CONSUMER.CREATE" || parts->op == "CONSUMER.DURABLE.CREATE";
    if (!ready) {
        // nats-server reads a request's body (and checks a consumer's names) before it looks
        // for the stream.
        auto refused = refused_before_stream_lookup(parts->op, msg.subject, msg.payload);
        api_error(msg.reply, type_of(parts->op), refused ? *refused : pjs::StreamNotFound());
        return;
    }
    if (creates_consumer && refuse_filter_elsewhere(it->second.config, msg)) {
        return;
    }
    forward_request(it->second.owner, msg);
}

bool JetStream::refuse_filter_elsewhere(const pjs::StreamConfig& stream, const MsgView& msg) {
    if (!stream.mirror.is_object() && !stream.sources.is_array()) return false;
    pjs::ConsumerCheckOptions options = consumer_check_options();
    options.find_stream = [this](std::string_view name) { return catalogued_config(name); };
    auto create = pjs::check_consumer_create_request(msg.subject, msg.payload, stream, options);
    if (create || create.error() != pjs::ConsumerFilterNotSubset()) return false;
    api_error(msg.reply, pjs::kConsumerCreateResponse, create.error());
    return true;
}

void JetStream::answer_not_enabled(std::string_view api, std::string_view reply) {
    std::string_view type;
    if (api == "INFO") {
        type = kAccountInfoType;
    } else if (api == "STREAM.NAMES") {
        type = kNamesType;
    } else if (api == "STREAM.TEMPLATE.NAMES") {
        type = pjs::kStreamTemplateNamesResponse;
    } else if (api == "STREAM.LIST") {
        type = kListType;
    } else if (std::optional<ApiSubject> parts = split_api(api)) {
        type = type_of(parts->op);
    } else {
        return;  // nothing there for an account with JetStream either
    }
    api_error(reply, type, pjs::NotEnabledForAccount());
}

void JetStream::forward_to(uint32_t owner, const MsgView& msg) {
    if (owner == host_.shard_index()) {
        on_forward(msg);
    } else {
        host_.send_to_shard(owner, msg, true);
    }
}

void JetStream::forward_request(uint32_t owner, const MsgView& request, std::optional<std::string_view> body) {
    std::string audited = std::string(kAuditMark) + std::string(request.payload);
    forward_to(owner, {request.subject, request.reply, audited, body.value_or(request.payload), true, {}, {}});
}

void JetStream::api_account_info(std::string_view reply) {
    uint64_t memory = 0;
    uint64_t storage = 0;
    uint64_t consumers = 0;
    for (const auto& [name, entry] : setup_.catalogue->streams) {
        (entry.config.storage == pjs::Storage::kMemory ? memory : storage) += entry.state.bytes;
        consumers += entry.consumers;
    }
    const config::AccountJetStream& account = setup_.limits;
    json limits = {{"max_memory", account.max_memory},
                   {"max_storage", account.max_store},
                   {"max_streams", account.max_streams},
                   {"max_consumers", account.max_consumers},
                   {"max_ack_pending", account.max_ack_pending},
                   {"memory_max_stream_bytes", account.memory_max_stream_bytes},
                   {"storage_max_stream_bytes", account.store_max_stream_bytes},
                   {"max_bytes_required", account.max_bytes_required}};
    json out = {{"type", kAccountInfoType},
                {"memory", memory},
                {"storage", storage},
                {"streams", setup_.catalogue->streams.size()},
                {"consumers", consumers},
                {"limits", limits}};
    if (!setup_.domain.empty()) out["domain"] = setup_.domain;
    out["api"] = {{"total", setup_.counters->api_total()}, {"errors", setup_.counters->api_errors()}};
    api_reply(reply, out.dump());
}

void JetStream::api_create(std::string_view name, const MsgView& msg) {
    // nats-server's order (see proto/js/stream_config.h).
    auto parsed = pjs::parse_stream_config(msg.payload);
    if (!parsed) {
        api_error(msg.reply, kCreateType, parsed.error());
        return;
    }
    if (auto refused = pjs::refuse_newer_fields(msg.payload)) {
        api_error(msg.reply, kCreateType, *refused);
        return;
    }
    if (auto refused = pjs::check_stream_create(name, *parsed)) {
        api_error(msg.reply, kCreateType, *refused);
        return;
    }
    if (!parsed->template_owner.empty()) {
        api_error(msg.reply, kCreateType, pjs::StreamCreate("stream not owned by template"));
        return;
    }
    // The account's limits before the config's own checks, and again once its defaults are
    // filled in, as nats-server checks them.
    if (auto refused = over_limits(*parsed, nullptr)) {
        api_error(msg.reply, kCreateType, *refused);
        return;
    }
    Catalogue& catalogue = *setup_.catalogue;
    pjs::StreamCheckOptions check_options = check_options_for_account();
    auto checked = pjs::check_stream_config(std::move(*parsed), check_options);
    if (!checked) {
        api_error(msg.reply, kCreateType, checked.error());
        return;
    }
    if (auto refused = over_limits(*checked, nullptr)) {
        api_error(msg.reply, kCreateType, *refused);
        return;
    }
    if (auto refused = too_long_subject(checked->subjects)) {
        api_error(msg.reply, kCreateType, pjs::StreamCreate(*refused));
        return;
    }
    std::string key(name);
    StreamEntry* entry = nullptr;
    bool again = false;
    if (auto it = catalogue.streams.find(key); it != catalogue.streams.end()) {
        if (!pjs::same_config(it->second.config, *checked)) {
            api_error(msg.reply, kCreateType, pjs::StreamNameExist());
            return;
        }
        // The same config again, perhaps while the owner still opens it (clients starting
        // together each create the stream they need): the owner answers with its info, after
        // the first create, which travels the same ring before it.
        entry = &it->second;
        again = true;
    } else {
        for (const auto& [other, existing] : catalogue.streams) {
            if (pjs::subjects_overlap(existing.config.subjects, checked->subjects)) {
                api_error(msg.reply, kCreateType, pjs::StreamSubjectOverlap());
                return;
            }
        }
        StreamEntry created;
        created.config = *checked;
        uint32_t client_shard = msg.from_shard == MsgView::kPublishedHere ? host_.shard_index() : msg.from_shard;
        // Balanced with every other account's streams too.
        std::vector<int64_t> elsewhere(host_.shard_count());
        for (const Counters* other : setup_.every_account) {
            if (other == setup_.counters) continue;
            std::vector<int64_t> streams = other->streams_per_shard();
            for (size_t shard = 0; shard < elsewhere.size() && shard < streams.size(); ++shard) {
                elsewhere[shard] += streams[shard];
            }
        }
        created.owner = catalogue.owner_for(key, host_.shard_count(), client_shard, elsewhere);
        created.created_ns = base::wall_clock_ns();
        entry = &catalogue.streams.emplace(key, std::move(created)).first->second;
    }
    // The owner opens the stream with the config decided here.
    std::string body =
        json({{"config", pjs::to_json(entry->config)}, {"created", entry->created_ns}, {"again", again}}).dump();
    forward_request(entry->owner, msg, body);
}

void JetStream::api_update(std::string_view name, const MsgView& msg) {
    auto parsed = pjs::parse_stream_config(msg.payload);
    if (!parsed) {
        api_error(msg.reply, kUpdateType, parsed.error());
        return;
    }
    if (auto refused = pjs::refuse_newer_fields(msg.payload)) {
        api_error(msg.reply, kUpdateType, *refused);
        return;
    }
    pjs::StreamCheckOptions check_options = check_options_for_account();
    check_options.allow_replicas = true;  // nats-server accepts the number on update
    auto checked = pjs::check_stream_config(std::move(*parsed), check_options);
    if (!checked) {
        api_error(msg.reply, kUpdateType, checked.error());
        return;
    }
    if (checked->name != name) {
        api_error(msg.reply, kUpdateType, pjs::StreamMismatch());
        return;
    }
    auto& streams = setup_.catalogue->streams;
    auto it = streams.find(std::string(name));
    if (it == streams.end() || !it->second.ready) {
        api_error(msg.reply, kUpdateType, pjs::StreamNotFound());
        return;
    }
    auto updated = pjs::updated_stream_config(it->second.config, std::move(*checked));
    if (!updated) {
        api_error(msg.reply, kUpdateType, updated.error());
        return;
    }
    if (auto refused = over_limits(*updated, &it->second.config)) {
        api_error(msg.reply, kUpdateType, *refused);
        return;
    }
    if (auto refused = too_long_subject(updated->subjects)) {
        api_error(msg.reply, kUpdateType, pjs::StreamUpdate(*refused));
        return;
    }
    for (const auto& [other, entry] : streams) {
        if (other != name && pjs::subjects_overlap(entry.config.subjects, updated->subjects)) {
            api_error(msg.reply, kUpdateType, pjs::StreamSubjectOverlap());
            return;
        }
    }
    it->second.config = *updated;
    // The owner applies the config decided here; if it cannot, it reports the one it keeps.
    std::string body = pjs::to_json(*updated).dump();
    forward_request(it->second.owner, msg, body);
}

void JetStream::api_delete(std::string_view name, const MsgView& msg) {
    if (!is_empty_request(msg.payload)) {
        api_error(msg.reply, kDeleteType, pjs::NotEmptyRequest());
        return;
    }
    auto& streams = setup_.catalogue->streams;
    auto it = streams.find(std::string(name));
    if (it == streams.end() || !it->second.ready) {
        api_error(msg.reply, kDeleteType, pjs::StreamNotFound());
        return;
    }
    // Gone from the catalogue now: a create of the same name that follows goes to the same
    // owner, after this delete on the same ring, until the owner reports it done.
    uint32_t owner = it->second.owner;
    setup_.catalogue->delete_started(it->first, owner);
    streams.erase(it);
    forward_request(owner, msg);
}

void JetStream::api_account_purge(std::string_view account, std::string_view reply) {
    // nats-server (not clustered) deletes every stream of the account and its directory.
    // Here an account's JetStream purges its own account; any other name has nothing to delete.
    auto& streams = setup_.catalogue->streams;
    bool own = account == setup_.account_name;
    size_t count = own ? streams.size() : 0;
    log_info("Purge request for account " + std::string(account) + " (streams: " + std::to_string(count) +
             ", hasAccount: " + (own ? "true" : "false") + ")");
    if (own) {
        for (auto it = streams.begin(); it != streams.end();) {
            if (!it->second.ready) {
                ++it;
                continue;
            }
            std::string subject = std::string(kApiPrefix) + "STREAM.DELETE." + it->first;
            uint32_t owner = it->second.owner;
            setup_.catalogue->delete_started(it->first, owner);
            it = streams.erase(it);
            forward_to(owner, {subject, {}, {}, {}, false, {}, {}});
        }
    }
    api_reply(reply, json{{"type", "io.nats.jetstream.api.v1.account_purge_response"}, {"initiated", true}}.dump());
}

void JetStream::api_backup(std::string_view op, std::string_view name, const MsgView& msg) {
    // nats-server's checks, in its order; what passes them is refused with its snapshot or
    // restore error, as this version cannot write or read its archive format.
    std::string_view type = type_of(op);
    if (is_empty_request(msg.payload)) {
        api_error(msg.reply, type, pjs::BadRequest());
        return;
    }
    RequestBody request(msg.payload);
    bool exists = setup_.catalogue->streams.contains(std::string(name));
    if (op == "STREAM.SNAPSHOT") {
        if (!exists) {
            api_error(msg.reply, type, pjs::StreamNotFound());
            return;
        }
        std::string deliver = request.string("deliver_subject");
        if (!request.valid()) {
            api_error(msg.reply, type, pjs::InvalidJSON());
        } else if (!proto::is_valid_subject(deliver)) {
            api_error(msg.reply, type, pjs::SnapshotDeliverSubjectInvalid());
        } else {
            // nats-server's memory store has no snapshot either, and says so in its words.
            bool memory = setup_.catalogue->streams.at(std::string(name)).config.storage == pjs::Storage::kMemory;
            api_error(msg.reply, type, pjs::StreamSnapshot(memory ? "no impl" : "not supported by this ringtail version"));
        }
        return;
    }
    if (!request.valid()) {
        api_error(msg.reply, type, pjs::InvalidJSON());
    } else if (exists) {
        api_error(msg.reply, type, pjs::StreamNameExistRestoreFailed());
    } else {
        api_error(msg.reply, type, pjs::StreamRestore("not supported by this ringtail version"));
    }
}

void JetStream::api_template(std::string_view op, std::string_view name, const MsgView& msg) {
    // Stream templates (deprecated by nats-server) are not kept here: none exists, and a create
    // is refused after nats-server's own checks.
    std::string_view type = type_of(op);
    if (op == "STREAM.TEMPLATE.CREATE") {
        RequestBody request(msg.payload);
        std::string named = request.string("name");
        if (!request.valid()) {
            api_error(msg.reply, type, pjs::InvalidJSON());
        } else if (named != name) {
            api_error(msg.reply, type, pjs::TemplateNameNotMatchSubject());
        } else {
            api_error(msg.reply, type, pjs::StreamTemplateCreate("stream templates are not supported by this ringtail version"));
        }
        return;
    }
    api_error(msg.reply, type, is_empty_request(msg.payload) ? pjs::StreamTemplateNotFound() : pjs::NotEmptyRequest());
}

void JetStream::api_template_names(const MsgView& msg) {
    RequestBody request(msg.payload);
    (void)request.i64("offset");
    if (!is_empty_request(msg.payload) && !request.valid()) {
        api_error(msg.reply, pjs::kStreamTemplateNamesResponse, pjs::InvalidJSON());
        return;
    }
    api_reply(msg.reply, json{{"type", pjs::kStreamTemplateNamesResponse},
                              {"total", 0},
                              {"offset", 0},
                              {"limit", kNamesLimit},
                              {"streams", json::array()}}
                             .dump());
}

const pjs::StreamConfig* JetStream::local_stream_config(std::string_view name) const {
    auto it = streams_.find(std::string(name));
    return it == streams_.end() ? nullptr : &it->second->config();
}

void JetStream::api_names(const MsgView& msg, bool list) {
    std::string_view type = list ? kListType : kNamesType;
    RequestBody request(msg.payload);
    size_t offset = static_cast<size_t>(std::max<int64_t>(0, request.i64("offset")));
    std::string subject = request.string("subject");
    if (!request.valid()) {
        api_error(msg.reply, type, pjs::InvalidJSON());
        return;
    }
    size_t limit = list ? kListLimit : kNamesLimit;
    json streams = json::array();
    std::vector<const StreamEntry*> matching;
    for (const auto& [name, entry] : setup_.catalogue->streams) {
        if (!subject.empty() && !pjs::subjects_overlap(entry.config.subjects, {subject})) continue;
        matching.push_back(&entry);
    }
    size_t total = matching.size();
    offset = std::min(offset, total);
    for (size_t i = offset; i < matching.size() && streams.size() < limit; ++i) {
        const StreamEntry& entry = *matching[i];
        if (!list) {
            streams.push_back(entry.config.name);
            continue;
        }
        const store::StoreState& state = entry.state;
        json st = {{"messages", state.msgs},
                   {"bytes", state.bytes},
                   {"first_seq", state.first_seq},  // as the owner shows it
                   {"first_ts", entry.first_ts},
                   {"last_seq", state.last_seq},
                   {"last_ts", pjs::rfc3339(entry.last_ts_ns)},
                   {"consumer_count", entry.public_consumers}};
        if (state.num_subjects > 0) st["num_subjects"] = state.num_subjects;
        if (state.num_deleted > 0) st["num_deleted"] = state.num_deleted;
        json& listed = streams.emplace_back(json{{"config", pjs::to_json(entry.config)},
                                                 {"created", pjs::rfc3339(entry.created_ns)},
                                                 {"state", std::move(st)}});
        if (!setup_.domain.empty()) listed["domain"] = setup_.domain;
        // As STREAM.INFO: the mirror or the sources, each active for as long as since it was
        // last heard from (-1: never).
        if (json origins = json::parse(entry.origins, nullptr, false); origins.is_object()) {
            int64_t now = base::wall_clock_ns();
            auto activate = [now](json& origin) {
                int64_t heard = origin.value("heard_ns", int64_t{0});
                origin.erase("heard_ns");
                origin["active"] = heard == 0 ? int64_t{-1} : now - heard;
            };
            for (auto& [key, value] : origins.items()) {
                if (value.is_array()) {
                    for (json& origin : value) activate(origin);
                } else {
                    activate(value);
                }
                listed[key] = std::move(value);
            }
        }
    }
    // Go writes an empty names slice as null, the list as [].
    json out = {{"type", type}, {"total", total}, {"offset", offset}, {"limit", limit},
                {"streams", streams.empty() && !list ? json(nullptr) : streams}};
    api_reply(msg.reply, out.dump());
}

// ---------------------------------------------------------------------------------------------
// Owners' reports to shard 0

void JetStream::report(std::string_view what, std::string_view name, std::string_view body, bool wake) {
    std::string payload(name);
    payload.push_back('\n');
    payload.append(body);
    MsgView msg{what, {}, {}, payload, false, {}, {}};
    if (host_.shard_index() == 0) {
        on_report(msg);
    } else {
        host_.send_to_shard(0, msg, wake);
    }
}

void JetStream::report_state(const Stream& stream, const store::StoreState& state, std::string_view first_ts,
                             int64_t last_ts_ns) {
    StateReport body{state, {}, last_ts_ns, stream.consumer_count(), stream.public_consumer_count()};
    first_ts.copy(body.first_ts, std::min(first_ts.size(), sizeof body.first_ts - 1));
    // Shard 0 reads it before it next answers a request (every request wakes it), so it is not
    // woken for it: a stream publishing on another shard would wake it at each of its turns.
    report(kReportState, stream.name(), {reinterpret_cast<const char*>(&body), sizeof body}, false);
}

void JetStream::report_origins(const Stream& stream, const std::string& origins) {
    report(kReportOrigins, stream.name(), origins, false);
}

void JetStream::on_report(const MsgView& msg) {
    RT_ASSERT(setup_.catalogue != nullptr);
    size_t newline = msg.payload.find('\n');
    RT_ASSERT(newline != std::string_view::npos);
    std::string name(msg.payload.substr(0, newline));
    std::string_view body = msg.payload.substr(newline + 1);
    if (msg.subject == kReportDeleted) {
        setup_.catalogue->delete_done(name);
        return;
    }
    auto& streams = setup_.catalogue->streams;
    auto it = streams.find(name);
    // A report about a stream deleted since, or about an earlier stream of the same name
    // (reports come in ring order, before the new one's "opened"): nothing to do.
    if (it == streams.end()) return;
    StreamEntry& entry = it->second;
    if (msg.subject == kReportOpened) {
        entry.ready = true;
    } else if (msg.subject == kReportUnavailable) {
        entry.ready = false;
        entry.unavailable = std::string(body);
    } else if (msg.subject == kReportFailed) {
        if (!entry.ready) streams.erase(it);
    } else if (msg.subject == kReportConfig && entry.ready) {
        // Sent after every update, applied or not, so the last one is what the owner runs.
        if (auto config = decided_config(json::parse(body, nullptr, false))) entry.config = std::move(*config);
    } else if (msg.subject == kReportOrigins && entry.ready) {
        entry.origins = body;
    } else if (msg.subject == kReportState && entry.ready) {
        StateReport report;
        RT_ASSERT(body.size() == sizeof report);
        std::memcpy(&report, body.data(), sizeof report);
        entry.state = report.state;
        entry.first_ts = report.first_ts;
        entry.last_ts_ns = report.last_ts_ns;
        entry.consumers = report.consumers;
        entry.public_consumers = report.public_consumers;
    }
}

// ---------------------------------------------------------------------------------------------
// Owner: requests for one stream

void JetStream::on_forward(const MsgView& msg) {
    AuditedRequest audited{msg.subject, msg.headers.substr(std::min(kAuditMark.size(), msg.headers.size()))};
    const AuditedRequest* outer = audited_;
    audited_ = msg.headers.starts_with(kAuditMark) ? &audited : nullptr;
    answer_forwarded(msg);
    audited_ = outer;
}

void JetStream::answer_forwarded(const MsgView& msg) {
    std::optional<ApiSubject> parts = split_api(msg.subject.substr(kApiPrefix.size()));
    if (!parts) return;
    std::string name(parts->name);
    if (parts->op == "STREAM.CREATE") {
        open_created(name, msg);
        return;
    }
    if (parts->op == "STREAM.DELETE") {
        delete_stream(name, msg.reply);
        return;
    }
    auto it = streams_.find(name);
    if (it == streams_.end()) {
        api_error(msg.reply, type_of(parts->op), pjs::StreamNotFound());
        return;
    }
    Stream& stream = *it->second;
    if (parts->op == "STREAM.UPDATE") {
        update_stream(stream, msg);
        return;
    }
    stream.handle_request(parts->op, parts->rest, msg);
}

void JetStream::update_stream(Stream& stream, const MsgView& msg) {
    auto config = decided_config(json::parse(msg.payload, nullptr, false));
    Result<void, Error> updated = config ? stream.update(*config) : fail(Errc::kInvalid, config.error().description);
    report(kReportConfig, stream.name(), pjs::to_json(stream.config()).dump());
    if (!updated) {
        api_error(msg.reply, kUpdateType, pjs::StreamUpdate(updated.error().text));
        return;
    }
    send_stream_advisory(stream.name(), "UPDATED", "modify");
    json out = {{"type", kUpdateType}};
    stream.info_json(out, false, {}, 0, nullptr);
    api_reply(msg.reply, out.dump(), stream.interest_seq());
}

void JetStream::open_created(std::string_view name, const MsgView& msg) {
    auto existing = streams_.find(std::string(name));
    if (existing == streams_.end()) {
        json body = json::parse(msg.payload, nullptr, false);
        if (body.is_object() && body.value("again", false)) {
            // The create before it failed to open the stream (and said why): this one is not
            // tried again, so the catalogue stays as that failure left it.
            api_error(msg.reply, kCreateType, pjs::StreamCreate("stream could not be opened"));
            return;
        }
        bool shaped = body.is_object() && body.contains("config") && body["created"].is_number_integer();
        auto config = decided_config(shaped ? body["config"] : json());
        Result<std::unique_ptr<Stream>, Error> stream =
            config ? Stream::open(*this, *config, body["created"].get<int64_t>(), true)
                   : fail(Errc::kInvalid, config.error().description);
        if (!stream) {
            log_error("JetStream could not create stream '" + std::string(name) + "': " + stream.error().text);
            report(kReportFailed, name);
            api_error(msg.reply, kCreateType, pjs::StreamCreate(stream.error().text));
            return;
        }
        existing = streams_.emplace(std::string(name), std::move(*stream)).first;
        report(kReportOpened, name);
        existing->second->publish_state();
        existing->second->report_origins();
        send_stream_advisory(name, "CREATED", "create");
    }
    Stream& stream = *existing->second;
    json out = {{"type", kCreateType}, {"did_create", true}};
    stream.info_json(out, false, {}, 0, nullptr);
    // nats-server's create answer has no mirror or sources info (its update answer has).
    out.erase("mirror");
    out.erase("sources");
    // Publishes from any shard must reach the stream once the client has the answer.
    api_reply(msg.reply, out.dump(), stream.interest_seq());
}

void JetStream::delete_stream(std::string_view name, std::string_view reply) {
    auto it = streams_.find(std::string(name));
    if (it == streams_.end()) {
        report(kReportDeleted, name);
        api_error(reply, kDeleteType, pjs::StreamNotFound());
        return;
    }
    it->second->destroy();  // the consumers' advisories, then the stream's
    send_stream_advisory(name, "DELETED", "delete");
    uint64_t interest = it->second->interest_seq();
    streams_.erase(it);
    report(kReportDeleted, name);  // from here on a stream of this name may open on any shard
    api_reply(reply, json({{"type", kDeleteType}, {"success", true}}).dump(), interest);
}

}  // namespace ringtail::core::js
