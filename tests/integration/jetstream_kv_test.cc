// Key-value buckets through libnats's own KV API (js_CreateKeyValue, kvStore_*), as users reach
// them: a bucket is a stream, reads of a key are direct gets or consumers, and keys, history and
// watch are ordered push consumers the client builds. Every expectation is what the same calls
// give against nats-server 2.9.10 (RT_TEST_SERVER=nats-server runs them there).
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/js_helpers.h"
#include "tests/integration/nats_helpers.h"

namespace ringtail::test {
namespace {

using namespace std::chrono_literals;

struct KvDeleter {
    void operator()(kvStore* kv) const { kvStore_Destroy(kv); }
    void operator()(kvEntry* entry) const { kvEntry_Destroy(entry); }
    void operator()(kvWatcher* watcher) const { kvWatcher_Destroy(watcher); }
    void operator()(kvStatus* status) const { kvStatus_Destroy(status); }
};
using KvPtr = std::unique_ptr<kvStore, KvDeleter>;
using EntryPtr = std::unique_ptr<kvEntry, KvDeleter>;
using WatcherPtr = std::unique_ptr<kvWatcher, KvDeleter>;
using StatusPtr = std::unique_ptr<kvStatus, KvDeleter>;

// An entry as the tests compare it: key, value, revision and operation.
struct Entry {
    std::string key;
    std::string value;
    uint64_t revision = 0;
    kvOperation op = kvOp_Unknown;
    bool operator==(const Entry&) const = default;
};
std::ostream& operator<<(std::ostream& out, const Entry& entry) {
    const char* op = entry.op == kvOp_Put ? "PUT" : entry.op == kvOp_Delete ? "DEL" : entry.op == kvOp_Purge ? "PURGE" : "?";
    return out << "{" << entry.key << "=" << entry.value << " rev " << entry.revision << " " << op << "}";
}
Entry entry_of(kvEntry* entry) {
    return {kvEntry_Key(entry), std::string(static_cast<const char*>(kvEntry_Value(entry)),
                                            static_cast<size_t>(kvEntry_ValueLen(entry))),
            kvEntry_Revision(entry), kvEntry_Operation(entry)};
}

class JetStreamKv : public JetStreamTest {
 protected:
    KvPtr create_bucket(const char* name, uint8_t history = 1) {
        kvConfig config;
        kvConfig_Init(&config);
        config.Bucket = name;
        config.History = history;
        kvStore* kv = nullptr;
        natsStatus status = js_CreateKeyValue(&kv, js(), &config);
        EXPECT_EQ(NATS_OK, status) << natsStatus_GetText(status) << " " << nats_GetLastError(nullptr);
        return KvPtr(status == NATS_OK ? kv : nullptr);
    }
    uint64_t put(kvStore* kv, const char* key, const char* value) {
        uint64_t revision = 0;
        EXPECT_EQ(NATS_OK, kvStore_PutString(&revision, kv, key, value)) << key;
        return revision;
    }
    // Up to `count` entries from `watcher`; a nil entry (libnats's "initial values done") is
    // recorded as an Entry with an empty key.
    std::vector<Entry> next_entries(kvWatcher* watcher, size_t count) {
        std::vector<Entry> entries;
        while (entries.size() < count) {
            kvEntry* raw = nullptr;
            if (kvWatcher_Next(&raw, watcher, 2000) != NATS_OK) break;
            EntryPtr entry(raw);
            entries.push_back(entry ? entry_of(entry.get()) : Entry{});
        }
        return entries;
    }
};

TEST_F(JetStreamKv, PutGetCreateUpdateDeleteAndPurge) {
    KvPtr kv = create_bucket("CFG");
    ASSERT_NE(nullptr, kv);
    EXPECT_EQ(1u, put(kv.get(), "a", "one"));
    EXPECT_EQ(2u, put(kv.get(), "b", "two"));

    kvEntry* raw = nullptr;
    ASSERT_EQ(NATS_OK, kvStore_Get(&raw, kv.get(), "a"));
    EntryPtr got(raw);
    EXPECT_EQ((Entry{"a", "one", 1, kvOp_Put}), entry_of(got.get()));
    EXPECT_EQ(NATS_NOT_FOUND, kvStore_Get(&raw, kv.get(), "missing"));

    // Create only if absent; update only at the expected revision.
    uint64_t revision = 0;
    EXPECT_NE(NATS_OK, kvStore_CreateString(&revision, kv.get(), "a", "again"));
    EXPECT_EQ(NATS_OK, kvStore_CreateString(&revision, kv.get(), "c", "three"));
    EXPECT_EQ(3u, revision);
    EXPECT_NE(NATS_OK, kvStore_UpdateString(&revision, kv.get(), "a", "stale", 2));
    EXPECT_EQ(NATS_OK, kvStore_UpdateString(&revision, kv.get(), "a", "uno", 1));
    EXPECT_EQ(4u, revision);

    // A delete leaves a marker: the key reads as not found, and can be created again.
    ASSERT_EQ(NATS_OK, kvStore_Delete(kv.get(), "b"));
    EXPECT_EQ(NATS_NOT_FOUND, kvStore_Get(&raw, kv.get(), "b"));
    EXPECT_EQ(NATS_OK, kvStore_CreateString(&revision, kv.get(), "b", "deux"));
    EXPECT_EQ(6u, revision);
    ASSERT_EQ(NATS_OK, kvStore_Purge(kv.get(), "c", nullptr));
    EXPECT_EQ(NATS_NOT_FOUND, kvStore_Get(&raw, kv.get(), "c"));

    kvStatus* status_raw = nullptr;
    ASSERT_EQ(NATS_OK, kvStore_Status(&status_raw, kv.get()));
    StatusPtr status(status_raw);
    EXPECT_STREQ("CFG", kvStatus_Bucket(status.get()));
    EXPECT_EQ(1, kvStatus_History(status.get()));
    // a (uno), b (deux), and c's purge marker.
    EXPECT_EQ(3u, kvStatus_Values(status.get()));
}

TEST_F(JetStreamKv, KeysListsLiveKeysOnly) {
    KvPtr kv = create_bucket("KEYS");
    ASSERT_NE(nullptr, kv);
    put(kv.get(), "x", "1");
    put(kv.get(), "y", "2");
    put(kv.get(), "z", "3");
    put(kv.get(), "x", "4");
    ASSERT_EQ(NATS_OK, kvStore_Delete(kv.get(), "y"));

    kvKeysList keys{};
    ASSERT_EQ(NATS_OK, kvStore_Keys(&keys, kv.get(), nullptr));
    std::vector<std::string> names;
    for (int i = 0; i < keys.Count; ++i) names.emplace_back(keys.Keys[i]);
    kvKeysList_Destroy(&keys);
    std::sort(names.begin(), names.end());
    EXPECT_EQ((std::vector<std::string>{"x", "z"}), names);
}

TEST_F(JetStreamKv, HistoryKeepsTheBucketsDepthPerKey) {
    KvPtr kv = create_bucket("HIST", 3);
    ASSERT_NE(nullptr, kv);
    for (const char* value : {"v1", "v2", "v3", "v4"}) put(kv.get(), "k", value);
    put(kv.get(), "other", "o");

    kvEntryList list{};
    ASSERT_EQ(NATS_OK, kvStore_History(&list, kv.get(), "k", nullptr));
    std::vector<Entry> entries;
    for (int i = 0; i < list.Count; ++i) entries.push_back(entry_of(list.Entries[i]));
    kvEntryList_Destroy(&list);
    EXPECT_EQ((std::vector<Entry>{{"k", "v2", 2, kvOp_Put}, {"k", "v3", 3, kvOp_Put}, {"k", "v4", 4, kvOp_Put}}),
              entries);

    kvEntry* raw = nullptr;
    ASSERT_EQ(NATS_OK, kvStore_GetRevision(&raw, kv.get(), "k", 3));
    EntryPtr old(raw);
    EXPECT_EQ("v3", entry_of(old.get()).value);
}

TEST_F(JetStreamKv, WatchAllGivesLatestValuesThenLiveUpdates) {
    KvPtr kv = create_bucket("WATCH", 5);
    ASSERT_NE(nullptr, kv);
    put(kv.get(), "a", "a1");
    put(kv.get(), "a", "a2");
    put(kv.get(), "b", "b1");

    kvWatcher* raw = nullptr;
    ASSERT_EQ(NATS_OK, kvStore_WatchAll(&raw, kv.get(), nullptr));
    WatcherPtr watcher(raw);
    // The latest value of each key, then the nil entry that ends the initial values.
    EXPECT_EQ((std::vector<Entry>{{"a", "a2", 2, kvOp_Put}, {"b", "b1", 3, kvOp_Put}, {}}),
              next_entries(watcher.get(), 3));
    put(kv.get(), "c", "c1");
    ASSERT_EQ(NATS_OK, kvStore_Delete(kv.get(), "a"));
    EXPECT_EQ((std::vector<Entry>{{"c", "c1", 4, kvOp_Put}, {"a", "", 5, kvOp_Delete}}),
              next_entries(watcher.get(), 2));
}

TEST_F(JetStreamKv, WatchByPatternWithHistoryAndIgnoringDeletes) {
    KvPtr kv = create_bucket("PAT", 5);
    ASSERT_NE(nullptr, kv);
    put(kv.get(), "orders.1", "new");
    put(kv.get(), "users.1", "ann");
    put(kv.get(), "orders.1", "paid");
    put(kv.get(), "orders.2", "new");
    ASSERT_EQ(NATS_OK, kvStore_Delete(kv.get(), "orders.2"));

    kvWatchOptions options;
    kvWatchOptions_Init(&options);
    options.IncludeHistory = true;
    options.IgnoreDeletes = true;
    kvWatcher* raw = nullptr;
    ASSERT_EQ(NATS_OK, kvStore_Watch(&raw, kv.get(), "orders.*", &options));
    WatcherPtr watcher(raw);
    EXPECT_EQ((std::vector<Entry>{{"orders.1", "new", 1, kvOp_Put},
                                  {"orders.1", "paid", 3, kvOp_Put},
                                  {"orders.2", "new", 4, kvOp_Put},
                                  {}}),
              next_entries(watcher.get(), 4));
    put(kv.get(), "users.2", "bob");
    put(kv.get(), "orders.3", "new");
    EXPECT_EQ((std::vector<Entry>{{"orders.3", "new", 7, kvOp_Put}}), next_entries(watcher.get(), 1));
}

TEST_F(JetStreamKv, WatchOfAnEmptyBucketSignalsTheEndOfInitialValuesAtOnce) {
    KvPtr kv = create_bucket("EMPTY");
    ASSERT_NE(nullptr, kv);
    kvWatcher* raw = nullptr;
    ASSERT_EQ(NATS_OK, kvStore_WatchAll(&raw, kv.get(), nullptr));
    WatcherPtr watcher(raw);
    EXPECT_EQ((std::vector<Entry>{{}}), next_entries(watcher.get(), 1));
    put(kv.get(), "k", "v");
    EXPECT_EQ((std::vector<Entry>{{"k", "v", 1, kvOp_Put}}), next_entries(watcher.get(), 1));
}

TEST_F(JetStreamKv, MaxValueSizeAndTtlAreTheBucketsLimits) {
    kvConfig config;
    kvConfig_Init(&config);
    config.Bucket = "LIM";
    config.MaxValueSize = 8;
    config.TTL = 300'000'000;  // nanoseconds: the stream's max_age
    kvStore* raw = nullptr;
    ASSERT_EQ(NATS_OK, js_CreateKeyValue(&raw, js(), &config)) << nats_GetLastError(nullptr);
    KvPtr kv(raw);
    uint64_t revision = 0;
    EXPECT_EQ(NATS_OK, kvStore_PutString(&revision, kv.get(), "k", "12345678"));
    EXPECT_NE(NATS_OK, kvStore_PutString(&revision, kv.get(), "k", "123456789"));
    kvEntry* entry = nullptr;
    ASSERT_EQ(NATS_OK, kvStore_Get(&entry, kv.get(), "k"));
    kvEntry_Destroy(entry);
    // Past the TTL the value has aged out of the stream.
    wait_for([&] {
        kvEntry* aged = nullptr;
        natsStatus status = kvStore_Get(&aged, kv.get(), "k");
        if (aged != nullptr) kvEntry_Destroy(aged);
        return status == NATS_NOT_FOUND;
    }, 3s);
    EXPECT_EQ(NATS_NOT_FOUND, kvStore_Get(&entry, kv.get(), "k"));
}

// RePublish is what KV's republish option sets: each stored message goes on to a subject of
// its own, carrying where it came from.
TEST_F(JetStreamKv, RepublishSendsEveryStoredMessageOnWithItsOrigin) {
    jsRePublish republish;
    jsRePublish_Init(&republish);
    republish.Source = "rp.*.>";
    republish.Destination = "out.{{wildcard(1)}}.>";
    StreamConfig stream("RP", {"rp.>"});
    stream.raw.RePublish = &republish;
    ASSERT_EQ(NATS_OK, add_stream(js(), stream).status);
    SubscriptionPtr out = subscribe_sync(nc(), "out.>");
    ASSERT_NE(nullptr, out);
    ASSERT_TRUE(publish(js(), "rp.a.x.y", "first").ok());
    ASSERT_TRUE(publish_with_headers(js(), "rp.b.z", "second", {{"Foo", "bar"}}).ok());
    ASSERT_TRUE(publish(js(), "rp.a.x.y", "third").ok());
    ASSERT_TRUE(publish(js(), "rp.only", "not matched by the source").ok());

    struct Seen {
        std::string subject, data, stream, origin, seq, last, foo;
        bool operator==(const Seen&) const = default;
    };
    std::vector<Seen> seen;
    for (int i = 0; i < 3; ++i) {
        MsgPtr msg = next_msg(out.get(), 2s);
        ASSERT_NE(nullptr, msg) << "message " << i + 1;
        seen.push_back({natsMsg_GetSubject(msg.get()), std::string(msg_data(msg.get())), header_value(msg.get(), "Nats-Stream"),
                        header_value(msg.get(), "Nats-Subject"), header_value(msg.get(), "Nats-Sequence"),
                        header_value(msg.get(), "Nats-Last-Sequence"), header_value(msg.get(), "Foo")});
    }
    EXPECT_TRUE(seen[0] == (Seen{"out.a.x.y", "first", "RP", "rp.a.x.y", "1", "0", "<absent>"}));
    EXPECT_TRUE(seen[1] == (Seen{"out.b.z", "second", "RP", "rp.b.z", "2", "0", "bar"}));
    EXPECT_TRUE(seen[2] == (Seen{"out.a.x.y", "third", "RP", "rp.a.x.y", "3", "1", "<absent>"}));
    EXPECT_EQ(nullptr, next_msg(out.get(), 300ms));
}

TEST_F(JetStreamKv, RepublishHeadersOnlySendsTheSizeInsteadOfThePayload) {
    jsRePublish republish;
    jsRePublish_Init(&republish);
    republish.Destination = "meta.>";
    republish.HeadersOnly = true;
    StreamConfig stream("RPH", {"rph.>"});
    stream.raw.RePublish = &republish;
    ASSERT_EQ(NATS_OK, add_stream(js(), stream).status);
    SubscriptionPtr out = subscribe_sync(nc(), "meta.>");
    ASSERT_NE(nullptr, out);
    ASSERT_TRUE(publish(js(), "rph.k", "0123456789").ok());
    MsgPtr msg = next_msg(out.get(), 2s);
    ASSERT_NE(nullptr, msg);
    EXPECT_STREQ("meta.rph.k", natsMsg_GetSubject(msg.get()));
    EXPECT_EQ(0, natsMsg_GetDataLength(msg.get()));
    EXPECT_EQ("10", header_value(msg.get(), "Nats-Msg-Size"));
    EXPECT_EQ("1", header_value(msg.get(), "Nats-Sequence"));
}

TEST_F(JetStreamKv, AWatchGoesOnAcrossAServerRestart) {
    // A client that reconnects, watching a bucket, while the server is killed and started
    // again on the same port and store: the watch resumes after the last entry it had, with
    // nothing missed and nothing twice.
    int port = server_->port();
    client_ = {};
    OptionsPtr options = make_options(server_->url());
    ASSERT_TRUE(options);
    natsOptions_SetMaxReconnect(options.get(), -1);
    natsOptions_SetReconnectWait(options.get(), 50);
    natsOptions_SetAllowReconnect(options.get(), true);
    ConnectionPtr connection = connect_with(options.get());
    ASSERT_TRUE(connection);
    jsCtx* raw_js = nullptr;
    ASSERT_EQ(NATS_OK, natsConnection_JetStream(&raw_js, connection.get(), nullptr));
    JsCtxPtr js(raw_js);
    kvConfig config;
    kvConfig_Init(&config);
    config.Bucket = "LIVE";
    config.History = 5;
    kvStore* raw_kv = nullptr;
    ASSERT_EQ(NATS_OK, js_CreateKeyValue(&raw_kv, js.get(), &config));
    KvPtr kv(raw_kv);
    put(kv.get(), "a", "1");
    kvWatcher* raw_watcher = nullptr;
    ASSERT_EQ(NATS_OK, kvStore_WatchAll(&raw_watcher, kv.get(), nullptr));
    WatcherPtr watcher(raw_watcher);
    EXPECT_EQ((std::vector<Entry>{{"a", "1", 1, kvOp_Put}, {}}), next_entries(watcher.get(), 2));
    put(kv.get(), "b", "2");
    EXPECT_EQ((std::vector<Entry>{{"b", "2", 2, kvOp_Put}}), next_entries(watcher.get(), 1));

    server_->stop(SIGKILL);
    server_ = ServerProcess::start_under_test({"-js", "-sd", store_.path()}, port);
    ASSERT_NE(server_, nullptr);
    ASSERT_TRUE(wait_for([&] { return natsConnection_Status(connection.get()) == NATS_CONN_STATUS_CONNECTED; }, 10s));
    uint64_t revision = 0;
    ASSERT_TRUE(wait_for([&] { return kvStore_PutString(&revision, kv.get(), "c", "3") == NATS_OK; }, 10s));
    EXPECT_EQ(revision, 3u);
    // libnats notices the lost consumer from its missing heartbeats and makes it again.
    std::vector<Entry> after;
    for (int i = 0; i < 20 && after.empty(); ++i) after = next_entries(watcher.get(), 1);
    EXPECT_EQ((std::vector<Entry>{{"c", "3", 3, kvOp_Put}}), after);
    put(kv.get(), "a", "4");
    EXPECT_EQ((std::vector<Entry>{{"a", "4", 4, kvOp_Put}}), next_entries(watcher.get(), 1));
}

TEST_F(JetStreamKv, DeletedBucketIsGone) {
    KvPtr kv = create_bucket("GONE");
    ASSERT_NE(nullptr, kv);
    put(kv.get(), "k", "v");
    kv.reset();
    ASSERT_EQ(NATS_OK, js_DeleteKeyValue(js(), "GONE"));
    kvStore* raw = nullptr;
    EXPECT_NE(NATS_OK, js_KeyValue(&raw, js(), "GONE"));
    if (raw != nullptr) kvStore_Destroy(raw);
}

}  // namespace
}  // namespace ringtail::test
