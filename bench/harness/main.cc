// ringtail-bench: the load generator and checker for NATS servers. See bench/README.md.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness/compare.h"
#include "bench/harness/options.h"
#include "bench/harness/report.h"
#include "bench/harness/runner.h"
#include "bench/harness/selftest.h"

using namespace ringtail::bench;

int main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(usage_text().c_str(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    const std::string_view command = args[0];
    std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
    if (command == "compare") return run_compare(rest);
    if (command == "selftest") return run_selftest(rest);
    if (!is_scenario(command)) {
        std::fprintf(stderr, "ringtail-bench: unknown scenario or command '%s' (see --help)\n",
                     std::string(command).c_str());
        return 2;
    }
    auto options = parse_options(command, rest);
    if (!options) {
        std::fprintf(stderr, "ringtail-bench: %s\n", options.error().c_str());
        return 2;
    }
    RunResult result = run_scenario(*options);
    if (options->json) {
        std::printf("%s\n", to_json(result).dump().c_str());
    } else {
        std::fputs(format_table(result).c_str(), stdout);
    }
    switch (result.status) {
        case RunStatus::kOk:
            return 0;
        case RunStatus::kFailed:
            return 1;
        case RunStatus::kSkipped:
            return 3;
    }
    return 1;
}
