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
import time
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


GAP_S = 0.05  # between one side's step and the other's: lets the idle side's spinning threads go to sleep


class Server:
    """One side's lockstep server (`GOHSP_BENCH_SERVE` / `--serve`): one step per command, its time read back."""

    def __init__(self, label, cmd, env=None):
        print(f"# {label} server: {' '.join(cmd)} (load average {load()})", flush=True)
        self.label = label
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        while (line := self.proc.stdout.readline()) != "ready\n":
            if not line:
                sys.exit(f"{label} server ended before it was ready (exit code {self.proc.wait()})")
            sys.stdout.write(line)

    def step(self, command):
        """Wall milliseconds of one `train` or `infer` step."""
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline().split()
        if len(reply) != 3 or reply[0] != command:
            sys.exit(f"{self.label} server answered {reply!r} to {command!r} (exit code {self.proc.poll()})")
        return float(reply[1])

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait()


def lockstep(model, pairs):
    """{step: [(gohsp ms, PyTorch ms) per pair]}: single steps of both sides alternated, gohsp first in even pairs and
    PyTorch first in odd ones, after 2 untimed steps and passes each; inference gets twice as many pairs."""
    ours = Server("gohsp", GOHSP, {"GOHSP_BENCH_SERVE": model})
    theirs = Server("torch", [sys.executable, "benches/torch_reference.py", "--serve", model])
    results = {}
    for command, count in [("train", pairs), ("infer", 2 * pairs)]:
        for side in [ours, theirs] * 2:
            side.step(command)
        results[command] = []
        for i in range(count):
            times = {}
            for side in ([ours, theirs] if i % 2 == 0 else [theirs, ours]):
                time.sleep(GAP_S)
                times[side.label] = side.step(command)
            results[command].append((times["gohsp"], times["torch"]))
    ours.close()
    theirs.close()
    return results


def print_lockstep(models, pairs):
    print(f"\n# lockstep: {pairs} training and {2 * pairs} inference pairs per model (load average {load()})")
    table = []
    for model in models:
        for step, pair_times in lockstep(model, pairs).items():
            ratios = sorted(g / t for g, t in pair_times)
            q1, q3 = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
            below = sum(r <= 1.0 for r in ratios)
            g, t = (statistics.median(x) for x in zip(*pair_times))
            print(f"lockstep model={model} step={step} pairs={len(ratios)} gohsp_ms={g:.1f} torch_ms={t:.1f} "
                  f"ratio_median={statistics.median(ratios):.2f} ratio_q1={q1:.2f} ratio_q3={q3:.2f} "
                  f"at_or_below_1={below}/{len(ratios)}", flush=True)
            table.append(f"| {model} | {step} | {len(ratios)} | {g:.1f} / {t:.1f} | {statistics.median(ratios):.2f} | "
                         f"{q1:.2f}-{q3:.2f} | {below} of {len(ratios)} |")
    print(f"# lockstep done, load average {load()}")
    print("\n| model | step | pairs | median ms: gohsp / PyTorch | median of pair ratios | quartiles | pairs at or "
          "below 1.0 |\n| --- | --- | --: | --: | --: | --: | --: |")
    print("\n".join(table))


def torch_installed():
    return subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0


def print_rounds(rounds_run, threads):
    """The rounds' table and FMA probes."""
    results = [times for times, _ in rounds_run]
    models = sorted({m for m, v in results[0] if v == "torch"})
    heads = " | ".join(f"round {r + 1}: gohsp / PyTorch ms (ratio)" for r in range(len(results)))
    print(f"\n| model | step | {heads} | median ratio |\n| --- | --- |{' --: |' * (len(results) + 1)}")
    for model in models:
        for i, step in enumerate(["train", "infer"]):
            pairs = [(r[(model, "dense")][i], r[(model, "torch")][i]) for r in results]
            cells = " | ".join(f"{g:.1f} / {t:.1f} ({g / t:.2f})" for g, t in pairs)
            print(f"| {model} | {step} | {cells} | {statistics.median(g / t for g, t in pairs):.2f} |")
    fmt = lambda values: ", ".join(f"{x:.2f}" for x in values)
    probes = "; ".join(f"round {r + 1}: gohsp {fmt(sc['gohsp'])}, PyTorch {fmt(sc['torch'])}"
                       for r, (_, sc) in enumerate(rounds_run))
    print(f"\nFMA peak, {threads} threads at once over 1 thread, before and after each side: {probes}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3,
                        help="paired rounds (default 3; the first is the full bench; 0: lockstep pairs only)")
    parser.add_argument("--pairs", type=int, default=20,
                        help="lockstep training-step pairs per model after the rounds (inference: twice as many; "
                             "default 20; 0 skips)")
    args = parser.parse_args()
    threads = os.environ.setdefault("GOHSP_BENCH_THREADS", "2")
    print(f"# cpu: {cpu_model()}, {os.cpu_count()} cores, {threads} threads, load average {load()}")
    if not torch_installed():
        if args.rounds > 0:
            one_round(1, torch_first=False)
        print("# torch is not installed (pip install torch): gohsp alone, no ratios")
        return
    rounds_run = [one_round(r + 1, torch_first=r % 2 == 1) for r in range(max(0, args.rounds))]
    print(f"# done, load average {load()}")
    if rounds_run:
        print_rounds(rounds_run, threads)
    if args.pairs > 0:
        wanted = os.environ.get("GOHSP_BENCH_MODELS", "deit_tiny,vit_mnist").split(",")
        print_lockstep([m.strip() for m in wanted if m.strip()], args.pairs)


if __name__ == "__main__":
    main()
