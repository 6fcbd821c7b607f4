//! Slurm job states as squeue and sacct print them, and which of them are final.

use std::fmt;

/// A Slurm job state (the long names of squeue's `%T` and sacct's `State`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JobState {
    /// Waiting for resources or dependencies (also CONFIGURING, REQUEUED, SUSPENDED...).
    Pending,
    /// Running (also COMPLETING).
    Running,
    /// Exited with code 0.
    Completed,
    /// Exited with a non-zero code.
    Failed,
    /// Cancelled by a user or an administrator (or for a dependency that can never be met).
    Cancelled,
    /// Reached its time limit.
    Timeout,
    /// Killed for using more memory than it asked for.
    OutOfMemory,
    /// Its node failed.
    NodeFail,
    /// Preempted by a higher-priority job.
    Preempted,
    /// Any other final state Slurm reports (BOOT_FAIL, DEADLINE...), by name.
    Other(String),
}

impl JobState {
    /// Reads a state; sacct's `CANCELLED by 0` and trailing `+` are accepted.
    pub(crate) fn parse(text: &str) -> JobState {
        let word = text.split_whitespace().next().unwrap_or("").trim_end_matches('+').to_ascii_uppercase();
        match word.as_str() {
            "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "RESIZING" | "SUSPENDED"
            | "STOPPED" | "SIGNALING" | "STAGE_OUT" | "RESV_DEL_HOLD" | "SUBMITTED" => JobState::Pending,
            "RUNNING" | "COMPLETING" => JobState::Running,
            "COMPLETED" => JobState::Completed,
            "FAILED" => JobState::Failed,
            "CANCELLED" => JobState::Cancelled,
            "TIMEOUT" => JobState::Timeout,
            "OUT_OF_MEMORY" => JobState::OutOfMemory,
            "NODE_FAIL" => JobState::NodeFail,
            "PREEMPTED" => JobState::Preempted,
            _ => JobState::Other(word),
        }
    }

    /// Whether the job will not change state any more.
    pub(crate) fn is_final(&self) -> bool {
        !matches!(self, JobState::Pending | JobState::Running)
    }

    /// Slurm's name of the state.
    pub(crate) fn name(&self) -> &str {
        match self {
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Cancelled => "CANCELLED",
            JobState::Timeout => "TIMEOUT",
            JobState::OutOfMemory => "OUT_OF_MEMORY",
            JobState::NodeFail => "NODE_FAIL",
            JobState::Preempted => "PREEMPTED",
            JobState::Other(name) => name,
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_state_keeps_its_name_and_is_final() {
        for name in ["TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "CANCELLED", "FAILED", "BOOT_FAIL"] {
            let state = JobState::parse(name);
            assert_eq!(state.name(), name);
            assert!(state.is_final(), "{name}");
        }
        assert_eq!(JobState::parse("CANCELLED by 0"), JobState::Cancelled);
        assert_eq!(JobState::parse("COMPLETED+"), JobState::Completed);
    }

    #[test]
    fn queued_and_running_states_are_not_final() {
        for name in ["PENDING", "CONFIGURING", "REQUEUED", "RUNNING", "COMPLETING"] {
            assert!(!JobState::parse(name).is_final(), "{name}");
        }
        assert_eq!(JobState::parse("COMPLETING"), JobState::Running);
    }
}
