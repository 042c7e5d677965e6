#pragma once

#include <liburing.h>

#include <cstdint>
#include <string>

#include "base/result.h"

namespace ringtail::io {

// One io_uring instance for one shard thread.
// Owner: the shard thread that created it (IORING_SETUP_SINGLE_ISSUER): only that thread submits.
// Lifecycle: created on the shard thread at start, destroyed when the shard stops.
class Uring {
public:
    Uring() = default;
    ~Uring();
    Uring(const Uring&) = delete;
    Uring& operator=(const Uring&) = delete;

    // Sets the ring up with SINGLE_ISSUER | DEFER_TASKRUN and checks every opcode and feature
    // Ringtail relies on. The error says what the machine lacks.
    [[nodiscard]] Result<void, Error> init(unsigned entries);

    // A free SQE; submits pending ones first when the submission queue is full.
    io_uring_sqe* sqe();

    io_uring* raw() { return &ring_; }
    int fd() const { return ring_.ring_fd; }

private:
    io_uring ring_{};
    bool initialised_ = false;
};

// Checks, once, that this kernel offers what Ringtail needs.
[[nodiscard]] Result<void, Error> probe_kernel();

}  // namespace ringtail::io
