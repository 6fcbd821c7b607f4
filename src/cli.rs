//! The command line: clap definitions of every subcommand and its flags.

use crate::experiment::executor::ExecutorKind;
use crate::experiment::types::DeviceKind;
use crate::export::format::ExportFormat;
use crate::pipeline::stage::StageKind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// gohsp: structured pruning of Vision Transformers (GOHSP) as cached, reproducible experiments.
#[derive(Parser, Debug)]
#[command(name = "gohsp", version, about)]
pub struct Cli {
    /// Where the cache, runs and reports live.
    #[arg(long, global = true, env = "GOHSP_RESULTS", default_value = "results")]
    pub results: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Spec file plus overrides, shared by run, plan, explain and config.
#[derive(Args, Debug, Clone)]
pub struct SpecArgs {
    /// The experiment spec (YAML).
    pub spec: PathBuf,
    /// Override a key: `--set finetune.lr=1e-4`, `--set sparsity=[0.3,0.5]` (values are YAML).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Device: cpu or cuda (overrides the spec's `device`).
    #[arg(long, value_enum, hide_possible_values = true)]
    pub device: Option<DeviceKind>,
}

/// Where a run's nodes execute.
#[derive(Args, Debug, Clone, Default)]
pub struct ExecutorArgs {
    /// `local` (this process) or `slurm` (one job per node); overrides the spec's `executor.kind`.
    #[arg(long, value_enum)]
    pub executor: Option<ExecutorKind>,
    /// A YAML file with an `executor:` section (the cluster's partitions and resources), laid over the spec's.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// With slurm: submit every node that must run, print the job ids and exit (follow with `gohsp status SPEC`).
    #[arg(long)]
    pub detach: bool,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
#[allow(
    missing_docs,
    reason = "clap prints field doc comments as help; the flattened argument groups document their own flags"
)]
pub enum Command {
    /// Run an experiment (a sweep when the spec lists several values), reusing cached stages.
    Run {
        #[command(flatten)]
        spec: SpecArgs,
        /// Nodes that may run at once.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Keep running independent nodes after a failure.
        #[arg(long)]
        keep_going: bool,
        /// Recompute every node of this stage kind (and what depends on it).
        #[arg(long, value_name = "STAGE", value_enum, ignore_case = true, hide_possible_values = true)]
        force: Vec<StageKind>,
        #[command(flatten)]
        executor: ExecutorArgs,
    },
    /// Build one node of a spec's plan whose inputs are cached (what each Slurm job runs).
    RunNode {
        #[command(flatten)]
        spec: SpecArgs,
        /// The node's cache key (or a unique prefix of it, 8 digits at least).
        #[arg(long)]
        key: String,
    },
    /// Show every node of a spec's DAG as hit or miss, and why.
    Plan {
        #[command(flatten)]
        spec: SpecArgs,
        /// Report these stage kinds as forced.
        #[arg(long, value_name = "STAGE", value_enum, ignore_case = true, hide_possible_values = true)]
        force: Vec<StageKind>,
    },
    /// Say which key parts of a node changed since its last run.
    Explain {
        #[command(flatten)]
        spec: SpecArgs,
        /// The node's label, as `gohsp plan` prints it.
        #[arg(long)]
        node: String,
    },
    /// Print the resolved spec and where each value came from.
    Config {
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// List what the cache holds; with a spec, where each of its nodes stands (cached, queued, running, failed, missing).
    Status {
        /// The experiment spec (YAML).
        spec: Option<PathBuf>,
        /// Override a key, as for `run`.
        #[arg(long = "set", value_name = "KEY=VALUE", requires = "spec")]
        sets: Vec<String>,
    },
    /// Remove cache entries that no spec in experiments/ reaches.
    Gc {
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Specs whose nodes are kept (default: every experiments/*.yaml).
        #[arg(long)]
        keep: Vec<PathBuf>,
        /// Remove even when a spec fails to plan (its entries then count as unreachable).
        #[arg(long)]
        force: bool,
    },
    /// Print a checkpoint's per-block structure, parameter count and MACs (of an .onnx file: its input, output and
    /// metadata).
    Inspect {
        /// A safetensors checkpoint (timm, Hugging Face or gohsp), or an ONNX file written by `gohsp export`.
        #[arg(long)]
        weights: PathBuf,
        /// Head count for files that do not record it.
        #[arg(long)]
        heads: Option<usize>,
        /// Print JSON (keys include `params` and `macs`).
        #[arg(long)]
        json: bool,
    },
    /// Run a checkpoint on the tensor `input` of a safetensors file and write `logits`.
    Predict {
        /// A safetensors checkpoint.
        #[arg(long)]
        weights: PathBuf,
        /// A safetensors file holding `input` [B, C, H, W], already normalised.
        #[arg(long)]
        input: PathBuf,
        /// Where to write `logits`.
        #[arg(long)]
        out: PathBuf,
        /// Head count for files that do not record it.
        #[arg(long)]
        heads: Option<usize>,
    },
    /// Write a checkpoint (dense or pruned) in another runtime's format: `--format onnx`.
    Export {
        /// A safetensors checkpoint (timm, Hugging Face or gohsp).
        #[arg(long)]
        weights: PathBuf,
        /// The format to write.
        #[arg(long, value_enum, default_value_t = ExportFormat::Onnx)]
        format: ExportFormat,
        /// The file to write (replaced whole, or left as it was if the export fails).
        #[arg(long)]
        out: PathBuf,
        /// Head count for files that do not record it.
        #[arg(long)]
        heads: Option<usize>,
        /// Per-channel mean of [0, 1] pixels the model was trained with, recorded in the file's metadata
        /// (default: the weights' config.json / preprocessor_config.json, if they say).
        #[arg(long, value_delimiter = ',', requires = "std")]
        mean: Option<Vec<f32>>,
        /// Per-channel standard deviation, with --mean.
        #[arg(long, value_delimiter = ',', requires = "mean")]
        std: Option<Vec<f32>>,
    },
    /// Rank a graph given as JSON (nodes, edges_src_dst_weight, alpha) and print the PageRank scores.
    RankGraph {
        /// The graph file.
        graph: PathBuf,
    },
    /// Merge the metrics of finished runs into one table and plots.
    Report {
        /// Folders holding metrics.csv (e.g. results/fmnist_sweep).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Datasets: fetch them.
    Data {
        /// What to do.
        #[command(subcommand)]
        action: DataAction,
    },
}

/// Dataset actions.
#[derive(Subcommand, Debug)]
pub enum DataAction {
    /// Download, verify and unpack a dataset (cifar10, cifar100, mnist, fashion_mnist).
    Fetch {
        /// Dataset name.
        name: String,
        /// Destination (default: ~/.cache/gohsp/data/NAME, where gohsp looks for it).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}
