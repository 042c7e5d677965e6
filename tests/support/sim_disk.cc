#include "tests/support/sim_disk.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "base/assert.h"

namespace ringtail::test {

Result<bool> SimDisk::make_dir(const std::string& path) {
    dirs_.insert(path);
    return true;
}

Result<std::vector<std::string>> SimDisk::list_dir(const std::string& path) {
    return store::names_in_dir(files_, path);
}

Result<bool> SimDisk::create_file(const std::string& path, uint64_t bytes,
                                  std::span<const std::byte> first_page) {
    if (files_.contains(path)) return std::unexpected(Errc::kInvalid);
    if (full_ || bytes > room_) return std::unexpected(Errc::kNoSpace);
    std::vector<std::byte> file(bytes);
    std::memcpy(file.data(), first_page.data(), first_page.size());
    files_[path] = std::move(file);
    return true;
}

Result<bool> SimDisk::remove_file(const std::string& path) {
    files_.erase(path);
    return true;
}

Result<int> SimDisk::open_file(const std::string& path) {
    if (!files_.contains(path)) return std::unexpected(Errc::kNotFound);
    int handle = next_handle_++;
    handles_[handle] = path;
    return handle;
}

Result<uint64_t> SimDisk::file_size(int handle) {
    auto it = handles_.find(handle);
    if (it == handles_.end()) return std::unexpected(Errc::kInvalid);
    return files_[it->second].size();
}

Result<std::span<const std::byte>> SimDisk::map_file(int handle) {
    auto it = handles_.find(handle);
    if (it == handles_.end()) return std::unexpected(Errc::kInvalid);
    const auto& file = files_[it->second];
    return std::span<const std::byte>(file.data(), file.size());
}

void SimDisk::fail_read(const std::string& path, uint64_t offset) {
    auto& file = files_.at(path);
    uint64_t page = offset / store::kPageBytes * store::kPageBytes;
    std::memset(file.data() + page, 0, std::min<uint64_t>(store::kPageBytes, file.size() - page));
    ++unreadable_pages_[path];
}

uint64_t SimDisk::read_errors(int handle) {
    auto it = handles_.find(handle);
    if (it == handles_.end()) return 0;
    auto pages = unreadable_pages_.find(it->second);
    return pages == unreadable_pages_.end() ? 0 : pages->second;
}

void SimDisk::close_file(int handle) {
    // As the kernel would, writes already submitted still land; their callbacks are dropped.
    auto it = handles_.find(handle);
    if (it == handles_.end()) return;
    std::string path = it->second;
    handles_.erase(it);
    std::erase_if(queue_, [&](Pending& write) {
        if (write.prepare || write.path != path) return false;
        if (write.fail_errno == 0) {
            std::memcpy(files_[path].data() + write.offset, write.data.data(), write.data.size());
        }
        return true;
    });
}

int SimDisk::register_buffer(std::span<std::byte> memory) {
    buffers_[next_buffer_] = memory;
    return next_buffer_++;
}

void SimDisk::unregister_buffer(int buffer) {
    RT_ASSERT(buffers_.erase(buffer) == 1);
    RT_ASSERT(std::none_of(queue_.begin(), queue_.end(), [&](const Pending& p) { return p.buffer == buffer; }));
}

void SimDisk::write(int handle, uint64_t offset, std::span<const std::byte> data, int buffer,
                    store::DiskWrite* op) {
    RT_ASSERT(offset % store::kPageBytes == 0);
    RT_ASSERT(data.size() % store::kPageBytes == 0);
    auto it = handles_.find(handle);
    RT_ASSERT(it != handles_.end());
    if (buffer != -1) {
        auto registered = buffers_.find(buffer);
        RT_ASSERT(registered != buffers_.end());
        RT_ASSERT(data.data() >= registered->second.data() &&
                  data.data() + data.size() <= registered->second.data() + registered->second.size());
    }
    // The data is copied at submission, and compared with the store's bytes at completion:
    // the store must not touch what a write in flight reads.
    queue_.push_back({it->second, offset, {data.begin(), data.end()}, op, std::exchange(fail_next_, 0), false,
                      data, buffer});
}

Result<bool> SimDisk::write_sync(int handle, uint64_t offset, std::span<const std::byte> data) {
    auto it = handles_.find(handle);
    if (it == handles_.end()) return std::unexpected(Errc::kInvalid);
    auto& file = files_[it->second];
    RT_ASSERT(offset + data.size() <= file.size());
    std::memcpy(file.data() + offset, data.data(), data.size());
    return true;
}

void SimDisk::prepare_file(const std::string& path, uint64_t bytes, store::DiskWrite* op) {
    // The file appears at once (a crash before the callback leaves it behind, to be cleaned
    // up by recovery); the completion waits in the queue like a write.
    if (full_ || bytes > room_) {
        queue_.push_back({path, 0, {}, op, ENOSPC, true});
        return;
    }
    files_[path] = std::vector<std::byte>(bytes);
    queue_.push_back({path, 0, {}, op, 0, true});
}

Result<bool> SimDisk::adopt_file(const std::string& from, const std::string& to,
                                 std::span<const std::byte> first_page) {
    auto it = files_.find(from);
    if (it == files_.end() || files_.contains(to)) return std::unexpected(Errc::kInvalid);
    std::memcpy(it->second.data(), first_page.data(), first_page.size());
    files_[to] = std::move(it->second);
    files_.erase(it);
    return true;
}

Result<bool> SimDisk::replace_file(const std::string& from, const std::string& to) {
    auto it = files_.find(from);
    if (it == files_.end()) return std::unexpected(Errc::kNotFound);
    // Handles open on `to` keep seeing its old bytes, as with a real rename.
    if (auto old = files_.find(to); old != files_.end()) retired_.push_back(std::move(old->second));
    files_[to] = std::move(it->second);
    files_.erase(from);
    return true;
}

void SimDisk::write_file_async(const std::string& temp, const std::string& path, std::span<const std::byte> data,
                               store::DiskWrite* op) {
    // Like prepare_file: the file is in place at once, whole; the completion waits in the queue.
    (void)temp;
    if (full_ || data.size() > room_) {
        queue_.push_back({path, 0, {}, op, ENOSPC, true});
        return;
    }
    if (auto old = files_.find(path); old != files_.end()) retired_.push_back(std::move(old->second));
    files_[path] = std::vector<std::byte>(data.begin(), data.end());
    queue_.push_back({path, 0, {}, op, 0, true});
}

void SimDisk::forget(store::DiskWrite* op) {
    std::erase_if(queue_, [op](const Pending& p) { return p.op == op; });
}

size_t SimDisk::complete(size_t count) {
    size_t done = 0;
    while (done < count && !queue_.empty()) {
        Pending write = std::move(queue_.front());
        queue_.pop_front();
        RT_ASSERT(write.source.empty() ||
                  std::memcmp(write.source.data(), write.data.data(), write.data.size()) == 0);
        int32_t result;
        if (write.fail_errno != 0) {
            result = -write.fail_errno;
        } else if (write.prepare) {
            result = 0;
        } else {
            auto& file = files_[write.path];
            RT_ASSERT(write.offset + write.data.size() <= file.size());
            std::memcpy(file.data() + write.offset, write.data.data(), write.data.size());
            result = static_cast<int32_t>(write.data.size());
        }
        ++done;
        write.op->done(write.op, result);
    }
    return done;
}

void SimDisk::complete_nth(size_t index) {
    Pending write = std::move(queue_[index]);
    queue_.erase(queue_.begin() + static_cast<long>(index));
    queue_.push_front(std::move(write));
    complete(1);
}

void SimDisk::crash() {
    constexpr size_t kSector = 512;
    for (Pending& write : queue_) {
        if (write.fail_errno != 0 || write.prepare) continue;
        auto& file = files_[write.path];
        for (size_t at = 0; at < write.data.size(); at += kSector) {
            if (random_() % 2 == 0) std::memcpy(file.data() + write.offset + at, write.data.data() + at, kSector);
        }
    }
    queue_.clear();
    handles_.clear();
    fail_next_ = 0;
}

std::string SimDisk::flip_random_bit() {
    if (files_.empty()) return {};
    auto it = files_.begin();
    std::advance(it, static_cast<long>(random_() % files_.size()));
    auto& file = it->second;
    // Flip within the written part (the last non-zero byte bounds it), past the header page.
    size_t end = file.size();
    while (end > store::kPageBytes && file[end - 1] == std::byte{0}) --end;
    if (end <= store::kPageBytes) return {};
    // A second flip of the same bit would repair the damage the first one did: pick another.
    for (int attempt = 0; attempt < 64; ++attempt) {
        size_t at = store::kPageBytes + random_() % (end - store::kPageBytes);
        unsigned bit = random_() % 8;
        if (!flipped_.insert({it->first, at * 8 + bit}).second) continue;
        file[at] ^= static_cast<std::byte>(1u << bit);
        return it->first;
    }
    return {};
}

}  // namespace ringtail::test
