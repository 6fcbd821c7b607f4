//! Evaluation of a model artifact: top-1/top-5, params, MACs, and latency beside the dense model's in the same process.

use super::artifacts::{read_model, write_json};
use super::meta::stage_identity;
use super::runtime::Runtime;
use crate::error::Result;
use crate::eval::{Latency, Passes, accuracy, latency, paired_latency};
use crate::experiment::types::EvaluateSpec;
use crate::model::cost::cost;
use crate::model::vit::Vit;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// The file an evaluate stage writes.
pub(crate) const EVAL_FILE: &str = "eval.json";

/// What an evaluation measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct EvalRecord {
    /// Top-1 (%).
    pub top1: f64,
    /// Top-5 (%).
    pub top5: f64,
    /// Test images.
    pub images: usize,
    /// Number of classes (top-5 is reported from 100 on).
    pub classes: usize,
    /// Parameters.
    pub params: u64,
    /// MACs per image.
    pub macs: u64,
    /// Latency per batch size.
    pub latency: Vec<Latency>,
    /// The dense model's latency measured in the same process (empty for the dense model itself).
    pub dense_latency: Vec<Latency>,
    /// Rayon threads used.
    pub threads: usize,
}

/// Evaluates the model of its first input; a second input, when given, is the dense model timed alongside.
pub(crate) struct EvaluateStage {
    /// Device and data.
    pub runtime: Arc<Runtime>,
    /// Settings.
    pub spec: EvaluateSpec,
    /// Which model this is (`dense` or a grid point name).
    pub subject: String,
    /// The kind of the stage whose model is evaluated.
    pub model_kind: StageKind,
}

impl Stage for EvaluateStage {
    stage_identity!(StageKind::Evaluate, "evaluate", subject);

    fn params(&self) -> serde_json::Value {
        json!({ "evaluate": self.spec, "model_kind": self.model_kind })
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        let device = &self.runtime.device;
        let (model, _) = read_model(ctx.input(self.model_kind)?, device)?;
        let dense =
            match ctx.inputs.iter().find(|i| i.kind == StageKind::Pretrain && self.model_kind != StageKind::Pretrain) {
                Some(input) => Some(read_model(&input.dir, device)?.0),
                None => None,
            };
        let acc = accuracy(&model, &self.runtime.test_loader(self.spec.batch)?)?;
        let report = cost(&model.shape());
        let (latency, dense_latency) = self.latencies(&model, dense.as_ref());
        let record = EvalRecord {
            top1: acc.top1,
            top5: acc.top5,
            images: acc.images,
            classes: model.shape().num_classes,
            params: report.params,
            macs: report.macs,
            latency,
            dense_latency,
            threads: rayon::current_num_threads(),
        };
        tracing::info!(subject = %self.subject, top1 = format!("{:.2}", record.top1), params = record.params, "evaluated");
        write_json(&ctx.out_dir, EVAL_FILE, &record)
    }
}

impl EvaluateStage {
    /// The model's latency at each batch size and, when a dense model is given, the dense model's, the two timed
    /// interleaved (`paired_latency`).
    fn latencies(&self, model: &Vit, dense: Option<&Vit>) -> (Vec<Latency>, Vec<Latency>) {
        let passes =
            Passes { warmup: self.spec.warmup, runs: self.spec.latency_runs, min_seconds: self.spec.latency_seconds };
        let batches = self.spec.latency_batches.iter().copied();
        match dense {
            Some(dense) => batches.map(|b| paired_latency(model, dense, b, passes)).unzip(),
            None => (batches.map(|b| latency(model, b, passes)).collect(), Vec::new()),
        }
    }
}
