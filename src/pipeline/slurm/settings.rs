//! The Slurm executor's settings: polling, the pre-timeout signal and resources per stage kind; the spec's
//! `executor.slurm` section reuses them.

use serde::{Deserialize, Serialize};

/// How GPUs are requested from Slurm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuFlag {
    /// `--gres=gpu:N`.
    #[default]
    Gres,
    /// `--gpus=N`.
    Gpus,
}

/// The Slurm executor: polling, the pre-timeout signal, and resources (defaults, then one override per stage kind).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlurmSpec {
    /// Seconds between two status queries (one batched squeue or sacct call each).
    pub poll_seconds: f64,
    /// Slurm sends USR2 this many seconds before a job's time limit (`--signal=B:USR2@N`); the stage checkpoints and exits.
    pub signal_seconds: u32,
    /// `gres` (`--gres=gpu:N`) or `gpus` (`--gpus=N`).
    pub gpu_flag: GpuFlag,
    /// Resources of every job, unless the stage kind's own section sets them.
    pub defaults: SlurmResources,
    /// Overrides for pretrain jobs (a GPU when `device: cuda`).
    pub pretrain: SlurmResources,
    /// Overrides for rank jobs.
    pub rank: SlurmResources,
    /// Overrides for admm jobs (a GPU when `device: cuda`).
    pub admm: SlurmResources,
    /// Overrides for prune jobs.
    pub prune: SlurmResources,
    /// Overrides for finetune jobs (a GPU when `device: cuda`).
    pub finetune: SlurmResources,
    /// Overrides for evaluate jobs.
    pub evaluate: SlurmResources,
    /// Overrides for the report job.
    pub report: SlurmResources,
    /// Overrides for export jobs.
    pub export: SlurmResources,
}

/// Slurm resources of a job; unset fields fall back to the defaults section, then to the cluster's own defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SlurmResources {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--account`.
    pub account: Option<String>,
    /// `--time`, e.g. `02:00:00`.
    pub time: Option<String>,
    /// `--cpus-per-task`.
    pub cpus: Option<u32>,
    /// `--mem`, e.g. `16G`.
    pub mem: Option<String>,
    /// GPUs per job (0 asks for none).
    pub gpus: Option<u32>,
    /// Further sbatch arguments, appended as given (e.g. `--qos=long`).
    pub extra: Option<Vec<String>>,
}

impl Default for SlurmSpec {
    fn default() -> Self {
        let none = SlurmResources::default;
        Self {
            poll_seconds: 10.0,
            signal_seconds: 300,
            gpu_flag: GpuFlag::Gres,
            defaults: none(),
            pretrain: none(),
            rank: none(),
            admm: none(),
            prune: none(),
            finetune: none(),
            evaluate: none(),
            report: none(),
            export: none(),
        }
    }
}

impl SlurmSpec {
    /// The defaults with every optional resource set, so that its serialization names every settable key.
    pub fn with_every_option() -> Self {
        let every = SlurmResources {
            partition: Some("partition".into()),
            account: Some("account".into()),
            time: Some("1:00:00".into()),
            cpus: Some(1),
            mem: Some("1G".into()),
            gpus: Some(1),
            extra: Some(Vec::new()),
        };
        let every = || every.clone();
        Self {
            defaults: every(),
            pretrain: every(),
            rank: every(),
            admm: every(),
            prune: every(),
            finetune: every(),
            evaluate: every(),
            report: every(),
            export: every(),
            ..Self::default()
        }
    }
}

impl SlurmResources {
    /// These resources with every unset field taken from `base`.
    pub fn over(&self, base: &SlurmResources) -> SlurmResources {
        SlurmResources {
            partition: self.partition.clone().or_else(|| base.partition.clone()),
            account: self.account.clone().or_else(|| base.account.clone()),
            time: self.time.clone().or_else(|| base.time.clone()),
            cpus: self.cpus.or(base.cpus),
            mem: self.mem.clone().or_else(|| base.mem.clone()),
            gpus: self.gpus.or(base.gpus),
            extra: self.extra.clone().or_else(|| base.extra.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_override_wins_field_by_field_over_the_defaults() {
        let defaults =
            SlurmResources { partition: Some("cpu".into()), time: Some("1:00:00".into()), ..Default::default() };
        let admm = SlurmResources { partition: Some("gpu".into()), gpus: Some(2), ..Default::default() };
        let merged = admm.over(&defaults);
        assert_eq!(merged.partition.as_deref(), Some("gpu"));
        assert_eq!(merged.time.as_deref(), Some("1:00:00"));
        assert_eq!(merged.gpus, Some(2));
        assert_eq!(merged.cpus, None);
    }
}
