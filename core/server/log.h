#pragma once

#include "base/result.h"

#include <string>
#include <string_view>

namespace ringtail::core {

// nats-server's log line format: "[pid] 2006/01/02 15:04:05.000000 [INF] message".
// Each line is written with one write(2), so lines from different shards never interleave.
class Logger {
public:
    enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kFatal };

    // `path` empty: stderr.
    [[nodiscard]] Result<void, Error> open(const std::string& path, bool debug, bool trace, bool timestamps);
    void write(Level level, std::string_view message);
    bool debug_enabled() const { return debug_; }
    bool trace_enabled() const { return trace_; }

private:
    int fd_ = 2;
    bool debug_ = false;
    bool trace_ = false;
    bool timestamps_ = true;
};

Logger& logger();
inline void log_info(std::string_view m) { logger().write(Logger::Level::kInfo, m); }
inline void log_warn(std::string_view m) { logger().write(Logger::Level::kWarn, m); }
inline void log_error(std::string_view m) { logger().write(Logger::Level::kError, m); }
inline void log_fatal(std::string_view m) { logger().write(Logger::Level::kFatal, m); }
inline void log_debug(std::string_view m) { logger().write(Logger::Level::kDebug, m); }
inline void log_trace(std::string_view m) { logger().write(Logger::Level::kTrace, m); }

}  // namespace ringtail::core
