#!/usr/bin/env bash
# The fingerprint of a run's results, to compare two runs byte for byte: the sha256 of every array and of
# every metrics.json less its timings (every key ending in "seconds"), one line per file under OUT/experiments, sorted by path.
# Usage: Scripts/fingerprint.sh OUT
set -euo pipefail
cd "$1/experiments"
find . -name '*.npy' -o -name metrics.json | sort | while read -r f; do
    if [ "${f##*/}" = metrics.json ]; then echo "$f $(grep -v 'seconds"' "$f" | sha256sum | cut -c1-64)"
    else echo "$f $(sha256sum < "$f" | cut -c1-64)"; fi
done
