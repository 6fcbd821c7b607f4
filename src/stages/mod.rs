//! The pipeline's stages, one file per kind, and the planner that wires a spec's grid into a DAG of them.

pub mod admm;
pub mod artifacts;
pub mod chain;
pub mod data_facts;
pub mod dense;
pub mod digests;
pub mod evaluate;
pub mod finetune;
pub mod names;
pub mod plan;
pub mod plots;
pub mod pretrain;
pub mod prune;
pub mod publish;
pub mod rank;
pub mod recipes;
pub mod report;
pub mod report_entry;
pub mod runtime;
pub mod shape;
