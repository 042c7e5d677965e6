#include "tests/support/server_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef RINGTAIL_BIN_DEFAULT
#define RINGTAIL_BIN_DEFAULT "ringtail"
#endif

namespace ringtail::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kStartTimeoutMs = 10'000;
constexpr int kStopTimeoutMs = 10'000;
constexpr int kPollIntervalMs = 10;

std::string env_or(const char* name, const std::string& fallback) {
    const char* value = std::getenv(name);
    return (value != nullptr && value[0] != '\0') ? std::string(value) : fallback;
}

bool is_executable(const std::string& path) {
    return access(path.c_str(), X_OK) == 0 && !fs::is_directory(path);
}

// Resolves a bare program name against PATH, like execvp would; names with '/' are returned as is.
std::string resolve_on_path(const std::string& name) {
    if (name.find('/') != std::string::npos) return name;
    std::stringstream path(env_or("PATH", "/usr/local/bin:/usr/bin:/bin"));
    std::string dir;
    while (std::getline(path, dir, ':')) {
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + name;
        if (is_executable(candidate)) return candidate;
    }
    return "";
}

std::string make_temp_dir(const char* prefix) {
    std::string pattern = (fs::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) {
        std::fprintf(stderr, "mkdtemp(%s): %s\n", pattern.c_str(), std::strerror(errno));
        return "";
    }
    return pattern;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Parses the first "nats://host:PORT" URL of a ports file; 0 if it is not (fully) written yet.
// The port of the first URL under `key` ("nats" or "monitoring") with `scheme` ("nats://").
int parse_ports_file(const std::string& text, std::string_view key_name = "\"nats\"",
                     std::string_view scheme = "nats://") {
    size_t key = text.find(key_name);
    if (key == std::string::npos) return 0;
    size_t url = text.find(scheme, key + key_name.size());
    if (url == std::string::npos) return 0;
    size_t end = text.find('"', url);
    if (end == std::string::npos) return 0;
    size_t colon = text.rfind(':', end);
    if (colon == std::string::npos || colon < url + scheme.size()) return 0;
    int port = 0;
    for (size_t i = colon + 1; i < end; ++i) {
        if (text[i] < '0' || text[i] > '9') return 0;
        port = port * 10 + (text[i] - '0');
        if (port > 65535) return 0;
    }
    return port;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

bool testing_ringtail() { return env_or("RT_TEST_SERVER", "ringtail") != "nats-server"; }

std::string ringtail_binary() { return env_or("RINGTAIL_BIN", RINGTAIL_BIN_DEFAULT); }

std::string nats_server_binary() {
    std::string configured = env_or("NATS_SERVER_BIN", "");
    if (!configured.empty()) return configured;
    std::string found = resolve_on_path("nats-server");
    if (!found.empty()) return found;
    for (const char* candidate : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
        if (is_executable(candidate)) return candidate;
    }
    return "nats-server";
}

std::unique_ptr<ServerProcess> ServerProcess::start(const std::string& binary,
                                                    std::vector<std::string> args) {
    return launch(binary, args, -1);
}

std::unique_ptr<ServerProcess> ServerProcess::start(const std::string& binary,
                                                    std::vector<std::string> args, int port) {
    return launch(binary, args, port);
}

std::unique_ptr<ServerProcess> ServerProcess::start_under_test(std::vector<std::string> args) {
    return start_under_test(std::move(args), -1);
}

std::unique_ptr<ServerProcess> ServerProcess::start_under_test(std::vector<std::string> args,
                                                               int port) {
    if (!testing_ringtail()) return launch(nats_server_binary(), args, port);
    args.insert(args.begin(), {"--shards", "2"});
    return launch(ringtail_binary(), args, port);
}

std::unique_ptr<ServerProcess> ServerProcess::launch(const std::string& binary,
                                                     const std::vector<std::string>& args,
                                                     int port) {
    std::unique_ptr<ServerProcess> server(new ServerProcess());
    server->dir_ = make_temp_dir("ringtail-server-");
    if (server->dir_.empty()) return nullptr;
    server->log_path_ = server->dir_ + "/server.log";
    std::string ports_dir = server->dir_ + "/ports";
    if (mkdir(ports_dir.c_str(), 0700) != 0) {
        std::fprintf(stderr, "mkdir(%s): %s\n", ports_dir.c_str(), std::strerror(errno));
        return nullptr;
    }

    std::string program = resolve_on_path(binary);
    if (program.empty() || !is_executable(program)) {
        std::fprintf(stderr, "ServerProcess: server binary '%s' not found or not executable\n",
                     binary.c_str());
        return nullptr;
    }

    // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
    std::vector<std::string> argv_text = {
        program, "-a", "127.0.0.1", "-p", std::to_string(port), "--ports_file_dir", ports_dir};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_text) argv.push_back(arg.data());
    argv.push_back(nullptr);

    int log_fd = open(server->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
        std::fprintf(stderr, "ServerProcess: open log: %s\n", std::strerror(errno));
        if (log_fd >= 0) close(log_fd);
        if (null_fd >= 0) close(null_fd);
        return nullptr;
    }
    pid_t parent = getpid();

    pid_t pid = fork();
    if (pid < 0) {
        std::fprintf(stderr, "ServerProcess: fork: %s\n", std::strerror(errno));
        close(log_fd);
        close(null_fd);
        return nullptr;
    }
    if (pid == 0) {
        // Child: the server dies with the test binary, even if the test binary is SIGKILLed.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        dup2(null_fd, STDIN_FILENO);
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        // Do not leak the test's client sockets (libnats does not set CLOEXEC) into the server.
        close_range(3, ~0U, 0);
        execv(argv[0], argv.data());
        const char message[] = "ServerProcess: execv failed\n";
        ssize_t ignored = write(STDERR_FILENO, message, sizeof(message) - 1);
        (void)ignored;
        _exit(127);
    }
    close(log_fd);
    close(null_fd);
    server->pid_ = pid;

    if (!server->wait_for_ports_file(kStartTimeoutMs)) {
        std::string command;
        for (const std::string& arg : argv_text) command += arg + " ";
        std::fprintf(stderr,
                     "ServerProcess: server did not become ready: %s\n--- log ---\n%s\n---\n",
                     command.c_str(), server->log().c_str());
        return nullptr;  // destructor kills the child and removes the temp dir
    }
    return server;
}

bool ServerProcess::wait_for_ports_file(int timeout_ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string ports_dir = dir_ + "/ports";
    while (Clock::now() < deadline) {
        std::error_code error;
        for (const auto& entry : fs::directory_iterator(ports_dir, error)) {
            if (entry.path().extension() != ".ports") continue;
            int port = parse_ports_file(read_file(entry.path().string()));
            if (port > 0) {
                port_ = port;
                monitor_port_ = parse_ports_file(read_file(entry.path().string()), "\"monitoring\"", "http://");
                return true;
            }
        }
        if (!running()) {
            std::fprintf(stderr, "ServerProcess: server exited with status %d during start\n",
                         exit_status_);
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(kPollIntervalMs));
    }
    return false;
}

bool ServerProcess::running() {
    if (exited_ || pid_ <= 0) return false;
    int status = 0;
    pid_t result = waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
        exited_ = true;
        exit_status_ = decode_status(status);
        return false;
    }
    return result == 0;
}

std::string ServerProcess::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

int ServerProcess::stop(int signal) {
    if (exited_ || pid_ <= 0) return exit_status_;
    if (!running()) return exit_status_;
    kill(pid_, signal);
    auto deadline = Clock::now() + std::chrono::milliseconds(kStopTimeoutMs);
    while (Clock::now() < deadline) {
        if (!running()) return exit_status_;
        std::this_thread::sleep_for(std::chrono::milliseconds(kPollIntervalMs));
    }
    std::fprintf(stderr, "ServerProcess: pid %d ignored signal %d for %d ms, sending SIGKILL\n",
                 static_cast<int>(pid_), signal, kStopTimeoutMs);
    kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exited_ = true;
    exit_status_ = decode_status(status);
    return exit_status_;
}

std::string ServerProcess::log() const { return log_path_.empty() ? "" : read_file(log_path_); }

std::string ServerProcess::temp_path(const std::string& name) const { return dir_ + "/" + name; }

ServerProcess::~ServerProcess() {
    if (pid_ > 0 && running()) {
        kill(pid_, SIGKILL);
        int status = 0;
        while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        exited_ = true;
    }
    if (!dir_.empty()) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
}

TempFile::TempFile(const std::string& suffix, const std::string& text) {
    dir_ = make_temp_dir("ringtail-file-");
    path_ = dir_ + "/file" + suffix;
    std::ofstream out(path_, std::ios::binary);
    out << text;
}

TempFile::~TempFile() {
    if (!dir_.empty()) {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
}

}  // namespace ringtail::test
