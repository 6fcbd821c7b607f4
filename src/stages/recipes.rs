//! Translating spec sections into training recipes (and the equal-budget rule for baselines' fine-tuning).

use crate::experiment::types::{AdmmSpec, DistillSpec, FinetuneSpec, TrainSpec};
use crate::train::trainer::TrainConfig;

/// The trainer's settings for `recipe` (pre-training's or fine-tuning's) run for `epochs` epochs.
pub(crate) fn train_config(recipe: &TrainSpec, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        lr: recipe.lr,
        min_lr: recipe.min_lr,
        warmup_frac: recipe.warmup_frac,
        weight_decay: recipe.weight_decay,
        grad_clip: recipe.grad_clip,
    }
}

/// Fine-tuning epochs under the equal-budget rule: methods without ADMM also get ADMM's epochs.
pub(crate) fn finetune_epochs(finetune: &FinetuneSpec, admm: &AdmmSpec, uses_admm: bool) -> usize {
    let epochs = finetune.recipe.epochs;
    if uses_admm { epochs } else { epochs + admm.rounds * admm.epochs_per_round }
}

/// The recipe of ADMM's W-step: fine-tuning's (warm-up share, cosine decay to `finetune.min_lr`, weight decay and
/// clip) stretched over all rounds' epochs, peaking at `admm.lr` when a spec sets it and at `finetune.lr` otherwise
/// (an `admm.lr` below `finetune.min_lr` decays to itself, never up).
pub(crate) fn admm_config(admm: &AdmmSpec, finetune: &FinetuneSpec) -> TrainConfig {
    let recipe = &finetune.recipe;
    let lr = admm.lr.unwrap_or(recipe.lr);
    TrainConfig { lr, min_lr: recipe.min_lr.min(lr), ..train_config(recipe, admm.rounds * admm.epochs_per_round) }
}

/// The W-step's distillation: `admm.distill` when a spec sets it (alpha 0 = plain cross-entropy), else fine-tuning's.
pub(crate) fn admm_distill(admm: &AdmmSpec, finetune: &FinetuneSpec) -> Option<DistillSpec> {
    admm.distill.clone().or_else(|| finetune.distill.clone()).filter(|d| d.alpha > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_get_admm_epochs_added_to_fine_tuning() {
        let (f, a) = (
            FinetuneSpec { recipe: TrainSpec { epochs: 5, ..Default::default() }, ..Default::default() },
            AdmmSpec { rounds: 4, epochs_per_round: 2, ..Default::default() },
        );
        assert_eq!(finetune_epochs(&f, &a, true), 5);
        assert_eq!(finetune_epochs(&f, &a, false), 13);
    }

    #[test]
    fn the_w_step_runs_fine_tunings_recipe_unless_overridden() {
        let finetune = FinetuneSpec::default();
        let admm = AdmmSpec { rounds: 3, epochs_per_round: 2, ..Default::default() };
        let config = admm_config(&admm, &finetune);
        assert_eq!(config, TrainConfig { epochs: 6, ..train_config(&finetune.recipe, 6) });
        assert_eq!((config.lr, config.warmup_frac), (finetune.recipe.lr, finetune.recipe.warmup_frac));
        assert_eq!(admm_distill(&admm, &finetune), finetune.distill);
        let own = AdmmSpec { lr: Some(1e-4), distill: Some(DistillSpec { alpha: 0.0, temperature: 2.0 }), ..admm };
        assert_eq!(admm_config(&own, &finetune).lr, 1e-4);
        assert_eq!(admm_config(&AdmmSpec { lr: Some(1e-7), ..own.clone() }, &finetune).min_lr, 1e-7);
        assert_eq!(admm_distill(&own, &finetune), None, "alpha 0 is plain cross-entropy");
        let plain = FinetuneSpec { distill: None, ..finetune };
        assert_eq!(admm_distill(&AdmmSpec::default(), &plain), None);
    }
}
