#!/usr/bin/env bash
# Prints the README's training-speed figures: Sift against cblas_sgemm and against PyTorch (CPU),
# measured in one run on one thread. Needs `pip install torch==2.13.0+cpu`.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/setup.sh
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
python3 Scripts/bench-vs-torch.py --arch 784-1024-1024-1024-10 --batch 128 --threads 1 "$@"
