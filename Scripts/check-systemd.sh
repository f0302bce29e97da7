#!/usr/bin/env bash
# Checks Deploy/systemd with `systemd-analyze verify`, against a sift binary at the path the units name.
# Needs root to place the binary at /usr/local/bin/sift (it is removed afterwards if it was not there).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v systemd-analyze >/dev/null; then echo "check-systemd: skipped: systemd-analyze is not installed"; exit 0; fi
if [ "$(id -u)" -ne 0 ]; then echo "check-systemd: skipped: needs root to place /usr/local/bin/sift"; exit 0; fi
sift="${1:-$(swift build --show-bin-path)/sift}"
placed=no
if [ ! -e /usr/local/bin/sift ]; then cp "$sift" /usr/local/bin/sift; placed=yes; fi
trap '[ "$placed" = yes ] && rm -f /usr/local/bin/sift' EXIT
units=$(mktemp -d)
cp Deploy/systemd/sift-coordinator.service "$units/"
cp Deploy/systemd/sift-worker@.service "$units/sift-worker@.service"
ln -s sift-worker@.service "$units/sift-worker@1.service"
out=$(cd "$units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no sift-coordinator.service sift-worker@1.service 2>&1 || true)
rm -rf "$units"
# Only the user and the documentation page are allowed to be unknown on a build machine.
problems=$(echo "$out" | grep -v -e "^$" -e "Failed to resolve user" -e "Documentation" || true)
if [ -n "$problems" ]; then echo "$problems"; echo "check-systemd: FAILED" >&2; exit 1; fi
echo "check-systemd: sift-coordinator.service and sift-worker@.service verify cleanly"
