#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/disk.h"
#include "store/record.h"

namespace ringtail::store {

struct StreamLogOptions {
    std::string dir;
    uint64_t segment_bytes = 64ull << 20;
    // The largest single write. It also bounds what a crash can leave past the durable end,
    // which recovery zeroes.
    size_t flush_bytes_max = 1u << 20;
    // Appended bytes a segment may hold in memory before they are durable; beyond this,
    // append() answers kBusy until a write completes.
    size_t tail_bytes_max = 8u << 20;
};

struct RecoveryReport {
    uint64_t segments = 0;
    uint64_t records = 0;
    uint64_t truncated_bytes = 0;  // bytes cut from the end of the log (torn or corrupt tail)
    std::string detail;            // what was cut and why; empty when nothing was
};

// The durable log of one stream: a directory of preallocated segment files.
//
// Owner: the stream's shard; never touched from another thread.
// Contract: append() makes a record readable at once (load()); it becomes durable when the
// write covering it completes, which the durable callback reports, in order, once per write
// (group commit: every record appended before a flush() rides the same write). flush() is
// called once per loop turn and submits at most one write per segment. A failed write makes
// the log refuse appends from then on (sticky); nothing already durable is affected.
//
// Segment file "<first_seq as 20 digits>.seg": a 4 KiB header page (see segment_header in
// stream_log.cc), then records (store/record.h) from offset 4096, zero-filled beyond.
class StreamLog {
public:
    using DurableCallback = std::function<void(uint64_t durable_seq)>;

    // Opens or creates the log in options.dir, recovering what is there: every segment is
    // scanned, the log is cut at the first torn or corrupt record (and what lies beyond is
    // zeroed on disk), and the report says what was cut. A directory holding files that are
    // not this log's segments is refused with kForeign.
    [[nodiscard]] static Result<std::unique_ptr<StreamLog>> open(Disk& disk, StreamLogOptions options,
                                                                 RecoveryReport* report);
    ~StreamLog();
    StreamLog(const StreamLog&) = delete;
    StreamLog& operator=(const StreamLog&) = delete;

    // Appends one record and returns its sequence number.
    [[nodiscard]] Result<uint64_t> append(std::string_view subject, std::string_view headers,
                                          std::string_view payload, int64_t timestamp_ns);
    // Submits the writes that make everything appended so far durable (where none is in flight).
    void flush();
    void set_durable_callback(DurableCallback callback) { on_durable_ = std::move(callback); }

    // The record `seq`, checksum verified. Views stay valid until the next append/flush/open.
    [[nodiscard]] Result<RecordView> load(uint64_t seq) const;

    uint64_t first_seq() const;
    uint64_t last_seq() const { return last_seq_; }
    uint64_t durable_seq() const { return durable_seq_; }
    uint64_t bytes() const;
    Errc sticky_error() const { return sticky_error_; }
    bool writes_in_flight() const;

private:
    struct Segment;
    struct WriteOp : DiskWrite {
        StreamLog* log = nullptr;
        Segment* segment = nullptr;
    };

    StreamLog(Disk& disk, StreamLogOptions options);
    [[nodiscard]] Result<bool> recover(RecoveryReport* report);
    [[nodiscard]] Result<bool> recover_segment(Segment& segment, RecoveryReport* report, bool& cut);
    [[nodiscard]] Result<Segment*> create_segment(uint64_t first_seq);
    void flush_segment(Segment& segment);
    static void write_done(DiskWrite* op, int32_t result);
    void on_write_done(Segment& segment, int32_t result);
    void advance_durable();
    const Segment* segment_for(uint64_t seq) const;

    Disk& disk_;
    const StreamLogOptions options_;
    std::vector<std::unique_ptr<Segment>> segments_;  // by first_seq; the last one is active
    uint64_t last_seq_ = 0;
    uint64_t durable_seq_ = 0;
    Errc sticky_error_ = Errc::kOk;
    DurableCallback on_durable_;
};

}  // namespace ringtail::store
