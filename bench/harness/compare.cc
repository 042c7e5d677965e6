#include "bench/harness/compare.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "bench/harness/chart.h"
#include "bench/harness/report.h"
#include "bench/harness/runner.h"
#include "bench/harness/server_process.h"

namespace ringtail::bench {

namespace fs = std::filesystem;

namespace {

struct CompareOptions {
    std::vector<std::string> scenarios = {"pub", "pubsub", "fanout", "queue", "reqrep"};
    std::vector<uint64_t> sizes = {16, 128, 1024};
    int rounds = 3;
    std::string ringtail;
    std::string ringtail_version;  // how the binary was built; default: git describe of its tree
    std::string nats_server;
    std::vector<int> server_cpus;
    std::vector<std::string> server_args;
    std::string out_dir = fs::is_directory("build") ? "build/bench-report" : "bench-report";
    Options run;
    std::string command_line;
};

// One side of the comparison: A is nats-server, B is Ringtail.
struct Side {
    std::string label;
    ServerProcess process;
    ServerIdentity identity;
    std::string version_note;    // commit, or how it was built
    std::string jetstream_note;  // the durability mode, or why it is unavailable
};

struct Case {
    std::string scenario;
    uint64_t size_bytes;
};

// The K runs of one case on one side.
struct Cell {
    std::vector<RunResult> runs;
};

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        size_t at = text.find(separator);
        if (at != 0) out.push_back(text.substr(0, at));
        if (at == std::string_view::npos) break;
        text.remove_prefix(at + 1);
    }
    return out;
}

std::string self_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? "." : exe.parent_path().string();
}

std::string default_ringtail() {
    if (access("build/release/core/ringtail", X_OK) == 0) return "build/release/core/ringtail";
    return (fs::path(self_dir()).parent_path() / "core" / "ringtail").string();
}

// `git describe` of the tree the Ringtail binary sits in, when it sits in one.
std::string git_describe(const std::string& executable) {
    const std::string dir = fs::path(executable).parent_path().string();
    const std::string command =
        "git -C '" + (dir.empty() ? "." : dir) + "' describe --always --dirty 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return "";
    char buffer[128] = {};
    std::string out = fgets(buffer, sizeof buffer, pipe) != nullptr ? buffer : "";
    pclose(pipe);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

// An argument as a shell would need it to reproduce the command.
std::string shell_word(std::string_view arg) {
    if (arg.find_first_of(" \t'\"$") == std::string_view::npos && !arg.empty())
        return std::string(arg);
    std::string quoted = "'";
    for (char ch : arg) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return quoted + "'";
}

Expected<CompareOptions> parse_compare(std::span<const std::string_view> args) {
    CompareOptions c;
    c.ringtail = default_ringtail();
    c.nats_server = find_executable("nats-server", "/usr/sbin/nats-server");
    c.command_line = "ringtail-bench compare";
    std::vector<std::string_view> rest;
    bool count_given = false;
    bool duration_given = false;
    for (size_t i = 0; i < args.size(); ++i) {
        c.command_line += " " + shell_word(args[i]);
        const std::string_view flag = args[i];
        auto value = [&]() -> Expected<std::string_view> {
            if (i + 1 >= args.size())
                return std::unexpected("missing value for " + std::string(flag));
            c.command_line += " " + shell_word(args[i + 1]);
            return args[++i];
        };
        if (flag == "--scenarios") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            c.scenarios.clear();
            for (std::string_view name : split(*text, ',')) {
                if (!is_scenario(name))
                    return std::unexpected("unknown scenario " + std::string(name));
                c.scenarios.emplace_back(name);
            }
        } else if (flag == "--sizes") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            c.sizes.clear();
            for (std::string_view item : split(*text, ',')) {
                auto bytes = parse_bytes(item);
                if (!bytes) return std::unexpected(bytes.error());
                c.sizes.push_back(*bytes);
            }
        } else if (flag == "--rounds") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            auto rounds = parse_count(*text);
            if (!rounds || *rounds < 1 || *rounds > 1000)
                return std::unexpected(std::string("bad --rounds"));
            c.rounds = static_cast<int>(*rounds);
        } else if (flag == "--ringtail") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            c.ringtail = std::string(*text);
        } else if (flag == "--ringtail-version") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            c.ringtail_version = std::string(*text);
        } else if (flag == "--nats-server") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            c.nats_server = find_executable(std::string(*text), std::string(*text));
        } else if (flag == "--server-cpus") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            auto cpus = parse_cpu_list(*text);
            if (!cpus) return std::unexpected(cpus.error());
            c.server_cpus = *cpus;
        } else if (flag == "--server-args") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            for (std::string_view arg : split(*text, ' ')) c.server_args.emplace_back(arg);
        } else if (flag == "--out") {
            auto text = value();
            if (!text) return std::unexpected(text.error());
            c.out_dir = std::string(*text);
        } else {
            if (flag == "--count") count_given = true;
            if (flag == "--duration") duration_given = true;
            if (flag == "--url")
                return std::unexpected(
                    std::string("compare starts its own servers; --url does not apply"));
            rest.push_back(flag);
            // Flags with a value: keep the value with its flag.
            if (flag != "--json" && flag != "--progress" && flag != "--no-progress" &&
                flag != "--sync" && flag != "--live" && flag.find('=') == std::string_view::npos &&
                i + 1 < args.size()) {
                rest.push_back(args[++i]);
                c.command_line += " " + shell_word(args[i]);
            }
        }
    }
    auto run = parse_options("pubsub", rest);
    if (!run) return std::unexpected(run.error());
    c.run = *run;
    // Compare runs many short cases: bound each run to ~2 s unless told otherwise.
    if (!count_given) c.run.count = 2'000'000;
    if (!duration_given) c.run.duration_s = 2;
    c.run.progress = 0;
    c.run.json = false;
    return c;
}

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// What a cell shows for one headline label: the median rate, or why there is none.
struct Summary {
    enum class Kind { kRate, kFailed, kSkipped } kind = Kind::kSkipped;
    double rate = 0;
    double spread = 0;  // (max - min) / median
    double cpu_us_per_msg = -1;  // median of the server's CPU per message, -1 if unmeasured
    double client_cpu_us_per_msg = -1;  // the same for the client
    std::string why;
};

Summary summarize(const Cell& cell, const std::string& label) {
    Summary summary;
    std::vector<double> rates;
    std::vector<double> cpus;
    std::vector<double> client_cpus;
    for (const RunResult& run : cell.runs) {
        if (run.status == RunStatus::kFailed) {
            summary.kind = Summary::Kind::kFailed;
            summary.why = run.message;
            return summary;
        }
        if (run.status == RunStatus::kSkipped) {
            summary.why = run.message;
            return summary;
        }
        for (const Throughput& rate : run.rates) {
            if (rate.label == label) rates.push_back(rate.msgs_per_s());
        }
        if (double cpu = run.server_cpu_us_per_msg(); cpu >= 0) cpus.push_back(cpu);
        if (double cpu = run.client_cpu_us_per_msg(); cpu >= 0) client_cpus.push_back(cpu);
    }
    if (!cpus.empty()) summary.cpu_us_per_msg = median(cpus);
    if (!client_cpus.empty()) summary.client_cpu_us_per_msg = median(client_cpus);
    if (rates.empty()) {
        summary.why = "no runs";
        return summary;
    }
    summary.kind = Summary::Kind::kRate;
    summary.rate = median(rates);
    const auto [low, high] = std::minmax_element(rates.begin(), rates.end());
    summary.spread = summary.rate > 0 ? (*high - *low) / summary.rate : 0;
    return summary;
}

std::string cell_text(const Summary& summary) {
    switch (summary.kind) {
        case Summary::Kind::kRate:
            return with_commas(static_cast<uint64_t>(std::llround(summary.rate)));
        case Summary::Kind::kFailed:
            return "FAILED";
        case Summary::Kind::kSkipped:
            return summary.why.starts_with("JetStream not available")
                       ? "n/a (JetStream not available)"
                       : "n/a";
    }
    return "?";
}

// The headline labels of a scenario, from its runs (kv has two: put and get).
std::vector<std::string> headline_labels(const std::string& scenario, const Cell& a,
                                         const Cell& b) {
    std::vector<std::string> labels;
    for (const Cell* cell : {&a, &b}) {
        for (const RunResult& run : cell->runs) {
            for (const Throughput& rate : run.rates) {
                if (rate.headline &&
                    std::find(labels.begin(), labels.end(), rate.label) == labels.end()) {
                    labels.push_back(rate.label);
                }
            }
        }
    }
    if (labels.empty()) labels.push_back(scenario == "kv" ? "put" : "");
    return labels;
}

std::string row_name(const std::string& scenario, const std::string& label, size_t labels) {
    return labels > 1 ? scenario + " " + label : scenario;
}

std::string percent(double fraction) {
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%.0f%%", fraction * 100);
    return buffer;
}

std::string now_text() {
    std::time_t now = std::time(nullptr);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M %Z", std::localtime(&now));
    return buffer;
}

std::string run_description(const CompareOptions& c) {
    const Options& o = c.run;
    char duration[32];
    std::snprintf(duration, sizeof duration, "%g", o.duration_s);
    std::string text =
        "each run: up to " + with_commas(o.count) + " messages or " + duration +
        " s of publishing, whichever comes first; scenario defaults for publishers and "
        "subscribers unless given";
    if (o.pubs >= 0) text += "; --pubs " + std::to_string(o.pubs);
    if (o.subs >= 0) text += "; --subs " + std::to_string(o.subs);
    if (const std::string client = client_description(o); !client.empty()) {
        text += "; " + client;
    } else {
        text += "; client threads: " +
                (o.threads > 0 ? std::to_string(o.threads)
                               : std::string("one per connection up to the cpu count"));
    }
    if (!o.cpus.empty()) {
        text += " pinned to cpus";
        for (int cpu : o.cpus) text += " " + std::to_string(cpu);
    }
    if (o.window >= 0) text += "; --window " + std::to_string(o.window);
    if (o.rate > 0) text += "; --rate " + with_commas(static_cast<uint64_t>(o.rate));
    if (o.batch >= 0) text += "; --batch " + std::to_string(o.batch);
    if (o.live) text += "; --live (JetStream publishing runs beside the consumers)";
    return text;
}

// Everything one compare invocation holds. Not movable: the servers live in it.
struct Comparison {
    CompareOptions c;
    Side a;
    Side b;
    std::vector<Case> cases;
    std::map<std::pair<size_t, int>, Cell> cells;  // (case, side 0 = A / 1 = B)
    std::string temp_dir;
};

// Starts both servers with the same flags; Ringtail without -js if it refuses it.
Status start_servers(Comparison& k) {
    const CompareOptions& c = k.c;
    k.a.label = "nats-server";
    k.b.label = "ringtail";
    ServerProcess::Spec spec_a{"nats-server", c.nats_server,
                               c.server_args, k.temp_dir + "/nats-server",
                               true,          c.server_cpus};
    ServerProcess::Spec spec_b{"ringtail", c.ringtail,   c.server_args, k.temp_dir + "/ringtail",
                               true,       c.server_cpus};
    if (Status status = k.a.process.start(spec_a); !status) return status;
    k.a.jetstream_note =
        "file store in a fresh directory; PubAck before fsync (nats-server 2.9 "
        "default: fsync every 2 min)";
    if (Status status = k.b.process.start(spec_b); !status) {
        spec_b.jetstream = false;
        if (Status retry = k.b.process.start(spec_b); !retry) return retry;
        k.b.jetstream_note =
            "not available: ringtail refused -js, so it runs without (JetStream "
            "scenarios report n/a)";
    } else {
        k.b.jetstream_note = "file store in a fresh directory; PubAck after the write is stable";
    }
    for (Side* side : {&k.a, &k.b}) {
        Options probe = c.run;
        probe.url = side->process.url();
        auto identity = probe_server(probe);
        if (!identity) return std::unexpected(side->label + ": " + identity.error());
        side->identity = *identity;
    }
    if (!c.ringtail_version.empty()) {
        k.b.version_note = c.ringtail_version;
    } else if (const std::string commit = git_describe(c.ringtail); !commit.empty()) {
        k.b.version_note = "commit " + commit;
    }
    return {};
}

// Round after round, every case on A then on B; one line per run on stderr.
void run_rounds(Comparison& k) {
    for (const std::string& scenario : k.c.scenarios) {
        for (uint64_t size : k.c.sizes) k.cases.push_back({scenario, size});
    }
    std::fprintf(stderr, "compare: A = %s at %s, B = %s at %s; %zu cases x %d rounds\n",
                 k.a.identity.name.c_str(), k.a.process.url().c_str(), k.b.identity.name.c_str(),
                 k.b.process.url().c_str(), k.cases.size(), k.c.rounds);
    for (int round = 1; round <= k.c.rounds; ++round) {
        for (size_t i = 0; i < k.cases.size(); ++i) {
            for (int side = 0; side < 2; ++side) {
                Side& s = side == 0 ? k.a : k.b;
                Options o = k.c.run;
                o.scenario = k.cases[i].scenario;
                o.size_bytes = k.cases[i].size_bytes;
                o.url = s.process.url();
                o.server_label = s.label;
                o.server_cpu_seconds = [&s] { return s.process.cpu_seconds(); };
                double cpu_before = s.process.cpu_seconds();
                RunResult result = run_scenario(o);
                double cpu_after = s.process.cpu_seconds();
                // A scenario that measured its own phase (js-consume, js-push) keeps its figure.
                if (result.server_cpu_s < 0 && cpu_before >= 0 && cpu_after >= cpu_before)
                    result.server_cpu_s = cpu_after - cpu_before;
                std::string shown;
                if (result.status == RunStatus::kOk) {
                    const Throughput* headline = result.headline();
                    shown = headline == nullptr ? "ok"
                                                : with_commas(static_cast<uint64_t>(
                                                      std::llround(headline->msgs_per_s()))) +
                                                      " msgs/s";
                    if (double cpu = result.server_cpu_us_per_msg(); cpu >= 0) {
                        char text[48];
                        std::snprintf(text, sizeof text, ", server %.2f us/msg", cpu);
                        shown += text;
                    }
                } else {
                    shown = (result.status == RunStatus::kFailed ? "FAILED: " : "n/a: ") +
                            result.message;
                }
                std::fprintf(stderr, "  round %d/%d  %-10s %7s  %-11s %s\n", round, k.c.rounds,
                             o.scenario.c_str(),
                             size_label(static_cast<double>(o.size_bytes)).c_str(), s.label.c_str(),
                             shown.c_str());
                k.cells[{i, side}].runs.push_back(std::move(result));
            }
        }
    }
}

struct Tables {
    std::string rates;
    std::string latency;
    std::string failures;
    std::vector<ChartPanel> panels;
};

// One rates row per headline label of a case; feeds the chart panel of that row's name.
void add_rate_rows(const Comparison& k, size_t i, Tables& t,
                   std::map<std::string, size_t>& panel_of) {
    const Cell& cell_a = k.cells.at({i, 0});
    const Cell& cell_b = k.cells.at({i, 1});
    const auto size = static_cast<double>(k.cases[i].size_bytes);
    const std::vector<std::string> labels = headline_labels(k.cases[i].scenario, cell_a, cell_b);
    for (const std::string& label : labels) {
        const Summary sa = summarize(cell_a, label);
        const Summary sb = summarize(cell_b, label);
        const std::string name = row_name(k.cases[i].scenario, label, labels.size());
        std::string ratio = "—";
        std::string spread = "—";
        if (sa.kind == Summary::Kind::kRate && sb.kind == Summary::Kind::kRate && sa.rate > 0) {
            char buffer[32];
            std::snprintf(buffer, sizeof buffer, "%.2fx", sb.rate / sa.rate);
            ratio = buffer;
            spread = percent(sa.spread) + " / " + percent(sb.spread);
        }
        // The server's CPU per message beside the rate: what decides when clients and server
        // share cores.
        std::string cpu = "—";
        std::string cpu_ratio = "—";
        if (sa.cpu_us_per_msg >= 0 && sb.cpu_us_per_msg >= 0) {
            char buffer[64];
            std::snprintf(buffer, sizeof buffer, "%.2f / %.2f", sa.cpu_us_per_msg, sb.cpu_us_per_msg);
            cpu = buffer;
            if (sa.cpu_us_per_msg > 0) {
                std::snprintf(buffer, sizeof buffer, "%.2fx", sb.cpu_us_per_msg / sa.cpu_us_per_msg);
                cpu_ratio = buffer;
            }
        }
        // The client's CPU per message, and the ratio B would reach if its server took no CPU
        // at all and the client had every core: where that is below a goal, the client (on
        // cores it shares with the server) is what stands in the way.
        std::string client_cpu = "—";
        std::string ceiling = "—";
        if (sa.client_cpu_us_per_msg >= 0 && sb.client_cpu_us_per_msg >= 0) {
            char buffer[64];
            std::snprintf(buffer, sizeof buffer, "%.2f / %.2f", sa.client_cpu_us_per_msg,
                          sb.client_cpu_us_per_msg);
            client_cpu = buffer;
            if (sb.client_cpu_us_per_msg > 0 && sa.kind == Summary::Kind::kRate && sa.rate > 0) {
                const double cores = std::max(1u, std::thread::hardware_concurrency());
                std::snprintf(buffer, sizeof buffer, "%.2fx",
                              cores * 1e6 / sb.client_cpu_us_per_msg / sa.rate);
                ceiling = buffer;
            }
        }
        t.rates += "| " + name + " | " + size_label(size) + " | " + cell_text(sa) + " | " +
                   cell_text(sb) + " | " + ratio + " | " + spread + " | " + cpu + " | " +
                   cpu_ratio + " | " + client_cpu + " | " + ceiling + " |\n";
        for (const auto& [summary, side] : {std::pair{&sa, &k.a}, std::pair{&sb, &k.b}}) {
            if (summary->kind != Summary::Kind::kFailed) continue;
            t.failures += "- " + name + " " + size_label(size) + " on " + side->label + ": " +
                          summary->why + "\n";
        }
        if (panel_of.find(name) == panel_of.end()) {
            panel_of[name] = t.panels.size();
            t.panels.push_back({name, {{k.a.label, "#4c72b0", {}}, {k.b.label, "#dd8452", {}}}});
        }
        ChartPanel& panel = t.panels[panel_of[name]];
        if (sa.kind == Summary::Kind::kRate) panel.series[0].points.push_back({size, sa.rate});
        if (sb.kind == Summary::Kind::kRate) panel.series[1].points.push_back({size, sb.rate});
    }
}

// The medians of p50 and p99 of each side's first latency figure that is not a saturation
// artefact (closed-loop round trips, PubAck and get latency).
void add_latency_row(const Comparison& k, size_t i, Tables& t) {
    std::string row;
    std::string label;
    for (int side = 0; side < 2; ++side) {
        std::vector<double> p50;
        std::vector<double> p99;
        for (const RunResult& run : k.cells.at({i, side}).runs) {
            if (run.status != RunStatus::kOk) continue;
            for (const LatencyStat& latency : run.latencies) {
                if (latency.label.find("saturation") != std::string::npos) continue;
                label = latency.label;
                p50.push_back(static_cast<double>(latency.histogram.quantile(0.5)));
                p99.push_back(static_cast<double>(latency.histogram.quantile(0.99)));
                break;
            }
        }
        row += p50.empty() ? " n/a |"
                           : " " + format_us(static_cast<uint64_t>(median(p50))) + " / " +
                                 format_us(static_cast<uint64_t>(median(p99))) + " |";
    }
    if (label.empty()) return;
    t.latency += "| " + k.cases[i].scenario + " | " +
                 size_label(static_cast<double>(k.cases[i].size_bytes)) + " | " + label + " |" +
                 row + "\n";
}

Tables build_tables(const Comparison& k) {
    Tables t;
    t.rates =
        "| scenario | size | " + k.a.label + " msgs/s | " + k.b.label +
        " msgs/s | ratio | spread A / B | server CPU us/msg A / B | CPU ratio | client CPU "
        "us/msg A / B | B's ceiling |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    std::map<std::string, size_t> panel_of;
    for (size_t i = 0; i < k.cases.size(); ++i) {
        add_rate_rows(k, i, t, panel_of);
        add_latency_row(k, i, t);
    }
    if (!t.latency.empty()) {
        t.latency =
            "| scenario | size | latency | nats-server p50 / p99 (us) | ringtail p50 / p99 (us) |\n"
            "|---|---:|---|---:|---:|\n" +
            t.latency;
    }
    return t;
}

void write_report(const Comparison& k, const Tables& t) {
    const CompareOptions& c = k.c;
    std::error_code ec;
    fs::create_directories(c.out_dir, ec);
    const std::string b_name =
        k.b.identity.name + (k.b.version_note.empty() ? "" : ", " + k.b.version_note);
    std::ofstream(c.out_dir + "/rate_vs_size.svg")
        << render_rate_chart(t.panels, "Message rate against message size",
                             {"A: " + k.a.identity.name + "  ·  B: " + b_name + "  ·  median of " +
                                  std::to_string(c.rounds) + " rounds",
                              machine_description()});

    std::ostringstream md;
    md << "# ringtail-bench compare\n\n";
    md << "Command: `" << c.command_line << "`  \n";
    md << "Date: " << now_text() << "  \n";
    md << "Machine: " << machine_description() << "\n\n";
    md << "Servers, started by the harness with the same flags on loopback, each with a fresh "
          "store directory:\n\n";
    md << "- A: " << k.a.identity.name << " (`" << k.a.process.command_line()
       << "`). JetStream: " << k.a.jetstream_note << ".\n";
    md << "- B: " << b_name << " (`" << k.b.process.command_line()
       << "`). JetStream: " << k.b.jetstream_note << ".\n\n";
    md << "Runs: " << run_description(c) << ". " << c.rounds
       << " rounds; in each round every case runs on A "
       << "then on B (A B A B ...). Each figure is the median over the rounds; ratio = B / A; "
          "spread = "
       << "(max - min) / median over the rounds.\n\n";
    md << "Rates: pub = PUBs/s until the PONG after the last PUB; pubsub, fanout, queue = "
          "deliveries/s summed "
       << "over subscribers, first publish to last delivery; reqrep = completed requests/s; js-pub "
          "= PubAcks/s; "
       << "js-consume, js-push = consumed (and acked) messages/s; kv = puts/s and gets/s. "
          "Server CPU is per message delivered (per PUB for pub); for js-consume and js-push it "
          "covers the consume phase only, without the prefill (with --live: publishing and "
          "consuming). Client CPU is the harness's process (its own client or libnats) plus the "
          "nats.go driver's, per message likewise (not measured for js-consume and js-push). "
          "B's ceiling: the ratio B would reach if its server took no CPU and the client had "
          "every core, that is the machine's cores over B's client CPU per message, over A's "
          "rate. Every run checks what it "
          "received (counts, "
       << "per-publisher order, exactly-once for queue groups and consumers); a run that loses or "
          "duplicates a "
       << "message, or is disconnected as a slow consumer, is FAILED, never a lower number.\n\n";
    md << t.rates << "\n";
    if (!t.latency.empty()) md << t.latency << "\n";
    if (!t.failures.empty()) md << "Failures:\n\n" << t.failures << "\n";
    md << "![message rate against message size](rate_vs_size.svg)\n";
    std::ofstream(c.out_dir + "/report.md") << md.str();

    nlohmann::json json;
    json["command"] = c.command_line;
    json["machine"] = machine_description();
    json["servers"] = {{{"side", "A"},
                        {"name", k.a.identity.name},
                        {"command", k.a.process.command_line()},
                        {"jetstream", k.a.jetstream_note}},
                       {{"side", "B"},
                        {"name", k.b.identity.name},
                        {"version", k.b.version_note},
                        {"command", k.b.process.command_line()},
                        {"jetstream", k.b.jetstream_note}}};
    json["rounds"] = c.rounds;
    json["runs"] = nlohmann::json::array();
    for (const auto& [key, cell] : k.cells) {
        for (const RunResult& run : cell.runs) {
            nlohmann::json item = to_json(run);
            item["side"] = key.second == 0 ? "A" : "B";
            json["runs"].push_back(std::move(item));
        }
    }
    std::ofstream(c.out_dir + "/results.json") << json.dump(1) << "\n";
}

}  // namespace

int run_compare(std::span<const std::string_view> args) {
    auto parsed = parse_compare(args);
    if (!parsed) {
        std::fprintf(stderr, "ringtail-bench compare: %s\n", parsed.error().c_str());
        return 2;
    }
    Comparison k;
    k.c = std::move(*parsed);
    char temp_template[] = "/tmp/ringtail-bench-compare-XXXXXX";
    if (mkdtemp(temp_template) == nullptr) {
        std::perror("mkdtemp");
        return 2;
    }
    k.temp_dir = temp_template;
    std::error_code ec;
    if (Status status = start_servers(k); !status) {
        std::fprintf(stderr, "ringtail-bench compare: %s\n", status.error().c_str());
        k.a.process.stop();
        k.b.process.stop();
        fs::remove_all(k.temp_dir, ec);
        return 2;
    }
    run_rounds(k);
    k.a.process.stop();
    k.b.process.stop();
    fs::remove_all(k.temp_dir, ec);

    const Tables t = build_tables(k);
    write_report(k, t);
    std::printf("machine: %s\n", machine_description().c_str());
    std::printf("A: %s   B: %s%s\n", k.a.identity.name.c_str(), k.b.identity.name.c_str(),
                k.b.version_note.empty() ? "" : (" (" + k.b.version_note + ")").c_str());
    std::printf("%s; %d rounds, medians\n\n%s\n", run_description(k.c).c_str(), k.c.rounds,
                t.rates.c_str());
    if (!t.latency.empty()) std::printf("%s\n", t.latency.c_str());
    if (!t.failures.empty()) std::printf("Failures:\n%s\n", t.failures.c_str());
    std::printf("report: %s/report.md, %s/rate_vs_size.svg, %s/results.json\n", k.c.out_dir.c_str(),
                k.c.out_dir.c_str(), k.c.out_dir.c_str());
    return t.failures.empty() ? 0 : 1;
}

}  // namespace ringtail::bench
