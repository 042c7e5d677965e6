#!/usr/bin/env bash
# 1 publisher / 1 subscriber message rate, nats-server against ringtail, alternating A B A B
# for ROUNDS rounds per size, on loopback, both servers started fresh with default options.
#   tools/bench_core.sh [ROUNDS] [COUNT] [SIZES...]     (defaults: 5 2000000 16 256)
# Needs a release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}; count=${2:-2000000}; shift $(( $# > 2 ? 2 : $# )) || true
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(16 256)
bench=build/release/bench/ringtail-bench
ringtail=build/release/core/ringtail
nats=$(command -v nats-server || echo /usr/sbin/nats-server)
dir=$(mktemp -d)
trap 'kill $np $rp 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
"$nats" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" >"$dir/nats.log" 2>&1 & np=$!
"$ringtail" -a 127.0.0.1 -p -1 --ports_file_dir "$dir" >"$dir/ringtail.log" 2>&1 & rp=$!
port_of() { for _ in $(seq 50); do f=$(ls "$dir"/$1_*.ports 2>/dev/null | head -1); [ -n "$f" ] && { grep -o ':[0-9]*"' "$f" | tr -d ':"'; return; }; sleep 0.1; done; echo "no ports file for $1" >&2; exit 1; }
nport=$(port_of "$(basename "$nats")"); rport=$(port_of ringtail)
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rate() { "$bench" pubsub --url "nats://127.0.0.1:$1" --size "$2" --count "$count" --json | sed 's/.*"msgs_per_s":\([0-9]*\).*/\1/'; }
echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "count per run: $count, rounds: $rounds, nats-server $("$nats" --version | awk '{print $NF}'), ringtail $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
printf '| size | nats-server msgs/s | ringtail msgs/s | ratio |\n|---:|---:|---:|---:|\n'
for size in "${sizes[@]}"; do
    : >"$dir/a"; : >"$dir/b"
    for _ in $(seq "$rounds"); do rate "$nport" "$size" >>"$dir/a"; rate "$rport" "$size" >>"$dir/b"; done
    a=$(median <"$dir/a"); b=$(median <"$dir/b")
    printf '| %s B | %.0f | %.0f | %.2fx |\n' "$size" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
