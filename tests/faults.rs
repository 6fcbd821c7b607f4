//! Fault injection against the binary on the micro spec: seeded kills after the k-th file write at every stage
//! (including torn writes inside checkpoints), a full disk, damaged cache entries and checkpoints, and concurrent runs
//! on one results folder. After each fault a plain rerun must end with the reference result: the same models (blake3),
//! masks, ranking and top-1/top-5 as an uninterrupted run. Each test prints its counts (`faults: ...`).

mod common;

use common::{MICRO, cache_entries, command, gohsp, ran_labels, results_root};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

/// The files whose content must be bit-identical between runs (timing fields live elsewhere).
const EXACT_FILES: [&str; 4] = ["model.safetensors", "mask.json", "ranking.json", "prune.json"];

/// What a finished run is judged by: entry/file -> blake3, and entry/eval field -> value.
type Signature = BTreeMap<String, String>;

/// One file write of the reference run: its number, the node running then, and the path written.
#[derive(Clone, Debug)]
struct Write {
    n: u64,
    label: String,
    path: String,
}

struct Reference {
    signature: Signature,
    writes: Vec<Write>,
}

fn signature(results: &Path) -> Signature {
    let mut sig = Signature::new();
    for (kind, dir) in cache_entries(results) {
        let key = dir.file_name().unwrap().to_string_lossy()[..12].to_string();
        let sums: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("checksums.json")).unwrap()).unwrap();
        for file in EXACT_FILES {
            if let Some(hash) = sums["files"][file]["blake3"].as_str() {
                sig.insert(format!("{kind}/{key}/{file}"), hash.to_string());
            }
        }
        if let Ok(text) = std::fs::read_to_string(dir.join("eval.json")) {
            let eval: serde_json::Value = serde_json::from_str(&text).unwrap();
            for field in ["top1", "top5", "params", "macs"] {
                sig.insert(format!("{kind}/{key}/eval.{field}"), eval[field].to_string());
            }
        }
    }
    sig
}

/// The uninterrupted run, once per test process, with every file write traced.
fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let results = results_root();
        let out = command(results.path(), &["run", MICRO])
            .env("GOHSP_LOG", "info,gohsp::fault=trace")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "reference run failed:\n{stderr}");
        let mut writes = Vec::new();
        let mut label = String::new();
        for line in stderr.lines() {
            if let Some(found) = ran_labels(line).pop() {
                label = found;
            }
            if let Some(rest) = line.split(" write=").nth(1) {
                let (n, path) = rest.split_once(" path=").unwrap();
                writes.push(Write { n: n.parse().unwrap(), label: label.clone(), path: path.to_string() });
            }
        }
        assert!(writes.len() > 40, "too few traced writes:\n{stderr}");
        Reference { signature: signature(results.path()), writes }
    })
}

/// A plain run that must succeed and end with the reference result; returns its stderr.
fn rerun_matches_reference(results: &Path, context: &str) -> String {
    let out = gohsp(results, &["run", MICRO]);
    assert_eq!(out.code, 0, "{context}: the rerun failed:\n{}", out.stderr);
    let got = signature(results);
    let want = &reference().signature;
    for (name, value) in want {
        assert_eq!(got.get(name), Some(value), "{context}: {name} differs from the reference\n{}", out.stderr);
    }
    assert_eq!(got.len(), want.len(), "{context}: different entries");
    out.stderr
}

/// Runs the micro spec, aborting after write `k` (torn when `tear`); returns stderr.
fn run_killed_at(results: &Path, k: u64, tear: bool) -> String {
    let out = command(results, &["run", MICRO])
        .env("GOHSP_FAULT_ABORT_AFTER_WRITES", k.to_string())
        .env("GOHSP_FAULT_TEAR", if tear { "1" } else { "0" })
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "write {k}: the run was not killed:\n{stderr}");
    assert!(stderr.contains("fault injection: aborting"), "write {k}: not killed by the fault hook:\n{stderr}");
    stderr
}

/// A small deterministic generator (SplitMix64), so the kill points are seeded and reproducible.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

fn in_checkpoint(w: &Write) -> bool {
    w.path.contains("/work/")
}

/// Seeded kill points: two per node, five for the training nodes (four of them inside checkpoint writes).
fn kill_points(seed: u64) -> Vec<(u64, bool)> {
    let writes = &reference().writes;
    let mut labels: Vec<&str> = writes.iter().map(|w| w.label.as_str()).collect();
    labels.dedup();
    let mut rng = SplitMix(seed);
    let mut points = Vec::new();
    for label in labels {
        let of_node: Vec<&Write> = writes.iter().filter(|w| w.label == label).collect();
        let ckpt: Vec<&Write> = of_node.iter().copied().filter(|w| in_checkpoint(w)).collect();
        let picks = if ckpt.is_empty() { 2 } else { 5 };
        for i in 0..picks {
            let pool = if !ckpt.is_empty() && i < 4 { &ckpt } else { &of_node };
            let write = rng.pick(pool);
            let point = (write.n, rng.next().is_multiple_of(2));
            if !points.contains(&point) {
                points.push(point);
            }
        }
    }
    points
}

#[test]
fn seeded_kills_at_every_stage_then_a_plain_rerun_ends_with_the_reference() {
    let points = kill_points(11);
    let writes = &reference().writes;
    let (mut survived, mut in_ckpt, mut torn, mut resumed) = (0, 0, 0, 0);
    let mut nodes = std::collections::BTreeSet::new();
    for &(k, tear) in &points {
        let write = writes.iter().find(|w| w.n == k).unwrap();
        let results = results_root();
        run_killed_at(results.path(), k, tear);
        let context = format!("kill after write {k} ({} {}, torn {tear})", write.label, write.path);
        let stderr = rerun_matches_reference(results.path(), &context);
        // A kill after a checkpoint of the node was published, but before its entry was committed, must resume from
        // that checkpoint, not restart the node.
        let of_node = |w: &&Write| w.n <= k && w.label == write.label;
        let published = writes.iter().filter(of_node).any(|w| w.path.contains("/ckpt-"));
        let committed =
            writes.iter().filter(of_node).any(|w| w.path.contains("/cache/") && !w.path.contains("/cache/tmp/"));
        if published && !committed {
            assert!(stderr.contains("resuming from the checkpoint"), "{context}: did not resume:\n{stderr}");
            resumed += 1;
        }
        survived += 1;
        in_ckpt += usize::from(in_checkpoint(write));
        torn += usize::from(tear);
        nodes.insert(write.label.clone());
    }
    let timed = timed_sigkills(11, 4);
    println!(
        "faults: kills survived: {} ({survived} after a seeded write across {} nodes: {in_ckpt} inside checkpoint writes, {torn} torn writes, {resumed} resumed from a checkpoint; {timed} SIGKILLs at seeded times)",
        survived + timed,
        nodes.len()
    );
    assert!(survived >= 20, "only {survived} kills");
    assert!(in_ckpt >= 10, "only {in_ckpt} kills inside checkpoints");
}

/// `count` runs killed with SIGKILL after a seeded delay within the reference run's duration, each followed by a
/// plain rerun that must end with the reference; returns how many were killed before they finished.
fn timed_sigkills(seed: u64, count: usize) -> usize {
    let mut rng = SplitMix(seed);
    let mut killed = 0;
    for _ in 0..count {
        let results = results_root();
        let delay = std::time::Duration::from_millis(300 + rng.next() % 2500);
        let mut child = command(results.path(), &["run", MICRO])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap_or(());
        child.wait().unwrap();
        rerun_matches_reference(results.path(), &format!("SIGKILL after {delay:?}"));
        killed += usize::from(!finished);
    }
    killed
}

/// Damages one file: truncate, flip a bit, empty it or delete it.
fn damage(path: &Path, how: &str) {
    match how {
        "truncate" => {
            let len = std::fs::metadata(path).unwrap().len();
            std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(len / 2).unwrap();
        }
        "bit-flip" => {
            let mut bytes = std::fs::read(path).unwrap();
            let at = bytes.len() / 2;
            bytes[at] ^= 0x04;
            std::fs::write(path, bytes).unwrap();
        }
        "empty" => std::fs::write(path, b"").unwrap(),
        "delete" => std::fs::remove_file(path).unwrap(),
        other => panic!("unknown damage {other}"),
    }
}

const DAMAGES: [&str; 4] = ["truncate", "bit-flip", "empty", "delete"];

#[test]
fn damaged_cache_entries_are_detected_named_and_rebuilt() {
    let results = results_root();
    rerun_matches_reference(results.path(), "first run");
    let targets = [
        ("pretrain", "model.safetensors"),
        ("rank", "ranking.json"),
        ("admm", "mask.json"),
        ("prune", "model.safetensors"),
        ("finetune", "model.safetensors"),
        ("evaluate", "eval.json"),
    ];
    let mut detected = 0;
    for (i, (kind, file)) in targets.iter().enumerate() {
        for how in [DAMAGES[i % 4], DAMAGES[(i + 1) % 4]] {
            let entry = cache_entries(results.path()).into_iter().find(|(k, _)| k == kind).unwrap().1;
            damage(&entry.join(file), how);
            let context = format!("{how} of {kind}/{file}");
            let stderr = rerun_matches_reference(results.path(), &context);
            let named = stderr.lines().any(|l| l.contains("corrupt cache entry") && l.contains(file));
            assert!(named, "{context}: not reported as a corrupt entry naming the file:\n{stderr}");
            detected += 1;
        }
    }
    println!("faults: cache-entry corruptions detected and rebuilt: {detected}");
}

/// The checkpoint folders of a node kind under RESULTS/work, newest last.
fn checkpoints_of(results: &Path, kind: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for key in std::fs::read_dir(results.join("work").join(kind)).unwrap().flatten() {
        for ckpt in std::fs::read_dir(key.path()).unwrap().flatten() {
            if ckpt.file_name().to_string_lossy().starts_with("ckpt-") {
                found.push(ckpt.path());
            }
        }
    }
    found.sort();
    found
}

/// The write that published checkpoint `nth` (1-based) of the node `label` in the reference run.
fn publish_write(label: &str, nth: usize) -> u64 {
    let published: Vec<&Write> =
        reference().writes.iter().filter(|w| w.label == label && w.path.contains("/ckpt-")).collect();
    published[nth - 1].n
}

#[test]
fn damaged_checkpoints_are_discarded_by_name_and_the_run_falls_back() {
    let cases = [
        ("dense[default]", "pretrain", 2, "model.safetensors", "truncate"),
        ("dense[default]", "pretrain", 2, "optimizer.bpk", "bit-flip"),
        ("dense[default]", "pretrain", 3, "progress.json", "empty"),
        ("dense[default]", "pretrain", 3, "checksums.json", "delete"),
        ("admm[default]", "admm", 1, "admm_state.safetensors", "bit-flip"),
        ("finetune[default]", "finetune", 1, "optimizer.bpk", "truncate"),
    ];
    let mut detected = 0;
    for (label, kind, nth, file, how) in cases {
        let results = results_root();
        run_killed_at(results.path(), publish_write(label, nth), false);
        let newest = checkpoints_of(results.path(), kind).pop().unwrap();
        assert!(newest.ends_with(format!("ckpt-{nth:06}")), "{}", newest.display());
        damage(&newest.join(file), how);
        let context = format!("{how} of {label} checkpoint {nth} {file}");
        let stderr = rerun_matches_reference(results.path(), &context);
        let named = stderr.lines().any(|l| l.contains("discarding a torn or corrupt checkpoint") && l.contains(file));
        assert!(named, "{context}: the damaged checkpoint file was not named:\n{stderr}");
        if nth > 1 {
            let marker = format!("resuming from the checkpoint of epoch {}", nth - 1);
            assert!(stderr.contains(&marker), "{context}: did not fall back to the previous checkpoint:\n{stderr}");
        }
        detected += 1;
    }
    println!("faults: checkpoint corruptions detected and fallen back from: {detected}");
}

#[test]
fn three_concurrent_runs_compute_each_node_once() {
    let results = results_root();
    let children: Vec<_> = (0..3)
        .map(|_| {
            command(results.path(), &["run", MICRO])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ran = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "a concurrent run failed:\n{stderr}");
        ran.extend(ran_labels(&stderr));
    }
    let mut unique = ran.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ran.len(), unique.len(), "some node ran twice: {ran:?}");
    assert_eq!(
        unique.len(),
        reference().writes.iter().map(|w| &w.label).collect::<std::collections::BTreeSet<_>>().len()
    );
    rerun_matches_reference(results.path(), "after three concurrent runs");
    println!("faults: concurrent runs: 3, nodes computed once each: {}", unique.len());
}

/// Root may mount a tmpfs; anyone else skips (CI runs as root).
fn mount_tmpfs(dir: &Path, size: &str) -> Result<(), String> {
    let out = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mount: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_string()) }
}

#[test]
fn a_full_disk_fails_with_one_line_and_a_rerun_with_room_ends_with_the_reference() {
    let dir = results_root();
    if let Err(why) = mount_tmpfs(dir.path(), "128k") {
        println!("faults: disk-full test skipped: cannot mount a tmpfs ({why}); it needs root, which CI has");
        return;
    }
    let results = dir.path().to_path_buf();
    let unmount = scopeguard(&results);
    let full = gohsp(&results, &["run", MICRO]);
    assert_ne!(full.code, 0, "the run fitted in 128 KiB:\n{}", full.stderr);
    let errors: Vec<&str> = full.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "want one error line:\n{}", full.stderr);
    let line = errors[0];
    assert!(line.contains("No space left on device") && line.contains("hint:"), "{line}");
    assert!(!line.contains("Io(") && !full.stderr.contains("panicked"), "{}", full.stderr);
    let failed_write = first_failed_write(&full.stderr);
    assert!(!failed_write.ends_with("run.json"), "the first failed write was run.json:\n{}", full.stderr);
    assert!(
        line.contains(&failed_write),
        "the error line does not name the file whose write failed ({failed_write}): {line}"
    );
    let remount = std::process::Command::new("mount").args(["-o", "remount,size=64m"]).arg(&results).status().unwrap();
    assert!(remount.success());
    rerun_matches_reference(&results, "after the disk got room");
    drop(unmount);
    println!("faults: disk full: failed with `{line}`, rerun with room matched the reference");
}

/// The path in the first logged node failure "failed: cannot access PATH: REASON": the file whose write failed.
fn first_failed_write(stderr: &str) -> String {
    let line = stderr.lines().find(|l| l.contains(" failed: cannot access ")).unwrap_or_else(|| {
        panic!("no node failure naming a file in the log:\n{stderr}");
    });
    let after = line.split(" failed: cannot access ").nth(1).unwrap();
    after.split(": ").next().unwrap().to_string()
}

/// Unmounts the tmpfs at `path` when dropped.
struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn scopeguard(path: &Path) -> Unmount {
    Unmount(path.to_path_buf())
}

#[test]
fn gc_refuses_while_a_spec_fails_to_plan_unless_forced() {
    let results = results_root();
    gohsp(results.path(), &["run", MICRO]).ok();
    let before = cache_entries(results.path());
    let dir = tempfile::tempdir().unwrap();
    let unmounted = dir.path().join("unmounted.yaml");
    let text = std::fs::read_to_string(common::crate_dir().join(MICRO)).unwrap();
    let text = text.replace("dataset: { name: mnist5k,", "dataset: { name: mnist, root: /nonexistent/mnist,");
    std::fs::write(&unmounted, text).unwrap();
    let spec = unmounted.to_str().unwrap();

    let refused = gohsp(results.path(), &["gc", "--keep", spec]);
    refused.expect_code(2);
    let line = refused.stderr.lines().find(|l| l.starts_with("error:")).unwrap();
    assert!(line.contains("unmounted.yaml") && line.contains("dataset.root") && line.contains("--force"), "{line}");
    assert_eq!(cache_entries(results.path()), before, "gc removed entries while a spec failed to plan");

    let dry = gohsp(results.path(), &["gc", "--dry-run", "--force", "--keep", spec]);
    dry.ok();
    let listed = dry.stdout.lines().filter(|l| l.starts_with("would remove:") && l.contains("KiB")).count();
    assert_eq!(listed, before.len(), "the dry run lists every entry with its size:\n{}", dry.stdout);
    assert_eq!(cache_entries(results.path()), before, "a dry run removed entries");

    gohsp(results.path(), &["gc", "--force", "--keep", spec]).ok();
    assert!(cache_entries(results.path()).is_empty(), "--force removes what no spec that plans reaches");
}
