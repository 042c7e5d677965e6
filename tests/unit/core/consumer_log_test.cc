// The durable log of a stream's consumers (core/js/consumer_log.h) on the simulated disk: what
// is written comes back after a restart as the live consumer had it, deletions stay deleted,
// compaction keeps every live consumer, and a damaged or lost tail costs only what was not
// durable (or the damaged record itself).
#include "core/js/consumer_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "tests/support/sim_disk.h"
#include "tests/unit/core/consumer_state_text.h"

namespace ringtail::core::js {
namespace {

using proto::js::AckPolicy;
using test::SimDisk;

const std::string kDir = "/streams/S/consumers";

std::unique_ptr<ConsumerLog> open_log(SimDisk& disk) {
    auto log = ConsumerLog::open(disk, kDir);
    EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().text);
    disk.complete();  // the spare segment's preparation
    return log ? std::move(*log) : nullptr;
}

// Submits writes and completes them until everything written is durable.
void make_durable(SimDisk& disk, ConsumerLog& log) {
    do {
        log.flush();
    } while (disk.complete() > 0);
}

// A restart with nothing in flight: the log closed, the process gone, the log opened again.
std::unique_ptr<ConsumerLog> restart(SimDisk& disk, std::unique_ptr<ConsumerLog> log) {
    log.reset();
    disk.crash();
    return open_log(disk);
}


// A consumer as its stream drives it: every event changes its state and is written to the
// log, as the live consumer does (an ack only when it changed something).
struct Tracked {
    uint32_t id = 0;
    std::string name;
    AckPolicy policy = AckPolicy::kExplicit;
    int64_t created_ns = 0;
    std::string config_json;
    ConsumerState state;

    uint64_t write(ConsumerLog& log) const {
        return log.write_consumer(id, name, policy, created_ns, config_json, state);
    }
    uint64_t deliver(ConsumerLog& log, uint64_t sseq, uint64_t dc = 1) {
        uint64_t dseq = state.delivered_consumer + 1;
        int64_t ts_ns = 1'000'000 * static_cast<int64_t>(dseq);
        state.on_delivered(policy, sseq, dseq, dc, ts_ns);
        return log.write_delivered(id, sseq, dseq, dc, ts_ns);
    }
    void ack(ConsumerLog& log, uint64_t sseq, uint64_t dseq) {
        if (state.on_acked(policy, sseq, dseq)) EXPECT_NE(log.write_acked(id, sseq, dseq), 0u);
    }
    // One seeded step: a new delivery, a redelivery or an ack of something owed.
    void step(ConsumerLog& log, std::mt19937_64& random) {
        uint64_t roll = random() % 10;
        if (policy == AckPolicy::kNone || state.pending.empty() || roll >= 5) {
            EXPECT_NE(deliver(log, state.delivered_stream + 1 + random() % 3), 0u);
            return;
        }
        auto owed = state.pending.begin();
        std::advance(owed, static_cast<long>(random() % state.pending.size()));
        uint64_t sseq = owed->first;
        if (roll == 0) {
            auto again = state.redelivered.find(sseq);
            uint64_t dc = (again == state.redelivered.end() ? 1 : again->second + 1) + 1;
            EXPECT_NE(deliver(log, sseq, dc), 0u);
        } else {
            ack(log, sseq, owed->second.consumer_seq);
        }
    }
};

Tracked create(ConsumerLog& log, const std::string& name, AckPolicy policy) {
    Tracked consumer;
    consumer.id = log.next_id();
    consumer.name = name;
    consumer.policy = policy;
    consumer.created_ns = 1'700'000'000'000'000'000 + consumer.id;
    consumer.config_json = R"({"durable_name":")" + name + R"(","ack_policy":)" +
                           std::to_string(static_cast<int>(policy)) + "}";
    EXPECT_NE(consumer.write(log), 0u);
    return consumer;
}

// `steps` seeded steps, each made durable before the next (one event per loop turn).
void run(SimDisk& disk, ConsumerLog& log, Tracked& consumer, int steps, std::mt19937_64& random) {
    for (int i = 0; i < steps; ++i) {
        consumer.step(log, random);
        make_durable(disk, log);
    }
}

void expect_recovered(const std::map<uint32_t, ConsumerLog::Recovered>& recovered,
                      const Tracked& consumer) {
    auto it = recovered.find(consumer.id);
    ASSERT_NE(it, recovered.end()) << consumer.name;
    EXPECT_EQ(it->second.name, consumer.name);
    EXPECT_EQ(it->second.ack_policy, consumer.policy);
    EXPECT_EQ(it->second.created_ns, consumer.created_ns);
    EXPECT_EQ(it->second.config_json, consumer.config_json);
    EXPECT_EQ(describe(it->second.state), describe(consumer.state)) << consumer.name;
}

std::vector<std::string> segment_files(SimDisk& disk) {
    std::vector<std::string> names = *disk.list_dir(kDir);
    std::erase_if(names, [](const std::string& name) { return !name.ends_with(".seg"); });
    std::sort(names.begin(), names.end());
    return names;
}

// ---------------------------------------------------------------------------------------------
// What comes back

TEST(ConsumerLog, AnEmptyLogRecoversNoConsumers) {
    SimDisk disk(1);
    auto log = open_log(disk);
    EXPECT_TRUE(log->take_recovered().empty());
    log = restart(disk, std::move(log));
    EXPECT_TRUE(log->take_recovered().empty());
}

TEST(ConsumerLog, AConsumerOfEachAckPolicyComesBackAsItsEventsLeftIt) {
    SimDisk disk(2);
    std::mt19937_64 random(2);
    auto log = open_log(disk);
    std::vector<Tracked> consumers = {create(*log, "explicit", AckPolicy::kExplicit),
                                      create(*log, "all", AckPolicy::kAll),
                                      create(*log, "none", AckPolicy::kNone)};
    for (int i = 0; i < 300; ++i) {
        for (Tracked& consumer : consumers) run(disk, *log, consumer, 1, random);
    }
    for (const Tracked& consumer : consumers) ASSERT_GT(consumer.state.delivered_consumer, 0u);
    ASSERT_FALSE(consumers[0].state.pending.empty());  // something is still owed
    ASSERT_FALSE(consumers[0].state.redelivered.empty());
    log = restart(disk, std::move(log));
    auto recovered = log->take_recovered();
    EXPECT_EQ(recovered.size(), 3u);
    for (const Tracked& consumer : consumers) expect_recovered(recovered, consumer);
}

TEST(ConsumerLog, AWriteIsDurableOnceTheLogReachesTheSequenceItReturned) {
    SimDisk disk(14);
    auto log = open_log(disk);
    std::vector<uint64_t> reported;
    log->set_durable_callback([&](uint64_t seq) { reported.push_back(seq); });
    Tracked consumer = create(*log, "c", AckPolicy::kExplicit);
    uint64_t delivered_seq = consumer.deliver(*log, 1);
    uint64_t acked_seq = log->write_acked(consumer.id, 1, 1);
    ASSERT_LT(0u, delivered_seq);
    ASSERT_LT(delivered_seq, acked_seq);
    EXPECT_LT(log->durable_seq(), delivered_seq);  // appended, not yet written
    log->flush();
    EXPECT_LT(log->durable_seq(), delivered_seq);  // written, not yet complete
    disk.complete();
    EXPECT_GE(log->durable_seq(), acked_seq);
    ASSERT_FALSE(reported.empty());
    EXPECT_GE(reported.back(), acked_seq);
}

TEST(ConsumerLog, RecoveredConsumersGoOnAndComeBackAgain) {
    SimDisk disk(3);
    std::mt19937_64 random(3);
    auto log = open_log(disk);
    Tracked consumer = create(*log, "c", AckPolicy::kExplicit);
    run(disk, *log, consumer, 100, random);
    for (int restarts = 0; restarts < 3; ++restarts) {
        log = restart(disk, std::move(log));
        auto recovered = log->take_recovered();
        expect_recovered(recovered, consumer);
        consumer.state = recovered.at(consumer.id).state;  // the consumer resumes from it
        run(disk, *log, consumer, 100, random);
    }
    log = restart(disk, std::move(log));
    expect_recovered(log->take_recovered(), consumer);
}

TEST(ConsumerLog, ALaterSnapshotReplacesConfigAndStateAndLaterEventsApplyOnTopOfIt) {
    SimDisk disk(4);
    std::mt19937_64 random(4);
    auto log = open_log(disk);
    Tracked consumer = create(*log, "c", AckPolicy::kExplicit);
    run(disk, *log, consumer, 50, random);
    // The consumer's config changed (an update, a pause) and its state moved on in a way no
    // event records (a purge of the stream): a new "S" carries both.
    consumer.config_json = R"({"durable_name":"c","description":"updated"})";
    consumer.state.on_stream_floor(consumer.state.delivered_stream);
    ASSERT_NE(consumer.write(*log), 0u);
    run(disk, *log, consumer, 50, random);
    log = restart(disk, std::move(log));
    expect_recovered(log->take_recovered(), consumer);
}

TEST(ConsumerLog, ADeletedConsumerDoesNotComeBack) {
    SimDisk disk(5);
    std::mt19937_64 random(5);
    auto log = open_log(disk);
    Tracked kept = create(*log, "kept", AckPolicy::kExplicit);
    Tracked gone = create(*log, "gone", AckPolicy::kExplicit);
    run(disk, *log, kept, 50, random);
    run(disk, *log, gone, 50, random);
    log->write_deleted(gone.id);
    run(disk, *log, kept, 50, random);
    log = restart(disk, std::move(log));
    auto recovered = log->take_recovered();
    EXPECT_EQ(recovered.size(), 1u);
    EXPECT_FALSE(recovered.contains(gone.id));
    expect_recovered(recovered, kept);
    // Nor after a second restart, when its records were replayed and skipped once already.
    log = restart(disk, std::move(log));
    recovered = log->take_recovered();
    EXPECT_EQ(recovered.size(), 1u);
    EXPECT_FALSE(recovered.contains(gone.id));
}

TEST(ConsumerLog, DeletingEveryConsumerAndPurgingLeavesNothingToRecover) {
    SimDisk disk(6);
    std::mt19937_64 random(6);
    auto log = open_log(disk);
    Tracked first = create(*log, "first", AckPolicy::kAll);
    Tracked second = create(*log, "second", AckPolicy::kExplicit);
    run(disk, *log, first, 30, random);
    run(disk, *log, second, 30, random);
    log->write_deleted(first.id);
    log->write_deleted(second.id);
    log->purge_when_durable();
    make_durable(disk, *log);
    log = restart(disk, std::move(log));
    EXPECT_TRUE(log->take_recovered().empty());
}

// ---------------------------------------------------------------------------------------------
// Ids

TEST(ConsumerLog, IdsAreNeverReusedWhileTheirConsumerLives) {
    SimDisk disk(7);
    auto log = open_log(disk);
    std::vector<Tracked> consumers;
    for (int i = 0; i < 5; ++i)
        consumers.push_back(create(*log, "c" + std::to_string(i), AckPolicy::kExplicit));
    for (size_t i = 0; i < consumers.size(); ++i) {
        for (size_t j = i + 1; j < consumers.size(); ++j)
            EXPECT_NE(consumers[i].id, consumers[j].id);
    }
    // The newest and one in the middle are deleted; the rest stay.
    log->write_deleted(consumers[4].id);
    log->write_deleted(consumers[2].id);
    make_durable(disk, *log);
    log = restart(disk, std::move(log));
    auto recovered = log->take_recovered();
    ASSERT_EQ(recovered.size(), 3u);
    for (int i = 0; i < 20; ++i) {
        uint32_t id = log->next_id();
        EXPECT_FALSE(recovered.contains(id)) << id;
        // Nor one whose records are still in the log.
        EXPECT_NE(id, consumers[2].id);
        EXPECT_NE(id, consumers[4].id);
    }
}

TEST(ConsumerLog, IdsOfLiveConsumersAreNotReusedAfterCompaction) {
    SimDisk disk(8);
    auto log = open_log(disk);
    Tracked old = create(*log, "old", AckPolicy::kExplicit);
    Tracked newest = create(*log, "newest", AckPolicy::kExplicit);
    make_durable(disk, *log);
    // Only the oldest id stays live; the newest one's records all go in the compaction.
    log->write_deleted(newest.id);
    ASSERT_NE(old.write(*log), 0u);
    log->purge_when_durable();
    make_durable(disk, *log);
    log = restart(disk, std::move(log));
    auto recovered = log->take_recovered();
    ASSERT_EQ(recovered.size(), 1u);
    expect_recovered(recovered, old);
    for (int i = 0; i < 5; ++i) EXPECT_NE(log->next_id(), old.id);
}

// ---------------------------------------------------------------------------------------------
// Compaction

TEST(ConsumerLog, CompactionIsWantedOnlyOnceRecordsFarOutnumberConsumers) {
    SimDisk disk(9);
    std::mt19937_64 random(9);
    auto log = open_log(disk);
    Tracked consumer = create(*log, "c", AckPolicy::kNone);  // every step writes a record
    run(disk, *log, consumer, 1000, random);
    EXPECT_FALSE(log->wants_compaction());
    int steps = 1000;
    while (!log->wants_compaction() && steps < 20000) {
        consumer.step(*log, random);
        make_durable(disk, *log);
        ++steps;
    }
    ASSERT_TRUE(log->wants_compaction());
    EXPECT_GT(steps, 8000);  // thousands of records per consumer, not a handful
    ASSERT_NE(consumer.write(*log), 0u);
    log->purge_when_durable();
    make_durable(disk, *log);
    EXPECT_FALSE(log->wants_compaction());
    // Replay learns where each consumer's snapshot is: still nothing to compact.
    log = restart(disk, std::move(log));
    EXPECT_FALSE(log->wants_compaction());
}

TEST(ConsumerLog, CompactionKeepsEveryLiveConsumerAcrossRestarts) {
    SimDisk disk(10);
    std::mt19937_64 random(10);
    auto log = open_log(disk);
    std::vector<Tracked> live = {create(*log, "explicit", AckPolicy::kExplicit),
                                 create(*log, "all", AckPolicy::kAll),
                                 create(*log, "none", AckPolicy::kNone)};
    Tracked gone = create(*log, "gone", AckPolicy::kExplicit);
    while (!log->wants_compaction()) {
        for (Tracked& consumer : live) run(disk, *log, consumer, 1, random);
        run(disk, *log, gone, 1, random);
    }
    log->write_deleted(gone.id);
    make_durable(disk, *log);
    size_t segments_before = segment_files(disk).size();
    ASSERT_GT(segments_before, 1u);
    // The owner's compaction: every live consumer's "S" again, then the purge.
    for (const Tracked& consumer : live) ASSERT_NE(consumer.write(*log), 0u);
    log->purge_when_durable();
    make_durable(disk, *log);
    EXPECT_FALSE(log->wants_compaction());
    EXPECT_LT(segment_files(disk).size(), segments_before);  // the space went back
    for (int i = 0; i < 100; ++i) {
        for (Tracked& consumer : live) run(disk, *log, consumer, 1, random);
    }
    log = restart(disk, std::move(log));
    auto recovered = log->take_recovered();
    EXPECT_EQ(recovered.size(), live.size());
    EXPECT_FALSE(recovered.contains(gone.id));
    for (const Tracked& consumer : live) expect_recovered(recovered, consumer);
    // And again, from the compacted log alone.
    log = restart(disk, std::move(log));
    recovered = log->take_recovered();
    for (const Tracked& consumer : live) expect_recovered(recovered, consumer);
}

TEST(ConsumerLog, ManyRecordsInOneTurnAcrossSegmentRollsAreAllKept) {
    // A turn appends many records before its flush; when a segment fills meanwhile, the
    // records wait for the roll rather than being dropped.
    SimDisk disk(15);
    std::mt19937_64 random(15);
    auto log = open_log(disk);
    Tracked consumer = create(*log, "c", AckPolicy::kExplicit);
    make_durable(disk, *log);
    for (int turn = 0; turn < 300; ++turn) {
        for (int i = 0; i < 40; ++i) EXPECT_NE(consumer.deliver(*log, consumer.state.delivered_stream + 1), 0u);
        make_durable(disk, *log);
    }
    ASSERT_GT(segment_files(disk).size(), 1u);
    log = restart(disk, std::move(log));
    expect_recovered(log->take_recovered(), consumer);
}

TEST(ConsumerLog, ACrashRightAfterCompactionKeepsEveryConsumer) {
    // The purge waits until the new snapshots are durable: a crash before that finds the old
    // records still there.
    SimDisk disk(16);
    std::mt19937_64 random(16);
    auto log = open_log(disk);
    Tracked consumer = create(*log, "c", AckPolicy::kExplicit);
    while (!log->wants_compaction()) run(disk, *log, consumer, 1, random);
    ASSERT_GT(segment_files(disk).size(), 1u);
    ASSERT_NE(consumer.write(*log), 0u);
    log->purge_when_durable();
    log->flush();  // the snapshot's write is in flight, not complete
    disk.lose_queued();
    log.reset();
    disk.crash();
    log = open_log(disk);
    expect_recovered(log->take_recovered(), consumer);
}

TEST(ConsumerLog, ASnapshotLargerThanOneRecordComesBackWhole) {
    SimDisk disk(17);
    auto log = open_log(disk);
    Tracked consumer;
    consumer.id = log->next_id();
    consumer.name = "many";
    consumer.config_json = R"({"durable_name":"many","max_ack_pending":-1})";
    for (uint64_t sseq = 1; sseq <= 30000; ++sseq) {
        consumer.state.on_delivered(AckPolicy::kExplicit, sseq, sseq, sseq % 7 == 0 ? 2 : 1,
                                    static_cast<int64_t>(sseq));
    }
    ASSERT_NE(consumer.write(*log), 0u);  // about 900 KB of state
    make_durable(disk, *log);
    ASSERT_NE(consumer.deliver(*log, 30001), 0u);
    make_durable(disk, *log);
    log = restart(disk, std::move(log));
    expect_recovered(log->take_recovered(), consumer);
}

// ---------------------------------------------------------------------------------------------
// Damage

// A consumer with `durable` steps on disk, and its state after each step (states[0]: created).
struct History {
    Tracked consumer;
    std::vector<std::string> states;
};

History durable_history(SimDisk& disk, ConsumerLog& log, int durable, std::mt19937_64& random) {
    History history{create(log, "c", AckPolicy::kExplicit), {}};
    make_durable(disk, log);
    history.states.push_back(describe(history.consumer.state));
    for (int i = 0; i < durable; ++i) {
        history.consumer.step(log, random);
        make_durable(disk, log);
        history.states.push_back(describe(history.consumer.state));
    }
    return history;
}

TEST(ConsumerLog, ALostTailKeepsEveryDurableRecord) {
    SimDisk disk(11);
    std::mt19937_64 random(11);
    auto log = open_log(disk);
    History history = durable_history(disk, *log, 60, random);
    std::string durable_state = history.states.back();
    for (int i = 0; i < 20; ++i) history.consumer.step(*log, random);
    log->flush();  // written, never completed
    disk.lose_queued();
    disk.crash();
    log.reset();
    log = open_log(disk);
    auto recovered = log->take_recovered();
    ASSERT_EQ(recovered.size(), 1u);
    EXPECT_EQ(describe(recovered.at(history.consumer.id).state), durable_state);
}

TEST(ConsumerLog, ATornTailRecoversTheDurableRecordsAndAPrefixOfTheRest) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
        SimDisk disk(100 + seed);
        std::mt19937_64 random(seed);
        auto log = open_log(disk);
        History history = durable_history(disk, *log, 40, random);
        size_t durable = history.states.size() - 1;
        for (int i = 0; i < 30; ++i) {
            history.consumer.step(*log, random);
            history.states.push_back(describe(history.consumer.state));
        }
        log->flush();
        disk.crash();  // tears the write in flight: some of its sectors land, some do not
        log.reset();
        log = open_log(disk);
        auto recovered = log->take_recovered();
        ASSERT_EQ(recovered.size(), 1u) << "seed " << seed;
        std::string state = describe(recovered.at(history.consumer.id).state);
        auto found = std::find(history.states.begin() + static_cast<long>(durable),
                               history.states.end(), state);
        EXPECT_NE(found, history.states.end()) << "seed " << seed << ": " << state;
    }
}

TEST(ConsumerLog, ADamagedLastRecordIsCutAndEverythingBeforeItKept) {
    SimDisk disk(12);
    std::mt19937_64 random(12);
    auto log = open_log(disk);
    History history = durable_history(disk, *log, 60, random);
    std::string before_last = history.states.back();
    ASSERT_NE(history.consumer.deliver(*log, history.consumer.state.delivered_stream + 1), 0u);
    make_durable(disk, *log);
    log.reset();
    disk.crash();
    // Flip a bit in the last written byte of the newest segment: the last record's checksum.
    std::string path = kDir + "/" + segment_files(disk).back();
    int handle = *disk.open_file(path);
    std::span<const std::byte> bytes = *disk.map_file(handle);
    size_t end = bytes.size();
    while (end > store::kPageBytes && bytes[end - 1] == std::byte{0}) --end;
    disk.close_file(handle);
    ASSERT_GT(end, store::kPageBytes);
    disk.flip_bit(path, end - 1);
    log = open_log(disk);
    auto recovered = log->take_recovered();
    ASSERT_EQ(recovered.size(), 1u);
    EXPECT_EQ(describe(recovered.at(history.consumer.id).state), before_last);
}

TEST(ConsumerLog, ADirectoryHoldingSomethingElseIsRefusedWithItsPath) {
    SimDisk disk(13);
    disk.put_file(kDir + "/notes.txt", std::vector<std::byte>(100, std::byte{'x'}));
    auto log = ConsumerLog::open(disk, kDir);
    ASSERT_FALSE(log);
    EXPECT_EQ(log.error().code, Errc::kForeign);
    EXPECT_NE(log.error().text.find(kDir), std::string::npos) << log.error().text;
}

}  // namespace
}  // namespace ringtail::core::js
