#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <string>
#include <thread>

#include "io/uring.h"
#include "store/disk.h"

namespace ringtail::io {

// store::Disk on real files: O_DIRECT writes submitted through io_uring with RWF_DSYNC (the
// completion means "on stable storage"), reads through a read-only shared mapping.
// Owner: one thread, which calls poll() to run completions.
// Lifecycle: close_file() waits for that file's writes in flight and drops their callbacks, so
// a log that closes its files is never called back afterwards.
// Where the file system refuses O_DIRECT (tmpfs), files are opened without it; RWF_DSYNC still
// makes each write durable before it completes.
// Registered buffers are io_uring fixed buffers: their pages are pinned once, not on every
// write. Where the kernel refuses (RLIMIT_MEMLOCK for an unprivileged user, a full table),
// register_buffer() answers -1 and writes from that memory pin it each time, as before.
class DirectDisk final : public store::Disk {
public:
    DirectDisk() = default;
    ~DirectDisk() override;
    // Sets up the io_uring ring; empty string on success.
    std::string init();

    Result<bool> make_dir(const std::string& path) override;
    Result<std::vector<std::string>> list_dir(const std::string& path) override;
    Result<bool> create_file(const std::string& path, uint64_t bytes,
                             std::span<const std::byte> first_page) override;
    Result<bool> remove_file(const std::string& path) override;
    Result<int> open_file(const std::string& path) override;
    Result<uint64_t> file_size(int handle) override;
    Result<std::span<const std::byte>> map_file(int handle) override;
    void close_file(int handle) override;
    int register_buffer(std::span<std::byte> memory) override;
    void unregister_buffer(int buffer) override;
    void write(int handle, uint64_t offset, std::span<const std::byte> data, int buffer,
               store::DiskWrite* op) override;
    Result<bool> write_sync(int handle, uint64_t offset, std::span<const std::byte> data) override;
    // Done on a helper thread (allocation and zero-filling block); its completion is picked up
    // by poll().
    void prepare_file(const std::string& path, uint64_t bytes, store::DiskWrite* op) override;
    Result<bool> adopt_file(const std::string& from, const std::string& to,
                            std::span<const std::byte> first_page) override;
    Result<bool> replace_file(const std::string& from, const std::string& to) override;
    void forget(store::DiskWrite* op) override;

    // Submits queued writes and runs the callbacks of completed ones; with `wait`, blocks until
    // at least one completes (if any is in flight). Returns the number completed.
    size_t poll(bool wait);
    size_t in_flight() const { return in_flight_; }
    // Readable (an eventfd) whenever poll() has something to run: a write or a prepared file
    // completed. The owner's event loop waits on it.
    int event_fd() const { return event_fd_; }

private:
    struct File {
        int fd = -1;
        const std::byte* map = nullptr;
        uint64_t bytes = 0;
        size_t writes_in_flight = 0;
    };
    size_t reap(bool wait, int handle_closing);
    void preparer_main();
    size_t run_prepared();

    struct PrepareJob {
        std::string path;
        uint64_t bytes;
        store::DiskWrite* op;
        int result = 0;
    };
    // The helper thread's queue (jobs in, results out); the only lock here, on the control plane.
    std::mutex prepare_mutex_;
    std::condition_variable prepare_wakeup_;
    std::deque<PrepareJob> prepare_jobs_;
    std::deque<PrepareJob> prepare_done_;
    bool prepare_stop_ = false;
    store::DiskWrite* preparing_ = nullptr;  // the job the helper thread is running
    std::thread preparer_;

    Uring ring_;
    int event_fd_ = -1;
    std::map<int, File> files_;
    std::map<store::DiskWrite*, int> ops_handle_;  // writes in flight and their file
    std::set<store::DiskWrite*> forgotten_;         // writes in flight nobody waits for
    std::vector<int> free_buffers_;                  // free slots of the fixed-buffer table
    size_t in_flight_ = 0;
};

}  // namespace ringtail::io
