//! The paper-style results table: seed-averaged rows rendered as Markdown and LaTeX (booktabs), plus the tidy CSV.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{GohspError, IoContext, Result};
use crate::report::aggregate::{AggregatedRow, aggregate};
use crate::report::metrics::{MetricsRow, is_dense, write_csv};

/// Column headers: (Markdown, LaTeX).
const HEADERS: [(&str, &str); 11] = [
    ("model", "model"),
    ("method", "method"),
    ("target sparsity (%)", "target sparsity (\\%)"),
    ("achieved sparsity (%)", "achieved sparsity (\\%)"),
    ("params (M)", "params (M)"),
    ("GMACs", "GMACs"),
    ("one-shot top-1 (%)", "one-shot top-1 (\\%)"),
    ("top-1 (%)", "top-1 (\\%)"),
    ("Δ top-1", "$\\Delta$ top-1"),
    ("latency (ms)", "latency (ms)"),
    ("speedup (×)", "speedup ($\\times$)"),
];
/// Index of the top-1 column, the one that may be bold.
const TOP1_COLUMN: usize = 7;

/// One formatted table row: plain-text cells and whether its top-1 is the best of its group.
struct TableRow {
    cells: [String; 11],
    bold_top1: bool,
}

/// Render the rows of one latency batch (None: the smallest present) as a Markdown table with a caption line.
pub(crate) fn render_markdown(rows: &[AggregatedRow], latency_batch: Option<usize>) -> String {
    let (selected, caption) = select(rows, latency_batch);
    let mut out = markdown_line(HEADERS.iter().map(|h| h.0.to_string()));
    out += &markdown_line((0..HEADERS.len()).map(|i| if i < 2 { ":--".to_string() } else { "--:".to_string() }));
    for row in table_rows(&selected) {
        let cells = row.cells.iter().enumerate().map(|(i, cell)| {
            let cell = cell.replace('|', "\\|");
            if i == TOP1_COLUMN && row.bold_top1 { format!("**{cell}**") } else { cell }
        });
        out += &markdown_line(cells);
    }
    out + "\n" + &caption + "\n"
}

/// Render the rows of one latency batch (None: the smallest present) as a LaTeX booktabs table.
pub(crate) fn render_latex(rows: &[AggregatedRow], latency_batch: Option<usize>) -> String {
    let (selected, caption) = select(rows, latency_batch);
    let mut out = String::from("\\begin{table}[t]\n\\centering\n");
    out += &format!("\\caption{{{}}}\n", latex_escape(&caption).replace('±', "$\\pm$"));
    out += &format!("\\begin{{tabular}}{{ll{}}}\n\\toprule\n", "r".repeat(HEADERS.len() - 2));
    out += &(HEADERS.map(|h| h.1).join(" & ") + " \\\\\n\\midrule\n");
    let table = table_rows(&selected);
    for (i, row) in table.iter().enumerate() {
        if i > 0 && row.cells[0] != table[i - 1].cells[0] {
            out += "\\midrule\n";
        }
        let cells = row.cells.iter().enumerate().map(|(i, cell)| {
            let cell = latex_escape(cell).replace(" ± ", " $\\pm$ ");
            if i == TOP1_COLUMN && row.bold_top1 { format!("\\textbf{{{cell}}}") } else { cell }
        });
        out += &(cells.collect::<Vec<_>>().join(" & ") + " \\\\\n");
    }
    out + "\\bottomrule\n\\end{tabular}\n\\end{table}\n"
}

/// Write the tables named in `formats` (md, tex, csv) into `out_dir` as results.{md,tex,csv}.
///
/// The CSV is the tidy, per-seed table; md and tex show the seed averages at the smallest latency batch.
pub(crate) fn write_tables(rows: &[MetricsRow], out_dir: &Path, formats: &[String]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).at_path(out_dir)?;
    let aggregated = aggregate(rows);
    let mut written = Vec::new();
    for format in formats {
        let path = out_dir.join(format!("results.{format}"));
        match format.as_str() {
            "md" => std::fs::write(&path, render_markdown(&aggregated, None)).at_path(&path)?,
            "tex" => std::fs::write(&path, render_latex(&aggregated, None)).at_path(&path)?,
            "csv" => write_csv(&path, rows)?,
            other => {
                return Err(GohspError::usage(format!("unknown table format `{other}`"), "use md, tex or csv"));
            }
        }
        written.push(path);
    }
    Ok(written)
}

/// The rows of the chosen latency batch, sorted, and the caption describing them.
fn select(rows: &[AggregatedRow], latency_batch: Option<usize>) -> (Vec<AggregatedRow>, String) {
    let batch = latency_batch.or_else(|| rows.iter().map(|r| r.latency_batch).min());
    let mut selected: Vec<AggregatedRow> = rows.iter().filter(|r| Some(r.latency_batch) == batch).cloned().collect();
    selected.sort_by(|a, b| {
        (&a.model, &a.dataset)
            .cmp(&(&b.model, &b.dataset))
            .then(a.target_sparsity.total_cmp(&b.target_sparsity))
            .then((!is_dense(&a.method), &a.method).cmp(&(!is_dense(&b.method), &b.method)))
    });
    let threads: BTreeSet<u64> = selected.iter().map(|r| r.threads.round() as u64).collect();
    let threads: Vec<String> = threads.iter().map(u64::to_string).collect();
    let caption = format!(
        "Top-1: mean ± sample std over seeds when there are several; bold: the best pruning method per model and \
         sparsity. Latency: median forward pass at batch size {}, {} threads; speedup = dense / pruned latency.",
        batch.map_or("-".to_string(), |b| b.to_string()),
        if threads.is_empty() { "-".to_string() } else { threads.join("/") },
    );
    (selected, caption)
}

/// Format sorted rows into cells, marking the best non-dense top-1 per (model, dataset, target sparsity).
fn table_rows(rows: &[AggregatedRow]) -> Vec<TableRow> {
    let several_datasets = rows.iter().any(|r| r.dataset != rows[0].dataset);
    let same_cell = |a: &AggregatedRow, b: &AggregatedRow| {
        a.model == b.model && a.dataset == b.dataset && a.target_sparsity == b.target_sparsity
    };
    rows.iter()
        .map(|row| {
            let best = rows.iter().filter(|r| !is_dense(&r.method) && same_cell(r, row)).map(|r| r.top1_mean);
            let best = best.fold(f64::NEG_INFINITY, f64::max);
            let model = if several_datasets { format!("{} ({})", row.model, row.dataset) } else { row.model.clone() };
            TableRow { cells: cells(row, model), bold_top1: !is_dense(&row.method) && row.top1_mean == best }
        })
        .collect()
}

/// The eleven plain-text cells of one row (`-` where a value does not apply, e.g. the dense model's one-shot top-1).
fn cells(row: &AggregatedRow, model: String) -> [String; 11] {
    let top1 = match row.top1_std {
        Some(std) => format!("{:.2} ± {:.2}", row.top1_mean, std),
        None => format!("{:.2}", row.top1_mean),
    };
    [
        model,
        row.method.clone(),
        format!("{:.1}", row.target_sparsity * 100.0),
        format!("{:.2}", row.achieved_sparsity * 100.0),
        format!("{:.2}", row.params / 1e6),
        format!("{:.3}", row.macs / 1e9),
        row.one_shot_mean.map_or_else(|| "-".to_string(), |v| format!("{v:.2}")),
        top1,
        signed(row.top1_mean - row.dense_top1),
        format!("{:.2}", row.latency_ms),
        format!("{:.2}", row.speedup),
    ]
}

/// A difference with an explicit sign and two decimals; a value that rounds to zero reads `+0.00`.
fn signed(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded == 0.0 { "+0.00".to_string() } else { format!("{rounded:+.2}") }
}

/// One Markdown table line from its cells.
fn markdown_line(cells: impl Iterator<Item = String>) -> String {
    format!("| {} |\n", cells.collect::<Vec<_>>().join(" | "))
}

/// Escape LaTeX's special characters in plain text.
fn latex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => out.extend(['\\', c]),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::metrics::parse_csv;

    /// The committed fixture's rows, averaged.
    fn fixture_rows() -> Vec<AggregatedRow> {
        let text = include_str!("../../tests/fixtures/report/metrics.csv");
        aggregate(&parse_csv(text.as_bytes(), Path::new("fixtures/report/metrics.csv")).unwrap())
    }

    #[test]
    fn markdown_matches_the_committed_snapshot() {
        insta::assert_snapshot!("batch1_markdown", render_markdown(&fixture_rows(), None));
    }

    #[test]
    fn latex_matches_the_committed_snapshot() {
        insta::assert_snapshot!("batch1_latex", render_latex(&fixture_rows(), None));
    }

    #[test]
    fn a_chosen_latency_batch_shows_its_latency() {
        let table = render_markdown(&fixture_rows(), Some(64));
        assert!(table.contains("| 120.00 | 1.00 |") && !table.contains("| 4.00 | 1.00 |"), "{table}");
        assert!(table.contains("batch size 64"));
    }

    #[test]
    fn write_tables_writes_each_format_and_rejects_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![crate::report::metrics::sample_row("gohsp", 0.3, 0, 1)];
        let formats: Vec<String> = ["md", "tex", "csv"].map(String::from).to_vec();
        let written = write_tables(&rows, dir.path(), &formats).unwrap();
        assert!(written.iter().all(|p| p.is_file()) && written.len() == 3);
        assert_eq!(crate::report::metrics::read_csv(&written[2]).unwrap(), rows);
        let err = write_tables(&rows, dir.path(), &["pdf".to_string()]).unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("pdf"));
    }

    #[test]
    fn signed_differences_never_read_minus_zero() {
        assert_eq!((signed(-0.001), signed(1.234), signed(-2.5)), ("+0.00".into(), "+1.23".into(), "-2.50".into()));
    }
}
