//! The patch embedding's data movement for inference: images cut into patch rows, and the class (and distillation)
//! tokens put in front of the patch tokens with the position embedding added, each as one pass on rayon's threads.
//! burn's permute, cat and add do the same on one thread (about 2% of a DeiT-Tiny inference pass's CPU time, while
//! the other thread waits); under autodiff and on other backends the model keeps burn's ops, whose backward it needs.

use super::route::{Routed, contiguous, from_plain, new_tensor, route, values};
use burn::backend::Shape;
use burn::backend::flex::FlexTensor;
use burn::tensor::Tensor;
use rayon::prelude::*;
use std::mem::MaybeUninit;

/// Images [B, C, H, W] as patch rows [B * (H / p) * (W / p), C * p * p], features ordered (channel, row, column) as a
/// convolution's weight and patches in row-major grid order: timm's `PatchEmbed` as a matrix product.
///
/// # Panics
/// When the image's height or width is not a multiple of `patch` (on every path: the plain one would otherwise drop
/// the last pixels silently where burn's reshape refuses them).
pub fn patches(images: Tensor<4>, patch: usize) -> Tensor<2> {
    let [b, c, height, width] = images.dims();
    assert!(
        patch > 0 && height % patch == 0 && width % patch == 0,
        "{height}x{width} images do not divide into {patch} px patches"
    );
    let grid = PatchGrid { channels: c, height, width, patch };
    match route(images) {
        Routed::Plain(images) => from_plain(cut_into_patches(&contiguous(&images), b, grid)),
        other => {
            let (gh, gw) = (height / patch, width / patch);
            let cells = other.into_tensor().reshape([b, c, gh, patch, gw, patch]).permute([0, 2, 4, 1, 3, 5]);
            cells.reshape([b * gh * gw, c * patch * patch])
        }
    }
}

/// `prefix` tokens ([1, 1, D] each, the same for every image) in front of `tokens` [B, N, D], plus `positions`
/// [1, P + N, D]: a ViT's input sequence [B, P + N, D].
pub fn prepend_and_position(prefix: Vec<Tensor<3>>, tokens: Tensor<3>, positions: Tensor<3>) -> Tensor<3> {
    let plain = |t: &Tensor<3>| match route(t.clone()) {
        Routed::Plain(t) => Some(contiguous(&t)),
        _ => None,
    };
    let plain_prefix: Option<Vec<FlexTensor>> = prefix.iter().map(plain).collect();
    let dims = tokens.dims();
    match (plain_prefix, plain(&tokens), plain(&positions)) {
        (Some(prefix), Some(tokens), Some(positions)) => from_plain(sequence(&prefix, &tokens, &positions, dims)),
        _ => {
            let [b, _, d] = dims;
            let mut parts: Vec<Tensor<3>> = prefix.into_iter().map(|t| t.expand([b, 1, d])).collect();
            parts.push(tokens);
            Tensor::cat(parts, 1) + positions
        }
    }
}

/// The geometry of one image's patch grid.
#[derive(Clone, Copy, Debug)]
struct PatchGrid {
    channels: usize,
    height: usize,
    width: usize,
    patch: usize,
}

impl PatchGrid {
    fn columns(self) -> usize {
        self.width / self.patch
    }

    fn rows(self) -> usize {
        self.height / self.patch
    }

    fn features(self) -> usize {
        self.channels * self.patch * self.patch
    }
}

/// The patch matrix of `b` contiguous images, one rayon task per image and grid row.
fn cut_into_patches(images: &FlexTensor, b: usize, grid: PatchGrid) -> FlexTensor {
    let (rows, features) = (b * grid.rows() * grid.columns(), grid.features());
    let image_len = grid.channels * grid.height * grid.width;
    let pixels = values(images);
    assert_eq!(pixels.len(), b * image_len, "image tensor length");
    // SAFETY: every patch row (one per image, grid row and grid column) is written whole below.
    unsafe {
        new_tensor(Shape::from(vec![rows, features]), |out| {
            let band = grid.columns() * features;
            out.par_chunks_mut(band.max(1)).enumerate().for_each(|(at, band)| {
                let (image, grid_row) = (at / grid.rows(), at % grid.rows());
                cut_grid_row(&pixels[image * image_len..(image + 1) * image_len], grid, grid_row, band);
            })
        })
    }
}

/// The patches of grid row `grid_row` of one image, written to `out` (one row of features per patch).
fn cut_grid_row(image: &[f32], grid: PatchGrid, grid_row: usize, out: &mut [MaybeUninit<f32>]) {
    let p = grid.patch;
    for (column, patch) in out.chunks_exact_mut(grid.features()).enumerate() {
        for (line, run) in patch.chunks_exact_mut(p).enumerate() {
            let (channel, dy) = (line / p, line % p);
            let start = (channel * grid.height + grid_row * p + dy) * grid.width + column * p;
            for (o, &v) in run.iter_mut().zip(&image[start..start + p]) {
                o.write(v);
            }
        }
    }
}

/// [B, P + N, D]: the prefix tokens, then each image's patch tokens, plus the positions; one rayon task per image.
fn sequence(prefix: &[FlexTensor], tokens: &FlexTensor, positions: &FlexTensor, [b, n, d]: [usize; 3]) -> FlexTensor {
    let length = prefix.len() + n;
    let (tokens, positions) = (values(tokens), values(positions));
    assert_eq!(tokens.len(), b * n * d, "token tensor length");
    assert_eq!(positions.len(), length * d, "position embedding length");
    let prefix: Vec<&[f32]> = prefix.iter().map(values).collect();
    assert!(prefix.iter().all(|t| t.len() == d), "prefix token shape");
    // SAFETY: every image's sequence is written whole below.
    unsafe {
        new_tensor(Shape::from(vec![b, length, d]), |out| {
            out.par_chunks_mut((length * d).max(1)).enumerate().for_each(|(image, out)| {
                let sources = prefix.iter().copied();
                let patch_tokens = tokens[image * n * d..(image + 1) * n * d].chunks_exact(d.max(1));
                for ((o, token), position) in out
                    .chunks_exact_mut(d.max(1))
                    .zip(sources.chain(patch_tokens))
                    .zip(positions.chunks_exact(d.max(1)))
                {
                    for ((o, &t), &p) in o.iter_mut().zip(token).zip(position) {
                        o.write(t + p);
                    }
                }
            })
        })
    }
}
