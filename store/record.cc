#include "store/record.h"

#include <cstring>

#include "base/assert.h"
#include "base/hash.h"
#include "store/disk.h"

namespace ringtail::store {
namespace {

template <class T>
T load(const std::byte* at) {
    T value;
    std::memcpy(&value, at, sizeof value);
    return value;
}

template <class T>
void store(std::byte* at, T value) {
    std::memcpy(at, &value, sizeof value);
}

uint64_t checksum(std::span<const std::byte> bytes) { return base::hash64(bytes.data(), bytes.size()); }

// The record at the start of `in`: its fields, checked for consistency, and its checksum when
// `verify_checksum`.
Decoded parse_record(std::span<const std::byte> in, bool verify_checksum);

}  // namespace

void encode_record(std::span<std::byte> out, const RecordView& record, uint32_t kind,
                   uint32_t skipped_from) {
    RT_ASSERT(kind == kKindMessage || removes_one(kind) || kind == kKindPurge || kind == kKindSkip);
    RT_ASSERT(skipped_from < kPageBytes);
    size_t bytes = record_bytes(record.subject.size(), record.headers.size(), record.payload.size());
    RT_ASSERT(out.size() == bytes);
    RT_ASSERT(bytes <= UINT32_MAX);
    std::byte* at = out.data();
    store<uint32_t>(at + 0, static_cast<uint32_t>(bytes));
    store<uint32_t>(at + 4, kind);
    store<uint64_t>(at + 8, record.seq);
    store<int64_t>(at + 16, record.timestamp_ns);
    store<uint32_t>(at + 24, static_cast<uint32_t>(record.subject.size()));
    store<uint32_t>(at + 28, static_cast<uint32_t>(record.headers.size()));
    store<uint32_t>(at + 32, static_cast<uint32_t>(record.payload.size()));
    store<uint32_t>(at + 36, skipped_from);
    size_t pos = kRecordHeaderBytes;
    for (std::string_view part : {record.subject, record.headers, record.payload}) {
        if (!part.empty()) std::memcpy(at + pos, part.data(), part.size());
        pos += part.size();
    }
    std::memset(at + pos, 0, bytes - kRecordChecksumBytes - pos);
    store<uint64_t>(at + bytes - kRecordChecksumBytes,
                    checksum(out.first(bytes - kRecordChecksumBytes)));
    // Pair assertion: what we hand to the disk must read back as what we were given. The
    // checksum is not computed again: it was just computed over these very bytes (and every read
    // verifies it); at 128 B a second pass was an eighth of the append's CPU.
    Decoded check = parse_record(out, /*verify_checksum=*/false);
    RT_ASSERT(check.status == DecodeStatus::kOk);
    RT_ASSERT(check.bytes == bytes && check.kind == kind && check.record.seq == record.seq);
    RT_ASSERT(check.record.payload.size() == record.payload.size());
}

Decoded decode_record(std::span<const std::byte> in) { return parse_record(in, /*verify_checksum=*/true); }

std::string_view peek_subject(std::span<const std::byte> verified) {
    return {reinterpret_cast<const char*>(verified.data()) + kRecordHeaderBytes, load<uint32_t>(verified.data() + 24)};
}

namespace {

Decoded parse_record(std::span<const std::byte> in, bool verify_checksum) {
    if (in.size() < 8) return {in.empty() ? DecodeStatus::kEnd : DecodeStatus::kTorn};
    auto bytes = load<uint32_t>(in.data());
    auto kind = load<uint32_t>(in.data() + 4);
    if (bytes == 0 && kind == 0) return {DecodeStatus::kEnd};
    if (bytes % 8 != 0 || bytes > in.size()) return {DecodeStatus::kTorn};
    bool known = kind == kKindMessage || removes_one(kind) || kind == kKindPurge || kind == kKindSkip;
    if (!known || bytes < kRecordHeaderBytes + kRecordChecksumBytes) {
        return {DecodeStatus::kCorrupt};
    }
    auto subject_bytes = load<uint32_t>(in.data() + 24);
    auto header_bytes = load<uint32_t>(in.data() + 28);
    auto payload_bytes = load<uint32_t>(in.data() + 32);
    uint64_t body = uint64_t{subject_bytes} + header_bytes + payload_bytes;
    if (body > bytes || record_bytes(subject_bytes, header_bytes, payload_bytes) != bytes) {
        return {DecodeStatus::kCorrupt};
    }
    uint64_t stored = load<uint64_t>(in.data() + bytes - kRecordChecksumBytes);
    if (verify_checksum && stored != checksum(in.first(bytes - kRecordChecksumBytes))) {
        return {DecodeStatus::kCorrupt};
    }
    Decoded decoded{DecodeStatus::kOk, bytes, {}, kind};
    const char* text = reinterpret_cast<const char*>(in.data()) + kRecordHeaderBytes;
    decoded.skipped_from = load<uint32_t>(in.data() + 36);
    decoded.record.seq = load<uint64_t>(in.data() + 8);
    decoded.record.timestamp_ns = load<int64_t>(in.data() + 16);
    decoded.record.subject = {text, subject_bytes};
    decoded.record.headers = {text + subject_bytes, header_bytes};
    decoded.record.payload = {text + subject_bytes + header_bytes, payload_bytes};
    return decoded;
}

}  // namespace
}  // namespace ringtail::store
