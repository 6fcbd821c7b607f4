//! Tests of the sweep expansion in grid.rs.

use super::*;
use serde_json::json;

fn names(tree: Value) -> Vec<String> {
    expand(&tree).unwrap().into_iter().map(|point| point.name).collect()
}

#[test]
fn no_list_gives_one_point_named_default() {
    let points = expand(&json!({"method": "gohsp", "sparsity": 0.4, "seed": 0})).unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].name, "default");
    assert_eq!(points[0].tree["sparsity"], 0.4);
}

#[test]
fn a_sparsity_list_makes_one_point_per_value() {
    let points = expand(&json!({"sparsity": [0.3, 0.5], "method": "gohsp"})).unwrap();
    assert_eq!(points.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["sparsity=0.3", "sparsity=0.5"]);
    assert_eq!(points[1].tree["sparsity"], 0.5);
}

#[test]
fn method_and_sparsity_cross_with_method_first() {
    let found = names(json!({"sparsity": [0.3, 0.5], "method": ["gohsp", "magnitude"]}));
    let expected = [
        "method=gohsp,sparsity=0.3",
        "method=gohsp,sparsity=0.5",
        "method=magnitude,sparsity=0.3",
        "method=magnitude,sparsity=0.5",
    ];
    assert_eq!(found, expected);
}

#[test]
fn grid_axes_set_nested_keys_and_single_values_stay_out_of_names() {
    let tree = json!({
        "seed": [1],
        "finetune": {"lr": 5e-4, "epochs": 5},
        "grid": {"finetune.lr": [1e-4, 5e-4], "rank": {"similarity": ["cosine", "pearson"]}},
    });
    let points = expand(&tree).unwrap();
    assert_eq!(points.len(), 4);
    assert_eq!(points[0].name, "finetune.lr=0.0001,rank.similarity=cosine");
    assert_eq!(points[3].tree["rank"]["similarity"], "pearson");
    assert_eq!(points[0].tree["finetune"]["lr"], 1e-4);
    assert_eq!(points[0].tree["finetune"]["epochs"], 5);
    assert_eq!(points[0].tree["seed"], 1);
    assert!(points[0].tree.get("grid").is_none());
}

#[test]
fn grid_method_axis_keeps_its_fixed_place() {
    let found = names(json!({"grid": {"admm.rounds": [0, 4], "method": ["gohsp", "random"]}}));
    assert_eq!(found[0], "method=gohsp,admm.rounds=0");
}

#[test]
fn grid_values_replace_nulls_with_mappings() {
    let points =
        expand(&json!({"finetune": {"distill": null}, "grid": {"finetune.distill.alpha": [0.1, 0.9]}})).unwrap();
    assert_eq!(points[1].tree["finetune"]["distill"]["alpha"], 0.9);
}

#[test]
fn empty_lists_are_errors_naming_the_key() {
    assert_eq!(expand(&json!({"sparsity": []})).unwrap_err().key, "sparsity");
    assert_eq!(expand(&json!({"grid": {"finetune.lr": []}})).unwrap_err().key, "grid.finetune.lr");
}

#[test]
fn malformed_grids_are_errors() {
    assert_eq!(expand(&json!({"grid": {"finetune.lr": 1e-4}})).unwrap_err().key, "grid.finetune.lr");
    assert_eq!(expand(&json!({"grid": [1, 2]})).unwrap_err().key, "grid");
    let both = expand(&json!({"sparsity": [0.3], "grid": {"sparsity": [0.5]}})).unwrap_err();
    assert_eq!(both.key, "sparsity");
    let repeated = expand(&json!({"sparsity": [0.3, 0.3]})).unwrap_err();
    assert!(repeated.message.contains("sparsity=0.3"));
}

#[test]
fn huge_grids_are_refused() {
    let values: Vec<u64> = (0..200).collect();
    let tree = json!({"seed": values, "grid": {"finetune.lr": values, "admm.rounds": values}});
    assert!(expand(&tree).unwrap_err().message.contains("more than"));
}
