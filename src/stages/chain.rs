//! A grid point's chain after the dense model: rank and ADMM (GOHSP methods; rank alone for gohsp-one-shot), prune,
//! fine-tune, evaluate.

use super::admm::AdmmStage;
use super::dense::DenseNodes;
use super::evaluate::EvaluateStage;
use super::finetune::FinetuneStage;
use super::meta::StageMeta;
use super::names::{RANK_AXES, axes_of};
use super::prune::{PruneStage, ranks_heads, uses_admm};
use super::rank::{HeadPick, RankMode, RankStage};
use super::recipes::finetune_epochs;
use super::runtime::Runtime;
use crate::error::{GohspError, Result};
use crate::experiment::load::GridPoint;
use crate::experiment::types::{Method, Spec};
use crate::model::shape::VitShape;
use crate::pipeline::dag::{NodeId, Plan};
use crate::pipeline::stage::StageKind;
use crate::prune::baselines::Minimums;
use crate::prune::budget::{Budget, BudgetRequest, solve_budget};
use crate::prune::head_choice::HeadChoice;
use std::path::Path;
use std::sync::Arc;

/// The nodes a point adds after the dense branch.
pub(crate) struct Chain {
    /// The point's evaluation.
    pub eval: NodeId,
    /// The point's fine-tuned model.
    pub model: NodeId,
    /// Nodes whose artifacts feed the plots.
    pub plot_nodes: Vec<NodeId>,
    /// The point's rank node and what it scores by, for methods that rank heads.
    pub rank: Option<(NodeId, RankMode)>,
}

/// Add a point's chain after its dense branch.
pub(crate) fn add_chain(
    plan: &mut Plan,
    point: &GridPoint,
    rt: &Arc<Runtime>,
    dense: &DenseNodes,
    file: &Path,
) -> Result<Chain> {
    let spec = &point.spec;
    let fp = rt.fingerprint();
    let budget = solve(&dense.shape, spec, file, &point.name)?;
    let label = |kind: &str| format!("{kind}[{}]", point.name);
    let mut plot_nodes = vec![dense.model];
    let mut rank_node = None;
    let prune_inputs = if ranks_heads(spec.method) {
        let mode = match spec.method {
            Method::GohspMagnitudeHeads => RankMode::Magnitude,
            Method::GohspRandomHeadsGlobal => RankMode::Random,
            _ => RankMode::Graph,
        };
        let choice =
            if spec.method == Method::GohspRandomHeads { HeadChoice::RandomWithinBlocks } else { HeadChoice::Ranked };
        let rank_label = format!("rank[{}]", axes_of(point, RANK_AXES));
        let rank = plan.add(
            Arc::new(RankStage {
                meta: StageMeta::new(StageKind::Rank, rank_label, spec.seed, rt),
                spec: spec.rank.clone(),
                mode,
            }),
            &[dense.model],
            &fp,
        );
        rank_node = Some((rank, mode));
        if uses_admm(spec.method) {
            let admm_stage = AdmmStage {
                meta: StageMeta::new(StageKind::Admm, label("admm"), spec.seed, rt),
                admm: spec.admm.clone(),
                finetune: spec.finetune.clone(),
                rank: spec.rank.clone(),
                budget,
                pick: HeadPick { mode, choice, seed: spec.seed },
            };
            let admm = plan.add(Arc::new(admm_stage), &[dense.model, rank], &fp);
            plot_nodes.extend([rank, admm]);
            vec![admm]
        } else {
            // gohsp-one-shot: the ranked heads and ADMM's projection, applied once to the dense weights.
            vec![dense.model, rank]
        }
    } else {
        vec![dense.model]
    };
    let min = Minimums { heads: spec.rank.min_heads, neurons: spec.admm.min_neurons };
    let prune_stage = PruneStage {
        meta: StageMeta::new(StageKind::Prune, label("prune"), spec.seed, rt),
        method: spec.method,
        budget,
        min,
        calib_samples: spec.rank.calib_samples,
        min_head_dims: spec.admm.min_head_dims,
    };
    let prune = plan.add(Arc::new(prune_stage), &prune_inputs, &fp);
    let epochs = finetune_epochs(&spec.finetune, &spec.admm, uses_admm(spec.method));
    let finetune = FinetuneStage {
        meta: StageMeta::new(StageKind::Finetune, label("finetune"), spec.seed, rt),
        spec: spec.finetune.clone(),
        epochs,
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
    Ok(Chain { eval, model: finetune, plot_nodes, rank: rank_node })
}

/// Solve the point's budget before anything runs; an unreachable sparsity is a spec error naming the largest reachable one.
fn solve(shape: &VitShape, spec: &Spec, file: &Path, point: &str) -> Result<Budget> {
    // q/k pairs are pruned by ADMM's projection only (applied once by gohsp-one-shot): the one-shot baselines spend the
    // same budget on heads and neurons.
    let head_dims = if ranks_heads(spec.method) { spec.admm.head_dims } else { 0.0 };
    let request = BudgetRequest {
        sparsity: spec.sparsity,
        head_share: spec.rank.head_share,
        min_heads: spec.rank.min_heads,
        min_neurons: spec.admm.min_neurons,
        head_dims,
        min_head_dims: spec.admm.min_head_dims,
    };
    if head_dims > 0.0 {
        check_pair_room(shape, spec.admm.min_head_dims, file)?;
    }
    solve_budget(shape, &request).map_err(|e| {
        GohspError::spec(
            file.display().to_string(),
            "sparsity",
            format!("{e} (grid point {point})"),
            "lower the sparsity, or lower rank.min_heads / admm.min_neurons / admm.min_head_dims",
        )
    })
}

/// With `admm.head_dims` > 0, every block with heads must have q/k pairs to spare above `admm.min_head_dims` (the
/// budget counts pairs per head by the tightest block, so one block without room would switch pair pruning off).
fn check_pair_room(shape: &VitShape, min_head_dims: usize, file: &Path) -> Result<()> {
    let tight = shape.blocks.iter().enumerate().find(|(_, b)| b.heads > 0 && b.qk_dim <= min_head_dims);
    match tight {
        Some((l, b)) => Err(GohspError::spec(
            file.display().to_string(),
            "admm.min_head_dims",
            format!("block {l}'s heads have {} q/k dimensions, none above min_head_dims={min_head_dims}", b.qk_dim),
            "lower admm.min_head_dims, or set admm.head_dims: 0 to prune whole heads only",
        )),
        None => Ok(()),
    }
}
