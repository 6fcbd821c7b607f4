//! PageRank exactly as networkx 3.6 computes it (weighted; teleport and dangling mass uniform, or both by a
//! personalisation vector), and the JSON graph form of the fixtures in tests/fixtures/pagerank that check it against networkx's answers.

use crate::error::{GohspError, IoContext, Result};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The power iteration did not reach the tolerance within `max_iter` iterations.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("PageRank did not converge in {max_iter} iterations (last L1 change {last_change:e}, needed < {threshold:e})")]
pub(crate) struct NotConverged {
    /// The iteration limit.
    pub max_iter: usize,
    /// L1 change of the last iteration.
    pub last_change: f64,
    /// The threshold it had to fall below: N * tol.
    pub threshold: f64,
}

/// Each node's out-edges as (target, weight / out-weight), and whether the node is dangling (zero out-weight).
fn normalised_out_edges<N>(graph: &DiGraph<N, f64>) -> (Vec<Vec<(usize, f64)>>, Vec<bool>) {
    let out_weight = |n: NodeIndex| graph.edges(n).map(|e| *e.weight()).sum::<f64>();
    let rows = graph.node_indices().map(|n| {
        let total = out_weight(n);
        let row = graph.edges(n).map(|e| (e.target().index(), *e.weight() / total));
        if total == 0.0 { Vec::new() } else { row.collect() }
    });
    let rows: Vec<Vec<(usize, f64)>> = rows.collect();
    let dangling = rows.iter().map(Vec::is_empty).collect();
    (rows, dangling)
}

/// One step: x' = alpha * (x A + sum(x[dangling]) * p) + (1 - alpha) * p, with p the teleport distribution.
fn step(x: &[f64], rows: &[Vec<(usize, f64)>], dangling: &[bool], damping: f64, teleport: &[f64]) -> Vec<f64> {
    let dangling_mass: f64 = x.iter().zip(dangling).filter(|(_, d)| **d).map(|(v, _)| v).sum();
    let mut next: Vec<f64> = teleport.iter().map(|p| (damping * dangling_mass + 1.0 - damping) * p).collect();
    for (source, row) in rows.iter().enumerate() {
        for &(target, share) in row {
            next[target] += damping * x[source] * share;
        }
    }
    next
}

/// `weights` scaled to sum to 1; uniform when absent or when they do not sum to a positive finite number.
fn teleport_distribution(n: usize, weights: Option<&[f64]>) -> Vec<f64> {
    let total: f64 = weights.map(|w| w.iter().sum()).unwrap_or(0.0);
    match weights {
        Some(w) if total > 0.0 && total.is_finite() => w.iter().map(|v| v / total).collect(),
        _ => vec![1.0 / n as f64; n],
    }
}

/// The PageRank of every node (indexed by `NodeIndex::index()`), as networkx's `pagerank(G, alpha=damping,
/// weight="weight", tol=tol, max_iter=max_iter)`: parallel edges add up, iteration stops when the L1 change falls
/// below N * tol. Edge weights are expected non-negative. An empty graph has an empty ranking.
pub(crate) fn pagerank<N>(
    graph: &DiGraph<N, f64>,
    damping: f64,
    tol: f64,
    max_iter: usize,
) -> Result<Vec<f64>, NotConverged> {
    personalized_pagerank(graph, damping, tol, max_iter, None)
}

/// [`pagerank`] with networkx's `personalization`: the walk teleports, and dangling nodes send their mass, to node i
/// with probability weights[i] / sum(weights) (one non-negative weight per node; uniform when `None` or all zero).
pub(crate) fn personalized_pagerank<N>(
    graph: &DiGraph<N, f64>,
    damping: f64,
    tol: f64,
    max_iter: usize,
    weights: Option<&[f64]>,
) -> Result<Vec<f64>, NotConverged> {
    let n = graph.node_count();
    if n == 0 {
        return Ok(Vec::new());
    }
    let teleport = teleport_distribution(n, weights);
    let (rows, dangling) = normalised_out_edges(graph);
    let threshold = n as f64 * tol;
    let mut x = vec![1.0 / n as f64; n];
    let mut last_change = f64::INFINITY;
    for _ in 0..max_iter {
        let next = step(&x, &rows, &dangling, damping, &teleport);
        last_change = next.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum();
        x = next;
        if last_change < threshold {
            return Ok(x);
        }
    }
    Err(NotConverged { max_iter, last_change, threshold })
}

/// A weighted digraph in the fixtures' JSON form; other keys (layers, heads, dangling, personalization) are allowed.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(crate) struct GraphJson {
    /// Node names.
    pub nodes: Vec<String>,
    /// Edges as [source, target, weight].
    pub edges_src_dst_weight: Vec<(String, String, f64)>,
    /// Damping factor.
    pub alpha: f64,
    /// Tolerance of the power iteration (default 1e-10).
    #[serde(default)]
    pub tol: Option<f64>,
    /// Iteration limit (default 1000).
    #[serde(default)]
    pub max_iter: Option<usize>,
    /// Expected scores (networkx's answer), when the file is a fixture.
    #[serde(default)]
    pub pagerank: Option<BTreeMap<String, f64>>,
}

impl GraphJson {
    /// Read and parse `path`; a malformed file is an input error naming it.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).at_path(path)?;
        serde_json::from_str(&text).map_err(|e| {
            GohspError::input(path, format!("not a graph file: {e}"), "expected {nodes, edges_src_dst_weight, alpha}")
        })
    }

    /// The petgraph digraph; `path` names the file in errors (unknown or duplicate node, bad weight).
    pub(crate) fn to_graph(&self, path: &Path) -> Result<DiGraph<String, f64>> {
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for name in &self.nodes {
            if index.insert(name.as_str(), graph.add_node(name.clone())).is_some() {
                return Err(GohspError::input(path, format!("node `{name}` is listed twice"), "list each node once"));
            }
        }
        let lookup = |name: &str| {
            let hint = "every edge end must be listed in `nodes`";
            index
                .get(name)
                .copied()
                .ok_or_else(|| GohspError::input(path, format!("edge names unknown node `{name}`"), hint))
        };
        for (src, dst, weight) in &self.edges_src_dst_weight {
            if !(weight.is_finite() && *weight >= 0.0) {
                let message = format!("edge `{src}` -> `{dst}` has weight {weight}");
                return Err(GohspError::input(path, message, "weights must be finite and non-negative"));
            }
            graph.add_edge(lookup(src)?, lookup(dst)?, *weight);
        }
        Ok(graph)
    }
}

/// Rank the graph stored at `path`: node name -> PageRank score.
pub(crate) fn rank_graph_file(path: &Path) -> Result<BTreeMap<String, f64>> {
    let file = GraphJson::load(path)?;
    if !(0.0..1.0).contains(&file.alpha) {
        return Err(GohspError::input(path, format!("alpha {} is outside [0, 1)", file.alpha), "use 0.85"));
    }
    let graph = file.to_graph(path)?;
    let scores = pagerank(&graph, file.alpha, file.tol.unwrap_or(1e-10), file.max_iter.unwrap_or(1000))
        .map_err(|e| GohspError::input(path, e.to_string(), "raise max_iter or tol"))?;
    Ok(file.nodes.into_iter().zip(scores).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pagerank");

    #[test]
    fn every_networkx_fixture_matches() {
        let mut checked = 0;
        for entry in std::fs::read_dir(FIXTURES).unwrap() {
            let path = entry.unwrap().path();
            let expected = GraphJson::load(&path).unwrap().pagerank.expect("fixture has scores");
            let got = rank_graph_file(&path).unwrap();
            assert_eq!(got.len(), expected.len(), "{}", path.display());
            for (node, want) in &expected {
                assert!((got[node] - want).abs() < 1e-6, "{}: node {node}: {} vs {want}", path.display(), got[node]);
            }
            checked += 1;
        }
        assert_eq!(checked, 6);
    }

    #[test]
    fn dangling_mass_spreads_uniformly() {
        // a -> b (weight 3), a -> c (weight 1); b and c dangle. Solved by hand: x_b = x_c + 0.75 * d * x_a, etc.
        let mut g = DiGraph::<(), f64>::new();
        let (a, b, c) = (g.add_node(()), g.add_node(()), g.add_node(()));
        g.add_edge(a, b, 3.0);
        g.add_edge(a, c, 1.0);
        let x = pagerank(&g, 0.85, 1e-12, 1000).unwrap();
        assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // With uniform spread, x_a = (1 - d)/3 + d*(x_b + x_c)/3 and x_b - x_c = 0.5 * d * x_a.
        assert!((x[0] - (0.15 / 3.0 + 0.85 * (x[1] + x[2]) / 3.0)).abs() < 1e-10);
        assert!((x[1] - x[2] - 0.5 * 0.85 * x[0]).abs() < 1e-10);
    }

    #[test]
    fn personalisation_matches_networkx() {
        // networkx 3.6.1, pagerank_alg._pagerank_python(G, alpha=0.85, personalization={a: .1, b: 0, c: .3, d: .6},
        // tol=1e-13): d is isolated (dangling), b gets no teleport.
        let mut g = DiGraph::<(), f64>::new();
        let [a, b, c, _d] = [(); 4].map(|_| g.add_node(()));
        g.add_edge(a, b, 3.0);
        g.add_edge(a, c, 1.0);
        g.add_edge(b, c, 2.0);
        g.add_edge(c, a, 0.5);
        let want = [0.30289617806874514, 0.19309631351886353, 0.32033403902463614, 0.18367346938775514];
        // Unnormalised weights give the same answer.
        let x = personalized_pagerank(&g, 0.85, 1e-13, 1000, Some(&[0.2, 0.0, 0.6, 1.2])).unwrap();
        assert!(x.iter().zip(want).all(|(x, w)| (x - w).abs() < 1e-9), "{x:?}");
        let uniform = pagerank(&g, 0.85, 1e-13, 1000).unwrap();
        assert_eq!(personalized_pagerank(&g, 0.85, 1e-13, 1000, Some(&[0.0; 4])).unwrap(), uniform);
    }

    #[test]
    fn too_few_iterations_is_an_error() {
        let mut g = DiGraph::<(), f64>::new();
        let (a, b) = (g.add_node(()), g.add_node(()));
        g.add_edge(a, b, 1.0);
        let err = pagerank(&g, 0.85, 1e-10, 2).unwrap_err();
        assert_eq!(err.max_iter, 2);
        assert!(pagerank(&DiGraph::<(), f64>::new(), 0.85, 1e-10, 1).unwrap().is_empty());
    }

    #[test]
    fn bad_files_name_the_file_and_the_node() {
        let dir = std::env::temp_dir().join(format!("gohsp-pagerank-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let unknown = dir.join("unknown.json");
        std::fs::write(&unknown, r#"{"nodes": ["a"], "edges_src_dst_weight": [["a", "zz", 1.0]], "alpha": 0.85}"#)
            .unwrap();
        let err = rank_graph_file(&unknown).unwrap_err().to_string();
        assert!(err.contains("unknown.json") && err.contains("`zz`"), "{err}");
        let malformed = dir.join("malformed.json");
        std::fs::write(&malformed, r#"{"nodes": ["a"]}"#).unwrap();
        let err = rank_graph_file(&malformed).unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("malformed.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
