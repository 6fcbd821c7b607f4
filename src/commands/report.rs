//! `gohsp report`: merge the metrics of several finished runs into one table set and accuracy plot.

use super::stdout::outln;
use crate::error::Result;
use crate::report::aggregate::aggregate;
use crate::report::metrics::read_many;
use crate::report::plot_accuracy::plot_accuracy;
use crate::report::table::write_tables;
use std::path::{Path, PathBuf};

/// Read metrics.csv from each of `dirs`, write tables and the accuracy plot to `out`, print the Markdown table.
pub(crate) fn report(dirs: &[PathBuf], out: &Path) -> Result<i32> {
    let rows = read_many(dirs)?;
    let formats: Vec<String> = ["md", "csv", "tex"].map(String::from).to_vec();
    write_tables(&rows, out, &formats)?;
    plot_accuracy(&aggregate(&rows), &out.join("accuracy_vs_sparsity"), &["svg".into(), "png".into()])?;
    outln!("{}", std::fs::read_to_string(out.join("results.md")).unwrap_or_default());
    eprintln!("report: {}", out.display());
    Ok(0)
}
