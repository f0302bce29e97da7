#!/usr/bin/env bash
# The main job on the embedded default: sets up, runs Configs/quickstart.yaml on Fashion-MNIST
# with local workers; `sift run` writes the report as levels land and once more at the end.
# Usage: Scripts/quickstart.sh [OUT_DIR]   (default runs/quickstart)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
out="${1:-runs/quickstart}"
sift="$(swift build -c release --show-bin-path)/sift"
"$sift" run Configs/quickstart.yaml --out "$out"
