//! Where a dataset's files are looked for when the spec gives no `dataset.root`, and the hint that says how to get them.

use crate::error::{GohspError, Result};
use std::path::{Path, PathBuf};

/// Where Debian's package `dataset-fashion-mnist` installs the four gzipped idx files.
pub(crate) const DEBIAN_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// The per-user download folder of a dataset: `$XDG_CACHE_HOME/gohsp/data/<name>`, else `~/.cache/gohsp/data/<name>`.
pub(crate) fn cache_dir(name: &str) -> Option<PathBuf> {
    let cache = match std::env::var_os("XDG_CACHE_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(cache.join("gohsp").join("data").join(name))
}

/// The folders searched, in order, for dataset `name` when no root is given.
pub(crate) fn search_paths(name: &str) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if name == "fashion_mnist" {
        paths.push(PathBuf::from(DEBIAN_FASHION_MNIST));
    }
    paths.extend(cache_dir(name));
    paths.push(Path::new("data").join(name));
    paths
}

/// How to obtain dataset `name`, for error hints.
pub(crate) fn fetch_hint(name: &str) -> String {
    match name {
        "fashion_mnist" => format!(
            "run `gohsp data fetch fashion_mnist`, or `apt-get install dataset-fashion-mnist` (it installs to {DEBIAN_FASHION_MNIST}/)"
        ),
        "mnist" | "cifar10" | "cifar100" => format!("run `gohsp data fetch {name}`"),
        "imagefolder" => "set `dataset.root` to a folder holding train/<class>/*.jpg and val/<class>/*.jpg; \
                          ImageNet cannot be downloaded automatically: get ILSVRC2012 from image-net.org"
            .to_string(),
        _ => "set `dataset.root` to the dataset's folder".to_string(),
    }
}

/// Whether `dir` holds the files that dataset `name` starts with (a cheap check, not a validation).
pub(crate) fn looks_present(name: &str, dir: &Path) -> bool {
    let any = |files: &[&str]| files.iter().any(|file| dir.join(file).is_file());
    match name {
        "mnist" | "fashion_mnist" => any(&["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"]),
        "cifar10" => any(&["data_batch_1.bin", "cifar-10-batches-bin/data_batch_1.bin"]),
        "cifar100" => any(&["train.bin", "cifar-100-binary/train.bin"]),
        _ => dir.is_dir(),
    }
}

/// The folder that holds dataset `name`: `root` when given (it must exist), else the first of [`search_paths`] that
/// holds its files. The error lists every place searched and the command that fetches the data.
pub(crate) fn locate(name: &str, root: Option<&Path>) -> Result<PathBuf> {
    if let Some(root) = root {
        if root.is_dir() {
            return Ok(root.to_path_buf());
        }
        return Err(GohspError::input(root, format!("dataset `{name}`: this folder does not exist"), fetch_hint(name)));
    }
    let candidates = search_paths(name);
    if let Some(found) = candidates.iter().find(|dir| looks_present(name, dir)) {
        tracing::debug!(dataset = name, path = %found.display(), "dataset located");
        return Ok(found.clone());
    }
    let searched: Vec<String> = candidates.iter().map(|dir| dir.display().to_string()).collect();
    Err(GohspError::input(
        cache_dir(name).unwrap_or_else(|| Path::new("data").join(name)),
        format!("dataset `{name}` not found; searched: {}", searched.join(", ")),
        format!("{}, or set `dataset.root`", fetch_hint(name)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fashion_mnist_searches_debian_folder_first_then_cache_then_local() {
        let paths = search_paths("fashion_mnist");
        assert_eq!(paths[0], PathBuf::from("/usr/share/datasets/fashion-mnist"));
        assert!(
            paths
                .iter()
                .any(|p| p.ends_with(".cache/gohsp/data/fashion_mnist") || p.ends_with("gohsp/data/fashion_mnist"))
        );
        assert_eq!(paths.last().unwrap(), &Path::new("data").join("fashion_mnist"));
        assert!(!search_paths("cifar10").iter().any(|p| p.starts_with("/usr/share")));
    }

    #[test]
    fn given_root_is_returned_when_it_exists_and_named_when_it_does_not() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(locate("cifar10", Some(dir.path())).unwrap(), dir.path());
        let missing = dir.path().join("nope");
        let err = locate("cifar10", Some(&missing)).unwrap_err();
        assert!(err.is_user_error());
        let text = err.to_string();
        assert!(text.contains("nope") && text.contains("gohsp data fetch cifar10"), "{text}");
    }

    #[test]
    fn presence_checks_the_dataset_files_in_the_folder_or_its_extracted_child() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!looks_present("cifar10", dir.path()));
        std::fs::create_dir(dir.path().join("cifar-10-batches-bin")).unwrap();
        std::fs::write(dir.path().join("cifar-10-batches-bin/data_batch_1.bin"), b"x").unwrap();
        assert!(looks_present("cifar10", dir.path()));
        std::fs::write(dir.path().join("train-images-idx3-ubyte.gz"), b"x").unwrap();
        assert!(looks_present("fashion_mnist", dir.path()));
        assert!(!looks_present("cifar100", dir.path()));
    }

    #[test]
    fn missing_dataset_error_lists_places_searched_and_fetch_command() {
        let err = locate("no_such_set_xyz", None).unwrap_err().to_string();
        assert!(err.contains("searched:") && err.contains("no_such_set_xyz"), "{err}");
        let hint = fetch_hint("fashion_mnist");
        assert!(
            hint.contains("gohsp data fetch fashion_mnist") && hint.contains("apt-get install dataset-fashion-mnist")
        );
    }
}
