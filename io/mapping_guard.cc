#include "io/mapping_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

namespace ringtail::io::mapping_guard {
namespace {

// One per mapped segment file; the table costs nothing until used (untouched zero pages).
constexpr int kSlots = 1 << 16;

struct Slot {
    std::atomic<bool> taken{false};
    std::atomic<uintptr_t> start{0};  // 0 while the slot guards nothing
    std::atomic<size_t> bytes{0};
    std::atomic<uint64_t> faults{0};
};

Slot slots[kSlots];
std::atomic<int> slots_used{0};  // no slot at or past this index was ever taken
struct sigaction previous_action;

void on_sigbus(int signal, siginfo_t* info, void* context) {
    auto address = reinterpret_cast<uintptr_t>(info->si_addr);
    int used = slots_used.load(std::memory_order_acquire);
    for (int i = 0; info->si_code > 0 && i < used; ++i) {
        Slot& slot = slots[i];
        uintptr_t start = slot.start.load(std::memory_order_acquire);
        if (start == 0 || address < start ||
            address - start >= slot.bytes.load(std::memory_order_relaxed)) {
            continue;
        }
        // A page of zeros in place of the unreadable one; the read that faulted runs again.
        auto page_bytes = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
        void* page = reinterpret_cast<void*>(address & ~(page_bytes - 1));
        int saved_errno = errno;  // the interrupted code's
        void* zeros = ::mmap(page, page_bytes, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        errno = saved_errno;
        if (zeros == MAP_FAILED) break;
        slot.faults.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    // Not a guarded mapping: what would have happened without this handler.
    if (previous_action.sa_flags & SA_SIGINFO) {
        previous_action.sa_sigaction(signal, info, context);
        return;
    }
    if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
        previous_action.sa_handler(signal);
        return;
    }
    ::signal(SIGBUS, SIG_DFL);
    if (info->si_code <= 0) ::raise(SIGBUS);  // sent, not a fault: a fault comes again on return
}

}  // namespace

void install() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction action {};
        action.sa_sigaction = &on_sigbus;
        action.sa_flags = SA_SIGINFO;
        sigemptyset(&action.sa_mask);
        ::sigaction(SIGBUS, &action, &previous_action);
    });
}

int add(const void* start, size_t bytes) {
    for (int i = 0; i < kSlots; ++i) {
        bool expected = false;
        if (!slots[i].taken.compare_exchange_strong(expected, true, std::memory_order_acq_rel))
            continue;
        slots[i].bytes.store(bytes, std::memory_order_relaxed);
        slots[i].faults.store(0, std::memory_order_relaxed);
        slots[i].start.store(reinterpret_cast<uintptr_t>(start), std::memory_order_release);
        int used = slots_used.load(std::memory_order_relaxed);
        while (used <= i &&
               !slots_used.compare_exchange_weak(used, i + 1, std::memory_order_release)) {
        }
        return i;
    }
    return -1;
}

void remove(int slot) {
    if (slot < 0) return;
    slots[slot].start.store(0, std::memory_order_release);
    slots[slot].taken.store(false, std::memory_order_release);
}

uint64_t faults(int slot) {
    return slot < 0 ? 0 : slots[slot].faults.load(std::memory_order_relaxed);
}

}  // namespace ringtail::io::mapping_guard
