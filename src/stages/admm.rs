//! The ADMM stage: fix the lowest-ranked heads, then impose the budgeted neuron sparsity by ADMM rounds on the dense model.

use super::artifacts::{MASK_FILE, read_json, read_model, write_json, write_model};
use super::meta::StageMeta;
use super::meta::stage_identity;
use super::rank::{HeadPick, RANKING_FILE};
use super::recipes::{admm_config, admm_distill};
use crate::error::Result;
use crate::experiment::types::{AdmmSpec, FinetuneSpec, RankSpec};
use crate::model::vit::Vit;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use crate::prune::admm::{AdmmData, run_admm};
use crate::prune::baselines::Minimums;
use crate::prune::budget::Budget;
use crate::prune::head_choice::HeadChoice;
use crate::prune::rank::HeadRanking;
use crate::train::objective::{CrossEntropy, Distillation, Objective};
use crate::train::trainer::Trainer;
use burn::tensor::Device;
use serde_json::json;

/// Bumped whenever ADMM computes something else for the same settings, so older cache entries are not reused.
/// 2: the scaled dual is rescaled on every rho change and the starting rho is capped at rho_max.
/// 3: the W-step runs the fine-tune recipe (its lr, warm-up and floor) and distils from the dense model by default.
pub(crate) const ADMM_REVISION: u32 = 3;

/// Runs ADMM for one (method, sparsity, seed).
pub(crate) struct AdmmStage {
    /// Kind, node label, seed and runtime.
    pub(crate) meta: StageMeta,
    /// ADMM settings.
    pub admm: AdmmSpec,
    /// Fine-tune settings (the W-step's recipe and distillation unless `admm.lr` / `admm.distill` override them).
    pub finetune: FinetuneSpec,
    /// Ranking settings (min_heads).
    pub rank: RankSpec,
    /// The budget, solved at planning time.
    pub budget: Budget,
    /// How the heads are picked from the ranking.
    pub pick: HeadPick,
}

impl Stage for AdmmStage {
    stage_identity!(meta);

    fn params(&self) -> serde_json::Value {
        // The W-step as it will run (the resolved recipe and distillation) is part of the key, not the fine-tune
        // section as a whole: changing finetune.epochs must not rerun ADMM.
        let config = admm_config(&self.admm, &self.finetune);
        let w_step = json!({ "lr": config.lr, "min_lr": config.min_lr, "warmup_frac": config.warmup_frac, "weight_decay": config.weight_decay, "grad_clip": config.grad_clip, "label_smoothing": self.finetune.recipe.label_smoothing, "distill": admm_distill(&self.admm, &self.finetune) });
        let mut params = json!({ "admm": admm_key(&self.admm), "w_step": w_step, "min_heads": self.rank.min_heads, "budget": self.budget, "seed": self.meta.seed, "revision": ADMM_REVISION });
        if self.pick.choice != HeadChoice::Ranked {
            params["heads"] = json!(self.pick.choice);
        }
        params
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        let device = self.meta.runtime.train_device();
        let (model, _) = read_model(ctx.input(StageKind::Pretrain)?, &device)?;
        let ranking: HeadRanking = read_json(ctx.input(StageKind::Rank)?, RANKING_FILE)?;
        let min = Minimums { heads: self.rank.min_heads, neurons: self.admm.min_neurons };
        let constraint = self.pick.constraint(&ranking, &self.budget, min, self.admm.min_head_dims)?;
        let train = self.meta.runtime.train_loader(self.admm.batch, self.meta.seed)?;
        let test = self.meta.runtime.test_loader(256)?;
        let mut trainer = Trainer::new(&admm_config(&self.admm, &self.finetune), &train, &self.meta.label);
        let teacher = || Ok(read_model(ctx.input(StageKind::Pretrain)?, &self.meta.runtime.device)?.0);
        let task = w_step_objective(&self.admm, &self.finetune, &device, teacher)?;
        let result = run_admm(
            model,
            &constraint,
            &self.admm,
            &mut trainer,
            task.as_ref(),
            &AdmmData { train: &train, test: &test },
            &ctx.work_dir,
        )?;
        write_json(&ctx.out_dir, MASK_FILE, &result.mask)?;
        write_json(&ctx.out_dir, "admm_log.json", &result.rounds)?;
        write_json(&ctx.out_dir, "train_log.json", &result.logs)?;
        write_model(&ctx.out_dir, &result.model, None)
    }
}

/// The task loss of the W-step (ADMM adds its penalty to it): fine-tuning's distillation from the dense model `teacher`
/// (plain device, read only when distilling) unless `admm.distill` overrides it, else label-smoothed cross-entropy.
pub(crate) fn w_step_objective(
    admm: &AdmmSpec,
    finetune: &FinetuneSpec,
    device: &Device,
    teacher: impl FnOnce() -> Result<Vit>,
) -> Result<Box<dyn Objective>> {
    let cross_entropy = CrossEntropy::new(finetune.recipe.label_smoothing, device);
    Ok(match admm_distill(admm, finetune) {
        Some(d) => {
            Box::new(Distillation { cross_entropy, teacher: teacher()?, alpha: d.alpha, temperature: d.temperature })
        }
        None => Box::new(cross_entropy),
    })
}

/// The ADMM settings as they enter the cache key: without q/k pruning (head_dims 0) its two keys change nothing, so
/// they are left out and keys of runs made before they existed still match.
fn admm_key(admm: &AdmmSpec) -> serde_json::Value {
    let mut value = serde_json::to_value(admm).expect("the ADMM spec serializes");
    // The W-step's lr and distillation enter the key resolved (as `w_step`), whichever section supplied them.
    value.as_object_mut().map(|o| (o.remove("lr"), o.remove("distill")));
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
        let before = ["batch", "epochs_per_round", "min_neurons", "rho", "rho_growth", "rho_max", "rounds"];
        assert_eq!(keys, before, "without head_dims its keys stay out; lr and distill enter resolved, as w_step");
        let pairs = admm_key(&AdmmSpec { head_dims: 0.5, ..plain });
        assert_eq!((pairs["head_dims"].as_f64(), pairs["min_head_dims"].as_u64()), (Some(0.5), Some(5)));
    }

    /// A micro student and a differently seeded teacher, four images and their labels.
    fn kd_fixture() -> (Vit, Vit, burn::tensor::Tensor<4>, burn::tensor::Tensor<1, burn::tensor::Int>) {
        use crate::model::build::build_vit;
        use crate::model::init::init_tensors;
        use crate::model::shape::VitShape;
        use burn::tensor::{Distribution, Int, Tensor, TensorData};
        let shape = VitShape::uniform(28, 7, 1, 10, 8, 1, 2, 2.0);
        let device = Device::flex();
        let build =
            |seed| build_vit(&shape, &init_tensors(&shape, seed), &device, std::path::Path::new("<m>")).unwrap();
        let images = Tensor::<4>::random([4, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![3i64, 0, 9, 3], vec![4]), &device);
        (build(1), build(2), images, labels)
    }

    #[test]
    fn the_default_w_step_distils_from_the_dense_model_like_fine_tuning() {
        use crate::train::objective::kl_divergence;
        let (student, teacher, images, labels) = kd_fixture();
        let device = Device::flex();
        let finetune = FinetuneSpec::default();
        let d = finetune.distill.clone().expect("fine-tuning distils by default");
        let teacher_logits = teacher.forward(images.clone());
        let objective = w_step_objective(&AdmmSpec::default(), &finetune, &device, || Ok(teacher)).unwrap();
        let (loss, logits) = objective.loss(&student, images.clone(), labels.clone());
        let ce = CrossEntropy::new(finetune.recipe.label_smoothing, &device).of(logits.clone(), labels.clone());
        let kd = kl_divergence(logits, teacher_logits, d.temperature).into_scalar::<f32>() as f64;
        let ce = ce.into_scalar::<f32>() as f64;
        let got = loss.into_scalar::<f32>() as f64;
        let want = (1.0 - d.alpha) * ce + d.alpha * d.temperature.powi(2) * kd;
        assert!(kd > 1e-4, "teacher and student must differ for the KD term to show");
        assert!((got - want).abs() < 1e-4 * want.abs().max(1.0), "W-step loss {got}, (1-a) CE + a T^2 KL = {want}");
        let plain = AdmmSpec {
            distill: Some(crate::experiment::types::DistillSpec { alpha: 0.0, temperature: 4.0 }),
            ..AdmmSpec::default()
        };
        let objective =
            w_step_objective(&plain, &finetune, &device, || panic!("no teacher without distillation")).unwrap();
        let (loss, logits) = objective.loss(&student, images, labels.clone());
        let ce = CrossEntropy::new(finetune.recipe.label_smoothing, &device).of(logits, labels);
        assert_eq!(loss.into_scalar::<f32>(), ce.into_scalar::<f32>(), "admm.distill alpha 0 is cross-entropy alone");
    }

    #[test]
    fn an_explicit_admm_lr_equal_to_the_default_keeps_the_admm_settings_key() {
        let explicit = AdmmSpec { lr: Some(5e-4), distill: Some(Default::default()), ..AdmmSpec::default() };
        assert_eq!(admm_key(&explicit), admm_key(&AdmmSpec::default()), "they enter the key resolved, as w_step");
    }
}
