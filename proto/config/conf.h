#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/config/options.h"

namespace ringtail::config {

// Where a value or key came from, so an error can point at it ("nats.conf:3:5").
// Lines and columns count from 1; a column counts bytes, a tab is one column.
struct SourcePos {
    std::string file;
    int line = 0;
    int column = 0;

    std::string to_string() const;  // "file:line:column"
};

enum class ValueKind : uint8_t { kString, kInteger, kFloat, kBool, kDatetime, kArray, kMap };

// Name of a kind as error messages use it: "string", "integer", "map", ...
[[nodiscard]] std::string_view kind_name(ValueKind kind);

struct MapEntry;

// One node of a parsed nats-conf document. A plain tagged struct rather than a std::variant:
// the tree is small, built once at startup, and this keeps the recursive types simple.
// Only the member named by `kind` is meaningful.
struct Value {
    ValueKind kind = ValueKind::kString;
    std::string text;  // kString, and kDatetime as written ("2006-01-02T15:04:05Z").
    int64_t integer = 0;
    double real = 0.0;
    bool boolean = false;
    std::vector<Value> array;
    std::vector<MapEntry> map;  // In document order; a repeated key replaces the first.
    SourcePos pos;

    // Lookup in a kMap by exact key; nullptr when absent or when this is not a map.
    [[nodiscard]] const MapEntry* find(std::string_view key) const;
};

struct MapEntry {
    std::string key;
    SourcePos key_pos;
    Value value;
    // True once `$key` was referenced: nats-server does not report such keys as unknown fields,
    // since they are variable definitions rather than settings.
    bool used_as_variable = false;
};

// Parses nats-conf text (conf/lex.go + conf/parse.go grammar; a JSON document is valid too)
// into a kMap. `file_name` only labels error positions; `base_dir` resolves `include`.
// Errors read "file:line:column: reason".
[[nodiscard]] absl::StatusOr<Value> parse_conf_text(std::string_view text,
                                                    const std::string& file_name,
                                                    const std::string& base_dir);

// Reads and parses a file; includes resolve relative to its directory.
[[nodiscard]] absl::StatusOr<Value> parse_conf_file(const std::string& path);

// Go's time.ParseDuration ("1h30m", "500ms", "-1.5s", "0"), in nanoseconds. Errors carry
// Go's text, e.g. `time: missing unit in duration "10"`.
[[nodiscard]] absl::StatusOr<int64_t> parse_go_duration_ns(std::string_view text);
// A duration as Go's time.Duration prints it ("2m0s", "1.5s", "250ms"), to the millisecond.
std::string go_duration_text(std::chrono::milliseconds value);

// Loads a config file into `opts` (nats-server's ProcessConfigFile): values it names replace
// what `opts` holds, other fields keep their values. On error `opts` is left unchanged and the
// status lists every problem found, one per line, each with its file:line:column.
// Unknown top-level keys are not errors; they are appended to `warnings` as
// `file:line:column: unknown field "foo"`.
[[nodiscard]] absl::Status load_config_file(const std::string& path, Options& opts,
                                            std::vector<std::string>& warnings);

// The same for text held in memory; positions are labelled "<string>".
[[nodiscard]] absl::Status load_config_text(std::string_view text, const std::string& base_dir,
                                            Options& opts, std::vector<std::string>& warnings);

}  // namespace ringtail::config
