//! The fingerprint cache, `RESULTS/cache/fingerprints.json`: dataset fingerprints and file digests remembered with
//! the metadata stamps of their sources, so that planning reads metadata instead of data while nothing changed.
//!
//! A value is reused only when every source's stamp (path, size, modification time, inode) is equal to the recorded
//! one, and recorded only when every source was modified at least 2 s before it was read (a change within the same
//! clock tick could keep the time). The file is replaced by one rename, so a reader never sees half of it; a file
//! that does not parse is ignored with a warning (the values are then computed again), never half trusted. Two
//! processes saving at once may lose each other's new values, which only costs a recomputation.

use super::checksum::hash_file;
use super::file_stamp::FileStamp;
use crate::atomic_write::write_atomically;
use crate::error::{IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// The file's name inside `RESULTS/cache`.
pub(crate) const FILE_NAME: &str = "fingerprints.json";
/// The layout version of the file; another version is ignored as a whole.
pub(crate) const FORMAT: u32 = 1;

/// A dataset's value (its planning facts) with the stamps of the files and folders it was computed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetEntry {
    sources: Vec<FileStamp>,
    facts: serde_json::Value,
}

/// A file's blake3 with the stamp it had when it was hashed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DigestEntry {
    stamp: FileStamp,
    blake3: String,
}

/// The file's content.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    format: u32,
    datasets: BTreeMap<String, DatasetEntry>,
    files: BTreeMap<String, DigestEntry>,
}

/// The cache of one results folder (or an in-memory one that is never saved).
#[derive(Debug)]
pub(crate) struct FingerprintCache {
    path: Option<PathBuf>,
    state: Mutex<(CacheFile, bool)>,
}

impl FingerprintCache {
    /// `RESULTS/cache/fingerprints.json`.
    pub(crate) fn path_under(results: &Path) -> PathBuf {
        results.join("cache").join(FILE_NAME)
    }

    /// A cache that lives only in this process (tests).
    #[cfg(test)]
    pub(crate) fn in_memory() -> Self {
        Self { path: None, state: Mutex::new((CacheFile { format: FORMAT, ..CacheFile::default() }, false)) }
    }

    /// Reads the cache at `path`; a missing file is an empty cache, an unreadable or corrupt one is ignored with a
    /// warning naming it, and one of another format version is ignored.
    pub(crate) fn load(path: &Path) -> Self {
        let file = match std::fs::read_to_string(path) {
            Ok(text) => parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!(
                    "ignoring the fingerprint cache {}: unreadable ({e}); it will be rebuilt",
                    path.display()
                );
                None
            }
        };
        let file = file.unwrap_or(CacheFile { format: FORMAT, ..CacheFile::default() });
        Self { path: Some(path.to_path_buf()), state: Mutex::new((file, false)) }
    }

    /// The value recorded for `key` when its sources still have exactly the stamps `sources`.
    pub(crate) fn dataset(&self, key: &str, sources: &[FileStamp]) -> Option<serde_json::Value> {
        let state = self.lock();
        let entry = state.0.datasets.get(key)?;
        (entry.sources == sources).then(|| entry.facts.clone())
    }

    /// Records `facts` for `key`, computed from sources whose stamps were `sources` before they were read; nothing is
    /// recorded while a source is not settled (see [`FileStamp::settled`]).
    pub(crate) fn record_dataset(
        &self,
        key: &str,
        sources: Vec<FileStamp>,
        facts: serde_json::Value,
        read_at: SystemTime,
    ) {
        if let Some(fresh) = sources.iter().find(|s| !s.settled(read_at)) {
            tracing::debug!(source = %fresh.path, "not cached: modified less than 2 s before it was read");
            return;
        }
        let mut state = self.lock();
        state.0.datasets.insert(key.to_string(), DatasetEntry { sources, facts });
        state.1 = true;
    }

    /// Drops the value of `key` (it was found stale when the data was read).
    pub(crate) fn forget_dataset(&self, key: &str) {
        let mut state = self.lock();
        state.1 |= state.0.datasets.remove(key).is_some();
    }

    /// The blake3 (hex) of the file at `path`: remembered while its stamp is unchanged, else hashed (streamed).
    pub(crate) fn file_digest(&self, path: &Path) -> Result<String> {
        let name = canonical(path);
        let stamp = FileStamp::of(path).at_path(path)?;
        if let Some(entry) = self.lock().0.files.get(&name).filter(|entry| entry.stamp == stamp) {
            return Ok(entry.blake3.clone());
        }
        let read_at = SystemTime::now();
        let blake3 = hash_file(path).at_path(path)?;
        if stamp.settled(read_at) {
            let mut state = self.lock();
            state.0.files.insert(name, DigestEntry { stamp, blake3: blake3.clone() });
            state.1 = true;
        }
        Ok(blake3)
    }

    /// Drops the digest of `path` (the file was found changed when it was read).
    pub(crate) fn forget_file(&self, path: &Path) {
        let mut state = self.lock();
        state.1 |= state.0.files.remove(&canonical(path)).is_some();
    }

    /// Writes the cache when something was recorded or dropped: to a temporary file beside it, then one rename.
    pub(crate) fn save(&self) -> Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let mut state = self.lock();
        if !state.1 {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(&state.0).expect("plain data serialises");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).at_path(dir)?;
        }
        // Not through the fault hook: the fault suite numbers the writes of the stages it kills.
        write_atomically(path, text.as_bytes())?;
        state.1 = false;
        Ok(())
    }

    /// [`Self::save`], with a failure logged as a warning: the cache only saves time.
    pub(crate) fn save_or_warn(&self) {
        if let Err(e) = self.save() {
            tracing::warn!("the fingerprint cache was not saved (the next plan reads the data again): {e}");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (CacheFile, bool)> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The cache file's content, or `None` (with a warning for a corrupt file) when it cannot be used.
fn parse(text: &str, path: &Path) -> Option<CacheFile> {
    match serde_json::from_str::<CacheFile>(text) {
        Ok(file) if file.format == FORMAT => Some(file),
        Ok(file) => {
            tracing::info!(
                "ignoring the fingerprint cache {}: format {} (this build uses {FORMAT})",
                path.display(),
                file.format
            );
            None
        }
        Err(e) => {
            tracing::warn!("ignoring the fingerprint cache {}: corrupt ({e}); it will be rebuilt", path.display());
            None
        }
    }
}

/// The absolute, symlink-free form of `path` when it exists, else `path` as given.
pub(crate) fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}

#[cfg(test)]
#[path = "fingerprint_cache_tests.rs"]
mod tests;
