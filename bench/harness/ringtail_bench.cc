// ringtail-bench: drives any NATS server over plain TCP with a lean pipelined client.
//
//   ringtail-bench pubsub --url nats://127.0.0.1:4222 --size 16 --count 5000000
//
// One publisher connection writes PUB frames in large batches; one subscriber connection
// counts MSG frames. The rate is messages received per second, from the publisher's first
// write to the subscriber's last message. Loss (fewer messages than sent within the time
// limit) is reported as an error, never as a lower rate.
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    std::string scenario = "pubsub";
    std::string host = "127.0.0.1";
    int port = 4222;
    size_t size_bytes = 16;
    uint64_t count = 1'000'000;
    double timeout_s = 60;
    bool json = false;
};

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "ringtail-bench: %s\n", message.c_str());
    std::exit(2);
}

Args parse_args(int argc, char** argv) {
    Args args;
    if (argc < 2) die("usage: ringtail-bench pubsub [--url nats://HOST:PORT] [--size N] [--count N] [--timeout S] [--json]");
    args.scenario = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die("missing value for " + flag);
            return argv[++i];
        };
        if (flag == "--url") {
            std::string url = value();
            if (url.rfind("nats://", 0) == 0) url = url.substr(7);
            size_t colon = url.rfind(':');
            if (colon == std::string::npos) die("bad --url");
            args.host = url.substr(0, colon);
            args.port = std::atoi(url.c_str() + colon + 1);
        } else if (flag == "--size") {
            args.size_bytes = std::strtoull(value().c_str(), nullptr, 10);
        } else if (flag == "--count") {
            args.count = std::strtoull(value().c_str(), nullptr, 10);
        } else if (flag == "--timeout") {
            args.timeout_s = std::atof(value().c_str());
        } else if (flag == "--json") {
            args.json = true;
        } else {
            die("unknown flag " + flag);
        }
    }
    if (args.scenario != "pubsub") die("unknown scenario " + args.scenario + " (this version has: pubsub)");
    return args;
}

int connect_to(const Args& args) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* info = nullptr;
    if (getaddrinfo(args.host.c_str(), std::to_string(args.port).c_str(), &hints, &info) != 0) die("resolve");
    int fd = socket(info->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, info->ai_addr, info->ai_addrlen) != 0) die("connect: " + std::string(std::strerror(errno)));
    freeaddrinfo(info);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) return;  // the reader reports what went wrong
        data.remove_prefix(static_cast<size_t>(n));
    }
}

// Reads until `needle` has been seen; returns everything read.
std::string read_until(int fd, std::string_view needle) {
    std::string got;
    char buffer[4096];
    while (got.find(needle) == std::string::npos) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) die("connection closed while waiting for " + std::string(needle) + ": " + got);
        got.append(buffer, static_cast<size_t>(n));
        if (got.find("-ERR") != std::string::npos) die("server error: " + got);
    }
    return got;
}

int handshake(const Args& args) {
    int fd = connect_to(args);
    read_until(fd, "\r\n");  // INFO
    write_all(fd, "CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"name\":\"ringtail-bench\"}\r\nPING\r\n");
    read_until(fd, "PONG\r\n");
    return fd;
}

// Counts MSG frames on a stream, resumable across reads.
class MsgCounter {
public:
    // Returns false on a protocol error.
    bool feed(const char* data, size_t bytes) {
        buffer_.append(data, bytes);
        size_t pos = 0;
        while (true) {
            if (skip_ > 0) {
                size_t take = std::min(skip_, buffer_.size() - pos);
                skip_ -= take;
                pos += take;
                if (skip_ > 0) break;
                ++messages_;
            }
            size_t eol = buffer_.find("\r\n", pos);
            if (eol == std::string::npos) break;
            std::string_view line(buffer_.data() + pos, eol - pos);
            pos = eol + 2;
            if (line.starts_with("MSG ")) {
                size_t space = line.rfind(' ');
                skip_ = std::strtoull(std::string(line.substr(space + 1)).c_str(), nullptr, 10) + 2;
            } else if (line == "PING") {
                pings_++;
            } else if (!line.empty() && line != "PONG" && line != "+OK") {
                return false;
            }
        }
        buffer_.erase(0, pos);
        return true;
    }
    uint64_t messages() const { return messages_; }
    uint64_t take_pings() { return std::exchange(pings_, 0); }

private:
    std::string buffer_;
    size_t skip_ = 0;
    uint64_t messages_ = 0;
    uint64_t pings_ = 0;
};

int run_pubsub(const Args& args) {
    int sub_fd = handshake(args);
    std::string subject = "bench." + std::to_string(getpid());
    write_all(sub_fd, "SUB " + subject + " 1\r\nPING\r\n");
    read_until(sub_fd, "PONG\r\n");
    int pub_fd = handshake(args);

    std::atomic<bool> started{false};
    Clock::time_point start{};
    std::string payload(args.size_bytes, 'x');
    std::string frame = "PUB " + subject + " " + std::to_string(args.size_bytes) + "\r\n" + payload + "\r\n";
    // Batches of about 64 KiB keep the socket full without hogging memory.
    size_t per_batch = std::max<size_t>(1, 65536 / frame.size());
    std::string batch;
    for (size_t i = 0; i < per_batch; ++i) batch += frame;

    std::thread publisher([&] {
        start = Clock::now();
        started.store(true);
        uint64_t sent = 0;
        while (sent < args.count) {
            uint64_t n = std::min<uint64_t>(per_batch, args.count - sent);
            write_all(pub_fd, std::string_view(batch).substr(0, n * frame.size()));
            sent += n;
        }
    });

    MsgCounter counter;
    std::vector<char> buffer(1 << 20);
    timeval tv{1, 0};
    setsockopt(sub_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto deadline = Clock::now() + std::chrono::duration<double>(args.timeout_s);
    std::string error;
    while (counter.messages() < args.count) {
        ssize_t n = ::recv(sub_fd, buffer.data(), buffer.size(), 0);
        if (n == 0) {
            error = "subscriber disconnected by the server (slow consumer?)";
            break;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            error = "recv: " + std::string(std::strerror(errno));
            break;
        }
        if (n > 0 && !counter.feed(buffer.data(), static_cast<size_t>(n))) {
            error = "unexpected frame on the subscriber";
            break;
        }
        for (uint64_t p = counter.take_pings(); p > 0; --p) write_all(sub_fd, "PONG\r\n");
        if (Clock::now() > deadline) {
            error = "timed out";
            break;
        }
    }
    Clock::time_point end = Clock::now();
    if (!error.empty()) shutdown(pub_fd, SHUT_RDWR);  // unblock a publisher stuck in send
    publisher.join();
    close(pub_fd);
    close(sub_fd);
    if (!error.empty() || counter.messages() != args.count) {
        std::fprintf(stderr, "ringtail-bench: LOSS or failure: received %llu of %llu messages: %s\n",
                     static_cast<unsigned long long>(counter.messages()),
                     static_cast<unsigned long long>(args.count), error.c_str());
        return 1;
    }
    double seconds = std::chrono::duration<double>(end - start).count();
    double rate = static_cast<double>(args.count) / seconds;
    double mib = rate * static_cast<double>(args.size_bytes) / (1024.0 * 1024.0);
    if (args.json) {
        std::printf("{\"scenario\":\"pubsub\",\"size\":%zu,\"count\":%llu,\"seconds\":%.4f,\"msgs_per_s\":%.0f,\"mib_per_s\":%.2f}\n",
                    args.size_bytes, static_cast<unsigned long long>(args.count), seconds, rate, mib);
    } else {
        std::printf("pubsub  size=%zuB  count=%llu  time=%.3fs  rate=%.0f msgs/s  (%.1f MiB/s payload)\n",
                    args.size_bytes, static_cast<unsigned long long>(args.count), seconds, rate, mib);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Args args = parse_args(argc, argv);
    return run_pubsub(args);
}
