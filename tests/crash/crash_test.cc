// Real-disk crash test of the store: a child process appends with acks to a real directory and
// is killed with SIGKILL at random moments, many times; after each kill the log is reopened
// and every acknowledged record must be there with its content, the log a gap-free prefix.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "io/direct_disk.h"
#include "store/stream_log.h"
#include "tests/crash/payload.h"

namespace ringtail::test {
namespace {

// Runs the child for `run_ms`, kills it, returns the highest seq it acknowledged.
uint64_t run_and_kill(const std::string& dir, int run_ms) {
    int pipe_fds[2];
    EXPECT_EQ(::pipe(pipe_fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pipe_fds[1], 1);
        ::close(pipe_fds[0]);
        ::execl(STORE_APPEND_CHILD, STORE_APPEND_CHILD, dir.c_str(), nullptr);
        ::_exit(127);
    }
    ::close(pipe_fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(run_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status)) << "child exited on its own with " << WEXITSTATUS(status);
    std::string output;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) output.append(buffer, static_cast<size_t>(n));
    ::close(pipe_fds[0]);
    // Only whole lines count: an ACK line cut by the kill was never fully said.
    uint64_t acked = 0;
    size_t at = 0;
    while (true) {
        size_t eol = output.find('\n', at);
        if (eol == std::string::npos) break;
        acked = std::max<uint64_t>(acked, std::strtoull(output.c_str() + at + 4, nullptr, 10));
        at = eol + 1;
    }
    return acked;
}

TEST(StoreCrash, SigkillNeverLosesAnAcknowledgedRecord) {
    std::string dir = std::filesystem::temp_directory_path() / ("ringtail-crash-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::mt19937 random(::getpid());
    uint64_t acked_max = 0;
    int rounds = 25;
    if (const char* env = std::getenv("RT_CRASH_ROUNDS")) rounds = std::atoi(env);
    for (int round = 0; round < rounds; ++round) {
        uint64_t acked = run_and_kill(dir, 20 + static_cast<int>(random() % 200));
        acked_max = std::max(acked_max, acked);
        io::StandaloneDisk standalone;
        ASSERT_TRUE(standalone.init());
        io::DirectDisk& disk = standalone.disk();
        store::StreamLogOptions options;
        options.dir = dir;
        options.segment_bytes = 1 << 20;
        options.flush_bytes_max = 64 << 10;
        options.tail_bytes_max = 256 << 10;
        store::RecoveryReport report;
        auto log = store::StreamLog::open(disk, options, &report);
        ASSERT_TRUE(log) << report.detail;
        ASSERT_GE((*log)->last_seq(), acked_max) << "round " << round << ": " << report.detail;
        for (uint64_t seq = (*log)->first_seq(); seq <= (*log)->last_seq(); ++seq) {
            auto record = (*log)->load(seq);
            ASSERT_TRUE(record) << "round " << round << " seq " << seq;
            ASSERT_EQ(record->payload, payload_for(seq)) << "round " << round << " seq " << seq;
        }
        // The next child continues from whatever survived; acks beyond it were never given.
        acked_max = (*log)->last_seq();
    }
    EXPECT_GT(acked_max, 0u);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ringtail::test
