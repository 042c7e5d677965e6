#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ringtail::store {

// One stored message. Layout on disk and in memory, little-endian, 8-byte aligned:
//
//   offset  bytes  field
//        0      4  record_bytes   whole record incl. padding and checksum; multiple of 8;
//                                 0 means "nothing here" (end of log in a zero-filled segment)
//        4      4  kind           kKindMessage, kKindDelete, kKindErase, kKindPurge or kKindSkip
//        8      8  seq
//       16      8  timestamp_ns   wall clock, ns since the Unix epoch
//       24      4  subject_bytes
//       28      4  header_bytes
//       32      4  payload_bytes
//       36      4  skipped_from   0, or for a record that starts a page: the in-page offset
//                                 from which the previous page was left zero (see below)
//       40      .  subject | headers | payload | zero padding to 8
//   last 8      8  xxh3-64 of every byte before it
//
// Tombstones use the same layout with no subject, headers or payload: kKindDelete removes the
// message `seq`; kKindErase does too, and says its record is to be written again with nothing
// in it (recovery finishes an erasure a crash interrupted); kKindPurge removes every message
// below `seq` (the new first sequence); kKindSkip uses up every sequence not reached yet up to
// `seq`, with no message in them (a mirror keeps its origin's sequences across the origin's
// gaps).
// An append that must not touch the page a write is still reading starts on the next page
// instead and says where the data on the previous page ended (skipped_from). Recovery follows
// such a skip only when it leads from exactly where the scan stopped, so zeros left by a write
// that never landed are never mistaken for one.
// Example: a 5-byte subject, no headers, 11-byte payload: 40 + 16 = 56, + 8 checksum = 64.
inline constexpr uint32_t kKindMessage = 0x4d54'5452;  // "RTTM"
inline constexpr uint32_t kKindDelete = 0x4454'5452;   // "RTTD"
inline constexpr uint32_t kKindErase = 0x4554'5452;    // "RTTE"
inline constexpr uint32_t kKindPurge = 0x5554'5452;    // "RTTU"
inline constexpr uint32_t kKindSkip = 0x5354'5452;     // "RTTS"
inline constexpr size_t kRecordHeaderBytes = 40;
inline constexpr size_t kRecordChecksumBytes = 8;

struct RecordView {
    uint64_t seq = 0;
    int64_t timestamp_ns = 0;
    std::string_view subject;
    std::string_view headers;
    std::string_view payload;
};

// A tombstone that removes one message.
inline bool removes_one(uint32_t kind) { return kind == kKindDelete || kind == kKindErase; }

// Bytes a record with these fields occupies.
inline size_t record_bytes(size_t subject_bytes, size_t header_bytes, size_t payload_bytes) {
    size_t unpadded = kRecordHeaderBytes + subject_bytes + header_bytes + payload_bytes;
    return ((unpadded + 7) & ~size_t{7}) + kRecordChecksumBytes;
}

// Encodes into `out` (exactly record_bytes(...) long). Asserts its own output decodes.
void encode_record(std::span<std::byte> out, const RecordView& record, uint32_t kind = kKindMessage,
                   uint32_t skipped_from = 0);

enum class DecodeStatus : uint8_t {
    kOk,
    kEnd,       // a zero header: nothing was ever written here
    kTorn,      // not enough bytes left for the length it claims, or a bad length
    kCorrupt,   // checksum mismatch or an unknown kind
};

struct Decoded {
    DecodeStatus status;
    size_t bytes = 0;  // the record's length for kOk
    RecordView record;
    uint32_t kind = 0;  // for kOk: one of the kinds above
    uint32_t skipped_from = 0;
};

// Decodes the record at the start of `in`, verifying its checksum. Never reads past `in`.
Decoded decode_record(std::span<const std::byte> in);
// The subject of the record at the start of `verified`, which decode_record() has accepted and
// nothing has changed since: read without any check (recovery's second look at each record).
std::string_view peek_subject(std::span<const std::byte> verified);

}  // namespace ringtail::store
