#!/usr/bin/env python3
"""Seed-paired accuracy differences from a gohsp report's metrics.csv.

Every method of a seed prunes the same dense model, so the fair comparison is per seed: for each sparsity (and each
value of any other axis in the row names), this prints every method's mean ± sample std of top-1 over seeds, then
`METHOD` minus each other method as the mean ± std of the per-seed differences.

    python3 scripts/paired_diff.py docs/results/fmnist_reference/metrics.csv --method gohsp

Only the standard library; rows at other latency batch sizes repeat the accuracy and are read once.
"""
import argparse
import csv
import re
import statistics
from collections import defaultdict


def split_variant(method):
    """('gohsp', 'admm.rounds=1') from 'gohsp [admm.rounds=1]'."""
    match = re.fullmatch(r"(\S+)(?: \[(.*)\])?", method)
    return match.group(1), match.group(2) or ""


def mean_std(values):
    if len(values) < 2:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("metrics", help="a report's metrics.csv")
    parser.add_argument("--method", default="gohsp", help="the method compared with every other one")
    args = parser.parse_args()
    top1 = defaultdict(dict)  # (variant, sparsity) -> {method: {seed: top1}}
    one_shot = defaultdict(dict)
    seen = set()
    try:
        with open(args.metrics, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as error:
        parser.error(f"cannot read {args.metrics}: {error.strerror}; pass a report's metrics.csv, e.g. "
                     "docs/results/fmnist_reference/metrics.csv")
    wanted = {"point", "seed", "method", "target_sparsity", "top1", "one_shot_top1"}
    missing = wanted - set(rows[0] if rows else wanted)
    if not rows or missing:
        parser.error(f"{args.metrics} is not a gohsp metrics.csv (no rows, or no column {', '.join(sorted(missing))}); "
                     "pass the metrics.csv of a report")
    for row in rows:
        if row["method"].startswith("dense") or (row["point"], row["seed"]) in seen:
            continue
        seen.add((row["point"], row["seed"]))
        method, variant = split_variant(row["method"])
        group = (variant, float(row["target_sparsity"]))
        top1[group].setdefault(method, {})[int(row["seed"])] = float(row["top1"])
        if row["one_shot_top1"]:
            one_shot[group].setdefault(method, {})[int(row["seed"])] = float(row["one_shot_top1"])
    for group in sorted(top1):
        variant, sparsity = group
        methods = top1[group]
        print(f"\n## sparsity {sparsity:.0%}" + (f", {variant}" if variant else ""))
        for method in sorted(methods, key=lambda m: -statistics.mean(methods[m].values())):
            shot = one_shot[group].get(method, {})
            shot_text = f"   one-shot {mean_std(list(shot.values()))}" if shot else ""
            print(f"  {method:24} top-1 {mean_std(list(methods[method].values()))}{shot_text}")
        ours = methods.get(args.method)
        if not ours:
            continue
        for other, theirs in sorted(methods.items()):
            seeds = sorted(set(ours) & set(theirs))
            if other == args.method or not seeds:
                continue
            diffs = [ours[s] - theirs[s] for s in seeds]
            wins = sum(d > 0 for d in diffs)
            print(f"  {args.method} - {other:24} {mean_std(diffs):>14}   ahead on {wins}/{len(seeds)} seeds")


if __name__ == "__main__":
    main()
