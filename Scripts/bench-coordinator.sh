#!/usr/bin/env bash
# Issue 16's simulated cluster: one real coordinator (sleep tasks whose results are written to disk as
# levels are) against N simulated workers that heartbeat every second with a round-trip probe and send
# 15 MiB results at 2 per second over the cluster. Prints one JSON line per N.
# Usage: Scripts/bench-coordinator.sh [N ...]   (default 100 300 1000; SECONDS=60 RATE=2 MIB=15)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh >/dev/null
sift="$(swift build -c release --show-bin-path)/sift"
for n in "${@:-100 300 1000}"; do
    for workers in $n; do
        "$sift" bench coordinator --workers "$workers" --threads 4 --seconds "${SECONDS_EACH:-60}" \
            --results-per-second "${RATE:-2}" --result-mib "${MIB:-15}"
    done
done
