//! `gohsp status` and `gohsp gc`: what the cache holds, and removing what no spec reaches.

use super::spec_args::load_plan;
use super::stdout::outln;
use crate::cli::SpecArgs;
use crate::error::{GohspError, IoContext, Result};
use crate::pipeline::cache::Cache;
use crate::pipeline::gc::{cache_status, gc};
use indicatif::HumanBytes;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Print each cache entry with its size.
pub(crate) fn status(results: &Path) -> Result<i32> {
    let cache = Cache::open(results)?;
    let entries = cache_status(&cache)?;
    let total: u64 = entries.iter().map(|e| e.bytes).sum();
    for e in &entries {
        outln!("{:<9} {}  {:>10}  {}", e.kind, &e.key.as_str()[..12], padded_size(e.bytes), e.label);
    }
    outln!("{} entries, {}", entries.len(), HumanBytes(total));
    Ok(0)
}

/// Remove entries not reached by `keep` specs (default: every experiments/*.yaml). A spec that fails to plan makes gc
/// refuse (exit 2, naming the spec and why), since its entries would look unreachable; `force` removes them anyway.
pub(crate) fn collect_garbage(results: &Path, dry_run: bool, force: bool, keep: &[PathBuf]) -> Result<i32> {
    let specs = if keep.is_empty() { experiment_specs(Path::new("experiments"))? } else { keep.to_vec() };
    let mut keys = HashSet::new();
    let mut failed = Vec::new();
    for spec in &specs {
        let args = SpecArgs { spec: spec.clone(), sets: vec![], device: None };
        match load_plan(results, &args) {
            Ok((_, built)) => keys.extend(built.plan.nodes().iter().map(|n| n.key.as_str().to_string())),
            Err(e) if force => tracing::warn!(spec = %spec.display(), "not counted as reachable (--force): {e}"),
            Err(e) => failed.push(format!("{} ({e})", spec.display())),
        }
    }
    if !failed.is_empty() {
        return Err(GohspError::usage(
            format!("gc removed nothing: {} spec(s) failed to plan: {}", failed.len(), failed.join("; ")),
            "fix the spec or make its data and weights reachable, or pass --force to treat its entries as unreachable",
        ));
    }
    let report = gc(&Cache::open(results)?, &keys, dry_run)?;
    let verb = if dry_run { "would remove" } else { "removed" };
    for e in &report.removed {
        outln!("{verb}: {:<9} {}  {:>10}  {}", e.kind, &e.key.as_str()[..12], padded_size(e.bytes), e.label);
    }
    outln!("{verb} {} entries ({}), kept {}", report.removed.len(), HumanBytes(report.bytes_freed), report.kept);
    Ok(0)
}

fn experiment_specs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .at_path(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    specs.sort();
    Ok(specs)
}

/// A size like `1.50 KiB`, as a `String`: `HumanBytes` itself ignores `{:>10}`.
fn padded_size(bytes: u64) -> String {
    HumanBytes(bytes).to_string()
}
