//! The calibration pass of the ranking: per-head signals of the dense model, the similarity of heads in adjacent
//! blocks, and each head's write into the class token and the residual stream.

use super::rank_spec::{Signal, Similarity};
use crate::data::loader::Loader;
use crate::error::{GohspError, Result};
use crate::model::vit::Vit;
use crate::train::batch::batch_tensors;
use burn::tensor::Tensor;

/// sims[l][i][j]: mean over calibration images of the similarity of head i of block l and head j of block l+1.
pub(crate) type AdjacentSimilarities = Vec<Vec<Vec<f64>>>;

/// What the calibration pass measures, every value a mean over the calibration images.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Calibration {
    /// Similarities of heads in adjacent blocks.
    pub sims: AdjacentSimilarities,
    /// class_token[l][h]: the norm of head h's write into the class token, o_h[cls] W_proj,h (L x H_l).
    pub class_token: Vec<Vec<f64>>,
    /// residual[l][h]: the norm of head h's write into the residual stream, averaged over tokens (L x H_l).
    pub residual: Vec<Vec<f64>>,
    /// reads[l][h]: the norm of head h's output A V, what it gathers from block l's input, averaged over tokens
    /// (L x H_l); block 0's input is the patch embedding.
    pub reads: Vec<Vec<f64>>,
}

/// Per-head sums over a batch, added up over batches and divided by the image count at the end.
#[derive(Default)]
struct Totals {
    sims: Option<AdjacentSimilarities>,
    class_token: Vec<Vec<f64>>,
    residual: Vec<Vec<f64>>,
    reads: Vec<Vec<f64>>,
}

/// Run `model` (plain device) on the first `samples` images of `loader`: adjacent-block head similarities and each
/// head's contribution. No image is an error.
pub(crate) fn calibrate(
    model: &Vit,
    loader: &Loader,
    samples: usize,
    signal: Signal,
    similarity: Similarity,
) -> Result<Calibration> {
    let device = model.device();
    let mut totals = Totals::default();
    let mut seen = 0;
    for batch in loader.first_samples(samples) {
        let (batch, take) = batch?;
        let (images, _, _) = batch_tensors(batch, &device);
        let (_, traces) = model.forward_traced(images.narrow(0, 0, take), true);
        let mut signals = Vec::with_capacity(traces.len());
        let mut writes = Vec::with_capacity(traces.len());
        let mut reads = Vec::with_capacity(traces.len());
        for (trace, block) in traces.into_iter().zip(&model.blocks) {
            writes.push(head_writes(trace.head_output.clone(), block.attn.proj.weight.val()));
            reads.push(head_reads(trace.head_output.clone()));
            signals.push(head_signal(trace.attention, trace.head_output, signal, similarity));
        }
        let batch_sums = adjacent_sums(&signals);
        totals.sims = Some(match totals.sims.take() {
            None => batch_sums,
            Some(acc) => add(acc, batch_sums),
        });
        let (class_token, residual): (Vec<_>, Vec<_>) = writes.into_iter().unzip();
        totals.class_token = add_rows(std::mem::take(&mut totals.class_token), class_token);
        totals.residual = add_rows(std::mem::take(&mut totals.residual), residual);
        totals.reads = add_rows(std::mem::take(&mut totals.reads), reads);
        seen += take;
    }
    let sims =
        totals.sims.ok_or_else(|| GohspError::stage("rank", "no calibration image: the training set is empty"))?;
    let mean = |rows: Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        rows.into_iter().map(|row| row.into_iter().map(|v| v / seen as f64).collect()).collect()
    };
    Ok(Calibration {
        sims: sims.into_iter().map(mean).collect(),
        class_token: mean(totals.class_token),
        residual: mean(totals.residual),
        reads: mean(totals.reads),
    })
}

/// Per head, summed over the batch: the norm of its write o_h W_proj,h into the class token, and the same norm
/// averaged over tokens. `head_output` is [B, H, T, d_h], `proj` burn's [H * d_h, D].
fn head_writes(head_output: Tensor<4>, proj: Tensor<2>) -> (Vec<f64>, Vec<f64>) {
    let [b, h, t, dh] = head_output.dims();
    let d = proj.dims()[1];
    let writes = head_output.swap_dims(0, 1).reshape([h, b * t, dh]).matmul(proj.reshape([h, dh, d]));
    let norms = writes.square().sum_dim(2).sqrt().reshape([h, b, t]);
    let class_token = norms.clone().narrow(2, 0, 1).sum_dim(1).reshape([h]);
    let residual = norms.mean_dim(2).sum_dim(1).reshape([h]);
    let host = |x: Tensor<1>| x.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32");
    let to_f64 = |v: Vec<f32>| v.into_iter().map(f64::from).collect();
    (to_f64(host(class_token)), to_f64(host(residual)))
}

/// Per head, summed over the batch: the norm of its output o_h = A V averaged over tokens. `head_output` is
/// [B, H, T, d_h].
fn head_reads(head_output: Tensor<4>) -> Vec<f64> {
    let [_, h, _, _] = head_output.dims();
    let norms = head_output.square().sum_dim(3).sqrt().mean_dim(2).sum_dim(0).reshape([h]);
    norms.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32").into_iter().map(f64::from).collect()
}

/// Row-wise sums; an empty `acc` takes `rows` as they are.
fn add_rows(acc: Vec<Vec<f64>>, rows: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    if acc.is_empty() {
        return rows;
    }
    acc.into_iter().zip(rows).map(|(a, r)| a.into_iter().zip(r).map(|(x, y)| x + y).collect()).collect()
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

    #[test]
    fn head_writes_are_norms_of_each_heads_projected_output() {
        let device = Device::flex();
        // 1 image, 2 heads of size 1, 2 tokens, D = 2. Head 0 outputs [2, 1] over the tokens, head 1 [1, 3].
        let output = tensor4(vec![2.0, 1.0, 1.0, 3.0], [1, 2, 2, 1]);
        // burn's proj [in = 2, out = 2]: head 0 writes (3, 4) per unit, head 1 writes (0, 1).
        let proj = Tensor::<2>::from_data(TensorData::new(vec![3.0f32, 4.0, 0.0, 1.0], vec![2, 2]), &device);
        let (class_token, residual) = head_writes(output, proj);
        assert_eq!(class_token, vec![10.0, 1.0]);
        assert_eq!(residual, vec![7.5, 2.0]);
        // Head 0's output norms over its 2 tokens are 2 and 1, head 1's are 1 and 3: means 1.5 and 2.
        assert_eq!(head_reads(tensor4(vec![2.0, 1.0, 1.0, 3.0], [1, 2, 2, 1])), vec![1.5, 2.0]);
        assert_eq!(add_rows(vec![], vec![vec![1.0]]), vec![vec![1.0]]);
        assert_eq!(add_rows(vec![vec![1.0, 2.0]], vec![vec![0.5, 0.5]]), vec![vec![1.5, 2.5]]);
    }
}
