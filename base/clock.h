#pragma once

#include <chrono>
#include <cstdint>

namespace ringtail::base {

// Nanoseconds since the Unix epoch on the wall clock: what message timestamps, creation times
// and every time a client sees are measured in. Intervals use std::chrono::steady_clock.
inline int64_t wall_clock_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace ringtail::base
