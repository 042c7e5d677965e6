#pragma once

#include <cstdint>
#include <span>

#include <sys/socket.h>

#include "io/loop.h"

namespace ringtail::io {

// One connected TCP socket on a Loop: a recv (multishot, or one read at a time) whose data
// lands in a provided-buffer ring, and at most one send in flight.
// Owner: the connection holding it, on the loop's thread. The loop routes the completions to
// that connection by the user_data given here; the connection reports them back with
// recv_completed() and send_completed().
// Lifecycle: close() (or the destructor) closes the descriptor; an operation still in flight
// keeps the file alive in the kernel and completes with an error or a cancel.
class Socket {
public:
    Socket(Loop& loop, int fd, uint16_t buffer_group, uint64_t recv_user_data, uint64_t send_user_data)
        : loop_(&loop), fd_(fd), buffer_group_(buffer_group), recv_data_(recv_user_data), send_data_(send_user_data) {}
    ~Socket() { close(); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    // Reading: arms a recv unless one is armed, multishot or for a single read (which bounds
    // what arrives before a later stop_recv() takes effect); stop_recv() cancels it.
    void start_recv(bool multishot = true);
    void stop_recv();
    bool recv_armed() const { return recv_armed_; }
    // A recv completion arrived; without IORING_CQE_F_MORE the recv has ended.
    void recv_completed(uint32_t flags) {
        if (!(flags & IORING_CQE_F_MORE)) recv_armed_ = false;
    }

    // Writing: `bytes` (or the message and what it points to) must stay untouched until
    // send_completed().
    void send(std::span<const char> bytes);
    void send(const msghdr* message);
    bool send_in_flight() const { return send_in_flight_; }
    Clock::time_point send_started() const { return send_started_; }
    void send_completed() { send_in_flight_ = false; }

    // The socket moves to another loop (its connection to another shard): nothing may be in
    // flight on the old one, and its completions carry the new user_data from now on.
    void move_to(Loop& loop, uint16_t buffer_group, uint64_t recv_user_data, uint64_t send_user_data);
    // Both directions shut down: a send stuck on a peer that does not read ends at once.
    void shutdown();
    void close();
    bool closed() const { return fd_ < 0; }

private:
    Loop* loop_;
    int fd_;
    uint16_t buffer_group_;
    uint64_t recv_data_;
    uint64_t send_data_;
    bool recv_armed_ = false;
    bool send_in_flight_ = false;
    Clock::time_point send_started_{};
};

}  // namespace ringtail::io
