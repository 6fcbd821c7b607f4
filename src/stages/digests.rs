//! Content digests of the user's files (weights, config.json) for cache keys: remembered by metadata in the
//! fingerprint cache at planning, and computed again when a run reads the file, so a stale value stops the run.

use crate::error::{GohspError, IoContext, Result};
use crate::pipeline::checksum::hash_file;
use crate::pipeline::fingerprint_cache::FingerprintCache;
use std::path::Path;

/// The blake3 (hex) of the file at `path`, from `cache` while its stamp is unchanged.
pub(crate) fn file_digest(cache: Option<&FingerprintCache>, path: &Path) -> Result<String> {
    match cache {
        Some(cache) => cache.file_digest(path),
        None => hash_file(path).at_path(path),
    }
}

/// Hashes `path` again and fails when it no longer has the digest `planned` (dropping the stale cache value).
pub(crate) fn check_file_digest(cache: Option<&FingerprintCache>, path: &Path, planned: &str) -> Result<()> {
    let found = hash_file(path).at_path(path)?;
    if found == planned {
        return Ok(());
    }
    if let Some(cache) = cache {
        cache.forget_file(path);
        cache.save_or_warn();
    }
    Err(GohspError::input(
        path,
        format!("the file changed after it was planned (blake3 {:.12} when planned, {found:.12} now)", planned),
        "run the command again: the stale digest was dropped from the cache",
    ))
}
