// The config file format (nats-conf: maps, arrays, includes, variables, units, durations)
// and the options loaded from it: anything gets a value or an error, never a crash.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/config/conf.h"
#include "proto/config/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // Includes resolve under a directory that does not exist: they fail, they do not read.
    (void)ringtail::config::parse_conf_text(text, "<fuzz>", "/nonexistent-fuzz-dir");
    ringtail::config::Options options;
    std::vector<std::string> warnings;
    (void)ringtail::config::load_config_text(text, "/nonexistent-fuzz-dir", options, warnings);
    (void)ringtail::config::parse_go_duration_ns(text.substr(0, 64));
    return 0;
}
