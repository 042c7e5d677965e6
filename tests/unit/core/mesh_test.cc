// The mesh of rings between shards (core/shard/mesh.h), with fake doorbells and receivers: the
// record codec, control records that wait for room, back-pressure on messages, interest acks.
#include "core/shard/mesh.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ringtail::core {
namespace {

struct Doorbells final : Doorbell {
    std::vector<uint32_t> rung;
    void ring(uint32_t shard) override { rung.push_back(shard); }
};

struct Received final : MeshReceiver {
    struct Msg {
        uint32_t from;
        std::string subject, reply, headers, payload, total_text, header_text;
        bool has_headers, plain;
        std::vector<uint64_t> queue_ids;
        uint32_t account;
    };
    struct Interest {
        uint32_t from;
        uint32_t account;
        std::string subject, queue;
        int32_t delta;
    };
    std::vector<Msg> msgs;
    std::vector<Interest> interest;
    std::vector<std::string> js;
    bool reading(uint32_t) override { return true; }
    bool on_msg(uint32_t from, const MsgRecord& record) override {
        Msg msg{from,
                std::string(record.msg.subject),
                std::string(record.msg.reply),
                std::string(record.msg.headers),
                std::string(record.msg.payload),
                std::string(record.msg.total_size_text),
                std::string(record.msg.header_size_text),
                record.msg.has_headers,
                record.plain,
                {},
                record.msg.account};
        for (size_t i = 0; i < record.queue_count(); ++i) msg.queue_ids.push_back(record.queue_id(i));
        msgs.push_back(std::move(msg));
        return true;
    }
    void on_interest(uint32_t from, uint32_t account, std::string_view subject, std::string_view queue,
                     int32_t delta) override {
        interest.push_back({from, account, std::string(subject), std::string(queue), delta});
    }
    void on_js(uint32_t, const MsgView& msg) override { js.push_back(std::string(msg.subject) + " " + std::string(msg.payload)); }
    // Handed-over objects, each with how many messages had arrived before it.
    std::vector<std::pair<uint64_t, size_t>> conns;
    void on_conn(uint32_t, uint64_t handle) override { conns.emplace_back(handle, msgs.size()); }
    void on_move_record(uint32_t, RecordKind, uint64_t, uint64_t) override {}
};

constexpr size_t kRingBytes = 256 * 1024;  // small: a few dozen 4 KB messages fill it

struct Pair {
    MeshLinks links{2, kRingBytes};
    Doorbells bells0, bells1;
    Mesh zero{0, links, bells0};
    Mesh one{1, links, bells1};
};

TEST(Mesh, AMessageRecordCarriesEveryField) {
    Pair pair;
    MsgView msg{"orders.new", "_INBOX.1", "NATS/1.0\r\nA: b\r\n\r\n", "payload", true, "0042", "021"};
    msg.account = 7;
    std::vector<uint64_t> ids{11, 22};
    ASSERT_EQ(pair.zero.room_for_msg(1, msg, ids.size()), Mesh::Room::kYes);
    pair.zero.send_msg(1, msg, ids);
    pair.zero.flush();
    EXPECT_EQ(pair.bells0.rung, (std::vector<uint32_t>{1}));
    Received got;
    pair.one.drain(got);
    ASSERT_EQ(got.msgs.size(), 1u);
    const auto& m = got.msgs[0];
    EXPECT_EQ(m.from, 0u);
    EXPECT_EQ(m.subject, "orders.new");
    EXPECT_EQ(m.reply, "_INBOX.1");
    EXPECT_EQ(m.headers, msg.headers);
    EXPECT_EQ(m.payload, "payload");
    EXPECT_TRUE(m.has_headers);
    EXPECT_TRUE(m.plain);
    EXPECT_EQ(m.total_text, "0042");
    EXPECT_EQ(m.header_text, "021");
    EXPECT_EQ(m.queue_ids, ids);
    EXPECT_EQ(m.account, 7u);
}

TEST(Mesh, ManyQueueGroupsSplitIntoRecordsAndOnlyTheFirstIsPlain) {
    Pair pair;
    std::vector<uint64_t> ids(Mesh::kQueueIdsPerRecord + 5);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
    MsgView msg{"s", {}, {}, "p", false, {}, {}};
    ASSERT_EQ(pair.zero.room_for_msg(1, msg, ids.size()), Mesh::Room::kYes);
    pair.zero.send_msg(1, msg, ids);
    pair.zero.flush();
    Received got;
    pair.one.drain(got);
    ASSERT_EQ(got.msgs.size(), 2u);
    EXPECT_TRUE(got.msgs[0].plain);
    EXPECT_FALSE(got.msgs[1].plain);
    EXPECT_EQ(got.msgs[0].queue_ids.size(), Mesh::kQueueIdsPerRecord);
    EXPECT_EQ(got.msgs[1].queue_ids, (std::vector<uint64_t>{8192, 8193, 8194, 8195, 8196}));
}

TEST(Mesh, AFullRingRefusesAWholeMessageAndRingsBackOnceDrained) {
    Pair pair;
    std::string payload(4000, 'x');
    MsgView msg{"s", {}, {}, payload, false, {}, {}};
    size_t sent = 0;
    while (pair.zero.room_for_msg(1, msg, 0) == Mesh::Room::kYes) {
        pair.zero.send_msg(1, msg, {});
        ++sent;
    }
    EXPECT_GT(sent, 10u);
    EXPECT_EQ(pair.zero.room_for_msg(1, msg, 0), Mesh::Room::kFull);
    pair.zero.flush();
    Received got;
    pair.one.drain(got);
    EXPECT_EQ(got.msgs.size(), sent) << "nothing lost, nothing partial";
    // The consumer saw the producer waiting and rang its doorbell.
    EXPECT_EQ(pair.bells1.rung, (std::vector<uint32_t>{0}));
    EXPECT_EQ(pair.zero.room_for_msg(1, msg, 0), Mesh::Room::kYes);
}

TEST(Mesh, AConnectionHandedOverArrivesAfterTheMessagesSentBeforeIt) {
    MeshLinks links{3, kRingBytes};
    Doorbells bells0, bells1, bells2;
    Mesh zero{0, links, bells0}, one{1, links, bells1}, two{2, links, bells2};
    std::string payload(4000, 'x');
    MsgView msg{"s", {}, {}, payload, false, {}, {}};
    // The ring to shard 1 fills up: the handover waits behind its messages, never ahead.
    size_t sent = 0;
    while (zero.room_for_msg(1, msg, 0) == Mesh::Room::kYes) {
        zero.send_msg(1, msg, {});
        ++sent;
    }
    zero.send_conn(1, 0x1234);
    zero.flush();
    EXPECT_TRUE(zero.handled_up_to(zero.ends(), 1)) << "nothing sent to shard 2";
    ASSERT_EQ(zero.room_for_msg(2, msg, 0), Mesh::Room::kYes);
    zero.send_msg(2, msg, {});
    std::vector<uint64_t> ends = zero.ends();
    zero.flush();
    bells2.rung.clear();
    EXPECT_FALSE(zero.handled_up_to(ends, 1)) << "shard 2 has not read its message";
    Received got1, got2;
    two.drain(got2);
    EXPECT_EQ(bells2.rung, (std::vector<uint32_t>{0})) << "shard 2 rings back once it has read";
    EXPECT_TRUE(zero.handled_up_to(ends, 1));
    // Later messages to shard 2 are not waited for.
    ASSERT_EQ(zero.room_for_msg(2, msg, 0), Mesh::Room::kYes);
    zero.send_msg(2, msg, {});
    zero.flush();
    EXPECT_TRUE(zero.handled_up_to(ends, 1));
    one.drain(got1);
    zero.flush();  // the handover waited for room
    one.drain(got1);
    ASSERT_EQ(got1.conns.size(), 1u);
    EXPECT_EQ(got1.conns[0], std::make_pair(uint64_t{0x1234}, sent));
}

TEST(Mesh, ControlRecordsWaitInOrderWhileTheRingIsFullAndNeverGetLost) {
    Pair pair;
    std::string payload(4000, 'x');
    MsgView big{"s", {}, {}, payload, false, {}, {}};
    while (pair.zero.room_for_msg(1, big, 0) == Mesh::Room::kYes) pair.zero.send_msg(1, big, {});
    // The ring is full: these wait here, in order.
    for (int i = 0; i < 200; ++i) pair.zero.send_interest(i % 3, "subject." + std::to_string(i), "", {.others = +1});
    pair.zero.send_js(1, {"js.subject", {}, {}, "body", false, {}, {}});
    // A message must not overtake the control records that wait.
    MsgView small{"t", {}, {}, "p", false, {}, {}};
    Received got;
    for (int turn = 0; turn < 100 && got.js.empty(); ++turn) {
        pair.zero.flush();
        pair.one.drain(got);
        pair.one.flush();
        pair.zero.drain(got);
        if (turn == 0) {
            EXPECT_EQ(pair.zero.room_for_msg(1, small, 0), Mesh::Room::kFull);
        }
    }
    ASSERT_EQ(got.interest.size(), 200u);
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(got.interest[i].subject, "subject." + std::to_string(i));
        EXPECT_EQ(got.interest[i].account, static_cast<uint32_t>(i % 3));
    }
    EXPECT_EQ(got.js, (std::vector<std::string>{"js.subject body"}));
}

// Control records several ring-fuls deep go in a ring-ful at a time, each time the peer rings
// back: it must ring after every read while records still wait, or the rest sits until the
// producer happens to wake for something else.
TEST(Mesh, ControlRecordsSeveralRingsDeepAreRungForAfterEveryRead) {
    Pair pair;
    std::string body(4000, 'j');
    constexpr int kRecords = 300;  // about five ring-fuls
    for (int i = 0; i < kRecords; ++i) pair.zero.send_js(1, {"js", {}, {}, body, false, {}, {}});
    ASSERT_TRUE(pair.zero.control_waiting(1));
    Received got;
    int wakes = 0;
    pair.zero.flush();
    while (pair.zero.control_waiting(1)) {
        pair.bells1.rung.clear();
        size_t before = got.js.size();
        pair.one.drain(got);
        ASSERT_GT(got.js.size(), before) << "nothing new to read after wake " << wakes;
        // Shard 0 sleeps until shard 1 rings it.
        ASSERT_EQ(pair.bells1.rung, (std::vector<uint32_t>{0})) << "not rung back after wake " << wakes;
        pair.zero.flush();
        ++wakes;
    }
    pair.one.drain(got);
    EXPECT_EQ(got.js.size(), static_cast<size_t>(kRecords));
    EXPECT_GT(wakes, 2);
}

TEST(Mesh, InterestIsAppliedEverywhereOnlyOnceEveryPeerAcknowledgedIt) {
    MeshLinks links(3, kRingBytes);
    Doorbells bells[3];
    Mesh zero(0, links, bells[0]), one(1, links, bells[1]), two(2, links, bells[2]);
    uint64_t seq = zero.send_interest(kGlobalAccount, "a", "", {.others = +1});
    EXPECT_EQ(seq, zero.interest_seq_sent());
    EXPECT_FALSE(zero.interest_applied(seq));
    zero.flush();
    Received got;
    one.drain(got);
    one.flush();  // acks
    zero.drain(got);
    EXPECT_FALSE(zero.interest_applied(seq)) << "shard 2 has not applied it yet";
    two.drain(got);
    two.flush();
    zero.drain(got);
    EXPECT_TRUE(zero.interest_applied(seq));
    EXPECT_TRUE(zero.interest_applied(0));
}

// Records larger than a quarter of the ring (here a payload of 1 MiB, four times the ring, in
// each of the 5 records its queue ids take) travel out of line: they fit whatever their size.
TEST(Mesh, RecordsLargerThanTheRingTravelOutOfLine) {
    Pair pair;
    std::vector<uint64_t> ids(5 * Mesh::kQueueIdsPerRecord);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = i;
    std::string payload(1 << 20, 'x');
    MsgView msg{"s", {}, {}, payload, false, {}, {}};
    for (int round = 0; round < 3; ++round) {
        ASSERT_EQ(pair.zero.room_for_msg(1, msg, ids.size()), Mesh::Room::kYes);
        pair.zero.send_msg(1, msg, ids);
        pair.zero.flush();
        Received got;
        pair.one.drain(got);
        ASSERT_EQ(got.msgs.size(), 5u);
        std::vector<uint64_t> arrived;
        for (const auto& m : got.msgs) {
            EXPECT_EQ(m.payload, payload);
            arrived.insert(arrived.end(), m.queue_ids.begin(), m.queue_ids.end());
        }
        EXPECT_EQ(arrived, ids);
    }
}

// A JetStream record sent without `wake` (a stream's state report) rings no doorbell by itself:
// it is read at the peer's next turn, with the next record that does ring, or once such records
// fill a quarter of the ring; a move waiting for the peer to read it rings for it.
TEST(Mesh, RecordsSentWithoutWakeRingOnlyWithOthersOrOnceTheyPileUp) {
    Pair pair;
    std::string body(100, 'r');
    MsgView report{"report.state", {}, {}, body, false, {}, {}};
    pair.one.send_js(0, report, /*wake=*/false);
    pair.one.flush();
    EXPECT_TRUE(pair.bells1.rung.empty());
    MsgView request{"request", {}, {}, "x", false, {}, {}};
    pair.one.send_js(0, request);
    pair.one.flush();
    EXPECT_EQ(pair.bells1.rung, (std::vector<uint32_t>{0}));
    Received got;
    pair.zero.drain(got);
    EXPECT_EQ(got.js.size(), 2u) << "the report comes first, with the record that rang";

    pair.bells1.rung.clear();
    size_t sent = 0;
    while (pair.bells1.rung.empty()) {
        pair.one.send_js(0, report, /*wake=*/false);
        pair.one.flush();
        ++sent;
        ASSERT_LT(sent, kRingBytes / 100) << "never rang";
    }
    EXPECT_GT(sent, kRingBytes / 4 / 200) << "rang before they filled a quarter of the ring";
    pair.zero.drain(got);

    pair.bells1.rung.clear();
    pair.one.send_js(0, report, /*wake=*/false);
    pair.one.flush();
    std::vector<uint64_t> ends = pair.one.ends();
    EXPECT_FALSE(pair.one.handled_up_to(ends, 1));
    EXPECT_EQ(pair.bells1.rung, (std::vector<uint32_t>{0})) << "the move wakes the peer it waits for";
    pair.zero.drain(got);
    EXPECT_TRUE(pair.one.handled_up_to(ends, 1));
}

}  // namespace
}  // namespace ringtail::core
