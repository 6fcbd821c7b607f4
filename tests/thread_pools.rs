//! Training runs on a worker of rayon's pool while the loader decodes on a pool of its own: with one thread in each,
//! a run must still finish (a worker waiting for a batch that its own pool would have to decode never would).

mod common;

use common::{MICRO, command, results_root};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Far beyond the micro run's few seconds; reaching it means the run is stuck, not slow.
const STUCK_AFTER: Duration = Duration::from_secs(600);

#[test]
fn a_run_with_one_compute_and_one_decode_thread_finishes() {
    let results = results_root();
    let mut child = command(results.path(), &["run", MICRO])
        .env("RAYON_NUM_THREADS", "1")
        .env("GOHSP_LOADER_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gohsp binary starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("child can be polled") {
            break status;
        }
        if start.elapsed() > STUCK_AFTER {
            child.kill().ok();
            panic!("the single-threaded run was still going after {STUCK_AFTER:?}: the pools deadlocked");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "the single-threaded run failed: {status}");
    let metrics = std::fs::read_dir(results.path().join("micro")).expect("the run published its report").count();
    assert!(metrics > 0, "the report folder holds the tables");
}
