#!/usr/bin/env python3
"""ONNX Runtime latency of the dense and GOHSP-pruned (40%) DeiT-Tiny and vit_mnist written by
`cargo bench --bench onnx_models -- DIR`, at batch 1 and 64, with the speedup beside the MAC reduction.

The dense and pruned models' passes are interleaved (dense, pruned, dense, ...) after warm-up, until at least
--pairs pairs and --seconds seconds per batch size have passed, so that a change in the machine's load hits both
alike; the speedup is the median of the pairs' dense/pruned ratios. Prints the CPU model (lscpu), the threads, the
load average and ONNX Runtime's version beside every figure, as `key=value` lines and a Markdown table.

`python3 benches/onnx_latency.py [DIR] [--threads 2]` (`just bench-onnx`). Needs: pip install onnxruntime numpy.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return "unknown CPU"


def load_average():
    return f"{os.getloadavg()[0]:.2f}"


def session(path, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else 0.5 * (values[n // 2 - 1] + values[n // 2])


def pair(dense, pruned, batch, image, min_pairs, min_seconds, warmup=3):
    """Interleaved passes of both sessions; returns (dense medians s, pruned median s, median ratio, pairs)."""
    import numpy as np

    images = np.random.default_rng(batch).standard_normal((batch, *image), dtype=np.float32)
    feeds = [{s.get_inputs()[0].name: images} for s in (dense, pruned)]
    runs = [lambda s=s, f=f: s.run(None, f) for s, f in zip((dense, pruned), feeds)]
    for _ in range(warmup):
        runs[0]()
        runs[1]()
    times = ([], [])
    start = time.perf_counter()
    while len(times[0]) < min_pairs or time.perf_counter() - start < min_seconds:
        # Alternate which goes first, so neither always follows the other.
        order = (0, 1) if len(times[0]) % 2 == 0 else (1, 0)
        for i in order:
            times[i].append(timed(runs[i]))
    ratios = [d / p for d, p in zip(*times)]
    return median(times[0]), median(times[1]), median(ratios), len(ratios)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", default="target/onnx-bench", type=Path)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GOHSP_BENCH_THREADS", "2")))
    parser.add_argument("--batches", default="1,64", help="comma-separated batch sizes")
    parser.add_argument("--pairs", type=int, default=15, help="timed pairs per batch size at least")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per batch size at least")
    args = parser.parse_args()
    try:
        import onnxruntime as ort
    except ImportError as e:
        print(f"onnx_latency.py: {e} (hint: pip install onnxruntime numpy)", file=sys.stderr)
        sys.exit(2)
    index = args.dir / "models.json"
    if not index.is_file():
        print(f"onnx_latency.py: {index}: missing (hint: cargo bench --bench onnx_models -- {args.dir})", file=sys.stderr)
        sys.exit(2)
    models = json.loads(index.read_text())
    print(f"# cpu: {cpu_model()} ({os.cpu_count()} cores), threads={args.threads}, load average {load_average()}")
    print(f"# onnxruntime {ort.__version__}, CPUExecutionProvider, all graph optimisations, sequential execution")
    rows = []
    for name in dict.fromkeys(m["model"] for m in models):
        dense = next(m for m in models if m["model"] == name and m["variant"] == "dense")
        pruned = next(m for m in models if m["model"] == name and m["variant"] != "dense")
        sessions = [session(args.dir / m["file"], args.threads) for m in (dense, pruned)]
        mac_reduction = dense["macs"] / pruned["macs"]
        for batch in [int(b) for b in args.batches.split(",")]:
            d, p, speedup, pairs = pair(*sessions, batch, dense["image"], args.pairs, args.seconds)
            fraction = speedup / mac_reduction
            print(
                f"ort model={name} batch={batch} dense_ms={d * 1e3:.2f} pruned_ms={p * 1e3:.2f} speedup={speedup:.2f} "
                f"mac_reduction={mac_reduction:.2f} speedup/mac_reduction={fraction:.2f} pairs={pairs} "
                f"load={load_average()}"
            )
            rows.append((name, batch, d * 1e3, p * 1e3, speedup, mac_reduction, fraction))
    print()
    print("| model | batch | dense ms | pruned ms | speedup | MAC reduction | speedup / MAC reduction |")
    print("| --- | --: | --: | --: | --: | --: | --: |")
    for name, batch, d, p, s, m, f in rows:
        print(f"| {name} | {batch} | {d:.2f} | {p:.2f} | {s:.2f} | {m:.2f} | {f:.2f} |")
    print(f"\n# threads={args.threads}, load average {load_average()} at the end")


if __name__ == "__main__":
    main()
