#include "tests/differential/scenario.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ringtail::test::differential {
namespace {

constexpr std::string_view kDefaultConnection = "c1";
constexpr uint32_t kRepeatCountMax = 10'000'000;

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::expected<uint32_t, std::string> parse_count(std::string_view text, uint32_t max) {
    uint32_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > max) {
        return std::unexpected("bad number '" + std::string(text) + "'");
    }
    return value;
}

}  // namespace

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> words;
    std::istringstream stream{std::string(text)};
    for (std::string word; stream >> word;) words.push_back(word);
    return words;
}

std::expected<std::string, std::string> decode_escapes(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 1 >= text.size()) return std::unexpected("backslash at end of line");
        char escape = text[++i];
        switch (escape) {
            case 'r':
                out.push_back('\r');
                break;
            case 'n':
                out.push_back('\n');
                break;
            case 't':
                out.push_back('\t');
                break;
            case '\\':
                out.push_back('\\');
                break;
            case 'x': {
                int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
                int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
                if (high < 0 || low < 0) return std::unexpected("\\x needs two hex digits");
                out.push_back(static_cast<char>(high * 16 + low));
                i += 2;
                break;
            }
            default:
                return std::unexpected(std::string("unknown escape \\") + escape);
        }
    }
    return out;
}

std::expected<Scenario, std::string> parse_scenario(std::string_view text, std::string name,
                                                    std::string path) {
    Scenario scenario;
    scenario.name = std::move(name);
    scenario.path = std::move(path);
    std::string connection(kDefaultConnection);
    int line_number = 0;

    auto use_connection = [&](const std::string& id) {
        if (std::find(scenario.connections.begin(), scenario.connections.end(), id) ==
            scenario.connections.end()) {
            scenario.connections.push_back(id);
        }
    };

    while (!text.empty()) {
        ++line_number;
        size_t end = text.find('\n');
        std::string_view raw = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        std::string_view line = trim(raw);
        // Editors strip trailing blanks, so bytes that matter must not depend on them.
        std::string_view untrimmed = raw.ends_with('\r') ? raw.substr(0, raw.size() - 1) : raw;
        bool trailing_blank =
            !untrimmed.empty() && (untrimmed.back() == ' ' || untrimmed.back() == '\t');
        auto fail = [&](const std::string& why) {
            return std::unexpected(scenario.path + ":" + std::to_string(line_number) + ": " + why);
        };

        if (line.empty()) continue;
        if (line.front() == '#') {
            std::string_view comment = trim(line.substr(1));
            if (comment.starts_with("args:")) {
                for (auto& word : split_words(comment.substr(5))) {
                    scenario.server_args.push_back(word);
                }
            }
            continue;
        }
        if (line.front() == '@') {
            connection = std::string(line.substr(1));
            if (connection.empty() || connection.find_first_of(" \t") != std::string::npos) {
                return fail("bad connection name");
            }
            continue;
        }

        if (trailing_blank && line.front() != '#') {
            return fail("trailing blank; write a final space as \\x20");
        }
        Step step;
        step.connection = connection;
        step.line = line_number;
        if (line.front() == '>') {
            if (line.size() < 2 || line[1] != ' ') return fail("expected '> text'");
            auto bytes = decode_escapes(line.substr(2));
            if (!bytes) return fail(bytes.error());
            step.kind = StepKind::kSend;
            step.bytes = std::move(*bytes);
        } else if (line == "< READ") {
            step.kind = StepKind::kRead;
        } else if (line.starts_with("< UNTIL ")) {
            auto bytes = decode_escapes(line.substr(8));
            if (!bytes) return fail(bytes.error());
            if (bytes->empty()) return fail("UNTIL needs text");
            step.kind = StepKind::kUntil;
            step.bytes = std::move(*bytes);
        } else if (line.starts_with("REPEAT ")) {
            std::string_view rest = line.substr(7);
            size_t space = rest.find(' ');
            if (space == std::string_view::npos) return fail("expected 'REPEAT n text'");
            auto count = parse_count(rest.substr(0, space), kRepeatCountMax);
            if (!count) return fail(count.error());
            auto bytes = decode_escapes(rest.substr(space + 1));
            if (!bytes) return fail(bytes.error());
            step.kind = StepKind::kRepeat;
            step.count = *count;
            step.bytes = std::move(*bytes);
        } else if (line.starts_with("SLEEP ")) {
            auto count = parse_count(line.substr(6), kSleepMsMax);
            if (!count) return fail(count.error());
            step.kind = StepKind::kSleep;
            step.count = *count;
        } else if (line == "CLOSE") {
            step.kind = StepKind::kClose;
        } else {
            return fail("unknown line '" + std::string(line) + "'");
        }
        if (step.kind != StepKind::kSleep && step.kind != StepKind::kRead) {
            use_connection(step.connection);
        }
        scenario.steps.push_back(std::move(step));
    }
    if (scenario.connections.empty()) return std::unexpected(scenario.path + ": no steps");
    return scenario;
}

std::expected<Scenario, std::string> load_scenario(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return std::unexpected("cannot open " + path);
    std::ostringstream contents;
    contents << file.rdbuf();
    return parse_scenario(contents.str(), std::filesystem::path(path).stem().string(), path);
}

std::vector<std::string> list_corpus(const std::string& directory) {
    std::vector<std::string> paths;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".txt") {
            paths.push_back(entry.path().string());
        }
    }
    std::sort(paths.begin(), paths.end());
    return paths;
}

}  // namespace ringtail::test::differential
