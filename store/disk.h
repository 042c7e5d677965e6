#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace ringtail::store {

inline constexpr size_t kPageBytes = 4096;

// A write the caller owns until `done` runs. `result` is the byte count or -errno.
struct DiskWrite {
    void (*done)(DiskWrite* self, int32_t result) = nullptr;
};

// Everything the store does to storage goes through this interface, so tests can run the real
// store on a simulated disk (tests/support/sim_disk.h) and the server on io/direct_disk.h.
// Owner: one shard. Control-plane calls (open, create, recovery) are synchronous; write()
// completes later, its callback run from the owner's loop and never from inside write().
class Disk {
public:
    virtual ~Disk() = default;

    // mkdir -p, then fsync of the parent so the directory entry is durable.
    [[nodiscard]] virtual Result<bool> make_dir(const std::string& path) = 0;
    // Names (not paths) of the regular files in `path`.
    [[nodiscard]] virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;
    // Creates `path` with `bytes` allocated and reading as zeros, `first_page` written at offset 0,
    // then fsyncs the file and its directory. Fails if the file exists.
    [[nodiscard]] virtual Result<bool> create_file(const std::string& path, uint64_t bytes,
                                                   std::span<const std::byte> first_page) = 0;
    // Removes `path` and fsyncs its directory.
    [[nodiscard]] virtual Result<bool> remove_file(const std::string& path) = 0;
    // Opens an existing file for direct I/O and fsyncs it before anything is trusted.
    [[nodiscard]] virtual Result<int> open_file(const std::string& path) = 0;
    [[nodiscard]] virtual Result<uint64_t> file_size(int handle) = 0;
    // A read-only view of the whole file, coherent with completed writes.
    [[nodiscard]] virtual Result<std::span<const std::byte>> map_file(int handle) = 0;
    // Pages of the file's view that could not be read (a media error, the file cut short):
    // they read as zeros. Anything read from the view is in doubt while this is not 0.
    // Hints for recovery: the whole view is about to be read, in order; the file at `path` will
    // be read whole soon (start reading it in the background).
    virtual void will_read_all(int handle) { (void)handle; }
    virtual void read_ahead(const std::string& path) { (void)path; }
    virtual uint64_t read_errors(int handle) {
        (void)handle;
        return 0;
    }
    virtual void close_file(int handle) = 0;

    // Creates `path` like create_file() (allocated, reading as zeros, its bytes durable) but off
    // the caller's thread, and without syncing the directory: only adopt_file() gives it a name
    // that lasts. `op->done` runs from the owner's loop with 0 or -errno. Used to keep the next
    // segment ready before it is needed.
    virtual void prepare_file(const std::string& path, uint64_t bytes, DiskWrite* op) = 0;
    // Writes `first_page` into the prepared file `from` and makes it durable, then renames it
    // to `to` and fsyncs the directory. A crash leaves either `from` or a complete `to`.
    [[nodiscard]] virtual Result<bool> adopt_file(const std::string& from, const std::string& to,
                                                  std::span<const std::byte> first_page) = 0;
    // create_file() under the name `temp`, then renamed to `path` (never over an existing file)
    // and the directory fsynced: a crash leaves `temp`, or `path` whole.
    [[nodiscard]] virtual Result<bool> create_file_as(const std::string& temp, const std::string& path,
                                                      uint64_t bytes, std::span<const std::byte> first_page) {
        if (auto ok = create_file(temp, bytes, first_page); !ok) return ok;
        return adopt_file(temp, path, first_page);
    }
    // Creates `path` holding `data` (whole pages), without syncing it: for a file that checks
    // itself (a torn one is refused) and that the next start can do without. Fails if it exists.
    // The caller renames it into place.
    [[nodiscard]] virtual Result<bool> write_file(const std::string& path, std::span<const std::byte> data) {
        if (data.size() < kPageBytes || data.size() % kPageBytes != 0) return std::unexpected(Errc::kInvalid);
        if (auto ok = create_file(path, data.size(), data.first(kPageBytes)); !ok) return ok;
        auto handle = open_file(path);
        if (!handle) return std::unexpected(handle.error());
        Result<bool> written = true;
        if (data.size() > kPageBytes) written = write_sync(*handle, kPageBytes, data.subspan(kPageBytes));
        close_file(*handle);
        return written;
    }
    // Off the caller's thread: write_file() to `temp` (replacing a file left there), then
    // renames it over `path`, syncing neither (after a crash there may be `temp`, the old
    // `path`, or the new one, whole or torn). `op->done` runs from the owner's loop with 0 or
    // -errno. `data` must stay untouched until then (forget() waits for a write underway).
    virtual void write_file_async(const std::string& temp, const std::string& path, std::span<const std::byte> data,
                                  DiskWrite* op) = 0;
    // Renames `from` over `to` (replacing it) and fsyncs the directory.
    [[nodiscard]] virtual Result<bool> replace_file(const std::string& from, const std::string& to) = 0;
    // The caller no longer wants `op`'s completion (prepare_file or write); it is never called.
    // A forgotten write may still read its bytes: forget a write only when what it writes no
    // longer matters (its file is being removed).
    virtual void forget(DiskWrite* op) = 0;
    // The last synchronous call that failed on the caller's thread since the last take, as
    // "<call> <path>: <errno text>" (empty if none, or where the disk does not say), for error
    // messages; taking it clears it.
    virtual std::string take_error() { return {}; }

    // Registers memory that writes will come from, so that the disk can prepare it once rather
    // than on every write (DirectDisk: an io_uring fixed buffer, its pages pinned once).
    // Returns the buffer's id, or -1 where the disk does not (writes then work the same, only
    // slower). The memory must stay mapped until unregister_buffer(), which is called only
    // while no write from it is in flight.
    virtual int register_buffer(std::span<std::byte> memory) {
        (void)memory;
        return -1;
    }
    virtual void unregister_buffer(int buffer) { (void)buffer; }

    // Writes `data` at `offset` (both multiples of kPageBytes) and completes only once the
    // bytes are on stable storage. `data` must stay untouched until `op->done` runs. `buffer`
    // is the registered buffer holding `data`, or -1.
    virtual void write(int handle, uint64_t offset, std::span<const std::byte> data, int buffer,
                       DiskWrite* op) = 0;
    // The same, synchronously (recovery only).
    [[nodiscard]] virtual Result<bool> write_sync(int handle, uint64_t offset,
                                                  std::span<const std::byte> data) = 0;
};

// For in-memory Disks (MemoryDisk, tests' SimDisk): the names of the files directly in `dir`,
// from a map keyed by full path.
template <class FilesByPath>
std::vector<std::string> names_in_dir(const FilesByPath& files, const std::string& dir) {
    std::vector<std::string> names;
    std::string prefix = dir + "/";
    for (const auto& entry : files) {
        const std::string& path = entry.first;
        if (path.starts_with(prefix) && path.find('/', prefix.size()) == std::string::npos) {
            names.push_back(path.substr(prefix.size()));
        }
    }
    return names;
}

}  // namespace ringtail::store
