#include "core/server/log.h"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace ringtail::core {

Logger& logger() {
    static Logger instance;
    return instance;
}

Result<void, Error> Logger::open(const std::string& path, bool debug, bool trace, bool timestamps) {
    debug_ = debug;
    trace_ = trace;
    timestamps_ = timestamps;
    if (path.empty()) return {};
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fail_errno(errno, "cannot open log file " + path);
    fd_ = fd;
    return {};
}

void Logger::write(Level level, std::string_view message) {
    if (level == Level::kDebug && !debug_) return;
    if (level == Level::kTrace && !trace_) return;
    static constexpr const char* kTags[] = {"[TRC]", "[DBG]", "[INF]", "[WRN]", "[ERR]", "[FTL]"};
    char prefix[96];
    int used = std::snprintf(prefix, sizeof prefix, "[%d] ", static_cast<int>(getpid()));
    if (timestamps_) {
        timeval now{};
        gettimeofday(&now, nullptr);
        tm local{};
        localtime_r(&now.tv_sec, &local);
        used += static_cast<int>(std::strftime(prefix + used, sizeof prefix - static_cast<size_t>(used),
                                               "%Y/%m/%d %H:%M:%S", &local));
        used += std::snprintf(prefix + used, sizeof prefix - static_cast<size_t>(used), ".%06ld ",
                              static_cast<long>(now.tv_usec));
    }
    std::string line(prefix, static_cast<size_t>(used));
    line += kTags[static_cast<int>(level)];
    line += ' ';
    line += message;
    line += '\n';
    ssize_t ignored = ::write(fd_, line.data(), line.size());
    (void)ignored;
}

}  // namespace ringtail::core
