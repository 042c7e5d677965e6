#include "bench/harness/fake_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <map>
#include <memory>
#include <vector>

#include "bench/harness/stamp.h"
// clang-format off
// parser.h before encoder.h: ParseStatus::kOk would otherwise shadow proto::kOk (-Wshadow).
#include "proto/parser.h"
#include "proto/encoder.h"
#include "proto/info_connect.h"
// clang-format on

namespace ringtail::bench {

namespace {

constexpr size_t kPendingBytesMax = 64u << 20;  // a subscriber further behind is closed
constexpr std::string_view kBlastSubject = "selftest.blast";
constexpr std::string_view kBlastStart = "selftest.start";

struct Router;

// One client connection of the fake server.
struct FakeConn final : proto::ParserHandler {
    FakeConn(int fd_in, Router& router_in)
        : fd(fd_in), router(router_in), parser(proto::Parser::Limits{64 << 20, 4096}) {
        parser.set_headers_allowed(true);
    }
    ~FakeConn() override { ::close(fd); }

    proto::Flow on_connect(std::string_view) override { return proto::Flow::kContinue; }
    proto::Flow on_pub(const proto::PubOp& op) override;
    proto::Flow on_sub(const proto::SubOp& op) override;
    proto::Flow on_unsub(const proto::UnsubOp&) override { return proto::Flow::kContinue; }
    proto::Flow on_ping() override {
        out += proto::kPong;
        return proto::Flow::kContinue;
    }
    proto::Flow on_pong() override { return proto::Flow::kContinue; }
    proto::Flow on_client_error(std::string_view) override { return proto::Flow::kStop; }

    size_t pending() const { return out.size() - out_sent; }
    bool flush() {
        while (out_sent < out.size()) {
            ssize_t n = ::send(fd, out.data() + out_sent, out.size() - out_sent,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                out_sent += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (out_sent > (1u << 20)) {
                    out.erase(0, out_sent);
                    out_sent = 0;
                }
                return true;
            }
            return n < 0 && errno == EINTR;
        }
        out.clear();
        out_sent = 0;
        return true;
    }

    int fd;
    Router& router;
    proto::Parser parser;
    std::string out;
    size_t out_sent = 0;
    bool closing = false;
    uint64_t blast_sent = 0;
    bool blasting = false;
};

struct Subscription {
    FakeConn* conn;
    std::string sid;
};

// Exact-subject routing with queue groups, and the deliberate faults.
struct Router {
    FakeServer::Config config;
    std::atomic<uint64_t>& published;
    std::atomic<uint64_t>& dropped;
    std::map<std::string, std::vector<Subscription>, std::less<>> plain;
    // subject -> queue name -> members, and the next member to serve
    std::map<std::string, std::map<std::string, std::pair<std::vector<Subscription>, size_t>>,
             std::less<>>
        queues;
    uint64_t deliveries = 0;
    uint64_t queue_deliveries = 0;
    std::string blast_frame;
    size_t blast_payload_offset = 0;

    void deliver(const Subscription& sub, const proto::PubOp& op) {
        ++deliveries;
        if (config.drop_every != 0 && deliveries % config.drop_every == 0) {
            dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        if (sub.conn->closing) return;
        if (config.disconnect_after != 0 && deliveries > config.disconnect_after) {
            sub.conn->closing = true;
            return;
        }
        proto::append_msg(sub.conn->out, op.subject, sub.sid, op.reply, op.payload);
        if (sub.conn->pending() > kPendingBytesMax) sub.conn->closing = true;  // slow consumer
    }

    void route(const proto::PubOp& op) {
        published.fetch_add(1, std::memory_order_relaxed);
        if (op.subject == kBlastStart) {
            start_blast();
            return;
        }
        if (auto it = plain.find(op.subject); it != plain.end()) {
            for (const Subscription& sub : it->second) deliver(sub, op);
        }
        auto group_it = queues.find(op.subject);
        if (group_it == queues.end()) return;
        for (auto& [name, group] : group_it->second) {
            auto& [members, next] = group;
            if (members.empty()) continue;
            deliver(members[next % members.size()], op);
            ++queue_deliveries;
            if (config.duplicate_every != 0 && queue_deliveries % config.duplicate_every == 0) {
                deliver(members[(next + 1) % members.size()], op);
            }
            ++next;
        }
    }

    void subscribe(FakeConn* conn, const proto::SubOp& op) {
        Subscription sub{conn, std::string(op.sid)};
        if (op.queue.empty()) {
            plain[std::string(op.subject)].push_back(sub);
        } else {
            queues[std::string(op.subject)][std::string(op.queue)].first.push_back(sub);
        }
    }

    void forget(FakeConn* conn) {
        for (auto& [subject, subs] : plain)
            std::erase_if(subs, [&](auto& s) { return s.conn == conn; });
        for (auto& [subject, groups] : queues) {
            for (auto& [name, group] : groups) {
                std::erase_if(group.first, [&](auto& s) { return s.conn == conn; });
            }
        }
    }

    void start_blast() {
        auto it = plain.find(kBlastSubject);
        if (it == plain.end()) return;
        for (const Subscription& sub : it->second) sub.conn->blasting = true;
        blast_frame = "MSG " + std::string(kBlastSubject) + " " + it->second.front().sid + " " +
                      std::to_string(config.blast_size_bytes) + "\r\n";
        blast_payload_offset = blast_frame.size();
        blast_frame += std::string(config.blast_size_bytes, 'x') + "\r\n";
    }

    // Tops up a blast target's output to 1 MiB with stamped frames (publisher 0, seq 0..).
    void blast(FakeConn& conn) {
        while (conn.blasting && conn.pending() < (1u << 20)) {
            const uint64_t n = std::min<uint64_t>(config.blast_count - conn.blast_sent,
                                                  std::max<size_t>(1, 65536 / blast_frame.size()));
            size_t at = conn.out.size();
            conn.out.resize(at + n * blast_frame.size());
            for (uint64_t i = 0; i < n; ++i, at += blast_frame.size()) {
                std::memcpy(conn.out.data() + at, blast_frame.data(), blast_frame.size());
                write_stamp(conn.out.data() + at + blast_payload_offset, config.blast_size_bytes, 0,
                            conn.blast_sent + i, 0);
            }
            conn.blast_sent += n;
            if (conn.blast_sent == config.blast_count) conn.blasting = false;
        }
    }
};

proto::Flow FakeConn::on_pub(const proto::PubOp& op) {
    router.route(op);
    return proto::Flow::kContinue;
}

proto::Flow FakeConn::on_sub(const proto::SubOp& op) {
    router.subscribe(this, op);
    return proto::Flow::kContinue;
}

}  // namespace

Status FakeServer::start() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listener_ < 0) return std::unexpected(std::string("socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(listener_, 64) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        return std::unexpected(std::string("listen: ") + std::strerror(errno));
    }
    port_ = ntohs(address.sin_port);
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0)
        return std::unexpected(std::string("pipe2 failed"));
    thread_ = std::thread([this] { loop(); });
    return {};
}

void FakeServer::stop() {
    if (thread_.joinable()) {
        stopping_.store(true);
        (void)!::write(wake_[1], "x", 1);
        thread_.join();
    }
    for (int& fd : {std::ref(listener_), std::ref(wake_[0]), std::ref(wake_[1])}) {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
}

void FakeServer::loop() {
    Router router{config_, published_, dropped_, {}, {}, 0, 0, {}, 0};
    std::list<std::unique_ptr<FakeConn>> conns;
    std::vector<char> buffer(256 * 1024);
    proto::Info info;
    info.server_id = "FAKE";
    info.server_name = "ringtail-bench fake server";
    info.version = "2.9.10";
    info.host = "127.0.0.1";
    info.port = port_;
    info.max_payload_bytes = 64 << 20;
    const std::string info_line = proto::encode_info(info);
    std::vector<pollfd> fds;
    std::vector<FakeConn*> index;
    while (!stopping_.load()) {
        bool blasting = false;
        for (auto& conn : conns) {
            router.blast(*conn);
            blasting = blasting || conn->blasting;
        }
        fds.assign({{wake_[0], POLLIN, 0}, {listener_, POLLIN, 0}});
        index.assign(2, nullptr);
        for (auto& conn : conns) {
            fds.push_back(
                {conn->fd, static_cast<short>(POLLIN | (conn->pending() > 0 ? POLLOUT : 0)), 0});
            index.push_back(conn.get());
        }
        if (poll(fds.data(), fds.size(), blasting ? 0 : 100) < 0 && errno != EINTR) break;
        if ((fds[1].revents & POLLIN) != 0) {
            int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                auto conn = std::make_unique<FakeConn>(fd, router);
                conn->out = info_line;
                conns.push_back(std::move(conn));
            }
        }
        for (size_t i = 2; i < fds.size(); ++i) {
            FakeConn& conn = *index[i];
            if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                ssize_t n = ::recv(conn.fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                    conn.closing = true;
                } else if (n > 0 && conn.parser.feed({buffer.data(), static_cast<size_t>(n)},
                                                     conn) != proto::ParseStatus::kOk) {
                    conn.closing = true;
                }
            }
        }
        for (auto& conn : conns) {
            if (!conn->closing && !conn->flush()) conn->closing = true;
        }
        for (auto it = conns.begin(); it != conns.end();) {
            if ((*it)->closing) {
                router.forget(it->get());
                it = conns.erase(it);
            } else {
                ++it;
            }
        }
    }
}

}  // namespace ringtail::bench
