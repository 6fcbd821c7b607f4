//! Routing a parsed command line to its handler.

use super::{cache_admin, config, data, export, inspect, node_status, plan, report, run, run_node};
use crate::cli::{Cli, Command, DataAction};
use crate::error::Result;

/// Run the command `cli` names; returns the exit code.
pub fn dispatch(cli: &Cli) -> Result<i32> {
    let results = &cli.results;
    match &cli.command {
        Command::Run { spec, jobs, keep_going, force, executor } => {
            run::run(results, spec, *jobs, *keep_going, force, executor)
        }
        Command::RunNode { spec, key } => run_node::run_node(results, spec, key),
        Command::Plan { spec, force } => plan::plan(results, spec, force),
        Command::Explain { spec, node } => plan::explain(results, spec, node),
        Command::Config { spec } => config::config(spec),
        Command::Status { spec: None, .. } => cache_admin::status(results),
        Command::Status { spec: Some(spec), sets } => node_status::node_status(results, spec, sets),
        Command::Gc { dry_run, keep, force } => cache_admin::collect_garbage(results, *dry_run, *force, keep),
        Command::Inspect { weights, heads, json } => inspect::inspect(weights, *heads, *json),
        Command::Predict { weights, input, out, heads } => inspect::predict(weights, input, out, *heads),
        Command::Export { weights, format, out, heads, mean, std } => {
            export::export(weights, *format, out, *heads, mean.clone().zip(std.clone()))
        }
        Command::RankGraph { graph } => inspect::rank_graph(graph),
        Command::Report { dirs, out } => report::report(dirs, out),
        Command::Data { action: DataAction::Fetch { name, dir } } => data::fetch_dataset(name, dir.clone()),
    }
}
