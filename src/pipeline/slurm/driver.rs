//! Submitting what a plan still needs: cached nodes are never submitted, nodes another run's job is already building
//! are adopted, and every other node becomes one job that runs after its inputs' jobs (`afterok`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use super::jobs::{JobRecord, JobsFile, runs_jobs};
use super::query::{Poller, adoptable};
use super::resources::{resource_args, resources_for};
use super::script::{NodeCommand, file_label, write_script};
use super::settings::SlurmSpec;
use super::submit::{JobRequest, cancel, submit};
use super::tool::SlurmTools;
use crate::error::{IoContext, Result};
use crate::pipeline::cache::{Cache, Lookup};
use crate::pipeline::dag::{NodeId, Plan, PlanNode};
use crate::pipeline::record::safe_name;

/// One Slurm run of a plan: what to submit, how, and where its scripts and logs go.
pub(crate) struct SlurmRun<'a> {
    /// The plan (the planner owns the DAG).
    pub plan: &'a Plan,
    /// The shared cache.
    pub cache: &'a Cache,
    /// Polling, signal and resources.
    pub slurm: &'a SlurmSpec,
    /// Whether the spec runs on CUDA (training kinds then ask for a GPU).
    pub cuda: bool,
    /// How a job calls gohsp.
    pub command: NodeCommand,
    /// The experiment's name.
    pub spec_name: String,
    /// The run's id (its timestamp).
    pub run_id: String,
    /// `results/runs/<spec>/<run id>`: scripts and logs go to its `slurm/` folder.
    pub run_dir: PathBuf,
    /// The folder jobs run in.
    pub workdir: PathBuf,
}

impl SlurmRun<'_> {
    /// `gohsp-<spec>-<run id>`, the name of every job of this run.
    pub(crate) fn job_name(&self) -> String {
        format!("{}{}", self.name_prefix(), self.run_id)
    }

    /// `gohsp-<spec>-`, shared by the jobs of every run of this experiment.
    pub(crate) fn name_prefix(&self) -> String {
        format!("gohsp-{}-", safe_name(&self.spec_name))
    }
}

/// What submitting a plan came to.
pub(crate) struct Submission {
    /// The jobs building the nodes that were not cached (submitted or adopted).
    pub jobs: JobsFile,
    /// The nodes that were cached.
    pub hits: HashSet<NodeId>,
    /// How many jobs this run submitted.
    pub submitted: usize,
}

/// Submits every node of `run.plan` that is not cached; on a refusal, cancels what this run already submitted.
pub(crate) fn submit_plan(
    run: &SlurmRun<'_>,
    tools: &SlurmTools,
    poller: &mut Poller<'_>,
    detached: bool,
) -> Result<Submission> {
    let slurm_dir = run.run_dir.join("slurm");
    std::fs::create_dir_all(&slurm_dir).at_path(&slurm_dir)?;
    let hits = cached_nodes(run)?;
    let misses: Vec<&PlanNode> = run.plan.nodes().into_iter().filter(|node| !hits.contains(&node.id)).collect();
    let adopt = if misses.is_empty() { HashMap::new() } else { adoptable(&poller.active()?, &run.name_prefix()) };
    let earlier_logs = earlier_logs(run)?;
    let mut job_of: HashMap<NodeId, String> = HashMap::new();
    let (mut records, mut ours) = (Vec::new(), Vec::new());
    for node in misses {
        let record = if let Some((id, name)) = adopt.get(node.key.as_str()) {
            tracing::info!("{}: adopting job {id}, already queued by {name}", node.label);
            record(node, id, name, earlier_logs.get(id).cloned().unwrap_or_default())
        } else {
            let submitted = submit_node(run, tools, node, &job_of);
            let record = submitted.inspect_err(|_| cancel(tools, &ours))?;
            ours.push(record.job_id.clone());
            record
        };
        job_of.insert(node.id, record.job_id.clone());
        records.push(record);
    }
    let jobs = JobsFile { run_id: run.run_id.clone(), job_name: run.job_name(), detached, jobs: records };
    jobs.save(&run.run_dir)?;
    Ok(Submission { jobs, hits, submitted: ours.len() })
}

/// The nodes of the plan whose entries are in the cache.
fn cached_nodes(run: &SlurmRun<'_>) -> Result<HashSet<NodeId>> {
    let mut hits = HashSet::new();
    for node in run.plan.nodes() {
        if matches!(run.cache.lookup(node.kind(), &node.key)?, Lookup::Hit(_)) {
            hits.insert(node.id);
        }
    }
    Ok(hits)
}

/// Writes the node's script and submits it after its inputs' jobs.
fn submit_node(
    run: &SlurmRun<'_>,
    tools: &SlurmTools,
    node: &PlanNode,
    job_of: &HashMap<NodeId, String>,
) -> Result<JobRecord> {
    let slurm_dir = run.run_dir.join("slurm");
    let stem = file_label(&node.label);
    let script = slurm_dir.join(format!("{stem}.sh"));
    write_script(&script, &node.label, &run.command.argv(node.key.as_str()))?;
    let request = JobRequest {
        job_name: run.job_name(),
        label: node.label.clone(),
        key: node.key.to_string(),
        log: slurm_dir.join(format!("{stem}.%j.log")),
        workdir: run.workdir.clone(),
        signal_seconds: run.slurm.signal_seconds,
        after: node.inputs.iter().filter_map(|input| job_of.get(input).cloned()).collect(),
        resources: resource_args(&resources_for(run.slurm, node.kind(), run.cuda), run.slurm.gpu_flag),
        script,
    };
    let id = submit(tools, &request)?;
    tracing::info!("{}: submitted job {id}", node.label);
    let log = PathBuf::from(request.log.to_string_lossy().replace("%j", &id));
    Ok(record(node, &id, &request.job_name, log))
}

fn record(node: &PlanNode, id: &str, name: &str, log: PathBuf) -> JobRecord {
    JobRecord {
        label: node.label.clone(),
        kind: node.kind(),
        key: node.key.to_string(),
        job_id: id.to_string(),
        job_name: name.to_string(),
        log,
        state: "SUBMITTED".into(),
        reason: String::new(),
    }
}

/// The log file of every job earlier runs of this experiment submitted, by job id.
fn earlier_logs(run: &SlurmRun<'_>) -> Result<HashMap<String, PathBuf>> {
    let runs = runs_jobs(run.cache.root(), &run.spec_name)?;
    Ok(runs.into_iter().flat_map(|file| file.jobs).map(|job| (job.job_id, job.log)).collect())
}
