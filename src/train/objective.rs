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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::build::build_vit;
    use crate::model::host::HostTensor;
    use crate::model::init::init_tensors;
    use crate::model::shape::VitShape;
    use burn::tensor::{Distribution, TensorData};
    use std::path::Path;

    fn matrix(rows: &[[f32; 3]], device: &Device) -> Tensor<2> {
        let data: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(data, vec![rows.len(), 3]), device)
    }

    #[test]
    fn kl_divergence_matches_a_hand_computation() {
        // Student [1,2,3], [0,0,0]; teacher [3,1,0], [1,-1,2]; sum_k p_k ln(p_k / q_k), averaged over the 2 rows,
        // with p = softmax(teacher / T), q = softmax(student / T), computed by hand (in f64) as 1.034935 at T = 1 and
        // 0.332129 at T = 2.
        let device = Device::flex();
        let student = matrix(&[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], &device);
        let teacher = matrix(&[[3.0, 1.0, 0.0], [1.0, -1.0, 2.0]], &device);
        for (t, want) in [(1.0, 1.034_935_3), (2.0, 0.332_129_4)] {
            let got = kl_divergence(student.clone(), teacher.clone(), t).into_scalar::<f32>();
            assert!((got - want).abs() < 1e-5, "T = {t}: {got} vs {want}");
        }
        assert!(kl_divergence(teacher.clone(), teacher, 4.0).into_scalar::<f32>().abs() < 1e-6);
    }

    /// ln sum exp(row) - row[label], averaged: cross-entropy from logits on the host.
    fn host_cross_entropy(logits: &HostTensor, labels: &[usize]) -> f64 {
        let k = logits.shape[1];
        let rows = logits.data.chunks(k).zip(labels);
        let total: f64 =
            rows.map(|(row, &y)| row.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln() - row[y] as f64).sum();
        total / labels.len() as f64
    }

    /// KL(softmax(teacher / t) || softmax(student / t)) on the host, averaged over rows.
    fn host_kl(student: &HostTensor, teacher: &HostTensor, t: f64) -> f64 {
        let k = student.shape[1];
        let softmax = |row: &[f32]| {
            let e: Vec<f64> = row.iter().map(|&v| (v as f64 / t).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(|v| v / s).collect::<Vec<_>>()
        };
        let pairs = student.data.chunks(k).zip(teacher.data.chunks(k));
        let total: f64 =
            pairs.map(|(s, te)| softmax(te).iter().zip(softmax(s)).map(|(p, q)| p * (p / q).ln()).sum::<f64>()).sum();
        total / student.shape[0] as f64
    }

    #[test]
    fn distillation_weighs_cross_entropy_and_tempered_kl() {
        let shape = VitShape::uniform(28, 7, 1, 10, 8, 1, 2, 2.0);
        let device = Device::flex();
        let student = build_vit(&shape, &init_tensors(&shape, 1), &device, Path::new("<student>")).unwrap();
        let teacher = build_vit(&shape, &init_tensors(&shape, 2), &device, Path::new("<teacher>")).unwrap();
        let images = Tensor::<4>::random([4, 1, 28, 28], Distribution::Normal(0.0, 1.0), &device);
        let labels = [3usize, 0, 9, 3];
        let label_tensor =
            Tensor::<1, Int>::from_data(TensorData::new(labels.map(|l| l as i64).to_vec(), vec![4]), &device);
        let s_logits = HostTensor::from_tensor(student.forward(images.clone()));
        let t_logits = HostTensor::from_tensor(teacher.forward(images.clone()));
        let (alpha, t) = (0.3, 4.0);
        let want =
            (1.0 - alpha) * host_cross_entropy(&s_logits, &labels) + alpha * t * t * host_kl(&s_logits, &t_logits, t);
        let kd = Distillation { cross_entropy: CrossEntropy::new(0.0, &device), teacher, alpha, temperature: t };
        let (loss, logits) = kd.loss(&student, images, label_tensor);
        assert_eq!(HostTensor::from_tensor(logits), s_logits);
        let got = loss.into_scalar::<f32>() as f64;
        assert!((got - want).abs() < 1e-4 * want.abs().max(1.0), "{got} vs {want}");
        assert!(
            host_kl(&s_logits, &t_logits, t) > 1e-4,
            "teacher and student must differ for the test to mean anything"
        );
    }
}
