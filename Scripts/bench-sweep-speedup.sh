#!/usr/bin/env bash
# Speed-up of a real sweep with 2 local workers over 1 (target ≥ 1.8× on 2 cores): 4 chains of
# 4 levels of a small Fashion-MNIST net, run twice with `sift run`, one BLAS thread per worker.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh >/dev/null
sift="$(swift build -c release --show-bin-path)/sift"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/sweep.yaml" <<'YAML'
name: speed-up check
seeds: [0, 1]
base:
  data:
    subset: 0.5
  model:
    arch: 784-256-10
  train:
    epochs: 2
  pruning:
    preset: lth
    max_levels: 3
variants:
  natural: {}
  scrambled:
    data:
      scramble: true
YAML
seconds() { local start=$(date +%s.%N); "$sift" run "$work/sweep.yaml" --out "$work/$1" --workers "$1" > /dev/null; echo "$(date +%s.%N) - $start" | bc; }
one=$(seconds 1)
two=$(seconds 2)
echo "sweep speed-up: 1 worker ${one} s, 2 workers ${two} s, speed-up $(echo "scale=2; $one / $two" | bc)×"
