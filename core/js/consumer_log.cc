#include "core/js/consumer_log.h"

#include <algorithm>
#include <cstring>

#include "base/clock.h"
#include "core/server/log.h"

namespace ringtail::core::js {
namespace {

// Small segments: the log of a stream's consumers holds their states and what changed since,
// a few hundred bytes per consumer plus the traffic between rewrites.
constexpr uint64_t kFirstSegmentBytes = 64u << 10;
constexpr uint64_t kSegmentBytes = 8u << 20;
// Records kept beyond two per live consumer before the log is compacted.
constexpr uint64_t kSlackRecords = 8192;
// The most of a snapshot one record carries (half the tail bounds a record).
constexpr size_t kPartBytes = 128u << 10;

template <class T>
void put(std::string& out, T value) {
    out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void put_text(std::string& out, std::string_view text) {
    put(out, static_cast<uint32_t>(text.size()));
    out.append(text);
}

class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    template <class T>
    bool get(T& value) {
        if (in_.size() < sizeof value) return ok_ = false;
        std::memcpy(&value, in_.data(), sizeof value);
        in_.remove_prefix(sizeof value);
        return true;
    }
    bool text(std::string_view& value) {
        uint32_t bytes = 0;
        if (!get(bytes) || in_.size() < bytes) return ok_ = false;
        value = in_.substr(0, bytes);
        in_.remove_prefix(bytes);
        return true;
    }
    std::string_view rest() const { return in_; }
    bool ok() const { return ok_; }

private:
    std::string_view in_;
    bool ok_ = true;
};

}  // namespace

Result<std::unique_ptr<ConsumerLog>, Error> ConsumerLog::open(store::Disk& disk, const std::string& dir) {
    store::StreamLogOptions options;
    options.dir = dir;
    options.segment_bytes = kSegmentBytes;
    options.first_segment_bytes = kFirstSegmentBytes;
    options.flush_bytes_max = 256u << 10;
    options.tail_bytes_max = 1u << 20;
    options.cut_at_a_torn_write = true;  // a prefix of the changes is a state the consumers were in
    store::RecoveryReport report;
    auto log = store::StreamLog::open(disk, options, &report);
    if (!log) {
        return fail(log.error(), "consumer state in " + dir + ": " +
                                     (report.detail.empty() ? std::string(errc_text(log.error())) : report.detail));
    }
    std::unique_ptr<ConsumerLog> consumers(new ConsumerLog(std::move(*log)));
    consumers->recovery_detail_ = std::move(report.detail);
    consumers->replay();
    return consumers;
}

void ConsumerLog::replay() {
    std::map<uint32_t, Assembling> assembling;
    for (uint64_t seq = log_->first_seq(); seq <= log_->last_seq(); ++seq) {
        auto record = log_->load(seq);
        if (!record) continue;
        Reader in(record->payload);
        uint32_t id = 0;
        if (!in.get(id)) continue;
        id_next_ = std::max(id_next_, id + 1);
        std::string_view kind = record->subject;
        if (kind == "S" || kind == "C") {
            if (kind == "S") {
                Assembling& snapshot = assembling[id];
                snapshot = {seq, 0, {}};
                if (!in.get(snapshot.bytes)) {
                    assembling.erase(id);
                    continue;
                }
            }
            auto it = assembling.find(id);
            if (it == assembling.end()) continue;  // a part whose "S" was purged
            it->second.snapshot.append(in.rest());
            if (it->second.snapshot.size() >= it->second.bytes) {
                install(id, it->second);
                assembling.erase(it);
            }
            continue;
        }
        auto it = recovered_.find(id);
        if (it == recovered_.end()) continue;  // a consumer whose "S" was purged: deleted since
        Recovered& consumer = it->second;
        if (kind == "D") {
            uint64_t sseq = 0, dseq = 0, dc = 0;
            int64_t ts = 0;
            if (in.get(sseq) && in.get(dseq) && in.get(dc) && in.get(ts)) {
                consumer.state.on_delivered(consumer.ack_policy, sseq, dseq, dc, ts);
            }
        } else if (kind == "A") {
            uint64_t sseq = 0, dseq = 0;
            if (in.get(sseq) && in.get(dseq)) consumer.state.on_acked(consumer.ack_policy, sseq, dseq);
        } else if (kind == "X") {
            recovered_.erase(it);
            base_seq_.erase(id);
        }
    }
}

void ConsumerLog::install(uint32_t id, const Assembling& snapshot) {
    if (snapshot.snapshot.size() != snapshot.bytes) return;
    Reader in(snapshot.snapshot);
    std::string_view name, config;
    uint8_t policy = 0;
    int64_t created = 0;
    if (!in.text(name) || !in.get(policy) || !in.get(created) || !in.text(config)) return;
    auto state = ConsumerState::decode(in.rest());
    if (!state) return;
    recovered_[id] = {std::string(name), static_cast<proto::js::AckPolicy>(policy), created, std::string(config),
                      std::move(*state)};
    base_seq_[id] = snapshot.seq;
}

uint64_t ConsumerLog::append(std::string kind, std::string payload) {
    if (failed_) return 0;
    queued_.push_back({std::move(kind), std::move(payload)});
    uint64_t seq = log_->last_seq() + queued_.size();
    append_queued();
    return failed_ ? 0 : seq;
}

// Appends what waits, in order. False when some still waits.
bool ConsumerLog::append_queued() {
    while (!queued_.empty() && !failed_) {
        const Queued& next = queued_.front();
        auto seq = log_->append(next.kind, {}, next.payload, base::wall_clock_ns());
        if (!seq) {
            if (seq.error() == Errc::kBusy) return false;
            failed_ = true;
            queued_.clear();
            bool reported = failure_ != Errc::kOk;  // a try to resume that found no room yet
            failure_ = seq.error();
            if (!reported) {
                log_error("JetStream consumer state could not be written (" + std::string(errc_text(failure_)) +
                          "): consumers go on in memory, and new ones are refused, until " +
                          (failure_ == Errc::kNoSpace ? "there is room again" : "a restart"));
            }
            return true;
        }
        queued_.pop_front();
    }
    return true;
}

void ConsumerLog::flush() {
    append_queued();
    if (purge_at_ != 0 && queued_.empty() && log_->durable_seq() >= purge_at_) purge_below_oldest();
    log_->flush();
}

uint64_t ConsumerLog::write_consumer(uint32_t id, std::string_view name, proto::js::AckPolicy ack_policy,
                                     int64_t created_ns, std::string_view config_json, const ConsumerState& state) {
    std::string snapshot;
    put_text(snapshot, name);
    put(snapshot, static_cast<uint8_t>(ack_policy));
    put(snapshot, created_ns);
    put_text(snapshot, config_json);
    snapshot.append(state.encode());
    std::string_view rest = snapshot;
    std::string payload;
    put(payload, id);
    put(payload, static_cast<uint64_t>(snapshot.size()));
    payload.append(rest.substr(0, kPartBytes));
    rest.remove_prefix(std::min(rest.size(), kPartBytes));
    uint64_t seq = append("S", std::move(payload));
    if (seq != 0) base_seq_[id] = seq;
    while (!rest.empty() && seq != 0) {
        payload.clear();
        put(payload, id);
        payload.append(rest.substr(0, kPartBytes));
        rest.remove_prefix(std::min(rest.size(), kPartBytes));
        seq = append("C", std::move(payload));
    }
    return seq;
}

uint64_t ConsumerLog::write_delivered(uint32_t id, uint64_t sseq, uint64_t dseq, uint64_t dc, int64_t ts_ns) {
    std::string payload;
    put(payload, id);
    put(payload, sseq);
    put(payload, dseq);
    put(payload, dc);
    put(payload, ts_ns);
    return append("D", std::move(payload));
}

uint64_t ConsumerLog::write_acked(uint32_t id, uint64_t sseq, uint64_t dseq) {
    std::string payload;
    put(payload, id);
    put(payload, sseq);
    put(payload, dseq);
    return append("A", std::move(payload));
}

void ConsumerLog::write_deleted(uint32_t id) {
    std::string payload;
    put(payload, id);
    if (append("X", std::move(payload)) == 0) owed_deleted_.push_back(id);
    base_seq_.erase(id);
}

bool ConsumerLog::try_resume(int64_t now_ns, const std::function<void()>& write_all) {
    if (!failed_ || failure_ != Errc::kNoSpace || now_ns < resume_after_ns_) return false;
    resume_after_ns_ = now_ns + 1'000'000'000;
    failed_ = false;
    std::vector<uint32_t> deleted = std::move(owed_deleted_);
    owed_deleted_.clear();
    for (uint32_t id : deleted) write_deleted(id);
    if (!failed_) write_all();
    if (failed_) {
        owed_deleted_ = std::move(deleted);
        return false;
    }
    failure_ = Errc::kOk;
    purge_when_durable();
    return true;
}

bool ConsumerLog::wants_compaction() const {
    uint64_t kept = log_->last_seq() + 1 - std::max(log_->first_seq(), uint64_t{1});
    return kept > 2 * base_seq_.size() + kSlackRecords;
}

void ConsumerLog::purge_when_durable() { purge_at_ = log_->last_seq() + queued_.size(); }

void ConsumerLog::purge_below_oldest() {
    uint64_t oldest = log_->last_seq() + 1;
    for (const auto& [id, seq] : base_seq_) oldest = std::min(oldest, seq);
    if (oldest > log_->first_seq()) {
        store::PurgeRequest request;
        request.up_to_seq = oldest;
        auto purged = log_->purge(request);
        if (!purged && purged.error() == Errc::kBusy) return;  // again at the next flush
    }
    purge_at_ = 0;
}

}  // namespace ringtail::core::js
