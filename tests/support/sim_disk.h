#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/disk.h"
#include "store/stream_log.h"

namespace ringtail::test {

// A simulated disk for the store: files are byte vectors ("the media"), writes wait in a queue
// until the test completes them, and a crash tears every write still queued: a random subset
// of its 512-byte sectors reaches the media, the rest is lost, and no callback ever runs.
// Faults on demand: the next write fails with an errno, and bit flips on the media.
// Deterministic for a seed.
class SimDisk final : public store::Disk {
public:
    explicit SimDisk(uint64_t seed) : random_(seed) {}

    Result<bool> make_dir(const std::string& path) override;
    Result<std::vector<std::string>> list_dir(const std::string& path) override;
    Result<bool> create_file(const std::string& path, uint64_t bytes,
                             std::span<const std::byte> first_page) override;
    Result<bool> remove_file(const std::string& path) override;
    Result<int> open_file(const std::string& path) override;
    Result<uint64_t> file_size(int handle) override;
    Result<std::span<const std::byte>> map_file(int handle) override;
    void close_file(int handle) override;
    // Registered buffers are only checked: a write names the buffer that holds its data, and
    // none is unregistered while a write from it is queued.
    int register_buffer(std::span<std::byte> memory) override;
    void unregister_buffer(int buffer) override;
    size_t buffers_registered() const { return buffers_.size(); }
    size_t registrations() const { return static_cast<size_t>(next_buffer_); }  // ever made
    void write(int handle, uint64_t offset, std::span<const std::byte> data, int buffer,
               store::DiskWrite* op) override;
    Result<bool> write_sync(int handle, uint64_t offset, std::span<const std::byte> data) override;
    void prepare_file(const std::string& path, uint64_t bytes, store::DiskWrite* op) override;
    Result<bool> adopt_file(const std::string& from, const std::string& to,
                            std::span<const std::byte> first_page) override;
    Result<bool> replace_file(const std::string& from, const std::string& to) override;
    void write_file_async(const std::string& temp, const std::string& path, std::span<const std::byte> data,
                          store::DiskWrite* op) override;
    void forget(store::DiskWrite* op) override;

    // Completes up to `count` queued writes in submission order. Returns how many completed.
    size_t complete(size_t count = SIZE_MAX);
    size_t queued() const { return queue_.size(); }
    // Completes the queued write at `index` first: io_uring completes writes out of order.
    void complete_nth(size_t index);
    // Power loss: tears every queued write, forgets every handle.
    void crash();
    // Drops every queued write unwritten, as if none of it reached the media before a crash.
    void lose_queued() { queue_.clear(); }
    // The next write completes with -errno_value and writes nothing.
    void fail_next_write(int errno_value) { fail_next_ = errno_value; }
    // While full, creating a file (create_file, prepare_file) fails with ENOSPC; writes into
    // existing files, whose space is allocated, still succeed.
    void set_full(bool full) { full_ = full; }
    // Room for files of at most `bytes` each (UINT64_MAX: any): a larger one fails as on a full
    // disk, a smaller one still fits.
    void set_room(uint64_t bytes) { room_ = bytes; }
    // Flips one random bit in the written part of a random file; returns the file's path.
    std::string flip_random_bit();
    // Flips the low bit of the byte at `offset` of `path`, in place (mappings see it).
    void flip_bit(const std::string& path, uint64_t offset) { files_.at(path).at(offset) ^= std::byte{1}; }
    // The page holding `offset` of `path` cannot be read from now on: views read it as zeros
    // and read_errors() counts it, as DirectDisk's do after a media error.
    void fail_read(const std::string& path, uint64_t offset);
    uint64_t read_errors(int handle) override;
    // A file's bytes on the media.
    const std::vector<std::byte>& file(const std::string& path) const { return files_.at(path); }
    // Writes a file that is not a segment (to test refusal of foreign directories).
    void put_file(const std::string& path, std::vector<std::byte> bytes) { files_[path] = std::move(bytes); }

private:
    struct Pending {
        std::string path;
        uint64_t offset;
        std::vector<std::byte> data;
        store::DiskWrite* op;
        int fail_errno;
        bool prepare = false;  // a prepare_file: the file exists already; only the callback waits
        std::span<const std::byte> source = {};  // the store's bytes, untouched until completion
        int buffer = -1;
    };

    std::mt19937_64 random_;
    // Bits flip_random_bit() flipped, (path, offset * 8 + bit): never flipped back.
    std::set<std::pair<std::string, uint64_t>> flipped_;
    std::map<std::string, std::vector<std::byte>> files_;
    std::deque<std::vector<std::byte>> retired_;  // replaced files still mapped by open handles
    std::set<std::string> dirs_;
    std::map<int, std::string> handles_;
    int next_handle_ = 1;
    std::deque<Pending> queue_;
    int fail_next_ = 0;
    bool full_ = false;
    uint64_t room_ = UINT64_MAX;
    std::map<std::string, uint64_t> unreadable_pages_;  // by path
    std::map<int, std::span<std::byte>> buffers_;
    int next_buffer_ = 0;
};

// Flushes and completes until the log writes nothing more, as a server stopping does: what it
// deferred until earlier writes were durable (deletions, see StreamLog::remove) goes out too.
inline void settle(store::StreamLog& log, SimDisk& disk) {
    do {
        log.flush();
    } while (disk.complete() > 0);
}

// Small segments and buffers, so that tests roll, cap flushes and fill tails quickly.
inline store::StreamLogOptions small_log_options(std::string dir) {
    store::StreamLogOptions options;
    options.dir = std::move(dir);
    options.segment_bytes = 64 * 1024;
    options.flush_bytes_max = 16 * 1024;
    options.tail_bytes_max = 64 * 1024;
    // Every flush may overlap writes in flight, however little it writes: the hardest case
    // for durability order and crash recovery, which the tests are after.
    options.overlap_bytes_min = 0;
    return options;
}

}  // namespace ringtail::test
