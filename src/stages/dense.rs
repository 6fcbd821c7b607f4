//! The dense branch of the DAG: opening each dataset once, and the dense model (trained or loaded) with its evaluation.

use super::evaluate::EvaluateStage;
use super::meta::StageMeta;
use super::names::{DENSE_AXES, axes_of};
use super::pretrain::{PretrainStage, Weights};
use super::runtime::Runtime;
use super::shape::resolve_shape;
use crate::error::{GohspError, Result};
use crate::experiment::load::GridPoint;
use crate::experiment::types::Spec;
use crate::model::build::check_tensors;
use crate::model::header::read_checkpoint_shapes;
use crate::model::hub_config::config_beside;
use crate::model::io::checkpoint_shape;
use crate::model::shape::VitShape;
use crate::pipeline::dag::{NodeId, Plan};
use crate::pipeline::fingerprint_cache::FingerprintCache;
use crate::pipeline::stage::StageKind;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Opens datasets as they are first needed, once per distinct dataset spec and device.
#[derive(Default)]
pub(crate) struct Runtimes {
    opened: BTreeMap<String, Arc<Runtime>>,
    fingerprints: Option<Arc<FingerprintCache>>,
}

impl Runtimes {
    /// Runtimes that take dataset fingerprints and file digests from `fingerprints` while their sources are unchanged.
    pub(crate) fn with_fingerprints(fingerprints: Arc<FingerprintCache>) -> Self {
        Self { opened: BTreeMap::new(), fingerprints: Some(fingerprints) }
    }

    /// The runtime for `spec`'s dataset and device.
    pub(crate) fn get(&mut self, spec: &Spec) -> Result<Arc<Runtime>> {
        let id = serde_json::to_string(&(&spec.dataset, spec.device, &spec.model)).expect("serialises");
        if let Some(rt) = self.opened.get(&id) {
            return Ok(rt.clone());
        }
        let side = crate::model::presets::preset(&spec.model.preset, 10)?.image_size;
        let side = spec.model.image_size.unwrap_or(side);
        let rt = Runtime::open_cached(&spec.dataset, spec.device, side, self.fingerprints.clone())?;
        self.opened.insert(id, rt.clone());
        Ok(rt)
    }
}

/// The nodes of the dense branch of a point.
pub(crate) struct DenseNodes {
    /// The dense model.
    pub model: NodeId,
    /// Its evaluation.
    pub eval: NodeId,
    /// Its architecture.
    pub shape: VitShape,
}

/// Add the dense model and its evaluation (deduplicated across points by key).
pub(crate) fn add_dense(plan: &mut Plan, point: &GridPoint, rt: &Arc<Runtime>, file: &Path) -> Result<DenseNodes> {
    let spec = &point.spec;
    let axes = axes_of(point, DENSE_AXES);
    let fp = rt.fingerprint();
    let (weights, shape) = match &spec.model.weights {
        Some(path) => {
            let ckpt = read_checkpoint_shapes(path)?;
            let shape = checkpoint_shape(&ckpt, spec.model.heads, path)?;
            check_tensors(&shape, &ckpt.tensors, path)?;
            // The key records the head count the file resolved to (config.json, model.heads or a known width) and
            // the config.json's digest when there is one, since its eps shapes the model too.
            let config = config_beside(path)?.map(|c| rt.file_digest(&c.path)).transpose()?;
            let heads_hint = shape.blocks.first().map(|b| b.heads);
            (Some(Weights { path: path.clone(), digest: rt.file_digest(path)?, heads_hint, config }), shape)
        }
        None => (None, resolve_shape(&spec.model, rt.info())?),
    };
    if rt.info().classes > shape.num_classes {
        let message = format!(
            "the model has {} outputs but dataset `{}` has {} classes",
            shape.num_classes,
            spec.dataset.name,
            rt.info().classes
        );
        return Err(GohspError::spec(
            file.display().to_string(),
            "model.num_classes",
            message,
            "use weights trained for this dataset, or set model.num_classes",
        ));
    }
    let pretrain = PretrainStage {
        meta: StageMeta::new(StageKind::Pretrain, format!("dense[{axes}]"), spec.seed, rt),
        shape: shape.clone(),
        weights,
        train: spec.pretrain.clone(),
    };
    let model = plan.add(Arc::new(pretrain), &[], &fp);
    let evaluate = EvaluateStage {
        runtime: rt.clone(),
        spec: spec.evaluate.clone(),
        subject: format!("dense,{axes}"),
        model_kind: StageKind::Pretrain,
    };
    let eval = plan.add(Arc::new(evaluate), &[model], &fp);
    Ok(DenseNodes { model, eval, shape })
}
