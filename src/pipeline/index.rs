//! The label index: `ROOT/cache/index/<blake3(label)>.json` keeps each node's last committed key parts, so
//! `gohsp explain` can say what changed since the previous run of that node.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::cache::Cache;
use super::entry::EntryRecord;
use super::key::{CacheKey, CacheKeyParts};
use crate::atomic_write::write_atomically;
use crate::error::{IoContext, Result};

/// The last committed run of one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct LastRun {
    /// The node's label.
    pub label: String,
    /// The key it was committed under.
    pub key: CacheKey,
    /// What that key was made of.
    pub parts: CacheKeyParts,
    /// When (RFC 3339).
    pub created: String,
}

impl Cache {
    /// The index file of `label`.
    pub(crate) fn index_path(&self, label: &str) -> PathBuf {
        self.index_dir().join(format!("{}.json", blake3::hash(label.as_bytes()).to_hex()))
    }

    /// The last committed run of `label`, if any (an unreadable index file counts as none).
    pub(crate) fn last_run(&self, label: &str) -> Result<Option<LastRun>> {
        let path = self.index_path(label);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(serde_json::from_str(&text).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).at_path(&path),
        }
    }

    /// Every index record (for garbage collection), with its file.
    pub(crate) fn last_runs(&self) -> Result<Vec<(PathBuf, LastRun)>> {
        let dir = self.index_dir();
        let mut runs = Vec::new();
        for item in std::fs::read_dir(&dir).at_path(&dir)? {
            let path = item.at_path(&dir)?.path();
            let text = std::fs::read_to_string(&path).at_path(&path)?;
            if let Ok(run) = serde_json::from_str::<LastRun>(&text) {
                runs.push((path, run));
            }
        }
        Ok(runs)
    }

    /// Records `record` as its label's last run (replaced atomically).
    pub(crate) fn record_last_run(&self, record: &EntryRecord) -> Result<()> {
        let run = LastRun {
            label: record.label.clone(),
            key: record.key.clone(),
            parts: record.parts.clone(),
            created: record.created.clone(),
        };
        let text = serde_json::to_string_pretty(&run).expect("plain struct serialises");
        write_atomically(&self.index_path(&record.label), text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use serde_json::json;

    use super::*;
    use crate::pipeline::stage::StageKind;

    #[test]
    fn keeps_the_last_committed_run_of_each_label() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        assert_eq!(cache.last_run("rank").unwrap(), None);
        for damping in [0.85, 0.9] {
            let parts = CacheKeyParts::new(StageKind::Rank, &json!({ "damping": damping }), vec![], "fp");
            cache.record_last_run(&EntryRecord::new("rank", &parts, SystemTime::now(), 0.1)).unwrap();
        }
        let last = cache.last_run("rank").unwrap().unwrap();
        assert_eq!(last.parts.params, json!({"damping": 0.9}));
        assert_eq!(cache.last_runs().unwrap().len(), 1);
        assert_eq!(std::fs::read_dir(cache.tmp_dir()).unwrap().count(), 0, "temp folder cleaned");
    }
}
