#!/usr/bin/env bash
# Replays, end to end, the six ways issue 31 found to make a sweep silently wrong or to take a machine down,
# and checks that each now fails safe (Scripts/hostile.py writes the peers and the files):
#   1. a peer leased level 1 sends the true files plus a forged rewind point: refused, rewind/ untouched;
#   2. peers that answer every lease with FAILURE "task", or with a 1,000-frame RESULT: no level fails on one
#      host's word, the peers are set aside, the sweep ends byte-identical to a clean run;
#   3. 200,000 one-byte messages: a few log lines, not megabytes;
#   4. a 2 MB gzip and a 2 MB .npz that inflate to 2 GB: stopped at their headers' length, in little memory;
#   5. a finished level deleted, all of experiments/ deleted, and an input deleted while its successor waits:
#      each computed again, to the same bytes, and said so;
#   6. numbers without bounds (100,000 workers, 10^9 levels, 2^63 epochs, a million seeds, 50 MB of YAML,
#      max_experiments 10^8, an empty file): each refused at once, naming the key or option and its limit.
# Needs dataset-fashion-mnist and pip (for pyzmq). Usage: Scripts/hostile.sh [SIFT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
sift="$(realpath "${1:-$(swift build --show-bin-path)/sift}")"
[ -x "$sift" ] || { echo "hostile: no sift binary at $sift; run swift build first" >&2; exit 1; }
# Sleep tasks are served and run by the test bed, built beside sift.
testbed="$(dirname "$sift")/sift-testbed"
data=/usr/share/datasets/fashion-mnist
[ -d "$data" ] || { echo "hostile: skipped: $data missing (apt-get install dataset-fashion-mnist)"; exit 0; }
python3 -c 'import zmq' 2>/dev/null || python3 -m pip install -q pyzmq 2>&1 | grep -v "as the 'root' user" || true
python3 -c 'import zmq' || { echo "hostile: FAILED: pyzmq could not be installed"; exit 1; }
peer="python3 $PWD/Scripts/hostile.py"
work=$(mktemp -d /tmp/sift-hostile.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    [ -n "${HOSTILE_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "hostile: FAILED: $*"; exit 1; }
started=$(date +%s)

cat > "$work/sweep.yaml" <<'EOF'
name: hostile
seeds: [0, 1]
data: {subset: 0.05}
model: {arch: 784-16-10}
train: {epochs: 1}
pruning: {preset: lth, max_levels: 2}
EOF

hostile_peer() {  # log, then hostile.py's arguments: runs in the background until killed at the end, unreported
    local log=$1; shift
    $peer "$@" > "$log" 2>&1 &
    pids+=($!)
    disown $!
}
fingerprint() { Scripts/fingerprint.sh "$1"; }   # every array and metrics.json, timing left out
same_as_reference() {  # folder, what
    diff <(fingerprint "$work/reference") <(fingerprint "$1") > "$work/diff.txt" \
        || fail "$2: files differ from the clean run: $(head -3 "$work/diff.txt")"
}
wait_for() {  # file, text, seconds
    for _ in $(seq 1 $(($3 * 10))); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    fail "waited $3 s for '$2' in $1 ($(tail -3 "$1"))"
}
coordinator() {  # out folder, log, then what it serves (default: the sweep)
    local out=$1 log=$2; shift 2
    [ $# -gt 0 ] || set -- "$work/sweep.yaml"
    local binary=$sift
    [ "$1" != --sleep-tasks ] || binary=$testbed
    "$binary" coordinator "$@" --out "$out" --bind tcp://127.0.0.1:0 --heartbeat 0.5 --liveness 4 > "$log" 2>&1 &
    coordinator_pid=$!
    pids+=("$coordinator_pid")
    wait_for "$log" "serving on tcp://" 30
    endpoint=$(grep -o 'serving on tcp://[0-9.:]*' "$log" | head -1 | cut -d' ' -f3)
    build=$(grep -o 'as build [^ ]*' "$log" | head -1 | cut -d' ' -f3)
}
settle() {  # log: waits for the coordinator, which must exit 0
    for _ in $(seq 1 1200); do kill -0 "$coordinator_pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$coordinator_pid" 2>/dev/null && fail "the coordinator did not settle the sweep in 2 minutes ($(tail -3 "$1"))"
    local status=0; wait "$coordinator_pid" || status=$?
    [ "$status" = 0 ] || fail "the coordinator exited $status ($(tail -5 "$1"))"
}

echo "hostile: reference: clean sift run --workers 1"
"$sift" run "$work/sweep.yaml" --out "$work/reference" --workers 1 > "$work/reference.log" 2>&1 \
    || fail "the clean run exited $? ($(tail -3 "$work/reference.log"))"

echo "hostile: 1-2. a forger and a liar against one coordinator"
log="$work/attacked.log"
coordinator "$work/attacked" "$log"
hostile_peer "$work/forger.log" peer forge-rewind --connect "$endpoint" --build "$build" --host forger --reference "$work/reference"
wait_for "$log" "only level 0 makes the rewind point" 60
rewind_before=$(cat "$work/attacked"/experiments/*/seed-*/rewind/*.npy | sha256sum)
hostile_peer "$work/liar.log" peer fail-all --connect "$endpoint" --build "$build" --host liar
wait_for "$log" "one host's word so far: back to the queue for another host" 60
"$sift" worker --connect "$endpoint" --heartbeat 0.5 --liveness 4 > "$work/worker.log" 2>&1 &
pids+=($!)
settle "$log"
same_as_reference "$work/attacked" "after the forger and the liar"
[ "$(cat "$work/attacked"/experiments/*/seed-*/rewind/*.npy | sha256sum)" = "$rewind_before" ] || fail "rewind/ changed"
for who in forger liar; do grep -q "worker $who:[0-9]* set aside" "$log" || fail "$who was never set aside"; done
echo "hostile: the forged rewind point was refused and its sender set aside; no level failed on the liar's word"

echo "hostile: 2-3. an oversized sender beside an honest worker, and a flood of 200,000 one-byte messages"
# Test tasks that take 3 s each, so that the honest worker holds one while the oversized sender takes another.
log="$work/flooded.log"
coordinator "$work/flooded" "$log" --sleep-tasks 4 --sleep-ms 3000
"$testbed" worker --connect "$endpoint" --heartbeat 0.5 --liveness 4 > "$work/worker-flooded.log" 2>&1 &
pids+=($!)
wait_for "$log" "worker $(hostname):$! ready" 30
sleep 1
hostile_peer "$work/big.log" peer oversized --connect "$endpoint" --build "$build" --host big
wait_for "$log" "exceeded the wire's limit" 30
grep -q "exceeded the wire's limit.*one host's word so far" "$log" || fail "a level failed on the oversized sender's word ($(grep -m1 "exceeded" "$log"))"
before=$(stat -c %s "$log")
$peer flood --connect "$endpoint" --count 200000 > "$work/flood.log" 2>&1 || fail "the flood did not run ($(tail -2 "$work/flood.log"))"
sleep 11   # past the complaint interval (10 s), so its summary line is written too
grown=$(( $(stat -c %s "$log") - before ))
[ "$grown" -lt 20000 ] || fail "200,000 malformed messages grew the log by $grown bytes"
grep -q "more like this in the last" "$log" || fail "the flood was not summarised ($(tail -3 "$log"))"
settle "$log"
"$sift" status "$work/flooded" | grep -q " 0 failed" || fail "a level failed: $("$sift" status "$work/flooded" | head -1)"
echo "hostile: no level failed on the oversized sender's word; 200,000 bad messages grew the log by $grown bytes"

echo "hostile: 4. decompression bombs"
$peer gzip-bomb "$work/gzip-bomb" > /dev/null
$peer npz-bomb "$work/bomb.npz" > /dev/null
printf 'data: {path: %s}\nmodel: {arch: 784-16-10}\n' "$work/gzip-bomb" > "$work/gzip-bomb.yaml"
printf 'data: {dataset: arrays, path: %s, test_path: %s}\nmodel: {arch: 16-8-2}\n' "$work/bomb.npz" "$work/bomb.npz" > "$work/npz-bomb.yaml"
for bomb in gzip-bomb npz-bomb; do
    read -r status peak < <($peer max-rss --stderr "$work/$bomb.err" "$sift" imp "$work/$bomb.yaml" --out "$work/$bomb-out")
    [ "$status" = 1 ] || fail "$bomb: sift imp exited $status"
    grep -q "its header declares" "$work/$bomb.err" || fail "$bomb: $(tail -1 "$work/$bomb.err")"
    [ "$peak" -lt 400 ] || fail "$bomb: $peak MiB resident"
    echo "hostile: $bomb stopped at its header's length, $peak MiB at most: $(tail -1 "$work/$bomb.err")"
done

echo "hostile: 5. holes in the results"
cp -a "$work/reference" "$work/hole"
level=$(ls -d "$work/hole"/experiments/*/seed-0/level-1)
rm -rf "$level"
"$sift" run "$work/sweep.yaml" --out "$work/hole" --workers 1 > "$work/hole.log" 2>&1 || fail "the rerun exited $?"
grep -q "found missing on disk" "$work/hole.log" || fail "the rerun did not notice ${level#$work/} was gone"
same_as_reference "$work/hole" "after a deleted level"
"$sift" status "$work/hole" | grep -q "levels whose files went missing" || fail "sift status does not show the recomputed level"
rm -rf "$work/hole/experiments"
"$sift" run "$work/sweep.yaml" --out "$work/hole" --workers 1 > "$work/hole.log" 2>&1 || fail "the rerun exited $?"
same_as_reference "$work/hole" "after deleting experiments/"
# A store whose level 0 is done and level 1 queued; level 0's folder deleted once the coordinator runs.
cp -a "$work/reference" "$work/queued"
rm -rf "$work"/queued/experiments/*/seed-*/level-[12]
python3 - "$work/queued/sweep.sqlite" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE task SET state = 'blocked', digest = NULL, summary = NULL WHERE level >= 1")
db.execute("UPDATE task SET state = 'queued' WHERE level = 1")
db.commit()
EOF
log="$work/queued.log"
coordinator "$work/queued" "$log"
rm -rf "$work"/queued/experiments/*/seed-0/level-0
"$sift" worker --connect "$endpoint" --heartbeat 0.5 --liveness 4 > "$work/worker-queued.log" 2>&1 &
pids+=($!)
settle "$log"
grep -q "cannot start: the files of .*/seed-0/level-0 are lost" "$log" || fail "the lost input was not named ($(grep -m2 level-0 "$log"))"
same_as_reference "$work/queued" "after an input deleted while its successor waited"
echo "hostile: deleted levels were computed again to the same bytes, and said so"

echo "hostile: 6. numbers without bounds"
refused() {  # expected text, then the command; it must fail within 10 s saying so
    local text=$1; shift
    local status=0
    timeout 10 "$@" > "$work/refused.log" 2>&1 || status=$?
    [ "$status" != 0 ] && [ "$status" != 124 ] || fail "'${*:1:3}' exited $status"
    grep -qF -- "$text" "$work/refused.log" || fail "'${*:1:3}': expected '$text', got: $(tail -2 "$work/refused.log")"
}
refused "--workers must be between 1 and" "$sift" run "$work/sweep.yaml" --workers 100000 --out "$work/many"
printf 'model: {arch: 784-16-10}\npruning: {max_levels: 1000000000}\n' > "$work/levels.yaml"
refused "pruning.max_levels: must be at most 1000" "$sift" config show "$work/levels.yaml"
printf 'model: {arch: 784-16-10}\ntrain: {epochs: 9223372036854775807}\n' > "$work/epochs.yaml"
refused "train.epochs: must be at most 1000000" "$sift" config show "$work/epochs.yaml"
python3 -c "print('seeds: [' + ', '.join(map(str, range(1000000))) + ']')" > "$work/seeds.yaml"
refused "more than the limit of 1048576 bytes" "$sift" config show "$work/seeds.yaml"
python3 -c "print('seeds: [' + ', '.join(map(str, range(20000))) + ']')" > "$work/seeds.yaml"
refused "more than the limit of 10000" "$sift" config show "$work/seeds.yaml"
head -c 50000000 /dev/zero | tr '\0' ' ' > "$work/huge.yaml"
refused "more than the limit of 1048576 bytes" "$sift" config show "$work/huge.yaml"
printf 'max_experiments: 100000000\nbase: {model: {arch: 784-16-10}}\ngrid: {train.lr: [0.1, 0.2]}\n' > "$work/experiments.yaml"
refused "max_experiments: must be at most 100000" "$sift" config show "$work/experiments.yaml"
: > "$work/empty.yaml"
refused "is empty" "$sift" run "$work/empty.yaml" --out "$work/empty"
echo "hostile: every unbounded number refused at once, naming its key or option and its limit"
echo "hostile: passed in $(( $(date +%s) - started )) s"
