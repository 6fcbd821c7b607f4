//! A file's or folder's metadata stamp (path, size, modification time, inode): what the fingerprint cache compares
//! instead of reading the content.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// How recent a modification may be for a stamp to be trusted: a change within the same tick of a coarse clock (FAT
/// keeps 2 s, many network file systems 1 s) would leave the modification time as it was.
pub(crate) const SETTLE_NANOS: i64 = 2_000_000_000;

/// The metadata of one source, compared field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileStamp {
    /// The (canonical) path, or `embedded:NAME:DIGEST` for data compiled into the binary.
    pub path: String,
    /// Size in bytes (for a folder, what the file system reports for its entries table).
    pub len: u64,
    /// Modification time, nanoseconds since the Unix epoch (negative before it).
    pub mtime_ns: i64,
    /// Inode number (0 where the platform has none): a file replaced by another one with the same size and time
    /// still differs.
    pub ino: u64,
}

impl FileStamp {
    /// The stamp of `path` (following symlinks).
    pub(crate) fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            path: path.display().to_string(),
            len: meta.len(),
            mtime_ns: nanos(meta.modified()?),
            ino: ino(&meta),
        })
    }

    /// The stamp of data compiled into the binary, identified by its digest.
    pub(crate) fn embedded(name: &str, bytes: &[u8]) -> Self {
        let digest = blake3::hash(bytes).to_hex();
        Self { path: format!("embedded:{name}:{digest}"), len: bytes.len() as u64, mtime_ns: 0, ino: 0 }
    }

    /// Whether the source was last modified at least [`SETTLE_NANOS`] before `now`, so that a later change cannot
    /// keep this modification time.
    pub(crate) fn settled(&self, now: SystemTime) -> bool {
        self.mtime_ns.saturating_add(SETTLE_NANOS) < nanos(now)
    }
}

/// Nanoseconds since the Unix epoch, negative before it, saturating far from it.
pub(crate) fn nanos(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

#[cfg(unix)]
fn ino(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn ino(_meta: &std::fs::Metadata) -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_rewrite_with_the_same_size_changes_the_stamp_unless_the_time_is_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"1234").unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
        let before = FileStamp::of(&path).unwrap();
        std::fs::write(&path, b"5678").unwrap();
        let after = FileStamp::of(&path).unwrap();
        assert_eq!((after.len, after.ino), (before.len, before.ino));
        assert_ne!(after, before, "a rewrite must change the modification time");
        assert!(before.settled(SystemTime::now()));
        assert!(!after.settled(SystemTime::now()), "a file modified just now is not settled");
    }

    #[test]
    fn a_replaced_file_differs_by_inode_even_with_the_same_size_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let (path, other) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
        let old = SystemTime::now() - Duration::from_secs(60);
        for p in [&path, &other] {
            std::fs::write(p, b"1234").unwrap();
            std::fs::File::options().write(true).open(p).unwrap().set_modified(old).unwrap();
        }
        let before = FileStamp::of(&path).unwrap();
        std::fs::rename(&other, &path).unwrap();
        let after = FileStamp::of(&path).unwrap();
        assert_eq!((after.len, after.mtime_ns), (before.len, before.mtime_ns));
        assert_ne!(after.ino, before.ino);
    }

    #[test]
    fn embedded_stamps_differ_by_content_and_count_as_settled() {
        let (a, b) = (FileStamp::embedded("x", b"one"), FileStamp::embedded("x", b"two"));
        assert_ne!(a, b);
        assert!(a.settled(SystemTime::now()));
        assert_eq!(nanos(UNIX_EPOCH - Duration::from_secs(1)), -1_000_000_000);
    }
}
