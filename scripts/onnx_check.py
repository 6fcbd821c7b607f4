#!/usr/bin/env python3
"""Check exported ONNX models against gohsp's own logits, in ONNX Runtime.

Each CASE folder holds model.onnx, input.safetensors (tensor `input` [B, C, H, W]) and logits.safetensors (tensor
`logits`, written by `gohsp predict` on the same input). For each case this runs onnx.checker.check_model, then the
model in ONNX Runtime (CPU), and prints one line:

    onnx-check: CASE batch=B max_abs_diff=D checker=ok

It exits 1 if any case fails the checker or differs by more than --tol (default 1e-4), 2 on bad arguments or files.
Needs: pip install onnx onnxruntime numpy.
"""
import argparse
import json
import struct
import sys
from pathlib import Path


def read_safetensors(path):
    """The tensors of a safetensors file as float32 numpy arrays (gohsp writes only F32)."""
    import numpy as np

    raw = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    body = raw[8 + header_len :]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(info["shape"])
    return tensors


def check(case, tol, threads):
    import numpy as np
    import onnx
    import onnxruntime as ort

    model_path = case / "model.onnx"
    onnx.checker.check_model(str(model_path), full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    images = read_safetensors(case / "input.safetensors")["input"]
    expected = read_safetensors(case / "logits.safetensors")["logits"]
    (name,) = [i.name for i in session.get_inputs()]
    (got,) = session.run(None, {name: np.ascontiguousarray(images)})
    if got.shape != expected.shape:
        print(f"onnx-check: {case.name} shape {got.shape} != gohsp's {expected.shape}")
        return False
    diff = float(np.max(np.abs(got - expected)))
    ok = diff <= tol
    print(f"onnx-check: {case.name} batch={images.shape[0]} max_abs_diff={diff:.3g} checker=ok{'' if ok else ' FAIL'}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="+", type=Path, help="folders with model.onnx, input and logits")
    parser.add_argument("--tol", type=float, default=1e-4, help="largest allowed absolute difference of a logit")
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    args = parser.parse_args()
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        print(f"onnx_check.py: {e} (hint: pip install onnx onnxruntime numpy)", file=sys.stderr)
        sys.exit(2)
    for case in args.cases:
        for name in ("model.onnx", "input.safetensors", "logits.safetensors"):
            if not (case / name).is_file():
                print(f"onnx_check.py: {case / name}: missing", file=sys.stderr)
                sys.exit(2)
    results = [check(case, args.tol, args.threads) for case in args.cases]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
