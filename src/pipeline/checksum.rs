//! The checksum list of a cache entry: blake3 and size of every file, and its verification.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result};

/// The name of the checksum list inside an entry.
pub(crate) const CHECKSUMS_FILE: &str = "checksums.json";

/// Size and blake3 (hex) of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileChecksum {
    /// Size in bytes.
    pub bytes: u64,
    /// blake3 of the content, hex.
    pub blake3: String,
}

/// Every file of an entry (relative paths with `/`), except the list itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Checksums {
    /// Relative path -> checksum.
    pub files: BTreeMap<String, FileChecksum>,
}

/// Why an entry failed verification: which file and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Corruption {
    /// The file, relative to the entry.
    pub file: String,
    /// What is wrong (missing, truncated, altered).
    pub problem: String,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.problem)
    }
}

impl Checksums {
    /// Hashes every file under `dir` (recursively), skipping an existing checksum list.
    pub(crate) fn of_dir(dir: &Path) -> Result<Self> {
        let mut checksums = Self::default();
        collect(dir, "", &mut checksums.files)?;
        checksums.files.remove(CHECKSUMS_FILE);
        Ok(checksums)
    }

    /// Checks every listed file under `dir`: present, same size, same content. The first problem is returned.
    pub(crate) fn verify(&self, dir: &Path) -> std::result::Result<(), Corruption> {
        for (name, expected) in &self.files {
            let problem = |problem: String| Corruption { file: name.clone(), problem };
            let path = dir.join(name);
            let meta = std::fs::metadata(&path).map_err(|e| problem(format!("missing ({e})")))?;
            if meta.len() != expected.bytes {
                return Err(problem(format!(
                    "{} bytes, expected {} (truncated or overwritten)",
                    meta.len(),
                    expected.bytes
                )));
            }
            let actual = hash_file(&path).map_err(|e| problem(format!("unreadable ({e})")))?;
            if actual != expected.blake3 {
                return Err(problem("content altered (blake3 differs)".into()));
            }
        }
        Ok(())
    }
}

fn collect(dir: &Path, prefix: &str, files: &mut BTreeMap<String, FileChecksum>) -> Result<()> {
    for entry in std::fs::read_dir(dir).at_path(dir)? {
        let entry = entry.at_path(dir)?;
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if path.is_dir() {
            collect(&path, &format!("{name}/"), files)?;
        } else {
            let bytes = std::fs::metadata(&path).at_path(&path)?.len();
            files.insert(name, FileChecksum { bytes, blake3: hash_file(&path).at_path(&path)? });
        }
    }
    Ok(())
}

/// blake3 (hex) of a file's content, streamed.
pub(crate) fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(File::open(path)?)?;
    Ok(hasher.finalize().to_hex().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("model.bin"), vec![7u8; 1000]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.json"), b"{}").unwrap();
        dir
    }

    #[test]
    fn lists_nested_files_and_verifies_an_untouched_dir() {
        let dir = sample_dir();
        let sums = Checksums::of_dir(dir.path()).unwrap();
        assert_eq!(sums.files.keys().collect::<Vec<_>>(), ["model.bin", "sub/a.json"]);
        assert_eq!(sums.files["model.bin"].bytes, 1000);
        assert_eq!(sums.verify(dir.path()), Ok(()));
    }

    #[test]
    fn the_streamed_hash_equals_blake3_of_the_whole_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let bytes: Vec<u8> = (0..200_003u32).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(hash_file(&path).unwrap(), blake3::hash(&bytes).to_hex().to_string());
    }

    #[test]
    fn detects_truncated_altered_and_missing_files() {
        let dir = sample_dir();
        let sums = Checksums::of_dir(dir.path()).unwrap();
        std::fs::write(dir.path().join("model.bin"), vec![7u8; 999]).unwrap();
        let err = sums.verify(dir.path()).unwrap_err();
        assert_eq!(err.file, "model.bin");
        assert!(err.problem.contains("truncated"), "{err}");
        std::fs::write(dir.path().join("model.bin"), vec![8u8; 1000]).unwrap();
        assert!(sums.verify(dir.path()).unwrap_err().problem.contains("altered"));
        std::fs::remove_file(dir.path().join("model.bin")).unwrap();
        assert!(sums.verify(dir.path()).unwrap_err().problem.contains("missing"));
    }
}
