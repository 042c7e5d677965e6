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
// RT_TAIL_MIB (unwritten and in-flight bytes held in memory, 32).
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "io/direct_disk.h"
#include "store/stream_log.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Bytes written so far to the block device holding `dir` (its /sys/dev/block stat), or -1.
int64_t device_written_bytes(const std::string& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return -1;
    std::ifstream in("/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)) +
                     "/stat");
    int64_t field = 0;
    for (int i = 0; i < 7 && in >> field; ++i) {
    }
    return in ? field * 512 : -1;  // field 7: sectors written
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: ringtail-store-bench DIR [RECORD_BYTES] [TOTAL_MIB]\n");
        return 2;
    }
    std::string dir = argv[1];
    size_t record_payload = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
    uint64_t total_bytes = (argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 256) << 20;
    uint64_t count = total_bytes / record_payload;
    std::filesystem::remove_all(dir);

    ringtail::io::DirectDisk disk;
    if (std::string error = disk.init(); !error.empty()) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    ringtail::store::StreamLogOptions options;
    options.dir = dir;
    auto mib_env = [](const char* name, size_t fallback) {
        const char* value = std::getenv(name);
        return (value ? std::strtoull(value, nullptr, 10) : fallback) << 20;
    };
    options.segment_bytes = mib_env("RT_SEGMENT_MIB", 256);
    options.flush_bytes_max = mib_env("RT_FLUSH_MIB", 8);
    options.tail_bytes_max = mib_env("RT_TAIL_MIB", 32);
    std::string payload(record_payload, 'p');
    uint64_t writes = 0;
    uint64_t rolls_without_spare_seen = 0;
    int64_t device_bytes = -1;

    auto start = Clock::now();
    {
        auto log = ringtail::store::StreamLog::open(disk, options, nullptr);
        if (!log) return 1;
        // Segment creation (preallocation + zero fill) is not what this measures: the first
        // segment and the first spare exist before the clock starts; later ones are counted.
        while (!(*log)->spare_ready()) {
            disk.poll(/*wait=*/false);
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        int64_t device_bytes_before = device_written_bytes(dir);
        start = Clock::now();
        uint64_t appended = 0;
        // A turn appends at most about one write's worth, as a server's loop turn takes what its
        // sockets hold, and then flushes; it waits for a completion only when the log is full.
        // (Appending until full before each flush left the device idle while the whole tail
        // refilled.)
        size_t turn_records_max = std::max<size_t>(1, options.flush_bytes_max / (record_payload + 64));
        while ((*log)->durable_seq() < count) {
            bool full = appended == count;
            for (size_t turn_records = 0; appended < count && turn_records < turn_records_max; ++turn_records) {
                auto seq = (*log)->append("bench.store", "", payload, 0);
                if (!seq) {
                    full = seq.error() == ringtail::Errc::kBusy;
                    if (full) break;
                    std::fprintf(stderr, "append: %s\n", std::string(ringtail::errc_text(seq.error())).c_str());
                    return 1;
                }
                ++appended;
            }
            (*log)->flush();
            writes += disk.poll(/*wait=*/full);
            if ((*log)->sticky_error() != ringtail::Errc::kOk) return 1;
        }
        int64_t device_bytes_after = device_written_bytes(dir);
        if (device_bytes_before >= 0 && device_bytes_after >= 0) device_bytes = device_bytes_after - device_bytes_before;
        rolls_without_spare_seen = (*log)->rolls_without_spare();
    }
    double append_s = seconds_since(start);
    uint64_t rolls_without_spare = rolls_without_spare_seen;

    ringtail::store::RecoveryReport report;
    start = Clock::now();
    auto log = ringtail::store::StreamLog::open(disk, options, &report);
    double recover_s = seconds_since(start);
    if (!log || (*log)->last_seq() != count) return 1;
    uint64_t log_bytes = (*log)->bytes();

    start = Clock::now();
    uint64_t read_bytes = 0;
    for (uint64_t seq = 1; seq <= count; ++seq) {
        auto record = (*log)->load(seq);
        if (!record) return 1;
        read_bytes += record->payload.size();
    }
    double read_s = seconds_since(start);

    double mib = static_cast<double>(count * record_payload) / (1 << 20);
    std::printf(
        "{\"record_payload_bytes\":%zu,\"records\":%llu,\"payload_mib\":%.0f,\"append_s\":%.3f,"
        "\"durable_records_per_s\":%.0f,\"durable_payload_mib_per_s\":%.1f,\"writes\":%llu,"
        "\"avg_write_kib\":%.0f,\"read_payload_mib_per_s\":%.0f,\"recovery_s\":%.3f,"
        "\"recovery_s_per_gib\":%.2f,\"rolls_without_spare\":%llu,\"device_written_mib\":%.0f}\n",
        record_payload, static_cast<unsigned long long>(count), mib, append_s,
        static_cast<double>(count) / append_s, mib / append_s, static_cast<unsigned long long>(writes),
        static_cast<double>(log_bytes) / 1024.0 / static_cast<double>(writes ? writes : 1),
        static_cast<double>(read_bytes) / (1 << 20) / read_s, recover_s,
        recover_s / (static_cast<double>(log_bytes) / (1 << 30)), static_cast<unsigned long long>(rolls_without_spare),
        device_bytes < 0 ? -1.0 : static_cast<double>(device_bytes) / (1 << 20));
    log->reset();
    std::filesystem::remove_all(dir);
    return 0;
}
