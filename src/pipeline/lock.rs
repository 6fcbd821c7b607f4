//! A per-entry exclusive file lock (`ROOT/locks/<key>.lock`): processes running one spec build each node once.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use super::cache::Cache;
use super::key::CacheKey;
use crate::error::{IoContext, Result};

/// Held while a node is being built; released on drop. The lock file itself stays.
#[derive(Debug)]
pub(crate) struct EntryLock {
    file: File,
}

impl EntryLock {
    /// Takes the lock of `key`, waiting (and saying so in the log) while another process or thread holds it.
    pub(crate) fn acquire(cache: &Cache, key: &CacheKey, label: &str) -> Result<Self> {
        let (file, path) = open_lock_file(cache, key)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                tracing::info!("waiting for another process that is building {label} ({})", key.short());
                file.lock().at_path(&path)?;
            }
            Err(TryLockError::Error(e)) => return Err(e).at_path(&path),
        }
        Ok(Self { file })
    }

    /// Takes the lock of `key` if nobody holds it; `None` when another process or thread does.
    pub(crate) fn try_acquire(cache: &Cache, key: &CacheKey) -> Result<Option<Self>> {
        let (file, path) = open_lock_file(cache, key)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e).at_path(&path),
        }
    }
}

/// Opens (creating) the lock file of `key`.
fn open_lock_file(cache: &Cache, key: &CacheKey) -> Result<(File, PathBuf)> {
    let path = cache.lock_path(key);
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).at_path(&path)?;
    Ok((file, path))
}

impl Drop for EntryLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes the release immediate and explicit.
        let _ = self.file.unlock();
    }
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
                    let lock = EntryLock::acquire(&cache, &key, "node").unwrap();
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
        let first = EntryLock::acquire(&cache, &key, "node").unwrap();
        assert!(cache.lock_path(&key).is_file(), "the lock file sits at the cache's lock path");
        assert!(EntryLock::try_acquire(&cache, &key).unwrap().is_none(), "held by `first`");
        drop(first);
        assert!(EntryLock::try_acquire(&cache, &key).unwrap().is_some());
        EntryLock::acquire(&cache, &key, "node").unwrap();
    }
}
