//! `gohsp plan` and `gohsp explain`: what a run would do, and why a node would rerun.

use super::spec_args::load_plan;
use super::stdout::outln;
use crate::cli::SpecArgs;
use crate::error::Result;
use crate::pipeline::cache::Cache;
use crate::pipeline::explain::explain_label;
use crate::pipeline::plan_report::{PlanStatus, plan_report};
use crate::pipeline::stage::StageKind;
use std::path::Path;

/// Print every node as hit or miss (with the reason for a miss).
pub(crate) fn plan(results: &Path, args: &SpecArgs, force: &[StageKind]) -> Result<i32> {
    let (loaded, built) = load_plan(results, args)?;
    let cache = Cache::open(results)?;
    let statuses = plan_report(&built.plan, &cache, force)?;
    let misses = statuses.iter().filter(|s| matches!(s.state, PlanStatus::Miss(_))).count();
    outln!(
        "{}: {} points, {} nodes ({} cached, {} to run)",
        loaded.file.display(),
        loaded.points.len(),
        statuses.len(),
        statuses.len() - misses,
        misses
    );
    for status in &statuses {
        outln!("{status}");
    }
    Ok(0)
}

/// Print which key parts of node `label` changed since it last ran.
pub(crate) fn explain(results: &Path, args: &SpecArgs, label: &str) -> Result<i32> {
    let (_, built) = load_plan(results, args)?;
    let cache = Cache::open(results)?;
    outln!("{}", explain_label(&built.plan, label, &cache)?);
    Ok(0)
}
