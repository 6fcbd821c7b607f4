//! One handler per subcommand; each returns the process exit code.

pub mod cache_admin;
pub mod config;
pub mod data;
pub mod dispatch;
pub mod inspect;
pub mod plan;
pub mod report;
pub mod run;
pub mod spec_args;
