# gohsp recipes. `just run experiments/quickstart.yaml`

# Run an experiment spec (extra arguments go to `gohsp run`, e.g. --set sparsity=[0.3,0.5]).
run spec *args:
    cargo run --release -- run {{spec}} {{args}}

# Show which stages of a spec are cached and which would run, and why.
plan spec *args:
    cargo run --release -- plan {{spec}} {{args}}

# The test suite (release profile: burn's tensor code is too slow unoptimised).
test:
    cargo test --release

# Benchmarks: gohsp and the PyTorch reference back to back with their ratios (CPU model, threads and load printed),
# then the loader. Run it on a quiet machine.
bench:
    python3 benches/compare.py
    cargo bench --bench loader

# ONNX Runtime latency of the exported dense and 40%-pruned DeiT-Tiny and vit_mnist at batch 1 and 64 (2 threads),
# with the speedup beside the MAC reduction. Needs `pip install onnxruntime numpy`.
bench-onnx:
    cargo bench --bench onnx_models -- target/onnx-bench
    python3 benches/onnx_latency.py target/onnx-bench

# Formatting and lints, as CI runs them.
check:
    cargo fmt --check
    cargo clippy --release --all-targets -- -D warnings

# Compile-check the CUDA backend (no GPU needed). DOCS_RS=1 stops burn's LLVM bundler from downloading at build time.
check-cuda:
    DOCS_RS=1 cargo check --release --features cuda
