//! ADMM rounds (DESIGN.md section 4): W-step epochs on the augmented loss, Z-step projection, U-step, rho schedule.

use super::admm_penalty::{AdmmObjective, PenaltyTargets};
use super::admm_state::{AdmmState, Constraint, STATE_FILE, combine, frobenius, project, prunable};
use super::mask::StructureMask;
use crate::data::loader::Loader;
use crate::error::{GohspError, Result};
use crate::eval::accuracy;
use crate::model::build::{build_vit, vit_tensors};
use crate::model::vit::Vit;
use crate::report::plot_admm::AdmmRound;
use crate::train::checkpoint::{CheckpointDir, Extras, Progress};
use crate::train::log::EpochLog;
use crate::train::objective::Objective;
use crate::train::trainer::{Trainer, log_epoch};
use burn::tensor::Device;
use std::path::Path;

/// The rho schedule and round counts.
#[derive(Clone, Debug, PartialEq)]
pub struct AdmmSchedule {
    /// Rounds.
    pub rounds: usize,
    /// W-step epochs per round.
    pub epochs_per_round: usize,
    /// Initial rho.
    pub rho: f64,
    /// Growth factor per round.
    pub rho_growth: f64,
    /// Cap.
    pub rho_max: f64,
}

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
    schedule: &AdmmSchedule,
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
            let (z, _) = project(&shape, &w, constraint);
            let u = combine(&w, &w, -1.0);
            (Progress::default(), AdmmState { z, u, rho: schedule.rho, rounds: vec![] })
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
        state.rho = (state.rho * schedule.rho_growth).min(schedule.rho_max);
        progress.epochs_done = progress.logs.len();
        let extras = Extras::from([(STATE_FILE.to_string(), state.to_bytes()?)]);
        trainer.save_checkpoint(&checkpoints, &model, &progress, &extras)?;
        crate::train::interrupt::stop_if_requested("admm", progress.epochs_done)?;
    }
    // The final structure is the support of the last Z: projecting Z onto S again keeps exactly its non-zero groups.
    let (_, mask) = project(&shape, &state.z, constraint);
    Ok(AdmmResult { model, mask, rounds: state.rounds, logs: progress.logs })
}

/// Z = proj(W + U), U = U + W - Z; returns the round's residuals and the hard-pruned accuracy.
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
    let w = prunable(&shape, &all);
    let (z, mask) = project(&shape, &combine(&w, &state.u, 1.0), constraint);
    let w_norm = frobenius(&w).max(1e-12);
    let primal = frobenius(&combine(&w, &z, -1.0)) / w_norm;
    let dual = state.rho * frobenius(&combine(&z, &state.z, -1.0)) / w_norm;
    state.u = combine(&combine(&state.u, &w, 1.0), &z, -1.0);
    state.z = z;
    let mut masked = all;
    mask.zero_removed(&shape, &mut masked);
    let hard = build_vit(&shape, &masked, plain, Path::new("<admm>"))?;
    let top1 = accuracy(&hard, test)?.top1;
    Ok(AdmmRound {
        round: round + 1,
        primal_residual: primal,
        dual_residual: dual,
        rho: state.rho,
        hard_pruned_top1: top1,
        loss: f64::NAN,
    })
}
