#include "core/server/log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

namespace ringtail::core {
namespace {

namespace fs = std::filesystem;

// syslog priorities as nats-server's logger picks them.
int priority_of(Logger::Level level) {
    switch (level) {
        case Logger::Level::kTrace:
            return LOG_NOTICE;
        case Logger::Level::kDebug:
            return LOG_DEBUG;
        case Logger::Level::kInfo:
            return LOG_NOTICE;
        case Logger::Level::kWarn:
            return LOG_WARNING;
        case Logger::Level::kError:
            return LOG_ERR;
        case Logger::Level::kFatal:
            return LOG_CRIT;
    }
    return LOG_NOTICE;
}

// 0660 as nats-server opens it (0640 under the usual umask).
int open_log_file(const std::string& path) { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0660); }

// Whether a local syslog daemon takes messages, on the sockets Go's log/syslog tries (libc's
// openlog() would start without one and drop every line).
bool local_syslog_listens() {
    for (const char* path : {"/dev/log", "/var/run/syslog", "/var/run/log"}) {
        for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
            int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
            if (fd < 0) continue;
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
            bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
            ::close(fd);
            if (connected) return true;
        }
    }
    return false;
}

int64_t file_size(int fd) {
    struct stat st{};
    return fstat(fd, &st) == 0 ? st.st_size : 0;
}

}  // namespace

Logger& logger() {
    static Logger instance;
    return instance;
}

Logger::Settings log_settings(const config::Options& options, std::string tag) {
    Logger::Settings settings;
    settings.file = options.log_file;
    settings.size_limit_bytes = options.log_size_limit_bytes;
    settings.max_files = options.log_max_files;
    settings.syslog = options.syslog;
    settings.remote_syslog = options.remote_syslog;
    settings.tag = std::move(tag);
    settings.debug = options.debug;
    settings.trace = options.trace;
    settings.timestamps = options.logtime;
    settings.utc = options.log_utc;
    return settings;
}

Result<void, Error> Logger::open(const Settings& settings) {
    tag_ = settings.tag;
    syslog_ = settings.syslog;
    remote_syslog_ = settings.remote_syslog;
    // nats-server's order: a file, else a remote syslog, else the local one, else stderr.
    if (!settings.file.empty() || (settings.remote_syslog.empty() && !settings.syslog)) {
        fd_ = ::dup(2);  // stderr's own number stays stderr whatever a reload does
        if (fd_ < 0) return fail_errno(errno, "dup(stderr)");
        ::fcntl(fd_, F_SETFD, FD_CLOEXEC);
        if (auto configured = reconfigure(settings); !configured) return configured;
    } else if (!settings.remote_syslog.empty()) {
        if (auto connected = connect_remote(settings.remote_syslog); !connected) return connected;
        sink_ = Sink::kRemote;
        (void)reconfigure(settings);
    } else {
        if (!local_syslog_listens()) return fail(Errc::kInvalid, "error connecting to syslog: \"Unix syslog delivery error\"");
        openlog(tag_.c_str(), LOG_PID, LOG_DAEMON);
        sink_ = Sink::kSyslog;
        (void)reconfigure(settings);
    }
    return {};
}

Result<void, Error> Logger::reconfigure(const Settings& settings) {
    if (settings.syslog != syslog_ || settings.remote_syslog != remote_syslog_) {
        return fail(Errc::kUnsupported, "config reload not supported for syslog or remote_syslog");
    }
    std::lock_guard lock(rotating_);
    bool to_file = sink_ == Sink::kFile || sink_ == Sink::kStderr;
    if (to_file && settings.file != file_) {
        int fd = settings.file.empty() ? ::dup(2) : open_log_file(settings.file);
        if (fd < 0) return fail_errno(errno, "cannot open log file " + settings.file);
        ::dup2(fd, fd_);
        ::close(fd);
        file_ = settings.file;
        sink_ = settings.file.empty() ? Sink::kStderr : Sink::kFile;
        file_bytes_ = settings.file.empty() ? 0 : file_size(fd_);
    }
    debug_ = settings.debug;
    trace_ = settings.trace;
    timestamps_ = settings.timestamps;
    utc_ = settings.utc;
    size_limit_bytes_ = settings.size_limit_bytes;
    max_files_ = settings.max_files;
    return {};
}

Result<void, Error> Logger::connect_remote(const std::string& url) {
    size_t scheme_end = url.find("://");
    std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
    std::string address = scheme_end == std::string::npos ? url : url.substr(scheme_end + 3);
    if (scheme == "unix") {
        int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (fd < 0 || address.size() >= sizeof addr.sun_path) return fail(Errc::kInvalid, "error connecting to syslog: " + url);
        std::memcpy(addr.sun_path, address.data(), address.size());
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            int error = errno;
            ::close(fd);
            return fail_errno(error, "error connecting to syslog " + url);
        }
        fd_ = fd;
        return {};
    }
    if (scheme != "udp" && scheme != "tcp") return fail(Errc::kInvalid, "error invalid network type: \"" + scheme + "\"");
    size_t colon = address.rfind(':');
    std::string host = colon == std::string::npos ? address : address.substr(0, colon);
    std::string port = colon == std::string::npos ? "514" : address.substr(colon + 1);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = scheme == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        return fail(Errc::kInvalid, "error connecting to syslog " + url + ": " + gai_strerror(rc));
    }
    int fd = -1;
    int error = 0;
    for (addrinfo* one = found; one != nullptr && fd < 0; one = one->ai_next) {
        fd = ::socket(one->ai_family, one->ai_socktype | SOCK_CLOEXEC, one->ai_protocol);
        if (fd >= 0 && ::connect(fd, one->ai_addr, one->ai_addrlen) != 0) {
            error = errno;
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0) return fail_errno(error, "error connecting to syslog " + url);
    fd_ = fd;
    stream_socket_ = scheme == "tcp";
    return {};
}

std::string Logger::reopen() {
    std::lock_guard lock(rotating_);
    if (sink_ != Sink::kFile) return "File log re-open ignored, not a file logger";
    int fd = open_log_file(file_);
    if (fd < 0) return "File log re-open failed: " + std::string(std::strerror(errno));
    // dup2 swaps the file behind fd_ in one step: a line being written goes to one or the other.
    ::dup2(fd, fd_);
    ::close(fd);
    file_bytes_ = file_size(fd_);
    return "File log re-opened";
}

std::string Logger::rotate() {
    std::lock_guard lock(rotating_);
    if (sink_ != Sink::kFile || file_bytes_.load() <= size_limit_bytes_.load()) return {};  // done already
    // <file>.<2006.01.02.15.04.05.999999999>, as nats-server names its backups.
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    tm local{};
    localtime_r(&now.tv_sec, &local);
    char stamp[64];
    size_t used = std::strftime(stamp, sizeof stamp, "%Y.%m.%d.%H.%M.%S", &local);
    std::snprintf(stamp + used, sizeof stamp - used, ".%09ld", static_cast<long>(now.tv_nsec));
    std::string backup = file_ + "." + stamp;
    if (::rename(file_.c_str(), backup.c_str()) != 0) {
        file_bytes_ = 0;  // keep writing where we are; try again past the limit
        return {};
    }
    int fd = open_log_file(file_);
    if (fd >= 0) {
        ::dup2(fd, fd_);
        ::close(fd);
    }
    file_bytes_ = 0;
    if (int32_t keep = max_files_.load(); keep > 0) {
        std::vector<fs::path> backups;
        std::error_code ec;
        fs::path path(file_);
        std::string prefix = path.filename().string() + ".";
        for (const auto& entry : fs::directory_iterator(path.parent_path().empty() ? "." : path.parent_path(), ec)) {
            if (entry.path().filename().string().starts_with(prefix)) backups.push_back(entry.path());
        }
        std::sort(backups.begin(), backups.end());  // the timestamps sort by age
        while (backups.size() > static_cast<size_t>(keep)) {
            fs::remove(backups.front(), ec);
            backups.erase(backups.begin());
        }
    }
    return backup;
}

void Logger::write(Level level, std::string_view message) {
    if (level == Level::kDebug && !debug_enabled()) return;
    if (level == Level::kTrace && !trace_enabled()) return;
    if (sink_ == Sink::kSyslog) {
        syslog(priority_of(level), "%.*s", static_cast<int>(message.size()), message.data());
        return;
    }
    if (sink_ == Sink::kRemote) {
        write_remote(level, message);
        return;
    }
    static constexpr const char* kTags[] = {"[TRC]", "[DBG]", "[INF]", "[WRN]", "[ERR]", "[FTL]"};
    char prefix[96];
    int used = std::snprintf(prefix, sizeof prefix, "[%d] ", static_cast<int>(getpid()));
    if (timestamps_.load(std::memory_order_relaxed)) {
        timeval now{};
        gettimeofday(&now, nullptr);
        tm local{};
        if (utc_.load(std::memory_order_relaxed)) {
            gmtime_r(&now.tv_sec, &local);
        } else {
            localtime_r(&now.tv_sec, &local);
        }
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
    int64_t limit = size_limit_bytes_.load(std::memory_order_relaxed);
    if (limit > 0 && sink_ == Sink::kFile &&
        file_bytes_.fetch_add(static_cast<int64_t>(line.size())) + static_cast<int64_t>(line.size()) > limit) {
        if (std::string backup = rotate(); !backup.empty()) write(Level::kInfo, "Rotated log, backup saved as " + backup);
    }
}

void Logger::write_remote(Level level, std::string_view message) {
    // Go's log/syslog format: "<PRI>TIMESTAMP HOSTNAME TAG[PID]: MSG\n".
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    tm local{};
    localtime_r(&now.tv_sec, &local);
    char stamp[64];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", &local);
    std::string zone(stamp + std::strlen(stamp) - 5);  // +hhmm -> +hh:mm
    std::string timestamp(stamp, std::strlen(stamp) - 5);
    timestamp += zone.substr(0, 3) + ":" + zone.substr(3);
    // The facility is 0, as nats-server's remote writer sends it.
    std::string line = "<" + std::to_string(priority_of(level)) + ">" + timestamp + " " + host + " " +
                       tag_ + "[" + std::to_string(getpid()) + "]: " + std::string(message) + "\n";
    ssize_t ignored = stream_socket_ ? ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL)
                                     : ::send(fd_, line.data(), line.size(), 0);
    (void)ignored;
}

}  // namespace ringtail::core
