//! Where each node of a spec stands across its Slurm runs: cached, queued, running, failed (Slurm's state and the
//! job's log) or missing. One batched query, and none when no recorded job can still change.

use std::collections::HashMap;
use std::fmt;

use super::jobs::{JobRecord, runs_jobs};
use super::query::Poller;
use super::state::JobState;
use super::tool::SlurmTools;
use super::wait::failure_text;
use crate::error::Result;
use crate::pipeline::cache::{Cache, Lookup};
use crate::pipeline::dag::Plan;

/// One node's standing.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeStanding {
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

impl fmt::Display for NodeStanding {
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
pub fn standings(plan: &Plan, cache: &Cache, name: &str, tools: &SlurmTools) -> Result<Vec<(String, NodeStanding)>> {
    let mut latest: HashMap<String, JobRecord> = HashMap::new();
    for file in runs_jobs(cache.root(), name)? {
        latest.extend(file.jobs.into_iter().map(|job| (job.key.clone(), job)));
    }
    let mut cached = HashMap::new();
    for node in plan.nodes() {
        cached.insert(node.id, matches!(cache.lookup(node.kind(), &node.key)?, Lookup::Hit(_)));
    }
    let open: Vec<&JobRecord> = plan
        .nodes()
        .iter()
        .filter(|node| !cached[&node.id])
        .filter_map(|node| latest.get(node.key.as_str()))
        .filter(|job| !JobState::parse(&job.state).is_final())
        .collect();
    let seen = if open.is_empty() {
        HashMap::new()
    } else {
        let ids: Vec<String> = open.iter().map(|job| job.job_id.clone()).collect();
        let mut names: Vec<String> = open.iter().map(|job| job.job_name.clone()).collect();
        names.sort();
        names.dedup();
        Poller::new(tools).states(&ids, &names)?
    };
    let standing = |node: &crate::pipeline::dag::PlanNode| {
        if cached[&node.id] {
            return NodeStanding::Cached;
        }
        let Some(job) = latest.get(node.key.as_str()) else { return NodeStanding::Missing };
        let mut job = job.clone();
        if let Some(status) = seen.get(&job.job_id) {
            (job.state, job.reason) = (status.state.name().to_string(), status.reason.clone());
        } else if !JobState::parse(&job.state).is_final() {
            return NodeStanding::Missing;
        }
        match JobState::parse(&job.state) {
            JobState::Pending => NodeStanding::Queued(job.job_id),
            JobState::Running => NodeStanding::Running(job.job_id),
            _ => NodeStanding::Failed(failure_text(&job)),
        }
    };
    Ok(plan.nodes().into_iter().map(|node| (node.label.clone(), standing(node))).collect())
}
