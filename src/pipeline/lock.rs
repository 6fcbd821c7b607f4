//! Exclusive file locks: one per cache entry (`ROOT/locks/<key>.lock`), so processes running one spec build each node
//! once, and the one the publisher takes beside a results folder.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use super::cache::Cache;
use super::key::CacheKey;
use crate::error::{IoContext, Result};

/// An exclusive lock on one file (created when missing), held until drop. The lock file itself stays.
#[derive(Debug)]
pub(crate) struct FileLock {
    file: File,
}

impl FileLock {
    /// Takes the lock of `path`; when another process or thread holds it, calls `on_wait` once and waits.
    pub(crate) fn acquire(path: &Path, on_wait: impl FnOnce()) -> Result<Self> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                on_wait();
                file.lock().at_path(path)?;
            }
            Err(TryLockError::Error(e)) => return Err(e).at_path(path),
        }
        Ok(Self { file })
    }

    /// Takes the lock of `path` if nobody holds it; `None` when another process or thread does.
    pub(crate) fn try_acquire(path: &Path) -> Result<Option<Self>> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e).at_path(path),
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes the release immediate and explicit.
        let _ = self.file.unlock();
    }
}

/// Takes the lock of cache entry `key`, waiting (and saying so in the log) while another process or thread holds it.
pub(crate) fn lock_entry(cache: &Cache, key: &CacheKey, label: &str) -> Result<FileLock> {
    FileLock::acquire(&cache.lock_path(key), || {
        tracing::info!("waiting for another process that is building {label} ({})", key.short());
    })
}

/// Takes the lock of cache entry `key` if nobody holds it; `None` when another process or thread does.
pub(crate) fn try_lock_entry(cache: &Cache, key: &CacheKey) -> Result<Option<FileLock>> {
    FileLock::try_acquire(&cache.lock_path(key))
}

/// Opens (creating) a lock file and the folder it sits in.
fn open_lock_file(path: &Path) -> Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).at_path(parent)?;
    }
    OpenOptions::new().create(true).truncate(false).write(true).open(path).at_path(path)
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[test]
    fn two_threads_never_hold_the_same_lock_at_once() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let key = CacheKey("k".repeat(64));
        let inside = AtomicUsize::new(0);
        let barrier = Barrier::new(2);
        std::thread::scope(|scope| {
            for _ in 0..2 {
                scope.spawn(|| {
                    barrier.wait();
                    let lock = lock_entry(&cache, &key, "node").unwrap();
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "another holder was inside");
                    std::thread::sleep(Duration::from_millis(30));
                    inside.fetch_sub(1, Ordering::SeqCst);
                    drop(lock);
                });
            }
        });
        assert!(cache.lock_path(&key).exists());
    }

    #[test]
    fn a_released_lock_can_be_taken_again() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let key = CacheKey("a".repeat(64));
        let first = lock_entry(&cache, &key, "node").unwrap();
        assert!(cache.lock_path(&key).is_file(), "the lock file sits at the cache's lock path");
        assert!(try_lock_entry(&cache, &key).unwrap().is_none(), "held by `first`");
        drop(first);
        assert!(try_lock_entry(&cache, &key).unwrap().is_some());
        lock_entry(&cache, &key, "node").unwrap();
    }
}
