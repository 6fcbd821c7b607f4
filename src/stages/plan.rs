//! Building the DAG of a loaded spec: one shared dense branch per (data, model, seed), then each grid point's chain.

use super::admm::AdmmStage;
use super::evaluate::EvaluateStage;
use super::finetune::FinetuneStage;
use super::pretrain::{PretrainStage, Weights, file_digest};
use super::prune::{PruneStage, uses_admm};
use super::rank::{RankMode, RankStage};
use super::recipes::finetune_epochs;
use super::report::{ReportEntry, ReportStage};
use super::runtime::Runtime;
use super::shape::resolve_shape;
use crate::error::{GohspError, Result};
use crate::model::io::{checkpoint_shape, read_checkpoint};
use crate::model::presets::preset_heads;
use crate::model::shape::VitShape;
use crate::pipeline::dag::{NodeId, Plan};
use crate::pipeline::stage::StageKind;
use crate::prune::baselines::Minimums;
use crate::prune::budget::{Budget, BudgetRequest, solve_budget};
use crate::spec::load::{GridPoint, LoadedSpec};
use crate::spec::types::Method;
use crate::spec::types::Spec;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The plan of a spec, and the runtimes it opened (one per distinct dataset spec).
pub struct BuiltPlan {
    /// The DAG.
    pub plan: Plan,
    /// The final report node.
    pub report: Option<NodeId>,
}

/// Opens datasets as they are first needed, once per distinct dataset spec and device.
#[derive(Default)]
pub struct Runtimes {
    opened: BTreeMap<String, Arc<Runtime>>,
}

impl Runtimes {
    /// The runtime for `spec`'s dataset and device.
    pub fn get(&mut self, spec: &Spec) -> Result<Arc<Runtime>> {
        let id = serde_json::to_string(&(&spec.dataset, spec.device, &spec.model)).expect("serialises");
        if let Some(rt) = self.opened.get(&id) {
            return Ok(rt.clone());
        }
        let side = crate::model::presets::preset(&spec.model.preset, 10)?.image_size;
        let rt = Runtime::open(&spec.dataset, spec.device, spec.model.image_size.unwrap_or(side))?;
        self.opened.insert(id, rt.clone());
        Ok(rt)
    }
}

/// The nodes of the dense branch of a point.
pub struct DenseNodes {
    /// The dense model.
    pub model: NodeId,
    /// Its evaluation.
    pub eval: NodeId,
    /// Its architecture.
    pub shape: VitShape,
}

/// Add the dense model and its evaluation (deduplicated across points by key).
pub fn add_dense(plan: &mut Plan, point: &GridPoint, rt: &Arc<Runtime>, file: &Path) -> Result<DenseNodes> {
    let spec = &point.spec;
    let axes = axes_of(&point.name, DENSE_AXES);
    let fp = rt.fingerprint();
    let weights = match &spec.model.weights {
        Some(path) => Some(Weights {
            path: path.clone(),
            digest: file_digest(path)?,
            heads_hint: spec.model.heads.or_else(|| preset_heads(&spec.model.preset)),
        }),
        None => None,
    };
    let shape = match &weights {
        Some(w) => {
            let ckpt = read_checkpoint(&w.path)?;
            checkpoint_shape(&ckpt, w.heads_hint, &w.path)?
        }
        None => resolve_shape(&spec.model, rt.info())?,
    };
    if rt.info().classes > shape.num_classes {
        let message = format!(
            "the model has {} outputs but dataset `{}` has {} classes",
            shape.num_classes,
            spec.dataset.name,
            rt.info().classes
        );
        return Err(GohspError::spec(
            file.display().to_string(),
            "model.num_classes",
            message,
            "use weights trained for this dataset, or set model.num_classes",
        ));
    }
    let pretrain = PretrainStage {
        runtime: rt.clone(),
        shape: shape.clone(),
        weights,
        train: spec.pretrain.clone(),
        seed: spec.seed,
        label: format!("dense[{axes}]"),
    };
    let model = plan.add(Arc::new(pretrain), &[], &fp);
    let evaluate = EvaluateStage {
        runtime: rt.clone(),
        spec: spec.evaluate.clone(),
        subject: format!("dense,{axes}"),
        model_kind: StageKind::Pretrain,
    };
    let eval = plan.add(Arc::new(evaluate), &[model], &fp);
    Ok(DenseNodes { model, eval, shape })
}

/// Build the plan of every grid point of `loaded`, ending in one report node.
pub fn build_plan(loaded: &LoadedSpec, runtimes: &mut Runtimes) -> Result<BuiltPlan> {
    let mut plan = Plan::new();
    let mut inputs: Vec<NodeId> = Vec::new();
    let mut entries: Vec<ReportEntry> = Vec::new();
    for point in &loaded.points {
        let rt = runtimes.get(&point.spec)?;
        let dense = add_dense(&mut plan, point, &rt, &loaded.file)?;
        if !inputs.contains(&dense.eval) {
            let dense_input = input_index(&mut inputs, dense.eval);
            let name = format!("dense,{}", axes_of(&point.name, DENSE_AXES));
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

/// The table's method column for a point: the method, plus the point's other varying axes (a grid over `rank.signal`
/// shows as `gohsp [rank.signal=output]`), so that only seeds are averaged together.
pub fn variant_name(point: &GridPoint) -> String {
    let others: Vec<&str> = point.name.split(',').filter(|a| a.contains('=') && !["method=", "sparsity=", "seed="].iter().any(|p| a.starts_with(p))).collect();
    let method = method_name(point.spec.method);
    if others.is_empty() { method } else { format!("{method} [{}]", others.join(",")) }
}

/// The method's name as the spec spells it.
pub fn method_name(method: Method) -> String {
    serde_json::to_value(method).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// The nodes a point adds after the dense branch.
struct Chain {
    eval: NodeId,
    plot_nodes: Vec<NodeId>,
}

fn add_chain(plan: &mut Plan, point: &GridPoint, rt: &Arc<Runtime>, dense: &DenseNodes, file: &Path) -> Result<Chain> {
    let spec = &point.spec;
    let fp = rt.fingerprint();
    let budget = solve(&dense.shape, spec, file, &point.name)?;
    let label = |kind: &str| format!("{kind}[{}]", point.name);
    let mut plot_nodes = vec![dense.model];
    let prune_inputs = if uses_admm(spec.method) {
        let mode = if spec.method == Method::Gohsp { RankMode::Graph } else { RankMode::Magnitude };
        let rank_label = format!("rank[{}]", axes_of(&point.name, RANK_AXES));
        let rank = plan.add(
            Arc::new(RankStage {
                runtime: rt.clone(),
                spec: spec.rank.clone(),
                mode,
                seed: spec.seed,
                label: rank_label,
            }),
            &[dense.model],
            &fp,
        );
        let admm_stage = AdmmStage {
            runtime: rt.clone(),
            admm: spec.admm.clone(),
            finetune: spec.finetune.clone(),
            rank: spec.rank.clone(),
            budget,
            seed: spec.seed,
            label: label("admm"),
        };
        let admm = plan.add(Arc::new(admm_stage), &[dense.model, rank], &fp);
        plot_nodes.extend([rank, admm]);
        vec![admm]
    } else {
        vec![dense.model]
    };
    let min = Minimums { heads: spec.rank.min_heads, neurons: spec.admm.min_neurons };
    let prune_stage = PruneStage {
        runtime: rt.clone(),
        method: spec.method,
        budget,
        min,
        seed: spec.seed,
        calib_samples: spec.rank.calib_samples,
        label: label("prune"),
    };
    let prune = plan.add(Arc::new(prune_stage), &prune_inputs, &fp);
    let epochs = finetune_epochs(&spec.finetune, &spec.admm, uses_admm(spec.method));
    let finetune = FinetuneStage {
        runtime: rt.clone(),
        spec: spec.finetune.clone(),
        epochs,
        seed: spec.seed,
        label: label("finetune"),
    };
    let finetune = plan.add(Arc::new(finetune), &[prune, dense.model], &fp);
    let evaluate = EvaluateStage {
        runtime: rt.clone(),
        spec: spec.evaluate.clone(),
        subject: point.name.clone(),
        model_kind: StageKind::Finetune,
    };
    let eval = plan.add(Arc::new(evaluate), &[finetune, dense.model], &fp);
    plot_nodes.extend([prune, finetune]);
    Ok(Chain { eval, plot_nodes })
}

/// Axes that change the dense model.
const DENSE_AXES: &[&str] = &["seed", "model.", "dataset.", "pretrain."];
/// Axes that change the head ranking.
const RANK_AXES: &[&str] = &["seed", "model.", "dataset.", "pretrain.", "rank.", "method"];

/// The part of a point name whose axes start with one of `prefixes` (`default` when none does).
pub fn axes_of(point: &str, prefixes: &[&str]) -> String {
    let kept: Vec<&str> = point.split(',').filter(|axis| prefixes.iter().any(|p| axis.starts_with(p))).collect();
    if kept.is_empty() { "default".into() } else { kept.join(",") }
}

/// Solve the point's budget before anything runs; an unreachable sparsity is a spec error naming the largest reachable one.
fn solve(shape: &VitShape, spec: &Spec, file: &Path, point: &str) -> Result<Budget> {
    let request = BudgetRequest {
        sparsity: spec.sparsity,
        head_share: spec.rank.head_share,
        min_heads: spec.rank.min_heads,
        min_neurons: spec.admm.min_neurons,
    };
    solve_budget(shape, &request).map_err(|e| {
        GohspError::spec(
            file.display().to_string(),
            "sparsity",
            format!("{e} (grid point {point})"),
            "lower the sparsity, or lower rank.min_heads / admm.min_neurons",
        )
    })
}
