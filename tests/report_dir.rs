//! `report.dir`: a report is published where the spec says (the committed reference reports live in docs/results/),
//! and where it goes is in no cache key.

mod common;

use common::{MICRO, gohsp, results_root};

/// The report node's line of `gohsp plan`.
fn report_line(results: &std::path::Path, extra: &[&str]) -> String {
    let out = gohsp(results, &[&["plan", MICRO][..], extra].concat());
    out.ok();
    out.stdout.lines().find(|l| l.contains("report[micro]")).expect("a report node").to_string()
}

#[test]
fn a_report_goes_to_report_dir_and_the_dir_changes_no_key() {
    let results = results_root();
    let published = results.path().join("elsewhere/micro_report");
    let dir = format!("report.dir={}", published.display());
    assert_eq!(report_line(results.path(), &[]), report_line(results.path(), &["--set", &dir]));
    gohsp(results.path(), &["run", MICRO, "--set", &dir]).ok();
    assert!(published.join("results.md").is_file(), "published to report.dir");
    assert!(!results.path().join("micro").exists(), "not to RESULTS/NAME");
}
