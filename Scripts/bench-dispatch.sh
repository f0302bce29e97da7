#!/usr/bin/env bash
# Coordinator dispatch throughput: no-op (0 ms sleep) tasks over loopback, N worker processes.
# Every task is leased, run, reported, digest-checked and committed to SQLite before it counts.
# Usage: Scripts/bench-dispatch.sh [TASKS] [WORKERS]   (defaults 5000 and 4)
set -euo pipefail
cd "$(dirname "$0")/.."
tasks="${1:-5000}" workers="${2:-4}"
Scripts/setup.sh >/dev/null
swift build -c release --product sift-testbed > /dev/null
testbed="$(swift build -c release --show-bin-path)/sift-testbed"
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
port=$((40000 + $$ % 20000))
"$testbed" coordinator --out "$work" --bind "tcp://127.0.0.1:$port" --sleep-tasks "$tasks" > "$work/coordinator.log" 2>&1 &
coordinator=$!
pids+=("$coordinator")
for _ in $(seq 1 "$workers"); do
    "$testbed" worker --connect "tcp://127.0.0.1:$port" > /dev/null 2>&1 &
    pids+=($!)
done
wait "$coordinator"
echo "dispatch: $tasks no-op tasks, $workers workers: $(grep -o '[0-9]* tasks/s from the first dispatch' "$work/coordinator.log")"
