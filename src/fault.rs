//! Fault injection for the reliability tests: `GOHSP_FAULT_ABORT_AFTER_WRITES=k` aborts the process after its k-th
//! file write (with `GOHSP_FAULT_TEAR=1`, the k-th write stores only half its bytes first), so kills land
//! deterministically at every point of a run, including inside a checkpoint. Unset, the hooks cost one atomic add.

use std::io::Write;
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable naming the write after which the process aborts (1-based).
pub const ABORT_AFTER_WRITES: &str = "GOHSP_FAULT_ABORT_AFTER_WRITES";
/// The variable that makes the fatal write a torn one (half its bytes, then abort).
pub const TEAR: &str = "GOHSP_FAULT_TEAR";

static WRITES: AtomicU64 = AtomicU64::new(0);

fn limit() -> Option<u64> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    *LIMIT.get_or_init(|| std::env::var(ABORT_AFTER_WRITES).ok().and_then(|v| v.trim().parse().ok()))
}

fn tearing() -> bool {
    std::env::var_os(TEAR).is_some_and(|v| v == "1")
}

/// Records one finished file write of `path`; aborts the process when it was the k-th.
pub fn wrote(path: &Path) {
    let n = WRITES.fetch_add(1, Ordering::SeqCst) + 1;
    tracing::trace!(target: "gohsp::fault", write = n, path = %path.display(), "file write");
    if limit() == Some(n) {
        abort(n, path, "after");
    }
}

fn abort(n: u64, path: &Path, how: &str) -> ! {
    eprintln!("fault injection: aborting {how} write {n} ({})", path.display());
    std::process::abort()
}

/// Writes `bytes` to `path` (create or truncate) and records the write; under `GOHSP_FAULT_TEAR=1` the fatal write
/// stores only the first half of `bytes` before aborting.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let next = WRITES.load(Ordering::SeqCst) + 1;
    if limit() == Some(next) && tearing() {
        let mut file = std::fs::File::create(path)?;
        file.write_all(&bytes[..bytes.len() / 2])?;
        file.sync_all()?;
        abort(next, path, "in the middle of");
    }
    std::fs::write(path, bytes)?;
    wrote(path);
    Ok(())
}

/// Records a file that another writer streamed to `path`; under `GOHSP_FAULT_TEAR=1` the fatal write is first cut
/// to half its bytes, as [`write`] would have left it.
pub fn streamed(path: &Path) -> std::io::Result<()> {
    let next = WRITES.load(Ordering::SeqCst) + 1;
    if limit() == Some(next) && tearing() {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(file.metadata()?.len() / 2)?;
        file.sync_all()?;
        abort(next, path, "in the middle of");
    }
    wrote(path);
    Ok(())
}

/// Like [`write`], then flushes the file to disk, so a later rename publishes complete content.
pub fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes)?;
    std::fs::File::open(path)?.sync_all()
}
