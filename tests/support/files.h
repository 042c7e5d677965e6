#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace ringtail::test {

// Whether any regular file under `dir` (recursively) holds `text`, read with plain reads: what a
// reader of the raw files would find.
inline bool files_hold(const std::filesystem::path& dir, const std::string& text) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream file(entry.path(), std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        if (bytes.find(text) != std::string::npos) return true;
    }
    return false;
}

}  // namespace ringtail::test
