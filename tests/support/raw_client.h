// A minimal raw TCP client for protocol-level tests: connect, send text, read with a deadline.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace ringtail::test {

class RawClient {
 public:
    RawClient() = default;
    ~RawClient();
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    // Connects to 127.0.0.1:port (blocking, <= timeout).
    bool connect(int port, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Sends all of `text`; false if the peer is gone.
    bool send(std::string_view text);
    // Reads until `needle` appears in everything received so far (searching from `from`), the peer
    // closes, or the timeout expires. Returns whether the needle was found.
    bool read_until(std::string_view needle,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5), size_t from = 0);
    // Reads until the peer closes (EOF or reset) or the timeout expires; returns closed().
    bool wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Reads whatever arrives within `duration` (a quiet period check).
    void read_for(std::chrono::milliseconds duration);
    // Reads the INFO line the server sends first; false if it does not arrive.
    bool read_info(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    bool closed() const { return closed_; }
    // Everything received so far (never cleared implicitly).
    const std::string& received() const { return received_; }
    void clear_received() { received_.clear(); }
    // Shrinks the kernel receive buffer (call before connect() to take effect on the window).
    void set_receive_buffer_bytes(int bytes) { receive_buffer_bytes_ = bytes; }
    void close();

 private:
    // One poll+recv round; returns false on timeout with nothing read.
    bool read_some(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    bool closed_ = false;
    int receive_buffer_bytes_ = 0;
    std::string received_;
};

}  // namespace ringtail::test
