#include "core/conn/out_queue.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace ringtail::core {
namespace {

// What a send of the queue's message would put on the wire, the first `limit` bytes of it.
std::string gathered(const msghdr* message, size_t limit = SIZE_MAX) {
    std::string out;
    for (size_t i = 0; i < message->msg_iovlen && out.size() < limit; ++i) {
        const iovec& part = message->msg_iov[i];
        out.append(static_cast<const char*>(part.iov_base), std::min(part.iov_len, limit - out.size()));
    }
    return out;
}

TEST(OutQueue, BytesGoOutInOrderAcrossBlocksAndPartialSends) {
    OutBlocks blocks;
    OutQueue queue(blocks);
    std::string expected;
    std::mt19937 random(7);
    std::string sent;
    for (int round = 0; round < 200; ++round) {
        // Appends of every size, some larger than a block.
        for (int i = 0; i < 20; ++i) {
            size_t bytes = random() % 3 == 0 ? random() % (OutBlocks::kBlockBytes + 5000) : random() % 300;
            std::string frame(bytes, static_cast<char>('a' + random() % 26));
            queue.tail(frame.size()).append(frame);
            expected += frame;
            ASSERT_EQ(queue.size(), expected.size() - sent.size());
        }
        // A send takes what is queued; appends go on meanwhile, into blocks it did not take.
        const msghdr* message = queue.prepare_send();
        std::string wire = gathered(message);
        std::string during(random() % 100, 'z');
        queue.tail(during.size()).append(during);
        size_t accepted = random() % (wire.size() + 1);
        EXPECT_EQ(gathered(message), wire);  // the bytes of the send in flight did not move
        queue.sent(accepted);
        sent += wire.substr(0, accepted);
        expected += during;
        ASSERT_EQ(queue.size(), expected.size() - sent.size());
    }
    while (!queue.empty()) {
        const msghdr* message = queue.prepare_send();
        std::string wire = gathered(message);
        queue.sent(wire.size());
        sent += wire;
    }
    EXPECT_EQ(sent, expected);
    EXPECT_GT(blocks.kept(), 0u);  // sent blocks are kept for reuse
}

TEST(OutQueue, TruncateTakesBackOnlyWhatWasAppendedSince) {
    OutBlocks blocks;
    OutQueue queue(blocks);
    queue.tail(5).append("first");
    const msghdr* message = queue.prepare_send();
    size_t before = queue.size();
    std::string big(OutBlocks::kBlockBytes, 'x');
    queue.tail(3).append("abc");
    queue.tail(big.size()).append(big);
    queue.truncate(before);
    EXPECT_EQ(queue.size(), 5u);
    EXPECT_EQ(gathered(message), "first");
    queue.sent(2);
    EXPECT_EQ(queue.size(), 3u);
    EXPECT_EQ(gathered(queue.prepare_send()), "rst");
    queue.sent(0);
    queue.tail(3).append("end");
    EXPECT_EQ(gathered(queue.prepare_send()), "rstend");
}

TEST(OutQueue, ClearDropsWhatNoSendHasTakenAndKeepsTheSendInFlight) {
    OutBlocks blocks;
    OutQueue queue(blocks);
    queue.tail(5).append("taken");
    const msghdr* message = queue.prepare_send();
    queue.tail(7).append("dropped");
    queue.clear();
    EXPECT_EQ(queue.size(), 5u);
    EXPECT_EQ(gathered(message), "taken");
    queue.sent(5);
    EXPECT_TRUE(queue.empty());
}

TEST(OutBlocks, KeepsEveryBlockGivenBackAndLetsGoOfWhatAPeriodDidNotUse) {
    OutBlocks blocks;
    const size_t many = OutBlocks::kKeptMin + 100;
    auto use = [&](size_t count) {
        std::vector<std::string> taken;
        for (size_t i = 0; i < count; ++i) taken.push_back(blocks.take(10));
        for (std::string& block : taken) blocks.give(std::move(block));
    };
    use(many);
    EXPECT_EQ(blocks.kept(), many);  // past kKeptMin too: a backlog that comes again finds them
    blocks.trim();
    EXPECT_EQ(blocks.kept(), many);  // they were in use during the period
    use(OutBlocks::kKeptMin + 44);
    blocks.trim();
    EXPECT_EQ(blocks.kept(), OutBlocks::kKeptMin + 44);  // 56 went unused
    blocks.trim();
    EXPECT_EQ(blocks.kept(), OutBlocks::kKeptMin);  // a period with none used: down to the floor
    blocks.trim();
    EXPECT_EQ(blocks.kept(), OutBlocks::kKeptMin);
}

TEST(OutBlocks, KeepsOnlyBlocksOfTheUsualSize) {
    OutBlocks blocks;
    std::string big = blocks.take(OutBlocks::kBlockBytes + 1);
    EXPECT_GT(big.capacity(), OutBlocks::kBlockBytes);
    blocks.give(std::move(big));
    EXPECT_EQ(blocks.kept(), 0u);
    blocks.give(blocks.take(1));
    EXPECT_EQ(blocks.kept(), 1u);
}

}  // namespace
}  // namespace ringtail::core
