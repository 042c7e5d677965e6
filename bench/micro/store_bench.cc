// The segment store's CPU path, with no device under it: the record codec (encode with its
// checksum, decode with verification) and StreamLog append and read on the memory store
// (MemoryDisk), at 128 B, 1 KiB and 16 KiB payloads. Durable appends on a real disk, against
// fio, are ringtail-store-bench's job (bench/store); this says how much of that is CPU.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "store/memory_disk.h"
#include "store/record.h"
#include "store/stream_log.h"

namespace {

using ringtail::store::RecordView;

constexpr std::string_view kSubject = "bench.store";

void BM_EncodeRecord(benchmark::State& state) {
    std::string payload(static_cast<size_t>(state.range(0)), 'p');
    size_t bytes = ringtail::store::record_bytes(kSubject.size(), 0, payload.size());
    std::vector<std::byte> out(bytes);
    uint64_t seq = 0;
    for (auto _ : state) {
        ringtail::store::encode_record(out, RecordView{++seq, 0, kSubject, {}, payload});
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}

void BM_DecodeRecord(benchmark::State& state) {
    std::string payload(static_cast<size_t>(state.range(0)), 'p');
    std::vector<std::byte> in(ringtail::store::record_bytes(kSubject.size(), 0, payload.size()));
    ringtail::store::encode_record(in, RecordView{1, 0, kSubject, {}, payload});
    for (auto _ : state) {
        auto decoded = ringtail::store::decode_record(in);
        benchmark::DoNotOptimize(decoded);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}

// One log on the memory store for a benchmark run: 256 MiB segments, 8 MiB writes.
struct MemoryLog {
    ringtail::store::MemoryDisk disk;
    std::unique_ptr<ringtail::store::StreamLog> log;

    MemoryLog() {
        ringtail::store::StreamLogOptions options;
        options.dir = "/bench";
        options.segment_bytes = 256u << 20;
        options.flush_bytes_max = 8u << 20;
        options.tail_bytes_max = 32u << 20;
        log = std::move(*ringtail::store::StreamLog::open(disk, options, nullptr));
        disk.poll();
    }
    // Makes everything appended durable (completes its writes).
    void sync() {
        log->flush();
        disk.poll();
    }
    // Appends, syncing while the log is full (the tail, or a roll waiting for its last write).
    bool append(std::string_view payload) {
        auto seq = log->append(kSubject, {}, payload, 0);
        while (!seq && seq.error() == ringtail::Errc::kBusy) {
            sync();
            seq = log->append(kSubject, {}, payload, 0);
        }
        return seq.has_value();
    }
};

// Appends, flushing and completing every 8 MiB's worth, as the durable bench's loop does. With
// a second argument of 1 the log is at its max_bytes (256 MiB) and each append drops the oldest
// message, as a stream with limits does in its steady state.
void BM_AppendMemory(benchmark::State& state) {
    std::string payload(static_cast<size_t>(state.range(0)), 'p');
    MemoryLog memory;
    if (state.range(1) != 0) {
        ringtail::store::StoreLimits limits;
        limits.max_bytes = 256ll << 20;
        memory.log->set_limits(limits);
        while (memory.log->bytes() + 2 * payload.size() < (256u << 20)) memory.append(payload);
    }
    size_t turn = (8u << 20) / ringtail::store::record_bytes(kSubject.size(), 0, payload.size());
    size_t in_turn = 0;
    for (auto _ : state) {
        if (!memory.append(payload)) {
            state.SkipWithError("append refused");
            break;
        }
        if (++in_turn == turn) {
            memory.sync();
            in_turn = 0;
        }
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}

// Reads by sequence (checksum verified) from 64 MiB of records, in order.
void BM_LoadMemory(benchmark::State& state) {
    std::string payload(static_cast<size_t>(state.range(0)), 'p');
    MemoryLog memory;
    uint64_t count = (64u << 20) / payload.size();
    for (uint64_t i = 0; i < count; ++i) {
        if (!memory.append(payload)) {
            state.SkipWithError("append refused");
            return;
        }
    }
    memory.sync();
    uint64_t seq = 0;
    for (auto _ : state) {
        seq = seq % count + 1;
        auto record = memory.log->load(seq);
        benchmark::DoNotOptimize(record);
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}

}  // namespace

BENCHMARK(BM_EncodeRecord)->Arg(128)->Arg(1024)->Arg(16384);
BENCHMARK(BM_DecodeRecord)->Arg(128)->Arg(1024)->Arg(16384);
BENCHMARK(BM_AppendMemory)->ArgsProduct({{128, 1024, 16384}, {0, 1}});
BENCHMARK(BM_LoadMemory)->Arg(128)->Arg(1024)->Arg(16384);
BENCHMARK_MAIN();
