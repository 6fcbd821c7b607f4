//! Random training augmentations: random-resized crop, horizontal flip, pad-and-random-crop (CIFAR) and random shift
//! with zero fill (MNIST-like). All randomness comes from the caller's `StdRng`.

use super::dataset::Image;
use super::resize::{crop, resize_bilinear};
use super::transform::Transform;
use rand::Rng;
use rand::rngs::StdRng;

/// The image mirrored left to right.
pub(crate) fn flip_horizontal(image: &Image) -> Image {
    let mut pixels = Vec::with_capacity(image.pixels.len());
    for row in image.pixels.chunks_exact(image.width) {
        pixels.extend(row.iter().rev());
    }
    Image::new(pixels, image.channels, image.height, image.width)
}

/// The image moved `dy` pixels down and `dx` pixels right; uncovered pixels are 0.
pub(crate) fn shift(image: &Image, dy: isize, dx: isize) -> Image {
    crop(image, -dy, -dx, image.height, image.width)
}

/// Flip left to right with probability `probability`.
#[derive(Clone, Debug)]
pub(crate) struct RandomHorizontalFlip {
    /// Chance of flipping, in [0, 1].
    pub probability: f64,
}

impl Transform for RandomHorizontalFlip {
    fn apply(&self, image: Image, rng: &mut StdRng) -> Image {
        if rng.gen_bool(self.probability.clamp(0.0, 1.0)) { flip_horizontal(&image) } else { image }
    }
}

/// Zero-pad by `padding` on every side, then crop the original size at a uniformly random offset (torchvision's
/// `RandomCrop(size, padding)`, used for CIFAR with padding 4).
#[derive(Clone, Debug)]
pub(crate) struct PadRandomCrop {
    /// Zero border added on each side before cropping.
    pub padding: usize,
}

impl Transform for PadRandomCrop {
    fn apply(&self, image: Image, rng: &mut StdRng) -> Image {
        let pad = self.padding as isize;
        let (top, left) = (rng.gen_range(0..=2 * pad), rng.gen_range(0..=2 * pad));
        crop(&image, top - pad, left - pad, image.height, image.width)
    }
}

/// Shift by a uniformly random whole number of pixels in [-max_shift, max_shift] on each axis, zero fill
/// (for MNIST-like digits, max_shift 2).
#[derive(Clone, Debug)]
pub(crate) struct RandomShift {
    /// Largest shift, in pixels, along each axis.
    pub max_shift: usize,
}

impl Transform for RandomShift {
    fn apply(&self, image: Image, rng: &mut StdRng) -> Image {
        let max = self.max_shift as isize;
        let (dy, dx) = (rng.gen_range(-max..=max), rng.gen_range(-max..=max));
        shift(&image, dy, dx)
    }
}

/// Crop a random window covering `scale` of the area with aspect ratio in `ratio` (log-uniform), resize it to
/// `size` x `size`: torchvision's `RandomResizedCrop`, including its 10 tries and its central fallback.
#[derive(Clone, Debug)]
pub(crate) struct RandomResizedCrop {
    /// Output side.
    pub size: usize,
    /// Range of the window's area as a fraction of the image's.
    pub scale: (f64, f64),
    /// Range of the window's width / height.
    pub ratio: (f64, f64),
}

impl RandomResizedCrop {
    /// The usual ranges: scale 0.08-1, ratio 3/4-4/3.
    pub(crate) fn new(size: usize) -> Self {
        Self { size, scale: (0.08, 1.0), ratio: (3.0 / 4.0, 4.0 / 3.0) }
    }

    /// The window (top, left, height, width) for an image of `height` x `width`.
    pub(crate) fn window(&self, height: usize, width: usize, rng: &mut StdRng) -> (usize, usize, usize, usize) {
        let area = (height * width) as f64;
        let (log_low, log_high) = (self.ratio.0.ln(), self.ratio.1.ln());
        for _ in 0..10 {
            let target = area * rng.gen_range(self.scale.0..=self.scale.1);
            let aspect = rng.gen_range(log_low..=log_high).exp();
            let w = (target * aspect).sqrt().round() as usize;
            let h = (target / aspect).sqrt().round() as usize;
            if (1..=width).contains(&w) && (1..=height).contains(&h) {
                return (rng.gen_range(0..=height - h), rng.gen_range(0..=width - w), h, w);
            }
        }
        let in_ratio = width as f64 / height as f64;
        let (h, w) = if in_ratio < self.ratio.0 {
            ((width as f64 / self.ratio.0).round() as usize, width)
        } else if in_ratio > self.ratio.1 {
            (height, (height as f64 * self.ratio.1).round() as usize)
        } else {
            (height, width)
        };
        ((height - h) / 2, (width - w) / 2, h, w)
    }
}

impl Transform for RandomResizedCrop {
    fn apply(&self, image: Image, rng: &mut StdRng) -> Image {
        let (top, left, h, w) = self.window(image.height, image.width, rng);
        resize_bilinear(&crop(&image, top as isize, left as isize, h, w), self.size, self.size)
    }
}

#[cfg(test)]
#[path = "augment_tests.rs"]
mod tests;
