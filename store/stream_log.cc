#include "store/stream_log.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "base/assert.h"
#include "base/hash.h"
#include "base/subject_match.h"
#include "store/mirror_ring.h"

namespace ringtail::store {
namespace {

constexpr uint64_t align_down(uint64_t n) { return n & ~uint64_t{kPageBytes - 1}; }
constexpr uint64_t align_up(uint64_t n) { return align_down(n + kPageBytes - 1); }
static_assert(align_up(4097) == 8192 && align_down(4097) == 4096 && align_up(4096) == 4096);

bool has_wildcard(std::string_view subject) {
    for (std::string_view token : base::subject_tokens(subject)) {
        if (token == "*" || token == ">") return true;
    }
    return false;
}

// Segment header page, the first 4 KiB of every segment file:
//   offset  bytes  field
//        0     16  magic "RINGTAIL-SEGMENT"
//       16      4  format version (1)
//       20      4  page bytes (4096)
//       24      8  first_seq: the sequence number of the segment's first record
//       32      8  segment bytes (the file's preallocated size)
//       40      8  compacted_last_seq: 0 for a segment written by appends; for one rewritten by
//                  compaction, the last sequence it covers (its records then skip the
//                  sequences that were removed)
//       48      8  xxh3-64 of bytes [0, 48)
//   rest of the page: zero.
constexpr char kMagic[16] = {'R', 'I', 'N', 'G', 'T', 'A', 'I', 'L', '-', 'S', 'E', 'G', 'M', 'E', 'N', 'T'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderChecked = 48;

struct SegmentHeader {
    uint64_t first_seq = 0;
    uint64_t segment_bytes = 0;
    uint64_t compacted_last_seq = 0;
    // Non-zero when the segment starts after a skip too long to index: sequences
    // [skipped_from, first_seq) were used up with no message, not lost. After the checked part,
    // with a checksum of its own (0 in a segment written before it existed).
    uint64_t skipped_from = 0;
};

struct AlignedFree {
    void operator()(std::byte* p) const { std::free(p); }
};

std::byte* alloc_zeroed_pages(size_t bytes) {
    auto* p = static_cast<std::byte*>(std::aligned_alloc(kPageBytes, bytes));
    RT_ASSERT(p != nullptr);
    std::memset(p, 0, bytes);
    return p;
}

// Segment files are named by a number that only grows ("<id as 20 digits>.seg"); the header
// says which sequence the segment starts at. (Names by first sequence would repeat when a
// segment holds tombstones only.)
std::string segment_name(uint64_t id) {
    char name[32];
    std::snprintf(name, sizeof name, "%020llu.seg", static_cast<unsigned long long>(id));
    return name;
}

// Parses "<20 digits>.seg"; false for anything else.
bool parse_segment_name(const std::string& name, uint64_t& id) {
    if (name.size() != 24 || !name.ends_with(".seg")) return false;
    auto [end, ec] = std::from_chars(name.data(), name.data() + 20, id);
    return ec == std::errc() && end == name.data() + 20;
}

// offsets[] of a sequence compaction removed from its segment.
constexpr uint64_t kAbsent = UINT64_MAX;

// A segment's in-memory tail starts this small and grows with the write rate.
constexpr size_t kTailBytesInitial = 64 * 1024;
// A segment's index is sized once this many messages show how large its records are.
constexpr size_t kIndexSampleRecords = 1024;

// Larger segment headers are refused as not ours (recovery maps and may scan a whole segment).
constexpr uint64_t kSegmentBytesMax = 16ull << 30;

void encode_header(std::span<std::byte> page, const SegmentHeader& header) {
    std::memset(page.data(), 0, page.size());
    std::memcpy(page.data(), kMagic, sizeof kMagic);
    uint32_t version = kFormatVersion;
    uint32_t page_bytes = kPageBytes;
    std::memcpy(page.data() + 16, &version, 4);
    std::memcpy(page.data() + 20, &page_bytes, 4);
    std::memcpy(page.data() + 24, &header.first_seq, 8);
    std::memcpy(page.data() + 32, &header.segment_bytes, 8);
    std::memcpy(page.data() + 40, &header.compacted_last_seq, 8);
    uint64_t sum = base::hash64(page.data(), kHeaderChecked);
    std::memcpy(page.data() + kHeaderChecked, &sum, 8);
    std::memcpy(page.data() + kHeaderChecked + 8, &header.skipped_from, 8);
    uint64_t skip_sum = base::hash64(page.data(), kHeaderChecked + 16);
    std::memcpy(page.data() + kHeaderChecked + 16, &skip_sum, 8);
}

bool decode_header(std::span<const std::byte> page, SegmentHeader& header) {
    if (page.size() < kPageBytes || std::memcmp(page.data(), kMagic, sizeof kMagic) != 0) return false;
    uint32_t version, page_bytes;
    uint64_t sum;
    std::memcpy(&version, page.data() + 16, 4);
    std::memcpy(&page_bytes, page.data() + 20, 4);
    std::memcpy(&header.first_seq, page.data() + 24, 8);
    std::memcpy(&header.segment_bytes, page.data() + 32, 8);
    std::memcpy(&header.compacted_last_seq, page.data() + 40, 8);
    std::memcpy(&sum, page.data() + kHeaderChecked, 8);
    uint64_t skip_sum;
    std::memcpy(&header.skipped_from, page.data() + kHeaderChecked + 8, 8);
    std::memcpy(&skip_sum, page.data() + kHeaderChecked + 16, 8);
    if (skip_sum != base::hash64(page.data(), kHeaderChecked + 16)) header.skipped_from = 0;
    return version == kFormatVersion && page_bytes == kPageBytes &&
           sum == base::hash64(page.data(), kHeaderChecked);
}

// "last.seq" (StreamLog::mark_durable()): one page, rewritten in place by durable writes.
//   offset  bytes  field
//        0     16  magic "RINGTAIL-LASTSEQ"
//       16      4  format version (1)
//       20      4  zero
//       24      8  the log was durable through this sequence
//       32      8  xxh3-64 of bytes [0, 32)
// A torn or unreadable one is not used (the log then ends where its segments do).
constexpr char kMarkMagic[16] = {'R', 'I', 'N', 'G', 'T', 'A', 'I', 'L', '-', 'L', 'A', 'S', 'T', 'S', 'E', 'Q'};
constexpr char kMarkName[] = "last.seq";

void encode_mark(std::span<std::byte> page, uint64_t seq) {
    std::memset(page.data(), 0, kPageBytes);
    std::memcpy(page.data(), kMarkMagic, sizeof kMarkMagic);
    uint32_t version = 1;
    std::memcpy(page.data() + 16, &version, 4);
    std::memcpy(page.data() + 24, &seq, 8);
    uint64_t sum = base::hash64(page.data(), 32);
    std::memcpy(page.data() + 32, &sum, 8);
}

bool decode_mark(std::span<const std::byte> page, uint64_t& seq) {
    if (page.size() < kPageBytes || std::memcmp(page.data(), kMarkMagic, sizeof kMarkMagic) != 0) return false;
    uint32_t version;
    uint64_t sum;
    std::memcpy(&version, page.data() + 16, 4);
    std::memcpy(&seq, page.data() + 24, 8);
    std::memcpy(&sum, page.data() + 32, 8);
    return version == 1 && sum == base::hash64(page.data(), 32);
}

// Segment index file "<id as 20 digits>.idx": what a recovery scan learns from a sealed
// segment, written once the segment is sealed (in the background by index_sealed(), or by
// checkpoint() at a clean stop), so that a restart reads it instead of the segment. It checks
// itself and is not synced: a torn one is not used. Header page:
//   offset  bytes  field
//        0     16  magic "RINGTAIL-SEGINDX"
//       16      4  format version (1)
//       20      4  zero
//       24      8  the segment's id (its file name's number)
//       32     32  the segment header's first_seq, segment bytes, compacted_last_seq and
//                  skipped_from: an index describes one version of one file
//       64      8  last_seq: the last sequence the segment covers
//       72      8  data end: the offset where its records end
//       80      8  the newest time a record of the segment carries (messages, purges)
//       88      8  body bytes
//       96      8  xxh3-64 of the body
//      104      8  xxh3-64 of bytes [0, 104)
// Body, from offset 4096: for each sequence first_seq..last_seq 20 bytes: u32 record offset / 8
// with the top bit set for a message with headers (kIndexNone: no record; segments are less
// than 16 GiB, so offset / 8 fits in 31 bits), u32 subject number (kIndexNone: not a live message), u32 counted
// bytes, i64 timestamp; then u32 tombstone count and per tombstone u32 kind, u64 seq; then u32
// subject count and per subject u32 length and its bytes. A message deleted when the index
// was written is written as not live: deletions never come undone.
constexpr char kIndexMagic[16] = {'R', 'I', 'N', 'G', 'T', 'A', 'I', 'L', '-', 'S', 'E', 'G', 'I', 'N', 'D', 'X'};
constexpr size_t kIndexHeaderChecked = 104;
constexpr size_t kIndexEntryBytes = 20;
constexpr uint32_t kIndexNone = UINT32_MAX;
constexpr uint32_t kIndexHeadersBit = 1u << 31;
static_assert(kSegmentBytesMax / 8 <= kIndexHeadersBit);

struct IndexHeader {
    uint64_t id = 0;
    SegmentHeader segment;
    uint64_t last_seq = 0;
    uint64_t data_end = 0;
    int64_t newest = 0;
    uint64_t body_bytes = 0;
    uint64_t body_sum = 0;
};

std::string index_name(uint64_t id) {
    char name[32];
    std::snprintf(name, sizeof name, "%020llu.idx", static_cast<unsigned long long>(id));
    return name;
}

void encode_index_header(std::span<std::byte> page, const IndexHeader& h) {
    std::memset(page.data(), 0, kPageBytes);
    std::memcpy(page.data(), kIndexMagic, sizeof kIndexMagic);
    uint32_t version = 1;
    std::memcpy(page.data() + 16, &version, 4);
    const uint64_t fields[] = {h.id,       h.segment.first_seq, h.segment.segment_bytes, h.segment.compacted_last_seq,
                               h.segment.skipped_from, h.last_seq, h.data_end, static_cast<uint64_t>(h.newest),
                               h.body_bytes, h.body_sum};
    std::memcpy(page.data() + 24, fields, sizeof fields);
    uint64_t sum = base::hash64(page.data(), kIndexHeaderChecked);
    std::memcpy(page.data() + kIndexHeaderChecked, &sum, 8);
}

bool decode_index_header(std::span<const std::byte> page, IndexHeader& h) {
    if (page.size() < kPageBytes || std::memcmp(page.data(), kIndexMagic, sizeof kIndexMagic) != 0) return false;
    uint32_t version;
    uint64_t sum;
    std::memcpy(&version, page.data() + 16, 4);
    std::memcpy(&sum, page.data() + kIndexHeaderChecked, 8);
    if (version != 1 || sum != base::hash64(page.data(), kIndexHeaderChecked)) return false;
    uint64_t fields[10];
    std::memcpy(fields, page.data() + 24, sizeof fields);
    h = {fields[0], {fields[1], fields[2], fields[3], fields[4]}, fields[5], fields[6],
         static_cast<int64_t>(fields[7]), fields[8], fields[9]};
    return true;
}

// Little-endian fields in and out of an index body.
struct IndexWriter {
    std::byte* at;
    template <class T>
    void put(T value) {
        std::memcpy(at, &value, sizeof value);
        at += sizeof value;
    }
    void put_bytes(std::string_view bytes) {
        std::memcpy(at, bytes.data(), bytes.size());
        at += bytes.size();
    }
};
struct IndexReader {
    std::span<const std::byte> in;
    size_t at = 0;
    bool ok = true;
    template <class T>
    T get() {
        T value{};
        if (in.size() - at < sizeof value) {
            ok = false;
            return value;
        }
        std::memcpy(&value, in.data() + at, sizeof value);
        at += sizeof value;
        return value;
    }
    std::string_view bytes(size_t n) {
        if (in.size() - at < n) {
            ok = false;
            return {};
        }
        std::string_view view(reinterpret_cast<const char*>(in.data() + at), n);
        at += n;
        return view;
    }
};

// One past the last non-zero byte of map[from, to), or `from` if all are zero. Page-wise from
// the end, so a large zero-filled region costs a memcmp per page.
uint64_t written_end(std::span<const std::byte> map, uint64_t from, uint64_t to) {
    static const std::byte kZeroPage[kPageBytes] = {};
    for (uint64_t page_end = align_up(to); page_end > align_down(from); page_end -= kPageBytes) {
        uint64_t page_start = std::max(page_end - kPageBytes, from);
        uint64_t limit = std::min(page_end, to);
        if (page_start >= limit) continue;
        if (std::memcmp(map.data() + page_start, kZeroPage, limit - page_start) == 0) continue;
        for (uint64_t at = limit; at > page_start; --at) {
            if (map[at - 1] != std::byte{0}) return at;
        }
    }
    return from;
}

// Where the scan of a segment found nothing at `offset` (a zero header): the next page's
// offset if the rest of this page is zero and the record starting the next page says it was
// appended there because a write covered this page from exactly `offset` on (skipped_from);
// else 0, the end of the log. Zeros left by a write that never landed do not match: the
// record after them names the offset where that write's data would have ended.
// The first offset at or after `from` (8-aligned, as records are) where a whole record decodes
// with a valid checksum: a message at `expected` or later, or a tombstone. 0 if there is none.
uint64_t next_valid_record(std::span<const std::byte> map, uint64_t from, uint64_t expected) {
    for (uint64_t offset = (from + 7) & ~uint64_t{7}; offset + kRecordHeaderBytes + kRecordChecksumBytes <= map.size();
         offset += 8) {
        Decoded decoded = decode_record(map.subspan(offset));
        if (decoded.status != DecodeStatus::kOk) continue;
        if (decoded.kind != kKindMessage || decoded.record.seq >= expected) return offset;
    }
    return 0;
}

// A kKindSkip record's first sequence (its payload); it covers [from, seq].
uint64_t skip_from(const RecordView& skip) {
    uint64_t from = 0;
    if (skip.payload.size() == sizeof from) std::memcpy(&from, skip.payload.data(), sizeof from);
    return from;
}

// Whether the bad record at the start of `in` is, but for at most one flipped bit in its kind
// and sequence, a message with sequence `seq` (its length and checksum are not looked at).
bool names_seq(std::span<const std::byte> in, uint64_t seq) {
    if (in.size() < kRecordHeaderBytes) return false;
    uint32_t kind;
    uint64_t claimed;
    std::memcpy(&kind, in.data() + 4, sizeof kind);
    std::memcpy(&claimed, in.data() + 8, sizeof claimed);
    return std::popcount(kind ^ kKindMessage) + std::popcount(claimed ^ seq) <= 1;
}

uint64_t skipped_to(std::span<const std::byte> map, uint64_t offset, uint64_t limit) {
    if (offset % kPageBytes == 0) return 0;
    uint64_t next = align_up(offset);
    if (next >= limit) return 0;
    if (written_end(map, offset, next) != offset) return 0;
    Decoded decoded = decode_record(map.subspan(next, limit - next));
    return decoded.status == DecodeStatus::kOk && decoded.skipped_from == offset % kPageBytes ? next : 0;
}

}  // namespace

struct StreamLog::Segment {
    std::string path;
    uint64_t id = 0;  // the file name's number
    uint64_t compacted_last_seq = 0;  // see the header: non-zero for a compacted segment
    uint64_t skipped_from = 0;        // see the header: non-zero after a skip too long to index
    bool damaged_end = false;         // recovery found nothing valid after damage in it
    bool damaged = false;             // recovery read past damage in it
    bool lost_some = false;           // holds sequences lost to damage (holes)
    uint64_t rewrites = 0;            // times compaction replaced its file
    int64_t newest = 0;               // the newest time a record in it carries
    // Its index file ("<id>.idx", see write_index) is on disk and describes it.
    bool indexed = false;
    // Read from its index at recovery: its records' checksums are checked later, by verify(),
    // from sequence `verified_to` + 1 on (a record that fails is refused by load() meanwhile).
    bool unverified = false;
    uint64_t verified_to = 0;
    // The tombstones it holds, (kind, seq), kept while it has no index file to hold them.
    std::vector<std::pair<uint32_t, uint64_t>> tombstones;
    // At recovery, for a segment read from its index: the subjects its entries name by number.
    std::vector<std::string> index_subjects;
    int handle = -1;
    uint64_t bytes = 0;  // file size
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;           // first_seq - 1 while empty
    uint64_t durable_last_seq = 0;   // last seq whose record is wholly on disk
    std::vector<uint64_t> offsets;   // offsets[seq - first_seq]
    std::vector<uint8_t> deleted;    // deleted[seq - first_seq]
    // For live messages, [seq - first_seq]: its subject's id (subject_names_), the bytes it
    // counts for (message_bytes) and its timestamp, so that dropping one (limits, max_age)
    // reads nothing from the files.
    std::vector<uint32_t> subject_ids;
    std::vector<uint32_t> sizes;
    std::vector<int64_t> timestamps;
    // [seq - first_seq]: how far ahead the next message of the same subject was appended, while
    // this one was the subject's last live one (0: none since, or too far to keep). Following
    // them from a live message visits its subject's later messages, deleted ones among them,
    // so that dropping a subject's oldest (max_msgs_per_subject, a KV bucket's history) finds
    // the next one without scanning every other subject's messages in between.
    std::vector<uint32_t> next_same;
    // [seq - first_seq]: the message has headers, so that a recovery reading this segment's
    // index reads for on_recovered only the records that may matter to it.
    std::vector<uint8_t> with_headers;
    uint64_t live = 0;               // messages not deleted
    // The log's newest sequence when a message of this segment was last dropped. What caused
    // the drop (the append that took a limit over) may still be in flight, and a crash would
    // undo it: until the log is durable up to here, nothing may write the drop down for it
    // (the file removed, an index or a compaction leaving the message out).
    uint64_t dropped_at = 0;
    // The newest deletion (its ticket) that dropped a message of this segment: likewise until
    // its tombstones are durable, or a crash would leave a deletion half done.
    uint64_t dropped_ticket = 0;
    std::span<const std::byte> map;  // the whole file, read-only
    uint64_t write_offset = kPageBytes;    // where the next record goes
    uint64_t durable_offset = kPageBytes;  // [0, durable_offset) is on disk

    // The tail: file range [tail_base, align_up(write_offset)) in memory, file offset o at
    // tail.at(o). It holds every record not yet durable (and the durable start of their first
    // page), so writes are taken from it and reads of fresh records are served from it. The ring
    // reuses what lies below tail_base, which moves up as writes complete; nothing is ever
    // moved. Reused memory holds old bytes: appends overwrite them record by record, and a
    // write's last page is zeroed past the last record before it is submitted.
    MirrorRing tail;
    int tail_buffer = -1;  // the ring's registration with the disk, or -1
    uint64_t tail_base = 0;
    uint64_t tail_wanted = 0;  // the ring size appends have needed (see fit_tail)
    Disk* disk = nullptr;

    explicit Segment(Disk& owner) : disk(&owner) {}
    // The next sequence is absent (compacted away, or lost to damage): deleted, never served.
    // The next sequence was skipped (kKindSkip): deleted, its record at `at`.
    void append_skipped(uint64_t at) {
        offsets.push_back(at);
        deleted.push_back(1);
        subject_ids.push_back(0);
        sizes.push_back(0);
        timestamps.push_back(0);
        next_same.push_back(0);
        with_headers.push_back(0);
    }
    void append_hole() {
        offsets.push_back(kAbsent);
        deleted.push_back(1);
        subject_ids.push_back(0);
        sizes.push_back(0);
        timestamps.push_back(0);
        next_same.push_back(0);
        with_headers.push_back(0);
    }
    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;
    ~Segment() { reset_tail(); }
    // Takes `ring` as the tail, with the window's bytes copied over from the old one.
    void set_tail(MirrorRing ring) {
        if (!tail.empty()) {
            std::memcpy(ring.at(tail_base), tail.at(tail_base), align_up(write_offset) - tail_base);
        }
        reset_tail();
        tail = std::move(ring);
        tail_buffer = disk->register_buffer(tail.mappings());
    }
    // Takes over `from`'s tail (no write reading it), its window starting at `base`.
    void take_tail(Segment& from, uint64_t base) {
        reset_tail();
        tail = std::move(from.tail);
        tail_buffer = std::exchange(from.tail_buffer, -1);
        tail_wanted = from.tail_wanted;
        tail_base = base;
    }
    // Drops the tail (never while a write reads it).
    void reset_tail() {
        if (tail_buffer != -1) disk->unregister_buffer(std::exchange(tail_buffer, -1));
        tail = MirrorRing();
    }

    // The writes in flight, oldest first, as a ring of writes_count from writes_first. Each
    // reads its pages of the tail, which nothing may touch (or move) until it completes. They
    // cover consecutive page ranges: a later one starts where the one before ends.
    std::array<WriteOp, kWritesInFlightMax> writes;
    size_t writes_first = 0;
    size_t writes_count = 0;
    WriteOp& write_at(size_t i) { return writes[(writes_first + i) % kWritesInFlightMax]; }
    const WriteOp* newest_write() const {
        if (writes_count == 0) return nullptr;
        return &writes[(writes_first + writes_count - 1) % kWritesInFlightMax];
    }

    // Reserves the index for the whole segment at the size of its records so far, so that it
    // never copies itself while the segment fills (at 128 B records, growing by doubling cost a
    // tenth of the append's time in copies and page faults).
    void reserve_index() {
        uint64_t record_bytes = std::max<uint64_t>(1, (write_offset - kPageBytes) / offsets.size());
        size_t records = static_cast<size_t>((bytes - kPageBytes) / record_bytes);
        records += records / 8;
        offsets.reserve(records);
        deleted.reserve(records);
        subject_ids.reserve(records);
        sizes.reserve(records);
        timestamps.reserve(records);
        next_same.reserve(records);
        with_headers.reserve(records);
    }

    // Moves durable_last_seq to the last message wholly below durable_offset. Messages
    // lie at growing offsets (a segment that takes writes is never compacted), so this is a
    // binary search, plus one look at the length of the record that may straddle the end (a
    // record not yet durable is always in the tail).
    void advance_durable_last_seq() {
        auto from = offsets.begin() + static_cast<std::ptrdiff_t>(durable_last_seq + 1 - first_seq);
        auto past = std::lower_bound(from, offsets.end(), durable_offset);
        if (past == from) return;
        uint64_t last = first_seq + static_cast<uint64_t>(past - offsets.begin()) - 1;
        uint32_t length;
        std::memcpy(&length, tail.at(offsets[last - first_seq]), sizeof length);
        if (offsets[last - first_seq] + length > durable_offset) {
            // Not wholly on disk: neither is any sequence it covers (a skip covers several).
            last = first_seq + static_cast<uint64_t>(std::lower_bound(from, past, offsets[last - first_seq]) - offsets.begin());
            if (last == first_seq + static_cast<uint64_t>(from - offsets.begin())) return;
            --last;
        }
        durable_last_seq = last;
    }
};

StreamLog::StreamLog(Disk& disk, StreamLogOptions options) : disk_(disk), options_(std::move(options)) {
    RT_ASSERT(options_.segment_bytes % kPageBytes == 0);
    RT_ASSERT(options_.flush_bytes_max % kPageBytes == 0);
    RT_ASSERT(options_.tail_bytes_max >= 2 * options_.flush_bytes_max);
    RT_ASSERT(options_.tail_bytes_max % kPageBytes == 0);
    RT_ASSERT(options_.writes_in_flight_max >= 1 && options_.writes_in_flight_max <= kWritesInFlightMax);
    uint64_t first = first_segment_bytes();
    RT_ASSERT(first % kPageBytes == 0 && first <= options_.segment_bytes);
    next_segment_bytes_ = first;
}

StreamLog::~StreamLog() {
    if (spare_ == Spare::kPreparing) disk_.forget(&spare_op_);
    if (indexing_) disk_.forget(&index_op_);
    if (marking_) disk_.forget(&mark_op_);
    if (erasing_segment_ != 0) disk_.forget(&erase_op_);
    if (mark_handle_ >= 0) disk_.close_file(mark_handle_);
    for (auto& segment : segments_) {
        for (size_t i = 0; i < segment->writes_count; ++i) disk_.forget(&segment->write_at(i));
    }
    // A write still in flight is abandoned: the Disk must not call back into a destroyed log,
    // which SimDisk::crash and DirectDisk's close both guarantee. Its bytes may be freed before
    // the device reads them, so only a log whose files are going (a deleted stream, a
    // simulated crash) is destroyed with writes in flight; a server stopping waits for them.
    for (auto& segment : segments_) disk_.close_file(segment->handle);
}

Result<std::unique_ptr<StreamLog>> StreamLog::open(Disk& disk, StreamLogOptions options,
                                                   RecoveryReport* report) {
    RecoveryReport ignored;
    if (report == nullptr) report = &ignored;
    std::unique_ptr<StreamLog> log(new StreamLog(disk, std::move(options)));
    auto recovered = log->recover(report);
    log->options_.on_recovered = nullptr;  // it may refer to the caller's stack
    if (!recovered) return std::unexpected(recovered.error());
    return log;
}

Result<bool> StreamLog::recover(RecoveryReport* report) {
    if (auto ok = disk_.make_dir(options_.dir); !ok) return ok;
    auto names = disk_.list_dir(options_.dir);
    if (!names) return std::unexpected(names.error());
    std::vector<uint64_t> ids;
    std::vector<uint64_t> index_ids;
    std::vector<std::string> leftovers;
    bool has_mark = false;
    for (const std::string& name : *names) {
        uint64_t id;
        if (name == kMarkName) {
            has_mark = true;
            continue;
        }
        if (name.ends_with(".idx") && parse_segment_name(name.substr(0, 20) + ".seg", id)) {
            index_ids.push_back(id);
            continue;
        }
        if (name.ends_with(".tmp")) {
            // A segment being prepared or created when the process stopped: not part of the log,
            // removed once the log has opened (a refused open changes nothing).
            leftovers.push_back(options_.dir + "/" + name);
            continue;
        }
        if (!parse_segment_name(name, id)) {
            report->detail = "refusing " + options_.dir + ": " + name + " is not a segment file";
            return std::unexpected(Errc::kForeign);
        }
        ids.push_back(id);
    }
    std::sort(ids.begin(), ids.end());
    std::sort(index_ids.begin(), index_ids.end());
    // A sealed segment with an index is read from it; the last one (it takes appends) is
    // always scanned, and an index of it, or of no segment, is stale.
    auto has_index = [&](uint64_t id) {
        return id != ids.back() && std::binary_search(index_ids.begin(), index_ids.end(), id);
    };
    for (uint64_t id : index_ids) {
        if (!std::binary_search(ids.begin(), ids.end(), id) || id == ids.back()) {
            leftovers.push_back(options_.dir + "/" + index_name(id));
        }
    }
    next_segment_id_ = ids.empty() ? 1 : ids.back() + 1;
    for (uint64_t id : ids) {
        std::string path = options_.dir + "/" + segment_name(id);
        // The device reads the next segment while this one is scanned.
        if (auto next = std::upper_bound(ids.begin(), ids.end(), id);
            next != ids.end() && *next != ids.back() && !has_index(*next)) {
            disk_.read_ahead(options_.dir + "/" + segment_name(*next));
        }
        auto handle = disk_.open_file(path);
        if (!handle) return std::unexpected(handle.error());
        auto segment = std::make_unique<Segment>(disk_);
        segment->path = path;
        segment->id = id;
        segment->handle = *handle;
        segments_.push_back(std::move(segment));
        Segment& s = *segments_.back();
        auto size = disk_.file_size(s.handle);
        auto map = disk_.map_file(s.handle);
        if (!size) return std::unexpected(size.error());
        if (!map) return std::unexpected(map.error());
        s.bytes = *size;
        s.map = *map;
        SegmentHeader header;
        bool sane = decode_header(s.map, header);
        uint64_t header_first = header.first_seq;
        uint64_t header_bytes = header.segment_bytes;
        // Shorter than its header says (cut short by a copy, a tool, a file system): what is
        // left is read, what was cut is lost, and the segment never takes appends again.
        bool truncated = sane && header_bytes > s.bytes && s.bytes >= kPageBytes;
        if (!sane || header_first == 0 || (header_bytes != s.bytes && !truncated) || header_bytes > kSegmentBytesMax ||
            header_bytes % kPageBytes != 0 || header_bytes < 2 * kPageBytes ||
            (header.compacted_last_seq != 0 && header.compacted_last_seq + 1 < header_first)) {
            report->detail = "refusing " + path + ": not a Ringtail segment (bad header)";
            return std::unexpected(Errc::kForeign);
        }
        if (segments_.size() > 1 && header_first > last_seq_ + 1 && header.skipped_from == last_seq_ + 1) {
            last_seq_ = header_first - 1;  // a skip too long to index: nothing was lost
        } else if (segments_.size() > 1 && header_first != last_seq_ + 1) {
            // Sealed segments are complete, so the next always continues the log. A gap is
            // damage: the end of the previous segment, or a whole segment file, is gone. Its
            // sequences are lost (holes in the previous segment), never reused.
            Segment& previous = *segments_[segments_.size() - 2];
            if (header_first <= last_seq_) {
                report->detail = path + " starts at seq " + std::to_string(header_first) + " but the log ends at " +
                                 std::to_string(last_seq_) + "; refusing to open (nothing was changed)";
                return std::unexpected(Errc::kCorruptRecord);
            }
            report->lost.push_back({last_seq_ + 1, header_first - 1});
            report->detail += (report->detail.empty() ? "" : "; ") +
                              (previous.damaged_end ? previous.path + ": damaged at its end"
                                                    : "segments missing before " + path) +
                              ", sequences " + std::to_string(last_seq_ + 1) + "-" + std::to_string(header_first - 1) +
                              " lost";
            for (uint64_t seq = last_seq_ + 1; seq < header_first; ++seq) {
                previous.append_hole();
            }
            previous.lost_some = true;
            previous.last_seq = previous.durable_last_seq = header_first - 1;
            last_seq_ = header_first - 1;
        }
        s.first_seq = header_first;
        s.compacted_last_seq = header.compacted_last_seq;
        s.skipped_from = header.skipped_from;
        if (has_index(id)) {
            if (!truncated && read_index(s, report)) {
                ++report->segments;
                ++report->indexed_segments;
                last_seq_ = std::max(last_seq_, s.last_seq);
                continue;
            }
            // Stale: it goes, and index_sealed() writes the segment a new one.
            leftovers.push_back(options_.dir + "/" + index_name(id));
        }
        // The next segment's first sequence says whether this one is complete, so a sealed
        // segment's zero end is read as its end without scanning it (0: none, or unreadable).
        uint64_t next_first_seq = 0;
        if (id != ids.back()) {
            auto next_id = *std::upper_bound(ids.begin(), ids.end(), id);
            if (auto next = disk_.open_file(options_.dir + "/" + segment_name(next_id))) {
                SegmentHeader next_header;
                if (auto next_map = disk_.map_file(*next); next_map && decode_header(*next_map, next_header)) {
                    next_first_seq = next_header.first_seq;
                }
                disk_.close_file(*next);
            }
        }
        // Sealed segments are read whole: have the pages in before the scan asks for each.
        if (id != ids.back()) disk_.will_read_all(s.handle);
        if (truncated) {
            s.damaged = true;
            report->damaged_bytes += header_bytes - s.bytes;
            report->detail += (report->detail.empty() ? "" : "; ") + path + ": truncated to " +
                              std::to_string(s.bytes) + " of " + std::to_string(header_bytes) + " bytes";
        }
        // A truncated segment is read as a sealed one: its end is damage, never a torn tail to cut.
        if (auto ok = recover_segment(s, report, id != ids.back() || truncated, next_first_seq); !ok) return ok;
        if (truncated && id == ids.back()) {
            report->detail += "; " + path + " was the last segment: messages after seq " + std::to_string(s.last_seq) +
                              " that were in the cut part are lost and their count is unknown";
        }
        ++report->segments;
        last_seq_ = std::max(last_seq_, s.last_seq);
    }
    if (has_mark) recover_mark(report);
    durable_seq_ = last_seq_;
    for (const std::string& leftover : leftovers) {
        if (auto ok = disk_.remove_file(leftover); !ok) return ok;
    }
    if (segments_.empty()) {
        auto created = create_segment(last_seq_ + 1);
        if (!created) return std::unexpected(created.error());
        return true;
    }
    // The last segment takes appends: give it a tail holding the partial last page (before the
    // limits below, which may write tombstones).
    Segment& active = *segments_.back();
    next_segment_bytes_ = std::max(next_segment_bytes_, std::min(options_.segment_bytes, 2 * active.bytes));
    if (active.damaged) {
        // Damage was read past in the last segment: it is sealed as it is, so that every later
        // recovery reads it as damage again (never as a torn tail to cut), and appends go on
        // in a new segment.
        auto created = create_segment(last_seq_ + 1);
        if (!created) return std::unexpected(created.error());
    } else {
        if (auto ok = start_tail(active, align_down(active.write_offset)); !ok) return ok;
        std::memcpy(active.tail.at(active.tail_base), active.map.data() + active.tail_base,
                    active.write_offset - active.tail_base);
    }

    // Deletions: tombstones first (they were written), then the limits. Only the highest purge
    // floor matters; applying each one would make recovery quadratic in their number.
    for (auto& segment : segments_) {
        for (auto [kind, seq] : segment->tombstones) {
            if (kind == kKindPurge) floor_written_ = std::max(floor_written_, seq);
        }
    }
    for (auto& segment : segments_) {
        for (uint64_t seq = segment->first_seq; seq <= segment->last_seq && seq < floor_written_; ++seq) {
            segment->deleted[seq - segment->first_seq] = 1;
        }
    }
    for (auto& segment : segments_) {
        for (auto [kind, seq] : segment->tombstones) {
            if (!removes_one(kind)) continue;
            if (Segment* holder = segment_for_mut(seq)) {
                holder->deleted[seq - holder->first_seq] = 1;
                // An erasure a crash may have cut short: erase_owed() finishes it, or finds it done.
                if (kind == kKindErase) erases_.push_back({seq, 0});
            }
        }
    }
    first_live_ = last_seq_ + 1;
    for (auto& segment : segments_) {
        for (uint64_t seq = segment->first_seq; seq <= segment->last_seq; ++seq) {
            uint64_t i = seq - segment->first_seq;
            if (segment->deleted[i]) continue;
            // The scan verified the record; its subject is all that is read again. An index
            // names it.
            std::string_view subject = segment->unverified ? std::string_view(segment->index_subjects[segment->subject_ids[i]])
                                                           : peek_subject(segment->map.subspan(segment->offsets[i]));
            if (subject.empty()) {
                segment->deleted[i] = 1;  // erased (see erases_): removed even if its tombstone is not there
                continue;
            }
            ++segment->live;
            segment->subject_ids[i] = index_live(seq, base::HashedKey(subject), segment->sizes[i]);
            first_live_ = std::min(first_live_, seq);
        }
        std::vector<std::string>().swap(segment->index_subjects);
    }
    for (auto& segment : segments_) {
        if (auto ok = check_readable(*segment, report); !ok) return ok;
    }
    // Limits lowered since the last run drop messages now; what they drop is written (tombstones
    // and floor) with the first flush, like any drop.
    std::vector<std::string> subjects;
    for (const auto& entry : subjects_) subjects.push_back(entry.first);
    for (const std::string& subject : subjects) apply_limits(subject);
    apply_limits({});
    maybe_prepare_spare(*segments_.back());
    return true;
}

Result<bool> StreamLog::recover_segment(Segment& s, RecoveryReport* report, bool has_later,
                                        uint64_t next_first_seq) {
    uint64_t offset = kPageBytes;
    uint64_t expected = s.first_seq;
    const char* why = nullptr;
    bool resynced = false;  // damage was just skipped: the next message may follow a hole
    // Sequences [expected, seq) are lost to damage: kept as deleted holes, never served.
    auto lose = [&](uint64_t seq, uint64_t at) {
        if (seq <= expected) return;
        s.lost_some = true;
        report->lost.push_back({expected, seq - 1});
        report->detail += (report->detail.empty() ? "" : "; ") + s.path + ": damaged at offset " + std::to_string(at) +
                          ", sequences " + std::to_string(expected) + "-" + std::to_string(seq - 1) + " lost";
        for (; expected < seq; ++expected) {
            s.append_hole();
        }
    };
    // Where a bad record naming the next sequence lies, at `at` or (moved there) at the start of
    // the next page; 0 if there is none.
    auto names_expected = [&](uint64_t at) -> uint64_t {
        if (names_seq(s.map.subspan(at), expected)) return at;
        uint64_t page = align_up(at);
        bool moved = page != at && page < s.bytes && written_end(s.map, at, page) == at;
        return moved && names_seq(s.map.subspan(page), expected) ? page : 0;
    };
    // At a bad record or a zeroed stretch at `offset`: damage, or the torn tail a crash leaves?
    // A torn tail has nothing valid after it. Where valid records follow, the scan goes on at
    // the next one and only what lies between is lost: damage to acknowledged data, or (after
    // a crash whose later write landed before an earlier one) records never acknowledged, which
    // are reported lost all the same. Either way nothing valid is erased and no sequence is
    // reused. Returns false at a torn tail.
    auto skip_damage = [&] {
        uint64_t next = next_valid_record(s.map, offset + 8, expected);
        if (next == 0) return false;
        if (options_.cut_at_a_torn_write && !has_later) {
            uint64_t last_end = 0;
            for (uint64_t at = next; at != 0;) {
                last_end = at + decode_record(s.map.subspan(at)).bytes;
                at = next_valid_record(s.map, last_end, expected);
            }
            // The writes in flight start at most one record (half the tail) past the bad one's
            // start (its first bytes may have been on disk already).
            if (offset + options_.tail_bytes_max / 2 + kWritesInFlightMax * options_.flush_bytes_max >= last_end) {
                return false;
            }
        }
        report->damaged_bytes += next - offset;
        Decoded found = decode_record(s.map.subspan(next));
        if (found.kind == kKindMessage) {
            lose(found.record.seq, offset);
        } else if (found.kind == kKindSkip) {
            lose(skip_from(found.record), offset);
        } else if (names_expected(offset) != 0) {
            lose(expected + 1, offset);  // only tombstones follow the bad message
        }
        ++report->resyncs;
        resynced = true;
        s.damaged = true;
        offset = next;
        return true;
    };
    while (offset < s.bytes) {
        Decoded decoded = decode_record(s.map.subspan(offset));
        if (decoded.status == DecodeStatus::kEnd) {
            uint64_t next = skipped_to(s.map, offset, s.bytes);
            if (next != 0) {
                offset = next;
                continue;
            }
            // The end of the log, unless records follow a zeroed stretch (a zeroed sector). In
            // the last segment, and in a sealed one that holds all its sequences, only the
            // in-flight window past here is looked at: the rest is zeros, and reading it all
            // would page in the whole file. (A last segment that a crash left with records past
            // a write that never landed is sealed with them: read the same way later, they are
            // found again, tombstones included.)
            bool complete = next_first_seq != 0 &&
                            (expected >= next_first_seq || (s.compacted_last_seq != 0 && s.compacted_last_seq + 1 >= next_first_seq));
            uint64_t look_until = has_later && !complete
                                      ? s.bytes
                                      : std::min<uint64_t>(s.bytes, align_up(offset) + kPageBytes +
                                                                        kWritesInFlightMax * options_.flush_bytes_max);
            if (written_end(s.map, offset, look_until) > offset && skip_damage()) continue;
            if (has_later && complete) break;
            if (uint64_t bad = options_.cut_at_a_torn_write ? 0 : names_expected(offset); bad != 0) {
                offset = bad;  // the next message, moved to the next page, is bad there
                why = "checksum mismatch";
            }
            break;
        }
        if (decoded.status == DecodeStatus::kTorn) {
            why = "torn record";
        } else if (decoded.status == DecodeStatus::kCorrupt) {
            why = "checksum mismatch";
        } else if (decoded.kind == kKindSkip) {
            // Sequences [from, seq] used up with no message.
            if (skip_from(decoded.record) == expected && decoded.record.seq >= expected) {
                for (; expected <= decoded.record.seq; ++expected) s.append_skipped(offset);
            } else {
                why = "sequence break";
            }
            if (why == nullptr) {
                offset += decoded.bytes;
                continue;
            }
        } else if (decoded.kind != kKindMessage) {
            // A tombstone names a sequence the log had reached when it was written, and records
            // go to disk in the order they were appended: one naming a sequence not seen yet
            // follows a hole (a later write that landed without an earlier one). What the hole
            // held is lost, its sequences never given again.
            uint64_t reached = removes_one(decoded.kind) ? decoded.record.seq : decoded.record.seq - 1;
            if (reached >= expected && reached > s.compacted_last_seq) lose(reached + 1, offset);
            s.tombstones.push_back({decoded.kind, decoded.record.seq});
            // A purge carries the newest message's time then.
            s.newest = std::max(s.newest, decoded.record.timestamp_ns);
            last_timestamp_ = std::max(last_timestamp_, decoded.record.timestamp_ns);
            offset += decoded.bytes;
            continue;
        } else if (resynced && decoded.record.seq > expected) {
            // The first message after skipped damage: what lies between is lost (in a compacted
            // segment some of it may have been compacted away; it is reported all the same).
            lose(decoded.record.seq, offset);
        } else if (s.compacted_last_seq != 0 && decoded.record.seq > expected &&
                   decoded.record.seq <= s.compacted_last_seq) {
            // Compaction removed the sequences in between.
            for (; expected < decoded.record.seq; ++expected) s.append_hole();
        } else if (decoded.record.seq != expected) {
            why = "sequence break";
        }
        if (why != nullptr) {
            if (!skip_damage()) break;
            why = nullptr;
            continue;
        }
        resynced = false;
        if (s.offsets.size() == kIndexSampleRecords) {
            s.write_offset = offset;  // for the estimate; set for good below
            s.reserve_index();
        }
        s.offsets.push_back(offset);
        s.deleted.push_back(0);
        s.subject_ids.push_back(0);  // set by recover() for the messages still live
        s.sizes.push_back(counted_bytes(decoded.record));
        s.timestamps.push_back(decoded.record.timestamp_ns);
        s.next_same.push_back(0);  // set by recover(), as subject_ids
        s.with_headers.push_back(!decoded.record.headers.empty());
        s.newest = std::max(s.newest, decoded.record.timestamp_ns);
        last_timestamp_ = std::max(last_timestamp_, decoded.record.timestamp_ns);
        if (options_.on_recovered && decoded.record.timestamp_ns >= options_.recovered_since_ns) {
            options_.on_recovered(decoded.record);
        }
        ++expected;
        ++report->records;
        offset += decoded.bytes;
    }
    // Damage skipped with no message after it in a compacted segment: what the segment still
    // covered past the damage is lost (not compacted away, as far as anyone can tell).
    if (resynced && s.compacted_last_seq != 0 && expected <= s.compacted_last_seq) {
        lose(s.compacted_last_seq + 1, offset);
    }
    for (; s.compacted_last_seq != 0 && why == nullptr && expected <= s.compacted_last_seq; ++expected) {
        s.append_hole();  // removed by compaction at the end of the segment
    }
    s.last_seq = expected - 1;
    s.durable_last_seq = s.last_seq;
    s.write_offset = s.durable_offset = offset;

    // Bytes past the end may hold a torn write, or (after a corrupt record) records that must
    // never be read back: zero them. Where the scan ended cleanly, garbage can only come from
    // the writes in flight (as many as any run may have had), so a bounded window is checked;
    // after a cut, the whole rest.
    uint64_t in_flight_bytes = kWritesInFlightMax * options_.flush_bytes_max;
    uint64_t window_end = why != nullptr ? s.bytes : std::min<uint64_t>(s.bytes, align_up(offset) + in_flight_bytes);
    uint64_t dirty_end = written_end(s.map, offset, window_end);
    if (auto ok = check_readable(s, report); !ok) return ok;  // before anything is changed
    if (why != nullptr && has_later) {
        // Sealed segments are wholly on disk before the next one starts, so a crash tears only
        // the last segment: a bad record in an earlier one with nothing valid after it is
        // damage to its end. What it held is lost (recover() counts it from the next segment's
        // first sequence); the file is left as it is.
        report->damaged_bytes += s.bytes - offset;
        s.damaged_end = true;
        return true;
    }
    if (why != nullptr && !options_.cut_at_a_torn_write && names_seq(s.map.subspan(offset), expected)) {
        // The last record is bad but its header names the next sequence: it may have been
        // acknowledged (a flipped bit) or torn by a crash; nobody can tell. Its
        // sequence is lost, never reused: the segment is sealed as it is (read as this same
        // damage at every recovery) and appends go on in a new one.
        lose(expected + 1, offset);
        report->damaged_bytes += dirty_end - offset;
        s.last_seq = s.durable_last_seq = expected - 1;
        s.damaged = true;
        return true;
    }
    if (dirty_end > offset) {
        // Zero [offset, dirty_end) in bounded chunks, keeping the bytes before `offset` in its page.
        constexpr uint64_t kChunkBytes = 1 << 20;
        std::unique_ptr<std::byte, AlignedFree> zeros(alloc_zeroed_pages(kChunkBytes));
        uint64_t end = align_up(dirty_end);
        for (uint64_t start = align_down(offset); start < end; start += kChunkBytes) {
            uint64_t bytes = std::min(kChunkBytes, end - start);
            std::memset(zeros.get(), 0, kPageBytes);
            if (start < offset) std::memcpy(zeros.get(), s.map.data() + start, offset - start);
            if (auto ok = disk_.write_sync(s.handle, start, {zeros.get(), bytes}); !ok) return ok;
        }
        if (why != nullptr) {
            report->truncated_bytes += dirty_end - offset;
            report->detail += (report->detail.empty() ? "" : "; ") + s.path + ": " + why + " at offset " +
                              std::to_string(offset) + ", log cut after seq " + std::to_string(s.last_seq) +
                              ", " + std::to_string(dirty_end - offset) + " bytes zeroed";
        }
    }
    return true;
}

bool StreamLog::read_index(Segment& s, RecoveryReport* report) {
    auto handle = disk_.open_file(options_.dir + "/" + index_name(s.id));
    if (!handle) return false;
    bool ok = load_index(s, *handle, report);
    disk_.close_file(*handle);
    return ok;
}

bool StreamLog::load_index(Segment& s, int handle, RecoveryReport* report) {
    auto size = disk_.file_size(handle);
    auto map = disk_.map_file(handle);
    IndexHeader h;
    if (!size || !map || !decode_index_header(*map, h)) return false;
    if (h.id != s.id || h.segment.first_seq != s.first_seq || h.segment.segment_bytes != s.bytes ||
        h.segment.compacted_last_seq != s.compacted_last_seq || h.segment.skipped_from != s.skipped_from ||
        h.last_seq + 1 < s.first_seq || h.data_end < kPageBytes || h.data_end > s.bytes ||
        h.body_bytes > *size - kPageBytes) {
        return false;
    }
    std::span<const std::byte> body = map->subspan(kPageBytes, h.body_bytes);
    if (base::hash64(body.data(), body.size()) != h.body_sum) return false;
    uint64_t count = h.last_seq + 1 - s.first_seq;
    if (count > body.size() / kIndexEntryBytes) return false;
    IndexReader in{body};
    std::vector<uint64_t> offsets(count);
    std::vector<uint8_t> deleted(count);
    std::vector<uint32_t> subject_ids(count), sizes(count);
    std::vector<int64_t> timestamps(count);
    std::vector<uint8_t> with_headers(count);
    uint32_t subjects_named = 0;  // one past the highest subject number an entry uses
    for (uint64_t i = 0; i < count; ++i) {
        uint32_t offset8 = in.get<uint32_t>();
        uint32_t subject = in.get<uint32_t>();
        offsets[i] = offset8 == kIndexNone ? kAbsent : uint64_t{offset8 & ~kIndexHeadersBit} * 8;
        with_headers[i] = offset8 != kIndexNone && (offset8 & kIndexHeadersBit) != 0;
        deleted[i] = subject == kIndexNone;
        subject_ids[i] = deleted[i] ? 0 : subject;
        sizes[i] = in.get<uint32_t>();
        timestamps[i] = in.get<int64_t>();
        if (offsets[i] != kAbsent && offsets[i] >= h.data_end) return false;
        if (!deleted[i] && offsets[i] == kAbsent) return false;
        if (!deleted[i]) subjects_named = std::max(subjects_named, subject + 1);
    }
    uint32_t tombstone_count = in.get<uint32_t>();
    if (tombstone_count > body.size() / 12) return false;
    std::vector<std::pair<uint32_t, uint64_t>> tombstones(tombstone_count);
    for (auto& [kind, seq] : tombstones) {
        kind = in.get<uint32_t>();
        seq = in.get<uint64_t>();
    }
    uint32_t subject_count = in.get<uint32_t>();
    if (subject_count > body.size() / 4 || subject_count < subjects_named) return false;
    std::vector<std::string> subjects(subject_count);
    for (std::string& subject : subjects) subject = in.bytes(in.get<uint32_t>());
    if (!in.ok || disk_.read_errors(handle) != 0) return false;
    // One look at the segment itself: its first and last live messages are where the index
    // says, and nothing follows its end.
    auto first = std::find(deleted.begin(), deleted.end(), 0);
    if (first != deleted.end()) {
        for (uint64_t i : {static_cast<uint64_t>(first - deleted.begin()),
                           count - 1 - static_cast<uint64_t>(std::find(deleted.rbegin(), deleted.rend(), 0) - deleted.rbegin())}) {
            Decoded decoded = decode_record(s.map.subspan(offsets[i], h.data_end - offsets[i]));
            if (decoded.status != DecodeStatus::kOk || decoded.kind != kKindMessage || decoded.record.seq != s.first_seq + i) {
                return false;
            }
        }
    }
    if (h.data_end < s.bytes && decode_record(s.map.subspan(h.data_end)).status != DecodeStatus::kEnd) return false;
    s.offsets = std::move(offsets);
    s.deleted = std::move(deleted);
    s.subject_ids = std::move(subject_ids);
    s.sizes = std::move(sizes);
    s.timestamps = std::move(timestamps);
    s.next_same.assign(count, 0);
    s.with_headers = std::move(with_headers);
    s.tombstones = std::move(tombstones);
    s.index_subjects = std::move(subjects);
    s.last_seq = s.durable_last_seq = h.last_seq;
    s.write_offset = s.durable_offset = h.data_end;
    s.indexed = s.unverified = true;
    s.verified_to = s.first_seq - 1;
    s.newest = h.newest;
    last_timestamp_ = std::max(last_timestamp_, s.newest);
    for (uint64_t i = 0; i < count; ++i) {
        if (s.deleted[i]) continue;
        ++report->records;
        // What the caller would have seen in a scan: read (and checked) only where it asks.
        if (options_.on_recovered && s.with_headers[i] && s.timestamps[i] >= options_.recovered_since_ns) {
            Decoded decoded = decode_record(s.map.subspan(s.offsets[i], s.write_offset - s.offsets[i]));
            if (decoded.status == DecodeStatus::kOk && decoded.record.seq == s.first_seq + i) {
                options_.on_recovered(decoded.record);
            }
        }
    }
    return true;
}

bool StreamLog::indexable(const Segment& s) const {
    // Sealed segments only (the last one takes appends); one that holds damage is left to be
    // scanned, and reported, at every start.
    return !s.indexed && &s != segments_.back().get() && !s.damaged && !s.damaged_end && !s.lost_some &&
           drops_durable(s);
}

bool StreamLog::drops_durable(const Segment& s) const {
    return s.dropped_at <= durable_seq_ && s.dropped_ticket <= tombstones_durable();
}

void StreamLog::encode_index(const Segment& s, std::vector<std::byte>& file) {
    // Runs on the shard's thread (only the write is not): one pass to number the subjects
    // and size the file, one to fill it in place. The buffers are kept from one segment to
    // the next: fresh ones cost more in page faults than the encoding itself.
    uint64_t count = s.last_seq + 1 - s.first_seq;
    // The log's subject ids, numbered again in the order the segment first names them.
    std::vector<uint32_t>& number_of = index_numbers_;
    number_of.resize(subject_names_.size(), kIndexNone);
    std::vector<uint32_t> named;
    size_t subject_bytes = 0;
    for (uint64_t i = 0; i < count; ++i) {
        if (s.deleted[i] || number_of[s.subject_ids[i]] != kIndexNone) continue;
        number_of[s.subject_ids[i]] = static_cast<uint32_t>(named.size());
        named.push_back(s.subject_ids[i]);
        subject_bytes += 4 + subject_names_[s.subject_ids[i]].size();
    }
    size_t body_bytes = count * kIndexEntryBytes + 4 + s.tombstones.size() * 12 + 4 + subject_bytes;
    file.resize(kPageBytes + align_up(body_bytes));
    std::memset(file.data() + kPageBytes + body_bytes, 0, file.size() - kPageBytes - body_bytes);
    IndexWriter body{file.data() + kPageBytes};
    for (uint64_t i = 0; i < count; ++i) {
        bool live = !s.deleted[i];
        body.put<uint32_t>(s.offsets[i] == kAbsent
                               ? kIndexNone
                               : static_cast<uint32_t>(s.offsets[i] / 8) | (s.with_headers[i] ? kIndexHeadersBit : 0));
        body.put<uint32_t>(live ? number_of[s.subject_ids[i]] : kIndexNone);
        body.put<uint32_t>(live ? s.sizes[i] : 0);
        body.put<int64_t>(live ? s.timestamps[i] : 0);
    }
    body.put<uint32_t>(static_cast<uint32_t>(s.tombstones.size()));
    for (auto [kind, seq] : s.tombstones) {
        body.put<uint32_t>(kind);
        body.put<uint64_t>(seq);
    }
    body.put<uint32_t>(static_cast<uint32_t>(named.size()));
    for (uint32_t id : named) {
        body.put<uint32_t>(static_cast<uint32_t>(subject_names_[id].size()));
        body.put_bytes(subject_names_[id]);
        number_of[id] = kIndexNone;  // left as found, for the next segment
    }
    RT_ASSERT(body.at == file.data() + kPageBytes + body_bytes);
    IndexHeader header{s.id, {s.first_seq, s.bytes, s.compacted_last_seq, s.skipped_from}, s.last_seq, s.write_offset,
                       s.newest, body_bytes, base::hash64(file.data() + kPageBytes, body_bytes)};
    encode_index_header({file.data(), kPageBytes}, header);
}

Result<bool> StreamLog::write_index(Segment& s) {
    // Under a temporary name until it is whole; a crash leaves a leftover .tmp, or an index
    // torn in the page cache, which checks itself and is not used.
    std::string creating = options_.dir + "/index.tmp";
    std::vector<std::byte> file;
    encode_index(s, file);
    Result<bool> written = disk_.write_file(creating, file);
    if (written) written = disk_.replace_file(creating, options_.dir + "/" + index_name(s.id));
    if (!written) {
        (void)disk_.remove_file(creating);
        return written;
    }
    indexed(s);
    return true;
}

void StreamLog::indexed(Segment& s) {
    s.indexed = true;
    std::vector<std::pair<uint32_t, uint64_t>>().swap(s.tombstones);  // the index holds them
}

bool StreamLog::index_sealed() {
    if (indexing_ || sticky_error_ != Errc::kOk) return false;
    for (auto& segment : segments_) {
        if (!indexable(*segment)) continue;
        indexing_ = true;
        index_op_.done = &StreamLog::index_done;
        index_op_.log = this;
        index_op_.segment_id = segment->id;
        index_op_.rewrites = segment->rewrites;
        encode_index(*segment, index_buffer_);
        disk_.write_file_async(options_.dir + "/indexing.tmp", options_.dir + "/" + index_name(segment->id),
                               index_buffer_, &index_op_);
        return true;
    }
    return false;
}

void StreamLog::index_done(DiskWrite* op, int32_t result) {
    auto* index = static_cast<IndexOp*>(op);
    StreamLog* log = index->log;
    log->indexing_ = false;
    if (result != 0) {
        (void)log->disk_.remove_file(log->options_.dir + "/indexing.tmp");
        return;
    }
    // The segment may have gone, been rewritten or found damaged meanwhile: the index in place
    // then describes nothing, and goes.
    auto it = std::find_if(log->segments_.begin(), log->segments_.end(),
                           [&](const auto& s) { return s->id == index->segment_id; });
    if (it == log->segments_.end() || (*it)->rewrites != index->rewrites || (*it)->damaged || (*it)->lost_some) {
        (void)log->disk_.remove_file(log->options_.dir + "/" + index_name(index->segment_id));
        if (it != log->segments_.end()) (*it)->indexed = false;
        return;
    }
    if (!(*it)->indexed) log->indexed(**it);
}

Result<bool> StreamLog::remove_index(Segment& s) {
    if (!s.indexed) return true;
    // Gone already (someone removed it) is as good.
    if (auto ok = disk_.remove_file(options_.dir + "/" + index_name(s.id)); !ok && ok.error() != Errc::kNotFound) return ok;
    s.indexed = false;
    return true;
}

Result<bool> StreamLog::checkpoint() {
    for (auto& segment : segments_) {
        if (!indexable(*segment)) continue;
        if (auto ok = write_index(*segment); !ok) return ok;
    }
    if (marking_ || durable_seq_ <= marked_seq_) return true;
    if (mark_handle_ < 0) {
        mark_durable();  // creates it, in line
        return true;
    }
    if (!mark_page_) mark_page_.reset(alloc_zeroed_pages(kPageBytes));
    encode_mark({mark_page_.get(), kPageBytes}, durable_seq_);
    if (auto ok = disk_.write_sync(mark_handle_, 0, {mark_page_.get(), kPageBytes}); !ok) return ok;
    marked_seq_ = durable_seq_;
    return true;
}

void StreamLog::recover_mark(RecoveryReport* report) {
    std::string path = options_.dir + "/" + kMarkName;
    auto handle = disk_.open_file(path);
    if (!handle) return;  // as if there were none (mark_durable() cannot create it while it is there)
    mark_handle_ = *handle;
    auto map = disk_.map_file(*handle);
    uint64_t seq = 0;
    if (!map || !decode_mark(*map, seq) || disk_.read_errors(*handle) != 0) return;
    marked_seq_ = seq;
    if (seq <= last_seq_) return;
    // Acknowledged sequences the segments no longer hold: lost, never given again.
    report->lost.push_back({last_seq_ + 1, seq});
    report->detail += (report->detail.empty() ? "" : "; ") + std::string("the log ends at seq ") +
                      std::to_string(last_seq_) + " but was durable through " + std::to_string(seq) + " (" + path +
                      "): its last segment, or the end of it, is gone; sequences " + std::to_string(last_seq_ + 1) +
                      "-" + std::to_string(seq) + " lost";
    if (!segments_.empty()) {
        // Holes at the end of the last segment, which is sealed as it is: appends go on in a
        // new one, and every later open() finds the gap before it.
        Segment& last = *segments_.back();
        for (uint64_t hole = last_seq_ + 1; hole <= seq; ++hole) last.append_hole();
        last.last_seq = last.durable_last_seq = seq;
        last.lost_some = true;
        last.damaged = true;
    }
    last_seq_ = seq;
}

void StreamLog::mark_durable() {
    if (marking_ || durable_seq_ <= marked_seq_ || sticky_error_ != Errc::kOk) return;
    if (!mark_page_) mark_page_.reset(alloc_zeroed_pages(kPageBytes));
    std::span<std::byte> page(mark_page_.get(), kPageBytes);
    encode_mark(page, durable_seq_);
    if (mark_handle_ < 0) {
        // Created once, in line; rewritten in place from then on.
        std::string path = options_.dir + "/" + kMarkName;
        if (auto created = disk_.create_file(path, kPageBytes, page); !created) return;
        marked_seq_ = durable_seq_;
        if (auto handle = disk_.open_file(path)) mark_handle_ = *handle;
        return;
    }
    marking_ = true;
    mark_op_.done = &StreamLog::mark_done;
    mark_op_.log = this;
    mark_op_.seq = durable_seq_;
    disk_.write(mark_handle_, 0, page, -1, &mark_op_);
}

void StreamLog::mark_done(DiskWrite* op, int32_t result) {
    auto* mark = static_cast<MarkOp*>(op);
    mark->log->marking_ = false;
    if (result >= 0) mark->log->marked_seq_ = mark->seq;
}

bool StreamLog::verify(uint64_t budget_bytes, RecoveryReport* report) {
    uint64_t spent = 0;
    for (auto& segment : segments_) {
        Segment& s = *segment;
        if (!s.unverified) continue;
        uint64_t lost_from = 0;  // the first of a run of bad records, or 0
        auto report_lost = [&](uint64_t through) {
            report->lost.push_back({lost_from, through});
            report->detail += (report->detail.empty() ? "" : "; ") + s.path + ": damaged at offset " +
                              std::to_string(s.offsets[lost_from - s.first_seq]) + ", sequences " +
                              std::to_string(lost_from) + "-" + std::to_string(through) + " lost";
            lost_from = 0;
        };
        for (uint64_t seq = s.verified_to + 1; seq <= s.last_seq; ++seq) {
            uint64_t i = seq - s.first_seq;
            if (spent >= budget_bytes && lost_from == 0) return true;
            s.verified_to = seq;
            if (s.deleted[i]) {
                // Removed, not lost (its tombstone may yet be lost to a crash, and it served
                // again): a run of bad records ends here.
                if (lost_from != 0) report_lost(seq - 1);
                continue;
            }
            Decoded decoded = decode_record(s.map.subspan(s.offsets[i], s.write_offset - s.offsets[i]));
            if (decoded.status == DecodeStatus::kOk && decoded.kind == kKindMessage && decoded.record.seq == seq) {
                spent += decoded.bytes;
                if (lost_from != 0) report_lost(seq - 1);
                if (decoded.record.subject.empty()) drop(seq);  // erased after its index was written
                continue;
            }
            if (disk_.read_errors(s.handle) > 0) {
                // Not damage: a page the device could not read. Nothing is dropped (load()
                // refuses what it covers); the next open scans the segment and sets the log
                // aside, as for a read error found there.
                if (lost_from != 0) report_lost(seq - 1);
                report->detail += (report->detail.empty() ? "" : "; ") + s.path +
                                  ": page(s) could not be read (I/O error), the messages there are not served";
                (void)remove_index(s);
                break;
            }
            // Damage found late: the message is lost, never served; the segment is scanned
            // (and the damage reported again) at the next start.
            spent += kRecordHeaderBytes;
            report->damaged_bytes += kRecordHeaderBytes;
            if (lost_from == 0) lost_from = seq;
            s.lost_some = true;
            drop(seq);
        }
        if (lost_from != 0) report_lost(s.last_seq);
        s.unverified = false;
        if (s.lost_some) (void)remove_index(s);
    }
    return false;
}

Result<bool> StreamLog::check_readable(const Segment& s, RecoveryReport* report) {
    uint64_t errors = disk_.read_errors(s.handle);
    if (errors == 0) return true;
    report->detail = s.path + ": " + std::to_string(errors) +
                     " page(s) could not be read (I/O error); refusing to open (nothing was changed)";
    return std::unexpected(Errc::kIo);
}

Result<StreamLog::Segment*> StreamLog::create_segment(uint64_t first_seq, uint64_t min_bytes, uint64_t skipped_from,
                                                     bool deletion) {
    // Nothing of the log changes until the file exists: a full disk is retried later.
    auto segment = std::make_unique<Segment>(disk_);
    segment->id = next_segment_id_;
    segment->path = options_.dir + "/" + segment_name(segment->id);
    segment->first_seq = first_seq;
    segment->last_seq = segment->durable_last_seq = first_seq - 1;
    uint64_t needed = align_up(min_bytes);
    uint64_t wanted = std::max(next_segment_bytes_, needed);
    uint64_t bytes = wanted;
    std::unique_ptr<std::byte, AlignedFree> header(alloc_zeroed_pages(kPageBytes));
    segment->skipped_from = skipped_from;
    encode_header({header.get(), kPageBytes}, {first_seq, bytes, 0, skipped_from});
    if (spare_ == Spare::kReady && spare_bytes_ == bytes) {
        spare_ = Spare::kNone;
        if (auto ok = disk_.adopt_file(spare_path(), segment->path, {header.get(), kPageBytes}); !ok) {
            return std::unexpected(ok.error());
        }
    } else {
        // In line, under a temporary name, so that a crash never leaves a headerless segment.
        // Where the disk has no room for it, a smaller one will do: down to the first
        // segment's size for messages, and to two pages for a deletion, so that a purge or a
        // delete can always free space on a disk that messages filled.
        uint64_t least = std::max(needed, deletion ? 2 * kPageBytes : first_segment_bytes());
        if (!segments_.empty()) ++rolls_waited_;
        std::string creating = options_.dir + "/create.tmp";
        for (;;) {
            auto ok = disk_.create_file_as(creating, segment->path, bytes, {header.get(), kPageBytes});
            if (ok) break;
            // The spare being prepared may hold the room (until its own preparation fails).
            if (ok.error() == Errc::kNoSpace && spare_ == Spare::kPreparing) return std::unexpected(Errc::kBusy);
            uint64_t smaller = std::max(least, align_down(bytes / 2));
            if (ok.error() != Errc::kNoSpace || smaller >= bytes) return std::unexpected(ok.error());
            bytes = smaller;
            encode_header({header.get(), kPageBytes}, {first_seq, bytes, 0, skipped_from});
        }
    }
    segment->bytes = bytes;
    ++next_segment_id_;
    // A smaller one made on a full disk leaves the size wanted next as it was; one of the
    // size wanted says there is room for spares again.
    if (bytes == wanted) {
        next_segment_bytes_ = std::min(options_.segment_bytes, 2 * bytes);
        spare_no_room_ = false;
    }
    auto handle = disk_.open_file(segment->path);
    if (!handle) return std::unexpected(handle.error());
    segment->handle = *handle;
    auto map = disk_.map_file(segment->handle);
    if (!map) return std::unexpected(map.error());
    segment->map = *map;
    if (!segments_.empty() && !segments_.back()->tail.empty()) {
        // A roll: the sealed segment's tail is idle (all of it durable) and goes on in the new
        // one, already as large as the write rate needed, registered and paged in. A new ring
        // would pay all of that again (a 32 MiB one: tens of ms of page faults while it pins).
        segment->take_tail(*segments_.back(), segment->write_offset);
    } else if (auto ok = start_tail(*segment, segment->write_offset); !ok) {
        return std::unexpected(ok.error());
    }
    segments_.push_back(std::move(segment));
    maybe_prepare_spare(*segments_.back());
    return segments_.back().get();
}

Result<bool> StreamLog::start_tail(Segment& s, uint64_t base) {
    auto ring = MirrorRing::create(std::bit_ceil(std::min(kTailBytesInitial, options_.tail_bytes_max)));
    if (!ring) return std::unexpected(ring.error());
    s.tail_base = base;
    s.set_tail(std::move(*ring));
    return true;
}

bool StreamLog::fit_tail(Segment& s, uint64_t needed_bytes) {
    // The tail starts small (an idle stream costs little) and doubles as the write rate needs,
    // while its window stays within tail_bytes_max. It moves only while no write reads it, so a
    // need that comes while writes are in flight is remembered and met the next time none is
    // (under load that may be long after the need has passed: completions come in batches).
    if (needed_bytes > options_.tail_bytes_max) return false;
    s.tail_wanted = std::max<uint64_t>(s.tail_wanted, std::bit_ceil(needed_bytes));
    if (s.tail_wanted <= s.tail.bytes()) return true;
    if (s.writes_count != 0) return needed_bytes <= s.tail.bytes();
    auto ring = MirrorRing::create(s.tail_wanted);
    if (!ring) return needed_bytes <= s.tail.bytes();
    s.set_tail(std::move(*ring));
    return true;
}

void StreamLog::maybe_prepare_spare(const Segment& active) {
    // Segments still growing get their successor only once they are half full, so a small
    // stream never pays for one.
    if (next_segment_bytes_ != active.bytes && active.write_offset < active.bytes / 2) return;
    if (spare_ == Spare::kPreparing || (spare_ == Spare::kReady && spare_bytes_ == next_segment_bytes_)) return;
    // On a full disk, a preparation that cannot succeed would only take the room appends need
    // while it tries.
    if (spare_no_room_) return;
    // A spare of another size (a record larger than it came) is prepared again.
    spare_ = Spare::kPreparing;
    spare_bytes_ = next_segment_bytes_;
    spare_op_.done = &StreamLog::spare_done;
    spare_op_.log = this;
    disk_.prepare_file(spare_path(), spare_bytes_, &spare_op_);
}

void StreamLog::spare_done(DiskWrite* op, int32_t result) {
    StreamLog* log = static_cast<SpareOp*>(op)->log;
    // On failure the next roll creates its segment in line (and reports any error then).
    log->spare_ = result == 0 ? Spare::kReady : Spare::kNone;
    if (result == -ENOSPC) log->spare_no_room_ = true;
}

void StreamLog::raise_record_size(size_t record_bytes) {
    RT_ASSERT(record_bytes % kPageBytes == 0);
    options_.tail_bytes_max = std::max(options_.tail_bytes_max, std::bit_ceil(2 * record_bytes));
    options_.segment_bytes = std::max<uint64_t>(options_.segment_bytes, 2 * record_bytes);
}

Result<StreamLog::Segment*> StreamLog::append_bytes(uint32_t kind, const RecordView& record, size_t bytes,
                                                   uint64_t& offset) {
    if (sticky_error_ != Errc::kOk) return std::unexpected(sticky_error_);
    if (bytes + kPageBytes > options_.segment_bytes || bytes > options_.tail_bytes_max / 2) {
        return std::unexpected(Errc::kTooLarge);
    }
    Segment* s = segments_.back().get();
    uint64_t at = s->write_offset;
    uint32_t skipped_from = 0;
    if (const WriteOp* newest = s->newest_write(); newest != nullptr && at < newest->end) {
        // That page belongs to a write in flight: start on the next one, leaving the rest of
        // this one zero, and say so in the record for recovery.
        skipped_from = static_cast<uint32_t>(at % kPageBytes);
        RT_ASSERT(skipped_from != 0);
        at = newest->end;
    }
    if (at + bytes > s->bytes) {
        // Roll. The old segment keeps its tail until its last write completes; one segment
        // at a time may be in that state, which bounds the memory held for unflushed bytes.
        // A segment is sealed only once all of it is on disk: from then on it never changes,
        // so recovery can tell a crash (only the last segment's tail is ever torn) from
        // damage. The roll waits for the last write (a few ms, once per segment).
        if (s->writes_count != 0 || s->write_offset != s->durable_offset) return std::unexpected(Errc::kBusy);
        auto created = roll(bytes + kPageBytes, 0, kind != kKindMessage && kind != kKindSkip);
        if (!created) return std::unexpected(created.error());
        s = *created;
        at = s->write_offset;
        skipped_from = 0;
    }
    uint64_t tail_needed = at + bytes - s->tail_base;
    if (!fit_tail(*s, tail_needed)) return std::unexpected(Errc::kBusy);
    encode_record({s->tail.at(at), bytes}, record, kind, skipped_from);
    s->write_offset = at + bytes;
    offset = at;
    maybe_prepare_spare(*s);
    return s;
}

Result<uint64_t> StreamLog::append(std::string_view subject, std::string_view headers,
                                   std::string_view payload, int64_t timestamp_ns) {
    const StoreLimits& limits = options_.limits;
    if (subject.empty()) return std::unexpected(Errc::kInvalid);  // what an erased record has
    if (limits.max_msg_size >= 0 &&
        static_cast<int64_t>(headers.size() + payload.size()) > limits.max_msg_size) {
        return std::unexpected(Errc::kTooLarge);
    }
    size_t bytes = record_bytes(subject.size(), headers.size(), payload.size());
    uint64_t counted = message_bytes(subject.size(), headers.size(), payload.size());
    if (limits.discard_new &&
        ((limits.max_msgs >= 0 && static_cast<int64_t>(msgs_) + 1 > limits.max_msgs) ||
         (limits.max_bytes >= 0 && static_cast<int64_t>(bytes_ + counted) > limits.max_bytes))) {
        return std::unexpected(Errc::kLimit);
    }
    uint64_t seq = last_seq_ + 1;
    RecordView record{seq, timestamp_ns, subject, headers, payload};
    base::HashedKey key(subject);  // hashed once, for every lookup of the subject index
    uint64_t offset = 0;
    auto segment = append_bytes(kKindMessage, record, bytes, offset);
    if (!segment) return std::unexpected(segment.error());
    Segment* s = *segment;
    last_seq_ = seq;
    last_timestamp_ = std::max(last_timestamp_, timestamp_ns);
    s->newest = std::max(s->newest, timestamp_ns);
    if (msgs_ == 0) first_live_ = seq;
    if (s->offsets.size() == kIndexSampleRecords) s->reserve_index();
    s->offsets.push_back(offset);
    s->deleted.push_back(0);
    s->sizes.push_back(counted_bytes(record));
    s->timestamps.push_back(timestamp_ns);
    s->next_same.push_back(0);
    s->with_headers.push_back(!headers.empty());
    s->subject_ids.push_back(index_live(seq, key, s->sizes.back()));
    s->last_seq = seq;
    ++s->live;
    apply_limits(subject);
    return seq;
}

Result<bool> StreamLog::skip(uint64_t through) {
    if (through <= last_seq_) return true;
    uint64_t from = last_seq_ + 1;
    char payload[sizeof from];
    std::memcpy(payload, &from, sizeof from);
    RecordView record{through, 0, {}, {}, {payload, sizeof payload}};
    size_t bytes = record_bytes(0, 0, sizeof payload);
    if (msgs_ == 0 && through - last_seq_ > kSkipIndexedMax) {
        // Too many to index one by one, with nothing live before them: the next segment starts
        // past them (the earlier ones go), its header saying that the sequences between were
        // skipped, not lost. Durable once the segment exists.
        Segment& active = *segments_.back();
        if (active.writes_count != 0 || active.write_offset != active.durable_offset) return std::unexpected(Errc::kBusy);
        if (sticky_error_ != Errc::kOk) return std::unexpected(sticky_error_);
        uint64_t last = last_seq_;
        last_seq_ = through;
        auto created = roll(kPageBytes, from);
        if (!created) {
            last_seq_ = last;
            return std::unexpected(created.error());
        }
        first_live_ = through + 1;
        advance_durable();
        release_front_segments();
        // The segments that knew the newest message's time are gone: this one says it.
        if (last_timestamp_ != 0) {
            if (auto ok = append_tombstone(kKindPurge, first_live_, last_timestamp_); !ok) return ok;
            floor_written_ = std::max(floor_written_, first_live_);
        }
        return true;
    }
    uint64_t offset = 0;
    auto segment = append_bytes(kKindSkip, record, bytes, offset);
    if (!segment) return std::unexpected(segment.error());
    Segment* s = *segment;
    for (uint64_t seq = from; seq <= through; ++seq) {
        if (s->offsets.size() == kIndexSampleRecords) s->reserve_index();
        s->append_skipped(offset);
    }
    s->last_seq = last_seq_ = through;
    if (msgs_ == 0) first_live_ = through + 1;
    return true;
}

Result<bool> StreamLog::append_tombstone(uint32_t kind, uint64_t seq, int64_t timestamp_ns) {
    uint64_t offset = 0;
    auto segment = append_bytes(kind, {seq, timestamp_ns, {}, {}, {}}, record_bytes(0, 0, 0), offset);
    if (!segment) return std::unexpected(segment.error());
    (*segment)->tombstones.push_back({kind, seq});
    (*segment)->newest = std::max((*segment)->newest, timestamp_ns);
    tombstone_segment_id_ = (*segment)->id;
    tombstone_end_ = (*segment)->write_offset;
    return true;
}

void StreamLog::mark_ticket(uint64_t ticket) {
    // Everything the deletions up to `ticket` wrote ends at or before the newest tombstone.
    if (ticket <= (ticket_marks_.empty() ? marked_durable_ : ticket_marks_.back().ticket)) return;
    ticket_marks_.push_back({ticket, tombstone_segment_id_, tombstone_end_});
    drop_durable_marks();  // it wrote nothing, or nothing not yet durable
}

void StreamLog::drop_durable_marks() {
    // Only the active segment has writes in flight: a sealed one is durable to its end.
    const Segment& active = *segments_.back();
    while (!ticket_marks_.empty()) {
        const TicketMark& mark = ticket_marks_.front();
        if (mark.segment_id == active.id && active.durable_offset < mark.end) break;
        marked_durable_ = mark.ticket;
        ticket_marks_.pop_front();
    }
}

uint64_t StreamLog::deletions_durable() const {
    if (deletions_reported_ == deletions_made_) return deletions_made_;  // nothing outstanding
    const uint64_t durable = tombstones_durable();
    // A removal with erase is done once its record is rewritten too; erasures go in ticket order,
    // after those found at open (no ticket).
    uint64_t erasing = erasing_ticket_;
    for (auto owed = erases_.begin(); erasing == 0 && owed != erases_.end(); ++owed) erasing = owed->ticket;
    return erasing != 0 ? std::min(durable, erasing - 1) : durable;
}

uint64_t StreamLog::tombstones_durable() const {
    if (deletions_reported_ == deletions_made_) return deletions_made_;
    // Each ticket is deferred or covered by the first mark at or above it.
    uint64_t pending = ticket_marks_.empty() ? deletions_made_ + 1 : marked_durable_ + 1;
    for (const Deferred& waiting : deferred_) {
        if (waiting.ticket != 0) {
            pending = std::min(pending, waiting.ticket);
            break;
        }
    }
    return pending - 1;
}

void StreamLog::report_deletions() {
    if (sticky_error_ != Errc::kOk || deletions_reported_ == deletions_made_) return;
    drop_durable_marks();
    release_front_segments();  // those a deletion emptied waited for its tombstones
    uint64_t durable = deletions_durable();
    if (durable <= deletions_reported_) return;
    deletions_reported_ = durable;
    if (on_durable_) on_durable_(durable_seq_);
}

uint32_t StreamLog::counted_bytes(const RecordView& record) const {
    uint64_t bytes = message_bytes(record.subject.size(), record.headers.size(), record.payload.size());
    RT_ASSERT(bytes <= UINT32_MAX);  // a record's length is 32 bits
    return static_cast<uint32_t>(bytes);
}

uint32_t StreamLog::index_live(uint64_t seq, const base::HashedKey& subject, uint32_t bytes) {
    ++msgs_;
    bytes_ += bytes;
    auto [it, inserted] = subjects_.try_emplace(subject);
    SubjectInfo& info = it->second;
    if (inserted) {
        if (free_subject_ids_.empty()) {
            info.id = static_cast<uint32_t>(subject_names_.size());
            subject_names_.emplace_back(subject.text);
        } else {
            info.id = free_subject_ids_.back();
            free_subject_ids_.pop_back();
            subject_names_[info.id] = subject.text;
        }
    }
    if (info.count > 0 && seq > info.last && seq - info.last <= UINT32_MAX) {
        Segment* s = segments_.back()->first_seq <= info.last ? segments_.back().get() : segment_for_mut(info.last);
        s->next_same[info.last - s->first_seq] = static_cast<uint32_t>(seq - info.last);
    }
    if (info.count == 0 || seq < info.first) info.first = seq;
    info.last = std::max(info.last, seq);
    ++info.count;
    return info.id;
}

std::string_view StreamLog::subject_of(uint64_t seq) const {
    const Segment* s = segment_for(seq);
    return subject_names_[s->subject_ids[seq - s->first_seq]];
}

bool StreamLog::is_live(uint64_t seq) const {
    const Segment* s = segment_for(seq);
    return s != nullptr && !s->deleted[seq - s->first_seq];
}

StreamLog::Segment* StreamLog::segment_for_mut(uint64_t seq) {
    return const_cast<Segment*>(segment_for(seq));
}

void StreamLog::drop(uint64_t seq, uint64_t ticket) {
    Segment* s = segment_for_mut(seq);
    if (s == nullptr || s->deleted[seq - s->first_seq]) return;
    if (on_removed_) on_removed_(seq, subject_names_[s->subject_ids[seq - s->first_seq]]);
    // From the index alone: reading the record (to learn its subject and size) would read the
    // oldest data back from the device on every append of a stream at its limits.
    uint64_t i = seq - s->first_seq;
    s->deleted[i] = 1;
    --s->live;
    s->dropped_at = last_seq_;
    s->dropped_ticket = std::max(s->dropped_ticket, ticket);
    --msgs_;
    bytes_ -= s->sizes[i];
    uint32_t id = s->subject_ids[i];
    auto it = subjects_.find(subject_names_[id]);
    RT_ASSERT(it != subjects_.end() && it->second.id == id);
    SubjectInfo& info = it->second;
    // No scan when one message is left: it is the other end.
    if (--info.count == 0) {
        subjects_.erase(it);
        subject_names_[id].clear();
        free_subject_ids_.push_back(id);
    } else if (info.count == 1) {
        info.first = info.last = info.first == seq ? info.last : info.first;
    } else if (info.first == seq) {
        info.first = next_of_subject(seq, info.last, id);
    } else if (info.last == seq) {
        info.last = find_subject(seq, info.first, id);
    }
    if (seq == first_live_) {
        while (first_live_ <= last_seq_ && !is_live(first_live_)) ++first_live_;
    }
}

uint64_t StreamLog::find_subject(uint64_t from, uint64_t to, uint32_t subject_id) const {
    // Linear in the distance (a KV put drops the key's oldest value, as far back as there are
    // keys), but comparing subject ids in memory, segment by segment, reading no record.
    const bool forward = to > from;
    for (uint64_t seq = forward ? from + 1 : from - 1; seq != to;) {
        const Segment* s = segment_for(seq);
        RT_ASSERT(s != nullptr);
        const uint64_t end = forward ? std::min(to, s->last_seq + 1) : std::max(to, s->first_seq - 1);
        for (; seq != end; seq = forward ? seq + 1 : seq - 1) {
            uint64_t i = seq - s->first_seq;
            if (s->subject_ids[i] == subject_id && !s->deleted[i]) return seq;
        }
    }
    return to;
}

uint64_t StreamLog::next_of_subject(uint64_t seq, uint64_t last, uint32_t subject_id) const {
    while (true) {
        const Segment* s = segment_for(seq);
        RT_ASSERT(s != nullptr);
        uint32_t link = s->next_same[seq - s->first_seq];
        if (link == 0) return find_subject(seq, last, subject_id);
        seq += link;
        if (seq >= last) return last;
        if (is_live(seq)) return seq;
    }
}

void StreamLog::apply_limits(std::string_view subject_appended) {
    const StoreLimits& limits = options_.limits;
    if (limits.max_msgs_per_subject > 0 && !subject_appended.empty()) {
        auto it = subjects_.find(subject_appended);
        while (it != subjects_.end() && static_cast<int64_t>(it->second.count) > limits.max_msgs_per_subject) {
            // Not derivable at recovery once newer messages of the subject are deleted, so it
            // is written down.
            drop_by_limit(it->second.first, /*tombstone=*/true);
            it = subjects_.find(subject_appended);
        }
    }
    if (!limits.discard_new) {
        auto over = [&] {
            return (limits.max_msgs >= 0 && static_cast<int64_t>(msgs_) > limits.max_msgs) ||
                   (limits.max_bytes >= 0 && static_cast<int64_t>(bytes_) > limits.max_bytes);
        };
        while (over()) drop_by_limit(first_live_, /*tombstone=*/false);
    }
    release_front_segments();
}

void StreamLog::drop_by_limit(uint64_t seq, bool tombstone) {
    drop(seq);
    if (deferring()) {
        deferred_.push_back({last_seq_, tombstone ? kKindDelete : 0, seq, 0});
    } else if (tombstone) {
        // Written in order: the current front (a floor), then the per-subject drop.
        Result<bool> written = persist_floor();
        if (written) written = append_tombstone(kKindDelete, seq);
        // No room in the tail until a write completes (as at open(), right after recovery):
        // written by a later flush instead, like a deletion that waits.
        if (!written && written.error() == Errc::kBusy) deferred_.push_back({last_seq_, kKindDelete, seq, 0});
    }
}

bool StreamLog::deferring() const {
    // A deletion made while appends are in flight may be caused by one of them (a limit it
    // took over, a rollup): a crash, or a failed write that a later one outlives, may lose
    // that append, and the deletion must not outlive it. So it waits until the log is durable
    // up to where it was made; later deletions wait behind it, to keep their order.
    return !deferred_.empty() || last_seq_ > durable_seq_;
}

void StreamLog::write_deferred() {
    size_t ready = 0;
    while (ready < deferred_.size() && deferred_[ready].after <= durable_seq_) ++ready;
    if (ready == 0 && !floor_owed_) return;
    std::vector<Deferred> writing(deferred_.begin(), deferred_.begin() + static_cast<long>(ready));
    deferred_.erase(deferred_.begin(), deferred_.begin() + static_cast<long>(ready));
    // Drops by max_msgs / max_bytes alone write nothing: recovery works them out again.
    if (!floor_owed_ && std::all_of(writing.begin(), writing.end(), [](const Deferred& d) { return d.kind == 0; })) return;
    // A floor first, as before any deletion (stopping short of what still waits), then the
    // deletions in the order they were made. What does not fit waits for the next flush.
    size_t written = 0;
    uint64_t ticket = 0;
    if (persist_floor()) {
        for (; written < writing.size(); ++written) {
            const Deferred& next = writing[written];
            if (next.kind == kKindPurge && next.seq > floor_written_) {
                if (!append_tombstone(kKindPurge, next.seq, last_timestamp_)) break;
                floor_written_ = next.seq;
            } else if (removes_one(next.kind) && segment_for(next.seq) != nullptr) {
                if (!append_tombstone(next.kind, next.seq)) break;
            }
            ticket = std::max(ticket, next.ticket);
        }
    }
    deferred_.insert(deferred_.begin(), writing.begin() + static_cast<long>(written), writing.end());
    // A ticket with entries still waiting is marked once they are written.
    if (ticket != 0 && !deferred_.empty() && deferred_.front().ticket == ticket) --ticket;
    mark_ticket(ticket);
    report_deletions();
}

void StreamLog::set_limits(const StoreLimits& limits) {
    options_.limits = limits;
    if (limits.max_msgs_per_subject > 0) {
        std::vector<std::string> over;
        for (const auto& [subject, info] : subjects_) {
            if (static_cast<int64_t>(info.count) > limits.max_msgs_per_subject) over.push_back(subject);
        }
        for (const std::string& subject : over) apply_limits(subject);
    }
    // Lowered limits drop the oldest whatever the discard policy (as nats-server's store
    // does on a config update), and the new front is written down: with discard new,
    // recovery would not derive it.
    while (limits.max_msgs >= 0 && static_cast<int64_t>(msgs_) > limits.max_msgs) drop(first_live_);
    while (limits.max_bytes >= 0 && static_cast<int64_t>(bytes_) > limits.max_bytes) drop(first_live_);
    (void)persist_floor();
    release_front_segments();
}

uint64_t StreamLog::expire(int64_t now_ns) {
    if (options_.limits.max_age_ns <= 0) return 0;
    uint64_t dropped = 0;
    // Timestamps from the index: reading each expired record would read a stream's oldest data
    // back from the device on every tick.
    while (msgs_ > 0) {
        const Segment* s = segment_for(first_live_);
        if (s->timestamps[first_live_ - s->first_seq] > now_ns - options_.limits.max_age_ns) break;
        drop(first_live_);
        ++dropped;
    }
    release_front_segments();
    return dropped;
}

Result<bool> StreamLog::persist_floor() {
    // Front drops by max_msgs / max_bytes / max_age are re-derived at recovery, but only while
    // no explicit deletion follows them: deleting the newer messages would make recovery keep
    // older ones again. So before any explicit deletion, the current front is written down.
    uint64_t floor = msgs_ > 0 ? first_live_ : last_seq_ + 1;
    // Not past a deletion still waiting (see deferring()); the rest once it is written.
    uint64_t whole = floor;
    for (const Deferred& waiting : deferred_) floor = std::min(floor, waiting.seq);
    floor_owed_ = floor < whole;
    if (floor <= floor_written_) return true;
    if (auto ok = append_tombstone(kKindPurge, floor, last_timestamp_); !ok) {
        floor_owed_ = true;
        return ok;
    }
    floor_written_ = floor;
    return true;
}

Result<StreamLog::Segment*> StreamLog::roll(uint64_t min_bytes, uint64_t skipped_from, bool deletion) {
    Segment& sealed = *segments_.back();
    RT_ASSERT(sealed.writes_count == 0 && sealed.write_offset == sealed.durable_offset);
    auto created = create_segment(last_seq_ + 1, min_bytes, skipped_from, deletion);  // takes the sealed one's tail
    if (!created) {
        // No room for the next segment: refused, not sticky. The segment stays active (all
        // of it durable), and the next append that needs a roll tries again, so publishing
        // resumes by itself once space is freed.
        if (created.error() != Errc::kNoSpace) sticky_error_ = created.error();
        return created;
    }
    sealed.reset_tail();  // if it did not; reads of a sealed segment come from its mapping
    return created;
}

Result<bool> StreamLog::remove(uint64_t seq, bool erase) {
    if (!is_live(seq)) return std::unexpected(Errc::kNotFound);
    uint64_t ticket = deletions_made_ + 1;
    const uint32_t kind = erase ? kKindErase : kKindDelete;
    bool deferred = deferring();
    if (!deferred) {
        Result<bool> written = persist_floor();
        if (written) written = append_tombstone(kind, seq);
        // No room in the tail until a write completes: written by a later flush instead.
        deferred = !written && written.error() == Errc::kBusy;
        if (!written && !deferred) return written;
    }
    if (deferred) deferred_.push_back({last_seq_, kind, seq, ticket});
    deletions_made_ = ticket;
    if (!deferred) mark_ticket(ticket);
    drop(seq, ticket);
    if (erase) erases_.push_back({seq, ticket});
    release_front_segments();  // a segment left with nothing live goes, and its bytes with it
    return true;
}

void StreamLog::erase_owed() {
    erase_draining_ = 0;
    while (!erases_.empty() && erasing_segment_ == 0 && sticky_error_ == Errc::kOk) {
        const EraseOwed next = erases_.front();
        if (next.ticket > tombstones_durable()) break;  // its tombstone first
        Segment* s = segment_for_mut(next.seq);
        const bool active = s == segments_.back().get();
        // Gone with its segment, or rewritten without it by a compaction: nothing to erase.
        uint64_t offset = s != nullptr ? s->offsets[next.seq - s->first_seq] : 0;
        if (s == nullptr || offset == kAbsent) {
            erases_.pop_front();
            continue;
        }
        // Pages below the tail are the file's alone; those in it, only while no write is in
        // flight (the next tail write then carries the erased bytes too).
        std::span<const std::byte> bytes = !s->tail.empty() && offset >= s->tail_base
                                               ? std::span<const std::byte>(s->tail.at(offset), s->write_offset - offset)
                                               : s->map.subspan(offset, s->durable_offset - offset);
        Decoded decoded = decode_record(bytes);
        if (decoded.status != DecodeStatus::kOk || decoded.kind != kKindMessage || decoded.record.seq != next.seq ||
            decoded.record.subject.empty()) {
            erases_.pop_front();  // damaged meanwhile, or erased before a restart: nothing to erase
            continue;
        }
        const uint64_t first_page = align_down(offset);
        const uint64_t end_page = align_up(offset + decoded.bytes);
        const bool in_tail = !s->tail.empty() && end_page > s->tail_base;
        RT_ASSERT(!in_tail || active);  // a segment is sealed with everything durable
        if (in_tail && s->writes_count != 0) {
            erase_draining_ = s->id;  // a later flush, once those are done
            break;
        }
        const size_t length = decoded.record.subject.size() + decoded.record.headers.size() + decoded.record.payload.size();
        RT_ASSERT(record_bytes(0, 0, length) == decoded.bytes);
        const int64_t timestamp_ns = decoded.record.timestamp_ns;
        // The pages as the file holds them (the tail's copy where it has one), the record
        // encoded again over them, with nothing but zeros where its fields were.
        const size_t pages_bytes = end_page - first_page;
        erase_pages_.reset(alloc_zeroed_pages(pages_bytes));
        std::byte* pages = erase_pages_.get();
        for (uint64_t page = first_page; page < end_page; page += kPageBytes) {
            const bool from_tail = !s->tail.empty() && page >= s->tail_base;
            const uint64_t valid_end = from_tail ? s->write_offset : s->durable_offset;
            if (valid_end > page) {
                const size_t copied = static_cast<size_t>(std::min<uint64_t>(kPageBytes, valid_end - page));
                std::memcpy(pages + (page - first_page), from_tail ? s->tail.at(page) : s->map.data() + page, copied);
            }
        }
        std::string zeros(length, '\0');
        std::span<std::byte> record(pages + (offset - first_page), decoded.bytes);
        encode_record(record, {next.seq, timestamp_ns, {}, {}, zeros});
        if (in_tail) {
            // What the tail holds of it (the record may begin on a page below the tail's).
            const uint64_t from = std::max(offset, s->tail_base);
            std::memcpy(s->tail.at(from), record.data() + (from - offset), record.size() - (from - offset));
        }
        erases_.pop_front();
        erasing_segment_ = s->id;
        erasing_ticket_ = next.ticket;
        erasing_tail_ = in_tail;
        erase_op_.done = &StreamLog::erase_done;
        erase_op_.log = this;
        disk_.write(s->handle, first_page, {pages, pages_bytes}, -1, &erase_op_);
    }
    report_deletions();  // erasures found with nothing left to erase
}

void StreamLog::erase_done(DiskWrite* op, int32_t result) {
    StreamLog* log = static_cast<EraseOp*>(op)->log;
    log->erasing_segment_ = 0;
    // Sticky like a failed write: what the file holds there is no longer known. The deletion
    // it erased is never durable.
    if (result < 0 && log->sticky_error_ == Errc::kOk) log->sticky_error_ = result == -ENOSPC ? Errc::kNoSpace : Errc::kIo;
    if (result >= 0) log->erasing_ticket_ = 0;
    log->erase_pages_.reset();
    if (log->erasing_tail_) {
        // Appends that waited for it go out now, as after a tail write.
        log->erasing_tail_ = false;
        Segment& active = *log->segments_.back();
        while (log->sticky_error_ == Errc::kOk && log->flush_segment(active)) {
        }
    }
    log->release_front_segments();
    log->report_deletions();
}

Result<uint64_t> StreamLog::purge(const PurgeRequest& request) {
    uint64_t removed = 0;
    uint64_t ticket = deletions_made_ + 1;
    // As in remove(): waits behind appends in flight, or for room in the tail.
    bool deferred = deferring();
    auto busy = [&](const Result<bool>& written) {
        deferred = !written && written.error() == Errc::kBusy;
        return deferred;
    };
    if (!deferred) {
        if (auto ok = persist_floor(); !ok && !busy(ok)) return std::unexpected(ok.error());
    }
    if (request.subject.empty()) {
        uint64_t floor = last_seq_ + 1;
        if (request.up_to_seq > 0) floor = std::min(floor, request.up_to_seq);
        if (request.keep > 0) {
            if (msgs_ <= request.keep) return 0;
            // The newest `keep` live messages stay: walk back from the end.
            uint64_t kept = 0;
            uint64_t seq = last_seq_;
            for (; seq >= first_live_ && kept < request.keep; --seq) kept += is_live(seq);
            floor = std::min(floor, seq + 1);
        }
        if (floor <= first_live_) return 0;
        if (!deferred) {
            auto ok = append_tombstone(kKindPurge, floor, last_timestamp_);
            if (ok) floor_written_ = std::max(floor_written_, floor);
            if (!ok && !busy(ok)) return std::unexpected(ok.error());
        }
        if (deferred) deferred_.push_back({last_seq_, kKindPurge, floor, ticket});
        for (uint64_t seq = first_live_; seq < floor && msgs_ > 0; ++seq) {
            if (!is_live(seq)) continue;
            drop(seq, ticket);
            ++removed;
        }
        deletions_made_ = ticket;
        if (!deferred) mark_ticket(ticket);
        release_front_segments();
        return removed;
    }
    std::vector<uint64_t> matching;
    if (!has_wildcard(request.subject)) {
        // One subject (a KV key's purge): its own messages only, not a scan of the stream.
        if (auto it = subjects_.find(request.subject); it != subjects_.end()) {
            const SubjectInfo& info = it->second;
            for (uint64_t seq = info.first; seq <= info.last && matching.size() < info.count; ++seq) {
                if (request.up_to_seq > 0 && seq >= request.up_to_seq) break;
                if (is_live(seq) && subject_of(seq) == request.subject) matching.push_back(seq);
            }
        }
    } else {
        for (uint64_t seq = first_live_; seq <= last_seq_; ++seq) {
            if (request.up_to_seq > 0 && seq >= request.up_to_seq) break;
            if (is_live(seq) && base::subject_matches(request.subject, subject_of(seq))) matching.push_back(seq);
        }
    }
    size_t keep = std::min<size_t>(request.keep, matching.size());
    matching.resize(matching.size() - keep);
    for (uint64_t seq : matching) {
        if (!deferred) {
            if (auto ok = append_tombstone(kKindDelete, seq); !ok && !busy(ok)) {
                release_front_segments();
                return std::unexpected(ok.error());
            }
        }
        if (deferred) deferred_.push_back({last_seq_, kKindDelete, seq, ticket});
        drop(seq, ticket);
        ++removed;
    }
    deletions_made_ = ticket;
    if (!deferred) mark_ticket(ticket);
    release_front_segments();
    return removed;
}

Result<uint64_t> StreamLog::compact(size_t segments_max) {
    uint64_t compacted = 0;
    // Sealed segments only (never the last, which takes appends); sealed ones are wholly on disk.
    for (size_t i = 0; i + 1 < segments_.size() && compacted < segments_max; ++i) {
        Segment& s = *segments_[i];
        uint64_t records = s.last_seq + 1 - s.first_seq;
        if (records == 0 || s.live * 2 >= records || !drops_durable(s)) continue;
        if (s.id == erasing_segment_) continue;  // its file is being written
        if (auto ok = compact_segment(s); !ok) return std::unexpected(ok.error());
        ++compacted;
    }
    release_front_segments();
    return compacted;
}

Result<bool> StreamLog::compact_segment(Segment& s) {
    // The live messages, and the tombstones that delete messages of earlier segments, go into
    // a new file in their order; a rename replaces the old file, so a crash leaves one or the
    // other (a leftover compact.tmp is removed at recovery). Synchronous: the owner calls
    // compact() when it has time (control plane).
    std::string creating = options_.dir + "/compact.tmp";
    std::unique_ptr<std::byte, AlignedFree> header(alloc_zeroed_pages(kPageBytes));
    encode_header({header.get(), kPageBytes}, {s.first_seq, s.bytes, s.last_seq, s.skipped_from});
    if (auto ok = disk_.create_file(creating, s.bytes, {header.get(), kPageBytes}); !ok) return ok;
    auto handle = disk_.open_file(creating);
    if (!handle) return std::unexpected(handle.error());

    constexpr size_t kChunkBytes = 1 << 20;
    std::unique_ptr<std::byte, AlignedFree> chunk(alloc_zeroed_pages(kChunkBytes));
    uint64_t chunk_offset = kPageBytes;  // file offset of chunk[0]
    size_t used = 0;
    Result<bool> written = true;
    auto put = [&](std::span<const std::byte> bytes) {
        while (!bytes.empty() && written) {
            size_t take = std::min(bytes.size(), kChunkBytes - used);
            std::memcpy(chunk.get() + used, bytes.data(), take);
            used += take;
            bytes = bytes.subspan(take);
            if (used == kChunkBytes) {
                written = disk_.write_sync(*handle, chunk_offset, {chunk.get(), kChunkBytes});
                chunk_offset += kChunkBytes;
                used = 0;
                std::memset(chunk.get(), 0, kChunkBytes);
            }
        }
    };
    std::vector<uint64_t> offsets(s.offsets.size(), kAbsent);
    std::vector<std::pair<uint32_t, uint64_t>> tombstones;
    uint64_t offset = kPageBytes;
    while (offset < s.write_offset && written) {
        std::span<const std::byte> bytes = s.map.subspan(offset, s.write_offset - offset);
        Decoded decoded = decode_record(bytes);
        if (decoded.status == DecodeStatus::kEnd) {
            uint64_t next = skipped_to(s.map, offset, s.write_offset);
            if (next != 0) {
                offset = next;
                continue;
            }
            // Records past a zeroed stretch (a write that never landed, read past at recovery):
            // left as they are, or the tombstones among them would be lost.
        }
        if (decoded.status != DecodeStatus::kOk) {
            written = std::unexpected(Errc::kCorruptRecord);  // leave the segment as it is
            break;
        }
        uint64_t seq = decoded.record.seq;
        bool keep = true;
        if (decoded.kind == kKindMessage) keep = !s.deleted[seq - s.first_seq];
        if (keep && removes_one(decoded.kind)) keep = seq < s.first_seq;  // earlier segments only
        if (decoded.kind == kKindSkip) keep = false;  // the header's compacted_last_seq covers them
        if (keep) {
            if (decoded.kind == kKindMessage) {
                offsets[seq - s.first_seq] = chunk_offset + used;
            } else {
                tombstones.push_back({decoded.kind, seq});
            }
            put(bytes.first(decoded.bytes));
        }
        offset += decoded.bytes;
    }
    // Every live message must have been copied: a scan that stopped early (damage that
    // recovery read past, a skip whose marker was hit) would otherwise drop live messages.
    for (size_t i = 0; i < offsets.size() && written; ++i) {
        if (!s.deleted[i] && offsets[i] == kAbsent) written = std::unexpected(Errc::kCorruptRecord);
    }
    uint64_t end = chunk_offset + used;
    if (written && used > 0) written = disk_.write_sync(*handle, chunk_offset, {chunk.get(), align_up(used)});
    disk_.close_file(*handle);
    if (written) written = remove_index(s);  // it describes the old file
    if (written) written = disk_.replace_file(creating, s.path);
    if (!written) {
        (void)disk_.remove_file(creating);
        return written;
    }
    // Switch to the new file.
    disk_.close_file(s.handle);
    auto reopened = disk_.open_file(s.path);
    if (!reopened) return std::unexpected(reopened.error());
    auto map = disk_.map_file(*reopened);
    if (!map) return std::unexpected(map.error());
    s.handle = *reopened;
    s.map = *map;
    s.offsets = std::move(offsets);
    s.tombstones = std::move(tombstones);
    ++s.rewrites;
    s.write_offset = s.durable_offset = end;
    s.compacted_last_seq = s.last_seq;
    return true;
}

void StreamLog::release_front_segments() {
    // A front segment with no live message goes, once nothing of it is in flight or unwritten
    // and what emptied it is durable (the appends that took a limit over, the tombstones of
    // a deletion).
    while (segments_.size() > 1) {
        Segment& front = *segments_.front();
        if (front.live != 0 || front.writes_count != 0 || front.write_offset != front.durable_offset) return;
        if (!drops_durable(front) || front.id == erasing_segment_) return;
        if (auto ok = remove_index(front); !ok) {
            sticky_error_ = ok.error();
            return;
        }
        disk_.close_file(front.handle);
        if (auto ok = disk_.remove_file(front.path); !ok) {
            sticky_error_ = ok.error();
            return;
        }
        segments_.erase(segments_.begin());
    }
}

Result<RecordView> StreamLog::load_last(std::string_view subject) const {
    auto it = subjects_.find(subject);
    if (it == subjects_.end()) return std::unexpected(Errc::kNotFound);
    return load(it->second.last);
}

Result<uint64_t> StreamLog::next_seq(uint64_t from, std::string_view filter) const {
    bool literal = filter.find('*') == std::string_view::npos && filter.find('>') == std::string_view::npos;
    if (!filter.empty() && literal) {
        auto it = subjects_.find(filter);
        if (it == subjects_.end() || from > it->second.last) return std::unexpected(Errc::kNotFound);
        const SubjectInfo& info = it->second;
        if (from <= info.first) return info.first;
        // From the message before, when it is one of the subject's (a consumer on one subject
        // asks from the last it delivered); else comparing subject ids, reading no record.
        const Segment* s = segment_for(from - 1);
        RT_ASSERT(s != nullptr);  // the subject's first live message is at or before it
        uint64_t i = from - 1 - s->first_seq;
        if (!s->deleted[i] && s->subject_ids[i] == info.id) return next_of_subject(from - 1, info.last, info.id);
        return find_subject(from - 1, info.last, info.id);
    }
    for (uint64_t seq = std::max(from, first_live_); seq <= last_seq_; ++seq) {
        if (!is_live(seq)) continue;
        if (filter.empty() || base::subject_matches(filter, subject_of(seq))) return seq;
    }
    return std::unexpected(Errc::kNotFound);
}

uint64_t StreamLog::count_from(uint64_t from, std::string_view filter) const {
    from = std::max(from, first_live_);
    if (from > last_seq_) return 0;
    bool any = filter.empty() || filter == ">";
    uint64_t count = 0;
    for (const auto& segment : segments_) {
        const Segment& s = *segment;
        if (s.last_seq < from || s.last_seq < s.first_seq) continue;
        if (any && s.first_seq >= from) {
            count += s.live;
            continue;
        }
        for (uint64_t seq = std::max(from, s.first_seq); seq <= s.last_seq; ++seq) {
            uint64_t i = seq - s.first_seq;
            if (s.deleted[i]) continue;
            if (any || base::subject_matches(filter, subject_names_[s.subject_ids[i]])) ++count;
        }
    }
    return count;
}

int64_t StreamLog::timestamp_at(uint64_t seq) const {
    RT_ASSERT(is_live(seq));
    const Segment* s = segment_for(seq);
    return s->timestamps[seq - s->first_seq];
}

uint64_t StreamLog::seq_at_time(int64_t timestamp_ns) const {
    for (const auto& segment : segments_) {
        const Segment& s = *segment;
        if (s.last_seq < s.first_seq || s.live == 0) continue;
        // Timestamps grow with sequences (a message's time is taken when it is appended).
        if (s.timestamps[s.last_seq - s.first_seq] < timestamp_ns && !s.deleted[s.last_seq - s.first_seq]) continue;
        for (uint64_t seq = std::max(first_live_, s.first_seq); seq <= s.last_seq; ++seq) {
            uint64_t i = seq - s.first_seq;
            if (!s.deleted[i] && s.timestamps[i] >= timestamp_ns) return seq;
        }
    }
    return last_seq_ + 1;
}

StoreState StreamLog::state() const {
    StoreState state;
    state.msgs = msgs_;
    state.bytes = bytes_;
    state.first_seq = msgs_ > 0 ? first_live_ : last_seq_ + 1;
    state.last_seq = last_seq_;
    state.num_subjects = subjects_.size();
    state.num_deleted = msgs_ > 0 ? last_seq_ - first_live_ + 1 - msgs_ : 0;
    return state;
}

void StreamLog::flush() {
    if (sticky_error_ != Errc::kOk) return;
    write_deferred();
    erase_owed();
    if (sticky_error_ != Errc::kOk) return;
    for (auto& segment : segments_) {
        while (flush_segment(*segment)) {
        }
    }
}

bool StreamLog::has_work() const {
    if (!deferred_.empty() || floor_owed_ || !erases_.empty()) return true;
    // Only the last segment takes writes: a roll waits until the one before is durable.
    const Segment& active = *segments_.back();
    return active.writes_count != 0 || active.write_offset > active.durable_offset;
}

bool StreamLog::flush_segment(Segment& s) {
    if (s.writes_count == options_.writes_in_flight_max) return false;
    // An erasure rewriting pages of the tail: a write of them now could land before it.
    if ((erasing_tail_ && s.id == erasing_segment_) || s.id == erase_draining_) return false;
    // Write from the page holding the first byte not yet durable (or, behind writes in flight,
    // from where the newest ends) to the page holding the last appended byte. Example: durable
    // up to 10000, appended up to 13000, nothing in flight: the write covers [8192, 16384): the
    // start of page 8192 is rewritten unchanged, 13000..16384 is zeros.
    const WriteOp* newest = s.newest_write();
    uint64_t start = newest != nullptr ? newest->end : align_down(s.durable_offset);
    if (s.write_offset <= std::max(start, s.durable_offset)) return false;
    if (newest != nullptr && s.write_offset - start < options_.overlap_bytes_min) return false;
    uint64_t end = std::min<uint64_t>(align_up(s.write_offset), start + options_.flush_bytes_max);
    RT_ASSERT(start >= s.tail_base);
    RT_ASSERT(end > start);
    RT_ASSERT(end - s.tail_base <= s.tail.bytes());
    // The ring's memory past the last record holds old bytes; the file must read zeros there.
    if (end == align_up(s.write_offset)) std::memset(s.tail.at(s.write_offset), 0, end - s.write_offset);
    WriteOp& write = s.write_at(s.writes_count++);
    write.completed = false;
    write.result = 0;
    write.start = start;
    write.end = end;
    write.data_end = std::min(s.write_offset, end);
    write.done = &StreamLog::write_done;
    write.log = this;
    write.segment = &s;
    disk_.write(s.handle, start, {s.tail.at(start), end - start}, s.tail_buffer, &write);
    return true;
}

void StreamLog::write_done(DiskWrite* op, int32_t result) {
    auto* write = static_cast<WriteOp*>(op);
    write->log->on_write_done(*write->segment, *write, result);
}

void StreamLog::on_write_done(Segment& s, WriteOp& write, int32_t result) {
    RT_ASSERT(s.writes_count > 0 && !write.completed);
    write.completed = true;
    write.result = result;
    if ((result < 0 || static_cast<uint64_t>(result) != write.end - write.start) && sticky_error_ == Errc::kOk) {
        // Sticky: never retry over a state we no longer know. What was durable stays so.
        sticky_error_ = result == -ENOSPC ? Errc::kNoSpace : Errc::kIo;
        if (on_durable_) on_durable_(durable_seq_);
    }
    // Durability advances in write order: a write that completes early waits for those before.
    while (s.writes_count > 0 && s.writes[s.writes_first].completed) {
        const WriteOp& oldest = s.writes[s.writes_first];
        s.writes_first = (s.writes_first + 1) % kWritesInFlightMax;
        --s.writes_count;
        if (sticky_error_ != Errc::kOk) continue;
        s.durable_offset = oldest.data_end;
    }
    if (sticky_error_ != Errc::kOk) return;
    s.advance_durable_last_seq();
    // Keep in memory only from the page where the first non-durable record starts. Writes in
    // flight read from where the last completed one ended, which is no lower.
    uint64_t keep_from = s.durable_last_seq == s.last_seq ? s.durable_offset
                                                           : s.offsets[s.durable_last_seq + 1 - s.first_seq];
    s.tail_base = std::max(s.tail_base, align_down(std::min(keep_from, s.durable_offset)));
    bool sealed = &s != segments_.back().get();
    if (sealed && s.writes_count == 0 && s.write_offset == s.durable_offset) s.reset_tail();  // reads come from the mapping now
    if (sealed) release_front_segments();
    // Appends that found every write slot taken go out now, not at the owner's next flush():
    // that comes only after its next turn of appends, and until then the device may be idle
    // (completions come in batches, so all slots free at once).
    if (!sealed) {
        while (flush_segment(s)) {
        }
    }
    advance_durable();
    report_deletions();
}

void StreamLog::advance_durable() {
    uint64_t durable = durable_seq_;
    // Acks may pass a segment only once all of it is on disk, tombstones included: a torn
    // tombstone would make recovery cut the log before the later segment's records.
    for (const auto& segment : segments_) {
        durable = std::max(durable, segment->durable_last_seq);
        if (segment->durable_last_seq != segment->last_seq) break;
        if (segment->durable_offset != segment->write_offset) break;
    }
    if (durable > durable_seq_) {
        durable_seq_ = durable;
        release_front_segments();  // those a drop emptied waited for this
        if (on_durable_) on_durable_(durable_seq_);
    }
}

const StreamLog::Segment* StreamLog::segment_for(uint64_t seq) const {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), seq,
                               [](uint64_t s, const auto& segment) { return s < segment->first_seq; });
    if (it == segments_.begin()) return nullptr;
    const Segment* segment = std::prev(it)->get();
    return seq <= segment->last_seq ? segment : nullptr;
}

Result<RecordView> StreamLog::load(uint64_t seq) const {
    const Segment* s = segment_for(seq);
    if (s == nullptr || s->deleted[seq - s->first_seq]) return std::unexpected(Errc::kNotFound);
    uint64_t offset = s->offsets[seq - s->first_seq];
    std::span<const std::byte> bytes;
    if (!s->tail.empty() && offset >= s->tail_base) {
        bytes = {s->tail.at(offset), s->write_offset - offset};
    } else {
        bytes = s->map.subspan(offset, s->durable_offset - offset);
    }
    // Pair assertion with encode: a record read back must verify; if it does not (a stale or
    // damaged page), it is refused, never served.
    Decoded decoded = decode_record(bytes);
    if (decoded.status != DecodeStatus::kOk || decoded.record.seq != seq) {
        return std::unexpected(disk_.read_errors(s->handle) > 0 ? Errc::kIo : Errc::kCorruptRecord);
    }
    if (decoded.record.subject.empty()) return std::unexpected(Errc::kNotFound);  // erased
    return decoded.record;
}

bool StreamLog::writes_in_flight() const {
    if (erasing_segment_ != 0) return true;
    return std::any_of(segments_.begin(), segments_.end(), [](const auto& s) { return s->writes_count != 0; });
}

}  // namespace ringtail::store
