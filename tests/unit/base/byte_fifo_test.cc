#include "base/byte_fifo.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <utility>

namespace ringtail::base {
namespace {

TEST(ByteFifo, EntriesComeOutInOrderWithTheirTagsAndParts) {
    ByteFifo<2> fifo;
    EXPECT_TRUE(fifo.empty());
    fifo.push(7, {"subject", ""});
    fifo.push(8, {"", "payload"});
    ASSERT_EQ(fifo.size(), 2u);
    auto first = fifo.front();
    EXPECT_EQ(first.tag, 7u);
    EXPECT_EQ(first.parts[0], "subject");
    EXPECT_EQ(first.parts[1], "");
    fifo.pop();
    auto second = fifo.front();
    EXPECT_EQ(second.tag, 8u);
    EXPECT_EQ(second.parts[1], "payload");
    fifo.pop();
    EXPECT_TRUE(fifo.empty());
}

// Against a deque model through a long run that is never empty, so the buffer compacts its
// consumed front while entries are live.
TEST(ByteFifo, AgreesWithADequeThroughCompaction) {
    std::mt19937_64 random(5);
    ByteFifo<1> fifo;
    std::deque<std::pair<uint64_t, std::string>> model;
    for (uint64_t i = 0; i < 200'000; ++i) {
        if (model.size() < 10 || random() % 2 == 0) {
            std::string text(random() % 300, static_cast<char>('a' + i % 26));
            fifo.push(i, {text});
            model.emplace_back(i, std::move(text));
        } else {
            auto entry = fifo.front();
            ASSERT_EQ(entry.tag, model.front().first);
            ASSERT_EQ(entry.parts[0], model.front().second);
            fifo.pop();
            model.pop_front();
        }
        ASSERT_EQ(fifo.size(), model.size());
    }
}

}  // namespace
}  // namespace ringtail::base
