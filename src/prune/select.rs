//! Choosing which groups to remove from their scores under a budget: globally (GOHSP, magnitude, taylor, random)
//! or spread evenly over blocks (the `uniform` baseline). A mask is one `Vec<bool>` per block, true = kept.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Groups of each block that may go: all but `min_keep` (none for a block that has fewer).
fn removable(scores: &[Vec<f64>], min_keep: usize) -> Vec<usize> {
    scores.iter().map(|s| s.len().saturating_sub(min_keep)).collect()
}

/// A mask that keeps every group.
fn keep_all(scores: &[Vec<f64>]) -> Vec<Vec<bool>> {
    scores.iter().map(|s| vec![true; s.len()]).collect()
}

/// Remove the `remove` lowest scores across all blocks, never leaving a block with fewer than `min_keep_per_block`
/// groups; ties break by (block, index), lower first. Removes as many as the minimums allow when `remove` is larger.
/// The stages never let such a tie decide a head: [`deciding_ties`] finds them and `head_choice::check_ties` stops.
pub fn keep_top_global(scores: &[Vec<f64>], remove: usize, min_keep_per_block: usize) -> Vec<Vec<bool>> {
    let mut order: Vec<(usize, usize)> =
        scores.iter().enumerate().flat_map(|(block, s)| (0..s.len()).map(move |index| (block, index))).collect();
    // A stable sort keeps (block, index) order among equal scores.
    order.sort_by(|a, b| scores[a.0][a.1].total_cmp(&scores[b.0][b.1]));
    let mut left = removable(scores, min_keep_per_block);
    let mut mask = keep_all(scores);
    let mut removed = 0;
    for (block, index) in order {
        if removed == remove {
            break;
        }
        if left[block] > 0 {
            left[block] -= 1;
            mask[block][index] = false;
            removed += 1;
        }
    }
    mask
}

/// How many of `remove` removals each block takes: as even as possible, each capped by its removable groups;
/// a remainder goes to the lowest-numbered blocks that can still take one.
pub fn spread_evenly(capacity: &[usize], remove: usize) -> Vec<usize> {
    let mut taken = vec![0; capacity.len()];
    let mut remaining = remove.min(capacity.iter().sum());
    while remaining > 0 {
        let open: Vec<usize> = (0..capacity.len()).filter(|&b| taken[b] < capacity[b]).collect();
        let share = remaining / open.len();
        if share == 0 {
            open.iter().take(remaining).for_each(|&b| taken[b] += 1);
            break;
        }
        for b in open {
            let step = share.min(capacity[b] - taken[b]);
            taken[b] += step;
            remaining -= step;
        }
    }
    taken
}

/// The `uniform` baseline: spread `remove` removals as evenly as possible over the blocks, and inside each block
/// remove its lowest scores (ties by index), never leaving fewer than `min_keep_per_block`.
pub fn keep_top_per_block(scores: &[Vec<f64>], remove: usize, min_keep_per_block: usize) -> Vec<Vec<bool>> {
    keep_top_with_quotas(scores, &spread_evenly(&removable(scores, min_keep_per_block), remove))
}

/// Remove the `quotas[l]` lowest scores of every block l (ties by index; at most the block's size).
pub fn keep_top_with_quotas(scores: &[Vec<f64>], quotas: &[usize]) -> Vec<Vec<bool>> {
    let one_block = |(block_scores, &count): (&Vec<f64>, &usize)| {
        keep_top_global(std::slice::from_ref(block_scores), count, 0).remove(0)
    };
    scores.iter().zip(quotas.iter()).map(one_block).collect()
}

/// The groups whose exact ties decide what `mask` removes: every (removed, kept) pair of equal score where the kept
/// one could have gone instead (same block, or its block keeps more than `min_keep_per_block`; with `within_blocks`,
/// same block only). Each group is (block, index); one `Vec` per tied score, lowest score first, empty when no tie
/// decides anything.
pub fn deciding_ties(
    scores: &[Vec<f64>],
    mask: &[Vec<bool>],
    min_keep_per_block: usize,
    within_blocks: bool,
) -> Vec<Vec<(usize, usize)>> {
    let kept = kept_per_block(mask);
    let groups = || scores.iter().enumerate().flat_map(|(l, s)| s.iter().enumerate().map(move |(i, &v)| (l, i, v)));
    let swappable = |removed: (usize, usize), other: (usize, usize)| {
        mask[other.0][other.1]
            && if within_blocks {
                other.0 == removed.0
            } else {
                other.0 == removed.0 || kept[other.0] > min_keep_per_block
            }
    };
    let mut ties: Vec<(f64, Vec<(usize, usize)>)> = Vec::new();
    for (l, i, v) in groups().filter(|&(l, i, _)| !mask[l][i]) {
        let partners: Vec<(usize, usize)> =
            groups().filter(|&(m, j, w)| w == v && swappable((l, i), (m, j))).map(|(m, j, _)| (m, j)).collect();
        if partners.is_empty() {
            continue;
        }
        let tie = match ties.iter_mut().find(|(score, _)| *score == v) {
            Some((_, tie)) => tie,
            None => {
                ties.push((v, Vec::new()));
                &mut ties.last_mut().expect("just pushed").1
            }
        };
        for group in std::iter::once((l, i)).chain(partners) {
            if !tie.contains(&group) {
                tie.push(group);
            }
        }
    }
    ties.sort_by(|a, b| a.0.total_cmp(&b.0));
    ties.into_iter()
        .map(|(_, mut tie)| {
            tie.sort();
            tie
        })
        .collect()
}

/// Seeded uniform scores in [0, 1) for the `random` baseline: `counts[l]` of them for block l.
pub fn random_scores(counts: &[usize], seed: u64) -> Vec<Vec<f64>> {
    let mut rng = StdRng::seed_from_u64(seed);
    counts.iter().map(|&n| (0..n).map(|_| rng.r#gen::<f64>()).collect()).collect()
}

/// Number of removed (false) entries of a mask.
pub fn removed_count(mask: &[Vec<bool>]) -> usize {
    mask.iter().flatten().filter(|&&kept| !kept).count()
}

/// Number of kept (true) entries of each block of a mask.
pub fn kept_per_block(mask: &[Vec<bool>]) -> Vec<usize> {
    mask.iter().map(|b| b.iter().filter(|&&kept| kept).count()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn global_removes_the_lowest_across_blocks() {
        let scores = vec![vec![0.1, 0.9, 0.2], vec![0.05, 0.8], vec![0.3, 0.4]];
        let mask = keep_top_global(&scores, 3, 0);
        assert_eq!(mask, vec![vec![false, true, false], vec![false, true], vec![true, true]]);
    }

    #[test]
    fn global_respects_the_minimum_and_breaks_ties_by_position() {
        let scores = vec![vec![0.0, 0.0, 0.0], vec![0.0, 0.0, 0.0]];
        let mask = keep_top_global(&scores, 3, 1);
        assert_eq!(mask, vec![vec![false, false, true], vec![false, true, true]]);
        // More than the minimums allow: as many as allowed.
        assert_eq!(removed_count(&keep_top_global(&scores, 9, 1)), 4);
    }

    #[test]
    fn per_block_spreads_evenly() {
        assert_eq!(spread_evenly(&[5, 1, 5], 7), vec![3, 1, 3]);
        assert_eq!(spread_evenly(&[4, 4, 4], 5), vec![2, 2, 1]);
        let scores = vec![vec![0.5, 0.1, 0.9], vec![0.0, 0.1, 0.2], vec![0.7, 0.6, 0.8]];
        let mask = keep_top_per_block(&scores, 3, 1);
        assert_eq!(kept_per_block(&mask), vec![2, 2, 2]);
        assert_eq!(mask[2], vec![true, false, true]);
    }

    #[test]
    fn only_ties_that_split_between_removed_and_removable_kept_groups_decide() {
        // Block 0 loses one of its two 0.2 heads: that tie decides. Block 1's 0.5 pair is kept whole: no decision.
        let scores = vec![vec![0.2, 0.2, 0.9], vec![0.5, 0.5, 0.1]];
        let mask = keep_top_global(&scores, 2, 1);
        assert_eq!(mask, vec![vec![false, true, true], vec![true, true, false]]);
        assert_eq!(deciding_ties(&scores, &mask, 1, false), vec![vec![(0, 0), (0, 1)]]);
        // Across blocks: a kept head of equal score elsewhere could have gone instead, unless its block is at the minimum.
        let across = vec![vec![0.3, 0.8], vec![0.3]];
        let mask = keep_top_global(&across, 1, 0);
        assert_eq!(deciding_ties(&across, &mask, 0, false), vec![vec![(0, 0), (1, 0)]]);
        assert!(deciding_ties(&across, &mask, 1, false).is_empty(), "block 1 cannot lose its only head");
        assert!(deciding_ties(&across, &mask, 0, true).is_empty(), "per block, other blocks never compete");
        let distinct = vec![vec![0.1, 0.2], vec![0.3, 0.4]];
        assert!(deciding_ties(&distinct, &keep_top_global(&distinct, 2, 0), 0, false).is_empty());
    }

    #[test]
    fn quotas_remove_each_blocks_lowest() {
        let scores = vec![vec![0.5, 0.1, 0.9], vec![0.0, 0.3]];
        assert_eq!(keep_top_with_quotas(&scores, &[2, 0]), vec![vec![false, false, true], vec![true, true]]);
    }

    #[test]
    fn random_scores_are_seeded() {
        let a = random_scores(&[3, 0, 2], 7);
        assert_eq!(a, random_scores(&[3, 0, 2], 7));
        assert_ne!(a, random_scores(&[3, 0, 2], 8));
        assert_eq!(a.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 0, 2]);
        assert!(a.iter().flatten().all(|x| (0.0..1.0).contains(x)));
    }

    fn arb_scores() -> impl Strategy<Value = Vec<Vec<f64>>> {
        // Few distinct values, so that ties are common.
        prop::collection::vec(prop::collection::vec((0u8..6).prop_map(f64::from), 0..8), 1..6)
    }

    proptest! {
        #[test]
        fn selections_remove_exactly_the_budget(scores in arb_scores(), remove in 0usize..30, min_keep in 0usize..3) {
            let allowed: usize = removable(&scores, min_keep).iter().sum();
            for mask in [keep_top_global(&scores, remove, min_keep), keep_top_per_block(&scores, remove, min_keep)] {
                prop_assert_eq!(removed_count(&mask), remove.min(allowed));
                for (kept, block) in kept_per_block(&mask).iter().zip(&scores) {
                    prop_assert!(*kept >= min_keep.min(block.len()));
                }
            }
        }

        #[test]
        fn global_removes_no_score_above_a_removable_kept_one(scores in arb_scores(), remove in 0usize..30, min_keep in 0usize..3) {
            let mask = keep_top_global(&scores, remove, min_keep);
            let kept = kept_per_block(&mask);
            let removed_max = scores.iter().flatten().zip(mask.iter().flatten())
                .filter(|(_, k)| !**k).map(|(s, _)| *s).fold(f64::MIN, f64::max);
            for (b, block) in scores.iter().enumerate() {
                if kept[b] > min_keep {
                    for (s, k) in block.iter().zip(&mask[b]) {
                        prop_assert!(!*k || *s >= removed_max, "kept {} < removed {}", s, removed_max);
                    }
                }
            }
        }
    }
}
