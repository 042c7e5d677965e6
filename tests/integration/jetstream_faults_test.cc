// JetStream under storage faults, as an operator meets them: a store on a file system that
// fills up, and a segment page that can no longer be read while the server runs. The server
// stays up, answers every publish and request with an error while the fault lasts, never
// serves what it cannot read, and loses nothing it acknowledged. Ringtail's behaviour: on a full
// disk nats-server 2.9 disables JetStream altogether.
#include <gtest/gtest.h>
#include <nats/nats.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"
#include "tests/support/server_process.h"

namespace ringtail::test {
namespace {

using nlohmann::json;

// A small tmpfs mounted on a store dir, unmounted before the dir is removed. Mounting needs
// CAP_SYS_ADMIN; without it mounted() is false and the test is skipped.
class SmallFileSystem {
 public:
    SmallFileSystem(const std::string& path, const std::string& size) : path_(path) {
        mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    }
    ~SmallFileSystem() {
        if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    uint64_t free_bytes() const {
        struct statvfs st {};
        ::statvfs(path_.c_str(), &st);
        return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
    }
    // Takes all but `leave` bytes with a file of its own; returns its path (remove it to free them).
    std::string fill(uint64_t leave) const {
        std::string filler = path_ + "/filler";
        std::ofstream out(filler, std::ios::binary);
        std::string chunk(1 << 20, 'f');
        while (free_bytes() > leave) out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        return filler;
    }

 private:
    std::string path_;
    bool mounted_ = false;
};

// A server whose store is a 64 MiB tmpfs, and a client of it. Ringtail's behaviour alone:
// nats-server 2.9 disables JetStream when its disk is full.
class JetStreamOnASmallDisk : public ::testing::Test {
 protected:
    void SetUp() override {
        if (!testing_ringtail()) GTEST_SKIP() << "nats-server disables JetStream when its disk is full";
        fs_ = std::make_unique<SmallFileSystem>(store_.path(), "64m");
        if (!fs_->mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs CAP_SYS_ADMIN)";
        start();
    }

    void start() {
        server_ = start_js_server(store_);
        ASSERT_NE(server_, nullptr);
        client_ = connect_js(server_->url());
        ASSERT_TRUE(client_);
    }
    // A crash, and the server started again on what it left.
    void kill_and_restart() {
        client_ = {};
        ASSERT_EQ(server_->stop(SIGKILL), 128 + SIGKILL);
        start();
    }

    StoreDir store_;
    std::unique_ptr<SmallFileSystem> fs_;  // unmounted after the server stops
    std::unique_ptr<ServerProcess> server_;
    JsClient client_;
};

// Publishes `payload` until the server refuses one, at most `attempts` times: the last
// sequence acknowledged, and the refusal (not ok() when none came).
struct UntilRefused {
    uint64_t acked = 0;
    PubOutcome refused;
};
UntilRefused publish_until_refused(jsCtx* js, const std::string& subject, const std::string& payload, int attempts) {
    UntilRefused out;
    for (int i = 0; i < attempts; ++i) {
        PubOutcome pub = publish(js, subject, payload);
        if (!pub.ok()) {
            out.refused = pub;
            break;
        }
        out.acked = pub.seq;
    }
    return out;
}

TEST_F(JetStreamOnASmallDisk, AFullDiskRefusesPublishesThenResumesWhenSpaceIsFreed) {
    StreamConfig config("FULL", {"full.>"});
    ASSERT_EQ(add_stream(client_.get(), config).status, NATS_OK);

    // Everything but 4 MiB taken by something else.
    std::string filler = fs_->fill(4u << 20);
    std::string payload(4000, 'p');
    auto [acked, refused] = publish_until_refused(client_.get(), "full.one", payload, 5000);
    ASSERT_FALSE(refused.ok()) << "the file system never filled";
    EXPECT_GT(acked, 0u);
    EXPECT_EQ(refused.outcome.err_code, 10077) << refused;  // stream store failed
    EXPECT_NE(refused.outcome.text.find("no space"), std::string::npos) << refused;
    EXPECT_FALSE(publish(client_.get(), "full.one", payload).ok());  // still refused, still answered
    std::string log = server_->log();
    EXPECT_NE(log.find("[ERR] JetStream stream 'FULL': no space left in "), std::string::npos)
        << log;

    // Space is back: publishing resumes by itself, with the next sequence.
    std::filesystem::remove(filler);
    PubOutcome resumed = publish(client_.get(), "full.one", "resumed");
    ASSERT_TRUE(resumed.ok()) << resumed;
    EXPECT_EQ(resumed.seq, acked + 1);
    EXPECT_TRUE(wait_for([&] { return server_->log().find("has space again") != std::string::npos; },
                         std::chrono::seconds(2)));

    // Nothing acknowledged was lost, across a restart too.
    client_ = {};
    ASSERT_EQ(server_->stop(SIGTERM), 0);
    server_ = start_js_server(store_);
    ASSERT_NE(server_, nullptr);
    client_ = connect_js(server_->url());
    ASSERT_TRUE(client_);
    StreamInfoPtr info = stream_info(client_.get(), "FULL");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->State.Msgs, acked + 1);
    for (uint64_t seq = 1; seq <= acked; seq += 97) {
        MsgPtr msg = get_msg(client_.get(), "FULL", seq);
        ASSERT_TRUE(msg) << seq;
        EXPECT_EQ(std::string(natsMsg_GetData(msg.get()), natsMsg_GetDataLength(msg.get())),
                  payload);
    }
    MsgPtr last = get_msg(client_.get(), "FULL", acked + 1);
    ASSERT_TRUE(last);
    EXPECT_EQ(std::string(natsMsg_GetData(last.get()), natsMsg_GetDataLength(last.get())),
              "resumed");
    client_ = {};
    server_.reset();
}

// A disk that messages filled is emptied the way an operator would: purging the stream frees
// its space, with nothing else removed, and publishing resumes. (The purge's tombstone needs
// a few bytes of its own, which a full disk still has: messages stop while some are left.)
TEST_F(JetStreamOnASmallDisk, APurgeOnAFullDiskFreesItsSpace) {
    StreamConfig config("FULL", {"full.>"});
    ASSERT_EQ(add_stream(client_.get(), config).status, NATS_OK);
    std::string filler = fs_->fill(24u << 20);
    // Records of exactly a page (subject and payload with the record's framing): the last
    // segment is left with no room even for the purge's tombstone.
    std::string payload(4040, 'p');
    auto [acked, refused] = publish_until_refused(client_.get(), "full.one", payload, 20000);
    ASSERT_EQ(refused.outcome.err_code, 10077) << refused;  // the disk is full
    // Messages used all but what a segment of the first size needs.
    EXPECT_LT(fs_->free_bytes(), 1u << 20);
    uint64_t full = fs_->free_bytes();

    json purged = api_request(client_.nc(), "$JS.API.STREAM.PURGE.FULL");
    ASSERT_FALSE(purged.contains("error")) << purged.dump();
    EXPECT_EQ(purged["purged"], acked);
    EXPECT_TRUE(wait_for([&] { return fs_->free_bytes() > full + (16u << 20); }, std::chrono::seconds(5)))
        << fs_->free_bytes();
    PubOutcome resumed = publish(client_.get(), "full.one", "resumed");
    ASSERT_TRUE(resumed.ok()) << resumed;
    EXPECT_EQ(resumed.seq, acked + 1);

    // And it stays purged across a restart.
    ASSERT_NO_FATAL_FAILURE(kill_and_restart());
    StreamInfoPtr info = stream_info(client_.get(), "FULL");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->State.Msgs, 1u);
    EXPECT_EQ(info->State.FirstSeq, acked + 1);
    client_ = {};
    server_.reset();
}

// A mirror and a stream sourcing from an origin whose copies find the disk full wait for room,
// and then copy on from where they stopped: no origin message is skipped.
TEST_F(JetStreamOnASmallDisk, MirrorsAndSourcesOnAFullDiskSkipNothingOnceSpaceIsFreed) {
    for (const char* create : {R"({"name":"O","subjects":["o.>"],"storage":"memory"})",
                               R"({"name":"M","mirror":{"name":"O"}})", R"({"name":"S","sources":[{"name":"O"}]})"}) {
        std::string name = json::parse(create)["name"];
        json created = api_request(client_.nc(), "$JS.API.STREAM.CREATE." + name, create);
        ASSERT_FALSE(created.contains("error")) << created.dump();
    }
    std::string filler = fs_->fill(2u << 20);
    constexpr uint64_t kMessages = 2000;
    std::string payload(2000, 'p');
    for (uint64_t i = 0; i < kMessages; ++i) ASSERT_TRUE(publish(client_.get(), "o.x", payload).ok()) << i;
    auto mirror_full = [&] {
        return server_->log().find("[ERR] JetStream stream 'M': no space left") != std::string::npos;
    };
    EXPECT_TRUE(wait_for(mirror_full, std::chrono::seconds(5))) << server_->log();

    std::filesystem::remove(filler);
    for (const char* name : {"M", "S"}) {
        SCOPED_TRACE(name);
        uint64_t msgs = 0;
        EXPECT_TRUE(wait_for(
            [&] {
                StreamInfoPtr info = stream_info(client_.get(), name);
                msgs = info ? info->State.Msgs : 0;
                return msgs == kMessages;
            },
            std::chrono::seconds(20)))
            << msgs << " of " << kMessages;
    }
    MsgPtr last = get_msg(client_.get(), "M", kMessages);
    ASSERT_TRUE(last);
    EXPECT_EQ(natsMsg_GetDataLength(last.get()), static_cast<int>(payload.size()));
    client_ = {};
    server_.reset();
}

// Consumers created on a full disk: each answered with success is there after a restart;
// once their state cannot be written, new ones are refused as nats-server refuses them.
TEST_F(JetStreamOnASmallDisk, AConsumerAnsweredOnAFullDiskSurvivesARestart) {
    json created = api_request(client_.nc(), "$JS.API.STREAM.CREATE.F", R"({"name":"F","subjects":["f"]})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    std::string filler = fs_->fill(1u << 20);
    std::vector<std::string> answered;
    json refused;
    for (int i = 0; i < 6000 && refused.is_null(); ++i) {
        std::string name = "C" + std::to_string(i);
        json reply = api_request(client_.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.F." + name,
                                 R"({"stream_name":"F","config":{"durable_name":")" + name +
                                     R"(","ack_policy":"explicit","description":")" + std::string(200, 'd') +
                                     R"("}})");
        if (reply.contains("error")) {
            refused = reply;
        } else {
            answered.push_back(name);
        }
    }
    ASSERT_FALSE(refused.is_null()) << "the consumer state never filled the disk";
    EXPECT_EQ(refused["error"].value("err_code", 0), 10012) << refused.dump();
    EXPECT_EQ(refused["error"].value("description", ""), "error creating store for consumer") << refused.dump();

    std::filesystem::remove(filler);
    ASSERT_NO_FATAL_FAILURE(kill_and_restart());
    for (size_t i = 0; i < answered.size(); i += 37) {
        json info = api_request(client_.nc(), "$JS.API.CONSUMER.INFO.F." + answered[i]);
        EXPECT_FALSE(info.contains("error")) << answered[i] << ": " << info.dump();
    }
    json last = api_request(client_.nc(), "$JS.API.CONSUMER.INFO.F." + answered.back());
    EXPECT_FALSE(last.contains("error")) << answered.back() << ": " << last.dump();
    client_ = {};
    server_.reset();
}

// A stream's consumer state gets its file with its first consumer. On a full disk that
// consumer is refused; a restart still full opens the stream all the same; once there is room
// the consumer is taken, and it survives a crash.
TEST_F(JetStreamOnASmallDisk, AStreamsFirstConsumerRefusedOnAFullDiskIsTakenOnceSpaceIsFreed) {
    json created = api_request(client_.nc(), "$JS.API.STREAM.CREATE.F", R"({"name":"F","subjects":["f"]})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    ASSERT_TRUE(publish(client_.get(), "f", "m").ok());
    auto create = [&] {
        return api_request(client_.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.F.FIRST",
                           R"({"stream_name":"F","config":{"durable_name":"FIRST","ack_policy":"explicit"}})");
    };
    std::string filler = fs_->fill(0);
    json refused = create();
    EXPECT_EQ(refused["error"].value("err_code", 0), 10012) << refused.dump();

    ASSERT_NO_FATAL_FAILURE(kill_and_restart());
    json info = api_request(client_.nc(), "$JS.API.STREAM.INFO.F");
    EXPECT_EQ(info["state"].value("messages", 0), 1) << info.dump();

    std::filesystem::remove(filler);
    json taken = create();
    EXPECT_FALSE(taken.contains("error")) << taken.dump();
    ASSERT_NO_FATAL_FAILURE(kill_and_restart());
    json after = api_request(client_.nc(), "$JS.API.CONSUMER.INFO.F.FIRST");
    EXPECT_FALSE(after.contains("error")) << after.dump();
    EXPECT_EQ(after.value("num_pending", 0), 1) << after.dump();
    client_ = {};
    server_.reset();
}

// The consumers' state, once it could not be written for want of space, is written whole again
// when room comes back: new consumers are taken again, and what changed meanwhile (an ack, a
// deletion) survives a restart.
TEST_F(JetStreamOnASmallDisk, ConsumerStateIsWrittenAgainOnceSpaceIsFreed) {
    json created = api_request(client_.nc(), "$JS.API.STREAM.CREATE.F", R"({"name":"F","subjects":["f"]})");
    ASSERT_FALSE(created.contains("error")) << created.dump();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(publish(client_.get(), "f", "m").ok());
    auto create = [&](const std::string& name) {
        return api_request(client_.nc(), "$JS.API.CONSUMER.DURABLE.CREATE.F." + name,
                           R"({"stream_name":"F","config":{"durable_name":")" + name +
                               R"(","ack_policy":"explicit","description":")" + std::string(200, 'd') + R"("}})");
    };
    for (const char* name : {"WORKER", "GONE"}) ASSERT_FALSE(create(name).contains("error"));
    std::string filler = fs_->fill(1u << 20);
    json refused;
    for (int i = 0; i < 20000 && refused.is_null(); ++i) {
        json reply = create("C" + std::to_string(i));
        if (reply.contains("error")) refused = reply;
    }
    ASSERT_FALSE(refused.is_null()) << "the consumer state never filled the disk";
    EXPECT_EQ(refused["error"].value("err_code", 0), 10012) << refused.dump();

    // Meanwhile: a message acked, a consumer deleted.
    MsgPtr delivered = raw_request(client_.nc(), "$JS.API.CONSUMER.MSG.NEXT.F.WORKER", R"({"batch":1})",
                                      std::chrono::seconds(2));
    ASSERT_TRUE(delivered);
    ASSERT_NE(natsMsg_GetReply(delivered.get()), nullptr);
    ASSERT_EQ(natsConnection_PublishString(client_.nc(), natsMsg_GetReply(delivered.get()), "+ACK"), NATS_OK);
    json deleted = api_request(client_.nc(), "$JS.API.CONSUMER.DELETE.F.GONE");
    EXPECT_EQ(deleted.value("success", false), true) << deleted.dump();

    std::filesystem::remove(filler);
    EXPECT_TRUE(wait_for([&] { return server_->log().find("'F' is written again") != std::string::npos; },
                         std::chrono::seconds(5)))
        << server_->log();
    json again = create("AFTER");
    EXPECT_FALSE(again.contains("error")) << again.dump();

    ASSERT_NO_FATAL_FAILURE(kill_and_restart());
    json worker = api_request(client_.nc(), "$JS.API.CONSUMER.INFO.F.WORKER");
    EXPECT_EQ(worker["ack_floor"]["stream_seq"], 1) << worker.dump();
    EXPECT_FALSE(api_request(client_.nc(), "$JS.API.CONSUMER.INFO.F.AFTER").contains("error"));
    json gone = api_request(client_.nc(), "$JS.API.CONSUMER.INFO.F.GONE");
    EXPECT_EQ(gone["error"]["err_code"], 10014) << gone.dump();
    client_ = {};
    server_.reset();
}

TEST_F(JetStreamTest, ASegmentPageThatCannotBeReadIsNotServedAndTheServerStaysUp) {
    if (!testing_ringtail()) GTEST_SKIP() << "Ringtail's handling of read errors";
    StreamConfig config("READS", {"reads.>"});
    ASSERT_EQ(add_stream(js(), config).status, NATS_OK);
    std::string payload(4000, 'r');
    for (int i = 0; i < 600; ++i)
        ASSERT_TRUE(publish(js(), "reads.one", payload).ok());  // past one segment

    // Cut the sealed first segment short under the running server: reading its pages now fails
    // as a media error does (SIGBUS through the mapping).
    std::string segment =
        store_.path() + "/jetstream/$G/streams/READS/msgs/00000000000000000001.seg";
    ASSERT_TRUE(std::filesystem::exists(segment));
    std::filesystem::resize_file(segment, 4096);

    json gone = api_request(nc(), "$JS.API.STREAM.MSG.GET.READS", R"({"seq":2})");
    EXPECT_EQ(gone["error"]["err_code"], 10037) << gone;  // not served
    ASSERT_TRUE(server_->running());
    EXPECT_TRUE(wait_for(
        [&] {
            return server_->log().find(
                       "[ERR] JetStream stream 'READS': message 2 cannot be read (I/O error)") !=
                   std::string::npos;
        },
        std::chrono::seconds(2)))
        << server_->log();
    // The rest of the stream, and the server, go on.
    json last = api_request(nc(), "$JS.API.STREAM.MSG.GET.READS", R"({"seq":600})");
    EXPECT_FALSE(last.contains("error")) << last;
    PubOutcome after = publish(js(), "reads.two", "after");
    ASSERT_TRUE(after.ok()) << after;
    EXPECT_EQ(after.seq, 601u);
    SubscriptionPtr sub = subscribe_sync(nc(), "core.check");
    ASSERT_TRUE(sub);
    ASSERT_EQ(natsConnection_PublishString(nc(), "core.check", "ok"), NATS_OK);
    EXPECT_TRUE(next_msg(sub.get(), std::chrono::seconds(2)));
}

// A server whose file system lacks or fails the calls `shim` names (tests/support/fs_shim.c).
std::unique_ptr<ServerProcess> start_with_shim(const StoreDir& store, const std::string& shim) {
    ::setenv("LD_PRELOAD", RT_FS_SHIM_PATH, 1);
    ::setenv("RT_FS_SHIM", shim.c_str(), 1);
    auto server = start_js_server(store);
    ::unsetenv("LD_PRELOAD");
    ::unsetenv("RT_FS_SHIM");
    return server;
}

TEST(JetStreamFaults, StreamsWorkOnAFileSystemWithoutFallocateOrRenameNoreplace) {
    if (!testing_ringtail()) GTEST_SKIP() << "Ringtail's store calls";
    // FUSE and some network file systems: no fallocate, no RENAME_NOREPLACE; some also have no
    // hard links.
    for (std::string shim : {"fallocate=EOPNOTSUPP,renameat2=EINVAL",
                             "fallocate=EOPNOTSUPP,renameat2=EINVAL,link=EPERM"}) {
        SCOPED_TRACE(shim);
        StoreDir store;
        auto server = start_with_shim(store, shim);
        ASSERT_NE(server, nullptr);
        JsClient client = connect_js(server->url());
        ASSERT_TRUE(client);
        StreamConfig config("PLAIN", {"plain.>"});
        JsOutcome created = add_stream(client.get(), config);
        ASSERT_EQ(created.status, NATS_OK) << created;
        std::string payload(4000, 'q');
        for (int i = 0; i < 1200; ++i)
            ASSERT_TRUE(publish(client.get(), "plain.one", payload).ok()) << i;  // rolls
        client = {};
        ASSERT_EQ(server->stop(SIGTERM), 0);

        server = start_with_shim(store, shim);
        ASSERT_NE(server, nullptr);
        client = connect_js(server->url());
        ASSERT_TRUE(client);
        StreamInfoPtr info = stream_info(client.get(), "PLAIN");
        ASSERT_TRUE(info);
        EXPECT_EQ(info->State.Msgs, 1200u);
        for (uint64_t seq : {1u, 600u, 1200u}) {
            MsgPtr msg = get_msg(client.get(), "PLAIN", seq);
            ASSERT_TRUE(msg) << seq;
            EXPECT_EQ(natsMsg_GetDataLength(msg.get()), 4000);
        }
        EXPECT_TRUE(publish(client.get(), "plain.one", "more").ok());
        size_t segments = 0;
        for (const auto& entry : std::filesystem::directory_iterator(
                 store.path() + "/jetstream/$G/streams/PLAIN/msgs")) {
            std::string name = entry.path().filename().string();
            EXPECT_TRUE(name.ends_with(".seg") || name.ends_with(".idx") || name == "spare.tmp" || name == "last.seq") << name;
            segments += name.ends_with(".seg");
        }
        EXPECT_GE(segments, 3u);
        client = {};
    }
}

TEST(JetStreamFaults, AFailingStoreCallIsNamedWithItsPathAndErrno) {
    if (!testing_ringtail()) GTEST_SKIP() << "Ringtail's store calls";
    StoreDir store;
    auto server = start_with_shim(store, "fallocate=EIO");
    ASSERT_NE(server, nullptr);
    JsClient client = connect_js(server->url());
    ASSERT_TRUE(client);
    StreamConfig config("NOPE", {"nope.>"});
    JsOutcome created = add_stream(client.get(), config);
    EXPECT_NE(created.status, NATS_OK);
    EXPECT_NE(created.text.find("fallocate " + store.path() + "/jetstream/$G/streams/NOPE/msgs/"),
              std::string::npos)
        << created;
    EXPECT_NE(created.text.find("Input/output error"), std::string::npos) << created;
    EXPECT_TRUE(server->running());
    client = {};
}

}  // namespace
}  // namespace ringtail::test
