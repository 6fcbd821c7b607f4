//! Which heads a budget removes, from a criterion's head scores: the lowest globally (GOHSP and its head ablations),
//! or GOHSP's per-block counts with seeded random heads inside each block (`gohsp-random-heads`). An exact tie that
//! would decide the removal is an error naming the tied heads, never settled by index.

use super::select::{deciding_ties, keep_top_global, keep_top_with_quotas, random_scores};
use crate::error::{GohspError, Result};
use serde::{Deserialize, Serialize};

/// How the removed heads are drawn from the scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadChoice {
    /// The lowest scores across all blocks.
    #[default]
    Ranked,
    /// As many heads per block as the ranked choice removes, chosen at random (seeded) inside each block.
    RandomWithinBlocks,
}

/// The head keep-mask of `choice`: remove `remove` heads by `scores` (at least `min_keep` per block), failing with
/// [`GohspError::Tie`] when exact ties decide which go. `criterion` names the scores in the error and `hint` says how
/// to separate them.
pub fn choose_heads(
    scores: &[Vec<f64>],
    remove: usize,
    min_keep: usize,
    choice: HeadChoice,
    seed: u64,
    (criterion, hint): (&str, &str),
) -> Result<Vec<Vec<bool>>> {
    let ranked = keep_top_global(scores, remove, min_keep);
    check_ties(scores, &ranked, min_keep, false, (criterion, hint))?;
    Ok(match choice {
        HeadChoice::Ranked => ranked,
        HeadChoice::RandomWithinBlocks => random_within_blocks(&ranked, seed),
    })
}

/// A mask with `reference`'s removal count in every block, the removed heads of each block drawn at random (seeded).
pub fn random_within_blocks(reference: &[Vec<bool>], seed: u64) -> Vec<Vec<bool>> {
    let sizes: Vec<usize> = reference.iter().map(Vec::len).collect();
    let quotas: Vec<usize> = reference.iter().map(|b| b.iter().filter(|&&kept| !kept).count()).collect();
    keep_top_with_quotas(&random_scores(&sizes, seed), &quotas)
}

/// [`GohspError::Tie`] when exact ties in `scores` decide what `mask` removes (among the heads of one block only, with
/// `within_blocks`); `criterion` names the scores and `hint` says how to separate them.
pub fn check_ties(
    scores: &[Vec<f64>],
    mask: &[Vec<bool>],
    min_keep: usize,
    within_blocks: bool,
    (criterion, hint): (&str, &str),
) -> Result<()> {
    let ties = deciding_ties(scores, mask, min_keep, within_blocks);
    if ties.is_empty() {
        return Ok(());
    }
    let named = |tie: &Vec<(usize, usize)>| {
        let heads: Vec<String> = tie.iter().map(|(l, h)| format!("block {l} head {h}")).collect();
        format!("{} (score {})", heads.join(", "), scores[tie[0].0][tie[0].1])
    };
    let listed: Vec<String> = ties.iter().map(named).collect();
    let message = format!(
        "{criterion} scores tie exactly where the budget must choose, so the heads removed would be decided by their \
         index: {}",
        listed.join("; ")
    );
    Err(GohspError::tie(message, hint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prune::select::kept_per_block;
    use proptest::prelude::*;

    const NAMES: (&str, &str) = ("test", "separate them");

    #[test]
    fn random_heads_keep_the_ranked_per_block_counts_and_vary_with_the_seed() {
        let scores: Vec<Vec<f64>> =
            (0..4).map(|l| (0..8).map(|h| (l * 8 + h) as f64 * 0.01 + (h % 3) as f64).collect()).collect();
        let ranked = choose_heads(&scores, 12, 1, HeadChoice::Ranked, 0, NAMES).unwrap();
        let masks: Vec<Vec<Vec<bool>>> = (0..6)
            .map(|seed| choose_heads(&scores, 12, 1, HeadChoice::RandomWithinBlocks, seed, NAMES).unwrap())
            .collect();
        for mask in &masks {
            assert_eq!(kept_per_block(mask), kept_per_block(&ranked), "{mask:?}");
        }
        assert!(masks.iter().any(|m| *m != ranked), "random heads are not the ranked ones");
        assert!(masks.windows(2).any(|w| w[0] != w[1]), "the seed draws the heads");
        assert_eq!(masks[3], choose_heads(&scores, 12, 1, HeadChoice::RandomWithinBlocks, 3, NAMES).unwrap());
    }

    #[test]
    fn a_tie_that_decides_is_an_exit_2_error_naming_the_heads() {
        let scores = vec![vec![0.5, 0.25, 0.25], vec![0.75, 0.25]];
        let err = choose_heads(&scores, 1, 1, HeadChoice::Ranked, 0, ("graph", "set rank.teleport: contribution"))
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(text.contains("block 0 head 1, block 0 head 2, block 1 head 1 (score 0.25)"), "{text}");
        assert!(text.starts_with("graph scores tie") && text.ends_with("(hint: set rank.teleport: contribution)"));
        assert!(choose_heads(&scores, 3, 1, HeadChoice::Ranked, 0, NAMES).is_ok(), "all three go: nothing to decide");
    }

    proptest! {
        #[test]
        fn within_block_draws_keep_every_blocks_count(
            sizes in prop::collection::vec(1usize..9, 1..6), remove in 0usize..30, min_keep in 1usize..3, seed in 0u64..50,
        ) {
            let scores = random_scores(&sizes, seed.wrapping_add(1000));
            let ranked = choose_heads(&scores, remove, min_keep, HeadChoice::Ranked, seed, NAMES).unwrap();
            let random = choose_heads(&scores, remove, min_keep, HeadChoice::RandomWithinBlocks, seed, NAMES).unwrap();
            prop_assert_eq!(kept_per_block(&random), kept_per_block(&ranked));
        }
    }
}
