//! Loading an experiment spec: merge the layers, expand the grid, and deserialize and validate every point, so that
//! every mistake is reported (naming file and key) before any stage runs.

use super::grid::{AxisValue, ExpandedPoint, expand};
use super::layers::{Merged, merge_layers};
use super::overrides::ENV_PREFIX;
use super::translate::{located, problem_from};
use super::types::Spec;
use super::validate::problems;
use crate::error::Result;
use figment::Figment;
use figment::providers::Serialized;
use std::path::{Path, PathBuf};

/// A loaded experiment: its grid points, typed and validated, and the merged tree they came from.
#[derive(Clone, Debug)]
pub struct LoadedSpec {
    /// The spec file.
    pub file: PathBuf,
    /// The experiment name (`name`, or the file stem).
    pub name: String,
    /// The grid points, first axis outermost.
    pub points: Vec<GridPoint>,
    /// The merged tree before grid expansion.
    pub resolved: serde_json::Value,
}

/// One grid point of an experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct GridPoint {
    /// `method=gohsp,sparsity=0.3` from the varying axes, or `default`.
    pub name: String,
    /// The varying axes and their values at this point, in name order.
    pub axes: Vec<AxisValue>,
    /// The point's settings (`spec.name` is the experiment's name).
    pub spec: Spec,
}

/// Load the spec at `path` with the `--set` overrides `sets` and the process's `GOHSP_*` variables.
pub fn load_spec(path: &Path, sets: &[String]) -> Result<LoadedSpec> {
    load_spec_with_env(path, sets, &gohsp_env())
}

/// Load the spec at `path` with the `--set` overrides `sets` and the variables `env` (name, value) in place of the
/// process environment.
pub fn load_spec_with_env(path: &Path, sets: &[String], env: &[(String, String)]) -> Result<LoadedSpec> {
    let merged = merge_layers(path, sets, env)?;
    let name = merged.tree["name"].as_str().unwrap_or_default().to_string();
    let expanded = expand(&merged.tree).map_err(|problem| merged.origins.error(path, problem))?;
    let single = expanded.len() == 1;
    let points =
        expanded.into_iter().map(|point| typed_point(path, &merged, point, single)).collect::<Result<Vec<_>>>()?;
    Ok(LoadedSpec { file: path.to_path_buf(), name, points, resolved: merged.tree })
}

/// The process's `GOHSP_*` variables (those with UTF-8 names and values).
pub fn gohsp_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| name.starts_with(ENV_PREFIX))
        .collect()
}

/// Deserialize and validate one point; errors name the key, its origin, and the point when there are several.
fn typed_point(path: &Path, merged: &Merged, point: ExpandedPoint, single: bool) -> Result<GridPoint> {
    let in_point = |message: String| {
        if single { message } else { format!("{message} (grid point {})", point.name) }
    };
    let spec: Spec = Figment::from(Serialized::defaults(&point.tree)).extract().map_err(|error| {
        let defaults = serde_json::to_value(Spec::default()).unwrap_or_default();
        let mut problem = problem_from(&located(error, &point.tree), &defaults);
        problem.message = in_point(problem.message);
        merged.origins.error(path, problem)
    })?;
    if let Some(mut problem) = problems(&spec).into_iter().next() {
        problem.message = in_point(problem.message);
        return Err(merged.origins.error(path, problem));
    }
    Ok(GridPoint { name: point.name, axes: point.axes, spec })
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
