//! `gohsp config`: the resolved spec, each value with the layer it came from.

use crate::cli::SpecArgs;
use crate::error::Result;
use crate::spec::provenance::{describe, render};

/// Print the resolved values and their sources.
pub fn config(args: &SpecArgs) -> Result<i32> {
    let mut sets = args.sets.clone();
    if let Some(device) = &args.device {
        sets.push(format!("device={device}"));
    }
    print!("{}", render(&describe(&args.spec, &sets)?));
    Ok(0)
}
