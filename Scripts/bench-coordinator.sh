#!/usr/bin/env bash
# Issue 16's simulated cluster: one real coordinator (sleep tasks whose results are written to disk as
# levels are, into a real store) against N simulated workers (DEALER sockets in 4 threads, speaking the
# real protocol) that heartbeat every second with a round-trip probe and return 15 MiB results. One JSON
# line per run, in three parts:
#   1. the workers: each N at 2 results/s for SECONDS_EACH seconds;
#   2. memory over time: 1000 workers for SOAK_SECONDS (its RSS by quarter should be flat);
#   3. the results ceiling: 200 workers at each rate of RATES results/s.
# Usage: Scripts/bench-coordinator.sh [N ...]   (default 100 300 1000 2000 3000)
# Environment: SECONDS_EACH=60 RATE=2 MIB=15 SOAK_SECONDS=600 RATES="4 8 12 16" (an empty value skips a part).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh >/dev/null
swift build -c release --product sift-testbed > /dev/null
testbed="$(swift build -c release --show-bin-path)/sift-testbed"
run() { "$testbed" bench-coordinator --threads 4 --result-mib "${MIB:-15}" "$@"; }
for workers in ${@:-100 300 1000 2000 3000}; do
    run --workers "$workers" --seconds "${SECONDS_EACH:-60}" --results-per-second "${RATE:-2}"
done
if [ -n "${SOAK_SECONDS-600}" ]; then
    run --workers 1000 --seconds "${SOAK_SECONDS-600}" --results-per-second "${RATE:-2}"
fi
for rate in ${RATES-4 8 12 16}; do
    run --workers 200 --seconds "${SECONDS_EACH:-60}" --results-per-second "$rate"
done
