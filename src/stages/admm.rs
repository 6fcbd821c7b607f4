//! The ADMM stage: fix the lowest-ranked heads, then impose the budgeted neuron sparsity by ADMM rounds on the dense model.

use super::artifacts::{read_json, read_model, write_json, write_model};
use super::meta::StageMeta;
use super::rank::RANKING_FILE;
use super::recipes::admm_config;
use crate::error::Result;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use crate::prune::admm::{AdmmData, AdmmSchedule, run_admm};
use crate::prune::admm_state::Constraint;
use crate::prune::baselines::Minimums;
use crate::prune::budget::Budget;
use crate::prune::rank::HeadRanking;
use crate::prune::select::keep_top_global;
use crate::spec::types::{AdmmSpec, FinetuneSpec, RankSpec};
use crate::train::objective::CrossEntropy;
use crate::train::trainer::Trainer;
use serde_json::json;

/// The structure ADMM projects onto: the `budget`'s heads removed by lowest `ranking` score (at least `min.heads`
/// kept per block), and its neurons and q/k pairs chosen by the projection itself.
pub(crate) fn ranked_constraint(
    ranking: &HeadRanking,
    budget: &Budget,
    min: Minimums,
    min_head_dims: usize,
) -> Constraint {
    Constraint {
        heads: keep_top_global(&ranking.scores, budget.heads_removed, min.heads),
        neurons_removed: budget.neurons_removed,
        min_neurons: min.neurons,
        pairs_removed: budget.pairs_removed,
        min_head_dims,
    }
}

/// Bumped whenever ADMM computes something else for the same settings, so older cache entries are not reused.
/// 2: the scaled dual is rescaled on every rho change and the starting rho is capped at rho_max.
pub(crate) const ADMM_REVISION: u32 = 2;

/// The mask file ADMM and prune stages write.
pub(crate) const MASK_FILE: &str = "mask.json";

/// Runs ADMM for one (method, sparsity, seed).
pub(crate) struct AdmmStage {
    /// Kind, node label, seed and runtime.
    pub(crate) meta: StageMeta,
    /// ADMM settings.
    pub admm: AdmmSpec,
    /// Fine-tune settings (weight decay, clipping and label smoothing of the W-step).
    pub finetune: FinetuneSpec,
    /// Ranking settings (min_heads).
    pub rank: RankSpec,
    /// The budget, solved at planning time.
    pub budget: Budget,
}

impl Stage for AdmmStage {
    fn kind(&self) -> StageKind {
        self.meta.kind()
    }

    fn label(&self) -> String {
        self.meta.label()
    }

    fn params(&self) -> serde_json::Value {
        // Only the fine-tune settings the W-step uses are part of the key: changing finetune.lr must not rerun ADMM.
        let w_step = json!({ "weight_decay": self.finetune.recipe.weight_decay, "grad_clip": self.finetune.recipe.grad_clip, "label_smoothing": self.finetune.recipe.label_smoothing });
        json!({ "admm": admm_key(&self.admm), "w_step": w_step, "min_heads": self.rank.min_heads, "budget": self.budget, "seed": self.meta.seed, "revision": ADMM_REVISION })
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        let device = self.meta.runtime.train_device();
        let (model, _) = read_model(ctx.input(StageKind::Pretrain)?, &device)?;
        let ranking: HeadRanking = read_json(ctx.input(StageKind::Rank)?, RANKING_FILE)?;
        let min = Minimums { heads: self.rank.min_heads, neurons: self.admm.min_neurons };
        let constraint = ranked_constraint(&ranking, &self.budget, min, self.admm.min_head_dims);
        let schedule = AdmmSchedule {
            rounds: self.admm.rounds,
            epochs_per_round: self.admm.epochs_per_round,
            rho: self.admm.rho,
            rho_growth: self.admm.rho_growth,
            rho_max: self.admm.rho_max,
        };
        let train = self.meta.runtime.train_loader(self.admm.batch, self.meta.seed)?;
        let test = self.meta.runtime.test_loader(256)?;
        let mut trainer = Trainer::new(&admm_config(&self.admm, &self.finetune), &train, &self.meta.label);
        let task = CrossEntropy::new(self.finetune.recipe.label_smoothing, &device);
        let result = run_admm(
            model,
            &constraint,
            &schedule,
            &mut trainer,
            &task,
            &AdmmData { train: &train, test: &test },
            &ctx.work_dir,
        )?;
        write_json(&ctx.out_dir, MASK_FILE, &result.mask)?;
        write_json(&ctx.out_dir, "admm_log.json", &result.rounds)?;
        write_json(&ctx.out_dir, "train_log.json", &result.logs)?;
        write_model(&ctx.out_dir, &result.model, None)
    }
}

/// The ADMM settings as they enter the cache key: without q/k pruning (head_dims 0) its two keys change nothing, so
/// they are left out and keys of runs made before they existed still match.
fn admm_key(admm: &AdmmSpec) -> serde_json::Value {
    let mut value = serde_json::to_value(admm).expect("the ADMM spec serializes");
    if admm.head_dims == 0.0 {
        value.as_object_mut().map(|o| (o.remove("head_dims"), o.remove("min_head_dims")));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_names_query_key_settings_only_when_pairs_are_pruned() {
        let plain = AdmmSpec { min_head_dims: 5, ..AdmmSpec::default() };
        let keys: Vec<String> = admm_key(&plain).as_object().unwrap().keys().cloned().collect();
        let before = ["batch", "epochs_per_round", "lr", "min_neurons", "rho", "rho_growth", "rho_max", "rounds"];
        assert_eq!(keys, before, "the key of a run without head_dims is the one from before head_dims existed");
        let pairs = admm_key(&AdmmSpec { head_dims: 0.5, ..plain });
        assert_eq!((pairs["head_dims"].as_f64(), pairs["min_head_dims"].as_u64()), (Some(0.5), Some(5)));
    }
}
