#!/usr/bin/env python3
"""Print Markdown tables of a report's figures: for each experiment and level, the mean and
95 % interval over seeds of accuracy (with batch norm, also recalibrated) and the locality scalars. Reads DIR/report/summary.json.

    python3 Scripts/results-table.py runs/controls [--levels 0 4 8 11 13] [--depth]

With --depth, a second table per experiment gives each hidden layer's radius of gyration (layer 1's own,
the deeper layers' on their effective masks), its ratio to the degree null, and the pixels reached.
With --time, a last column gives each level's time in minutes (training, evaluations and measurement; the
mean over seeds), read from the levels' metrics.json under DIR/experiments.
"""
import argparse
import glob
import json
import os
import statistics

COLUMNS = [("density_layer_0", "layer-1 density", True), ("test_accuracy", "test acc.", True),
           ("pair_distance_ratio_uniform", "D/D_uni", False), ("pair_distance_ratio_degree", "D/D_deg", False),
           ("pair_distance_z_degree", "z_deg", False), ("gyration_ratio_degree", "R_g/R_g,deg", False)]


def cell(summary, percent):
    if summary is None:
        return "–"
    scale, unit = (100, " %") if percent else (1, "")
    mean = summary["mean"] * scale
    text = f"{mean:.3g}" if abs(mean) < 100 else f"{mean:.1f}"
    ci = summary.get("ci95")
    if ci is not None:
        ci = 0 if abs(ci) < 1e-9 * max(abs(summary["mean"]), 1) else ci
        text += f" ± {ci * scale:.2g}"
    return text + unit


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory")
    parser.add_argument("--levels", type=int, nargs="*", help="levels to show (default: every third one, and the last)")
    parser.add_argument("--depth", action="store_true", help="also tabulate the deeper layers' effective fields")
    parser.add_argument("--time", action="store_true", help="add each level's time in minutes (mean over seeds)")
    args = parser.parse_args()
    summary = json.load(open(os.path.join(args.directory, "report", "summary.json")))
    for experiment in summary["experiments"]:
        levels = experiment["levels"]
        chosen = args.levels or sorted({l["level"] for l in levels[::3]} | {levels[-1]["level"]})
        n = max(len(l["seeds"]) for l in levels)
        # With batch norm, the accuracy read with statistics recalibrated under the level's weights goes beside
        # the protocol's own reading.
        columns = COLUMNS
        if any("test_accuracy_recalibrated" in l["columns"] for l in levels):
            columns = COLUMNS[:2] + [("test_accuracy_recalibrated", "test acc. recal.", True)] + COLUMNS[2:]
        print(f"\n**{experiment['label']}** (`{experiment['experiment']}`, {n} seed{'' if n == 1 else 's'})\n")
        titles = [title for _, title, _ in columns] + (["minutes"] if args.time else [])
        print("| level | " + " | ".join(titles) + " |")
        print("|---" * (len(titles) + 1) + "|")
        for level in levels:
            if level["level"] not in chosen:
                continue
            cells = [cell(level["columns"].get(key), percent) for key, _, percent in columns]
            if args.time:
                cells.append(minutes(args.directory, experiment["experiment"], level["level"]))
            print(f"| {level['level']} | " + " | ".join(cells) + " |")
        if args.depth:
            depth_table(levels, chosen)


def minutes(directory, experiment, level):
    """The level's `seconds` from each seed's metrics.json, as minutes: the mean over seeds."""
    pattern = os.path.join(directory, "experiments", experiment, "seed-*", f"level-{level}", "metrics.json")
    seconds = [json.load(open(path))["seconds"] for path in sorted(glob.glob(pattern))]
    return f"{statistics.mean(seconds) / 60:.1f}" if seconds else "–"


def depth_table(levels, chosen):
    """Radius of gyration (pixels), its ratio to the degree null, and pixels reached, layer by layer."""
    prefix = "effective_gyration_radius_mean_layer_"
    deeper = sorted({int(k[len(prefix):]) for l in levels for k in l["columns"] if k.startswith(prefix)})
    if not deeper:
        return
    columns = [("gyration_radius_mean", "R_g L1", False), ("gyration_ratio_degree", "R_g/deg L1", False)]
    for layer in deeper:
        name = f"L{layer + 1}"
        columns += [(f"effective_gyration_radius_mean_layer_{layer}", f"R_g {name}", False),
                    (f"effective_gyration_ratio_degree_layer_{layer}", f"R_g/deg {name}", False),
                    (f"effective_pair_distance_ratio_degree_layer_{layer}", f"D/D_deg {name}", False),
                    (f"effective_pixels_reached_fraction_layer_{layer}", f"pixels {name}", True)]
    print("\n| level | " + " | ".join(title for _, title, _ in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for level in levels:
        if level["level"] in chosen:
            cells = [cell(level["columns"].get(key), percent) for key, _, percent in columns]
            print(f"| {level['level']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
