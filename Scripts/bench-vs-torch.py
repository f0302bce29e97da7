#!/usr/bin/env python3
"""Time one masked training step of Sift and of PyTorch (CPU) in the same run, and print the ratios.

Both sides do the same work: forward, loss, backward, masked SGD (or Adam) update, on random data at the
same architecture, batch and thread count. PyTorch is timed two ways:
  grad   the leanest masked step we know in PyTorch: weights kept at 0, gradients multiplied by the mask;
  prune  PyTorch's own pruning API (torch.nn.utils.prune), which computes weight_orig * mask each forward.
With --density U below 1, every layer gets a random mask keeping that fraction of its weights: Sift
runs on the path its engine picks for that density (the sparse one below model.sparse_below) and, for
the ratio, again forced onto its dense path; PyTorch runs the same masked-dense step as above.
With --batch-norm both sides normalise every layer's input (BatchNorm1d before each Linear, the output
layer's included), as the paper's protocol does.
Each side's figure is its fastest stretch of consecutive steps lasting at least as long as one 2048³
sgemm product, the way Sift takes the machine's limit (its best product), since these machines are
shared and noisy; the sides alternate for --rounds rounds and the medians of those figures are reported.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the environment of both sides.

    pip install torch==2.13.0+cpu
    python3 Scripts/bench-vs-torch.py --arch 784-1024-1024-1024-10 --batch 128 --threads 1
    python3 Scripts/bench-vs-torch.py --arch 784-1024-1024-1024-10 --batch 128 --threads 1 --density 0.05
    python3 Scripts/bench-vs-torch.py --arch 784-1024-1024-1024-10 --batch 1000 --threads 1 --batch-norm
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(name, None)


def fastest_stretch(seconds, span):
    """Of the runs of consecutive steps lasting at least `span` seconds, each no longer than it needs to be,
    the lowest mean (all steps' mean when together they last less): Sift's own rule (Timings.swift)."""
    best, total, first = float("inf"), 0.0, 0
    for last, duration in enumerate(seconds):
        total += duration
        while first < last and total - seconds[first] >= span:
            total -= seconds[first]
            first += 1
        if total >= span:
            best = min(best, total / (last - first + 1))
    return best if best != float("inf") else sum(seconds) / len(seconds)


def torch_step_ms(widths, batch, threads, steps, warmup, optimizer, masking, density, batch_norm, span):
    import torch
    import torch.nn.utils.prune as prune

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for i in range(len(widths) - 1):
        if batch_norm:
            layers.append(torch.nn.BatchNorm1d(widths[i]))
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    masks = [(torch.rand_like(m.weight) < density).float() for m in linears]
    with torch.no_grad():
        for layer, mask in zip(linears, masks):
            layer.weight.mul_(mask)
    if masking == "prune":
        for layer, mask in zip(linears, masks):
            prune.custom_from_mask(layer, "weight", mask)
    opt = (torch.optim.SGD(model.parameters(), lr=0.1) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=1e-3))
    x = torch.randn(batch, widths[0])
    y = torch.randint(0, widths[-1], (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        if masking == "grad":
            with torch.no_grad():
                for layer, mask in zip(linears, masks):
                    layer.weight.grad.mul_(mask)
        opt.step()

    for _ in range(warmup):
        step()
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return fastest_stretch(seconds, span) * 1000, torch.__version__


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="784-1024-1024-1024-10")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"])
    parser.add_argument("--density", type=float, default=1.0, help="fraction of each layer's weights kept (random masks)")
    parser.add_argument("--batch-norm", action="store_true", help="batch normalisation on every layer's input")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument("--sift", default=".build/release/sift", help="path to the sift binary (release build)")
    args = parser.parse_args()

    widths = [int(w) for w in args.arch.split("-")]
    masked = args.density < 1

    def sift_step(*extra):
        run = subprocess.run(
            [args.sift, "bench", "train", "--arch", args.arch, "--batch", str(args.batch), "--threads",
             str(args.threads), "--steps", str(args.steps), "--warmup", str(args.warmup), "--optimizer", args.optimizer,
             "--density", str(args.density), *(["--batch-norm"] if args.batch_norm else []), *extra],
            check=True, capture_output=True, text=True)
        return json.loads(run.stdout.strip().splitlines()[-1])

    sift_runs, dense_path_ms, grad_ms, prune_ms = [], [], [], []
    for _ in range(args.rounds):
        sift_runs.append(sift_step())
        span = sift_runs[-1]["stretch_seconds"]
        if masked:
            dense_path_ms.append(sift_step("--sparse-below", "0")["ms_per_step"])
        ms, version = torch_step_ms(widths, args.batch, args.threads, args.steps, args.warmup, args.optimizer, "grad",
                                    args.density, args.batch_norm, span)
        grad_ms.append(ms)
        ms, _ = torch_step_ms(widths, args.batch, args.threads, args.steps, args.warmup, args.optimizer, "prune",
                              args.density, args.batch_norm, span)
        prune_ms.append(ms)
    ours = statistics.median(r["ms_per_step"] for r in sift_runs)
    grad, prune = statistics.median(grad_ms), statistics.median(prune_ms)
    result = {
        "arch": args.arch, "batch": args.batch, "threads": args.threads, "optimizer": args.optimizer,
        "density": args.density, "batch_norm": args.batch_norm, "sift_sparse_layers": sift_runs[0]["sparse_layers"],
        "rounds": args.rounds, "stretch_s": round(statistics.median(r["stretch_seconds"] for r in sift_runs), 3),
        "sift_ms_per_step": round(ours, 3),
        "sift_ms_per_step_mean": round(statistics.median(r["ms_per_step_mean"] for r in sift_runs), 3),
        "torch_version": version,
        "torch_grad_mask_ms_per_step": round(grad, 3),
        "torch_prune_api_ms_per_step": round(prune, 3),
    }
    if masked:
        dense = statistics.median(dense_path_ms)
        result.update({
            "sift_dense_path_ms_per_step": round(dense, 3),
            "sift_over_own_dense_path": round(ours / dense, 3),
            "sift_over_torch_grad_mask": round(ours / grad, 3),
            "sift_over_torch_prune_api": round(ours / prune, 3),
        })
    else:
        result.update({
            "sift_fraction_of_sgemm_peak": round(statistics.median(r["fraction_of_peak"] for r in sift_runs), 3),
            "sgemm_peak_gflops": round(statistics.median(r["sgemm_peak_gflops"] for r in sift_runs), 1),
            "sift_gflops": round(statistics.median(r["gflops"] for r in sift_runs), 1),
            "sgemm_limit_gflops": round(statistics.median(r["sgemm_limit_gflops"] for r in sift_runs), 1),
            "sift_fraction_of_sgemm_limit": round(statistics.median(r["fraction_of_sgemm_limit"] for r in sift_runs), 3),
            "speedup_vs_torch_grad_mask": round(grad / ours, 3),
            "speedup_vs_torch_prune_api": round(prune / ours, 3),
        })
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
