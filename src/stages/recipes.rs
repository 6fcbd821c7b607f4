//! Translating spec sections into training recipes (and the equal-budget rule for baselines' fine-tuning).

use crate::spec::types::{AdmmSpec, FinetuneSpec, TrainSpec};
use crate::train::trainer::TrainConfig;

/// The recipe of dense pre-training.
pub(crate) fn pretrain_config(spec: &TrainSpec) -> TrainConfig {
    TrainConfig {
        epochs: spec.epochs,
        lr: spec.lr,
        min_lr: spec.min_lr,
        warmup_frac: spec.warmup_frac,
        weight_decay: spec.weight_decay,
        grad_clip: spec.grad_clip,
    }
}

/// The recipe of fine-tuning for `epochs` epochs.
pub(crate) fn finetune_config(spec: &FinetuneSpec, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        lr: spec.lr,
        min_lr: spec.min_lr,
        warmup_frac: spec.warmup_frac,
        weight_decay: spec.weight_decay,
        grad_clip: spec.grad_clip,
    }
}

/// Fine-tuning epochs under the equal-budget rule: methods without ADMM also get ADMM's epochs.
pub(crate) fn finetune_epochs(finetune: &FinetuneSpec, admm: &AdmmSpec, uses_admm: bool) -> usize {
    if uses_admm { finetune.epochs } else { finetune.epochs + admm.rounds * admm.epochs_per_round }
}

/// The recipe of ADMM's W-step: no warm-up, then one cosine decay from `admm.lr` to a tenth of it over all rounds'
/// epochs (the schedule of [`crate::train::schedule::Schedule`]), with fine-tuning's weight decay and clip.
pub(crate) fn admm_config(admm: &AdmmSpec, finetune: &FinetuneSpec) -> TrainConfig {
    TrainConfig {
        epochs: admm.rounds * admm.epochs_per_round,
        lr: admm.lr,
        min_lr: admm.lr * 0.1,
        warmup_frac: 0.0,
        weight_decay: finetune.weight_decay,
        grad_clip: finetune.grad_clip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baselines_get_admm_epochs_added_to_fine_tuning() {
        let (f, a) = (
            FinetuneSpec { epochs: 5, ..Default::default() },
            AdmmSpec { rounds: 4, epochs_per_round: 2, ..Default::default() },
        );
        assert_eq!(finetune_epochs(&f, &a, true), 5);
        assert_eq!(finetune_epochs(&f, &a, false), 13);
    }
}
