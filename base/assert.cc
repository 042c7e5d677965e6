#include "base/assert.h"

#include <execinfo.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace ringtail::base {

void assert_fail(const char* condition, const char* file, int line) {
    std::fprintf(stderr, "ringtail: assertion failed at %s:%d: %s\n", file, line, condition);
    void* frames[64];
    int count = backtrace(frames, 64);
    backtrace_symbols_fd(frames, count, STDERR_FILENO);
    std::fflush(stderr);
    __builtin_trap();
}

}  // namespace ringtail::base
