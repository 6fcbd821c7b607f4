//! The rank stage: head importance of the dense model, by the head graph (GOHSP), or by weight norm or seeded noise
//! (the ablations).

use super::artifacts::{read_model, write_json};
use super::meta::StageMeta;
use super::meta::stage_identity;
use crate::error::Result;
use crate::experiment::types::{Direction, RankSpec, Sink, Teleport};
use crate::model::build::vit_tensors;
use crate::pipeline::stage::{Stage, StageContext, StageKind};
use crate::prune::admm_state::Constraint;
use crate::prune::baselines::Minimums;
use crate::prune::budget::Budget;
use crate::prune::head_choice::HeadChoice;
use crate::prune::norms::head_norms;
use crate::prune::rank::{HeadRanking, rank_heads};
use crate::prune::ranked_constraint::{HeadDraw, ranked_constraint};
use crate::prune::select::random_scores;
use serde_json::json;

/// The file a rank stage writes.
pub(crate) const RANKING_FILE: &str = "ranking.json";

/// How heads are scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RankMode {
    /// Stationary distribution of the head graph.
    Graph,
    /// L2 norm of each head's weights (gohsp-magnitude-heads).
    Magnitude,
    /// Seeded uniform noise (gohsp-random-heads).
    Random,
}

/// How a point's heads are picked from its ranking: the criterion (for tie errors), the draw and its seed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct HeadPick {
    /// What scored the heads.
    pub mode: RankMode,
    /// Lowest scores, or the ranked per-block counts with random heads inside each block.
    pub choice: HeadChoice,
    /// Seed of the random draw.
    pub seed: u64,
}

impl HeadPick {
    /// The structure to project onto (see [`ranked_constraint`]): the `budget`'s heads picked from `ranking`.
    pub(crate) fn constraint(
        self,
        ranking: &HeadRanking,
        budget: &Budget,
        min: Minimums,
        min_head_dims: usize,
    ) -> Result<Constraint> {
        let draw = HeadDraw { choice: self.choice, seed: self.seed, tie_words: self.mode.tie_words() };
        ranked_constraint(&ranking.scores, budget, min, min_head_dims, draw)
    }
}

impl RankMode {
    /// The criterion's name in tie errors and its hint on how to separate tied heads.
    pub(crate) fn tie_words(self) -> (&'static str, &'static str) {
        match self {
            Self::Graph => (
                "graph",
                "give the graph data to separate these heads: set rank.teleport: contribution, rank.sink: classifier, \
                 or another rank.direction; or pick a sparsity whose budget does not split the tied heads",
            ),
            Self::Magnitude => (
                "weight-norm",
                "heads with identical weights (copies, or all zero) cannot be ranked by norm: \
                 use weights whose heads differ, or another method",
            ),
            Self::Random => ("random", "draw again with another seed"),
        }
    }
}

/// Scores the dense model's heads.
pub(crate) struct RankStage {
    /// Kind, node label, seed and runtime.
    pub(crate) meta: StageMeta,
    /// Ranking settings.
    pub spec: RankSpec,
    /// Graph, magnitude or random.
    pub mode: RankMode,
}

impl Stage for RankStage {
    stage_identity!(meta);

    fn params(&self) -> serde_json::Value {
        match self.mode {
            RankMode::Graph => json!({ "mode": self.mode, "rank": rank_key(&self.spec), "seed": self.meta.seed }),
            RankMode::Magnitude => json!({ "mode": self.mode }),
            RankMode::Random => json!({ "mode": self.mode, "seed": self.meta.seed }),
        }
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        let (model, _) = read_model(ctx.input(StageKind::Pretrain)?, &self.meta.runtime.device)?;
        let ranking = match self.mode {
            RankMode::Graph => {
                rank_heads(&model, &self.meta.runtime.calibration_loader(64, self.meta.seed)?, &self.spec)?
            }
            RankMode::Magnitude => {
                let scores = head_norms(&model.shape(), &vit_tensors(&model));
                HeadRanking { scores: scores.clone(), raw_scores: scores, edges: vec![] }
            }
            RankMode::Random => {
                let heads: Vec<usize> = model.shape().blocks.iter().map(|b| b.heads).collect();
                let scores = random_scores(&heads, self.meta.seed);
                HeadRanking { scores: scores.clone(), raw_scores: scores, edges: vec![] }
            }
        };
        tracing::info!(label = %self.meta.label, scores = ?ranking.scores.iter().map(|r| r.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>()).collect::<Vec<_>>(), "heads ranked");
        write_json(&ctx.out_dir, RANKING_FILE, &ranking)
    }
}

/// The rank settings as they enter the cache key: `sink: none` and `teleport: uniform` (the graph before these
/// options existed) are left out, so such runs keep their old keys; any other value is part of the key. Graphs whose
/// edges run forward have an embedding source node since revision 2, which their key names.
fn rank_key(spec: &RankSpec) -> serde_json::Value {
    let mut value = serde_json::to_value(spec).expect("the rank spec serializes");
    if let Some(object) = value.as_object_mut() {
        if spec.direction != Direction::Backward {
            object.insert("source".into(), json!("embedding"));
        }
        if spec.sink == Sink::None {
            object.remove("sink");
        }
        if spec.teleport == Teleport::Uniform {
            object.remove("teleport");
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_graph_settings_keep_the_old_key_and_new_ones_enter_it() {
        let legacy = RankSpec { sink: Sink::None, teleport: Teleport::Uniform, ..RankSpec::default() };
        let keys: Vec<String> = rank_key(&legacy).as_object().unwrap().keys().cloned().collect();
        let before = [
            "calib_samples",
            "damping",
            "direction",
            "head_share",
            "max_iter",
            "min_heads",
            "normalize",
            "signal",
            "similarity",
            "tol",
        ];
        assert_eq!(keys, before);
        let new = rank_key(&RankSpec { sink: Sink::Classifier, teleport: Teleport::Contribution, ..legacy });
        assert_eq!((new["sink"].as_str(), new["teleport"].as_str()), (Some("classifier"), Some("contribution")));
        assert!(new.get("source").is_none(), "backward graphs have no source node and keep their keys");
        let forward = rank_key(&RankSpec { direction: Direction::Forward, ..legacy });
        assert_eq!(forward["source"].as_str(), Some("embedding"));
    }
}
