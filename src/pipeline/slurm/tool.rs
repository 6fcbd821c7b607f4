//! Running Slurm's client commands (sbatch, squeue, sacct, scancel): a missing command is the user's error, and every
//! call is counted so that the polling rate can be reported.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{GohspError, Result};

/// What one Slurm command printed, and whether it succeeded.
#[derive(Debug, Clone)]
pub(crate) struct ToolOutput {
    /// Exit status 0.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error (Slurm's own messages).
    pub stderr: String,
}

/// Slurm's commands, found on PATH, with a count of the calls made.
#[derive(Debug, Default)]
pub(crate) struct SlurmTools {
    calls: AtomicUsize,
}

impl SlurmTools {
    /// A fresh counter.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Runs `program args...`; a program not on PATH is an exit-2 error naming it.
    pub(crate) fn call(&self, program: &str, args: &[String]) -> Result<ToolOutput> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("{program} {}", args.join(" "));
        let output = Command::new(program).args(args).output().map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                GohspError::usage(
                    format!("the Slurm command `{program}` was not found on PATH"),
                    "run on a Slurm login node (sbatch, squeue, sacct and scancel are needed) or use --executor local",
                )
            } else {
                GohspError::Internal(format!("could not start `{program}`: {error}"))
            }
        })?;
        Ok(ToolOutput {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }

    /// How many commands were run so far.
    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_command_is_a_user_error_naming_it() {
        let tools = SlurmTools::new();
        let error = tools.call("gohsp-no-such-sbatch", &[]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("`gohsp-no-such-sbatch`"), "{error}");
        assert_eq!(tools.calls(), 1);
    }
}
