//! Reports: the tidy metrics CSV, aggregation over seeds, Markdown/LaTeX tables and plots.

pub mod aggregate;
pub mod metrics;
pub mod plot_accuracy;
pub mod plot_admm;
pub mod plot_curves;
pub mod plot_heatmap;
pub mod plot_structure;
pub mod plot_style;
pub mod table;
