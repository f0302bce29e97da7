#!/usr/bin/env python3
"""Markdown tables of a factorial sweep's locality: per cell, and each factor's main effect.

Reads DIR/report/summary.csv (one row per experiment, seed and level; `sift report DIR` writes it). An
experiment's label names its cell as factor values joined by '-', e.g. Configs/protocol-factors.yaml's
`bn-b1000-deep`: the i-th part is factor i's value. Labels with another number of parts (a scrambled arm)
are left out of the main effects but get their own rows.

For each chosen level (by default the levels whose layer-1 density is nearest 1 %, 0.3 % and 0.08 %):
  1. every cell's D/D_deg and R_g/R_g,deg: mean over seeds with its 95 % Student-t interval;
  2. every factor's main effect: the mean over all seeds of all cells at one value minus the mean at the
     other (the other factors pooled), with Welch's 95 % interval and two-sided p-value;
  3. every cell that has a scrambled arm (`<cell>-scrambled`): natural minus scrambled, with Welch's 95 %
     interval and p, so that a negative difference is locality that comes from the images' geometry.
Chains that diverged are left out, as the report leaves them out.

    python3 Scripts/factor-effects.py runs/protocol-factors [--levels 13 16 20]
"""
import argparse
import csv
import math
import os
from collections import Counter, defaultdict

MEASURES = [("pair_distance_ratio_degree", "D/D_deg"), ("gyration_ratio_degree", "R_g/R_g,deg")]
TARGETS = [0.01, 0.003, 0.0008]


def betacf(a, b, x):
    """Continued fraction of the incomplete beta function (Numerical Recipes' betacf)."""
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > 1e-300 else 1e-300)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > 1e-300 else 1e-300)
            c = 1 + numerator / c
            c = c if abs(c) > 1e-300 else 1e-300
            h *= d * c
        if abs(d * c - 1) < 1e-12:
            break
    return h


def incomplete_beta(a, b, x):
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    return front * betacf(a, b, x) / a if x < (a + 1) / (a + b + 2) else 1 - front * betacf(b, a, 1 - x) / b


def t_two_sided_p(t, dof):
    return incomplete_beta(dof / 2, 0.5, dof / (dof + t * t))


def t_quantile_975(dof):
    """The 97.5 % quantile of Student's t, by bisection on the CDF."""
    low, high = 0.0, 100.0
    for _ in range(100):
        mid = (low + high) / 2
        if t_two_sided_p(mid, dof) > 0.05:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def mean_sd(values):
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return mean, sd


def interval(values):
    mean, sd = mean_sd(values)
    if sd is None:
        return f"{mean:.3f}"
    return f"{mean:.3f} ± {t_quantile_975(len(values) - 1) * sd / math.sqrt(len(values)):.3f}"


def welch(a, b):
    """Difference of means a − b, its 95 % interval and two-sided p (None where a side has one value or no spread)."""
    (ma, sa), (mb, sb) = mean_sd(a), mean_sd(b)
    if sa is None or sb is None:
        return ma - mb, None, None
    va, vb = sa * sa / len(a), sb * sb / len(b)
    if va + vb == 0:
        return ma - mb, None, None
    dof = (va + vb) ** 2 / (va * va / (len(a) - 1) + vb * vb / (len(b) - 1))
    t = (ma - mb) / math.sqrt(va + vb)
    return ma - mb, t_quantile_975(dof) * math.sqrt(va + vb), t_two_sided_p(abs(t), dof)


def difference_text(a, b):
    """a − b with Welch's 95 % interval and p, or a dash where a side has no value."""
    if not a or not b:
        return "–"
    difference, half, p = welch(a, b)
    return f"{difference:+.3f}" + (f" ± {half:.3f}, p = {p:.2g}" if half is not None else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--levels", type=int, nargs="*", help="levels to show (default: nearest 1 %%, 0.3 %% and 0.08 %%)")
    args = parser.parse_args()
    rows = [r for r in csv.DictReader(open(os.path.join(args.directory, "report", "summary.csv")))
            if r.get("diverged", "0") != "1"]
    if not rows:
        raise SystemExit(f"{args.directory}/report/summary.csv has no level that did not diverge")
    density = defaultdict(list)
    for r in rows:
        if r.get("density_layer_0"):
            density[int(r["level"])].append(float(r["density_layer_0"]))
    levels = args.levels or sorted({min(density, key=lambda l: abs(math.log(sum(density[l]) / len(density[l]) / t)))
                                    for t in TARGETS})
    cells = sorted({r["label"] for r in rows})
    # The factorial's cells are the labels with the most common number of parts.
    counts = Counter(len(c.split("-")) for c in cells)
    parts = max(counts, key=lambda n: (counts[n], -n))
    factorial = [c for c in cells if len(c.split("-")) == parts]
    values = defaultdict(list)   # (label, level, measure) -> per-seed values
    for r in rows:
        for key, _ in MEASURES:
            if r.get(key):
                values[(r["label"], int(r["level"]), key)].append(float(r[key]))

    for key, name in MEASURES:
        print(f"\n**{name}** by cell (mean over seeds ± 95 % interval)\n")
        header = [f"level {l} ({100 * sum(density[l]) / len(density[l]):.3g} %)" for l in levels]
        print("| cell | " + " | ".join(header) + " |")
        print("|---" * (len(levels) + 1) + "|")
        for cell in cells:
            cells_text = [interval(values[(cell, l, key)]) if values[(cell, l, key)] else "–" for l in levels]
            print(f"| {cell} | " + " | ".join(cells_text) + " |")

        print(f"\n**{name}**: main effects (first value − second, other factors pooled; Welch 95 % interval, p)\n")
        print("| factor | " + " | ".join(header) + " |")
        print("|---" * (len(levels) + 1) + "|")
        for i in range(parts):
            options = sorted({c.split("-")[i] for c in factorial})
            if len(options) != 2:
                continue
            first, second = options
            row = []
            for l in levels:
                a = [v for c in factorial if c.split("-")[i] == first for v in values[(c, l, key)]]
                b = [v for c in factorial if c.split("-")[i] == second for v in values[(c, l, key)]]
                row.append(difference_text(a, b))
            print(f"| {first} − {second} | " + " | ".join(row) + " |")

        twins = [c for c in factorial if f"{c}-scrambled" in cells]
        if twins:
            print(f"\n**{name}**: natural − scrambled pixels (Welch 95 % interval, p)\n")
            print("| cell | " + " | ".join(header) + " |")
            print("|---" * (len(levels) + 1) + "|")
            for cell in twins:
                row = [difference_text(values[(cell, l, key)], values[(f"{cell}-scrambled", l, key)]) for l in levels]
                print(f"| {cell} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
