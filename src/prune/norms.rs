//! Reductions over structured groups read from timm-layout tensors: L2 norms (magnitude, ADMM's projection) and sums of magnitudes (Taylor).

use crate::model::host::NamedTensors;
use crate::model::shape::VitShape;

/// Rows `rows` of block l's qkv weight, each followed by its bias.
fn qkv_rows_with_bias(tensors: &NamedTensors, l: usize, d: usize, rows: &[usize]) -> Vec<f32> {
    let qkv = &tensors[&format!("blocks.{l}.attn.qkv.weight")].data;
    let qkv_bias = &tensors[&format!("blocks.{l}.attn.qkv.bias")].data;
    let mut out = Vec::with_capacity(rows.len() * (d + 1));
    for &row in rows {
        out.extend_from_slice(&qkv[row * d..(row + 1) * d]);
        out.push(qkv_bias[row]);
    }
    out
}

/// The values of head h of block l: its q, k, v rows (weights and biases) and its proj columns.
pub fn head_values(shape: &VitShape, tensors: &NamedTensors, l: usize, h: usize) -> Vec<f32> {
    let b = shape.blocks[l];
    let (dh, a, d) = (b.head_dim, b.attn_dim(), shape.dim);
    let proj = &tensors[&format!("blocks.{l}.attn.proj.weight")].data;
    let mut out = qkv_rows_with_bias(tensors, l, d, &b.head_rows(h));
    for r in 0..d {
        out.extend_from_slice(&proj[r * a + h * dh..r * a + (h + 1) * dh]);
    }
    out
}

/// The values of q/k pair j of head h of block l: its query row and its key row, with their biases.
pub fn qk_pair_values(shape: &VitShape, tensors: &NamedTensors, l: usize, h: usize, j: usize) -> Vec<f32> {
    let b = shape.blocks[l];
    qkv_rows_with_bias(tensors, l, shape.dim, &[b.q_row(h, j), b.k_row(h, j)])
}

/// L2 norm of every q/k pair of block l: [head][dim].
pub fn qk_pair_norms(shape: &VitShape, tensors: &NamedTensors, l: usize) -> Vec<Vec<f64>> {
    let b = shape.blocks[l];
    (0..b.heads).map(|h| (0..b.qk_dim).map(|j| l2(&qk_pair_values(shape, tensors, l, h, j))).collect()).collect()
}

/// The values of MLP neuron j of block l: fc1's row j, its bias, and fc2's column j.
pub fn neuron_values(shape: &VitShape, tensors: &NamedTensors, l: usize, j: usize) -> Vec<f32> {
    let (d, m) = (shape.dim, shape.blocks[l].mlp);
    let fc1 = &tensors[&format!("blocks.{l}.mlp.fc1.weight")].data;
    let fc2 = &tensors[&format!("blocks.{l}.mlp.fc2.weight")].data;
    let mut out = fc1[j * d..(j + 1) * d].to_vec();
    out.push(tensors[&format!("blocks.{l}.mlp.fc1.bias")].data[j]);
    out.extend((0..d).map(|r| fc2[r * m + j]));
    out
}

fn per_head(shape: &VitShape, tensors: &NamedTensors, reduce: fn(&[f32]) -> f64) -> Vec<Vec<f64>> {
    (0..shape.blocks.len())
        .map(|l| (0..shape.blocks[l].heads).map(|h| reduce(&head_values(shape, tensors, l, h))).collect())
        .collect()
}

fn per_neuron(shape: &VitShape, tensors: &NamedTensors, reduce: fn(&[f32]) -> f64) -> Vec<Vec<f64>> {
    (0..shape.blocks.len())
        .map(|l| (0..shape.blocks[l].mlp).map(|j| reduce(&neuron_values(shape, tensors, l, j))).collect())
        .collect()
}

/// Euclidean norm of `values`, with the squares summed in f64 in iteration order (the order fixes the last bits).
pub fn l2<'a>(values: impl IntoIterator<Item = &'a f32>) -> f64 {
    values.into_iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt()
}

fn abs_sum(values: &[f32]) -> f64 {
    values.iter().map(|v| (*v as f64).abs()).sum()
}

/// L2 norm of every head group, per block.
pub fn head_norms(shape: &VitShape, tensors: &NamedTensors) -> Vec<Vec<f64>> {
    per_head(shape, tensors, |values| l2(values))
}

/// L2 norm of every neuron group, per block.
pub fn neuron_norms(shape: &VitShape, tensors: &NamedTensors) -> Vec<Vec<f64>> {
    per_neuron(shape, tensors, |values| l2(values))
}

/// Sum of |value| over every head group (Taylor scores when the tensors hold g * w).
pub fn head_abs_sums(shape: &VitShape, tensors: &NamedTensors) -> Vec<Vec<f64>> {
    per_head(shape, tensors, abs_sum)
}

/// Sum of |value| over every neuron group.
pub fn neuron_abs_sums(shape: &VitShape, tensors: &NamedTensors) -> Vec<Vec<f64>> {
    per_neuron(shape, tensors, abs_sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::host::HostTensor;
    use crate::prune::groups::{head_params, neuron_params, qk_pair_params};

    #[test]
    fn group_values_have_the_group_param_counts_and_find_the_right_entries() {
        let shape = VitShape::uniform(28, 7, 1, 10, 8, 1, 2, 2.0);
        let mut tensors = crate::model::init::init_tensors(&shape, 1);
        assert_eq!(head_values(&shape, &tensors, 0, 1).len() as u64, head_params(8, &shape.blocks[0]));
        assert_eq!(qk_pair_values(&shape, &tensors, 0, 1, 2).len() as u64, qk_pair_params(8));
        assert_eq!(neuron_values(&shape, &tensors, 0, 3).len() as u64, neuron_params(8));
        // Mark head 1's first q row (row 4 of qkv) and neuron 3's fc2 column; only those groups see them.
        tensors.get_mut("blocks.0.attn.qkv.weight").unwrap().data[4 * 8] = 100.0;
        let fc2: &mut HostTensor = tensors.get_mut("blocks.0.mlp.fc2.weight").unwrap();
        fc2.data[2 * 16 + 3] = 50.0;
        let heads = head_norms(&shape, &tensors);
        assert!(heads[0][1] >= 100.0 && heads[0][0] < 1.0);
        // Row 4 is query dimension 0 of head 1; key row 8 + 4 + 3 is key dimension 3 of head 1.
        tensors.get_mut("blocks.0.attn.qkv.weight").unwrap().data[15 * 8] = 70.0;
        let pairs = qk_pair_norms(&shape, &tensors, 0);
        assert!(pairs[1][0] >= 100.0 && pairs[1][3] >= 70.0 && pairs[1][3] < 100.0);
        assert!(pairs[0].iter().chain(&pairs[1][1..3]).all(|&n| n < 1.0), "{pairs:?}");
        let neurons = neuron_norms(&shape, &tensors);
        assert!(neurons[0][3] >= 50.0 && neurons[0].iter().enumerate().all(|(j, &n)| j == 3 || n < 1.0));
    }

    #[test]
    fn abs_sums_add_magnitudes_so_opposite_signs_do_not_cancel() {
        let shape = VitShape::uniform(28, 7, 1, 10, 8, 1, 2, 2.0);
        let mut tensors = crate::model::init::init_tensors(&shape, 1);
        tensors.values_mut().for_each(|t| t.data.iter_mut().for_each(|v| *v = 0.0));
        // Head 0: +0.5 in a q row and -0.5 in its proj column (the signed sum is 0); neuron 2: -1 and -2.
        tensors.get_mut("blocks.0.attn.qkv.weight").unwrap().data[0] = 0.5;
        tensors.get_mut("blocks.0.attn.proj.weight").unwrap().data[0] = -0.5;
        tensors.get_mut("blocks.0.mlp.fc1.bias").unwrap().data[2] = -1.0;
        tensors.get_mut("blocks.0.mlp.fc2.weight").unwrap().data[16 + 2] = -2.0;
        assert_eq!(head_abs_sums(&shape, &tensors), vec![vec![1.0, 0.0]]);
        let neurons = neuron_abs_sums(&shape, &tensors);
        assert_eq!(neurons[0][2], 3.0);
        assert!(neurons[0].iter().enumerate().all(|(j, &n)| j == 2 || n == 0.0));
    }
}
