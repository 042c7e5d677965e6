// Preloaded into a server under test (LD_PRELOAD) to play a file system that lacks calls or
// fails them: RT_FS_SHIM="fallocate=EOPNOTSUPP,renameat2=EINVAL,link=EPERM" makes each named
// call fail with that errno; every other call goes to libc.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// The errno `call` is to fail with, or 0 to let it through.
static int shimmed(const char* call) {
    const char* spec = getenv("RT_FS_SHIM");
    if (spec == NULL) return 0;
    size_t length = strlen(call);
    for (const char* at = spec; (at = strstr(at, call)) != NULL; at += length) {
        if ((at != spec && at[-1] != ',') || at[length] != '=') continue;
        const char* name = at + length + 1;
        static const struct {
            const char* name;
            int value;
        } kErrnos[] = {{"EOPNOTSUPP", EOPNOTSUPP}, {"EINVAL", EINVAL}, {"EPERM", EPERM},
                       {"ENOSYS", ENOSYS},         {"EIO", EIO},       {"ENOSPC", ENOSPC}};
        for (size_t i = 0; i < sizeof kErrnos / sizeof kErrnos[0]; ++i) {
            size_t n = strlen(kErrnos[i].name);
            if (strncmp(name, kErrnos[i].name, n) == 0 && (name[n] == ',' || name[n] == '\0'))
                return kErrnos[i].value;
        }
    }
    return 0;
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
    int error = shimmed("fallocate");
    if (error != 0) {
        errno = error;
        return -1;
    }
    int (*real)(int, int, off_t, off_t) =
        (int (*)(int, int, off_t, off_t))dlsym(RTLD_NEXT, "fallocate");
    return real(fd, mode, offset, len);
}

int renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
              unsigned int flags) {
    int error = shimmed("renameat2");
    if (error != 0) {
        errno = error;
        return -1;
    }
    int (*real)(int, const char*, int, const char*, unsigned int) =
        (int (*)(int, const char*, int, const char*, unsigned int))dlsym(RTLD_NEXT, "renameat2");
    return real(olddirfd, oldpath, newdirfd, newpath, flags);
}

int link(const char* oldpath, const char* newpath) {
    int error = shimmed("link");
    if (error != 0) {
        errno = error;
        return -1;
    }
    int (*real)(const char*, const char*) =
        (int (*)(const char*, const char*))dlsym(RTLD_NEXT, "link");
    return real(oldpath, newpath);
}

int fallocate64(int fd, int mode, off_t offset, off_t len) {
    return fallocate(fd, mode, offset, len);
}
