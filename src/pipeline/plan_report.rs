//! `gohsp plan`: each node of a plan as hit or miss, and why it misses.

use std::collections::HashSet;
use std::fmt;

use super::cache::{Cache, Lookup};
use super::checksum::Corruption;
use super::dag::{NodeId, Plan, PlanNode};
use super::explain::{KeyChange, explain};
use super::key::CacheKey;
use super::stage::StageKind;
use crate::error::Result;

/// Why a node will run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MissReason {
    /// No run of this label was ever committed.
    NoPreviousRun,
    /// The key changed since the label's last run: these parts.
    KeyChanged(Vec<KeyChange>),
    /// The entry is there but fails verification.
    EntryCorrupt(Corruption),
    /// The key is the one last committed, but the entry was removed (gc or by hand).
    EntryMissing,
    /// `--force` names its kind, or a node upstream of it is forced.
    Forced,
}

impl fmt::Display for MissReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPreviousRun => f.write_str("no previous run of this node"),
            Self::KeyChanged(changes) => {
                let parts: Vec<String> = changes.iter().map(ToString::to_string).collect();
                write!(f, "key changed: {}", parts.join("; "))
            }
            Self::EntryCorrupt(corruption) => write!(f, "entry corrupt: {corruption}"),
            Self::EntryMissing => f.write_str("entry removed since the last run"),
            Self::Forced => f.write_str("forced"),
        }
    }
}

/// A node's cache state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PlanStatus {
    /// Cached and verified: will be skipped.
    Hit,
    /// Will run, for this reason.
    Miss(MissReason),
}

/// One line of `gohsp plan`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlanLine {
    /// The node's label.
    pub label: String,
    /// The stage kind.
    pub kind: StageKind,
    /// The node's cache key.
    pub key: CacheKey,
    /// Hit or miss (and why).
    pub state: PlanStatus,
}

impl fmt::Display for PlanLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            PlanStatus::Hit => write!(f, "hit   {} {}", self.key.short(), self.label),
            PlanStatus::Miss(reason) => write!(f, "miss  {} {}: {reason}", self.key.short(), self.label),
        }
    }
}

/// The state of every node of `plan`, in topological order, as an execution with `force` would find it.
/// Reads only: corrupt entries are reported, not removed.
pub(crate) fn plan_report(plan: &Plan, cache: &Cache, force: &[StageKind]) -> Result<Vec<PlanLine>> {
    let mut forced: HashSet<NodeId> = HashSet::new();
    let mut report = Vec::new();
    for node in plan.nodes() {
        if force.contains(&node.kind()) || node.inputs.iter().any(|input| forced.contains(input)) {
            forced.insert(node.id);
        }
        let state = match cache.lookup(node.kind(), &node.key)? {
            _ if forced.contains(&node.id) => PlanStatus::Miss(MissReason::Forced),
            Lookup::Hit(_) => PlanStatus::Hit,
            Lookup::Corrupt(corruption) => PlanStatus::Miss(MissReason::EntryCorrupt(corruption)),
            Lookup::Missing => PlanStatus::Miss(missing_reason(node, cache)?),
        };
        report.push(PlanLine { label: node.label.clone(), kind: node.kind(), key: node.key.clone(), state });
    }
    Ok(report)
}

/// Why a node without an entry misses: never run, key changed (and how), or its entry was removed.
fn missing_reason(node: &PlanNode, cache: &Cache) -> Result<MissReason> {
    let explanation = explain(&node.label, &node.parts, cache)?;
    Ok(match explanation.previous {
        None => MissReason::NoPreviousRun,
        Some(previous) if previous.key == node.key => MissReason::EntryMissing,
        Some(_) => MissReason::KeyChanged(explanation.changes),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pipeline::executor::{ExecOptions, execute};
    use crate::pipeline::mock_stage::MockStage;

    fn plan(lr: f64) -> Plan {
        let mut plan = Plan::new();
        let a = plan.add(MockStage::arc(StageKind::Pretrain, "dense", json!({"epochs": 1})), &[], "fp");
        let b = plan.add(MockStage::arc(StageKind::Finetune, "tune", json!({ "lr": lr })), &[a], "fp");
        plan.add(MockStage::arc(StageKind::Evaluate, "eval", json!({})), &[b], "fp");
        plan
    }

    fn lines(plan: &Plan, cache: &Cache, force: &[StageKind]) -> Vec<String> {
        plan_report(plan, cache, force).unwrap().iter().map(|s| s.to_string().split_off(19)).collect()
    }

    #[test]
    fn reports_never_run_then_hits_then_changed_keys_and_forced_nodes() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        assert_eq!(lines(&plan(0.1), &cache, &[])[0], "dense: no previous run of this node");
        execute(&plan(0.1), &cache, &ExecOptions::default()).unwrap();
        assert_eq!(lines(&plan(0.1), &cache, &[]), ["dense", "tune", "eval"]);
        let changed = lines(&plan(0.2), &cache, &[]);
        assert_eq!(changed[0], "dense");
        assert_eq!(changed[1], "tune: key changed: lr: 0.1 -> 0.2");
        assert!(changed[2].starts_with("eval: key changed: input 0: finetune "), "{}", changed[2]);
        assert_eq!(lines(&plan(0.1), &cache, &[StageKind::Finetune])[1..], ["tune: forced", "eval: forced"]);
    }

    #[test]
    fn reports_corrupt_and_removed_entries() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let plan = plan(0.1);
        execute(&plan, &cache, &ExecOptions::default()).unwrap();
        let [dense, tune, _] = plan.nodes()[..] else { unreachable!() };
        std::fs::write(cache.entry_dir(dense.kind(), &dense.key).join("out.txt"), b"").unwrap();
        std::fs::remove_dir_all(cache.entry_dir(tune.kind(), &tune.key)).unwrap();
        let report = lines(&plan, &cache, &[]);
        assert!(report[0].starts_with("dense: entry corrupt: out.txt: 0 bytes"), "{}", report[0]);
        assert_eq!(report[1], "tune: entry removed since the last run");
    }
}
