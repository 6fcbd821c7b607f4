//! Readable names for nodes and table rows, built from a grid point's varying axes.

use crate::spec::load::GridPoint;
use crate::spec::types::Method;

/// The table's method column for a point: the method, plus the point's other varying axes (a grid over `rank.signal`
/// shows as `gohsp [rank.signal=output]`), so that only seeds are averaged together.
pub fn variant_name(point: &GridPoint) -> String {
    let others: Vec<&str> = point
        .name
        .split(',')
        .filter(|a| a.contains('=') && !["method=", "sparsity=", "seed="].iter().any(|p| a.starts_with(p)))
        .collect();
    let method = method_name(point.spec.method);
    if others.is_empty() { method } else { format!("{method} [{}]", others.join(",")) }
}

/// The method's name as the spec spells it.
pub fn method_name(method: Method) -> String {
    serde_json::to_value(method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// Axes that change the dense model.
pub const DENSE_AXES: &[&str] = &["seed", "model.", "dataset.", "pretrain."];
/// Axes that change the head ranking.
pub const RANK_AXES: &[&str] = &["seed", "model.", "dataset.", "pretrain.", "rank.", "method"];

/// The part of a point name whose axes start with one of `prefixes` (`default` when none does).
pub fn axes_of(point: &str, prefixes: &[&str]) -> String {
    let kept: Vec<&str> = point.split(',').filter(|axis| prefixes.iter().any(|p| axis.starts_with(p))).collect();
    if kept.is_empty() { "default".into() } else { kept.join(",") }
}
