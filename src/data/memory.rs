//! A dataset held in memory as bytes (pixels in C, H, W order, labels as u8), decoded to [0, 1] floats on access.

use super::dataset::{Dataset, DatasetInfo, Image};
use crate::error::{GohspError, Result};

/// Square images of `info.channels` x `info.image_size`^2 bytes each, stored back to back, with one label each.
/// Read-only after construction, so any number of threads may call `get` at once.
pub(crate) struct InMemoryDataset {
    info: DatasetInfo,
    pixels: Vec<u8>,
    labels: Vec<u8>,
    fingerprint: String,
}

impl InMemoryDataset {
    /// Wrap decoded bytes. `origin` names the data (e.g. `cifar10/train`); the fingerprint adds the sample count and a
    /// blake3 digest of the pixels and labels, so equal data gives equal fingerprints wherever it lives.
    pub(crate) fn new(info: DatasetInfo, pixels: Vec<u8>, labels: Vec<u8>, origin: &str) -> Result<Self> {
        let sample_len = info.channels * info.image_size * info.image_size;
        if pixels.len() != labels.len() * sample_len {
            return Err(GohspError::Internal(format!(
                "{origin}: {} pixel bytes for {} labels of {sample_len} bytes each",
                pixels.len(),
                labels.len()
            )));
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(&pixels);
        hasher.update(&labels);
        let digest = hasher.finalize().to_hex();
        let fingerprint = format!("{origin}:n={}:blake3={}", labels.len(), &digest[..16]);
        Ok(Self { info, pixels, labels, fingerprint })
    }

    /// The raw bytes of sample `index` (C, H, W order); panics when out of range.
    pub(crate) fn image_bytes(&self, index: usize) -> &[u8] {
        let sample_len = self.pixels.len() / self.labels.len().max(1);
        &self.pixels[index * sample_len..(index + 1) * sample_len]
    }
}

impl Dataset for InMemoryDataset {
    fn info(&self) -> &DatasetInfo {
        &self.info
    }

    fn len(&self) -> usize {
        self.labels.len()
    }

    fn get(&self, index: usize) -> Result<(Image, usize)> {
        if index >= self.labels.len() {
            return Err(GohspError::Internal(format!(
                "{}: sample {index} requested, the dataset has {}",
                self.fingerprint,
                self.labels.len()
            )));
        }
        let pixels = self.image_bytes(index).iter().map(|&byte| f32::from(byte) / 255.0).collect();
        let side = self.info.image_size;
        Ok((Image::new(pixels, self.info.channels, side, side), usize::from(self.labels[index])))
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> DatasetInfo {
        DatasetInfo { name: "t".into(), channels: 1, image_size: 2, classes: 3, mean: vec![0.5], std: vec![0.5] }
    }

    #[test]
    fn get_decodes_bytes_to_unit_range_with_label() {
        let data = InMemoryDataset::new(info(), vec![0, 255, 51, 102, 1, 2, 3, 4], vec![2, 0], "t/train").unwrap();
        assert_eq!(data.len(), 2);
        let (image, label) = data.get(0).unwrap();
        assert_eq!(label, 2);
        assert_eq!(image.pixels, vec![0.0, 1.0, 0.2, 0.4]);
        assert_eq!((image.channels, image.height, image.width), (1, 2, 2));
        assert!(data.get(2).is_err());
    }

    #[test]
    fn fingerprint_depends_on_content_not_only_size() {
        let a = InMemoryDataset::new(info(), vec![0; 4], vec![1], "t/train").unwrap();
        let b = InMemoryDataset::new(info(), vec![0, 0, 0, 1], vec![1], "t/train").unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(a.fingerprint().starts_with("t/train:n=1:blake3="));
        assert!(InMemoryDataset::new(info(), vec![0; 5], vec![1], "t").is_err());
    }
}
