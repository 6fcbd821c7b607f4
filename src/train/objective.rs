//! Training objectives: label-smoothed cross-entropy, and distillation from a teacher's logits.

use crate::model::vit::Vit;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor};

/// What one training step minimises. `loss` returns the scalar loss and the student's logits.
pub trait Objective: Sync {
    /// The loss for one batch on `model` (an autodiff model), and its logits.
    fn loss(&self, model: &Vit, images: Tensor<4>, labels: Tensor<1, Int>) -> (Tensor<1>, Tensor<2>);
}

/// Cross-entropy with optional label smoothing.
pub struct CrossEntropy {
    loss: CrossEntropyLoss,
}

impl CrossEntropy {
    /// Cross-entropy with `smoothing` (0 = none) on `device`.
    pub fn new(smoothing: f64, device: &Device) -> Self {
        let smoothing = (smoothing > 0.0).then_some(smoothing as f32);
        Self { loss: CrossEntropyLossConfig::new().with_smoothing(smoothing).init(device) }
    }

    /// The loss of `logits` against `labels`.
    pub fn of(&self, logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
        self.loss.forward(logits, labels)
    }
}

impl Objective for CrossEntropy {
    fn loss(&self, model: &Vit, images: Tensor<4>, labels: Tensor<1, Int>) -> (Tensor<1>, Tensor<2>) {
        let logits = model.forward(images);
        (self.of(logits.clone(), labels), logits)
    }
}

/// (1 - alpha) CE + alpha T^2 KL(teacher_T || student_T), the teacher run without gradients.
pub struct Distillation {
    /// The hard-label part.
    pub cross_entropy: CrossEntropy,
    /// The teacher (on the plain, non-autodiff device).
    pub teacher: Vit,
    /// Weight of the distillation term.
    pub alpha: f64,
    /// Softmax temperature.
    pub temperature: f64,
}

/// KL(p_teacher || p_student) at temperature `t`, averaged over the batch.
pub fn kl_divergence(student_logits: Tensor<2>, teacher_logits: Tensor<2>, t: f64) -> Tensor<1> {
    let batch = student_logits.dims()[0] as f64;
    let log_student = log_softmax(student_logits.div_scalar(t), 1);
    let log_teacher = log_softmax(teacher_logits.clone().div_scalar(t), 1);
    let teacher = softmax(teacher_logits.div_scalar(t), 1);
    (teacher * (log_teacher - log_student)).sum().div_scalar(batch).reshape([1])
}

impl Objective for Distillation {
    fn loss(&self, model: &Vit, images: Tensor<4>, labels: Tensor<1, Int>) -> (Tensor<1>, Tensor<2>) {
        // The teacher runs on the plain device: its logits join the loss as a constant, with no copy to the host.
        let teacher_logits = self.teacher.forward(images.clone().inner());
        let logits = model.forward(images);
        let hard = self.cross_entropy.of(logits.clone(), labels);
        let soft = kl_divergence(logits.clone(), teacher_logits, self.temperature);
        let t2 = self.temperature * self.temperature;
        (hard.mul_scalar(1.0 - self.alpha) + soft.mul_scalar(self.alpha * t2), logits)
    }
}
