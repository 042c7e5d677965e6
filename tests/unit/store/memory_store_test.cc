// The memory store is StreamLog on MemoryDisk: the same behaviour, nothing on disk.
#include <gtest/gtest.h>

#include "store/memory_disk.h"
#include "store/stream_log.h"
#include "tests/support/sim_disk.h"

namespace ringtail::store {
namespace {

TEST(MemoryStore, AppendsReadsLimitsAndPurgesLikeTheFileStore) {
    MemoryDisk disk;
    StreamLogOptions options = test::small_log_options("memory/KV");
    options.limits.max_msgs_per_subject = 1;
    auto opened = StreamLog::open(disk, options, nullptr);
    ASSERT_TRUE(opened);
    auto& log = *opened;
    uint64_t durable = 0;
    log->set_durable_callback([&](uint64_t seq) { durable = seq; });
    for (int round = 0; round < 500; ++round) {
        std::string key = "kv.key" + std::to_string(round % 10);
        ASSERT_TRUE(log->append(key, "", "value" + std::to_string(round), round));
        log->flush();
        disk.poll();
    }
    EXPECT_EQ(durable, 500u);
    StoreState state = log->state();
    EXPECT_EQ(state.msgs, 10u);
    EXPECT_EQ(state.num_subjects, 10u);
    EXPECT_EQ(log->load_last("kv.key3")->payload, "value493");
    EXPECT_EQ(*log->purge({"kv.key3", 0, 0}), 1u);
    EXPECT_EQ(log->load_last("kv.key3").error(), Errc::kNotFound);
    EXPECT_EQ(log->state().msgs, 9u);
}

TEST(MemoryStore, CallbacksNeverRunInsideWrite) {
    MemoryDisk disk;
    StreamLogOptions options = test::small_log_options("memory/S");
    auto log = std::move(*StreamLog::open(disk, options, nullptr));
    disk.poll();  // the spare segment
    bool called = false;
    log->set_durable_callback([&](uint64_t) { called = true; });
    ASSERT_TRUE(log->append("s", "", "x", 0));
    log->flush();
    EXPECT_FALSE(called);
    EXPECT_EQ(disk.poll(), 1u);
    EXPECT_TRUE(called);
}

}  // namespace
}  // namespace ringtail::store
