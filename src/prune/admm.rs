//! ADMM rounds (docs/design.md section 4): W-step epochs on the augmented loss, Z-step projection, U-step, rho schedule
//! (the scaled dual U is rescaled by rho_old / rho_new whenever rho changes).

use super::admm_penalty::{AdmmObjective, PenaltyTargets};
use super::admm_spec::AdmmSpec;
use super::admm_state::{AdmmState, Constraint, STATE_FILE, combine, frobenius, project, prunable};
use super::mask::StructureMask;
use crate::data::loader::Loader;
use crate::error::{GohspError, Result};
use crate::eval::accuracy;
use crate::model::build::{build_vit, vit_tensors};
use crate::model::host::NamedTensors;
use crate::model::shape::VitShape;
use crate::model::vit::Vit;
use crate::prune::admm_round::AdmmRound;
use crate::train::checkpoint::{CheckpointDir, Extras, Progress};
use crate::train::log::EpochLog;
use crate::train::objective::Objective;
use crate::train::trainer::{Trainer, log_epoch};
use burn::tensor::Device;
use std::path::Path;

/// The outcome: trained W, the final structure (support of Z), per-round records and epoch logs.
pub struct AdmmResult {
    /// W after the last round (not yet sliced).
    pub model: Vit,
    /// The support of the last Z.
    pub mask: StructureMask,
    /// One record per round.
    pub rounds: Vec<AdmmRound>,
    /// W-step epochs.
    pub logs: Vec<EpochLog>,
}

/// The loaders ADMM trains and measures with.
pub struct AdmmData<'a> {
    /// Training batches.
    pub train: &'a Loader,
    /// Test batches (hard-pruned accuracy per round).
    pub test: &'a Loader,
}

/// Run ADMM on `model` (autodiff device), resuming from `work` when a previous run stopped between rounds.
pub fn run_admm(
    mut model: Vit,
    constraint: &Constraint,
    schedule: &AdmmSpec,
    trainer: &mut Trainer,
    task: &dyn Objective,
    data: &AdmmData,
    work: &Path,
) -> Result<AdmmResult> {
    let shape = model.shape();
    let checkpoints = CheckpointDir::new(work);
    let (mut progress, mut state) = match trainer.resume(&checkpoints, &model.device())? {
        Some((saved, progress, extras)) => {
            model = saved;
            let missing = || GohspError::Internal(format!("{}: checkpoint without {STATE_FILE}", work.display()));
            (progress, AdmmState::from_bytes(extras.get(STATE_FILE).ok_or_else(missing)?, &work.join(STATE_FILE))?)
        }
        None => {
            let w = prunable(&shape, &vit_tensors(&model));
            (Progress::default(), start_state(&shape, &w, constraint, schedule))
        }
    };
    let plain: Device = model.device().inner();
    for round in state.rounds.len()..schedule.rounds {
        let targets = PenaltyTargets::upload(&shape, &combine(&state.z, &state.u, -1.0), &model.device());
        let objective = AdmmObjective { task, targets, rho: state.rho };
        for e in 0..schedule.epochs_per_round {
            let (next, log) =
                trainer.run_epoch(model, &objective, data.train, round * schedule.epochs_per_round + e)?;
            model = next;
            log_epoch(&format!("admm round {}", round + 1), &log);
            progress.logs.push(log);
        }
        let mut record = z_and_u_step(&model, &mut state, constraint, data.test, &plain, round)?;
        record.loss = progress.logs.last().map(|l| l.loss).unwrap_or(f64::NAN);
        tracing::info!(
            round = record.round,
            primal = format!("{:.4}", record.primal_residual),
            dual = format!("{:.4}", record.dual_residual),
            hard_pruned_top1 = format!("{:.2}", record.hard_pruned_top1),
            rho = record.rho,
            "admm round done"
        );
        state.rounds.push(record);
        state.set_rho(next_rho(state.rho, schedule));
        progress.epochs_done = progress.logs.len();
        let extras = Extras::from([(STATE_FILE.to_string(), state.to_bytes()?)]);
        trainer.save_checkpoint(&checkpoints, &model, &progress, &extras)?;
        crate::train::interrupt::stop_if_requested("admm", progress.epochs_done)?;
    }
    // The final structure is the support of the last Z: projecting Z onto S again keeps exactly its non-zero groups.
    let (_, mask) = project(&shape, &state.z, constraint);
    Ok(AdmmResult { model, mask, rounds: state.rounds, logs: progress.logs })
}

/// The state before the first round: Z = proj(W), U = 0, rho = the starting rho capped at rho_max.
pub fn start_state(shape: &VitShape, w: &NamedTensors, constraint: &Constraint, schedule: &AdmmSpec) -> AdmmState {
    let (z, _) = project(shape, w, constraint);
    let u = combine(w, w, -1.0);
    AdmmState { z, u, rho: schedule.rho.min(schedule.rho_max), rounds: vec![] }
}

/// The rho of the next round: rho * rho_growth, capped at rho_max.
pub fn next_rho(rho: f64, schedule: &AdmmSpec) -> f64 {
    (rho * schedule.rho_growth).min(schedule.rho_max)
}

/// The residuals of one Z/U update, both relative to ||W||.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Residuals {
    /// ||W - Z|| / ||W||.
    pub primal: f64,
    /// rho * ||Z - Z_previous|| / ||W||.
    pub dual: f64,
}

/// Z = proj(W + U), U = U + W - Z on `state`, for the prunable tensors `w`; returns Z's support and the residuals.
pub fn update_z_and_u(
    shape: &VitShape,
    w: &NamedTensors,
    state: &mut AdmmState,
    constraint: &Constraint,
) -> (StructureMask, Residuals) {
    let (z, mask) = project(shape, &combine(w, &state.u, 1.0), constraint);
    let w_norm = frobenius(w).max(1e-12);
    let primal = frobenius(&combine(w, &z, -1.0)) / w_norm;
    let dual = state.rho * frobenius(&combine(&z, &state.z, -1.0)) / w_norm;
    state.u = combine(&combine(&state.u, w, 1.0), &z, -1.0);
    state.z = z;
    (mask, Residuals { primal, dual })
}

/// The Z and U step of one round on the trained W of `model`, and the accuracy of `model` hard-pruned to Z's support.
fn z_and_u_step(
    model: &Vit,
    state: &mut AdmmState,
    constraint: &Constraint,
    test: &Loader,
    plain: &Device,
    round: usize,
) -> Result<AdmmRound> {
    let shape = model.shape();
    let all = vit_tensors(model);
    let (mask, residuals) = update_z_and_u(&shape, &prunable(&shape, &all), state, constraint);
    let mut masked = all;
    mask.zero_removed(&shape, &mut masked);
    let hard = build_vit(&shape, &masked, plain, Path::new("<admm>"))?;
    let top1 = accuracy(&hard, test)?.top1;
    Ok(AdmmRound {
        round: round + 1,
        primal_residual: residuals.primal,
        dual_residual: residuals.dual,
        rho: state.rho,
        hard_pruned_top1: top1,
        loss: f64::NAN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::init::init_tensors;
    use crate::prune::select::removed_count;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// One block of dim 8, 2 heads of 4, MLP 16.
    fn toy_shape() -> VitShape {
        VitShape::uniform(28, 7, 1, 10, 8, 1, 2, 2.0)
    }

    /// The prunable tensors of `shape`, every value seeded in [-1, 1).
    fn target(shape: &VitShape, seed: u64) -> NamedTensors {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut a = prunable(shape, &init_tensors(shape, seed));
        a.values_mut().for_each(|t| t.data.iter_mut().for_each(|v| *v = rng.gen_range(-1.0f32..1.0)));
        a
    }

    /// Head 1 goes, 10 of 16 neurons go (at least 1 kept).
    fn toy_constraint() -> Constraint {
        Constraint {
            heads: vec![vec![true, false]],
            neurons_removed: 10,
            min_neurons: 1,
            pairs_removed: 0,
            min_head_dims: 1,
        }
    }

    /// The exact W-step of f(w) = ||w - a||^2: argmin f(w) + rho/2 ||w - z + u||^2 = (2a + rho (z - u)) / (2 + rho).
    fn w_step(a: &NamedTensors, state: &AdmmState) -> NamedTensors {
        let rho = state.rho as f32;
        let target = combine(&state.z, &state.u, -1.0);
        a.iter()
            .map(|(name, t)| {
                let mut w = t.clone();
                w.data.iter_mut().zip(&target[name].data).for_each(|(x, y)| *x = (2.0 * *x + rho * y) / (2.0 + rho));
                (name.clone(), w)
            })
            .collect()
    }

    /// Runs `rounds` rounds of ADMM on the toy problem; returns the last W, the last mask and every round's residuals.
    fn toy_admm(a: &NamedTensors, schedule: &AdmmSpec) -> (NamedTensors, StructureMask, Vec<Residuals>) {
        let (shape, constraint) = (toy_shape(), toy_constraint());
        let mut state = start_state(&shape, a, &constraint, schedule);
        let mut residuals = Vec::new();
        let mut last = None;
        for _ in 0..schedule.rounds {
            let w = w_step(a, &state);
            let (mask, r) = update_z_and_u(&shape, &w, &mut state, &constraint);
            residuals.push(r);
            state.set_rho(next_rho(state.rho, schedule));
            last = Some((w, mask));
        }
        let (w, mask) = last.expect("at least one round");
        (w, mask, residuals)
    }

    #[test]
    fn admm_converges_to_the_closed_form_constrained_optimum() {
        // min ||w - a||^2 s.t. w in S: the optimum is the projection of a, keeping its 6 largest neuron groups.
        let shape = toy_shape();
        let a = target(&shape, 7);
        let (optimum, best_mask) = project(&shape, &a, &toy_constraint());
        let schedule = AdmmSpec { rounds: 40, rho: 0.5, rho_growth: 1.3, rho_max: 50.0, ..AdmmSpec::default() };
        let (w, mask, residuals) = toy_admm(&a, &schedule);
        assert_eq!(mask, best_mask, "ADMM ends on the support of the optimum");
        assert_eq!(removed_count(&mask.neurons), 10);
        let gap = frobenius(&combine(&w, &optimum, -1.0)) / frobenius(&optimum);
        assert!(gap < 1e-3, "W is {gap} (relative) away from the optimum");
        let primal: Vec<f64> = residuals.iter().map(|r| r.primal).collect();
        assert!(primal[primal.len() - 1] < 1e-3 && primal[primal.len() - 1] < primal[0] / 100.0, "{primal:?}");
        assert!(primal.windows(2).skip(2).all(|p| p[1] <= p[0] + 1e-9), "the primal residual falls: {primal:?}");
        let dual: Vec<f64> = residuals.iter().map(|r| r.dual).collect();
        assert!(dual[dual.len() - 1] < dual[1] / 10.0, "the dual residual falls: {dual:?}");
    }

    #[test]
    fn the_scaled_dual_keeps_the_multiplier_when_rho_grows() {
        // At the fixed point the multiplier rho * U equals 2 (a - z), whatever rho is. rho grows every round here
        // (no cap is reached): an unrescaled U lags one growth step behind, so rho * U ends 1.3 times too large.
        let shape = toy_shape();
        let a = target(&shape, 8);
        let (optimum, _) = project(&shape, &a, &toy_constraint());
        let schedule = AdmmSpec { rounds: 40, rho: 0.5, rho_growth: 1.3, rho_max: 1e6, ..AdmmSpec::default() };
        let mut state = start_state(&shape, &a, &toy_constraint(), &schedule);
        for _ in 0..schedule.rounds {
            let w = w_step(&a, &state);
            update_z_and_u(&shape, &w, &mut state, &toy_constraint());
            state.set_rho(next_rho(state.rho, &schedule));
        }
        assert!((state.rho - 0.5 * 1.3f64.powi(40)).abs() < 1e-6 * state.rho, "rho {}", state.rho);
        let expected = combine(&a, &optimum, -1.0);
        let error: f64 = state
            .u
            .iter()
            .flat_map(|(n, u)| u.data.iter().zip(&expected[n].data))
            .map(|(u, e)| (state.rho * *u as f64 - 2.0 * *e as f64).abs())
            .fold(0.0, f64::max);
        assert!(error < 1e-3, "rho * U differs from 2 (a - z) by {error}");
    }

    #[test]
    fn rho_starts_capped_and_grows_to_the_cap() {
        let shape = toy_shape();
        let a = target(&shape, 9);
        let schedule = AdmmSpec { rounds: 3, rho: 5.0, rho_growth: 3.0, rho_max: 2.0, ..AdmmSpec::default() };
        let state = start_state(&shape, &a, &toy_constraint(), &schedule);
        assert_eq!(state.rho, 2.0);
        assert!(state.u.values().flat_map(|t| &t.data).all(|v| *v == 0.0));
        assert_eq!(frobenius(&state.z), frobenius(&project(&shape, &a, &toy_constraint()).0));
        let growing = AdmmSpec { rho: 0.1, ..schedule.clone() };
        assert!((next_rho(0.1, &growing) - 0.3).abs() < 1e-12);
        assert_eq!(next_rho(1.0, &growing), 2.0);
    }
}
