// A stand-alone runner for the fuzz targets where libFuzzer is not available (the gcc
// sanitizer build): replays every input of the seed corpus, then mutates them (bit flips,
// random bytes, inserted protocol tokens, cut and duplicated ranges, splices) for
// RT_FUZZ_SECONDS seconds (default 10) from RT_FUZZ_SEED (default 1), so a CI run is bounded
// and repeatable. A crash (ASan, UBSan, an assert) writes the input that caused it to
// ./<target>-crash.bin first; `<target> <file>` replays it.
#include <sanitizer/common_interface_defs.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string g_name = "fuzz";
const std::vector<uint8_t>* g_current = nullptr;

void save_current() {
    if (g_current == nullptr) return;
    std::string path = g_name + "-crash.bin";
    if (FILE* out = std::fopen(path.c_str(), "wb")) {
        std::fwrite(g_current->data(), 1, g_current->size(), out);
        std::fclose(out);
        std::fprintf(stderr, "fuzz: the failing input is in %s\n", path.c_str());
    }
}

void run(const std::vector<uint8_t>& input) {
    g_current = &input;
    LLVMFuzzerTestOneInput(input.data(), input.size());
    g_current = nullptr;
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Tokens the inputs are made of, so mutations reach past the first checks.
const char* const kTokens[] = {"\r\n", " ",  "PUB ", "HPUB ", "SUB ",  "UNSUB ", "CONNECT {}", "PING",
                               "MSG ", "{",  "}",    "\"",    ":",     ",",      "[",          "]",
                               "0",    "-1", "99999999999999999999", "NATS/1.0", "include ", "$2a$"};

std::vector<uint8_t> mutate(std::vector<uint8_t> data, const std::vector<std::vector<uint8_t>>& corpus,
                            std::mt19937_64& random) {
    constexpr size_t kMaxBytes = 64 * 1024;
    int steps = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < steps; ++i) {
        size_t at = data.empty() ? 0 : random() % (data.size() + 1);
        switch (random() % 7) {
            case 0:
                if (!data.empty()) data[random() % data.size()] ^= static_cast<uint8_t>(1u << (random() % 8));
                break;
            case 1:
                if (!data.empty()) data[random() % data.size()] = static_cast<uint8_t>(random());
                break;
            case 2: {
                const char* token = kTokens[random() % std::size(kTokens)];
                data.insert(data.begin() + static_cast<long>(at), token, token + std::char_traits<char>::length(token));
                break;
            }
            case 3:
                if (at < data.size()) {
                    size_t n = std::min<size_t>(data.size() - at, 1 + random() % 16);
                    data.erase(data.begin() + static_cast<long>(at), data.begin() + static_cast<long>(at + n));
                }
                break;
            case 4:
                if (at < data.size()) {
                    size_t n = std::min<size_t>(data.size() - at, 1 + random() % 64);
                    std::vector<uint8_t> copy(data.begin() + static_cast<long>(at), data.begin() + static_cast<long>(at + n));
                    data.insert(data.begin() + static_cast<long>(random() % (data.size() + 1)), copy.begin(), copy.end());
                }
                break;
            case 5: {
                const auto& other = corpus[random() % corpus.size()];
                if (!other.empty()) {
                    size_t from = random() % other.size();
                    data.resize(at);
                    data.insert(data.end(), other.begin() + static_cast<long>(from), other.end());
                }
                break;
            }
            default:
                data.insert(data.begin() + static_cast<long>(at), static_cast<uint8_t>(random()));
                break;
        }
        if (data.size() > kMaxBytes) data.resize(kMaxBytes);
    }
    return data;
}

}  // namespace

int main(int argc, char** argv) {
    g_name = std::filesystem::path(argv[0]).filename().string();
    __sanitizer_set_death_callback(save_current);
    std::vector<std::vector<uint8_t>> corpus;
    bool replay_only = false;
    for (int i = 1; i < argc; ++i) {
        std::filesystem::path path(argv[i]);
        if (std::filesystem::is_directory(path)) {
            for (const auto& entry : std::filesystem::directory_iterator(path)) corpus.push_back(read_file(entry.path()));
        } else {
            corpus.push_back(read_file(path));
            replay_only = true;
        }
    }
    if (corpus.empty()) corpus.push_back({});
    for (const auto& input : corpus) run(input);
    if (replay_only) return 0;
    const char* seconds_text = std::getenv("RT_FUZZ_SECONDS");
    const char* seed_text = std::getenv("RT_FUZZ_SEED");
    double seconds = seconds_text != nullptr ? std::atof(seconds_text) : 10.0;
    std::mt19937_64 random(seed_text != nullptr ? std::strtoull(seed_text, nullptr, 10) : 1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    uint64_t runs = corpus.size();
    while (std::chrono::steady_clock::now() < deadline) {
        for (int batch = 0; batch < 64; ++batch, ++runs) run(mutate(corpus[random() % corpus.size()], corpus, random));
    }
    std::printf("%s: %llu inputs in %.0f s from %zu seeds, no failure\n", g_name.c_str(),
                static_cast<unsigned long long>(runs), seconds, corpus.size());
    return 0;
}
