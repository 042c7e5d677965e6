#include "core/js/stream.h"

#include <absl/strings/escaping.h>
#include <absl/strings/match.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <chrono>
#include <filesystem>

#include "base/clock.h"
#include "base/subject_match.h"
#include "core/js/consumer.h"
#include "core/js/consumer_log.h"
#include "core/js/random.h"
#include "core/js/jetstream.h"
#include "core/js/request_body.h"
#include "core/js/stream_requests.h"
#include "core/js/source.h"
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
// this, a publish gets an error ack instead of waiting. From kWaitingHoldBytes on, whoever
// sends them is held back (backed_up_for()), so only a device stalled for longer than the
// holds last gets that far.
constexpr size_t kWaitingBytesMax = 64u << 20;
constexpr size_t kWaitingHoldBytes = 8u << 20;
// A memory stream's segments: anonymous mappings, paid for only where written.
constexpr uint64_t kMemorySegmentBytes = 8u << 20;
// Every log starts with a small segment; the next ones double (store/stream_log.h).
constexpr uint64_t kFirstSegmentBytes = 1u << 20;
// Direct gets: "$JS.API.DIRECT.GET.<stream>[.<last subject>]", taken by a queue group (the
// stream, and its mirrors with mirror_direct).
constexpr std::string_view kDirectGetPrefix = "$JS.API.DIRECT.GET.";

// A record's bytes beyond its message's headers and payload (which max_payload bounds): the
// subject (a control line's worth, 4 KiB by default), the record's fields, the headers a
// source adds.
constexpr size_t kRecordSlackBytes = 64u << 10;

// The bytes a record of the largest message takes, in whole pages.
constexpr size_t record_bytes_for(int64_t max_payload) {
    const size_t largest = static_cast<size_t>(std::max<int64_t>(max_payload, 0)) + kRecordSlackBytes;
    return (largest + store::kPageBytes - 1) / store::kPageBytes * store::kPageBytes;
}

// The largest write: a record of the largest message under the default max_payload (1 MiB).
constexpr size_t kWriteBytes = record_bytes_for(1 << 20);

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
    : js_(js), config_(std::move(config)), created_ns_(created_ns) {
    js_.counters().streams.fetch_add(1, std::memory_order_relaxed);
    // Updates cannot change republish: it is set up once.
    if (const json& republish = config_.republish; republish.is_object()) {
        republish_ = pjs::SubjectTransform::make(republish.value("src", ""), republish.value("dest", ""));
        republish_headers_only_ = republish.value("headers_only", false);
    }
    set_subject_transform();
}

void Stream::set_subject_transform() {
    subject_transform_.reset();
    if (const json& transform = config_.subject_transform; transform.is_object()) {
        std::string source = transform.value("src", "");
        subject_transform_ = pjs::SubjectTransform::make(source.empty() ? ">" : source, transform.value("dest", ""));
    }
}

// nats-server's processJetStreamMsg: a stored message goes on to its republish subject with
// where it came from (Nats-Stream, Nats-Subject, Nats-Sequence and the previous sequence of
// its subject, Nats-Last-Sequence), as it is stored, not once it is durable.
void Stream::republish(std::string_view subject, std::string_view headers, std::string_view payload, uint64_t seq,
                       uint64_t subject_last) {
    std::optional<std::string> target = republish_->apply(subject);
    if (!target) return;
    std::string out = headers.size() > 2 ? std::string(headers.substr(0, headers.size() - 2)) : "NATS/1.0\r\n";
    out += "Nats-Stream: " + config_.name + "\r\nNats-Subject: " + std::string(subject) +
           "\r\nNats-Sequence: " + std::to_string(seq) + "\r\nNats-Last-Sequence: " + std::to_string(subject_last) +
           "\r\n";
    if (republish_headers_only_) out += "Nats-Msg-Size: " + std::to_string(payload.size()) + "\r\n";
    out += "\r\n";
    js_.send(*target, out, republish_headers_only_ ? std::string_view{} : payload);
}

Stream::~Stream() {
    js_.forget(*this);
    js_.counters().streams.fetch_sub(1, std::memory_order_relaxed);
    origins_.clear();
    forget_all_consumers();
    unsubscribe_subjects();
}

Result<std::unique_ptr<Stream>, Error> Stream::open(JetStream& js, const proto::js::StreamConfig& config,
                                                    int64_t created_ns, bool create) {
    std::unique_ptr<Stream> stream(new Stream(js, config, created_ns));
    if (auto opened = stream->open_log(create); !opened) return std::unexpected(opened.error());
    if (auto opened = stream->open_consumers(create); !opened) return std::unexpected(opened.error());
    stream->subscribe_subjects();
    stream->start_origins();
    stream->wake();  // recovery may have left writes owed
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
        dir_ = streams_dir(js_.store_dir(), js_.account_name()) + "/" + config_.name;
        options.dir = dir_ + "/msgs";
        options.message_bytes = file_message_bytes;
        options.first_segment_bytes = kFirstSegmentBytes;
        // A stream capped by max_bytes gets segments of a quarter of it, as nats-server sizes
        // its blocks: with the 64 MiB ones, a stream held to 16 MiB took up to 192 MiB of
        // disk (the segment it fills, the one it empties and the spare).
        if (config_.max_bytes > 0) {
            uint64_t quarter = (static_cast<uint64_t>(config_.max_bytes) / 4 + 4095) / 4096 * 4096;
            options.segment_bytes = std::clamp<uint64_t>(quarter, kFirstSegmentBytes, options.segment_bytes);
        }
        if (create) {
            // The stream's directory durable in its parent; the messages' directory in it
            // durable with meta.json (write_meta syncs the stream's directory), so the log
            // finds it there and syncs nothing more.
            if (auto made = js_.file_disk().make_dir(dir_); !made) {
                return fail(made.error(), "creating " + dir_ + ": " + js_.file_disk().take_error());
            }
            std::error_code ec;
            std::filesystem::create_directory(options.dir, ec);
            if (ec) return fail(Errc::kIo, "creating " + options.dir + ": " + ec.message());
            if (auto written = write_meta(dir_, config_, created_ns_, js_.host().shard_index()); !written) {
                return written;
            }
        }
    }
    // Room for the largest message a client may publish: the tail holds two records of it,
    // and so does a segment. Writes keep their size whatever max_payload is (so a restart
    // with a smaller one still zeroes all a crash can have left past the durable end).
    sized_for_max_payload_ = js_.max_payload();
    const size_t record_bytes = record_bytes_for(sized_for_max_payload_);
    options.flush_bytes_max = kWriteBytes;
    options.tail_bytes_max = std::max(options.tail_bytes_max, std::bit_ceil(2 * record_bytes));
    options.segment_bytes = std::max<uint64_t>(options.segment_bytes, 2 * record_bytes);
    // The message ids still inside the duplicate window and the messages' TTLs, as the
    // recovery scan reads them (one pass over the log, not a second one after it).
    std::vector<SeenId> seen;
    int64_t since = base::wall_clock_ns() - config_.duplicate_window_ns;
    bool dedupe = config_.duplicate_window_ns > 0;
    bool ttls = config_.allow_msg_ttl;
    if (dedupe || ttls) {
        // Only the recent records are read for the duplicate window; TTLs need every one.
        options.recovered_since_ns = ttls ? INT64_MIN : since;
        options.on_recovered = [this, &seen, since, dedupe, ttls](const store::RecordView& record) {
            if (record.headers.empty()) return;
            if (ttls) ttls_.note(record.seq, record.timestamp_ns, record.headers);
            if (!dedupe || record.timestamp_ns < since) return;
            if (auto id = proto::header_value(record.headers, "Nats-Msg-Id"); id && !id->empty()) {
                seen.push_back({record.seq, record.timestamp_ns, std::string(*id)});
            }
        };
    }
    store::RecoveryReport report;
    disk_ = disk;
    (void)disk->take_error();  // one left from before is not this open's
    auto log = store::StreamLog::open(*disk, options, &report);
    if (!log) {
        std::string what = report.detail;
        if (what.empty()) what = disk->take_error();
        if (what.empty()) what = errc_text(log.error());
        return fail(log.error(), "stream '" + config_.name + "': " + what);
    }
    if (!report.detail.empty()) log_warn("JetStream stream '" + config_.name + "' recovered: " + report.detail);
    lost_ = std::move(report.lost);
    lost_bytes_ = report.damaged_bytes;
    log_ = std::move(*log);
    ttls_.forget_if([this](uint64_t seq) { return !log_->contains(seq); });  // the scan saw deleted ones too
    if (create && config_.first_seq > 1) {
        // first_seq: the sequences before it are used up, as nats-server purges up to it.
        if (auto skipped = log_->skip(config_.first_seq - 1); !skipped) {
            return fail(skipped.error(), "stream '" + config_.name + "': starting at first_seq " +
                                             std::to_string(config_.first_seq) + ": " + std::string(errc_text(skipped.error())));
        }
    }
    log_->set_durable_callback([this](uint64_t durable_seq) { on_durable(durable_seq); });
    log_->set_removed_callback([this](uint64_t seq, std::string_view subject) { on_removed(seq, subject); });
    fill_dedupe(seen);
    last_ts_ns_ = log_->last_timestamp();
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
    subscribe_direct();
}

void Stream::unsubscribe_subjects() {
    for (auto& sub : subs_) js_.host().unsubscribe(*sub);
    subs_.clear();
    unsubscribe_direct();
}

void Stream::subscribe_direct() {
    // Direct gets of this stream (allow_direct) and, for a mirror with mirror_direct once it
    // has caught up, of its origin, in one queue group per stream name as nats-server's: each
    // get, from whichever shard, is answered once, by the stream or by one of its mirrors.
    if (config_.allow_direct) subscribe_direct_for(config_.name);
    if (mirror_caught_up_ && config_.mirror_direct && config_.mirror.is_object()) {
        subscribe_direct_for(config_.mirror.value("name", ""));
    }
    interest_seq_ = js_.host().interest_seq_sent();
}

void Stream::subscribe_direct_for(const std::string& name) {
    const std::string direct = std::string(kDirectGetPrefix) + name;
    for (std::string subject : {direct, direct + ".>"}) {
        auto sub = std::make_unique<Subscription>();
        sub->owner = &direct_gets_;
        sub->subject = std::move(subject);
        sub->queue = pjs::kSystemQueueGroup;
        sub->sid = "js:direct:" + name;
        js_.host().subscribe(*sub);
        direct_subs_.push_back(std::move(sub));
    }
}

void Stream::mirror_caught_up() {
    if (mirror_caught_up_) return;
    mirror_caught_up_ = true;
    if (config_.mirror_direct && config_.mirror.is_object()) {
        subscribe_direct_for(config_.mirror.value("name", ""));
        interest_seq_ = js_.host().interest_seq_sent();
    }
}

void Stream::unsubscribe_direct() {
    for (auto& sub : direct_subs_) js_.host().unsubscribe(*sub);
    direct_subs_.clear();
    interest_seq_ = js_.host().interest_seq_sent();
}

Result<void, Error> Stream::update(const proto::js::StreamConfig& config) {
    wake();
    // 2.10: new consumer_limits that consumers already exceed refuse the update.
    int64_t threshold = config.consumer_limits_inactive_threshold_ns;
    int64_t ack_pending = config.consumer_limits_max_ack_pending;
    if ((threshold > 0 && threshold != config_.consumer_limits_inactive_threshold_ns) ||
        (ack_pending > 0 && ack_pending != config_.consumer_limits_max_ack_pending)) {
        std::string violating;
        for (const auto& [name, consumer] : consumers_) {
            const pjs::ConsumerConfig& c = consumer->config();
            if ((threshold > 0 && c.inactive_threshold_ns > threshold) || (ack_pending > 0 && c.max_ack_pending > ack_pending)) {
                violating += (violating.empty() ? "" : ", ") + name;
            }
        }
        if (!violating.empty()) return fail(Errc::kInvalid, "change to limits violates consumers: " + violating);
    }
    bool subjects_changed = config.subjects != config_.subjects;
    bool direct_changed = config.allow_direct != config_.allow_direct || config.mirror_direct != config_.mirror_direct;
    if (!dir_.empty()) {
        if (auto written = write_meta(dir_, config, created_ns_, js_.host().shard_index()); !written) return written;
    }
    bool sources_changed = config.sources != config_.sources;
    bool ttls_started = config.allow_msg_ttl && !config_.allow_msg_ttl;
    config_ = config;
    if (ttls_started) read_ttls();
    set_subject_transform();
    log_->set_limits(store_limits());
    expire(base::wall_clock_ns());  // a shorter max_age shows in the update's answer already
    if (subjects_changed) {
        unsubscribe_subjects();
        subscribe_subjects();
    } else if (direct_changed) {
        unsubscribe_direct();
        subscribe_direct();
    }
    if (sources_changed) update_sources();
    dedupe_.clear();
    dedupe_order_.clear();
    rebuild_dedupe();
    state_dirty_ = true;
    return {};
}

void Stream::destroy() {
    stop_origins();
    unsubscribe_subjects();
    for (auto& [name, consumer] : consumers_) consumer->destroy();
    forget_all_consumers();
    consumer_log_.reset();
    // Acks still pending would announce messages that are about to vanish: answer them now,
    // as nats-server's acks would have gone out already.
    on_durable(UINT64_MAX);
    release_held(true);
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
        // Out of the catalogue's sight in one step, then removed: a crash midway must not leave
        // a stream whose config is there and whose messages are not (its sequences would be
        // given again). A name with a dot is never a stream's; the next start finishes the job.
        std::error_code ec;
        std::string deleted = dir_ + std::string(kDeletedSuffix);
        std::filesystem::remove_all(deleted, ec);
        std::filesystem::rename(dir_, deleted, ec);
        if (!ec) std::filesystem::remove_all(deleted, ec);
        if (ec) log_error("JetStream could not remove " + dir_ + ": " + ec.message());
    }
}

// ---------------------------------------------------------------------------------------------
// Publish

Subscriber::Delivery Stream::DirectGets::deliver(Subscription& sub, const MsgView& msg) {
    // "$JS.API.DIRECT.GET.<name>" or "$JS.API.DIRECT.GET.<name>.>": the name, and the subject
    // a get by the last subject asks for.
    std::string_view name = std::string_view(sub.subject).substr(kDirectGetPrefix.size());
    std::string_view last_subject;
    if (name.ends_with(".>")) {
        name.remove_suffix(2);
        last_subject = msg.subject.substr(sub.subject.size() - 1);
    }
    stream_.api_direct_get(msg, last_subject, /*for_origin=*/name != stream_.name());
    return Delivery::kDelivered;
}

void Stream::wake() {
    if (!woken_) js_.activate(*this);
}

bool Stream::has_work() const {
    return !waiting_.empty() || !held_replies_.empty() || !pending_acks_.empty() || state_dirty_ ||
           log_->has_work() || (consumer_log_ && consumer_log_->has_work());
}

Subscriber::Delivery Stream::deliver(Subscription&, const MsgView& msg) {
    wake();
    std::string_view subject = msg.subject;
    std::optional<std::string> transformed;
    // subject_transform (2.10): a publish matching its source is stored under its destination.
    if (subject_transform_ && (transformed = subject_transform_->apply(subject))) subject = *transformed;
    if (waiting_.empty() && process(subject, msg.reply, msg.headers, msg.payload)) return Delivery::kDelivered;
    if (!queue_waiting({std::string(subject), std::string(msg.reply), std::string(msg.headers),
                        std::string(msg.payload)})) {
        ack_error(msg.reply, pjs::StreamStoreFailed("store is busy"));
    }
    return Delivery::kDelivered;
}

std::chrono::steady_clock::duration Stream::backed_up_for() const {
    // 100 ms, and 100 ms more per further kWaitingHoldBytes; the hold ends as soon as the
    // writes have taken the queue below kWaitingHoldBytes again.
    if (waiting_bytes_ < kWaitingHoldBytes) return {};
    return std::chrono::milliseconds(100) * (1 + (waiting_bytes_ - kWaitingHoldBytes) / kWaitingHoldBytes);
}

bool Stream::queue_waiting(Waiting waiting) {
    size_t bytes = waiting.subject.size() + waiting.reply.size() + waiting.headers.size() + waiting.payload.size();
    if (waiting_bytes_ + bytes > kWaitingBytesMax) return false;
    waiting_bytes_ += bytes;
    waiting_.push_back(std::move(waiting));
    return true;
}

bool Stream::take_mirrored(std::string_view subject, std::string_view headers, std::string_view payload,
                           uint64_t seq, int64_t ts) {
    wake();
    if (waiting_.empty() && process(subject, {}, headers, payload, seq, ts)) return true;
    return queue_waiting({std::string(subject), {}, std::string(headers), std::string(payload), seq, ts});
}

bool Stream::take_sourced(std::string_view subject, std::string_view headers, std::string_view payload) {
    wake();
    if (waiting_.empty() && process(subject, {}, headers, payload, 0, 0, true)) return true;
    return queue_waiting({std::string(subject), {}, std::string(headers), std::string(payload), 0, 0, true});
}

void Stream::skip_to(uint64_t seq) {
    // Queued like a copy with no message, so that it keeps its place among them; refused only
    // by a full queue, and then the next copy stored skips all the same.
    if (seq > log_->last_seq()) (void)take_mirrored({}, {}, {}, seq + 1, 0);
}

void Stream::flush() {
    for (auto& origin : origins_) origin->poll();
    if (consumer_log_) consumer_log_->flush();
    bool waited = !waiting_.empty();
    while (!waiting_.empty()) {
        Waiting& next = waiting_.front();
        if (!process(next.subject, next.reply, next.headers, next.payload, next.mirror_seq, next.mirror_ts,
                     next.sourced)) {
            break;
        }
        waiting_bytes_ -= next.subject.size() + next.reply.size() + next.headers.size() + next.payload.size();
        waiting_.pop_front();
    }
    if (waited && waiting_.empty()) {
        for (auto& origin : origins_) origin->resume();
    }
    release_held(false);
    log_->flush();
}

void Stream::hold(HeldReply held) {
    if (held.kind != Held::kPubAck) held.audit = js_.keep_audit();
    held_replies_.push_back(std::move(held));
    release_held(false);
}

void Stream::release_held(bool all) {
    bool failed = log_->sticky_error() != Errc::kOk;
    std::erase_if(held_replies_, [&](const HeldReply& held) {
        if (held.kind == Held::kConsumer) {
            // Due once its record is durable; a consumer log that failed first never makes it so
            // (its consumers go on in memory).
            bool durable = !consumer_log_ || consumer_log_->durable_seq() >= held.consumer_log_seq;
            bool lost = !durable && consumer_log_->failed();
            if (!durable && !lost && !all) return false;
            js_.answer_kept(held.audit, [&] {
                if (lost && !held.created.empty() && consumers_.contains(held.created)) {
                    // Its record never reached the disk: a restart would not know it.
                    delete_consumer(held.created);
                    reply_error(held.reply, pjs::kConsumerCreateResponse,
                                pjs::ConsumerCreate("error creating store for consumer"));
                } else {
                    js_.api_reply(held.reply, held.body, held.interest_seq);
                }
            });
            return true;
        }
        bool due = log_->last_seq() >= held.last_seq && log_->durable_seq() >= held.durable_seq &&
                   log_->deletions_durable() >= held.ticket;
        if (!due && !all && !failed) return false;
        if (held.kind == Held::kPubAck) {
            if (due || all) {
                js_.send(held.reply, {}, held.body);
            } else {
                ack_error(held.reply, pjs::StreamStoreFailed(errc_text(log_->sticky_error())));
            }
            return true;
        }
        js_.answer_kept(held.audit, [&] {
            if (due || all) {
                js_.api_reply(held.reply, held.body);
            } else if (held.kind == Held::kDelete) {
                reply_error(held.reply, kMsgDeleteType, pjs::StreamMsgDeleteFailed(errc_text(log_->sticky_error())));
            } else {
                reply_error(held.reply, kPurgeType, pjs::StreamPurgeFailed(errc_text(log_->sticky_error())));
            }
        });
        return true;
    });
}

void Stream::ack(std::string_view reply, uint64_t seq, bool duplicate) {
    if (reply.empty() || config_.no_ack) return;
    // pjs::pub_ack's bytes, from a per-stream prefix into a reused buffer: one per message.
    if (ack_prefix_.empty()) {
        ack_prefix_ = pjs::pub_ack(config_.name, 0, false, js_.domain());
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
    wake();
    // Consumers deliver only what is on stable storage: those waiting for it look again.
    std::vector<Consumer*> awaiting;
    awaiting.swap(awaiting_durable_);
    for (Consumer* consumer : awaiting) consumer->on_stream_durable();
    while (!pending_acks_.empty()) {
        auto pending = pending_acks_.front();
        uint64_t seq = pending.tag >> 1;
        if (seq > durable_seq) {
            // The log failed before this one was durable: it never will be.
            if (log_->sticky_error() == Errc::kOk) break;
            ack_error(pending.parts[0], pjs::StreamStoreFailed(errc_text(log_->sticky_error())));
        } else {
            ack(pending.parts[0], seq, (pending.tag & 1) != 0);
        }
        pending_acks_.pop();
    }
    release_held(false);  // deletions durable now, or a failed log
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
                     std::string_view payload, uint64_t mirror_seq, int64_t mirror_ts, bool sourced) {
    // max_payload raised by a reload since the log opened: the log makes room for such
    // records. Sized from the message too, as the client's shard may have applied the reload
    // before this one.
    if (int64_t largest = std::max(js_.max_payload(), static_cast<int64_t>(headers.size() + payload.size()));
        largest > sized_for_max_payload_) {
        sized_for_max_payload_ = largest;
        log_->raise_record_size(record_bytes_for(sized_for_max_payload_));
    }
    if (mirror_seq != 0) return store_mirrored(subject, headers, payload, mirror_seq, mirror_ts);
    if (config_.sealed) {
        ack_error(reply, pjs::StreamSealed());
        return true;
    }
    // The checks of nats-server's processJetStreamMsg, in its order.
    std::string_view msg_id;
    std::optional<std::string_view> ttl_text;
    bool rollup_subject = false;
    bool rollup_all = false;
    int64_t now = base::wall_clock_ns();
    if (!headers.empty()) {
        if (auto expected = proto::header_value(headers, "Nats-Expected-Stream");
            expected && !expected->empty() && *expected != config_.name) {
            ack_error(reply, pjs::StreamNotMatch());
            return true;
        }
        ttl_text = proto::header_value(headers, "Nats-TTL");
        if (ttl_text && !config_.allow_msg_ttl && !sourced) {
            if (auto ttl = parse_message_ttl(*ttl_text); ttl && *ttl != 0) {
                ack_error(reply, pjs::MessageTTLDisabled());
                return true;
            }
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
            uint64_t last = log_->last_seq_of(subject);
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
            // nats-server lower-cases the value first.
            absl::string_view value(rollup->data(), rollup->size());
            if (absl::EqualsIgnoreCase(value, "sub")) {
                rollup_subject = true;
            } else if (absl::EqualsIgnoreCase(value, "all")) {
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
    // Interest retention keeps a message only if some consumer wants its subject: nats-server
    // skips it (the sequence advances, its id counts for duplicates) before the limits.
    if (config_.retention == pjs::Retention::kInterest && !any_consumer_wants(subject)) {
        uint64_t seq = log_->last_seq() + 1;
        bool empty = log_->state().msgs == 0;
        if (auto skipped = log_->skip(seq); !skipped) {
            if (skipped.error() == Errc::kBusy) return false;
            note_store_failure(skipped.error(), now);
            ack_error(reply, pjs::StreamStoreFailed(errc_text(skipped.error())));
            return true;
        }
        state_dirty_ = true;
        if (empty) {
            emptied_ = Emptied::kBySkip;
            skipped_ns_ = now;
        }
        last_ts_ns_ = now;
        remember_msg_id(msg_id, seq, now);
        if (!reply.empty() && !config_.no_ack) ack_later(reply, seq, false);
        return true;
    }
    // nats-server stores, then takes the message back if it put the account over its limits.
    auto stored_bytes = config_.storage == pjs::Storage::kMemory ? memory_message_bytes : file_message_bytes;
    if (js_.over_account_limit(config_.storage, stored_bytes(subject.size(), headers.size(), payload.size()))) {
        // Its sequence stays used, as after nats-server took it back.
        if (auto skipped = log_->skip(log_->last_seq() + 1); !skipped && skipped.error() == Errc::kBusy) return false;
        state_dirty_ = true;
        emptied_ = Emptied::kOther;
        last_ts_ns_ = now;
        ack_error(reply, pjs::AccountResourcesExceeded());
        return true;
    }
    if (config_.discard == pjs::Discard::kNew) {
        if (auto refused = check_discard_new(subject, size)) {
            ack_error(reply, *refused);
            return true;
        }
    }
    int64_t ttl = 0;
    std::string raised_ttl_headers;
    if (ttl_text) {
        std::optional<int64_t> parsed = parse_message_ttl(*ttl_text);
        if (!parsed) {
            ack_error(reply, pjs::MessageTTLInvalid());
            return true;
        }
        ttl = *parsed;
        // A TTL shorter than the markers' could let a subject's marker go unseen: it is raised
        // to theirs (unless a subject holds one message only).
        int64_t marker_ttl = config_.subject_delete_marker_ttl_ns / 1'000'000'000;
        if (ttl > 0 && ttl < marker_ttl && config_.max_msgs_per_subject != 1) {
            ttl = marker_ttl;
            raised_ttl_headers = proto::with_header(headers, "Nats-TTL", std::to_string(ttl));
            headers = raised_ttl_headers;
        }
    }
    uint64_t subject_last = republish_ ? log_->last_seq_of(subject) : 0;
    auto seq = log_->append(subject, headers, payload, now);
    if (!seq) {
        if (seq.error() == Errc::kBusy) return false;
        note_store_failure(seq.error(), now);
        // A copy from a source waits for room: its origin has moved past it.
        if (sourced && seq.error() == Errc::kNoSpace) return false;
        ack_error(reply, pjs::StreamStoreFailed(errc_text(seq.error())));
        return true;
    }
    note_stored(now);
    if (ttl != 0 && config_.allow_msg_ttl) ttls_.add(*seq, now, ttl);
    if (republish_) republish(subject, headers, payload, *seq, subject_last);
    state_dirty_ = true;
    emptied_ = Emptied::kOther;
    last_ts_ns_ = now;
    remember_msg_id(msg_id, *seq, now);
    consumer_index_.for_each_wanting(subject, [&](Consumer& consumer) { consumer.on_appended(*seq); });
    if (rollup_subject || rollup_all) {
        roll_up(rollup_subject ? subject : std::string_view());
        // Its PubAck waits for what it rolled up to be gone for good as well.
        if (!reply.empty() && !config_.no_ack) {
            hold({.kind = Held::kPubAck,
                  .durable_seq = *seq,
                  .ticket = log_->deletion_ticket(),
                  .reply = std::string(reply),
                  .body = pjs::pub_ack(config_.name, *seq, false, js_.domain())});
        }
        return true;
    }
    if (!reply.empty() && !config_.no_ack) ack_later(reply, *seq, false);
    return true;
}

// A rollup message just stored: everything before it on its subject (or, with an empty
// subject, in the stream) goes.
void Stream::roll_up(std::string_view subject) {
    store::PurgeRequest purge;
    purge.subject = std::string(subject);
    purge.keep = 1;
    purging_ = true;  // as nats-server's rollup: a purge, not deletes one by one
    if (log_->purge(purge)) (void)purge_consumers(purge.subject, false, 0);
    purging_ = false;
}

bool Stream::store_mirrored(std::string_view subject, std::string_view headers, std::string_view payload,
                            uint64_t seq, int64_t ts) {
    if (seq <= log_->last_seq()) return true;  // had it already
    int64_t now = base::wall_clock_ns();
    // A copy the disk has no room for waits for it (as one the log is busy for): the origin
    // has moved past it, and its sequence would be skipped for good.
    if (auto skipped = log_->skip(seq - 1); !skipped) {
        if (skipped.error() == Errc::kBusy) return false;
        note_store_failure(skipped.error(), now);
        return skipped.error() != Errc::kNoSpace;
    }
    state_dirty_ = true;
    if (subject.empty()) return true;  // only the skip
    // nats-server's processInboundMirrorMsg stores what its origin accepted, limits aside.
    if (js_.over_store_limit(config_.storage)) {
        log_warn("JetStream mirror '" + config_.name + "': insufficient resources, origin message " +
                 std::to_string(seq) + " not stored");
        return true;
    }
    uint64_t subject_last = republish_ ? log_->last_seq_of(subject) : 0;
    auto stored = log_->append(subject, headers, payload, ts);
    if (!stored) {
        if (stored.error() == Errc::kBusy) return false;
        note_store_failure(stored.error(), now);
        return stored.error() != Errc::kNoSpace;
    }
    note_stored(now);
    if (config_.allow_msg_ttl) ttls_.note(*stored, ts, headers);
    if (republish_) republish(subject, headers, payload, *stored, subject_last);
    emptied_ = Emptied::kOther;
    last_ts_ns_ = ts;
    consumer_index_.for_each_wanting(subject, [&](Consumer& consumer) { consumer.on_appended(*stored); });
    // A rollup the origin applied is applied here too, where the mirror allows rollups (a KV
    // mirror after a key's purge holds what its origin holds).
    if (auto rollup = proto::header_value(headers, "Nats-Rollup");
        rollup && config_.allow_rollup_hdrs && !config_.deny_purge) {
        absl::string_view value(rollup->data(), rollup->size());
        if (absl::EqualsIgnoreCase(value, "sub")) roll_up(subject);
        if (absl::EqualsIgnoreCase(value, "all")) roll_up({});
    }
    return true;
}

void Stream::remember_msg_id(std::string_view msg_id, uint64_t seq, int64_t now) {
    last_msg_id_.assign(msg_id);
    if (msg_id.empty()) return;
    dedupe_[msg_id] = {seq, now};
    dedupe_order_.emplace_back(now, std::string(msg_id));
}

void Stream::note_stored(int64_t now) {
    if (no_space_since_ns_ == 0) return;
    log_info("JetStream stream '" + config_.name + "' has space again after " +
             std::to_string((now - no_space_since_ns_) / 1'000'000'000) + "s: storing messages");
    no_space_since_ns_ = 0;
}

void Stream::note_store_failure(Errc error, int64_t now) {
    std::string failed = disk_->take_error();
    if (error != Errc::kNoSpace) {
        // A failed write: the log refuses appends until the stream is opened again (a restart),
        // nothing durable is affected. Logged once.
        if (store_failure_logged_ || log_->sticky_error() == Errc::kOk) return;
        store_failure_logged_ = true;
        log_error("JetStream stream '" + config_.name + "': storing failed (" + std::string(errc_text(error)) +
                  (failed.empty() ? "" : ": " + failed) + "): publishes are refused until a restart");
        return;
    }
    // Once when it starts, then a reminder a minute while it lasts; every publish meanwhile is
    // answered with the error, and the first that finds room again ends it.
    constexpr int64_t kRemindNs = 60'000'000'000;
    if (no_space_since_ns_ == 0) {
        no_space_since_ns_ = no_space_logged_ns_ = now;
        log_error("JetStream stream '" + config_.name + "': no space left in " + dir_ +
                  (failed.empty() ? "" : " (" + failed + ")") +
                  ": publishes are refused until space is freed, then resume by themselves");
    } else if (now - no_space_logged_ns_ >= kRemindNs) {
        no_space_logged_ns_ = now;
        log_error("JetStream stream '" + config_.name + "': still no space left in " + dir_ + " (for " +
                  std::to_string((now - no_space_since_ns_) / 1'000'000'000) + "s)");
    }
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
    // The ids of the messages still inside the window, read back from the newest.
    if (log_->last_seq() == 0 || config_.duplicate_window_ns <= 0) return;
    int64_t since = base::wall_clock_ns() - config_.duplicate_window_ns;
    std::vector<SeenId> seen;
    for (uint64_t seq = log_->last_seq(); seq >= log_->first_seq() && seq > 0; --seq) {
        auto record = log_->load(seq);
        if (!record) continue;
        if (record->timestamp_ns < since) break;
        if (auto id = proto::header_value(record->headers, "Nats-Msg-Id"); id && !id->empty()) {
            seen.push_back({seq, record->timestamp_ns, std::string(*id)});
        }
    }
    std::reverse(seen.begin(), seen.end());
    fill_dedupe(seen);
}

void Stream::fill_dedupe(const std::vector<SeenId>& seen) {
    // Oldest first, as after a restart nats-server's rebuildDedupe finds them; only messages
    // still stored count.
    for (const SeenId& id : seen) {
        if (!log_->contains(id.seq)) continue;
        dedupe_[id.id] = {id.seq, id.timestamp_ns};
        dedupe_order_.emplace_back(id.timestamp_ns, id.id);
        if (id.seq == log_->last_seq()) last_msg_id_ = id.id;
    }
}

void Stream::maintain_log() {
    // 2 MiB a tick: a GiB of segments checked in under a minute, in steps short enough not to
    // hold up the shard's other work.
    constexpr uint64_t kVerifyBytesPerTick = 2u << 20;
    if (config_.storage == pjs::Storage::kFile) {
        (void)log_->index_sealed();
        log_->mark_durable();
    }
    if (!verifying_) return;
    store::RecoveryReport report;
    verifying_ = log_->verify(kVerifyBytesPerTick, &report);
    if (report.detail.empty()) return;
    log_warn("JetStream stream '" + config_.name + "': " + report.detail);
    lost_.insert(lost_.end(), report.lost.begin(), report.lost.end());
    lost_bytes_ += report.damaged_bytes;
    state_dirty_ = true;
}

void Stream::checkpoint() {
    if (config_.storage == pjs::Storage::kMemory) return;
    if (auto ok = log_->checkpoint(); !ok) {
        log_warn("JetStream stream '" + config_.name + "': writing its segment indexes: " +
                 std::string(errc_text(ok.error())) + " (the next start reads the segments instead)");
    }
}

void Stream::expire(int64_t now) {
    bool removed = false;
    if (config_.max_age_ns > 0) {
        // The log drops its oldest by their times alone, unless some must stay or leave a marker.
        bool plain = !ttls_.any_never() && config_.subject_delete_marker_ttl_ns == 0;
        removed = plain ? log_->expire(now) > 0 : expire_by_age(now);
    }
    if (config_.allow_msg_ttl) removed = expire_by_ttl(now) || removed;
    if (removed) {
        state_dirty_ = true;
        emptied_ = Emptied::kOther;
    }
}

bool Stream::expire_by_age(int64_t now) {
    bool removed = false;
    uint64_t seq = std::max(age_scan_from_, log_->first_seq());
    for (auto next = log_->next_seq(seq, {}); next; next = log_->next_seq(seq, {})) {
        seq = *next;
        if (log_->timestamp_at(seq) > now - config_.max_age_ns) break;
        if (!ttls_.never(seq)) {
            if (!remove_expired(seq)) break;
            removed = true;
        }
        ++seq;
    }
    age_scan_from_ = seq;
    return removed;
}

bool Stream::expire_by_ttl(int64_t now) {
    bool removed = false;
    ttls_.take_due(now, [&](uint64_t seq) {
        if (!log_->contains(seq)) return true;  // gone already
        if (!remove_expired(seq)) return false;
        removed = true;
        return true;
    });
    return removed;
}

bool Stream::remove_expired(uint64_t seq) {
    if (config_.subject_delete_marker_ttl_ns > 0) {
        std::string subject(log_->subject_at(seq));
        if (log_->subject_count(subject) == 1) {
            auto record = log_->load(seq);
            bool marker = record && (proto::header_value(record->headers, "Nats-Marker-Reason") ||
                                     proto::header_value(record->headers, "KV-Operation") == "PURGE");
            if (!marker) {
                // As nats-server: published to the stream like any message, which its rollup
                // leaves as the subject's only one.
                std::string ttl = pjs::go_duration(config_.subject_delete_marker_ttl_ns / 1'000'000'000 * 1'000'000'000);
                std::pair<std::string_view, std::string_view> fields[] = {
                    {"Nats-Marker-Reason", "MaxAge"}, {"Nats-TTL", ttl}, {"Nats-Rollup", "sub"}};
                std::string headers = proto::build_headers(0, {}, fields);
                uint64_t last = log_->last_seq();
                if (!process(subject, {}, headers, {})) return false;
                if (log_->last_seq() != last) return true;
                // The marker was refused (a limit): the message goes all the same.
            }
        }
    }
    (void)log_->remove(seq);
    return true;
}

void Stream::read_ttls() {
    for (auto seq = log_->next_seq(0, {}); seq; seq = log_->next_seq(*seq + 1, {})) {
        if (auto record = log_->load(*seq)) ttls_.note(*seq, record->timestamp_ns, record->headers);
    }
}

void Stream::publish_state() {
    if (!state_dirty_) return;
    state_dirty_ = false;
    store::StoreState state = log_->state();
    bytes_counter().fetch_add(static_cast<int64_t>(state.bytes) - static_cast<int64_t>(published_bytes_),
                              std::memory_order_relaxed);
    published_bytes_ = state.bytes;
    std::string first_ts = first_ts_text(state);
    state.first_seq = shown_first_seq(state);
    js_.report_state(*this, state, first_ts, last_ts_ns_);
}

std::atomic<int64_t>& Stream::bytes_counter() {
    return config_.storage == pjs::Storage::kMemory ? js_.counters().memory_bytes : js_.counters().file_bytes;
}

// ---------------------------------------------------------------------------------------------
// Requests

void Stream::reply_json(std::string_view reply, const json& body, uint64_t interest_seq) {
    js_.api_reply(reply, body.dump(), interest_seq);
}

void Stream::reply_error(std::string_view reply, std::string_view type, const proto::js::ApiError& error) {
    js_.api_error(reply, type, error);
}

size_t Stream::public_consumer_count() const { return consumers_.size() - direct_consumers_; }

uint64_t Stream::shown_first_seq(const store::StoreState& state) const {
    return state.last_seq == 0 && emptied_ != Emptied::kByPurge ? 0 : state.first_seq;
}

void Stream::figures(const monitor::Query& query, monitor::StreamFigures& out) const {
    store::StoreState state = log_->state();
    out.name = config_.name;
    out.messages = state.msgs;
    out.bytes = state.bytes;
    out.first_seq = shown_first_seq(state);
    out.last_seq = state.last_seq;
    out.consumer_count = public_consumer_count();
    json consumer_detail = json::array();
    for (const auto& [name, consumer] : consumers_) {
        if (!query.streams) break;
        if (consumer->config().direct) continue;
        json info = consumer->info();
        out.consumers.push_back({name, info["num_pending"].get<uint64_t>(), info["num_ack_pending"].get<uint64_t>(),
                                 info["num_redelivered"].get<uint64_t>(), info["num_waiting"].get<uint64_t>(),
                                 info["delivered"]["stream_seq"].get<uint64_t>(),
                                 info["ack_floor"]["stream_seq"].get<uint64_t>()});
        if (query.consumer_details) {
            // As nats-server's /jsz: no config unless asked for.
            if (!query.stream_configs) info.erase("config");
            consumer_detail.push_back(std::move(info));
        }
    }
    if (!query.stream_details) return;
    json info;
    info_json(info, false, {}, 0, nullptr);
    out.detail = {{"name", config_.name}, {"created", info["created"]}, {"state", info["state"]}};
    if (query.stream_configs) out.detail["config"] = info["config"];
    if (!consumer_detail.empty()) out.detail["consumer_detail"] = std::move(consumer_detail);
    add_origins(out.detail, false);  // "mirror" or "sources", as in STREAM.INFO
}

void Stream::info_json(json& out, bool deleted_details, std::string_view subjects_filter, size_t offset,
                       size_t* subjects_total) const {
    store::StoreState state = log_->state();
    json st = json::object();
    st["messages"] = state.msgs;
    st["bytes"] = state.bytes;
    st["first_seq"] = shown_first_seq(state);
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
    if (!lost_.empty()) {
        // What damage found at recovery took, as nats-server's state reports lost data.
        constexpr size_t kLostListed = 100'000;
        json msgs = json::array();
        for (auto [first, last] : lost_) {
            for (uint64_t seq = first; seq <= last && msgs.size() < kLostListed; ++seq) msgs.push_back(seq);
        }
        st["lost"] = {{"msgs", std::move(msgs)}, {"bytes", lost_bytes_}};
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
    st["consumer_count"] = public_consumer_count();
    out["config"] = pjs::to_json(config_);
    out["created"] = pjs::rfc3339(created_ns_);
    out["state"] = std::move(st);
    if (!js_.domain().empty()) out["domain"] = js_.domain();
    add_origins(out, false);
}

void Stream::add_origins(json& out, bool heard_at) const {
    if (config_.mirror.is_object() && !origins_.empty()) {
        out["mirror"] = origins_.front()->info(heard_at);
    } else if (!origins_.empty()) {
        json sources = json::array();
        for (const auto& origin : origins_) sources.push_back(origin->info(heard_at));
        out["sources"] = std::move(sources);
    }
}

Result<store::RecordView> Stream::load_last_matching(std::string_view filter) const {
    if (filter.empty() || filter == ">") {
        for (uint64_t seq = log_->last_seq(); seq >= log_->first_seq() && seq > 0; --seq) {
            if (log_->contains(seq)) return load(seq);
        }
        return std::unexpected(Errc::kNotFound);
    }
    if (filter.find_first_of("*>") == std::string_view::npos) return load(log_->last_seq_of(filter));
    uint64_t last = 0;
    log_->for_each_subject([&](std::string_view subject, uint64_t, uint64_t subject_last) {
        if (subject_last > last && base::subject_matches(filter, subject)) last = subject_last;
    });
    if (last == 0) return std::unexpected(Errc::kNotFound);
    return load(last);
}

Result<store::RecordView> Stream::lookup(uint64_t seq, std::string_view last_for, std::string_view next_for) const {
    if (!next_for.empty()) {
        auto found = log_->next_seq(seq, next_for);
        if (!found) return std::unexpected(found.error());
        return load(*found);
    }
    if (!last_for.empty()) return load_last_matching(last_for);
    return load(seq);
}

Result<store::RecordView> Stream::load(uint64_t seq) const {
    auto record = log_->load(seq);
    if (!record && record.error() != Errc::kNotFound && !unreadable_logged_) {
        unreadable_logged_ = true;
        log_error("JetStream stream '" + config_.name + "': message " + std::to_string(seq) + " cannot be read (" +
                  std::string(errc_text(record.error())) + "), not served; later ones are not logged");
    }
    return record;
}

std::string Stream::first_ts_text(const store::StoreState& state) const {
    if (state.msgs > 0) {
        if (auto first = log_->load(state.first_seq)) return pjs::rfc3339(first->timestamp_ns);
    }
    // nats-server's file store, emptied by skipping an unwanted message, reports when; emptied
    // other than by a purge, the Unix epoch; its memory store, and a purge, the zero time.
    if (state.last_seq == 0 || emptied_ == Emptied::kByPurge || config_.storage == pjs::Storage::kMemory) {
        return pjs::rfc3339(0);
    }
    return emptied_ == Emptied::kBySkip ? pjs::rfc3339(skipped_ns_) : "1970-01-01T00:00:00Z";
}

void Stream::handle_request(std::string_view op, std::string_view rest, const MsgView& msg) {
    wake();
    if (op == "STREAM.INFO") {
        api_info(msg);
    } else if (op == "STREAM.PURGE") {
        api_purge(msg);
    } else if (op == "STREAM.MSG.GET") {
        api_msg_get(msg);
    } else if (op == "STREAM.MSG.DELETE") {
        api_msg_delete(msg);
    } else if (op == "CONSUMER.CREATE" || op == "CONSUMER.DURABLE.CREATE") {
        api_consumer_create(op, msg);
    } else if (op == "CONSUMER.INFO") {
        api_consumer_info(rest, msg);
    } else if (op == "CONSUMER.DELETE") {
        api_consumer_delete(rest, msg);
    } else if (op == "CONSUMER.NAMES" || op == "CONSUMER.LIST") {
        api_consumer_names(msg, op == "CONSUMER.LIST");
    } else if (op == "CONSUMER.PAUSE") {
        api_consumer_pause(rest, msg);
    }
}

void Stream::api_info(const MsgView& msg) {
    auto request = read_stream_info(msg.payload);
    if (!request) {
        reply_error(msg.reply, kInfoType, request.error());
        return;
    }
    json out = json::object();
    out["type"] = kInfoType;
    size_t total = 0;
    info_json(out, request->deleted_details, request->subjects_filter, request->offset, &total);
    out["total"] = total;
    out["offset"] = total == 0 ? 0 : std::min(request->offset, total);
    out["limit"] = total == 0 ? 0 : 100'000;
    reply_json(msg.reply, out);
}

void Stream::api_purge(const MsgView& msg) {
    // nats-server reads the request before it looks at the stream.
    const bool plain = is_empty_request(msg.payload);
    auto read = read_purge(msg.payload);
    if (!read) {
        reply_error(msg.reply, kPurgeType, read.error());
        return;
    }
    store::PurgeRequest& purge = *read;
    if (config_.sealed) {
        reply_error(msg.reply, kPurgeType, pjs::StreamSealed());
        return;
    }
    if (config_.deny_purge) {
        reply_error(msg.reply, kPurgeType, pjs::StreamPurgeFailed("stream purge not permitted"));
        return;
    }
    if (purge.subject == ">") purge.subject.clear();  // everything, as nats-server reads it
    purging_ = true;
    auto purged = purge.subject.empty() || proto::is_valid_subject(purge.subject) ? log_->purge(purge)
                                                                                  : Result<uint64_t>(0);  // matches nothing
    purging_ = false;
    if (!purged) {
        reply_error(msg.reply, kPurgeType, pjs::StreamPurgeFailed(errc_text(purged.error())));
        return;
    }
    state_dirty_ = true;
    uint64_t first = 0;
    if (purge.subject.empty() && purge.keep == 0 && purge.up_to_seq > log_->last_seq() + 1) {
        // Up to a sequence past the end: the next message gets that sequence.
        skip_to(purge.up_to_seq - 1);
        first = purge.up_to_seq;
    }
    first = purge_consumers(purge.subject, plain, first);
    // A filtered purge removes message by message, as a delete does.
    emptied_ = purge.subject.empty() ? Emptied::kByPurge : Emptied::kOther;
    // Answered once what it removed cannot come back.
    json answer = {{"type", kPurgeType}, {"success", true}, {"purged", *purged}};
    hold({.kind = Held::kPurge,
          .last_seq = first == 0 ? 0 : first - 1,
          .ticket = log_->deletion_ticket(),
          .reply = std::string(msg.reply),
          .body = answer.dump()});
}

uint64_t Stream::purge_consumers(const std::string& subject, bool plain, uint64_t first) {
    if (first == 0) {
        first = log_->first_seq();
        if (!subject.empty()) {
            auto next = log_->next_seq(log_->first_seq(), subject);
            first = next ? *next : log_->last_seq() + 1;
        }
    }
    // nats-server moves past what a purge took the consumers it picks: all of them for a
    // request without a body; for one with a body, those without a filter, and those whose
    // filter is the purge's subject (or, for a wildcard filter, holds it). A consumer whose
    // subjects reach beyond the purge's would skip messages still there: it only forgets the
    // acks it was owed for what the purge took.
    for (auto& [name, consumer] : consumers_) {
        const std::string& filter = consumer->config().filter_subject;
        bool picked = plain || filter.empty() ||
                      (!subject.empty() &&
                       (proto::is_valid_literal_subject(filter) ? subject == filter : base::pattern_is_subset(subject, filter)));
        if (!picked) continue;
        if (subject.empty() || (!filter.empty() && base::pattern_is_subset(filter, subject))) {
            consumer->on_purged(first);
        } else {
            consumer->on_purged_some();
        }
    }
    return first;
}

void Stream::api_msg_get(const MsgView& msg) {
    auto request = read_msg_get(msg.payload);
    if (!request) {
        reply_error(msg.reply, kMsgGetType, request.error());
        return;
    }
    Result<store::RecordView> record = lookup(request->seq, request->last_for, request->next_for);
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
    // The request first, then the stream's rules, as nats-server checks them.
    auto request = read_msg_delete(msg.payload);
    if (!request) {
        reply_error(msg.reply, kMsgDeleteType, request.error());
        return;
    }
    if (config_.sealed) {
        reply_error(msg.reply, kMsgDeleteType, pjs::StreamSealed());
        return;
    }
    if (config_.deny_delete) {
        reply_error(msg.reply, kMsgDeleteType, pjs::StreamMsgDeleteFailed("message delete not permitted"));
        return;
    }
    uint64_t seq = request->seq;
    bool erase = request->erase;
    // Erased (the default, as in nats-server): the message's bytes also leave the files, its
    // record written again in place with nothing in it (StreamLog::remove).
    auto removed = log_->remove(seq, erase);
    if (!removed) {
        if (removed.error() == Errc::kNotFound) {
            // nats-server sends these in its normal answer: counted, but not as errors. Its
            // memory store reports any missing message as not found; its file store tells a
            // sequence before the first or past the last apart.
            bool memory = config_.storage == pjs::Storage::kMemory;
            js_.api_reply(msg.reply,
                          pjs::error_response(kMsgDeleteType,
                                              memory                                   ? pjs::SequenceNotFound(seq)
                                              : seq == 0 || seq < log_->first_seq() ? pjs::StreamMsgDeleteFailed("no message found")
                                              : seq > log_->last_seq() ? pjs::StreamMsgDeleteFailed("stream store EOF")
                                                                       : pjs::SequenceNotFound(seq)));
        } else {
            reply_error(msg.reply, kMsgDeleteType, pjs::StreamMsgDeleteFailed(errc_text(removed.error())));
        }
        return;
    }
    state_dirty_ = true;
    emptied_ = Emptied::kOther;
    // Answered once the deletion is durable (its tombstone, and an erased record's rewrite):
    // until then a crash would bring the message back, or leave its bytes in the file.
    hold({.kind = Held::kDelete,
          .ticket = log_->deletion_ticket(),
          .reply = std::string(msg.reply),
          .body = json{{"type", kMsgDeleteType}, {"success", true}}.dump()});
}

void Stream::api_direct_get(const MsgView& msg, std::string_view last_subject, bool for_origin) {
    if (msg.reply.empty() || !(for_origin ? config_.mirror_direct : config_.allow_direct)) return;
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

// ---------------------------------------------------------------------------------------------
// Consumers

Result<void, Error> Stream::open_consumers(bool create) {
    // Memory streams keep their consumers' state in memory, as they keep their messages. A file
    // stream's log of consumer state is made with its first consumer that keeps state on disk:
    // many streams never have one (a KV bucket watched by ordered consumers, an object store),
    // and making the log's file took about a third of a stream's creation.
    if (dir_.empty() || create) return {};
    // No segment there: none made yet, or the making of the first was cut short (a full disk,
    // a crash); it is made with the next consumer, not now, when a full disk would keep the
    // stream from opening.
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/consumers", ec)) {
        if (entry.path().extension() == ".seg") return open_consumer_log();
    }
    return {};
}

Result<void, Error> Stream::open_consumer_log() {
    auto log = ConsumerLog::open(js_.file_disk(), dir_ + "/consumers");
    if (!log) return std::unexpected(log.error());
    consumer_log_ = std::move(*log);
    if (!consumer_log_->recovery_detail().empty()) {
        // What was cut held consumers' changes, or whole consumers: they are lost.
        log_warn("JetStream consumers of stream '" + config_.name + "' recovered: " + consumer_log_->recovery_detail());
    }
    consumer_log_->set_durable_callback([this](uint64_t seq) {
        wake();
        std::erase_if(awaiting_log_, [&](Consumer* consumer) { return !consumer->on_log_durable(seq); });
        release_held(false);
    });
    size_t count = 0;
    for (auto& [id, recovered] : consumer_log_->take_recovered()) {
        auto config = recovered_consumer_config(recovered.config_json);
        if (!config) {
            log_warn("JetStream consumer '" + config_.name + " > " + recovered.name +
                     "' could not be recovered: " + config.error().description);
            continue;
        }
        auto consumer = std::make_unique<Consumer>(js_, *this, std::move(*config), recovered.name,
                                                   recovered.created_ns, consumer_log_.get(), id);
        index_consumer(*consumer);
        consumer->start_recovered(std::move(recovered.state));
        consumers_.emplace(recovered.name, std::move(consumer));
        ++count;
    }
    if (count != 0) log_info("  Recovered " + std::to_string(count) + " consumers for stream '" + config_.name + "'");
    return {};
}

uint64_t Stream::consumer_log_durable_seq() const { return consumer_log_ ? consumer_log_->durable_seq() : UINT64_MAX; }

void Stream::on_removed(uint64_t seq, std::string_view subject) {
    if (ttls_.any_never()) ttls_.forget(seq);
    consumer_index_.for_each_wanting(subject, [&](Consumer& consumer) { consumer.on_removed(seq, true, !purging_); });
    // nats-server tells every consumer (decStreamPending): one whose filter an update changed
    // may owe an ack for a message its new filter does not take.
    for (Consumer* consumer : refiltered_) {
        if (!consumer->wants_subject(subject)) consumer->on_removed(seq, false, !purging_);
    }
}

bool Stream::any_consumer_wants(std::string_view subject) const {
    return consumer_index_.any_wanting(subject, [](const Consumer&) { return true; });
}

// nats-server's ackMsg and checkInterest.
void Stream::acked_by(const Consumer& by, uint64_t seq) {
    if (config_.retention == pjs::Retention::kLimits || !log_->contains(seq)) return;
    std::string_view subject = log_->subject_at(seq);
    if (consumer_index_.any_wanting(subject, [&](const Consumer& consumer) {
            return &consumer != &by && consumer.needs(seq, subject);
        })) {
        return;
    }
    if (log_->remove(seq)) state_dirty_ = true;
}

void Stream::start_origins() {
    if (config_.mirror.is_object()) {
        origins_.push_back(std::make_unique<Origin>(*this, true, config_.mirror, 0));
        return;
    }
    if (!config_.sources.is_array() || config_.sources.empty()) return;
    std::vector<const json*> sources;
    for (const json& source : config_.sources) sources.push_back(&source);
    auto resume = resume_points(sources);
    // One with no header left (purged, expired) starts at the newest message's time, as
    // nats-server's does.
    for (const json* source : sources) {
        origins_.push_back(std::make_unique<Origin>(*this, false, *source, resume[source_identity(*source)], last_ts_ns_));
    }
}

// Where each of `sources` stopped: the newest Nats-Stream-Source header naming it (nats-server's
// startingSequenceForSources walks back the same way, until it found them all); 0 for none.
// A header is "<origin> <seq>" or, with subject transforms, "<origin> <seq> <sources>
// <destinations>": without the sequence, the source's identity.
std::map<std::string, uint64_t, std::less<>> Stream::resume_points(const std::vector<const json*>& sources) const {
    std::map<std::string, uint64_t, std::less<>> resume;
    for (const json* source : sources) resume.emplace(source_identity(*source), 0);
    size_t found = 0;
    for (uint64_t seq = log_->last_seq(); seq >= log_->first_seq() && seq > 0 && found < resume.size(); --seq) {
        auto record = log_->load(seq);
        if (!record || record->headers.empty()) continue;
        auto header = proto::header_value(record->headers, "Nats-Stream-Source");
        if (!header) continue;
        size_t space = header->find(' ');
        if (space == std::string_view::npos) continue;
        size_t seq_end = header->find(' ', space + 1);
        std::string identity(header->substr(0, space));
        if (seq_end != std::string_view::npos) identity += header->substr(seq_end);
        auto it = resume.find(identity);
        if (it == resume.end() || it->second != 0) continue;
        it->second = parse_seq(header->substr(space + 1, seq_end == std::string_view::npos ? std::string_view::npos
                                                                                            : seq_end - space - 1))
                         .value_or(0);
        found += it->second != 0;
    }
    return resume;
}

void Stream::update_sources() {
    // Sources kept as they were go on as they are (messages they handed over may still wait
    // to be stored); the others stop or start. One that starts (new, or changed: another
    // filter or start) goes on after what it copied before, if anything, as nats-server's
    // setStartingSequenceForSource finds it: an edit never copies a message twice.
    std::vector<std::unique_ptr<Origin>> kept;
    std::vector<const json*> added;
    if (config_.sources.is_array()) {
        for (const json& source : config_.sources) {
            auto it = std::find_if(origins_.begin(), origins_.end(), [&](const auto& origin) {
                return origin != nullptr && origin->config() == source;
            });
            if (it != origins_.end()) {
                kept.push_back(std::move(*it));
            } else {
                added.push_back(&source);
            }
        }
    }
    for (auto& origin : origins_) {
        if (origin) origin->stop();
    }
    origins_ = std::move(kept);
    auto resume = resume_points(added);
    for (const json* source : added) {
        origins_.push_back(std::make_unique<Origin>(*this, false, *source, resume[source_identity(*source)]));
    }
    report_origins();
}

void Stream::stop_origins() {
    for (auto& origin : origins_) origin->stop();
    origins_.clear();
}

void Stream::interest_changed() {
    // A pull request whose requester went away is dropped at the next look.
    if (!consumers_.empty()) wake();
}

void Stream::release_waiting_at_shutdown() {
    for (auto& [name, consumer] : consumers_) consumer->release_waiting_at_shutdown();
}

void Stream::report_origins() {
    if (origins_.empty() && !origins_reported_) return;
    json origins = json::object();
    add_origins(origins, true);
    js_.report_origins(*this, origins.empty() ? std::string() : origins.dump());
    origins_reported_ = !origins_.empty();
}

void Stream::tick_consumers() {
    for (auto& origin : origins_) {
        origin->tick();
        origin->poll();  // a retry due while the stream is idle (flush() polls when it is not)
    }
    report_origins();
    std::vector<std::string> gone;
    for (Consumer* consumer : ticking_) {
        consumer->on_tick();
        if (consumer->inactive_expired()) gone.push_back(consumer->name());
    }
    for (const std::string& name : gone) {
        log_debug("JetStream consumer '" + config_.name + " > " + name + "' deleted after inactivity");
        delete_consumer(name);
    }
    auto write_all = [&] {
        for (auto& [name, consumer] : consumers_) consumer->write_snapshot();
    };
    if (consumer_log_ && consumer_log_->wants_compaction()) {
        write_all();
        consumer_log_->purge_when_durable();
    }
    if (consumer_log_ && consumer_log_->try_resume(base::wall_clock_ns(), write_all)) {
        uint64_t rewritten = consumer_log_->last_written();
        for (auto& [name, consumer] : consumers_) consumer->on_log_rewritten(rewritten);
        log_info("JetStream consumer state of stream '" + config_.name + "' is written again");
    }
}

void Stream::delete_consumer(const std::string& name) {
    auto it = consumers_.find(name);
    if (it == consumers_.end()) return;
    if (config_.retention == pjs::Retention::kInterest) {
        // nats-server's stopWithFlags: what only this consumer still wanted goes with it.
        uint64_t last = log_->last_seq();
        for (uint64_t seq = std::max(it->second->ack_floor_stream(), log_->first_seq()); seq <= last && seq != 0; ++seq) {
            acked_by(*it->second, seq);
        }
    }
    it->second->destroy();
    forget_consumer(*it->second);
    consumers_.erase(it);
    if (consumers_.empty() && consumer_log_) consumer_log_->purge_when_durable();
    state_dirty_ = true;
}

void Stream::index_consumer(Consumer& consumer) {
    consumer_index_.add(consumer);
    if (consumer.push()) {
        push_consumers_.push_back(&consumer);
        js_.push_consumer_added(consumer);
    }
    if (consumer.needs_ticks()) ticking_.push_back(&consumer);
    if (consumer.config().direct) ++direct_consumers_;
}

void Stream::unindex_consumer(Consumer& consumer) {
    consumer_index_.remove(consumer);
    if (std::erase(push_consumers_, &consumer) > 0) js_.push_consumer_removed(consumer);
    std::erase(ticking_, &consumer);
    if (consumer.config().direct) --direct_consumers_;
}

void Stream::forget_consumer(Consumer& consumer) {
    unindex_consumer(consumer);
    std::erase(awaiting_durable_, &consumer);
    std::erase(refiltered_, &consumer);
    std::erase(awaiting_log_, &consumer);
    js_.consumer_gone(consumer);
}

void Stream::forget_all_consumers() {
    for (auto& [name, consumer] : consumers_) js_.consumer_gone(*consumer);
    for (Consumer* consumer : push_consumers_) js_.push_consumer_removed(*consumer);
    consumer_index_ = ConsumerIndex();
    awaiting_durable_.clear();
    refiltered_.clear();
    awaiting_log_.clear();
    push_consumers_.clear();
    ticking_.clear();
    direct_consumers_ = 0;
    consumers_.clear();
}

void Stream::api_consumer_info(std::string_view name, const MsgView& msg) {
    constexpr std::string_view kType = pjs::kConsumerInfoResponse;
    if (!is_empty_request(msg.payload)) {
        reply_error(msg.reply, kType, pjs::NotEmptyRequest());
        return;
    }
    auto it = consumers_.find(std::string(name));
    if (it == consumers_.end()) {
        reply_error(msg.reply, kType, pjs::ConsumerNotFound());
        return;
    }
    // A subscriber made or gone a moment ago shows in push_bound (clients check it before
    // they bind).
    it->second->look_at_interest();
    it->second->drop_dead_requests();
    json out = it->second->info();
    out["type"] = kType;
    reply_json(msg.reply, out);
}

void Stream::api_consumer_delete(std::string_view name, const MsgView& msg) {
    constexpr std::string_view kType = pjs::kConsumerDeleteResponse;
    if (!is_empty_request(msg.payload)) {
        reply_error(msg.reply, kType, pjs::NotEmptyRequest());
        return;
    }
    if (!consumers_.contains(std::string(name))) {
        reply_error(msg.reply, kType, pjs::ConsumerNotFound());
        return;
    }
    delete_consumer(std::string(name));
    // Answered once the deletion is in the consumer log: a crash must not bring it back.
    hold({.kind = Held::kConsumer,
          .consumer_log_seq = consumer_log_ ? consumer_log_->last_written() : 0,
          .reply = std::string(msg.reply),
          .body = json({{"type", kType}, {"success", true}}).dump()});
}

// nats-server's jsConsumerNamesRequest and jsConsumerListRequest: sorted by name, paged.
void Stream::api_consumer_names(const MsgView& msg, bool list) {
    std::string_view type = list ? pjs::kConsumerListResponse : pjs::kConsumerNamesResponse;
    int64_t offset = 0;
    if (!is_empty_request(msg.payload)) {
        RequestBody request(msg.payload);
        offset = request.i64("offset");
        if (!request.valid()) {
            reply_error(msg.reply, type, pjs::InvalidJSON());
            return;
        }
    }
    constexpr size_t kNamesLimit = 1024;
    constexpr size_t kListLimit = 256;
    size_t limit = list ? kListLimit : kNamesLimit;
    size_t total = public_consumer_count();
    size_t start = std::min(static_cast<size_t>(std::max<int64_t>(offset, 0)), total);
    json consumers = json::array();
    size_t index = 0;
    for (const auto& [name, consumer] : consumers_) {
        if (consumer->config().direct) continue;
        if (index++ < start) continue;
        if (consumers.size() >= limit) break;
        if (list) {
            consumer->look_at_interest();
            consumers.push_back(consumer->info());
        } else {
            consumers.push_back(name);
        }
    }
    reply_json(msg.reply, {{"type", type}, {"total", total}, {"offset", start}, {"limit", limit},
                           {"consumers", std::move(consumers)}});
}

// 2.11's CONSUMER.PAUSE: {"pause_until": time} pauses, an empty request resumes.
void Stream::api_consumer_pause(std::string_view name, const MsgView& msg) {
    constexpr std::string_view kType = "io.nats.jetstream.api.v1.consumer_pause_response";
    int64_t until_ns = 0;
    if (!is_empty_request(msg.payload)) {
        RequestBody request(msg.payload);
        std::string until = request.string("pause_until");
        if (!request.valid()) {
            reply_error(msg.reply, kType, pjs::InvalidJSON());
            return;
        }
        if (!until.empty()) {
            auto parsed = pjs::parse_rfc3339(until);
            if (!parsed) {
                reply_error(msg.reply, kType, pjs::InvalidJSON());
                return;
            }
            until_ns = *parsed;
        }
    }
    auto it = consumers_.find(std::string(name));
    if (it == consumers_.end()) {
        reply_error(msg.reply, kType, pjs::ConsumerNotFound());
        return;
    }
    unindex_consumer(*it->second);
    it->second->pause(until_ns);
    index_consumer(*it->second);
    int64_t now = base::wall_clock_ns();
    bool paused = until_ns > now;
    json out = {{"type", kType}, {"paused", paused}, {"pause_until", pjs::rfc3339(until_ns)}};
    if (paused) out["pause_remaining"] = until_ns - now;
    reply_json(msg.reply, out);
}

// A consumer's config as the log keeps it (ConsumerInfo.config's JSON), read back the way
// nats-server recovers a consumer: parsed like a create request's, checked as when recovering.
std::expected<pjs::ConsumerConfig, pjs::ApiError> Stream::recovered_consumer_config(std::string_view json_text) const {
    std::string body = "{\"config\":";
    body.append(json_text);
    body.append("}");
    auto request = pjs::parse_consumer_create_request(body);
    if (!request) return std::unexpected(request.error());
    pjs::ConsumerCheckOptions options;
    options.recovering = true;
    return pjs::check_consumer_config(std::move(request->config), config_, options);
}

// nats-server's jsConsumerCreateRequest then addConsumerWithAssignment, in their order (see
// proto/js/consumer_config.h).
void Stream::api_consumer_create(std::string_view, const MsgView& msg) {
    constexpr std::string_view kType = pjs::kConsumerCreateResponse;
    // A filter on a mirror or a stream with sources may name its origins' subjects. Those on
    // this shard are known here; shard 0 checked the request against every stream before it
    // came here (JetStream::refuse_filter_elsewhere), so the others allow any filter.
    pjs::ConsumerCheckOptions check_options = js_.consumer_check_options();
    check_options.find_stream = [this](std::string_view name) { return js_.local_stream_config(name); };
    check_options.unseen_origin_allows_any = true;
    auto create = pjs::check_consumer_create_request(msg.subject, msg.payload, config_, check_options);
    if (!create) {
        reply_error(msg.reply, kType, create.error());
        return;
    }
    pjs::ConsumerConfig& checked = create->config;
    const pjs::ConsumerAction action = create->request.action;
    std::string name(pjs::consumer_name(checked));
    if (!name.empty()) {
        if (auto existing = consumers_.find(name); existing != consumers_.end()) {
            Consumer& consumer = *existing->second;
            bool bound = consumer.push() && js_.host().has_interest(consumer.config().deliver_subject);
            auto updated = pjs::updated_consumer_config(consumer.config(), std::move(checked), action, bound);
            if (!updated) {
                reply_error(msg.reply, kType, updated.error());
                return;
            }
            if (!(*updated == consumer.config())) {
                bool refilter = updated->filter_subject != consumer.config().filter_subject ||
                                updated->filter_subjects != consumer.config().filter_subjects;
                unindex_consumer(consumer);
                consumer.update(std::move(*updated));
                index_consumer(consumer);
                if (refilter && std::find(refiltered_.begin(), refiltered_.end(), &consumer) == refiltered_.end()) {
                    refiltered_.push_back(&consumer);
                }
            }
            json out = consumer.info();
            out["type"] = kType;
            hold({.kind = Held::kConsumer,
                  .consumer_log_seq = consumer_log_ ? consumer_log_->last_written() : 0,
                  .reply = std::string(msg.reply),
                  .body = out.dump()});
            return;
        }
    }
    if (auto refused = pjs::check_consumer_absent(action)) {
        reply_error(msg.reply, kType, *refused);
        return;
    }
    // The stream's limit, or the account's when that is tighter.
    int64_t max_consumers = config_.max_consumers;
    if (int64_t account = js_.limits().max_consumers; max_consumers <= 0 || (account > 0 && account < max_consumers)) {
        max_consumers = account;
    }
    if (max_consumers > 0 && static_cast<int64_t>(public_consumer_count()) >= max_consumers) {
        reply_error(msg.reply, kType, pjs::MaximumConsumersLimit());
        return;
    }
    std::vector<const pjs::ConsumerConfig*> others;
    for (const auto& [other_name, other] : consumers_) others.push_back(&other->config());
    if (auto refused = pjs::check_work_queue_consumer(checked, config_, others)) {
        reply_error(msg.reply, kType, *refused);
        return;
    }
    if (auto refused = pjs::check_consumer_name(checked)) {
        reply_error(msg.reply, kType, *refused);
        return;
    }
    // nats-server's file store names a directory after the consumer, which fails for a name
    // longer than a file name may be.
    constexpr size_t kMaxFileNameBytes = 255;
    if (config_.storage == pjs::Storage::kFile && name.size() > kMaxFileNameBytes) {
        reply_error(msg.reply, kType, pjs::ConsumerCreate("error creating store for consumer"));
        return;
    }
    pjs::ConsumerConfig config = pjs::created_consumer_config(std::move(checked));
    if (name.empty()) {
        // A legacy ephemeral: nats-server makes up an 8-character name.
        do {
            name = random_token(8);
        } while (consumers_.contains(name));
    }
    // State on disk for file streams unless the consumer asks for memory (mem_storage). A
    // consumer log that failed (a full disk) cannot hold a new consumer: refused as nats-server
    // refuses one whose store it cannot create, rather than kept in memory until a restart.
    if (!dir_.empty() && !config.mem_storage && !consumer_log_) {
        if (auto opened = open_consumer_log(); !opened) {
            log_warn("JetStream consumer '" + config_.name + " > " + name +
                     "' could not be created: " + opened.error().text);
            reply_error(msg.reply, kType, pjs::ConsumerCreate("error creating store for consumer"));
            return;
        }
    }
    ConsumerLog* log = consumer_log_ && !config.mem_storage ? consumer_log_.get() : nullptr;
    if (log != nullptr && log->failed()) {
        reply_error(msg.reply, kType, pjs::ConsumerCreate("error creating store for consumer"));
        return;
    }
    uint32_t id = consumer_log_ ? consumer_log_->next_id() : 0;
    auto consumer = std::make_unique<Consumer>(js_, *this, std::move(config), name, base::wall_clock_ns(), log, id);
    Consumer& created = *consumer;
    consumers_.emplace(name, std::move(consumer));
    index_consumer(created);
    created.start_new();
    state_dirty_ = true;
    json out = created.info();
    out["type"] = kType;
    // Pull requests and acks from any shard must find the consumer once the client has this,
    // and a crash must not lose a consumer whose creation was answered.
    hold({.kind = Held::kConsumer,
          .consumer_log_seq = log != nullptr ? log->last_written() : 0,
          .interest_seq = js_.host().interest_seq_sent(),
          .reply = std::string(msg.reply),
          .body = out.dump(),
          .created = log != nullptr ? name : std::string()});
}

}  // namespace ringtail::core::js
