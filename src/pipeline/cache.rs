//! The on-disk cache: entries at `ROOT/cache/<kind>/<key>/`, verified on lookup, committed by an atomic rename.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::checksum::{CHECKSUMS_FILE, Checksums, Corruption};
use super::entry::{EntryRecord, STAGE_FILE};
use super::key::CacheKey;
use super::stage::StageKind;
use crate::error::{GohspError, IoContext, Result};

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A verified entry, at this folder.
    Hit(PathBuf),
    /// No entry.
    Missing,
    /// An entry whose checksums fail: a miss, to be discarded and rebuilt.
    Corrupt(Corruption),
}

/// The cache under one results root: ROOT/cache (entries, index, tmp), ROOT/work, ROOT/locks.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    root: PathBuf,
}

impl Cache {
    /// Opens (creating the folders of) the cache under `root`, e.g. `results/`.
    pub(crate) fn open(root: impl AsRef<Path>) -> Result<Self> {
        let cache = Self { root: root.as_ref().to_path_buf() };
        for dir in [cache.tmp_dir(), cache.index_dir(), cache.root.join("work"), cache.root.join("locks")] {
            std::fs::create_dir_all(&dir).at_path(&dir)?;
        }
        Ok(cache)
    }

    /// The results root.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// `ROOT/cache/<kind>/<key>`.
    pub(crate) fn entry_dir(&self, kind: StageKind, key: &CacheKey) -> PathBuf {
        self.root.join("cache").join(kind.as_str()).join(key.as_str())
    }

    /// `ROOT/work/<kind>/<key>`: a stage's checkpoints while it runs.
    pub(crate) fn work_dir(&self, kind: StageKind, key: &CacheKey) -> PathBuf {
        self.root.join("work").join(kind.as_str()).join(key.as_str())
    }

    /// `ROOT/locks/<key>.lock`.
    pub(crate) fn lock_path(&self, key: &CacheKey) -> PathBuf {
        self.root.join("locks").join(format!("{key}.lock"))
    }

    /// ROOT/cache/index: the last committed key parts of each label.
    pub(crate) fn index_dir(&self) -> PathBuf {
        self.root.join("cache").join("index")
    }

    /// ROOT/cache/tmp: entries being written, and entries being removed.
    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("cache").join("tmp")
    }

    /// Looks up and verifies the entry of `kind`/`key`. Verification failures are `Corrupt`, not errors.
    pub(crate) fn lookup(&self, kind: StageKind, key: &CacheKey) -> Result<Lookup> {
        let dir = self.entry_dir(kind, key);
        if !dir.is_dir() {
            return Ok(Lookup::Missing);
        }
        let corrupt = |file: &str, problem: String| Ok(Lookup::Corrupt(Corruption { file: file.into(), problem }));
        let sums_path = dir.join(CHECKSUMS_FILE);
        let text = match std::fs::read_to_string(&sums_path) {
            Ok(text) => text,
            Err(e) => return corrupt(CHECKSUMS_FILE, format!("unreadable ({e})")),
        };
        let sums: Checksums = match serde_json::from_str(&text) {
            Ok(sums) => sums,
            Err(e) => return corrupt(CHECKSUMS_FILE, format!("not a checksum list ({e})")),
        };
        if !sums.files.contains_key(STAGE_FILE) {
            return corrupt(STAGE_FILE, "not listed in the checksums".into());
        }
        Ok(match sums.verify(&dir) {
            Ok(()) => Lookup::Hit(dir),
            Err(corruption) => Lookup::Corrupt(corruption),
        })
    }

    /// A fresh, empty folder under ROOT/cache/tmp.
    pub(crate) fn new_temp_dir(&self) -> Result<PathBuf> {
        let dir = self.tmp_dir().join(unique_name("build"));
        std::fs::create_dir_all(&dir).at_path(&dir)?;
        Ok(dir)
    }

    /// Turns a stage's finished `out_dir` into the entry for `record`: writes stage.json and checksums.json, then
    /// renames it into place (replacing an existing entry), and records the label's last run in the index.
    pub(crate) fn commit(&self, out_dir: &Path, record: &EntryRecord) -> Result<PathBuf> {
        for reserved in [STAGE_FILE, CHECKSUMS_FILE] {
            if out_dir.join(reserved).exists() {
                let message = format!("wrote `{reserved}`, a name the cache reserves for itself");
                return Err(GohspError::stage(&record.label, message));
            }
        }
        record.write(out_dir)?;
        let sums_path = out_dir.join(CHECKSUMS_FILE);
        let sums = serde_json::to_string_pretty(&Checksums::of_dir(out_dir)?).expect("plain struct serialises");
        crate::fault::write(&sums_path, sums.as_bytes()).at_path(&sums_path)?;
        let target = self.entry_dir(record.parts.kind, &record.key);
        let parent = target.parent().expect("entry dirs have a parent");
        std::fs::create_dir_all(parent).at_path(parent)?;
        self.remove_entry_dir(&target)?;
        std::fs::rename(out_dir, &target).at_path(&target)?;
        crate::fault::wrote(&target);
        self.record_last_run(record)?;
        Ok(target)
    }

    /// Warns about a corrupt entry and removes it (moved aside first, so a half-removed entry is never seen).
    pub(crate) fn discard_corrupt(
        &self,
        kind: StageKind,
        key: &CacheKey,
        label: &str,
        corruption: &Corruption,
    ) -> Result<()> {
        let dir = self.entry_dir(kind, key);
        let entry = dir.display();
        tracing::warn!(%entry, file = %corruption.file, "corrupt cache entry of {label} ({corruption}); rebuilding");
        self.remove_entry_dir(&dir)
    }

    /// Removes an entry folder if it exists: renamed into tmp, then deleted.
    pub(crate) fn remove_entry_dir(&self, dir: &Path) -> Result<()> {
        if !dir.exists() {
            return Ok(());
        }
        let aside = self.tmp_dir().join(unique_name("removed"));
        std::fs::rename(dir, &aside).at_path(dir)?;
        std::fs::remove_dir_all(&aside).at_path(&aside)
    }
}

/// A name unique across processes and threads: prefix, pid, time, counter.
fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{prefix}-{}-{nanos}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
