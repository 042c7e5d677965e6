// Segment recovery on damaged files: a real log image (segments of known messages, the sealed
// ones with their index files) has bytes changed where the input says, then is opened, and
// the records of segments read from their index checked (verify()). Whatever recovery decides, every record
// it serves must be exactly the one that was appended; anything else aborts.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "store/stream_log.h"
#include "tests/support/sim_disk.h"

namespace {

using namespace ringtail;

std::string payload_for(uint64_t seq) { return std::string(50 + (seq * 37) % 700, static_cast<char>('a' + seq % 26)); }

struct Image {
    std::map<std::string, std::vector<std::byte>> files;
    uint64_t last_seq = 0;
};

std::vector<std::byte> file_of(test::SimDisk& disk, const std::string& path) {
    auto handle = *disk.open_file(path);
    auto map = *disk.map_file(handle);
    std::vector<std::byte> bytes(map.begin(), map.end());
    disk.close_file(handle);
    return bytes;
}

const Image& image() {
    static const Image built = [] {
        Image made;
        test::SimDisk disk(1);
        auto log = std::move(*store::StreamLog::open(disk, test::small_log_options("/s"), nullptr));
        disk.complete();
        for (uint64_t seq = 1; seq <= 200; ++seq) {
            auto appended = log->append("fuzz.subject", "", payload_for(seq), static_cast<int64_t>(seq));
            while (!appended) {
                log->flush();
                disk.complete();
                appended = log->append("fuzz.subject", "", payload_for(seq), static_cast<int64_t>(seq));
            }
            if (seq % 17 == 0) (void)log->remove(seq - 3, /*erase=*/false);
        }
        log->flush();
        disk.complete();
        if (!log->checkpoint()) std::abort();
        made.last_seq = log->last_seq();
        log.reset();
        auto names = disk.list_dir("/s");
        for (const std::string& name : *names) made.files["/s/" + name] = file_of(disk, "/s/" + name);
        return made;
    }();
    return built;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const Image& original = image();
    if (size < 2) return 0;
    test::SimDisk disk(2);
    std::vector<std::string> names;
    for (const auto& [path, bytes] : original.files) {
        disk.put_file(path, bytes);
        names.push_back(path);
    }
    // data[0]: which file; data[1]: cut it short, or remove it; then (offset, value) quads.
    const std::string& target = names[data[0] % names.size()];
    std::vector<std::byte> bytes = original.files.at(target);
    if (data[1] == 0xff) {
        (void)disk.remove_file(target);
    } else {
        if (data[1] >= 0xf0) bytes.resize(bytes.size() - std::min<size_t>(bytes.size(), 4096 * (data[1] & 0x0f)));
        for (size_t i = 2; i + 4 <= size && !bytes.empty(); i += 4) {
            size_t offset = (size_t{data[i]} | size_t{data[i + 1]} << 8 | size_t{data[i + 2]} << 16) % bytes.size();
            bytes[offset] ^= static_cast<std::byte>(data[i + 3]);
        }
        disk.put_file(target, bytes);
    }
    store::RecoveryReport report;
    auto log = store::StreamLog::open(disk, test::small_log_options("/s"), &report);
    if (!log) return 0;  // refused: nothing served
    disk.complete();
    while ((*log)->verify(4096, &report)) {
    }
    for (uint64_t seq = 1; seq <= (*log)->last_seq(); ++seq) {
        auto record = (*log)->load(seq);
        if (!record) continue;
        if (seq > original.last_seq || record->payload != payload_for(seq) || record->subject != "fuzz.subject") {
            std::abort();  // a record served with content nobody appended
        }
    }
    // And the log goes on past every sequence it recovered.
    uint64_t before = (*log)->last_seq();
    auto next = (*log)->append("fuzz.subject", "", "after", 0);
    if (next && *next <= before) std::abort();
    return 0;
}
