// Throughput of proto::Parser (the server's client-protocol parser) on a stream of PUB or
// HPUB frames, fed the way a connection feeds it: in 64 KiB reads, so that one frame in each
// read straddles into the next and takes the copy path. Reports bytes/s and ops/s.
#include <benchmark/benchmark.h>

#include <string>

#include "proto/parser.h"

namespace {

using ringtail::proto::Flow;

class CountingHandler final : public ringtail::proto::ParserHandler {
 public:
    Flow on_connect(std::string_view) override { return Flow::kContinue; }
    Flow on_pub(const ringtail::proto::PubOp& op) override {
        ++pubs;
        payload_bytes += op.payload.size();
        return Flow::kContinue;
    }
    Flow on_sub(const ringtail::proto::SubOp&) override { return Flow::kContinue; }
    Flow on_unsub(const ringtail::proto::UnsubOp&) override { return Flow::kContinue; }
    Flow on_ping() override { return Flow::kContinue; }
    Flow on_pong() override { return Flow::kContinue; }
    Flow on_client_error(std::string_view) override { return Flow::kContinue; }
    uint64_t pubs = 0;
    uint64_t payload_bytes = 0;
};

constexpr size_t kStreamBytes = 4 << 20;
constexpr size_t kReadBytes = 64 << 10;

// About 4 MiB of frames: PUB <subject> <size> or HPUB <subject> <hdr size> <total size>.
std::string make_stream(size_t payload_bytes, bool headers, size_t& frames) {
    const std::string subject = "orders.eu.west.created";
    const std::string header_block = "NATS/1.0\r\nNats-Msg-Id: 7f3a9c\r\n\r\n";
    std::string frame;
    if (headers) {
        frame = "HPUB " + subject + " " + std::to_string(header_block.size()) + " " +
                std::to_string(header_block.size() + payload_bytes) + "\r\n" + header_block;
    } else {
        frame = "PUB " + subject + " " + std::to_string(payload_bytes) + "\r\n";
    }
    frame += std::string(payload_bytes, 'x') + "\r\n";
    std::string stream;
    frames = 0;
    while (stream.size() + frame.size() <= kStreamBytes || frames == 0) {
        stream += frame;
        ++frames;
    }
    return stream;
}

void parse_stream(benchmark::State& state, bool headers) {
    size_t frames = 0;
    const std::string stream = make_stream(static_cast<size_t>(state.range(0)), headers, frames);
    CountingHandler handler;
    ringtail::proto::Parser parser({64 << 20, 4096});
    parser.set_headers_allowed(true);
    for (auto _ : state) {
        for (size_t at = 0; at < stream.size(); at += kReadBytes) {
            auto status = parser.feed(std::string_view(stream).substr(at, kReadBytes), handler);
            if (status != ringtail::proto::ParseStatus::kOk) {
                state.SkipWithError("parse error");
                return;
            }
        }
    }
    benchmark::DoNotOptimize(handler.payload_bytes);
    if (handler.pubs != frames * static_cast<uint64_t>(state.iterations())) {
        state.SkipWithError("wrong op count");
    }
    state.SetBytesProcessed(static_cast<int64_t>(stream.size()) * state.iterations());
    state.SetItemsProcessed(static_cast<int64_t>(frames) * state.iterations());
}

void BM_ParsePub(benchmark::State& state) { parse_stream(state, false); }
void BM_ParseHpub(benchmark::State& state) { parse_stream(state, true); }

BENCHMARK(BM_ParsePub)->Arg(0)->Arg(16)->Arg(128)->Arg(1024)->Arg(16384);
BENCHMARK(BM_ParseHpub)->Arg(16)->Arg(128)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
