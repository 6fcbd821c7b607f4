//! Building the DAG of a loaded spec: one shared dense branch per (data, model, seed), each grid point's chain, one report.

use super::chain::add_chain;
use super::dense::{Runtimes, add_dense};
use super::names::{DENSE_AXES, axes_of, variant_name};
use super::report::ReportStage;
use super::report_entry::ReportEntry;
use crate::error::Result;
use crate::pipeline::dag::{NodeId, Plan};
use crate::spec::load::LoadedSpec;
use std::sync::Arc;

/// The plan of a spec, and the runtimes it opened (one per distinct dataset spec).
pub(crate) struct BuiltPlan {
    /// The DAG.
    pub plan: Plan,
    /// The final report node.
    pub report: Option<NodeId>,
}

/// Build the plan of every grid point of `loaded`, ending in one report node.
pub(crate) fn build_plan(loaded: &LoadedSpec, runtimes: &mut Runtimes) -> Result<BuiltPlan> {
    let mut plan = Plan::new();
    let mut inputs: Vec<NodeId> = Vec::new();
    let mut entries: Vec<ReportEntry> = Vec::new();
    for point in &loaded.points {
        let rt = runtimes.get(&point.spec)?;
        let dense = add_dense(&mut plan, point, &rt, &loaded.file)?;
        if !inputs.contains(&dense.eval) {
            let dense_input = input_index(&mut inputs, dense.eval);
            let name = format!("dense,{}", axes_of(point, DENSE_AXES));
            entries.push(ReportEntry {
                point: name,
                method: "dense".into(),
                target_sparsity: 0.0,
                seed: point.spec.seed,
                eval_input: dense_input,
                dense_input,
                plot_inputs: vec![],
            });
        }
        let chain = add_chain(&mut plan, point, &rt, &dense, &loaded.file)?;
        entries.push(ReportEntry {
            point: point.name.clone(),
            method: variant_name(point),
            target_sparsity: point.spec.sparsity,
            seed: point.spec.seed,
            eval_input: input_index(&mut inputs, chain.eval),
            dense_input: input_index(&mut inputs, dense.eval),
            plot_inputs: chain.plot_nodes.iter().map(|&n| input_index(&mut inputs, n)).collect(),
        });
    }
    let first = &loaded.points[0].spec;
    let rt = runtimes.get(first)?;
    let report = ReportStage {
        experiment: loaded.name.clone(),
        model: first.model.preset.clone(),
        dataset: first.dataset.name.clone(),
        entries,
        spec: first.report.clone(),
    };
    let report = plan.add(Arc::new(report), &inputs, &rt.fingerprint());
    Ok(BuiltPlan { plan, report: Some(report) })
}

fn input_index(inputs: &mut Vec<NodeId>, node: NodeId) -> usize {
    match inputs.iter().position(|&n| n == node) {
        Some(i) => i,
        None => {
            inputs.push(node);
            inputs.len() - 1
        }
    }
}
