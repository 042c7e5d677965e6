#!/usr/bin/env bash
# Core NATS side by side: ringtail-bench compare starts nats-server and Ringtail (loopback, same
# flags, fresh store directories), runs pub, pubsub, fanout, queue and reqrep at each size,
# alternating A B A B for ROUNDS rounds, and prints medians and ratios. The report (Markdown,
# SVG chart of rate against size, JSON of every run) goes to build/bench-report/.
#   tools/bench_core.sh [ROUNDS] [COUNT] [SIZES...]     (defaults: 3 2000000 16 128 1024)
# More ringtail-bench flags through BENCH_FLAGS, e.g. BENCH_FLAGS="--cpus 0 --server-cpus 1".
# Needs a release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; count=${2:-2000000}; shift $(( $# > 2 ? 2 : $# )) || true
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(16 128 1024)
bench=build/release/bench/ringtail-bench
[ -x "$bench" ] || { echo "no $bench: build the release preset first" >&2; exit 2; }
# shellcheck disable=SC2086
exec "$bench" compare --scenarios "${BENCH_SCENARIOS:-pub,pubsub,fanout,queue,reqrep}" \
    --sizes "$(IFS=,; echo "${sizes[*]}")" --rounds "$rounds" --count "$count" \
    --out build/bench-report ${BENCH_FLAGS:-}
