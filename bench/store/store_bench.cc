// ringtail-store-bench: the segment store on a real directory.
//
//   ringtail-store-bench DIR [RECORD_BYTES] [TOTAL_MIB]
//
// Durable append: records of RECORD_BYTES payload are appended as fast as the log takes them,
// a loop turn appending at most one write's worth and then flushing (group commit); the clock
// stops when the last record is durable (RWF_DSYNC write completed). Then every record is read
// back (checksums verified) and the log is reopened (recovery scan) and timed. Prints one line
// of JSON, including what the device wrote meanwhile (records, and the zero-fill of segments
// prepared during the run).
//
// Knobs, in MiB: RT_SEGMENT_MIB (segment size, 256; a segment at least as large as the run
// means no segment is prepared while the clock runs), RT_FLUSH_MIB (largest write, 8),
// RT_TAIL_MIB (unwritten and in-flight bytes held in memory, 32), RT_WARMUP_MIB (payload appended
// and made durable before the clock starts, 0: the tail ring grows to what the rate needs, which
// on the bench VM costs tens of ms of page faults once per stream), RT_MAX_MIB (a max_bytes
// limit, 0: none; at it every append drops the oldest message); RT_MAX_AGE_MS (max_age, with
// expire() called every loop turn). RT_KEEP=1 stops after the append and leaves the log in DIR
// (tools/restart_time.py restarts a server on it). RT_APPEND_ONLY=1 stops after
// the append (for profiling it alone). device_busy_pct is the share of the append time the device
// had a request in flight (io_ticks, what fio reports as util; fio's own 8 MiB dsync writes show
// 70-90 on the bench VM, where flushes are not counted).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "base/clock.h"
#include "io/direct_disk.h"
#include "store/stream_log.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kSubject = "bench.store";

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The block device holding `dir`, from its /sys/dev/block stat: sectors written so far (field
// 7) and milliseconds it had requests in flight (field 10, io_ticks); -1 where unknown.
struct DeviceStat {
    int64_t written_bytes = -1;
    int64_t busy_ms = -1;
};

DeviceStat device_stat(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return {};
    std::ifstream in("/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)) +
                     "/stat");
    int64_t fields[10] = {};
    for (int64_t& field : fields) in >> field;
    if (!in) return {};
    return {fields[6] * 512, fields[9]};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: ringtail-store-bench DIR [RECORD_BYTES] [TOTAL_MIB]\n");
        return 2;
    }
    std::string dir = argv[1];
    size_t record_payload = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
    auto mib_env = [](const char* name, size_t fallback) {
        const char* value = std::getenv(name);
        return (value ? std::strtoull(value, nullptr, 10) : fallback) << 20;
    };
    uint64_t total_bytes = (argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 256) << 20;
    uint64_t count = total_bytes / record_payload;
    uint64_t warmup_count = (mib_env("RT_WARMUP_MIB", 0)) / record_payload;
    std::filesystem::remove_all(dir);

    ringtail::io::StandaloneDisk standalone;
    if (auto ok = standalone.init(); !ok) {
        std::fprintf(stderr, "%s\n", ok.error().text.c_str());
        return 1;
    }
    ringtail::io::DirectDisk& disk = standalone.disk();
    ringtail::store::StreamLogOptions options;
    options.dir = dir;
    options.segment_bytes = mib_env("RT_SEGMENT_MIB", 256);
    options.flush_bytes_max = mib_env("RT_FLUSH_MIB", 8);
    options.tail_bytes_max = mib_env("RT_TAIL_MIB", 32);
    if (uint64_t max_bytes = mib_env("RT_MAX_MIB", 0); max_bytes != 0) {
        options.limits.max_bytes = static_cast<int64_t>(max_bytes);
    }
    const char* max_age_ms = std::getenv("RT_MAX_AGE_MS");
    options.limits.max_age_ns = max_age_ms != nullptr ? std::strtoll(max_age_ms, nullptr, 10) * 1'000'000 : 0;
    std::string payload(record_payload, 'p');
    uint64_t writes = 0;
    uint64_t rolls_without_spare = 0;
    uint64_t log_bytes = 0;
    uint64_t written_bytes = 0;  // of records appended while the clock ran
    double append_s = 0;
    DeviceStat device_before, device_after;

    auto start = Clock::now();
    {
        auto log = ringtail::store::StreamLog::open(disk, options, nullptr);
        if (!log) return 1;
        // Segment creation (preallocation + zero fill) is not what this measures: the first
        // segment and the first spare exist before the clock starts; later ones are counted.
        while (!(*log)->spare_ready()) {
            standalone.poll(/*wait=*/false);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        // A turn appends at most about one write's worth, as a server's loop turn takes what its
        // sockets hold, and then flushes; it waits for a completion only when the log is full.
        // (Appending until full before each flush left the device idle while the whole tail
        // refilled.) Returns once the last record is durable.
        size_t turn_records_max = std::max<size_t>(1, options.flush_bytes_max / (record_payload + 64));
        auto append_durably = [&](uint64_t records) {
            uint64_t last = (*log)->last_seq() + records;
            while ((*log)->durable_seq() < last) {
                bool full = (*log)->last_seq() == last;
                for (size_t turn_records = 0; (*log)->last_seq() < last && turn_records < turn_records_max;
                     ++turn_records) {
                    auto seq = (*log)->append(kSubject, "", payload, ringtail::base::wall_clock_ns());
                    if (!seq) {
                        full = seq.error() == ringtail::Errc::kBusy;
                        if (full) break;
                        std::fprintf(stderr, "append: %s\n", std::string(ringtail::errc_text(seq.error())).c_str());
                        return false;
                    }
                }
                if (options.limits.max_age_ns != 0) (*log)->expire(ringtail::base::wall_clock_ns());
                (*log)->flush();
                writes += standalone.poll(/*wait=*/full);
                if ((*log)->sticky_error() != ringtail::Errc::kOk) return false;
            }
            return true;
        };
        if (!append_durably(warmup_count)) return 1;
        writes = 0;
        device_before = device_stat(dir);
        start = Clock::now();
        if (!append_durably(count)) return 1;
        append_s = seconds_since(start);
        written_bytes = count * ringtail::store::record_bytes(std::strlen(kSubject), 0, record_payload);
        device_after = device_stat(dir);
        rolls_without_spare = (*log)->rolls_without_spare();
        log_bytes = (*log)->bytes();
    }
    double mib = static_cast<double>(count * record_payload) / (1 << 20);
    std::printf(
        "{\"record_payload_bytes\":%zu,\"records\":%llu,\"payload_mib\":%.0f,\"append_s\":%.3f,"
        "\"durable_records_per_s\":%.0f,\"durable_payload_mib_per_s\":%.1f,\"writes\":%llu,"
        "\"avg_write_kib\":%.0f,\"rolls_without_spare\":%llu,\"device_written_mib\":%.0f,\"device_busy_pct\":%.0f",
        record_payload, static_cast<unsigned long long>(count), mib, append_s,
        static_cast<double>(count) / append_s, mib / append_s, static_cast<unsigned long long>(writes),
        static_cast<double>(written_bytes) / 1024.0 / static_cast<double>(writes ? writes : 1),
        static_cast<unsigned long long>(rolls_without_spare),
        device_before.written_bytes < 0
            ? -1.0
            : static_cast<double>(device_after.written_bytes - device_before.written_bytes) / (1 << 20),
        device_before.busy_ms < 0 ? -1.0
                                  : static_cast<double>(device_after.busy_ms - device_before.busy_ms) / 10.0 / append_s);
    if (std::getenv("RT_KEEP") != nullptr) {  // the log stays, for a server to restart on
        std::printf("}\n");
        return 0;
    }
    if (std::getenv("RT_APPEND_ONLY") != nullptr) {
        std::printf("}\n");
        std::filesystem::remove_all(dir);
        return 0;
    }

    ringtail::store::RecoveryReport report;
    start = Clock::now();
    auto log = ringtail::store::StreamLog::open(disk, options, &report);
    double recover_s = seconds_since(start);
    if (!log || (*log)->last_seq() != warmup_count + count) return 1;

    start = Clock::now();
    uint64_t read_bytes = 0;
    for (uint64_t seq = (*log)->first_seq(); seq <= warmup_count + count; ++seq) {  // limits drop the front
        auto record = (*log)->load(seq);
        if (!record) return 1;
        read_bytes += record->payload.size();
    }
    double read_s = seconds_since(start);
    std::printf(",\"read_payload_mib_per_s\":%.0f,\"recovery_s\":%.3f,\"recovery_s_per_gib\":%.2f}\n",
                static_cast<double>(read_bytes) / (1 << 20) / read_s, recover_s,
                recover_s / (static_cast<double>(log_bytes) / (1 << 30)));
    log->reset();
    std::filesystem::remove_all(dir);
    return 0;
}
