//! `gohsp config`: the resolved spec, each value with the layer it came from.

use super::spec_args::overrides;
use crate::cli::SpecArgs;
use crate::error::Result;
use crate::experiment::provenance::{describe, render};

/// Print the resolved values and their sources.
pub(crate) fn config(args: &SpecArgs) -> Result<i32> {
    print!("{}", render(&describe(&args.spec, &overrides(args))?));
    Ok(0)
}
