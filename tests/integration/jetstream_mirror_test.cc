// Mirrors and sources through libnats: a stream that mirrors another keeps its origin's
// sequences, times and gaps; a stream with sources gets each origin's messages as publishes
// with a Nats-Stream-Source header; both find an origin that appears later, resume after a
// restart without duplicates, and report lag and activity in stream info. Every expectation is
// what the same calls give against nats-server 2.9.10 (RT_TEST_SERVER=nats-server runs them
// there); on Ringtail the streams spread over two shards.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <algorithm>
#include <csignal>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;

class JetStreamMirror : public JetStreamTest {
 protected:
    void add(StreamConfig& config) { ASSERT_EQ(NATS_OK, add_stream(js(), config).status) << config.name(); }
    void publish_n(const std::string& subject, int count, const std::string& prefix = "m") {
        for (int i = 0; i < count; ++i) {
            ASSERT_TRUE(publish(js(), subject, prefix + std::to_string(i)).ok()) << subject << " " << i;
        }
    }
    jsStreamState state_of(const std::string& stream) {
        StreamInfoPtr info = stream_info(js(), stream);
        return info ? info->State : jsStreamState{};
    }
    // Waits until `stream` holds `count` messages; then a little longer, to see no more come.
    bool settles_at(const std::string& stream, uint64_t count) {
        bool reached = wait_for([&] { return state_of(stream).Msgs >= count; }, 15s);
        std::this_thread::sleep_for(300ms);
        return reached && state_of(stream).Msgs == count;
    }
};

std::string data_of(natsMsg* msg) {
    return {natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))};
}

TEST_F(JetStreamMirror, AMirrorKeepsItsOriginsSequencesTimesAndGaps) {
    StreamConfig origin("ORIGIN", {"orders.>"});
    add(origin);
    publish_n("orders.new", 10);
    ASSERT_EQ(NATS_OK, delete_msg(js(), "ORIGIN", 4).status);
    ASSERT_EQ(NATS_OK, delete_msg(js(), "ORIGIN", 5).status);
    jsStreamSource source;
    jsStreamSource_Init(&source);
    source.Name = "ORIGIN";
    StreamConfig mirror("COPY");
    mirror.raw.Mirror = &source;
    add(mirror);
    publish_n("orders.paid", 5, "p");
    ASSERT_TRUE(settles_at("COPY", 13));

    jsStreamState copy = state_of("COPY");
    EXPECT_EQ(copy.FirstSeq, 1u);
    EXPECT_EQ(copy.LastSeq, 15u);
    EXPECT_EQ(copy.NumDeleted, 2);
    for (uint64_t seq = 1; seq <= 15; ++seq) {
        MsgPtr original = get_msg(js(), "ORIGIN", seq);
        MsgPtr copied = get_msg(js(), "COPY", seq);
        ASSERT_EQ(original == nullptr, copied == nullptr) << seq;
        if (original == nullptr) continue;
        EXPECT_STREQ(natsMsg_GetSubject(original.get()), natsMsg_GetSubject(copied.get())) << seq;
        EXPECT_EQ(data_of(original.get()), data_of(copied.get())) << seq;
        EXPECT_EQ(natsMsg_GetTime(original.get()), natsMsg_GetTime(copied.get())) << seq;
    }
    StreamInfoPtr info = stream_info(js(), "COPY");
    ASSERT_NE(info, nullptr);
    ASSERT_NE(info->Mirror, nullptr);
    EXPECT_STREQ(info->Mirror->Name, "ORIGIN");
    EXPECT_EQ(info->Mirror->Lag, 0u);
    EXPECT_GE(info->Mirror->Active, 0);
    EXPECT_EQ(info->SourcesLen, 0);
}

TEST_F(JetStreamMirror, AMirrorStartsWhereItIsToldAndTakesOnlyItsFilter) {
    StreamConfig origin("EVENTS", {"ev.*"});
    add(origin);
    for (int i = 1; i <= 20; ++i) ASSERT_TRUE(publish(js(), i % 2 == 0 ? "ev.even" : "ev.odd", std::to_string(i)).ok());
    jsStreamSource source;
    jsStreamSource_Init(&source);
    source.Name = "EVENTS";
    source.OptStartSeq = 11;
    source.FilterSubject = "ev.even";
    StreamConfig mirror("EVENS");
    mirror.raw.Mirror = &source;
    add(mirror);
    ASSERT_TRUE(settles_at("EVENS", 5));  // 12, 14, .., 20
    jsStreamState evens = state_of("EVENS");
    EXPECT_EQ(evens.FirstSeq, 12u);
    EXPECT_EQ(evens.LastSeq, 20u);
    MsgPtr first = get_msg(js(), "EVENS", 12);
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(data_of(first.get()), "12");
    EXPECT_EQ(get_msg(js(), "EVENS", 13), nullptr);
}

TEST_F(JetStreamMirror, SourcesGatherSeveralOriginsWithTheirOriginInAHeader) {
    StreamConfig east("EAST", {"east.>"});
    StreamConfig west("WEST", {"west.>"});
    add(east);
    add(west);
    publish_n("east.sale", 3, "e");
    publish_n("west.sale", 2, "w");
    publish_n("west.refund", 2, "r");
    jsStreamSource from_east, from_west;
    jsStreamSource_Init(&from_east);
    jsStreamSource_Init(&from_west);
    from_east.Name = "EAST";
    from_west.Name = "WEST";
    from_west.FilterSubject = "west.sale";
    jsStreamSource* sources[] = {&from_east, &from_west};
    StreamConfig all("ALL", {"all.local"});
    all.raw.Sources = sources;
    all.raw.SourcesLen = 2;
    add(all);
    ASSERT_TRUE(publish(js(), "all.local", "own").ok());  // its own subjects still take publishes
    publish_n("east.sale", 2, "e2-");
    ASSERT_TRUE(settles_at("ALL", 8));  // 5 from EAST, 2 from WEST, 1 of its own

    int from_east_count = 0, from_west_count = 0, own = 0;
    for (uint64_t seq = 1; seq <= state_of("ALL").LastSeq; ++seq) {
        MsgPtr msg = get_msg(js(), "ALL", seq);
        ASSERT_NE(msg, nullptr) << seq;
        std::string subject = natsMsg_GetSubject(msg.get());
        std::string header = header_value(msg.get(), "Nats-Stream-Source");
        if (subject == "all.local") {
            ++own;
            EXPECT_EQ(header, "<absent>");
            continue;
        }
        std::string origin_name = subject.starts_with("east.") ? "EAST" : "WEST";
        ASSERT_TRUE(header.starts_with(origin_name + " ")) << header;
        uint64_t origin_seq = std::stoull(header.substr(origin_name.size() + 1));
        MsgPtr original = get_msg(js(), origin_name, origin_seq);
        ASSERT_NE(original, nullptr) << header;
        EXPECT_EQ(data_of(original.get()), data_of(msg.get())) << header;
        EXPECT_EQ(subject, natsMsg_GetSubject(original.get()));
        (origin_name == "EAST" ? from_east_count : from_west_count)++;
        EXPECT_NE(subject, "west.refund");
    }
    EXPECT_EQ(from_east_count, 5);
    EXPECT_EQ(from_west_count, 2);
    EXPECT_EQ(own, 1);
    StreamInfoPtr info = stream_info(js(), "ALL");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->Mirror, nullptr);
    ASSERT_EQ(info->SourcesLen, 2);
    std::vector<std::string> names = {info->Sources[0]->Name, info->Sources[1]->Name};
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"EAST", "WEST"}));
}

TEST_F(JetStreamMirror, AnOriginCreatedLaterIsFoundAndItsMissingIsReported) {
    jsStreamSource source;
    jsStreamSource_Init(&source);
    source.Name = "LATER";
    StreamConfig mirror("WAITING");
    mirror.raw.Mirror = &source;
    add(mirror);
    // Until it exists, stream info says why nothing comes.
    nlohmann::json info;
    EXPECT_TRUE(wait_for([&] {
        info = api_request(nc(), "$JS.API.STREAM.INFO.WAITING");
        return info.contains("mirror") && info["mirror"].contains("error");
    }, 5s)) << info.dump();
    if (info.contains("mirror") && info["mirror"].contains("error")) {
        EXPECT_EQ(info["mirror"]["error"]["err_code"], 10059) << info.dump();
        EXPECT_EQ(info["mirror"]["name"], "LATER");
    }
    StreamConfig later("LATER", {"later.>"});
    add(later);
    publish_n("later.x", 4);
    ASSERT_TRUE(settles_at("WAITING", 4));
    EXPECT_EQ(state_of("WAITING").LastSeq, 4u);
    info = api_request(nc(), "$JS.API.STREAM.INFO.WAITING");
    EXPECT_FALSE(info["mirror"].contains("error")) << info.dump();
    EXPECT_EQ(info["mirror"]["lag"], 0);
}

TEST_F(JetStreamMirror, UpdatingTheSourcesStartsTheNewOnesAndKeepsTheOld) {
    StreamConfig first("FIRST", {"first.>"});
    StreamConfig second("SECOND", {"second.>"});
    add(first);
    add(second);
    publish_n("first.a", 3);
    publish_n("second.a", 2);
    jsStreamSource from_first, from_second;
    jsStreamSource_Init(&from_first);
    jsStreamSource_Init(&from_second);
    from_first.Name = "FIRST";
    from_second.Name = "SECOND";
    jsStreamSource* one[] = {&from_first};
    StreamConfig sink("SINK");
    sink.raw.Sources = one;
    sink.raw.SourcesLen = 1;
    sink.subjects({"sink.>"});
    add(sink);
    ASSERT_TRUE(settles_at("SINK", 3));
    jsStreamSource* both[] = {&from_first, &from_second};
    sink.raw.Sources = both;
    sink.raw.SourcesLen = 2;
    ASSERT_EQ(NATS_OK, update_stream(js(), sink).status);
    publish_n("first.b", 1);
    ASSERT_TRUE(settles_at("SINK", 6));
}

TEST_F(JetStreamMirror, MirrorsAndSourcesResumeAfterARestartWithoutDuplicates) {
    StreamConfig origin("SRC", {"src.>"});
    add(origin);
    jsStreamSource mirror_of, source_of;
    jsStreamSource_Init(&mirror_of);
    jsStreamSource_Init(&source_of);
    mirror_of.Name = "SRC";
    source_of.Name = "SRC";
    StreamConfig mirror("MIR");
    mirror.raw.Mirror = &mirror_of;
    add(mirror);
    jsStreamSource* sources[] = {&source_of};
    StreamConfig aggregate("AGG", {"agg.>"});
    aggregate.raw.Sources = sources;
    aggregate.raw.SourcesLen = 1;
    add(aggregate);
    publish_n("src.a", 10);
    ASSERT_TRUE(settles_at("MIR", 10));
    ASSERT_TRUE(settles_at("AGG", 10));

    restart(SIGTERM);
    publish_n("src.b", 5, "after");
    ASSERT_TRUE(settles_at("MIR", 15));
    ASSERT_TRUE(settles_at("AGG", 15));
    EXPECT_EQ(state_of("MIR").LastSeq, 15u);
    MsgPtr last = get_msg(js(), "AGG", 15);
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(header_value(last.get(), "Nats-Stream-Source"), "SRC 15");
}

TEST_F(JetStreamMirror, ASourceOfASourceNamesOnlyItsOwnOrigin) {
    StreamConfig base("BASE", {"base.>"});
    add(base);
    jsStreamSource of_base, of_middle;
    jsStreamSource_Init(&of_base);
    jsStreamSource_Init(&of_middle);
    of_base.Name = "BASE";
    of_middle.Name = "MIDDLE";
    jsStreamSource* to_middle[] = {&of_base};
    StreamConfig middle("MIDDLE");
    middle.subjects({"middle.>"});
    middle.raw.Sources = to_middle;
    middle.raw.SourcesLen = 1;
    add(middle);
    jsStreamSource* to_top[] = {&of_middle};
    StreamConfig top("TOP");
    top.subjects({"top.>"});
    top.raw.Sources = to_top;
    top.raw.SourcesLen = 1;
    add(top);
    publish_n("base.x", 2);
    ASSERT_TRUE(settles_at("TOP", 2));
    MsgPtr msg = get_msg(js(), "TOP", 2);
    ASSERT_NE(msg, nullptr);
    EXPECT_EQ(header_value(msg.get(), "Nats-Stream-Source"), "MIDDLE 2");
}

TEST_F(JetStreamMirror, FirstSeqStartsANewStreamThereAndAMirrorMayNotHaveIt) {
    if (!testing_ringtail()) GTEST_SKIP() << "first_seq came in nats-server 2.10; 2.9 ignores it";
    nlohmann::json created = api_request(nc(), "$JS.API.STREAM.CREATE.LATE",
                                         R"({"name":"LATE","subjects":["late.>"],"first_seq":1000000})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    EXPECT_EQ(created["config"]["first_seq"], 1000000);
    PubOutcome first = publish(js(), "late.x", "one");
    ASSERT_TRUE(first.ok()) << first;
    EXPECT_EQ(first.seq, 1000000u);
    restart(SIGKILL);
    PubOutcome second = publish(js(), "late.x", "two");
    ASSERT_TRUE(second.ok()) << second;
    EXPECT_EQ(second.seq, 1000001u);
    jsStreamState late = state_of("LATE");
    EXPECT_EQ(late.FirstSeq, 1000000u);
    EXPECT_EQ(late.Msgs, 2u);

    nlohmann::json refused = api_request(nc(), "$JS.API.STREAM.CREATE.M",
                                         R"({"name":"M","mirror":{"name":"LATE"},"first_seq":5})");
    EXPECT_EQ(refused["error"]["err_code"], 10143) << refused.dump();
    EXPECT_EQ(refused["error"]["description"], "stream mirrors can not have first sequence configured");
}

TEST_F(JetStreamMirror, ASubjectTransformStoresPublishesUnderItsDestination) {
    if (!testing_ringtail()) GTEST_SKIP() << "subject_transform came in nats-server 2.10";
    nlohmann::json created = api_request(
        nc(), "$JS.API.STREAM.CREATE.T",
        R"({"name":"T","subjects":["in.>","other"],"subject_transform":{"src":"in.*.*","dest":"out.{{wildcard(2)}}.{{wildcard(1)}}"}})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    EXPECT_EQ(created["config"]["subject_transform"]["dest"], "out.{{wildcard(2)}}.{{wildcard(1)}}");
    ASSERT_TRUE(publish(js(), "in.eu.orders", "one").ok());
    ASSERT_TRUE(publish(js(), "other", "two").ok());  // does not match the source: kept as it is
    MsgPtr first = get_msg(js(), "T", 1);
    ASSERT_NE(first, nullptr);
    EXPECT_STREQ(natsMsg_GetSubject(first.get()), "out.orders.eu");
    MsgPtr second = get_msg(js(), "T", 2);
    ASSERT_NE(second, nullptr);
    EXPECT_STREQ(natsMsg_GetSubject(second.get()), "other");
    // An update changes it for what comes next.
    nlohmann::json updated = api_request(
        nc(), "$JS.API.STREAM.UPDATE.T",
        R"({"name":"T","subjects":["in.>","other"],"subject_transform":{"src":"other","dest":"renamed"}})");
    ASSERT_FALSE(updated.contains("error")) << updated.dump();
    ASSERT_TRUE(publish(js(), "other", "three").ok());
    MsgPtr third = get_msg(js(), "T", 3);
    ASSERT_NE(third, nullptr);
    EXPECT_STREQ(natsMsg_GetSubject(third.get()), "renamed");
}

TEST_F(JetStreamMirror, AMirrorOfAStreamThatStartsLateStartsThereToo) {
    if (!testing_ringtail()) GTEST_SKIP() << "first_seq came in nats-server 2.10";
    nlohmann::json created = api_request(nc(), "$JS.API.STREAM.CREATE.HIGH",
                                         R"({"name":"HIGH","subjects":["high.>"],"first_seq":5000000})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    publish_n("high.x", 3);
    jsStreamSource source;
    jsStreamSource_Init(&source);
    source.Name = "HIGH";
    StreamConfig mirror("LOW");
    mirror.raw.Mirror = &source;
    add(mirror);
    ASSERT_TRUE(settles_at("LOW", 3));
    jsStreamState low = state_of("LOW");
    EXPECT_EQ(low.FirstSeq, 5000000u);
    EXPECT_EQ(low.LastSeq, 5000002u);
}

TEST_F(JetStreamMirror, ASourcePurgedAndRestartedGoesOnFromItsNewestTimeNotFromTheStart) {
    StreamConfig origin("P", {"p.>"});
    add(origin);
    publish_n("p.x", 3);
    jsStreamSource source;
    jsStreamSource_Init(&source);
    source.Name = "P";
    jsStreamSource* sources[] = {&source};
    StreamConfig agg("AGG");
    agg.raw.Sources = sources;
    agg.raw.SourcesLen = 1;
    add(agg);
    ASSERT_TRUE(settles_at("AGG", 3));
    int64_t last_time = state_of("AGG").LastTime;
    ASSERT_EQ(NATS_OK, purge(js(), "AGG").status);
    // No Nats-Stream-Source header is left to resume from.
    restart(SIGKILL);
    EXPECT_EQ(state_of("AGG").LastTime, last_time);  // a purge keeps it, across a restart too
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(publish(js(), "p.x", "new").ok());
    ASSERT_TRUE(settles_at("AGG", 1));
    jsStreamState state = state_of("AGG");
    EXPECT_EQ(state.FirstSeq, 4u);
    MsgPtr copied = get_msg(js(), "AGG", 4);
    ASSERT_NE(copied, nullptr);
    EXPECT_EQ(data_of(copied.get()), "new");
}

TEST_F(JetStreamMirror, SubjectTransformsOfASourceFilterAndRenameAndResumeAfterARestart) {
    if (!testing_ringtail()) GTEST_SKIP() << "subject_transforms of a source came in nats-server 2.10";
    StreamConfig origin("EVENTS", {"ev.>"});
    add(origin);
    // The same origin twice, with different transforms: two sources, each resuming on its own.
    nlohmann::json created = api_request(nc(), "$JS.API.STREAM.CREATE.AGG", R"({"name":"AGG","sources":[
        {"name":"EVENTS","subject_transforms":[{"src":"ev.a.*","dest":"agg.a.{{wildcard(1)}}"},{"src":"ev.b.>","dest":""}]},
        {"name":"EVENTS","subject_transforms":[{"src":"ev.c.*","dest":"agg.c"}]}]})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    EXPECT_EQ(created["config"]["sources"][0]["subject_transforms"][0]["dest"], "agg.a.{{wildcard(1)}}");
    for (const char* subject : {"ev.a.1", "ev.b.x.y", "ev.c.1", "ev.d.1"}) ASSERT_TRUE(publish(js(), subject, subject).ok());
    ASSERT_TRUE(settles_at("AGG", 3));
    std::map<std::string, std::string> stored;  // subject -> its Nats-Stream-Source
    for (uint64_t seq = 1; seq <= 3; ++seq) {
        MsgPtr msg = get_msg(js(), "AGG", seq);
        ASSERT_NE(msg, nullptr) << seq;
        stored[natsMsg_GetSubject(msg.get())] = header_value(msg.get(), "Nats-Stream-Source");
    }
    EXPECT_EQ(stored["agg.a.1"], "EVENTS 1 ev.a.*\fev.b.> agg.a.{{wildcard(1)}}\f>");
    EXPECT_EQ(stored["ev.b.x.y"], "EVENTS 2 ev.a.*\fev.b.> agg.a.{{wildcard(1)}}\f>");
    EXPECT_EQ(stored["agg.c"], "EVENTS 3 ev.c.* agg.c");

    restart(SIGKILL);
    for (const char* subject : {"ev.a.2", "ev.c.2"}) ASSERT_TRUE(publish(js(), subject, subject).ok());
    ASSERT_TRUE(settles_at("AGG", 5));  // nothing copied twice
    MsgPtr last_c = get_last_msg(js(), "AGG", "agg.c");
    ASSERT_NE(last_c, nullptr);
    EXPECT_EQ(data_of(last_c.get()), "ev.c.2");
}

TEST_F(JetStreamMirror, SubjectTransformsOfAMirrorKeepItsOriginsSequences) {
    if (!testing_ringtail()) GTEST_SKIP() << "subject_transforms of a mirror came in nats-server 2.10";
    StreamConfig origin("SRC", {"s.>"});
    add(origin);
    for (const char* subject : {"s.a.1", "s.b.1", "s.a.2"}) ASSERT_TRUE(publish(js(), subject, subject).ok());
    nlohmann::json created = api_request(nc(), "$JS.API.STREAM.CREATE.MIR",
                                         R"({"name":"MIR","mirror":{"name":"SRC","subject_transforms":[{"src":"s.a.*","dest":"m.{{wildcard(1)}}"}]}})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    ASSERT_TRUE(settles_at("MIR", 2));
    MsgPtr first = get_msg(js(), "MIR", 1);
    ASSERT_NE(first, nullptr);
    EXPECT_STREQ(natsMsg_GetSubject(first.get()), "m.1");
    EXPECT_EQ(get_msg(js(), "MIR", 2), nullptr);  // s.b.1 is not wanted
    MsgPtr third = get_msg(js(), "MIR", 3);
    ASSERT_NE(third, nullptr);
    EXPECT_STREQ(natsMsg_GetSubject(third.get()), "m.2");
}

TEST_F(JetStreamMirror, BadSubjectTransformsOfAMirrorOrSourceGetNatsServersErrors) {
    if (!testing_ringtail()) GTEST_SKIP() << "subject_transforms of a mirror or source came in nats-server 2.10";
    struct Case {
        const char* origin;  // a "mirror" or "sources" member
        int code;
        const char* description;
    };
    const Case cases[] = {
        {R"("mirror":{"name":"O","filter_subject":"a","subject_transforms":[{"src":"a","dest":"b"}]})", 10150,
         "mirror with multiple subject transforms cannot also have a single subject filter"},
        {R"("mirror":{"name":"O","subject_transforms":[{"src":"a..b","dest":"b"}]})", 10151,
         "mirror transform source: invalid subject a..b"},
        {R"("mirror":{"name":"O","subject_transforms":[{"src":"a.*","dest":"b.{{wildcard(2)}}"}]})", 10154,
         "mirror transform: invalid mapping destination"},
        {R"("mirror":{"name":"O","subject_transforms":[{"src":"a.*","dest":""},{"src":"a.b","dest":""}]})", 10152,
         "mirror subject filters can not overlap"},
        {R"("sources":[{"name":"O","filter_subject":"a","subject_transforms":[{"src":"a","dest":"b"}]}])", 10144,
         "source with multiple subject transforms cannot also have a single subject filter"},
        {R"("sources":[{"name":"O","subject_transforms":[{"src":"a.>.b","dest":""}]}])", 10145,
         "source transform source: invalid subject a.>.b"},
        {R"("sources":[{"name":"O","subject_transforms":[{"src":"a","dest":"{{nope()}}"}]}])", 10146,
         "source transform: invalid mapping destination"},
        {R"("sources":[{"name":"O","subject_transforms":[{"src":"a.>","dest":""},{"src":"a.b","dest":""}]}])", 10147,
         "source filters can not overlap"},
    };
    for (const Case& c : cases) {
        nlohmann::json refused =
            api_request(nc(), "$JS.API.STREAM.CREATE.BAD", std::string(R"({"name":"BAD",)") + c.origin + "}");
        EXPECT_EQ(refused["error"]["err_code"], c.code) << c.origin << " " << refused.dump();
        EXPECT_EQ(refused["error"]["description"], c.description) << c.origin;
    }
    EXPECT_TRUE(stream_names(js()).empty());
}

// A filter on a mirror or a stream with sources may name its origins' subjects wherever the
// origin lives: created from a connection on the other shard, the mirror sits apart from it.
TEST_F(JetStreamMirror, AConsumerFilterMayNameTheSubjectsOfAnOriginOnAnotherShard) {
    ASSERT_TRUE(api_request(nc(), "$JS.API.STREAM.CREATE.ORIGIN", R"({"name":"ORIGIN","subjects":["orders.>"]})")
                    .contains("config"));
    JsClient other;
    for (int attempt = 0; attempt < 64 && !other; ++attempt) {
        JsClient candidate = connect_js(server_->url());
        if (candidate && (!testing_ringtail() || shard_of(candidate.nc()) != shard_of(nc()))) other = std::move(candidate);
    }
    ASSERT_TRUE(other);
    ASSERT_TRUE(api_request(other.nc(), "$JS.API.STREAM.CREATE.COPY", R"({"name":"COPY","mirror":{"name":"ORIGIN"}})")
                    .contains("config"));
    ASSERT_TRUE(api_request(other.nc(), "$JS.API.STREAM.CREATE.SUM",
                            R"({"name":"SUM","subjects":["sum.>"],"sources":[{"name":"ORIGIN"}]})")
                    .contains("config"));
    publish_n("orders.new", 3);
    ASSERT_TRUE(settles_at("COPY", 3));
    for (const char* stream : {"COPY", "SUM"}) {
        SCOPED_TRACE(stream);
        std::string create = std::string("$JS.API.CONSUMER.DURABLE.CREATE.") + stream + ".NEW";
        nlohmann::json made = api_request(other.nc(), create,
                                          std::string(R"({"stream_name":")") + stream +
                                              R"(","config":{"durable_name":"NEW","filter_subject":"orders.new"}})");
        ASSERT_FALSE(made.contains("error")) << made;
        EXPECT_EQ(made["config"]["filter_subject"], "orders.new");
        create = std::string("$JS.API.CONSUMER.DURABLE.CREATE.") + stream + ".ELSE";
        nlohmann::json refused = api_request(other.nc(), create,
                                             std::string(R"({"stream_name":")") + stream +
                                                 R"(","config":{"durable_name":"ELSE","filter_subject":"else.x"}})");
        EXPECT_EQ(refused["error"]["err_code"], 10093) << refused;
    }
    nlohmann::json info = api_request(other.nc(), "$JS.API.CONSUMER.INFO.COPY.NEW", "");
    EXPECT_EQ(info["num_pending"], 3) << info;
}

// The consumers a mirror or a source reads through are the server's own (direct): the origin's
// consumer count, its listings and its max_consumers leave them out, as nats-server does, while
// the account's count has them.
TEST_F(JetStreamMirror, TheConsumersCopyingIntoMirrorsAndSourcesAreNotTheOriginsOwn) {
    ASSERT_TRUE(api_request(nc(), "$JS.API.STREAM.CREATE.ORIGIN",
                            R"({"name":"ORIGIN","subjects":["orders.>"],"max_consumers":1})")
                    .contains("config"));
    ASSERT_TRUE(api_request(nc(), "$JS.API.STREAM.CREATE.COPY", R"({"name":"COPY","mirror":{"name":"ORIGIN"}})")
                    .contains("config"));
    ASSERT_TRUE(api_request(nc(), "$JS.API.STREAM.CREATE.SUM", R"({"name":"SUM","sources":[{"name":"ORIGIN"}]})")
                    .contains("config"));
    publish_n("orders.new", 2);
    ASSERT_TRUE(settles_at("COPY", 2));
    ASSERT_TRUE(settles_at("SUM", 2));
    nlohmann::json info = api_request(nc(), "$JS.API.STREAM.INFO.ORIGIN", "");
    EXPECT_EQ(info["state"]["consumer_count"], 0) << info;
    nlohmann::json names = api_request(nc(), "$JS.API.CONSUMER.NAMES.ORIGIN", "");
    EXPECT_EQ(names["total"], 0) << names;
    EXPECT_TRUE(names["consumers"].empty()) << names;
    nlohmann::json list = api_request(nc(), "$JS.API.CONSUMER.LIST.ORIGIN", "");
    EXPECT_TRUE(list["consumers"].empty()) << list;
    nlohmann::json streams = api_request(nc(), "$JS.API.STREAM.LIST", "");
    for (const auto& stream : streams["streams"]) EXPECT_EQ(stream["state"]["consumer_count"], 0) << stream;
    nlohmann::json account = api_request(nc(), "$JS.API.INFO", "");
    EXPECT_EQ(account["consumers"], 2) << account;
    // max_consumers 1: the first of the user's own is allowed, a second is not.
    nlohmann::json made = api_request(nc(), "$JS.API.CONSUMER.DURABLE.CREATE.ORIGIN.MINE",
                                      R"({"stream_name":"ORIGIN","config":{"durable_name":"MINE"}})");
    EXPECT_FALSE(made.contains("error")) << made;
    nlohmann::json refused = api_request(nc(), "$JS.API.CONSUMER.DURABLE.CREATE.ORIGIN.MORE",
                                         R"({"stream_name":"ORIGIN","config":{"durable_name":"MORE"}})");
    EXPECT_EQ(refused["error"]["err_code"], 10026) << refused;
}

// STREAM.LIST shows each stream's mirror or sources as STREAM.INFO does (tools build their
// replication overviews from the list).
TEST_F(JetStreamMirror, TheStreamListShowsMirrorsAndSources) {
    ASSERT_TRUE(api_request(nc(), "$JS.API.STREAM.CREATE.ORIGIN", R"({"name":"ORIGIN","subjects":["orders.>"]})")
                    .contains("config"));
    ASSERT_TRUE(api_request(nc(), "$JS.API.STREAM.CREATE.COPY", R"({"name":"COPY","mirror":{"name":"ORIGIN"}})")
                    .contains("config"));
    ASSERT_TRUE(api_request(nc(), "$JS.API.STREAM.CREATE.SUM", R"({"name":"SUM","sources":[{"name":"ORIGIN"}]})")
                    .contains("config"));
    publish_n("orders.new", 2);
    ASSERT_TRUE(settles_at("COPY", 2));
    ASSERT_TRUE(settles_at("SUM", 2));
    nlohmann::json list;
    // Sources report each second: wait for them to have been heard from.
    ASSERT_TRUE(wait_for([&] {
        list = api_request(nc(), "$JS.API.STREAM.LIST", "");
        return list["streams"].size() == 3 && list["streams"][0].contains("mirror") &&
               list["streams"][0]["mirror"].value("active", int64_t{-1}) >= 0;
    }, 5s)) << list;
    const nlohmann::json& copy = list["streams"][0];
    const nlohmann::json& origin = list["streams"][1];
    const nlohmann::json& sum = list["streams"][2];
    EXPECT_EQ(copy["config"]["name"], "COPY");
    EXPECT_EQ(copy["mirror"]["name"], "ORIGIN") << copy;
    EXPECT_EQ(copy["mirror"]["lag"], 0) << copy;
    EXPECT_FALSE(copy.contains("sources"));
    EXPECT_FALSE(origin.contains("mirror") || origin.contains("sources")) << origin;
    ASSERT_EQ(sum["sources"].size(), 1u) << sum;
    EXPECT_EQ(sum["sources"][0]["name"], "ORIGIN");
    EXPECT_EQ(sum["sources"][0]["lag"], 0);
    EXPECT_GE(sum["sources"][0].value("active", int64_t{-1}), 0) << sum;
}

}  // namespace
}  // namespace ringtail::test
