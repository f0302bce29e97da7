#!/usr/bin/env bash
# Prints the README's training-speed figures, measured in one run on one thread, one JSON line each:
#  1. the dense step at batch 128: Sift against cblas_sgemm (at the step's shapes and at 2048³, the
#     machine's limit) and against PyTorch (CPU);
#  2. the same at batch 1,000 with batch norm on every layer's input (the paper's protocol);
#  3. the step at 5 % density: Sift's sparse path against its own dense path and PyTorch's masked-dense step;
#  4. the same at batch 1,000 with batch norm, what the paper's sparse levels cost;
#  5. a whole quickstart chain against its all-dense twin, 3 alternating rounds (PyTorch has no such chain).
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
Scripts/bench-chain.sh Configs/quickstart.yaml 3 | tail -n 1
