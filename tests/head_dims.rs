//! `admm.head_dims` end to end on the micro spec: q/k pairs pruned inside kept heads, the sliced model's shape and
//! cost, cache keys of runs without it unchanged, and bad values rejected.

mod common;

use common::{MICRO, entries_of, gohsp, results_root};
use std::collections::BTreeMap;
use std::path::Path;

/// The 12-hex short keys `gohsp plan` prints, by label.
fn plan_keys(results: &Path, sets: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["plan", MICRO];
    sets.iter().for_each(|s| args.extend(["--set", s]));
    let out = gohsp(results, &args);
    out.ok();
    let node = |line: &str| {
        let mut words = line.split_whitespace();
        let (_state, key, label) = (words.next()?, words.next()?, words.next()?);
        Some((label.trim_end_matches(':').to_string(), key.to_string()))
    };
    out.stdout.lines().skip(1).filter_map(node).collect()
}

#[test]
fn without_head_dims_the_pair_minimum_changes_no_key_and_with_it_only_admm_and_later_change() {
    let results = results_root();
    let plain = plan_keys(results.path(), &[]);
    assert!(plain.contains_key("admm[default]"), "{plain:?}");
    assert_eq!(plan_keys(results.path(), &["admm.min_head_dims=3"]), plain, "head_dims 0 ignores min_head_dims");
    let pruned = plan_keys(results.path(), &["admm.head_dims=0.5"]);
    for label in ["dense[default]", "rank[default]", "evaluate[dense,default]"] {
        assert_eq!(pruned[label], plain[label], "{label} does not depend on head_dims");
    }
    for label in ["admm[default]", "prune[default]", "finetune[default]", "evaluate[default]"] {
        assert_ne!(pruned[label], plain[label], "{label} depends on head_dims");
    }
}

#[test]
fn head_dims_prunes_query_key_pairs_inside_the_kept_heads() {
    let results = results_root();
    let out = gohsp(results.path(), &["run", MICRO, "--set", "admm.head_dims=1.0", "--set", "admm.min_head_dims=2"]);
    out.ok();
    let prune = entries_of(results.path(), "prune");
    assert_eq!(prune.len(), 1);
    let model = prune[0].join("model.safetensors");
    let inspect = gohsp(results.path(), &["inspect", "--weights", model.to_str().unwrap(), "--json"]);
    inspect.ok();
    let value: serde_json::Value = serde_json::from_str(&inspect.stdout).expect("inspect --json prints JSON");
    let blocks = value["shape"]["blocks"].as_array().expect("blocks");
    // The micro model: width 32, 2 blocks of 2 heads of 16; with head_dims 1 every head stays and only pairs go.
    let heads: Vec<u64> = blocks.iter().map(|b| b["heads"].as_u64().unwrap()).collect();
    let qk: Vec<u64> = blocks.iter().map(|b| b["qk_dim"].as_u64().unwrap_or(16)).collect();
    assert_eq!(heads, vec![2, 2]);
    assert!(qk.iter().all(|&q| (2..=16).contains(&q)) && qk.iter().any(|&q| q < 16), "qk dims {qk:?}");
    assert!(blocks.iter().all(|b| b["head_dim"] == 16));
    let kept = value["kept_qk_dims"].as_array().expect("the manifest lists the kept q/k dimensions");
    for (block, q) in kept.iter().zip(&qk) {
        for head in block.as_array().unwrap() {
            assert_eq!(head.as_array().unwrap().len() as u64, *q);
        }
    }
    let table = gohsp(results.path(), &["inspect", "--weights", model.to_str().unwrap()]);
    table.ok();
    assert!(table.stdout.contains("qk_dim"), "{}", table.stdout);
    // The report's achieved sparsity comes from the sliced model: near the 30% target, the pairs included.
    let metrics = std::fs::read_to_string(results.path().join("micro/metrics.csv")).expect("metrics.csv");
    let header: Vec<&str> = metrics.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "achieved_sparsity").expect("achieved_sparsity column");
    let gohsp_row = metrics.lines().find(|l| l.contains(",gohsp,")).expect("a gohsp row");
    let achieved: f64 = gohsp_row.split(',').nth(column).unwrap().parse().unwrap();
    assert!((achieved - 0.3).abs() < 0.02, "achieved sparsity {achieved}");
}

#[test]
fn bad_head_dims_values_exit_2_naming_the_key() {
    let results = results_root();
    let cases: [(&[&str], &str); 3] = [
        (&["admm.head_dims=1.5"], "admm.head_dims"),
        (&["admm.min_head_dims=0"], "admm.min_head_dims"),
        // The micro model's heads have 16 q/k dimensions: keeping 16 leaves no pair to prune.
        (&["admm.head_dims=0.5", "admm.min_head_dims=16"], "admm.min_head_dims"),
    ];
    for (sets, key) in cases {
        let mut args = vec!["plan", MICRO];
        sets.iter().for_each(|s| args.extend(["--set", s]));
        let out = gohsp(results.path(), &args);
        out.expect_code(2);
        assert!(out.stderr.contains(key), "{sets:?}: {}", out.stderr);
    }
}
