#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace ringtail::core {

// Blocks of outbound bytes, kept by a shard for its connections' OutQueues: a block sent is
// taken again by the next append instead of going back to the allocator, so a busy shard
// stops faulting in fresh pages for its output. Every block given back is kept, so a backlog
// that comes again (subscribers behind a burst, burst after burst) finds its memory still
// there: the allocator would return freed pages to the kernel, and faulting them in again
// cost more of the server's CPU than the messages themselves. trim() lets go of what went
// unused for a whole period, down to kKeptMin.
// Owner: one shard; not thread-safe.
class OutBlocks {
public:
    static constexpr size_t kBlockBytes = 64u << 10;
    // Free blocks kept however long they go unused (16 MiB).
    static constexpr size_t kKeptMin = 256;

    // An empty string with room for at least `bytes` (kBlockBytes unless more is asked).
    std::string take(size_t bytes);
    void give(std::string block);
    // Frees the blocks beyond kKeptMin that stayed free since the last call: none of them was
    // needed in that period. The shard calls it every few seconds.
    void trim();
    size_t kept() const { return free_.size(); }

private:
    std::vector<std::string> free_;  // the back is the most recently used
    size_t unused_ = 0;              // the fewest free blocks since the last trim()
};

// One connection's outbound bytes, in the order they go out: appended in place into the last
// block, sent as iovecs (sendmsg) from the first. Nothing is copied again once appended (a
// growing string would copy everything it holds at each reallocation), and a block is never
// appended to once a send has taken it, so its bytes stay put until the send completes.
// Owner: the connection, on its shard's thread.
class OutQueue {
public:
    static constexpr size_t kIovecsMax = 64;  // per send: up to 4 MiB of full blocks

    explicit OutQueue(OutBlocks& blocks) : blocks_(&blocks) {}
    ~OutQueue() { clear(); }
    OutQueue(const OutQueue&) = delete;
    OutQueue& operator=(const OutQueue&) = delete;

    // The string to append up to `bytes` to (a bound, not an exact count: the caller may
    // append less, never more).
    std::string& tail(size_t bytes);
    // Bytes queued and not yet sent (those of a send in flight included).
    size_t size() const {
        return queue_.empty() ? 0 : settled_ + queue_.back().size() - (queue_.size() == 1 ? front_offset_ : 0);
    }
    bool empty() const { return size() == 0; }
    size_t blocks() const { return queue_.size(); }
    // Drops every byte not yet handed to a send; those in flight stay until sent().
    void clear();
    // Takes its blocks from `blocks` from now on (its connection moved to another shard): the
    // queue must be empty with no send in flight; a block it kept goes back to the old owner.
    void move_to(OutBlocks& blocks);
    // Back to an earlier size(): drops bytes appended since, none of which a send has taken.
    void truncate(size_t size);

    // The message for a sendmsg of what is queued, from where the last send stopped; valid
    // until sent(). Call only when not empty and no send is in flight.
    const msghdr* prepare_send();
    // A send of `bytes` completed: they leave the queue, blocks wholly sent go back.
    void sent(size_t bytes);

private:
    // settled_ again from the blocks (after anything but an append).
    void recount();

    OutBlocks* blocks_;
    std::deque<std::string> queue_;  // front: the oldest; only the last one is appended to
    size_t front_offset_ = 0;        // bytes of the front block already sent
    size_t settled_ = 0;             // unsent bytes in every block but the last
    size_t in_flight_blocks_ = 0;    // blocks (from the front) a send has taken: no appends
    iovec iov_[kIovecsMax] = {};
    msghdr message_ = {};
};

}  // namespace ringtail::core
