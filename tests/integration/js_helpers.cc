#include "tests/integration/js_helpers.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <thread>

namespace ringtail::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// nats-server 2.9 filestore record (fileStoreMsgSize in filestore.go): length (4) + sequence (8) +
// timestamp (8) + subject length (2), subject, [header length (4) + headers], payload, hash (8).
constexpr uint64_t kFileRecordOverheadBytes = 4 + 8 + 8 + 2 + 8;
constexpr uint64_t kFileHeaderLengthBytes = 4;
// memStoreMsgSize in memstore.go: subject + headers + payload + 16.
constexpr uint64_t kMemoryRecordOverheadBytes = 16;

}  // namespace

StoreDir::StoreDir() {
    std::string pattern = "/tmp/ringtail-js-XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

StoreDir::~StoreDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
}

std::unique_ptr<ServerProcess> start_js_server(const StoreDir& store) {
    if (store.path().empty()) return nullptr;
    return ServerProcess::start_under_test({"-js", "-sd", store.path()});
}

JsClient connect_js(const std::string& url, int64_t wait_ms) {
    jsOptions options;
    if (jsOptions_Init(&options) != NATS_OK) return {};
    options.Wait = wait_ms;
    return connect_js(url, &options);
}

JsClient connect_js(const std::string& url, jsOptions* options) {
    JsClient client;
    client.connection = connect(url);
    if (!client.connection) return {};
    jsCtx* raw = nullptr;
    if (natsConnection_JetStream(&raw, client.connection.get(), options) != NATS_OK) return {};
    client.js.reset(raw);
    return client;
}

JsClient connect_js_as(const std::string& url, const char* user, const char* password, const char* domain) {
    OptionsPtr options = make_options(url);
    if (!options || natsOptions_SetUserInfo(options.get(), user, password) != NATS_OK) return {};
    JsClient client;
    client.connection = connect_with(options.get());
    if (!client.connection) return {};
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.Wait = 5000;
    js_options.Domain = domain;
    jsCtx* raw = nullptr;
    if (natsConnection_JetStream(&raw, client.connection.get(), &js_options) != NATS_OK) return {};
    client.js.reset(raw);
    return client;
}

StreamConfig::StreamConfig(std::string name, std::vector<std::string> subjects)
    : name_(std::move(name)), subjects_(std::move(subjects)) {
    jsStreamConfig_Init(&raw);
}

StreamConfig& StreamConfig::subjects(std::vector<std::string> subjects) {
    subjects_ = std::move(subjects);
    return *this;
}

StreamConfig& StreamConfig::description(std::string text) {
    description_ = std::move(text);
    return *this;
}

jsStreamConfig* StreamConfig::get() {
    raw.Name = name_.c_str();
    raw.Description = description_.empty() ? nullptr : description_.c_str();
    subject_ptrs_.clear();
    for (const std::string& subject : subjects_) subject_ptrs_.push_back(subject.c_str());
    raw.Subjects = subject_ptrs_.empty() ? nullptr : subject_ptrs_.data();
    raw.SubjectsLen = static_cast<int>(subject_ptrs_.size());
    return &raw;
}

std::ostream& operator<<(std::ostream& out, const JsOutcome& outcome) {
    return out << "{status " << natsStatus_GetText(outcome.status) << ", err_code "
               << outcome.err_code << ", text '" << outcome.text << "'}";
}

JsOutcome outcome_of(natsStatus status, jsErrCode err_code) {
    JsOutcome outcome;
    outcome.status = status;
    outcome.err_code = static_cast<int>(err_code);
    if (status != NATS_OK) {
        // libnats prefixes its last error with where it was set: "(jsm.c:1033): <text>".
        const char* text = nats_GetLastError(nullptr);
        if (text != nullptr) outcome.text = text;
        size_t origin_end = outcome.text.find("): ");
        if (outcome.text.starts_with('(') && origin_end != std::string::npos) {
            outcome.text.erase(0, origin_end + 3);
        }
    }
    return outcome;
}

namespace {

// js_AddStream and js_UpdateStream take the same arguments.
using StreamCall = natsStatus (*)(jsStreamInfo**, jsCtx*, jsStreamConfig*, jsOptions*, jsErrCode*);

JsOutcome call_with_config(StreamCall call, jsCtx* js, StreamConfig& config, StreamInfoPtr* info) {
    jsStreamInfo* raw = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = call(&raw, js, config.get(), nullptr, &err_code);
    JsOutcome outcome = outcome_of(status, err_code);
    StreamInfoPtr owned(raw);
    if (info != nullptr) *info = std::move(owned);
    return outcome;
}

}  // namespace

JsOutcome add_stream(jsCtx* js, StreamConfig& config, StreamInfoPtr* info) {
    return call_with_config(&js_AddStream, js, config, info);
}

JsOutcome update_stream(jsCtx* js, StreamConfig& config, StreamInfoPtr* info) {
    return call_with_config(&js_UpdateStream, js, config, info);
}

StreamInfoPtr stream_info(jsCtx* js, const std::string& stream, jsOptions* options) {
    jsStreamInfo* raw = nullptr;
    if (js_GetStreamInfo(&raw, js, stream.c_str(), options, nullptr) != NATS_OK) return nullptr;
    return StreamInfoPtr(raw);
}

std::ostream& operator<<(std::ostream& out, const PubOutcome& pub) {
    return out << "{" << pub.outcome << ", stream '" << pub.stream << "', seq " << pub.seq
               << ", duplicate " << pub.duplicate << "}";
}

namespace {

PubOutcome pub_outcome(natsStatus status, jsErrCode err_code, jsPubAck* raw_ack) {
    PubAckPtr ack(raw_ack);
    PubOutcome pub;
    pub.outcome = outcome_of(status, err_code);
    if (ack) {
        pub.stream = ack->Stream != nullptr ? ack->Stream : "";
        pub.seq = ack->Sequence;
        pub.duplicate = ack->Duplicate;
    }
    return pub;
}

}  // namespace

PubOutcome publish(jsCtx* js, const std::string& subject, std::string_view data,
                   jsPubOptions* options) {
    jsPubAck* ack = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_Publish(&ack, js, subject.c_str(), data.data(),
                                   static_cast<int>(data.size()), options, &err_code);
    return pub_outcome(status, err_code, ack);
}

PubOutcome publish_with_headers(jsCtx* js, const std::string& subject, std::string_view data,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                jsPubOptions* options) {
    natsMsg* raw_msg = nullptr;
    natsStatus status = natsMsg_Create(&raw_msg, subject.c_str(), nullptr, data.data(),
                                       static_cast<int>(data.size()));
    if (status != NATS_OK) return pub_outcome(status, static_cast<jsErrCode>(0), nullptr);
    MsgPtr msg(raw_msg);
    for (const auto& [name, value] : headers) {
        status = natsMsgHeader_Set(msg.get(), name.c_str(), value.c_str());
        if (status != NATS_OK) return pub_outcome(status, static_cast<jsErrCode>(0), nullptr);
    }
    jsPubAck* ack = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    status = js_PublishMsg(&ack, js, msg.get(), options, &err_code);
    return pub_outcome(status, err_code, ack);
}

MsgPtr raw_request(natsConnection* connection, const std::string& subject, std::string_view body,
                   std::chrono::milliseconds timeout, natsStatus* status) {
    natsMsg* reply = nullptr;
    natsStatus result = natsConnection_Request(&reply, connection, subject.c_str(), body.data(),
                                               static_cast<int>(body.size()), timeout.count());
    if (status != nullptr) *status = result;
    if (result != NATS_OK) return nullptr;
    return MsgPtr(reply);
}

nlohmann::json api_request(natsConnection* connection, const std::string& subject,
                           std::string_view body, std::chrono::milliseconds timeout) {
    MsgPtr reply = raw_request(connection, subject, body, timeout);
    if (!reply) return nlohmann::json(nlohmann::json::value_t::discarded);
    return nlohmann::json::parse(msg_data(reply.get()), nullptr, /*allow_exceptions=*/false);
}

bool wait_for(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
              std::chrono::milliseconds interval) {
    auto deadline = Clock::now() + timeout;
    while (true) {
        if (condition()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(interval);
    }
}

uint64_t stored_msg_bytes(jsStorageType storage, std::string_view subject, size_t headers_bytes,
                          size_t payload_bytes) {
    uint64_t content = subject.size() + headers_bytes + payload_bytes;
    if (storage == js_MemoryStorage) return content + kMemoryRecordOverheadBytes;
    return content + kFileRecordOverheadBytes + (headers_bytes > 0 ? kFileHeaderLengthBytes : 0);
}

size_t header_block_bytes(const std::vector<std::pair<std::string, std::string>>& headers) {
    size_t bytes = std::string_view("NATS/1.0\r\n").size() + 2;
    for (const auto& [name, value] : headers) bytes += name.size() + 2 + value.size() + 2;
    return bytes;
}

MsgPtr get_msg(jsCtx* js, const std::string& stream, uint64_t seq, JsOutcome* outcome) {
    natsMsg* raw = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_GetMsg(&raw, js, stream.c_str(), seq, nullptr, &err_code);
    if (outcome != nullptr) *outcome = outcome_of(status, err_code);
    return MsgPtr(status == NATS_OK ? raw : nullptr);
}

MsgPtr get_last_msg(jsCtx* js, const std::string& stream, const std::string& subject,
                    JsOutcome* outcome) {
    natsMsg* raw = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status =
        js_GetLastMsg(&raw, js, stream.c_str(), subject.c_str(), nullptr, &err_code);
    if (outcome != nullptr) *outcome = outcome_of(status, err_code);
    return MsgPtr(status == NATS_OK ? raw : nullptr);
}

JsOutcome delete_msg(jsCtx* js, const std::string& stream, uint64_t seq) {
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_DeleteMsg(js, stream.c_str(), seq, nullptr, &err_code);
    return outcome_of(status, err_code);
}

JsOutcome erase_msg(jsCtx* js, const std::string& stream, uint64_t seq) {
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_EraseMsg(js, stream.c_str(), seq, nullptr, &err_code);
    return outcome_of(status, err_code);
}

JsOutcome purge(jsCtx* js, const std::string& stream, const std::string& filter, uint64_t seq,
                uint64_t keep) {
    jsOptions options;
    jsOptions_Init(&options);
    options.Stream.Purge.Subject = filter.empty() ? nullptr : filter.c_str();
    options.Stream.Purge.Sequence = seq;
    options.Stream.Purge.Keep = keep;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_PurgeStream(js, stream.c_str(), &options, &err_code);
    return outcome_of(status, err_code);
}

JsOutcome delete_stream(jsCtx* js, const std::string& stream) {
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_DeleteStream(js, stream.c_str(), nullptr, &err_code);
    return outcome_of(status, err_code);
}

std::string header_value(natsMsg* msg, const char* name) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, name, &value) != NATS_OK || value == nullptr) return "<absent>";
    return value;
}

std::vector<std::string> stream_names(jsCtx* js, JsOutcome* outcome) {
    jsStreamNamesList* raw = nullptr;
    jsErrCode err_code = static_cast<jsErrCode>(0);
    natsStatus status = js_StreamNames(&raw, js, nullptr, &err_code);
    if (outcome != nullptr) *outcome = outcome_of(status, err_code);
    StreamNamesPtr list(raw);
    std::vector<std::string> names;
    if (status != NATS_OK || !list) return names;
    for (int i = 0; i < list->Count; ++i) names.emplace_back(list->List[i]);
    std::sort(names.begin(), names.end());
    return names;
}

namespace {

std::string or_empty(const char* text) { return text != nullptr ? text : ""; }

std::vector<std::string> subjects_of(const jsStreamConfig& config) {
    std::vector<std::string> subjects;
    for (int i = 0; i < config.SubjectsLen; ++i) subjects.emplace_back(config.Subjects[i]);
    return subjects;
}

}  // namespace

void expect_same_config(const jsStreamConfig& expected, const jsStreamConfig& actual) {
    EXPECT_EQ(or_empty(expected.Name), or_empty(actual.Name));
    EXPECT_EQ(or_empty(expected.Description), or_empty(actual.Description));
    EXPECT_EQ(subjects_of(expected), subjects_of(actual));
    EXPECT_EQ(expected.Retention, actual.Retention);
    EXPECT_EQ(expected.MaxConsumers, actual.MaxConsumers);
    EXPECT_EQ(expected.MaxMsgs, actual.MaxMsgs);
    EXPECT_EQ(expected.MaxBytes, actual.MaxBytes);
    EXPECT_EQ(expected.MaxAge, actual.MaxAge);
    EXPECT_EQ(expected.MaxMsgsPerSubject, actual.MaxMsgsPerSubject);
    EXPECT_EQ(expected.MaxMsgSize, actual.MaxMsgSize);
    EXPECT_EQ(expected.Discard, actual.Discard);
    EXPECT_EQ(expected.Storage, actual.Storage);
    EXPECT_EQ(expected.Replicas, actual.Replicas);
    EXPECT_EQ(expected.NoAck, actual.NoAck);
    EXPECT_EQ(expected.Duplicates, actual.Duplicates);
    EXPECT_EQ(expected.Sealed, actual.Sealed);
    EXPECT_EQ(expected.DenyDelete, actual.DenyDelete);
    EXPECT_EQ(expected.DenyPurge, actual.DenyPurge);
    EXPECT_EQ(expected.AllowRollup, actual.AllowRollup);
    EXPECT_EQ(expected.AllowDirect, actual.AllowDirect);
    EXPECT_EQ(expected.MirrorDirect, actual.MirrorDirect);
    EXPECT_EQ(expected.DiscardNewPerSubject, actual.DiscardNewPerSubject);
}

void JetStreamTest::SetUp() {
    ASSERT_FALSE(store_.path().empty()) << "mkdtemp failed";
    server_ = start_js_server(store_);
    ASSERT_NE(server_, nullptr);
    client_ = connect_js(server_->url());
    ASSERT_TRUE(client_);
}

void JetStreamTest::restart(int signal, std::vector<std::string> args, std::chrono::milliseconds down) {
    client_ = {};
    server_->stop(signal);
    std::this_thread::sleep_for(down);
    server_ = args.empty() ? start_js_server(store_) : ServerProcess::start_under_test(std::move(args));
    ASSERT_NE(server_, nullptr);
    client_ = connect_js(server_->url());
    ASSERT_TRUE(client_);
}

}  // namespace ringtail::test
