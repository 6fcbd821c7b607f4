//! The component-ablation methods on the micro spec: gohsp-random-heads (the graph's per-block head counts, random heads
//! inside each block, same ADMM), gohsp-random-heads-global (random head scores ranked globally) and gohsp-one-shot
//! (the graph's heads, ADMM's projection once, no ADMM training), next to gohsp.

mod common;

use common::{MICRO, entries_of, gohsp, ran_labels, results_root};
use serde_json::Value;
use std::path::{Path, PathBuf};

const METHODS: [&str; 2] = ["--set", "method=[gohsp,gohsp-random-heads,gohsp-one-shot]"];

fn json(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The prune entries' (method, kept heads per block), from prune.json and mask.json.
fn pruned_heads(results: &Path) -> Vec<(String, Value)> {
    entries_of(results, "prune")
        .into_iter()
        .map(|dir| {
            (
                json(dir.join("prune.json"))["method"].as_str().unwrap().to_string(),
                json(dir.join("mask.json"))["heads"].clone(),
            )
        })
        .collect()
}

#[test]
fn one_shot_keeps_gohsps_heads_without_admm_and_random_heads_keep_gohsps_per_block_counts() {
    let results = results_root();
    let out = gohsp(results.path(), &["run", MICRO, METHODS[0], METHODS[1]]);
    out.ok();
    let ran = ran_labels(&out.stderr);
    let count = |prefix: &str| ran.iter().filter(|l| l.starts_with(prefix)).count();
    // The graph ranking is shared by all three (one key): random heads take their per-block counts from it.
    assert_eq!(count("rank["), 1, "ran: {ran:?}");
    assert_eq!(count("admm["), 2, "gohsp and gohsp-random-heads train ADMM, gohsp-one-shot does not: {ran:?}");
    assert_eq!(count("finetune["), 3, "ran: {ran:?}");
    assert_eq!(entries_of(results.path(), "rank").len(), 1);

    let heads = pruned_heads(results.path());
    let of = |method: &str| heads.iter().find(|(m, _)| m == method).map(|(_, h)| h.clone()).unwrap();
    assert_eq!(of("gohsp-one-shot"), of("gohsp"), "one-shot prunes the heads GOHSP's ADMM was constrained to");
    let kept = |heads: Value| -> Vec<usize> {
        heads
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_array().unwrap().iter().filter(|k| k.as_bool().unwrap()).count())
            .collect()
    };
    assert_eq!(kept(of("gohsp-random-heads")), kept(of("gohsp")), "random heads keep GOHSP's per-block head counts");
    for dir in entries_of(results.path(), "finetune") {
        let epochs = json(dir.join("train_log.json")).as_array().unwrap().len();
        // micro.yaml: finetune.epochs 1, admm 2 rounds x 1 epoch. Two chains (ADMM) fine-tune 1 epoch, one-shot 3.
        assert!(epochs == 1 || epochs == 3, "{}: {epochs} epochs", dir.display());
    }
    let one_shot_epochs = entries_of(results.path(), "finetune")
        .into_iter()
        .filter(|d| json(d.join("train_log.json")).as_array().unwrap().len() == 3)
        .count();
    assert_eq!(one_shot_epochs, 1, "gohsp-one-shot alone gets ADMM's epochs as fine-tuning");
}

#[test]
fn one_shot_plans_no_admm_node_and_the_random_rankings_key_carries_its_seed() {
    let results = results_root();
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", MICRO];
        args.extend_from_slice(extra);
        let out = gohsp(results.path(), &args);
        out.ok();
        out.stdout
    };
    let one_shot = plan(&["--set", "method=gohsp-one-shot"]);
    assert!(!one_shot.contains("admm["), "no ADMM node for gohsp-one-shot:\n{one_shot}");
    assert!(one_shot.contains("rank["), "gohsp-one-shot ranks heads:\n{one_shot}");
    let random = |seed: &str| {
        let out = plan(&["--set", "method=gohsp-random-heads-global", "--set", seed]);
        out.lines().find(|l| l.contains(" rank[")).map(|l| l.split_whitespace().nth(1).unwrap().to_string()).unwrap()
    };
    assert_ne!(random("seed=0"), random("seed=1"), "the random ranking's key carries its seed");
    let within = plan(&["--set", "method=[gohsp,gohsp-random-heads]"]);
    let ranks = within.lines().filter(|l| l.contains(" rank[")).count();
    assert_eq!(ranks, 1, "within-block random heads read GOHSP's graph ranking:\n{within}");
}

#[test]
fn planning_gohsp_with_one_admm_round_warns_that_the_dual_never_acts() {
    let results = results_root();
    let out = gohsp(results.path(), &["plan", MICRO, "--set", "admm.rounds=1"]);
    out.ok();
    let warning =
        out.stderr.lines().find(|l| l.contains("WARN")).unwrap_or_else(|| panic!("no warning:\n{}", out.stderr));
    assert!(warning.contains("key `admm.rounds`: 1 with method gohsp"), "{warning}");
    assert!(
        warning.contains("the dual step never acts")
            && warning.contains("gohsp-one-shot is the single-projection method")
    );
    let two = gohsp(results.path(), &["plan", MICRO]);
    two.ok();
    assert!(!two.stderr.contains("admm.rounds"), "micro.yaml's 2 rounds are ADMM:\n{}", two.stderr);
}
