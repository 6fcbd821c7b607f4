//! Choosing the q/k dimension pairs to remove inside the kept heads (`admm.head_dims`): every kept head of a block keeps
//! the same number of pairs, so the sliced block stays one batched attention; blocks compete by energy per pair.

/// One block's removable "slots": slot k removes the k-th weakest pair of every kept head of the block.
struct BlockSlots {
    /// Kept heads of the block.
    heads: Vec<usize>,
    /// Per kept head: its q/k dimensions, weakest first (ties by index).
    order: Vec<Vec<usize>>,
    /// Per slot: the summed squared norm of the pairs it removes.
    energy: Vec<f64>,
    /// Slots taken so far.
    taken: usize,
}

impl BlockSlots {
    fn new(norms: &[Vec<f64>], kept: &[bool], min_keep: usize) -> Self {
        let heads: Vec<usize> = (0..norms.len()).filter(|&h| kept[h]).collect();
        let order: Vec<Vec<usize>> = heads.iter().map(|&h| weakest_first(&norms[h])).collect();
        let slots = order.iter().map(Vec::len).min().unwrap_or(0).saturating_sub(min_keep);
        let energy = (0..slots).map(|k| heads.iter().zip(&order).map(|(&h, o)| norms[h][o[k]].powi(2)).sum()).collect();
        Self { heads, order, energy, taken: 0 }
    }

    /// Energy per pair of the next slot, when it exists and its pairs fit in `left`.
    fn next_cost(&self, left: usize) -> Option<f64> {
        let fits = !self.heads.is_empty() && self.heads.len() <= left;
        let energy = self.energy.get(self.taken).filter(|_| fits)?;
        Some(energy / self.heads.len() as f64)
    }
}

/// Indices of `norms`, smallest first; a stable sort keeps equal norms in index order.
fn weakest_first(norms: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..norms.len()).collect();
    order.sort_by(|&a, &b| norms[a].total_cmp(&norms[b]));
    order
}

/// Keep-mask [block][head][dim] over q/k pairs: removes at most `remove` pairs from the heads `heads` keeps, by slots
/// of lowest energy per pair across blocks (ties to the lower block), so that every kept head of a block keeps the
/// same number of pairs and at least `min_keep`. Stops when no block's next slot fits in what is left of `remove`, so
/// it falls short of `remove` by less than the largest kept-head count. Entries of removed heads stay true (unused).
pub fn keep_top_pairs(
    norms: &[Vec<Vec<f64>>],
    heads: &[Vec<bool>],
    remove: usize,
    min_keep: usize,
) -> Vec<Vec<Vec<bool>>> {
    let mut blocks: Vec<BlockSlots> = norms.iter().zip(heads).map(|(n, k)| BlockSlots::new(n, k, min_keep)).collect();
    let mut left = remove;
    loop {
        let candidates = blocks.iter().enumerate().filter_map(|(l, b)| b.next_cost(left).map(|c| (l, c)));
        let Some((l, _)) = candidates.min_by(|a, b| a.1.total_cmp(&b.1)) else { break };
        blocks[l].taken += 1;
        left -= blocks[l].heads.len();
    }
    let mut mask: Vec<Vec<Vec<bool>>> = norms.iter().map(|b| b.iter().map(|h| vec![true; h.len()]).collect()).collect();
    for (l, block) in blocks.iter().enumerate() {
        for (&h, order) in block.heads.iter().zip(&block.order) {
            order[..block.taken].iter().for_each(|&j| mask[l][h][j] = false);
        }
    }
    mask
}

/// Number of removed pairs of kept heads in a pair mask.
pub fn removed_pairs(mask: &[Vec<Vec<bool>>], heads: &[Vec<bool>]) -> usize {
    let kept_heads = mask.iter().zip(heads).flat_map(|(b, k)| b.iter().zip(k).filter(|(_, kept)| **kept));
    kept_heads.map(|(pairs, _)| pairs.iter().filter(|&&p| !p).count()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn removes_each_heads_weakest_pairs_from_the_cheapest_block() {
        // Block 0: two kept heads; block 1: one kept head (head 1 removed).
        let norms =
            vec![vec![vec![0.1, 5.0, 0.2], vec![4.0, 0.3, 6.0]], vec![vec![0.5, 9.0, 0.25], vec![0.0, 0.0, 0.0]]];
        let heads = vec![vec![true, true], vec![true, false]];
        // Slot costs per pair: block 0: (0.01 + 0.09) / 2 = 0.05, then (0.04 + 16) / 2; block 1: 0.0625, then 0.25.
        let mask = keep_top_pairs(&norms, &heads, 3, 1);
        assert_eq!(mask[0], vec![vec![false, true, true], vec![true, false, true]]);
        assert_eq!(mask[1], vec![vec![true, true, false], vec![true, true, true]]);
        assert_eq!(removed_pairs(&mask, &heads), 3);
        // With 5, block 1's second slot (0.25 per pair) beats block 0's second (8.02); min_keep 1 then stops block 1.
        let mask = keep_top_pairs(&norms, &heads, 5, 1);
        assert_eq!(mask[1][0], vec![false, true, false]);
        assert_eq!(removed_pairs(&mask, &heads), 4, "block 0's next slot needs 2 pairs but only 1 is left");
    }

    fn arb_case() -> impl Strategy<Value = (Vec<Vec<Vec<f64>>>, Vec<Vec<bool>>)> {
        let block = (0usize..4, 1usize..6).prop_flat_map(|(heads, qk)| {
            let norms = prop::collection::vec(prop::collection::vec((0u8..5).prop_map(f64::from), qk), heads);
            let kept = prop::collection::vec(any::<bool>(), heads);
            (norms, kept)
        });
        prop::collection::vec(block, 1..5).prop_map(|blocks| blocks.into_iter().unzip())
    }

    proptest! {
        #[test]
        fn kept_heads_of_a_block_keep_equal_counts_and_the_budget_holds(
            (norms, heads) in arb_case(), remove in 0usize..40, min_keep in 0usize..3,
        ) {
            let mask = keep_top_pairs(&norms, &heads, remove, min_keep);
            let removed = removed_pairs(&mask, &heads);
            prop_assert!(removed <= remove);
            for (l, block) in mask.iter().enumerate() {
                let counts: Vec<usize> =
                    block.iter().zip(&heads[l]).filter(|(_, k)| **k).map(|(p, _)| p.iter().filter(|&&x| x).count()).collect();
                prop_assert!(counts.windows(2).all(|w| w[0] == w[1]), "block {}: {:?}", l, counts);
                let qk = norms[l].first().map_or(0, Vec::len);
                prop_assert!(counts.iter().all(|&c| c >= min_keep.min(qk)));
                // Nothing left that would fit: a block below its minimum-limited capacity has more heads than `left`.
                if counts.first().is_some_and(|&c| c > min_keep) {
                    prop_assert!(counts.len() > remove - removed);
                }
                // Inside a head, no removed pair is stronger than a kept one.
                for (h, pairs) in block.iter().enumerate().filter(|(h, _)| heads[l][*h]) {
                    let removed_max = pairs.iter().zip(&norms[l][h]).filter(|(k, _)| !**k).map(|(_, n)| *n).fold(f64::MIN, f64::max);
                    prop_assert!(pairs.iter().zip(&norms[l][h]).all(|(k, n)| !*k || *n >= removed_max));
                }
            }
        }
    }
}
