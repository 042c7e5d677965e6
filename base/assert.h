#pragma once

// RT_ASSERT is on in every build: a broken invariant is a programmer error and the process
// stops with file:line, the condition and a backtrace. RT_DASSERT is for per-byte loops only
// and compiles out of release builds. Never put side effects inside either.

namespace ringtail::base {
[[noreturn]] void assert_fail(const char* condition, const char* file, int line);
}  // namespace ringtail::base

#define RT_ASSERT(cond)                                                  \
    do {                                                                 \
        if (!(cond)) [[unlikely]]                                        \
            ::ringtail::base::assert_fail(#cond, __FILE__, __LINE__);    \
    } while (0)

#ifdef NDEBUG
#define RT_DASSERT(cond) \
    do {                 \
    } while (0)
#else
#define RT_DASSERT(cond) RT_ASSERT(cond)
#endif
