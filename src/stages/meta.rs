//! What the seeded stages (pretrain, rank, admm, prune, finetune) share: their kind, node label, seed and runtime.

use super::runtime::Runtime;
use crate::pipeline::stage::StageKind;
use std::sync::Arc;

/// The common part of a seeded stage; its `kind()` and `label()` answer the `Stage` trait's questions.
pub(crate) struct StageMeta {
    /// Which kind of stage this is.
    pub(crate) kind: StageKind,
    /// The node label, e.g. `finetune[method=gohsp,sparsity=0.3]`.
    pub(crate) label: String,
    /// Seed of the initialisation, batch order or calibration order.
    pub(crate) seed: u64,
    /// Device and data.
    pub(crate) runtime: Arc<Runtime>,
}

impl StageMeta {
    /// The common part of a `kind` stage labelled `label`.
    pub(crate) fn new(kind: StageKind, label: String, seed: u64, runtime: &Arc<Runtime>) -> Self {
        Self { kind, label, seed, runtime: runtime.clone() }
    }

    /// The stage kind.
    pub(crate) fn kind(&self) -> StageKind {
        self.kind
    }

    /// The node label.
    pub(crate) fn label(&self) -> String {
        self.label.clone()
    }
}

/// The `kind()` and `label()` of a `Stage` impl: `stage_identity!(meta)` for a stage whose `meta` field is a
/// [`StageMeta`], or `stage_identity!(StageKind::Evaluate, "evaluate", subject)` for a fixed kind and a label
/// `evaluate[<subject>]`.
macro_rules! stage_identity {
    (meta) => {
        fn kind(&self) -> $crate::pipeline::stage::StageKind {
            self.meta.kind()
        }

        fn label(&self) -> String {
            self.meta.label()
        }
    };
    ($kind:expr, $name:literal, $field:ident) => {
        fn kind(&self) -> $crate::pipeline::stage::StageKind {
            $kind
        }

        fn label(&self) -> String {
            format!(concat!($name, "[{}]"), self.$field)
        }
    };
}
pub(crate) use stage_identity;
