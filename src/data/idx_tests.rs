//! Tests of the idx loader on small idx files (plain and gzipped) written into a temporary folder.

use super::*;
use flate2::{Compression, write::GzEncoder};
use std::io::Write;

/// An idx file with the given magic, dimensions and data.
fn idx_bytes(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = magic.to_be_bytes().to_vec();
    dims.iter().for_each(|d| bytes.extend(d.to_be_bytes()));
    bytes.extend_from_slice(data);
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8], gz: bool) {
    if gz {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        std::fs::write(dir.join(format!("{name}.gz")), encoder.finish().unwrap()).unwrap();
    } else {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// `count` 28x28 images whose pixel i of image n is (n * 7 + i) % 256, labels n % 10.
fn write_split(dir: &Path, prefix: &str, count: u32, gz: bool) {
    let pixels: Vec<u8> = (0..count as usize * 784).map(|i| ((i / 784) * 7 + i % 784) as u8).collect();
    let labels: Vec<u8> = (0..count).map(|n| (n % 10) as u8).collect();
    write(dir, &format!("{prefix}-images-idx3-ubyte"), &idx_bytes(IMAGES_MAGIC, &[count, 28, 28], &pixels), gz);
    write(dir, &format!("{prefix}-labels-idx1-ubyte"), &idx_bytes(LABELS_MAGIC, &[count], &labels), gz);
}

#[test]
fn loads_gzipped_and_plain_splits_with_pixels_labels_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), "train", 12, true);
    write_split(dir.path(), "t10k", 3, false);
    let splits = load_idx_splits(dir.path(), "fashion_mnist").unwrap();
    assert_eq!((splits.train.len(), splits.test.len()), (12, 3));
    let info = splits.train.info();
    assert_eq!((info.channels, info.image_size, info.classes, info.mean[0], info.std[0]), (1, 28, 10, 0.2860, 0.3530));
    let (image, label) = splits.train.get(11).unwrap();
    assert_eq!(label, 1);
    assert_eq!(image.at(0, 0, 5), (11 * 7 + 5) as f32 / 255.0);
    assert_eq!(image.at(0, 27, 27), ((11 * 7 + 783) % 256) as f32 / 255.0);
    assert!(splits.test.fingerprint().starts_with("fashion_mnist/test:n=3"));
    assert_eq!(load_idx_splits(dir.path(), "mnist").unwrap().train.info().mean, vec![0.1307]);
}

#[test]
fn missing_file_error_names_it_and_says_how_to_fetch() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), "train", 2, false);
    let err = load_idx_splits(dir.path(), "fashion_mnist").err().unwrap();
    let text = err.to_string();
    assert!(err.is_user_error());
    assert!(text.contains("t10k-images-idx3-ubyte"), "{text}");
    assert!(text.contains("gohsp data fetch fashion_mnist") && text.contains("apt-get install dataset-fashion-mnist"));
}

#[test]
fn truncated_plain_and_gzipped_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), "t10k", 2, false);
    let full = idx_bytes(IMAGES_MAGIC, &[3, 28, 28], &[0; 3 * 784]);
    write(dir.path(), "train-images-idx3-ubyte", &full[..full.len() - 10], false);
    write(dir.path(), "train-labels-idx1-ubyte", &idx_bytes(LABELS_MAGIC, &[3], &[0, 1, 2]), false);
    let text = load_idx_splits(dir.path(), "mnist").err().unwrap().to_string();
    assert!(text.contains("train-images-idx3-ubyte") && text.contains("truncated"), "{text}");

    write(dir.path(), "train-images-idx3-ubyte", &full, true);
    std::fs::remove_file(dir.path().join("train-images-idx3-ubyte")).unwrap();
    let gz_path = dir.path().join("train-images-idx3-ubyte.gz");
    let gz = std::fs::read(&gz_path).unwrap();
    std::fs::write(&gz_path, &gz[..gz.len() / 2]).unwrap();
    let text = load_idx_splits(dir.path(), "mnist").err().unwrap().to_string();
    assert!(text.contains("train-images-idx3-ubyte.gz") && text.contains("truncated or corrupt gzip"), "{text}");
}

#[test]
fn wrong_magic_and_mismatched_counts_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_split(dir.path(), "t10k", 2, false);
    write(dir.path(), "train-images-idx3-ubyte", &idx_bytes(LABELS_MAGIC, &[784], &[0; 784]), false);
    write(dir.path(), "train-labels-idx1-ubyte", &idx_bytes(LABELS_MAGIC, &[1], &[0]), false);
    let text = load_idx_splits(dir.path(), "mnist").err().unwrap().to_string();
    assert!(text.contains("magic number 0x00000801, expected 0x00000803"), "{text}");

    write_split(dir.path(), "train", 4, false);
    write(dir.path(), "train-labels-idx1-ubyte", &idx_bytes(LABELS_MAGIC, &[3], &[0, 1, 2]), false);
    let text = load_idx_splits(dir.path(), "mnist").err().unwrap().to_string();
    assert!(text.contains("3 labels for 4 images"), "{text}");
    assert!(load_idx_splits(dir.path(), "cifar10").is_err());
}
