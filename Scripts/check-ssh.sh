#!/usr/bin/env bash
# Checks Deploy/ssh/sift-ssh against a real sshd on loopback with key authentication: starts two
# workers through it, runs a small sweep of test tasks to completion, and reads their status.
# Needs root (an sshd on port 2222 logging in as root) and openssh-server.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "check-ssh: skipped: needs root to run sshd and log in"; exit 0; fi
[ -x /usr/sbin/sshd ] || { echo "check-ssh: skipped: openssh-server is not installed"; exit 0; }
# The test bed's coordinator and workers (they run the sleep tasks); `sift-ssh` starts whatever SIFT_BIN names.
testbed="$(cd "$(dirname "${1:-$(swift build --show-bin-path)/sift}")" && pwd)/sift-testbed"
work=$(mktemp -d /tmp/sift-ssh.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cp "$work/client_key.pub" "$work/authorized_keys"
cat > "$work/sshd_config" <<CONF
Port 2222
ListenAddress 127.0.0.1
HostKey $work/host_key
AuthorizedKeysFile $work/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $work/sshd.pid
CONF
/usr/sbin/sshd -f "$work/sshd_config" -D -e 2> "$work/sshd.log" &
pids+=($!)
sleep 1
echo "root@127.0.0.1" > "$work/hosts"
export SSH_OPTS="-p 2222 -i $work/client_key -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
export SIFT_BIN="$testbed" SIFT_WORKER_DIR="$work/workers"
port=$((45000 + $$ % 10000))
"$testbed" coordinator --out "$work/out" --bind "tcp://127.0.0.1:$port" --sleep-tasks 6 --sleep-ms 200 > "$work/coordinator.log" 2>&1 &
coordinator=$!
pids+=("$coordinator")
Deploy/ssh/sift-ssh "$work/hosts" start 2 "tcp://127.0.0.1:$port"
Deploy/ssh/sift-ssh "$work/hosts" status
for _ in $(seq 1 120); do kill -0 "$coordinator" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$coordinator" 2>/dev/null; then echo "check-ssh: FAILED: the sweep did not complete" >&2; tail "$work/coordinator.log"; exit 1; fi
Deploy/ssh/sift-ssh "$work/hosts" status
Deploy/ssh/sift-ssh "$work/hosts" stop
joined=$(grep -c "ready" "$work/coordinator.log" || true)
grep -q "recorded 6," "$work/coordinator.log" || { echo "check-ssh: FAILED"; cat "$work/coordinator.log"; exit 1; }
echo "check-ssh: $joined worker(s) started over ssh completed the sweep; passed"
