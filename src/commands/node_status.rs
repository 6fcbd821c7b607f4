//! `gohsp status SPEC`: where each node of a spec stands, from the cache and the Slurm jobs of its runs.

use super::spec_args::load_plan;
use super::stdout::outln;
use crate::cli::SpecArgs;
use crate::error::Result;
use crate::pipeline::cache::Cache;
use crate::pipeline::slurm::status::{ClusterStatus, standings};
use crate::pipeline::slurm::tool::SlurmTools;
use std::path::{Path, PathBuf};

/// Print one line per node and a count per standing.
pub(crate) fn node_status(results: &Path, spec: &Path, sets: &[String]) -> Result<i32> {
    let args = SpecArgs { spec: PathBuf::from(spec), sets: sets.to_vec(), device: None };
    let (loaded, built) = load_plan(results, &args)?;
    let cache = Cache::open(results)?;
    let lines = standings(&built.plan, &cache, &loaded.name, &SlurmTools::new())?;
    let count = |want: fn(&ClusterStatus) -> bool| lines.iter().filter(|(_, s)| want(s)).count();
    for (label, standing) in &lines {
        outln!("{label:<48} {standing}");
    }
    outln!(
        "{} nodes: {} cached, {} queued, {} running, {} failed, {} missing",
        lines.len(),
        count(|s| matches!(s, ClusterStatus::Cached)),
        count(|s| matches!(s, ClusterStatus::Queued(_))),
        count(|s| matches!(s, ClusterStatus::Running(_))),
        count(|s| matches!(s, ClusterStatus::Failed(_))),
        count(|s| matches!(s, ClusterStatus::Missing)),
    );
    Ok(0)
}
