//! Tests of the CIFAR loader: batch files in the official layout written from the sample PNGs, read back.

use super::*;
use crate::data::dataset::Dataset;
use rayon::prelude::*;

/// The sample PNGs of `prefix` in tests/fixtures/images, with the label in their names.
fn samples(prefix: &str) -> Vec<(image::RgbImage, u8)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.retain(|p| p.file_name().unwrap().to_str().unwrap().starts_with(&format!("{prefix}_")));
    paths.sort();
    let label = |p: &Path| p.file_stem().unwrap().to_str().unwrap().rsplit('_').next().unwrap().parse().unwrap();
    paths.iter().map(|p| (image::open(p).unwrap().to_rgb8(), label(p))).collect()
}

/// Records in the official layout: label bytes, then the R, G, B planes.
fn records(images: &[(image::RgbImage, u8)], coarse: Option<u8>) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (image, label) in images {
        bytes.extend(coarse);
        bytes.push(*label);
        (0..3).for_each(|c| bytes.extend(image.pixels().map(|p| p.0[c])));
    }
    bytes
}

fn assert_same(dataset: &dyn Dataset, index: usize, expected: &(image::RgbImage, u8)) {
    let (image, label) = dataset.get(index).unwrap();
    assert_eq!(label, usize::from(expected.1));
    assert_eq!((image.channels, image.height, image.width), (3, 32, 32));
    for (x, y, pixel) in expected.0.enumerate_pixels() {
        for c in 0..3 {
            assert_eq!(image.at(c, y as usize, x as usize), f32::from(pixel.0[c]) / 255.0);
        }
    }
}

#[test]
fn cifar10_batches_read_back_equal_to_the_sample_pngs() {
    let images = samples("cifar10");
    assert_eq!(images.len(), 4);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cifar-10-batches-bin");
    std::fs::create_dir(&dir).unwrap();
    let batches = [&images[0..2], &images[2..3], &images[3..4], &images[0..1], &images[1..2]];
    for (i, batch) in batches.iter().enumerate() {
        std::fs::write(dir.join(format!("data_batch_{}.bin", i + 1)), records(batch, None)).unwrap();
    }
    std::fs::write(dir.join("test_batch.bin"), records(&images[1..], None)).unwrap();
    let splits = load_cifar_splits(root.path(), CifarVariant::Cifar10).unwrap();
    assert_eq!((splits.train.len(), splits.test.len()), (6, 3));
    let order = [0, 1, 2, 3, 0, 1];
    order.iter().enumerate().for_each(|(index, &i)| assert_same(splits.train.as_ref(), index, &images[i]));
    assert_same(splits.test.as_ref(), 2, &images[3]);
    assert_eq!(splits.train.info().mean, vec![0.4914, 0.4822, 0.4465]);
}

#[test]
fn cifar100_uses_the_fine_label_and_accepts_the_extracted_folder_as_root() {
    let images = samples("cifar100");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train.bin"), records(&images, Some(7))).unwrap();
    std::fs::write(dir.path().join("test.bin"), records(&images[..1], Some(3))).unwrap();
    let splits = load_cifar_splits(dir.path(), CifarVariant::Cifar100).unwrap();
    assert_eq!(splits.train.info().classes, 100);
    images.iter().enumerate().for_each(|(i, expected)| assert_same(splits.train.as_ref(), i, expected));
    let labels: Vec<usize> = (0..images.len()).into_par_iter().map(|i| splits.train.get(i).unwrap().1).collect();
    assert_eq!(labels, images.iter().map(|(_, l)| usize::from(*l)).collect::<Vec<_>>());
}

#[test]
fn truncated_and_missing_files_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let record = vec![1u8; 1 + CIFAR_IMAGE_BYTES];
    std::fs::write(dir.path().join("data_batch_1.bin"), [&record[..], &record[..100]].concat()).unwrap();
    let text = load_cifar_splits(dir.path(), CifarVariant::Cifar10).err().unwrap().to_string();
    assert!(text.contains("data_batch_1.bin") && text.contains("truncated"), "{text}");

    std::fs::write(dir.path().join("data_batch_1.bin"), &record).unwrap();
    let text = load_cifar_splits(dir.path(), CifarVariant::Cifar10).err().unwrap().to_string();
    assert!(text.contains("data_batch_2.bin") && text.contains("gohsp data fetch cifar10"), "{text}");

    let empty = tempfile::tempdir().unwrap();
    let text = load_cifar_splits(empty.path(), CifarVariant::Cifar100).err().unwrap().to_string();
    assert!(text.contains("train.bin") && text.contains("cifar-100-binary"), "{text}");
}
