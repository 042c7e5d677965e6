#include "tests/differential/transcript.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace ringtail::test::differential {
namespace {

// Keys whose presence is compared; ringtail may add keys of its own.
constexpr std::array<std::string_view, 11> kInfoKeysCompared = {
    "auth_required", "client_id", "client_ip", "headers",     "host",   "max_payload",
    "port",          "proto",     "server_id", "server_name", "version"};
// Keys whose values are compared too.
constexpr std::array<std::string_view, 4> kInfoValuesCompared = {"auth_required", "headers",
                                                                 "max_payload", "proto"};
constexpr std::string_view kInboxPrefix = "_INBOX.";

// `json` is the text between "INFO " and the line end. nats-server writes "INFO {...} \r\n";
// the whitespace before \r\n is not compared.
std::string normalize_info(std::string_view json) {
    while (!json.empty() && (json.back() == ' ' || json.back() == '\t')) json.remove_suffix(1);
    nlohmann::json info = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!info.is_object()) return "INFO <unparseable: " + std::string(json) + ">";
    std::string keys;
    for (std::string_view key : kInfoKeysCompared) {
        if (!info.contains(key)) continue;
        if (!keys.empty()) keys += ',';
        keys += key;
    }
    std::string values;
    for (std::string_view key : kInfoValuesCompared) {
        if (!info.contains(key)) continue;
        values += ' ';
        values += key;
        values += '=';
        values += info[std::string(key)].dump();
    }
    return "INFO <has=" + keys + values + ">";
}

bool is_token_byte(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

std::string normalize_inboxes(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    size_t at = 0;
    while (at < bytes.size()) {
        size_t found = bytes.find(kInboxPrefix, at);
        if (found == std::string_view::npos) {
            out.append(bytes.substr(at));
            break;
        }
        size_t token_first = found + kInboxPrefix.size();
        size_t token_last = token_first;
        while (token_last < bytes.size() && is_token_byte(bytes[token_last])) ++token_last;
        out.append(bytes.substr(at, token_first - at));
        if (token_last > token_first) out.append("<id>");
        at = token_last;
    }
    return out;
}

void append_escaped(std::string& out, char c) {
    switch (c) {
        case '\r':
            out += "\\r";
            return;
        case '\n':
            out += "\\n";
            return;
        case '\t':
            out += "\\t";
            return;
        case '\\':
            out += "\\\\";
            return;
        default:
            break;
    }
    auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
        out.push_back(c);
        return;
    }
    char hex[8];
    std::snprintf(hex, sizeof(hex), "\\x%02x", byte);
    out += hex;
}

// Each received line (ending in \n) becomes one output line "    |<escaped bytes>".
void render_bytes(std::string& out, std::string_view bytes, size_t line_bytes_max,
                  size_t lines_max) {
    for (size_t lines = 0; !bytes.empty(); ++lines) {
        if (lines_max != 0 && lines == lines_max) {
            size_t rest = static_cast<size_t>(std::count(bytes.begin(), bytes.end(), '\n'));
            out += "    ... (" + std::to_string(bytes.size()) + " more bytes, about " +
                   std::to_string(rest) + " lines)\n";
            return;
        }
        size_t end = bytes.find('\n');
        size_t length = end == std::string_view::npos ? bytes.size() : end + 1;
        std::string_view line = bytes.substr(0, length);
        bytes.remove_prefix(length);
        out += "    |";
        size_t shown = (line_bytes_max == 0) ? line.size() : std::min(line.size(), line_bytes_max);
        for (size_t i = 0; i < shown; ++i) append_escaped(out, line[i]);
        if (shown < line.size()) {
            out += "... (" + std::to_string(line.size() - shown) + " more bytes)";
        }
        out += '\n';
    }
}

const char* end_text(ConnectionTranscript::End end) {
    switch (end) {
        case ConnectionTranscript::End::kOpen:
            return "-- still open --";
        case ConnectionTranscript::End::kClosedByServer:
            return "-- closed by server --";
        case ConnectionTranscript::End::kClosedByClient:
            return "-- closed by client --";
        case ConnectionTranscript::End::kConnectFailed:
            return "-- connect failed --";
    }
    return "-- ? --";
}

}  // namespace

std::string normalize_bytes(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    size_t at = 0;
    while (at < bytes.size()) {
        size_t end = bytes.find('\n', at);
        size_t length = end == std::string_view::npos ? bytes.size() - at : end + 1 - at;
        std::string_view line = bytes.substr(at, length);
        at += length;
        if (line.starts_with("INFO ") && line.ends_with("\r\n")) {
            out += normalize_info(line.substr(5, line.size() - 7));
            out += "\r\n";
            continue;
        }
        out += normalize_inboxes(line);
    }
    return out;
}

std::string render(const Transcript& transcript, bool normalized, size_t line_bytes_max,
                   size_t lines_max) {
    std::string out;
    for (const ConnectionTranscript& connection : transcript.connections) {
        out += "@" + connection.name + "\n";
        size_t last = connection.end == ConnectionTranscript::End::kOpen
                          ? connection.segments.size() - 1
                          : connection.end_segment;
        for (size_t i = 0; i <= last && i < connection.segments.size(); ++i) {
            if (i > 0) out += "  -- READ --\n";
            const Segment& segment = connection.segments[i];
            render_bytes(out, normalized ? normalize_bytes(segment.bytes) : segment.bytes,
                         line_bytes_max, lines_max);
            for (const std::string& text : segment.notes) out += "  !! " + text + "\n";
        }
        out += std::string("  ") + end_text(connection.end) + "\n";
    }
    return out;
}

}  // namespace ringtail::test::differential
