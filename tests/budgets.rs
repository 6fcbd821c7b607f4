//! Library-level budget tests: DeiT sparsities land on target, masks sliced to the budget shrink the model by exactly
//! the budget (with and without q/k pairs), and unreachable targets name the largest reachable sparsity.

use gohsp::experiment::types::HeadShare;
use gohsp::model::cost::param_count;
use gohsp::model::host::{HostTensor, NamedTensors};
use gohsp::model::layout::expected_tensors;
use gohsp::model::presets::preset;
use gohsp::model::shape::VitShape;
use gohsp::prune::admm_state::{Constraint, project};
use gohsp::prune::budget::{Budget, BudgetRequest, solve_budget};
use gohsp::prune::hard::slice_tensors;
use gohsp::prune::mask::StructureMask;
use gohsp::prune::select::{keep_top_global, kept_per_block, random_scores, removed_count};

const SPARSITIES: [f64; 4] = [0.3, 0.35, 0.4, 0.5];

fn request(sparsity: f64) -> BudgetRequest {
    BudgetRequest::heads_and_neurons(sparsity, HeadShare::Auto, 1, 1)
}

fn deit_shapes() -> [(&'static str, VitShape); 2] {
    [("deit_tiny", preset("deit_tiny", 1000).unwrap()), ("deit_small", preset("deit_small", 1000).unwrap())]
}

/// Parameters of one head and one neuron, counted here from the group definitions (q, k, v rows and biases plus proj
/// columns; fc1 row and bias plus fc2 column).
fn group_sizes(shape: &VitShape) -> (u64, u64) {
    let (d, dh) = (shape.dim as u64, shape.blocks[0].head_dim as u64);
    (3 * (d * dh + dh) + d * dh, d + 1 + d)
}

#[test]
fn deit_budgets_land_within_half_a_point_of_the_target() {
    for (name, shape) in deit_shapes() {
        let total = param_count(&shape) as f64;
        let (head, neuron) = group_sizes(&shape);
        for sparsity in SPARSITIES {
            let b = solve_budget(&shape, &request(sparsity)).unwrap();
            assert!((b.achieved_sparsity - sparsity).abs() <= 0.005, "{name} at {sparsity}: {b:?}");
            assert_eq!((b.head_params, b.neuron_params), (head, neuron), "{name}");
            let removed = b.heads_removed as u64 * head + b.neurons_removed as u64 * neuron;
            assert_eq!(b.removed_params, removed, "{name} at {sparsity}");
            assert!((b.achieved_sparsity - removed as f64 / total).abs() < 1e-12, "{name} at {sparsity}");
            assert!(b.heads_removed > 0 && b.neurons_removed > 0, "{name} at {sparsity}: {b:?}");
            assert!(b.heads_removed <= 12 * (shape.blocks[0].heads - 1), "{name} at {sparsity}: {b:?}");
        }
    }
}

/// All-zero tensors of `shape` (slicing only moves values, so zeros keep the test fast for DeiT-Small).
fn zero_tensors(shape: &VitShape) -> NamedTensors {
    let tensors = expected_tensors(shape).into_iter();
    tensors.map(|(name, dims)| (name, HostTensor::new(dims.clone(), vec![0.0; dims.iter().product()]))).collect()
}

fn mask_for(shape: &VitShape, budget: &Budget, seed: u64) -> StructureMask {
    let heads: Vec<usize> = shape.blocks.iter().map(|b| b.heads).collect();
    let neurons: Vec<usize> = shape.blocks.iter().map(|b| b.mlp).collect();
    StructureMask {
        heads: keep_top_global(&random_scores(&heads, seed), budget.heads_removed, 1),
        neurons: keep_top_global(&random_scores(&neurons, seed + 1), budget.neurons_removed, 1),
        qk_pairs: None,
    }
}

#[test]
fn solving_masking_and_slicing_removes_exactly_the_budget() {
    for (name, shape) in deit_shapes() {
        let dense_params = param_count(&shape);
        let tensors = zero_tensors(&shape);
        assert_eq!(tensors.values().map(|t| t.numel() as u64).sum::<u64>(), dense_params, "{name}");
        for (i, sparsity) in SPARSITIES.into_iter().enumerate() {
            let budget = solve_budget(&shape, &request(sparsity)).unwrap();
            let mask = mask_for(&shape, &budget, 17 + i as u64);
            assert_eq!(removed_count(&mask.heads), budget.heads_removed, "{name} at {sparsity}");
            assert_eq!(removed_count(&mask.neurons), budget.neurons_removed, "{name} at {sparsity}");
            assert!(kept_per_block(&mask.heads).iter().all(|&k| k >= 1), "{name} at {sparsity}");
            let (sliced, manifest) = slice_tensors(&shape, &tensors, &mask);
            let expected = dense_params - budget.removed_params;
            assert_eq!(param_count(&manifest.shape), expected, "{name} at {sparsity}");
            let held: u64 = sliced.values().map(|t| t.numel() as u64).sum();
            assert_eq!(held, expected, "{name} at {sparsity}: the sliced tensors hold what the shape says");
            let heterogeneous = manifest.shape.blocks.windows(2).any(|w| w[0] != w[1]);
            assert!(heterogeneous, "{name} at {sparsity}: a global selection gives unequal blocks");
        }
    }
}

#[test]
fn budgets_with_query_key_pairs_land_on_target_and_the_projection_slices_to_them() {
    for (name, shape) in deit_shapes() {
        let dense_params = param_count(&shape);
        let tensors = init_tensors_seeded(&shape);
        for sparsity in [0.3, 0.4] {
            let whole_heads = solve_budget(&shape, &request(sparsity)).unwrap();
            let req = BudgetRequest { head_dims: 0.5, min_head_dims: 4, ..request(sparsity) };
            let b = solve_budget(&shape, &req).unwrap();
            let at = format!("{name} at {sparsity}");
            assert!((b.achieved_sparsity - sparsity).abs() <= 0.005, "{at}: {b:?}");
            assert_eq!(b.pair_params, 2 * shape.dim as u64 + 2, "{at}");
            assert!(b.pairs_removed > 0 && b.heads_removed < whole_heads.heads_removed, "{at}: {b:?}");
            let heads: Vec<usize> = shape.blocks.iter().map(|x| x.heads).collect();
            let constraint = Constraint {
                heads: keep_top_global(&random_scores(&heads, 3), b.heads_removed, 1),
                neurons_removed: b.neurons_removed,
                min_neurons: 1,
                pairs_removed: b.pairs_removed,
                min_head_dims: 4,
            };
            let (z, mask) = project(&shape, &tensors, &constraint);
            let removed = gohsp::prune::qk_pairs::removed_pairs(mask.qk_pairs.as_ref().unwrap(), &constraint.heads);
            // Slots remove all kept heads of a block at once (at most 6 here): the projection may fall short by less.
            let largest = shape.blocks.iter().map(|x| x.heads).max().unwrap();
            assert!(removed <= b.pairs_removed && b.pairs_removed - removed < largest, "{at}: {removed} pairs");
            let (sliced, manifest) = slice_tensors(&shape, &tensors, &mask);
            let expected = dense_params - b.removed_params + (b.pairs_removed - removed) as u64 * b.pair_params;
            assert_eq!(param_count(&manifest.shape), expected, "{at}");
            assert_eq!(sliced.values().map(|t| t.numel() as u64).sum::<u64>(), expected, "{at}");
            let qk: Vec<usize> = manifest.shape.blocks.iter().map(|x| x.qk_dim).collect();
            assert!(qk.iter().all(|&q| (4..=64).contains(&q)) && qk.iter().any(|&q| q < 64), "{at}: {qk:?}");
            // Z is the projection: its removed pairs are zero, so projecting it again keeps the same structure.
            assert_eq!(project(&shape, &z, &constraint).1, mask, "{at}");
        }
    }
}

/// Seeded random tensors (the projection ranks pairs by norm; all-zero tensors would tie everywhere).
fn init_tensors_seeded(shape: &VitShape) -> NamedTensors {
    gohsp::model::init::init_tensors(shape, 5)
}

#[test]
fn unreachable_sparsity_names_the_largest_reachable_one() {
    let shape = preset("vit_mnist", 10).unwrap();
    let err = solve_budget(&shape, &request(0.94)).unwrap_err();
    // vit_mnist: D 96, 6 blocks of 4 heads (head_dim 24) and 384 neurons; keeping 1 head and 1 neuron per block.
    let (head, neuron) = group_sizes(&shape);
    assert_eq!((head, neuron), (4 * 96 * 24 + 3 * 24, 193));
    let total = param_count(&shape);
    let max = (6 * 3 * head + 6 * 383 * neuron) as f64 / total as f64;
    assert!((err.max_reachable - max).abs() < 1e-12, "{} vs {max}", err.max_reachable);
    let shown = (max * 1000.0).floor() / 1000.0;
    let text = err.to_string();
    assert!(text.contains("0.94"), "{text}");
    assert!(text.contains(&format!("is {shown}")), "{text} should name {shown}");
    // The value shown is itself reachable; just above the maximum is not.
    assert!(solve_budget(&shape, &request(shown)).is_ok());
    assert!(solve_budget(&shape, &request(max + 1e-6)).is_err());
    let full = solve_budget(&shape, &request(max)).unwrap();
    assert_eq!((full.heads_removed, full.neurons_removed), (18, 6 * 383));
}
