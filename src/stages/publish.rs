//! Publishing a finished report: copy the report node's cache entry to results/NAME/ and return its Markdown table.

use crate::error::{GohspError, IoContext, Result};
use crate::pipeline::cache::{Cache, Lookup};
use crate::pipeline::dag::{NodeId, Plan};
use crate::pipeline::lock::FileLock;
use std::path::Path;

/// Replace `dest` (a generated folder) with the report's artifacts and return results.md's text.
pub(crate) fn publish_report(plan: &Plan, report: NodeId, cache: &Cache, dest: &Path) -> Result<String> {
    let node = plan.node(report);
    let Lookup::Hit(entry) = cache.lookup(node.kind(), &node.key)? else {
        return Err(GohspError::Internal(format!("report entry {} vanished before publishing", node.key.as_str())));
    };
    // Two processes may finish the same spec at once: one publishes at a time (the lock is released on drop).
    let _guard = FileLock::acquire(&dest.with_extension("lock"), || {
        tracing::info!("waiting for another process that is publishing {}", dest.display());
    })?;
    if dest.is_dir() {
        // Plots of an earlier, different grid must not linger beside this report's.
        std::fs::remove_dir_all(dest).at_path(dest)?;
    }
    copy_tree(&entry, dest)?;
    std::fs::read_to_string(dest.join("results.md")).or_else(|_| Ok(String::new()))
}

/// Copy every export node's files to `dest/export/STEM.EXT` (after [`publish_report`] laid `dest` anew); returns
/// the paths written.
pub(crate) fn publish_exports(
    plan: &Plan,
    exports: &[(NodeId, String)],
    cache: &Cache,
    dest: &Path,
) -> Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    for (id, stem) in exports {
        let node = plan.node(*id);
        let Lookup::Hit(entry) = cache.lookup(node.kind(), &node.key)? else {
            return Err(GohspError::Internal(format!("export entry {} vanished before publishing", node.key.as_str())));
        };
        let folder = dest.join("export");
        std::fs::create_dir_all(&folder).at_path(&folder)?;
        for item in std::fs::read_dir(&entry).at_path(&entry)? {
            let item = item.at_path(&entry)?;
            let name = item.file_name();
            let Some(ext) = name.to_str().and_then(|n| n.strip_prefix("model.")) else { continue };
            let target = folder.join(format!("{stem}.{ext}"));
            std::fs::copy(item.path(), &target).at_path(&target)?;
            written.push(target);
        }
    }
    Ok(written)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).at_path(to)?;
    for item in std::fs::read_dir(from).at_path(from)? {
        let item = item.at_path(from)?;
        let target = to.join(item.file_name());
        if item.path().is_dir() {
            copy_tree(&item.path(), &target)?;
        } else if !matches!(item.file_name().to_str(), Some("stage.json" | "checksums.json")) {
            std::fs::copy(item.path(), &target).at_path(&target)?;
        }
    }
    Ok(())
}
