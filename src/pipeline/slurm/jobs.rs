//! The jobs of a Slurm run, kept in `runs/<spec>/<stamp>/slurm/jobs.json`: which job builds which node, its log, and
//! the last state seen. `gohsp status` and later runs read them back.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{GohspError, IoContext, Result};
use crate::pipeline::stage::StageKind;

/// One submitted (or adopted) job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JobRecord {
    /// The node's label.
    pub label: String,
    /// The node's stage kind.
    pub kind: StageKind,
    /// The node's cache key.
    pub key: String,
    /// Slurm's job id.
    pub job_id: String,
    /// The job's name (`gohsp-<spec>-<run id>` of the run that submitted it).
    pub job_name: String,
    /// The job's log file.
    pub log: PathBuf,
    /// The last state seen (`SUBMITTED` until the first poll).
    pub state: String,
    /// Slurm's reason for the state, when it gave one.
    #[serde(default)]
    pub reason: String,
}

/// Every job of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JobsFile {
    /// The run's id (its timestamp).
    pub run_id: String,
    /// The name every job of the run was submitted under.
    pub job_name: String,
    /// Whether the run was submitted with `--detach`.
    pub detached: bool,
    /// The jobs, in topological order.
    pub jobs: Vec<JobRecord>,
}

impl JobsFile {
    /// Where a run folder keeps its jobs file.
    pub(crate) fn path(run_dir: &Path) -> PathBuf {
        run_dir.join("slurm").join("jobs.json")
    }

    /// Writes the file (replaced atomically, so a reader never sees half of it).
    pub(crate) fn save(&self, run_dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("plain struct serialises");
        crate::atomic_write::write_atomically(&Self::path(run_dir), text.as_bytes())
    }

    /// Reads the file at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).at_path(path)?;
        serde_json::from_str(&text).map_err(|e| GohspError::Internal(format!("{}: {e}", path.display())))
    }
}

/// The jobs files of every run of experiment `name` under `results`, oldest first (run folders sort by time).
pub(crate) fn runs_jobs(results: &Path, name: &str) -> Result<Vec<JobsFile>> {
    let base = results.join("runs").join(crate::pipeline::record::safe_name(name));
    let Ok(entries) = std::fs::read_dir(&base) else { return Ok(Vec::new()) };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dirs.sort();
    dirs.iter().map(|dir| JobsFile::path(dir)).filter(|path| path.is_file()).map(|path| JobsFile::load(&path)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_jobs_file_reads_back_and_runs_come_oldest_first() {
        let root = tempfile::tempdir().unwrap();
        for (stamp, id) in [("20260102T000000Z", "7"), ("20260101T000000Z", "3")] {
            let dir = root.path().join("runs/micro").join(stamp);
            std::fs::create_dir_all(dir.join("slurm")).unwrap();
            let job = JobRecord {
                label: "pretrain".into(),
                kind: StageKind::Pretrain,
                key: "k".into(),
                job_id: id.into(),
                job_name: format!("gohsp-micro-{stamp}"),
                log: dir.join("slurm/pretrain.7.log"),
                state: "SUBMITTED".into(),
                reason: String::new(),
            };
            let file =
                JobsFile { run_id: stamp.into(), job_name: job.job_name.clone(), detached: true, jobs: vec![job] };
            file.save(&dir).unwrap();
        }
        let runs = runs_jobs(root.path(), "micro").unwrap();
        assert_eq!(runs.iter().map(|r| r.jobs[0].job_id.as_str()).collect::<Vec<_>>(), ["3", "7"]);
        assert!(runs_jobs(root.path(), "other").unwrap().is_empty());
    }
}
