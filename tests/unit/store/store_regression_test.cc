// Regression tests from the adversarial review of the store: each once failed.
#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "io/direct_disk.h"
#include "store/stream_log.h"
#include "tests/support/sim_disk.h"

namespace ringtail::store {
namespace {

StreamLogOptions big_record_options(std::string dir = "/r") {
    StreamLogOptions o;
    o.dir = dir;
    o.segment_bytes = 64 * 1024;
    o.flush_bytes_max = 64 * 1024;
    o.tail_bytes_max = 128 * 1024;
    return o;
}

// record_bytes("s", "", p) == 61400 for p == 61351: leaves 40 bytes in a 64 KiB segment.
TEST(StoreRegression, RollWithoutANewMessageReusesTheSegmentNameSim) {
    test::SimDisk disk(1);
    auto log = std::move(*StreamLog::open(disk, big_record_options(), nullptr));
    disk.complete();
    ASSERT_EQ(record_bytes(1, 0, 61351), 61400u);
    ASSERT_TRUE(log->append("s", "", std::string(61351, 'a'), 0));
    log->flush();
    disk.complete();
    ASSERT_TRUE(log->remove(1));  // floor tombstone does not fit: roll to segment "2" with tombstones only
    log->flush();
    disk.complete();
    auto second = log->append("s", "", std::string(61351, 'b'), 0);  // does not fit: roll to "2" again
    EXPECT_TRUE(second) << "append failed: " << errc_text(second.error());
    EXPECT_EQ(log->sticky_error(), Errc::kOk);
}

void poll_until(io::StandaloneDisk& disk, const std::function<bool()>& done) {
    for (int i = 0; i < 5000 && !done(); ++i) {
        disk.poll(false);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(done());
}

TEST(StoreRegression, RollWithoutANewMessageClobbersAndThenUnlinksTheActiveSegmentDirect) {
    std::string dir = "/tmp/rt-regression-clobber-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    uint64_t acked = 0;
    {
        io::StandaloneDisk disk;
        ASSERT_TRUE(disk.init());
        auto log = std::move(*StreamLog::open(disk.disk(), big_record_options(dir), nullptr));
        log->set_durable_callback([&](uint64_t seq) { acked = seq; });
        poll_until(disk, [&] { return log->spare_ready(); });
        ASSERT_TRUE(log->append("s", "", std::string(61351, 'a'), 0));
        log->flush();
        poll_until(disk, [&] { return acked == 1; });
        ASSERT_TRUE(log->remove(1));
        log->flush();
        poll_until(disk, [&] { return !log->writes_in_flight() && log->spare_ready(); });
        ASSERT_TRUE(log->append("s", "", std::string(61351, 'b'), 0));  // once renamed over the live "2"
        log->flush();
        poll_until(disk, [&] { return acked == 2 && log->spare_ready(); });
        ASSERT_TRUE(log->append("s", "", "c", 0));  // the roll waited for "b" to be on disk
        log->flush();
        poll_until(disk, [&] { return acked == 3; });
    }
    io::StandaloneDisk standalone;
    ASSERT_TRUE(standalone.init());
    io::DirectDisk& disk = standalone.disk();
    RecoveryReport report;
    auto log = StreamLog::open(disk, big_record_options(dir), &report);
    ASSERT_TRUE(log) << report.detail;
    EXPECT_GE((*log)->last_seq(), acked) << "acked records lost; " << report.detail;
    EXPECT_FALSE((*log)->load(1)) << "seq 1 was removed";
    for (uint64_t seq = 2; seq <= acked; ++seq) EXPECT_TRUE((*log)->load(seq)) << seq;
    log = std::unexpected(Errc::kIo);
    std::filesystem::remove_all(dir);
}

TEST(StoreRegression, PerSubjectTombstoneWithoutFloorResurrectsByteLimitDrops) {
    test::SimDisk disk(2);
    StreamLogOptions o = test::small_log_options("/p");
    o.limits.max_bytes = 600;
    o.limits.max_msgs_per_subject = 1;
    {
        auto log = std::move(*StreamLog::open(disk, o, nullptr));
        ASSERT_TRUE(log->append("x", "", std::string(200, 'x'), 0));  // 256 bytes
        ASSERT_TRUE(log->append("y", "", std::string(200, 'y'), 0));  // 256
        ASSERT_TRUE(log->append("z", "", std::string(400, 'z'), 0));  // 456: drops 1 and 2
        ASSERT_TRUE(log->append("z", "", std::string(10, 'z'), 0));   // per-subject tombstone for 3
        EXPECT_EQ(log->state().msgs, 1u);
        log->flush();
        disk.complete();
        log->flush();
        disk.complete();
    }
    auto log = std::move(*StreamLog::open(disk, o, nullptr));
    EXPECT_EQ(log->state().msgs, 1u) << "first_seq after reopen " << log->state().first_seq;
    EXPECT_FALSE(log->load(2)) << "removed seq 2 served again";
}

TEST(StoreRegression, PerSubjectLimitAppliedAtRecoveryIsNotWrittenAndComesBack) {
    test::SimDisk disk(3);
    StreamLogOptions o = test::small_log_options("/q");
    {
        auto log = std::move(*StreamLog::open(disk, o, nullptr));
        for (const char* s : {"a", "x", "x", "x"}) ASSERT_TRUE(log->append(s, "", "v", 0));
        log->flush();
        disk.complete();
    }
    o.limits.max_msgs_per_subject = 1;
    {
        auto log = std::move(*StreamLog::open(disk, o, nullptr));  // drops 2, 3 in memory only
        disk.complete();
        EXPECT_EQ(log->state().msgs, 2u);
        ASSERT_TRUE(log->remove(4));  // the user deletes the newest x
        EXPECT_EQ(log->state().msgs, 1u);
        log->flush();
        disk.complete();
    }
    auto log = std::move(*StreamLog::open(disk, o, nullptr));
    EXPECT_EQ(log->state().msgs, 1u);
    EXPECT_FALSE(log->load(3)) << "seq 3, dropped by the limit, is back";
}

// A tombstone in the sealed segment is not part of the durable order: the next segment's
// message is acked first; a crash that tears the tombstones cuts the log before the acked one.
TEST(StoreRegression, TornTombstoneInSealedSegmentCutsAckedRecordOfNextSegment) {
    int lost = 0, runs = 0;
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        test::SimDisk disk(seed);
        StreamLogOptions o = big_record_options();
        uint64_t acked = 0;
        {
            auto log = std::move(*StreamLog::open(disk, o, nullptr));
            log->set_durable_callback([&](uint64_t s) { acked = s; });
            disk.complete();
            ASSERT_TRUE(log->append("big", "", std::string(58751, 'a'), 0));  // 58800 bytes
            for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->append("small", "", "12345678", 0));  // 64 each
            log->flush();
            disk.complete();
            ASSERT_EQ(acked, 21u);
            PurgeRequest purge;
            purge.subject = "small";
            ASSERT_EQ(*log->purge(purge), 20u);  // floor + 20 tombstones into segment 1
            // 400 bytes do not fit: the roll waits until segment 1, tombstones included, is on disk.
            EXPECT_EQ(log->append("next", "", std::string(351, 'n'), 0).error(), Errc::kBusy);
            log->flush();
            disk.complete();
            ASSERT_TRUE(log->append("next", "", std::string(351, 'n'), 0));
            log->flush();
            if (seed % 2 == 0) disk.complete();  // half the runs crash with segment 2's write in flight
            disk.crash();  // power loss while the log is alive: its destructor then lands nothing
        }
        RecoveryReport report;
        auto log = StreamLog::open(disk, o, &report);
        ASSERT_TRUE(log);
        ++runs;
        if ((*log)->last_seq() < acked) ++lost;
    }
    EXPECT_EQ(lost, 0) << lost << " of " << runs << " crashes lost an acked record";
}

TEST(StoreRegression, TrailingTombstonesStarveTheAckOfTheLastMessage) {
    test::SimDisk disk(4);
    StreamLogOptions o;
    o.dir = "/t";
    o.segment_bytes = 1 << 20;
    o.flush_bytes_max = 16 * 1024;
    o.tail_bytes_max = 64 * 1024;
    auto log = std::move(*StreamLog::open(disk, o, nullptr));
    disk.complete();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->append("s", "", "v", 0));
    log->flush();
    disk.complete();
    ASSERT_TRUE(log->append("s", "", "last", 0));  // seq 21
    log->flush();
    for (uint64_t i = 1; i <= 15; ++i) {
        ASSERT_TRUE(log->remove(i));  // one delete per loop turn, while the write is in flight
        disk.complete();
        log->flush();
    }
    EXPECT_EQ(log->durable_seq(), 21u) << "seq 21 has been on disk for 15 writes";
}

TEST(StoreRegression, ManyFloorsRecoverToTheHighest) {
    test::SimDisk disk(5);
    StreamLogOptions o;
    o.dir = "/f";
    o.segment_bytes = 4ull << 20;
    {
        auto log = std::move(*StreamLog::open(disk, o, nullptr));
        disk.complete();
        for (uint64_t i = 0; i < 2000; ++i) ASSERT_TRUE(log->append("s", "", "v", 0));
        for (uint64_t i = 1; i <= 1000; ++i) ASSERT_TRUE(log->remove(i));  // floors and deletes
        test::settle(*log, disk);
    }
    auto log = std::move(*StreamLog::open(disk, o, nullptr));
    EXPECT_EQ(log->state().msgs, 1000u);
    EXPECT_EQ(log->state().first_seq, 1001u);
}

std::vector<std::byte> header(uint64_t first_seq, uint64_t bytes, size_t vec = 0) {
    std::vector<std::byte> page(vec ? vec : bytes);
    std::memcpy(page.data(), "RINGTAIL-SEGMENT", 16);
    uint32_t v = 1, pb = 4096;
    std::memcpy(page.data() + 16, &v, 4);
    std::memcpy(page.data() + 20, &pb, 4);
    std::memcpy(page.data() + 24, &first_seq, 8);
    std::memcpy(page.data() + 32, &bytes, 8);
    uint64_t sum = XXH3_64bits(page.data(), 40);
    std::memcpy(page.data() + 40, &sum, 8);
    return page;
}

TEST(StoreRegression, SegmentStartingAtSeqZeroIsRefused) {
    test::SimDisk disk(6);
    disk.put_file("/z/00000000000000000001.seg", header(0, 64 * 1024));
    RecoveryReport report;
    auto log = StreamLog::open(disk, big_record_options("/z"), &report);
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error(), Errc::kForeign);
}

TEST(StoreRegression, HugeSegmentHeaderIsRefused) {
    std::string dir = "/tmp/rt-regression-huge-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    uint64_t bytes = 1ull << 40;  // sparse: a 1 TiB file claiming to be one segment
    auto page = header(1, bytes, 8192);
    std::memset(page.data() + 4096, 0xff, 64);
    int fd = ::open((dir + "/00000000000000000001.seg").c_str(), O_RDWR | O_CREAT, 0644);
    ASSERT_EQ(::pwrite(fd, page.data(), 8192, 0), 8192);
    char one = 1;
    ASSERT_EQ(::pwrite(fd, &one, 1, static_cast<off_t>(bytes - 1)), 1);
    ::close(fd);
    {
        io::StandaloneDisk standalone;
        ASSERT_TRUE(standalone.init());
        io::DirectDisk& disk = standalone.disk();
        RecoveryReport report;
        auto log = StreamLog::open(disk, big_record_options(dir), &report);
        ASSERT_FALSE(log);
        EXPECT_EQ(log.error(), Errc::kForeign) << report.detail;
    }
    std::filesystem::remove_all(dir);
}

TEST(StoreRegression, SegmentSealedWhileFullyDurableKeepsItsTailAndBlocksTheNextRollForever) {
    test::SimDisk disk(8);
    StreamLogOptions o = test::small_log_options("/b");
    auto log = std::move(*StreamLog::open(disk, o, nullptr));
    int accepted = 0;
    for (int i = 0; i < 1000; ++i) {
        auto seq = log->append("s", "", std::string(700, 'x'), 0);
        ASSERT_TRUE(seq) << "append " << i << " refused: " << errc_text(seq.error());
        ++accepted;
        log->flush();
        disk.complete();  // every append durable before the next: each roll seals a fully durable segment
    }
    EXPECT_EQ(accepted, 1000);
}

TEST(StoreRegression, KillDuringInLineCreateLeavesOnlyATempFile) {
    test::SimDisk disk(9);
    StreamLogOptions o = big_record_options("/c");
    {
        auto log = std::move(*StreamLog::open(disk, o, nullptr));
        ASSERT_TRUE(log->append("s", "", "acked", 0));
        log->flush();
        disk.complete();
    }
    // What an in-line create leaves when killed before its rename: a headerless temp file.
    disk.put_file("/c/create.tmp", std::vector<std::byte>(64 * 1024));
    RecoveryReport report;
    auto log = StreamLog::open(disk, o, &report);
    ASSERT_TRUE(log) << errc_text(log.error()) << ": " << report.detail;
    EXPECT_EQ((*log)->load(1)->payload, "acked");
    auto names = disk.list_dir("/c");
    EXPECT_EQ(std::find(names->begin(), names->end(), "create.tmp"), names->end());
}

// A limit that drops the only message of the front segment must not remove that segment's
// file before the append that caused the drop is on disk: a crash in between kept neither the
// acked old message nor the new one (a KV key lost its only value).
TEST(StoreRegression, FrontSegmentEmptiedByALimitGoesBeforeItsCauseIsDurable) {
    for (int limit = 0; limit < 2; ++limit) {
        test::SimDisk disk(10 + limit);
        StreamLogOptions o = big_record_options("/l");
        if (limit == 0) o.limits.max_msgs_per_subject = 1;
        if (limit == 1) o.limits.max_msgs = 1;
        {
            auto log = std::move(*StreamLog::open(disk, o, nullptr));
            disk.complete();
            ASSERT_TRUE(log->append("k", "", std::string(61351, 'a'), 0));  // fills segment 1
            log->flush();
            disk.complete();
            ASSERT_EQ(log->durable_seq(), 1u);
            ASSERT_TRUE(log->append("k", "", "new", 0));  // segment 2; drops the acked seq 1
            log->flush();
            disk.lose_queued();  // power loss before the new message reaches the media
            disk.crash();
        }
        RecoveryReport report;
        auto log = StreamLog::open(disk, o, &report);
        ASSERT_TRUE(log) << report.detail;
        EXPECT_TRUE((*log)->load(1)) << "limit " << limit << ": the acked message is gone, and so is its replacement";
    }
}

// A deletion is reported durable only once its tombstone is: one made while an append is in
// flight waits for that append, then for its own write; a power loss before then may bring
// the message back, after it may not. (Replies to MSG.DELETE and PURGE wait for this.)
TEST(StoreRegression, ADeletionIsReportedDurableOnlyOnceItsTombstoneIs) {
    test::SimDisk disk(20);
    StreamLogOptions o = big_record_options("/d");
    auto log = std::move(*StreamLog::open(disk, o, nullptr));
    int told = 0;
    log->set_durable_callback([&](uint64_t) { ++told; });
    disk.complete();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(log->append("s", "", "m", 0));
    log->flush();
    disk.complete();
    ASSERT_EQ(log->durable_seq(), 3u);
    ASSERT_TRUE(log->append("s", "", "in flight", 0));
    log->flush();  // seq 4's write is in flight
    ASSERT_TRUE(log->remove(2));
    EXPECT_EQ(log->deletion_ticket(), 1u);
    EXPECT_EQ(log->deletions_durable(), 0u);
    disk.complete();  // seq 4 durable; the tombstone is not written yet
    EXPECT_EQ(log->durable_seq(), 4u);
    EXPECT_EQ(log->deletions_durable(), 0u);
    log->flush();  // now it is
    EXPECT_EQ(log->deletions_durable(), 0u);
    told = 0;
    disk.complete();
    EXPECT_EQ(log->deletions_durable(), 1u);
    EXPECT_EQ(told, 1) << "the durable callback hears of it";
    // A purge that finds nothing to remove is durable at once.
    PurgeRequest none;
    none.subject = "other";
    ASSERT_TRUE(log->purge(none));
    EXPECT_EQ(log->deletions_durable(), log->deletion_ticket());
    disk.crash();
    log.reset();
    log = std::move(*StreamLog::open(disk, o, nullptr));
    EXPECT_FALSE(log->contains(2)) << "a deletion reported durable came back";
    EXPECT_TRUE(log->contains(4));
}

// An erasing deletion is reported durable only once its record's rewrite is: until then a
// power loss leaves the message's bytes in the file. A rewrite of the tail waits out the
// tail's writes in flight, and no new one starts meanwhile (appends keep coming, so the tail
// would otherwise never be idle). (Replies to MSG.DELETE wait for this.)
TEST(StoreRegression, AnErasingDeletionIsReportedDurableOnlyOnceItsRecordIsRewritten) {
    test::SimDisk disk(21);
    StreamLogOptions o = big_record_options("/e");
    o.overlap_bytes_min = 0;  // every flush may add a write beside the one in flight
    auto log = std::move(*StreamLog::open(disk, o, nullptr));
    disk.complete();
    const std::string secret = "a secret that must leave the file";
    ASSERT_TRUE(log->append("s", "", secret, 0));
    log->flush();
    disk.complete();
    ASSERT_TRUE(log->remove(1, /*erase=*/true));
    log->flush();  // the tombstone's write
    ASSERT_TRUE(log->append("s", "", "two", 0));
    log->flush();  // seq 2's, beside it
    disk.complete(1);  // the tombstone is durable, seq 2's write still in flight
    EXPECT_EQ(log->deletions_durable(), 0u) << "durable with the bytes still in the file";
    // Appends keep coming, each flush finding a write in flight: the rewrite still goes out.
    for (int i = 0; i < 8 && log->deletions_durable() == 0; ++i) {
        ASSERT_TRUE(log->append("s", "", "more", 0));
        log->flush();
        disk.complete(1);
    }
    EXPECT_EQ(log->deletions_durable(), 1u) << "the rewrite waited for an idle tail that never came";
    ASSERT_TRUE(log->append("s", "", "last", 0));
    test::settle(*log, disk);
    EXPECT_EQ(log->durable_seq(), log->last_seq());
    const std::vector<std::byte>& file = disk.file("/e/00000000000000000001.seg");
    std::string_view bytes(reinterpret_cast<const char*>(file.data()), file.size());
    EXPECT_EQ(bytes.find(secret), std::string_view::npos);
    EXPECT_NE(bytes.find("last"), std::string_view::npos);
}

// A crash after an erasing deletion's tombstone is durable and before its record's rewrite is:
// the next open finds the tombstone (kKindErase) and erases the record then.
TEST(StoreRegression, AnErasureACrashCutShortIsFinishedByTheNextOpen) {
    test::SimDisk disk(22);
    StreamLogOptions o = big_record_options("/c");
    const std::string secret = "a secret a crash must not keep";
    {
        auto log = std::move(*StreamLog::open(disk, o, nullptr));
        disk.complete();
        ASSERT_TRUE(log->append("s", "", secret, 0));
        ASSERT_TRUE(log->append("s", "", "kept", 0));
        log->flush();
        disk.complete();
        ASSERT_TRUE(log->remove(1, /*erase=*/true));
        log->flush();    // the tombstone
        disk.complete();
        log->flush();    // the rewrite, never to land
        disk.lose_queued();
        disk.crash();
        EXPECT_EQ(log->deletions_durable(), 0u);
    }
    auto log = std::move(*StreamLog::open(disk, o, nullptr));
    EXPECT_FALSE(log->contains(1));
    const std::vector<std::byte>& before = disk.file("/c/00000000000000000001.seg");
    ASSERT_NE(std::string_view(reinterpret_cast<const char*>(before.data()), before.size()).find(secret),
              std::string_view::npos) << "the crash did not cut the erasure short";
    test::settle(*log, disk);
    const std::vector<std::byte>& after = disk.file("/c/00000000000000000001.seg");
    std::string_view bytes(reinterpret_cast<const char*>(after.data()), after.size());
    EXPECT_EQ(bytes.find(secret), std::string_view::npos);
    EXPECT_EQ(log->load(2)->payload, "kept");
}

}  // namespace
}  // namespace ringtail::store
