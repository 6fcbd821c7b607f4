//! The loaders' own rayon pool: samples are decoded and augmented there, apart from the pool that trains.
//!
//! Training runs on a worker of the global pool (`train::pool`) and blocks there waiting for the next batch; if the
//! batch were decoded on the same pool, a 1-thread pool would wait forever. Threads: `GOHSP_LOADER_THREADS`, else
//! half the cores (at least 1): decoding MNIST or CIFAR costs little, and a 224 px JPEG pipeline on one thread
//! still outruns DeiT-Tiny's training step ten times over (benches/loader.rs).

use std::sync::OnceLock;

/// The environment variable that sets the decode pool's thread count.
pub(crate) const LOADER_THREADS_ENV: &str = "GOHSP_LOADER_THREADS";

/// The process-wide decode pool, built on first use.
pub(crate) fn decode_pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(decode_threads())
            .thread_name(|i| format!("gohsp-decode-{i}"))
            .build()
            .expect("a thread pool can be built")
    })
}

fn decode_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::env::var(LOADER_THREADS_ENV).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or((cores / 2).max(1))
}
