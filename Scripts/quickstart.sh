#!/usr/bin/env bash
# The main job on the embedded default: sets up, then runs Configs/quickstart.yaml on Fashion-MNIST.
# Usage: Scripts/quickstart.sh [OUT_DIR]   (default runs/quickstart)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
out="${1:-runs/quickstart}"
"$(swift build -c release --show-bin-path)/sift" imp Configs/quickstart.yaml --out "$out"
echo "quickstart: levels are in $out/level-*/ (mask-<l>.npy, weights-<l>.npy, metrics.json)"
