//! `gohsp run-node`: build exactly one node of a spec's plan against the shared cache (what a Slurm job runs). Its
//! inputs must be cached; the entry lock and temp-then-rename commit make a rerun or a second copy harmless.

use super::spec_args::load_plan;
use crate::cli::SpecArgs;
use crate::error::{GohspError, Result};
use crate::pipeline::cache::{Cache, Lookup};
use crate::pipeline::dag::{Plan, PlanNode};
use crate::pipeline::node_run::build_node;
use crate::pipeline::summary::RunStatus;
use crate::train::interrupt::install_usr2_handler;
use std::path::Path;

/// Build the node with key `key` (or a unique prefix of it); returns the exit code.
pub(crate) fn run_node(results: &Path, args: &SpecArgs, key: &str) -> Result<i32> {
    install_usr2_handler();
    let (_, built) = load_plan(results, args)?;
    let cache = Cache::open(results)?;
    let node = find_node(&built.plan, key, &args.spec)?;
    for &input in &node.inputs {
        let input = built.plan.node(input);
        if !matches!(cache.lookup(input.kind(), &input.key)?, Lookup::Hit(_)) {
            let message = format!("input {} ({}) is not in the cache", input.label, input.key.short());
            return Err(GohspError::stage(&node.label, format!("{message}: its job must complete first")));
        }
    }
    let result = build_node(&built.plan, &cache, node, false, false);
    match &result.status {
        RunStatus::Hit => eprintln!("{}: already cached", node.label),
        RunStatus::Ran => eprintln!("{}: built", node.label),
        other => eprintln!("{}: {other}", node.label),
    }
    Ok(result.exit_code)
}

/// The node whose key is `key` or starts with it (8 hex digits at least, one node only).
fn find_node<'p>(plan: &'p Plan, key: &str, spec: &Path) -> Result<&'p PlanNode> {
    let hint = "pass a key from `gohsp plan` or a job's comment, with the same spec and --set values";
    if key.len() < 8 {
        return Err(GohspError::usage(format!("--key {key}: give 8 hex digits at least"), hint));
    }
    let nodes = plan.nodes();
    let matches: Vec<&PlanNode> = nodes.into_iter().filter(|node| node.key.as_str().starts_with(key)).collect();
    match matches.as_slice() {
        [node] => Ok(node),
        [] => Err(GohspError::usage(format!("no node of {} has the key {key}", spec.display()), hint)),
        _ => Err(GohspError::usage(format!("the key prefix {key} names {} nodes", matches.len()), hint)),
    }
}
