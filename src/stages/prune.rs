//! The prune stage: choose the structure (ADMM's support, or a baseline's scores) and slice the model physically.

use super::artifacts::{MASK_FILE, read_json, read_model, write_json, write_model};
use super::meta::StageMeta;
use super::meta::stage_identity;
use super::rank::{HeadPick, RANKING_FILE, RankMode};
use crate::error::Result;
use crate::eval::accuracy;
use crate::experiment::types::Method;
use crate::model::build::{build_vit, vit_tensors};
use crate::model::cost::param_count;
use crate::model::shape::BlockShape;
use crate::model::vit::Vit;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use crate::prune::admm_state::project;
use crate::prune::baselines::{GroupScores, Minimums, baseline_mask, weight_scores};
use crate::prune::budget::Budget;
use crate::prune::hard::slice_tensors;
use crate::prune::head_choice::{HeadChoice, check_ties};
use crate::prune::mask::StructureMask;
use crate::prune::rank::HeadRanking;
use crate::prune::taylor::taylor_scores;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

/// The file a prune stage writes beside the sliced model.
pub(crate) const PRUNE_FILE: &str = "prune.json";

/// What pruning did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PruneRecord {
    /// Method.
    pub method: Method,
    /// The budget.
    pub budget: Budget,
    /// Dense blocks.
    pub dense: Vec<BlockShape>,
    /// Pruned blocks.
    pub pruned: Vec<BlockShape>,
    /// Parameters after slicing.
    pub params: u64,
    /// Top-1 of the sliced model before fine-tuning.
    pub one_shot_top1: f64,
}

/// Whether a method trains with ADMM before slicing.
pub(crate) fn uses_admm(method: Method) -> bool {
    matches!(
        method,
        Method::Gohsp | Method::GohspMagnitudeHeads | Method::GohspRandomHeads | Method::GohspRandomHeadsGlobal
    )
}

/// Whether a method chooses its heads by a rank stage's scores (and so prunes the structure ADMM's projection picks).
pub(crate) fn ranks_heads(method: Method) -> bool {
    uses_admm(method) || method == Method::GohspOneShot
}

/// Slices one (method, sparsity, seed).
pub(crate) struct PruneStage {
    /// Kind, node label, seed and runtime.
    pub(crate) meta: StageMeta,
    /// Method.
    pub method: Method,
    /// Budget.
    pub budget: Budget,
    /// Per-block minimums.
    pub min: Minimums,
    /// Calibration images for Taylor scores.
    pub calib_samples: usize,
    /// q/k pairs kept at least per head (gohsp-one-shot's projection, as ADMM's).
    pub min_head_dims: usize,
}

impl Stage for PruneStage {
    stage_identity!(meta);

    fn params(&self) -> serde_json::Value {
        let mut params = json!({ "method": self.method, "budget": self.budget, "min_heads": self.min.heads, "min_neurons": self.min.neurons, "seed": self.meta.seed, "calib_samples": self.calib_samples });
        if self.method == Method::GohspOneShot {
            params["min_head_dims"] = json!(self.min_head_dims);
        }
        if self.method == Method::Taylor {
            // Revision 2: group scores sum |g * w| (they summed g * w signed before); other methods keep their keys.
            params["taylor_revision"] = json!(2);
        }
        params
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        let (model, mask) = if uses_admm(self.method) {
            let dir = ctx.input(StageKind::Admm)?;
            (read_model(dir, &self.meta.runtime.device)?.0, read_json::<StructureMask>(dir, MASK_FILE)?)
        } else if self.method == Method::GohspOneShot {
            let model = read_model(ctx.input(StageKind::Pretrain)?, &self.meta.runtime.device)?.0;
            let ranking: HeadRanking = read_json(ctx.input(StageKind::Rank)?, RANKING_FILE)?;
            let pick = HeadPick { mode: RankMode::Graph, choice: HeadChoice::Ranked, seed: self.meta.seed };
            let constraint = pick.constraint(&ranking, &self.budget, self.min, self.min_head_dims)?;
            let (_, mask) = project(&model.shape(), &vit_tensors(&model), &constraint);
            (model, mask)
        } else {
            let model = read_model(ctx.input(StageKind::Pretrain)?, &self.meta.runtime.device)?.0;
            let scores = self.scores(&model, ctx.input(StageKind::Pretrain)?)?;
            let mask = baseline_mask(self.method, &scores, &self.budget, self.min);
            let within_blocks = self.method == Method::Uniform;
            check_ties(&scores.heads, &mask.heads, self.min.heads, within_blocks, baseline_tie_words(self.method))?;
            (model, mask)
        };
        let shape = model.shape();
        let (sliced, manifest) = slice_tensors(&shape, &vit_tensors(&model), &mask);
        let pruned = build_vit(&manifest.shape, &sliced, &self.meta.runtime.device, Path::new("<sliced>"))?;
        let one_shot = accuracy(&pruned, &self.meta.runtime.test_loader(256)?)?.top1;
        tracing::info!(label = %self.meta.label, one_shot_top1 = format!("{one_shot:.2}"), heads = ?manifest.shape.blocks.iter().map(|b| b.heads).collect::<Vec<_>>(), "pruned");
        let record = PruneRecord {
            method: self.method,
            budget: self.budget,
            dense: shape.blocks.clone(),
            pruned: manifest.shape.blocks.clone(),
            params: param_count(&manifest.shape),
            one_shot_top1: one_shot,
        };
        write_json(&ctx.out_dir, PRUNE_FILE, &record)?;
        write_json(&ctx.out_dir, MASK_FILE, &mask)?;
        write_model(&ctx.out_dir, &pruned, Some(&manifest))
    }
}

/// The baseline's head criterion in tie errors, and how to separate tied heads.
fn baseline_tie_words(method: Method) -> (&'static str, &'static str) {
    match method {
        Method::Taylor => {
            ("Taylor", "heads with equal |g * w| sums (e.g. none reached by the loss) tie: raise rank.calib_samples")
        }
        Method::Random => ("random", "draw again with another seed"),
        _ => ("weight-norm", "heads with identical weights (copies, or all zero) cannot be ranked by norm"),
    }
}

impl PruneStage {
    fn scores(&self, model: &Vit, dense_dir: &Path) -> Result<GroupScores> {
        if self.method != Method::Taylor {
            return Ok(weight_scores(self.method, &model.shape(), &vit_tensors(model), self.meta.seed));
        }
        let (trainable, _) = read_model(dense_dir, &self.meta.runtime.train_device())?;
        taylor_scores(&trainable, &self.meta.runtime.calibration_loader(64, self.meta.seed)?, self.calib_samples)
    }
}
