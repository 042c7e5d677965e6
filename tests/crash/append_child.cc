// store_append_child DIR: appends records to the stream log in DIR forever, flushing every
// turn, and prints "ACK <seq>\n" on stdout each time the durable sequence advances. The
// crash test SIGKILLs it at random moments. Record seq's payload is payload_for(seq).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "io/direct_disk.h"
#include "store/stream_log.h"
#include "tests/crash/payload.h"

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    ringtail::io::StandaloneDisk standalone;
    if (auto ok = standalone.init(); !ok) {
        std::fprintf(stderr, "%s\n", ok.error().text.c_str());
        return 1;
    }
    ringtail::io::DirectDisk& disk = standalone.disk();
    ringtail::store::StreamLogOptions options;
    options.dir = argv[1];
    options.segment_bytes = 1 << 20;  // small, so crashes land around segment rolls too
    options.flush_bytes_max = 64 << 10;
    options.tail_bytes_max = 256 << 10;
    ringtail::store::RecoveryReport report;
    auto log = ringtail::store::StreamLog::open(disk, options, &report);
    if (!log) {
        std::fprintf(stderr, "open: %s %s\n", std::string(ringtail::errc_text(log.error())).c_str(),
                     report.detail.c_str());
        return 1;
    }
    (*log)->set_durable_callback([](uint64_t seq) {
        char line[32];
        int n = std::snprintf(line, sizeof line, "ACK %llu\n", static_cast<unsigned long long>(seq));
        if (::write(1, line, static_cast<size_t>(n)) != n) _exit(3);
    });
    while (true) {
        for (int i = 0; i < 16; ++i) {
            uint64_t seq = (*log)->last_seq() + 1;
            auto appended = (*log)->append("crash.test", "", ringtail::test::payload_for(seq), 0);
            if (!appended && appended.error() == ringtail::Errc::kBusy) break;
            if (!appended) return 4;
        }
        (*log)->flush();
        standalone.poll(/*wait=*/true);
    }
}
