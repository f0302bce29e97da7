#!/usr/bin/env bash
# Installs the Debian packages Sift needs (when missing) and builds the release binary.
# Usage: Scripts/setup.sh [--no-build] [EXTRA_DEBIAN_PACKAGE …]
set -euo pipefail
cd "$(dirname "$0")/.."

build=yes
if [ "${1:-}" = "--no-build" ]; then build=no; shift; fi
packages=(libopenblas-dev zlib1g-dev libzmq3-dev libsodium-dev libsqlite3-dev dataset-fashion-mnist "$@")
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

command -v swift >/dev/null || { echo "setup: Swift 6 is not on PATH (https://swift.org/install)" >&2; exit 1; }
if [ "$build" = yes ]; then
    swift build -c release --product sift
    echo "setup: built $(swift build -c release --show-bin-path)/sift"
fi
