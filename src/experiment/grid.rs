//! Sweep expansion on the untyped spec tree: list-valued `method`, `sparsity` and `seed`, and the dotted keys of the
//! `grid:` block, are axes whose cross product gives the grid points, each named by its varying axes.

use super::keys::GRID_KEY;
use super::origin::KeyProblem;
use super::yaml_text::yaml_text;
use serde_json::{Map, Value};

/// Top-level keys that may hold a list of values, in the order they appear in point names.
pub(crate) const LIST_KEYS: &[&str] = &["method", "sparsity", "seed"];

/// Most grid points one spec may expand to.
pub(crate) const MAX_POINTS: usize = 10_000;

/// One grid axis: a dotted key and its values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Axis {
    /// Dotted key path, e.g. `finetune.lr`.
    pub key: String,
    /// The values it takes, in the order given.
    pub values: Vec<Value>,
}

/// The value one varying axis takes at a grid point.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisValue {
    /// Dotted key path, e.g. `finetune.lr`.
    pub key: String,
    /// The value at this point, as the spec gives it.
    pub value: Value,
}

impl AxisValue {
    /// `key=value`, the value written as YAML (`finetune.lr=0.0001`).
    pub fn text(&self) -> String {
        format!("{}={}", self.key, yaml_text(&self.value))
    }
}

/// The name of a point with these varying axes: `method=gohsp,sparsity=0.3`, or `default` when none varies.
pub(crate) fn point_name<'a>(axes: impl IntoIterator<Item = &'a AxisValue>) -> String {
    let parts: Vec<String> = axes.into_iter().map(AxisValue::text).collect();
    if parts.is_empty() { "default".to_string() } else { parts.join(",") }
}

/// One expanded point: its name, its varying axes and its tree (no lists left on the axes, no `grid` block).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExpandedPoint {
    /// `method=gohsp,sparsity=0.3` from the varying axes, or `default` when nothing varies.
    pub name: String,
    /// The axes with more than one value, in name order, with their values at this point.
    pub axes: Vec<AxisValue>,
    /// The point's settings, untyped.
    pub tree: Value,
}

/// Expand `tree` into its grid points, first axis outermost.
pub(crate) fn expand(tree: &Value) -> Result<Vec<ExpandedPoint>, KeyProblem> {
    let mut base = tree.clone();
    let axes = take_axes(&mut base)?;
    let count = axes.iter().try_fold(1usize, |n, axis| n.checked_mul(axis.values.len())).unwrap_or(usize::MAX);
    if count > MAX_POINTS {
        let message = format!("the grid has {count} points, more than {MAX_POINTS}");
        return Err(KeyProblem::new(GRID_KEY, message, "split the sweep into several specs"));
    }
    let mut points: Vec<ExpandedPoint> = Vec::with_capacity(count);
    for index in 0..count {
        let point = point_at(&base, &axes, index);
        if points.iter().any(|earlier| earlier.name == point.name) {
            let message = format!("two grid points are both named `{}`", point.name);
            return Err(KeyProblem::new(GRID_KEY, message, "remove the repeated value from its list"));
        }
        points.push(point);
    }
    Ok(points)
}

/// Remove the axes from `tree` (the `grid` block, and lists at the list keys), in name order.
fn take_axes(tree: &mut Value) -> Result<Vec<Axis>, KeyProblem> {
    let Value::Object(top) = tree else {
        return Ok(Vec::new());
    };
    let mut axes = Vec::new();
    if let Some(grid) = top.remove(GRID_KEY) {
        flatten_grid(&grid, GRID_KEY, &mut axes)?;
    }
    for key in LIST_KEYS {
        if let Some(Value::Array(values)) = top.get(*key) {
            if axes.iter().any(|axis| axis.key == *key) {
                let message = format!("`{key}` is both a list and a grid axis");
                return Err(KeyProblem::new(*key, message, format!("give the values in one place: `{key}: [..]`")));
            }
            axes.push(axis(key, values.clone(), key)?);
        }
    }
    axes.sort_by_key(|axis| {
        (LIST_KEYS.iter().position(|k| *k == axis.key).unwrap_or(LIST_KEYS.len()), axis.key.clone())
    });
    Ok(axes)
}

/// The axes of a `grid` block at `prefix`; nested mappings are joined into dotted keys.
fn flatten_grid(grid: &Value, prefix: &str, axes: &mut Vec<Axis>) -> Result<(), KeyProblem> {
    let Value::Object(entries) = grid else {
        let hint = "e.g. grid: { finetune.lr: [1.0e-4, 5.0e-4] }";
        return Err(KeyProblem::new(prefix, "must map dotted keys to lists of values", hint));
    };
    for (key, value) in entries {
        let shown = format!("{prefix}.{key}");
        let key = shown[GRID_KEY.len() + 1..].to_string();
        match value {
            Value::Object(_) => flatten_grid(value, &shown, axes)?,
            Value::Array(values) => axes.push(axis(&key, values.clone(), &shown)?),
            _ => {
                return Err(KeyProblem::new(&shown, "a grid axis must be a list of values", "e.g. [1.0e-4, 5.0e-4]"));
            }
        }
    }
    Ok(())
}

/// An axis, or an error naming `shown` when the list is empty.
fn axis(key: &str, values: Vec<Value>, shown: &str) -> Result<Axis, KeyProblem> {
    if values.is_empty() {
        return Err(KeyProblem::new(
            shown,
            "empty list: a grid axis needs at least one value",
            "give a value or remove the key",
        ));
    }
    Ok(Axis { key: key.to_string(), values })
}

/// The `index`-th point of the cross product (last axis fastest).
fn point_at(base: &Value, axes: &[Axis], mut index: usize) -> ExpandedPoint {
    let mut chosen = vec![0; axes.len()];
    for (slot, axis) in chosen.iter_mut().zip(axes).rev() {
        *slot = index % axis.values.len();
        index /= axis.values.len();
    }
    let mut tree = base.clone();
    let mut varying = Vec::new();
    for (axis, &pick) in axes.iter().zip(&chosen) {
        set_path(&mut tree, &axis.key, axis.values[pick].clone());
        if axis.values.len() > 1 {
            varying.push(AxisValue { key: axis.key.clone(), value: axis.values[pick].clone() });
        }
    }
    ExpandedPoint { name: point_name(&varying), axes: varying, tree }
}

/// Set the dotted `key` of `tree` to `value`, making mappings along the way.
fn set_path(tree: &mut Value, key: &str, value: Value) {
    let mut level = tree;
    for segment in key.split('.') {
        if !level.is_object() {
            *level = Value::Object(Map::new());
        }
        level = level.as_object_mut().expect("just made a mapping").entry(segment).or_insert(Value::Null);
    }
    *level = value;
}

#[cfg(test)]
#[path = "grid_tests.rs"]
mod tests;
