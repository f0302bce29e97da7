#!/usr/bin/env bash
# Installs what the tests need (chromium renders the HTML report), then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh --no-build chromium
swift test
