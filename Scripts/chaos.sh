#!/usr/bin/env bash
# Breaks a sweep on purpose and checks that nothing is lost: 3 experiments x 2 seeds of Fashion-MNIST
# (one diverging on purpose, lr 1e6), served by a coordinator to three healthy workers and one whose data
# folder is truncated. Over the first 30 s a healthy worker is SIGKILLed every 3 s and restarted, and the
# coordinator is SIGKILLed twice and restarted. Then a `sift run` of the same sweep into a 3 MB tmpfs must
# stop with the disk error, and resume from a copy on a real disk.
#
# Checks: every chain's files are byte-identical to a clean `sift run --workers 1`; the diverged chain is
# shown; no level failed and none was recorded twice; the truncated-data worker was set aside and named;
# every exit status is the documented one. Needs dataset-fashion-mnist; the tmpfs part needs root.
# Usage: Scripts/chaos.sh [SIFT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
sift="$(realpath "${1:-$(swift build --show-bin-path)/sift}")"
[ -x "$sift" ] || { echo "chaos: no sift binary at $sift; run swift build first" >&2; exit 1; }
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "chaos: skipped: $data missing (apt-get install dataset-fashion-mnist)"; exit 0; }
work=$(mktemp -d /tmp/sift-chaos.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    mountpoint -q "$work/tmpfs" 2>/dev/null && umount "$work/tmpfs"
    [ -n "${CHAOS_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "chaos: FAILED: $*"; exit 1; }
started=$(date +%s)

cat > "$work/chaos.yaml" <<'EOF'
name: chaos
seeds: [0, 1]
base:
  data: {subset: 0.05}
  model: {arch: 784-16-10}
  train: {epochs: 1}
  pruning: {preset: lth, max_levels: 3}
variants:
  natural: {}
  scrambled: {data: {scramble: true}}
  diverging: {train: {lr: 1.0e6}}
EOF

fingerprint() { Scripts/fingerprint.sh "$1"; }   # every array and metrics.json, timing left out

echo "chaos: reference: clean sift run --workers 1"
"$sift" run "$work/chaos.yaml" --out "$work/reference" --workers 1 > "$work/reference.log" 2>&1 \
    || fail "the clean run exited $? ($(tail -3 "$work/reference.log"))"
grep -q "DIVERGED" "$work/reference.log" || fail "the clean run does not show the diverged chain"

# A worker host whose copy of the data lost its tail.
mkdir "$work/bad-data"
for f in "$data"/*; do head -c 5000 "$f" > "$work/bad-data/$(basename "$f")"; done

port=$((21000 + $$ % 20000))
endpoint="tcp://127.0.0.1:$port"
coordinator() {
    "$sift" coordinator "$work/chaos.yaml" --out "$work/chaos" --bind "$endpoint" --heartbeat 0.5 --liveness 4 \
        >> "$work/coordinator-$1.log" 2>&1 &
    coordinator_pid=$!
    pids+=("$coordinator_pid")
}
worker() {  # slot, then any environment for it
    local slot=$1; shift
    env "$@" "$sift" worker --connect "$endpoint" --heartbeat 0.5 --liveness 4 >> "$work/worker-$slot.log" 2>&1 &
    worker_pid[$slot]=$!
    pids+=("${worker_pid[$slot]}")
}
declare -A worker_pid
coordinator 1
for slot in 1 2 3; do worker "$slot"; done
worker bad SIFT_FASHION_MNIST="$work/bad-data"

echo "chaos: 30 s of SIGKILLs: a healthy worker every 3 s, the coordinator at 9 s and 21 s"
kills=0
for tick in $(seq 1 10); do
    sleep 3
    kill -0 "$coordinator_pid" 2>/dev/null || break
    slot=$((RANDOM % 3 + 1))
    kill -9 "${worker_pid[$slot]}" 2>/dev/null && kills=$((kills + 1))
    wait "${worker_pid[$slot]}" 2>/dev/null || true
    worker "$slot"
    if [ "$tick" = 3 ] || [ "$tick" = 7 ]; then
        kill -9 "$coordinator_pid"
        wait "$coordinator_pid" 2>/dev/null && fail "a SIGKILLed coordinator exited 0" || true
        coordinator "$tick"
    fi
done
echo "chaos: $kills worker kills; waiting for the sweep to settle"
for _ in $(seq 1 600); do kill -0 "$coordinator_pid" 2>/dev/null || break; sleep 0.5; done
kill -0 "$coordinator_pid" 2>/dev/null && fail "the coordinator did not settle the sweep in 5 minutes"
status=0; wait "$coordinator_pid" || status=$?
final=$(ls -t "$work"/coordinator-*.log | head -1)
[ "$status" = 0 ] || fail "the coordinator exited $status, documented 0 for a sweep whose chains all finished or diverged ($(tail -5 "$final"))"
[ "$kills" -ge 9 ] || fail "only $kills worker kills"
for slot in 1 2 3 bad; do
    s=0; wait "${worker_pid[$slot]}" || s=$?
    [ "$s" = 0 ] || fail "worker $slot exited $s after the sweep completed, documented 0 ($(tail -2 "$work/worker-$slot.log"))"
done

"$sift" status "$work/chaos" > "$work/status.txt"
grep -q "diverged chains" "$work/status.txt" || fail "sift status does not show the diverged chain"
grep -q " 0 failed" "$work/status.txt" || fail "a level failed: $(cat "$work/status.txt")"
grep -q " 0 skipped" "$work/status.txt" || fail "a level was skipped: $(cat "$work/status.txt")"
cat "$work"/coordinator-*.log > "$work/coordinators.log"
grep -q "set aside" "$work/coordinators.log" || fail "the truncated-data worker was never set aside"
grep "set aside" "$work/coordinators.log" | grep -q "bad-data" || fail "the set-aside note does not name the bad data"
twice=$(grep -o 'recorded [^ ]*/level-[0-9]* (attempt' "$work/coordinators.log" | sort | uniq -d)
[ -z "$twice" ] || fail "recorded twice: $twice"
diff <(fingerprint "$work/reference") <(fingerprint "$work/chaos") > "$work/diff.txt" \
    || fail "files differ from the clean run: $(head -5 "$work/diff.txt")"
echo "chaos: sweep survived $kills worker kills and 2 coordinator kills; $(wc -l < <(fingerprint "$work/chaos")) files identical to the clean run"

if [ "$(id -u)" -ne 0 ]; then
    echo "chaos: full-disk part skipped: mounting a tmpfs needs root"
else
    echo "chaos: sift run into a 3 MB tmpfs"
    mkdir "$work/tmpfs"
    mount -t tmpfs -o size=3m tmpfs "$work/tmpfs"
    status=0
    timeout 300 "$sift" run "$work/chaos.yaml" --out "$work/tmpfs/out" --workers 2 > "$work/full.log" 2>&1 || status=$?
    [ "$status" = 124 ] && fail "sift run hung on a full disk"
    [ "$status" = 1 ] || fail "sift run on a full disk exited $status, documented 1 ($(tail -3 "$work/full.log"))"
    grep -q "No space left on device" "$work/full.log" || fail "the disk error is not shown: $(tail -3 "$work/full.log")"
    pgrep -f "$work/tmpfs" > /dev/null && fail "processes outlived sift run"
    cp -a "$work/tmpfs/out" "$work/resumed"
    umount "$work/tmpfs"
    "$sift" run "$work/chaos.yaml" --out "$work/resumed" --workers 2 > "$work/resumed.log" 2>&1 \
        || fail "the resumed run exited $? ($(tail -3 "$work/resumed.log"))"
    diff <(fingerprint "$work/reference") <(fingerprint "$work/resumed") > "$work/diff.txt" \
        || fail "resumed files differ from the clean run: $(head -5 "$work/diff.txt")"
    echo "chaos: the full disk stopped sift run with its error; a copy on a real disk resumed to identical files"
fi
echo "chaos: passed in $(( $(date +%s) - started )) s"
