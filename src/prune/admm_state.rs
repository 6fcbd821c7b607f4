//! ADMM's Z and U on the host (timm layout): projection onto the structured set, the dual update, residuals, and their checkpoint.

use super::admm_penalty::prunable_names;
use super::mask::StructureMask;
use super::norms::{l2, neuron_norms, qk_pair_norms};
use super::qk_pairs::keep_top_pairs;
use super::select::keep_top_global;
use crate::error::{GohspError, Result};
use crate::model::host::NamedTensors;
use crate::model::io::{tensors_from_bytes, tensors_to_bytes};
use crate::model::shape::VitShape;
use crate::prune::admm_round::AdmmRound;
use std::path::Path;

/// The structured set S: fixed head mask, how many neurons go (globally, at least `min_neurons` kept per block) and
/// how many q/k pairs go inside the kept heads (at least `min_head_dims` kept per head).
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// Kept heads per block (from the ranking).
    pub heads: Vec<Vec<bool>>,
    /// Neuron groups to remove across all blocks.
    pub neurons_removed: usize,
    /// Neurons kept at least in every block.
    pub min_neurons: usize,
    /// q/k dimension pairs to remove inside the kept heads, across all blocks (0: none).
    pub pairs_removed: usize,
    /// q/k pairs kept at least in every kept head.
    pub min_head_dims: usize,
}

/// The constrained tensors of `tensors` (see [`prunable_names`]).
pub fn prunable(shape: &VitShape, tensors: &NamedTensors) -> NamedTensors {
    (0..shape.blocks.len()).flat_map(prunable_names).map(|n| (n.clone(), tensors[&n].clone())).collect()
}

/// a + sign * b, element-wise, over a's names.
pub fn combine(a: &NamedTensors, b: &NamedTensors, sign: f32) -> NamedTensors {
    a.iter()
        .map(|(name, t)| {
            let mut out = t.clone();
            out.data.iter_mut().zip(&b[name].data).for_each(|(x, y)| *x += sign * y);
            (name.clone(), out)
        })
        .collect()
}

/// Frobenius norm over all tensors.
pub fn frobenius(tensors: &NamedTensors) -> f64 {
    l2(tensors.values().flat_map(|t| t.data.iter()))
}

/// Projection of `v` onto S: zero the removed heads, keep the neuron groups of largest L2 norm (the Euclidean
/// projection), and inside the kept heads remove q/k pairs of least energy, the same count from every kept head of a
/// block (a greedy choice over blocks by energy per pair, not the exact Euclidean projection of that set).
pub fn project(shape: &VitShape, v: &NamedTensors, constraint: &Constraint) -> (NamedTensors, StructureMask) {
    let norms = neuron_norms(shape, v);
    let neurons = keep_top_global(&norms, constraint.neurons_removed, constraint.min_neurons);
    let qk_pairs = (constraint.pairs_removed > 0).then(|| {
        let pair_norms: Vec<_> = (0..shape.blocks.len()).map(|l| qk_pair_norms(shape, v, l)).collect();
        keep_top_pairs(&pair_norms, &constraint.heads, constraint.pairs_removed, constraint.min_head_dims)
    });
    let mask = StructureMask { heads: constraint.heads.clone(), neurons, qk_pairs };
    let mut z = v.clone();
    mask.zero_removed(shape, &mut z);
    (z, mask)
}

/// Z, U and the log of finished rounds.
#[derive(Clone, Debug)]
pub struct AdmmState {
    /// Projected copy.
    pub z: NamedTensors,
    /// Scaled dual variable.
    pub u: NamedTensors,
    /// Current penalty weight.
    pub rho: f64,
    /// Finished rounds.
    pub rounds: Vec<AdmmRound>,
}

/// The file name of ADMM's state inside a round's checkpoint.
pub const STATE_FILE: &str = "admm_state.safetensors";

impl AdmmState {
    /// Change the penalty weight to `rho`, rescaling the scaled dual U <- U * rho_old / rho_new so that the unscaled
    /// multiplier rho * U stays the same (Boyd et al. 2011, section 3.4.1). A zero old rho leaves U as it is.
    pub fn set_rho(&mut self, rho: f64) {
        if self.rho > 0.0 && rho > 0.0 && rho != self.rho {
            let factor = (self.rho / rho) as f32;
            self.u.values_mut().for_each(|t| t.data.iter_mut().for_each(|v| *v *= factor));
        }
        self.rho = rho;
    }

    /// The state as safetensors bytes: Z as `z.NAME`, U as `u.NAME`; rho (exact decimal) and rounds (JSON) in the
    /// metadata. Saved inside each round's checkpoint as [`STATE_FILE`].
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut all = NamedTensors::new();
        for (prefix, map) in [("z", &self.z), ("u", &self.u)] {
            all.extend(map.iter().map(|(n, t)| (format!("{prefix}.{n}"), t.clone())));
        }
        let meta =
            [("rho", self.rho.to_string()), ("rounds", serde_json::to_string(&self.rounds).expect("serialises"))];
        tensors_to_bytes(&all, &meta).map_err(|e| GohspError::Internal(format!("{STATE_FILE}: {e}")))
    }

    /// Read what [`AdmmState::to_bytes`] wrote; `origin` names the file in errors. Every field must be present and
    /// parse: nothing is defaulted.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<Self> {
        let bad = |what: String| GohspError::Internal(format!("{}: {what}", origin.display()));
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let field = |key: &str| meta.get(key).ok_or_else(|| bad(format!("metadata field `{key}` is missing")));
        let rho: f64 = field("rho")?.parse().map_err(|e| bad(format!("metadata field `rho`: {e}")))?;
        let rounds: Vec<AdmmRound> =
            serde_json::from_str(field("rounds")?).map_err(|e| bad(format!("metadata field `rounds`: {e}")))?;
        let tensors = tensors_from_bytes(bytes, origin)?;
        let pick = |prefix: &str| -> NamedTensors {
            tensors.iter().filter_map(|(n, t)| n.strip_prefix(prefix).map(|s| (s.to_string(), t.clone()))).collect()
        };
        let (z, u) = (pick("z."), pick("u."));
        if z.is_empty() || z.len() != u.len() {
            return Err(bad(format!("{} Z and {} U tensors (want the same non-zero count)", z.len(), u.len())));
        }
        Ok(Self { z, u, rho, rounds })
    }
}

#[cfg(test)]
mod persistence_tests {
    use super::*;
    use crate::model::host::HostTensor;

    fn state() -> AdmmState {
        let t = |v: f32| HostTensor { data: vec![v, -v], shape: vec![2] };
        AdmmState {
            z: [("a".to_string(), t(1.0))].into(),
            u: [("a".to_string(), t(0.5))].into(),
            rho: 0.1 * 3.0,
            rounds: vec![AdmmRound {
                round: 1,
                primal_residual: 0.25,
                dual_residual: 1.0 / 3.0,
                rho: 0.1,
                hard_pruned_top1: 12.5,
                loss: 2.0,
            }],
        }
    }

    #[test]
    fn round_trips_exactly() {
        let s = state();
        let back = AdmmState::from_bytes(&s.to_bytes().unwrap(), Path::new("x")).unwrap();
        assert_eq!(back.rho.to_bits(), s.rho.to_bits());
        assert_eq!(back.z, s.z);
        assert_eq!(back.u, s.u);
        assert_eq!(back.rounds[0].dual_residual.to_bits(), s.rounds[0].dual_residual.to_bits());
    }

    #[test]
    fn a_missing_rho_or_rounds_is_an_error_not_a_default() {
        let s = state();
        for (drop, kept) in [("rho", "rounds"), ("rounds", "rho")] {
            let mut all = NamedTensors::new();
            all.insert("z.a".into(), s.z["a"].clone());
            all.insert("u.a".into(), s.u["a"].clone());
            let value = if kept == "rho" { s.rho.to_string() } else { serde_json::to_string(&s.rounds).unwrap() };
            let bytes = tensors_to_bytes(&all, &[(kept, value)]).unwrap();
            let err = AdmmState::from_bytes(&bytes, Path::new("state.safetensors")).unwrap_err().to_string();
            assert!(err.contains(&format!("`{drop}` is missing")), "{err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::host::HostTensor;
    use crate::model::init::init_tensors;

    fn tensors(values: &[(&str, Vec<f32>)]) -> NamedTensors {
        values.iter().map(|(n, v)| (n.to_string(), HostTensor::new(vec![v.len()], v.clone()))).collect()
    }

    #[test]
    fn combine_and_frobenius_follow_their_formulas() {
        let a = tensors(&[("x", vec![1.0, 2.0]), ("y", vec![3.0])]);
        let b = tensors(&[("x", vec![0.5, -1.0]), ("y", vec![1.0])]);
        assert_eq!(combine(&a, &b, -1.0), tensors(&[("x", vec![0.5, 3.0]), ("y", vec![2.0])]));
        assert_eq!(combine(&a, &b, 2.0), tensors(&[("x", vec![2.0, 0.0]), ("y", vec![5.0])]));
        assert!((frobenius(&a) - 14f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn set_rho_keeps_the_unscaled_multiplier() {
        let u = tensors(&[("x", vec![1.0, -2.0]), ("y", vec![0.25])]);
        let mut state = AdmmState { z: u.clone(), u: u.clone(), rho: 0.1, rounds: vec![] };
        state.set_rho(0.4);
        assert_eq!(state.rho, 0.4);
        assert_eq!(state.u, tensors(&[("x", vec![0.25, -0.5]), ("y", vec![0.0625])]));
        assert_eq!(state.z, u, "Z is not touched");
        state.set_rho(0.4);
        assert_eq!(state.u["x"].data, vec![0.25, -0.5], "an unchanged rho leaves U");
    }

    #[test]
    fn the_projection_zeroes_the_removed_heads_and_the_weakest_neurons() {
        let shape = VitShape::uniform(28, 7, 1, 10, 8, 2, 2, 2.0);
        let mut v = prunable(&shape, &init_tensors(&shape, 4));
        // Make neuron 5 of block 1 the strongest by far.
        v.get_mut("blocks.1.mlp.fc1.weight").unwrap().data[5 * 8] = 50.0;
        let constraint = Constraint {
            heads: vec![vec![false, true], vec![true, true]],
            neurons_removed: 31,
            min_neurons: 0,
            pairs_removed: 0,
            min_head_dims: 1,
        };
        let (z, mask) = project(&shape, &v, &constraint);
        assert_eq!(crate::prune::select::kept_per_block(&mask.neurons), vec![0, 1]);
        assert!(mask.neurons[1][5]);
        assert_eq!(
            super::super::norms::neuron_norms(&shape, &z)[1][5],
            super::super::norms::neuron_norms(&shape, &v)[1][5]
        );
        let heads = super::super::norms::head_norms(&shape, &z);
        assert_eq!(heads[0][0], 0.0);
        assert!(heads[0][1] > 0.0 && heads[1].iter().all(|&h| h > 0.0));
        // Projecting twice changes nothing.
        assert_eq!(project(&shape, &z, &constraint).0, z);
    }
}
