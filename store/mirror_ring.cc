#include "store/mirror_ring.h"

#include <sys/mman.h>
#include <unistd.h>

#include "base/assert.h"

namespace ringtail::store {

Result<MirrorRing> MirrorRing::create(size_t bytes) {
    RT_ASSERT(bytes != 0 && (bytes & (bytes - 1)) == 0);
    RT_ASSERT(bytes % static_cast<size_t>(::sysconf(_SC_PAGESIZE)) == 0);
    // Reserve twice the size, then map the same memfd over both halves.
    void* reserved = ::mmap(nullptr, 2 * bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED) return std::unexpected(Errc::kIo);
    auto* data = static_cast<std::byte*>(reserved);
    int fd = ::memfd_create("ringtail-tail", MFD_CLOEXEC);
    bool ok = fd >= 0 && ::ftruncate(fd, static_cast<off_t>(bytes)) == 0;
    for (size_t half = 0; ok && half < 2; ++half) {
        ok = ::mmap(data + half * bytes, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) !=
             MAP_FAILED;
    }
    if (fd >= 0) ::close(fd);  // the mappings keep the memory
    if (!ok) {
        ::munmap(reserved, 2 * bytes);
        return std::unexpected(Errc::kIo);
    }
    MirrorRing ring;
    ring.data_ = data;
    ring.bytes_ = bytes;
    return ring;
}

MirrorRing::~MirrorRing() {
    if (data_ != nullptr) ::munmap(data_, 2 * bytes_);
}

MirrorRing& MirrorRing::operator=(MirrorRing&& other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) ::munmap(data_, 2 * bytes_);
        data_ = std::exchange(other.data_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
}

}  // namespace ringtail::store
