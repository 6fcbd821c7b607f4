//! One handler per subcommand; each returns the process exit code.

pub mod cache_admin;
pub mod config;
pub mod data;
pub mod dispatch;
pub mod executor_choice;
pub mod inspect;
pub mod node_status;
pub mod plan;
pub mod report;
pub mod run;
pub mod run_node;
pub mod slurm_run;
pub mod spec_args;
