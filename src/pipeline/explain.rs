//! `gohsp explain NODE`: which key parts of a node changed since its last committed run.

use std::fmt;

use super::cache::Cache;
use super::dag::Plan;
use super::diff::{ParamChange, diff_params};
use super::index::LastRun;
use super::key::{CacheKey, CacheKeyParts, InputKeyPart};
use super::stage::StageKind;
use crate::error::{GohspError, Result};

/// One key part that differs between the last run and now.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeyChange {
    /// The stage kind (the label now names another kind of stage).
    Kind { old: StageKind, new: StageKind },
    /// A param.
    Param(ParamChange),
    /// The input at `position` (0-based); `None` when that side has no input there.
    Input { position: usize, old: Option<InputKeyPart>, new: Option<InputKeyPart> },
    /// The dataset fingerprint.
    DatasetFingerprint { old: String, new: String },
    /// The cache format version.
    FormatVersion { old: u32, new: u32 },
}

impl fmt::Display for KeyChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = |part: &Option<InputKeyPart>| {
            part.as_ref().map_or("(none)".into(), |p| format!("{} {:.12}", p.kind, p.key))
        };
        match self {
            Self::Kind { old, new } => write!(f, "stage kind: {old} -> {new}"),
            Self::Param(change) => write!(f, "{change}"),
            Self::Input { position, old, new } => write!(f, "input {position}: {} -> {}", input(old), input(new)),
            Self::DatasetFingerprint { old, new } => write!(f, "dataset fingerprint: {old} -> {new}"),
            Self::FormatVersion { old, new } => write!(f, "cache format version: {old} -> {new}"),
        }
    }
}

/// Every key part that differs from `old` to `new`.
pub(crate) fn diff_parts(old: &CacheKeyParts, new: &CacheKeyParts) -> Vec<KeyChange> {
    let mut changes = Vec::new();
    if old.kind != new.kind {
        changes.push(KeyChange::Kind { old: old.kind, new: new.kind });
    }
    changes.extend(diff_params(&old.params, &new.params).into_iter().map(KeyChange::Param));
    for position in 0..old.inputs.len().max(new.inputs.len()) {
        let (a, b) = (old.inputs.get(position), new.inputs.get(position));
        if a != b {
            changes.push(KeyChange::Input { position, old: a.cloned(), new: b.cloned() });
        }
    }
    if old.dataset_fingerprint != new.dataset_fingerprint {
        let (old, new) = (old.dataset_fingerprint.clone(), new.dataset_fingerprint.clone());
        changes.push(KeyChange::DatasetFingerprint { old, new });
    }
    if old.format_version != new.format_version {
        changes.push(KeyChange::FormatVersion { old: old.format_version, new: new.format_version });
    }
    changes
}

/// How a node's key now compares with its last committed run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Explanation {
    /// The node's label.
    pub label: String,
    /// The node's key now.
    pub key_now: CacheKey,
    /// The last committed run of this label, if any.
    pub previous: Option<LastRun>,
    /// What changed since then (empty when the key is the same).
    pub changes: Vec<KeyChange>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(previous) = &self.previous else {
            return write!(f, "{}: no previous run of this node", self.label);
        };
        if previous.key == self.key_now {
            return write!(
                f,
                "{}: key {} unchanged since the last run ({})",
                self.label,
                self.key_now.short(),
                previous.created
            );
        }
        write!(
            f,
            "{}: key changed since the last run ({}): {} -> {}",
            self.label,
            previous.created,
            previous.key.short(),
            self.key_now.short()
        )?;
        for change in &self.changes {
            write!(f, "\n  {change}")?;
        }
        Ok(())
    }
}

/// Compares the key parts of `label` now with the last committed run of that label.
pub(crate) fn explain(label: &str, parts_now: &CacheKeyParts, cache: &Cache) -> Result<Explanation> {
    let previous = cache.last_run(label)?;
    let changes = previous.as_ref().map_or_else(Vec::new, |run| diff_parts(&run.parts, parts_now));
    Ok(Explanation { label: label.to_string(), key_now: parts_now.key(), previous, changes })
}

/// `explain` for the node of `plan` labelled `label`; a usage error listing the labels when there is none.
pub(crate) fn explain_label(plan: &Plan, label: &str, cache: &Cache) -> Result<Explanation> {
    let Some(node) = plan.find_by_label(label) else {
        let labels: Vec<String> = plan.nodes().iter().map(|node| node.label.clone()).collect();
        let hint = format!("`gohsp plan` lists the nodes: {}", labels.join(", "));
        return Err(GohspError::usage(format!("no node labelled `{label}` in this plan"), hint));
    };
    explain(label, &node.parts, cache)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parts(alpha: f64, input_key: &str, fingerprint: &str) -> CacheKeyParts {
        let inputs = vec![InputKeyPart { kind: StageKind::Prune, key: input_key.into() }];
        CacheKeyParts::new(StageKind::Finetune, &json!({"lr": 1e-3, "distill": {"alpha": alpha}}), inputs, fingerprint)
    }

    #[test]
    fn diff_names_params_inputs_fingerprint_and_version() {
        let old = parts(0.5, "aaaa", "mnist");
        let mut new = parts(0.7, "bbbb", "fmnist");
        new.format_version += 1;
        let lines: Vec<String> = diff_parts(&old, &new).iter().map(ToString::to_string).collect();
        assert_eq!(lines[0], "distill.alpha: 0.5 -> 0.7");
        assert_eq!(lines[1], "input 0: prune aaaa -> prune bbbb");
        assert_eq!(lines[2], "dataset fingerprint: mnist -> fmnist");
        assert!(lines[3].starts_with("cache format version"));
        assert!(diff_parts(&old, &old).is_empty());
    }

    #[test]
    fn explain_without_a_previous_run_says_so() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let explanation = explain("finetune", &parts(0.5, "a", "fp"), &cache).unwrap();
        assert_eq!(explanation.previous, None);
        assert_eq!(explanation.to_string(), "finetune: no previous run of this node");
        let mut plan = Plan::new();
        plan.add(crate::pipeline::mock_stage::MockStage::arc(StageKind::Rank, "rank", json!({})), &[], "fp");
        assert!(explain_label(&plan, "rank", &cache).unwrap().previous.is_none());
        let err = explain_label(&plan, "rnak", &cache).unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("rank"), "{err}");
    }
}
