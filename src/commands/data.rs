//! `gohsp data fetch`: download, verify and unpack a dataset where gohsp looks for it.

use super::stdout::outln;
use crate::data::fetch::fetch;
use crate::data::locate::cache_dir;
use crate::error::{GohspError, Result};
use std::path::PathBuf;

/// Fetch dataset `name` into `dir` (default: gohsp's data cache).
pub(crate) fn fetch_dataset(name: &str, dir: Option<PathBuf>) -> Result<i32> {
    let dir = match dir.or_else(|| cache_dir(name)) {
        Some(dir) => dir,
        None => return Err(GohspError::usage("no home folder to put the data in", "pass --dir DIR")),
    };
    let path = fetch(name, &dir)?;
    outln!("{name}: {}", path.display());
    Ok(0)
}
