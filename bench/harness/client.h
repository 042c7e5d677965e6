#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "proto/client_reader.h"
#include "proto/info_connect.h"

namespace ringtail::bench {

using Clock = std::chrono::steady_clock;

// Harness errors are values with a message: they end a run and are reported, never thrown.
template <class T>
using Expected = std::expected<T, std::string>;
using Status = Expected<void>;

// nats://[user:pass@]host:port, or host:port.
struct ServerUrl {
    std::string host = "127.0.0.1";
    std::string port = "4222";
    std::string user;
    std::string pass;
    std::string text() const { return "nats://" + host + ":" + port; }
};
[[nodiscard]] Expected<ServerUrl> parse_url(std::string_view url);

// What a blocking request returned (setup and teardown only: JetStream API calls).
struct Reply {
    std::string headers;  // HMSG: the header block; MSG: empty
    std::string payload;
};

// One client connection to a NATS server, with the lean I/O the harness needs.
// Lifecycle: open() connects and does the handshake (INFO, CONNECT, PING/PONG) blocking, with
// a deadline; the run then drives it non-blocking from one worker thread (flush(), read()).
// Setup helpers (ping_sync, request_sync) block and are never used while a run is measured.
// Owner: one thread at a time.
class Connection {
 public:
    static constexpr size_t kReadBytes = 1 << 20;  // one read() asks for up to 1 MiB

    struct Params {
        std::string name = "ringtail-bench";
        bool echo = true;
        // Milliseconds for connect + handshake and for each blocking helper.
        std::chrono::milliseconds timeout{5000};
        int socket_buffer_bytes = 0;  // SO_SNDBUF/SO_RCVBUF when > 0
    };

    [[nodiscard]] static Expected<std::unique_ptr<Connection>> open(const ServerUrl& url,
                                                                    const Params& params);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    int fd() const { return fd_; }
    const proto::Info& info() const { return info_; }

    // ---- output: append frames to out(), then flush() ----
    std::string& out() { return out_; }
    size_t out_pending_bytes() const { return out_.size() - out_sent_; }

    enum class Io : uint8_t { kOk, kWouldBlock, kClosed, kError };
    // Sends what it can without blocking. kOk: everything pending was sent.
    Io flush();

    // ---- input ----
    // One non-blocking recv into `scratch`, fed to the reader. kWouldBlock: nothing to read.
    // kError with error() set on a malformed frame or a socket error.
    Io read(std::span<char> scratch, proto::ClientReaderHandler& handler);
    const std::string& error() const { return error_; }

    // ---- blocking helpers for setup and teardown ----
    // Sends everything, then PING, and waits for the PONG: the server has processed all that
    // this connection sent before (SUBs included, on every shard in Ringtail's case).
    [[nodiscard]] Status ping_sync();
    // Publishes `payload` to `subject` with a private reply inbox and waits for the reply.
    // Messages for other subscriptions that arrive meanwhile are dropped.
    [[nodiscard]] Expected<Reply> request_sync(std::string_view subject, std::string_view payload);

 private:
    Connection(int fd, Params params) : fd_(fd), params_(std::move(params)) {}
    Status handshake(const ServerUrl& url);
    // Reads (blocking, until the deadline) until `done()` says so.
    template <class Done>
    Status read_blocking(proto::ClientReaderHandler& handler, Done done);
    Status flush_blocking();

    int fd_;
    Params params_;
    proto::Info info_;
    proto::ClientReader reader_;
    std::string out_;
    size_t out_sent_ = 0;
    std::string error_;
    std::string scratch_;         // the blocking helpers' read buffer
    uint64_t sync_requests_ = 0;  // request_sync() inbox tokens
    bool sync_inbox_subscribed_ = false;
    std::string sync_inbox_;
};

// Steady-clock nanoseconds (the harness's single time base).
inline uint64_t now_ns() {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count());
}

// A token unique to this process and call, for subjects and inboxes.
std::string unique_token();

}  // namespace ringtail::bench
