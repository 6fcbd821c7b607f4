//! Readable names for nodes and table rows, built from a grid point's varying axes.

use crate::experiment::grid::{AxisValue, point_name};
use crate::experiment::load::GridPoint;
use crate::experiment::types::Method;

/// The table's method column for a point: the method, plus the point's other varying axes (a grid over `rank.signal`
/// shows as `gohsp [rank.signal=output]`), so that only seeds are averaged together.
pub(crate) fn variant_name(point: &GridPoint) -> String {
    variant_name_without(point, &[])
}

/// [`variant_name`] leaving out the axes keyed in `ignored` (axes that do not change this point's result).
pub(crate) fn variant_name_without(point: &GridPoint, ignored: &[String]) -> String {
    let others: Vec<String> = point
        .axes
        .iter()
        .filter(|a| !["method", "sparsity", "seed"].contains(&a.key.as_str()) && !ignored.contains(&a.key))
        .map(AxisValue::text)
        .collect();
    let method = method_name(point.spec.method);
    if others.is_empty() { method } else { format!("{method} [{}]", others.join(",")) }
}

/// The table's method column for a point's dense model: `dense`, plus the point's varying axes that change the dense
/// model other than the seed (a grid over `pretrain.epochs` shows as `dense [pretrain.epochs=20]`), so that only
/// seeds are averaged together.
pub(crate) fn dense_variant_name(point: &GridPoint) -> String {
    let others: Vec<String> = point
        .axes
        .iter()
        .filter(|a| a.key != "seed" && DENSE_AXES.iter().any(|prefix| a.key.starts_with(prefix)))
        .map(AxisValue::text)
        .collect();
    if others.is_empty() { "dense".to_string() } else { format!("dense [{}]", others.join(",")) }
}

/// The point's name leaving out the axes keyed in `ignored`.
pub(crate) fn point_name_without(point: &GridPoint, ignored: &[String]) -> String {
    point_name(point.axes.iter().filter(|axis| !ignored.contains(&axis.key)))
}

/// The keys of the axes whose values differ between two points (the same keys in the same order, as one grid gives).
pub(crate) fn differing_axes(a: &GridPoint, b: &GridPoint) -> Vec<String> {
    a.axes.iter().zip(&b.axes).filter(|(x, y)| x.value != y.value).map(|(x, _)| x.key.clone()).collect()
}

/// The method's name as the spec spells it.
pub(crate) fn method_name(method: Method) -> String {
    serde_json::to_value(method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// Axes that change the dense model.
pub(crate) const DENSE_AXES: &[&str] = &["seed", "model.", "dataset.", "pretrain."];
/// Axes that change the head ranking.
pub(crate) const RANK_AXES: &[&str] = &["seed", "model.", "dataset.", "pretrain.", "rank.", "method"];

/// The name of the point's axes whose keys start with one of `prefixes` (`default` when none does).
pub(crate) fn axes_of(point: &GridPoint, prefixes: &[&str]) -> String {
    point_name(point.axes.iter().filter(|axis| prefixes.iter().any(|p| axis.key.starts_with(p))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::types::Spec;
    use serde_json::json;

    fn point(axes: &[(&str, serde_json::Value)]) -> GridPoint {
        let axes: Vec<AxisValue> =
            axes.iter().map(|(key, value)| AxisValue { key: key.to_string(), value: value.clone() }).collect();
        GridPoint { name: point_name(&axes), axes, spec: Spec::default() }
    }

    #[test]
    fn axes_are_picked_by_key_and_keep_values_that_hold_commas() {
        let p = point(&[
            ("method", json!("gohsp")),
            ("seed", json!(2)),
            ("evaluate.latency_batches", json!([1, 8])),
            ("model.depth", json!(6)),
        ]);
        assert_eq!(axes_of(&p, DENSE_AXES), "seed=2,model.depth=6");
        assert_eq!(axes_of(&p, &["rank."]), "default");
        assert_eq!(variant_name(&p), "gohsp [evaluate.latency_batches=[1, 8],model.depth=6]");
        assert_eq!(dense_variant_name(&p), "dense [model.depth=6]", "the seed is averaged over, not named");
        assert_eq!(dense_variant_name(&point(&[("method", json!("gohsp")), ("seed", json!(1))])), "dense");
        let ignored = vec!["model.depth".to_string()];
        assert_eq!(variant_name_without(&p, &ignored), "gohsp [evaluate.latency_batches=[1, 8]]");
        assert_eq!(point_name_without(&p, &ignored), "method=gohsp,seed=2,evaluate.latency_batches=[1, 8]");
    }

    #[test]
    fn differing_axes_are_named_by_key() {
        let a = point(&[("method", json!("magnitude")), ("admm.rho", json!(0.1)), ("seed", json!(0))]);
        let b = point(&[("method", json!("magnitude")), ("admm.rho", json!(0.01)), ("seed", json!(0))]);
        assert_eq!(differing_axes(&a, &b), ["admm.rho"]);
        assert!(differing_axes(&a, &a).is_empty());
    }
}
