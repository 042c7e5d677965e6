#pragma once

#include <deque>
#include <map>
#include <string>

#include "store/disk.h"

namespace ringtail::store {

// A Disk held in memory: with it, StreamLog is the memory store (JetStream storage: memory),
// with the same interface, record format and checks as the file store, and nothing kept
// across a restart. Files are anonymous mappings, so untouched pages of a segment cost no
// memory. Writes complete on the owner's next poll(), never inside write(), as the Disk
// contract requires.
// Owner: one shard.
class MemoryDisk final : public Disk {
public:
    MemoryDisk() = default;
    ~MemoryDisk() override;
    MemoryDisk(const MemoryDisk&) = delete;
    MemoryDisk& operator=(const MemoryDisk&) = delete;

    Result<bool> make_dir(const std::string& path) override;
    Result<std::vector<std::string>> list_dir(const std::string& path) override;
    Result<bool> create_file(const std::string& path, uint64_t bytes,
                             std::span<const std::byte> first_page) override;
    Result<bool> remove_file(const std::string& path) override;
    Result<int> open_file(const std::string& path) override;
    Result<uint64_t> file_size(int handle) override;
    Result<std::span<const std::byte>> map_file(int handle) override;
    void close_file(int handle) override;
    void write(int handle, uint64_t offset, std::span<const std::byte> data, int buffer,
               DiskWrite* op) override;
    Result<bool> write_sync(int handle, uint64_t offset, std::span<const std::byte> data) override;
    void prepare_file(const std::string& path, uint64_t bytes, DiskWrite* op) override;
    Result<bool> adopt_file(const std::string& from, const std::string& to,
                            std::span<const std::byte> first_page) override;
    Result<bool> replace_file(const std::string& from, const std::string& to) override;
    void write_file_async(const std::string& temp, const std::string& path, std::span<const std::byte> data,
                          DiskWrite* op) override;
    void forget(DiskWrite* op) override;

    // Runs the callbacks of the writes submitted so far. Returns how many.
    size_t poll();

private:
    struct File {
        std::byte* bytes = nullptr;
        uint64_t size = 0;
    };
    struct Pending {
        int handle;  // -1: a prepare_file, no data
        uint64_t offset;
        std::span<const std::byte> data;
        DiskWrite* op;
    };

    std::map<std::string, File> files_;
    std::vector<File> retired_;  // replaced files, unmapped at destruction
    std::map<int, std::string> handles_;
    int next_handle_ = 1;
    std::deque<Pending> pending_;
};

}  // namespace ringtail::store
