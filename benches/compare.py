#!/usr/bin/env python3
"""Paired benchmark: gohsp's throughput bench and the PyTorch reference back to back in one session, then the ratios.

Prints the CPU model (lscpu), thread count and load average before and after each side, every raw line of both
programs, and one table: per model, training-step and inference-batch wall time of gohsp (dense) and PyTorch, and
gohsp / PyTorch (below 1.0 = gohsp faster). Without torch installed it runs gohsp alone and says so.

    python3 benches/compare.py            # what `just bench` runs
    GOHSP_BENCH_THREADS=1 python3 benches/compare.py
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^model=(\S+) variant=(\S+) .*train_step_ms=([\d.]+) .*infer_batch_ms=([\d.]+)")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return "unknown CPU"


def load():
    return Path("/proc/loadavg").read_text().split()[0]


def run(label, cmd):
    print(f"# {label}: {' '.join(cmd)} (load average {load()})", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        sys.exit(f"{label} failed with exit code {proc.returncode}")
    return {(m.group(1), m.group(2)): (float(m.group(3)), float(m.group(4)))
            for m in map(LINE.match, proc.stdout.splitlines()) if m}


def main():
    threads = os.environ.setdefault("GOHSP_BENCH_THREADS", "2")
    print(f"# cpu: {cpu_model()}, {os.cpu_count()} cores, {threads} threads, load average {load()}")
    ours = run("gohsp", ["cargo", "bench", "--quiet", "--bench", "throughput"])
    theirs = run("torch", [sys.executable, "benches/torch_reference.py"])
    print(f"# done, load average {load()}")
    models = sorted({m for m, v in theirs if v == "torch"})
    if not models:
        print("# no PyTorch lines (torch not installed?): no ratios")
        return
    print("\n| model | step | gohsp ms | PyTorch ms | gohsp / PyTorch |\n| --- | --- | --: | --: | --: |")
    for model in models:
        for i, step in enumerate(["train", "infer"]):
            g, t = ours[(model, "dense")][i], theirs[(model, "torch")][i]
            print(f"| {model} | {step} | {g:.1f} | {t:.1f} | {g / t:.2f} |")


if __name__ == "__main__":
    main()
