#!/usr/bin/env bash
# Installs Ringtail's build and test dependencies from Debian's packages (Debian 12).
set -euo pipefail
packages=(
    build-essential cmake ninja-build pkg-config
    liburing-dev libmimalloc-dev libxxhash-dev libabsl-dev nlohmann-json3-dev libcrypt-dev libcpp-httplib-dev libsodium-dev
    libgtest-dev libbenchmark-dev libnats-dev nats-server golang-go golang-github-nats-io-go-nats-dev
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the tests through nats.js (tests/clients/js/); a node that is already there
# (with its own npm) is used as it is.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
fi
