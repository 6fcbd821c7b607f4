//! Report rows of a grid: points that build the same evaluation (a baseline under an axis only ADMM reads) are one row,
//! named without that axis, while the points the axis does change keep it in their names.

mod common;

use common::{MICRO, gohsp, ran_labels, results_root};

#[test]
fn a_baseline_under_an_admm_axis_is_one_row_and_gohsp_keeps_one_row_per_value() {
    let results = results_root();
    let out = gohsp(
        results.path(),
        &["run", MICRO, "--set", "method=[gohsp,magnitude]", "--set", "grid={admm.rho: [1.0e-2, 1.0e-1]}"],
    );
    out.ok();
    let ran = ran_labels(&out.stderr);
    assert_eq!(ran.iter().filter(|l| l.starts_with("evaluate[method=magnitude")).count(), 1, "ran: {ran:?}");

    let table = std::fs::read_to_string(results.path().join("micro/results.md")).unwrap();
    let methods: Vec<&str> =
        table.lines().filter(|l| l.starts_with("| vit_mnist |")).map(|l| l.split('|').nth(2).unwrap().trim()).collect();
    assert_eq!(methods, ["dense", "gohsp [admm.rho=0.01]", "gohsp [admm.rho=0.1]", "magnitude"], "{table}");

    let csv = std::fs::read_to_string(results.path().join("micro/metrics.csv")).unwrap();
    let magnitude_rows: Vec<&str> = csv.lines().filter(|l| l.contains(",magnitude,")).collect();
    assert_eq!(magnitude_rows.len(), 1, "{csv}");
    assert!(magnitude_rows[0].starts_with("micro,method=magnitude,"), "the point is named without admm.rho: {csv}");
}

#[test]
fn dense_models_of_a_grid_over_their_training_are_rows_of_their_own() {
    let results = results_root();
    let out = gohsp(results.path(), &["run", MICRO, "--set", "grid={pretrain.epochs: [1, 2]}"]);
    out.ok();
    let table = std::fs::read_to_string(results.path().join("micro/results.md")).unwrap();
    let methods: Vec<&str> =
        table.lines().filter(|l| l.starts_with("| vit_mnist |")).map(|l| l.split('|').nth(2).unwrap().trim()).collect();
    let expected = ["dense [pretrain.epochs=1]", "dense [pretrain.epochs=2]"];
    assert_eq!(&methods[..2], expected, "each dense model is its own row, not one row over both: {table}");
    let dense_rows = table.lines().filter(|l| l.starts_with("| vit_mnist | dense"));
    assert!(dense_rows.clone().all(|l| !l.contains("**")), "no dense row is bold as the best pruning method: {table}");
    assert_eq!(dense_rows.count(), 2, "{table}");
}
