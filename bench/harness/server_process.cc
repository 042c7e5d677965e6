#include "bench/harness/server_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ringtail::bench {

namespace fs = std::filesystem;

std::string find_executable(const std::string& name, const std::string& fallback) {
    if (name.find('/') != std::string::npos) return name;
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const std::string candidate = dir + "/" + name;
        if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return fallback;
}

Status ServerProcess::start(const Spec& spec) {
    spec_ = spec;
    std::error_code ec;
    fs::create_directories(spec.dir + "/ports", ec);
    if (ec) return std::unexpected("mkdir " + spec.dir + ": " + ec.message());
    std::vector<std::string> argv = {
        spec.executable, "-a", "127.0.0.1", "-p", "-1", "--ports_file_dir", spec.dir + "/ports"};
    if (spec.jetstream) {
        argv.insert(argv.end(), {"-js", "-sd", spec.dir + "/store"});
    }
    argv.insert(argv.end(), spec.args.begin(), spec.args.end());
    command_line_.clear();
    for (const std::string& arg : argv) command_line_ += (command_line_.empty() ? "" : " ") + arg;
    const std::string log_path = spec.dir + "/server.log";

    std::vector<char*> raw;
    for (std::string& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    pid_ = fork();
    if (pid_ < 0) return std::unexpected(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
        // Child: only async-signal-safe calls until exec.
        int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log >= 0) {
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
        }
        if (!spec.cpus.empty()) {
            cpu_set_t set;
            CPU_ZERO(&set);
            for (int cpu : spec.cpus) CPU_SET(cpu, &set);
            sched_setaffinity(0, sizeof set, &set);
        }
        execv(raw[0], raw.data());
        _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return std::unexpected(spec.label + " exited at start: " + log_tail());
        }
        for (const auto& entry : fs::directory_iterator(spec.dir + "/ports", ec)) {
            if (entry.path().extension() != ".ports") continue;
            std::ifstream in(entry.path());
            std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
            size_t at = text.find("nats://");
            if (at == std::string::npos) continue;
            size_t end = text.find('"', at);
            url_ = text.substr(at, end - at);
            return {};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    return std::unexpected(spec.label + " wrote no ports file within 10 s: " + log_tail());
}

double ServerProcess::cpu_seconds() const {
    if (pid_ <= 0) return -1;
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, utime field 14, stime field 15.
    size_t close = text.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    uint64_t utime = 0;
    uint64_t stime = 0;
    for (int number = 3; number <= 15 && fields >> field; ++number) {
        if (number == 14) utime = std::stoull(field);
        if (number == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void ServerProcess::stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 250; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

std::string ServerProcess::log_tail() const {
    std::ifstream in(spec_.dir + "/server.log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > 600) text = "..." + text.substr(text.size() - 600);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text.empty() ? "(empty log)" : text;
}

}  // namespace ringtail::bench
