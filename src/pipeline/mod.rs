//! The experiment engine: stages as a petgraph DAG, content-addressed cache entries, locks, execution, explain and provenance.

pub(crate) mod cache;
pub(crate) mod checksum;
pub(crate) mod clock;
pub(crate) mod dag;
pub(crate) mod diff;
pub(crate) mod entry;
pub(crate) mod executor;
pub(crate) mod explain;
pub(crate) mod file_stamp;
pub(crate) mod fingerprint_cache;
pub(crate) mod gc;
pub(crate) mod index;
pub(crate) mod key;
pub(crate) mod lock;
#[cfg(test)]
pub(crate) mod mock_stage;
pub(crate) mod node_run;
pub(crate) mod plan_report;
pub(crate) mod progress;
pub(crate) mod provenance;
pub(crate) mod record;
pub(crate) mod slurm;
pub(crate) mod stage;
pub(crate) mod summary;
