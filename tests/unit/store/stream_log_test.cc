#include "store/stream_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/sim_disk.h"

namespace ringtail::store {
namespace {

using test::SimDisk;

StreamLogOptions small_options() { return test::small_log_options("/streams/S"); }

std::unique_ptr<StreamLog> open_log(SimDisk& disk, StreamLogOptions options = small_options(),
                                    RecoveryReport* report = nullptr) {
    auto log = StreamLog::open(disk, std::move(options), report);
    EXPECT_TRUE(log.has_value());
    disk.complete();  // the spare segment's preparation; tests then count writes only
    return log ? std::move(*log) : nullptr;
}

// skip(through), retried while writes in flight refuse a long skip (kBusy), as a stream's
// later turns retry it.
Result<bool> skip_when_idle(StreamLog& log, SimDisk& disk, uint64_t through) {
    auto skipped = log.skip(through);
    for (int turn = 0; turn < 10 && !skipped && skipped.error() == Errc::kBusy; ++turn) {
        log.flush();
        disk.complete();
        skipped = log.skip(through);
    }
    return skipped;
}

std::string payload_for(uint64_t seq, size_t bytes) {
    std::string payload(bytes, '\0');
    for (size_t i = 0; i < bytes; ++i) payload[i] = static_cast<char>('a' + (seq * 7 + i) % 26);
    return payload;
}

// The log holds exactly `payloads`, as seqs 1, 2, ...
void expect_payloads(StreamLog& log, const std::vector<std::string>& payloads) {
    ASSERT_EQ(log.last_seq(), payloads.size());
    for (uint64_t seq = 1; seq <= payloads.size(); ++seq) EXPECT_EQ(log.load(seq)->payload, payloads[seq - 1]) << seq;
}

TEST(StreamLog, AppendIsReadableAtOnceAndDurableAfterItsWrite) {
    SimDisk disk(1);
    auto log = open_log(disk);
    uint64_t durable = 0;
    log->set_durable_callback([&](uint64_t seq) { durable = seq; });
    auto seq = log->append("a.b", "", "hello", 5);
    ASSERT_TRUE(seq);
    EXPECT_EQ(*seq, 1u);
    EXPECT_EQ(log->load(1)->payload, "hello");
    EXPECT_EQ(log->durable_seq(), 0u);
    log->flush();
    EXPECT_EQ(disk.queued(), 1u);
    EXPECT_EQ(durable, 0u);
    disk.complete();
    EXPECT_EQ(durable, 1u);
    EXPECT_EQ(log->load(1)->subject, "a.b");
}

TEST(StreamLog, OneWriteCoversEveryAppendSinceTheLastFlush) {
    SimDisk disk(2);
    auto log = open_log(disk);
    std::vector<uint64_t> acks;
    log->set_durable_callback([&](uint64_t seq) { acks.push_back(seq); });
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(log->append("s", "", "x", 0));
    log->flush();
    log->flush();  // nothing new: no second write
    EXPECT_EQ(disk.queued(), 1u);
    disk.complete();
    EXPECT_EQ(acks, (std::vector<uint64_t>{50}));
}

TEST(StreamLog, AppendsDuringAWriteNeverTouchItsPagesAndSurviveReopen) {
    SimDisk disk(3);
    auto options = small_options();
    {
        auto log = open_log(disk, options);
        ASSERT_TRUE(log->append("s", "", "first", 0));
        log->flush();
        ASSERT_TRUE(log->append("s", "", "second", 0));  // goes to the next page
        ASSERT_TRUE(log->append("s", "", "third", 0));
        EXPECT_EQ(log->load(2)->payload, "second");
        disk.complete();
        log->flush();
        disk.complete();
        EXPECT_EQ(log->durable_seq(), 3u);
    }
    disk.crash();
    auto log = open_log(disk, options);
    expect_payloads(*log, {"first", "second", "third"});
}

TEST(StreamLog, WritesOverlapButDurabilityAdvancesInWriteOrder) {
    SimDisk disk(31);
    auto options = small_options();
    options.writes_in_flight_max = 2;
    {
        auto log = open_log(disk, options);
        std::vector<uint64_t> acks;
        log->set_durable_callback([&](uint64_t seq) { acks.push_back(seq); });
        ASSERT_TRUE(log->append("s", "", "one", 0));
        log->flush();
        ASSERT_TRUE(log->append("s", "", "two", 0));  // the next page: the first write reads this one
        log->flush();                                   // a second write, not waiting for the first
        ASSERT_TRUE(log->append("s", "", "three", 0));
        log->flush();  // two in flight already: this one waits
        EXPECT_EQ(disk.queued(), 2u);
        disk.complete_nth(1);  // the second write lands first
        EXPECT_TRUE(acks.empty());
        disk.complete(1);
        EXPECT_EQ(acks, (std::vector<uint64_t>{2}));
        log->flush();
        disk.complete();
        EXPECT_EQ(acks, (std::vector<uint64_t>{2, 3}));
    }
    disk.crash();
    auto log = open_log(disk, options);  // recovery follows the skips to the next pages
    expect_payloads(*log, {"one", "two", "three"});
}

TEST(StreamLog, ALaterWriteThatLandedWithoutTheOneBeforeIsKeptPastAHole) {
    SimDisk disk(32);
    auto options = small_options();
    {
        auto log = open_log(disk, options);
        ASSERT_TRUE(log->append("s", "", "acked", 0));
        log->flush();
        disk.complete();
        ASSERT_TRUE(log->append("s", "", "lost", 0));  // its write never lands
        log->flush();
        ASSERT_TRUE(log->append("s", "", "landed", 0));  // the next page, in a write that lands
        log->flush();
        disk.complete_nth(1);
        EXPECT_EQ(log->durable_seq(), 1u);
        disk.lose_queued();
        disk.crash();
    }
    // Valid records past a gap are kept (they could as well be acknowledged ones after a
    // flipped bit); the gap is lost and its sequence never given again.
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_EQ(log->last_seq(), 3u);
    EXPECT_EQ(report.truncated_bytes, 0u);
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    EXPECT_EQ(report.lost[0], (std::pair<uint64_t, uint64_t>{2, 2}));
    EXPECT_EQ(log->load(1)->payload, "acked");
    EXPECT_FALSE(log->load(2));
    EXPECT_EQ(log->load(3)->payload, "landed");
    ASSERT_EQ(*log->append("s", "", "after", 0), 4u);
    log->flush();
    disk.complete();
    log.reset();
    disk.crash();
    log = open_log(disk, options, &report);
    ASSERT_EQ(log->last_seq(), 4u);
    EXPECT_FALSE(log->load(2));
    EXPECT_EQ(log->load(4)->payload, "after");
}

// Behind a write in flight, a little waits for it and then goes out in one write with what
// came meanwhile; enough to be worth a write of its own goes at once.
TEST(StreamLog, LittleWaitsForTheWriteInFlightAndMuchOverlapsIt) {
    SimDisk disk(35);
    auto options = small_options();
    options.writes_in_flight_max = 4;
    options.overlap_bytes_min = 8 * 1024;
    auto log = open_log(disk, options);
    uint64_t durable = 0;
    log->set_durable_callback([&](uint64_t seq) { durable = seq; });
    ASSERT_TRUE(log->append("s", "", payload_for(1, 100), 0));
    log->flush();
    EXPECT_EQ(disk.queued(), 1u);  // nothing in flight: it goes at once
    for (uint64_t seq = 2; seq <= 4; ++seq) {
        ASSERT_TRUE(log->append("s", "", payload_for(seq, 100), 0));
        log->flush();
    }
    EXPECT_EQ(disk.queued(), 1u);  // 300 bytes wait behind the first write
    disk.complete_nth(0);
    EXPECT_EQ(durable, 1u);
    EXPECT_EQ(disk.queued(), 1u);  // ... and leave together from its completion
    disk.complete_nth(0);
    EXPECT_EQ(durable, 4u);
    ASSERT_TRUE(log->append("s", "", payload_for(5, 100), 0));
    log->flush();
    ASSERT_TRUE(log->append("s", "", payload_for(6, 9000), 0));
    log->flush();
    EXPECT_EQ(disk.queued(), 2u);  // 9 KB behind a write in flight: a write of its own
    disk.complete();
    EXPECT_EQ(durable, 6u);
    for (uint64_t seq = 1; seq <= 6; ++seq) {
        EXPECT_EQ(log->load(seq)->payload, payload_for(seq, seq == 6 ? 9000 : 100));
    }
}

TEST(StreamLog, FourWritesInFlightCompletingInAnyOrder) {
    SimDisk disk(33);
    auto options = small_options();
    options.writes_in_flight_max = 4;
    auto log = open_log(disk, options);
    uint64_t durable = 0;
    log->set_durable_callback([&](uint64_t seq) { durable = seq; });
    for (int round = 0; round < 4; ++round) {
        ASSERT_TRUE(log->append("s", "", payload_for(round, 100), 0));
        log->flush();
    }
    EXPECT_EQ(disk.queued(), 4u);
    disk.complete_nth(3);
    disk.complete_nth(1);
    EXPECT_EQ(durable, 0u);
    disk.complete_nth(0);  // the first: the second was done, the third is not
    EXPECT_EQ(durable, 2u);
    disk.complete();
    EXPECT_EQ(durable, 4u);
    for (uint64_t seq = 1; seq <= 4; ++seq) EXPECT_EQ(log->load(seq)->payload, payload_for(seq - 1, 100));
}

// The tail is a ring reused as writes complete: many laps of it, with writes in flight that
// complete out of order, never touch bytes a write is still reading (SimDisk compares them at
// completion), always write from the registered ring, and leave every record intact.
TEST(StreamLog, TailRingWrapsManyTimesWithoutTouchingWritesInFlight) {
    SimDisk disk(34);
    auto options = small_options();
    options.segment_bytes = 1 << 20;
    options.flush_bytes_max = 8 * 1024;
    options.tail_bytes_max = 32 * 1024;
    options.writes_in_flight_max = 4;
    auto log = open_log(disk, options);
    std::mt19937_64 random(34);
    std::vector<std::string> payloads;
    while (payloads.size() < 3000) {
        auto seq = log->append("s", "", payload_for(payloads.size() + 1, 1 + random() % 700), 0);
        if (seq) {
            payloads.push_back(std::string(log->load(*seq)->payload));
        } else {
            ASSERT_EQ(seq.error(), Errc::kBusy);
        }
        if (random() % 4 == 0) log->flush();
        if (disk.queued() > 0 && (!seq || random() % 3 == 0)) disk.complete_nth(random() % disk.queued());
    }
    EXPECT_GT(disk.buffers_registered(), 0u);
    log->flush();
    while (disk.queued() > 0 || log->durable_seq() < payloads.size()) {
        disk.complete();
        log->flush();
    }
    expect_payloads(*log, payloads);
    log.reset();
    log = open_log(disk, options);
    expect_payloads(*log, payloads);
}

// Appends that find every write slot taken go out as soon as one frees, without waiting for
// the owner's next flush().
TEST(StreamLog, AFreedWriteSlotSendsWhatWaitedForIt) {
    SimDisk disk(36);
    auto options = small_options();
    options.writes_in_flight_max = 1;
    auto log = open_log(disk, options);
    ASSERT_TRUE(log->append("s", "", "first", 0));
    log->flush();
    ASSERT_TRUE(log->append("s", "", "second", 0));
    log->flush();  // the only slot is taken
    EXPECT_EQ(disk.queued(), 1u);
    disk.complete(1);
    EXPECT_EQ(log->durable_seq(), 1u);
    EXPECT_EQ(disk.queued(), 1u);  // the second went out from the completion
    disk.complete(1);
    EXPECT_EQ(log->durable_seq(), 2u);
}

// The tail grows only while no write reads it. A need for more room that comes while writes are
// in flight is remembered: the tail grows the next time none is, though the append then fits.
TEST(StreamLog, TailGrowsAtTheFirstChanceAfterItWasTooSmall) {
    SimDisk disk(37);
    auto options = small_options();
    options.segment_bytes = 1 << 20;
    options.flush_bytes_max = 64 * 1024;
    options.tail_bytes_max = 256 * 1024;  // it starts at 64 KiB
    auto log = open_log(disk, options);
    size_t registrations = disk.registrations();
    ASSERT_TRUE(log->append("s", "", std::string(60 * 1024, 'a'), 0));
    log->flush();
    auto refused = log->append("s", "", std::string(8 * 1024, 'b'), 0);  // past 64 KiB, in flight
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), Errc::kBusy);
    disk.complete();
    EXPECT_EQ(disk.registrations(), registrations);
    ASSERT_TRUE(log->append("s", "", "small", 0));  // fits as it is, yet the tail grows now
    EXPECT_EQ(disk.registrations(), registrations + 1);
    ASSERT_TRUE(log->append("s", "", std::string(8 * 1024, 'b'), 0));
    log->flush();
    disk.complete();
    EXPECT_EQ(log->durable_seq(), 3u);
    EXPECT_EQ(log->load(3)->payload, std::string(8 * 1024, 'b'));
}

// A roll hands the tail, grown and registered, to the next segment instead of starting a new
// one. The memory holds the old segment's bytes: the new segment's files and reads show only its
// own records, also after reopening.
TEST(StreamLog, ARollHandsTheTailToTheNextSegment) {
    SimDisk disk(38);
    auto options = small_options();
    options.segment_bytes = 256 * 1024;
    options.flush_bytes_max = 64 * 1024;
    options.tail_bytes_max = 128 * 1024;
    auto log = open_log(disk, options);
    std::vector<std::string> payloads;
    auto append = [&](size_t bytes) {
        auto seq = log->append("s", "", payload_for(payloads.size() + 1, bytes), 0);
        if (seq) payloads.push_back(std::string(log->load(*seq)->payload));
        return seq.has_value();
    };
    while (log->bytes() < 100 * 1024) ASSERT_TRUE(append(1000));  // no write yet: grows to 128 KiB
    size_t registrations = disk.registrations();
    for (int round = 0; payloads.size() < 2000; ++round) {
        for (int i = 0; i < 40 && append(100 + (round * 37 + i) % 3000); ++i) {
        }
        log->flush();
        disk.complete();
    }
    log->flush();
    disk.complete();
    ASSERT_GT(disk.list_dir(options.dir)->size(), 4u);  // several rolls
    EXPECT_EQ(disk.registrations(), registrations);
    expect_payloads(*log, payloads);
    log.reset();
    RecoveryReport report;
    log = open_log(disk, options, &report);
    EXPECT_EQ(report.truncated_bytes, 0u);
    expect_payloads(*log, payloads);
}

// Damages the log's first record in its file (segment 1, just past the header page), so that
// reading it from the file fails.
void damage_first_record(SimDisk& disk, const std::string& dir) {
    disk.flip_bit(dir + "/00000000000000000001.seg", kPageBytes + kRecordHeaderBytes + 2);
}

// Limits drop a message from the index alone, reading nothing from the files (which, for a
// stream at its limits, would read the oldest data back from the device on every append). A
// record damaged after it was written, so that reading it fails, still leaves the counts exact.
TEST(StreamLog, LimitsDropFromTheIndexWithoutReadingTheRecord) {
    SimDisk disk(39);
    auto options = small_options();
    options.limits.max_msgs = 3;
    auto log = open_log(disk, options);
    ASSERT_TRUE(log->append("a", "", "first", 0));
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(log->append("b", "", std::string(3000, 'b'), 0));
    log->flush();
    disk.complete();  // the first page is on disk and out of the tail: reads come from the file
    damage_first_record(disk, options.dir);
    ASSERT_FALSE(log->load(1));
    uint64_t bytes_before = log->bytes();
    ASSERT_TRUE(log->append("b", "", std::string(3000, 'b'), 0));  // drops seq 1, unreadable
    EXPECT_EQ(log->subject_count("a"), 0u);
    EXPECT_EQ(log->state().num_subjects, 1u);
    EXPECT_EQ(log->state().msgs, 3u);
    EXPECT_EQ(log->bytes(), bytes_before - record_bytes(1, 0, 5) + record_bytes(1, 0, 3000));
}

// max_age expiry takes timestamps from the index too: a damaged old record neither stops it
// nor is read.
TEST(StreamLog, ExpiryReadsNoRecord) {
    SimDisk disk(40);
    auto options = small_options();
    options.limits.max_age_ns = 1000;
    auto log = open_log(disk, options);
    ASSERT_TRUE(log->append("a", "", "old", 1000));
    ASSERT_TRUE(log->append("b", "", std::string(5000, 'b'), 2000));
    log->flush();
    disk.complete();  // the first page is on disk and out of the tail: reads come from the file
    damage_first_record(disk, options.dir);
    ASSERT_FALSE(log->load(1));
    EXPECT_EQ(log->expire(2500), 1u);  // cut-off 1500: the first only
    EXPECT_EQ(log->first_seq(), 2u);
    EXPECT_EQ(log->subject_count("a"), 0u);
    EXPECT_EQ(log->expire(3500), 1u);
    EXPECT_EQ(log->state().msgs, 0u);
}

TEST(StreamLog, ThePurgedNewestMessagesTimeIsKnownAfterAReopen) {
    SimDisk disk(41);
    {
        auto log = open_log(disk);
        EXPECT_EQ(log->last_timestamp(), 0);
        ASSERT_TRUE(log->append("a", "", "one", 1000));
        ASSERT_TRUE(log->append("a", "", "two", 2000));
        EXPECT_EQ(log->last_timestamp(), 2000);
        ASSERT_TRUE(log->purge({}));
        EXPECT_EQ(log->last_timestamp(), 2000);
        settle(*log, disk);
    }
    // Read back after a reopen (the purge record carries it, for when no message is left on disk).
    auto log = open_log(disk);
    EXPECT_EQ(log->state().msgs, 0u);
    EXPECT_EQ(log->last_timestamp(), 2000);
}

// KV with history 1: every put drops the key's previous value, the subject's last message
// moves to the put, and deleting a key's last message leaves its other one as first and last.
TEST(StreamLog, PerSubjectLimitOfOneKeepsEachSubjectsEnds) {
    SimDisk disk(34);
    auto options = small_options();
    options.limits.max_msgs_per_subject = 1;
    auto log = open_log(disk, options);
    for (int round = 0; round < 3; ++round) {
        for (const char* key : {"kv.a", "kv.b", "kv.c"}) ASSERT_TRUE(log->append(key, "", std::to_string(round), 0));
    }
    EXPECT_EQ(log->state().msgs, 3u);
    EXPECT_EQ(log->load_last("kv.a")->payload, "2");
    EXPECT_EQ(*log->next_seq(1, "kv.b"), 8u);
    EXPECT_EQ(log->subject_count("kv.c"), 1u);
    options.limits.max_msgs_per_subject = 2;
    log->set_limits(options.limits);
    ASSERT_TRUE(log->append("kv.a", "", "3", 0));  // seq 10: kv.a holds 7 and 10
    ASSERT_TRUE(log->remove(10));
    EXPECT_EQ(log->load_last("kv.a")->payload, "2");
    EXPECT_EQ(*log->next_seq(1, "kv.a"), 7u);
    ASSERT_TRUE(log->append("kv.a", "", "4", 0));  // seq 11: 7 and 11
    ASSERT_TRUE(log->remove(7));
    EXPECT_EQ(*log->next_seq(1, "kv.a"), 11u);
    EXPECT_EQ(log->load_last("kv.a")->payload, "4");
}

// A subject's next message, found by the links appends leave from each message to the next of
// its subject, agrees with a plain model through a per-subject limit's drops, deletions in the
// middle and at the ends, subjects that empty and come back (their ids reused by others) and
// reopens that rebuild the links.
TEST(StreamLog, ASubjectsNextMessageAgreesWithAModelThroughDropsDeletesAndReopens) {
    SimDisk disk(35);
    auto options = small_options();
    options.limits.max_msgs_per_subject = 3;
    auto log = open_log(disk, options);
    std::map<uint64_t, std::string> live;  // the model: seq -> subject
    std::mt19937 random(35);
    const std::vector<std::string> subjects = {"k.a", "k.b", "k.c", "k.d", "k.e", "k.f"};
    auto check = [&](int step) {
        for (const std::string& subject : subjects) {
            for (uint64_t from = 1; from <= log->last_seq() + 1; ++from) {
                auto expected = std::find_if(live.lower_bound(from), live.end(),
                                             [&](const auto& entry) { return entry.second == subject; });
                auto found = log->next_seq(from, subject);
                if (expected == live.end()) {
                    ASSERT_FALSE(found) << "step " << step << " " << subject << " from " << from;
                } else {
                    ASSERT_TRUE(found) << "step " << step << " " << subject << " from " << from;
                    ASSERT_EQ(expected->first, *found) << "step " << step << " " << subject << " from " << from;
                }
            }
        }
    };
    for (int step = 0; step < 1500; ++step) {
        int op = static_cast<int>(random() % 20);
        if (op < 14) {
            // Mostly the first subjects, so that the others empty and come back.
            const std::string& subject = subjects[random() % (random() % 3 == 0 ? subjects.size() : 3)];
            auto seq = log->append(subject, "", "v", 0);
            ASSERT_TRUE(seq);
            live[*seq] = subject;
            std::vector<uint64_t> of_subject;
            for (const auto& [at, name] : live) {
                if (name == subject) of_subject.push_back(at);
            }
            if (of_subject.size() > 3) live.erase(of_subject.front());
        } else if (op < 18 && !live.empty()) {
            auto it = std::next(live.begin(), static_cast<long>(random() % live.size()));
            ASSERT_TRUE(log->remove(it->first));
            live.erase(it);
        } else if (op == 18) {
            const std::string& subject = subjects[random() % subjects.size()];
            ASSERT_TRUE(log->purge({.subject = subject}));
            std::erase_if(live, [&](const auto& entry) { return entry.second == subject; });
        } else {
            log->flush();
            disk.complete();
            log.reset();
            log = open_log(disk, options);
            ASSERT_NE(nullptr, log);
        }
        log->flush();
        disk.complete();
        if (step % 10 == 0) check(step);
        if (HasFatalFailure()) return;
    }
    check(1500);
}

// Whether any file of the log holds `text` (what a reader of the raw files would find).
bool files_hold(SimDisk& disk, const std::string& dir, std::string_view text) {
    auto names = disk.list_dir(dir);
    for (const std::string& name : *names) {
        auto handle = disk.open_file(dir + "/" + name);
        auto map = disk.map_file(*handle);
        std::string_view bytes(reinterpret_cast<const char*>(map->data()), map->size());
        bool found = bytes.find(text) != std::string_view::npos;
        disk.close_file(*handle);
        if (found) return true;
    }
    return false;
}

// An erased message's record is written again in place, its fields zeroed, once its tombstone
// is durable; its neighbours, and the appends that follow, are untouched.
TEST(StreamLog, EraseOverwritesTheMessageInTheActiveSegment) {
    SimDisk disk(35);
    auto options = small_options();
    {
        auto log = open_log(disk, options);
        ASSERT_TRUE(log->append("s", "", "keep-1", 0));
        ASSERT_TRUE(log->append("s", "", "secret-payload", 0));
        ASSERT_TRUE(log->append("s", "", "keep-2", 0));
        ASSERT_TRUE(log->remove(1));  // without erase: the bytes stay, until the segment is compacted
        ASSERT_TRUE(log->remove(2, /*erase=*/true));
        log->flush();  // the tombstones are not on disk yet: the erase waits
        disk.complete();
        EXPECT_TRUE(files_hold(disk, options.dir, "secret-payload"));
        ASSERT_TRUE(log->append("s", "", "during", 0));  // appends go on meanwhile
        settle(*log, disk);
        EXPECT_FALSE(files_hold(disk, options.dir, "secret-payload"));
        EXPECT_TRUE(files_hold(disk, options.dir, "keep-1"));
        EXPECT_TRUE(files_hold(disk, options.dir, "keep-2"));
        EXPECT_TRUE(files_hold(disk, options.dir, "during"));
        EXPECT_EQ(log->load(2).error(), Errc::kNotFound);
        EXPECT_EQ(log->load(3)->payload, "keep-2");
        ASSERT_TRUE(log->append("s", "", "after", 0));
        log->flush();
        disk.complete();
    }
    disk.crash();
    RecoveryReport report;
    auto log = std::move(*StreamLog::open(disk, options, &report));
    EXPECT_TRUE(report.detail.empty()) << report.detail;
    ASSERT_EQ(log->last_seq(), 5u);
    EXPECT_EQ(log->state().msgs, 3u);
    EXPECT_FALSE(log->load(2));
    EXPECT_EQ(log->load(3)->payload, "keep-2");
    EXPECT_EQ(log->load(4)->payload, "during");
    EXPECT_EQ(log->load(5)->payload, "after");
}

TEST(StreamLog, EraseInASealedSegmentOverwritesTheMessage) {
    SimDisk disk(36);
    auto options = small_options();
    auto log = open_log(disk, options);
    for (uint64_t seq = 1; seq <= 200; ++seq) {
        std::string payload = seq == 5 ? "secret-payload" : payload_for(seq, 700);
        auto appended = log->append("s", "", payload, 0);
        for (int turn = 0; turn < 10 && !appended && appended.error() == Errc::kBusy; ++turn) {
            log->flush();
            disk.complete();
            appended = log->append("s", "", payload, 0);
        }
        ASSERT_TRUE(appended) << seq;
    }
    log->flush();
    disk.complete();
    ASSERT_GT(disk.list_dir(options.dir)->size(), 2u);  // seq 5's segment is sealed
    ASSERT_TRUE(log->remove(5, /*erase=*/true));
    log->flush();  // the tombstone
    disk.complete();
    EXPECT_TRUE(files_hold(disk, options.dir, "secret-payload"));
    log->flush();  // now the erasure
    disk.complete();
    EXPECT_FALSE(files_hold(disk, options.dir, "secret-payload"));
    for (uint64_t seq = 1; seq <= 200; ++seq) {
        if (seq != 5) {
            EXPECT_EQ(log->load(seq)->payload, payload_for(seq, 700)) << seq;
        }
    }
    log.reset();
    disk.crash();
    log = open_log(disk, options);
    EXPECT_EQ(log->state().msgs, 199u);
    EXPECT_FALSE(log->load(5));
}

TEST(StreamLog, RollsSegmentsAndReadsAcrossThem) {
    SimDisk disk(4);
    auto options = small_options();
    {
        auto log = open_log(disk, options);
        for (uint64_t seq = 1; seq <= 400; ++seq) {
            auto appended = log->append("roll", "", payload_for(seq, 700), 0);
            for (int turn = 0; turn < 10 && !appended && appended.error() == Errc::kBusy; ++turn) {
                // A roll waits until the full segment is on disk.
                log->flush();
                disk.complete();
                appended = log->append("roll", "", payload_for(seq, 700), 0);
            }
            ASSERT_TRUE(appended) << seq;
            ASSERT_EQ(*appended, seq);
            if (seq % 10 == 0) {
                log->flush();
                disk.complete();
            }
        }
        log->flush();
        disk.complete();
        log->flush();
        disk.complete();
        EXPECT_EQ(log->durable_seq(), 400u);
        EXPECT_GT(disk.list_dir(options.dir)->size(), 3u);
        EXPECT_EQ(log->rolls_without_spare(), 0u);  // every roll found its segment prepared
    }
    disk.crash();
    auto log = open_log(disk, options);
    ASSERT_EQ(log->last_seq(), 400u);
    for (uint64_t seq = 1; seq <= 400; ++seq) EXPECT_EQ(log->load(seq)->payload, payload_for(seq, 700));
}

TEST(StreamLog, CrashKeepsEveryAckedRecordAndCutsTheTornTail) {
    SimDisk disk(5);
    auto options = small_options();
    uint64_t acked = 0;
    auto before = open_log(disk, options);
    before->set_durable_callback([&](uint64_t seq) { acked = seq; });
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(before->append("s", "", payload_for(1, 300), 0));
    before->flush();
    disk.complete();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(before->append("s", "", payload_for(2, 300), 0));
    before->flush();  // in flight at the crash
    disk.crash();     // torn, while the log is still alive
    before.reset();
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    EXPECT_EQ(acked, 20u);
    EXPECT_GE(log->last_seq(), 20u);
    EXPECT_LE(log->last_seq(), 40u);
    // Records of the torn write that landed are kept; those that did not are reported lost.
    std::set<uint64_t> lost;
    for (auto [first, last] : report.lost) {
        EXPECT_GT(first, 20u) << report.detail;
        for (uint64_t seq = first; seq <= last; ++seq) lost.insert(seq);
    }
    for (uint64_t seq = 1; seq <= log->last_seq(); ++seq) EXPECT_EQ(log->load(seq).has_value(), !lost.contains(seq)) << seq;
}

TEST(StreamLog, WriteErrorsAreStickyAndLoseNothingDurable) {
    SimDisk disk(6);
    auto log = open_log(disk);
    ASSERT_TRUE(log->append("s", "", "kept", 0));
    log->flush();
    disk.complete();
    disk.fail_next_write(EIO);
    ASSERT_TRUE(log->append("s", "", "lost", 0));
    log->flush();
    disk.complete();
    EXPECT_EQ(log->sticky_error(), Errc::kIo);
    EXPECT_EQ(log->durable_seq(), 1u);
    EXPECT_EQ(log->append("s", "", "refused", 0).error(), Errc::kIo);
    EXPECT_EQ(log->load(1)->payload, "kept");
}

TEST(StreamLog, NoSpaceIsReportedAsSuch) {
    SimDisk disk(7);
    auto log = open_log(disk);
    disk.fail_next_write(ENOSPC);
    ASSERT_TRUE(log->append("s", "", "x", 0));
    log->flush();
    disk.complete();
    EXPECT_EQ(log->sticky_error(), Errc::kNoSpace);
}

TEST(StreamLog, FullDiskRefusesUntilSpaceIsFreedAndLosesNothing) {
    SimDisk disk(7);
    auto log = open_log(disk);
    disk.set_full(true);
    // Appends go on while the active segment has room, then the next segment cannot be made.
    uint64_t acked = 0;
    Result<uint64_t> appended = 0;
    for (int i = 0; i < 10000; ++i) {
        appended = log->append("s", "", std::string(500, 'a' + i % 26), 0);
        log->flush();
        disk.complete();
        if (!appended) break;
        acked = *appended;
    }
    ASSERT_FALSE(appended);
    EXPECT_EQ(appended.error(), Errc::kNoSpace);
    EXPECT_EQ(log->sticky_error(), Errc::kOk);
    EXPECT_EQ(log->durable_seq(), acked);
    EXPECT_EQ(log->append("s", "", std::string(500, 'x'), 0).error(), Errc::kNoSpace);
    // Space is back: the next append makes its segment and goes on from the next sequence.
    disk.set_full(false);
    auto resumed = log->append("s", "", "after", 0);
    ASSERT_TRUE(resumed);
    EXPECT_EQ(*resumed, acked + 1);
    log->flush();
    disk.complete();
    EXPECT_EQ(log->durable_seq(), acked + 1);
    log.reset();
    auto reopened = open_log(disk);
    EXPECT_EQ(reopened->last_seq(), acked + 1);
    EXPECT_EQ(reopened->state().msgs, acked + 1);
    for (uint64_t seq = 1; seq <= acked; ++seq) {
        auto record = reopened->load(seq);
        ASSERT_TRUE(record) << seq;
        EXPECT_EQ(record->payload, std::string(500, static_cast<char>('a' + (seq - 1) % 26)));
    }
    EXPECT_EQ(reopened->load(acked + 1)->payload, "after");
}

// Messages that filled the disk are purged: the purge's tombstone takes the little room left
// (a segment of two pages), and the segments it emptied go.
TEST(StreamLog, APurgeFindsRoomOnADiskThatMessagesFilled) {
    SimDisk disk(7);
    auto log = open_log(disk);
    disk.set_room(2 * kPageBytes);
    uint64_t acked = 0;
    Result<uint64_t> appended = 0;
    // Records of exactly a page: the last segment is left with no room even for a tombstone.
    const std::string payload(4047, 'a');
    ASSERT_EQ(record_bytes(1, 0, payload.size()), kPageBytes);
    for (int i = 0; i < 10000 && appended; ++i) {
        appended = log->append("s", "", payload, 0);
        log->flush();
        disk.complete();
        if (appended) acked = *appended;
    }
    ASSERT_EQ(appended.error(), Errc::kNoSpace);
    size_t files_full = disk.list_dir("/streams/S")->size();
    auto purged = log->purge({});
    ASSERT_TRUE(purged);
    EXPECT_EQ(*purged, acked);
    log->flush();
    disk.complete();
    EXPECT_EQ(log->state().msgs, 0u);
    EXPECT_LT(disk.list_dir("/streams/S")->size(), files_full);  // the full segments are gone
    log.reset();
    auto reopened = open_log(disk);
    EXPECT_EQ(reopened->state().msgs, 0u);
    EXPECT_EQ(reopened->state().first_seq, acked + 1);
}

TEST(StreamLog, OversizedRecordIsRefused) {
    SimDisk disk(8);
    auto log = open_log(disk);
    EXPECT_EQ(log->append("s", "", std::string(70 * 1024, 'x'), 0).error(), Errc::kTooLarge);
    EXPECT_EQ(log->last_seq(), 0u);
}

TEST(StreamLog, ARaisedRecordSizeTakesLargerRecordsInWritesOfTheSameSize) {
    SimDisk disk(8);
    auto log = open_log(disk);  // writes of 16 KiB, records of up to half the 64 KiB tail
    ASSERT_TRUE(log->append("s", "", "small", 0));
    const std::string large(100 * 1024, 'L');  // three fit one segment after the raise
    EXPECT_EQ(log->append("s", "", large, 0).error(), Errc::kTooLarge);
    log->raise_record_size(256 * 1024);
    log->raise_record_size(64 * 1024);  // never lowered
    // Appends until `seq` is in, flushing and completing what its way needs (a roll waits for
    // what the segment holds to be on disk; a full tail for a write).
    auto append_large = [&](uint64_t seq) {
        Result<uint64_t> appended = log->append("s", "", large, 0);
        for (int i = 0; i < 64 && !appended && appended.error() == Errc::kBusy; ++i) {
            log->flush();
            disk.complete(1);
            appended = log->append("s", "", large, 0);
        }
        ASSERT_TRUE(appended);
        EXPECT_EQ(*appended, seq);
    };
    append_large(2);
    log->flush();  // 2 goes out in writes of 16 KiB, some still in flight when 3 comes
    disk.complete(2);
    ASSERT_NO_FATAL_FAILURE(append_large(3));
    for (int i = 0; i < 64 && log->durable_seq() < 3; ++i) {
        log->flush();
        disk.complete();
    }
    EXPECT_EQ(log->durable_seq(), 3u);
    // 4 is torn by a crash: every write of it landed but the last.
    ASSERT_NO_FATAL_FAILURE(append_large(4));
    log->flush();
    while (disk.queued() > 1) disk.complete(1);  // each completion submits what waited
    ASSERT_EQ(log->durable_seq(), 3u);
    disk.lose_queued();
    disk.crash();
    log.reset();
    // Reopened without the raise (a restart with the smaller limit): what a crash can leave
    // past the end depends on the write size only, which did not change. A record whose header
    // names the next sequence but which is not whole could as well be an acknowledged one with
    // a flipped bit: its sequence is reported lost, never reused, and appends go on after it
    // in a new segment (never acknowledged: nothing acknowledged is missing).
    RecoveryReport report;
    auto reopened = open_log(disk, small_options(), &report);
    ASSERT_EQ(report.lost, (std::vector<std::pair<uint64_t, uint64_t>>{{4, 4}})) << report.detail;
    EXPECT_EQ(reopened->load(1)->payload, "small");
    EXPECT_EQ(reopened->load(2)->payload, large);
    EXPECT_EQ(reopened->load(3)->payload, large);
    EXPECT_FALSE(reopened->load(4));
    EXPECT_EQ(reopened->append("s", "", large, 0).error(), Errc::kTooLarge);
    Result<uint64_t> after = reopened->append("s", "", "after", 0);
    for (int i = 0; i < 8 && !after && after.error() == Errc::kBusy; ++i) {
        reopened->flush();
        disk.complete();
        after = reopened->append("s", "", "after", 0);
    }
    ASSERT_TRUE(after);
    EXPECT_EQ(*after, 5u);
    for (int i = 0; i < 8 && reopened->durable_seq() < 5; ++i) {
        reopened->flush();
        disk.complete();
    }
    reopened.reset();
    disk.crash();
    auto again = open_log(disk, small_options());
    ASSERT_EQ(again->last_seq(), 5u);
    EXPECT_EQ(again->load(3)->payload, large);
    EXPECT_FALSE(again->load(4));
    EXPECT_EQ(again->load(5)->payload, "after");
}

// A log that asks for a prefix (cut_at_a_torn_write, as the consumer log does): a record whose
// first bytes were on disk before the crash, torn by a write that never landed, with records
// after it in later writes that did. Every write in flight started after the torn record's
// start, so those records can lie more than the writes in flight past it: still a torn tail,
// cut, never a hole with later changes kept.
TEST(StreamLog, UnderCutAtATornWriteRecordsPastARecordTornAcrossWritesAreCut) {
    SimDisk disk(41);
    auto options = small_options();  // writes of 16 KiB, four in flight
    options.segment_bytes = 1 << 20;
    options.tail_bytes_max = 128 * 1024;
    options.cut_at_a_torn_write = true;
    {
        auto log = open_log(disk, options);
        ASSERT_TRUE(log->append("s", "", "acked", 0));
        log->flush();
        disk.complete();
        ASSERT_EQ(log->durable_seq(), 1u);
        // 2 and 3 of 30 KiB, 4 of 10 KiB: writes [4, 20), [20, 36), [36, 52), [52, 68) KiB go
        // out, [68, 76) waits for a slot. 4 starts in the fourth and ends in the fifth.
        ASSERT_TRUE(log->append("s", "", std::string(30 * 1024, 'b'), 0));
        ASSERT_TRUE(log->append("s", "", std::string(30 * 1024, 'c'), 0));
        ASSERT_TRUE(log->append("s", "", std::string(10 * 1024, 'd'), 0));
        log->flush();
        ASSERT_EQ(disk.queued(), 4u);
        disk.complete_nth(0);  // [4, 20): 2's start; the fifth write goes out
        ASSERT_EQ(disk.queued(), 4u);
        disk.complete_nth(1);  // [36, 52)
        disk.complete_nth(1);  // [52, 68)
        disk.complete_nth(1);  // [68, 76): 4 whole; [20, 36) never lands
        ASSERT_EQ(log->durable_seq(), 1u);
        disk.lose_queued();
        disk.crash();
    }
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    EXPECT_EQ(log->last_seq(), 1u) << report.detail;
    EXPECT_TRUE(report.lost.empty()) << report.detail;
    EXPECT_GT(report.truncated_bytes, 0u);
    EXPECT_EQ(log->load(1)->payload, "acked");
    EXPECT_FALSE(log->load(4));
    ASSERT_EQ(*log->append("s", "", "after", 0), 2u);
}

TEST(StreamLog, FullTailAnswersBusyUntilAWriteCompletes) {
    SimDisk disk(9);
    auto options = small_options();
    options.segment_bytes = 1 << 20;
    auto log = open_log(disk, options);
    log->flush();
    Result<uint64_t> appended;
    int accepted = 0;
    while ((appended = log->append("s", "", std::string(1000, 'x'), 0))) ++accepted;
    EXPECT_EQ(appended.error(), Errc::kBusy);
    EXPECT_GT(accepted, 10);
    log->flush();
    disk.complete();
    EXPECT_TRUE(log->append("s", "", "again", 0));
}

TEST(StreamLog, RollWaitsUntilTheFullSegmentIsOnDisk) {
    SimDisk disk(13);
    auto options = small_options();
    options.tail_bytes_max = 128 * 1024;  // more than a segment: the first refusal is the roll's
    auto log = open_log(disk, options);
    Result<uint64_t> appended;
    while ((appended = log->append("s", "", std::string(1000, 'x'), 0))) {
    }
    EXPECT_EQ(appended.error(), Errc::kBusy);
    EXPECT_EQ(disk.list_dir("/streams/S")->size(), 2u);  // the segment and the spare: no roll yet
    uint64_t full = log->last_seq();
    for (int turn = 0; turn < 10 && !appended; ++turn) {
        log->flush();
        disk.complete();
        appended = log->append("s", "", std::string(1000, 'x'), 0);
    }
    ASSERT_TRUE(appended);
    EXPECT_EQ(log->durable_seq(), full);  // the whole sealed segment was durable before the roll
}

// Appends `count` messages of `bytes` (payload_for) and makes them durable.
void fill(SimDisk& disk, const StreamLogOptions& options, uint64_t count, size_t bytes) {
    auto log = open_log(disk, options);
    for (uint64_t seq = 1; seq <= count; ++seq) {
        auto appended = log->append("s", "", payload_for(seq, bytes), 0);
        for (int turn = 0; turn < 10 && !appended; ++turn) {
            log->flush();
            disk.complete();
            appended = log->append("s", "", payload_for(seq, bytes), 0);
        }
        ASSERT_TRUE(appended);
    }
    log->flush();
    disk.complete();
}

std::vector<std::byte> file_of(SimDisk& disk, const std::string& path) {
    auto handle = *disk.open_file(path);
    auto map = *disk.map_file(handle);
    std::vector<std::byte> bytes(map.begin(), map.end());
    disk.close_file(handle);
    return bytes;
}

// Where payload_for(seq, bytes) lies in a segment file (its last place: payloads repeat every 26
// sequences).
size_t payload_offset(const std::vector<std::byte>& file, uint64_t seq, size_t bytes) {
    std::string payload = payload_for(seq, bytes);
    std::string_view text(reinterpret_cast<const char*>(file.data()), file.size());
    size_t at = text.rfind(payload);
    EXPECT_NE(at, std::string_view::npos) << seq;
    return at;
}

// Every sequence outside `lost` in [1, last] loads with its own payload; those in it never load.
void expect_only_lost(StreamLog& log, uint64_t last, std::pair<uint64_t, uint64_t> lost, size_t bytes) {
    EXPECT_EQ(log.last_seq(), last);
    for (uint64_t seq = 1; seq <= last; ++seq) {
        auto record = log.load(seq);
        if (seq >= lost.first && seq <= lost.second) {
            EXPECT_FALSE(record) << seq;
        } else {
            ASSERT_TRUE(record) << seq;
            EXPECT_EQ(record->payload, payload_for(seq, bytes)) << seq;
        }
    }
}

TEST(StreamLog, DamageInASealedSegmentLosesOnlyTheDamagedRecord) {
    SimDisk disk(15);
    auto options = small_options();
    fill(disk, options, 200, 700);
    const std::string first = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, first);
    bytes[4096 + 100] ^= std::byte{1};  // in seq 1's payload
    disk.put_file(first, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log);
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    EXPECT_EQ(report.lost[0], (std::pair<uint64_t, uint64_t>{1, 1}));
    EXPECT_NE(report.detail.find("sequences 1-1 lost"), std::string::npos) << report.detail;
    expect_only_lost(*log, 200, {1, 1}, 700);
    EXPECT_EQ(file_of(disk, first), bytes);  // the damaged file is left as it is
    // The sequence is never reused, and the damaged segment is never rewritten.
    EXPECT_EQ(*log->append("s", "", "next", 0), 201u);
    EXPECT_FALSE(log->compact(10) && file_of(disk, first) != bytes);
}

TEST(StreamLog, AnUnreadablePageRefusesTheOpenAndChangesNothing) {
    SimDisk disk(17);
    auto options = small_options();
    fill(disk, options, 200, 700);
    std::vector<std::string> names = *disk.list_dir("/streams/S");
    std::sort(names.begin(), names.end());
    disk.fail_read("/streams/S/" + names.front(), 3 * 4096);
    std::map<std::string, std::vector<std::byte>> before;
    for (const std::string& name : names) before[name] = disk.file("/streams/S/" + name);
    RecoveryReport report;
    auto log = StreamLog::open(disk, options, &report);
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error(), Errc::kIo);
    EXPECT_NE(report.detail.find("could not be read"), std::string::npos) << report.detail;
    for (const std::string& name : names) EXPECT_EQ(disk.file("/streams/S/" + name), before[name]) << name;
}

TEST(StreamLog, AReadErrorWhileServingRefusesOnlyWhatItCovers) {
    SimDisk disk(18);
    auto options = small_options();
    fill(disk, options, 200, 700);
    auto log = open_log(disk, options);
    ASSERT_TRUE(log);
    // Seq 1 starts at 4096 in the first segment: its page can no longer be read.
    disk.fail_read("/streams/S/00000000000000000001.seg", 4096);
    EXPECT_EQ(log->load(1).error(), Errc::kIo);
    for (uint64_t seq = 10; seq <= 200; ++seq) EXPECT_EQ(log->load(seq)->payload, payload_for(seq, 700)) << seq;
    EXPECT_EQ(*log->append("s", "", "next", 0), 201u);
}

TEST(StreamLog, AZeroedSectorLosesTheRecordsItCovers) {
    SimDisk disk(16);
    auto options = small_options();
    fill(disk, options, 200, 700);
    const std::string first = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, first);
    std::fill(bytes.begin() + 3 * 4096, bytes.begin() + 4 * 4096, std::byte{0});
    disk.put_file(first, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log);
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    auto [lost_first, lost_last] = report.lost[0];
    // 4 KiB holds about six 700-byte records: those touching it, and no others, are gone.
    EXPECT_GE(lost_last - lost_first + 1, 5u);
    EXPECT_LE(lost_last - lost_first + 1, 8u);
    expect_only_lost(*log, 200, report.lost[0], 700);
}

TEST(StreamLog, AZeroedStretchFromARecordStartIsNotTheEndOfTheLog) {
    SimDisk disk(19);
    auto options = small_options();
    fill(disk, options, 200, 700);
    const std::string first = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, first);
    std::fill(bytes.begin() + 4096, bytes.begin() + 2 * 4096, std::byte{0});  // from seq 1's start
    disk.put_file(first, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log);
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    EXPECT_EQ(report.lost[0].first, 1u);
    expect_only_lost(*log, 200, report.lost[0], 700);
}

TEST(StreamLog, AMissingOrCutSegmentLosesOnlyItsSequences) {
    SimDisk disk(17);
    auto options = small_options();
    fill(disk, options, 300, 700);
    ASSERT_GT(disk.list_dir("/streams/S")->size(), 3u);
    // The second segment is gone; the first one's end is zeroed from its fourth page on.
    ASSERT_TRUE(disk.remove_file("/streams/S/00000000000000000002.seg"));
    const std::string first = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, first);
    std::fill(bytes.begin() + 4 * 4096, bytes.end(), std::byte{0});
    disk.put_file(first, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log) << report.detail;
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    // From the first record past the zeroed start of segment 1 to the end of segment 2.
    EXPECT_LE(report.lost[0].first, 20u);
    EXPECT_GE(report.lost[0].second, report.lost[0].first + 80);
    expect_only_lost(*log, 300, report.lost[0], 700);
}

TEST(StreamLog, ATruncatedSealedSegmentLosesOnlyWhatWasCut) {
    SimDisk disk(20);
    auto options = small_options();
    fill(disk, options, 300, 700);
    const std::string first = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, first);
    bytes.resize(5 * 4096 + 123);  // cut in the middle of a record
    disk.put_file(first, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log) << report.detail;
    EXPECT_NE(report.detail.find("truncated to 20603 of 65536 bytes"), std::string::npos) << report.detail;
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    // The records wholly before the cut stay: about 22 of 700 B in 20 KiB.
    EXPECT_GE(report.lost[0].first, 20u);
    EXPECT_LE(report.lost[0].first, 30u);
    expect_only_lost(*log, 300, report.lost[0], 700);
    EXPECT_EQ(file_of(disk, first), bytes);  // left as it is
    EXPECT_EQ(*log->append("s", "", "next", 0), 301u);
}

TEST(StreamLog, ATruncatedLastSegmentKeepsWhatIsLeftAndAppendsElsewhere) {
    SimDisk disk(21);
    auto options = small_options();
    fill(disk, options, 60, 700);  // all in the first segment
    const std::string only = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, only);
    bytes.resize(8 * 4096);
    disk.put_file(only, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log) << report.detail;
    EXPECT_NE(report.detail.find("truncated to 32768"), std::string::npos) << report.detail;
    uint64_t kept = log->last_seq();
    EXPECT_GE(kept, 35u);  // 28 KiB of records of about 740 B
    EXPECT_LT(kept, 60u);
    for (uint64_t seq = 1; seq <= kept; ++seq) EXPECT_EQ(log->load(seq)->payload, payload_for(seq, 700)) << seq;
    auto next = log->append("s", "", "next", 0);
    ASSERT_TRUE(next);
    log->flush();
    disk.complete();
    EXPECT_EQ(file_of(disk, only), bytes);  // never written to again
    log.reset();
    auto reopened = open_log(disk, options);
    ASSERT_TRUE(reopened);
    EXPECT_EQ(reopened->load(*next)->payload, "next");
    EXPECT_EQ(reopened->load(kept)->payload, payload_for(kept, 700));
}

TEST(StreamLog, DamageDeepInTheActiveSegmentIsNotATornTail) {
    SimDisk disk(18);
    auto options = small_options();
    options.flush_bytes_max = 4096;  // a crash can tear at most the last 16 KiB written
    fill(disk, options, 60, 700);    // all in the first segment (64 KiB)
    const std::string active = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, active);
    bytes[4096 + 100] ^= std::byte{1};
    disk.put_file(active, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log);
    EXPECT_EQ(report.truncated_bytes, 0u) << report.detail;  // nothing acknowledged was erased
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    expect_only_lost(*log, 60, {1, 1}, 700);
    EXPECT_EQ(*log->append("s", "", "next", 0), 61u);
}

TEST(StreamLog, DamageNearTheEndOfTheActiveSegmentKeepsWhatFollows) {
    SimDisk disk(19);
    auto options = small_options();
    fill(disk, options, 60, 700);  // all in the first segment, within a crash's reach of its end
    const std::string active = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, active);
    bytes[payload_offset(bytes, 56, 700) + 300] ^= std::byte{1};  // in seq 56's payload
    disk.put_file(active, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log);
    EXPECT_EQ(report.truncated_bytes, 0u) << report.detail;  // the acknowledged records after it stay
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    EXPECT_EQ(report.lost[0], (std::pair<uint64_t, uint64_t>{56, 56})) << report.detail;
    expect_only_lost(*log, 60, {56, 56}, 700);
    EXPECT_EQ(*log->append("s", "", "next", 0), 61u);
}

TEST(StreamLog, ADamagedLastRecordNeverGivesItsSequenceAgain) {
    SimDisk disk(20);
    auto options = small_options();
    fill(disk, options, 60, 700);
    const std::string active = "/streams/S/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, active);
    bytes[payload_offset(bytes, 60, 700) + 300] ^= std::byte{1};  // seq 60's payload: nothing valid after it
    disk.put_file(active, bytes);
    for (int run = 0; run < 2; ++run) {  // and the same again at the next recovery
        RecoveryReport report;
        auto log = open_log(disk, options, &report);
        ASSERT_TRUE(log);
        ASSERT_EQ(report.lost.size(), 1u) << report.detail;
        EXPECT_EQ(report.lost[0], (std::pair<uint64_t, uint64_t>{60, 60})) << report.detail;
        expect_only_lost(*log, 60 + run, {60, 60}, 700);
        if (run == 0) {
            ASSERT_EQ(*log->append("s", "", payload_for(61, 700), 0), 61u);
            log->flush();
            disk.complete();
        }
    }
    EXPECT_EQ(file_of(disk, active), bytes);  // the damaged record is left on disk as it is
}

TEST(StreamLog, ALeftoverSpareIsRemovedAtRecovery) {
    SimDisk disk(14);
    auto options = small_options();
    {
        auto log = StreamLog::open(disk, options, nullptr);  // the spare is being prepared
        ASSERT_TRUE(log);
    }
    disk.crash();
    auto names = disk.list_dir(options.dir);
    EXPECT_NE(std::find(names->begin(), names->end(), "spare.tmp"), names->end());
    auto log = open_log(disk, options);
    EXPECT_EQ(log->last_seq(), 0u);
}

// A KV bucket: few keys, many updates, one message kept per key. Without compaction every
// segment keeps a few live keys and disk use grows forever.
TEST(StreamLog, CompactionKeepsLiveMessagesAndShrinksSegments) {
    SimDisk disk(16);
    auto options = small_options();
    options.limits.max_msgs_per_subject = 1;
    auto log = open_log(disk, options);
    auto append = [&](const std::string& key, const std::string& value) {
        auto seq = log->append(key, "", value, 0);
        for (int turn = 0; turn < 10 && !seq; ++turn) {
            log->flush();
            disk.complete();
            seq = log->append(key, "", value, 0);
        }
        ASSERT_TRUE(seq);
    };
    for (int round = 0; round < 300; ++round) {
        append("kv.key" + std::to_string(round % 5), std::string(600, 'v') + std::to_string(round));
    }
    append("kv.rare", "kept");  // a key written once, early in a later segment
    for (int round = 300; round < 600; ++round) {
        append("kv.key" + std::to_string(round % 5), std::string(600, 'v') + std::to_string(round));
    }
    log->flush();
    disk.complete();
    StoreState before = log->state();
    auto compacted = log->compact(100);
    ASSERT_TRUE(compacted);
    EXPECT_GT(*compacted, 0u);
    StoreState after = log->state();
    EXPECT_EQ(after.msgs, before.msgs);
    EXPECT_EQ(after.first_seq, before.first_seq);
    EXPECT_EQ(after.last_seq, before.last_seq);
    EXPECT_EQ(log->load_last("kv.rare")->payload, "kept");
    // A crash midway through a later compaction leaves compact.tmp, which recovery removes.
    disk.put_file("/streams/S/compact.tmp", std::vector<std::byte>(64 * 1024));
    disk.crash();
    log.reset();
    log = open_log(disk, options);
    StoreState reopened = log->state();
    EXPECT_EQ(reopened.msgs, before.msgs);
    EXPECT_EQ(reopened.last_seq, before.last_seq);
    EXPECT_EQ(log->load_last("kv.rare")->payload, "kept");
    for (int key = 0; key < 5; ++key) {
        auto last = log->load_last("kv.key" + std::to_string(key));
        ASSERT_TRUE(last);
        EXPECT_EQ(last->payload.substr(600), std::to_string(595 + key));
    }
}

TEST(StreamLog, SkippedSequencesAreUsedUpAndSurviveACrash) {
    SimDisk disk(21);
    auto options = small_options();
    auto log = open_log(disk, options);
    ASSERT_TRUE(log->append("m", "", "one", 1));
    ASSERT_TRUE(log->skip(4));  // 2-4 used up, no message in them
    ASSERT_TRUE(log->skip(3));  // nothing: already reached
    EXPECT_EQ(log->last_seq(), 4u);
    auto five = log->append("m", "", "five", 5);
    ASSERT_TRUE(five);
    EXPECT_EQ(*five, 5u);
    EXPECT_FALSE(log->load(3));
    EXPECT_EQ(log->state().msgs, 2u);
    EXPECT_EQ(log->state().num_deleted, 3u);
    log->flush();
    disk.complete();
    EXPECT_EQ(log->durable_seq(), 5u);
    ASSERT_TRUE(log->skip(9));
    log->flush();
    disk.complete();
    EXPECT_EQ(log->durable_seq(), 9u);
    disk.crash();
    log.reset();
    RecoveryReport report;
    log = open_log(disk, options, &report);
    EXPECT_TRUE(report.lost.empty()) << report.detail;
    EXPECT_EQ(log->last_seq(), 9u);
    EXPECT_EQ(log->load(1)->payload, "one");
    EXPECT_EQ(log->load(5)->payload, "five");
    for (uint64_t seq : {2, 3, 4, 6, 9}) EXPECT_FALSE(log->load(seq)) << seq;
    auto ten = log->append("m", "", "ten", 10);
    ASSERT_TRUE(ten);
    EXPECT_EQ(*ten, 10u);
}

TEST(StreamLog, ASkipIsNotDurableBeforeItsRecord) {
    SimDisk disk(22);
    auto log = open_log(disk);
    ASSERT_TRUE(log->append("m", "", "one", 1));
    log->flush();
    disk.complete();
    ASSERT_TRUE(log->skip(50));
    EXPECT_EQ(log->durable_seq(), 1u);
    log->flush();
    disk.complete();
    EXPECT_EQ(log->durable_seq(), 50u);
}

TEST(StreamLog, ALongSkipInAnEmptyLogStartsASegmentPastIt) {
    SimDisk disk(23);
    auto options = small_options();
    auto log = open_log(disk, options);
    ASSERT_TRUE(log->append("m", "", "one", 1));
    ASSERT_TRUE(log->purge({}));
    uint64_t through = 1'000'000'000;
    ASSERT_TRUE(skip_when_idle(*log, disk, through));
    EXPECT_EQ(log->state().first_seq, through + 1);
    auto next = log->append("m", "", "next", 2);
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, through + 1);
    log->flush();
    disk.complete();
    log->flush();
    disk.complete();
    disk.crash();
    log.reset();
    RecoveryReport report;
    log = open_log(disk, options, &report);
    EXPECT_TRUE(report.lost.empty()) << report.detail;
    EXPECT_EQ(log->state().first_seq, through + 1);
    EXPECT_EQ(log->last_seq(), through + 1);
    EXPECT_EQ(log->load(through + 1)->payload, "next");
    EXPECT_EQ(disk.list_dir(options.dir)->size(), 1u + log->spare_ready());  // the old segment went
}

TEST(StreamLog, ALongSkipKeepsTheNewestMessagesTimeThroughACrash) {
    // The segments that held the time go with the skip; a purged stream still reports it.
    SimDisk disk(24);
    auto options = small_options();
    auto log = open_log(disk, options);
    ASSERT_TRUE(log->append("m", "", "one", 1234));
    ASSERT_TRUE(log->purge({}));
    uint64_t through = 5'000'000;
    ASSERT_TRUE(skip_when_idle(*log, disk, through));
    log->flush();
    disk.complete();
    disk.crash();
    log.reset();
    RecoveryReport report;
    log = open_log(disk, options, &report);
    EXPECT_TRUE(report.lost.empty()) << report.detail;
    EXPECT_EQ(log->last_seq(), through);
    EXPECT_EQ(log->state().first_seq, through + 1);
    EXPECT_EQ(log->state().msgs, 0u);
    EXPECT_EQ(log->last_timestamp(), 1234);
}

TEST(StreamLog, CompactionKeepsWhatASkipUsedUp) {
    SimDisk disk(24);
    auto options = small_options();
    auto log = open_log(disk, options);
    uint64_t expected_last = 0;
    for (int round = 0; round < 200; ++round) {
        auto seq = log->append("k", "", std::string(600, 'v'), 0);
        for (int turn = 0; turn < 10 && !seq; ++turn) {
            log->flush();
            disk.complete();
            seq = log->append("k", "", std::string(600, 'v'), 0);
        }
        ASSERT_TRUE(seq);
        if (round % 3 == 0) {
            ASSERT_TRUE(log->remove(*seq));
        }
        if (round % 7 == 0) {
            ASSERT_TRUE(log->skip(*seq + 3));
        }
        expected_last = log->last_seq();
    }
    settle(*log, disk);
    StoreState before = log->state();
    auto compacted = log->compact(100);
    ASSERT_TRUE(compacted);
    EXPECT_GT(*compacted, 0u);
    disk.crash();
    log.reset();
    RecoveryReport report;
    log = open_log(disk, options, &report);
    EXPECT_TRUE(report.lost.empty()) << report.detail;
    EXPECT_EQ(log->last_seq(), expected_last);
    EXPECT_EQ(log->state().msgs, before.msgs);
}

TEST(StreamLog, ForeignFilesAreRefused) {
    SimDisk disk(10);
    disk.put_file("/streams/S/notes.txt", std::vector<std::byte>(10));
    RecoveryReport report;
    auto log = StreamLog::open(disk, small_options(), &report);
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error(), Errc::kForeign);
    EXPECT_NE(report.detail.find("notes.txt"), std::string::npos);
}

TEST(StreamLog, SegmentWithABadHeaderIsRefused) {
    SimDisk disk(11);
    disk.put_file("/streams/S/00000000000000000001.seg", std::vector<std::byte>(64 * 1024));
    auto log = StreamLog::open(disk, small_options(), nullptr);
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error(), Errc::kForeign);
}

TEST(StreamLog, CorruptRecordIsNeverServedNorItsSequenceGivenAgain) {
    SimDisk disk(12);
    auto options = small_options();
    {
        auto log = open_log(disk, options);
        for (int i = 0; i < 30; ++i) ASSERT_TRUE(log->append("s", "", payload_for(3, 100), 0));
        log->flush();
        disk.complete();
    }
    disk.crash();
    ASSERT_FALSE(disk.flip_random_bit().empty());
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    EXPECT_EQ(log->last_seq(), 30u) << report.detail;
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    auto [first, last] = report.lost[0];
    for (uint64_t seq = 1; seq <= 30; ++seq) {
        if (seq >= first && seq <= last) {
            EXPECT_FALSE(log->load(seq)) << seq;
        } else {
            EXPECT_EQ(log->load(seq)->payload, payload_for(3, 100)) << seq;
        }
    }
    // New appends continue after it, and a second recovery neither resurrects nor reuses it.
    ASSERT_EQ(*log->append("s", "", "new", 0), 31u);
    log->flush();
    disk.complete();
    log.reset();
    disk.crash();
    log = open_log(disk, options, &report);
    EXPECT_EQ(log->last_seq(), 31u);
    EXPECT_FALSE(log->load(first));
    EXPECT_EQ(log->load(31)->payload, "new");
}

// Segment index files (store/README.md): a sealed segment is read from its index at a restart.

bool has_file(SimDisk& disk, const std::string& dir, const std::string& name) {
    auto names = disk.list_dir(dir);
    return names && std::find(names->begin(), names->end(), name) != names->end();
}

size_t count_files(SimDisk& disk, const std::string& dir, std::string_view suffix) {
    auto names = disk.list_dir(dir);
    return names ? std::count_if(names->begin(), names->end(), [&](const std::string& n) { return n.ends_with(suffix); }) : 0;
}

Result<uint64_t> append_retrying(SimDisk& disk, StreamLog& log, const std::string& subject, const std::string& payload) {
    auto appended = log.append(subject, "", payload, 1000);
    for (int turn = 0; turn < 10 && !appended && appended.error() == Errc::kBusy; ++turn) {
        log.flush();
        disk.complete();
        appended = log.append(subject, "", payload, 1000);
    }
    return appended;
}

// fill(), then every sealed segment indexed, as a clean stop leaves them.
void fill_indexed(SimDisk& disk, const StreamLogOptions& options, uint64_t count, size_t bytes) {
    fill(disk, options, count, bytes);
    auto log = open_log(disk, options);
    ASSERT_TRUE(log->checkpoint());
}

TEST(StreamLog, ASealedSegmentIsReadFromItsIndexWithEveryDeletionKept) {
    SimDisk disk(40);
    auto options = small_options();
    StoreState before;
    std::vector<std::string> loaded;  // [seq - 1]: the payload, or "" where nothing loads
    {
        auto log = open_log(disk, options);
        for (uint64_t seq = 1; seq <= 300; ++seq) {
            ASSERT_TRUE(append_retrying(disk, *log, seq % 2 ? "a" : "b", payload_for(seq, 700)));
        }
        // Tombstones in the last segments that delete from the first ones, and a purge floor.
        ASSERT_TRUE(log->remove(5));
        ASSERT_TRUE(log->remove(150));
        ASSERT_TRUE(log->purge({.subject = "b", .up_to_seq = 60}));
        ASSERT_TRUE(log->purge({.up_to_seq = 3}));
        settle(*log, disk);  // as a clean stop does: every deletion durable
        ASSERT_TRUE(log->checkpoint());
        before = log->state();
        for (uint64_t seq = 1; seq <= 300; ++seq) {
            auto record = log->load(seq);
            loaded.push_back(record ? std::string(record->payload) : std::string());
        }
    }
    size_t segments = count_files(disk, options.dir, ".seg");
    ASSERT_GT(segments, 3u);
    EXPECT_EQ(count_files(disk, options.dir, ".idx"), segments - 1);  // every sealed one
    disk.crash();
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    EXPECT_EQ(report.indexed_segments, segments - 1);
    StoreState after = log->state();
    EXPECT_EQ(after.msgs, before.msgs);
    EXPECT_EQ(after.bytes, before.bytes);
    EXPECT_EQ(after.first_seq, before.first_seq);
    EXPECT_EQ(after.last_seq, before.last_seq);
    EXPECT_EQ(after.num_subjects, before.num_subjects);
    EXPECT_EQ(after.num_deleted, before.num_deleted);
    EXPECT_EQ(log->last_timestamp(), 1000);
    for (uint64_t seq = 1; seq <= 300; ++seq) {
        auto record = log->load(seq);
        EXPECT_EQ(record ? std::string(record->payload) : std::string(), loaded[seq - 1]) << seq;
    }
    EXPECT_EQ(log->subject_count("b"), 120u);  // 150 less those below 60
    EXPECT_EQ(log->next_seq(1, "b").value_or(0), 60u);
    EXPECT_FALSE(log->verify(UINT64_MAX, &report));
    EXPECT_TRUE(report.lost.empty()) << report.detail;
    EXPECT_EQ(*append_retrying(disk, *log, "a", "next"), 301u);
}

TEST(StreamLog, DamageInAnIndexedSegmentIsRefusedUntilVerifyReportsItLost) {
    SimDisk disk(41);
    auto options = small_options();
    fill_indexed(disk, options, 200, 700);
    const std::string dir = options.dir;
    ASSERT_TRUE(has_file(disk, dir, "00000000000000000001.idx"));
    const std::string first = dir + "/00000000000000000001.seg";
    std::vector<std::byte> bytes = file_of(disk, first);
    bytes[4096 + record_bytes(1, 0, 700) + 150] ^= std::byte{1};  // in seq 2's payload
    disk.put_file(first, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    EXPECT_GT(report.indexed_segments, 0u);
    EXPECT_TRUE(report.lost.empty()) << report.detail;  // not read at the start
    auto record = log->load(2);
    ASSERT_FALSE(record);
    EXPECT_EQ(record.error(), Errc::kCorruptRecord);  // refused, never served
    size_t calls = 1;
    while (log->verify(4096, &report)) ++calls;
    EXPECT_GT(calls, 10u);  // a bounded amount per call
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    EXPECT_EQ(report.lost[0], (std::pair<uint64_t, uint64_t>{2, 2}));
    EXPECT_NE(report.detail.find("00000000000000000001.seg: damaged at offset 4848, sequences 2-2 lost"),
              std::string::npos) << report.detail;
    expect_only_lost(*log, 200, {2, 2}, 700);
    EXPECT_FALSE(has_file(disk, dir, "00000000000000000001.idx"));  // so every later start scans it
    EXPECT_EQ(file_of(disk, first), bytes);
    log.reset();
    RecoveryReport again;
    log = open_log(disk, options, &again);
    ASSERT_EQ(again.lost.size(), 1u) << again.detail;
    EXPECT_EQ(again.lost[0], (std::pair<uint64_t, uint64_t>{2, 2}));
    EXPECT_EQ(*log->append("s", "", "next", 0), 201u);  // never given again
}

TEST(StreamLog, AnIndexThatDoesNotMatchItsSegmentIsNotUsed) {
    SimDisk disk(42);
    auto options = small_options();
    fill_indexed(disk, options, 200, 700);
    const std::string index = options.dir + "/00000000000000000001.idx";
    size_t sealed = count_files(disk, options.dir, ".idx");
    ASSERT_GT(sealed, 1u);
    // A flipped bit in the index: the segment is scanned, and its index written again later.
    std::vector<std::byte> bytes = file_of(disk, index);
    bytes[4096 + 30] ^= std::byte{4};
    disk.put_file(index, bytes);
    // An index left from a segment that was since replaced (another header): not used either.
    const std::string second = options.dir + "/00000000000000000002.seg";
    std::vector<std::byte> segment = file_of(disk, second);
    std::vector<std::byte> old_index = file_of(disk, options.dir + "/00000000000000000002.idx");
    (void)disk.remove_file(options.dir + "/00000000000000000002.idx");
    disk.put_file(options.dir + "/00000000000000000002.idx", file_of(disk, index));  // segment 1's (damaged)
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    EXPECT_EQ(report.indexed_segments, sealed - 2);
    EXPECT_TRUE(report.lost.empty()) << report.detail;
    expect_only_lost(*log, 200, {0, 0}, 700);
    EXPECT_FALSE(has_file(disk, options.dir, "00000000000000000001.idx"));
    while (log->index_sealed()) disk.complete();  // in the background, as the owner's tick does
    EXPECT_NE(file_of(disk, index), bytes);
    EXPECT_EQ(file_of(disk, options.dir + "/00000000000000000002.idx"), old_index);
    log.reset();
    log = open_log(disk, options, &report);
    EXPECT_EQ(report.indexed_segments, sealed);
    // An index of the last segment (it takes appends) or of no segment is removed.
    log.reset();
    disk.put_file(options.dir + "/00000000000000000099.idx", old_index);
    log = open_log(disk, options, &report);
    EXPECT_FALSE(has_file(disk, options.dir, "00000000000000000099.idx"));
}

TEST(StreamLog, CompactionAndRemovalTakeTheIndexWithTheSegment) {
    SimDisk disk(43);
    auto options = small_options();
    fill(disk, options, 200, 700);
    auto log = open_log(disk, options);
    ASSERT_TRUE(log->checkpoint());
    ASSERT_TRUE(has_file(disk, options.dir, "00000000000000000001.idx"));
    for (uint64_t seq = 1; seq <= 60; ++seq) {
        if (seq != 30) {
            ASSERT_TRUE(log->remove(seq));
        }
    }
    log->flush();
    disk.complete();
    ASSERT_EQ(log->compact(1).value_or(0), 1u);
    EXPECT_FALSE(has_file(disk, options.dir, "00000000000000000001.idx"));  // it described the old file
    ASSERT_TRUE(log->checkpoint());
    EXPECT_TRUE(has_file(disk, options.dir, "00000000000000000001.idx"));
    log.reset();
    disk.crash();
    RecoveryReport report;
    log = open_log(disk, options, &report);
    EXPECT_EQ(report.indexed_segments, count_files(disk, options.dir, ".seg") - 1);
    EXPECT_EQ(log->load(30)->payload, payload_for(30, 700));
    EXPECT_FALSE(log->load(29));
    EXPECT_FALSE(log->load(31));
    EXPECT_EQ(log->load(61)->payload, payload_for(61, 700));
    // A front segment with nothing live goes, and its index with it.
    ASSERT_TRUE(log->purge({.up_to_seq = 100}));
    log->flush();
    disk.complete();
    EXPECT_FALSE(has_file(disk, options.dir, "00000000000000000001.seg"));
    EXPECT_FALSE(has_file(disk, options.dir, "00000000000000000001.idx"));
}

TEST(StreamLog, AnIndexedSegmentReadsForOnRecoveredOnlyRecentRecordsWithHeaders) {
    SimDisk disk(44);
    auto options = small_options();
    {
        auto log = open_log(disk, options);
        for (uint64_t seq = 1; seq <= 300; ++seq) {
            std::string headers = seq % 2 ? "NATS/1.0\r\nNats-Msg-Id: " + std::to_string(seq) + "\r\n\r\n" : "";
            auto appended = log->append("s", headers, payload_for(seq, 700), static_cast<int64_t>(seq));
            for (int turn = 0; turn < 10 && !appended; ++turn) {
                log->flush();
                disk.complete();
                appended = log->append("s", headers, payload_for(seq, 700), static_cast<int64_t>(seq));
            }
            ASSERT_TRUE(appended);
        }
        log->flush();
        disk.complete();
        ASSERT_TRUE(log->checkpoint());
    }
    std::vector<uint64_t> seen;
    options.recovered_since_ns = 100;
    options.on_recovered = [&](const RecordView& record) {
        EXPECT_EQ(record.payload, payload_for(record.seq, 700));
        seen.push_back(record.seq);
    };
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_GT(report.indexed_segments, 2u);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    ASSERT_FALSE(seen.empty());
    EXPECT_GE(seen.front(), 100u);  // none older
    for (uint64_t seq = 101; seq <= 300; seq += 2) {
        EXPECT_TRUE(std::binary_search(seen.begin(), seen.end(), seq)) << seq;  // every one with headers
    }
    // Those without headers are read only from the last segment, which is scanned.
    EXPECT_LT(seen.size(), 150u);
}

TEST(StreamLog, SegmentsAreIndexedInTheBackgroundAsTheyAreSealed) {
    SimDisk disk(45);
    auto options = small_options();
    auto log = open_log(disk, options);
    EXPECT_FALSE(log->index_sealed());  // nothing sealed yet
    for (uint64_t seq = 1; seq <= 300; ++seq) {
        ASSERT_TRUE(append_retrying(disk, *log, "s", payload_for(seq, 700)));
        if (log->index_sealed()) {
            // One at a time: another waits for this one's completion.
            EXPECT_FALSE(log->index_sealed());
            log->flush();
            disk.complete();
        }
    }
    log->flush();
    disk.complete();
    size_t segments = count_files(disk, options.dir, ".seg");
    EXPECT_EQ(count_files(disk, options.dir, ".idx"), segments - 1);
    EXPECT_FALSE(has_file(disk, options.dir, "indexing.tmp"));
    // A crash now still finds them: no scan of the sealed segments.
    log.reset();
    disk.crash();
    RecoveryReport report;
    log = open_log(disk, options, &report);
    EXPECT_EQ(report.indexed_segments, segments - 1);
    expect_only_lost(*log, 300, {0, 0}, 700);
    // An index being written when its segment is compacted describes nothing: dropped.
    for (uint64_t seq = 1; seq <= 60; ++seq) ASSERT_TRUE(log->remove(seq));
    log->flush();
    disk.complete();
    ASSERT_EQ(log->compact(1).value_or(0), 1u);
    ASSERT_TRUE(log->index_sealed());
    ASSERT_EQ(log->remove(61).value_or(false), true);
    log->flush();
    ASSERT_EQ(disk.queued(), 2u);
    disk.complete_nth(1);  // the tombstone's write; the index's, queued before it, stays in flight
    EXPECT_EQ(log->compact(1).value_or(0), 1u);  // rewritten again while its index is written
    disk.complete();
    EXPECT_FALSE(has_file(disk, options.dir, "00000000000000000001.idx"));
    EXPECT_FALSE(has_file(disk, options.dir, "indexing.tmp"));
    while (log->index_sealed()) disk.complete();
    EXPECT_TRUE(has_file(disk, options.dir, "00000000000000000001.idx"));
    log.reset();
    disk.crash();
    log = open_log(disk, options, &report);
    EXPECT_FALSE(log->load(61));
    EXPECT_EQ(log->load(62)->payload, payload_for(62, 700));
}

TEST(StreamLog, AReadErrorInAnIndexedSegmentIsNotTakenForDamage) {
    SimDisk disk(46);
    auto options = small_options();
    fill_indexed(disk, options, 200, 700);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_GT(report.indexed_segments, 0u);
    disk.fail_read("/streams/S/00000000000000000001.seg", 8192);  // seqs 6-11
    while (log->verify(UINT64_MAX, &report)) {
    }
    EXPECT_TRUE(report.lost.empty()) << report.detail;  // nothing dropped
    EXPECT_NE(report.detail.find("could not be read"), std::string::npos) << report.detail;
    EXPECT_EQ(log->load(7).error(), Errc::kIo);
    EXPECT_EQ(log->load(100)->payload, payload_for(100, 700));
    EXPECT_FALSE(has_file(disk, options.dir, "00000000000000000001.idx"));
    log.reset();
    // The next open scans the segment and refuses, as for any page that cannot be read.
    EXPECT_EQ(StreamLog::open(disk, options, &report).error(), Errc::kIo);
}

// The log's end as last.seq records it (mark_durable()): 300 records of 700 B, the mark written
// once in line (its file created) and once by a write.
void fill_marked(SimDisk& disk, const StreamLogOptions& options) {
    auto log = open_log(disk, options);
    for (uint64_t seq = 1; seq <= 300; ++seq) {
        ASSERT_TRUE(append_retrying(disk, *log, "s", payload_for(seq, 700)));
        if (seq == 150) {
            log->flush();
            disk.complete();
            log->mark_durable();
        }
    }
    log->flush();
    disk.complete();
    log->mark_durable();
    disk.complete();
}

TEST(StreamLog, AMissingLastSegmentNeverGivesItsSequencesAgain) {
    SimDisk disk(41);
    auto options = small_options();
    fill_marked(disk, options);
    ASSERT_TRUE(has_file(disk, options.dir, "last.seq"));
    auto names = *disk.list_dir(options.dir);
    std::sort(names.begin(), names.end());
    std::string last_segment;
    for (const std::string& name : names) {
        if (name.ends_with(".seg")) last_segment = name;
    }
    ASSERT_NE(last_segment, "00000000000000000001.seg");
    ASSERT_TRUE(disk.remove_file(options.dir + "/" + last_segment));
    std::pair<uint64_t, uint64_t> lost;
    for (int run = 0; run < 2; ++run) {  // and the same at the next start
        RecoveryReport report;
        auto log = open_log(disk, options, &report);
        ASSERT_TRUE(log);
        ASSERT_EQ(report.lost.size(), 1u) << report.detail;
        if (run == 0) lost = report.lost[0];
        EXPECT_EQ(report.lost[0], lost) << report.detail;
        EXPECT_EQ(lost.second, 300u);
        EXPECT_GT(lost.first, 150u);
        expect_only_lost(*log, 300 + run, lost, 700);
        if (run == 0) {
            EXPECT_EQ(*log->append("s", "", payload_for(301, 700), 0), 301u);
            log->flush();
            disk.complete();
        }
    }
}

TEST(StreamLog, ALastRecordWhoseHeaderIsDamagedNeverGivesItsSequenceAgain) {
    SimDisk disk(42);
    auto options = small_options();
    fill_marked(disk, options);
    auto names = *disk.list_dir(options.dir);
    std::sort(names.begin(), names.end());
    std::string active;
    for (const std::string& name : names) {
        if (name.ends_with(".seg")) active = options.dir + "/" + name;
    }
    // Two bits of seq 300's header: it no longer names its sequence, nothing valid follows it,
    // and it reads as the torn write a crash leaves. The mark says it was durable.
    std::vector<std::byte> bytes = file_of(disk, active);
    size_t record = payload_offset(bytes, 300, 700) - kRecordHeaderBytes - 1;
    bytes[record + 8] ^= std::byte{0x11};
    disk.put_file(active, bytes);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log);
    ASSERT_EQ(report.lost.size(), 1u) << report.detail;
    EXPECT_EQ(report.lost[0], (std::pair<uint64_t, uint64_t>{300, 300})) << report.detail;
    expect_only_lost(*log, 300, {300, 300}, 700);
    EXPECT_EQ(*log->append("s", "", payload_for(301, 700), 0), 301u);
}

TEST(StreamLog, ATornWriteAfterTheMarkIsCutAndAnUnusableMarkIsIgnored) {
    SimDisk disk(43);
    auto options = small_options();
    fill_marked(disk, options);
    {
        auto log = open_log(disk, options);
        ASSERT_TRUE(append_retrying(disk, *log, "s", payload_for(301, 700)));
        log->flush();  // never completes: a crash tears it
    }
    disk.crash();
    // What was never acknowledged past the mark is cut as before, and nothing is lost.
    {
        RecoveryReport report;
        auto log = open_log(disk, options, &report);
        ASSERT_TRUE(log);
        EXPECT_TRUE(report.lost.empty()) << report.detail;
        EXPECT_EQ(log->last_seq(), 300u);
    }
    // A mark that fails its checksum is not used: the log ends where its segments do.
    std::vector<std::byte> mark = file_of(disk, options.dir + "/last.seq");
    uint64_t far = 1000;
    std::memcpy(mark.data() + 24, &far, 8);
    disk.put_file(options.dir + "/last.seq", mark);
    RecoveryReport report;
    auto log = open_log(disk, options, &report);
    ASSERT_TRUE(log);
    EXPECT_TRUE(report.lost.empty()) << report.detail;
    EXPECT_EQ(log->last_seq(), 300u);
}

}  // namespace
}  // namespace ringtail::store
