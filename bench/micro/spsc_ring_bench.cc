// base::SpscRing throughput across two threads pinned to different cpus (0 and 1 unless
// RT_BENCH_CPUS="p,c" says otherwise): the producer reserves records of the given body size
// and publishes every 32; the consumer reads in batches. Reports records/s and bytes/s.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "base/spsc_ring.h"

namespace {

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

std::pair<int, int> cpus() {
    const char* text = std::getenv("RT_BENCH_CPUS");
    if (text == nullptr) return {0, 1};
    std::string value = text;
    size_t comma = value.find(',');
    return {std::atoi(value.substr(0, comma).c_str()), std::atoi(value.substr(comma + 1).c_str())};
}

void BM_SpscRingThroughput(benchmark::State& state) {
    const auto body_bytes = static_cast<size_t>(state.range(0));
    constexpr uint64_t kRecords = 1 << 20;
    constexpr uint64_t kBatch = 32;
    const auto [producer_cpu, consumer_cpu] = cpus();
    pin(producer_cpu);
    for (auto _ : state) {
        ringtail::base::SpscRing ring(1 << 20);
        std::atomic<bool> ready{false};
        std::thread consumer([&] {
            pin(consumer_cpu);
            ready.store(true);
            uint64_t seen = 0;
            uint64_t sum = 0;
            ringtail::base::SpscRing::Record record;
            while (seen < kRecords) {
                ring.begin_read();
                while (ring.next(record)) {
                    sum += static_cast<uint64_t>(record.body[0]);
                    ++seen;
                }
                ring.end_read();
            }
            benchmark::DoNotOptimize(sum);
        });
        while (!ready.load()) {
        }
        for (uint64_t sent = 0; sent < kRecords;) {
            std::span<std::byte> body = ring.try_reserve(1, body_bytes);
            if (body.empty()) {
                ring.publish();
                continue;
            }
            body[0] = static_cast<std::byte>(sent);
            ++sent;
            if (sent % kBatch == 0) ring.publish();
        }
        ring.publish();
        consumer.join();
    }
    state.SetItemsProcessed(static_cast<int64_t>(kRecords) * state.iterations());
    state.SetBytesProcessed(static_cast<int64_t>(kRecords * body_bytes) * state.iterations());
}

BENCHMARK(BM_SpscRingThroughput)
    ->Arg(16)
    ->Arg(64)
    ->Arg(512)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
