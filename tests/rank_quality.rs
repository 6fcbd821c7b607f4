//! The rank-quality report on the micro spec: off by default (no node, the report key as before), and when switched
//! on one stage per dense model judging each graph variant, weight norm, Taylor and random against the oracle.

mod common;

use common::{MICRO, entries_of, gohsp, results_root};
use serde_json::Value;

#[test]
fn rank_quality_judges_every_graph_variant_and_the_three_other_criteria() {
    let results = results_root();
    let off = gohsp(results.path(), &["plan", MICRO]);
    off.ok();
    assert!(!off.stdout.contains("rank_quality["), "off by default:\n{}", off.stdout);
    let args = ["run", MICRO, "--set", "report.rank_quality=true", "--set", "grid.rank.direction=[backward,both]"];
    let out = gohsp(results.path(), &args);
    out.ok();
    let entries = entries_of(results.path(), "rank_quality");
    assert_eq!(entries.len(), 1, "one dense model, one judgement");
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(entries[0].join("rank_quality.json")).unwrap()).unwrap();
    let names: Vec<&str> = record["criteria"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["graph [rank.direction=backward]", "graph [rank.direction=both]", "weight norm", "taylor", "random"]
    );
    let oracle = record["oracle"].as_array().unwrap();
    assert_eq!(oracle.iter().map(|b| b.as_array().unwrap().len()).collect::<Vec<_>>(), [2, 2], "micro: 2 x 2 heads");
    for criterion in record["criteria"].as_array().unwrap() {
        assert_eq!(criterion["curve"].as_array().unwrap().len(), 2, "k = 1..H_total/2");
        assert!(criterion["global"]["spearman"].is_f64(), "{criterion}");
    }
    let report = results.path().join("micro");
    for file in [
        "rank_quality.md",
        "rank_quality.csv",
        "rank_quality_curves.csv",
        "rank_quality_oracle.csv",
        "plots/rank_quality.svg",
    ] {
        assert!(report.join(file).is_file(), "{file} missing from the report");
    }
    let results_md = std::fs::read_to_string(report.join("results.md")).unwrap();
    assert!(results_md.contains("## Rank quality") && results_md.contains("| taylor |"), "{results_md}");
    let csv = std::fs::read_to_string(report.join("rank_quality.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 5 * 3, "header + 5 criteria x (all heads + 2 blocks)");
}
