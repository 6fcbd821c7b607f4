//! Waiting for a run's jobs: one batched query per interval, state changes logged as they happen, and the outcome of
//! every node (failures by Slurm's state name, with the job's log) once every job is final.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::jobs::{JobRecord, JobsFile};
use super::query::{JobStatus, Poller};
use super::state::JobState;
use crate::error::Result;
use crate::pipeline::cache::{Cache, Lookup};
use crate::pipeline::dag::{NodeId, Plan};
use crate::pipeline::entry::EntryRecord;
use crate::pipeline::progress::NodeProgress;
use crate::pipeline::summary::{NodeOutcome, NodeRunStatus, RunSummary};

/// Polls left before a job that Slurm no longer lists, and that left no cache entry, counts as lost.
const MISSING_POLLS: usize = 3;

/// How the polling went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollStats {
    /// Queries made.
    pub polls: usize,
    /// Seconds spent waiting.
    pub seconds: f64,
}

/// Polls every `interval` until every job in `jobs` is final, saving the jobs file after each change.
pub fn wait_for_jobs(
    jobs: &mut JobsFile,
    cache: &Cache,
    poller: &mut Poller<'_>,
    interval: Duration,
    run_dir: &std::path::Path,
) -> Result<PollStats> {
    let clock = Instant::now();
    let progress = NodeProgress::new(jobs.jobs.len());
    let mut missing: HashMap<String, usize> = HashMap::new();
    let mut polls = 0;
    while jobs.jobs.iter().any(|job| !JobState::parse(&job.state).is_final()) {
        std::thread::sleep(interval);
        let ids: Vec<String> = jobs.jobs.iter().map(|job| job.job_id.clone()).collect();
        let mut names: Vec<String> = jobs.jobs.iter().map(|job| job.job_name.clone()).collect();
        names.sort();
        names.dedup();
        let seen = poller.states(&ids, &names)?;
        polls += 1;
        let mut changed = false;
        for job in jobs.jobs.iter_mut().filter(|job| !JobState::parse(&job.state).is_final()) {
            let Some(status) = observed(job, seen.get(&job.job_id), cache, &mut missing)? else { continue };
            if status.state.name() != job.state || status.reason != job.reason {
                log_change(job, &status);
                (job.state, job.reason) = (status.state.name().to_string(), status.reason.clone());
                changed = true;
                if status.state.is_final() {
                    progress.node_done(&job.label);
                }
            }
        }
        if changed {
            jobs.save(run_dir)?;
        }
    }
    progress.finish();
    Ok(PollStats { polls, seconds: clock.elapsed().as_secs_f64() })
}

/// A job's status from the query, or, when Slurm no longer lists it, from the cache (an entry means it completed).
fn observed(
    job: &JobRecord,
    seen: Option<&JobStatus>,
    cache: &Cache,
    missing: &mut HashMap<String, usize>,
) -> Result<Option<JobStatus>> {
    if let Some(status) = seen {
        return Ok(Some(status.clone()));
    }
    let key = crate::pipeline::key::CacheKey(job.key.clone());
    let cached = matches!(cache.lookup(job.kind, &key)?, Lookup::Hit(_));
    let count = missing.entry(job.job_id.clone()).or_default();
    *count += 1;
    let state = match (cached, *count >= MISSING_POLLS) {
        (true, _) => JobState::Completed,
        (false, true) => JobState::Other("LOST".into()),
        (false, false) => return Ok(None),
    };
    let reason = if cached { String::new() } else { "no longer listed by Slurm, no cache entry".into() };
    Ok(Some(JobStatus { state, reason, name: job.job_name.clone(), comment: String::new() }))
}

fn log_change(job: &JobRecord, status: &JobStatus) {
    let reason = if status.reason.is_empty() || status.reason == "None" {
        String::new()
    } else {
        format!(" ({})", status.reason)
    };
    match status.state {
        JobState::Pending | JobState::Running | JobState::Completed => {
            tracing::info!("{}: {}{reason} (job {})", job.label, status.state, job.job_id)
        }
        _ => tracing::warn!("{}: {}{reason} (job {}, log {})", job.label, status.state, job.job_id, job.log.display()),
    }
}

/// Every node's outcome: cached nodes are hits, completed jobs ran, nodes whose inputs failed are skipped, and any
/// other final state is a failure naming the state, the job and its log.
pub fn summarise(plan: &Plan, cache: &Cache, hits: &HashSet<NodeId>, jobs: &JobsFile) -> Result<RunSummary> {
    let by_key: HashMap<&str, &JobRecord> = jobs.jobs.iter().map(|job| (job.key.as_str(), job)).collect();
    let mut good: HashSet<NodeId> = HashSet::new();
    let mut nodes = Vec::new();
    for node in plan.nodes() {
        let inputs_good = node.inputs.iter().all(|input| good.contains(input));
        let status = if hits.contains(&node.id) {
            NodeRunStatus::Hit
        } else if matches!(cache.lookup(node.kind(), &node.key)?, Lookup::Hit(_)) {
            NodeRunStatus::Ran
        } else if !inputs_good {
            NodeRunStatus::Skipped
        } else {
            NodeRunStatus::Failed(match by_key.get(node.key.as_str()) {
                Some(job) => failure_text(job),
                None => "no job was submitted for it".into(),
            })
        };
        if matches!(status, NodeRunStatus::Hit | NodeRunStatus::Ran) {
            good.insert(node.id);
        }
        let exit_code = if matches!(status, NodeRunStatus::Failed(_)) { 1 } else { 0 };
        let wall_s = if status == NodeRunStatus::Ran { entry_wall_s(cache, node) } else { 0.0 };
        nodes.push(NodeOutcome {
            label: node.label.clone(),
            kind: node.kind(),
            key: node.key.clone(),
            status,
            wall_s,
            exit_code,
        });
    }
    Ok(RunSummary { nodes })
}

/// The stage's own wall time, as its committed entry recorded it (0 when unreadable).
fn entry_wall_s(cache: &Cache, node: &crate::pipeline::dag::PlanNode) -> f64 {
    EntryRecord::read(&cache.entry_dir(node.kind(), &node.key)).map(|record| record.wall_s).unwrap_or(0.0)
}

/// `TIMEOUT (job 12, log PATH)`, with Slurm's reason when it gave one.
pub fn failure_text(job: &JobRecord) -> String {
    let reason =
        if job.reason.is_empty() || job.reason == "None" { String::new() } else { format!(", {}", job.reason) };
    format!("{} (job {}{reason}, log {})", job.state, job.job_id, job.log.display())
}
