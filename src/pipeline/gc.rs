//! `gohsp status` and `gohsp gc`: list the cache's entries, and remove those no plan reaches.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::cache::Cache;
use super::entry::EntryRecord;
use super::key::CacheKey;
use super::lock::try_lock_entry;
use super::stage::StageKind;
use crate::error::{IoContext, Result};

/// One cache entry as `gohsp status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct EntryInfo {
    /// The stage kind.
    pub kind: StageKind,
    /// The entry's key.
    pub key: CacheKey,
    /// The label it was built under (`?` when its stage.json is unreadable).
    pub label: String,
    /// Total size of its files.
    pub bytes: u64,
    /// When it was committed (RFC 3339; empty when unknown).
    pub created: String,
}

/// What `gc` removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct GcReport {
    /// The unreachable entries.
    pub removed: Vec<EntryInfo>,
    /// How many entries stay.
    pub kept: usize,
    /// Bytes freed by removing the entries.
    pub bytes_freed: u64,
    /// Work folders removed (checkpoints of unreachable keys).
    pub work_dirs_removed: usize,
    /// Label index files removed (their last run is unreachable).
    pub index_files_removed: usize,
    /// Temp folders left by crashed processes, removed.
    pub temp_dirs_removed: usize,
}

/// Every entry in the cache, by kind, oldest first.
pub(crate) fn cache_status(cache: &Cache) -> Result<Vec<EntryInfo>> {
    let mut entries = Vec::new();
    for kind in StageKind::ALL {
        for dir in subdirs(&cache.root().join("cache").join(kind.as_str()))? {
            let record = EntryRecord::read(&dir).ok();
            entries.push(EntryInfo {
                kind,
                key: CacheKey(file_name(&dir)),
                label: record.as_ref().map_or("?".into(), |r| r.label.clone()),
                bytes: dir_size(&dir)?,
                created: record.map_or(String::new(), |r| r.created),
            });
        }
    }
    entries.sort_by(|a, b| (a.kind, &a.created).cmp(&(b.kind, &b.created)));
    Ok(entries)
}

/// Removes every entry whose key is not in `keep`, with its work folder and label index file.
/// An entry whose lock another process holds is left alone. `dry_run` only reports.
pub(crate) fn gc(cache: &Cache, keep: &HashSet<String>, dry_run: bool) -> Result<GcReport> {
    let mut report = GcReport::default();
    for entry in cache_status(cache)? {
        if keep.contains(entry.key.as_str()) {
            report.kept += 1;
            continue;
        }
        if !dry_run {
            let Some(_lock) = try_lock_entry(cache, &entry.key)? else { continue };
            cache.remove_entry_dir(&cache.entry_dir(entry.kind, &entry.key))?;
        }
        report.bytes_freed += entry.bytes;
        report.removed.push(entry);
    }
    for kind in StageKind::ALL {
        for dir in subdirs(&cache.root().join("work").join(kind.as_str()))? {
            if !keep.contains(&file_name(&dir)) {
                report.work_dirs_removed += 1;
                if !dry_run {
                    std::fs::remove_dir_all(&dir).at_path(&dir)?;
                }
            }
        }
    }
    for (path, run) in cache.last_runs()? {
        if !keep.contains(run.key.as_str()) {
            report.index_files_removed += 1;
            if !dry_run {
                std::fs::remove_file(&path).at_path(&path)?;
            }
        }
    }
    for dir in abandoned_temp_dirs(cache)? {
        report.temp_dirs_removed += 1;
        if !dry_run {
            std::fs::remove_dir_all(&dir).at_path(&dir)?;
        }
    }
    Ok(report)
}

/// Temp folders (`PREFIX-PID-...`) whose process is gone. Only where /proc tells which processes live.
fn abandoned_temp_dirs(cache: &Cache) -> Result<Vec<PathBuf>> {
    if !Path::new("/proc/self").exists() {
        return Ok(Vec::new());
    }
    let is_abandoned = |dir: &PathBuf| {
        let pid = file_name(dir).split('-').nth(1).and_then(|pid| pid.parse::<u32>().ok());
        pid.is_some_and(|pid| pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists())
    };
    Ok(subdirs(&cache.tmp_dir())?.into_iter().filter(is_abandoned).collect())
}

/// The folders directly inside `dir` (none when `dir` does not exist).
fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs = Vec::new();
    for item in std::fs::read_dir(dir).at_path(dir)? {
        let path = item.at_path(dir)?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Total size of the files under `dir`.
fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for item in std::fs::read_dir(dir).at_path(dir)? {
        let path = item.at_path(dir)?.path();
        total += if path.is_dir() { dir_size(&path)? } else { std::fs::metadata(&path).at_path(&path)?.len() };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pipeline::dag::Plan;
    use crate::pipeline::executor::{ExecOptions, execute};
    use crate::pipeline::mock_stage::MockStage;

    fn plan(lr: f64) -> Plan {
        let mut plan = Plan::new();
        let dense = plan.add(MockStage::arc(StageKind::Pretrain, "dense", json!({})), &[], "fp");
        plan.add(MockStage::arc(StageKind::Finetune, "tune", json!({ "lr": lr })), &[dense], "fp");
        plan
    }

    #[test]
    fn gc_removes_only_unreachable_entries_with_their_work_and_index() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        execute(&plan(0.1), &cache, &ExecOptions::default()).unwrap();
        let current = plan(0.2);
        execute(&current, &cache, &ExecOptions::default()).unwrap();
        let stale = CacheKey("f".repeat(64));
        std::fs::create_dir_all(cache.work_dir(StageKind::Finetune, &stale)).unwrap();
        let crashed = cache.tmp_dir().join("build-4000000000-1-0");
        std::fs::create_dir_all(&crashed).unwrap();
        let live = cache.new_temp_dir().unwrap();
        assert_eq!(cache_status(&cache).unwrap().len(), 3);
        let keep: HashSet<String> = current.nodes().iter().map(|node| node.key.to_string()).collect();
        let dry = gc(&cache, &keep, true).unwrap();
        assert_eq!((dry.removed.len(), dry.kept, dry.work_dirs_removed), (1, 2, 1));
        assert_eq!(cache_status(&cache).unwrap().len(), 3, "a dry run removes nothing");
        let report = gc(&cache, &keep, false).unwrap();
        assert_eq!(report.removed[0].label, "tune");
        assert!(report.bytes_freed > 0);
        let left: HashSet<String> = cache_status(&cache).unwrap().into_iter().map(|e| e.key.0).collect();
        assert_eq!(left, keep);
        assert!(!cache.work_dir(StageKind::Finetune, &stale).exists());
        if Path::new("/proc/self").exists() {
            assert_eq!(report.temp_dirs_removed, 1);
            assert!(!crashed.exists() && live.exists(), "only the dead process's temp folder goes");
        }
        assert_eq!(cache.last_run("tune").unwrap().unwrap().parts.params, json!({"lr": 0.2}), "current index kept");
    }
}
