#pragma once

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/string_map.h"
#include "store/disk.h"
#include "store/record.h"

namespace ringtail::store {

// Retention limits (JetStream's max_msgs, max_bytes, max_age, max_msg_size,
// max_msgs_per_subject, discard). -1 / 0 mean unlimited as noted.
struct StoreLimits {
    int64_t max_msgs = -1;
    int64_t max_bytes = -1;             // over the records' stored size
    int64_t max_age_ns = 0;             // 0: unlimited; applied by expire()
    int64_t max_msg_size = -1;          // payload + headers
    int64_t max_msgs_per_subject = -1;
    bool discard_new = false;           // refuse appends past max_msgs/max_bytes, not drop the oldest
};

struct StoreState {
    uint64_t msgs = 0;
    uint64_t bytes = 0;
    uint64_t first_seq = 0;  // the first live message, or last_seq + 1 when empty
    uint64_t last_seq = 0;
    uint64_t num_subjects = 0;
    uint64_t num_deleted = 0;  // deleted sequences between first_seq and last_seq
};

struct PurgeRequest {
    std::string subject;   // filter, wildcards allowed; empty: every subject
    uint64_t up_to_seq = 0;  // remove below this sequence (exclusive); 0: no bound
    uint64_t keep = 0;       // keep this many newest matching messages; 0: keep none
};

// The size a message counts for in StoreState::bytes and max_bytes: by default the record's
// stored size; JetStream counts as nats-server does, so that limits and stream info agree.
using MessageBytes = uint64_t (*)(size_t subject_bytes, size_t header_bytes, size_t payload_bytes);

struct StreamLogOptions {
    std::string dir;
    StoreLimits limits;
    MessageBytes message_bytes = nullptr;
    uint64_t segment_bytes = 64ull << 20;
    // The first segment's size (0: segment_bytes); each next one doubles up to segment_bytes,
    // so a stream that stays small costs little disk, and creating one is quick.
    uint64_t first_segment_bytes = 0;
    // The largest single write (a record larger than that spans several). It also bounds what
    // a crash can leave past the durable end, which recovery zeroes, so it must not shrink
    // between runs over the same log.
    size_t flush_bytes_max = 1u << 20;
    // Writes a segment may have in flight (1 to kWritesInFlightMax). A flush does not wait for
    // the previous write: appends made while it runs start on the next page and go out in a
    // write of their own, so a device that overlaps writes shortens the time to an ack. On the
    // bench VM, JetStream publish (window 256) gained ~1.2x going from 2 to 4 (BENCHMARKS.md).
    size_t writes_in_flight_max = 4;
    // A write goes out beside others in flight only with at least this much to write; less
    // waits for them to complete and goes out with what arrives meanwhile. Many publishers
    // with an ack outstanding each then share a few large writes rather than a write each of
    // a page barely used, and the device's rate of synchronous writes stops bounding theirs.
    size_t overlap_bytes_min = 8u << 10;
    // Appended bytes a segment may hold in memory before they are durable; beyond this,
    // append() answers kBusy until a write completes. The buffer starts at 64 KiB and grows
    // to this as the write rate needs. A record takes at most half of it.
    size_t tail_bytes_max = 8u << 20;
    // Recovery keeps valid records past a bad stretch anywhere (a flipped bit may lie before
    // acknowledged ones). A log of changes whose every prefix is a consistent state, and whose
    // sequences mean nothing to anyone, asks instead for a prefix: a bad stretch within a
    // crash's reach of the end (the writes that may have been in flight) cuts the log there.
    bool cut_at_a_torn_write = false;
    // Called by open() with each message record the recovery scan reads and verifies, in log
    // order, before deletions are applied (so also with some messages deleted since): what a
    // caller would otherwise read back from the whole log after open. Not kept once open()
    // returns.
    std::function<void(const RecordView& record)> on_recovered;
    // on_recovered is called only for records at least this new. From a sealed segment read
    // from its index (see checkpoint()) only the live ones are read for it, so a caller that
    // wants only recent records should say so here.
    int64_t recovered_since_ns = INT64_MIN;
};

struct RecoveryReport {
    uint64_t segments = 0;
    uint64_t indexed_segments = 0;  // of those, sealed ones read from their index, not scanned
    uint64_t records = 0;
    uint64_t truncated_bytes = 0;  // bytes cut from the end of the log (torn or corrupt tail)
    // Damage to acknowledged data (a bad record with valid ones after it, a sealed segment's
    // damaged end, a missing segment): the sequences lost, as inclusive ranges. They stay
    // holes, never served and never reused; the files are not changed.
    std::vector<std::pair<uint64_t, uint64_t>> lost;
    uint64_t damaged_bytes = 0;  // bytes skipped as damage
    uint64_t resyncs = 0;        // times a scan skipped damage to the next valid record
    std::string detail;          // what was cut or lost and why; empty when nothing was
};

// The durable log of one stream: a directory of preallocated segment files.
//
// Owner: the stream's shard; never touched from another thread.
// Contract: append() makes a record readable at once (load()); it becomes durable when the
// write covering it completes, which the durable callback reports, in order (group commit:
// every record appended before a flush() rides the same writes). flush() is called once per
// loop turn and writes everything appended, in writes of at most flush_bytes_max, up to
// writes_in_flight_max per segment at a time (the rest goes out as those complete); writes may
// complete in any order, durability advances in write order. A failed write makes
// the log refuse appends from then on (sticky); nothing already durable is affected. No room
// for the next segment is not sticky: that append is refused with kNoSpace, and each later one
// that needs the segment tries again, so appends resume once space is freed.
//
// Segment file "<first_seq as 20 digits>.seg": a 4 KiB header page (see segment_header in
// stream_log.cc), then records (store/record.h) from offset 4096, zero-filled beyond.
class StreamLog {
public:
    static constexpr size_t kWritesInFlightMax = 4;
    using DurableCallback = std::function<void(uint64_t durable_seq)>;
    // Told of each message removed from the log after open(), whatever removed it (limits,
    // max_age, purge, remove), with its subject, before the removal. Must not call the log.
    using RemovedCallback = std::function<void(uint64_t seq, std::string_view subject)>;

    // Opens or creates the log in options.dir, recovering what is there: every segment is
    // scanned (a sealed one with an index file that matches it is read from that instead, its
    // records checked later by verify()), a torn tail (bad bytes with nothing valid after them, what a crash leaves in
    // the last writes) is cut and zeroed on disk, and the report says what was cut. Damage with
    // valid records after it, or a missing segment, is skipped to the next valid record: only
    // the sequences it covers are lost, reported, and kept as holes, never reused; so is a last
    // record that fails its checksum under a header naming its sequence. A directory
    // holding files that are not this log's segments is refused with kForeign; a segment with
    // a page that cannot be read, with kIo; neither changes anything on disk.
    [[nodiscard]] static Result<std::unique_ptr<StreamLog>> open(Disk& disk, StreamLogOptions options,
                                                                 RecoveryReport* report);
    ~StreamLog();
    StreamLog(const StreamLog&) = delete;
    StreamLog& operator=(const StreamLog&) = delete;

    // Appends one message and returns its sequence number, then applies the limits (dropping
    // the oldest messages, or refusing with kLimit under discard_new). An empty subject is
    // refused with kInvalid (it marks an erased record, see remove()). A message over
    // max_msg_size, or whose record would take more than half the tail or a whole segment,
    // is refused with kTooLarge.
    [[nodiscard]] Result<uint64_t> append(std::string_view subject, std::string_view headers,
                                          std::string_view payload, int64_t timestamp_ns);
    // Uses up the sequences after the last up to `through`, with no message in them (a mirror
    // keeps its origin's sequences where the origin has none). Durable with the next write.
    // Each costs its index entry, except in an empty log a skip of more than kSkipIndexedMax:
    // that starts a new segment past them, and is refused with kBusy while a write is in
    // flight (try again on a later turn).
    [[nodiscard]] Result<bool> skip(uint64_t through);
    static constexpr uint64_t kSkipIndexedMax = 1 << 16;
    // Removes one message. Durable with the next write (a tombstone record; see
    // deletions_durable()). kNotFound if it is not there (never was, or already removed).
    // With `erase`, its bytes are also removed from the file, by a flush() once the tombstone
    // is durable: its record is written again in place with its fields zeroed (see erases_),
    // and only once that write is on stable storage is the deletion durable.
    [[nodiscard]] Result<bool> remove(uint64_t seq, bool erase = false);
    // Removes the messages the request selects; returns how many. Durable as remove().
    [[nodiscard]] Result<uint64_t> purge(const PurgeRequest& request);
    // Each remove() and purge() that succeeds takes the next deletion ticket: this is the
    // newest one's. deletions_durable() is the newest ticket up to which every deletion is on
    // stable storage (its tombstones and floor written and durable, an erased record
    // rewritten); until then a crash may bring its messages back, or leave their bytes in the
    // file, so whoever confirms a deletion waits for it. The durable callback is called when
    // it moves. Drops by limits and max_age take no ticket (recovery works them out again, or
    // they wait for the append that caused them).
    uint64_t deletion_ticket() const { return deletions_made_; }
    uint64_t deletions_durable() const;
    // The same but for the erasures' rewrites: what an erasure waits for. A removal with erase
    // whose tombstone is durable is finished by the next open if a crash cuts it short.
    uint64_t tombstones_durable() const;
    // Rewrites up to `segments_max` sealed segments in which fewer than half the messages are
    // live, keeping only those (and the tombstones that still matter); returns how many were
    // rewritten. Synchronous: for the owner to call when it has time.
    [[nodiscard]] Result<uint64_t> compact(size_t segments_max = 1);
    // Drops messages older than max_age at `now_ns`. Returns how many.
    uint64_t expire(int64_t now_ns);
    // Replaces the limits and applies them at once (a stream's config was updated).
    void set_limits(const StoreLimits& limits);
    const StoreLimits& limits() const { return options_.limits; }
    // Whether message `seq` is stored (not deleted, not below the first).
    bool contains(uint64_t seq) const { return is_live(seq); }
    // Each subject with its message count and last sequence, in no particular order.
    template <class Fn>
    void for_each_subject(Fn fn) const {
        for (const auto& [subject, info] : subjects_) fn(std::string_view(subject), info.count, info.last);
    }
    // The number of messages on a literal subject.
    uint64_t subject_count(std::string_view subject) const {
        auto it = subjects_.find(subject);
        return it == subjects_.end() ? 0 : it->second.count;
    }
    // The newest message on a literal subject.
    [[nodiscard]] Result<RecordView> load_last(std::string_view subject) const;
    // Its sequence, from the index (0: none).
    uint64_t last_seq_of(std::string_view subject) const {
        auto it = subjects_.find(subject);
        return it == subjects_.end() ? 0 : it->second.last;
    }
    // The first live sequence >= from whose subject matches `filter` (wildcards; empty: any).
    [[nodiscard]] Result<uint64_t> next_seq(uint64_t from, std::string_view filter) const;
    // How many live messages >= from match `filter` (wildcards; empty: any). From the index,
    // no record read: the live counts of whole segments, a walk of the rest.
    uint64_t count_from(uint64_t from, std::string_view filter) const;
    // The first live sequence whose message is at least as new as `timestamp_ns`, or
    // last_seq() + 1 when there is none.
    uint64_t seq_at_time(int64_t timestamp_ns) const;
    // The time of live message `seq`, from the index.
    int64_t timestamp_at(uint64_t seq) const;
    // The subject of live message `seq`, from the index (empty if it is not live).
    std::string_view subject_at(uint64_t seq) const { return is_live(seq) ? subject_of(seq) : std::string_view{}; }
    StoreState state() const;
    // Submits the writes that make everything appended so far durable; first starts the
    // erasure owed (see remove()).
    void flush();
    // Whether flush() has something to do, now or once writes in flight complete: appends not
    // yet durable, deletions waiting, erasures owed.
    bool has_work() const;
    // Makes room for records of up to `record_bytes` from now on (tail_bytes_max and
    // segment_bytes, to at least two such records); never lowers them. For a limit raised
    // while the log is open (a reload raising max_payload). Writes keep their size, and so
    // does what recovery looks at past the durable end.
    void raise_record_size(size_t record_bytes);
    // Segment indexes: an index file per sealed segment (store/README.md) lets the next
    // open() read that instead of scanning the segment. index_sealed() starts writing the
    // index of one sealed segment that has none (and no damage) in the background, and
    // returns whether it did: for the owner's tick, so that segments scanned at open() or
    // sealed since get theirs. checkpoint() writes every one still missing, synchronously:
    // at a clean stop. Without an index a segment is simply scanned.
    bool index_sealed();
    [[nodiscard]] Result<bool> checkpoint();
    // Writes down, in the background, how far the log is durable ("last.seq"), if that moved
    // since it was last written: for the owner's tick (checkpoint() writes it too). An open()
    // that finds the log ending before it (its last segment gone, or the end of that segment
    // damaged in a way a torn write could also leave) reports the sequences between lost and
    // goes on after them, so that none of them is ever given again. Logs whose sequences
    // mean nothing to anyone (cut_at_a_torn_write) have no use for it.
    void mark_durable();
    // Checks the records of the segments open() read from their index, about `budget_bytes`
    // of them per call, oldest first; returns whether any are left to check. A record that
    // fails its checksum (until then refused by load()) is damage found late: its message is
    // removed like a loss found at open(), added to `report` (lost, detail, damaged_bytes), and
    // its segment's index removed, so every later open() scans it and reports it again.
    bool verify(uint64_t budget_bytes, RecoveryReport* report);
    void set_durable_callback(DurableCallback callback) { on_durable_ = std::move(callback); }
    void set_removed_callback(RemovedCallback callback) { on_removed_ = std::move(callback); }

    // The record `seq`, checksum verified. Views stay valid until the next call on this log or
    // poll of its Disk (completions move and free the tail; drops may remove a segment).
    [[nodiscard]] Result<RecordView> load(uint64_t seq) const;

    uint64_t first_seq() const { return first_live_; }
    uint64_t last_seq() const { return last_seq_; }
    // The newest message's time, kept when it is removed (a purge writes it down, so that a
    // purged log still knows it after a restart); 0 if the log never held one.
    int64_t last_timestamp() const { return last_timestamp_; }
    uint64_t durable_seq() const { return durable_seq_; }
    uint64_t bytes() const { return bytes_; }  // stored size of the live messages
    Errc sticky_error() const { return sticky_error_; }
    bool writes_in_flight() const;
    // Rolls that had to create their segment in line because no spare was ready.
    uint64_t rolls_without_spare() const { return rolls_waited_; }
    bool spare_ready() const { return spare_ == Spare::kReady; }

private:
    struct Segment;
    // One write of pages [start, end) of a segment's tail, making [.., data_end) durable.
    struct WriteOp : DiskWrite {
        StreamLog* log = nullptr;
        Segment* segment = nullptr;
        uint64_t start = 0;
        uint64_t end = 0;
        uint64_t data_end = 0;
        int32_t result = 0;
        bool completed = false;
    };

    StreamLog(Disk& disk, StreamLogOptions options);
    [[nodiscard]] Result<bool> recover(RecoveryReport* report);
    [[nodiscard]] Result<bool> recover_segment(Segment& segment, RecoveryReport* report, bool has_later,
                                               uint64_t next_first_seq);
    // Refuses (kIo, said in the report) a segment some page of which could not be read.
    [[nodiscard]] Result<bool> check_readable(const Segment& s, RecoveryReport* report);
    // Fills a sealed segment in from its index file; false (nothing changed) if there is none
    // that describes this file, or it cannot be read.
    bool read_index(Segment& s, RecoveryReport* report);
    bool load_index(Segment& s, int handle, RecoveryReport* report);
    bool indexable(const Segment& s) const;
    void encode_index(const Segment& s, std::vector<std::byte>& file);
    [[nodiscard]] Result<bool> write_index(Segment& s);
    void indexed(Segment& s);
    [[nodiscard]] Result<bool> remove_index(Segment& s);
    static void index_done(DiskWrite* op, int32_t result);
    static void mark_done(DiskWrite* op, int32_t result);
    // Reads "last.seq" and loses what the log lacks of it (see mark_durable()).
    void recover_mark(RecoveryReport* report);
    // A segment of the next size, and at least `min_bytes` (smaller on a full disk, see there;
    // `deletion`: for a tombstone, which may take the smallest).
    // `skipped_from`: the segment starts after a skip of [skipped_from, first_seq).
    [[nodiscard]] Result<Segment*> create_segment(uint64_t first_seq, uint64_t min_bytes = 0, uint64_t skipped_from = 0,
                                                  bool deletion = false);
    uint64_t first_segment_bytes() const {
        return options_.first_segment_bytes != 0 ? options_.first_segment_bytes : options_.segment_bytes;
    }
    // Writes any record into the active segment's tail (messages and tombstones).
    [[nodiscard]] Result<Segment*> append_bytes(uint32_t kind, const RecordView& record, size_t bytes,
                                                uint64_t& offset);
    [[nodiscard]] Result<bool> append_tombstone(uint32_t kind, uint64_t seq, int64_t timestamp_ns = 0);
    [[nodiscard]] Result<bool> persist_floor();
    // In-memory removal; the caller makes it durable (tombstone) or derivable (limits).
    // `ticket`: the deletion (remove(), purge()) it is part of, 0 for a limit's drop.
    void drop(uint64_t seq, uint64_t ticket = 0);
    // Whether what dropped messages of `s` is durable, so that the drops may be written down
    // for it: the file removed, an index or a compaction leaving the messages out.
    bool drops_durable(const Segment& s) const;
    // drop() for a limit the newest append took over; with a tombstone for a per-subject one.
    void drop_by_limit(uint64_t seq, bool tombstone);
    // Whether a deletion made now waits in deferred_ rather than being written at once.
    bool deferring() const;
    // Appends the floor and the deletions that waited for the log to be durable.
    void write_deferred();
    // The first live message of subject `subject_id` strictly between `from` and `to` (either
    // direction), else `to` (the subject's other end, known to be live).
    uint64_t find_subject(uint64_t from, uint64_t to, uint32_t subject_id) const;
    // The first live message of subject `subject_id` after `seq`, one of its messages (live, or
    // dropped just now), else `last` (its last live one): by the links appends left (next_same).
    uint64_t next_of_subject(uint64_t seq, uint64_t last, uint32_t subject_id) const;
    // Counts a live message in the subject index and the totals; returns its subject's id.
    uint32_t index_live(uint64_t seq, const base::HashedKey& subject, uint32_t bytes);
    // The bytes `record` counts for in bytes() and max_bytes.
    uint32_t counted_bytes(const RecordView& record) const;
    // The subject of live message `seq`, from the index.
    std::string_view subject_of(uint64_t seq) const;
    void apply_limits(std::string_view subject_appended);
    void release_front_segments();
    [[nodiscard]] Result<bool> compact_segment(Segment& segment);
    // Seals the active segment (everything in it durable, no write in flight) by starting the
    // next one, at least `min_bytes` large.
    [[nodiscard]] Result<Segment*> roll(uint64_t min_bytes, uint64_t skipped_from = 0, bool deletion = false);
    // Writes the owed erasures whose tombstones are durable, one write at a time (see erases_).
    void erase_owed();
    static void erase_done(DiskWrite* op, int32_t result);
    Segment* segment_for_mut(uint64_t seq);
    bool is_live(uint64_t seq) const;
    // Gives the segment its first, smallest tail, holding the file from `base` on.
    [[nodiscard]] Result<bool> start_tail(Segment& segment, uint64_t base);
    // Whether the tail can hold a window of `needed_bytes`, growing it if it must and may.
    bool fit_tail(Segment& segment, uint64_t needed_bytes);
    // Submits the next write of the segment's unwritten pages, if there is one and room for it.
    bool flush_segment(Segment& segment);
    static void write_done(DiskWrite* op, int32_t result);
    static void spare_done(DiskWrite* op, int32_t result);
    // Prepares the next segment in the background: at once when it has the active one's size,
    // else once the active one is half full.
    void maybe_prepare_spare(const Segment& active);
    std::string spare_path() const { return options_.dir + "/spare.tmp"; }
    void on_write_done(Segment& segment, WriteOp& write, int32_t result);
    void advance_durable();
    const Segment* segment_for(uint64_t seq) const;

    uint64_t message_bytes(size_t subject, size_t headers, size_t payload) const {
        return options_.message_bytes != nullptr ? options_.message_bytes(subject, headers, payload)
                                                 : record_bytes(subject, headers, payload);
    }

    Disk& disk_;
    StreamLogOptions options_;  // limits change with set_limits()
    struct SubjectInfo {
        uint64_t first = 0;
        uint64_t last = 0;
        uint64_t count = 0;
        uint32_t id = 0;  // its index in subject_names_
    };

    std::vector<std::unique_ptr<Segment>> segments_;  // by first_seq; the last one is active
    uint64_t last_seq_ = 0;
    int64_t last_timestamp_ = 0;
    uint64_t first_live_ = 1;
    uint64_t floor_written_ = 0;  // the highest purge floor on disk
    // Deletions made while appends were in flight (see deferring()), in order: each is written
    // once the log is durable up to `after`, its newest sequence then. `kind`: kKindDelete or
    // kKindErase (a tombstone for `seq`), kKindPurge (a floor at `seq`), or 0 (a drop that
    // recovery works out again from the limits, kept only so that no floor passes it early).
    struct Deferred {
        uint64_t after = 0;
        uint32_t kind = 0;
        uint64_t seq = 0;
        uint64_t ticket = 0;  // of the remove() or purge() that made it; 0 for a limit's drop
    };
    std::deque<Deferred> deferred_;
    // Deletion tickets whose writes are submitted, in ticket order: a mark stands for every
    // ticket above the one before it up to its own, durable once the segment `segment_id` is
    // durable up to `end` (or sealed, which only a durable one is).
    struct TicketMark {
        uint64_t ticket = 0;
        uint64_t segment_id = 0;
        uint64_t end = 0;
    };
    std::deque<TicketMark> ticket_marks_;
    uint64_t deletions_made_ = 0;
    uint64_t marked_durable_ = 0;      // the ticket of the last mark found durable
    uint64_t deletions_reported_ = 0;  // deletions_durable() when the callback last heard it
    // Where the newest tombstone ends: what a ticket written now waits for.
    uint64_t tombstone_segment_id_ = 0;
    uint64_t tombstone_end_ = 0;
    // A deletion just made whose writes are done (none deferred) takes its ticket's mark.
    void mark_ticket(uint64_t ticket);
    void drop_durable_marks();
    // Tells the durable callback when deletions_durable() moved.
    void report_deletions();
    bool floor_owed_ = false;  // the last floor stopped short of the front
    uint64_t next_segment_id_ = 1;
    uint64_t msgs_ = 0;
    uint64_t bytes_ = 0;
    base::StringMap<SubjectInfo> subjects_;
    // Every subject with a live message, by id: segments keep a message's subject as its id.
    // An id is reused once its subject has no message left.
    std::vector<std::string> subject_names_;
    std::vector<uint32_t> free_subject_ids_;
    uint64_t durable_seq_ = 0;
    Errc sticky_error_ = Errc::kOk;
    DurableCallback on_durable_;
    RemovedCallback on_removed_;

    // The next segment file, allocated and zero-filled ahead of need by the Disk (off this
    // thread), so a roll only writes a header and renames.
    enum class Spare : uint8_t { kNone, kPreparing, kReady };
    struct SpareOp : DiskWrite {
        StreamLog* log = nullptr;
    };
    Spare spare_ = Spare::kNone;
    uint64_t spare_bytes_ = 0;         // the size the spare was prepared with
    uint64_t next_segment_bytes_ = 0;  // the size of the next segment created
    SpareOp spare_op_;
    uint64_t rolls_waited_ = 0;  // rolls that found no spare ready and created one in line
    bool spare_no_room_ = false;  // the last spare found no room: none until a segment of full size is made
    // The index of one sealed segment being written in the background (index_sealed()).
    struct IndexOp : DiskWrite {
        StreamLog* log = nullptr;
        uint64_t segment_id = 0;
        uint64_t rewrites = 0;  // the segment's, when it began: a rewrite since makes it stale
    };
    IndexOp index_op_;
    bool indexing_ = false;
    // "last.seq" (mark_durable()): its handle once created, the page being written and the
    // sequence it holds, and the sequence the file is known to hold.
    struct MarkOp : DiskWrite {
        StreamLog* log = nullptr;
        uint64_t seq = 0;
    };
    MarkOp mark_op_;
    bool marking_ = false;
    int mark_handle_ = -1;
    std::unique_ptr<std::byte, void (*)(void*)> mark_page_{nullptr, &std::free};
    uint64_t marked_seq_ = 0;
    std::vector<std::byte> index_buffer_;   // what index_op_ writes; kept for the next one
    std::vector<uint32_t> index_numbers_;   // encode_index(): by subject id, all kIndexNone between uses
    // Messages removed with erase whose bytes are still in their segment, in the order they
    // were removed. Once its tombstone is durable (`ticket`), a message's record is written
    // again in place as a record of the same length, the same sequence and no subject, its
    // headers and payload zeros: recovery finds it deleted by its tombstone, and by having no
    // subject should that tombstone be lost (to a flipped bit), so it is never served. A torn
    // rewrite reads as damage (the sequence reported lost, never served); a crash before it
    // leaves the bytes, so the deletion is durable only once the rewrite is (see
    // deletions_durable()), and its tombstone (kKindErase) has the next open queue the
    // erasure again (no ticket), which finds it done or does it. A rewrite of pages in the tail
    // waits for the tail's writes in flight, and no new one starts meanwhile
    // (`erase_draining_`): under a steady stream of appends the tail would otherwise never be
    // idle.
    struct EraseOwed {
        uint64_t seq = 0;
        uint64_t ticket = 0;  // 0: found at open
    };
    std::deque<EraseOwed> erases_;
    struct EraseOp : DiskWrite {
        StreamLog* log = nullptr;
    };
    EraseOp erase_op_;
    uint64_t erasing_segment_ = 0;  // the id of the segment erase_op_ writes to; 0: none
    uint64_t erasing_ticket_ = 0;   // and the ticket of the deletion it erases (kept if it failed)
    bool erasing_tail_ = false;     // and it rewrites pages of its tail: no tail write meanwhile
    uint64_t erase_draining_ = 0;   // the id of the segment whose tail writes an erasure waits out
    std::unique_ptr<std::byte, void (*)(void*)> erase_pages_{nullptr, &std::free};
};

}  // namespace ringtail::store
