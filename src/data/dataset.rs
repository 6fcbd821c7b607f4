//! The dataset abstraction: indexed access to decoded images in [0, 1] and their labels, plus what a model needs to know.

use crate::error::Result;
use serde::{Deserialize, Serialize};

/// A decoded image: channel-major pixels (C x H x W) with values in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// Pixels in C, H, W order.
    pub pixels: Vec<f32>,
    /// Number of channels.
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

impl Image {
    /// A new image; panics if the pixel count does not match the shape.
    pub fn new(pixels: Vec<f32>, channels: usize, height: usize, width: usize) -> Self {
        assert_eq!(pixels.len(), channels * height * width, "image pixel count does not match its shape");
        Self { pixels, channels, height, width }
    }

    /// The pixel at channel c, row y, column x.
    pub fn at(&self, c: usize, y: usize, x: usize) -> f32 {
        self.pixels[(c * self.height + y) * self.width + x]
    }
}

/// What a model must know about a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Short name, e.g. `mnist5k`, `cifar10`.
    pub name: String,
    /// Channels of the decoded images.
    pub channels: usize,
    /// Native image side (the model may resize).
    pub image_size: usize,
    /// Number of classes.
    pub classes: usize,
    /// Per-channel mean used for normalisation.
    pub mean: Vec<f32>,
    /// Per-channel standard deviation used for normalisation.
    pub std: Vec<f32>,
}

/// Indexed, thread-safe access to labelled images.
pub trait Dataset: Send + Sync {
    /// Facts about the images and classes.
    fn info(&self) -> &DatasetInfo;
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether the dataset holds no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The decoded image and label at `index` (0 <= index < len).
    fn get(&self, index: usize) -> Result<(Image, usize)>;
    /// A stable string identifying the exact data (files, sizes, split): part of every cache key.
    fn fingerprint(&self) -> String;
}

/// A train and a test split of the same dataset.
pub struct Splits {
    /// Training samples.
    pub train: std::sync::Arc<dyn Dataset>,
    /// Held-out samples for evaluation.
    pub test: std::sync::Arc<dyn Dataset>,
}

/// A fixed subset of a dataset's samples, named in its fingerprint by `label`: `dataset.limit`'s seeded subset, or a
/// part of a `dataset.holdout` split.
pub struct Subset {
    inner: std::sync::Arc<dyn Dataset>,
    indices: Vec<usize>,
    label: String,
}

impl Subset {
    /// The samples `indices` of `inner`; `label` tells this subset apart in the fingerprint.
    pub fn new(inner: std::sync::Arc<dyn Dataset>, indices: Vec<usize>, label: String) -> Self {
        Self { inner, indices, label }
    }

    /// At most `limit` of `inner`'s samples (the `dataset.limit` key), the same ones every time, chosen by a fixed
    /// seeded permutation so that a subset of class-sorted data (MNIST 5k, image folders) still mixes every class.
    pub fn limited(inner: std::sync::Arc<dyn Dataset>, limit: usize) -> Self {
        use rand::SeedableRng;
        use rand::seq::SliceRandom;
        let mut indices: Vec<usize> = (0..inner.len()).collect();
        indices.shuffle(&mut rand::rngs::StdRng::seed_from_u64(0x6f68_7370));
        indices.truncate(limit);
        indices.sort_unstable();
        let label = format!("limit={}", indices.len());
        Self::new(inner, indices, label)
    }
}

impl Dataset for Subset {
    fn info(&self) -> &DatasetInfo {
        self.inner.info()
    }
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn get(&self, index: usize) -> Result<(Image, usize)> {
        self.inner.get(self.indices[index])
    }
    fn fingerprint(&self) -> String {
        format!("{}|{}", self.inner.fingerprint(), self.label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::mnist5k::load_mnist5k;

    #[test]
    fn a_limited_subset_of_class_sorted_data_mixes_classes_and_is_stable() {
        let test = load_mnist5k().unwrap().test;
        let limited = Subset::limited(test.clone(), 100);
        assert_eq!(limited.len(), 100);
        let labels: std::collections::BTreeSet<usize> = (0..100).map(|i| limited.get(i).unwrap().1).collect();
        assert!(labels.len() >= 8, "classes seen: {labels:?}");
        let again = Subset::limited(test, 100);
        assert_eq!(limited.get(7).unwrap(), again.get(7).unwrap());
    }
}
