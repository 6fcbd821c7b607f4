//! Publishing a file whole or not at all: write a temporary file beside it, flush it to disk, rename it into place,
//! then flush the folder, so a crash or a failed write never leaves a partial file under the final name.

use crate::error::{IoContext, Result};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync of the folder); on failure the temporary
/// file is removed and `path` is left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_beside(path);
    let written = crate::fault::write_synced(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).at_path(path);
    }
    sync_parent(path).at_path(path)
}

/// `.NAME.tmp-PID` in the same folder as `path` (a rename within one folder is atomic).
fn temp_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Flushes the folder holding `path`, so the rename itself survives a power cut.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_appears_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.onnx")]);
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_the_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("model.onnx");
        let err = write_atomically(&path, b"x").unwrap_err().to_string();
        assert!(err.contains("absent/model.onnx"), "{err}");
        assert!(!dir.path().join("absent").exists());
    }
}
