//! What every executor does once a run's nodes have finished: publish the report and the exported models, print
//! the per-node summary, and name the backend for run.json. Shared by local and Slurm runs.

use super::stdout::outln;
use crate::error::Result;
use crate::experiment::load::LoadedSpec;
use crate::pipeline::cache::Cache;
use crate::pipeline::summary::{RunStatus, RunSummary};
use crate::stages::plan::BuiltPlan;
use crate::stages::publish::{publish_exports, publish_report};
use std::path::Path;

/// After a successful run, publish the report's tables and plots under results/NAME and print its table.
pub(crate) fn publish(
    results: &Path,
    loaded: &LoadedSpec,
    built: &BuiltPlan,
    cache: &Cache,
    summary: &RunSummary,
) -> Result<()> {
    if summary.is_success()
        && let Some(report) = built.report
    {
        let chosen = loaded.points.first().and_then(|p| p.spec.report.dir.clone());
        let dir = chosen.unwrap_or_else(|| results.join(&loaded.name));
        let table = publish_report(&built.plan, report, cache, &dir)?;
        let exported = publish_exports(&built.plan, &built.exports, cache, &dir)?;
        outln!("{table}");
        eprintln!("report: {}", dir.display());
        if !exported.is_empty() {
            eprintln!("exported: {} model file(s) in {}", exported.len(), dir.join("export").display());
        }
    }
    Ok(())
}

/// The backend named in run.json, e.g. `burn-cpu`.
pub(crate) fn backend_name(loaded: &LoadedSpec) -> String {
    let device = loaded.points.first().map(|p| p.spec.device).unwrap_or_default();
    format!("burn-{device:?}").to_lowercase()
}

/// One line per node and a count of what happened.
pub(crate) fn print_summary(summary: &RunSummary, seconds: f64) {
    for node in &summary.nodes {
        let status = match &node.status {
            RunStatus::Hit => "cached".to_string(),
            RunStatus::Ran => format!("ran in {:.1} s", node.wall_s),
            RunStatus::Failed(why) => format!("FAILED: {why}"),
            other => format!("{other:?}").to_lowercase(),
        };
        eprintln!("  {:<48} {status}", node.label);
    }
    let ran = summary.ran().len();
    let stage_word = if ran == 0 { "no stage ran".to_string() } else { format!("{ran} stage(s) ran") };
    eprintln!(
        "{} nodes, {stage_word}, {} cached, {} failed, {seconds:.2} s",
        summary.nodes.len(),
        summary.hits().len(),
        summary.failed().len()
    );
}
