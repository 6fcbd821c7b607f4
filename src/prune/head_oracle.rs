//! The oracle of head importance and the masking curve a criterion is judged by: the held-out loss increase when one
//! head alone is masked in the dense model, and the held-out accuracy after masking a criterion's k lowest-ranked
//! heads. A masked head has its q, k, v rows, their biases and its proj columns zeroed, so it writes nothing.

use super::mask::StructureMask;
use crate::data::loader::Loader;
use crate::error::Result;
use crate::model::build::build_vit;
use crate::model::host::NamedTensors;
use crate::model::shape::VitShape;
use crate::train::batch::{batch_tensors, count_correct};
use crate::train::objective::CrossEntropy;
use crate::train::pool::on_compute_pool;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Held-out images above this many bytes of pixels are decoded afresh for every pass instead of kept on the device.
const MAX_KEPT_BYTES: usize = 256 << 20;

/// The held-out batches of every masked pass: decoded once and kept when their pixels fit in [`MAX_KEPT_BYTES`]
/// (MNIST, CIFAR), else read from the loader each pass (ImageNet).
pub struct HeldOut {
    loader: Loader,
    kept: Option<Vec<DeviceBatch>>,
    device: Device,
}

/// A batch on the device: images, labels, and the labels on the host.
type DeviceBatch = (Tensor<4>, Tensor<1, Int>, Vec<i64>);

impl HeldOut {
    /// The batches of `loader` on `device` (plain, not autodiff).
    pub fn load(loader: &Loader, device: &Device) -> Result<Self> {
        let per_image = match loader.order(0).first() {
            Some(&i) => loader.make_batch(&[i], 0)?.images.len(),
            None => 0,
        };
        let kept = if per_image * 4 * loader.len() <= MAX_KEPT_BYTES {
            Some(loader.epoch(0).into_iter().map(|b| Ok(batch_tensors(b?, device))).collect::<Result<Vec<_>>>()?)
        } else {
            None
        };
        Ok(Self { loader: loader.clone(), kept, device: device.clone() })
    }

    /// Images held out.
    pub fn images(&self) -> usize {
        self.loader.len()
    }

    /// Run `f` on every batch, in order.
    fn for_each(&self, mut f: impl FnMut(&DeviceBatch)) -> Result<()> {
        match &self.kept {
            Some(batches) => batches.iter().for_each(f),
            None => {
                for batch in self.loader.epoch(0) {
                    f(&batch_tensors(batch?, &self.device));
                }
            }
        }
        Ok(())
    }
}

/// Mean cross-entropy (no smoothing) and top-1 (%) of a model on the held-out images.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeldOutScore {
    /// Mean cross-entropy.
    pub loss: f64,
    /// Top-1 in percent.
    pub top1: f64,
}

/// `tensors` with the heads `heads` marks false masked (everything else as it was).
pub fn mask_heads(shape: &VitShape, tensors: &NamedTensors, heads: &[Vec<bool>]) -> NamedTensors {
    let mut masked = tensors.clone();
    StructureMask { heads: heads.to_vec(), ..StructureMask::full(shape) }.zero_removed(shape, &mut masked);
    masked
}

/// The dense model of `shape` and `tensors` with the heads `heads` marks false masked, scored on `held`.
pub fn score_with_heads(
    shape: &VitShape,
    tensors: &NamedTensors,
    heads: &[Vec<bool>],
    held: &HeldOut,
) -> Result<HeldOutScore> {
    let masked = mask_heads(shape, tensors, heads);
    let model = build_vit(shape, &masked, &held.device, Path::new("<masked heads>"))?;
    let cross_entropy = CrossEntropy::new(0.0, &held.device);
    on_compute_pool(|| {
        let (mut loss, mut correct, mut images) = (0.0, 0, 0);
        held.for_each(|(x, labels, host_labels)| {
            let logits = model.forward(x.clone());
            let batch_loss = cross_entropy.of(logits.clone(), labels.clone()).into_scalar::<f32>() as f64;
            loss += batch_loss * host_labels.len() as f64;
            correct += count_correct(logits, host_labels, 1).0;
            images += host_labels.len();
        })?;
        let images = images.max(1) as f64;
        Ok(HeldOutScore { loss: loss / images, top1: 100.0 * correct as f64 / images })
    })
}

/// A keep-mask of every head of `shape`.
fn all_heads(shape: &VitShape) -> Vec<Vec<bool>> {
    shape.blocks.iter().map(|b| vec![true; b.heads]).collect()
}

/// The dense model's held-out score, and for every head (l, h) the held-out loss increase when it alone is masked.
pub fn oracle(shape: &VitShape, tensors: &NamedTensors, held: &HeldOut) -> Result<(HeldOutScore, Vec<Vec<f64>>)> {
    let dense = score_with_heads(shape, tensors, &all_heads(shape), held)?;
    let mut increase = Vec::with_capacity(shape.blocks.len());
    for (l, block) in shape.blocks.iter().enumerate() {
        let mut row = Vec::with_capacity(block.heads);
        for h in 0..block.heads {
            let mut heads = all_heads(shape);
            heads[l][h] = false;
            row.push(score_with_heads(shape, tensors, &heads, held)?.loss - dense.loss);
        }
        increase.push(row);
    }
    Ok((dense, increase))
}

/// One point of a masking curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Heads masked.
    pub k: usize,
    /// Held-out score with them masked.
    pub score: HeldOutScore,
}

/// The heads of `scores` from lowest to highest score (exact ties, which a trained model's criteria do not have, in
/// (block, head) order).
pub fn lowest_first(scores: &[Vec<f64>]) -> Vec<(usize, usize)> {
    let mut order: Vec<(usize, usize)> =
        scores.iter().enumerate().flat_map(|(l, s)| (0..s.len()).map(move |h| (l, h))).collect();
    order.sort_by(|a, b| scores[a.0][a.1].total_cmp(&scores[b.0][b.1]));
    order
}

/// Held-out scores after masking the k lowest-scored heads of `scores`, for k = 1..=`max_k`.
pub fn masking_curve(
    shape: &VitShape,
    tensors: &NamedTensors,
    scores: &[Vec<f64>],
    max_k: usize,
    held: &HeldOut,
) -> Result<Vec<CurvePoint>> {
    let order = lowest_first(scores);
    let mut heads = all_heads(shape);
    let mut curve = Vec::with_capacity(max_k);
    for (k, &(l, h)) in order.iter().enumerate().take(max_k) {
        heads[l][h] = false;
        curve.push(CurvePoint { k: k + 1, score: score_with_heads(shape, tensors, &heads, held)? });
    }
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::host::HostTensor;
    use crate::model::init::init_tensors;
    use crate::test_support::normal_tensor;

    #[test]
    fn masking_one_head_silences_it_and_leaves_every_other_heads_output_of_its_block_unchanged() {
        let shape = VitShape::uniform(28, 7, 1, 10, 16, 2, 4, 2.0);
        let device = Device::flex();
        let tensors = init_tensors(&shape, 5);
        let (l, h) = (1, 2);
        let mut heads = all_heads(&shape);
        heads[l][h] = false;
        let images = normal_tensor([3, 1, 28, 28], 0.0, 1.0, 9, &device);
        let run = |t: &NamedTensors| {
            let model = build_vit(&shape, t, &device, Path::new("<t>")).unwrap();
            let (logits, traces) = model.forward_traced(images.clone(), true);
            let outputs: Vec<HostTensor> = traces.into_iter().map(|t| HostTensor::from_tensor(t.head_output)).collect();
            (HostTensor::from_tensor(logits), outputs)
        };
        let (dense_logits, dense) = run(&tensors);
        let (masked_logits, masked) = run(&mask_heads(&shape, &tensors, &heads));
        assert_eq!(dense[0], masked[0], "the block before the masked head is untouched");
        // head_output is [B, H, T, d_h]: split each image's slab into its heads.
        let [b, heads_l, t, dh] = [3, 4, shape.tokens(), shape.blocks[l].head_dim];
        for image in 0..b {
            for head in 0..heads_l {
                let at = |x: &HostTensor| x.data[(image * heads_l + head) * t * dh..][..t * dh].to_vec();
                if head == h {
                    assert!(at(&masked[l]).iter().all(|&v| v == 0.0), "the masked head writes nothing");
                    assert!(at(&dense[l]).iter().any(|&v| v != 0.0));
                } else {
                    assert_eq!(at(&masked[l]), at(&dense[l]), "image {image} head {head} changed");
                }
            }
        }
        assert_ne!(dense_logits, masked_logits, "the masked head mattered to the output");
        let masked_tensors = mask_heads(&shape, &tensors, &heads);
        let mut changed: Vec<&str> =
            tensors.keys().filter(|k| tensors[*k] != masked_tensors[*k]).map(String::as_str).collect();
        changed.sort();
        // init_tensors' biases are zero, so the qkv bias has nothing to zero.
        assert_eq!(changed, ["blocks.1.attn.proj.weight", "blocks.1.attn.qkv.weight"]);
    }

    #[test]
    fn kept_and_streamed_held_out_images_score_alike() {
        use crate::data::dataset::Subset;
        use crate::data::mnist5k::load_mnist5k;
        use crate::data::recipe::eval_transform;
        use std::sync::Arc;
        let splits = load_mnist5k().unwrap();
        let test: Arc<dyn crate::data::dataset::Dataset> = Arc::new(Subset::limited(splits.test.clone(), 96));
        let loader = Loader::new(test.clone(), eval_transform(test.info(), 28), 32, false, 0);
        let device = Device::flex();
        let kept = HeldOut::load(&loader, &device).unwrap();
        assert!(kept.kept.is_some(), "96 MNIST images fit");
        let streamed = HeldOut { kept: None, ..HeldOut::load(&loader, &device).unwrap() };
        let shape = VitShape::uniform(28, 7, 1, 10, 16, 2, 4, 2.0);
        let tensors = init_tensors(&shape, 5);
        let mut heads = all_heads(&shape);
        heads[0][1] = false;
        let a = score_with_heads(&shape, &tensors, &heads, &kept).unwrap();
        assert_eq!(a, score_with_heads(&shape, &tensors, &heads, &streamed).unwrap());
        assert_eq!(kept.images(), 96);
        assert!(a.loss > 0.0 && (0.0..=100.0).contains(&a.top1));
    }

    #[test]
    fn lowest_first_orders_every_head_by_score() {
        assert_eq!(lowest_first(&[vec![0.5, 0.1], vec![0.3]]), vec![(0, 1), (1, 0), (0, 0)]);
    }
}
