//! Waiting for a run's jobs: one batched query per interval, state changes logged as they happen, and the outcome of
//! every node (failures by Slurm's state name, with the job's log) once every job is final.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::jobs::{JobRecord, JobsFile};
use super::query::{JobStatus, Poller};
use super::state::JobState;
use crate::error::Result;
use crate::pipeline::cache::{Cache, Lookup};
use crate::pipeline::dag::{NodeId, Plan, PlanNode};
use crate::pipeline::entry::EntryRecord;
use crate::pipeline::progress::NodeProgress;
use crate::pipeline::summary::{RunLine, RunStatus, RunSummary};

/// Polls left before a job that Slurm no longer lists, and that left no cache entry, counts as lost.
const MISSING_POLLS: usize = 3;

/// How the polling went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PollStats {
    /// Queries made.
    pub polls: usize,
    /// Seconds spent waiting.
    pub seconds: f64,
}

/// Polls every `interval` until every job in `jobs` is final, saving the jobs file after each change.
pub(crate) fn wait_for_jobs(
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
        if update(jobs, &seen, cache, &mut missing, &progress)? {
            jobs.save(run_dir)?;
        }
    }
    progress.finish();
    Ok(PollStats { polls, seconds: clock.elapsed().as_secs_f64() })
}

/// Applies one query's answer to the open jobs; whether any changed.
fn update(
    jobs: &mut JobsFile,
    seen: &HashMap<String, JobStatus>,
    cache: &Cache,
    missing: &mut HashMap<String, usize>,
    progress: &NodeProgress,
) -> Result<bool> {
    let mut changed = false;
    for job in jobs.jobs.iter_mut().filter(|job| !JobState::parse(&job.state).is_final()) {
        let Some(status) = observed(job, seen.get(&job.job_id), cache, missing)? else { continue };
        if status.state.name() == job.state && status.reason == job.reason {
            continue;
        }
        log_change(job, &status);
        (job.state, job.reason) = (status.state.name().to_string(), status.reason.clone());
        changed = true;
        if status.state.is_final() {
            progress.node_done(&job.label);
        }
    }
    Ok(changed)
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
pub(crate) fn summarise(plan: &Plan, cache: &Cache, hits: &HashSet<NodeId>, jobs: &JobsFile) -> Result<RunSummary> {
    let by_key: HashMap<&str, &JobRecord> = jobs.jobs.iter().map(|job| (job.key.as_str(), job)).collect();
    let mut good: HashSet<NodeId> = HashSet::new();
    let mut nodes = Vec::new();
    for node in plan.nodes() {
        let status = if hits.contains(&node.id) {
            RunStatus::Hit
        } else if matches!(cache.lookup(node.kind(), &node.key)?, Lookup::Hit(_)) {
            RunStatus::Ran
        } else if !node.inputs.iter().all(|input| good.contains(input)) {
            RunStatus::Skipped
        } else {
            let job = by_key.get(node.key.as_str());
            RunStatus::Failed(job.map_or("no job was submitted for it".into(), |job| failure_text(job)))
        };
        if matches!(status, RunStatus::Hit | RunStatus::Ran) {
            good.insert(node.id);
        }
        nodes.push(outcome(cache, node, status));
    }
    Ok(RunSummary { nodes })
}

/// A node's line in the summary; a node that ran gets its stage's wall time from its entry.
fn outcome(cache: &Cache, node: &PlanNode, status: RunStatus) -> RunLine {
    let exit_code = if matches!(status, RunStatus::Failed(_)) { 1 } else { 0 };
    let wall_s = if status == RunStatus::Ran { entry_wall_s(cache, node) } else { 0.0 };
    RunLine { label: node.label.clone(), kind: node.kind(), key: node.key.clone(), status, wall_s, exit_code }
}

/// The stage's own wall time, as its committed entry recorded it (0 when unreadable).
fn entry_wall_s(cache: &Cache, node: &PlanNode) -> f64 {
    EntryRecord::read(&cache.entry_dir(node.kind(), &node.key)).map(|record| record.wall_s).unwrap_or(0.0)
}

/// `TIMEOUT (job 12, log PATH)`, with Slurm's reason when it gave one.
pub(crate) fn failure_text(job: &JobRecord) -> String {
    let reason =
        if job.reason.is_empty() || job.reason == "None" { String::new() } else { format!(", {}", job.reason) };
    format!("{} (job {}{reason}, log {})", job.state, job.job_id, job.log.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::stage::StageKind;

    fn job() -> JobRecord {
        JobRecord {
            label: "rank[default]".into(),
            kind: StageKind::Rank,
            key: "ab".repeat(32),
            job_id: "7".into(),
            job_name: "gohsp-micro-1".into(),
            log: "/r/rank.7.log".into(),
            state: "RUNNING".into(),
            reason: String::new(),
        }
    }

    #[test]
    fn a_job_slurm_stops_listing_without_an_entry_is_lost_after_a_few_polls() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let mut missing = HashMap::new();
        for _ in 1..MISSING_POLLS {
            assert_eq!(observed(&job(), None, &cache, &mut missing).unwrap(), None);
        }
        let lost = observed(&job(), None, &cache, &mut missing).unwrap().unwrap();
        assert_eq!(lost.state, JobState::Other("LOST".into()));
        assert!(lost.state.is_final());
        let seen =
            JobStatus { state: JobState::Timeout, reason: "None".into(), name: "n".into(), comment: String::new() };
        assert_eq!(observed(&job(), Some(&seen), &cache, &mut missing).unwrap(), Some(seen.clone()));
        let failed = JobRecord { state: "TIMEOUT".into(), reason: "None".into(), ..job() };
        assert_eq!(failure_text(&failed), "TIMEOUT (job 7, log /r/rank.7.log)");
    }
}
