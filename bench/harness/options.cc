#include "bench/harness/options.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

namespace ringtail::bench {

namespace {

Expected<double> parse_number(std::string_view text, std::string_view flag) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
        value < 0) {
        return std::unexpected("bad value for " + std::string(flag) + ": " + std::string(text));
    }
    return value;
}

Expected<uint64_t> parse_scaled(std::string_view text, bool binary) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data()) {
        return std::unexpected("bad number: " + std::string(text));
    }
    std::string_view suffix(end, static_cast<size_t>(text.data() + text.size() - end));
    uint64_t scale = 1;
    const uint64_t unit = binary ? 1024 : 1000;
    if (suffix.empty() || suffix == "B") {
        scale = 1;
    } else if (suffix == "k" || suffix == "K" || suffix == "KiB") {
        scale = suffix == "KiB" ? 1024 : unit;
    } else if (suffix == "M" || suffix == "MiB") {
        scale = suffix == "MiB" ? 1024 * 1024 : unit * unit;
    } else if (suffix == "G" || suffix == "GiB") {
        scale = suffix == "GiB" ? 1024ull * 1024 * 1024 : unit * unit * unit;
    } else {
        return std::unexpected("bad suffix in " + std::string(text));
    }
    return value * scale;
}

}  // namespace

bool is_scenario(std::string_view name) {
    return std::find(std::begin(kScenarios), std::end(kScenarios), name) != std::end(kScenarios);
}

bool is_jetstream_scenario(std::string_view name) {
    return name == "js-pub" || is_consume_scenario(name) || name == "kv";
}

bool is_consume_scenario(std::string_view name) {
    return name == "js-consume" || name == "js-push";
}

Expected<uint64_t> parse_count(std::string_view text) { return parse_scaled(text, false); }
Expected<uint64_t> parse_bytes(std::string_view text) { return parse_scaled(text, true); }

Expected<std::vector<int>> parse_cpu_list(std::string_view text) {
    std::vector<int> cpus;
    while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        size_t dash = item.find('-');
        int first = 0;
        int last = 0;
        auto bad = [&] { return std::unexpected("bad cpu list item: " + std::string(item)); };
        std::string_view a = item.substr(0, dash);
        if (std::from_chars(a.data(), a.data() + a.size(), first).ec != std::errc()) return bad();
        last = first;
        if (dash != std::string_view::npos) {
            std::string_view b = item.substr(dash + 1);
            if (std::from_chars(b.data(), b.data() + b.size(), last).ec != std::errc())
                return bad();
        }
        if (first < 0 || last < first || last > 4095) return bad();
        for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
    }
    if (cpus.empty()) return std::unexpected(std::string("empty cpu list"));
    return cpus;
}

Expected<Options> parse_options(std::string_view scenario, std::span<const std::string_view> args) {
    Options options;
    options.scenario = std::string(scenario);
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view flag = args[i];
        std::string_view inline_value;
        bool has_inline = false;
        if (size_t eq = flag.find('='); flag.starts_with("--") && eq != std::string_view::npos) {
            inline_value = flag.substr(eq + 1);
            flag = flag.substr(0, eq);
            has_inline = true;
        }
        auto value = [&]() -> Expected<std::string_view> {
            if (has_inline) return inline_value;
            if (i + 1 >= args.size())
                return std::unexpected("missing value for " + std::string(flag));
            return args[++i];
        };
        auto set_int = [&](auto& out) -> Status {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            auto number = parse_count(*text);
            if (!number) return std::unexpected(number.error() + " (" + std::string(flag) + ")");
            if (*number > 1'000'000'000'000ull)
                return std::unexpected("value too large for " + std::string(flag));
            out = static_cast<std::remove_reference_t<decltype(out)>>(*number);
            return {};
        };
        auto set_double = [&](double& out) -> Status {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            auto number = parse_number(*text, flag);
            if (!number) return std::unexpected(number.error());
            out = *number;
            return {};
        };
        Status status;
        if (flag == "--url" || flag == "-s") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            options.url = std::string(*text);
        } else if (flag == "--responder-url") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            options.responder_url = std::string(*text);
        } else if (flag == "--size") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            auto bytes = parse_bytes(*text);
            if (!bytes) return std::unexpected(bytes.error() + " (--size)");
            options.size_bytes = *bytes;
        } else if (flag == "--count" || flag == "--msgs") {
            status = set_int(options.count);
        } else if (flag == "--duration") {
            status = set_double(options.duration_s);
        } else if (flag == "--pubs" || flag == "--publishers" || flag == "--requesters") {
            status = set_int(options.pubs);
        } else if (flag == "--subs" || flag == "--subscribers" || flag == "--responders" ||
                   flag == "--consumers") {
            status = set_int(options.subs);
        } else if (flag == "--threads") {
            status = set_int(options.threads);
        } else if (flag == "--cpus") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            auto cpus = parse_cpu_list(*text);
            if (!cpus) return std::unexpected(cpus.error());
            options.cpus = *cpus;
        } else if (flag == "--window") {
            status = set_int(options.window);
        } else if (flag == "--rate") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            auto scaled = parse_count(*text);  // "500k" as well as "1500.5"
            auto plain = parse_number(*text, flag);
            if (!scaled && !plain) return std::unexpected(plain.error());
            options.rate = plain ? *plain : static_cast<double>(*scaled);
        } else if (flag == "--drain-timeout") {
            status = set_double(options.drain_timeout_s);
        } else if (flag == "--json") {
            options.json = true;
        } else if (flag == "--progress") {
            options.progress = 1;
        } else if (flag == "--no-progress") {
            options.progress = 0;
        } else if (flag == "--sync") {
            options.js_sync = true;
        } else if (flag == "--live") {
            options.live = true;
        } else if (flag == "--storage") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            if (*text != "file" && *text != "memory") {
                return std::unexpected(std::string("--storage is file or memory"));
            }
            options.storage = std::string(*text);
        } else if (flag == "--keys") {
            status = set_int(options.keys);
        } else if (flag == "--history") {
            status = set_int(options.history);
        } else if (flag == "--batch") {
            status = set_int(options.batch);
        } else if (flag == "--client") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            if (*text != "ringtail-bench" && *text != "libnats" && *text != "nats.go") {
                return std::unexpected(
                    std::string("--client is ringtail-bench, libnats or nats.go"));
            }
            options.client = std::string(*text);
        } else if (flag == "--natsgo") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            options.natsgo = std::string(*text);
        } else {
            return std::unexpected("unknown flag " + std::string(flag) + " (see --help)");
        }
        if (!status) return std::unexpected(status.error());
    }
    return options;
}

Status resolve_defaults(Options& o) {
    if (!is_scenario(o.scenario)) return std::unexpected("unknown scenario " + o.scenario);
    auto url = parse_url(o.url);
    if (!url) return std::unexpected(url.error());
    const std::string& s = o.scenario;
    int pubs = 1;
    int subs = 1;
    if (s == "pub") subs = 0;
    if (s == "fanout") subs = 4;
    if (s == "queue") subs = 2;
    if (s == "js-pub" || s == "kv") subs = 0;
    if (is_consume_scenario(s)) pubs = o.live ? 1 : 0;
    if (o.pubs < 0) o.pubs = pubs;
    if (o.subs < 0) o.subs = subs;
    if (s == "fanout" && o.pubs != 1)
        return std::unexpected(std::string("fanout has exactly one publisher"));
    if (s == "pub" && o.subs != 0)
        return std::unexpected(std::string("pub has no subscribers (use pubsub)"));
    if ((s == "pubsub" || s == "fanout" || s == "queue" || s == "reqrep") && o.subs < 1) {
        return std::unexpected(s + " needs --subs >= 1");
    }
    if ((!is_consume_scenario(s) || o.live) && o.pubs < 1)
        return std::unexpected(s + (o.live ? " --live" : "") + " needs --pubs >= 1");
    if (o.live && !is_consume_scenario(s))
        return std::unexpected(std::string("--live is for js-consume and js-push"));
    if (!o.responder_url.empty()) {
        if (s != "reqrep") return std::unexpected(std::string("--responder-url is for reqrep"));
        if (o.client != "ringtail-bench") {
            return std::unexpected(std::string("--responder-url works with the harness's own client only"));
        }
        auto responder = parse_url(o.responder_url);
        if (!responder) return std::unexpected(responder.error());
    }
    if (s == "js-consume" && o.subs < 1)
        return std::unexpected(std::string("js-consume needs --consumers >= 1"));
    // A deliver group would be the only way to share a push consumer, and neither server
    // allows flow control or heartbeats on one.
    if (s == "js-push" && o.subs != 1)
        return std::unexpected(std::string("js-push has exactly one consumer"));
    if (static_cast<uint64_t>(o.pubs) >= 65536)
        return std::unexpected(std::string("at most 65535 publishers"));
    if (o.count == 0) return std::unexpected(std::string("--count must be > 0"));
    if (o.duration_s <= 0) return std::unexpected(std::string("--duration must be > 0"));
    if (o.size_bytes > 64ull * 1024 * 1024)
        return std::unexpected(std::string("--size is at most 64 MiB"));
    if ((s == "queue" || s == "reqrep" || is_jetstream_scenario(s)) && o.size_bytes < 8) {
        return std::unexpected(s + " needs --size >= 8: the 8-byte stamp is how it checks " +
                               "exactly-once delivery");
    }
    if (o.window < 0) {
        if (s == "reqrep") {
            o.window = 1;  // closed loop: each requester waits for its reply
        } else if (s == "js-pub" || s == "kv") {
            o.window = o.js_sync ? 1 : 256;
        } else if (is_consume_scenario(s)) {
            o.window = 1024;
        } else if (s == "pub") {
            o.window = 0;  // nothing to wait for but the socket
        } else {
            // Bound the bytes in flight towards each subscriber to ~32 MiB in total, half of
            // the servers' 64 MiB max_pending, so a run never trips the slow-consumer rule.
            const uint64_t frame_bytes = o.size_bytes + 64;
            const uint64_t per_pub = (32ull << 20) / static_cast<uint64_t>(o.pubs) / frame_bytes;
            o.window = static_cast<int64_t>(std::max<uint64_t>(per_pub, 16));
        }
    }
    if (o.js_sync) o.window = 1;
    if ((s == "reqrep" || is_jetstream_scenario(s)) && o.window < 1) {
        return std::unexpected(s + " needs --window >= 1");
    }
    if (o.client == "libnats" && is_jetstream_scenario(s) && !is_consume_scenario(s)) {
        return std::unexpected(std::string(
            "--client libnats drives pub, pubsub, fanout, queue, reqrep, js-consume and js-push"));
    }
    if (o.client == "nats.go" && is_consume_scenario(s)) {
        return std::unexpected(
            std::string("--client nats.go drives pub, pubsub, fanout, queue, reqrep, js-pub and kv"));
    }
    // The nats.go driver publishes as fast as its window allows: refuse a rate rather than
    // report an unpaced run as a paced one.
    if (o.client == "nats.go" && o.rate > 0) {
        return std::unexpected(std::string("--client nats.go publishes unpaced (no --rate)"));
    }
    if (o.history < 1 || o.history > 64) return std::unexpected(std::string("--history is 1 to 64, as for a KV bucket"));
    if (o.batch < 0) o.batch = std::max<int64_t>(1, std::min<int64_t>(o.window / 2, 512));
    if (o.threads <= 0) {
        const int connections = o.pubs + o.subs;
        int cpus = static_cast<int>(o.cpus.size());
        if (cpus == 0) cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        o.threads = std::max(1, std::min(connections, cpus));
    }
    if (o.progress < 0) o.progress = isatty(STDERR_FILENO) ? 1 : 0;
    return {};
}

std::string usage_text() {
    return R"(ringtail-bench: load generator and checker for NATS servers (Ringtail, nats-server).

usage:
  ringtail-bench SCENARIO [flags]      run one scenario against --url
  ringtail-bench compare [flags]       start ringtail and nats-server, alternate runs, report
  ringtail-bench selftest [flags]      the harness's own publish/receive capacity (no server)

scenarios:
  pub         N publishers, no subscribers: the server's ingest rate
  pubsub      N publishers, M subscribers on one subject; every subscriber gets everything
  fanout      1 publisher, M subscribers (default 4)
  queue       N publishers, a queue group of M members; checks exactly-once delivery
  reqrep      K requesters (--pubs), M responders; round-trip latency and throughput
  js-pub      JetStream publish; async with --window outstanding acks, or --sync
  js-consume  pull consumer(s) with explicit acks over a prefilled stream (or --live)
  js-push     durable push consumer with explicit acks, flow control and 5 s idle heartbeats,
              over a prefilled stream (or --live); exactly one consumer
  kv          key-value put, then get (direct get), over --keys keys

flags:
  --url nats://[user:pass@]host:port   server (default nats://127.0.0.1:4222)
  --responder-url URL   reqrep: the responders connect here instead (a user of the account
                    that exports the service, when the requesters' account imports it)
  --size BYTES      payload size (default 128; accepts 1KiB, 64KiB)
  --count N         messages/requests in total (default 1M; accepts 10k, 2M)
  --duration SEC    time bound: publishing stops at --count or --duration (default 10)
  --pubs N          publishers / requesters        --subs M   subscribers / responders / consumers
  --threads T       client threads; connections are spread round-robin (several per thread)
  --cpus LIST       pin client threads to these cpus, e.g. 0,2-3
  --window W        messages in flight per publisher: publish-to-delivery for Core scenarios
                    (keeps subscribers clear of the slow-consumer limit), outstanding requests
                    for reqrep, outstanding PubAcks for js-pub/kv, max ack pending for
                    js-consume/js-push (and outstanding PubAcks of their --live publishers)
  --rate R          fixed total rate in msgs/s (core scenarios then also report latency
                    corrected for coordinated omission, measured from each message's intended
                    send time); js-consume/js-push --live: the publishers' total rate
  --drain-timeout S after publishing stops, how long deliveries may take before it is loss
  --sync            js-pub/kv: wait for every PubAck (same as --window 1)
  --storage file|memory   JetStream storage (default file)
  --client ringtail-bench|libnats|nats.go   who drives the scenarios: this harness's own
                    client (default); libnats, the official C client, as users' programs do:
                    the core scenarios, js-consume and js-push (js_PullSubscribe + Fetch,
                    js_Subscribe with manual acks, js_PublishAsync; the prefill always uses the
                    harness's own client); nats.go, the official Go client, which most users
                    run: the core scenarios, js-pub (js.Publish with --sync, else
                    js.PublishAsync) and kv (puts as js-pub's on the key's subject, a bucket
                    from js.CreateKeyValue, gets with kv.Get one at a time), one connection per
                    publisher and subscriber, no --rate
  --natsgo PATH     the nats.go driver (default: ringtail-bench-natsgo beside this binary)
  --keys N          kv: distinct keys (default 1000)
  --history N       kv: values kept per key, the bucket's history (default 1)
  --batch N         js-consume: pull batch size (default min(window/2, 512))
  --live            js-consume/js-push: --pubs publishers (default 1) publish --count
                    messages (at --rate, if given) while the consumers consume; reports
                    publish-to-delivery latency from each message's send time (its stamp) and
                    from the arrival of its PubAck
  --json            one JSON object per run on stdout instead of the table
  --progress / --no-progress   live progress line on stderr (default: when it is a terminal)

compare flags (plus any flag above, applied to every run):
  --scenarios LIST  default pub,pubsub,fanout,queue,reqrep; JetStream ones: js-pub,
                    js-consume, js-push, kv (server CPU for js-consume/js-push: the consume
                    phase only, without the prefill)
  --sizes LIST      payload sizes, each scenario runs at each (default 16,128,1024)
  --rounds K        A B alternations per case (default 3)
  --ringtail PATH   (default build/release/core/ringtail)   --nats-server PATH (default: PATH)
  --ringtail-version TEXT  how that binary was built, for the report (default: git describe)
  --server-cpus LIST  pin both servers to these cpus       --server-args "ARGS" for both
  --out DIR         report.md, results.json, rate_vs_size.svg (default build/bench-report)

Every run checks what it received (counts, per-publisher order, no duplicates) and fails on
loss, duplicates, -ERR or a disconnect (a slow consumer) instead of printing a lower number.
Exit status: 0 passed, 1 failed, 2 usage error, 3 skipped (JetStream not available).
)";
}

}  // namespace ringtail::bench
