//! Translating spec sections into training recipes (and the equal-budget rule for baselines' fine-tuning).

use crate::spec::types::{AdmmSpec, FinetuneSpec, TrainSpec};
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

/// The recipe of ADMM's W-step: no warm-up, then one cosine decay from `admm.lr` to a tenth of it over all rounds'
/// epochs (the schedule of [`crate::train::schedule::Schedule`]), with fine-tuning's weight decay and clip.
pub(crate) fn admm_config(admm: &AdmmSpec, finetune: &FinetuneSpec) -> TrainConfig {
    TrainConfig {
        epochs: admm.rounds * admm.epochs_per_round,
        lr: admm.lr,
        min_lr: admm.lr * 0.1,
        warmup_frac: 0.0,
        weight_decay: finetune.recipe.weight_decay,
        grad_clip: finetune.recipe.grad_clip,
    }
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
}
