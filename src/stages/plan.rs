//! Building the DAG of a loaded spec: one shared dense branch per (data, model, seed), each grid point's chain, one report.

use super::chain::add_chain;
use super::dense::{Runtimes, add_dense};
use super::export::ExportStage;
use super::judged::JudgedRankings;
use super::names::{
    DENSE_AXES, axes_of, dense_variant_name, differing_axes, method_name, point_name_without, variant_name,
    variant_name_without,
};
use super::report::ReportStage;
use super::report_entry::ReportEntry;
use super::runtime::Runtime;
use super::warnings::admm_round_warnings;
use crate::error::Result;
use crate::experiment::grid::point_name;
use crate::experiment::load::{GridPoint, LoadedSpec};
use crate::export::format::ExportFormat;
use crate::export::normalization::Normalization;
use crate::pipeline::dag::{NodeId, Plan};
use crate::pipeline::stage::StageKind;
use clap::ValueEnum;
use std::collections::HashMap;
use std::sync::Arc;

/// The plan of a spec, and the runtimes it opened (one per distinct dataset spec).
pub(crate) struct BuiltPlan {
    /// The DAG.
    pub plan: Plan,
    /// The final report node.
    pub report: Option<NodeId>,
    /// The export nodes, each with the file stem its files are published under.
    pub exports: Vec<(NodeId, String)>,
}

/// Build the plan of every grid point of `loaded`, ending in one report node.
pub(crate) fn build_plan(loaded: &LoadedSpec, runtimes: &mut Runtimes) -> Result<BuiltPlan> {
    for warning in admm_round_warnings(&loaded.points) {
        tracing::warn!("{}: {warning}", loaded.file.display());
    }
    let mut plan = Plan::new();
    let mut inputs: Vec<NodeId> = Vec::new();
    let mut entries: Vec<ReportEntry> = Vec::new();
    let mut rows = RowNames::default();
    let mut exports = Exports::default();
    let mut judged = JudgedRankings::default();
    for point in &loaded.points {
        let rt = runtimes.get(&point.spec)?;
        let dense = add_dense(&mut plan, point, &rt, &loaded.file)?;
        let dense_name = format!("dense,{}", axes_of(point, DENSE_AXES));
        exports.add(&mut plan, point, &rt, (dense.model, StageKind::Pretrain), &dense_name, export_stem(point, true));
        if !inputs.contains(&dense.eval) {
            let dense_input = input_index(&mut inputs, dense.eval);
            let name = format!("dense,{}", axes_of(point, DENSE_AXES));
            entries.push(ReportEntry {
                point: name,
                method: dense_variant_name(point),
                target_sparsity: 0.0,
                seed: point.spec.seed,
                eval_input: dense_input,
                dense_input,
                plot_inputs: vec![],
            });
        }
        let chain = add_chain(&mut plan, point, &rt, &dense, &loaded.file)?;
        exports.add(&mut plan, point, &rt, (chain.model, StageKind::Finetune), &point.name, export_stem(point, false));
        judged.add(point, dense.model, chain.rank);
        let eval_input = input_index(&mut inputs, chain.eval);
        if let Some(i) = entries.iter().position(|e| e.eval_input == eval_input) {
            rows.merge(&mut entries[i], point);
            continue;
        }
        rows.add(eval_input, point);
        entries.push(ReportEntry {
            point: point.name.clone(),
            method: variant_name(point),
            target_sparsity: point.spec.sparsity,
            seed: point.spec.seed,
            eval_input,
            dense_input: input_index(&mut inputs, dense.eval),
            plot_inputs: chain.plot_nodes.iter().map(|&n| input_index(&mut inputs, n)).collect(),
        });
    }
    let first = &loaded.points[0].spec;
    let rt = runtimes.get(first)?;
    let mut rank_quality = Vec::new();
    if first.report.rank_quality {
        for node in judged.add_stages(&mut plan, runtimes)? {
            rank_quality.push(input_index(&mut inputs, node));
        }
    }
    let report = ReportStage {
        experiment: loaded.name.clone(),
        model: first.model.preset.clone(),
        dataset: first.dataset.name.clone(),
        entries,
        spec: first.report.clone(),
        rank_quality,
    };
    let report = plan.add(Arc::new(report), &inputs, &rt.fingerprint());
    Ok(BuiltPlan { plan, report: Some(report), exports: exports.nodes })
}

/// The export nodes of a plan: one per distinct model, when the point's spec asks for formats.
#[derive(Default)]
struct Exports {
    nodes: Vec<(NodeId, String)>,
}

impl Exports {
    /// An export of `model` (the node and its kind), labelled `name` and published as `stem.EXT`.
    fn add(
        &mut self,
        plan: &mut Plan,
        point: &GridPoint,
        rt: &Arc<Runtime>,
        (model, kind): (NodeId, StageKind),
        name: &str,
        stem: String,
    ) {
        let formats: Vec<ExportFormat> =
            point.spec.export.formats.iter().filter_map(|f| ExportFormat::from_str(f, true).ok()).collect();
        if formats.is_empty() {
            return;
        }
        let info = rt.info();
        let stage = ExportStage {
            subject: name.to_string(),
            model_kind: kind,
            formats,
            normalization: Normalization { mean: info.mean.clone(), std: info.std.clone() },
        };
        let node = plan.add(Arc::new(stage), &[model], &rt.fingerprint());
        if !self.nodes.iter().any(|(n, _)| *n == node) {
            self.nodes.push((node, stem));
        }
    }
}

/// The file stem a point's exported model is published under: `dense` or the method, then the point's other axes
/// (`gohsp_sparsity-0.4_seed-1`); the dense model keeps only the axes that change it.
fn export_stem(point: &GridPoint, dense: bool) -> String {
    let (head, axes) = if dense {
        ("dense".to_string(), axes_of(point, DENSE_AXES))
    } else {
        (method_name(point.spec.method), point_name(point.axes.iter().filter(|a| a.key != "method")))
    };
    let name = if axes == "default" { head } else { format!("{head}_{}", axes.replace(',', "_")) };
    as_file_name(&name)
}

/// `name` with `=` as `-` and every character a file name should not hold as `_`.
fn as_file_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '=' => '-',
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') => c,
            _ => '_',
        })
        .collect()
}

/// The first grid point of every report row and the axes found not to change its result: grid points that build the
/// same evaluation (a baseline under an `admm.rho` axis) share one row, named without those axes.
#[derive(Default)]
struct RowNames<'a> {
    /// By the row's evaluation input: its first point and the axes that do not change it.
    rows: HashMap<usize, (&'a GridPoint, Vec<String>)>,
}

impl<'a> RowNames<'a> {
    fn add(&mut self, eval_input: usize, point: &'a GridPoint) {
        self.rows.insert(eval_input, (point, Vec::new()));
    }

    /// `point` builds `entry`'s evaluation too: name the row without the axes on which the two points differ.
    fn merge(&mut self, entry: &mut ReportEntry, point: &GridPoint) {
        let Some((first, ignored)) = self.rows.get_mut(&entry.eval_input) else {
            return;
        };
        for key in differing_axes(first, point) {
            if !ignored.contains(&key) {
                ignored.push(key);
            }
        }
        entry.point = point_name_without(first, ignored);
        entry.method = variant_name_without(first, ignored);
    }
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
