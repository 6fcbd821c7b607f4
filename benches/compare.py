#!/usr/bin/env python3
"""Paired benchmark: gohsp's throughput bench and the PyTorch reference back to back in one session, then the ratios.

Round 1 runs the whole throughput bench (dense, pruned and baseline-kernel variants) and then the PyTorch reference;
rounds 2..N run gohsp's dense model alone (GOHSP_BENCH_DENSE_ONLY=1) and PyTorch, alternating which goes first, so
that a drift in the machine's speed over the minutes of a session hits both sides alike. Prints the CPU model (lscpu),
thread count and load average before and after each side, every raw line of both programs, and one table: per model,
training-step and inference-batch wall time of gohsp (dense) and PyTorch in every round, gohsp / PyTorch per round,
and the median ratio (below 1.0 = gohsp faster). Under the table, an FMA-peak probe before and after each side
(gohsp's bench runs it at its start and end; around PyTorch's it runs alone, GOHSP_BENCH_MODELS=none): 2 threads at
once over 1 thread alone, about 2 when each thread has a core's FMA units, about 1 when the machine's two vCPUs share
one physical core, which halves GEMM-bound speed on both sides. Without torch installed it runs gohsp alone and says
so.

    python3 benches/compare.py            # what `just bench` runs (3 rounds)
    python3 benches/compare.py --rounds 5
    GOHSP_BENCH_THREADS=1 python3 benches/compare.py
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^model=(\S+) variant=(\S+) .*train_step_ms=([\d.]+) .*infer_batch_ms=([\d.]+)")
FMA = re.compile(r"^# fma peak .* ([\d.]+)x one thread")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return "unknown CPU"


def load():
    return Path("/proc/loadavg").read_text().split()[0]


def run(label, cmd, env=None):
    print(f"# {label}: {' '.join(cmd)} (load average {load()})", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})})
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"{label} failed with exit code {proc.returncode}")
    lines = proc.stdout.splitlines()
    times = {(m.group(1), m.group(2)): (float(m.group(3)), float(m.group(4))) for m in map(LINE.match, lines) if m}
    return times, [float(m.group(1)) for m in map(FMA.match, lines) if m]


GOHSP = ["cargo", "bench", "--quiet", "--bench", "throughput"]


def one_round(number, torch_first):
    """One paired round: {(model, side): (train ms, infer ms)} for gohsp's dense model and PyTorch, and the FMA-peak
    scalings gohsp's bench printed."""
    print(f"# round {number}", flush=True)
    ours = lambda: run("gohsp", GOHSP, None if number == 1 else {"GOHSP_BENCH_DENSE_ONLY": "1"})
    probe = lambda: run("fma probe", GOHSP, {"GOHSP_BENCH_MODELS": "none"})[1]
    results, scalings = {}, {}
    for side in (["torch", "gohsp"] if torch_first else ["gohsp", "torch"]):
        if side == "gohsp":
            times, scalings["gohsp"] = ours()
        else:
            before = probe()
            times, _ = run("torch", [sys.executable, "benches/torch_reference.py"])
            scalings["torch"] = before[:1] + probe()[:1]
        results.update(times)
    return results, scalings


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds (default 3; the first is the full bench)")
    rounds = max(1, parser.parse_args().rounds)
    threads = os.environ.setdefault("GOHSP_BENCH_THREADS", "2")
    print(f"# cpu: {cpu_model()}, {os.cpu_count()} cores, {threads} threads, load average {load()}")
    rounds_run = [one_round(r + 1, torch_first=r % 2 == 1) for r in range(rounds)]
    results = [times for times, _ in rounds_run]
    print(f"# done, load average {load()}")
    models = sorted({m for m, v in results[0] if v == "torch"})
    if not models:
        print("# no PyTorch lines (torch not installed?): no ratios")
        return
    heads = " | ".join(f"round {r + 1}: gohsp / PyTorch ms (ratio)" for r in range(rounds))
    print(f"\n| model | step | {heads} | median ratio |\n| --- | --- |{' --: |' * (rounds + 1)}")
    for model in models:
        for i, step in enumerate(["train", "infer"]):
            pairs = [(r[(model, "dense")][i], r[(model, "torch")][i]) for r in results]
            cells = " | ".join(f"{g:.1f} / {t:.1f} ({g / t:.2f})" for g, t in pairs)
            print(f"| {model} | {step} | {cells} | {statistics.median(g / t for g, t in pairs):.2f} |")
    fmt = lambda values: ", ".join(f"{x:.2f}" for x in values)
    probes = "; ".join(f"round {r + 1}: gohsp {fmt(sc['gohsp'])}, PyTorch {fmt(sc['torch'])}"
                       for r, (_, sc) in enumerate(rounds_run))
    print(f"\nFMA peak, {threads} threads at once over 1 thread, before and after each side: {probes}")


if __name__ == "__main__":
    main()
