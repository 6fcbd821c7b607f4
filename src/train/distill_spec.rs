//! Distillation settings: how much of a student's loss comes from a teacher's softened outputs, and at what
//! temperature. Specs name them under `finetune.distill` and `admm.distill`.

use serde::{Deserialize, Serialize};

/// Distillation: loss = (1 - alpha) CE + alpha T^2 KL(teacher_T || student_T).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DistillSpec {
    /// Weight of the distillation term in [0, 1].
    pub alpha: f64,
    /// Softmax temperature.
    pub temperature: f64,
}
