//! The `executor:` section: where a run's nodes execute (this process or Slurm jobs) and Slurm's resources per stage kind.

use serde::{Deserialize, Serialize};

pub(crate) use crate::pipeline::slurm::settings::SlurmSpec;

/// Where and how the nodes that must run are executed. Not part of any cache key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutorSpec {
    /// `local` (this process) or `slurm` (one Slurm job per node).
    pub kind: ExecutorKind,
    /// Settings of the Slurm executor.
    pub slurm: SlurmSpec,
}

/// The executor kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// Run nodes in this process (`--jobs N` at once).
    #[default]
    Local,
    /// Submit each node as one Slurm job (sbatch) against the shared cache.
    Slurm,
}

impl Default for ExecutorSpec {
    fn default() -> Self {
        Self { kind: ExecutorKind::Local, slurm: SlurmSpec::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_reads_from_yaml_and_refuses_unknown_keys() {
        let spec: ExecutorSpec =
            serde_yaml::from_str("kind: slurm\nslurm: { poll_seconds: 2, admm: { gpus: 1, extra: ['--qos=long'] } }")
                .unwrap();
        assert_eq!(spec.kind, ExecutorKind::Slurm);
        assert_eq!(spec.slurm.admm.extra, Some(vec!["--qos=long".to_string()]));
        assert_eq!(spec.slurm.signal_seconds, 300);
        assert!(serde_yaml::from_str::<ExecutorSpec>("slurm: { partitio: x }").is_err());
    }
}
