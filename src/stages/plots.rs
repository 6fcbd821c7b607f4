//! The report's plots, drawn from the artifacts of the run's stages: accuracy, structure, head scores, ADMM, loss curves.

use super::artifacts::MASK_FILE;
use super::artifacts::read_json;
use super::prune::{PRUNE_FILE, PruneRecord};
use super::rank::RANKING_FILE;
use super::report_entry::ReportEntry;
use crate::error::Result;
use crate::model::shape::BlockShape;
use crate::pipeline::stage::{InputArtifact, StageContext, StageKind};
use crate::prune::admm_round::AdmmRound;
use crate::prune::mask::StructureMask;
use crate::prune::rank::HeadRanking;
use crate::report::aggregate::aggregate;
use crate::report::metrics::MetricsRow;
use crate::report::plot_accuracy::plot_accuracy;
use crate::report::plot_admm::plot_admm;
use crate::report::plot_curves::plot_curves;
use crate::report::plot_heatmap::plot_heatmap;
use crate::report::plot_structure::{BlockStructure, plot_structure};
use crate::train::log::EpochLog;
use std::path::{Path, PathBuf};

/// Write every plot the artifacts allow under `dir`; returns the files written.
pub(crate) fn write_plots(
    entries: &[ReportEntry],
    rows: &[MetricsRow],
    ctx: &StageContext,
    dir: &Path,
    formats: &[String],
) -> Result<Vec<PathBuf>> {
    if formats.is_empty() {
        return Ok(vec![]);
    }
    let mut written = plot_accuracy(&aggregate(rows), &dir.join("accuracy_vs_sparsity"), formats)?;
    let first_seed = entries.iter().map(|e| e.seed).min().unwrap_or(0);
    let shown: Vec<&ReportEntry> = entries.iter().filter(|e| e.seed == first_seed).collect();
    written.extend(structure_plots(&shown, ctx, dir, formats)?);
    for entry in &shown {
        let stem = safe_name(&entry.point);
        let input = |kind: StageKind| find_input(entry, ctx, kind);
        if let (Some(rank), Some(admm)) = (input(StageKind::Rank), input(StageKind::Admm)) {
            let ranking: HeadRanking = read_json(&rank.dir, RANKING_FILE)?;
            let mask: StructureMask = read_json(&admm.dir, MASK_FILE)?;
            written.extend(plot_heatmap(
                &ranking.scores,
                &mask.heads,
                &dir.join(format!("head_scores_{stem}")),
                formats,
            )?);
            let rounds: Vec<AdmmRound> = read_json(&admm.dir, "admm_log.json")?;
            if !rounds.is_empty() {
                written.extend(plot_admm(&rounds, &dir.join(format!("admm_{stem}")), formats)?);
            }
        }
        written.extend(loss_curves(entry, ctx, &dir.join(format!("loss_{stem}")), formats)?);
    }
    Ok(written)
}

fn structure_plots(
    entries: &[&ReportEntry],
    ctx: &StageContext,
    dir: &Path,
    formats: &[String],
) -> Result<Vec<PathBuf>> {
    let mut by_sparsity: Vec<(f64, Vec<PruneRecord>, Vec<String>)> = Vec::new();
    for entry in entries {
        let Some(prune) = find_input(entry, ctx, StageKind::Prune) else { continue };
        let record: PruneRecord = read_json(&prune.dir, PRUNE_FILE)?;
        match by_sparsity.iter_mut().find(|(s, _, _)| *s == entry.target_sparsity) {
            Some((_, records, names)) => {
                records.push(record);
                names.push(entry.method.clone());
            }
            None => by_sparsity.push((entry.target_sparsity, vec![record], vec![entry.method.clone()])),
        }
    }
    let mut written = Vec::new();
    for (sparsity, records, names) in by_sparsity {
        let pruned: Vec<(String, _)> = names.into_iter().zip(records.iter().map(|r| structure(&r.pruned))).collect();
        let stem = dir.join(format!("structure_s{:02}", (sparsity * 100.0).round() as u32));
        written.extend(plot_structure(&structure(&records[0].dense), &pruned, &stem, formats)?);
    }
    Ok(written)
}

/// The structure plot's record of each block of a model shape.
fn structure(blocks: &[BlockShape]) -> Vec<BlockStructure> {
    blocks
        .iter()
        .map(|b| BlockStructure { heads: b.heads, head_dim: b.head_dim, qk_dim: b.qk_dim, mlp: b.mlp })
        .collect()
}

fn loss_curves(entry: &ReportEntry, ctx: &StageContext, stem: &Path, formats: &[String]) -> Result<Vec<PathBuf>> {
    let mut curves = Vec::new();
    let mut offset = 0.0;
    for kind in [StageKind::Pretrain, StageKind::Admm, StageKind::Finetune] {
        let Some(input) = find_input(entry, ctx, kind) else { continue };
        let Ok(logs) = read_json::<Vec<EpochLog>>(&input.dir, "train_log.json") else { continue };
        let points: Vec<(f64, f64)> = logs.iter().map(|l| (offset + l.epoch as f64, l.loss)).collect();
        offset += logs.len() as f64;
        if !points.is_empty() {
            curves.push((kind.to_string(), points));
        }
    }
    if curves.is_empty() { Ok(vec![]) } else { plot_curves(&curves, stem, formats) }
}

fn find_input<'a>(entry: &ReportEntry, ctx: &'a StageContext, kind: StageKind) -> Option<&'a InputArtifact> {
    entry.plot_inputs.iter().map(|&i| &ctx.inputs[i]).find(|input| input.kind == kind)
}

fn safe_name(point: &str) -> String {
    point.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect()
}
