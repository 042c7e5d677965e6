#include "core/js/jetstream.h"

#include <chrono>
#include <utility>

#include "core/js/request_body.h"
#include "core/js/stream.h"
#include "core/server/log.h"
#include "core/server/server.h"
#include "core/shard/shard.h"

namespace ringtail::core::js {
namespace {

namespace pjs = proto::js;
using nlohmann::json;

constexpr std::string_view kApiPrefix = "$JS.API.";
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

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "STREAM.INFO.ORDERS" → op "STREAM.INFO", name "ORDERS", rest "" (DIRECT.GET.<name>.<subject>
// leaves the subject in rest).
struct ApiSubject {
    std::string_view op;
    std::string_view name;
    std::string_view rest;
};

std::optional<ApiSubject> split_api(std::string_view api) {
    static constexpr std::string_view kStreamOps[] = {"STREAM.CREATE", "STREAM.UPDATE", "STREAM.DELETE",
                                                      "STREAM.INFO", "STREAM.PURGE", "STREAM.MSG.GET",
                                                      "STREAM.MSG.DELETE", "DIRECT.GET"};
    for (std::string_view op : kStreamOps) {
        if (api.size() <= op.size() + 1 || !api.starts_with(op) || api[op.size()] != '.') continue;
        std::string_view tail = api.substr(op.size() + 1);
        size_t dot = tail.find('.');
        std::string_view name = tail.substr(0, dot);
        std::string_view rest = dot == std::string_view::npos ? std::string_view{} : tail.substr(dot + 1);
        if (op != "DIRECT.GET" && !rest.empty()) return std::nullopt;
        return ApiSubject{op, name, rest};
    }
    return std::nullopt;
}

std::string_view type_of(std::string_view op) {
    if (op == "STREAM.CREATE") return kCreateType;
    if (op == "STREAM.UPDATE") return kUpdateType;
    if (op == "STREAM.DELETE") return kDeleteType;
    if (op == "STREAM.PURGE") return kPurgeType;
    if (op == "STREAM.MSG.GET") return kMsgGetType;
    if (op == "STREAM.MSG.DELETE") return kMsgDeleteType;
    return kInfoType;
}

}  // namespace

JetStream::JetStream(Shard& shard) : shard_(shard), store_dir_(shard.server().js_store_dir()) {}

JetStream::~JetStream() {
    // Writes in flight complete (and their acks are dropped: the connections are gone).
    for (auto& [name, stream] : streams_) stream->flush();
    streams_.clear();
    if (api_sub_) unsubscribe(*api_sub_);
}

Catalogue& JetStream::catalogue() { return shard_.server().catalogue(); }

uint64_t JetStream::interest_seq() const { return shard_.interest_seq_sent(); }

bool JetStream::over_store_limit(pjs::Storage storage) {
    const config::Options& options = shard_.server().options();
    bool memory = storage == pjs::Storage::kMemory;
    int64_t max = memory ? options.max_memory_store_bytes : options.max_file_store_bytes;
    if (max < 0) return false;
    int64_t used = (memory ? catalogue().memory_used : catalogue().storage_used).load(std::memory_order_relaxed);
    return used > max;
}

void JetStream::subscribe(Subscription& sub) { shard_.add_subscription(&sub); }

void JetStream::unsubscribe(Subscription& sub) { shard_.remove_subscription(&sub); }

std::string JetStream::start() {
    std::string error = file_disk_.init();
    if (!error.empty()) return "JetStream file store: " + error;
    std::vector<std::pair<pjs::StreamConfig, int64_t>> owned;
    {
        std::lock_guard lock(catalogue().mutex);
        for (const auto& [name, entry] : catalogue().streams) {
            if (entry.owner == shard_.index()) owned.emplace_back(entry.config, entry.created_ns);
        }
    }
    for (auto& [config, created_ns] : owned) {
        auto stream = Stream::open(*this, config, created_ns, false, error);
        if (stream == nullptr) return error;
        stream->publish_state();
        {
            std::lock_guard lock(catalogue().mutex);
            catalogue().streams[config.name].ready = true;
        }
        log_info("  Restored stream '" + config.name + "' on shard " + std::to_string(shard_.index()));
        streams_.emplace(config.name, std::move(stream));
    }
    if (shard_.index() == 0) {
        api_sub_ = std::make_unique<Subscription>();
        api_sub_->internal = this;
        api_sub_->subject = "$JS.API.>";
        api_sub_->sid = "js:api";
        subscribe(*api_sub_);
    }
    return {};
}

void JetStream::send(std::string_view subject, std::string_view headers, std::string_view payload,
                     uint64_t interest_seq) {
    if (interest_seq > 0 && !shard_.interest_applied(interest_seq)) {
        held_.push_back({std::string(subject), std::string(headers), std::string(payload), interest_seq, {}});
    } else {
        outbox_.push(0, {subject, headers, payload});
    }
}

void JetStream::run_turn() {
    while (!requests_.empty()) {
        Outgoing request = std::move(requests_.front());
        requests_.pop_front();
        MsgView msg;
        msg.subject = request.subject;
        msg.reply = request.reply;
        msg.headers = request.headers;
        msg.payload = request.payload;
        msg.has_headers = !request.headers.empty();
        handle_api(msg);
    }
    for (auto& [name, stream] : streams_) stream->flush();
    file_disk_.poll(false);
    memory_disk_.poll();
    for (auto& [name, stream] : streams_) stream->publish_state();
    if (!held_.empty()) {
        std::erase_if(held_, [&](Outgoing& out) {
            if (!shard_.interest_applied(out.interest_seq)) return false;
            outbox_.push(0, {out.subject, out.headers, out.payload});
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
        msg.headers = parts[1];
        msg.payload = parts[2];
        msg.has_headers = !msg.headers.empty();
        if (!shard_.publish_internal(msg)) break;  // a ring is full: the rest go next turn
        sending_.pop();
    }
}

void JetStream::on_tick() {
    int64_t now = now_ns();
    for (auto& [name, stream] : streams_) stream->expire(now);
}

// ---------------------------------------------------------------------------------------------
// Shard 0: the API

void JetStream::api_reply(std::string_view reply, std::string_view body, uint64_t interest_seq) {
    catalogue().api_total.fetch_add(1, std::memory_order_relaxed);
    if (!reply.empty()) send(reply, {}, body, interest_seq);
}

void JetStream::api_error(std::string_view reply, std::string_view type, const pjs::ApiError& error) {
    catalogue().api_total.fetch_add(1, std::memory_order_relaxed);
    catalogue().api_errors.fetch_add(1, std::memory_order_relaxed);
    if (!reply.empty()) send(reply, {}, pjs::error_response(type, error));
}

void JetStream::on_msg(const MsgView& msg) {
    // Inside a delivery: answering may create subscriptions, so it waits for run_turn().
    requests_.push_back({std::string(msg.subject), std::string(msg.headers), std::string(msg.payload), 0,
                         std::string(msg.reply)});
}

void JetStream::handle_api(const MsgView& msg) {
    if (!msg.subject.starts_with(kApiPrefix)) return;
    std::string_view api = msg.subject.substr(kApiPrefix.size());
    if (api == "INFO") {
        api_account_info(msg.reply);
        return;
    }
    if (api == "STREAM.NAMES" || api == "STREAM.LIST") {
        api_names(msg, api == "STREAM.LIST");
        return;
    }
    if (api.starts_with("CONSUMER.")) {
        // Consumers come with a later issue; say so rather than stay silent.
        api_error(msg.reply, kConsumerCreateType,
                  pjs::StreamGeneralError("consumers are not supported by this ringtail version yet"));
        return;
    }
    std::optional<ApiSubject> parts = split_api(api);
    if (!parts) return;  // nats-server has no handler there either: no answer
    if (parts->op == "STREAM.CREATE") {
        api_create(parts->name, msg);
        return;
    }
    if (parts->op == "STREAM.UPDATE") {
        api_update(parts->name, msg);
        return;
    }
    if (parts->op == "STREAM.DELETE" && !is_empty_request(msg.payload)) {
        api_error(msg.reply, kDeleteType, pjs::NotEmptyRequest());
        return;
    }
    uint32_t owner = 0;
    {
        std::lock_guard lock(catalogue().mutex);
        auto it = catalogue().streams.find(std::string(parts->name));
        if (it == catalogue().streams.end() || !it->second.ready) {
            if (parts->op != "DIRECT.GET") api_error(msg.reply, type_of(parts->op), pjs::StreamNotFound());
            return;
        }
        owner = it->second.owner;
    }
    forward_to(owner, msg);
}

void JetStream::forward_to(uint32_t owner, const MsgView& msg) {
    if (owner == shard_.index()) {
        on_forward(msg);
    } else {
        shard_.forward_js(owner, msg);
    }
}

void JetStream::api_account_info(std::string_view reply) {
    uint64_t memory = 0;
    uint64_t storage = 0;
    size_t streams = 0;
    {
        std::lock_guard lock(catalogue().mutex);
        for (const auto& [name, entry] : catalogue().streams) {
            ++streams;
            (entry.config.storage == pjs::Storage::kMemory ? memory : storage) += entry.state.bytes;
        }
    }
    json limits = {{"max_memory", -1},
                   {"max_storage", -1},
                   {"max_streams", -1},
                   {"max_consumers", -1},
                   {"max_ack_pending", -1},
                   {"memory_max_stream_bytes", -1},
                   {"storage_max_stream_bytes", -1},
                   {"max_bytes_required", false}};
    json out = {{"type", kAccountInfoType},
                {"memory", memory},
                {"storage", storage},
                {"streams", streams},
                {"consumers", 0},
                {"limits", limits},
                {"api",
                 {{"total", catalogue().api_total.load(std::memory_order_relaxed)},
                  {"errors", catalogue().api_errors.load(std::memory_order_relaxed)}}}};
    api_reply(reply, out.dump());
}

void JetStream::api_create(std::string_view name, const MsgView& msg) {
    // nats-server's order (see proto/js/stream_config.h).
    auto parsed = pjs::parse_stream_config(msg.payload);
    if (!parsed) {
        api_error(msg.reply, kCreateType, parsed.error());
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
    uint32_t owner = placement(name, shard_.shard_count());
    {
        std::lock_guard lock(catalogue().mutex);
        auto& streams = catalogue().streams;
        pjs::StreamCheckOptions check_options;
        check_options.find_stream = [&](std::string_view other) -> const pjs::StreamConfig* {
            auto it = streams.find(std::string(other));
            return it == streams.end() ? nullptr : &it->second.config;
        };
        auto checked = pjs::check_stream_config(std::move(*parsed), check_options);
        if (!checked) {
            api_error(msg.reply, kCreateType, checked.error());
            return;
        }
        if (!checked->mirror.is_null() || (checked->sources.is_array() && !checked->sources.empty())) {
            // Accepting the config and not mirroring would be silent data loss.
            api_error(msg.reply, kCreateType,
                      pjs::StreamCreate("mirrors and sources are not supported by this ringtail version yet"));
            return;
        }
        if (auto it = streams.find(std::string(name)); it != streams.end()) {
            if (!pjs::same_config(it->second.config, *checked) || !it->second.ready) {
                api_error(msg.reply, kCreateType, pjs::StreamNameExist());
                return;
            }
            owner = it->second.owner;  // the same config again: answer with its info
        } else {
            for (const auto& [other, entry] : streams) {
                if (pjs::subjects_overlap(entry.config.subjects, checked->subjects)) {
                    api_error(msg.reply, kCreateType, pjs::StreamSubjectOverlap());
                    return;
                }
            }
            StreamEntry entry;
            entry.config = *checked;
            entry.owner = owner;
            entry.created_ns = now_ns();
            streams.emplace(std::string(name), std::move(entry));
        }
    }
    // The owner reads the decided config from the catalogue: the body stays here.
    MsgView forward = msg;
    forward.payload = {};
    forward.headers = {};
    forward.has_headers = false;
    forward_to(owner, forward);
}

void JetStream::api_update(std::string_view name, const MsgView& msg) {
    auto parsed = pjs::parse_stream_config(msg.payload);
    if (!parsed) {
        api_error(msg.reply, kUpdateType, parsed.error());
        return;
    }
    pjs::StreamCheckOptions check_options;
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
    uint32_t owner = 0;
    {
        std::lock_guard lock(catalogue().mutex);
        auto& streams = catalogue().streams;
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
        checked = std::move(updated);
        if (checked->sources.is_array() && !checked->sources.empty()) {
            api_error(msg.reply, kUpdateType,
                      pjs::StreamUpdate("mirrors and sources are not supported by this ringtail version yet"));
            return;
        }
        for (const auto& [other, entry] : streams) {
            if (other != name && pjs::subjects_overlap(entry.config.subjects, checked->subjects)) {
                api_error(msg.reply, kUpdateType, pjs::StreamSubjectOverlap());
                return;
            }
        }
        it->second.config = *checked;
        owner = it->second.owner;
    }
    // The owner reads the decided config from the catalogue: the body stays here.
    MsgView forward = msg;
    forward.payload = {};
    forward.headers = {};
    forward.has_headers = false;
    forward_to(owner, forward);
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
    size_t total = 0;
    {
        std::lock_guard lock(catalogue().mutex);
        std::vector<const StreamEntry*> matching;
        for (const auto& [name, entry] : catalogue().streams) {
            if (!subject.empty() && !pjs::subjects_overlap(entry.config.subjects, {subject})) continue;
            matching.push_back(&entry);
        }
        total = matching.size();
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
                       {"first_seq", state.last_seq == 0 ? 0 : state.first_seq},
                       {"first_ts", pjs::rfc3339(entry.first_ts_ns)},
                       {"last_seq", state.last_seq},
                       {"last_ts", pjs::rfc3339(entry.last_ts_ns)},
                       {"consumer_count", 0}};
            if (state.num_subjects > 0) st["num_subjects"] = state.num_subjects;
            if (state.num_deleted > 0) st["num_deleted"] = state.num_deleted;
            streams.push_back({{"config", pjs::to_json(entry.config)},
                               {"created", pjs::rfc3339(entry.created_ns)},
                               {"state", std::move(st)}});
        }
    }
    // Go writes an empty names slice as null, the list as [].
    json out = {{"type", type}, {"total", total}, {"offset", offset}, {"limit", limit},
                {"streams", streams.empty() && !list ? json(nullptr) : streams}};
    api_reply(msg.reply, out.dump());
}

// ---------------------------------------------------------------------------------------------
// Owner: requests for one stream

void JetStream::on_forward(const MsgView& msg) {
    std::optional<ApiSubject> parts = split_api(msg.subject.substr(kApiPrefix.size()));
    if (!parts) return;
    std::string name(parts->name);
    if (parts->op == "STREAM.CREATE") {
        open_created(name, msg.reply);
        return;
    }
    if (parts->op == "STREAM.DELETE") {
        delete_stream(name, msg.reply);
        return;
    }
    auto it = streams_.find(name);
    if (it == streams_.end()) {
        if (parts->op != "DIRECT.GET") api_error(msg.reply, type_of(parts->op), pjs::StreamNotFound());
        return;
    }
    Stream& stream = *it->second;
    if (parts->op == "STREAM.UPDATE") {
        pjs::StreamConfig config;
        {
            std::lock_guard lock(catalogue().mutex);
            config = catalogue().streams[name].config;
        }
        std::string error = stream.update(config);
        if (!error.empty()) {
            api_error(msg.reply, kUpdateType, pjs::StreamUpdate(error));
            return;
        }
        json out = {{"type", kUpdateType}};
        stream.info_json(out, false, {}, 0, nullptr);
        api_reply(msg.reply, out.dump(), stream.interest_seq());
        return;
    }
    std::string op(parts->op);
    if (op == "DIRECT.GET" && !parts->rest.empty()) op += "." + std::string(parts->rest);
    stream.handle_request(op, msg);
}

void JetStream::open_created(std::string_view name, std::string_view reply) {
    auto existing = streams_.find(std::string(name));
    if (existing == streams_.end()) {
        pjs::StreamConfig config;
        int64_t created_ns = 0;
        {
            std::lock_guard lock(catalogue().mutex);
            auto it = catalogue().streams.find(std::string(name));
            if (it == catalogue().streams.end()) return;
            config = it->second.config;
            created_ns = it->second.created_ns;
        }
        std::string error;
        auto stream = Stream::open(*this, config, created_ns, true, error);
        if (stream == nullptr) {
            log_error("JetStream could not create stream '" + std::string(name) + "': " + error);
            {
                std::lock_guard lock(catalogue().mutex);
                catalogue().streams.erase(std::string(name));
            }
            api_error(reply, kCreateType, pjs::StreamCreate(error));
            return;
        }
        stream->publish_state();
        {
            std::lock_guard lock(catalogue().mutex);
            catalogue().streams[std::string(name)].ready = true;
        }
        existing = streams_.emplace(std::string(name), std::move(stream)).first;
    }
    Stream& stream = *existing->second;
    json out = {{"type", kCreateType}, {"did_create", true}};
    stream.info_json(out, false, {}, 0, nullptr);
    // Publishes from any shard must reach the stream once the client has the answer.
    api_reply(reply, out.dump(), stream.interest_seq());
}

void JetStream::delete_stream(std::string_view name, std::string_view reply) {
    auto it = streams_.find(std::string(name));
    if (it == streams_.end()) {
        api_error(reply, kDeleteType, pjs::StreamNotFound());
        return;
    }
    it->second->destroy();
    uint64_t interest = it->second->interest_seq();
    streams_.erase(it);
    {
        std::lock_guard lock(catalogue().mutex);
        catalogue().streams.erase(std::string(name));
    }
    api_reply(reply, json({{"type", kDeleteType}, {"success", true}}).dump(), interest);
}

}  // namespace ringtail::core::js
