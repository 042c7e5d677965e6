#include "io/direct_disk.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <utility>

#include "base/assert.h"
#include "io/mapping_guard.h"

namespace ringtail::io {
namespace {

// The last failure on this thread not yet taken: the call, the path and errno's text.
thread_local std::string last_failure;

std::unexpected<Errc> fail(const char* call, const std::string& path, int error = errno) {
    last_failure = std::string(call) + " " + path + ": " + std::strerror(error);
    return std::unexpected(errc_from_errno(error));
}

// Whether `error` says the file system lacks the call (or the flag), not that it failed.
bool unsupported(int error) { return error == EOPNOTSUPP || error == ENOSYS || error == EINVAL; }

// Token 0 on the loop: the poll of the helper thread's eventfd.
constexpr uint64_t kPreparedToken = 0;

Result<bool> sync_dir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail("open", dir);
    int rc = ::fsync(fd);
    int error = errno;
    ::close(fd);
    if (rc != 0) return fail("fsync", dir, error);
    return true;
}

std::string parent_of(const std::string& path) {
    std::string parent = std::filesystem::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

// Every byte of [offset, offset + bytes) written with zeros, so later writes into the file
// change data only, never extent state the file system would have to journal.
bool zero_fill(int fd, uint64_t offset, uint64_t bytes) {
    constexpr size_t kChunkBytes = 1 << 20;
    std::unique_ptr<std::byte, decltype(&std::free)> zeros(
        static_cast<std::byte*>(std::aligned_alloc(store::kPageBytes, kChunkBytes)), &std::free);
    if (zeros == nullptr) return false;
    std::memset(zeros.get(), 0, kChunkBytes);
    while (bytes > 0) {
        size_t chunk = static_cast<size_t>(std::min<uint64_t>(bytes, kChunkBytes));
        ssize_t written = ::pwrite(fd, zeros.get(), chunk, static_cast<off_t>(offset));
        if (written <= 0) return false;
        offset += static_cast<uint64_t>(written);
        bytes -= static_cast<uint64_t>(written);
    }
    return true;
}

}  // namespace

DirectDisk::~DirectDisk() {
    // Writes still in flight complete into nothing: their completions are dropped.
    if (tag_ != 0) {
        io_uring_sqe* sqe = loop_.sqe(Loop::kNoHandler);
        io_uring_prep_cancel64(sqe, Loop::user_data(tag_, kPreparedToken), 0);
        loop_.detach(tag_);
    }
    for (auto& [handle, file] : files_) {
        unmap(file);
        if (file.dirty) sync_now(file);
        ::close(file.fd);
    }
    files_.clear();
    if (preparer_.joinable()) {
        {
            std::lock_guard lock(prepare_mutex_);
            prepare_stop_ = true;
        }
        prepare_wakeup_.notify_one();
        preparer_.join();
    }
    if (event_fd_ >= 0) ::close(event_fd_);
}

Result<void, Error> DirectDisk::init() {
    mapping_guard::install();
    tag_ = loop_.attach(*this);
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) return fail_errno(errno, "eventfd");
    arm_prepared_poll();
    // A table of empty slots, filled as logs register their tails; without one (an older
    // kernel), every write simply goes without a fixed buffer.
    constexpr int kBufferSlots = 4096;
    if (io_uring_register_buffers_sparse(loop_.raw(), kBufferSlots) == 0) {
        for (int slot = kBufferSlots - 1; slot >= 0; --slot) free_buffers_.push_back(slot);
    }
    preparer_ = std::thread([this] { preparer_main(); });
    return {};
}

void DirectDisk::arm_prepared_poll() {
    io_uring_sqe* sqe = loop_.sqe(Loop::user_data(tag_, kPreparedToken));
    io_uring_prep_poll_multishot(sqe, event_fd_, POLLIN);
}

void DirectDisk::on_completion(uint64_t token, int32_t result, uint32_t flags) {
    if (token == kPreparedToken) {
        uint64_t count;
        [[maybe_unused]] ssize_t got = ::read(event_fd_, &count, sizeof count);
        if (!(flags & IORING_CQE_F_MORE)) arm_prepared_poll();
        run_prepared();
    } else {
        on_write_done(token, result);
    }
    // A completion may have queued the next write (store::StreamLog sends what waited for a
    // free slot): submit it now rather than at the end of the owner's turn.
    if (io_uring_sq_ready(loop_.raw()) > 0) io_uring_submit(loop_.raw());
}

void DirectDisk::prepare_file(const std::string& path, uint64_t bytes, store::DiskWrite* op) {
    {
        std::lock_guard lock(prepare_mutex_);
        prepare_jobs_.push_back({path, bytes, op, zero_fill_pays(path)});
    }
    ++prepare_jobs_count_;
    prepare_wakeup_.notify_one();
}

void DirectDisk::write_file_async(const std::string& temp, const std::string& path, std::span<const std::byte> data,
                                  store::DiskWrite* op) {
    {
        std::lock_guard lock(prepare_mutex_);
        prepare_jobs_.push_back({temp, 0, op, false, 0, data, path});
    }
    ++prepare_jobs_count_;
    prepare_wakeup_.notify_one();
}

void DirectDisk::preparer_main() {
    std::unique_lock lock(prepare_mutex_);
    while (true) {
        prepare_wakeup_.wait(lock, [this] { return prepare_stop_ || !prepare_jobs_.empty(); });
        if (prepare_stop_) return;
        PrepareJob job = prepare_jobs_.front();
        prepare_jobs_.pop_front();
        preparing_ = job.op;
        lock.unlock();
        alignas(store::kPageBytes) static constexpr std::byte kZeros[store::kPageBytes] = {};
        ::unlink(job.path.c_str());  // a leftover from a crash is simply replaced
        auto created = job.data.empty() ? make_file(job.path, job.bytes, {kZeros, store::kPageBytes}, job.zero)
                                        : write_file(job.path, job.data);
        if (created && !job.rename_to.empty() && ::rename(job.path.c_str(), job.rename_to.c_str()) != 0) {
            created = fail("rename", job.path + " to " + job.rename_to);
        }
        job.result = created ? 0 : (created.error() == Errc::kNoSpace ? -ENOSPC : -EIO);
        lock.lock();
        preparing_ = nullptr;
        prepare_done_.push_back(std::move(job));
        eventfd_write(event_fd_, 1);
    }
}

void DirectDisk::run_prepared() {
    std::deque<PrepareJob> done;
    {
        std::lock_guard lock(prepare_mutex_);
        done.swap(prepare_done_);
    }
    prepare_jobs_count_ -= done.size();
    completed_ += done.size();
    for (PrepareJob& job : done) job.op->done(job.op, job.result);
}

Result<bool> DirectDisk::adopt_file(const std::string& from, const std::string& to,
                                    std::span<const std::byte> first_page) {
    int fd = ::open(from.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail("open", from);
    const char* call = "pwrite";
    bool ok = ::pwrite(fd, first_page.data(), first_page.size(), 0) == static_cast<ssize_t>(first_page.size()) &&
              (call = "fdatasync", ::fdatasync(fd) == 0);
    int error = errno;
    ::close(fd);
    if (!ok) return fail(call, from, error);
    if (auto renamed = rename_no_replace(from, to); !renamed) return renamed;
    return sync_dir(parent_of(to));
}

Result<bool> DirectDisk::rename_no_replace(const std::string& from, const std::string& to) {
    // Never over an existing file: a name clash is a bug to report, not data to replace.
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
    if (!unsupported(errno)) return fail("renameat2", from + " to " + to);
    // The file system lacks RENAME_NOREPLACE (FUSE, some network file systems). A hard link
    // fails if `to` exists and is as crash-safe: a crash leaves `from`, or both names for the
    // same complete file (recovery removes leftover temporary names).
    if (::link(from.c_str(), to.c_str()) == 0) {
        if (::unlink(from.c_str()) != 0) return fail("unlink", from);
        return true;
    }
    if (errno == EEXIST || !(unsupported(errno) || errno == EPERM)) return fail("link", from + " to " + to);
    // No hard links either: the store directory has one writer (its lock), so nothing can
    // create `to` between this check and the rename, which is atomic.
    if (::access(to.c_str(), F_OK) == 0) return fail("rename", from + " to " + to, EEXIST);
    if (::rename(from.c_str(), to.c_str()) != 0) return fail("rename", from + " to " + to);
    return true;
}

Result<bool> DirectDisk::write_file(const std::string& path, std::span<const std::byte> data) {
    // Written once and whole: through the page cache, not zero-filled first, and not synced
    // (see Disk::write_file).
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail("open", path);
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    int error = errno;
    ::close(fd);
    if (done != data.size()) return fail("pwrite", path, error);
    return true;
}

Result<bool> DirectDisk::replace_file(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) return fail("rename", from + " to " + to);
    return sync_dir(parent_of(to));
}

std::string DirectDisk::take_error() { return std::exchange(last_failure, {}); }

void DirectDisk::forget(store::DiskWrite* op) {
    bool in_flight = false;
    for (auto& [token, write] : writes_) {
        if (write.op == op) {
            write.op = nullptr;  // its completion is dropped in on_write_done()
            in_flight = true;
        }
    }
    if (in_flight) return;
    {
        std::lock_guard lock(prepare_mutex_);
        prepare_jobs_count_ -= static_cast<size_t>(
            std::erase_if(prepare_jobs_, [op](const PrepareJob& job) { return job.op == op; }));
    }
    // A job already running finishes; wait for it so its result can be dropped.
    while (true) {
        {
            std::lock_guard lock(prepare_mutex_);
            auto done = std::find_if(prepare_done_.begin(), prepare_done_.end(),
                                     [op](const PrepareJob& job) { return job.op == op; });
            if (done != prepare_done_.end()) {
                prepare_done_.erase(done);
                --prepare_jobs_count_;
                return;
            }
            bool queued = std::any_of(prepare_jobs_.begin(), prepare_jobs_.end(),
                                      [op](const PrepareJob& job) { return job.op == op; });
            if (!queued && preparing_ != op) return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

Result<bool> DirectDisk::make_dir(const std::string& path) {
    // Every directory this creates must survive a crash: fsync the parent of each new one,
    // from the top down.
    std::vector<std::filesystem::path> created;
    for (std::filesystem::path at = path; !at.empty() && !std::filesystem::exists(at); at = at.parent_path()) {
        created.push_back(at);
        if (at == at.parent_path()) break;
    }
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) return fail("mkdir", path, error.value());
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
        if (auto ok = sync_dir(parent_of(it->string())); !ok) return ok;
    }
    return true;
}

Result<std::vector<std::string>> DirectDisk::list_dir(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return fail("opendir", path);
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        names.push_back(std::move(name));
    }
    ::closedir(dir);
    return names;
}

Result<bool> DirectDisk::create_file(const std::string& path, uint64_t bytes,
                                     std::span<const std::byte> first_page) {
    if (auto ok = make_file(path, bytes, first_page, zero_fill_pays(path)); !ok) return ok;
    return sync_dir(parent_of(path));
}

Result<bool> DirectDisk::create_file_as(const std::string& temp, const std::string& path, uint64_t bytes,
                                        std::span<const std::byte> first_page) {
    // The file is whole and synced before its name is: one sync of each, where create_file()
    // then adopt_file() would sync the directory twice and write the first page twice.
    if (auto ok = make_file(temp, bytes, first_page, zero_fill_pays(path)); !ok) return ok;
    if (auto renamed = rename_no_replace(temp, path); !renamed) {
        ::unlink(temp.c_str());
        return renamed;
    }
    return sync_dir(parent_of(path));
}

bool DirectDisk::zero_fill_pays(const std::string& path) const {
    // A durable write into allocated but unwritten space also changes extent state, which the
    // file system commits to its journal: a 4 KiB write took 190 us instead of 127 on the VM of
    // docs/BENCHMARKS.md, a 1 MiB one 1.6 ms instead of 1.2. Zeros written first spare every
    // later write that, at the price of writing each byte twice. Small writes gain (one
    // publisher waiting for each ack; 128 B messages with 256 acks outstanding, whose group
    // commits average about 50 KiB). Large ones would give the zeros device time they need:
    // a 100 MiB object put ran at 160-190 MiB/s zero-filled, 250-300 without. Under a sync
    // interval no write waits for the journal. Judged by directory (a stream's segments share
    // one), so that a stream writing large batches does not decide for a small one beside it.
    if (sync_interval_ > Clock::duration::zero()) return false;
    auto it = directories_.find(parent_of(path));
    return it == directories_.end() || it->second.write_bytes_average < kLargeWriteBytes;
}

Result<bool> DirectDisk::make_file(const std::string& path, uint64_t bytes, std::span<const std::byte> first_page,
                                   bool zero) {
    // Zeros are written with direct writes: through the page cache, a segment's worth of zeros
    // would cost a copy per byte and push useful pages out.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_DIRECT, 0644);
    if (fd < 0 && errno == EINVAL) fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return fail("open", path);
    std::unique_ptr<std::byte, decltype(&std::free)> page(
        static_cast<std::byte*>(std::aligned_alloc(store::kPageBytes, store::kPageBytes)), &std::free);
    RT_ASSERT(page != nullptr);
    RT_ASSERT(first_page.size() == store::kPageBytes);
    std::memcpy(page.get(), first_page.data(), first_page.size());
    // fallocate reserves the space at once (a full disk fails here, not in a later write);
    // where the file system lacks it, writing the zeros allocates it all the same.
    const char* call = "fallocate";
    bool allocated = ::fallocate(fd, 0, 0, static_cast<off_t>(bytes)) == 0;
    bool ok = (allocated || unsupported(errno)) &&
              (call = "write", (allocated && !zero) || zero_fill(fd, 0, bytes)) &&
              ::pwrite(fd, page.get(), store::kPageBytes, 0) == static_cast<ssize_t>(store::kPageBytes) &&
              (call = "fsync", ::fsync(fd) == 0);
    int error = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        return fail(call, path, error);
    }
    return true;
}

Result<bool> DirectDisk::remove_file(const std::string& path) {
    if (::unlink(path.c_str()) != 0) return fail("unlink", path);
    return sync_dir(parent_of(path));
}

Result<int> DirectDisk::open_file(const std::string& path) {
    // With a sync interval, writes go to the page cache, as nats-server's do: the kernel has
    // the bytes when the write completes, the device once the interval's fdatasync is done.
    const bool relaxed = sync_interval_ > Clock::duration::zero();
    int fd = relaxed ? -1 : ::open(path.c_str(), O_RDWR | O_DIRECT | O_CLOEXEC);
    if (fd < 0 && (relaxed || errno == EINVAL)) fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);  // no O_DIRECT here
    if (fd < 0) return fail("open", path);
    // Trust nothing read from a file until what the kernel holds of it is on stable storage.
    struct stat st {};
    const char* call = "fsync";
    if (::fsync(fd) != 0 || (call = "fstat", ::fstat(fd, &st) != 0)) {
        int error = errno;
        ::close(fd);
        return fail(call, path, error);
    }
    int handle = fd;
    auto directory = directories_.try_emplace(parent_of(path)).first;
    ++directory->second.files;
    files_[handle] = File{.fd = fd,
                          .bytes = static_cast<uint64_t>(st.st_size),
                          .relaxed = relaxed,
                          .path = path,
                          .directory = directory};
    return handle;
}

Result<uint64_t> DirectDisk::file_size(int handle) {
    auto it = files_.find(handle);
    if (it == files_.end()) return std::unexpected(Errc::kInvalid);
    return it->second.bytes;
}

Result<std::span<const std::byte>> DirectDisk::map_file(int handle) {
    auto it = files_.find(handle);
    if (it == files_.end()) return std::unexpected(Errc::kInvalid);
    File& file = it->second;
    if (file.map == nullptr) {
        void* map = ::mmap(nullptr, file.bytes, PROT_READ, MAP_SHARED, file.fd, 0);
        if (map == MAP_FAILED) return fail("mmap", file.path);
        file.map = static_cast<const std::byte*>(map);
        file.guard = mapping_guard::add(map, file.bytes);
    }
    return std::span<const std::byte>(file.map, file.bytes);
}

void DirectDisk::will_read_all(int handle) {
    auto it = files_.find(handle);
    if (it == files_.end() || it->second.map == nullptr) return;
    // Maps every page in one call rather than a page fault per few pages (Linux 5.14+; a
    // kernel without it, or a page that cannot be read, just leaves the faults to the reads).
    (void)::madvise(const_cast<std::byte*>(it->second.map), it->second.bytes, MADV_POPULATE_READ);
}

void DirectDisk::read_ahead(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);  // asynchronous: queues the reads
    ::close(fd);
}

uint64_t DirectDisk::read_errors(int handle) {
    auto it = files_.find(handle);
    return it == files_.end() ? 0 : mapping_guard::faults(it->second.guard);
}

void DirectDisk::unmap(File& file) {
    if (file.map == nullptr) return;
    mapping_guard::remove(file.guard);
    ::munmap(const_cast<std::byte*>(file.map), file.bytes);
    file.map = nullptr;
    file.guard = -1;
}

void DirectDisk::close_file(int handle) {
    auto it = files_.find(handle);
    if (it == files_.end() || it->second.closed) return;
    File& file = it->second;
    unmap(file);
    file.closed = true;
    if (file.writes_in_flight == 0) {
        release_file(it);
        return;
    }
    for (auto& [token, write] : writes_) {
        if (write.handle == handle) write.op = nullptr;
    }
}

void DirectDisk::release_file(std::map<int, File>::iterator it) {
    if (it->second.dirty) sync_now(it->second);
    ::close(it->second.fd);
    if (--it->second.directory->second.files == 0) directories_.erase(it->second.directory);
    files_.erase(it);
}

int DirectDisk::register_buffer(std::span<std::byte> memory) {
    if (free_buffers_.empty()) return -1;
    int slot = free_buffers_.back();
    iovec iov{memory.data(), memory.size()};
    __u64 tag = 0;
    if (io_uring_register_buffers_update_tag(loop_.raw(), static_cast<unsigned>(slot), &iov, &tag, 1) != 1) {
        return -1;
    }
    free_buffers_.pop_back();
    return slot;
}

void DirectDisk::unregister_buffer(int buffer) {
    // The slot drops its pages once no request uses them; none does (see store::Disk).
    iovec none{nullptr, 0};
    __u64 tag = 0;
    int rc = io_uring_register_buffers_update_tag(loop_.raw(), static_cast<unsigned>(buffer), &none, &tag, 1);
    RT_ASSERT(rc == 1);
    free_buffers_.push_back(buffer);
}

void DirectDisk::write(int handle, uint64_t offset, std::span<const std::byte> data, int buffer,
                       store::DiskWrite* op) {
    RT_ASSERT(offset % store::kPageBytes == 0);
    RT_ASSERT(data.size() % store::kPageBytes == 0);
    RT_ASSERT(reinterpret_cast<uintptr_t>(data.data()) % store::kPageBytes == 0);
    auto it = files_.find(handle);
    RT_ASSERT(it != files_.end());
    RT_ASSERT(!it->second.closed);
    uint64_t token = token_next_++;
    io_uring_sqe* sqe = loop_.sqe(Loop::user_data(tag_, token));
    const Clock::time_point now = Clock::now();
    std::optional<int32_t> result_now;
    if (it->second.relaxed && data.size() <= kWriteHereBytesMax && now >= write_here_from_) {
        // Under a sync interval a write only copies into the page cache, which io_uring cannot
        // do on ext4 without blocking: it hands every such write to a kernel worker, a wake-up
        // each way. A small one is copied here instead, and a NOP brings its completion at the
        // next reap, as the store expects. One the kernel made wait (dirty pages throttled)
        // sends the writes back to the worker for a while: the loop must not wait on a device.
        ssize_t written = ::pwrite(it->second.fd, data.data(), data.size(), static_cast<off_t>(offset));
        result_now = written < 0 ? -errno : static_cast<int32_t>(written);
        if (Clock::time_point end = Clock::now(); end - now > kWriteHereSlow) write_here_from_ = end + kWriteHerePause;
        io_uring_prep_nop(sqe);
    } else if (buffer >= 0) {
        io_uring_prep_write_fixed(sqe, it->second.fd, data.data(), static_cast<unsigned>(data.size()), offset,
                                  buffer);
    } else {
        io_uring_prep_write(sqe, it->second.fd, data.data(), static_cast<unsigned>(data.size()), offset);
    }
    if (!it->second.relaxed) sqe->rw_flags = RWF_DSYNC;
    uint64_t& average = it->second.directory->second.write_bytes_average;
    average = average - average / 8 + data.size() / 8;
    ++it->second.writes_in_flight;
    writes_.emplace(token, Write{op, handle, now, false, result_now});
}

Result<bool> DirectDisk::write_sync(int handle, uint64_t offset, std::span<const std::byte> data) {
    auto it = files_.find(handle);
    if (it == files_.end()) return std::unexpected(Errc::kInvalid);
    if (::pwrite(it->second.fd, data.data(), data.size(), static_cast<off_t>(offset)) !=
        static_cast<ssize_t>(data.size())) {
        return fail("pwrite", it->second.path);
    }
    if (::fdatasync(it->second.fd) != 0) return fail("fdatasync", it->second.path);
    return true;
}

void DirectDisk::set_sync_interval(Clock::duration interval) {
    sync_interval_ = interval;
    if (interval > Clock::duration::zero()) {
        loop_.schedule(sync_timer_, Clock::now() + interval);
    } else {
        loop_.cancel(sync_timer_);
    }
}

void DirectDisk::flush_dirty() {
    loop_.schedule(sync_timer_, Clock::now() + sync_interval_);
    for (auto& [handle, file] : files_) {
        if (!file.dirty || file.closed) continue;
        uint64_t token = token_next_++;
        io_uring_sqe* sqe = loop_.sqe(Loop::user_data(tag_, token));
        io_uring_prep_fsync(sqe, file.fd, IORING_FSYNC_DATASYNC);
        file.dirty = false;
        ++file.writes_in_flight;
        writes_.emplace(token, Write{nullptr, handle, Clock::now(), /*flush=*/true});
    }
}

void DirectDisk::sync_now(File& file) {
    file.dirty = false;
    if (::fdatasync(file.fd) == 0) {
        ++syncs_;
    } else {
        ++sync_failures_;
    }
}

void DirectDisk::on_write_done(uint64_t token, int32_t result) {
    auto it = writes_.find(token);
    RT_ASSERT(it != writes_.end());
    Write write = it->second;
    writes_.erase(it);
    ++completed_;
    if (write.result_now) result = *write.result_now;
    if (write.flush) {
        auto file = files_.find(write.handle);
        RT_ASSERT(file != files_.end());
        if (result < 0) {
            ++sync_failures_;
            file->second.dirty = true;  // tried again at the next interval, or at close
        } else {
            ++syncs_;
        }
        if (--file->second.writes_in_flight == 0 && file->second.closed) release_file(file);
        return;
    }
    auto took = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - write.queued).count());
    size_t bucket = 0;
    while (bucket < kLatencyBoundsUs.size() && took > kLatencyBoundsUs[bucket] * 1000) ++bucket;
    ++latency_.buckets[bucket];
    ++latency_.count;
    latency_.sum_ns += took;
    auto file = files_.find(write.handle);
    RT_ASSERT(file != files_.end());
    if (result >= 0 && file->second.relaxed) file->second.dirty = true;
    if (--file->second.writes_in_flight == 0 && file->second.closed) release_file(file);
    if (write.op != nullptr) write.op->done(write.op, result);
}

}  // namespace ringtail::io
