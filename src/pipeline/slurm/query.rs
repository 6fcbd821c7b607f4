//! Asking Slurm where jobs stand with one batched call per poll: sacct when accounting is on, otherwise squeue
//! (`--states=all` keeps finished jobs visible for MinJobAge).

use std::collections::HashMap;

use super::state::JobState;
use super::submit::key_of_comment;
use super::tool::SlurmTools;
use crate::error::{GohspError, Result};

/// One job as a query saw it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobStatus {
    /// Its state.
    pub state: JobState,
    /// Slurm's reason (squeue's `%r`), possibly empty.
    pub reason: String,
    /// Its name (empty from sacct).
    pub name: String,
    /// Its comment (empty from sacct).
    pub comment: String,
}

/// squeue's output format: id, state, reason, name, comment.
const SQUEUE_FORMAT: &str = "%i|%T|%r|%j|%k";

/// Which command answers the polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// sacct (accounting storage is on).
    Sacct,
    /// squeue (no accounting).
    Squeue,
}

/// Polls job states; finds out on its first call whether sacct works.
pub(crate) struct Poller<'t> {
    tools: &'t SlurmTools,
    source: Option<Source>,
}

impl<'t> Poller<'t> {
    /// A poller that tries sacct first.
    pub(crate) fn new(tools: &'t SlurmTools) -> Self {
        Self { tools, source: None }
    }

    /// The states of jobs `ids` (named `names`), by job id; jobs Slurm no longer knows are absent.
    pub(crate) fn states(&mut self, ids: &[String], names: &[String]) -> Result<HashMap<String, JobStatus>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        if self.source != Some(Source::Squeue) {
            let output = self.tools.call("sacct", &sacct_args(ids))?;
            let disabled = format!("{}{}", output.stdout, output.stderr).to_lowercase().contains("disabled");
            if output.success && !disabled {
                self.source = Some(Source::Sacct);
                return Ok(parse_sacct(&output.stdout));
            }
            tracing::info!("sacct is not usable ({}); polling with squeue", output.stderr.trim());
            self.source = Some(Source::Squeue);
        }
        self.squeue(&["--states=all".to_string(), format!("--name={}", names.join(","))])
    }

    /// The user's queued and running jobs (to adopt those that already build a node).
    pub(crate) fn active(&mut self) -> Result<HashMap<String, JobStatus>> {
        self.squeue(&["--me".to_string()])
    }

    fn squeue(&self, filter: &[String]) -> Result<HashMap<String, JobStatus>> {
        let mut args = vec!["--noheader".to_string(), format!("--format={SQUEUE_FORMAT}")];
        args.extend(filter.iter().cloned());
        let output = self.tools.call("squeue", &args)?;
        if !output.success {
            return Err(GohspError::stage("slurm", format!("squeue failed: {}", output.stderr)));
        }
        Ok(parse_squeue(&output.stdout))
    }
}

fn sacct_args(ids: &[String]) -> Vec<String> {
    ["--noheader", "--parsable2", "--allocations", "--format=JobIDRaw,State"]
        .map(String::from)
        .into_iter()
        .chain([format!("--jobs={}", ids.join(","))])
        .collect()
}

/// Parses squeue lines printed with [`SQUEUE_FORMAT`] (the comment may itself hold `|`).
pub(crate) fn parse_squeue(text: &str) -> HashMap<String, JobStatus> {
    let line = |line: &str| {
        let fields: Vec<&str> = line.trim().splitn(5, '|').collect();
        let field = |i: usize| fields.get(i).map(|f| f.trim().to_string()).unwrap_or_default();
        let status =
            JobStatus { state: JobState::parse(&field(1)), reason: field(2), name: field(3), comment: field(4) };
        (fields.len() >= 2 && !fields[0].is_empty()).then(|| (field(0), status))
    };
    text.lines().filter_map(line).collect()
}

/// Parses `sacct --parsable2` lines of JobIDRaw and State.
pub(crate) fn parse_sacct(text: &str) -> HashMap<String, JobStatus> {
    let line = |line: &str| {
        let (id, state) = line.trim().split_once('|')?;
        let status = JobStatus {
            state: JobState::parse(state),
            reason: String::new(),
            name: String::new(),
            comment: String::new(),
        };
        (!id.is_empty()).then(|| (id.to_string(), status))
    };
    text.lines().filter_map(line).collect()
}

/// The active jobs among `jobs` that build a node of experiment `name`: cache key -> job id.
pub(crate) fn adoptable(jobs: &HashMap<String, JobStatus>, name_prefix: &str) -> HashMap<String, (String, String)> {
    jobs.iter()
        .filter(|(_, job)| !job.state.is_final() && job.name.starts_with(name_prefix))
        .filter_map(|(id, job)| Some((key_of_comment(&job.comment)?.to_string(), (id.clone(), job.name.clone()))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_lines_give_state_reason_name_and_comment() {
        let text = "12|PENDING|Dependency|gohsp-micro-1|admm[s=0.3] key=ab\n13|CANCELLED|DependencyNeverSatisfied|gohsp-micro-1|x key=cd\n";
        let jobs = parse_squeue(text);
        assert_eq!(jobs["12"].state, JobState::Pending);
        assert_eq!(jobs["13"].reason, "DependencyNeverSatisfied");
        assert_eq!(jobs["12"].comment, "admm[s=0.3] key=ab");
        let adopt = adoptable(&jobs, "gohsp-micro-");
        assert_eq!(adopt.len(), 1, "a cancelled job is not adopted");
        assert_eq!(adopt["ab"].0, "12");
        assert!(adoptable(&jobs, "gohsp-other-").is_empty());
    }

    #[test]
    fn sacct_lines_give_states_by_job_id() {
        let jobs = parse_sacct("5|TIMEOUT\n6|CANCELLED by 0\n7|OUT_OF_MEMORY\n");
        assert_eq!(jobs["5"].state, JobState::Timeout);
        assert_eq!(jobs["6"].state, JobState::Cancelled);
        assert_eq!(jobs["7"].state, JobState::OutOfMemory);
    }
}
