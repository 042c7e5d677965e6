#pragma once

// A differential scenario: a short script of raw client-protocol bytes played over one or
// more TCP connections. The file format is documented in tests/differential/README.md.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace ringtail::test::differential {

// The longest `SLEEP` a scenario may ask for, in milliseconds.
inline constexpr uint32_t kSleepMsMax = 5'000;

enum class StepKind : uint8_t {
    kSend,    // `> text`: one write of `bytes` on `connection`.
    kRepeat,  // `REPEAT n text`: one write of `bytes` repeated `count` times.
    kSleep,   // `SLEEP ms`: keep reading all connections for `count` ms.
    kRead,    // `< READ`: read all connections until silence, then mark a checkpoint.
    kUntil,   // `< UNTIL text`: read until `connection` has received `bytes` once more.
    kClose,   // `CLOSE`: the client closes `connection`.
};

struct Step {
    StepKind kind = StepKind::kSend;
    std::string connection;
    std::string bytes;
    uint32_t count = 0;
    int line = 0;
};

struct Scenario {
    std::string name;
    std::string path;
    std::vector<std::string> server_args;  // From `# args: ...`, given to both servers.
    std::vector<std::string> connections;  // In order of first use.
    std::vector<Step> steps;
};

// `text` without its leading blanks and tabs and its trailing blanks, tabs and carriage return.
[[nodiscard]] std::string_view trim(std::string_view text);

// The whitespace-separated words of `text`.
[[nodiscard]] std::vector<std::string> split_words(std::string_view text);

// Decodes the escapes of a corpus text: \r \n \t \\ \xHH. Anything else after a backslash
// is an error, so that a typo does not silently change what is sent.
[[nodiscard]] std::expected<std::string, std::string> decode_escapes(std::string_view text);

// Parses one scenario. `name` is used in test names and messages.
[[nodiscard]] std::expected<Scenario, std::string> parse_scenario(std::string_view text,
                                                                  std::string name,
                                                                  std::string path);

// Reads and parses a corpus file.
[[nodiscard]] std::expected<Scenario, std::string> load_scenario(const std::string& path);

// Every `*.txt` file in `directory`, sorted by name.
[[nodiscard]] std::vector<std::string> list_corpus(const std::string& directory);

}  // namespace ringtail::test::differential
