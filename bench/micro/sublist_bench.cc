// core::Sublist match cost with 10k and 1M subscriptions: literal subjects, '*' and '>'
// patterns. Each benchmark matches a rotation of 4,096 subjects that all have interest,
// more than the sublist's 1,024-entry match cache holds, so it measures the trie walk (plus
// the cache insert a miss costs); *Cached matches one subject over and over.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/route/sublist.h"

namespace {

using Sublist = ringtail::core::Sublist<int>;

enum class Kind { kLiteral, kStar, kTail };

// Subscription i is built from a = i / 1000 and b = i % 1000 (`wildcards`); the subject
// that it, and only it among its kind, matches fills the wildcard in (`wildcards` false):
//   literal: t.<a>.<b>        t.<a>.<b>
//   star:    t.<a>.*.<b>      t.<a>.x.<b>
//   tail:    t.<a>.<b>.>      t.<a>.<b>.x.y
std::string subject(Kind kind, size_t i, bool wildcards) {
    const std::string a = std::to_string(i / 1000);
    const std::string b = std::to_string(i % 1000);
    switch (kind) {
        case Kind::kLiteral:
            return "t." + a + "." + b;
        case Kind::kStar:
            return "t." + a + (wildcards ? ".*." : ".x.") + b;
        case Kind::kTail:
            return "t." + a + "." + b + (wildcards ? ".>" : ".x.y");
    }
    return "";
}

struct Fixture {
    std::vector<int> subscribers;
    Sublist sublist;
    std::vector<std::string> subjects;
};

// Built once per (kind, size): 1M insertions take a while and Google Benchmark calls the
// function several times.
Fixture& fixture(Kind kind, size_t subscriptions) {
    static std::map<std::pair<int, size_t>, std::unique_ptr<Fixture>> built;
    auto& slot = built[{static_cast<int>(kind), subscriptions}];
    if (slot != nullptr) return *slot;
    slot = std::make_unique<Fixture>();
    slot->subscribers.resize(subscriptions);
    for (size_t i = 0; i < subscriptions; ++i) {
        slot->sublist.insert(subject(kind, i, /*wildcards=*/true), "", &slot->subscribers[i]);
    }
    std::mt19937_64 rng(42);
    for (int i = 0; i < 4096; ++i)
        slot->subjects.push_back(subject(kind, rng() % subscriptions, /*wildcards=*/false));
    return *slot;
}

void match(benchmark::State& state, Kind kind, bool cached) {
    Fixture& f = fixture(kind, static_cast<size_t>(state.range(0)));
    size_t next = 0;
    size_t matched = 0;
    for (auto _ : state) {
        const std::string& subject = f.subjects[cached ? 0 : next++ & 4095];
        const auto& result = f.sublist.match(subject);
        matched += result.plain.size();
        benchmark::DoNotOptimize(&result);
    }
    if (matched != static_cast<size_t>(state.iterations()))
        state.SkipWithError("wrong match count");
    state.SetItemsProcessed(state.iterations());
}

void BM_SublistMatchLiteral(benchmark::State& state) { match(state, Kind::kLiteral, false); }
void BM_SublistMatchLiteralCached(benchmark::State& state) { match(state, Kind::kLiteral, true); }
void BM_SublistMatchStar(benchmark::State& state) { match(state, Kind::kStar, false); }
void BM_SublistMatchTail(benchmark::State& state) { match(state, Kind::kTail, false); }

BENCHMARK(BM_SublistMatchLiteral)->Arg(10'000)->Arg(1'000'000);
BENCHMARK(BM_SublistMatchLiteralCached)->Arg(10'000)->Arg(1'000'000);
BENCHMARK(BM_SublistMatchStar)->Arg(10'000)->Arg(1'000'000);
BENCHMARK(BM_SublistMatchTail)->Arg(10'000)->Arg(1'000'000);

}  // namespace

BENCHMARK_MAIN();
