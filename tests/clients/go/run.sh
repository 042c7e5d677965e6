#!/usr/bin/env bash
# Runs nats.go's own tests (Core NATS, connections, authentication, JetStream, KV, the object
# store) against ringtail. The tests
# come with Debian's nats.go sources (golang-github-nats-io-go-nats-dev); they start their
# server through nats-server's Go packages, which server_shim.go and test_shim.go stand in
# for, so each test gets a ringtail of its own. Everything is built in WORK_DIR, offline, in
# GOPATH mode; the source tree stays clean.
#   tests/clients/go/run.sh WORK_DIR   (RINGTAIL_BIN names the server; GOPATH_BASE, the GOPATH
#                                       holding nats.go, defaults to /usr/share/gocode)
set -euo pipefail
source_dir="$(cd "$(dirname "$0")" && pwd)"
work_dir="$1"
gopath_base="${GOPATH_BASE:-/usr/share/gocode}"
client_tests="$gopath_base/src/github.com/nats-io/nats.go/test"
[[ -f "$client_tests/js_test.go" ]] || { echo "nats.go's tests not found in $client_tests" >&2; exit 1; }

shim="$work_dir/gopath/src/github.com/nats-io/nats-server/v2"
rm -rf "$work_dir/gopath" "$work_dir/suite" "$work_dir/suite-conn"
mkdir -p "$shim/server" "$shim/test"
cp "$source_dir/server_shim.go" "$shim/server/server.go"
cp "$source_dir/test_shim.go" "$shim/test/test.go"

# The tests ringtail passes today; those left out need what it does not have (tests.txt).
listed=$(grep -v '^#' "$source_dir/tests.txt")
# Two packages, each its own process: the connection tests leave clients reconnecting
# behind them, which the others' goroutine-leak checks would count. Each runs the listed
# tests of its first files; those after the "+" only lend it their helpers.
status=0
for suite in "suite:js kv object basic sub headers drain context json enc netchan gob auth reconnect" \
             "suite-conn:conn cluster + js kv object basic sub headers drain context json enc netchan gob auth reconnect"; do
    dir="$work_dir/${suite%%:*}"
    files="${suite#*:}"
    mkdir -p "$dir"
    cp "$client_tests/helper_test.go" "$dir/"
    for name in ${files/+/}; do cp "$client_tests/${name}_test.go" "$dir/"; done
    cp -r "$client_tests/testdata" "$dir/"
    defined=$(for name in ${files%%+*}; do sed -n 's/^func \(Test[A-Za-z0-9_]*\)(t \*testing.T).*/\1/p' "$client_tests/${name}_test.go"; done)
    tests=$(grep -Fxf <(echo "$defined") <(echo "$listed") | paste -sd '|')
    (cd "$dir" && env GO111MODULE=off GOPATH="$work_dir/gopath:$gopath_base" GOCACHE="$work_dir/go-cache" GOFLAGS= \
        go test -count=1 -timeout 600s -run "^($tests)\$" .) || status=1
done
exit $status
