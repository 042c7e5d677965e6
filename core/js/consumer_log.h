#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "core/js/consumer_state.h"
#include "store/stream_log.h"

namespace ringtail::core::js {

// The durable state of a stream's consumers: one StreamLog of small records next to the
// stream's messages, written with the same group commit and the same durability contract (a
// record is durable once the write covering it completes). One log for all of a stream's
// consumers, so ten thousand consumers cost records, not files.
//
// Records (the subject says which; the payload starts with the consumer's id, u32):
//   "S"  a whole consumer: id, the snapshot's size, then the snapshot (name, ack policy,
//        created, config JSON, state) or as much of it as fits one record
//   "C"  the next part of a snapshot too large for its "S" (a consumer with many pending)
//   "D"  a delivery: sseq, dseq, delivery count, timestamp
//   "A"  an ack: sseq, dseq
//   "X"  the consumer was deleted
// Replaying them in order gives every consumer's config and state (ConsumerState applies
// "D" and "A" as the live consumer did). The log is kept short by compaction: once it holds
// far more records than consumers, every consumer writes its "S" again and, once those are
// durable, what lies below the oldest "S" still needed is purged (the work is paid for by
// the records it drops).
//
// A record the log cannot take yet (a segment roll waits for the last write of the old
// segment) waits here, in order, and goes in at the next flush(); its sequence is known at
// once, since nothing else appends to the log.
//
// Owner: the stream, on its shard.
class ConsumerLog {
public:
    struct Recovered {
        std::string name;
        proto::js::AckPolicy ack_policy = proto::js::AckPolicy::kExplicit;
        int64_t created_ns = 0;
        std::string config_json;
        ConsumerState state;
    };

    // Opens (or creates) the log in `dir` and replays it.
    [[nodiscard]] static Result<std::unique_ptr<ConsumerLog>, Error> open(store::Disk& disk, const std::string& dir);
    ConsumerLog(const ConsumerLog&) = delete;
    ConsumerLog& operator=(const ConsumerLog&) = delete;

    // What recovery cut or lost and why (damage, a torn write); empty when nothing was.
    const std::string& recovery_detail() const { return recovery_detail_; }
    // The consumers the log holds, by id (after open()); taken once.
    std::map<uint32_t, Recovered> take_recovered() { return std::move(recovered_); }
    // An id no consumer of this log has used.
    uint32_t next_id() { return id_next_++; }

    // Each returns the log sequence that makes it durable (0 when it cannot be written: the
    // log failed; the consumer goes on in memory).
    uint64_t write_consumer(uint32_t id, std::string_view name, proto::js::AckPolicy ack_policy, int64_t created_ns,
                            std::string_view config_json, const ConsumerState& state);
    uint64_t write_delivered(uint32_t id, uint64_t sseq, uint64_t dseq, uint64_t dc, int64_t ts_ns);
    uint64_t write_acked(uint32_t id, uint64_t sseq, uint64_t dseq);
    void write_deleted(uint32_t id);

    // Whether the log has grown enough to be compacted: the owner writes every consumer's
    // "S" again, then calls purge_when_durable().
    bool wants_compaction() const;
    // Drops what lies below the oldest "S" still needed, once everything written so far is
    // durable (a crash before that finds the old records still there).
    void purge_when_durable();

    uint64_t durable_seq() const { return log_->durable_seq(); }
    // The sequence that makes everything written so far durable (UINT64_MAX once the log
    // failed: none does).
    uint64_t last_written() const { return failed_ ? UINT64_MAX : log_->last_seq() + queued_.size(); }
    bool failed() const { return failed_; }
    // Whether flush() has something to do (see StreamLog::has_work()).
    bool has_work() const { return !queued_.empty() || purge_at_ != 0 || log_->has_work(); }
    // After a failure for want of space, at most once a second: takes writes again, writes
    // the deletions made meanwhile and then, by `write_all`, every consumer's "S" (what was
    // not written while failed is in those), and drops what lies below once that is durable.
    // False while there is still no room (the log stays failed).
    bool try_resume(int64_t now_ns, const std::function<void()>& write_all);
    // Appends what waited, purges if due, and starts the write of what was appended.
    void flush();
    void set_durable_callback(store::StreamLog::DurableCallback callback) {
        log_->set_durable_callback(std::move(callback));
    }

private:
    struct Queued {
        std::string kind;
        std::string payload;
    };
    struct Assembling {  // a snapshot being put together during replay
        uint64_t seq = 0;
        uint64_t bytes = 0;
        std::string snapshot;
    };

    explicit ConsumerLog(std::unique_ptr<store::StreamLog> log) : log_(std::move(log)) {}
    void replay();
    void install(uint32_t id, const Assembling& snapshot);
    uint64_t append(std::string kind, std::string payload);
    bool append_queued();
    void purge_below_oldest();

    std::unique_ptr<store::StreamLog> log_;
    std::string recovery_detail_;
    std::map<uint32_t, Recovered> recovered_;
    std::map<uint32_t, uint64_t> base_seq_;  // by live consumer: the seq of its latest "S"
    std::deque<Queued> queued_;
    uint64_t purge_at_ = 0;  // purge once this seq is durable (0: no purge due)
    bool failed_ = false;
    Errc failure_ = Errc::kOk;           // why the log failed: only kNoSpace passes
    int64_t resume_after_ns_ = 0;        // the next try_resume() that tries
    std::vector<uint32_t> owed_deleted_;  // consumers deleted while failed
    uint32_t id_next_ = 1;
};

}  // namespace ringtail::core::js
