//! The Slurm resources of a stage kind: the kind's section over the defaults section, with a GPU for the training
//! kinds when the spec runs on CUDA, as sbatch arguments.

use super::settings::{GpuFlag, SlurmResources, SlurmSpec};
use crate::pipeline::stage::StageKind;

/// Whether jobs of `kind` train a model (and so want a GPU when the spec's device is CUDA).
pub(crate) fn trains(kind: StageKind) -> bool {
    matches!(kind, StageKind::Pretrain | StageKind::Admm | StageKind::Finetune)
}

/// The kind's own section of `spec`.
fn section(spec: &SlurmSpec, kind: StageKind) -> &SlurmResources {
    match kind {
        StageKind::Pretrain => &spec.pretrain,
        // The rank-quality analysis runs as the rank stage does: forward passes of the dense model.
        StageKind::Rank | StageKind::RankQuality => &spec.rank,
        StageKind::Admm => &spec.admm,
        StageKind::Prune => &spec.prune,
        StageKind::Finetune => &spec.finetune,
        StageKind::Evaluate => &spec.evaluate,
        StageKind::Report => &spec.report,
        StageKind::Export => &spec.export,
    }
}

/// The resolved resources of a `kind` job: its section, then the defaults, then one GPU for training kinds on CUDA.
pub(crate) fn resources_for(spec: &SlurmSpec, kind: StageKind, cuda: bool) -> SlurmResources {
    let mut resolved = section(spec, kind).over(&spec.defaults);
    if resolved.gpus.is_none() && cuda && trains(kind) {
        resolved.gpus = Some(1);
    }
    resolved
}

/// The sbatch arguments asking for `resources`.
pub(crate) fn resource_args(resources: &SlurmResources, gpu_flag: GpuFlag) -> Vec<String> {
    let mut args = Vec::new();
    let mut push = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            args.push(format!("--{flag}={value}"));
        }
    };
    push("partition", resources.partition.clone());
    push("account", resources.account.clone());
    push("time", resources.time.clone());
    push("cpus-per-task", resources.cpus.map(|n| n.to_string()));
    push("mem", resources.mem.clone());
    match (resources.gpus, gpu_flag) {
        (Some(0) | None, _) => {}
        (Some(n), GpuFlag::Gres) => args.push(format!("--gres=gpu:{n}")),
        (Some(n), GpuFlag::Gpus) => args.push(format!("--gpus={n}")),
    }
    args.extend(resources.extra.iter().flatten().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SlurmSpec {
        let defaults = SlurmResources {
            partition: Some("cpu".into()),
            cpus: Some(2),
            mem: Some("4G".into()),
            ..Default::default()
        };
        let admm = SlurmResources {
            partition: Some("gpu".into()),
            time: Some("08:00:00".into()),
            extra: Some(vec!["--qos=long".into()]),
            ..Default::default()
        };
        SlurmSpec { defaults, admm, ..SlurmSpec::default() }
    }

    #[test]
    fn training_kinds_get_a_gpu_on_cuda_and_the_others_do_not() {
        let spec = spec();
        for kind in StageKind::ALL {
            let args = resource_args(&resources_for(&spec, kind, true), GpuFlag::Gres);
            assert_eq!(args.contains(&"--gres=gpu:1".to_string()), trains(kind), "{kind:?}: {args:?}");
            let cpu_args = resource_args(&resources_for(&spec, kind, false), GpuFlag::Gres);
            assert!(!cpu_args.iter().any(|a| a.contains("gpu:")), "{kind:?} on CPU: {cpu_args:?}");
        }
    }

    #[test]
    fn a_kind_section_overrides_the_defaults_and_appends_its_extra_arguments() {
        let args = resource_args(&resources_for(&spec(), StageKind::Admm, true), GpuFlag::Gpus);
        let want = ["--partition=gpu", "--time=08:00:00", "--cpus-per-task=2", "--mem=4G", "--gpus=1", "--qos=long"];
        assert_eq!(args, want.map(String::from));
        let rank = resource_args(&resources_for(&spec(), StageKind::Rank, true), GpuFlag::Gpus);
        assert_eq!(rank, ["--partition=cpu", "--cpus-per-task=2", "--mem=4G"].map(String::from));
    }

    #[test]
    fn zero_gpus_asks_for_none_even_on_cuda() {
        let mut spec = spec();
        spec.finetune.gpus = Some(0);
        let args = resource_args(&resources_for(&spec, StageKind::Finetune, true), GpuFlag::Gres);
        assert!(!args.iter().any(|a| a.contains("gpu")), "{args:?}");
    }
}
