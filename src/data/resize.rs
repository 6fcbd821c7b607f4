//! Deterministic geometry: antialiased bilinear resizing, cropping with zero fill, and the evaluation transforms built
//! on them (resize to a fixed side, resize the short side, centre crop, and timm's resize-then-crop at 0.875).

use super::dataset::Image;
use super::transform::Transform;
use rand::rngs::StdRng;

/// timm's default evaluation crop fraction: resize the short side to size / 0.875 (256 for 224), then crop `size`.
pub(crate) const DEFAULT_CROP_PCT: f64 = 0.875;

/// For each output position along one axis: the first input index and the normalised weights from there on.
/// Bilinear (triangle) filter widened by the scale when shrinking, as PIL does, so downsampling does not alias.
fn axis_weights(in_len: usize, out_len: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = in_len as f64 / out_len as f64;
    let filter_scale = scale.max(1.0);
    (0..out_len)
        .map(|out| {
            let center = (out as f64 + 0.5) * scale;
            let first = ((center - filter_scale + 0.5).floor().max(0.0)) as usize;
            let last = ((center + filter_scale + 0.5).floor() as usize).min(in_len);
            let weights: Vec<f64> =
                (first..last).map(|i| (1.0 - ((i as f64 - center + 0.5) / filter_scale).abs()).max(0.0)).collect();
            let total: f64 = weights.iter().sum();
            (first, weights.iter().map(|w| (w / total) as f32).collect())
        })
        .collect()
}

/// Resize every channel of `image` to `height` x `width` (separable antialiased bilinear, half-pixel centres).
pub(crate) fn resize_bilinear(image: &Image, height: usize, width: usize) -> Image {
    if (image.height, image.width) == (height, width) {
        return image.clone();
    }
    let (columns, rows) = (axis_weights(image.width, width), axis_weights(image.height, height));
    let mut pixels = Vec::with_capacity(image.channels * height * width);
    for c in 0..image.channels {
        let plane = &image.pixels[c * image.height * image.width..(c + 1) * image.height * image.width];
        let mut across = vec![0.0f32; image.height * width];
        for y in 0..image.height {
            let row = &plane[y * image.width..(y + 1) * image.width];
            for (x, (first, weights)) in columns.iter().enumerate() {
                across[y * width + x] = weights.iter().zip(&row[*first..]).map(|(w, v)| w * v).sum();
            }
        }
        for (first, weights) in &rows {
            for x in 0..width {
                pixels.push(weights.iter().enumerate().map(|(k, w)| w * across[(first + k) * width + x]).sum());
            }
        }
    }
    Image::new(pixels, image.channels, height, width)
}

/// The `height` x `width` window whose top-left corner is at (`top`, `left`); positions outside `image` are 0.
pub(crate) fn crop(image: &Image, top: isize, left: isize, height: usize, width: usize) -> Image {
    let mut pixels = vec![0.0; image.channels * height * width];
    for c in 0..image.channels {
        for y in 0..height {
            let source_y = top + y as isize;
            if source_y < 0 || source_y >= image.height as isize {
                continue;
            }
            for x in 0..width {
                let source_x = left + x as isize;
                if source_x >= 0 && source_x < image.width as isize {
                    pixels[(c * height + y) * width + x] = image.at(c, source_y as usize, source_x as usize);
                }
            }
        }
    }
    Image::new(pixels, image.channels, height, width)
}

/// The central `size` x `size` window (zero-padded if the image is smaller); offsets round as torchvision's do.
pub(crate) fn center_crop(image: &Image, size: usize) -> Image {
    let offset = |len: usize| ((len as f64 - size as f64) / 2.0).round_ties_even() as isize;
    crop(image, offset(image.height), offset(image.width), size, size)
}

/// Resize so that the shorter side is `size`, keeping the aspect ratio (the longer side is truncated, as torchvision).
pub(crate) fn resize_short_side(image: &Image, size: usize) -> Image {
    let (short, long) = (image.height.min(image.width), image.height.max(image.width));
    let long_out = (size * long / short).max(1);
    if image.height <= image.width {
        resize_bilinear(image, size, long_out)
    } else {
        resize_bilinear(image, long_out, size)
    }
}

/// Resize to a fixed `size` x `size`, ignoring the aspect ratio (e.g. CIFAR's 32 up to 224 for a ViT).
#[derive(Clone, Debug)]
pub(crate) struct Resize {
    /// Output side.
    pub size: usize,
}

impl Transform for Resize {
    fn apply(&self, image: Image, _rng: &mut StdRng) -> Image {
        resize_bilinear(&image, self.size, self.size)
    }
}

/// Evaluation preprocessing: resize the short side to `floor(size / crop_pct)`, then take the central `size` square.
#[derive(Clone, Debug)]
pub(crate) struct ResizeCenterCrop {
    /// Output side.
    pub size: usize,
    /// Fraction of the resized short side that the crop keeps.
    pub crop_pct: f64,
}

impl ResizeCenterCrop {
    /// timm's convention: `crop_pct` = 0.875 (224 from 256).
    pub(crate) fn new(size: usize) -> Self {
        Self { size, crop_pct: DEFAULT_CROP_PCT }
    }

    /// The short side the image is resized to before cropping.
    pub(crate) fn scale_size(&self) -> usize {
        (self.size as f64 / self.crop_pct).floor() as usize
    }
}

impl Transform for ResizeCenterCrop {
    fn apply(&self, image: Image, _rng: &mut StdRng) -> Image {
        center_crop(&resize_short_side(&image, self.scale_size()), self.size)
    }
}

#[cfg(test)]
#[path = "resize_tests.rs"]
mod tests;
