//! `gohsp run`: execute a spec's DAG, record provenance, publish the report and print its table.

use super::executor_choice::choose_executor;
use super::run_output::{backend_name, print_summary, publish};
use super::slurm_run::run_slurm;
use super::spec_args::load_plan;
use crate::cli::{ExecutorArgs, SpecArgs};
use crate::error::{GohspError, Result};
use crate::experiment::executor::ExecutorKind;
use crate::pipeline::cache::Cache;
use crate::pipeline::executor::{ExecOptions, execute};
use crate::pipeline::record::{RunEnvironment, RunRecord, write_run_record};
use crate::pipeline::stage::StageKind;
use crate::pipeline::summary::{RunStatus, RunSummary};
use std::path::Path;
use std::time::{Instant, SystemTime};

/// Run the experiment; returns the process exit code.
pub(crate) fn run(
    results: &Path,
    args: &SpecArgs,
    jobs: usize,
    keep_going: bool,
    force: &[StageKind],
    executor: &ExecutorArgs,
) -> Result<i32> {
    let (started, clock) = (SystemTime::now(), Instant::now());
    let (loaded, built) = load_plan(results, args)?;
    let chosen = choose_executor(&loaded, executor)?;
    if chosen.kind == ExecutorKind::Slurm {
        if !force.is_empty() {
            let hint = "remove the cache entries to rebuild (gohsp gc), or use --executor local";
            return Err(GohspError::usage("--force is not supported by the slurm executor", hint));
        }
        return run_slurm(results, args, &loaded, &built, &chosen.slurm, executor.detach, started);
    }
    let cache = Cache::open(results)?;
    let opts = ExecOptions { jobs: jobs.max(1), keep_going, force: force.to_vec(), dry_run: false };
    tracing::info!(spec = %loaded.file.display(), points = loaded.points.len(), nodes = built.plan.len(), "running");
    let summary = execute(&built.plan, &cache, &opts)?;
    let environment = RunEnvironment {
        burn_version: "0.22.1".into(),
        backend: backend_name(&loaded),
        threads: rayon::current_num_threads(),
    };
    let record =
        RunRecord::new(&loaded.name, loaded.resolved.clone(), environment, &summary, started, SystemTime::now());
    let record_path = write_run_record(results, &record).map_err(|e| first_failure_or(&summary, e))?;
    print_summary(&summary, clock.elapsed().as_secs_f64());
    publish(results, &loaded, &built, &cache, &summary)?;
    eprintln!("provenance: {}", record_path.display());
    Ok(summary.exit_code())
}

/// The error to report when run.json cannot be written: a node's failure when one failed (on a full disk run.json
/// fails too, and the node's error names the file whose write failed first), else `record_error`.
fn first_failure_or(summary: &RunSummary, record_error: GohspError) -> GohspError {
    let failed = summary.failed();
    let Some(node) = failed.first() else { return record_error };
    tracing::warn!("the run record could not be written either: {record_error}");
    let reason = match &node.status {
        RunStatus::Failed(reason) => reason.clone(),
        other => other.to_string(),
    };
    GohspError::stage(&node.label, reason)
}
