#include "io/uring.h"

#include <cerrno>
#include <cstring>

namespace ringtail::io {
namespace {

struct Needed {
    int opcode;
    const char* name;
};

constexpr Needed kOpcodes[] = {
    {IORING_OP_ACCEPT, "ACCEPT"},     {IORING_OP_RECV, "RECV"},
    {IORING_OP_SEND, "SEND"},         {IORING_OP_TIMEOUT, "TIMEOUT"},
    {IORING_OP_MSG_RING, "MSG_RING"}, {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"},
    {IORING_OP_CLOSE, "CLOSE"},
};

}  // namespace

Uring::~Uring() {
    if (initialised_) io_uring_queue_exit(&ring_);
}

Result<void, Error> Uring::init(unsigned entries) {
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                   IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE | IORING_SETUP_TASKRUN_FLAG;
    params.cq_entries = entries * 4;
    int rc = io_uring_queue_init_params(entries, &ring_, &params);
    if (rc == -EINVAL) {
        return fail(Errc::kUnsupported,
                    "io_uring does not accept SINGLE_ISSUER|DEFER_TASKRUN: Linux 6.1 or newer is required");
    }
    if (rc == -EPERM || rc == -ENOSYS) {
        return fail(Errc::kUnsupported, std::string("io_uring is unavailable (") + std::strerror(-rc) +
                                            "); check the sysctl kernel.io_uring_disabled and any seccomp profile");
    }
    if (rc < 0) return fail(Errc::kIo, std::string("io_uring setup failed: ") + std::strerror(-rc));
    initialised_ = true;
    struct Feature {
        unsigned bit;
        const char* name;
    };
    for (Feature feature : {Feature{IORING_FEAT_CQE_SKIP, "IORING_FEAT_CQE_SKIP"},
                            Feature{IORING_FEAT_NODROP, "IORING_FEAT_NODROP"}}) {
        if (!(params.features & feature.bit)) {
            return fail(Errc::kUnsupported,
                        std::string("io_uring lacks ") + feature.name + ": Linux 6.1 or newer is required");
        }
    }
    return {};
}

io_uring_sqe* Uring::sqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    while (sqe == nullptr) {
        io_uring_submit(&ring_);
        sqe = io_uring_get_sqe(&ring_);
    }
    return sqe;
}

Result<void, Error> probe_kernel() {
    io_uring_probe* probe = io_uring_get_probe();
    if (probe == nullptr) {
        return fail(Errc::kUnsupported,
                    "io_uring is unavailable on this kernel (io_uring_get_probe failed); Linux 6.1 or "
                    "newer with io_uring enabled is required (sysctl kernel.io_uring_disabled=0)");
    }
    std::string missing;
    for (const Needed& needed : kOpcodes) {
        if (!io_uring_opcode_supported(probe, needed.opcode)) {
            missing += missing.empty() ? "" : ", ";
            missing += needed.name;
        }
    }
    io_uring_free_probe(probe);
    if (!missing.empty()) {
        return fail(Errc::kUnsupported, "this kernel's io_uring lacks opcodes Ringtail needs (" + missing +
                                            "); Linux 6.1 or newer is required");
    }
    // Multishot accept/recv and provided buffer rings arrived in 5.19/6.0; DEFER_TASKRUN in 6.1,
    // which Uring::init checks by asking for it.
    Uring trial;
    return trial.init(8);
}

}  // namespace ringtail::io
