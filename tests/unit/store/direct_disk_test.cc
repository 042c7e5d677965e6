// The store on io/DirectDisk: real files, O_DIRECT + RWF_DSYNC through io_uring, writes from
// the tail ring registered as a fixed buffer.
#include "io/direct_disk.h"

#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/mirror_ring.h"
#include "store/stream_log.h"
#include "tests/support/files.h"

namespace ringtail::store {
namespace {

class DirectDiskTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("rt-direct-disk-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir_);
        ASSERT_TRUE(standalone_.init());
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
    io::StandaloneDisk standalone_;
    io::DirectDisk& disk_ = standalone_.disk();
};

TEST(MirrorRing, ASpanPastTheEndContinuesAtTheStart) {
    auto ring = MirrorRing::create(64 * 1024);
    ASSERT_TRUE(ring);
    std::byte* end = ring->at(64 * 1024 - 3);
    for (int i = 0; i < 6; ++i) end[i] = std::byte{static_cast<unsigned char>(i + 1)};
    EXPECT_EQ(ring->at(0), ring->at(64 * 1024));
    EXPECT_EQ(*ring->at(0), std::byte{4});
    EXPECT_EQ(*ring->at(2), std::byte{6});
    EXPECT_EQ(ring->mappings().size(), 128u * 1024);
}

// Many laps of a small ring, with writes that start before its end and finish after it: what
// reaches the file is what was appended, read back after a reopen (through the mapping).
TEST_F(DirectDiskTest, WritesFromTheTailRingAcrossItsEndLandIntact) {
    StreamLogOptions options;
    options.dir = dir_.string();
    options.segment_bytes = 4 << 20;
    options.flush_bytes_max = 24 * 1024;
    options.tail_bytes_max = 128 * 1024;
    std::mt19937_64 random(7);
    std::vector<std::string> payloads;
    {
        auto log = std::move(*StreamLog::open(disk_, options, nullptr));
        while (payloads.size() < 4000) {
            std::string payload(1 + random() % 1500, static_cast<char>('a' + payloads.size() % 26));
            auto seq = log->append("ring.test", "", payload, 0);
            if (seq) payloads.push_back(payload);
            if (!seq || random() % 8 == 0) {
                ASSERT_TRUE(seq || seq.error() == Errc::kBusy);
                log->flush();
                standalone_.poll(/*wait=*/!seq);
            }
        }
        log->flush();
        for (int i = 0; i < 10000 && log->durable_seq() < payloads.size(); ++i) {
            standalone_.poll(/*wait=*/true);
            log->flush();
        }
        ASSERT_EQ(log->durable_seq(), payloads.size());
        ASSERT_EQ(log->sticky_error(), Errc::kOk);
    }
    RecoveryReport report;
    auto log = StreamLog::open(disk_, options, &report);
    ASSERT_TRUE(log) << report.detail;
    EXPECT_EQ(report.truncated_bytes, 0u) << report.detail;
    ASSERT_EQ((*log)->last_seq(), payloads.size());
    for (uint64_t seq = 1; seq <= payloads.size(); ++seq) {
        auto record = (*log)->load(seq);
        ASSERT_TRUE(record) << seq;
        ASSERT_EQ(record->payload, payloads[seq - 1]) << seq;
    }
}

// A write the store queues from a completion (appends that waited for a free slot) reaches the
// device at once: the loop turn that ran the completion submits it, not the owner's next turn.
// With a sync interval, writes complete without waiting for stable storage and the files
// written get an fdatasync each interval; a file idle since its last flush gets none, and one
// written since is flushed when it closes.
TEST_F(DirectDiskTest, ASyncIntervalFlushesWrittenFilesEachInterval) {
    disk_.set_sync_interval(std::chrono::milliseconds(20));
    StreamLogOptions options;
    options.dir = dir_.string();
    options.segment_bytes = 1 << 20;
    auto log = std::move(*StreamLog::open(disk_, options, nullptr));
    const uint64_t syncs_at_open = disk_.syncs();
    ASSERT_TRUE(log->append("sync.test", "", "written-without-dsync", 0));
    log->flush();
    while (log->durable_seq() < 1) standalone_.poll(/*wait=*/true);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (disk_.syncs() == syncs_at_open && std::chrono::steady_clock::now() < deadline) {
        standalone_.poll(/*wait=*/true);
    }
    EXPECT_EQ(disk_.syncs(), syncs_at_open + 1);  // the segment, once
    EXPECT_EQ(disk_.sync_failures(), 0u);
    for (int i = 0; i < 5; ++i) {  // nothing written since: no more flushes
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
        standalone_.poll(/*wait=*/false);
    }
    EXPECT_EQ(disk_.syncs(), syncs_at_open + 1);
    ASSERT_TRUE(log->append("sync.test", "", "flushed-at-close", 0));
    log->flush();
    while (log->durable_seq() < 2) standalone_.poll(/*wait=*/true);
    disk_.set_sync_interval(std::chrono::hours(1));  // only the close can flush it now
    log.reset();
    EXPECT_EQ(disk_.syncs(), syncs_at_open + 2);
    EXPECT_TRUE(test::files_hold(dir_, "flushed-at-close"));
}

// Under a sync interval a small write is copied into the page cache by flush() itself, and
// its completion comes with the next reap; a large one goes through io_uring as before. Both
// read back after a reopen.
TEST_F(DirectDiskTest, UnderASyncIntervalASmallWriteIsCopiedAtOnceAndALargeOneQueued) {
    disk_.set_sync_interval(std::chrono::hours(1));
    StreamLogOptions options;
    options.dir = dir_.string();
    options.segment_bytes = 4 << 20;
    const std::string large = std::string(200 * 1024, 'x') + "queued-for-the-ring";
    {
        auto log = std::move(*StreamLog::open(disk_, options, nullptr));
        ASSERT_TRUE(log->append("small.test", "", "copied-by-the-loop", 0));
        log->flush();
        EXPECT_TRUE(test::files_hold(dir_, "copied-by-the-loop"));  // no poll yet
        EXPECT_EQ(log->durable_seq(), 0u);
        while (log->durable_seq() < 1) standalone_.poll(/*wait=*/true);
        ASSERT_TRUE(log->append("large.test", "", large, 0));
        log->flush();
        EXPECT_FALSE(test::files_hold(dir_, "queued-for-the-ring"));  // submitted by the next poll
        while (log->durable_seq() < 2) standalone_.poll(/*wait=*/true);
        EXPECT_EQ(log->sticky_error(), Errc::kOk);
    }
    auto log = StreamLog::open(disk_, options, nullptr);
    ASSERT_TRUE(log);
    ASSERT_EQ((*log)->last_seq(), 2u);
    EXPECT_EQ((*log)->load(1)->payload, "copied-by-the-loop");
    EXPECT_EQ((*log)->load(2)->payload, large);
}

TEST_F(DirectDiskTest, AWriteQueuedByACompletionIsSubmittedByThatTurn) {
    StreamLogOptions options;
    options.dir = dir_.string();
    options.segment_bytes = 1 << 20;
    options.writes_in_flight_max = 1;
    auto log = std::move(*StreamLog::open(disk_, options, nullptr));
    ASSERT_TRUE(log->append("slot.test", "", "the-first-record", 0));
    log->flush();
    ASSERT_TRUE(log->append("slot.test", "", "the-second-record", 0));
    log->flush();  // the only slot is taken: this one waits for the first write
    while (log->durable_seq() < 1) standalone_.poll(/*wait=*/true);
    bool landed = false;
    for (int i = 0; i < 5000 && !landed; ++i) {
        landed = test::files_hold(dir_, "the-second-record");  // plain reads, no poll
        if (!landed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(landed);
    while (log->durable_seq() < 2) standalone_.poll(/*wait=*/true);
}

TEST_F(DirectDiskTest, RegisteredBuffersAreUsableAndGiveTheirSlotBack) {
    auto ring = MirrorRing::create(64 * 1024);
    ASSERT_TRUE(ring);
    int first = disk_.register_buffer(ring->mappings());
    if (first < 0) GTEST_SKIP() << "io_uring refused a fixed buffer here (RLIMIT_MEMLOCK?)";
    disk_.unregister_buffer(first);
    EXPECT_EQ(disk_.register_buffer(ring->mappings()), first) << "the slot is reused";
}

TEST_F(DirectDiskTest, AnUnreadablePageReadsAsZerosAndIsCountedNotASigbus) {
    ASSERT_TRUE(disk_.make_dir(dir_.string()));
    std::string path = (dir_ / "file").string();
    alignas(kPageBytes) std::byte first[kPageBytes];
    std::memset(first, 0x5a, sizeof first);
    ASSERT_TRUE(disk_.create_file(path, 16 * kPageBytes, {first, kPageBytes}));
    int handle = *disk_.open_file(path);
    auto view = *disk_.map_file(handle);
    EXPECT_EQ(disk_.read_errors(handle), 0u);
    // Cut short under the mapping: reading past the new end is what a media error does (SIGBUS).
    ASSERT_EQ(::truncate(path.c_str(), kPageBytes), 0);
    auto read = [&](size_t at) {
        return static_cast<std::byte>(*static_cast<volatile const std::byte*>(view.data() + at));
    };
    EXPECT_EQ(read(5 * kPageBytes + 7), std::byte{0});
    EXPECT_EQ(read(5 * kPageBytes + 107), std::byte{0});  // the same page: counted once
    EXPECT_EQ(disk_.read_errors(handle), 1u);
    EXPECT_EQ(read(10), std::byte{0x5a});  // what can be read still is
    EXPECT_EQ(read(9 * kPageBytes), std::byte{0});
    EXPECT_EQ(disk_.read_errors(handle), 2u);
    disk_.close_file(handle);
}

// Whether any extent of the file at `path` is allocated but unwritten (it reads as zeros without
// ever having been written); nothing if the file system cannot tell (no FIEMAP).
std::optional<bool> has_unwritten_extents(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    constexpr unsigned kExtents = 64;
    std::vector<std::byte> buffer(sizeof(fiemap) + kExtents * sizeof(fiemap_extent));
    auto* map = reinterpret_cast<fiemap*>(buffer.data());
    map->fm_length = FIEMAP_MAX_OFFSET;
    map->fm_flags = FIEMAP_FLAG_SYNC;
    map->fm_extent_count = kExtents;
    int rc = ::ioctl(fd, FS_IOC_FIEMAP, map);
    ::close(fd);
    if (rc != 0 || map->fm_mapped_extents == 0) return std::nullopt;
    for (unsigned i = 0; i < map->fm_mapped_extents; ++i) {
        if (map->fm_extents[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN) return true;
    }
    return false;
}

// Zeros are written over a new file's allocated space while the writes into its directory are
// small (a later small durable write then commits no extent change), not once they are large
// (the zeros would take the device time the writes need). Either way the file reads as zeros.
// Another directory (another stream) decides by its own writes.
TEST_F(DirectDiskTest, NewFilesAreZeroFilledOnlyWhileWritesAreSmall) {
    ASSERT_TRUE(disk_.make_dir(dir_.string()));
    alignas(kPageBytes) static std::byte first[kPageBytes];
    constexpr uint64_t kFileBytes = 4 << 20;
    ASSERT_TRUE(disk_.make_dir((dir_ / "other").string()));
    auto create = [&](const char* name) {
        std::string path = (dir_ / name).string();
        EXPECT_TRUE(disk_.create_file(path, kFileBytes, {first, kPageBytes}));
        return path;
    };
    std::string quiet = create("quiet");
    auto unwritten = has_unwritten_extents(quiet);
    if (!unwritten) GTEST_SKIP() << "the file system does not report extents (FIEMAP)";
    EXPECT_FALSE(*unwritten) << "no writes yet: zero-filled";

    auto* data = static_cast<std::byte*>(std::aligned_alloc(kPageBytes, 1 << 20));
    std::memset(data, 0x33, 1 << 20);
    int handle = *disk_.open_file(quiet);
    struct Count : DiskWrite {
        int done = 0;
    } count;
    count.DiskWrite::done = [](DiskWrite* self, int32_t) { ++static_cast<Count*>(self)->done; };
    auto write_all = [&](size_t bytes, int times) {
        int target = count.done + times;
        for (int i = 0; i < times; ++i) {
            disk_.write(handle, (static_cast<uint64_t>(i) * bytes) % kFileBytes, {data, bytes}, -1, &count);
            standalone_.poll(/*wait=*/false);
        }
        while (count.done < target) standalone_.poll(/*wait=*/true);
    };
    write_all(1 << 20, 16);
    std::string after_large = create("after-large");
    EXPECT_EQ(has_unwritten_extents(after_large), true) << "large writes: allocated only";
    EXPECT_EQ(has_unwritten_extents(create("other/quiet")), false) << "no writes there: zero-filled";
    write_all(kPageBytes, 64);
    std::string after_small = create("after-small");
    EXPECT_EQ(has_unwritten_extents(after_small), false) << "small writes again: zero-filled";
    disk_.close_file(handle);
    std::free(data);

    int reopened = *disk_.open_file(after_large);
    auto view = *disk_.map_file(reopened);
    EXPECT_EQ(std::count(view.begin() + kPageBytes, view.end(), std::byte{0}),
              static_cast<std::ptrdiff_t>(kFileBytes - kPageBytes));
    disk_.close_file(reopened);
}

}  // namespace
}  // namespace ringtail::store
