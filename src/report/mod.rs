//! Reports: the tidy metrics CSV, aggregation over seeds, Markdown/LaTeX tables and plots.

pub(crate) mod aggregate;
pub mod metrics;
pub(crate) mod plot_accuracy;
pub(crate) mod plot_admm;
pub(crate) mod plot_curves;
pub(crate) mod plot_heatmap;
pub(crate) mod plot_structure;
pub(crate) mod plot_style;
pub(crate) mod rank_correlation;
pub(crate) mod rank_quality;
pub(crate) mod table;
