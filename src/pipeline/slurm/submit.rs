//! Submitting one node's job with `sbatch --parsable` (Slurm's own message when it refuses), and cancelling jobs.

use std::path::PathBuf;

use super::tool::SlurmTools;
use crate::error::{GohspError, Result};

/// Everything sbatch needs to know about one node's job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JobRequest {
    /// `gohsp-<spec>-<run id>`: one name for the whole run, so one query finds every job.
    pub job_name: String,
    /// The node's label (put in `--comment`, with its key).
    pub label: String,
    /// The node's cache key.
    pub key: String,
    /// The log file, with `%j` for the job id.
    pub log: PathBuf,
    /// The folder the job runs in.
    pub workdir: PathBuf,
    /// Seconds before the time limit at which Slurm sends USR2.
    pub signal_seconds: u32,
    /// Job ids this job runs after (each must complete successfully).
    pub after: Vec<String>,
    /// The resource arguments of the node's stage kind.
    pub resources: Vec<String>,
    /// The batch script.
    pub script: PathBuf,
}

/// The comment that tells a job's node: `<label> key=<key>`.
pub(crate) fn job_comment(label: &str, key: &str) -> String {
    format!("{label} key={key}")
}

/// The key in a job comment written by [`job_comment`].
pub(crate) fn key_of_comment(comment: &str) -> Option<&str> {
    comment.rsplit_once(" key=").map(|(_, key)| key.trim()).filter(|key| !key.is_empty())
}

/// The sbatch command line of `request`.
pub(crate) fn sbatch_args(request: &JobRequest) -> Vec<String> {
    let mut args = vec![
        "--parsable".to_string(),
        format!("--job-name={}", request.job_name),
        format!("--comment={}", job_comment(&request.label, &request.key)),
        format!("--output={}", request.log.display()),
        format!("--chdir={}", request.workdir.display()),
        format!("--signal=B:USR2@{}", request.signal_seconds),
        "--kill-on-invalid-dep=yes".to_string(),
    ];
    if !request.after.is_empty() {
        args.push(format!("--dependency=afterok:{}", request.after.join(":")));
    }
    args.extend(request.resources.iter().cloned());
    args.push(request.script.display().to_string());
    args
}

/// Submits `request`; returns the job id. A refusal is the user's error, with Slurm's message.
pub(crate) fn submit(tools: &SlurmTools, request: &JobRequest) -> Result<String> {
    let output = tools.call("sbatch", &sbatch_args(request))?;
    let id = output.stdout.trim().split(';').next().unwrap_or("").to_string();
    if !output.success || id.is_empty() || !id.chars().all(|c| c.is_ascii_digit() || c == '_') {
        let message = if output.stderr.is_empty() { output.stdout.trim().to_string() } else { output.stderr };
        return Err(GohspError::usage(
            format!("sbatch refused the job of {}: {message}", request.label),
            "check executor.slurm (partition, account, time, cpus, mem, gpus, extra) against the cluster's limits",
        ));
    }
    Ok(id)
}

/// Cancels `ids` (one scancel call); failures are logged, not raised.
pub(crate) fn cancel(tools: &SlurmTools, ids: &[String]) {
    if ids.is_empty() {
        return;
    }
    match tools.call("scancel", ids) {
        Ok(output) if output.success => tracing::info!("cancelled jobs {}", ids.join(",")),
        Ok(output) => tracing::warn!("scancel {}: {}", ids.join(" "), output.stderr),
        Err(error) => tracing::warn!("scancel: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_with_inputs_depends_on_their_jobs_and_names_its_node() {
        let request = JobRequest {
            job_name: "gohsp-micro-20260101T000000Z".into(),
            label: "admm[sparsity=0.3]".into(),
            key: "abcd".into(),
            log: "/r/runs/micro/x/slurm/admm.%j.log".into(),
            workdir: "/src".into(),
            signal_seconds: 120,
            after: vec!["11".into(), "12".into()],
            resources: vec!["--gres=gpu:1".into()],
            script: "/r/runs/micro/x/slurm/admm.sh".into(),
        };
        let args = sbatch_args(&request);
        assert_eq!(args[0], "--parsable");
        assert!(args.contains(&"--dependency=afterok:11:12".to_string()), "{args:?}");
        assert!(args.contains(&"--comment=admm[sparsity=0.3] key=abcd".to_string()), "{args:?}");
        assert!(args.contains(&"--signal=B:USR2@120".to_string()), "{args:?}");
        assert_eq!(args[args.len() - 2..], ["--gres=gpu:1".to_string(), "/r/runs/micro/x/slurm/admm.sh".to_string()]);
        assert_eq!(key_of_comment("admm[sparsity=0.3] key=abcd"), Some("abcd"));
        assert_eq!(key_of_comment("someone else's job"), None);
    }
}
