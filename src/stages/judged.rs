//! The rank-quality nodes of a plan (`report.rank_quality`): per dense model, the graph rankings the grid builds of
//! it, named by their rank axes, and one rank-quality stage reading them.

use super::dense::Runtimes;
use super::meta::StageMeta;
use super::names::{DENSE_AXES, axes_of};
use super::rank::RankMode;
use super::rank_quality::RankQualityStage;
use crate::error::Result;
use crate::experiment::load::GridPoint;
use crate::pipeline::dag::{NodeId, Plan};
use crate::pipeline::stage::StageKind;
use std::sync::Arc;

/// One dense model, its first point, and its graph rankings (node, criterion name).
struct JudgedDense<'a> {
    model: NodeId,
    point: &'a GridPoint,
    graphs: Vec<(NodeId, String)>,
}

/// Per dense model, in plan order: its first point and the graph rankings of it that the grid builds.
#[derive(Default)]
pub(crate) struct JudgedRankings<'a> {
    dense: Vec<JudgedDense<'a>>,
}

impl<'a> JudgedRankings<'a> {
    /// Record `point`'s dense model and, when it ranks heads by the graph, its rank node.
    pub(crate) fn add(&mut self, point: &'a GridPoint, dense: NodeId, rank: Option<(NodeId, RankMode)>) {
        let at = match self.dense.iter().position(|d| d.model == dense) {
            Some(at) => at,
            None => {
                self.dense.push(JudgedDense { model: dense, point, graphs: Vec::new() });
                self.dense.len() - 1
            }
        };
        let graphs = &mut self.dense[at].graphs;
        if let Some((node, RankMode::Graph)) = rank
            && !graphs.iter().any(|(n, _)| *n == node)
        {
            let axes = axes_of(point, &["rank."]);
            graphs.push((node, if axes == "default" { "graph".to_string() } else { format!("graph [{axes}]") }));
        }
    }

    /// One rank-quality node per dense model, reading it and its graph rankings.
    pub(crate) fn add_stages(&self, plan: &mut Plan, runtimes: &mut Runtimes) -> Result<Vec<NodeId>> {
        let mut nodes = Vec::new();
        for JudgedDense { model, point, graphs } in &self.dense {
            let rt = runtimes.get(&point.spec)?;
            let label = format!("rank_quality[{}]", axes_of(point, DENSE_AXES));
            let stage = RankQualityStage {
                meta: StageMeta::new(StageKind::RankQuality, label, point.spec.seed, &rt),
                graphs: graphs.iter().map(|(_, name)| name.clone()).collect(),
                calib_samples: point.spec.rank.calib_samples,
            };
            let mut node_inputs = vec![*model];
            node_inputs.extend(graphs.iter().map(|(node, _)| *node));
            nodes.push(plan.add(Arc::new(stage), &node_inputs, &rt.fingerprint()));
        }
        Ok(nodes)
    }
}
