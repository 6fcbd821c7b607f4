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

# Benchmarks: training and inference images/s against a same-process baseline; PyTorch reference when torch is installed.
bench:
    cargo bench --bench throughput
    cargo bench --bench loader
    -python3 benches/torch_reference.py

# Formatting and lints, as CI runs them.
check:
    cargo fmt --check
    cargo clippy --release --all-targets -- -D warnings

# Compile-check the CUDA backend (no GPU needed). DOCS_RS=1 stops burn's LLVM bundler from downloading at build time.
check-cuda:
    DOCS_RS=1 cargo check --release --features cuda
