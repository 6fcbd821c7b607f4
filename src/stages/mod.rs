//! The pipeline's stages, one file per kind, and the planner that wires a spec's grid into a DAG of them.

pub(crate) mod admm;
pub(crate) mod artifacts;
pub(crate) mod chain;
pub(crate) mod data_facts;
pub(crate) mod dense;
pub(crate) mod digests;
pub(crate) mod evaluate;
pub(crate) mod export;
pub(crate) mod finetune;
pub(crate) mod judged;
pub(crate) mod meta;
pub(crate) mod names;
pub(crate) mod plan;
pub(crate) mod plots;
pub(crate) mod pretrain;
pub(crate) mod prune;
pub(crate) mod publish;
pub(crate) mod rank;
pub(crate) mod rank_quality;
pub(crate) mod recipes;
pub(crate) mod report;
pub(crate) mod report_entry;
pub(crate) mod runtime;
pub(crate) mod shape;
pub(crate) mod warnings;
