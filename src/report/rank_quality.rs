//! The rank-quality report: how well each head criterion (the spec's graph variants, weight norm, Taylor, random)
//! orders the heads against the oracle (the held-out loss increase of masking one head alone in the dense model), as
//! Spearman and Kendall tau-b correlations per block and over all heads, and the held-out accuracy after masking a
//! criterion's k lowest-ranked heads. Written as a Markdown table, CSVs and a plot; no fine-tuning is involved.

use super::plot_curves::{LineLabels, plot_lines};
use super::rank_correlation::{kendall_tau_b, spearman};
use crate::error::{GohspError, IoContext, Result};
use crate::prune::head_oracle::{CurvePoint, HeldOutScore};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The rank-quality record of one dense model (one seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RankQuality {
    /// The dense model's seed.
    pub seed: u64,
    /// The dense model on the held-out images.
    pub dense: HeldOutScore,
    /// Held-out images.
    pub images: usize,
    /// Held-out loss increase of masking each head alone, L x H_l.
    pub oracle: Vec<Vec<f64>>,
    /// Every criterion, judged.
    pub criteria: Vec<CriterionQuality>,
}

/// Agreement of a criterion's scores with the oracle; `None` where undefined (a constant list, fewer than 2 heads).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Agreement {
    /// Spearman's rho.
    pub spearman: Option<f64>,
    /// Kendall's tau-b.
    pub kendall: Option<f64>,
}

/// One criterion's scores and how they fare.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct CriterionQuality {
    /// `graph`, `graph [rank.direction=both]`, `weight norm`, `taylor`, `random`.
    pub name: String,
    /// Head scores, higher = more important, L x H_l.
    pub scores: Vec<Vec<f64>>,
    /// Over all heads.
    pub global: Agreement,
    /// Within each block.
    pub per_block: Vec<Agreement>,
    /// Held-out score after masking the k lowest-scored heads, k = 1..H_total/2.
    pub curve: Vec<CurvePoint>,
}

fn agreement(scores: &[f64], oracle: &[f64]) -> Agreement {
    Agreement { spearman: spearman(scores, oracle), kendall: kendall_tau_b(scores, oracle) }
}

/// Judge `scores` (L x H_l, higher = keep) against `oracle` (same shape), with its masking curve.
pub(crate) fn judge(
    name: &str,
    scores: Vec<Vec<f64>>,
    oracle: &[Vec<f64>],
    curve: Vec<CurvePoint>,
) -> CriterionQuality {
    let flat = |rows: &[Vec<f64>]| rows.iter().flatten().copied().collect::<Vec<f64>>();
    let global = agreement(&flat(&scores), &flat(oracle));
    let per_block = scores.iter().zip(oracle).map(|(s, o)| agreement(s, o)).collect();
    CriterionQuality { name: name.to_string(), scores, global, per_block, curve }
}

/// Mean and sample standard deviation of the defined values; `None` when there are none.
fn mean_sd(values: impl IntoIterator<Item = Option<f64>>) -> Option<(f64, f64, usize)> {
    let defined: Vec<f64> = values.into_iter().flatten().collect();
    let n = defined.len();
    if n == 0 {
        return None;
    }
    let mean = defined.iter().sum::<f64>() / n as f64;
    let var = if n > 1 { defined.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64 } else { 0.0 };
    Some((mean, var.sqrt(), n))
}

fn cell(summary: Option<(f64, f64, usize)>, digits: usize) -> String {
    match summary {
        None => "–".to_string(),
        Some((mean, _, 1)) => format!("{mean:.digits$}"),
        Some((mean, sd, _)) => format!("{mean:.digits$} ± {sd:.digits$}"),
    }
}

/// The mean over blocks of one correlation of a criterion (blocks where it is undefined left out).
fn block_mean(criterion: &CriterionQuality, pick: fn(&Agreement) -> Option<f64>) -> Option<f64> {
    mean_sd(criterion.per_block.iter().map(pick)).map(|(mean, _, _)| mean)
}

/// The criteria's names in first-seen order.
fn criterion_names(records: &[RankQuality]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for name in records.iter().flat_map(|r| r.criteria.iter().map(|c| &c.name)) {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

fn of<'a>(records: &'a [RankQuality], name: &'a str) -> impl Iterator<Item = &'a CriterionQuality> + 'a {
    records.iter().flat_map(move |r| r.criteria.iter().filter(move |c| c.name == name))
}

/// The Markdown table: one row per criterion, each value the mean (± sd over seeds when there are several).
pub(crate) fn render_markdown(records: &[RankQuality]) -> String {
    let mut out = String::from(
        "| criterion | Spearman (all heads) | Kendall (all heads) | Spearman (mean per block) | Kendall (mean per block) | held-out top-1 (%), mean over k |\n",
    );
    out += "| :-- | --: | --: | --: | --: | --: |\n";
    for name in criterion_names(records) {
        let auc = |c: &CriterionQuality| {
            (!c.curve.is_empty()).then(|| c.curve.iter().map(|p| p.score.top1).sum::<f64>() / c.curve.len() as f64)
        };
        let cells = [
            cell(mean_sd(of(records, &name).map(|c| c.global.spearman)), 3),
            cell(mean_sd(of(records, &name).map(|c| c.global.kendall)), 3),
            cell(mean_sd(of(records, &name).map(|c| block_mean(c, |a| a.spearman))), 3),
            cell(mean_sd(of(records, &name).map(|c| block_mean(c, |a| a.kendall))), 3),
            cell(mean_sd(of(records, &name).map(auc)), 2),
        ];
        out += &format!("| {} | {} |\n", name.replace('|', "\\|"), cells.join(" | "));
    }
    let seeds = records.len();
    let heads: usize = records.first().map(|r| r.oracle.iter().map(Vec::len).sum()).unwrap_or(0);
    let images = records.first().map(|r| r.images).unwrap_or(0);
    out + &format!(
        "\nCorrelation of each criterion's head scores with the oracle (held-out loss increase when one head alone is \
         masked in the dense model; {heads} heads, {images} held-out images, {seeds} seed(s)); the last column is the \
         held-out top-1 after masking the criterion's k lowest-ranked heads, averaged over k = 1..{}.\n",
        heads / 2
    )
}

fn write_text(path: &Path, text: &str) -> Result<PathBuf> {
    std::fs::write(path, text).at_path(path)?;
    Ok(path.to_path_buf())
}

fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// rank_quality.csv: seed, criterion, scope (`all` or `block L`), spearman, kendall.
fn correlations_csv(records: &[RankQuality]) -> String {
    let mut out = String::from("seed,criterion,scope,spearman,kendall\n");
    for record in records {
        for c in &record.criteria {
            let scopes = std::iter::once(("all".to_string(), c.global))
                .chain(c.per_block.iter().enumerate().map(|(l, a)| (format!("block {l}"), *a)));
            for (scope, a) in scopes {
                let row = [record.seed.to_string(), csv_field(&c.name), scope, number(a.spearman), number(a.kendall)];
                out += &(row.join(",") + "\n");
            }
        }
    }
    out
}

/// rank_quality_curves.csv: seed, criterion, k, top1, loss.
fn curves_csv(records: &[RankQuality]) -> String {
    let mut out = String::from("seed,criterion,k,top1,loss\n");
    for record in records {
        for c in &record.criteria {
            for p in &c.curve {
                out += &format!("{},{},{},{},{}\n", record.seed, csv_field(&c.name), p.k, p.score.top1, p.score.loss);
            }
        }
    }
    out
}

/// rank_quality_oracle.csv: seed, block, head, loss_increase, then each criterion's score.
fn oracle_csv(records: &[RankQuality]) -> String {
    let names = criterion_names(records);
    let header: Vec<String> = names.iter().map(|n| csv_field(n)).collect();
    let mut out = format!("seed,block,head,loss_increase,{}\n", header.join(","));
    for record in records {
        for (l, row) in record.oracle.iter().enumerate() {
            for (h, increase) in row.iter().enumerate() {
                let scores: Vec<String> = names
                    .iter()
                    .map(|n| number(record.criteria.iter().find(|c| &c.name == n).map(|c| c.scores[l][h])))
                    .collect();
                out += &format!("{},{l},{h},{increase},{}\n", record.seed, scores.join(","));
            }
        }
    }
    out
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

/// The masking curves averaged over seeds: (criterion, (k, mean top-1)).
fn mean_curves(records: &[RankQuality]) -> Vec<(String, Vec<(f64, f64)>)> {
    criterion_names(records)
        .into_iter()
        .map(|name| {
            let max_k = of(records, &name).map(|c| c.curve.len()).max().unwrap_or(0);
            let points = (1..=max_k)
                .filter_map(|k| {
                    let at = of(records, &name).filter_map(|c| c.curve.get(k - 1)).map(|p| Some(p.score.top1));
                    mean_sd(at).map(|(mean, _, _)| (k as f64, mean))
                })
                .collect();
            (name, points)
        })
        .collect()
}

/// Write rank_quality.md and the three CSVs into `out_dir` and the curve plot into `plots_dir` (in `plot_formats`);
/// returns the Markdown section and the files written. No record is an internal error.
pub(crate) fn write_rank_quality(
    records: &[RankQuality],
    out_dir: &Path,
    plots_dir: &Path,
    plot_formats: &[String],
) -> Result<(String, Vec<PathBuf>)> {
    if records.is_empty() {
        return Err(GohspError::Internal("rank-quality report without a record".into()));
    }
    let markdown = render_markdown(records);
    let mut written = vec![
        write_text(&out_dir.join("rank_quality.md"), &markdown)?,
        write_text(&out_dir.join("rank_quality.csv"), &correlations_csv(records))?,
        write_text(&out_dir.join("rank_quality_curves.csv"), &curves_csv(records))?,
        write_text(&out_dir.join("rank_quality_oracle.csv"), &oracle_csv(records))?,
    ];
    let curves = mean_curves(records);
    if !plot_formats.is_empty() && curves.iter().any(|(_, p)| !p.is_empty()) {
        std::fs::create_dir_all(plots_dir).at_path(plots_dir)?;
        let labels = LineLabels {
            title: "Held-out top-1 after masking the k lowest-ranked heads",
            x: "heads masked (k)",
            y: "top-1 (%)",
        };
        written.extend(plot_lines(&curves, labels, &plots_dir.join("rank_quality"), plot_formats)?);
    }
    Ok((markdown, written))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(k: usize, top1: f64) -> CurvePoint {
        CurvePoint { k, score: HeldOutScore { loss: 1.0, top1 } }
    }

    fn record(seed: u64) -> RankQuality {
        let oracle = vec![vec![0.3, 0.1, 0.2], vec![0.05, 0.4, 0.0]];
        let good = judge("graph", oracle.clone(), &oracle, vec![point(1, 80.0), point(2, 70.0), point(3, 60.0)]);
        let reversed = oracle.iter().map(|b| b.iter().map(|v| -v).collect()).collect();
        let bad =
            judge("weight norm, reversed", reversed, &oracle, vec![point(1, 50.0), point(2, 40.0), point(3, 30.0)]);
        RankQuality {
            seed,
            dense: HeldOutScore { loss: 0.5, top1: 90.0 },
            images: 100,
            oracle,
            criteria: vec![good, bad],
        }
    }

    #[test]
    fn a_criterion_equal_to_the_oracle_correlates_perfectly_and_its_reverse_negatively() {
        let r = record(0);
        assert_eq!(r.criteria[0].global, Agreement { spearman: Some(1.0), kendall: Some(1.0) });
        assert_eq!(r.criteria[1].global.kendall, Some(-1.0));
        assert_eq!(r.criteria[1].per_block.len(), 2);
        assert!(r.criteria[1].per_block.iter().all(|a| a.spearman == Some(-1.0)));
    }

    #[test]
    fn the_table_averages_over_seeds_and_the_csvs_have_one_row_per_scope_and_point() {
        let records = [record(0), record(1)];
        let table = render_markdown(&records);
        assert!(
            table.contains("| graph | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 | 1.000 ± 0.000 | 70.00 ± 0.00 |"),
            "{table}"
        );
        assert!(table.contains("| weight norm, reversed | -1.000 ± 0.000 |"), "{table}");
        assert!(table.contains("6 heads, 100 held-out images, 2 seed(s)") && table.contains("k = 1..3"), "{table}");
        let csv = correlations_csv(&records);
        assert_eq!(csv.lines().count(), 1 + 2 * 2 * 3, "header + seeds x criteria x (all + 2 blocks)");
        assert!(csv.contains("0,\"weight norm, reversed\",block 1,-1,-1"), "{csv}");
        assert_eq!(curves_csv(&records).lines().count(), 1 + 2 * 2 * 3);
        let oracle = oracle_csv(&records);
        assert!(oracle.starts_with("seed,block,head,loss_increase,graph,\"weight norm, reversed\"\n"), "{oracle}");
        assert!(oracle.contains("\n1,1,1,0.4,0.4,-0.4\n"), "{oracle}");
        let dir = tempfile::tempdir().unwrap();
        let (markdown, written) =
            write_rank_quality(&records, dir.path(), &dir.path().join("plots"), &["svg".to_string()]).unwrap();
        assert_eq!(markdown, table);
        assert_eq!(written.len(), 5, "{written:?}");
        assert!(dir.path().join("plots/rank_quality.svg").is_file());
    }
}
