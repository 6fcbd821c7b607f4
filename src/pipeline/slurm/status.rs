//! Where each node of a spec stands across its Slurm runs: cached, queued, running, failed (Slurm's state and the
//! job's log) or missing. One batched query, and none when no recorded job can still change.

use std::collections::HashMap;
use std::fmt;

use super::jobs::{JobRecord, runs_jobs};
use super::query::{JobStatus, Poller};
use super::state::JobState;
use super::tool::SlurmTools;
use super::wait::failure_text;
use crate::error::Result;
use crate::pipeline::cache::{Cache, Lookup};
use crate::pipeline::dag::{Plan, PlanNode};

/// One node's status on the cluster: cached, queued, running, failed or missing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ClusterStatus {
    /// Its entry is in the cache.
    Cached,
    /// Its job waits (for resources or its inputs' jobs).
    Queued(String),
    /// Its job runs.
    Running(String),
    /// Its latest job ended without an entry: Slurm's state, the job and its log.
    Failed(String),
    /// No entry and no job.
    Missing,
}

impl fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cached => f.write_str("cached"),
            Self::Queued(job) => write!(f, "queued (job {job})"),
            Self::Running(job) => write!(f, "running (job {job})"),
            Self::Failed(why) => write!(f, "failed: {why}"),
            Self::Missing => f.write_str("missing"),
        }
    }
}

/// The standing of every node of `plan` (in topological order), from the cache and experiment `name`'s jobs.
pub(crate) fn standings(
    plan: &Plan,
    cache: &Cache,
    name: &str,
    tools: &SlurmTools,
) -> Result<Vec<(String, ClusterStatus)>> {
    let latest = latest_jobs(cache, name)?;
    let mut uncached = Vec::new();
    for node in plan.nodes() {
        if !matches!(cache.lookup(node.kind(), &node.key)?, Lookup::Hit(_)) {
            uncached.push(node.key.as_str());
        }
    }
    let open: Vec<&JobRecord> = uncached
        .iter()
        .filter_map(|key| latest.get(*key))
        .filter(|job| !JobState::parse(&job.state).is_final())
        .collect();
    let seen = if open.is_empty() { HashMap::new() } else { query(&open, tools)? };
    let standing = |node: &PlanNode| match latest.get(node.key.as_str()) {
        _ if !uncached.contains(&node.key.as_str()) => ClusterStatus::Cached,
        None => ClusterStatus::Missing,
        Some(job) => standing_of(job, seen.get(&job.job_id)),
    };
    Ok(plan.nodes().into_iter().map(|node| (node.label.clone(), standing(node))).collect())
}

/// The latest job of each node key over every run of experiment `name`.
fn latest_jobs(cache: &Cache, name: &str) -> Result<HashMap<String, JobRecord>> {
    let mut latest = HashMap::new();
    for file in runs_jobs(cache.root(), name)? {
        latest.extend(file.jobs.into_iter().map(|job| (job.key.clone(), job)));
    }
    Ok(latest)
}

/// One batched query for the states of `jobs`.
fn query(jobs: &[&JobRecord], tools: &SlurmTools) -> Result<HashMap<String, JobStatus>> {
    let ids: Vec<String> = jobs.iter().map(|job| job.job_id.clone()).collect();
    let mut names: Vec<String> = jobs.iter().map(|job| job.job_name.clone()).collect();
    names.sort();
    names.dedup();
    Poller::new(tools).states(&ids, &names)
}

/// An uncached node's standing from its latest job, as Slurm now reports it (`seen`) or as last recorded.
fn standing_of(job: &JobRecord, seen: Option<&JobStatus>) -> ClusterStatus {
    let mut job = job.clone();
    if let Some(status) = seen {
        (job.state, job.reason) = (status.state.name().to_string(), status.reason.clone());
    } else if !JobState::parse(&job.state).is_final() {
        return ClusterStatus::Missing;
    }
    match JobState::parse(&job.state) {
        JobState::Pending => ClusterStatus::Queued(job.job_id),
        JobState::Running => ClusterStatus::Running(job.job_id),
        _ => ClusterStatus::Failed(failure_text(&job)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::stage::StageKind;

    fn job(state: &str) -> JobRecord {
        JobRecord {
            label: "admm[sparsity=0.3]".into(),
            kind: StageKind::Admm,
            key: "k".into(),
            job_id: "42".into(),
            job_name: "gohsp-micro-1".into(),
            log: "/r/runs/micro/1/slurm/admm.42.log".into(),
            state: state.into(),
            reason: String::new(),
        }
    }

    fn seen(state: &str) -> JobStatus {
        JobStatus { state: JobState::parse(state), reason: "None".into(), name: String::new(), comment: String::new() }
    }

    #[test]
    fn a_live_state_wins_over_the_recorded_one() {
        assert_eq!(standing_of(&job("SUBMITTED"), Some(&seen("RUNNING"))), ClusterStatus::Running("42".into()));
        assert_eq!(standing_of(&job("SUBMITTED"), Some(&seen("PENDING"))), ClusterStatus::Queued("42".into()));
        let failed = standing_of(&job("RUNNING"), Some(&seen("OUT_OF_MEMORY")));
        assert_eq!(
            failed,
            ClusterStatus::Failed("OUT_OF_MEMORY (job 42, log /r/runs/micro/1/slurm/admm.42.log)".into())
        );
    }

    #[test]
    fn a_recorded_failure_stays_and_a_job_slurm_forgot_while_open_is_missing() {
        assert!(
            matches!(standing_of(&job("TIMEOUT"), None), ClusterStatus::Failed(why) if why.starts_with("TIMEOUT (job 42"))
        );
        assert_eq!(standing_of(&job("PENDING"), None), ClusterStatus::Missing);
    }
}
