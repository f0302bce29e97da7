#!/usr/bin/env bash
# The coordinator's peak memory under floods of oversized and of maximal messages (Scripts/flood.py),
# serving the paper's architecture (Configs/paper-fashion.yaml; nothing is trained). Needs pyzmq.
# Usage: Scripts/measure-flood.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import zmq" 2>/dev/null || python3 -m pip install --quiet pyzmq
Scripts/setup.sh >/dev/null
sift="$(swift build -c release --show-bin-path)/sift"
work=$(mktemp -d)
"$sift" coordinator Configs/paper-fashion.yaml --out "$work/out" --bind tcp://127.0.0.1:0 > "$work/coordinator.log" 2>&1 &
coordinator=$!
trap 'kill "$coordinator" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/coordinator.log" && break; sleep 0.1; done
endpoint=$(grep -o 'tcp://127.0.0.1:[0-9]*' "$work/coordinator.log" | head -1)
# The part limit of this architecture: its largest layer's float32 weights plus 1 MiB.
python3 Scripts/flood.py --pid "$coordinator" --connect "$endpoint" --part-limit $((1024 * 1024 * 4 + (1 << 20)))
echo "messages dropped: $(grep -c 'dropped' "$work/coordinator.log" || true)"
