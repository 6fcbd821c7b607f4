//! Structured groups (docs/design.md section 3): a head or an MLP neuron of one block, or a q/k dimension pair inside a
//! head (`admm.head_dims`), and the parameters each one owns.

use crate::model::shape::{BlockShape, VitShape};
use serde::{Deserialize, Serialize};

/// What kind of structure a group is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// An attention head: its rows of W_q, W_k, W_v (and biases) and its columns of W_proj.
    Head,
    /// An MLP neuron: its row of fc1 (and bias) and its column of fc2.
    Neuron,
    /// A q/k dimension pair inside a head: one query row and one key row of qkv (and their biases). Nested inside a
    /// head group, so it is not part of [`all_groups`].
    QkPair,
}

/// One prunable group: the `index`-th head or neuron of block `block`; for a q/k pair, index = head * qk_dim + dim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StructuredGroup {
    /// Head or neuron.
    pub kind: GroupKind,
    /// Block index, from 0.
    pub block: usize,
    /// Head or neuron index inside the block, from 0.
    pub index: usize,
}

/// Parameters of one head of `block` in a model of width `dim`: its q and k rows (qk_dim each), its v rows and its
/// proj columns (head_dim each), with the q, k, v biases: 4*D*d_h + 3*d_h when qk_dim = head_dim.
pub fn head_params(dim: usize, block: &BlockShape) -> u64 {
    let (d, qk, v) = (dim as u64, block.qk_dim as u64, block.head_dim as u64);
    2 * qk * (d + 1) + v * (2 * d + 1)
}

/// Parameters of one q/k dimension pair in a model of width `dim`: a query row and a key row with their biases, 2*D + 2.
pub fn qk_pair_params(dim: usize) -> u64 {
    2 * dim as u64 + 2
}

/// Parameters of one MLP neuron in a model of width `dim`: 2*D + 1.
pub fn neuron_params(dim: usize) -> u64 {
    2 * dim as u64 + 1
}

impl StructuredGroup {
    /// Parameters this group owns in `shape` (removing it removes exactly these).
    pub fn params(&self, shape: &VitShape) -> u64 {
        match self.kind {
            GroupKind::Head => head_params(shape.dim, &shape.blocks[self.block]),
            GroupKind::Neuron => neuron_params(shape.dim),
            GroupKind::QkPair => qk_pair_params(shape.dim),
        }
    }
}

/// Head count of every block.
pub fn heads_per_block(shape: &VitShape) -> Vec<usize> {
    shape.blocks.iter().map(|b| b.heads).collect()
}

/// MLP width of every block.
pub fn neurons_per_block(shape: &VitShape) -> Vec<usize> {
    shape.blocks.iter().map(|b| b.mlp).collect()
}

/// Every group of `kind` in `shape`, ordered by (block, index).
pub fn groups_of_kind(shape: &VitShape, kind: GroupKind) -> Vec<StructuredGroup> {
    let counts = match kind {
        GroupKind::Head => heads_per_block(shape),
        GroupKind::Neuron => neurons_per_block(shape),
        GroupKind::QkPair => shape.blocks.iter().map(BlockShape::qk_width).collect(),
    };
    let per_block = counts.into_iter().enumerate();
    per_block.flat_map(|(block, n)| (0..n).map(move |index| StructuredGroup { kind, block, index })).collect()
}

/// Every group of `shape`: all heads first, then all neurons, each ordered by (block, index).
pub fn all_groups(shape: &VitShape) -> Vec<StructuredGroup> {
    let mut groups = groups_of_kind(shape, GroupKind::Head);
    groups.extend(groups_of_kind(shape, GroupKind::Neuron));
    groups
}

/// Parameters owned by all heads of `shape` (the attention's prunable part; proj's bias is not in it).
pub fn attention_prunable_params(shape: &VitShape) -> u64 {
    let per_block = shape.blocks.iter().map(|b| b.heads as u64 * head_params(shape.dim, b));
    per_block.sum()
}

/// Parameters owned by all MLP neurons of `shape` (the MLP's prunable part; fc2's bias is not in it).
pub fn mlp_prunable_params(shape: &VitShape) -> u64 {
    shape.blocks.iter().map(|b| b.mlp as u64).sum::<u64>() * neuron_params(shape.dim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::cost::param_count;
    use crate::model::shape::BlockShape;

    fn deit_tiny() -> VitShape {
        VitShape::uniform(224, 16, 3, 1000, 192, 12, 3, 4.0)
    }

    #[test]
    fn group_sizes_follow_the_definitions() {
        assert_eq!(head_params(192, &BlockShape::new(3, 64, 768)), 4 * 192 * 64 + 3 * 64);
        let narrow = BlockShape { qk_dim: 60, ..BlockShape::new(3, 64, 768) };
        assert_eq!(head_params(192, &narrow), 4 * 192 * 64 + 3 * 64 - 4 * qk_pair_params(192));
        assert_eq!(neuron_params(192), 385);
        let group = StructuredGroup { kind: GroupKind::Head, block: 3, index: 1 };
        assert_eq!(group.params(&deit_tiny()), 49_344);
    }

    #[test]
    fn enumeration_covers_every_group_in_order() {
        let shape = deit_tiny();
        let groups = all_groups(&shape);
        assert_eq!(groups.len(), 12 * 3 + 12 * 768);
        assert_eq!(groups[0], StructuredGroup { kind: GroupKind::Head, block: 0, index: 0 });
        assert_eq!(groups[36], StructuredGroup { kind: GroupKind::Neuron, block: 0, index: 0 });
        assert_eq!(groups.last().map(|g| (g.block, g.index)), Some((11, 767)));
    }

    #[test]
    fn prunable_totals_sum_the_groups() {
        let shape = deit_tiny();
        let summed: u64 = all_groups(&shape).iter().map(|g| g.params(&shape)).sum();
        assert_eq!(attention_prunable_params(&shape), 36 * 49_344);
        assert_eq!(mlp_prunable_params(&shape), 12 * 768 * 385);
        assert_eq!(summed, attention_prunable_params(&shape) + mlp_prunable_params(&shape));
    }

    #[test]
    fn removing_groups_shrinks_the_model_by_their_params() {
        let dense = deit_tiny();
        let mut pruned = dense.clone();
        pruned.blocks[2] = BlockShape::new(1, 64, 700);
        pruned.blocks[5].heads = 0;
        let head = head_params(192, &dense.blocks[0]);
        let removed = 2 * head + 68 * neuron_params(192) + 3 * head;
        assert_eq!(param_count(&dense) - param_count(&pruned), removed);
    }

    #[test]
    fn removing_query_key_pairs_shrinks_the_model_by_their_params() {
        let dense = deit_tiny();
        let mut pruned = dense.clone();
        pruned.blocks[4].qk_dim = 40;
        assert_eq!(groups_of_kind(&dense, GroupKind::QkPair).len(), 12 * 3 * 64);
        let pair = StructuredGroup { kind: GroupKind::QkPair, block: 4, index: 70 };
        assert_eq!(param_count(&dense) - param_count(&pruned), 3 * 24 * pair.params(&dense));
    }
}
