//! Turning the spec arguments of the command line into a loaded spec and its plan.

use crate::cli::SpecArgs;
use crate::error::Result;
use crate::spec::load::{LoadedSpec, load_spec};
use crate::stages::dense::Runtimes;
use crate::stages::plan::{BuiltPlan, build_plan};

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

/// Load the spec and build its DAG (opening the datasets it names).
pub(crate) fn load_plan(args: &SpecArgs) -> Result<(LoadedSpec, BuiltPlan)> {
    let loaded = load(args)?;
    let plan = build_plan(&loaded, &mut Runtimes::default())?;
    Ok((loaded, plan))
}
