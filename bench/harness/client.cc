#include "bench/harness/client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "proto/client_info.h"

namespace ringtail::bench {

namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Collects the frames of the handshake and of the blocking helpers.
class SetupHandler : public proto::ClientReaderHandler {
 public:
    void on_info(std::string_view json) override { info_json.assign(json); }
    void on_msg(const proto::MsgFrame& msg) override {
        if (msg.sid != sid_wanted || msg.subject != subject_wanted) return;
        reply = Reply{std::string(msg.headers), std::string(msg.payload)};
        got_reply = true;
    }
    void on_ping() override { pings++; }
    void on_pong() override { pongs++; }
    void on_ok() override {}
    void on_err(std::string_view text) override { err.assign(text); }

    std::string info_json;
    std::string err;
    int pings = 0;
    int pongs = 0;
    std::string_view sid_wanted;
    std::string subject_wanted;
    bool got_reply = false;
    Reply reply;
};

}  // namespace

std::string unique_token() {
    static std::atomic<uint64_t> counter{0};
    static const uint64_t seed = std::random_device{}();
    const uint64_t value = (seed << 20) ^ (static_cast<uint64_t>(getpid()) << 40) ^
                           counter.fetch_add(1, std::memory_order_relaxed);
    static constexpr char kAlphabet[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string token;
    uint64_t rest = value;
    for (int i = 0; i < 11; ++i) {
        token.push_back(kAlphabet[rest % 62]);
        rest /= 62;
    }
    return token;
}

Expected<ServerUrl> parse_url(std::string_view url) {
    ServerUrl out;
    if (url.starts_with("nats://")) url.remove_prefix(7);
    if (size_t at = url.rfind('@'); at != std::string_view::npos) {
        std::string_view credentials = url.substr(0, at);
        url.remove_prefix(at + 1);
        size_t colon = credentials.find(':');
        out.user = std::string(credentials.substr(0, colon));
        if (colon != std::string_view::npos) out.pass = std::string(credentials.substr(colon + 1));
    }
    size_t colon = url.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == url.size()) {
        return std::unexpected("bad server URL (want nats://host:port): " + std::string(url));
    }
    out.host = std::string(url.substr(0, colon));
    out.port = std::string(url.substr(colon + 1));
    for (char c : out.port) {
        if (c < '0' || c > '9') return std::unexpected("bad port in server URL: " + out.port);
    }
    return out;
}

Expected<std::unique_ptr<Connection>> Connection::open(const ServerUrl& url, const Params& params) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0) {
        return std::unexpected("resolve " + url.host + ": " + gai_strerror(rc));
    }
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        freeaddrinfo(found);
        return std::unexpected(errno_text("socket"));
    }
    std::unique_ptr<Connection> conn(new Connection(fd, params));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (params.socket_buffer_bytes > 0) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &params.socket_buffer_bytes, sizeof(int));
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &params.socket_buffer_bytes, sizeof(int));
    }
    int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
    const int connect_errno = errno;
    freeaddrinfo(found);
    if (rc != 0 && connect_errno != EINPROGRESS) {
        return std::unexpected("connect to " + url.text() + ": " + std::strerror(connect_errno));
    }
    pollfd pfd{fd, POLLOUT, 0};
    if (poll(&pfd, 1, static_cast<int>(params.timeout.count())) != 1) {
        return std::unexpected("connect to " + url.text() + ": timed out");
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length);
    if (so_error != 0) {
        return std::unexpected("connect to " + url.text() + ": " + std::strerror(so_error));
    }
    if (Status status = conn->handshake(url); !status) return std::unexpected(status.error());
    return conn;
}

Connection::~Connection() {
    if (fd_ >= 0) ::close(fd_);
}

Status Connection::handshake(const ServerUrl& url) {
    SetupHandler handler;
    if (Status status = read_blocking(handler, [&] { return !handler.info_json.empty(); });
        !status) {
        return std::unexpected("waiting for INFO from " + url.text() + ": " + status.error());
    }
    if (!proto::decode_info(handler.info_json, info_)) {
        return std::unexpected("malformed INFO from " + url.text());
    }
    nlohmann::json connect = {
        {"verbose", false},      {"pedantic", false},           {"headers", true},
        {"no_responders", true}, {"echo", params_.echo},        {"name", params_.name},
        {"lang", "c++"},         {"version", "ringtail-bench"}, {"protocol", 1},
    };
    if (!url.user.empty()) {
        connect["user"] = url.user;
        connect["pass"] = url.pass;
    }
    out_ += "CONNECT " + connect.dump() + "\r\n";
    if (Status status = ping_sync(); !status) {
        return std::unexpected("handshake with " + url.text() + ": " + status.error());
    }
    return {};
}

Connection::Io Connection::flush() {
    while (out_sent_ < out_.size()) {
        ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            out_sent_ += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // Keep the buffer from growing without bound at the front.
            if (out_sent_ > (256u << 10) && out_sent_ * 2 > out_.size()) {
                out_.erase(0, out_sent_);
                out_sent_ = 0;
            }
            return Io::kWouldBlock;
        }
        if (n < 0 && errno == EINTR) continue;
        error_ = n == 0 ? "connection closed" : errno_text("send");
        return errno == EPIPE || errno == ECONNRESET ? Io::kClosed : Io::kError;
    }
    out_.clear();
    out_sent_ = 0;
    return Io::kOk;
}

Connection::Io Connection::read(std::span<char> scratch, proto::ClientReaderHandler& handler) {
    ssize_t n;
    do {
        n = ::recv(fd_, scratch.data(), scratch.size(), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        error_ = "connection closed by the server";
        return Io::kClosed;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return Io::kWouldBlock;
        error_ = errno_text("recv");
        return errno == ECONNRESET ? Io::kClosed : Io::kError;
    }
    switch (reader_.feed({scratch.data(), static_cast<size_t>(n)}, handler)) {
        case proto::ClientReadStatus::kOk:
            return Io::kOk;
        case proto::ClientReadStatus::kBadFrame:
            error_ = "malformed frame from the server";
            return Io::kError;
        case proto::ClientReadStatus::kTooLarge:
            error_ = "oversized frame from the server";
            return Io::kError;
    }
    return Io::kError;
}

Status Connection::flush_blocking() {
    const auto deadline = Clock::now() + params_.timeout;
    while (true) {
        switch (flush()) {
            case Io::kOk:
                return {};
            case Io::kWouldBlock:
                break;
            case Io::kClosed:
            case Io::kError:
                return std::unexpected(error_);
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::unexpected("timed out writing to the server");
        pollfd pfd{fd_, POLLOUT, 0};
        poll(&pfd, 1, static_cast<int>(left.count()));
    }
}

template <class Done>
Status Connection::read_blocking(proto::ClientReaderHandler& handler, Done done) {
    const auto deadline = Clock::now() + params_.timeout;
    scratch_.resize(64 * 1024);
    while (!done()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::unexpected("timed out");
        pollfd pfd{fd_, POLLIN, 0};
        if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
        switch (read(scratch_, handler)) {
            case Io::kOk:
            case Io::kWouldBlock:
                break;
            case Io::kClosed:
            case Io::kError:
                return std::unexpected(error_);
        }
    }
    return {};
}

Status Connection::ping_sync() {
    out_ += "PING\r\n";
    if (Status status = flush_blocking(); !status) return status;
    SetupHandler handler;
    Status status = read_blocking(handler, [&] {
        for (; handler.pings > 0; --handler.pings) out_ += "PONG\r\n";
        return handler.pongs > 0 || !handler.err.empty();
    });
    if (!status) return status;
    if (!handler.err.empty()) return std::unexpected("-ERR '" + handler.err + "'");
    return flush_blocking();
}

Expected<Reply> Connection::request_sync(std::string_view subject, std::string_view payload) {
    static constexpr std::string_view kSid = "rtb-sync";
    if (!sync_inbox_subscribed_) {
        sync_inbox_ = "_INBOX." + unique_token();
        out_ += "SUB " + sync_inbox_ + ".* " + std::string(kSid) + "\r\n";
        sync_inbox_subscribed_ = true;
    }
    SetupHandler handler;
    handler.sid_wanted = kSid;
    handler.subject_wanted = sync_inbox_ + "." + std::to_string(++sync_requests_);
    out_ += "PUB " + std::string(subject) + " " + handler.subject_wanted + " " +
            std::to_string(payload.size()) + "\r\n";
    out_ += payload;
    out_ += "\r\n";
    if (Status status = flush_blocking(); !status) return std::unexpected(status.error());
    Status status = read_blocking(handler, [&] {
        for (; handler.pings > 0; --handler.pings) out_ += "PONG\r\n";
        if (!out_.empty()) (void)flush();
        return handler.got_reply || !handler.err.empty();
    });
    if (!status)
        return std::unexpected("request to " + std::string(subject) + ": " + status.error());
    if (!handler.err.empty()) return std::unexpected("-ERR '" + handler.err + "'");
    return std::move(handler.reply);
}

}  // namespace ringtail::bench
