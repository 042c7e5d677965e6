#include "proto/headers.h"

#include <algorithm>

namespace ringtail::proto {

std::optional<std::string_view> header_value(std::string_view block, std::string_view key) {
    if (block.empty() || key.empty()) return std::nullopt;
    size_t at = block.find(key);
    // Only the first occurrence counts, and it must start a line.
    if (at == std::string_view::npos || at < 2 || block[at - 1] != '\n' || block[at - 2] != '\r') {
        return std::nullopt;
    }
    at += key.size();
    if (at >= block.size() || block[at] != ':') return std::nullopt;
    ++at;
    while (at < block.size() && block[at] == ' ') ++at;
    size_t end = block.find("\r\n", at);
    if (end == std::string_view::npos) end = block.size();
    if (end == at) return std::nullopt;
    return block.substr(at, end - at);
}

std::string build_headers(int status, std::string_view description,
                          std::span<const std::pair<std::string_view, std::string_view>> headers) {
    std::string out = "NATS/1.0";
    if (status != 0) {
        out += ' ';
        out += std::to_string(status);
        if (!description.empty()) {
            out += ' ';
            out += description;
        }
    }
    out += "\r\n";
    for (const auto& [key, value] : headers) {
        out += key;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
    return out;
}

std::string with_header(std::string_view block, std::string_view key, std::string_view value) {
    std::string out;
    if (block.empty()) {
        out = "NATS/1.0\r\n";
    } else {
        size_t line_end = block.find("\r\n");
        out.append(block.substr(0, line_end == std::string_view::npos ? block.size() : line_end + 2));
        block.remove_prefix(std::min(block.size(), out.size()));
        while (!block.empty()) {
            size_t end = block.find("\r\n");
            std::string_view line = block.substr(0, end);
            block.remove_prefix(end == std::string_view::npos ? block.size() : end + 2);
            if (line.empty() || line.substr(0, line.find(':')) == key) continue;
            out.append(line);
            out.append("\r\n");
        }
    }
    out.append(key);
    out.append(": ");
    out.append(value);
    out.append("\r\n\r\n");
    return out;
}

}  // namespace ringtail::proto
