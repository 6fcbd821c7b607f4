//! The report stage: gathers every evaluation of the run into the tidy metrics CSV, tables and plots.

use super::artifacts::{read_json, write_json};
use super::evaluate::{EVAL_FILE, EvalRecord};
use super::plots::write_plots;
use super::prune::{PRUNE_FILE, PruneRecord};
use super::report_entry::ReportEntry;
use crate::error::Result;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use crate::report::metrics::{METRICS_FILE, MetricsRow, write_csv};
use crate::report::table::write_tables;
use crate::spec::types::ReportSpec;
use serde_json::json;

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
}

impl Stage for ReportStage {
    fn kind(&self) -> StageKind {
        StageKind::Report
    }

    fn label(&self) -> String {
        format!("report[{}]", self.experiment)
    }

    fn params(&self) -> serde_json::Value {
        json!({ "experiment": self.experiment, "model": self.model, "dataset": self.dataset, "entries": self.entries, "report": self.spec })
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
        let written = write_plots(&self.entries, &rows, ctx, &ctx.out_dir.join("plots"), &self.spec.plots)?;
        write_json(&ctx.out_dir, "plots.json", &written)
    }
}

impl ReportStage {
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
