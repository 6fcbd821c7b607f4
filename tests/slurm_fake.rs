//! The Slurm executor against a fake Slurm: scripts on PATH that record their arguments and play back job states.

mod common;

use common::{MICRO, Output, command, finish, gohsp, results_root};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The fake commands. Each records its arguments (separated by \x1f) in `<name>.calls`; sbatch numbers jobs from
/// 101 and keeps `id|name|comment` in `jobs`; squeue prints every job with the state in `state.<id>`, else `state`,
/// else PENDING; sacct says accounting is disabled; with a file `refuse`, sbatch refuses every job after the first
/// with that file's text.
const FAKES: &[(&str, &str)] = &[
    (
        "sbatch",
        r#"d="$FAKE_SLURM"; record sbatch "$@"
if [ -f "$d/refuse" ] && [ -f "$d/next" ]; then cat "$d/refuse" >&2; exit 1; fi
n=$(( $(cat "$d/next" 2>/dev/null || echo 100) + 1 )); echo $n > "$d/next"
name=; comment=
for a in "$@"; do case "$a" in --job-name=*) name=${a#--job-name=};; --comment=*) comment=${a#--comment=};; esac; done
echo "$n|$name|$comment" >> "$d/jobs"; echo "$n""#,
    ),
    (
        "squeue",
        r#"d="$FAKE_SLURM"; record squeue "$@"
[ -f "$d/jobs" ] || exit 0
while IFS='|' read -r id name comment; do
  state=$(cat "$d/state.$id" 2>/dev/null || cat "$d/state" 2>/dev/null || echo PENDING)
  echo "$id|$state|None|$name|$comment"
done < "$d/jobs""#,
    ),
    ("sacct", r#"record sacct "$@"; echo "Slurm accounting storage is disabled" >&2; exit 1"#),
    ("scancel", r#"record scancel "$@""#),
];

/// A fake Slurm in a temp folder: `bin/` goes first on PATH, the recordings live beside it.
struct FakeSlurm {
    dir: tempfile::TempDir,
}

impl FakeSlurm {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        let record = r#"record() { n=$1; shift; { for a in "$@"; do printf '%s\037' "$a"; done; echo; } >> "$FAKE_SLURM/$n.calls"; }"#;
        for (name, body) in FAKES {
            let path = dir.path().join("bin").join(name);
            std::fs::write(&path, format!("#!/bin/bash\n{record}\n{body}\n")).unwrap();
            std::process::Command::new("chmod").arg("+x").arg(&path).status().unwrap();
        }
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Every recorded call of `name`, as argument lists.
    fn calls(&self, name: &str) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.path().join(format!("{name}.calls"))).unwrap_or_default();
        text.lines().map(|line| line.split('\x1f').filter(|a| !a.is_empty()).map(String::from).collect()).collect()
    }

    /// Every job's state from now on (unless a job has its own).
    fn set_state(&self, state: &str) {
        std::fs::write(self.path().join("state"), state).unwrap();
    }

    /// Runs gohsp with the fake first on PATH.
    fn gohsp(&self, results: &Path, args: &[&str]) -> Output {
        let path = format!("{}:{}", self.path().join("bin").display(), std::env::var("PATH").unwrap_or_default());
        let child = command(results, args)
            .env("PATH", path)
            .env("FAKE_SLURM", self.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        finish(child)
    }
}

/// `--flag=value` of one sbatch call.
fn flag<'a>(call: &'a [String], name: &str) -> Option<&'a str> {
    call.iter().find_map(|a| a.strip_prefix(&format!("--{name}=")))
}

/// sbatch calls by node label (from `--comment=<label> key=<key>`).
fn by_label(calls: &[Vec<String>]) -> HashMap<String, Vec<String>> {
    let label = |call: &Vec<String>| flag(call, "comment").unwrap().split(" key=").next().unwrap().to_string();
    calls.iter().map(|call| (label(call), call.clone())).collect()
}

const SWEEP: &str = "sparsity=[0.3,0.5]";
const FAST_POLL: &str = "executor.slurm.poll_seconds=0.05";

#[test]
fn a_detached_sweep_submits_one_job_per_node_with_its_resources_and_dependencies() {
    let (fake, results) = (FakeSlurm::new(), results_root());
    let profile = fake.path().join("cluster.yaml");
    std::fs::write(
        &profile,
        "executor:\n  slurm:\n    signal_seconds: 120\n    defaults: { partition: cpu, time: '1:00:00', cpus: 2 }\n    \
         pretrain: { partition: gpu, gpus: 1 }\n    admm: { partition: gpu, gpus: 1, extra: ['--qos=long'] }\n    \
         finetune: { partition: gpu, gpus: 1 }\n    rank: { mem: 4G }\n",
    )
    .unwrap();
    let profile = profile.to_str().unwrap();
    let args = ["run", MICRO, "--set", SWEEP, "--executor", "slurm", "--detach", "--profile", profile];
    let out = fake.gohsp(results.path(), &args);
    out.ok();
    let calls = fake.calls("sbatch");
    assert_eq!(calls.len(), 12, "one job per node:\n{}", out.stderr);
    let jobs = by_label(&calls);
    let id_of: HashMap<String, String> =
        out.stdout.lines().filter_map(|l| l.split_once('\t')).map(|(l, id)| (l.to_string(), id.to_string())).collect();
    assert_eq!(id_of.len(), 12, "stdout lists every job id:\n{}", out.stdout);
    let names: Vec<&str> = calls.iter().map(|c| flag(c, "job-name").unwrap()).collect();
    assert!(names.iter().all(|n| n.starts_with("gohsp-micro-") && *n == names[0]), "{names:?}");
    for (label, call) in &jobs {
        let gpu = ["dense", "admm", "finetune"].iter().any(|k| label.starts_with(k));
        assert_eq!(call.contains(&"--gres=gpu:1".to_string()), gpu, "{label}: {call:?}");
        assert_eq!(flag(call, "partition"), Some(if gpu { "gpu" } else { "cpu" }), "{label}");
        assert_eq!(flag(call, "time"), Some("1:00:00"), "{label}");
        assert_eq!(flag(call, "cpus-per-task"), Some("2"), "{label}");
        assert_eq!(flag(call, "signal"), Some("B:USR2@120"), "{label}");
        assert!(call.contains(&"--parsable".to_string()) && call.contains(&"--kill-on-invalid-dep=yes".to_string()));
        let log = flag(call, "output").unwrap();
        assert!(log.contains("/runs/micro/") && log.contains("/slurm/") && log.ends_with(".%j.log"), "{log}");
        let script = std::fs::read_to_string(call.last().unwrap()).unwrap();
        assert!(script.contains("run-node") && script.contains("--key"), "{script}");
    }
    assert_eq!(flag(&jobs["rank[default]"], "mem"), Some("4G"));
    assert!(jobs["admm[sparsity=0.3]"].contains(&"--qos=long".to_string()));
    // The chain: one dense job and one rank job; everything else runs after them.
    let after = |label: &str| flag(&jobs[label], "dependency").map(|d| d.trim_start_matches("afterok:").to_string());
    assert_eq!(after("dense[default]"), None);
    assert_eq!(after("rank[default]"), Some(id_of["dense[default]"].clone()));
    for s in ["0.3", "0.5"] {
        let admm = after(&format!("admm[sparsity={s}]")).unwrap();
        let admm: Vec<&str> = admm.split(':').collect();
        assert!(admm.contains(&id_of["rank[default]"].as_str()), "admm[{s}] after {admm:?}");
        assert_eq!(
            after(&format!("prune[sparsity={s}]")).unwrap().split(':').next(),
            Some(id_of[&format!("admm[sparsity={s}]")].as_str())
        );
        let finetune = after(&format!("finetune[sparsity={s}]")).unwrap();
        assert!(finetune.split(':').any(|id| id == id_of[&format!("prune[sparsity={s}]")]), "{finetune}");
    }
    assert!(fake.calls("squeue").iter().any(|c| c.contains(&"--me".to_string())), "looked for jobs to adopt");

    let status = fake.gohsp(results.path(), &["status", MICRO, "--set", SWEEP]);
    status.ok();
    assert!(
        status.stdout.contains("12 nodes: 0 cached, 12 queued, 0 running, 0 failed, 0 missing"),
        "{}",
        status.stdout
    );
    let run_json = std::fs::read_to_string(run_json_of(results.path())).unwrap();
    let run: serde_json::Value = serde_json::from_str(&run_json).unwrap();
    assert_eq!(run["slurm"]["jobs"].as_array().unwrap().len(), 12);
    assert!(
        run["slurm"]["jobs"][0]["log"]
            .as_str()
            .unwrap()
            .ends_with(&format!(".{}.log", run["slurm"]["jobs"][0]["job_id"].as_str().unwrap()))
    );
}

/// The newest run.json of the micro experiment.
fn run_json_of(results: &Path) -> PathBuf {
    let mut runs: Vec<PathBuf> =
        std::fs::read_dir(results.join("runs/micro")).unwrap().map(|e| e.unwrap().path()).collect();
    runs.sort();
    runs.last().unwrap().join("run.json")
}

#[test]
fn cached_nodes_are_not_submitted_queued_ones_are_adopted_and_a_rerun_submits_only_what_is_missing() {
    let (fake, results) = (FakeSlurm::new(), results_root());
    gohsp(results.path(), &["run", MICRO]).ok();
    let detach = ["run", MICRO, "--set", SWEEP, "--executor", "slurm", "--detach"];
    fake.gohsp(results.path(), &detach).ok();
    let mut labels: Vec<String> = by_label(&fake.calls("sbatch")).into_keys().collect();
    labels.sort();
    let want = [
        "admm[sparsity=0.5]",
        "evaluate[sparsity=0.5]",
        "finetune[sparsity=0.5]",
        "prune[sparsity=0.5]",
        "report[micro]",
    ];
    assert_eq!(labels, want, "only the nodes of sparsity 0.5 and the report");
    let first = fake.calls("sbatch");
    assert_eq!(flag(&first[0], "dependency"), None, "admm[0.5]'s inputs are cached: nothing to wait for");

    let again = fake.gohsp(results.path(), &detach);
    again.ok();
    assert_eq!(fake.calls("sbatch").len(), 5, "queued jobs are adopted, not submitted twice:\n{}", again.stderr);
    assert!(again.stderr.contains("submitted 0 jobs (5 adopted"), "{}", again.stderr);

    fake.set_state("CANCELLED");
    fake.gohsp(results.path(), &detach).ok();
    assert_eq!(fake.calls("sbatch").len(), 10, "the cancelled nodes are submitted again, and nothing else");
}

#[test]
fn every_failure_state_is_reported_by_name_with_the_log_and_the_nodes_after_it_are_skipped() {
    for state in ["TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "CANCELLED"] {
        let (fake, results) = (FakeSlurm::new(), results_root());
        fake.set_state(state);
        let out = fake.gohsp(results.path(), &["run", MICRO, "--executor", "slurm", "--set", FAST_POLL]);
        out.expect_code(1);
        let line = out.stderr.lines().find(|l| l.trim_start().starts_with("dense[default]")).unwrap();
        assert!(line.contains(&format!("FAILED: {state} (job 101")) && line.contains(".101.log"), "{state}: {line}");
        let rank = out.stderr.lines().find(|l| l.trim_start().starts_with("rank[default]")).unwrap();
        assert!(rank.contains("skipped"), "{rank}");
        assert!(fake.calls("sacct").len() == 1, "sacct is tried once, then squeue answers");
        let status = fake.gohsp(results.path(), &["status", MICRO]);
        let dense = status.stdout.lines().find(|l| l.starts_with("dense[default]")).unwrap().to_string();
        assert!(
            dense.contains(&format!("failed: {state} (job 101")) && dense.contains("slurm/dense_default_.101.log"),
            "{dense}"
        );
    }
}

#[test]
fn polling_makes_one_scheduler_call_per_interval_whatever_the_number_of_jobs() {
    let (fake, results) = (FakeSlurm::new(), results_root());
    fake.set_state("TIMEOUT");
    let out = fake.gohsp(results.path(), &["run", MICRO, "--set", SWEEP, "--executor", "slurm", "--set", FAST_POLL]);
    out.expect_code(1);
    let polls: Vec<Vec<String>> =
        fake.calls("squeue").into_iter().filter(|c| !c.contains(&"--me".to_string())).collect();
    assert_eq!(polls.len(), 1, "12 jobs, one poll call: {polls:?}");
    assert!(polls[0].iter().any(|a| a.starts_with("--name=gohsp-micro-")), "{:?}", polls[0]);
}

#[test]
fn a_refused_submission_shows_slurms_message_and_cancels_the_jobs_already_submitted() {
    let (fake, results) = (FakeSlurm::new(), results_root());
    let message = "sbatch: error: Batch job submission failed: Invalid partition name specified";
    std::fs::write(fake.path().join("refuse"), message).unwrap();
    let out = fake.gohsp(results.path(), &["run", MICRO, "--set", SWEEP, "--executor", "slurm", "--detach"]);
    out.expect_code(2);
    let error = out.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    assert!(error.contains("sbatch refused the job of") && error.contains(message), "{}", out.stderr);
    assert_eq!(fake.calls("scancel"), vec![vec!["101".to_string()]], "the one job submitted is cancelled");
    assert!(common::cache_entries(results.path()).is_empty());
}

#[test]
fn missing_slurm_commands_are_an_exit_2_error_naming_them() {
    let results = results_root();
    let empty = tempfile::tempdir().unwrap();
    let child = command(results.path(), &["run", MICRO, "--executor", "slurm"])
        .env("PATH", empty.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = finish(child);
    out.expect_code(2);
    let error = out.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
    assert!(error.contains("`squeue` was not found on PATH"), "{}", out.stderr);
}

#[test]
fn usr2_stops_a_node_after_its_checkpoint_and_a_rerun_resumes_from_it() {
    let results = results_root();
    let epochs = "pretrain.epochs=40";
    let plan = gohsp(results.path(), &["plan", MICRO, "--set", epochs]);
    let dense = plan.stdout.lines().find(|l| l.contains("dense[default]")).unwrap();
    let key = dense.split_whitespace().nth(1).unwrap().to_string();
    let args = ["run-node", MICRO, "--set", epochs, "--key", &key];
    let mut child = command(results.path(), &args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("epoch done") && line.contains("run=pretrain") {
                let _ = tx.send(());
            }
            lines.push(line);
        }
        lines
    });
    rx.recv().expect("an epoch of pre-training finishes");
    std::process::Command::new("kill").args(["-USR2", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let log = reader.join().unwrap().join("\n");
    assert_eq!(status.code(), Some(1), "stopped with the stage's error code:\n{log}");
    assert!(log.contains("stopped by USR2 after saving the checkpoint of epoch"), "{log}");
    let marker = "checkpoint of epoch ";
    let stopped_at: usize = log[log.find(marker).unwrap() + marker.len()..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(stopped_at < 40, "stopped at the end, not early: {stopped_at}");
    assert!(common::entries_of(results.path(), "pretrain").is_empty(), "a stopped node commits no entry");
    let again = gohsp(results.path(), &args);
    again.ok();
    assert!(again.stderr.contains("resuming from the checkpoint of epoch"), "{}", again.stderr);
    assert_eq!(common::entries_of(results.path(), "pretrain").len(), 1);
}
