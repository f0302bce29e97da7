#!/usr/bin/env bash
# Acceptance check: a dense 784-300-100-10 reaches at least 88 % test accuracy on Fashion-MNIST
# within 10 epochs (Configs/fashion-dense.yaml). Prints the figure; exits 1 below the bar.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$(swift build -c release --show-bin-path)/sift" imp Configs/fashion-dense.yaml --out "$out"
python3 - "$out/level-0/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"dense 784-300-100-10, {m['steps']} steps: test accuracy {m['test_accuracy']:.4f} (best {m['best_test_accuracy']:.4f})")
sys.exit(0 if m["test_accuracy"] >= 0.88 else 1)
PY
