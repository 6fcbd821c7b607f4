//! The report stage: gathers every evaluation of the run into the tidy metrics CSV, tables and plots.

use super::artifacts::{read_json, write_json};
use super::evaluate::{EVAL_FILE, EvalRecord};
use super::meta::stage_identity;
use super::plots::write_plots;
use super::prune::{PRUNE_FILE, PruneRecord};
use super::rank_quality::RANK_QUALITY_FILE;
use super::report_entry::ReportEntry;
use crate::error::{IoContext, Result};
use crate::experiment::types::ReportSpec;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use crate::report::metrics::{METRICS_FILE, MetricsRow, write_csv};
use crate::report::rank_quality::{RankQuality, write_rank_quality};
use crate::report::table::write_tables;
use serde_json::json;
use std::path::PathBuf;

/// Builds the report of one experiment.
pub(crate) struct ReportStage {
    /// Experiment name.
    pub experiment: String,
    /// Model preset name for the table.
    pub model: String,
    /// Dataset name for the table.
    pub dataset: String,
    /// Rows to produce.
    pub entries: Vec<ReportEntry>,
    /// Formats.
    pub spec: ReportSpec,
    /// Indices of the rank-quality inputs (`report.rank_quality`), one per dense model.
    pub rank_quality: Vec<usize>,
}

impl Stage for ReportStage {
    stage_identity!(StageKind::Report, "report", experiment);

    fn params(&self) -> serde_json::Value {
        // Without the rank-quality section the key is the one from before it existed.
        let mut spec = serde_json::to_value(&self.spec).expect("the report spec serializes");
        // Where the report is published changes nothing in it.
        spec.as_object_mut().map(|o| o.remove("dir"));
        let mut params = json!({ "experiment": self.experiment, "model": self.model, "dataset": self.dataset, "entries": self.entries });
        if self.rank_quality.is_empty() {
            spec.as_object_mut().map(|o| o.remove("rank_quality"));
        } else {
            params["rank_quality"] = json!(self.rank_quality);
        }
        params["report"] = spec;
        params
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        let mut rows = Vec::new();
        for entry in &self.entries {
            let eval: EvalRecord = read_json(&ctx.inputs[entry.eval_input].dir, EVAL_FILE)?;
            let dense: EvalRecord = read_json(&ctx.inputs[entry.dense_input].dir, EVAL_FILE)?;
            let one_shot = one_shot_top1(entry, ctx)?;
            rows.extend(self.rows(entry, &eval, &dense, one_shot));
        }
        write_csv(&ctx.out_dir.join(METRICS_FILE), &rows)?;
        write_tables(&rows, &ctx.out_dir, &self.spec.formats)?;
        let mut written = write_plots(&self.entries, &rows, ctx, &ctx.out_dir.join("plots"), &self.spec.plots)?;
        written.extend(self.rank_quality_section(ctx)?);
        write_json(&ctx.out_dir, "plots.json", &written)
    }
}

impl ReportStage {
    /// The rank-quality table, CSVs and plot from the rank-quality inputs, the table also appended to results.md;
    /// returns the plots written.
    fn rank_quality_section(&self, ctx: &StageContext) -> Result<Vec<PathBuf>> {
        if self.rank_quality.is_empty() {
            return Ok(vec![]);
        }
        let records: Vec<RankQuality> = self
            .rank_quality
            .iter()
            .map(|&i| read_json(&ctx.inputs[i].dir, RANK_QUALITY_FILE))
            .collect::<Result<_>>()?;
        let plots = ctx.out_dir.join("plots");
        let (markdown, written) = write_rank_quality(&records, &ctx.out_dir, &plots, &self.spec.plots)?;
        let results = ctx.out_dir.join("results.md");
        if results.is_file() {
            let mut text = std::fs::read_to_string(&results).at_path(&results)?;
            text += &format!("\n## Rank quality\n\n{markdown}");
            std::fs::write(&results, text).at_path(&results)?;
        }
        Ok(written.into_iter().filter(|p| p.starts_with(&plots)).collect())
    }

    fn rows(
        &self,
        entry: &ReportEntry,
        eval: &EvalRecord,
        dense: &EvalRecord,
        one_shot: Option<f64>,
    ) -> Vec<MetricsRow> {
        let own = if eval.dense_latency.is_empty() { &dense.latency } else { &eval.dense_latency };
        eval.latency
            .iter()
            .zip(own)
            .map(|(lat, dense_lat)| MetricsRow {
                experiment: self.experiment.clone(),
                point: entry.point.clone(),
                model: self.model.clone(),
                dataset: self.dataset.clone(),
                method: entry.method.clone(),
                seed: entry.seed,
                target_sparsity: entry.target_sparsity,
                achieved_sparsity: 1.0 - eval.params as f64 / dense.params as f64,
                params: eval.params,
                macs: eval.macs,
                top1: eval.top1,
                top5: (eval.classes >= 100).then_some(eval.top5),
                one_shot_top1: one_shot,
                dense_params: dense.params,
                dense_macs: dense.macs,
                dense_top1: dense.top1,
                latency_batch: lat.batch,
                latency_ms: lat.median_ms,
                dense_latency_ms: dense_lat.median_ms,
                speedup: dense_lat.median_ms / lat.median_ms,
                throughput_ips: lat.images_per_s,
                threads: eval.threads,
            })
            .collect()
    }
}

/// The top-1 of the point's sliced model before fine-tuning, from its prune stage (none for the dense model).
fn one_shot_top1(entry: &ReportEntry, ctx: &StageContext) -> Result<Option<f64>> {
    let prune = entry.plot_inputs.iter().map(|&i| &ctx.inputs[i]).find(|input| input.kind == StageKind::Prune);
    match prune {
        Some(input) => Ok(Some(read_json::<PruneRecord>(&input.dir, PRUNE_FILE)?.one_shot_top1)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(rank_quality: Vec<usize>) -> ReportStage {
        let spec = ReportSpec { rank_quality: !rank_quality.is_empty(), ..ReportSpec::default() };
        ReportStage {
            experiment: "e".into(),
            model: "m".into(),
            dataset: "d".into(),
            entries: vec![],
            spec,
            rank_quality,
        }
    }

    #[test]
    fn without_rank_quality_the_key_is_the_one_from_before_it_existed() {
        let params = stage(vec![]).params();
        let report: Vec<&String> = params["report"].as_object().unwrap().keys().collect();
        assert_eq!(report, ["formats", "plots"]);
        assert!(params.get("rank_quality").is_none());
        let on = stage(vec![3]).params();
        assert_eq!((on["report"]["rank_quality"].as_bool(), on["rank_quality"][0].as_u64()), (Some(true), Some(3)));
    }
}
