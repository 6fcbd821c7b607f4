//! Structured pruning: groups and budgets, head ranking on a graph, ADMM, hard slicing and the baselines.

pub mod admm;
pub(crate) mod admm_penalty;
pub mod admm_round;
pub mod admm_spec;
pub mod admm_state;
pub(crate) mod baselines;
pub mod budget;
pub(crate) mod calibrate;
pub mod groups;
pub mod hard;
pub mod head_choice;
pub(crate) mod head_graph;
pub mod head_oracle;
pub mod head_share;
pub mod mask;
pub mod method;
pub mod norms;
pub(crate) mod pagerank;
pub mod qk_pairs;
pub mod rank;
pub mod rank_spec;
pub(crate) mod ranked_constraint;
pub mod select;
pub mod taylor;
