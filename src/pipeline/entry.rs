//! `stage.json`: what a committed cache entry says about itself (key parts, label, timings, versions).

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::clock;
use super::key::{CacheKey, CacheKeyParts};
use crate::error::{GohspError, IoContext, Result};

/// The name of the record inside an entry.
pub(crate) const STAGE_FILE: &str = "stage.json";

/// The contents of an entry's `stage.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EntryRecord {
    /// The node's label when it was built.
    pub label: String,
    /// The entry's key.
    pub key: CacheKey,
    /// What the key is made of.
    pub parts: CacheKeyParts,
    /// How long the stage ran, in seconds.
    pub wall_s: f64,
    /// When the stage started (RFC 3339, UTC).
    pub started: String,
    /// When the entry was committed (RFC 3339, UTC).
    pub created: String,
    /// `created` as Unix seconds, for sorting.
    pub created_unix: i64,
    /// The gohsp version that built the entry.
    pub crate_version: String,
}

impl EntryRecord {
    /// A record for an entry committed now, of a stage that started at `started` and ran `wall_s` seconds.
    pub(crate) fn new(label: &str, parts: &CacheKeyParts, started: SystemTime, wall_s: f64) -> Self {
        let now = SystemTime::now();
        Self {
            label: label.to_string(),
            key: parts.key(),
            parts: parts.clone(),
            wall_s,
            started: clock::rfc3339(started),
            created: clock::rfc3339(now),
            created_unix: clock::unix_seconds(now),
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// Reads `stage.json` from an entry folder.
    pub(crate) fn read(entry_dir: &Path) -> Result<Self> {
        let path = entry_dir.join(STAGE_FILE);
        let text = std::fs::read_to_string(&path).at_path(&path)?;
        serde_json::from_str(&text)
            .map_err(|e| GohspError::Internal(format!("{}: unreadable entry record: {e}", path.display())))
    }

    /// Writes `stage.json` into `entry_dir`.
    pub(crate) fn write(&self, entry_dir: &Path) -> Result<()> {
        let path = entry_dir.join(STAGE_FILE);
        let text = serde_json::to_string_pretty(self).expect("plain struct serialises");
        crate::fault::write(&path, text.as_bytes()).at_path(&path)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pipeline::stage::StageKind;

    #[test]
    fn round_trips_through_stage_json() {
        let dir = tempfile::tempdir().unwrap();
        let parts = CacheKeyParts::new(StageKind::Rank, &json!({"damping": 0.85}), vec![], "fp");
        let record = EntryRecord::new("rank", &parts, SystemTime::now(), 1.5);
        record.write(dir.path()).unwrap();
        let back = EntryRecord::read(dir.path()).unwrap();
        assert_eq!(back, record);
        assert_eq!(back.key, parts.key());
        assert!(back.created.ends_with('Z'));
    }
}
