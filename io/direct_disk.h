#pragma once

#include <array>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "io/loop.h"
#include "store/disk.h"

namespace ringtail::io {

// store::Disk on real files: O_DIRECT writes submitted with RWF_DSYNC on the owner's io::Loop
// (the completion means "on stable storage"), reads through a read-only shared mapping whose
// unreadable pages read as zeros and are counted (io/mapping_guard.h), never a SIGBUS.
// Owner: the thread that runs the loop; completions run from Loop::run_once.
// Lifecycle: close_file() drops the callbacks of that file's writes in flight and closes the
// descriptor once they complete, so a log that closes its files is never called back and
// nothing waits. Destroy it once writes_in_flight() is 0: a write still in flight reads memory
// its log may have freed.
// Where the file system refuses O_DIRECT (tmpfs), files are opened without it; RWF_DSYNC still
// makes each write durable before it completes. A new file is allocated with fallocate and,
// while the writes into its directory are small, zero-filled too (see zero_fill_pays());
// where the file system lacks fallocate, the zeros written allocate the file. Where it lacks
// renameat2(RENAME_NOREPLACE), link + unlink (or, without hard links, a checked rename) stands
// in. A call that fails is named in take_error().
// With a sync interval (set_sync_interval, before any file is opened), files are opened without
// O_DIRECT and written without RWF_DSYNC: a write completes once the page cache has the bytes,
// and every interval each file written since its last flush gets an fdatasync (so does such a
// file when it is closed), as nats-server's sync_interval does; a small one is copied by the
// loop's thread itself (see write()). The default, 0, keeps every write durable before it
// completes.
// Registered buffers are io_uring fixed buffers: their pages are pinned once, not on every
// write. Where the kernel refuses (RLIMIT_MEMLOCK for an unprivileged user, a full table),
// register_buffer() answers -1 and writes from that memory pin it each time, as before.
class DirectDisk final : public store::Disk, private CompletionHandler {
public:
    explicit DirectDisk(Loop& loop) : loop_(loop) {}
    ~DirectDisk() override;
    DirectDisk(const DirectDisk&) = delete;
    DirectDisk& operator=(const DirectDisk&) = delete;
    // Attaches to the loop, sets up the fixed-buffer table and the helper thread.
    [[nodiscard]] Result<void, Error> init();

    Result<bool> make_dir(const std::string& path) override;
    Result<std::vector<std::string>> list_dir(const std::string& path) override;
    Result<bool> create_file(const std::string& path, uint64_t bytes,
                             std::span<const std::byte> first_page) override;
    Result<bool> remove_file(const std::string& path) override;
    Result<int> open_file(const std::string& path) override;
    Result<uint64_t> file_size(int handle) override;
    Result<std::span<const std::byte>> map_file(int handle) override;
    void will_read_all(int handle) override;
    void read_ahead(const std::string& path) override;
    uint64_t read_errors(int handle) override;
    void close_file(int handle) override;
    int register_buffer(std::span<std::byte> memory) override;
    void unregister_buffer(int buffer) override;
    void write(int handle, uint64_t offset, std::span<const std::byte> data, int buffer,
               store::DiskWrite* op) override;
    Result<bool> write_sync(int handle, uint64_t offset, std::span<const std::byte> data) override;
    // Done on a helper thread (allocation and zero-filling block); its completion comes
    // through the loop.
    void prepare_file(const std::string& path, uint64_t bytes, store::DiskWrite* op) override;
    Result<bool> adopt_file(const std::string& from, const std::string& to,
                            std::span<const std::byte> first_page) override;
    Result<bool> create_file_as(const std::string& temp, const std::string& path, uint64_t bytes,
                                std::span<const std::byte> first_page) override;
    Result<bool> replace_file(const std::string& from, const std::string& to) override;
    Result<bool> write_file(const std::string& path, std::span<const std::byte> data) override;
    void write_file_async(const std::string& temp, const std::string& path, std::span<const std::byte> data,
                          store::DiskWrite* op) override;
    void forget(store::DiskWrite* op) override;
    std::string take_error() override;

    // 0: every write durable before it completes (RWF_DSYNC); otherwise writes of the files
    // opened from now on complete once the kernel has them and are flushed this often.
    void set_sync_interval(Clock::duration interval);
    // Flushes (fdatasync) that failed: what was written since the file's last flush may not be
    // on stable storage. For the owner to report.
    uint64_t sync_failures() const { return sync_failures_; }
    uint64_t syncs() const { return syncs_; }

    // Writes submitted and not yet completed, and files being prepared.
    size_t in_flight() const { return writes_.size() + prepare_jobs_count_; }
    size_t writes_in_flight() const { return writes_.size(); }
    // How long writes took, from queueing to completion (a durable write: O_DIRECT + dsync), as
    // a histogram for monitoring: bucket i counts writes of at most kLatencyBoundsUs[i] us, the
    // last bucket the rest.
    static constexpr std::array<uint64_t, 12> kLatencyBoundsUs = {16,   32,   64,   128,   256,   512,
                                                                  1024, 2048, 4096, 8192, 16384, 65536};
    struct WriteLatency {
        std::array<uint64_t, kLatencyBoundsUs.size() + 1> buckets{};
        uint64_t count = 0;
        uint64_t sum_ns = 0;
    };
    const WriteLatency& write_latency() const { return latency_; }
    // Completions run so far (writes and prepared files), for tests and benchmarks.
    uint64_t completed() const { return completed_; }

private:
    // The files open in one directory, and the size of their recent writes (each write moves it
    // an eighth of the way to its own size). At or above kLargeWriteBytes, new files there are
    // allocated and not zero-filled.
    struct Directory {
        size_t files = 0;
        uint64_t write_bytes_average = 0;
    };
    static constexpr uint64_t kLargeWriteBytes = 64u << 10;
    struct File {
        int fd = -1;
        const std::byte* map = nullptr;
        int guard = -1;  // the map's io/mapping_guard.h slot
        uint64_t bytes = 0;
        size_t writes_in_flight = 0;
        bool closed = false;  // close_file() came while writes were in flight
        bool relaxed = false;  // opened under a sync interval: page cache writes, no RWF_DSYNC
        bool dirty = false;    // written since its last flush (relaxed only)
        std::string path;
        std::map<std::string, Directory>::iterator directory;
    };
    struct Write {
        store::DiskWrite* op;  // null once forgotten or its file closed
        int handle;
        Clock::time_point queued;
        bool flush = false;  // an fdatasync of the sync interval, not a write
        // A page-cache write made at once (see write()): its result, reported when the NOP
        // queued for it completes.
        std::optional<int32_t> result_now;
    };
    // The sync interval's timer: an fdatasync of every dirty file.
    void flush_dirty();
    void sync_now(File& file);
    void on_completion(uint64_t token, int32_t result, uint32_t flags) override;
    void on_write_done(uint64_t token, int32_t result);
    void arm_prepared_poll();
    void preparer_main();
    void run_prepared();
    void release_file(std::map<int, File>::iterator it);
    // Whether the new file `path` gets zeros written over its allocated space, judged by the
    // size of the recent writes into its directory.
    bool zero_fill_pays(const std::string& path) const;
    // create_file() but for the directory's fsync (the caller renames the file, then syncs
    // that), zeros written or not (where fallocate is missing, they always are).
    [[nodiscard]] static Result<bool> make_file(const std::string& path, uint64_t bytes,
                                                std::span<const std::byte> first_page, bool zero);
    // renameat2(RENAME_NOREPLACE), or where the file system lacks it, an equally safe way.
    [[nodiscard]] static Result<bool> rename_no_replace(const std::string& from, const std::string& to);
    static void unmap(File& file);

    // Creates a zero-filled file of `bytes`, or with `data`, a file holding that, then renamed
    // to `rename_to`.
    struct PrepareJob {
        std::string path;
        uint64_t bytes;
        store::DiskWrite* op;
        bool zero;  // zeros written over the allocated space (see zero_fill_pays)
        int result = 0;
        std::span<const std::byte> data;  // the caller's, untouched until the job is done
        std::string rename_to;
    };
    // The helper thread's queue (jobs in, results out); the only lock here, on the control plane.
    std::mutex prepare_mutex_;
    std::condition_variable prepare_wakeup_;
    std::deque<PrepareJob> prepare_jobs_;
    std::deque<PrepareJob> prepare_done_;
    bool prepare_stop_ = false;
    store::DiskWrite* preparing_ = nullptr;  // the job the helper thread is running
    std::thread preparer_;

    size_t prepare_jobs_count_ = 0;  // jobs handed to the helper and not yet run back

    Loop& loop_;
    uint8_t tag_ = 0;
    int event_fd_ = -1;  // the helper thread's "a prepared file is done"
    std::map<int, File> files_;
    // Writes in flight by token (a counter, never reused, so a late completion cannot be taken
    // for a newer write at the same address).
    std::map<uint64_t, Write> writes_;
    uint64_t token_next_ = 1;  // token 0 is the helper's eventfd poll
    std::vector<int> free_buffers_;  // free slots of the fixed-buffer table
    uint64_t completed_ = 0;
    std::map<std::string, Directory> directories_;  // of the open files, by path
    WriteLatency latency_;
    Clock::duration sync_interval_{};
    // Page-cache writes the loop's thread makes itself (see write()): none before write_here_from_.
    static constexpr size_t kWriteHereBytesMax = 64 * 1024;
    static constexpr Clock::duration kWriteHereSlow = std::chrono::milliseconds(1);
    static constexpr Clock::duration kWriteHerePause = std::chrono::seconds(10);
    Clock::time_point write_here_from_{};
    Timer sync_timer_{[this] { flush_dirty(); }};
    uint64_t syncs_ = 0;
    uint64_t sync_failures_ = 0;
};

// A DirectDisk on a loop of its own, for programs that drive a store without a shard
// (ringtail-store-bench, the store's tests).
class StandaloneDisk {
public:
    StandaloneDisk() : disk_(loop_) {}
    [[nodiscard]] Result<void, Error> init() {
        if (auto ok = loop_.init(256); !ok) return ok;
        return disk_.init();
    }
    DirectDisk& disk() { return disk_; }
    // Runs the completions that are ready; with `wait`, first waits for one if anything is in
    // flight. Returns how many ran.
    size_t poll(bool wait) {
        uint64_t before = disk_.completed();
        [[maybe_unused]] auto ran = loop_.run_once(wait && disk_.in_flight() > 0);
        return static_cast<size_t>(disk_.completed() - before);
    }

private:
    Loop loop_;
    DirectDisk disk_;
};

}  // namespace ringtail::io
