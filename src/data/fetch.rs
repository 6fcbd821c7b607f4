//! `gohsp data fetch`: download a dataset from its official address, verify the published md5s, unpack tarballs and
//! mark the folder complete. The file table is data ([`Source`]), so tests can serve it from 127.0.0.1.

use super::download::{download_verified, http_agent};
use crate::error::{GohspError, IoContext, Result};
use flate2::read::GzDecoder;
use std::path::{Path, PathBuf};

/// Written into a dataset folder once every source is downloaded, verified and unpacked.
pub(crate) const COMPLETE_MARKER: &str = ".complete";

/// The datasets [`fetch`] knows.
pub(crate) const FETCHABLE: [&str; 4] = ["mnist", "fashion_mnist", "cifar10", "cifar100"];

/// What to do with a file once it is verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unpack {
    /// Keep it as downloaded (the idx loader reads `.gz` files directly).
    Keep,
    /// Extract the `.tar.gz` into the dataset folder, then delete it.
    TarGz,
}

/// One file to download: its address, its published md5 (hex) and what to do with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Source {
    /// Full URL; the last path segment is the file name.
    pub url: String,
    /// Expected md5 of the downloaded bytes, hex.
    pub md5: String,
    /// Unpacking step after verification.
    pub unpack: Unpack,
}

impl Source {
    fn new(url: &str, md5: &str, unpack: Unpack) -> Self {
        Self { url: url.to_string(), md5: md5.to_string(), unpack }
    }

    /// The file name the URL ends with.
    pub(crate) fn file_name(&self) -> &str {
        let path = self.url.split(['?', '#']).next().unwrap_or(&self.url);
        path.rsplit('/').next().unwrap_or(path)
    }
}

/// The official files of dataset `name` (the addresses and md5s torchvision and the datasets' pages publish).
pub(crate) fn sources(name: &str) -> Result<Vec<Source>> {
    let idx = |base: &str, md5s: [&str; 4]| {
        [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ]
        .iter()
        .zip(md5s)
        .map(|(file, md5)| Source::new(&format!("{base}{file}"), md5, Unpack::Keep))
        .collect()
    };
    match name {
        "mnist" => Ok(idx(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            [
                "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                "d53e105ee54ea40749a09fcbcd1e9432",
                "9fb629c4189551a2d022fa330f9573f3",
                "ec29112dd5afa0611ce80d1b7f02629c",
            ],
        )),
        "fashion_mnist" => Ok(idx(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            [
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "25c81989df183df01b3e8a0aad5dffbe",
                "bef4ecab320f06d8554ea6380940ec79",
                "bb300cfdad3c16e7a12a480ee83cd310",
            ],
        )),
        "cifar10" => Ok(vec![Source::new(
            "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
            "c32a1d4ab5d03f1284b67883e8d87530",
            Unpack::TarGz,
        )]),
        "cifar100" => Ok(vec![Source::new(
            "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
            "03b5dce01913d631647c71ecec9e9cb8",
            Unpack::TarGz,
        )]),
        other => Err(GohspError::usage(
            format!("no download is known for dataset `{other}`"),
            format!(
                "fetchable: {}; ImageNet cannot be downloaded automatically (get ILSVRC2012 from image-net.org)",
                FETCHABLE.join(", ")
            ),
        )),
    }
}

/// Download dataset `name` into `dir` (created if needed) and return `dir`, the root to give its loader.
pub(crate) fn fetch(name: &str, dir: &Path) -> Result<PathBuf> {
    fetch_sources(&sources(name)?, dir)
}

/// Download, verify and unpack every source into `dir`, then write [`COMPLETE_MARKER`]. A folder that already has
/// the marker is returned at once; one without it is filled again from the start.
pub(crate) fn fetch_sources(sources: &[Source], dir: &Path) -> Result<PathBuf> {
    let marker = dir.join(COMPLETE_MARKER);
    if marker.is_file() {
        tracing::info!(path = %dir.display(), "dataset already downloaded");
        return Ok(dir.to_path_buf());
    }
    std::fs::create_dir_all(dir).at_path(dir)?;
    let loopback = sources
        .iter()
        .all(|source| source.url.starts_with("http://127.0.0.1") || source.url.starts_with("http://localhost"));
    let agent = http_agent(loopback);
    for source in sources {
        let dest = dir.join(source.file_name());
        tracing::info!(url = %source.url, dest = %dest.display(), "downloading");
        download_verified(&agent, &source.url, &source.md5, &dest)?;
        if source.unpack == Unpack::TarGz {
            unpack_tar_gz(&dest, dir)?;
            std::fs::remove_file(&dest).at_path(&dest)?;
        }
    }
    let listing: String = sources.iter().map(|source| format!("{} {}\n", source.md5, source.url)).collect();
    std::fs::write(&marker, listing).at_path(&marker)?;
    Ok(dir.to_path_buf())
}

/// Extract a verified `.tar.gz` into `dir` (the tar crate refuses entries that would land outside it).
fn unpack_tar_gz(archive: &Path, dir: &Path) -> Result<()> {
    let file = std::fs::File::open(archive).at_path(archive)?;
    tar::Archive::new(GzDecoder::new(file))
        .unpack(dir)
        .map_err(|err| GohspError::input(archive, format!("cannot unpack: {err}"), "delete the folder and fetch again"))
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
