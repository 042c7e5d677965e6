#include "core/js/stream.h"

#include <absl/strings/escaping.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>

#include "base/clock.h"
#include "base/subject_match.h"
#include "core/js/jetstream.h"
#include "core/js/request_body.h"
#include "core/server/log.h"
#include "proto/headers.h"
#include "proto/subject.h"

namespace ringtail::core::js {
namespace {

namespace pjs = proto::js;
using nlohmann::json;

constexpr std::string_view kInfoType = pjs::kStreamInfoResponse;
constexpr std::string_view kPurgeType = pjs::kStreamPurgeResponse;
constexpr std::string_view kMsgGetType = pjs::kStreamMsgGetResponse;
constexpr std::string_view kMsgDeleteType = pjs::kStreamMsgDeleteResponse;

// Publishes the log holds in memory for want of room (the tail waits for a write): beyond
// this, a publish gets an error ack instead of waiting.
constexpr size_t kWaitingBytesMax = 64u << 20;
// A memory stream's segments: anonymous mappings, paid for only where written.
constexpr uint64_t kMemorySegmentBytes = 8u << 20;
// Every log starts with a small segment; the next ones double (store/stream_log.h).
constexpr uint64_t kFirstSegmentBytes = 1u << 20;

// The sizes nats-server counts (filestore.go fileStoreMsgSize, memstore.go memStoreMsgSize),
// so that stream info and max_bytes agree with it.
uint64_t file_message_bytes(size_t subject, size_t headers, size_t payload) {
    return headers == 0 ? 30 + subject + payload : 34 + subject + headers + payload;
}
uint64_t memory_message_bytes(size_t subject, size_t headers, size_t payload) {
    return subject + headers + payload + 16;
}

std::optional<uint64_t> parse_seq(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return value;
}

// nats-server's genHeader: adds "key: value" at the end of a header block.
std::string add_header(std::string block, std::string_view key, std::string_view value) {
    if (block.ends_with("\r\n\r\n")) block.resize(block.size() - 2);
    block.append(key).append(": ").append(value).append("\r\n\r\n");
    return block;
}


}  // namespace

Stream::Stream(JetStream& js, proto::js::StreamConfig config, int64_t created_ns)
    : js_(js), config_(std::move(config)), created_ns_(created_ns) {}

Stream::~Stream() { unsubscribe_subjects(); }

Result<std::unique_ptr<Stream>, Error> Stream::open(JetStream& js, const proto::js::StreamConfig& config,
                                                    int64_t created_ns, bool create) {
    std::unique_ptr<Stream> stream(new Stream(js, config, created_ns));
    if (auto opened = stream->open_log(create); !opened) return std::unexpected(opened.error());
    stream->rebuild_dedupe();
    stream->subscribe_subjects();
    return stream;
}

store::StoreLimits Stream::store_limits() const {
    // discard new, max_msg_size and the per-subject refusal are checked before the append,
    // with nats-server's errors; the log drops the oldest for everything else.
    store::StoreLimits limits;
    limits.max_msgs = config_.max_msgs > 0 ? config_.max_msgs : -1;
    limits.max_bytes = config_.max_bytes > 0 ? config_.max_bytes : -1;
    limits.max_age_ns = config_.max_age_ns;
    limits.max_msgs_per_subject = config_.max_msgs_per_subject > 0 ? config_.max_msgs_per_subject : -1;
    return limits;
}

Result<void, Error> Stream::open_log(bool create) {
    store::StreamLogOptions options;
    options.limits = store_limits();
    store::Disk* disk = &js_.file_disk();
    if (config_.storage == pjs::Storage::kMemory) {
        disk = &js_.memory_disk();
        options.dir = "/memory/" + config_.name;
        options.message_bytes = memory_message_bytes;
        options.segment_bytes = kMemorySegmentBytes;
        options.first_segment_bytes = kFirstSegmentBytes;
        if (create) (void)disk->make_dir("/memory");
    } else {
        dir_ = streams_dir(js_.store_dir()) + "/" + config_.name;
        options.dir = dir_ + "/msgs";
        options.message_bytes = file_message_bytes;
        options.first_segment_bytes = kFirstSegmentBytes;
        if (create) {
            std::error_code ec;
            std::filesystem::create_directories(dir_, ec);
            if (ec) return fail(Errc::kIo, "creating " + dir_ + ": " + ec.message());
            if (auto written = write_meta(dir_, config_, created_ns_, js_.host().shard_index()); !written) {
                return written;
            }
        }
    }
    store::RecoveryReport report;
    auto log = store::StreamLog::open(*disk, options, &report);
    if (!log) {
        std::string what = report.detail.empty() ? std::string(errc_text(log.error())) : report.detail;
        return fail(log.error(), "stream '" + config_.name + "': " + what);
    }
    if (!report.detail.empty()) log_warn("JetStream stream '" + config_.name + "' recovered: " + report.detail);
    log_ = std::move(*log);
    log_->set_durable_callback([this](uint64_t durable_seq) { on_durable(durable_seq); });
    if (log_->last_seq() > 0) {
        if (auto last = log_->load(log_->last_seq())) last_ts_ns_ = last->timestamp_ns;
    }
    return {};
}

void Stream::subscribe_subjects() {
    for (const std::string& subject : config_.subjects) {
        auto sub = std::make_unique<Subscription>();
        sub->owner = this;
        sub->subject = subject;
        sub->sid = "js:" + config_.name;
        js_.host().subscribe(*sub);
        subs_.push_back(std::move(sub));
    }
    interest_seq_ = js_.host().interest_seq_sent();
}

void Stream::unsubscribe_subjects() {
    for (auto& sub : subs_) js_.host().unsubscribe(*sub);
    subs_.clear();
    interest_seq_ = js_.host().interest_seq_sent();
}

Result<void, Error> Stream::update(const proto::js::StreamConfig& config) {
    bool subjects_changed = config.subjects != config_.subjects;
    if (!dir_.empty()) {
        if (auto written = write_meta(dir_, config, created_ns_, js_.host().shard_index()); !written) return written;
    }
    config_ = config;
    log_->set_limits(store_limits());
    if (subjects_changed) {
        unsubscribe_subjects();
        subscribe_subjects();
    }
    dedupe_.clear();
    dedupe_order_.clear();
    rebuild_dedupe();
    state_dirty_ = true;
    return {};
}

void Stream::destroy() {
    unsubscribe_subjects();
    // Acks still pending would announce messages that are about to vanish: answer them now,
    // as nats-server's acks would have gone out already.
    on_durable(UINT64_MAX);
    log_.reset();  // writes in flight complete into nothing
    bytes_counter().fetch_sub(static_cast<int64_t>(published_bytes_), std::memory_order_relaxed);
    published_bytes_ = 0;
    if (config_.storage == pjs::Storage::kMemory) {
        std::string dir = "/memory/" + config_.name;
        store::Disk& disk = js_.memory_disk();
        if (auto names = disk.list_dir(dir)) {
            for (const std::string& file : *names) (void)disk.remove_file(dir + "/" + file);
        }
    }
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        if (ec) log_error("JetStream could not remove " + dir_ + ": " + ec.message());
    }
}

// ---------------------------------------------------------------------------------------------
// Publish

Subscriber::Delivery Stream::deliver(Subscription&, const MsgView& msg) {
    if (waiting_.empty() && process(msg.subject, msg.reply, msg.headers, msg.payload)) return Delivery::kDelivered;
    size_t bytes = msg.subject.size() + msg.reply.size() + msg.headers.size() + msg.payload.size();
    if (waiting_bytes_ + bytes > kWaitingBytesMax) {
        ack_error(msg.reply, pjs::StreamStoreFailed("store is busy"));
        return Delivery::kDelivered;
    }
    waiting_.push_back({std::string(msg.subject), std::string(msg.reply), std::string(msg.headers),
                        std::string(msg.payload)});
    waiting_bytes_ += bytes;
    return Delivery::kDelivered;
}

void Stream::flush() {
    while (!waiting_.empty()) {
        Waiting& next = waiting_.front();
        if (!process(next.subject, next.reply, next.headers, next.payload)) break;
        waiting_bytes_ -= next.subject.size() + next.reply.size() + next.headers.size() + next.payload.size();
        waiting_.pop_front();
    }
    log_->flush();
}

void Stream::ack(std::string_view reply, uint64_t seq, bool duplicate) {
    if (reply.empty() || config_.no_ack) return;
    // pjs::pub_ack's bytes, from a per-stream prefix into a reused buffer: one per message.
    if (ack_prefix_.empty()) {
        ack_prefix_ = pjs::pub_ack(config_.name, 0, false);
        ack_prefix_.resize(ack_prefix_.size() - 2);  // without "0}"
    }
    ack_buffer_.assign(ack_prefix_);
    char digits[20];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, seq);
    ack_buffer_.append(digits, end);
    ack_buffer_.append(duplicate ? ",\"duplicate\": true}" : "}");
    js_.send(reply, {}, ack_buffer_);
}

void Stream::ack_error(std::string_view reply, const proto::js::ApiError& error) {
    if (reply.empty() || config_.no_ack) return;
    js_.send(reply, {}, pjs::pub_ack_error(config_.name, error));
}

void Stream::on_durable(uint64_t durable_seq) {
    while (!pending_acks_.empty()) {
        auto pending = pending_acks_.front();
        uint64_t seq = pending.tag >> 1;
        if (seq > durable_seq) break;
        ack(pending.parts[0], seq, (pending.tag & 1) != 0);
        pending_acks_.pop();
    }
}

void Stream::ack_later(std::string_view reply, uint64_t seq, bool duplicate) {
    pending_acks_.push(seq << 1 | (duplicate ? 1 : 0), {reply});
}

std::optional<proto::js::ApiError> Stream::check_discard_new(std::string_view subject, size_t size) const {
    // As nats-server's store (filestore.go storeRawMsg) decides, in its order and with its
    // comparisons (note >= for bytes).
    store::StoreState state = log_->state();
    bool replaces_oldest_of_subject = false;
    if (config_.max_msgs_per_subject > 0 &&
        log_->subject_count(subject) >= static_cast<uint64_t>(config_.max_msgs_per_subject)) {
        if (config_.discard_new_per_subject) return pjs::StreamStoreFailed("maximum messages per subject exceeded");
        replaces_oldest_of_subject = true;
    }
    if (config_.max_msgs > 0 && state.msgs >= static_cast<uint64_t>(config_.max_msgs) && !replaces_oldest_of_subject) {
        return pjs::StreamStoreFailed("maximum messages exceeded");
    }
    if (config_.max_bytes > 0 && state.bytes + size >= static_cast<uint64_t>(config_.max_bytes) &&
        !replaces_oldest_of_subject) {
        return pjs::StreamStoreFailed("maximum bytes exceeded");
    }
    return std::nullopt;
}

bool Stream::process(std::string_view subject, std::string_view reply, std::string_view headers,
                     std::string_view payload) {
    if (config_.sealed) {
        ack_error(reply, pjs::StreamSealed());
        return true;
    }
    // The checks of nats-server's processJetStreamMsg, in its order.
    std::string_view msg_id;
    bool rollup_subject = false;
    bool rollup_all = false;
    int64_t now = base::wall_clock_ns();
    if (!headers.empty()) {
        if (auto expected = proto::header_value(headers, "Nats-Expected-Stream");
            expected && !expected->empty() && *expected != config_.name) {
            ack_error(reply, pjs::StreamNotMatch());
            return true;
        }
        if (auto id = proto::header_value(headers, "Nats-Msg-Id"); id && !id->empty()) {
            msg_id = *id;
            prune_dedupe(now);
            if (auto it = dedupe_.find(msg_id); it != dedupe_.end()) {
                uint64_t seq = it->second.seq;
                if (seq <= log_->durable_seq() || config_.no_ack) {
                    ack(reply, seq, true);
                } else if (!reply.empty()) {
                    ack_later(reply, seq, true);
                }
                return true;
            }
        }
        // A value that is not a number never matches (nats-server parses it as -1).
        if (auto expected = proto::header_value(headers, "Nats-Expected-Last-Subject-Sequence")) {
            std::optional<uint64_t> want = parse_seq(*expected);
            uint64_t last = 0;
            if (auto record = log_->load_last(subject)) last = record->seq;
            if (want != last) {
                ack_error(reply, pjs::StreamWrongLastSequence(last));
                return true;
            }
        }
        if (auto expected = proto::header_value(headers, "Nats-Expected-Last-Sequence")) {
            if (parse_seq(*expected) != log_->last_seq()) {
                ack_error(reply, pjs::StreamWrongLastSequence(log_->last_seq()));
                return true;
            }
        }
        if (auto expected = proto::header_value(headers, "Nats-Expected-Last-Msg-Id");
            expected && !expected->empty() && *expected != last_msg_id_) {
            ack_error(reply, pjs::StreamWrongLastMsgID(last_msg_id_));
            return true;
        }
        if (auto rollup = proto::header_value(headers, "Nats-Rollup"); rollup && !rollup->empty()) {
            if (!config_.allow_rollup_hdrs || config_.deny_purge) {
                ack_error(reply, pjs::StreamRollupFailed("rollup not permitted"));
                return true;
            }
            if (*rollup == "sub") {
                rollup_subject = true;
            } else if (*rollup == "all") {
                rollup_all = true;
            } else {
                return true;  // nats-server drops it without an answer
            }
        }
    }
    size_t size = headers.size() + payload.size();
    if (config_.max_msg_size >= 0 && size > static_cast<size_t>(config_.max_msg_size)) {
        ack_error(reply, pjs::StreamMessageExceedsMaximum());
        return true;
    }
    if (headers.size() > 0xffff) {
        ack_error(reply, pjs::StreamHeaderExceedsMaximum());
        return true;
    }
    if (js_.over_store_limit(config_.storage)) {
        ack_error(reply, pjs::InsufficientResources());
        return true;
    }
    if (config_.discard == pjs::Discard::kNew) {
        if (auto refused = check_discard_new(subject, size)) {
            ack_error(reply, *refused);
            return true;
        }
    }
    auto seq = log_->append(subject, headers, payload, now);
    if (!seq) {
        if (seq.error() == Errc::kBusy) return false;
        ack_error(reply, pjs::StreamStoreFailed(errc_text(seq.error())));
        return true;
    }
    state_dirty_ = true;
    emptied_by_purge_ = false;
    last_ts_ns_ = now;
    last_msg_id_.assign(msg_id);
    if (!msg_id.empty()) {
        dedupe_[msg_id] = {*seq, now};
        dedupe_order_.emplace_back(now, std::string(msg_id));
    }
    // Interest retention with no consumer keeps nothing (nats-server skips the message but
    // advances the sequence); there are no consumers yet.
    if (config_.retention == pjs::Retention::kInterest) (void)log_->remove(*seq);
    if (rollup_subject || rollup_all) {
        store::PurgeRequest purge;
        if (rollup_subject) purge.subject = std::string(subject);
        purge.keep = 1;
        (void)log_->purge(purge);
    }
    if (!reply.empty() && !config_.no_ack) ack_later(reply, *seq, false);
    return true;
}

void Stream::prune_dedupe(int64_t now) {
    int64_t window = config_.duplicate_window_ns;
    while (!dedupe_order_.empty() && dedupe_order_.front().first < now - window) {
        auto it = dedupe_.find(dedupe_order_.front().second);
        if (it != dedupe_.end() && it->second.ts_ns == dedupe_order_.front().first) dedupe_.erase(it);
        dedupe_order_.pop_front();
    }
}

void Stream::rebuild_dedupe() {
    // The ids of the messages still inside the window, newest last, as after a restart
    // nats-server's rebuildDedupe finds them.
    if (log_->last_seq() == 0 || config_.duplicate_window_ns <= 0) return;
    int64_t since = base::wall_clock_ns() - config_.duplicate_window_ns;
    std::vector<std::pair<uint64_t, std::string>> found;
    for (uint64_t seq = log_->last_seq(); seq >= log_->first_seq() && seq > 0; --seq) {
        auto record = log_->load(seq);
        if (!record) continue;
        if (record->timestamp_ns < since) break;
        if (auto id = proto::header_value(record->headers, "Nats-Msg-Id"); id && !id->empty()) {
            found.emplace_back(seq, std::string(*id));
            if (seq == log_->last_seq()) last_msg_id_ = std::string(*id);
        }
    }
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
        auto record = log_->load(it->first);
        dedupe_[it->second] = {it->first, record->timestamp_ns};
        dedupe_order_.emplace_back(record->timestamp_ns, it->second);
    }
}

void Stream::expire(int64_t now) {
    if (config_.max_age_ns > 0 && log_->expire(now) > 0) {
        state_dirty_ = true;
        emptied_by_purge_ = false;
    }
}

void Stream::publish_state() {
    if (!state_dirty_) return;
    state_dirty_ = false;
    store::StoreState state = log_->state();
    int64_t first_ts = 0;
    if (state.msgs > 0) {
        if (auto first = log_->load(state.first_seq)) first_ts = first->timestamp_ns;
    }
    bytes_counter().fetch_add(static_cast<int64_t>(state.bytes) - static_cast<int64_t>(published_bytes_),
                              std::memory_order_relaxed);
    published_bytes_ = state.bytes;
    js_.report_state(*this, state, first_ts, last_ts_ns_);
}

std::atomic<int64_t>& Stream::bytes_counter() {
    return config_.storage == pjs::Storage::kMemory ? js_.counters().memory_bytes : js_.counters().file_bytes;
}

// ---------------------------------------------------------------------------------------------
// Requests

void Stream::reply_json(std::string_view reply, const json& body) { js_.api_reply(reply, body.dump()); }

void Stream::reply_error(std::string_view reply, std::string_view type, const proto::js::ApiError& error) {
    js_.api_error(reply, type, error);
}

void Stream::info_json(json& out, bool deleted_details, std::string_view subjects_filter, size_t offset,
                       size_t* subjects_total) const {
    store::StoreState state = log_->state();
    json st = json::object();
    st["messages"] = state.msgs;
    st["bytes"] = state.bytes;
    st["first_seq"] = state.last_seq == 0 ? 0 : state.first_seq;
    st["first_ts"] = first_ts_text(state);
    st["last_seq"] = state.last_seq;
    st["last_ts"] = pjs::rfc3339(last_ts_ns_);
    if (state.num_subjects > 0) st["num_subjects"] = state.num_subjects;
    if (!subjects_filter.empty()) {
        std::vector<std::pair<std::string, uint64_t>> subjects;
        log_->for_each_subject([&](std::string_view subject, uint64_t count, uint64_t) {
            if (subjects_filter == ">" || base::subject_matches(subjects_filter, subject)) {
                subjects.emplace_back(std::string(subject), count);
            }
        });
        std::sort(subjects.begin(), subjects.end());
        if (subjects_total != nullptr) *subjects_total = subjects.size();
        constexpr size_t kMaxSubjectDetails = 100'000;
        offset = std::min(offset, subjects.size());
        size_t end = std::min(subjects.size(), offset + kMaxSubjectDetails);
        if (end > offset) {
            json map = json::object();
            for (size_t i = offset; i < end; ++i) map[subjects[i].first] = subjects[i].second;
            st["subjects"] = std::move(map);
        }
    }
    if (state.num_deleted > 0) {
        st["num_deleted"] = state.num_deleted;
        if (deleted_details) {
            json deleted = json::array();
            for (uint64_t seq = state.first_seq; seq <= state.last_seq; ++seq) {
                if (!log_->contains(seq)) deleted.push_back(seq);
            }
            st["deleted"] = std::move(deleted);
        }
    }
    st["consumer_count"] = 0;
    out["config"] = pjs::to_json(config_);
    out["created"] = pjs::rfc3339(created_ns_);
    out["state"] = std::move(st);
}

Result<store::RecordView> Stream::load_last_matching(std::string_view filter) const {
    if (filter.empty() || filter == ">") {
        for (uint64_t seq = log_->last_seq(); seq >= log_->first_seq() && seq > 0; --seq) {
            if (log_->contains(seq)) return log_->load(seq);
        }
        return std::unexpected(Errc::kNotFound);
    }
    if (filter.find_first_of("*>") == std::string_view::npos) return log_->load_last(filter);
    uint64_t last = 0;
    log_->for_each_subject([&](std::string_view subject, uint64_t, uint64_t subject_last) {
        if (subject_last > last && base::subject_matches(filter, subject)) last = subject_last;
    });
    if (last == 0) return std::unexpected(Errc::kNotFound);
    return log_->load(last);
}

Result<store::RecordView> Stream::lookup(uint64_t seq, std::string_view last_for, std::string_view next_for) const {
    if (!next_for.empty()) {
        auto found = log_->next_seq(seq, next_for);
        if (!found) return std::unexpected(found.error());
        return log_->load(*found);
    }
    if (!last_for.empty()) return load_last_matching(last_for);
    return log_->load(seq);
}

std::string Stream::first_ts_text(const store::StoreState& state) const {
    if (state.msgs > 0) {
        if (auto first = log_->load(state.first_seq)) return pjs::rfc3339(first->timestamp_ns);
    }
    if (state.last_seq > 0 && !emptied_by_purge_) return "1970-01-01T00:00:00Z";
    return pjs::rfc3339(0);
}

void Stream::handle_request(std::string_view op, const MsgView& msg) {
    if (op == "STREAM.INFO") {
        api_info(msg);
    } else if (op == "STREAM.PURGE") {
        api_purge(msg);
    } else if (op == "STREAM.MSG.GET") {
        api_msg_get(msg);
    } else if (op == "STREAM.MSG.DELETE") {
        api_msg_delete(msg);
    } else if (op.starts_with("DIRECT.GET")) {
        std::string_view rest = op.substr(std::string_view("DIRECT.GET").size());
        api_direct_get(msg, rest.empty() ? rest : rest.substr(1));
    }
}

void Stream::api_info(const MsgView& msg) {
    RequestBody request(msg.payload);
    bool details = request.boolean("deleted_details");
    std::string filter = request.string("subjects_filter");
    int64_t offset_field = request.i64("offset");
    size_t offset = static_cast<size_t>(std::max<int64_t>(0, offset_field));
    if (!request.valid()) {
        reply_error(msg.reply, kInfoType, pjs::InvalidJSON());
        return;
    }
    json out = json::object();
    out["type"] = kInfoType;
    size_t total = 0;
    info_json(out, details, filter, offset, &total);
    out["total"] = total;
    out["offset"] = total == 0 ? 0 : std::min(offset, total);
    out["limit"] = total == 0 ? 0 : 100'000;
    reply_json(msg.reply, out);
}

void Stream::api_purge(const MsgView& msg) {
    if (config_.sealed) {
        reply_error(msg.reply, kPurgeType, pjs::StreamSealed());
        return;
    }
    if (config_.deny_purge) {
        reply_error(msg.reply, kPurgeType, pjs::StreamPurgeFailed("stream purge not permitted"));
        return;
    }
    store::PurgeRequest purge;
    {
        RequestBody request(msg.payload);
        purge.subject = request.string("filter");
        purge.up_to_seq = request.u64("seq");
        purge.keep = request.u64("keep");
        if (!request.valid()) {
            reply_error(msg.reply, kPurgeType, pjs::InvalidJSON());
            return;
        }
        if (purge.up_to_seq > 0 && purge.keep > 0) {
            reply_error(msg.reply, kPurgeType, pjs::BadRequest());
            return;
        }
        if (!purge.subject.empty() && !proto::is_valid_subject(purge.subject)) {
            reply_error(msg.reply, kPurgeType, pjs::StreamPurgeFailed("invalid subject"));
            return;
        }
    }
    auto purged = log_->purge(purge);
    if (!purged) {
        reply_error(msg.reply, kPurgeType, pjs::StreamPurgeFailed(errc_text(purged.error())));
        return;
    }
    state_dirty_ = true;
    // A filtered purge removes message by message, as a delete does.
    emptied_by_purge_ = purge.subject.empty();
    reply_json(msg.reply, {{"type", kPurgeType}, {"success", true}, {"purged", *purged}});
}

void Stream::api_msg_get(const MsgView& msg) {
    RequestBody request(msg.payload);
    uint64_t seq = request.u64("seq");
    std::string last_for = request.string("last_by_subj");
    std::string next_for = request.string("next_by_subj");
    if (!request.valid()) {
        reply_error(msg.reply, kMsgGetType, pjs::InvalidJSON());
        return;
    }
    if ((seq > 0 && !last_for.empty()) || (seq == 0 && last_for.empty() && next_for.empty()) ||
        (!last_for.empty() && !next_for.empty())) {
        reply_error(msg.reply, kMsgGetType, pjs::BadRequest());
        return;
    }
    Result<store::RecordView> record = lookup(seq, last_for, next_for);
    if (!record) {
        reply_error(msg.reply, kMsgGetType, pjs::NoMessageFound());
        return;
    }
    json message = {{"subject", record->subject}, {"seq", record->seq}};
    if (!record->headers.empty()) {
        message["hdrs"] = absl::Base64Escape(absl::string_view(record->headers.data(), record->headers.size()));
    }
    if (!record->payload.empty()) {
        message["data"] = absl::Base64Escape(absl::string_view(record->payload.data(), record->payload.size()));
    }
    message["time"] = pjs::rfc3339(record->timestamp_ns);
    // nats-server does not count a successful MSG.GET in the api totals.
    json out = {{"type", kMsgGetType}, {"message", std::move(message)}};
    if (!msg.reply.empty()) js_.send(msg.reply, {}, out.dump());
}

void Stream::api_msg_delete(const MsgView& msg) {
    if (config_.sealed) {
        reply_error(msg.reply, kMsgDeleteType, pjs::StreamSealed());
        return;
    }
    if (config_.deny_delete) {
        reply_error(msg.reply, kMsgDeleteType, pjs::StreamMsgDeleteFailed("message delete not permitted"));
        return;
    }
    if (is_empty_request(msg.payload)) {
        reply_error(msg.reply, kMsgDeleteType, pjs::BadRequest());
        return;
    }
    RequestBody request(msg.payload);
    uint64_t seq = request.u64("seq");
    bool erase = !request.boolean("no_erase");
    if (!request.valid()) {
        reply_error(msg.reply, kMsgDeleteType, pjs::InvalidJSON());
        return;
    }
    // Erased (the default, as in nats-server): the message's bytes also leave the files, once
    // its segment is rewritten without it (StreamLog::remove).
    auto removed = log_->remove(seq, erase);
    if (!removed) {
        if (removed.error() == Errc::kNotFound) {
            // nats-server sends these in its normal answer: counted, but not as errors.
            js_.api_reply(msg.reply, pjs::error_response(
                                         kMsgDeleteType, seq == 0 || seq < log_->first_seq() ? pjs::StreamMsgDeleteFailed("no message found")
                                                         : seq > log_->last_seq()
                                                             ? pjs::StreamMsgDeleteFailed("stream store EOF")
                                                             : pjs::SequenceNotFound(seq)));
        } else {
            reply_error(msg.reply, kMsgDeleteType, pjs::StreamMsgDeleteFailed(errc_text(removed.error())));
        }
        return;
    }
    state_dirty_ = true;
    emptied_by_purge_ = false;
    reply_json(msg.reply, {{"type", kMsgDeleteType}, {"success", true}});
}

void Stream::api_direct_get(const MsgView& msg, std::string_view last_subject) {
    if (msg.reply.empty() || !config_.allow_direct) return;
    auto status = [&](std::string_view text) { js_.send(msg.reply, text, {}); };
    Result<store::RecordView> record = std::unexpected(Errc::kNotFound);
    if (!last_subject.empty()) {
        if (!msg.payload.empty()) {
            status("NATS/1.0 408 Bad Request\r\n\r\n");
            return;
        }
        record = load_last_matching(last_subject);
    } else {
        if (msg.payload.empty()) {
            status("NATS/1.0 408 Empty Request\r\n\r\n");
            return;
        }
        RequestBody request(msg.payload);
        uint64_t seq = request.u64("seq");
        std::string last_for = request.string("last_by_subj");
        std::string next_for = request.string("next_by_subj");
        if (!request.valid()) {
            status("NATS/1.0 408 Malformed Request\r\n\r\n");
            return;
        }
        if (seq == 0 && last_for.empty() && next_for.empty()) {
            status("NATS/1.0 408 Empty Request\r\n\r\n");
            return;
        }
        if ((seq > 0 && !last_for.empty()) || (!last_for.empty() && !next_for.empty())) {
            status("NATS/1.0 408 Bad Request\r\n\r\n");
            return;
        }
        record = lookup(seq, last_for, next_for);
    }
    if (!record) {
        status("NATS/1.0 404 Message Not Found\r\n\r\n");
        return;
    }
    std::string headers = record->headers.empty() ? std::string("NATS/1.0\r\n\r\n") : std::string(record->headers);
    headers = add_header(std::move(headers), "Nats-Stream", config_.name);
    headers = add_header(std::move(headers), "Nats-Subject", record->subject);
    headers = add_header(std::move(headers), "Nats-Sequence", std::to_string(record->seq));
    headers = add_header(std::move(headers), "Nats-Time-Stamp", pjs::rfc3339(record->timestamp_ns));
    js_.send(msg.reply, headers, record->payload);
}

}  // namespace ringtail::core::js
