//! The Slurm executor: each node that must run becomes one sbatch job running `gohsp run-node` against the shared cache.

pub(crate) mod driver;
pub(crate) mod jobs;
pub(crate) mod query;
pub(crate) mod resources;
pub(crate) mod script;
pub(crate) mod settings;
pub(crate) mod state;
pub(crate) mod status;
pub(crate) mod submit;
pub(crate) mod tool;
pub(crate) mod wait;
