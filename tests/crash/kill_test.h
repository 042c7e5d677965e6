#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <system_error>

#include "tests/support/server_process.h"

namespace ringtail::test {

// What the SIGKILL tests share: a seed that RT_SEED replays (printed at the start), a fresh
// store directory kept when the test fails (so the files that broke it can be read), and the
// server under test started with JetStream on it.
class KillTest : public ::testing::Test {
 protected:
    // `name` prefixes what the test prints and names its store directory.
    explicit KillTest(std::string name) : name_(std::move(name)) {}

    void SetUp() override {
        if (const char* text = std::getenv("RT_SEED"); text != nullptr && text[0] != '\0') {
            seed_ = std::strtoull(text, nullptr, 10);
        } else {
            seed_ = std::random_device{}() ^
                    static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        }
        std::printf("%s: RT_SEED=%llu replays this run\n", name_.c_str(), static_cast<unsigned long long>(seed_));
        std::string pattern = (std::filesystem::temp_directory_path() / ("ringtail-" + name_ + "-XXXXXX")).string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        store_dir_ = pattern;
    }

    void TearDown() override {
        std::error_code ignored;
        if (HasFailure() && !std::filesystem::is_empty(store_dir_, ignored)) {
            std::printf("%s: keeping the store at %s (seed %llu)\n", name_.c_str(), store_dir_.c_str(),
                        static_cast<unsigned long long>(seed_));
            return;
        }
        std::filesystem::remove_all(store_dir_, ignored);
    }

    std::unique_ptr<ServerProcess> start() { return ServerProcess::start_under_test({"-js", "-sd", store_dir_}); }

    const std::string name_;
    uint64_t seed_ = 0;
    std::string store_dir_;
};

}  // namespace ringtail::test
