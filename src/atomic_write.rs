//! Publishing a file whole or not at all, the one way gohsp replaces files: write a temporary file beside it, flush
//! it to disk, rename it into place, then flush the folder, so that a crash or a failed write never leaves a partial
//! file under the final name and a reader sees the old file or the new one.

use crate::error::{IoContext, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Temp files written by this process so far (their names must not collide between threads).
static TEMP_FILES: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with what `write` puts in the temporary file it is given (temp file, fsync, rename, fsync of the
/// folder). On failure the temporary file is removed and `path` is left as it was.
pub fn replace_file(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        return Err(missing).at_path(path);
    }
    let tmp = temp_beside(path);
    let published = write(&tmp)
        .and_then(|()| std::fs::File::open(&tmp).and_then(|f| f.sync_all()).at_path(&tmp))
        .and_then(|()| std::fs::rename(&tmp, path).at_path(path));
    if published.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return published;
    }
    sync_parent(path).at_path(path)
}

/// Replaces `path` with `bytes` atomically, as [`replace_file`] does. The fault-injection hooks do not count it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_file(path, |tmp| std::fs::write(tmp, bytes).at_path(tmp))
}

/// `.NAME.PID-N.tmp` in the same folder as `path` (a rename within one folder is atomic).
fn temp_beside(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = TEMP_FILES.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}-{n}.tmp", std::process::id()))
}

/// Flushes the folder holding `path`, so that the rename itself survives a power cut.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GohspError;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    }

    #[test]
    fn the_file_appears_whole_and_no_temporary_file_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(names(dir.path()), ["model.onnx"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.json");
        write_atomically(&path, b"old").unwrap();
        let failed = replace_file(&path, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(GohspError::Internal("the writer failed".into()))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["index.json"]);
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
