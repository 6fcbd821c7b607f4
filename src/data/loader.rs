//! Batching: seeded shuffling, per-sample transforms and normalisation decoded in parallel (rayon), prefetched on another thread.

use super::dataset::{Dataset, Image};
use super::decode_pool::decode_pool;
use super::transform::Transform;
use crate::error::Result;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

/// One batch of normalised images (B x C x H x W, row-major) and their labels.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Pixels, normalised with the dataset's mean and std.
    pub images: Vec<f32>,
    /// Labels, one per image.
    pub labels: Vec<i64>,
    /// [B, C, H, W].
    pub shape: [usize; 4],
}

/// Everything needed to turn a dataset into batches.
#[derive(Clone)]
pub struct Loader {
    dataset: Arc<dyn Dataset>,
    transform: Arc<dyn Transform>,
    batch: usize,
    shuffle: bool,
    seed: u64,
}

/// Batches prepared ahead of use (at most two waiting).
pub const PREFETCH: usize = 2;

impl Loader {
    /// A loader over `dataset`; shuffled loaders reshuffle every epoch from (seed, epoch).
    pub fn new(
        dataset: Arc<dyn Dataset>,
        transform: Arc<dyn Transform>,
        batch: usize,
        shuffle: bool,
        seed: u64,
    ) -> Self {
        Self { dataset, transform, batch: batch.max(1), shuffle, seed }
    }

    /// Number of batches per epoch (the last may be smaller).
    pub fn batches_per_epoch(&self) -> usize {
        self.dataset.len().div_ceil(self.batch)
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.dataset.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.dataset.is_empty()
    }

    /// The sample order of `epoch`.
    pub fn order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if self.shuffle {
            order.shuffle(&mut StdRng::seed_from_u64(self.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        }
        order
    }

    /// The first `samples` images of epoch 0, batch by batch, each batch with how many of its images count (the last
    /// may count only its first few); no batch after them is taken.
    pub fn first_samples(&self, samples: usize) -> impl Iterator<Item = Result<(Batch, usize)>> {
        let mut seen = 0;
        self.epoch(0).into_iter().map_while(move |batch| {
            (seen < samples).then(|| {
                batch.map(|b| {
                    let take = (samples - seen).min(b.labels.len());
                    seen += take;
                    (b, take)
                })
            })
        })
    }

    /// Batches of `epoch`, produced on a background thread while the caller consumes them.
    pub fn epoch(&self, epoch: usize) -> Receiver<Result<Batch>> {
        let (sender, receiver) = sync_channel(PREFETCH);
        let loader = self.clone();
        std::thread::spawn(move || {
            for chunk in loader.order(epoch).chunks(loader.batch) {
                if sender.send(loader.make_batch(chunk, epoch)).is_err() {
                    return;
                }
            }
        });
        receiver
    }

    /// Build the batch of the given sample indices, decoding samples in parallel on the decode pool.
    pub fn make_batch(&self, indices: &[usize], epoch: usize) -> Result<Batch> {
        let samples: Vec<(Image, usize)> = decode_pool().install(|| {
            indices
                .par_iter()
                .map(|&i| {
                    let (image, label) = self.dataset.get(i)?;
                    let mut rng =
                        StdRng::seed_from_u64(self.seed.wrapping_add((epoch as u64) << 32).wrapping_add(i as u64));
                    Ok((self.transform.apply(image, &mut rng), label))
                })
                .collect::<Result<_>>()
        })?;
        Ok(self.assemble(samples))
    }

    fn assemble(&self, samples: Vec<(Image, usize)>) -> Batch {
        let info = self.dataset.info();
        let first = &samples[0].0;
        let shape = [samples.len(), first.channels, first.height, first.width];
        let plane = first.height * first.width;
        let mut images = Vec::with_capacity(shape.iter().product());
        for (image, _) in &samples {
            for (c, chunk) in image.pixels.chunks(plane).enumerate() {
                let (mean, std) = (info.mean[c % info.mean.len()], info.std[c % info.std.len()]);
                images.extend(chunk.iter().map(|p| (p - mean) / std));
            }
        }
        let labels = samples.iter().map(|(_, l)| *l as i64).collect();
        Batch { images, labels, shape }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::mnist5k::load_mnist5k;
    use crate::data::transform::Compose;

    #[test]
    fn epochs_cover_every_sample_once_and_shuffle_reproducibly() {
        let splits = load_mnist5k().unwrap();
        let loader = Loader::new(splits.test.clone(), Arc::new(Compose(vec![])), 256, true, 3);
        let mut seen: Vec<usize> = loader.order(0);
        assert_ne!(seen, (0..1000).collect::<Vec<_>>());
        assert_eq!(loader.order(0), seen);
        assert_ne!(loader.order(1), seen);
        seen.sort();
        assert_eq!(seen, (0..1000).collect::<Vec<_>>());
        let batches: Vec<Batch> = loader.epoch(0).into_iter().map(|b| b.unwrap()).collect();
        assert_eq!(batches.len(), 4);
        assert_eq!(batches[3].shape, [1000 - 768, 1, 28, 28]);
        let mean: f32 = batches[0].images.iter().sum::<f32>() / batches[0].images.len() as f32;
        assert!(mean.abs() < 0.3, "normalised pixels have mean near 0, got {mean}");
    }
}
