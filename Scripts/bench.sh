#!/usr/bin/env bash
# Prints the README's training-speed figures, measured in one run on one thread:
#  1. the dense step: Sift against cblas_sgemm and against PyTorch (CPU);
#  2. the step at 5 % density: Sift's sparse path against its own dense path and PyTorch's masked-dense step.
# Needs `pip install torch==2.13.0+cpu`. Extra arguments go to both runs (e.g. --rounds 5).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
python3 Scripts/bench-vs-torch.py --arch 784-1024-1024-1024-10 --batch 128 --threads 1 "$@"
python3 Scripts/bench-vs-torch.py --arch 784-1024-1024-1024-10 --batch 128 --threads 1 --density 0.05 "$@"
