//! The `Stage` trait every pipeline step implements, its kinds, and the context the executor hands it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{GohspError, Result};

/// The kind of a pipeline stage; also the name of its folder in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum StageKind {
    /// Train (or load) the dense model.
    Pretrain,
    /// Graph-based head ranking.
    Rank,
    /// ADMM rounds imposing the structured sparsity.
    Admm,
    /// Physical slicing of the weights.
    Prune,
    /// Fine-tuning of the sliced model.
    Finetune,
    /// Accuracy, size, MACs and latency.
    Evaluate,
    /// Head criteria judged against the masking oracle on the dense model (`report.rank_quality`).
    #[value(name = "rank_quality", alias = "rank-quality")]
    RankQuality,
    /// Tables and plots.
    Report,
    /// A model written in another runtime's format (ONNX).
    Export,
}

impl StageKind {
    /// Every kind, in pipeline order.
    pub const ALL: [StageKind; 9] = [
        Self::Pretrain,
        Self::Rank,
        Self::Admm,
        Self::Prune,
        Self::Finetune,
        Self::Evaluate,
        Self::RankQuality,
        Self::Report,
        Self::Export,
    ];

    /// The snake_case name, as in specs, flags and cache folders.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pretrain => "pretrain",
            Self::Rank => "rank",
            Self::Admm => "admm",
            Self::Prune => "prune",
            Self::Finetune => "finetune",
            Self::Evaluate => "evaluate",
            Self::RankQuality => "rank_quality",
            Self::Report => "report",
            Self::Export => "export",
        }
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for StageKind {
    type Err = GohspError;

    /// Parses a kind name case-insensitively (`--force rank`).
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|kind| kind.as_str() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|kind| kind.as_str()).collect();
            GohspError::usage(format!("unknown stage kind `{s}`"), format!("use one of: {}", names.join(", ")))
        })
    }
}

/// One step of the pipeline. The executor knows stages only through this trait.
pub(crate) trait Stage: Send + Sync {
    /// Which kind of stage this is.
    fn kind(&self) -> StageKind;
    /// A readable node name, e.g. `finetune[method=gohsp,sparsity=0.3]`; the key of `gohsp explain`.
    fn label(&self) -> String;
    /// The stage's resolved params: everything that changes its output goes here (it is hashed into the cache key).
    fn params(&self) -> serde_json::Value;
    /// Runs the stage: read `ctx.inputs`, write artifacts into `ctx.out_dir`, checkpoints into `ctx.work_dir`.
    fn run(&self, ctx: &StageContext) -> Result<()>;
}

/// A committed artifact folder of one of a node's inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputArtifact {
    /// The input node's kind.
    pub kind: StageKind,
    /// The input node's label.
    pub label: String,
    /// The input's cache entry folder (read only).
    pub dir: PathBuf,
}

/// What a stage gets when it runs.
#[derive(Debug, Clone)]
pub(crate) struct StageContext {
    /// A fresh temporary folder: write the artifacts here; it becomes the cache entry on success.
    pub out_dir: PathBuf,
    /// Persistent per cache key: epoch checkpoints for resume; survives a crash, deleted after commit.
    pub work_dir: PathBuf,
    /// The inputs' artifact folders, in the order given when the node was added to the plan.
    pub inputs: Vec<InputArtifact>,
}

impl StageContext {
    /// The folder of the first input of `kind`; an error when the node has none.
    pub(crate) fn input(&self, kind: StageKind) -> Result<&Path> {
        self.inputs_of(kind).next().map(|input| input.dir.as_path()).ok_or_else(|| {
            let have: Vec<String> = self.inputs.iter().map(|input| input.label.clone()).collect();
            GohspError::Internal(format!("stage has no input of kind {kind} (inputs: [{}])", have.join(", ")))
        })
    }

    /// Every input of `kind`, in order (a report reads many evaluations).
    pub(crate) fn inputs_of(&self, kind: StageKind) -> impl Iterator<Item = &InputArtifact> {
        self.inputs.iter().filter(move |input| input.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_through_display_serde_and_from_str() {
        for kind in StageKind::ALL {
            assert_eq!(kind.to_string().parse::<StageKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert_eq!(" Rank ".parse::<StageKind>().unwrap(), StageKind::Rank);
        use clap::ValueEnum;
        let names: Vec<String> =
            StageKind::ALL.iter().map(|k| k.to_possible_value().unwrap().get_name().to_string()).collect();
        let expected: Vec<&str> = StageKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, expected, "--force takes the names of the cache folders");
    }

    #[test]
    fn unknown_kind_is_a_usage_error_listing_the_kinds() {
        let err = "ranks".parse::<StageKind>().unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("finetune"), "{err}");
    }

    #[test]
    fn input_finds_the_first_of_a_kind_and_errors_when_absent() {
        let artifact = |kind, label: &str| InputArtifact { kind, label: label.into(), dir: PathBuf::from(label) };
        let ctx = StageContext {
            out_dir: "out".into(),
            work_dir: "work".into(),
            inputs: vec![
                artifact(StageKind::Evaluate, "a"),
                artifact(StageKind::Evaluate, "b"),
                artifact(StageKind::Pretrain, "p"),
            ],
        };
        assert_eq!(ctx.input(StageKind::Evaluate).unwrap(), Path::new("a"));
        assert_eq!(ctx.inputs_of(StageKind::Evaluate).count(), 2);
        assert!(ctx.input(StageKind::Rank).unwrap_err().to_string().contains("rank"));
    }
}
