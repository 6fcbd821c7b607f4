//! `gohsp run --executor slurm`: submit every node that must run as one Slurm job, then wait and report like a local
//! run (or, with `--detach`, print the job ids and exit). Scripts, logs and jobs.json go to the run's `slurm/` folder.

use super::run_output::{backend_name, print_summary, publish};
use super::spec_args::overrides;
use super::stdout::outln;
use crate::cli::SpecArgs;
use crate::error::{GohspError, IoContext, Result};
use crate::experiment::executor::SlurmSpec;
use crate::experiment::load::LoadedSpec;
use crate::experiment::types::DeviceKind;
use crate::pipeline::cache::Cache;
use crate::pipeline::clock;
use crate::pipeline::record::{RunEnvironment, RunRecord, safe_name};
use crate::pipeline::slurm::driver::{SlurmRun, Submission, submit_plan};
use crate::pipeline::slurm::query::Poller;
use crate::pipeline::slurm::script::NodeCommand;
use crate::pipeline::slurm::tool::SlurmTools;
use crate::pipeline::slurm::wait::{PollStats, summarise, wait_for_jobs};
use crate::pipeline::summary::{RunLine, RunStatus, RunSummary};
use crate::stages::plan::BuiltPlan;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Runs the plan through Slurm; returns the exit code.
pub(crate) fn run_slurm(
    results: &Path,
    args: &SpecArgs,
    loaded: &LoadedSpec,
    built: &BuiltPlan,
    slurm: &SlurmSpec,
    detach: bool,
    started: SystemTime,
) -> Result<i32> {
    let clock = Instant::now();
    std::fs::create_dir_all(results).at_path(results)?;
    let results = std::fs::canonicalize(results).at_path(results)?;
    let cache = Cache::open(&results)?;
    let (run_id, run_dir) = new_run_dir(&results, &loaded.name, started)?;
    let run = SlurmRun {
        plan: &built.plan,
        cache: &cache,
        slurm,
        cuda: loaded.points.iter().any(|point| point.spec.device == DeviceKind::Cuda),
        command: node_command(&results, args)?,
        spec_name: loaded.name.clone(),
        run_id,
        run_dir: run_dir.clone(),
        workdir: std::env::current_dir().at_path(".")?,
    };
    let tools = SlurmTools::new();
    let mut poller = Poller::new(&tools);
    let mut submission = submit_plan(&run, &tools, &mut poller, detach)?;
    print_jobs(&submission);
    if detach {
        let summary = detached_summary(built, &submission);
        write_record(loaded, &run_dir, &summary, slurm_section(&submission, None), started)?;
        let (spec, logs) = (args.spec.display(), run_dir.join("slurm"));
        eprintln!("detached: follow with `gohsp status {spec}`; logs in {}", logs.display());
        return Ok(0);
    }
    let interval = Duration::from_secs_f64(slurm.poll_seconds);
    let stats = wait_for_jobs(&mut submission.jobs, &cache, &mut poller, interval, &run_dir)?;
    let summary = summarise(&built.plan, &cache, &submission.hits, &submission.jobs)?;
    let section = slurm_section(&submission, Some((stats, tools.calls())));
    let record_path = write_record(loaded, &run_dir, &summary, section, started)?;
    print_summary(&summary, clock.elapsed().as_secs_f64());
    let rate = per_minute(stats);
    eprintln!(
        "slurm: {} jobs submitted, {} queries in {:.1} s of polling ({rate:.1} per minute)",
        submission.submitted, stats.polls, stats.seconds
    );
    publish(&results, loaded, built, &cache, &summary)?;
    eprintln!("provenance: {}", record_path.display());
    Ok(summary.exit_code())
}

/// The command each job runs: this binary, on the absolute results root and spec, with the run's overrides.
fn node_command(results: &Path, args: &SpecArgs) -> Result<NodeCommand> {
    let program = std::env::current_exe().map_err(|e| GohspError::Internal(format!("the gohsp executable: {e}")))?;
    let spec = std::fs::canonicalize(&args.spec).at_path(&args.spec)?;
    Ok(NodeCommand { program, results: results.to_path_buf(), spec, sets: overrides(args) })
}

/// A new folder `results/runs/<name>/<timestamp>` and its id (the folder's name).
fn new_run_dir(results: &Path, name: &str, started: SystemTime) -> Result<(String, PathBuf)> {
    let base = results.join("runs").join(safe_name(name));
    std::fs::create_dir_all(&base).at_path(&base)?;
    let stamp = clock::compact_utc(started);
    let mut id = stamp.clone();
    for attempt in 1.. {
        match std::fs::create_dir(base.join(&id)) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => id = format!("{stamp}-{attempt}"),
            Err(e) => return Err(e).at_path(base.join(&id)),
        }
    }
    Ok((id.clone(), base.join(id)))
}

/// One stdout line per job: label, job id.
fn print_jobs(submission: &Submission) {
    for job in &submission.jobs.jobs {
        outln!("{}\t{}", job.label, job.job_id);
    }
    let adopted = submission.jobs.jobs.len() - submission.submitted;
    eprintln!(
        "submitted {} jobs ({adopted} adopted from earlier runs, {} nodes cached)",
        submission.submitted,
        submission.hits.len()
    );
}

/// Cached nodes as hits, submitted ones as `would run` (a detached run does not see them finish).
fn detached_summary(built: &BuiltPlan, submission: &Submission) -> RunSummary {
    let outcome = |node: &crate::pipeline::dag::PlanNode| {
        let status = if submission.hits.contains(&node.id) { RunStatus::Hit } else { RunStatus::WouldRun };
        RunLine {
            label: node.label.clone(),
            kind: node.kind(),
            key: node.key.clone(),
            status,
            wall_s: 0.0,
            exit_code: 0,
        }
    };
    RunSummary { nodes: built.plan.nodes().into_iter().map(outcome).collect() }
}

fn per_minute(stats: PollStats) -> f64 {
    if stats.seconds > 0.0 { stats.polls as f64 * 60.0 / stats.seconds } else { 0.0 }
}

/// run.json in the run folder, with the `slurm` section.
fn write_record(
    loaded: &LoadedSpec,
    run_dir: &Path,
    summary: &RunSummary,
    slurm: serde_json::Value,
    started: SystemTime,
) -> Result<PathBuf> {
    let environment = RunEnvironment {
        burn_version: "0.22.1".into(),
        backend: backend_name(loaded),
        threads: rayon::current_num_threads(),
    };
    let record =
        RunRecord::new(&loaded.name, loaded.resolved.clone(), environment, summary, started, SystemTime::now());
    let mut value = serde_json::to_value(&record).expect("plain struct serialises");
    value["slurm"] = slurm;
    let path = run_dir.join("run.json");
    std::fs::write(&path, serde_json::to_string_pretty(&value).expect("JSON serialises")).at_path(&path)?;
    Ok(path)
}

/// run.json's `slurm` section: the run's jobs with their logs, and the polling figures (`polling`: stats and the
/// number of Slurm commands run) when the run waited.
fn slurm_section(submission: &Submission, polling: Option<(PollStats, usize)>) -> serde_json::Value {
    let job = |job: &crate::pipeline::slurm::jobs::JobRecord| json!({ "label": job.label, "job_id": job.job_id, "state": job.state, "log": job.log });
    json!({
        "run_id": submission.jobs.run_id,
        "job_name": submission.jobs.job_name,
        "detached": submission.jobs.detached,
        "submitted": submission.submitted,
        "jobs_file": "slurm/jobs.json",
        "jobs": submission.jobs.jobs.iter().map(job).collect::<Vec<_>>(),
        "polls": polling.map(|(stats, _)| stats.polls),
        "poll_seconds": polling.map(|(stats, _)| stats.seconds),
        "scheduler_calls": polling.map(|(_, calls)| calls),
    })
}
