#!/usr/bin/env bash
# The whole test suite, as CI runs it: dependencies, layering check, unit tests under
# ASan+UBSan, then the release build with unit, integration and differential tests.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

tools/install-deps.sh

echo "== layering: proto/, store/ and base/ must not include io/ or core/"
if grep -rnE '#include "(io|core)/' base proto store 2>/dev/null; then
    echo "layering violation" >&2
    exit 1
fi

echo "== debug (ASan+UBSan): unit tests, the simulations and a bounded fuzz run"
cmake --preset debug >/dev/null
# Only what the labels below run: the integration tests and binaries are built in release.
cmake --build --preset debug -j "$jobs" --target base_test proto_test config_test io_test core_test \
    store_test bench_test store_sim routing_sim parser_fuzz headers_fuzz config_fuzz js_api_fuzz recovery_fuzz
ctest --preset debug -L '^(base|proto|io|core|store|sim|bench|fuzz)$' -j "$jobs"

echo "== release: every test"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
# One test per core: the integration tests wait for what they expect rather than time it,
# so they pass beside each other, and the whole run stays inside CI's half hour.
ctest --preset release -j "$jobs"
