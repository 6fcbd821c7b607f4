//! Turning the spec arguments of the command line into a loaded spec and its plan.

use crate::cli::SpecArgs;
use crate::error::Result;
use crate::experiment::load::{LoadedSpec, load_spec};
use crate::pipeline::fingerprint_cache::FingerprintCache;
use crate::stages::dense::Runtimes;
use crate::stages::plan::{BuiltPlan, build_plan};
use std::path::Path;
use std::sync::Arc;

/// The `--set` overrides, with `--device` as one more.
pub(crate) fn overrides(args: &SpecArgs) -> Vec<String> {
    let mut sets = args.sets.clone();
    if let Some(device) = args.device {
        sets.push(format!("device={}", device.as_str()));
    }
    sets
}

/// Load the spec with its overrides.
pub(crate) fn load(args: &SpecArgs) -> Result<LoadedSpec> {
    load_spec(&args.spec, &overrides(args))
}

/// Load the spec and build its DAG. Dataset fingerprints and weights digests come from the fingerprint cache under
/// `results` while their files' metadata is unchanged (the datasets are then read only when a stage runs).
pub(crate) fn load_plan(results: &Path, args: &SpecArgs) -> Result<(LoadedSpec, BuiltPlan)> {
    let loaded = load(args)?;
    let fingerprints = Arc::new(FingerprintCache::load(&FingerprintCache::path_under(results)));
    let plan = build_plan(&loaded, &mut Runtimes::with_fingerprints(fingerprints.clone()))?;
    fingerprints.save_or_warn();
    Ok((loaded, plan))
}
