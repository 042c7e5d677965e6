#include "bench/harness/report.h"

#include <sys/utsname.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <thread>

namespace ringtail::bench {

namespace {

std::string read_first_match(const char* path, const std::string& key) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) != 0) continue;
        size_t colon = line.find_first_of(":=");
        if (colon == std::string::npos) continue;
        std::string value = line.substr(colon + 1);
        while (!value.empty() &&
               (value.front() == ' ' || value.front() == '\t' || value.front() == '"')) {
            value.erase(0, 1);
        }
        while (!value.empty() && value.back() == '"') value.pop_back();
        return value;
    }
    return "";
}

std::string printf_string(const char* format, double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, value);
    return buffer;
}

std::string pad(std::string text, size_t width, bool left = false) {
    if (text.size() >= width) return text;
    std::string spaces(width - text.size(), ' ');
    return left ? text + spaces : spaces + text;
}

const char* status_name(RunStatus status) {
    switch (status) {
        case RunStatus::kOk:
            return "ok";
        case RunStatus::kFailed:
            return "failed";
        case RunStatus::kSkipped:
            return "skipped";
    }
    return "?";
}

std::string run_line(const Options& o) {
    std::string line = "size " + with_commas(o.size_bytes) + " B, count " + with_commas(o.count) +
                       ", duration limit " + printf_string("%g", o.duration_s) + " s, ";
    const std::string& s = o.scenario;
    if (s == "reqrep") {
        line +=
            std::to_string(o.pubs) + " requester(s), " + std::to_string(o.subs) + " responder(s)";
    } else if (s == "js-consume") {
        line += std::to_string(o.subs) + " pull consumer(s), batch " + std::to_string(o.batch);
    } else if (s == "js-push") {
        line += "1 push consumer (flow control, 5 s idle heartbeat)";
    } else {
        line +=
            std::to_string(o.pubs) + " publisher(s), " + std::to_string(o.subs) + " subscriber(s)";
    }
    if (const std::string client = client_description(o); !client.empty()) {
        line += ", " + client;
    } else {
        line += ", " + std::to_string(o.threads) + " client thread(s)";
    }
    if (!o.cpus.empty()) {
        line += " pinned to";
        for (int cpu : o.cpus) line += " " + std::to_string(cpu);
    }
    line += ", window " +
            (o.window == 0 ? std::string("none") : with_commas(static_cast<uint64_t>(o.window)));
    line += ", rate " + (o.rate > 0 ? with_commas(static_cast<uint64_t>(o.rate)) + " msgs/s"
                                    : std::string("unlimited"));
    if (is_jetstream_scenario(s)) line += ", storage " + o.storage;
    if (o.live) {
        line += ", live: " + std::to_string(o.pubs) + " publisher(s) beside the consumers";
    } else if (is_consume_scenario(s)) {
        line += ", prefilled stream";
    }
    return line;
}

}  // namespace

std::string client_description(const Options& o) {
    if (o.client == "libnats") return "libnats client (one connection each, libnats's own threads)";
    if (o.client == "nats.go") return "nats.go client (one connection each)";
    return "";
}

std::string with_commas(uint64_t value) {
    std::string digits = std::to_string(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) {
        digits.insert(static_cast<size_t>(i), ",");
    }
    return digits;
}

std::string format_us(uint64_t ns) {
    const double us = static_cast<double>(ns) / 1000.0;
    if (us < 10) return printf_string("%.2f", us);
    if (us < 100) return printf_string("%.1f", us);
    return with_commas(static_cast<uint64_t>(std::llround(us)));
}

std::string machine_description() {
    const unsigned cpus = std::thread::hardware_concurrency();
    std::string model = read_first_match("/proc/cpuinfo", "model name");
    utsname names{};
    uname(&names);
    std::string os = read_first_match("/etc/os-release", "PRETTY_NAME");
    std::string text = std::to_string(cpus) + " cpus";
    if (!model.empty()) text += " (" + model + ")";
    text += ", " + std::string(names.sysname) + " " + names.release;
    if (!os.empty()) text += ", " + os;
    return text;
}

std::string format_table(const RunResult& r) {
    std::string out;
    out += "ringtail-bench " + r.options.scenario + " against " +
           (r.server.name.empty() ? std::string("?") : r.server.name) + " at " +
           (r.server.url.empty() ? r.options.url : r.server.url) + "\n";
    out += "machine: " + machine_description() + "\n";
    out += "run: " + run_line(r.options) + "\n";
    if (r.status == RunStatus::kSkipped) {
        out += "\nSKIPPED: " + r.message + "\n";
        return out;
    }
    if (!r.rates.empty()) {
        out += "\n  " + pad("rate", 12, true) + pad("msgs", 14) + pad("time", 11) +
               pad("msgs/s", 14) + pad("MiB/s payload", 15) + "\n";
        for (const Throughput& rate : r.rates) {
            out += "  " + pad(rate.label, 12, true) + pad(with_commas(rate.msgs), 14) +
                   pad(printf_string("%.3f s", rate.seconds), 11) +
                   pad(with_commas(static_cast<uint64_t>(std::llround(rate.msgs_per_s()))), 14) +
                   pad(printf_string("%.1f", rate.payload_mib_per_s()), 15) + "\n";
        }
    }
    if (!r.latencies.empty()) {
        out += "\n  " + pad("latency (us)", 52, true);
        for (const char* name : kQuantileNames) out += pad(name, 9);
        out += pad("samples", 12) + "\n";
        for (const LatencyStat& latency : r.latencies) {
            out += "  " + pad(latency.label, 52, true);
            for (double q : kQuantiles) out += pad(format_us(latency.histogram.quantile(q)), 9);
            out += pad(with_commas(latency.histogram.count()), 12) + "\n";
        }
    }
    out += "\n";
    if (r.status == RunStatus::kFailed) {
        out += "FAILED: " + r.message + "\n";
        out += "  sent " + with_commas(r.sent) + ", expected " + with_commas(r.expected) +
               " deliveries, received " + with_commas(r.received) + "\n";
        return out;
    }
    if (r.client_cpu_s >= 0) {
        out += "client CPU: " + printf_string("%.2f s, ", r.client_cpu_s) +
               printf_string("%.2f us per message\n", r.client_cpu_us_per_msg());
    }
    out += "checks passed:";
    for (size_t i = 0; i < r.checks.size(); ++i) out += (i == 0 ? " " : "; ") + r.checks[i];
    out += "\n";
    for (const std::string& note : r.notes) out += "note: " + note + "\n";
    return out;
}

nlohmann::json to_json(const RunResult& r) {
    const Options& o = r.options;
    nlohmann::json json;
    json["scenario"] = o.scenario;
    json["status"] = status_name(r.status);
    json["message"] = r.message;
    json["server"] = {
        {"url", r.server.url}, {"name", r.server.name}, {"jetstream", r.server.jetstream}};
    json["machine"] = machine_description();
    json["options"] = {{"size_bytes", o.size_bytes},
                       {"count", o.count},
                       {"duration_s", o.duration_s},
                       {"pubs", o.pubs},
                       {"subs", o.subs},
                       {"threads", o.threads},
                       {"cpus", o.cpus},
                       {"window", o.window},
                       {"rate", o.rate},
                       {"storage", o.storage},
                       {"js_sync", o.js_sync},
                       {"keys", o.keys},
                       {"history", o.history},
                       {"batch", o.batch},
                       {"client", o.client},
                       {"live", o.live}};
    json["sent"] = r.sent;
    json["expected"] = r.expected;
    json["received"] = r.received;
    json["elapsed_s"] = r.elapsed_s;
    if (r.server_cpu_s >= 0) {
        json["server_cpu_s"] = r.server_cpu_s;
        json["server_cpu_us_per_msg"] = r.server_cpu_us_per_msg();
    }
    if (r.client_cpu_s >= 0) {
        json["client_cpu_s"] = r.client_cpu_s;
        json["client_cpu_us_per_msg"] = r.client_cpu_us_per_msg();
    }
    json["rates"] = nlohmann::json::array();
    for (const Throughput& rate : r.rates) {
        json["rates"].push_back({{"label", rate.label},
                                 {"msgs", rate.msgs},
                                 {"seconds", rate.seconds},
                                 {"msgs_per_s", rate.msgs_per_s()},
                                 {"payload_mib_per_s", rate.payload_mib_per_s()},
                                 {"headline", rate.headline}});
    }
    json["latency_us"] = nlohmann::json::array();
    for (const LatencyStat& latency : r.latencies) {
        nlohmann::json item = {{"label", latency.label},
                               {"samples", latency.histogram.count()},
                               {"mean", latency.histogram.mean() / 1000.0}};
        for (size_t i = 0; i < std::size(kQuantiles); ++i) {
            item[kQuantileNames[i]] =
                static_cast<double>(latency.histogram.quantile(kQuantiles[i])) / 1000.0;
        }
        json["latency_us"].push_back(item);
    }
    json["checks"] = r.checks;
    json["notes"] = r.notes;
    return json;
}

}  // namespace ringtail::bench
