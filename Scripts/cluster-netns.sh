#!/usr/bin/env bash
# A three-host cluster on one machine: network namespaces sift-coord, sift-w1 and sift-w2, each with its
# own address, joined by veth pairs. Runs a small Fashion-MNIST sweep with the coordinator on one host and
# a worker on each of the others, and checks that it completes. Needs root (namespaces) and the
# dataset-fashion-mnist package. Usage: Scripts/cluster-netns.sh [SIFT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "cluster-netns: skipped: network namespaces need root (run as root, or with sudo)"
    exit 0
fi
sift="${1:-$(swift build --show-bin-path)/sift}"
[ -x "$sift" ] || { echo "cluster-netns: no sift binary at $sift; run swift build first" >&2; exit 1; }
work=$(mktemp -d /tmp/sift-netns.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    for ns in sift-coord sift-w1 sift-w2; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

for ns in sift-coord sift-w1 sift-w2; do
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
# One veth pair per worker host, each its own /30 link to the coordinator host.
for i in 1 2; do
    ip link add "sift-c$i" type veth peer name "sift-w$i-eth"
    ip link set "sift-c$i" netns sift-coord
    ip link set "sift-w$i-eth" netns "sift-w$i"
    ip -n sift-coord addr add "10.231.$i.1/30" dev "sift-c$i"
    ip -n "sift-w$i" addr add "10.231.$i.2/30" dev "sift-w$i-eth"
    ip -n sift-coord link set "sift-c$i" up
    ip -n "sift-w$i" link set "sift-w$i-eth" up
done


ip netns exec sift-coord "$sift" coordinator "$PWD/Configs/smoke.yaml" --out "$work/out" --bind tcp://0.0.0.0:5555 \
    --heartbeat 0.5 --liveness 6 > "$work/coordinator.log" 2>&1 &
coordinator=$!
pids+=("$coordinator")
sleep 1
for i in 1 2; do
    ip netns exec "sift-w$i" "$sift" worker --connect "tcp://10.231.$i.1:5555" --heartbeat 0.5 --liveness 6 \
        > "$work/worker-$i.log" 2>&1 &
    pids+=($!)
done

status=0
for _ in $(seq 1 600); do
    kill -0 "$coordinator" 2>/dev/null || break
    sleep 0.5
done
if kill -0 "$coordinator" 2>/dev/null; then
    echo "cluster-netns: FAILED: the sweep did not finish within 5 minutes" >&2
    status=1
else
    wait "$coordinator" || status=$?
fi
"$sift" status "$work/out" || true
for i in 1 2; do
    grep -q "sweep complete" "$work/worker-$i.log" || { echo "cluster-netns: worker $i did not hear the sweep end" >&2; status=1; }
done
hosts=$(grep -o 'worker [^ ]* ready' "$work/coordinator.log" | sort -u | wc -l)
done_levels=$(find "$work/out/experiments" -name metrics.json | wc -l)
echo "cluster-netns: $hosts worker(s) from 2 namespaces joined; $done_levels level(s) written; coordinator exit $status"
if [ "$status" -ne 0 ] || [ "$done_levels" -ne 12 ]; then
    echo "--- coordinator log"; tail -20 "$work/coordinator.log"
    for i in 1 2; do echo "--- worker $i log"; tail -10 "$work/worker-$i.log"; done
    echo "cluster-netns: FAILED" >&2
    exit 1
fi
echo "cluster-netns: passed"
