//! gohsp: GOHSP structured pruning of Vision Transformers, run as a cached DAG of experiment stages.
#![deny(unsafe_code)]

pub mod atomic_write;
pub mod cli;
pub mod commands;
pub mod data;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod export;
pub mod fault;
pub mod malloc_tuning;
pub mod model;
mod os;
pub(crate) mod pipeline;
pub mod prune;
pub mod report;
pub(crate) mod stages;
#[cfg(test)]
pub(crate) mod test_support;
pub mod train;
