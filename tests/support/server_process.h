// Launches a real server binary (ringtail or nats-server) on a loopback port for integration and
// differential tests. Both binaries take nats-server's flags, so one launcher serves both.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <memory>
#include <string>
#include <vector>

namespace ringtail::test {

// Which server a test run drives: env RT_TEST_SERVER = "ringtail" (default) or "nats-server".
bool testing_ringtail();
// env RINGTAIL_BIN, else the compile definition RINGTAIL_BIN_DEFAULT.
std::string ringtail_binary();
// env NATS_SERVER_BIN, else "nats-server" found on PATH (then /usr/sbin, /usr/bin).
std::string nats_server_binary();

class ServerProcess {
 public:
    // Starts `binary` with `-a 127.0.0.1 -p -1 --ports_file_dir <fresh temp dir>` followed by
    // `args`, stdout+stderr captured to a temp log file; waits (<= 10 s) for the ports file
    // `<exe>_<pid>.ports` and returns nullptr on failure (with the log printed to stderr).
    static std::unique_ptr<ServerProcess> start(const std::string& binary,
                                                std::vector<std::string> args = {});
    // Same, but binds the given port (`-p port`) instead of a random one (`-p -1`).
    static std::unique_ptr<ServerProcess> start(const std::string& binary,
                                                std::vector<std::string> args, int port);
    // The server under test (ringtail or nats-server per RT_TEST_SERVER); for ringtail it puts
    // "--shards 2" in front of args.
    static std::unique_ptr<ServerProcess> start_under_test(std::vector<std::string> args = {});
    static std::unique_ptr<ServerProcess> start_under_test(std::vector<std::string> args, int port);

    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;
    ~ServerProcess();  // SIGKILL if still running, removes temp dirs

    int port() const { return port_; }
    // The monitoring port from the ports file (started with -m); 0 when there is none.
    int monitor_port() const { return monitor_port_; }
    pid_t pid() const { return pid_; }
    std::string url() const;  // "nats://127.0.0.1:PORT"
    // Sends `signal`, waits <= 10 s (then SIGKILL), returns the exit status (WEXITSTATUS, or
    // 128+signal number). Calling it again returns the same status.
    int stop(int signal = SIGTERM);
    bool running();
    std::string log() const;  // everything the server printed so far
    // A fresh path inside this server's temp dir (for config files etc.), removed with it.
    std::string temp_path(const std::string& name) const;

 private:
    ServerProcess() = default;
    static std::unique_ptr<ServerProcess> launch(const std::string& binary,
                                                 const std::vector<std::string>& args, int port);
    bool wait_for_ports_file(int timeout_ms);

    pid_t pid_ = -1;
    int port_ = 0;
    int monitor_port_ = 0;
    int exit_status_ = -1;
    bool exited_ = false;
    std::string dir_;
    std::string log_path_;
};

// A file with `text` in a fresh temp dir (for `-c` configs); both are removed by the destructor.
class TempFile {
 public:
    TempFile(const std::string& suffix, const std::string& text);
    ~TempFile();
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& path() const { return path_; }

 private:
    std::string dir_;
    std::string path_;
};

}  // namespace ringtail::test
