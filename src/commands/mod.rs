//! One handler per subcommand; each returns the process exit code.

pub(crate) mod cache_admin;
pub(crate) mod config;
pub(crate) mod data;
pub mod dispatch;
pub(crate) mod executor_choice;
pub(crate) mod export;
pub(crate) mod inspect;
pub(crate) mod node_status;
pub(crate) mod plan;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod run_node;
pub(crate) mod run_output;
pub(crate) mod slurm_run;
pub(crate) mod spec_args;
pub(crate) mod stdout;
