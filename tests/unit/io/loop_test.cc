// io::Loop: completions reach the handler their tag names, timers fire in deadline order, a
// detached handler's late completions are dropped, and a turn with a nap still gets everything.
#include "io/loop.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

namespace ringtail::io {
namespace {

struct Recorder final : CompletionHandler {
    std::vector<std::pair<uint64_t, int32_t>> seen;
    void on_completion(uint64_t token, int32_t result, uint32_t) override { seen.emplace_back(token, result); }
};

TEST(Loop, CompletionsGoToTheHandlerTheirTagNames) {
    Loop loop;
    ASSERT_TRUE(loop.init(64));
    Recorder a, b;
    uint8_t tag_a = loop.attach(a);
    uint8_t tag_b = loop.attach(b);
    EXPECT_NE(tag_a, tag_b);
    io_uring_prep_nop(loop.sqe(Loop::user_data(tag_a, 42)));
    io_uring_prep_nop(loop.sqe(Loop::user_data(tag_b, (uint64_t{1} << 55) + 7)));
    io_uring_prep_nop(loop.sqe(Loop::kNoHandler));
    while (a.seen.empty() || b.seen.empty()) ASSERT_TRUE(loop.run_once(true));
    EXPECT_EQ(a.seen, (std::vector<std::pair<uint64_t, int32_t>>{{42, 0}}));
    EXPECT_EQ(b.seen, (std::vector<std::pair<uint64_t, int32_t>>{{(uint64_t{1} << 55) + 7, 0}}));
}

TEST(Loop, ADetachedHandlerGetsNothing) {
    Loop loop;
    ASSERT_TRUE(loop.init(64));
    Recorder gone, kept;
    uint8_t tag_gone = loop.attach(gone);
    uint8_t tag_kept = loop.attach(kept);
    io_uring_prep_nop(loop.sqe(Loop::user_data(tag_gone, 1)));
    io_uring_prep_nop(loop.sqe(Loop::user_data(tag_kept, 2)));
    loop.detach(tag_gone);
    while (kept.seen.empty()) ASSERT_TRUE(loop.run_once(true));
    EXPECT_TRUE(gone.seen.empty());
}

TEST(Loop, TimersFireInDeadlineOrderAndOnlyWhenDue) {
    Loop loop;
    ASSERT_TRUE(loop.init(64));
    std::string fired;
    Timer late([&] { fired += "L"; });
    Timer early([&] { fired += "E"; });
    Timer cancelled([&] { fired += "C"; });
    Timer moved([&] { fired += "M"; });
    auto now = Clock::now();
    loop.schedule(late, now + std::chrono::milliseconds(30));
    loop.schedule(early, now + std::chrono::milliseconds(5));
    loop.schedule(cancelled, now + std::chrono::milliseconds(10));
    loop.schedule(moved, now + std::chrono::hours(1));
    loop.schedule(moved, now + std::chrono::milliseconds(20));  // rescheduled: moves
    loop.cancel(cancelled);
    EXPECT_EQ(loop.timers_scheduled(), 3u);
    // Nothing else is in flight: run_once waits for the next timer each time.
    while (fired.size() < 3) ASSERT_TRUE(loop.run_once(true));
    EXPECT_EQ(fired, "EML");
    EXPECT_GE(Clock::now() - now, std::chrono::milliseconds(30));
    EXPECT_EQ(loop.timers_scheduled(), 0u);
    EXPECT_FALSE(late.scheduled());
}

TEST(Loop, ATimerMayRescheduleItselfAndADestroyedTimerIsForgotten) {
    Loop loop;
    ASSERT_TRUE(loop.init(64));
    int ticks = 0;
    Timer* self = nullptr;
    Timer tick([&] {
        if (++ticks < 3) loop.schedule(*self, Clock::now() + std::chrono::milliseconds(1));
    });
    self = &tick;
    loop.schedule(tick, Clock::now());
    {
        Timer doomed([] { FAIL() << "a destroyed timer fired"; });
        loop.schedule(doomed, Clock::now() + std::chrono::milliseconds(2));
    }
    while (ticks < 3) ASSERT_TRUE(loop.run_once(true));
    EXPECT_EQ(loop.timers_scheduled(), 0u);
}

TEST(Loop, ATurnWithANapTakesWhatArrivedDuringItAndWaitsForWhatComesAfter) {
    Loop loop;
    ASSERT_TRUE(loop.init(64));
    Recorder r;
    uint8_t tag = loop.attach(r);
    // Done at submission: the turn skips its nap and returns with it.
    io_uring_prep_nop(loop.sqe(Loop::user_data(tag, 1)));
    auto before = Clock::now();
    ASSERT_TRUE(loop.run_once(true, std::chrono::seconds(2)));
    EXPECT_EQ(r.seen, (std::vector<std::pair<uint64_t, int32_t>>{{1, 0}}));
    EXPECT_LT(Clock::now() - before, std::chrono::seconds(1));
    // Completes during the nap: the same turn reaps it.
    __kernel_timespec soon{0, 1'000'000};
    io_uring_prep_timeout(loop.sqe(Loop::user_data(tag, 2)), &soon, 0, 0);
    ASSERT_TRUE(loop.run_once(true, std::chrono::milliseconds(50)));
    ASSERT_EQ(r.seen.size(), 2u);
    EXPECT_EQ(r.seen[1], std::make_pair(uint64_t{2}, -ETIME));
    // Completes after the nap: the turn goes on to wait for it.
    __kernel_timespec later{0, 50'000'000};
    io_uring_prep_timeout(loop.sqe(Loop::user_data(tag, 3)), &later, 0, 0);
    ASSERT_TRUE(loop.run_once(true, std::chrono::milliseconds(1)));
    ASSERT_EQ(r.seen.size(), 3u);
    EXPECT_EQ(r.seen[2], std::make_pair(uint64_t{3}, -ETIME));
}

}  // namespace
}  // namespace ringtail::io
