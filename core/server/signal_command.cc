#include "core/server/signal_command.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace ringtail::core {
namespace {

// nats-server reads <pid> as a file when one exists there, else takes it as it is.
std::string maybe_read_pid_file(const std::string& text) {
    std::ifstream file(text);
    if (!file) return text;
    std::stringstream contents;
    contents << file.rdbuf();
    return contents.str();
}

// Processes whose name is `name`, this one aside (what `pgrep` finds for nats-server).
std::vector<pid_t> processes_named(const std::string& name) {
    std::vector<pid_t> found;
    DIR* proc = opendir("/proc");
    if (proc == nullptr) return found;
    while (dirent* entry = readdir(proc)) {
        pid_t pid = 0;
        std::string_view id = entry->d_name;
        auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), pid);
        if (ec != std::errc() || end != id.data() + id.size() || pid == getpid()) continue;
        std::ifstream comm("/proc/" + std::string(id) + "/comm");
        std::string process;
        if (std::getline(comm, process) && process == name.substr(0, 15)) found.push_back(pid);
    }
    closedir(proc);
    return found;
}

}  // namespace

Result<void, Error> send_signal_command(std::string_view spec, const std::string& process_name) {
    std::string command(spec);
    std::string pid_text;
    if (size_t equals = command.find('='); equals != std::string::npos) {
        std::string rest = command.substr(equals + 1);
        command.resize(equals);
        if (size_t more = rest.find('='); more != std::string::npos) {
            return fail(Errc::kInvalid, "invalid signal parameters: [" + rest.substr(more + 1) + "]");
        }
        pid_text = maybe_read_pid_file(rest);
    }
    int signal_number = 0;
    if (command == "stop") {
        signal_number = SIGKILL;
    } else if (command == "quit") {
        signal_number = SIGINT;
    } else if (command == "term") {
        signal_number = SIGTERM;
    } else if (command == "reopen") {
        signal_number = SIGUSR1;
    } else if (command == "reload") {
        signal_number = SIGHUP;
    } else if (command == "ldm") {
        signal_number = SIGUSR2;
    }
    pid_t pid = 0;
    if (pid_text.empty()) {
        std::vector<pid_t> pids = processes_named(process_name);
        if (pids.empty()) return fail(Errc::kNotFound, "no " + process_name + " processes running");
        if (pids.size() > 1) {
            std::string text = "multiple " + process_name + " processes running:";
            for (pid_t one : pids) text += "\n" + std::to_string(one);
            return fail(Errc::kInvalid, text);
        }
        pid = pids[0];
    } else {
        auto [end, ec] = std::from_chars(pid_text.data(), pid_text.data() + pid_text.size(), pid);
        if (ec != std::errc() || end != pid_text.data() + pid_text.size()) {
            return fail(Errc::kInvalid, "invalid pid: " + pid_text);
        }
    }
    if (signal_number == 0) return fail(Errc::kInvalid, "unknown signal \"" + command + "\"");
    if (::kill(pid, signal_number) != 0) {
        std::string why = std::strerror(errno);
        if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));  // as Go
        return fail(Errc::kIo, why);
    }
    return {};
}

}  // namespace ringtail::core
