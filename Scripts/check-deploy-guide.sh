#!/usr/bin/env bash
# Follows Deploy/README.md's by-hand sections word for word on this machine:
#  1. "On every node": builds the binary with the guide's own command (static Swift runtime) and
#     checks that the Debian packages the guide names supply every shared library it still loads;
#  2. "Start a sweep": runs the guide's block as written, with a small sweep in place of
#     Configs/controls.yaml, a temporary folder in place of /data/controls and 127.0.0.1 for
#     COORDINATOR, and two workers;
#  3. "Watch, stop, resume": the guide's status and report commands on the finished sweep.
# The systemd, ssh and Slurm sections are checked by check-systemd.sh, check-ssh.sh and
# slurm-test-cluster.sh. Needs dpkg and apt-cache (Debian) for step 1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
guide=$repo/Deploy/README.md
work=$(mktemp -d /tmp/sift-guide.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "check-deploy-guide: FAILED: $*" >&2; exit 1; }
# Waits up to $2 seconds for process $1 to end; then its exit status, or 124 if it still runs.
finishes() { for _ in $(seq 1 $(($2 * 2))); do kill -0 "$1" 2>/dev/null || { wait "$1"; return; }; sleep 0.5; done; return 124; }
# The fenced block after a heading of the guide, with continued lines joined.
block() { awk -v h="$1" '$0 == h {f=1} f && /^```sh/ {b=1; next} b && /^```/ {exit} b {print}' "$guide" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta'; }

# 1. The binary and its shared libraries.
build=$(grep -o 'swift build -c release --static-swift-stdlib' "$guide" | head -1)
[ -n "$build" ] || fail "$guide no longer says how to build the binary"
echo "check-deploy-guide: $build"
$build 2>&1 | tail -1
binary=$repo/.build/release/sift
packages=$(grep -o 'apt-get install libopenblas0[a-z0-9 .-]*' "$guide" | head -1 | sed 's/apt-get install //')
[ -n "$packages" ] || fail "$guide no longer lists the nodes' packages"
if ldd "$binary" | grep -q 'libswift\|libFoundation'; then fail "the binary still loads the Swift runtime: $(ldd "$binary" | grep -o 'libswift[^ ]*\|libFoundation[^ ]*' | tr '\n' ' ')"; fi
if command -v dpkg > /dev/null && command -v apt-cache > /dev/null; then
    # shellcheck disable=SC2086
    supplied=$( (echo libc6; apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
        --no-replaces --no-enhances $packages | grep -v '^ ' | sed 's/:.*//') | sort -u)
    for lib in $(ldd "$binary" | awk '/=> \// {print $3}'); do
        owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true)
        package=${owner%%:*}
        [ -n "$package" ] || fail "no Debian package owns $lib"
        grep -qx "$package" <<< "$supplied" || fail "$lib comes from $package, which '$packages' does not bring"
    done
    echo "check-deploy-guide: every shared library comes with: $packages"
else
    echo "check-deploy-guide: library check skipped: dpkg and apt-cache are not available"
fi

# 2. The sweep, started as the guide says.
mkdir -p "$work/bin" && ln -s "$binary" "$work/bin/sift"
export PATH="$work/bin:$PATH"
cd "$work"
substitute() { sed -e "s#Configs/controls.yaml#$repo/Configs/smoke.yaml#g; s#/data/controls#$work/controls#g; s#COORDINATOR#127.0.0.1#g"; }
coordinator=
workers=()
while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    echo "check-deploy-guide: \$ $line"
    case "$line" in
        "sift coordinator "*) eval "$line" > coordinator.log 2>&1 & coordinator=$!; pids+=("$coordinator"); sleep 1 ;;
        "sift worker "*) for n in 1 2; do eval "$line" > "worker-$n.log" 2>&1 & pids+=($!); workers+=($!); done ;;
        *) eval "$line" ;;
    esac
done < <(block "## Start a sweep" | substitute)
[ -n "$coordinator" ] || fail "the guide's block started no coordinator"
status=0; finishes "$coordinator" 300 || status=$?
[ "$status" -eq 0 ] || { tail coordinator.log; fail "the coordinator did not finish the sweep (status $status)"; }
for n in 1 2; do
    status=0; finishes "${workers[$((n - 1))]}" 30 || status=$?
    [ "$status" -eq 0 ] || fail "worker $n did not exit cleanly (status $status): $(tail -3 "worker-$n.log")"
done

# 3. Watching and reporting, as the guide says.
for command in "sift status /data/controls" "sift report /data/controls"; do
    grep -qF "\`$command\`" "$guide" || fail "$guide no longer mentions '$command'"
    line=$(echo "$command" | substitute)
    echo "check-deploy-guide: \$ $line"
    eval "$line"
done
[ -s "$work/controls/report/index.html" ] || fail "no report was written"
echo "check-deploy-guide: the guide's commands ran a sweep to its report; passed"
