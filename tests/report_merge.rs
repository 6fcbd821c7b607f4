//! `gohsp report DIR... -o OUT` merges the metrics of several finished runs into one table set and accuracy plot.

use gohsp::report::metrics::{read_csv, write_csv};
use std::path::Path;
use std::process::Command;

/// Split the fixture metrics into two run folders: one model per folder.
fn two_runs(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report/metrics.csv");
    let rows = read_csv(&fixture).unwrap();
    let mut dirs = Vec::new();
    for model in ["deit_tiny", "deit_small"] {
        let dir = root.join(model);
        std::fs::create_dir_all(&dir).unwrap();
        let mine: Vec<_> = rows.iter().filter(|r| r.model == model).cloned().collect();
        assert!(mine.iter().any(|r| r.method != "dense"));
        write_csv(&dir.join("metrics.csv"), &mine).unwrap();
        dirs.push(dir);
    }
    (dirs[0].clone(), dirs[1].clone())
}

#[test]
fn report_merges_runs_into_one_table_and_plot() {
    let work = tempfile::tempdir().unwrap();
    let (a, b) = two_runs(work.path());
    let out = work.path().join("merged");
    let run =
        Command::new(env!("CARGO_BIN_EXE_gohsp")).arg("report").arg(&a).arg(&b).arg("-o").arg(&out).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let table = std::fs::read_to_string(out.join("results.md")).unwrap();
    assert_eq!(String::from_utf8_lossy(&run.stdout).trim(), table.trim(), "the table is printed on stdout");
    assert!(table.contains("| deit_tiny | gohsp |") && table.contains("| deit_small | gohsp |"), "{table}");
    for file in ["results.csv", "results.tex", "accuracy_vs_sparsity.svg", "accuracy_vs_sparsity.png"] {
        assert!(out.join(file).is_file(), "{file} written");
    }
}

#[test]
fn report_on_a_folder_without_metrics_is_a_clear_error() {
    let work = tempfile::tempdir().unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_gohsp"))
        .arg("report")
        .arg(work.path())
        .arg("-o")
        .arg(work.path().join("o"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("metrics.csv") && stderr.contains("hint"), "{stderr}");
}
