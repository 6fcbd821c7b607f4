//! Moving a host batch onto a device as tensors, and counting correct predictions.

use crate::data::loader::Batch;
use burn::tensor::{Device, Int, Tensor, TensorData};

/// The batch's images [B, C, H, W] and labels [B] on `device`; the pixels move without a copy, the host labels are
/// handed back for counting.
pub fn batch_tensors(batch: Batch, device: &Device) -> (Tensor<4>, Tensor<1, Int>, Vec<i64>) {
    let images = Tensor::from_data(TensorData::new(batch.images, batch.shape.to_vec()), device);
    let labels = Tensor::from_data(TensorData::new(batch.labels.clone(), [batch.labels.len()]), device);
    (images, labels, batch.labels)
}

/// How many rows of `logits` have their arg-max at the label, and how many have the label in their top `k`.
pub fn count_correct(logits: Tensor<2>, labels: &[i64], k: usize) -> (usize, usize) {
    let [rows, classes] = logits.dims();
    let values = logits.into_data().convert::<f32>().try_to_vec::<f32>().expect("f32 logits");
    let mut top1 = 0;
    let mut topk = 0;
    for (row, &label) in values.chunks(classes).zip(labels).take(rows) {
        let target = row[label as usize];
        let better = row.iter().filter(|&&v| v > target).count();
        top1 += (better == 0) as usize;
        topk += (better < k) as usize;
    }
    (top1, topk)
}
