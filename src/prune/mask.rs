//! Which heads, MLP neurons and q/k dimension pairs of each block are kept: the structure mask, applied by zeroing or
//! read as a shape.

use crate::model::host::{HostTensor, NamedTensors};
use crate::model::shape::{BlockShape, VitShape};
use serde::{Deserialize, Serialize};

/// Kept (true) heads and neurons per block of a dense model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StructureMask {
    /// heads[l][h]: head h of block l is kept.
    pub heads: Vec<Vec<bool>>,
    /// neurons[l][j]: MLP neuron j of block l is kept.
    pub neurons: Vec<Vec<bool>>,
    /// qk_pairs[l][h][j]: query and key dimension j of head h of block l are kept (`admm.head_dims`); every kept head
    /// of a block keeps the same number of pairs. Absent: every pair of every kept head is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qk_pairs: Option<Vec<Vec<Vec<bool>>>>,
}

impl StructureMask {
    /// Everything kept.
    pub fn full(shape: &VitShape) -> Self {
        Self {
            heads: shape.blocks.iter().map(|b| vec![true; b.heads]).collect(),
            neurons: shape.blocks.iter().map(|b| vec![true; b.mlp]).collect(),
            qk_pairs: None,
        }
    }

    /// Indices of the kept q/k dimensions of head `h` of block `l` (all `qk_dim` of them without a pair mask).
    pub fn kept_qk(&self, l: usize, h: usize, qk_dim: usize) -> Vec<usize> {
        match &self.qk_pairs {
            Some(pairs) => kept_indices(&pairs[l][h]),
            None => (0..qk_dim).collect(),
        }
    }

    /// Per block, per kept head: the indices of its kept q/k dimensions; None without a pair mask.
    pub fn kept_qk_dims(&self, shape: &VitShape) -> Option<Vec<Vec<Vec<usize>>>> {
        self.qk_pairs.as_ref()?;
        let block = |(l, heads): (usize, Vec<usize>)| {
            heads.into_iter().map(|h| self.kept_qk(l, h, shape.blocks[l].qk_dim)).collect()
        };
        Some(self.kept_heads().into_iter().enumerate().map(block).collect())
    }

    /// The q/k dimensions each kept head of block `l` keeps (the block's qk_dim without a pair mask or kept head).
    ///
    /// Panics when the kept heads of the block keep different numbers: a sliced block is one batched attention, and
    /// every mask gohsp makes keeps equal counts (see `keep_top_pairs`).
    fn kept_qk_dim(&self, shape: &VitShape, l: usize) -> usize {
        let Some(pairs) = &self.qk_pairs else { return shape.blocks[l].qk_dim };
        let mut counts: Vec<usize> = kept_indices(&self.heads[l]).iter().map(|&h| count(&pairs[l][h])).collect();
        counts.dedup();
        match counts.as_slice() {
            [] => shape.blocks[l].qk_dim,
            [one] => *one,
            _ => panic!("block {l}: kept heads keep unequal q/k pair counts {counts:?}; a block needs one q/k size"),
        }
    }

    /// Indices of the kept heads of each block.
    pub fn kept_heads(&self) -> Vec<Vec<usize>> {
        self.heads.iter().map(|row| kept_indices(row)).collect()
    }

    /// Indices of the kept neurons of each block.
    pub fn kept_neurons(&self) -> Vec<Vec<usize>> {
        self.neurons.iter().map(|row| kept_indices(row)).collect()
    }

    /// The shape of the model after slicing `shape` with this mask.
    pub fn pruned_shape(&self, shape: &VitShape) -> VitShape {
        let mut pruned = shape.clone();
        pruned.blocks = shape
            .blocks
            .iter()
            .zip(self.heads.iter().zip(&self.neurons))
            .enumerate()
            .map(|(l, (b, (h, n)))| BlockShape {
                heads: count(h),
                head_dim: b.head_dim,
                qk_dim: self.kept_qk_dim(shape, l),
                mlp: count(n),
            })
            .collect();
        pruned
    }

    /// The query and key rows of block `l`'s removed q/k pairs (inside kept heads; removed heads go whole).
    fn removed_pair_rows(&self, block: &BlockShape, l: usize) -> Vec<usize> {
        let Some(pairs) = &self.qk_pairs else { return vec![] };
        let kept_heads = (0..block.heads).filter(|&h| self.heads[l][h]);
        let removed = kept_heads.flat_map(|h| (0..block.qk_dim).filter(move |&j| !pairs[l][h][j]).map(move |j| (h, j)));
        removed.flat_map(|(h, j)| [block.q_row(h, j), block.k_row(h, j)]).collect()
    }

    /// Zero the removed groups in timm-layout tensors (the "masked dense" model).
    pub fn zero_removed(&self, shape: &VitShape, tensors: &mut NamedTensors) {
        for (l, block) in shape.blocks.iter().enumerate() {
            let dh = block.head_dim;
            for h in (0..block.heads).filter(|&h| !self.heads[l][h]) {
                let rows = block.head_rows(h);
                zero_rows(tensors.get_mut(&format!("blocks.{l}.attn.qkv.weight")).expect("qkv"), &rows);
                zero_rows(tensors.get_mut(&format!("blocks.{l}.attn.qkv.bias")).expect("qkv bias"), &rows);
                let cols: Vec<usize> = (h * dh..(h + 1) * dh).collect();
                zero_cols(tensors.get_mut(&format!("blocks.{l}.attn.proj.weight")).expect("proj"), &cols);
            }
            let pair_rows = self.removed_pair_rows(block, l);
            zero_rows(tensors.get_mut(&format!("blocks.{l}.attn.qkv.weight")).expect("qkv"), &pair_rows);
            zero_rows(tensors.get_mut(&format!("blocks.{l}.attn.qkv.bias")).expect("qkv bias"), &pair_rows);
            let removed: Vec<usize> = (0..block.mlp).filter(|&j| !self.neurons[l][j]).collect();
            zero_rows(tensors.get_mut(&format!("blocks.{l}.mlp.fc1.weight")).expect("fc1"), &removed);
            zero_rows(tensors.get_mut(&format!("blocks.{l}.mlp.fc1.bias")).expect("fc1 bias"), &removed);
            zero_cols(tensors.get_mut(&format!("blocks.{l}.mlp.fc2.weight")).expect("fc2"), &removed);
        }
    }
}

fn kept_indices(row: &[bool]) -> Vec<usize> {
    row.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect()
}

fn count(row: &[bool]) -> usize {
    row.iter().filter(|k| **k).count()
}

fn zero_rows(t: &mut HostTensor, rows: &[usize]) {
    let width: usize = t.shape[1..].iter().product();
    for &r in rows {
        t.data[r * width..(r + 1) * width].fill(0.0);
    }
}

fn zero_cols(t: &mut HostTensor, cols: &[usize]) {
    let width = t.shape[1];
    for row in t.data.chunks_mut(width) {
        for &c in cols {
            row[c] = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair_mask(counts: &[usize]) -> StructureMask {
        let shape = VitShape::uniform(28, 7, 1, 10, 12, 1, 3, 2.0);
        let mut mask = StructureMask::full(&shape);
        mask.qk_pairs = Some(vec![counts.iter().map(|&c| (0..4).map(|j| j < c).collect()).collect()]);
        mask
    }

    #[test]
    fn the_pruned_shape_reads_the_q_k_size_of_the_kept_heads() {
        let shape = VitShape::uniform(28, 7, 1, 10, 12, 1, 3, 2.0);
        let mut mask = pair_mask(&[2, 1, 2]);
        mask.heads[0][1] = false;
        assert_eq!(mask.pruned_shape(&shape).blocks[0], BlockShape { heads: 2, head_dim: 4, qk_dim: 2, mlp: 24 });
        assert_eq!(mask.kept_qk_dims(&shape), Some(vec![vec![vec![0, 1], vec![0, 1]]]));
    }

    #[test]
    #[should_panic(expected = "unequal q/k pair counts")]
    fn kept_heads_with_unequal_pair_counts_are_refused() {
        pair_mask(&[3, 1, 2]).pruned_shape(&VitShape::uniform(28, 7, 1, 10, 12, 1, 3, 2.0));
    }
}
