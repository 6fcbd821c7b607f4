//! The Slurm executor: each node that must run becomes one sbatch job running `gohsp run-node` against the shared cache.

pub mod driver;
pub mod jobs;
pub mod query;
pub mod resources;
pub mod script;
pub mod settings;
pub mod state;
pub mod status;
pub mod submit;
pub mod tool;
pub mod wait;
