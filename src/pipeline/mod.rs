//! The experiment engine: stages as a petgraph DAG, content-addressed cache entries, locks, execution, explain and provenance.

pub mod cache;
pub mod checksum;
pub mod clock;
pub mod dag;
pub mod diff;
pub mod entry;
pub mod executor;
pub mod explain;
pub mod file_stamp;
pub mod fingerprint_cache;
pub mod gc;
pub mod index;
pub mod key;
pub mod lock;
#[cfg(test)]
pub(crate) mod mock_stage;
pub mod node_run;
pub mod plan_report;
pub mod progress;
pub mod provenance;
pub mod record;
pub mod slurm;
pub mod stage;
pub mod summary;
