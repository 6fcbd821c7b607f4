//! What an execution did to each node: hit, ran, failed or skipped, and how long it took.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::key::CacheKey;
use super::stage::StageKind;

/// The outcome of one node in one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub(crate) enum RunStatus {
    /// A verified cache entry was there (possibly committed meanwhile by another process); nothing ran.
    Hit,
    /// The stage ran and its entry was committed.
    Ran,
    /// The stage (or committing its entry) failed; no entry was written.
    Failed(String),
    /// Not run: downstream of a failure, or stopped by fail-fast.
    Skipped,
    /// A dry run's miss: the stage would run.
    WouldRun,
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hit => f.write_str("hit"),
            Self::Ran => f.write_str("ran"),
            Self::Failed(reason) => write!(f, "failed: {reason}"),
            Self::Skipped => f.write_str("skipped"),
            Self::WouldRun => f.write_str("would run"),
        }
    }
}

/// One node's line in a [`RunSummary`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunLine {
    /// The node's label.
    pub label: String,
    /// The stage kind.
    pub kind: StageKind,
    /// The node's cache key.
    pub key: CacheKey,
    /// What happened.
    #[serde(flatten)]
    pub status: RunStatus,
    /// Seconds spent on the node (lookup, waiting for a lock, running, committing).
    pub wall_s: f64,
    /// 0, or for a failure the exit code its error calls for (2 for the user's mistakes).
    #[serde(default)]
    pub exit_code: i32,
}

/// The outcomes of every node of a plan, in topological order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunSummary {
    /// One outcome per node.
    pub nodes: Vec<RunLine>,
}

impl RunSummary {
    /// The nodes that failed.
    pub(crate) fn failed(&self) -> Vec<&RunLine> {
        self.with(|status| matches!(status, RunStatus::Failed(_)))
    }

    /// The nodes that were cache hits.
    pub(crate) fn hits(&self) -> Vec<&RunLine> {
        self.with(|status| *status == RunStatus::Hit)
    }

    /// The nodes whose stage ran.
    pub(crate) fn ran(&self) -> Vec<&RunLine> {
        self.with(|status| *status == RunStatus::Ran)
    }

    /// Whether no node failed or was skipped.
    pub(crate) fn is_success(&self) -> bool {
        self.nodes.iter().all(|node| !matches!(node.status, RunStatus::Failed(_) | RunStatus::Skipped))
    }

    /// The process exit code the run calls for: 0, 2 when a failure was the user's mistake, else 1.
    pub(crate) fn exit_code(&self) -> i32 {
        let codes = self.nodes.iter().map(|node| node.exit_code);
        if codes.clone().any(|code| code == 2) {
            2
        } else if self.is_success() {
            0
        } else {
            1
        }
    }

    #[cfg(test)]
    /// The outcome of the node labelled `label`.
    pub(crate) fn get(&self, label: &str) -> Option<&RunLine> {
        self.nodes.iter().find(|node| node.label == label)
    }

    fn with(&self, keep: impl Fn(&RunStatus) -> bool) -> Vec<&RunLine> {
        self.nodes.iter().filter(|node| keep(&node.status)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(label: &str, status: RunStatus) -> RunLine {
        RunLine {
            label: label.into(),
            kind: StageKind::Rank,
            key: CacheKey("k".into()),
            status,
            wall_s: 0.0,
            exit_code: 0,
        }
    }

    #[test]
    fn counts_by_status_and_serialises_flat() {
        let summary =
            RunSummary { nodes: vec![outcome("a", RunStatus::Hit), outcome("b", RunStatus::Failed("boom".into()))] };
        assert_eq!(summary.failed()[0].label, "b");
        assert_eq!(summary.hits().len(), 1);
        assert!(!summary.is_success());
        assert_eq!(summary.exit_code(), 1);
        let json = serde_json::to_value(&summary.nodes[1]).unwrap();
        assert_eq!(json["status"], "failed");
        assert_eq!(json["reason"], "boom");
        assert_eq!(summary.nodes[1].status.to_string(), "failed: boom");
    }
}
