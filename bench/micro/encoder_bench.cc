// Cost of writing one MSG or HMSG frame into an output block, as a connection's delivery does:
// a 64 KiB string whose capacity is reserved, refilled from empty once full. Reports frames/s
// and bytes/s per payload size.
#include <benchmark/benchmark.h>

#include <string>

#include "proto/encoder.h"

namespace {

constexpr size_t kBlockBytes = 64 << 10;

void encode(benchmark::State& state, bool headers) {
    const std::string subject = "orders.eu.west.created";
    const std::string sid = "12";
    const std::string header_block = "NATS/1.0\r\nNats-Msg-Id: 7f3a9c\r\n\r\n";
    const std::string payload(static_cast<size_t>(state.range(0)), 'x');
    std::string out;
    out.reserve(kBlockBytes);
    size_t bytes = 0;
    for (auto _ : state) {
        if (out.size() + 256 + payload.size() > kBlockBytes) {
            bytes += out.size();
            out.clear();
        }
        if (headers) {
            ringtail::proto::append_hmsg(out, subject, sid, {}, header_block, payload);
        } else {
            ringtail::proto::append_msg(out, subject, sid, {}, payload);
        }
        benchmark::DoNotOptimize(out.data());
    }
    bytes += out.size();
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

void BM_AppendMsg(benchmark::State& state) { encode(state, false); }
void BM_AppendHmsg(benchmark::State& state) { encode(state, true); }

}  // namespace

BENCHMARK(BM_AppendMsg)->Arg(16)->Arg(128)->Arg(1024);
BENCHMARK(BM_AppendHmsg)->Arg(16)->Arg(128)->Arg(1024);
BENCHMARK_MAIN();
