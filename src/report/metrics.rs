//! The tidy metrics table every run writes (`metrics.csv`): one row per grid point and latency batch size.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{GohspError, IoContext, Result};

/// The file name of a run's metrics table inside its result directory.
pub const METRICS_FILE: &str = "metrics.csv";

/// One tidy row: a grid point's model measured at one latency batch size, beside the dense model.
///
/// The dense model itself appears as rows with method `dense` and target sparsity 0.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MetricsRow {
    /// The experiment (spec) name.
    pub experiment: String,
    /// Readable grid point name, e.g. `method=gohsp,sparsity=0.3`.
    pub point: String,
    /// Model preset or name.
    pub model: String,
    /// Dataset name.
    pub dataset: String,
    /// Pruning method (`dense` for the unpruned model).
    pub method: String,
    /// Seed of the run.
    pub seed: u64,
    /// Requested fraction of the dense parameters to remove.
    pub target_sparsity: f64,
    /// Fraction of the dense parameters actually removed.
    pub achieved_sparsity: f64,
    /// Parameters of the evaluated model.
    pub params: u64,
    /// Multiply-accumulates per image of the evaluated model.
    pub macs: u64,
    /// Top-1 accuracy in percent.
    pub top1: f64,
    /// Top-5 accuracy in percent (datasets with 100+ classes only).
    pub top5: Option<f64>,
    /// Top-1 of the sliced model before fine-tuning (absent for the dense model and in older files).
    #[serde(default)]
    pub one_shot_top1: Option<f64>,
    /// Parameters of the dense model.
    pub dense_params: u64,
    /// Multiply-accumulates per image of the dense model.
    pub dense_macs: u64,
    /// Top-1 accuracy of the dense model in percent.
    pub dense_top1: f64,
    /// Batch size of the latency measurement.
    pub latency_batch: usize,
    /// Median wall time of one forward pass of a batch, in milliseconds.
    pub latency_ms: f64,
    /// The dense model's median latency at the same batch size, measured in the same process.
    pub dense_latency_ms: f64,
    /// Dense latency divided by this model's latency.
    pub speedup: f64,
    /// Images per second at this batch size.
    pub throughput_ips: f64,
    /// Threads used for the latency measurement.
    pub threads: usize,
}

/// Write `rows` to `path` as CSV with a header line (parent directories must exist).
pub fn write_csv(path: &Path, rows: &[MetricsRow]) -> Result<()> {
    let file = File::create(path).at_path(path)?;
    let mut writer = csv::Writer::from_writer(file);
    for row in rows {
        writer.serialize(row).map_err(|e| csv_write_error(path, e))?;
    }
    writer.flush().at_path(path)
}

/// Read a metrics CSV written by [`write_csv`]; a malformed file is an input error naming the file and line.
pub fn read_csv(path: &Path) -> Result<Vec<MetricsRow>> {
    let file = File::open(path).map_err(|e| {
        GohspError::input(path, format!("cannot open the metrics table: {e}"), "pass a run's result directory")
    })?;
    parse_csv(file, path)
}

/// Parse metrics CSV text from `reader`; `origin` names the source in errors.
pub fn parse_csv(reader: impl Read, origin: &Path) -> Result<Vec<MetricsRow>> {
    let mut csv_reader = csv::Reader::from_reader(reader);
    let mut rows = Vec::new();
    for record in csv_reader.deserialize::<MetricsRow>() {
        rows.push(record.map_err(|e| csv_read_error(origin, e))?);
    }
    Ok(rows)
}

/// Read `metrics.csv` from each directory in `dirs`, concatenating the rows in order.
pub fn read_many(dirs: &[PathBuf]) -> Result<Vec<MetricsRow>> {
    let mut rows = Vec::new();
    for dir in dirs {
        let path = dir.join(METRICS_FILE);
        if !path.is_file() {
            return Err(GohspError::input(
                dir,
                format!("no {METRICS_FILE} in this directory"),
                "pass the result directory of a finished `gohsp run` (it holds metrics.csv)",
            ));
        }
        rows.extend(read_csv(&path)?);
    }
    Ok(rows)
}

/// Turn a CSV read failure into an input error naming the file and, when known, the line.
fn csv_read_error(path: &Path, error: csv::Error) -> GohspError {
    let line = error.position().map(|p| format!("line {}: ", p.line())).unwrap_or_default();
    let message = match error.kind() {
        csv::ErrorKind::Deserialize { err, .. } => format!("{line}{err}"),
        _ => format!("{line}{error}"),
    };
    GohspError::input(path, message, "a metrics table must be a CSV written by gohsp, with its header line")
}

/// Turn a CSV write failure into an I/O error on `path` (or an internal error when it is not I/O).
fn csv_write_error(path: &Path, error: csv::Error) -> GohspError {
    if error.is_io_error() {
        match error.into_kind() {
            csv::ErrorKind::Io(source) => return GohspError::Io { path: path.to_path_buf(), source },
            other => return GohspError::Internal(format!("{}: {other:?}", path.display())),
        }
    }
    GohspError::Internal(format!("{}: cannot write metrics row: {error}", path.display()))
}

/// A plausible row for tests: a 1M-parameter model pruned by `method` at `sparsity`.
/// Whether a method column names a dense model (`dense`, or `dense [axes]` under a grid over the dense model).
pub fn is_dense(method: &str) -> bool {
    method == "dense" || method.starts_with("dense [")
}

#[cfg(test)]
pub(crate) fn sample_row(method: &str, sparsity: f64, seed: u64, latency_batch: usize) -> MetricsRow {
    let kept = 1.0 - sparsity;
    MetricsRow {
        experiment: "fmnist_sweep".into(),
        point: format!("method={method},sparsity={sparsity}"),
        model: "vit_mnist".into(),
        dataset: "fashion_mnist".into(),
        method: method.into(),
        seed,
        target_sparsity: sparsity,
        achieved_sparsity: sparsity * 0.99,
        params: (1_000_000.0 * kept) as u64,
        macs: (50_000_000.0 * kept) as u64,
        top1: 90.0 - 10.0 * sparsity + seed as f64 * 0.1,
        top5: None,
        one_shot_top1: None,
        dense_params: 1_000_000,
        dense_macs: 50_000_000,
        dense_top1: 90.0 + seed as f64 * 0.1,
        latency_batch,
        latency_ms: 2.0 * kept * latency_batch as f64,
        dense_latency_ms: 2.0 * latency_batch as f64,
        speedup: 1.0 / kept,
        throughput_ips: 500.0 / kept,
        threads: 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METRICS_FILE);
        let mut odd = sample_row("gohsp", 0.1 + 0.2, 3, 64);
        odd.top5 = Some(0.1 + 97.023_456_789);
        odd.one_shot_top1 = Some(61.25);
        odd.latency_ms = 1e-300;
        odd.point = "method=\"gohsp\",sparsity=0.3".into();
        let rows = vec![sample_row("dense", 0.0, 0, 1), odd];
        write_csv(&path, &rows).unwrap();
        assert_eq!(read_csv(&path).unwrap(), rows);
    }

    #[test]
    fn malformed_file_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METRICS_FILE);
        write_csv(&path, &[sample_row("gohsp", 0.3, 0, 1), sample_row("gohsp", 0.3, 1, 1)]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap().replacen(",0.3,", ",thirty,", 2);
        std::fs::write(&path, text).unwrap();
        let err = read_csv(&path).unwrap_err();
        assert!(err.is_user_error());
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains("line 2"), "{message}");
    }

    #[test]
    fn read_many_concatenates_and_names_a_missing_dir() {
        let root = tempfile::tempdir().unwrap();
        let dirs = vec![root.path().join("a"), root.path().join("b")];
        dirs.iter().for_each(|d| std::fs::create_dir(d).unwrap());
        write_csv(&dirs[0].join(METRICS_FILE), &[sample_row("dense", 0.0, 0, 1)]).unwrap();
        write_csv(&dirs[1].join(METRICS_FILE), &[sample_row("random", 0.5, 0, 1)]).unwrap();
        let rows = read_many(&dirs).unwrap();
        assert_eq!(rows.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(), ["dense", "random"]);
        let missing = dirs[0].join("nowhere");
        let err = read_many(std::slice::from_ref(&missing)).unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains(&missing.display().to_string()));
    }
}
