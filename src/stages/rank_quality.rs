//! The rank-quality stage (`report.rank_quality`): every head criterion of one dense model judged against the oracle
//! of masking one head at a time, on the held-out images (the `dataset.holdout` split when there is one, else the
//! test split), with each criterion's masking curve. It reads the dense model and the spec's graph rankings of it.

use super::artifacts::{read_json, read_model, write_json};
use super::meta::StageMeta;
use super::meta::stage_identity;
use super::rank::RANKING_FILE;
use crate::error::Result;
use crate::model::build::vit_tensors;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use crate::prune::head_oracle::{HeldOut, masking_curve, oracle};
use crate::prune::norms::head_norms;
use crate::prune::rank::HeadRanking;
use crate::prune::select::random_scores;
use crate::prune::taylor::taylor_scores;
use crate::report::rank_quality::{RankQuality, judge};
use serde_json::json;

/// The file a rank-quality stage writes.
pub(crate) const RANK_QUALITY_FILE: &str = "rank_quality.json";

/// Bumped whenever the stage computes something else for the same inputs.
const RANK_QUALITY_REVISION: u32 = 1;

/// Judges the head criteria of one dense model.
pub(crate) struct RankQualityStage {
    /// Kind, node label, seed and runtime.
    pub(crate) meta: StageMeta,
    /// The names of the graph rankings among the inputs, in input order.
    pub graphs: Vec<String>,
    /// Calibration images of the Taylor criterion (`rank.calib_samples`, as the taylor baseline uses).
    pub calib_samples: usize,
}

impl Stage for RankQualityStage {
    stage_identity!(meta);

    fn params(&self) -> serde_json::Value {
        json!({ "graphs": self.graphs, "calib_samples": self.calib_samples, "seed": self.meta.seed, "revision": RANK_QUALITY_REVISION })
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        let runtime = &self.meta.runtime;
        let dense_dir = ctx.input(StageKind::Pretrain)?;
        let (model, _) = read_model(dense_dir, &runtime.device)?;
        let (shape, tensors) = (model.shape(), vit_tensors(&model));
        let held = HeldOut::load(&runtime.test_loader(256)?, &runtime.device)?;
        let (dense, increase) = oracle(&shape, &tensors, &held)?;
        let max_k = shape.blocks.iter().map(|b| b.heads).sum::<usize>() / 2;
        let mut criteria = Vec::new();
        for (name, scores) in self.criteria(ctx, &model)? {
            tracing::info!(label = %self.meta.label, criterion = %name, "masking curve");
            let curve = masking_curve(&shape, &tensors, &scores, max_k, &held)?;
            criteria.push(judge(&name, scores, &increase, curve));
        }
        for c in &criteria {
            tracing::info!(label = %self.meta.label, criterion = %c.name, spearman = ?c.global.spearman, kendall = ?c.global.kendall, "rank quality");
        }
        let record = RankQuality { seed: self.meta.seed, dense, images: held.images(), oracle: increase, criteria };
        write_json(&ctx.out_dir, RANK_QUALITY_FILE, &record)
    }
}

impl RankQualityStage {
    /// Every criterion's head scores (higher = more important): the graph rankings, then weight norm (as
    /// gohsp-magnitude-heads ranks), Taylor (as the taylor baseline scores heads) and seeded random scores.
    fn criteria(&self, ctx: &StageContext, model: &crate::model::vit::Vit) -> Result<Vec<(String, Vec<Vec<f64>>)>> {
        let mut criteria = Vec::new();
        for (name, input) in self.graphs.iter().zip(ctx.inputs_of(StageKind::Rank)) {
            let ranking: HeadRanking = read_json(&input.dir, RANKING_FILE)?;
            criteria.push((name.clone(), ranking.scores));
        }
        let shape = model.shape();
        criteria.push(("weight norm".to_string(), head_norms(&shape, &vit_tensors(model))));
        let runtime = &self.meta.runtime;
        let (trainable, _) = read_model(ctx.input(StageKind::Pretrain)?, &runtime.train_device())?;
        let calibration = runtime.calibration_loader(64, self.meta.seed)?;
        criteria.push(("taylor".to_string(), taylor_scores(&trainable, &calibration, self.calib_samples)?.heads));
        let heads: Vec<usize> = shape.blocks.iter().map(|b| b.heads).collect();
        criteria.push(("random".to_string(), random_scores(&heads, self.meta.seed)));
        Ok(criteria)
    }
}
