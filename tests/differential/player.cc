#include "tests/differential/player.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ringtail::test::differential {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kReadChunkBytes = 64 * 1024;
// A scenario that makes a server send more than this is broken; stop recording there.
constexpr size_t kReceivedBytesMax = 64 * 1024 * 1024;

int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        close(fd);
        return -1;
    }
    // Each `>` line must leave as its own TCP segment so that split-op scenarios really split.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left);
}

// Owner: one play() call on one thread. Lifecycle: sockets opened on first use of a
// connection, all closed when play() returns.
class Player {
 public:
    Player(const Scenario& scenario, int port, const PlayOptions& options)
        : scenario_(scenario), port_(port), options_(options) {
        for (const std::string& name : scenario.connections) {
            Connection connection;
            connection.transcript.name = name;
            connections_.push_back(std::move(connection));
        }
    }

    ~Player() {
        for (Connection& connection : connections_) {
            if (connection.fd >= 0) close(connection.fd);
        }
    }

    Transcript run() {
        for (const Step& step : scenario_.steps) {
            switch (step.kind) {
                case StepKind::kSend:
                    send_step(step, step.bytes);
                    break;
                case StepKind::kRepeat: {
                    std::string bytes;
                    bytes.reserve(step.bytes.size() * step.count);
                    for (uint32_t i = 0; i < step.count; ++i) bytes += step.bytes;
                    send_step(step, bytes);
                    break;
                }
                case StepKind::kSleep:
                    pump_for(milliseconds(step.count));
                    break;
                case StepKind::kRead:
                    settle();
                    for (Connection& connection : connections_) {
                        connection.transcript.segments.emplace_back();
                    }
                    break;
                case StepKind::kUntil:
                    until_step(step);
                    break;
                case StepKind::kClose: {
                    Connection& connection = open_connection(step.connection);
                    if (connection.fd >= 0) {
                        pump_for(milliseconds(0));
                        end(connection, ConnectionTranscript::End::kClosedByClient);
                    }
                    break;
                }
            }
        }
        settle();
        Transcript transcript;
        for (Connection& connection : connections_) {
            transcript.connections.push_back(connection.transcript);
        }
        return transcript;
    }

 private:
    struct Connection {
        int fd = -1;
        bool opened = false;
        std::string received;     // Everything, for UNTIL searches.
        size_t until_offset = 0;  // UNTIL searches start here.
        ConnectionTranscript transcript;
    };

    Connection& find(const std::string& name) {
        auto it = std::find_if(connections_.begin(), connections_.end(),
                               [&](const Connection& c) { return c.transcript.name == name; });
        return *it;  // parse_scenario lists every connection a step names.
    }

    Connection& open_connection(const std::string& name) {
        Connection& connection = find(name);
        if (!connection.opened) {
            connection.opened = true;
            connection.fd = connect_loopback(port_);
            if (connection.fd < 0) end(connection, ConnectionTranscript::End::kConnectFailed);
        }
        return connection;
    }

    void end(Connection& connection, ConnectionTranscript::End how) {
        if (connection.fd >= 0) close(connection.fd);
        connection.fd = -1;
        connection.transcript.end = how;
        connection.transcript.end_segment = connection.transcript.segments.size() - 1;
    }

    void note(Connection& connection, const Step& step, const std::string& text) {
        connection.transcript.segments.back().notes.push_back(text + " (line " +
                                                              std::to_string(step.line) + ")");
    }

    // Reads everything `connection` has ready without blocking. Returns bytes read.
    size_t read_ready(Connection& connection) {
        size_t total = 0;
        char buffer[kReadChunkBytes];
        while (connection.fd >= 0) {
            ssize_t n = recv(connection.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
            if (n > 0) {
                total += static_cast<size_t>(n);
                if (connection.received.size() < kReceivedBytesMax) {
                    connection.received.append(buffer, static_cast<size_t>(n));
                    connection.transcript.segments.back().bytes.append(buffer,
                                                                       static_cast<size_t>(n));
                }
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
            // EOF or a reset: for a client, both mean the server dropped the connection.
            end(connection, ConnectionTranscript::End::kClosedByServer);
        }
        return total;
    }

    // Waits up to `timeout` for input on any open connection and reads it. Returns bytes read;
    // `writer` (if >= 0) is also watched for writability, and `writable` set when it is.
    size_t pump(milliseconds timeout, int writer = -1, bool* writable = nullptr) {
        std::vector<pollfd> fds;
        std::vector<Connection*> owners;
        for (Connection& connection : connections_) {
            if (connection.fd < 0) continue;
            short events = POLLIN;
            if (connection.fd == writer) events |= POLLOUT;
            fds.push_back({connection.fd, events, 0});
            owners.push_back(&connection);
        }
        if (fds.empty()) return 0;
        int ready = poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
        if (ready <= 0) return 0;
        size_t total = 0;
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents & POLLOUT && writable != nullptr) *writable = true;
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) total += read_ready(*owners[i]);
        }
        return total;
    }

    void pump_for(milliseconds duration) {
        auto deadline = Clock::now() + duration;
        do {
            pump(milliseconds(remaining_ms(deadline)));
        } while (Clock::now() < deadline);
    }

    // Reads until every connection has been silent for settle_quiet, or settle_max passed.
    void settle() {
        auto deadline = Clock::now() + options_.settle_max;
        auto quiet_until = Clock::now() + options_.settle_quiet;
        while (true) {
            int wait_ms = std::min(remaining_ms(deadline), remaining_ms(quiet_until));
            if (wait_ms <= 0) break;
            if (std::none_of(connections_.begin(), connections_.end(),
                             [](const Connection& c) { return c.fd >= 0; })) {
                break;
            }
            if (pump(milliseconds(wait_ms)) > 0) {
                quiet_until = Clock::now() + options_.settle_quiet;
            }
        }
    }

    void send_step(const Step& step, const std::string& bytes) {
        Connection& connection = open_connection(step.connection);
        pump(milliseconds(0));
        size_t sent = 0;
        auto deadline = Clock::now() + options_.settle_max;
        while (connection.fd >= 0 && sent < bytes.size()) {
            ssize_t n = ::send(connection.fd, bytes.data() + sent, bytes.size() - sent,
                               MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent += static_cast<size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (Clock::now() >= deadline) {
                    // The server stopped reading; what it sent so far is the transcript.
                    note(connection, step, "send stalled");
                    break;
                }
                bool writable = false;
                pump(milliseconds(50), connection.fd, &writable);
                continue;
            }
            // EPIPE or a reset: the server has gone; reading records how it went.
            break;
        }
        pump(milliseconds(0));
    }

    void until_step(const Step& step) {
        Connection& connection = open_connection(step.connection);
        auto deadline = Clock::now() + options_.until_max;
        while (true) {
            size_t at = connection.received.find(step.bytes, connection.until_offset);
            if (at != std::string::npos) {
                connection.until_offset = at + step.bytes.size();
                return;
            }
            if (connection.fd < 0) {
                note(connection, step, "UNTIL: connection closed first");
                return;
            }
            if (Clock::now() >= deadline) {
                note(connection, step, "UNTIL timed out");
                return;
            }
            pump(milliseconds(std::min(remaining_ms(deadline), 100)));
        }
    }

    const Scenario& scenario_;
    int port_;
    PlayOptions options_;
    std::vector<Connection> connections_;
};

}  // namespace

Transcript play(const Scenario& scenario, int port, const PlayOptions& options) {
    Player player(scenario, port, options);
    return player.run();
}

}  // namespace ringtail::test::differential
