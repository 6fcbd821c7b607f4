//! Building one node: cache lookup, the entry lock, running the stage into a temp folder, committing its entry.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Instant, SystemTime};

use super::cache::{Cache, Lookup};
use super::dag::{Plan, PlanNode};
use super::entry::EntryRecord;
use super::lock::lock_entry;
use super::stage::{InputArtifact, StageContext};
use super::summary::RunStatus;
use crate::error::{GohspError, IoContext, Result};

/// What building a node came to: its status, and for a failure the exit code its error calls for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BuildResult {
    /// Hit, ran, failed or would run.
    pub status: RunStatus,
    /// 0, or the failure's exit code (2 for the user's mistakes).
    pub exit_code: i32,
}

/// Brings `node` into the cache: a hit is left alone, a miss (or a `forced` node) is built under its lock.
/// Never panics: a stage's error or panic becomes `Failed`.
pub(crate) fn build_node(plan: &Plan, cache: &Cache, node: &PlanNode, forced: bool, dry_run: bool) -> BuildResult {
    let outcome = catch_unwind(AssertUnwindSafe(|| try_build_node(plan, cache, node, forced, dry_run)));
    let error = match outcome {
        Ok(Ok(status)) => return BuildResult { status, exit_code: 0 },
        Ok(Err(error)) => error,
        Err(panic) => GohspError::stage(&node.label, format!("panicked: {}", panic_message(panic.as_ref()))),
    };
    tracing::error!("{} failed: {error}", node.label);
    BuildResult { status: RunStatus::Failed(error.to_string()), exit_code: error.exit_code() }
}

fn try_build_node(plan: &Plan, cache: &Cache, node: &PlanNode, forced: bool, dry_run: bool) -> Result<RunStatus> {
    let (kind, key) = (node.kind(), &node.key);
    if !forced && matches!(cache.lookup(kind, key)?, Lookup::Hit(_)) {
        tracing::info!("hit {} ({})", node.label, key.short());
        return Ok(RunStatus::Hit);
    }
    if dry_run {
        return Ok(RunStatus::WouldRun);
    }
    let _lock = lock_entry(cache, key, &node.label)?;
    if !forced {
        match cache.lookup(kind, key)? {
            Lookup::Hit(_) => {
                tracing::info!("hit {} ({}), built meanwhile by another process", node.label, key.short());
                return Ok(RunStatus::Hit);
            }
            Lookup::Corrupt(corruption) => cache.discard_corrupt(kind, key, &node.label, &corruption)?,
            Lookup::Missing => {}
        }
    }
    run_stage(plan, cache, node)
}

/// Runs the stage into a fresh temp folder and commits it; on failure the temp folder goes, the work folder stays.
fn run_stage(plan: &Plan, cache: &Cache, node: &PlanNode) -> Result<RunStatus> {
    let work_dir = cache.work_dir(node.kind(), &node.key);
    std::fs::create_dir_all(&work_dir).at_path(&work_dir)?;
    let ctx = StageContext { out_dir: cache.new_temp_dir()?, work_dir, inputs: input_artifacts(plan, cache, node) };
    tracing::info!("run {} ({})", node.label, node.key.short());
    let (started, clock) = (SystemTime::now(), Instant::now());
    let result = catch_unwind(AssertUnwindSafe(|| node.stage.run(&ctx))).unwrap_or_else(|panic| {
        Err(GohspError::stage(&node.label, format!("panicked: {}", panic_message(panic.as_ref()))))
    });
    let wall_s = clock.elapsed().as_secs_f64();
    let committed =
        result.and_then(|()| cache.commit(&ctx.out_dir, &EntryRecord::new(&node.label, &node.parts, started, wall_s)));
    if let Err(error) = committed {
        let _ = std::fs::remove_dir_all(&ctx.out_dir);
        return Err(error);
    }
    if let Err(e) = std::fs::remove_dir_all(&ctx.work_dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("could not remove the work folder {}: {e}", ctx.work_dir.display());
    }
    tracing::info!("done {} in {wall_s:.1} s", node.label);
    Ok(RunStatus::Ran)
}

/// The committed entry folders of the node's inputs, in the node's order.
fn input_artifacts(plan: &Plan, cache: &Cache, node: &PlanNode) -> Vec<InputArtifact> {
    let artifact = |input: &PlanNode| InputArtifact {
        kind: input.kind(),
        label: input.label.clone(),
        dir: cache.entry_dir(input.kind(), &input.key),
    };
    node.inputs.iter().map(|&id| artifact(plan.node(id))).collect()
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a non-text panic".to_string()
    }
}
