#!/usr/bin/env bash
# Core pub/sub and queue with accounts and permissions on every user, Ringtail against
# nats-server. Two configurations per server, each started afresh for every run:
#   one:  authorization { users: [u] }            (every client in the global account)
#   two:  accounts { A: { users: [u] }, B: { users: [w] } }, with a subscriber in B listening
#         on the same subjects, so that routing has two subject spaces to keep apart
# Every user has allow and deny lists on publish and subscribe. JetStream scenarios (js-pub,
# js-consume, kv) run with -js on a fresh store, the global account's JetStream against account
# A's (`jetstream: enabled`). For each run it prints the rate ringtail-bench reports and the
# server's CPU time (utime+stime from /proc) per message.
#   tools/bench_accounts.sh [ROUNDS] [COUNT] [SCENARIOS...]   (defaults: 3 3000000 pubsub queue)
# More ringtail-bench flags through BENCH_FLAGS, e.g. BENCH_FLAGS="--client libnats".
# Needs a release build (cmake --preset release && cmake --build --preset release).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; count=${2:-3000000}; shift $(( $# > 2 ? 2 : $# )) || true
scenarios=("$@"); [ ${#scenarios[@]} -gt 0 ] || scenarios=(pubsub queue)
bench=build/release/bench/ringtail-bench
ringtail=build/release/core/ringtail
[ -x "$bench" ] && [ -x "$ringtail" ] || { echo "build the release preset first" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

perms='permissions: { publish: { allow: [">"], deny: ["never.>"] }, subscribe: { allow: [">"], deny: ["never.>"] } }'
cat > "$work/one.conf" <<EOF
authorization { users: [ { user: u, password: p, $perms } ] }
EOF
for js in "" "jetstream: enabled,"; do
    cat > "$work/two${js:+-js}.conf" <<EOF
accounts {
  A: { $js users: [ { user: u, password: p, $perms } ] }
  B: { users: [ { user: w, password: p, $perms } ] }
}
EOF
done
cp "$work/one.conf" "$work/one-js.conf"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run SERVER CONFIG SCENARIO: one line "server config scenario rate cpu_us_per_msg".
run() {
    local server=$1 config=$2 scenario=$3 port=$((20000 + RANDOM % 20000))
    local conf="$work/$config.conf" js=()
    case $scenario in js-*|kv)
        conf="$work/$config-js.conf"; rm -rf "$work/store"; js=(-js -sd "$work/store") ;;
    esac
    if [ "$server" = ringtail ]; then
        "$ringtail" -p "$port" --shards 2 -c "$conf" "${js[@]}" >"$work/server.log" 2>&1 &
    else
        nats-server -p "$port" -c "$conf" "${js[@]}" >"$work/server.log" 2>&1 &
    fi
    local pid=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    local listener=""
    if [ "$config" = two ]; then
        # Account B's subscriber on everything: it must get none of account A's messages.
        python3 -c '
import signal, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"CONNECT {\"verbose\":false,\"user\":\"w\",\"pass\":\"p\"}\r\nSUB > 1\r\n")
got = 0
def stop(*_):
    print(got); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
while True:
    data = s.recv(1 << 16)
    if not data: stop()
    got += data.count(b"MSG ")
' "$port" >"$work/b.count" 2>&1 &
        listener=$!
        sleep 0.3
    fi
    local before; before=$(cpu_ticks "$pid")
    # shellcheck disable=SC2086
    local out; out=$("$bench" "$scenario" --url "nats://u:p@127.0.0.1:$port" --size 128 --count "$count" --json ${BENCH_FLAGS:-})
    local after; after=$(cpu_ticks "$pid")
    [ -n "$listener" ] && kill "$listener" 2>/dev/null && wait "$listener" 2>/dev/null || true
    kill "$pid"; wait "$pid" 2>/dev/null || true
    local hz; hz=$(getconf CLK_TCK)
    python3 - "$server" "$config" "$scenario" "$out" "$before" "$after" "$hz" <<'PY'
import json, sys
server, config, scenario, out, before, after, hz = sys.argv[1:]
run = json.loads(out.strip().splitlines()[-1])
if run["status"] != "ok":
    sys.exit(f"{server} {config} {scenario}: {run['status']} {run['message']}")
headline = next(r for r in run["rates"] if r["headline"])
delivered, rate = run["received"], headline["msgs_per_s"]
cpu = (int(after) - int(before)) / int(hz)
print(f"{server:12} {config:4} {scenario:7} {rate/1e6:6.2f}M msgs/s  {cpu * 1e6 / delivered:5.2f} us/msg")
PY
    if [ "$config" = two ] && [ -s "$work/b.count" ] && [ "$(cat "$work/b.count")" != 0 ]; then
        echo "account B received $(cat "$work/b.count") of account A's messages" >&2; exit 1
    fi
}

for _ in $(seq "$rounds"); do
    for scenario in "${scenarios[@]}"; do
        for config in one two; do
            run ringtail "$config" "$scenario"
            run nats-server "$config" "$scenario"
        done
    done
done
