#include "store/memory_disk.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "base/assert.h"

namespace ringtail::store {

MemoryDisk::~MemoryDisk() {
    for (auto& [path, file] : files_) ::munmap(file.bytes, file.size);
    for (File& file : retired_) ::munmap(file.bytes, file.size);
}

Result<bool> MemoryDisk::make_dir(const std::string&) { return true; }

Result<std::vector<std::string>> MemoryDisk::list_dir(const std::string& path) {
    return names_in_dir(files_, path);
}

Result<bool> MemoryDisk::create_file(const std::string& path, uint64_t bytes,
                                     std::span<const std::byte> first_page) {
    if (files_.contains(path)) return std::unexpected(Errc::kInvalid);
    void* map = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return std::unexpected(Errc::kNoSpace);
    auto* file = static_cast<std::byte*>(map);
    std::memcpy(file, first_page.data(), first_page.size());
    files_[path] = File{file, bytes};
    return true;
}

Result<bool> MemoryDisk::remove_file(const std::string& path) {
    auto it = files_.find(path);
    if (it == files_.end()) return std::unexpected(Errc::kNotFound);
    ::munmap(it->second.bytes, it->second.size);
    files_.erase(it);
    return true;
}

Result<int> MemoryDisk::open_file(const std::string& path) {
    if (!files_.contains(path)) return std::unexpected(Errc::kNotFound);
    int handle = next_handle_++;
    handles_[handle] = path;
    return handle;
}

Result<uint64_t> MemoryDisk::file_size(int handle) {
    auto it = handles_.find(handle);
    if (it == handles_.end()) return std::unexpected(Errc::kInvalid);
    return files_.at(it->second).size;
}

Result<std::span<const std::byte>> MemoryDisk::map_file(int handle) {
    auto it = handles_.find(handle);
    if (it == handles_.end()) return std::unexpected(Errc::kInvalid);
    const File& file = files_.at(it->second);
    return std::span<const std::byte>(file.bytes, file.size);
}

void MemoryDisk::close_file(int handle) {
    // Writes still queued for it are dropped with their callbacks: the log is going away.
    std::erase_if(pending_, [handle](const Pending& p) { return p.handle == handle; });
    handles_.erase(handle);
}

void MemoryDisk::write(int handle, uint64_t offset, std::span<const std::byte> data, int /*buffer*/,
                       DiskWrite* op) {
    RT_ASSERT(handles_.contains(handle));
    pending_.push_back({handle, offset, data, op});
}

Result<bool> MemoryDisk::write_sync(int handle, uint64_t offset, std::span<const std::byte> data) {
    auto it = handles_.find(handle);
    if (it == handles_.end()) return std::unexpected(Errc::kInvalid);
    File& file = files_.at(it->second);
    RT_ASSERT(offset + data.size() <= file.size);
    std::memcpy(file.bytes + offset, data.data(), data.size());
    return true;
}

void MemoryDisk::prepare_file(const std::string& path, uint64_t bytes, DiskWrite* op) {
    std::byte zeros[kPageBytes] = {};
    auto created = create_file(path, bytes, {zeros, kPageBytes});
    pending_.push_back({-1, created ? 0u : 1u, {}, op});
}

Result<bool> MemoryDisk::adopt_file(const std::string& from, const std::string& to,
                                    std::span<const std::byte> first_page) {
    auto it = files_.find(from);
    if (it == files_.end() || files_.contains(to)) return std::unexpected(Errc::kInvalid);
    std::memcpy(it->second.bytes, first_page.data(), first_page.size());
    files_[to] = it->second;
    files_.erase(it);
    return true;
}

Result<bool> MemoryDisk::replace_file(const std::string& from, const std::string& to) {
    auto it = files_.find(from);
    if (it == files_.end()) return std::unexpected(Errc::kNotFound);
    File file = it->second;
    files_.erase(it);
    if (auto old = files_.find(to); old != files_.end()) {
        // The old contents stay mapped for handles still open on it, as with a real rename;
        // MemoryDisk keeps them until it is destroyed.
        retired_.push_back(old->second);
        files_.erase(old);
    }
    files_[to] = file;
    return true;
}

void MemoryDisk::write_file_async(const std::string& temp, const std::string& path, std::span<const std::byte> data,
                                  DiskWrite* op) {
    (void)remove_file(temp);
    auto written = write_file(temp, data);
    if (written) written = replace_file(temp, path);
    pending_.push_back({-1, written ? 0u : 1u, {}, op});
}

void MemoryDisk::forget(DiskWrite* op) {
    std::erase_if(pending_, [op](const Pending& p) { return p.op == op; });
}

size_t MemoryDisk::poll() {
    size_t done = 0;
    while (!pending_.empty()) {
        Pending write = pending_.front();
        pending_.pop_front();
        if (write.handle < 0) {
            write.op->done(write.op, write.offset == 0 ? 0 : -ENOSPC);
            ++done;
            continue;
        }
        File& file = files_.at(handles_.at(write.handle));
        RT_ASSERT(write.offset + write.data.size() <= file.size);
        // The data is copied now, at completion: the log does not touch it until then.
        std::memcpy(file.bytes + write.offset, write.data.data(), write.data.size());
        write.op->done(write.op, static_cast<int32_t>(write.data.size()));
        ++done;
    }
    return done;
}

}  // namespace ringtail::store
