//! The default value of every spec knob (docs/design.md section 5): what a spec file that sets nothing gets.

use super::types::{
    AdmmSpec, DatasetSpec, DeviceKind, DistillSpec, EvaluateSpec, FinetuneSpec, HeadShare, Method, ModelSpec, RankSpec,
    ReportSpec, Spec, TrainSpec,
};

impl Default for Spec {
    fn default() -> Self {
        Self {
            name: String::new(),
            seed: 0,
            device: DeviceKind::Cpu,
            model: ModelSpec::default(),
            dataset: DatasetSpec::default(),
            pretrain: TrainSpec::default(),
            method: Method::Gohsp,
            sparsity: 0.4,
            rank: RankSpec::default(),
            admm: AdmmSpec::default(),
            finetune: FinetuneSpec::default(),
            evaluate: EvaluateSpec::default(),
            report: ReportSpec::default(),
            export: Default::default(),
            executor: Default::default(),
        }
    }
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self {
            preset: "vit_mnist".to_string(),
            weights: None,
            image_size: None,
            patch_size: None,
            in_chans: None,
            num_classes: None,
            dim: None,
            depth: None,
            heads: None,
            mlp_ratio: None,
        }
    }
}

impl Default for DatasetSpec {
    fn default() -> Self {
        Self { name: "mnist5k".to_string(), root: None, limit: None, test_limit: None, augment: true, holdout: 0.0 }
    }
}

impl Default for TrainSpec {
    fn default() -> Self {
        Self {
            epochs: 20,
            lr: 2e-3,
            batch: 128,
            weight_decay: 0.05,
            warmup_frac: 0.15,
            min_lr: 1e-5,
            label_smoothing: 0.1,
            grad_clip: Some(1.0),
        }
    }
}

impl Default for RankSpec {
    fn default() -> Self {
        Self {
            calib_samples: 512,
            signal: Default::default(),
            similarity: Default::default(),
            direction: Default::default(),
            damping: 0.85,
            tol: 1e-10,
            max_iter: 1000,
            normalize: Default::default(),
            sink: Default::default(),
            teleport: Default::default(),
            min_heads: 1,
            head_share: HeadShare::Auto,
        }
    }
}

impl Default for AdmmSpec {
    fn default() -> Self {
        Self {
            rounds: 4,
            epochs_per_round: 1,
            rho: 1e-2,
            rho_growth: 3.0,
            rho_max: 1.0,
            lr: None,
            distill: None,
            batch: 128,
            min_neurons: 1,
            head_dims: 0.0,
            min_head_dims: 1,
        }
    }
}

impl Default for FinetuneSpec {
    fn default() -> Self {
        let recipe = TrainSpec {
            epochs: 5,
            lr: 5e-4,
            batch: 128,
            weight_decay: 0.05,
            warmup_frac: 0.1,
            min_lr: 1e-6,
            label_smoothing: 0.1,
            grad_clip: Some(1.0),
        };
        Self { recipe, distill: Some(DistillSpec::default()) }
    }
}

impl Default for DistillSpec {
    fn default() -> Self {
        Self { alpha: 0.5, temperature: 4.0 }
    }
}

impl Default for EvaluateSpec {
    fn default() -> Self {
        Self { latency_batches: vec![1, 64], latency_runs: 10, latency_seconds: 0.2, warmup: 3, batch: 256 }
    }
}

impl Default for ReportSpec {
    fn default() -> Self {
        Self {
            formats: ["md", "csv", "tex"].map(String::from).to_vec(),
            plots: ["svg", "png"].map(String::from).to_vec(),
            rank_quality: false,
            dir: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::types::{Direction, Normalize, Signal, Similarity};

    #[test]
    fn defaults_match_the_design() {
        let spec = Spec::default();
        assert_eq!(spec.model.preset, "vit_mnist");
        assert_eq!(spec.dataset.name, "mnist5k");
        assert!(spec.dataset.augment);
        assert_eq!((spec.pretrain.epochs, spec.pretrain.lr), (20, 2e-3));
        assert_eq!((spec.method, spec.sparsity), (Method::Gohsp, 0.4));
        assert_eq!(spec.rank.head_share, HeadShare::Auto);
        assert_eq!(
            (spec.rank.signal, spec.rank.similarity, spec.rank.direction, spec.rank.normalize),
            (Signal::Attention, Similarity::Cosine, Direction::Backward, Normalize::None)
        );
        assert_eq!((spec.admm.rounds, spec.admm.rho, spec.admm.rho_growth), (4, 1e-2, 3.0));
        assert_eq!(spec.finetune.distill, Some(DistillSpec { alpha: 0.5, temperature: 4.0 }));
        assert_eq!(spec.evaluate.latency_batches, vec![1, 64]);
        assert_eq!(spec.report.formats, vec!["md", "csv", "tex"]);
        assert_eq!(spec.report.plots, vec!["svg", "png"]);
    }

    #[test]
    fn an_empty_document_deserializes_to_the_defaults() {
        let spec: Spec = serde_json::from_str("{}").unwrap();
        assert_eq!(spec, Spec::default());
    }
}
