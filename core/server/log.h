#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.h"
#include "proto/config/options.h"

namespace ringtail::core {

// The server's log, as nats-server writes it: to stderr, a file (-l, log_file; rotated past
// logfile_size_limit, keeping logfile_max_num backups; reopened on SIGUSR1 for logrotate),
// the local syslog (-s) or a remote one (-r udp://host:514, tcp://..., unix:///path). Lines
// read "[pid] 2006/01/02 15:04:05.000000 [INF] message" (syslog lines carry the message
// alone, at the matching priority).
// Thread-safe: shards write concurrently; each line is one write(2), so lines never
// interleave. open() runs once at start, before any other thread writes.
class Logger {
public:
    enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kFatal };

    struct Settings {
        std::string file;              // empty: not a file
        int64_t size_limit_bytes = 0;  // rotate past this (0: never)
        int32_t max_files = 0;         // backups kept after a rotation (0: all)
        bool syslog = false;
        std::string remote_syslog;
        std::string tag = "ringtail";  // the syslog tag: the executable's name
        bool debug = false;
        bool trace = false;
        bool timestamps = true;
        bool utc = false;  // logtime_utc
    };
    [[nodiscard]] Result<void, Error> open(const Settings& settings);
    // A reload: levels, timestamps and the file (a new path, or none: stderr) change from the
    // next line. A change of syslog or remote syslog is refused (they are set at start).
    [[nodiscard]] Result<void, Error> reconfigure(const Settings& settings);
    // SIGUSR1: the file is opened again at its path (logrotate moved the old one away).
    // Returns the line to log, as nats-server words it.
    std::string reopen();
    void write(Level level, std::string_view message);
    bool debug_enabled() const { return debug_.load(std::memory_order_relaxed); }
    bool trace_enabled() const { return trace_.load(std::memory_order_relaxed); }

private:
    enum class Sink : uint8_t { kStderr, kFile, kSyslog, kRemote };
    [[nodiscard]] Result<void, Error> connect_remote(const std::string& url);
    void write_remote(Level level, std::string_view message);
    // Past the size limit: the file is renamed to <file>.<timestamp> and a new one started;
    // returns the backup's name (empty if nothing was done).
    std::string rotate();

    // Where lines go. fd_ keeps its number for the process's life: a reopen, a rotation or a
    // reload puts another file behind it with dup2, so a writer never sees a closed fd.
    std::atomic<Sink> sink_{Sink::kStderr};
    int fd_ = 2;
    bool stream_socket_ = false;
    std::string tag_;
    std::atomic<bool> debug_{false};
    std::atomic<bool> trace_{false};
    std::atomic<bool> timestamps_{true};
    std::atomic<bool> utc_{false};
    std::atomic<int64_t> size_limit_bytes_{0};
    std::atomic<int32_t> max_files_{0};
    std::atomic<int64_t> file_bytes_{0};
    std::mutex rotating_;  // reopen, rotation, reload; guards file_
    std::string file_;
    bool syslog_ = false;
    std::string remote_syslog_;
};

Logger& logger();
// The logger's settings the options ask for; `tag` names the process in syslog.
Logger::Settings log_settings(const config::Options& options, std::string tag = "ringtail");
inline void log_info(std::string_view m) { logger().write(Logger::Level::kInfo, m); }
inline void log_warn(std::string_view m) { logger().write(Logger::Level::kWarn, m); }
inline void log_error(std::string_view m) { logger().write(Logger::Level::kError, m); }
inline void log_fatal(std::string_view m) { logger().write(Logger::Level::kFatal, m); }
inline void log_debug(std::string_view m) { logger().write(Logger::Level::kDebug, m); }
inline void log_trace(std::string_view m) { logger().write(Logger::Level::kTrace, m); }

}  // namespace ringtail::core
