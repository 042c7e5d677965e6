// Differential tests of the core client protocol: every scenario of the corpus is played
// against nats-server ("A", the reference) and the server under test ("B", ringtail by
// default), and what the clients receive must be the same after normalize_bytes().
//
// Environment:
//   RT_DIFF_B=ringtail|nats-server|<path>  server B (default: ringtail, or nats-server when
//                                           RT_TEST_SERVER=nats-server). ringtail gets
//                                           `--shards 2`.
//   RT_DIFF_DUMP_DIR=<dir>                  write both normalized transcripts of every
//                                           scenario to <dir>/<name>.{a,b}.txt.
//   RT_DIFF_SHOW=1                          print transcripts even when they match.
//   RT_DIFF_SETTLE_MS=<ms>                  silence that ends a read window (default 300).

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "tests/differential/player.h"
#include "tests/differential/scenario.h"
#include "tests/differential/servers.h"
#include "tests/differential/transcript.h"
#include "tests/support/server_process.h"

#ifndef RT_DIFF_CORPUS_DIR
#error "RT_DIFF_CORPUS_DIR must name the corpus directory"
#endif

namespace ringtail::test::differential {
namespace {

constexpr size_t kCorpusScenariosMin = 120;
constexpr size_t kDisplayLineBytesMax = 600;
constexpr size_t kDisplayLinesMax = 120;

PlayOptions play_options() {
    PlayOptions options;
    std::string settle = env_text("RT_DIFF_SETTLE_MS");
    if (!settle.empty())
        options.settle_quiet = std::chrono::milliseconds(std::atoi(settle.c_str()));
    return options;
}

// First line where the two texts differ, 1-based; 0 if equal.
size_t first_different_line(const std::string& a, const std::string& b) {
    size_t line = 1;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        if (a[i] != b[i]) return line;
        if (a[i] == '\n') ++line;
    }
    return a.size() == b.size() ? 0 : line;
}

// Line `number` (1-based) of `text`, or "<none>".
std::string line_at(const std::string& text, size_t number) {
    size_t first = 0;
    for (size_t i = 1; i < number; ++i) {
        first = text.find('\n', first);
        if (first == std::string::npos) return "<none>";
        ++first;
    }
    if (first >= text.size()) return "<none>";
    return text.substr(first, text.find('\n', first) - first).substr(0, kDisplayLineBytesMax);
}

std::string test_name(const std::string& path) {
    std::string name = std::filesystem::path(path).stem().string();
    for (char& c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
    }
    return name;
}

class DifferentialCore : public ::testing::TestWithParam<std::string> {};

TEST_P(DifferentialCore, SameTranscript) {
    auto scenario = load_scenario(GetParam());
    ASSERT_TRUE(scenario.has_value()) << scenario.error();

    ServerSpec spec_a = server_a();
    ServerSpec spec_b = server_b();
    auto start = [&](const ServerSpec& spec) {
        std::vector<std::string> args = spec.leading_args;
        args.insert(args.end(), scenario->server_args.begin(), scenario->server_args.end());
        return ServerProcess::start(spec.binary, args);
    };
    // Started from this thread, not in parallel: the launcher sets PR_SET_PDEATHSIG, which
    // fires when the *thread* that forked exits, so a server forked by a helper thread dies
    // with that thread.
    std::unique_ptr<ServerProcess> process_a = start(spec_a);
    std::unique_ptr<ServerProcess> process_b = start(spec_b);
    ASSERT_NE(process_a, nullptr) << "could not start " << spec_a.binary;
    ASSERT_NE(process_b, nullptr) << "could not start " << spec_b.label << " (" << spec_b.binary
                                  << "); set RINGTAIL_BIN, or RT_DIFF_B=nats-server";

    PlayOptions options = play_options();
    Transcript transcript_a;
    Transcript transcript_b;
    std::thread player_a([&] { transcript_a = play(*scenario, process_a->port(), options); });
    std::thread player_b([&] { transcript_b = play(*scenario, process_b->port(), options); });
    player_a.join();
    player_b.join();

    bool alive_a = process_a->running();
    bool alive_b = process_b->running();
    process_a->stop();
    process_b->stop();
    EXPECT_TRUE(alive_a) << "nats-server died during " << scenario->path << "\n"
                         << log_tail(process_a->log());
    EXPECT_TRUE(alive_b) << spec_b.label << " died during " << scenario->path << "\n"
                         << log_tail(process_b->log());

    std::string normalized_a = render(transcript_a, /*normalized=*/true);
    std::string normalized_b = render(transcript_b, /*normalized=*/true);

    std::string dump_dir = env_text("RT_DIFF_DUMP_DIR");
    if (!dump_dir.empty()) {
        std::filesystem::create_directories(dump_dir);
        std::ofstream(dump_dir + "/" + scenario->name + ".a.txt") << normalized_a;
        std::ofstream(dump_dir + "/" + scenario->name + ".b.txt") << normalized_b;
    }

    size_t line = first_different_line(normalized_a, normalized_b);
    if (line != 0 || !env_text("RT_DIFF_SHOW").empty()) {
        std::string shown_a = render(transcript_a, true, kDisplayLineBytesMax, kDisplayLinesMax);
        std::string shown_b = render(transcript_b, true, kDisplayLineBytesMax, kDisplayLinesMax);
        std::printf("=== %s\n=== A: %s\n%s=== B: %s\n%s", scenario->path.c_str(),
                    spec_a.label.c_str(), shown_a.c_str(), spec_b.label.c_str(), shown_b.c_str());
    }
    EXPECT_EQ(line, 0u) << scenario->path << ": transcripts differ from line " << line
                        << " of the normalized transcripts (printed above).\n"
                        << "A: " << line_at(normalized_a, line) << "\n"
                        << "B: " << line_at(normalized_b, line) << "\n"
                        << "B raw:\n"
                        << render(transcript_b, false, kDisplayLineBytesMax, kDisplayLinesMax)
                        << "B log tail:\n"
                        << log_tail(process_b->log());
}

INSTANTIATE_TEST_SUITE_P(Corpus, DifferentialCore,
                         ::testing::ValuesIn(list_corpus(RT_DIFF_CORPUS_DIR)),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                             return test_name(param_info.param);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DifferentialCore);

// Every corpus file parses, and the corpus has not lost files.
TEST(DifferentialCorpus, AllScenariosParse) {
    std::vector<std::string> paths = list_corpus(RT_DIFF_CORPUS_DIR);
    EXPECT_GE(paths.size(), kCorpusScenariosMin) << "corpus at " << RT_DIFF_CORPUS_DIR;
    for (const std::string& path : paths) {
        auto scenario = load_scenario(path);
        EXPECT_TRUE(scenario.has_value()) << scenario.error();
    }
}

TEST(DifferentialCorpus, EscapesDecode) {
    EXPECT_EQ(decode_escapes("PUB a 2\\r\\nhi\\r\\n").value(), "PUB a 2\r\nhi\r\n");
    EXPECT_EQ(decode_escapes("\\x00\\xff\\t\\\\").value(), std::string("\0\xff\t\\", 4));
    EXPECT_FALSE(decode_escapes("\\q").has_value());
    EXPECT_FALSE(decode_escapes("\\x4").has_value());
    EXPECT_FALSE(decode_escapes("end\\").has_value());
}

TEST(DifferentialCorpus, ParsesEveryLineKind) {
    auto scenario = parse_scenario(
        "# What it checks.\n# args: --user u --pass p\n> PING\\r\\n\n@c2\nREPEAT 3 ab\n"
        "SLEEP 20\n< UNTIL PONG\\r\\n\n< READ\nCLOSE\n",
        "inline", "inline.txt");
    ASSERT_TRUE(scenario.has_value()) << scenario.error();
    EXPECT_EQ(scenario->server_args, (std::vector<std::string>{"--user", "u", "--pass", "p"}));
    EXPECT_EQ(scenario->connections, (std::vector<std::string>{"c1", "c2"}));
    ASSERT_EQ(scenario->steps.size(), 6u);
    EXPECT_EQ(scenario->steps[0].bytes, "PING\r\n");
    EXPECT_EQ(scenario->steps[1].kind, StepKind::kRepeat);
    EXPECT_EQ(scenario->steps[1].count, 3u);
    EXPECT_EQ(scenario->steps[1].connection, "c2");
    EXPECT_EQ(scenario->steps[3].kind, StepKind::kUntil);
    EXPECT_EQ(scenario->steps[5].kind, StepKind::kClose);
    EXPECT_FALSE(parse_scenario("> SUB \n", "x", "x.txt").has_value());  // trailing blank
    EXPECT_FALSE(parse_scenario("SEND foo\n", "x", "x.txt").has_value());
    EXPECT_FALSE(parse_scenario("# only a comment\n", "x", "x.txt").has_value());
}

TEST(DifferentialCorpus, NormalizeKeepsAllButIds) {
    std::string info_a =
        "INFO {\"server_id\":\"NAAA\",\"version\":\"2.9.10\",\"proto\":1,\"port\":1234,"
        "\"headers\":true,\"max_payload\":1048576,\"client_id\":4} \r\n";
    std::string info_b =
        "INFO {\"server_id\":\"NBBB\",\"version\":\"2.9.10\",\"proto\":1,\"port\":999,"
        "\"headers\":true,\"max_payload\":1048576,\"client_id\":7,\"extra\":1}\r\n";
    EXPECT_EQ(normalize_bytes(info_a + "PONG\r\n"), normalize_bytes(info_b + "PONG\r\n"));
    EXPECT_NE(normalize_bytes(info_a), normalize_bytes("INFO {\"proto\":1}\r\n"));
    EXPECT_EQ(normalize_bytes("MSG _INBOX.abc123 1 0\r\n\r\n"),
              normalize_bytes("MSG _INBOX.zz9 1 0\r\n\r\n"));
    EXPECT_NE(normalize_bytes("+OK\r\n"), normalize_bytes("+OK\n"));
}

}  // namespace
}  // namespace ringtail::test::differential
