//! Image transforms applied between decoding and batching: the trait, and the composition used by the loader.

use super::dataset::Image;
use rand::rngs::StdRng;

/// A (possibly random) image-to-image transform. Randomness comes only from `rng`, so runs are reproducible.
pub trait Transform: Send + Sync {
    /// Transform one image.
    fn apply(&self, image: Image, rng: &mut StdRng) -> Image;
}

/// Transforms applied in order.
pub(crate) struct Compose(pub Vec<Box<dyn Transform>>);

impl Transform for Compose {
    fn apply(&self, image: Image, rng: &mut StdRng) -> Image {
        self.0.iter().fold(image, |img, t| t.apply(img, rng))
    }
}
