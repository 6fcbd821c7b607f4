//! Runs the tensor work of a training or evaluation loop on a thread of rayon's pool, where burn-flex's kernels run.
//!
//! Driven from outside the pool, every kernel is handed to the pool's workers while the caller sleeps: on 2 cores
//! that is 3 threads and a wake-up per op. Driven from a worker, the caller is one of the pool's threads and runs
//! its share of each kernel itself. The loaders decode on a pool of their own (`data::decode_pool`), so a worker
//! waiting for a batch never holds up the work that makes it.

/// Runs `work` on a worker of rayon's global pool (directly when already on one) and returns its result.
pub(crate) fn on_compute_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_on_a_pool_thread_and_returns_its_result() {
        assert!(rayon::current_thread_index().is_none(), "the test thread is outside the pool");
        let (index, value) = on_compute_pool(|| (rayon::current_thread_index(), 41 + 1));
        assert!(index.is_some(), "the work ran on a worker of the pool");
        assert_eq!(value, 42);
    }
}
