//! The plan: a petgraph DAG of stage nodes, deduplicated by cache key, walked in topological order.

use std::collections::HashMap;
use std::sync::Arc;

use petgraph::graph::{DiGraph, NodeIndex};

use super::key::{CacheKey, CacheKeyParts, InputKeyPart};
use super::stage::{Stage, StageKind};

/// A node's handle in its [`Plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NodeId(NodeIndex);

impl NodeId {
    /// The node's position in insertion order (which is a topological order).
    pub(crate) fn index(self) -> usize {
        self.0.index()
    }
}

/// One stage instance in the plan, with its cache key.
pub(crate) struct PlanNode {
    /// This node's handle.
    pub id: NodeId,
    /// The stage to run.
    pub stage: Arc<dyn Stage>,
    /// The stage's label (read once).
    pub label: String,
    /// What the key is made of.
    pub parts: CacheKeyParts,
    /// The cache key.
    pub key: CacheKey,
    /// The inputs, in the order given to [`Plan::add`].
    pub inputs: Vec<NodeId>,
}

impl PlanNode {
    /// The stage kind.
    pub(crate) fn kind(&self) -> StageKind {
        self.parts.kind
    }
}

/// The DAG of stages for one run: a node per distinct cache key, edges from input to consumer.
#[derive(Default)]
pub(crate) struct Plan {
    graph: DiGraph<PlanNode, ()>,
    by_key: HashMap<CacheKey, NodeId>,
}

impl Plan {
    /// An empty plan.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `stage` fed by `inputs`; returns the existing node when one with the same key is already there.
    ///
    /// # Panics
    /// When an input id does not belong to this plan (ids come only from `add`, so this is a bug).
    pub(crate) fn add(&mut self, stage: Arc<dyn Stage>, inputs: &[NodeId], dataset_fingerprint: &str) -> NodeId {
        let input_parts: Vec<InputKeyPart> = inputs
            .iter()
            .map(|&id| {
                let input = self.node(id);
                InputKeyPart { kind: input.kind(), key: input.key.to_string() }
            })
            .collect();
        let parts = CacheKeyParts::new(stage.kind(), &stage.params(), input_parts, dataset_fingerprint);
        let key = parts.key();
        if let Some(&existing) = self.by_key.get(&key) {
            return existing;
        }
        let label = stage.label();
        let placeholder = NodeId(NodeIndex::end());
        let index = self.graph.add_node(PlanNode {
            id: placeholder,
            stage,
            label,
            parts,
            key: key.clone(),
            inputs: inputs.to_vec(),
        });
        let id = NodeId(index);
        self.graph[index].id = id;
        for input in inputs {
            self.graph.add_edge(input.0, index, ());
        }
        self.by_key.insert(key, id);
        id
    }

    /// The node with handle `id`.
    ///
    /// # Panics
    /// When `id` does not belong to this plan.
    pub(crate) fn node(&self, id: NodeId) -> &PlanNode {
        &self.graph[id.0]
    }

    /// Every node, in a topological order (inputs before their consumers): the order they were added in, which is
    /// topological because a node's inputs must exist before it is added. Deterministic, unlike a DFS order.
    pub(crate) fn nodes(&self) -> Vec<&PlanNode> {
        self.graph.node_indices().map(|index| &self.graph[index]).collect()
    }

    #[cfg(test)]
    /// The nodes that consume `id` directly.
    pub(crate) fn dependants(&self, id: NodeId) -> Vec<NodeId> {
        self.graph.neighbors_directed(id.0, petgraph::Direction::Outgoing).map(NodeId).collect()
    }

    /// The node whose label is `label`, if any (for `gohsp explain NODE`).
    pub(crate) fn find_by_label(&self, label: &str) -> Option<&PlanNode> {
        self.graph.node_weights().find(|node| node.label == label)
    }

    /// How many distinct nodes the plan has.
    pub(crate) fn len(&self) -> usize {
        self.graph.node_count()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::pipeline::mock_stage::MockStage;

    #[test]
    fn two_points_sharing_a_parent_dedup_it_into_one_node() {
        let mut plan = Plan::new();
        let mut children = Vec::new();
        for sparsity in [0.3, 0.5] {
            let dense = plan.add(MockStage::arc(StageKind::Pretrain, "pretrain", json!({"epochs": 2})), &[], "fp");
            let child =
                MockStage::arc(StageKind::Prune, &format!("prune[{sparsity}]"), json!({ "sparsity": sparsity }));
            children.push((dense, plan.add(child, &[dense], "fp")));
        }
        assert_eq!(plan.len(), 3);
        assert_eq!(children[0].0, children[1].0);
        assert_ne!(children[0].1, children[1].1);
        assert_eq!(plan.dependants(children[0].0).len(), 2);
        assert_eq!(plan.node(children[1].1).parts.inputs[0].key, plan.node(children[0].0).key.to_string());
    }

    #[test]
    fn nodes_come_in_topological_order_and_keys_follow_inputs() {
        let mut plan = Plan::new();
        let a = plan.add(MockStage::arc(StageKind::Pretrain, "a", json!({"seed": 0})), &[], "fp");
        let b = plan.add(MockStage::arc(StageKind::Rank, "b", json!({})), &[a], "fp");
        let a2 = plan.add(MockStage::arc(StageKind::Pretrain, "a2", json!({"seed": 1})), &[], "fp");
        let b2 = plan.add(MockStage::arc(StageKind::Rank, "b2", json!({})), &[a2], "fp");
        assert_ne!(plan.node(b).key, plan.node(b2).key, "same params, different input: different key");
        let order: Vec<NodeId> = plan.nodes().iter().map(|node| node.id).collect();
        let position = |id| order.iter().position(|&x| x == id).unwrap();
        assert!(position(a) < position(b) && position(a2) < position(b2));
        assert_eq!(plan.find_by_label("b2").unwrap().id, b2);
        let petgraph_order = petgraph::algo::toposort(&plan.graph, None).expect("acyclic");
        assert_eq!(petgraph_order.len(), order.len());
    }
}
