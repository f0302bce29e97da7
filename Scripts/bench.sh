#!/usr/bin/env bash
# Prints docs/performance.md's training-speed figures, measured in one run (1-5 on one thread), one JSON line each:
#  1. the dense step at batch 128: Sift against cblas_sgemm (at the step's shapes and at 2048³, the
#     machine's limit) and against PyTorch (CPU);
#  2. the same at batch 1,000 with batch norm on every layer's input (the paper's protocol);
#  3. the step at 5 % density: Sift's sparse path against its own dense path and PyTorch's masked-dense step;
#  4. the same at batch 1,000 with batch norm, what the paper's sparse levels cost;
#  5. a whole quickstart chain against its all-dense twin, 3 alternating rounds (PyTorch has no such chain),
#     with where its time went (training, evaluation, ablation, locality, loading, files);
#  6. thread scaling, 1 to the machine's cores, of the dense and 5 % steps at batch 1,000 with batch norm,
#     against sgemm 2048³'s own scaling in the same run (Scripts/bench-threads.py);
#  7. Scripts/quickstart.sh's sweep (`sift run Configs/quickstart.yaml`): its wall time.
# A step's figure is its fastest stretch of steps as long as one 2048³ product, the limit's best product
# (`sift help bench train` says why). Needs `pip install torch==2.13.0+cpu`. Extra arguments go to the
# step benchmarks (e.g. --rounds 5).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
arch=784-1024-1024-1024-10
python3 Scripts/bench-vs-torch.py --arch $arch --batch 128 --threads 1 "$@"
python3 Scripts/bench-vs-torch.py --arch $arch --batch 1000 --threads 1 --batch-norm --steps 10 --warmup 2 "$@"
python3 Scripts/bench-vs-torch.py --arch $arch --batch 128 --threads 1 --density 0.05 "$@"
python3 Scripts/bench-vs-torch.py --arch $arch --batch 1000 --threads 1 --batch-norm --density 0.05 --steps 10 --warmup 2 "$@"
Scripts/bench-chain.sh Configs/quickstart.yaml 3 | tail -n 2
sift="$(swift build -c release --show-bin-path)/sift"
python3 Scripts/bench-threads.py --sift "$sift"
sweep=$(mktemp -d)
trap 'rm -rf "$sweep"' EXIT
start=$(date +%s.%N)
"$sift" run Configs/quickstart.yaml --out "$sweep/quickstart" > "$sweep/log" 2>&1
echo "{\"quickstart_sweep_s\": $(echo "$(date +%s.%N) - $start" | bc), \"cores\": $(nproc)}"
