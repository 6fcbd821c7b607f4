//! The calibration pass of the ranking: per-head signals of the dense model and the similarity of heads in adjacent blocks.

use crate::data::loader::Loader;
use crate::error::{GohspError, Result};
use crate::model::vit::Vit;
use crate::spec::types::{Signal, Similarity};
use crate::train::batch::batch_tensors;
use burn::tensor::Tensor;

/// sims[l][i][j]: mean over calibration images of the similarity of head i of block l and head j of block l+1.
pub type AdjacentSimilarities = Vec<Vec<Vec<f64>>>;

/// Run `model` (plain device) on the first `samples` images of `loader` and average adjacent-block head similarities.
pub fn head_similarities(
    model: &Vit,
    loader: &Loader,
    samples: usize,
    signal: Signal,
    similarity: Similarity,
) -> Result<AdjacentSimilarities> {
    let device = model.device();
    let mut totals: Option<AdjacentSimilarities> = None;
    let mut seen = 0;
    for batch in loader.epoch(0) {
        if seen >= samples {
            break;
        }
        let batch = batch?;
        let take = (samples - seen).min(batch.labels.len());
        let (images, _, _) = batch_tensors(batch, &device);
        let (_, traces) = model.forward_traced(images.narrow(0, 0, take), true);
        let signals: Vec<Tensor<3>> =
            traces.into_iter().map(|t| head_signal(t.attention, t.head_output, signal, similarity)).collect();
        let batch_sums = adjacent_sums(&signals);
        totals = Some(match totals {
            None => batch_sums,
            Some(acc) => add(acc, batch_sums),
        });
        seen += take;
    }
    let totals = totals.ok_or_else(|| GohspError::stage("rank", "no calibration image: the training set is empty"))?;
    Ok(totals
        .into_iter()
        .map(|m| m.into_iter().map(|row| row.into_iter().map(|v| v / seen as f64).collect()).collect())
        .collect())
}

/// Each head's signal as a unit vector [B, H, F] (centred first for Pearson correlation).
fn head_signal(attention: Tensor<4>, head_output: Tensor<4>, signal: Signal, similarity: Similarity) -> Tensor<3> {
    let raw = match signal {
        Signal::Attention => attention,
        Signal::Output => head_output,
    };
    let [b, h, t, f] = raw.dims();
    let mut flat = raw.reshape([b, h, t * f]);
    if similarity == Similarity::Pearson {
        let mean = flat.clone().mean_dim(2);
        flat = flat - mean;
    }
    let norm = flat.clone().square().sum_dim(2).sqrt().clamp_min(1e-12);
    flat / norm
}

/// For each adjacent pair of blocks, the per-image cosine matrices summed over the batch.
fn adjacent_sums(signals: &[Tensor<3>]) -> AdjacentSimilarities {
    signals
        .windows(2)
        .map(|pair| {
            let [_, h_next, _] = pair[1].dims();
            let sims = pair[0].clone().matmul(pair[1].clone().swap_dims(1, 2)).sum_dim(0);
            let values = sims.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32");
            values.chunks(h_next).map(|row| row.iter().map(|&v| v as f64).collect()).collect()
        })
        .collect()
}

fn add(a: AdjacentSimilarities, b: AdjacentSimilarities) -> AdjacentSimilarities {
    a.into_iter()
        .zip(b)
        .map(|(ma, mb)| {
            ma.into_iter().zip(mb).map(|(ra, rb)| ra.into_iter().zip(rb).map(|(x, y)| x + y).collect()).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn tensor4(data: Vec<f32>, shape: [usize; 4]) -> Tensor<4> {
        Tensor::from_data(TensorData::new(data, shape.to_vec()), &Device::flex())
    }

    fn host(t: Tensor<3>) -> Vec<f32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn signals_are_unit_vectors_and_pearson_centres_them() {
        // One image, 2 heads, 1 token, 2 features: head 0 = [3, 4], head 1 = [1, 1].
        let output = tensor4(vec![3.0, 4.0, 1.0, 1.0], [1, 2, 1, 2]);
        let attention = tensor4(vec![0.0; 2], [1, 2, 1, 1]);
        let cosine = host(head_signal(attention.clone(), output.clone(), Signal::Output, Similarity::Cosine));
        let want = [0.6, 0.8, 0.5f32.sqrt(), 0.5f32.sqrt()];
        assert!(cosine.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{cosine:?}");
        // Centred, [3, 4] becomes [-0.5, 0.5] and [1, 1] becomes zero (kept at zero, not NaN).
        let pearson = host(head_signal(attention, output, Signal::Output, Similarity::Pearson));
        let want = [-(0.5f32.sqrt()), 0.5f32.sqrt(), 0.0, 0.0];
        assert!(pearson.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6), "{pearson:?}");
    }

    #[test]
    fn adjacent_sums_add_the_per_image_cosines_of_adjacent_blocks() {
        let device = Device::flex();
        let unit =
            |data: Vec<f32>, heads: usize| Tensor::<3>::from_data(TensorData::new(data, vec![2, heads, 2]), &device);
        // Block 0: 1 head, [1, 0] on both images; block 1: 2 heads, [1, 0] and [0, 1] on image 0, swapped on image 1.
        let block0 = unit(vec![1.0, 0.0, 1.0, 0.0], 1);
        let block1 = unit(vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0], 2);
        let sums = adjacent_sums(&[block0, block1]);
        assert_eq!(sums, vec![vec![vec![1.0, 1.0]]]);
        assert_eq!(add(sums.clone(), sums), vec![vec![vec![2.0, 2.0]]]);
    }
}
