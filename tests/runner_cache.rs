//! The cached runner end to end on the micro spec: hits on rerun, shared sweep nodes, key changes, corrupt entries,
//! concurrent processes, status and gc, and run.json provenance.

mod common;

use common::{
    MICRO, cache_entries, entries_of, finish, gohsp, labels_with, ran_labels, read_tensors, results_root, spawn,
    summary_statuses,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every node label of the micro spec's DAG.
const MICRO_LABELS: [&str; 8] = [
    "dense[default]",
    "evaluate[dense,default]",
    "rank[default]",
    "admm[default]",
    "prune[default]",
    "finetune[default]",
    "evaluate[default]",
    "report[micro]",
];

fn set_of(labels: &[&str]) -> BTreeSet<String> {
    labels.iter().map(|s| s.to_string()).collect()
}

/// The 12-hex short keys `gohsp plan` prints, by label.
fn plan_keys(results: &Path, args: &[&str]) -> BTreeMap<String, String> {
    let mut all = vec!["plan", MICRO];
    all.extend_from_slice(args);
    let out = gohsp(results, &all);
    out.ok();
    out.stdout
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let (_state, key, label) = (words.next()?, words.next()?, words.next()?);
            Some((label.trim_end_matches(':').to_string(), key.to_string()))
        })
        .collect()
}

#[test]
fn second_run_finds_every_stage_cached() {
    // How fast the cached rerun is gets measured in the README, not asserted here.
    let results = results_root();
    let first = gohsp(results.path(), &["run", MICRO]);
    first.ok();
    assert_eq!(labels_with(&first.stderr, "ran").into_iter().collect::<BTreeSet<_>>(), set_of(&MICRO_LABELS));
    let second = gohsp(results.path(), &["run", MICRO]);
    second.ok();
    assert!(second.stderr.contains("no stage ran"), "stderr:\n{}", second.stderr);
    assert!(ran_labels(&second.stderr).is_empty(), "stderr:\n{}", second.stderr);
    assert_eq!(labels_with(&second.stderr, "cached").into_iter().collect::<BTreeSet<_>>(), set_of(&MICRO_LABELS));
    assert_eq!(first.stdout, second.stdout, "the cached run prints another table");
}

#[test]
fn a_sweep_trains_the_dense_model_and_ranks_heads_once() {
    let results = results_root();
    let sweep = ["--set", "sparsity=[0.2,0.3]"];
    let planned = plan_keys(results.path(), &sweep);
    let count = |prefix: &str| planned.keys().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(count("dense["), 1, "plan: {planned:?}");
    assert_eq!(count("rank["), 1, "plan: {planned:?}");
    assert_eq!(count("admm["), 2, "plan: {planned:?}");
    assert_eq!(count("finetune["), 2, "plan: {planned:?}");

    let out = gohsp(results.path(), &["run", MICRO, sweep[0], sweep[1]]);
    out.ok();
    let ran = ran_labels(&out.stderr);
    assert_eq!(ran.iter().filter(|l| l.starts_with("dense[")).count(), 1, "ran: {ran:?}");
    assert_eq!(ran.iter().filter(|l| l.starts_with("rank[")).count(), 1, "ran: {ran:?}");
    assert_eq!(entries_of(results.path(), "pretrain").len(), 1);
    assert_eq!(entries_of(results.path(), "rank").len(), 1);
    assert_eq!(entries_of(results.path(), "finetune").len(), 2);
}

#[test]
fn changing_finetune_lr_reruns_admm_and_after_and_finetune_epochs_only_finetune_and_after() {
    let results = results_root();
    gohsp(results.path(), &["run", MICRO]).ok();

    let explain =
        gohsp(results.path(), &["explain", MICRO, "--set", "finetune.lr=1e-3", "--node", "finetune[default]"]);
    explain.ok();
    assert!(
        explain.stdout.lines().any(|l| l.contains("lr") && l.contains("0.0005") && l.contains("0.001")),
        "explain should name lr with its old and new values:\n{}",
        explain.stdout
    );

    // The ADMM W-step runs the fine-tune recipe (admm.lr unset), so its lr reruns ADMM too; rank and dense stay.
    let rerun = gohsp(results.path(), &["run", MICRO, "--set", "finetune.lr=1e-3"]);
    rerun.ok();
    let ran: BTreeSet<String> = labels_with(&rerun.stderr, "ran").into_iter().collect();
    let downstream = ["admm[default]", "prune[default]", "finetune[default]", "evaluate[default]", "report[micro]"];
    assert_eq!(ran, set_of(&downstream), "stderr:\n{}", rerun.stderr);
    let cached: BTreeSet<String> = labels_with(&rerun.stderr, "cached").into_iter().collect();
    assert_eq!(cached, set_of(&["dense[default]", "evaluate[dense,default]", "rank[default]"]));

    // The W-step's epochs are ADMM's own: more fine-tuning epochs rerun only fine-tuning and after.
    let rerun = gohsp(results.path(), &["run", MICRO, "--set", "finetune.lr=1e-3", "--set", "finetune.epochs=2"]);
    rerun.ok();
    let ran: BTreeSet<String> = labels_with(&rerun.stderr, "ran").into_iter().collect();
    assert_eq!(ran, set_of(&["finetune[default]", "evaluate[default]", "report[micro]"]), "stderr:\n{}", rerun.stderr);
    let cached: BTreeSet<String> = labels_with(&rerun.stderr, "cached").into_iter().collect();
    assert_eq!(
        cached,
        set_of(&["dense[default]", "evaluate[dense,default]", "rank[default]", "admm[default]", "prune[default]"])
    );
}

#[test]
fn a_truncated_artifact_is_rebuilt_alone() {
    let results = results_root();
    gohsp(results.path(), &["run", MICRO]).ok();
    let finetune = entries_of(results.path(), "finetune");
    assert_eq!(finetune.len(), 1);
    let model = finetune[0].join("model.safetensors");
    let size = std::fs::metadata(&model).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&model).unwrap().set_len(size / 2).unwrap();

    let rerun = gohsp(results.path(), &["run", MICRO]);
    rerun.ok();
    let warning = rerun.stderr.lines().find(|l| l.contains("WARN") && l.contains("corrupt"));
    let warning = warning.unwrap_or_else(|| panic!("no warning about the corrupt entry:\n{}", rerun.stderr));
    assert!(warning.contains("finetune[default]") && warning.contains("model.safetensors"), "{warning}");
    assert_eq!(ran_labels(&rerun.stderr), vec!["finetune[default]".to_string()], "stderr:\n{}", rerun.stderr);
    assert_eq!(std::fs::metadata(&model).unwrap().len(), size, "the rebuilt entry has another size");
    assert!(read_tensors(&model).contains_key("head.weight"));
}

#[test]
fn concurrent_runs_compute_each_node_once_and_agree() {
    let results = results_root();
    let (a, b) = (spawn(results.path(), &["run", MICRO]), spawn(results.path(), &["run", MICRO]));
    let (a, b) = (finish(a), finish(b));
    a.ok();
    b.ok();
    assert!(!a.stdout.trim().is_empty());
    assert_eq!(a.stdout, b.stdout, "the two processes print different tables");
    let (ran_a, ran_b) = (ran_labels(&a.stderr), ran_labels(&b.stderr));
    let mut all = ran_a.clone();
    all.extend(ran_b.iter().cloned());
    let unique: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(all.len(), unique.len(), "a node ran in both processes: {ran_a:?} and {ran_b:?}");
    assert_eq!(unique, set_of(&MICRO_LABELS), "every node ran in one of the processes");
    for stderr in [&a.stderr, &b.stderr] {
        let statuses = summary_statuses(stderr);
        assert_eq!(statuses.len(), MICRO_LABELS.len(), "stderr:\n{stderr}");
        assert!(statuses.values().all(|s| s == "ran" || s == "cached"), "{statuses:?}");
    }
    assert_eq!(entries_of(results.path(), "pretrain").len(), 1);
    assert_eq!(cache_entries(results.path()).len(), MICRO_LABELS.len());
}

#[test]
fn status_lists_entries_and_gc_keeps_what_the_spec_reaches() {
    let results = results_root();
    gohsp(results.path(), &["run", MICRO, "--set", "seed=1"]).ok();
    gohsp(results.path(), &["run", MICRO]).ok();
    let entries = cache_entries(results.path());
    let reachable: BTreeSet<String> = plan_keys(results.path(), &[]).into_values().collect();
    let short = |dir: &Path| dir.file_name().unwrap().to_string_lossy()[..12].to_string();
    let removable: Vec<String> = entries.iter().map(|(_, d)| short(d)).filter(|k| !reachable.contains(k)).collect();
    assert!(!removable.is_empty(), "the seed=1 run left no entry of its own");
    assert_eq!(entries.len(), reachable.len() + removable.len());

    let status = gohsp(results.path(), &["status"]);
    status.ok();
    for (_, dir) in &entries {
        assert!(status.stdout.contains(&short(dir)), "status does not list {}:\n{}", dir.display(), status.stdout);
    }
    assert!(status.stdout.contains(&format!("{} entries", entries.len())), "{}", status.stdout);

    let dry = gohsp(results.path(), &["gc", "--dry-run", "--keep", MICRO]);
    dry.ok();
    let want = format!("would remove {} entries", removable.len());
    assert!(dry.stdout.contains(&want), "want `{want}`:\n{}", dry.stdout);
    assert!(dry.stdout.contains(&format!("kept {}", reachable.len())), "{}", dry.stdout);
    assert_eq!(cache_entries(results.path()), entries, "a dry run removed entries");

    gohsp(results.path(), &["gc", "--keep", MICRO]).ok();
    let left: BTreeSet<String> = cache_entries(results.path()).iter().map(|(_, d)| short(d)).collect();
    assert_eq!(left, reachable, "gc should remove exactly the unreachable entries");
    let rerun = gohsp(results.path(), &["run", MICRO]);
    rerun.ok();
    assert!(rerun.stderr.contains("no stage ran"), "gc removed something the spec needs:\n{}", rerun.stderr);
}

#[test]
fn gc_dry_run_lists_each_removable_entry() {
    let results = results_root();
    let variant = ["--set", "seed=1", "--set", "pretrain.epochs=1"];
    gohsp(results.path(), &["run", MICRO, variant[0], variant[1], variant[2], variant[3]]).ok();
    let dry = gohsp(results.path(), &["gc", "--dry-run", "--keep", MICRO]);
    dry.ok();
    for (_, dir) in cache_entries(results.path()) {
        let key = &dir.file_name().unwrap().to_string_lossy()[..12];
        assert!(
            dry.stdout.contains(key),
            "the dry run does not say it would remove {}:\n{}",
            dir.display(),
            dry.stdout
        );
    }
}

#[test]
fn entries_live_at_results_cache_kind_key() {
    // docs/design.md section 6 and the doc of `Cache`: an entry is results/cache/<kind>/<key>/.
    let results = results_root();
    gohsp(results.path(), &["run", MICRO]).ok();
    for (kind, dir) in cache_entries(results.path()) {
        let want = results.path().join("cache").join(&kind).join(dir.file_name().unwrap());
        assert_eq!(dir, want, "entry of kind {kind} is not at results/cache/<kind>/<key>");
    }
}

#[test]
fn run_json_records_provenance() {
    let results = results_root();
    gohsp(results.path(), &["run", MICRO]).ok();
    let runs: Vec<_> =
        std::fs::read_dir(results.path().join("runs/micro")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(runs[0].join("run.json")).unwrap()).unwrap();
    let obj = record.as_object().unwrap();
    assert!(obj.contains_key("git"), "run.json has no git field: {record}");
    if common::crate_dir().join(".git").exists() {
        let commit = record["git"]["commit"].as_str().unwrap_or_else(|| panic!("no git commit: {}", record["git"]));
        assert!(commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()), "commit {commit}");
    }
    assert_eq!(record["crate_version"], env!("CARGO_PKG_VERSION"));
    assert!(record["environment"]["threads"].as_u64().is_some_and(|t| t >= 1), "{}", record["environment"]);
    assert_eq!(record["spec"]["name"], "micro");
    let nodes = record["nodes"].as_array().unwrap();
    let labels: BTreeSet<String> = nodes.iter().map(|n| n["label"].as_str().unwrap().to_string()).collect();
    assert_eq!(labels, set_of(&MICRO_LABELS));
    for node in nodes {
        assert_eq!(node["status"], "ran", "{node}");
        assert!(node["wall_s"].as_f64().is_some_and(|w| w >= 0.0), "{node}");
    }
    let total: f64 = nodes.iter().map(|n| n["wall_s"].as_f64().unwrap()).sum();
    assert!(total > 0.0, "every node's wall time is zero");
}
