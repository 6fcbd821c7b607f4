//! Shared helpers of the integration tests: run the `gohsp` binary on a results root, parse its logs, list cache entries.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The crate root (tests run the binary from here, so relative fixture paths resolve).
pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under tests/fixtures.
pub(crate) fn fixture(rel: &str) -> PathBuf {
    crate_dir().join("tests/fixtures").join(rel)
}

/// The micro spec (a few seconds per run), as a path relative to the crate root.
pub(crate) const MICRO: &str = "tests/fixtures/specs/micro.yaml";

/// What one run of the binary left behind.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr (logs, summary, errors).
    pub stderr: String,
}

impl Output {
    /// Panics with both streams unless the exit code is `code`.
    pub(crate) fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics unless the run succeeded.
    pub(crate) fn ok(&self) -> &Self {
        self.expect_code(0)
    }
}

/// A `gohsp` command on the results root `results`, run from the crate root with no inherited `GOHSP_*` variables.
pub(crate) fn command(results: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gohsp"));
    cmd.current_dir(crate_dir());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GOHSP_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("GOHSP_LOG", "info").env("NO_COLOR", "1");
    cmd.arg("--results").arg(results).args(args);
    cmd
}

/// Runs `gohsp --results RESULTS ARGS...` to completion.
pub(crate) fn gohsp(results: &Path, args: &[&str]) -> Output {
    let out = command(results, args).stdin(Stdio::null()).output().expect("gohsp binary starts");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Starts `gohsp --results RESULTS ARGS...` with piped stdout and stderr.
pub(crate) fn spawn(results: &Path, args: &[&str]) -> Child {
    command(results, args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gohsp binary starts")
}

/// Waits for a spawned child and collects its output.
pub(crate) fn finish(child: Child) -> Output {
    let out = child.wait_with_output().expect("gohsp finishes");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A fresh results root in a temp folder.
pub(crate) fn results_root() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("gohsp-itest-").tempdir().expect("temp dir")
}

/// The labels of the nodes a run's log says it started (`INFO run LABEL (KEY)` lines), in order.
pub(crate) fn ran_labels(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|line| {
            let rest = &line[line.find(" INFO run ")? + " INFO run ".len()..];
            Some(rest[..rest.rfind(" (").unwrap_or(rest.len())].to_string())
        })
        .collect()
}

/// The per-node lines of a run's closing summary: label -> `ran` | `cached` | the raw status.
pub(crate) fn summary_statuses(stderr: &str) -> BTreeMap<String, String> {
    stderr
        .lines()
        .filter(|line| line.starts_with("  ") && !line.trim().is_empty())
        .filter_map(|line| {
            let line = line.trim();
            let (label, status) = line.split_once(char::is_whitespace)?;
            let status = status.trim();
            let status = if status.starts_with("ran in") { "ran" } else { status };
            Some((label.to_string(), status.to_string()))
        })
        .collect()
}

/// The labels whose summary status is `status` (`ran` or `cached`), sorted.
pub(crate) fn labels_with(stderr: &str, status: &str) -> Vec<String> {
    summary_statuses(stderr).into_iter().filter(|(_, s)| s == status).map(|(label, _)| label).collect()
}

/// Every committed cache entry under RESULTS/cache, as (kind, entry folder), sorted. An entry is a folder holding a
/// `stage.json`; its kind is its parent folder's name. Searching the whole tree keeps the "no entry was written"
/// checks meaningful wherever the entries are; the documented layout itself is checked by one test in runner_cache.
pub(crate) fn cache_entries(results: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    walk(&results.join("cache"), &mut found);
    found.sort();
    found
}

/// The committed entries of one stage kind (`pretrain`, `finetune`, ...), excluding temp folders.
pub(crate) fn entries_of(results: &Path, kind: &str) -> Vec<PathBuf> {
    cache_entries(results).into_iter().filter(|(k, _)| k == kind).map(|(_, dir)| dir).collect()
}

fn walk(dir: &Path, found: &mut Vec<(String, PathBuf)>) {
    let Ok(read) = std::fs::read_dir(dir) else { return };
    for entry in read.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.join("stage.json").is_file() {
            let kind = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if kind != "tmp" {
                found.push((kind, path));
            }
        } else {
            walk(&path, found);
        }
    }
}

/// Reads a safetensors file's tensors (via the library).
pub(crate) fn read_tensors(path: &Path) -> gohsp::model::host::NamedTensors {
    gohsp::model::io::read_checkpoint(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).tensors
}

/// Seeded tensors whose every value (biases included) is non-zero and large enough for a removed group to matter.
pub(crate) fn busy_tensors(shape: &gohsp::model::shape::VitShape, seed: u64) -> gohsp::model::host::NamedTensors {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut tensors = gohsp::model::init::init_tensors(shape, seed);
    for (name, t) in tensors.iter_mut() {
        let base = if name.contains("norm") && name.ends_with(".weight") { 1.0 } else { 0.0 };
        t.data.iter_mut().for_each(|v| *v = base + rng.gen_range(-0.3f32..0.3));
    }
    tensors
}

/// `keep` of `n` entries true, chosen by `rng`.
pub(crate) fn random_keep(rng: &mut rand::rngs::StdRng, n: usize, keep: usize) -> Vec<bool> {
    let mut order: Vec<usize> = (0..n).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), rng);
    let mut row = vec![false; n];
    order.into_iter().take(keep).for_each(|i| row[i] = true);
    row
}

/// train/ and val/ with two classes of real sample images (JPEG and PNG), copied from tests/fixtures/images.
pub(crate) fn tiny_imagenet(root: &Path) {
    let mut images: Vec<PathBuf> = std::fs::read_dir(fixture("images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg" || x == "png"))
        .collect();
    images.sort();
    for (split, copies) in [("train", 4), ("val", 2)] {
        for (class, offset) in [("n01440764", 0), ("n01443537", 1)] {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..copies {
                let source = &images[(offset + 2 * i) % images.len()];
                let ext = source.extension().unwrap().to_str().unwrap();
                std::fs::copy(source, dir.join(format!("img{i}.{ext}"))).unwrap();
            }
        }
    }
}

/// `--set` values that run experiments/deit_tiny_30.yaml on a tiny ImageNet-style folder `root` with the checkpoint
/// `weights` in seconds (one ADMM round, one fine-tune epoch, batches of 4), plus `extra`.
pub(crate) fn deit_tiny_micro_sets(root: &Path, weights: &Path, extra: &[&str]) -> Vec<String> {
    let mut sets = vec![format!("dataset.root={}", root.display()), format!("model.weights={}", weights.display())];
    let micro = ["rank.calib_samples=4", "admm.rounds=1", "admm.batch=4", "finetune.epochs=1", "finetune.batch=4"];
    let quick_evaluation =
        ["evaluate.latency_batches=[1]", "evaluate.latency_runs=1", "evaluate.warmup=0", "evaluate.batch=4"];
    sets.extend(micro.iter().chain(&quick_evaluation).chain(extra).map(|s| s.to_string()));
    sets
}
