//! Which heads and MLP neurons of each block are kept: the structure mask, applied by zeroing or read as a shape.

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
}

impl StructureMask {
    /// Everything kept.
    pub fn full(shape: &VitShape) -> Self {
        Self {
            heads: shape.blocks.iter().map(|b| vec![true; b.heads]).collect(),
            neurons: shape.blocks.iter().map(|b| vec![true; b.mlp]).collect(),
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
            .map(|(b, (h, n))| BlockShape { heads: count(h), head_dim: b.head_dim, mlp: count(n) })
            .collect();
        pruned
    }

    /// Zero the removed groups in timm-layout tensors (the "masked dense" model).
    pub fn zero_removed(&self, shape: &VitShape, tensors: &mut NamedTensors) {
        for (l, block) in shape.blocks.iter().enumerate() {
            let dh = block.head_dim;
            let a = block.attn_dim();
            for h in (0..block.heads).filter(|&h| !self.heads[l][h]) {
                let rows: Vec<usize> = (0..3).flat_map(|s| (0..dh).map(move |j| s * a + h * dh + j)).collect();
                zero_rows(tensors.get_mut(&format!("blocks.{l}.attn.qkv.weight")).expect("qkv"), &rows);
                zero_rows(tensors.get_mut(&format!("blocks.{l}.attn.qkv.bias")).expect("qkv bias"), &rows);
                let cols: Vec<usize> = (h * dh..(h + 1) * dh).collect();
                zero_cols(tensors.get_mut(&format!("blocks.{l}.attn.proj.weight")).expect("proj"), &cols);
            }
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
