// JetStream helpers for the libnats integration tests: a throwaway store directory, a server with
// JetStream on, RAII owners for libnats' JetStream objects, a stream config builder, the outcome
// of a libnats call (status + server err_code + error text), raw API requests parsed as JSON, and
// nats-server's per-message byte accounting.
#pragma once

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "tests/integration/nats_helpers.h"
#include "tests/support/server_process.h"

namespace ringtail::test {

// Durations in the JetStream API's JSON are nanoseconds.
inline constexpr int64_t kNanosPerMilli = 1'000'000;
inline constexpr int64_t kNanosPerSecond = 1'000'000'000;

// A fresh directory under /tmp (mkdtemp "ringtail-js-XXXXXX"); the destructor removes it with all
// its contents. path() is empty if it could not be created.
class StoreDir {
 public:
    StoreDir();
    ~StoreDir();
    StoreDir(const StoreDir&) = delete;
    StoreDir& operator=(const StoreDir&) = delete;
    const std::string& path() const { return path_; }

 private:
    std::string path_;
};

// The server under test with JetStream on and `store` as its store directory: `-js -sd <store>`.
std::unique_ptr<ServerProcess> start_js_server(const StoreDir& store);

struct JsDeleter {
    void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
    void operator()(jsStreamInfo* info) const { jsStreamInfo_Destroy(info); }
    void operator()(jsPubAck* ack) const { jsPubAck_Destroy(ack); }
    void operator()(jsAccountInfo* info) const { jsAccountInfo_Destroy(info); }
    void operator()(jsStreamNamesList* list) const { jsStreamNamesList_Destroy(list); }
    void operator()(jsStreamInfoList* list) const { jsStreamInfoList_Destroy(list); }
};
using JsCtxPtr = std::unique_ptr<jsCtx, JsDeleter>;
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, JsDeleter>;
using PubAckPtr = std::unique_ptr<jsPubAck, JsDeleter>;
using AccountInfoPtr = std::unique_ptr<jsAccountInfo, JsDeleter>;
using StreamNamesPtr = std::unique_ptr<jsStreamNamesList, JsDeleter>;
using StreamListPtr = std::unique_ptr<jsStreamInfoList, JsDeleter>;

// A connection and a JetStream context on it. The context is declared last so it is destroyed
// before the connection it uses.
struct JsClient {
    ConnectionPtr connection;
    JsCtxPtr js;
    jsCtx* get() const { return js.get(); }
    natsConnection* nc() const { return connection.get(); }
    explicit operator bool() const { return connection != nullptr && js != nullptr; }
};
// Connects (reconnects off) and creates a context whose API requests wait at most `wait_ms`.
JsClient connect_js(const std::string& url, int64_t wait_ms = 5000);
// Same, with `options` (MaxPending, ack/error handlers for js_PublishAsync); its Wait is used as
// is.
JsClient connect_js(const std::string& url, jsOptions* options);
// As user `user` with `password`, the context's requests waiting at most 5 s; bound to the
// JetStream `domain` when one is given.
JsClient connect_js_as(const std::string& url, const char* user, const char* password, const char* domain = nullptr);

// Owns the strings a jsStreamConfig points at. It starts from jsStreamConfig_Init (libnats'
// defaults: limits retention, file storage, discard old, max_consumers/max_msgs/max_bytes/
// max_msg_size -1, one replica, everything else zero). Numeric and bool fields are set on `raw`;
// get() points raw's string fields at the owned strings, so a copy stays valid.
class StreamConfig {
 public:
    explicit StreamConfig(std::string name, std::vector<std::string> subjects = {});
    StreamConfig& subjects(std::vector<std::string> subjects);
    StreamConfig& description(std::string text);
    StreamConfig& storage(jsStorageType storage) {
        raw.Storage = storage;
        return *this;
    }
    jsStreamConfig* get();
    const std::string& name() const { return name_; }

    jsStreamConfig raw{};

 private:
    std::string name_;
    std::string description_;
    std::vector<std::string> subjects_;
    std::vector<const char*> subject_ptrs_;
};

// What a libnats JetStream call returned: its status, the server's err_code from the jsErrCode
// out-parameter (0 if none) and libnats' last error text without its "(file:line): " prefix (for
// API errors the server's "description"; libnats clears it for NATS_NOT_FOUND).
struct JsOutcome {
    natsStatus status = NATS_OK;
    int err_code = 0;
    std::string text;
};
std::ostream& operator<<(std::ostream& out, const JsOutcome& outcome);
// Captures nats_GetLastError() after a call that returned `status`.
JsOutcome outcome_of(natsStatus status, jsErrCode err_code);

// js_AddStream / js_UpdateStream / js_GetStreamInfo; `info` (if given) receives the result.
JsOutcome add_stream(jsCtx* js, StreamConfig& config, StreamInfoPtr* info = nullptr);
JsOutcome update_stream(jsCtx* js, StreamConfig& config, StreamInfoPtr* info = nullptr);
StreamInfoPtr stream_info(jsCtx* js, const std::string& stream, jsOptions* options = nullptr);

// A js_Publish / js_PublishMsg result: the outcome plus the PubAck's fields when it succeeded.
struct PubOutcome {
    JsOutcome outcome;
    std::string stream;
    uint64_t seq = 0;
    bool duplicate = false;
    bool ok() const { return outcome.status == NATS_OK; }
};
std::ostream& operator<<(std::ostream& out, const PubOutcome& pub);
PubOutcome publish(jsCtx* js, const std::string& subject, std::string_view data,
                   jsPubOptions* options = nullptr);
// Publishes `subject`/`data` with `headers` (name, value pairs set with natsMsgHeader_Set).
PubOutcome publish_with_headers(jsCtx* js, const std::string& subject, std::string_view data,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                jsPubOptions* options = nullptr);

// natsConnection_Request to `subject` with `body`; the reply parsed as JSON, or a discarded
// (is_discarded()) value on timeout, no responders or a reply that is not JSON.
nlohmann::json api_request(natsConnection* connection, const std::string& subject,
                           std::string_view body = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(2));
// The raw reply (headers and payload) of a request, or nullptr with `status` set.
MsgPtr raw_request(natsConnection* connection, const std::string& subject, std::string_view body,
                   std::chrono::milliseconds timeout, natsStatus* status = nullptr);

// Polls `condition` every `interval` until it holds or `timeout` passes; returns the last result.
bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
              std::chrono::milliseconds interval = std::chrono::milliseconds(20));

// The bytes one message adds to state.bytes (and to the account's storage or memory) in
// nats-server 2.9: the file store counts its whole record (22-byte header + subject + [4-byte
// header length + headers] + payload + 8-byte hash), the memory store subject + headers +
// payload + 16. `headers_bytes` is
// the wire header block ("NATS/1.0\r\n...\r\n\r\n"), 0 for a message without headers.
uint64_t stored_msg_bytes(jsStorageType storage, std::string_view subject, size_t headers_bytes,
                          size_t payload_bytes);
// The wire size of a header block with these (name, value) pairs: "NATS/1.0\r\n" + each
// "name: value\r\n" + "\r\n".
size_t header_block_bytes(const std::vector<std::pair<std::string, std::string>>& headers);

// Wall-clock now in ns since the epoch (the unit of jsStreamState times).
inline int64_t unix_now_ns() { return base::wall_clock_ns(); }

// js_GetMsg / js_GetLastMsg; nullptr on failure with `outcome` (if given) telling why.
MsgPtr get_msg(jsCtx* js, const std::string& stream, uint64_t seq, JsOutcome* outcome = nullptr);
MsgPtr get_last_msg(jsCtx* js, const std::string& stream, const std::string& subject,
                    JsOutcome* outcome = nullptr);
// js_DeleteMsg (no_erase) or js_EraseMsg.
JsOutcome delete_msg(jsCtx* js, const std::string& stream, uint64_t seq);
JsOutcome erase_msg(jsCtx* js, const std::string& stream, uint64_t seq);
// js_PurgeStream with jsOptions.Stream.Purge {Subject = filter (if not empty), Sequence, Keep}.
JsOutcome purge(jsCtx* js, const std::string& stream, const std::string& filter = "",
                uint64_t seq = 0, uint64_t keep = 0);
// js_DeleteStream.
JsOutcome delete_stream(jsCtx* js, const std::string& stream);
// The value of header `name` on `msg`, or "<absent>".
std::string header_value(natsMsg* msg, const char* name);
// The names js_StreamNames returns, sorted; empty on error (`outcome` tells which).
std::vector<std::string> stream_names(jsCtx* js, JsOutcome* outcome = nullptr);

// Expects every stream config field nats-server 2.9 has to be equal (the strings by value).
void expect_same_config(const jsStreamConfig& expected, const jsStreamConfig& actual);

// A fresh store dir and the server under test with JetStream on it, started with the config
// file `text` (accounts, a domain, ...); start() again after a stop restarts it on the same
// store. Every test gets its own.
class JetStreamWithConfig : public ::testing::Test {
 protected:
    explicit JetStreamWithConfig(std::string text) : text_(std::move(text)) {}
    void SetUp() override {
        ASSERT_FALSE(store_.path().empty());
        config_ = std::make_unique<TempFile>(".conf", text_);
        start();
    }
    void start() {
        server_ = ServerProcess::start_under_test({"-js", "-sd", store_.path(), "-c", config_->path()});
        ASSERT_NE(server_, nullptr);
    }

    std::string text_;
    StoreDir store_;
    std::unique_ptr<TempFile> config_;
    std::unique_ptr<ServerProcess> server_;
};

// A fresh store dir, the server under test with JetStream on it and one JetStream client; every
// test gets its own. Members are declared so that the client goes first, then the server, then
// the store dir.
class JetStreamTest : public ::testing::Test {
 protected:
    void SetUp() override;
    // Stops the server with `signal`, starts a new one on the same store dir (the port may
    // change) and reconnects the client. With `args`, the new one is started with those
    // instead (a config naming the store dir, say).
    // Stops the server with `signal`, keeps it down for `down`, and starts it again (with
    // `args`, or as at first) on the same store.
    void restart(int signal, std::vector<std::string> args = {}, std::chrono::milliseconds down = {});
    jsCtx* js() const { return client_.get(); }
    natsConnection* nc() const { return client_.nc(); }

    StoreDir store_;
    std::unique_ptr<ServerProcess> server_;
    JsClient client_;
};

}  // namespace ringtail::test
