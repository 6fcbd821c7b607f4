//! The Slurm executor against a real Slurm (the one-node cluster `.ci/slurm up` starts). Runs only when `sinfo`
//! answers; skips with the reason otherwise, unless GOHSP_SLURM_EXPECTED=1 (set by .ci/run), where a missing Slurm
//! fails the test.

mod common;

use common::{MICRO, Output, gohsp, results_root, spawn};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const SWEEP: &str = "sparsity=[0.3,0.5]";
const POLL: &str = "executor.slurm.poll_seconds=0.5";
/// Columns that are measured, not computed: they differ between any two runs.
const TIMED: &[&str] = &["latency_ms", "dense_latency_ms", "speedup", "throughput_ips", "threads"];

/// Why a real Slurm cannot be used here, if it cannot.
fn slurm_missing() -> Option<String> {
    match std::process::Command::new("sinfo").args(["-h", "-o", "%t"]).output() {
        Err(e) => Some(format!("sinfo could not run: {e}")),
        Ok(out) if !out.status.success() => {
            Some(format!("sinfo failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
        Ok(out) if String::from_utf8_lossy(&out.stdout).trim().is_empty() => Some("sinfo lists no node".into()),
        Ok(_) => None,
    }
}

/// metrics.csv of a run without its timed columns, one map per row.
fn computed_metrics(results: &Path) -> Vec<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(results.join("micro/metrics.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            headers
                .iter()
                .zip(row.iter())
                .filter(|(h, _)| !TIMED.contains(h))
                .map(|(h, v)| (h.into(), v.into()))
                .collect()
        })
        .collect()
}

/// Waits (up to `limit`) until `ready` holds, checking every half second.
fn wait_until(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let clock = Instant::now();
    while !ready() {
        assert!(clock.elapsed() < limit, "gave up waiting for {what} after {limit:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The log files of node `stem` (e.g. `dense_default_`) in every Slurm run under `results`.
fn node_logs(results: &Path, stem: &str) -> Vec<PathBuf> {
    let mut logs = Vec::new();
    for run in std::fs::read_dir(results.join("runs/micro")).into_iter().flatten().flatten() {
        for file in std::fs::read_dir(run.path().join("slurm")).into_iter().flatten().flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.starts_with(&format!("{stem}.")) && name.ends_with(".log") {
                logs.push(file.path());
            }
        }
    }
    logs.sort();
    logs
}

fn status_line(out: &Output, label: &str) -> String {
    out.stdout.lines().find(|l| l.starts_with(label)).unwrap_or_default().to_string()
}

#[test]
fn a_sweep_runs_through_a_real_slurm() {
    if let Some(why) = slurm_missing() {
        assert!(
            std::env::var("GOHSP_SLURM_EXPECTED").as_deref() != Ok("1"),
            "Slurm is expected (GOHSP_SLURM_EXPECTED=1) but {why}"
        );
        eprintln!("skipped: no usable Slurm here ({why}); `.ci/slurm up` starts one");
        return;
    }
    // Metrics equal a local run's; a second run submits nothing.
    let (local, cluster) = (results_root(), results_root());
    gohsp(local.path(), &["run", MICRO, "--set", SWEEP]).ok();
    let args = ["run", MICRO, "--set", SWEEP, "--set", POLL, "--executor", "slurm"];
    let first = gohsp(cluster.path(), &args);
    first.ok();
    assert!(first.stderr.contains("submitted 12 jobs"), "{}", first.stderr);
    assert_eq!(computed_metrics(cluster.path()), computed_metrics(local.path()));
    let second = gohsp(cluster.path(), &args);
    second.ok();
    assert!(
        second.stderr.contains("submitted 0 jobs (0 adopted from earlier runs, 12 nodes cached)"),
        "{}",
        second.stderr
    );

    cancelled_node_resumes_from_its_checkpoint();
    detached_nodes_finish_under_status();
    two_drivers_compute_each_node_once();
}

/// scancel of the running pre-training is reported as CANCELLED; a rerun completes it from its checkpoint.
fn cancelled_node_resumes_from_its_checkpoint() {
    let results = results_root();
    let args = ["run", MICRO, "--set", "pretrain.epochs=100", "--set", POLL, "--executor", "slurm"];
    let driver = spawn(results.path(), &args);
    let epochs_logged = |log: &Path| std::fs::read_to_string(log).unwrap_or_default().matches("epoch done").count();
    wait_until(Duration::from_secs(120), "two epochs of pre-training", || {
        node_logs(results.path(), "dense_default_").first().is_some_and(|log| epochs_logged(log) >= 2)
    });
    let log = node_logs(results.path(), "dense_default_").remove(0);
    let job = log.file_name().unwrap().to_string_lossy().split('.').nth(1).unwrap().to_string();
    let scancel = std::process::Command::new("scancel").arg(&job).status().unwrap();
    assert!(scancel.success());
    let cancelled = common::finish(driver);
    cancelled.expect_code(1);
    let dense = cancelled.stderr.lines().find(|l| l.trim_start().starts_with("dense[default]")).unwrap();
    assert!(dense.contains(&format!("FAILED: CANCELLED (job {job}")), "{dense}\n{}", cancelled.stderr);
    let status = gohsp(results.path(), &["status", MICRO, "--set", "pretrain.epochs=100"]);
    assert!(
        status_line(&status, "dense[default]").contains(&format!("failed: CANCELLED (job {job}")),
        "{}",
        status.stdout
    );

    let rerun = gohsp(results.path(), &args);
    rerun.ok();
    let logs = node_logs(results.path(), "dense_default_");
    assert_eq!(logs.len(), 2, "{logs:?}");
    let resumed = std::fs::read_to_string(&logs[1]).unwrap();
    assert!(resumed.contains("resuming from the checkpoint of epoch"), "{resumed}");
}

/// `--detach` prints the job ids and exits; `gohsp status` shows the nodes finishing.
fn detached_nodes_finish_under_status() {
    let results = results_root();
    let detached = gohsp(results.path(), &["run", MICRO, "--executor", "slurm", "--detach"]);
    detached.ok();
    assert_eq!(detached.stdout.lines().count(), 8, "one job id per node:\n{}", detached.stdout);
    let mut seen = Vec::new();
    wait_until(Duration::from_secs(180), "every node cached", || {
        let status = gohsp(results.path(), &["status", MICRO]);
        let last = status.stdout.lines().last().unwrap_or_default().to_string();
        seen.push(last.clone());
        last.starts_with("8 nodes: 8 cached")
    });
    assert!(
        seen.iter().any(|line| !line.starts_with("8 nodes: 8 cached")),
        "status saw the nodes before they finished: {seen:?}"
    );
}

/// Two drivers started together on one sweep both finish, and each node is built by one job only.
fn two_drivers_compute_each_node_once() {
    let results = results_root();
    let args = ["run", MICRO, "--set", SWEEP, "--set", POLL, "--executor", "slurm"];
    let (a, b) = (spawn(results.path(), &args), spawn(results.path(), &args));
    common::finish(a).ok();
    common::finish(b).ok();
    let mut built: Vec<String> = Vec::new();
    for run in std::fs::read_dir(results.path().join("runs/micro")).unwrap().flatten() {
        for log in std::fs::read_dir(run.path().join("slurm")).unwrap().flatten() {
            let text = std::fs::read_to_string(log.path()).unwrap_or_default();
            built.extend(text.lines().filter_map(|l| l.strip_suffix(": built")).map(String::from));
        }
    }
    built.sort();
    let total = built.len();
    built.dedup();
    assert_eq!((total, built.len()), (12, 12), "each of the 12 nodes built once: {built:?}");
}
