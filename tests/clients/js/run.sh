#!/usr/bin/env bash
# Runs the nats.js tests: the packages (pinned in package.json) are installed from npm into
# WORK_DIR once, beside a copy of the tests, so the source tree stays clean.
#   tests/clients/js/run.sh WORK_DIR   (RINGTAIL_BIN names the server; RT_TEST_SERVER=nats-server
#                                       runs the same tests on nats-server)
set -euo pipefail
source_dir="$(cd "$(dirname "$0")" && pwd)"
work_dir="$1"
mkdir -p "$work_dir"
cp "$source_dir"/package.json "$source_dir"/*.mjs "$work_dir"/
cd "$work_dir"
if ! npm ls --depth=0 >/dev/null 2>&1; then  # a package missing or of another version
    npm install --no-audit --no-fund --loglevel=error
fi
exec node --test ./*.test.mjs
