#!/usr/bin/env bash
# A real single-node Slurm (slurmctld, slurmd, munge from Debian's slurm-wlm and munge) started in a
# temporary folder, and a small Fashion-MNIST sweep submitted with Deploy/slurm/sift-sweep.sbatch.
# Needs root, slurm-wlm, munge and dataset-fashion-mnist. Usage: Scripts/slurm-test-cluster.sh [SIFT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "slurm-test-cluster: skipped: needs root to run slurmctld, slurmd and munged"; exit 0; fi
for tool in slurmctld slurmd munged sbatch; do
    command -v "$tool" >/dev/null || { echo "slurm-test-cluster: skipped: $tool missing (apt-get install slurm-wlm munge)"; exit 0; }
done
sift="$(cd "$(dirname "${1:-$(swift build --show-bin-path)/sift}")" && pwd)/sift"
work=$(mktemp -d /tmp/sift-slurm.XXXXXX)
chmod 755 "$work"
node=$(hostname -s)
cpus=$(nproc)
job=""
cleanup() {
    # Only the job this script submitted, and only to the Slurm this script started: never anyone else's.
    [ -n "$job" ] && SLURM_CONF="$work/slurm.conf" scancel --full --quiet "$job" 2>/dev/null || true
    for f in slurmd slurmctld munged; do [ -f "$work/$f.pid" ] && kill "$(cat "$work/$f.pid")" 2>/dev/null || true; done
    sleep 1
    rm -rf "$work"
}
trap cleanup EXIT

# munge: a key of our own and a daemon with its own socket.
mkdir -p "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$work/munge"; chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" --pid-file="$work/munged.pid" \
    --log-file="$work/munge/munged.log" --seed-file="$work/munge/seed"

mkdir -p "$work/state" "$work/spool"
cat > "$work/slurm.conf" <<CONF
ClusterName=sift-test
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$node CPUs=$cpus State=UNKNOWN
PartitionName=sift Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld
slurmd
for _ in $(seq 1 60); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.5; done
sinfo -h -o "%P %D %t" | grep -q idle || { echo "slurm-test-cluster: FAILED: the node never became idle"; tail "$work/slurmctld.log" "$work/slurmd.log"; exit 1; }

job=$(SIFT_SWEEP="$PWD/Configs/smoke.yaml" SIFT_OUT="$work/out" SIFT_BIN="$sift" SIFT_PORT=$((46000 + $$ % 1000)) \
    SIFT_WORKERS_PER_NODE=$cpus sbatch --parsable --nodes=1 --output="$work/job.out" Deploy/slurm/sift-sweep.sbatch)
job=${job%%;*}
for _ in $(seq 1 360); do
    [ -z "$(squeue -h -j "$job" -o %i 2>/dev/null)" ] && break
    sleep 0.5
done
if [ -n "$(squeue -h -j "$job" -o %i 2>/dev/null)" ]; then
    echo "slurm-test-cluster: FAILED: the job is still queued or running after 3 minutes"; squeue -o "%i %T %r"
    tail -20 "$work/job.out" 2>/dev/null; exit 1
fi
levels=$(find "$work/out/experiments" -name metrics.json 2>/dev/null | wc -l)
cat "$work/job.out" | grep -E "^sift-sweep|sweep complete" || true
if [ "$levels" -ne 12 ]; then
    echo "slurm-test-cluster: FAILED: $levels of 12 levels written"; tail -20 "$work/job.out"; exit 1
fi
echo "slurm-test-cluster: sbatch ran the sweep on a real Slurm ($levels levels); passed"
