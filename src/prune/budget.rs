//! The budget solver: how many heads, MLP neurons and (with `admm.head_dims`) q/k dimension pairs to remove so that a
//! fraction `sparsity` of the dense model's total parameters goes (docs/design.md sections 3 and 4).

use super::head_share::HeadShare;
use crate::model::cost::param_count;
use crate::model::shape::VitShape;
use crate::prune::groups::{attention_prunable_params, mlp_prunable_params, neuron_params, qk_pair_params};
use serde::{Deserialize, Serialize};

/// What to remove: a sparsity, its split between heads and neurons, and the groups every block keeps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetRequest {
    /// Fraction of the total parameters (embeddings, norms and classifier included) to remove.
    pub sparsity: f64,
    /// How the removed parameters split between heads and neurons.
    pub head_share: HeadShare,
    /// Heads every block keeps at least (a block with fewer keeps all of them).
    pub min_heads: usize,
    /// MLP neurons every block keeps at least.
    pub min_neurons: usize,
    /// Share of the attention part of the budget taken by q/k dimension pairs inside kept heads (0: whole heads only).
    pub head_dims: f64,
    /// q/k dimension pairs every kept head keeps at least.
    pub min_head_dims: usize,
}

impl BudgetRequest {
    /// A request that removes whole heads and neurons only.
    pub fn heads_and_neurons(sparsity: f64, head_share: HeadShare, min_heads: usize, min_neurons: usize) -> Self {
        Self { sparsity, head_share, min_heads, min_neurons, head_dims: 0.0, min_head_dims: 1 }
    }
}

/// The solved budget: group counts to remove, and the sparsity they achieve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// Heads to remove, across all blocks.
    pub heads_removed: usize,
    /// MLP neurons to remove, across all blocks.
    pub neurons_removed: usize,
    /// q/k dimension pairs to remove inside the kept heads, across all blocks (0 unless `admm.head_dims` is set;
    /// left out of the serialized form then, so cache keys of runs without it stay as they were).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pairs_removed: usize,
    /// Parameters the removed groups own: heads_removed * head_params + neurons_removed * neuron_params
    /// + pairs_removed * pair_params.
    pub removed_params: u64,
    /// Parameters of one head (the mean over the shape's heads; exact when all blocks share head_dim).
    pub head_params: u64,
    /// Parameters of one MLP neuron.
    pub neuron_params: u64,
    /// Parameters of one q/k pair (0 when no pair is removed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pair_params: u64,
    /// The requested sparsity.
    pub target_sparsity: f64,
    /// removed_params / total params.
    pub achieved_sparsity: f64,
}

/// The requested sparsity is above what removing every group allowed by the minimums gives.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error(
    "sparsity {target} cannot be reached: the largest reachable sparsity with min_heads={min_heads} and \
     min_neurons={min_neurons} is {}",
    floor_3(*max_reachable)
)]
pub struct Unreachable {
    /// The requested sparsity.
    pub target: f64,
    /// The largest sparsity the minimums allow.
    pub max_reachable: f64,
    /// The request's min_heads.
    pub min_heads: usize,
    /// The request's min_neurons.
    pub min_neurons: usize,
}

fn is_zero<T: Default + PartialEq>(x: &T) -> bool {
    *x == T::default()
}

/// `x` rounded down to three decimals, so that the value shown is itself reachable.
fn floor_3(x: f64) -> f64 {
    (x * 1000.0).floor() / 1000.0
}

/// How many groups of each kind the minimums let go, and what one of each owns.
struct Capacity {
    heads: usize,
    neurons: usize,
    head_params: u64,
    neuron_params: u64,
    /// Heads of the dense model, across blocks.
    total_heads: usize,
    /// q/k pairs each kept head may lose (0 when pairs are not pruned); the smallest block's, to be safe.
    pairs_per_head: usize,
    pair_params: u64,
}

/// Group counts to remove.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Counts {
    heads: usize,
    pairs: usize,
    neurons: usize,
}

impl Capacity {
    fn of(shape: &VitShape, req: &BudgetRequest) -> Self {
        let total_heads: usize = shape.blocks.iter().map(|b| b.heads).sum();
        let head_params = match total_heads {
            0 => 0,
            n => (attention_prunable_params(shape) as f64 / n as f64).round() as u64,
        };
        let with_heads = shape.blocks.iter().filter(|b| b.heads > 0);
        let pairs_per_head = match req.head_dims > 0.0 {
            true => with_heads.map(|b| b.qk_dim.saturating_sub(req.min_head_dims)).min().unwrap_or(0),
            false => 0,
        };
        Self {
            heads: shape.blocks.iter().map(|b| b.heads.saturating_sub(req.min_heads)).sum(),
            neurons: shape.blocks.iter().map(|b| b.mlp.saturating_sub(req.min_neurons)).sum(),
            head_params,
            neuron_params: neuron_params(shape.dim),
            total_heads,
            pairs_per_head,
            pair_params: if pairs_per_head > 0 { qk_pair_params(shape.dim) } else { 0 },
        }
    }

    /// q/k pairs that may go once `heads` whole heads are gone.
    fn pairs(&self, heads: usize) -> usize {
        (self.total_heads - heads) * self.pairs_per_head
    }

    fn removed(&self, c: Counts) -> u64 {
        c.heads as u64 * self.head_params + c.neurons as u64 * self.neuron_params + c.pairs as u64 * self.pair_params
    }

    /// Everything the minimums let go: every removable head, then the pairs of the heads left, and every neuron.
    fn everything(&self) -> Counts {
        Counts { heads: self.heads, pairs: self.pairs(self.heads), neurons: self.neurons }
    }
}

/// `amount / unit` rounded to the nearest count in [0, max]; also says whether `max` cut it short.
fn round_count(amount: f64, unit: u64, max: usize) -> (usize, bool) {
    if unit == 0 {
        return (0, amount > 0.0);
    }
    let count = (amount / unit as f64).round().max(0.0);
    if count > max as f64 { (max, true) } else { (count as usize, false) }
}

/// The parameters the head part of the budget should remove, out of `target`.
fn head_part(shape: &VitShape, share: HeadShare, target: f64) -> f64 {
    match share {
        HeadShare::Fraction(f) if f.is_nan() => 0.0,
        HeadShare::Fraction(f) => f.clamp(0.0, 1.0) * target,
        HeadShare::Auto => {
            let attention = attention_prunable_params(shape) as f64;
            let prunable = attention + mlp_prunable_params(shape) as f64;
            target * ratio(attention, prunable)
        }
    }
}

/// `part / whole`, or 0 for an empty whole.
fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 { part / whole } else { 0.0 }
}

/// Heads and q/k pairs from the attention part (`pair_share` of it from pairs), neurons for the rest of `target`;
/// neurons' shortfall moves back to the attention.
fn split_counts(capacity: &Capacity, target: f64, attention_part: f64, pair_share: f64) -> Counts {
    let (heads, _) = round_count(attention_part * (1.0 - pair_share), capacity.head_params, capacity.heads);
    let (pairs, _) = round_count(attention_part * pair_share, capacity.pair_params, capacity.pairs(heads));
    let rest = target - capacity.removed(Counts { heads, pairs, neurons: 0 }) as f64;
    let (neurons, short) = round_count(rest, capacity.neuron_params, capacity.neurons);
    if !short {
        return Counts { heads, pairs, neurons };
    }
    let rest = target - capacity.removed(Counts { heads: 0, pairs: 0, neurons }) as f64;
    cover_with_attention(capacity, rest, heads, neurons)
}

/// The fewest heads (at least `min_heads`) that, with the pairs of the heads left, come within half a group of
/// `rest`; the closest when none does.
fn cover_with_attention(capacity: &Capacity, rest: f64, min_heads: usize, neurons: usize) -> Counts {
    let candidate = |heads: usize| {
        let left = rest - capacity.removed(Counts { heads, pairs: 0, neurons: 0 }) as f64;
        let (pairs, _) = round_count(left, capacity.pair_params, capacity.pairs(heads));
        let counts = Counts { heads, pairs, neurons };
        (counts, (left - (pairs as u64 * capacity.pair_params) as f64).abs())
    };
    let slack = capacity.head_params.max(capacity.pair_params) as f64 / 2.0;
    let candidates: Vec<(Counts, f64)> = (min_heads.min(capacity.heads)..=capacity.heads).map(candidate).collect();
    let close_enough = candidates.iter().find(|(_, error)| *error <= slack);
    let closest = || candidates.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    close_enough.or_else(closest).expect("at least one head count to try").0
}

/// Solve for the head, q/k pair and neuron counts that remove `req.sparsity` of `shape`'s parameters.
///
/// The attention part of the target (`head_share`) goes to whole heads, or with `head_dims` > 0 a share of it to q/k
/// pairs inside the heads that stay; neurons fill the rest of the target; when a kind cannot take its share under
/// the minimums, the excess moves to the others. A negative sparsity removes nothing.
pub fn solve_budget(shape: &VitShape, req: &BudgetRequest) -> Result<Budget, Unreachable> {
    let total = param_count(shape) as f64;
    let capacity = Capacity::of(shape, req);
    let max_reachable = ratio(capacity.removed(capacity.everything()) as f64, total);
    if req.sparsity.is_nan() || req.sparsity > max_reachable {
        let (target, min_heads, min_neurons) = (req.sparsity, req.min_heads, req.min_neurons);
        return Err(Unreachable { target, max_reachable, min_heads, min_neurons });
    }
    let target = req.sparsity.max(0.0) * total;
    let head_part = head_part(shape, req.head_share, target);
    let pair_share = if capacity.pairs_per_head > 0 { req.head_dims.clamp(0.0, 1.0) } else { 0.0 };
    let counts = split_counts(&capacity, target, head_part, pair_share);
    let removed_params = capacity.removed(counts);
    Ok(Budget {
        heads_removed: counts.heads,
        neurons_removed: counts.neurons,
        pairs_removed: counts.pairs,
        removed_params,
        head_params: capacity.head_params,
        neuron_params: capacity.neuron_params,
        pair_params: if counts.pairs > 0 { capacity.pair_params } else { 0 },
        target_sparsity: req.sparsity,
        achieved_sparsity: ratio(removed_params as f64, total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::shape::BlockShape;
    use proptest::prelude::*;

    fn deit(dim: usize, heads: usize) -> VitShape {
        VitShape::uniform(224, 16, 3, 1000, dim, 12, heads, 4.0)
    }

    fn request(sparsity: f64, head_share: HeadShare) -> BudgetRequest {
        BudgetRequest::heads_and_neurons(sparsity, head_share, 1, 1)
    }

    #[test]
    fn auto_removes_the_same_fraction_of_attention_and_mlp() {
        let shape = deit(384, 6);
        let budget = solve_budget(&shape, &request(0.35, HeadShare::Auto)).unwrap();
        let head_fraction = budget.heads_removed as f64 / 72.0;
        let neuron_fraction = budget.neurons_removed as f64 / (12.0 * 1536.0);
        // Heads round to whole heads (0.5/72); neurons absorb that rounding (half a head, 49,248 of 14.2M MLP params).
        let slack = 0.5 / 72.0 + 49_248.0 / (12.0 * 1536.0 * 769.0);
        assert!((head_fraction - neuron_fraction).abs() < slack, "{head_fraction} vs {neuron_fraction}");
    }

    #[test]
    fn zero_head_share_removes_no_head() {
        let budget = solve_budget(&deit(192, 3), &request(0.4, HeadShare::Fraction(0.0))).unwrap();
        assert_eq!(budget.heads_removed, 0);
        assert!((budget.achieved_sparsity - 0.4).abs() < 0.001);
    }

    #[test]
    fn a_head_share_above_capacity_moves_to_neurons() {
        // 0.5 of DeiT-Tiny from heads alone would need more heads than the 24 that min_heads=1 lets go.
        let budget = solve_budget(&deit(192, 3), &request(0.5, HeadShare::Fraction(1.0))).unwrap();
        assert_eq!(budget.heads_removed, 24);
        assert!((budget.achieved_sparsity - 0.5).abs() < 0.001);
    }

    #[test]
    fn query_key_pairs_take_their_share_of_the_attention_part() {
        let shape = deit(192, 3);
        let whole = solve_budget(&shape, &request(0.3, HeadShare::Auto)).unwrap();
        let half = BudgetRequest { head_dims: 0.5, min_head_dims: 1, ..request(0.3, HeadShare::Auto) };
        let b = solve_budget(&shape, &half).unwrap();
        assert_eq!(b.pair_params, 386);
        let attention = |b: &Budget| b.heads_removed as u64 * b.head_params + b.pairs_removed as u64 * b.pair_params;
        // Half of the attention part from pairs, half from heads; both parts round to their group sizes.
        let heads_part = b.heads_removed as u64 * b.head_params;
        assert!(heads_part.abs_diff(attention(&b) / 2) <= b.head_params, "{b:?}");
        assert!(attention(&b).abs_diff(attention(&whole)) <= b.head_params, "{b:?} vs {whole:?}");
        assert!((b.achieved_sparsity - 0.3).abs() < 0.001, "{b:?}");
        let all_pairs = BudgetRequest { head_dims: 1.0, ..half };
        let b = solve_budget(&shape, &all_pairs).unwrap();
        assert_eq!(b.heads_removed, 0);
        assert!(b.pairs_removed > 0 && b.pairs_removed <= 36 * 63, "{b:?}");
    }

    #[test]
    fn a_budget_without_pairs_serializes_as_before_pairs_existed() {
        let b = solve_budget(&deit(192, 3), &request(0.3, HeadShare::Auto)).unwrap();
        let value = serde_json::to_value(b).unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        let before = [
            "achieved_sparsity",
            "head_params",
            "heads_removed",
            "neuron_params",
            "neurons_removed",
            "removed_params",
            "target_sparsity",
        ];
        assert_eq!(keys, before);
        let with_pairs = BudgetRequest { head_dims: 0.5, ..request(0.3, HeadShare::Auto) };
        let value = serde_json::to_value(solve_budget(&deit(192, 3), &with_pairs).unwrap()).unwrap();
        assert!(value["pairs_removed"].as_u64().unwrap() > 0 && value["pair_params"] == 386);
    }

    #[test]
    fn pairs_come_from_blocks_whose_queries_were_already_narrowed() {
        // An input whose blocks already have q/k 10 of 16 (and one of 6): pairs per head = min(10, 6) - 2 = 4.
        let mut shape = VitShape::uniform(28, 7, 1, 10, 64, 3, 4, 2.0);
        shape.blocks[0].qk_dim = 10;
        shape.blocks[1].qk_dim = 6;
        let req = BudgetRequest { head_dims: 1.0, min_head_dims: 2, ..request(0.2, HeadShare::Fraction(0.1)) };
        let b = solve_budget(&shape, &req).unwrap();
        assert_eq!(b.heads_removed, 0);
        assert!(b.pairs_removed > 0 && b.pairs_removed <= 12 * 4, "{b:?}");
        assert_eq!(b.pair_params, 130);
        assert!((b.achieved_sparsity - 0.2).abs() < 0.005, "{b:?}");
    }

    #[test]
    fn pairs_raise_the_reachable_sparsity_and_respect_the_per_head_minimum() {
        let shape = VitShape::uniform(28, 7, 1, 10, 48, 2, 3, 2.0);
        let heads_only = solve_budget(&shape, &request(0.94, HeadShare::Auto)).unwrap_err().max_reachable;
        let req = BudgetRequest { head_dims: 0.5, min_head_dims: 4, ..request(0.94, HeadShare::Auto) };
        let with_pairs = solve_budget(&shape, &req).unwrap_err().max_reachable;
        // Two heads stay (one per block), each may lose 16 - 4 = 12 pairs of 2*48 + 2 params.
        let total = 41_770.0;
        assert!((with_pairs - heads_only - 2.0 * 12.0 * 98.0 / total).abs() < 1e-12, "{with_pairs} vs {heads_only}");
    }

    #[test]
    fn unreachable_target_names_the_maximum() {
        let shape = VitShape::uniform(28, 7, 1, 10, 48, 2, 3, 2.0);
        let err = solve_budget(&shape, &request(0.94, HeadShare::Auto)).unwrap_err();
        // 4 heads of 4*48*16 + 48 and 190 neurons of 97 of 41,770 params.
        let max = (4.0 * 3120.0 + 190.0 * 97.0) / 41_770.0;
        assert!((err.max_reachable - max).abs() < 1e-12);
        let text = err.to_string();
        let expected = format!("min_heads=1 and min_neurons=1 is {}", floor_3(max));
        assert!(text.starts_with("sparsity 0.94 cannot be reached") && text.ends_with(&expected), "{text}");
    }

    fn arb_shape() -> impl Strategy<Value = VitShape> {
        let blocks = prop::collection::vec((0usize..6, 0usize..40), 1..6);
        (4usize..40, 1usize..9, blocks).prop_map(|(dim, head_dim, blocks)| {
            let mut shape = VitShape::uniform(8, 4, 1, 3, dim, 0, 1, 1.0);
            let block = |(heads, mlp)| BlockShape::new(heads, head_dim, mlp);
            shape.blocks = blocks.into_iter().map(block).collect();
            shape
        })
    }

    /// Shapes whose blocks may already have narrower queries and keys than values (a pruned model pruned again).
    fn arb_narrowed_shape() -> impl Strategy<Value = VitShape> {
        (arb_shape(), prop::collection::vec(0usize..8, 6)).prop_map(|(mut shape, cuts)| {
            shape.blocks.iter_mut().zip(cuts).for_each(|(b, cut)| b.qk_dim = b.head_dim.saturating_sub(cut).max(1));
            shape
        })
    }

    fn arb_share() -> impl Strategy<Value = HeadShare> {
        prop_oneof![Just(HeadShare::Auto), (0.0f64..=1.0).prop_map(HeadShare::Fraction)]
    }

    proptest! {
        #[test]
        fn pair_counts_respect_the_kept_heads_and_imply_the_removed_params(
            shape in arb_narrowed_shape(), sparsity in 0.0f64..0.95, head_share in arb_share(), head_dims in 0.0f64..=1.0,
            min_heads in 0usize..3, min_head_dims in 1usize..4,
        ) {
            let req = BudgetRequest { head_dims, min_head_dims, ..BudgetRequest::heads_and_neurons(sparsity, head_share, min_heads, 1) };
            if let Ok(b) = solve_budget(&shape, &req) {
                let total_heads: usize = shape.blocks.iter().map(|x| x.heads).sum();
                let with_heads = shape.blocks.iter().filter(|x| x.heads > 0);
                let per_head = with_heads.map(|x| x.qk_dim.saturating_sub(min_head_dims)).min().unwrap_or(0);
                prop_assert!(b.pairs_removed <= (total_heads - b.heads_removed) * per_head, "{:?}", b);
                let implied = b.heads_removed as u64 * b.head_params + b.neurons_removed as u64 * b.neuron_params
                    + b.pairs_removed as u64 * b.pair_params;
                prop_assert_eq!(b.removed_params, implied);
                let slack = b.head_params.max(b.neuron_params).max(b.pair_params) as f64 / 2.0 + 1e-6;
                let total = param_count(&shape) as f64;
                prop_assert!((b.removed_params as f64 - sparsity * total).abs() <= slack, "{:?}", b);
            }
        }

        #[test]
        fn counts_imply_the_removed_params_and_respect_minimums(
            shape in arb_shape(), sparsity in 0.0f64..0.95, head_share in arb_share(),
            min_heads in 0usize..3, min_neurons in 0usize..5,
        ) {
            let req = BudgetRequest::heads_and_neurons(sparsity, head_share, min_heads, min_neurons);
            match solve_budget(&shape, &req) {
                Ok(b) => {
                    let max_heads: usize = shape.blocks.iter().map(|x| x.heads.saturating_sub(min_heads)).sum();
                    let max_neurons: usize = shape.blocks.iter().map(|x| x.mlp.saturating_sub(min_neurons)).sum();
                    prop_assert!(b.heads_removed <= max_heads && b.neurons_removed <= max_neurons);
                    let implied = b.heads_removed as u64 * b.head_params + b.neurons_removed as u64 * b.neuron_params;
                    prop_assert_eq!(b.removed_params, implied);
                    let head_dim = shape.blocks[0].head_dim as u64;
                    let any_head = shape.blocks.iter().any(|x| x.heads > 0);
                    prop_assert_eq!(b.head_params, if any_head { 4 * shape.dim as u64 * head_dim + 3 * head_dim } else { 0 });
                    let total = param_count(&shape) as f64;
                    let slack = b.head_params.max(b.neuron_params) as f64 / 2.0 + 1e-6;
                    prop_assert!((b.removed_params as f64 - sparsity * total).abs() <= slack);
                }
                Err(e) => prop_assert!(e.max_reachable < sparsity),
            }
        }
    }
}
