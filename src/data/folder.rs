//! ImageNet-style image folders (`root/train/<class>/*.jpg`, `root/val/<class>/*.jpg`): classes sorted by folder name,
//! files listed once at open, each image decoded (RGB, native size) when it is read.

use super::dataset::{Dataset, DatasetInfo, Image, Splits};
use super::locate::fetch_hint;
use crate::error::{GohspError, IoContext, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File extensions read as images (compared case-insensitively).
const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// One split of an image folder. Holds only paths, so any number of threads may decode from it at once.
pub struct ImageFolder {
    info: DatasetInfo,
    classes: Vec<String>,
    files: Vec<(PathBuf, usize)>,
    fingerprint: String,
}

/// Load `root/train` and `root/val`; both use the class list of `train`. `image_size` is the side the model is fed
/// (files vary in size: a transform resizes them). Statistics are ImageNet's.
pub fn load_folder_splits(root: &Path, image_size: usize) -> Result<Splits> {
    let train = ImageFolder::open(&root.join("train"), None, image_size)?;
    let test = ImageFolder::open(&root.join("val"), Some(train.classes()), image_size)?;
    Ok(Splits { train: Arc::new(train), test: Arc::new(test) })
}

impl ImageFolder {
    /// List the class folders of `split_dir` (or check them against `known_classes`) and their image files.
    pub fn open(split_dir: &Path, known_classes: Option<&[String]>, image_size: usize) -> Result<Self> {
        let found = class_folders(split_dir)?;
        let classes = match known_classes {
            Some(known) => check_known(split_dir, &found, known)?,
            None => found.clone(),
        };
        let mut files = Vec::new();
        for name in &found {
            let label = classes.iter().position(|class| class == name).unwrap_or_default();
            files.extend(image_files(&split_dir.join(name))?.into_iter().map(|path| (path, label)));
        }
        if files.is_empty() {
            return Err(layout_error(split_dir, "no .jpg, .jpeg or .png file in any class folder"));
        }
        let fingerprint = list_fingerprint(split_dir, &classes, &files);
        let info = DatasetInfo {
            name: "imagefolder".to_string(),
            channels: 3,
            image_size,
            classes: classes.len(),
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
        };
        Ok(Self { info, classes, files, fingerprint })
    }

    /// The class names (folder names), sorted; a label is an index into this list.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The image file of sample `index` and its label.
    pub fn file(&self, index: usize) -> Option<&(PathBuf, usize)> {
        self.files.get(index)
    }
}

impl Dataset for ImageFolder {
    fn info(&self) -> &DatasetInfo {
        &self.info
    }

    fn len(&self) -> usize {
        self.files.len()
    }

    fn get(&self, index: usize) -> Result<(Image, usize)> {
        let (path, label) = self.files.get(index).ok_or_else(|| {
            GohspError::Internal(format!("{}: sample {index} requested, it has {}", self.fingerprint, self.files.len()))
        })?;
        let decoded = image::open(path).map_err(|err| {
            GohspError::input(path, format!("cannot decode image: {err}"), "remove or replace the file")
        })?;
        Ok((image_from_rgb8(&decoded.to_rgb8()), *label))
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

/// An 8-bit RGB image as a channel-major [`Image`] in [0, 1].
pub fn image_from_rgb8(rgb: &image::RgbImage) -> Image {
    let (width, height) = (rgb.width() as usize, rgb.height() as usize);
    let mut pixels = vec![0.0; 3 * width * height];
    for (i, pixel) in rgb.pixels().enumerate() {
        for c in 0..3 {
            pixels[c * width * height + i] = f32::from(pixel.0[c]) / 255.0;
        }
    }
    Image::new(pixels, 3, height, width)
}

/// The error for a missing or malformed folder: the expected layout, and that ImageNet is not downloaded for you.
fn layout_error(path: &Path, message: &str) -> GohspError {
    GohspError::input(path, message, fetch_hint("imagefolder"))
}

/// The sub-folder names of `split_dir`, sorted.
fn class_folders(split_dir: &Path) -> Result<Vec<String>> {
    if !split_dir.is_dir() {
        return Err(layout_error(
            split_dir,
            "image folder split not found (expected train/<class>/* and val/<class>/*)",
        ));
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(split_dir).at_path(split_dir)? {
        let entry = entry.at_path(split_dir)?;
        if entry.path().is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    if names.is_empty() {
        return Err(layout_error(split_dir, "no class folder in this split"));
    }
    names.sort();
    Ok(names)
}

/// `known` when every class folder found in `split_dir` is one of them.
fn check_known(split_dir: &Path, found: &[String], known: &[String]) -> Result<Vec<String>> {
    match found.iter().find(|name| !known.contains(name)) {
        Some(extra) => Err(layout_error(&split_dir.join(extra), "class folder absent from train/")),
        None => Ok(known.to_vec()),
    }
}

/// The image files directly inside `class_dir`, sorted by name.
fn image_files(class_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(class_dir).at_path(class_dir)? {
        let path = entry.at_path(class_dir)?.path();
        let extension = path.extension().map(|ext| ext.to_string_lossy().to_ascii_lowercase());
        if extension.is_some_and(|ext| IMAGE_EXTENSIONS.contains(&ext.as_str())) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Split name, class and file counts, and a digest of the relative file names with their labels.
fn list_fingerprint(split_dir: &Path, classes: &[String], files: &[(PathBuf, usize)]) -> String {
    let mut hasher = blake3::Hasher::new();
    for (path, label) in files {
        let relative = path.strip_prefix(split_dir).unwrap_or(path);
        hasher.update(format!("{}\t{label}\n", relative.display()).as_bytes());
    }
    let split = split_dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let digest = hasher.finalize().to_hex();
    format!("imagefolder/{split}:classes={}:n={}:blake3={}", classes.len(), files.len(), &digest[..16])
}

#[cfg(test)]
#[path = "folder_tests.rs"]
mod tests;
