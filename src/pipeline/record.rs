//! Run provenance: ROOT/runs/NAME/TIMESTAMP/run.json with the resolved spec, versions, machine and node outcomes.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::clock;
use super::provenance::{GitState, cpu_model, git_state, hostname};
use super::summary::{RunLine, RunSummary};
use crate::error::{IoContext, Result};

/// What the caller knows about the compute setup (the pipeline itself does not depend on burn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunEnvironment {
    /// burn's version.
    pub burn_version: String,
    /// The backend in use, e.g. `flex` or `cuda`.
    pub backend: String,
    /// Worker threads of the backend / data loader.
    pub threads: usize,
}

/// The contents of run.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunRecord {
    /// The experiment's name (the spec's `name`).
    pub name: String,
    /// The resolved spec, as run.
    pub spec: serde_json::Value,
    /// The checkout's commit and dirty flag (`None` outside git).
    pub git: Option<GitState>,
    /// gohsp's version.
    pub crate_version: String,
    /// Backend, burn version and threads.
    pub environment: RunEnvironment,
    /// `model name` from /proc/cpuinfo.
    pub cpu_model: Option<String>,
    /// The machine's hostname.
    pub hostname: Option<String>,
    /// When the run started (RFC 3339, UTC).
    pub started: String,
    /// When it finished (RFC 3339, UTC).
    pub finished: String,
    /// Every node: label, kind, key, status, wall time.
    pub nodes: Vec<RunLine>,
}

impl RunRecord {
    /// A record of `summary`, run from `started` to `finished`; git state is read from the current directory.
    pub(crate) fn new(
        name: &str,
        spec: serde_json::Value,
        environment: RunEnvironment,
        summary: &RunSummary,
        started: SystemTime,
        finished: SystemTime,
    ) -> Self {
        let git = std::env::current_dir().ok().and_then(|dir| git_state(&dir));
        Self {
            name: name.to_string(),
            spec,
            git,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            environment,
            cpu_model: cpu_model(),
            hostname: hostname(),
            started: clock::rfc3339(started),
            finished: clock::rfc3339(finished),
            nodes: summary.nodes.clone(),
        }
    }
}

/// Writes `record` to ROOT/runs/NAME/TIMESTAMP/run.json (TIMESTAMP from its start, made unique) and returns the path.
pub(crate) fn write_run_record(root: &Path, record: &RunRecord) -> Result<PathBuf> {
    let base = root.join("runs").join(safe_name(&record.name));
    std::fs::create_dir_all(&base).at_path(&base)?;
    let stamp: String = record.started.chars().filter(|c| *c != '-' && *c != ':').collect();
    let mut dir = base.join(&stamp);
    let mut attempt = 1;
    while let Err(e) = std::fs::create_dir(&dir) {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return Err(e).at_path(&dir);
        }
        dir = base.join(format!("{stamp}-{attempt}"));
        attempt += 1;
    }
    let path = dir.join("run.json");
    let text = serde_json::to_string_pretty(record).expect("plain struct serialises");
    std::fs::write(&path, text).at_path(&path)?;
    Ok(path)
}

/// `name` with every character other than letters, digits, `-`, `_` and `.` replaced by `_`.
pub(crate) fn safe_name(name: &str) -> String {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    if safe.is_empty() || safe.chars().all(|c| c == '.') { "unnamed".into() } else { safe }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;
    use crate::pipeline::key::CacheKey;
    use crate::pipeline::stage::StageKind;
    use crate::pipeline::summary::RunStatus;

    fn record(name: &str) -> RunRecord {
        let node = RunLine {
            label: "rank".into(),
            kind: StageKind::Rank,
            key: CacheKey("ab".repeat(32)),
            status: RunStatus::Ran,
            wall_s: 1.25,
            exit_code: 0,
        };
        let environment = RunEnvironment { burn_version: "0.22.1".into(), backend: "flex".into(), threads: 4 };
        let start = UNIX_EPOCH + Duration::from_secs(1_735_787_045);
        let summary = RunSummary { nodes: vec![node] };
        RunRecord::new(name, json!({"sparsity": 0.3}), environment, &summary, start, start + Duration::from_secs(60))
    }

    #[test]
    fn writes_run_json_under_name_and_start_time_and_never_overwrites() {
        let root = tempfile::tempdir().unwrap();
        let first = write_run_record(root.path(), &record("quick/start")).unwrap();
        assert_eq!(first, root.path().join("runs/quick_start/20250102T030405Z/run.json"));
        let second = write_run_record(root.path(), &record("quick/start")).unwrap();
        assert_eq!(second, root.path().join("runs/quick_start/20250102T030405Z-1/run.json"));
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
        assert_eq!(json["spec"]["sparsity"], 0.3);
        assert_eq!(json["finished"], "2025-01-02T03:05:05Z");
        assert_eq!(json["environment"]["burn_version"], "0.22.1");
        assert_eq!(
            (json["nodes"][0]["status"].as_str(), json["nodes"][0]["wall_s"].as_f64()),
            (Some("ran"), Some(1.25))
        );
        let back: RunRecord = serde_json::from_value(json).unwrap();
        assert_eq!(back, record("quick/start"));
    }

    #[test]
    fn safe_names_cannot_escape_the_runs_folder() {
        assert_eq!(safe_name("../x"), ".._x");
        assert_eq!(safe_name(".."), "unnamed");
        assert_eq!(safe_name("deit_tiny-30.a"), "deit_tiny-30.a");
    }
}
