//! ADMM progress per round: primal and dual residuals (log scale) and the accuracy the model would have if hard-pruned.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{GohspError, Result};
use crate::prune::admm_round::AdmmRound;
use crate::report::plot_style::write_figure;
use crate::report::plot_style::{DrawResult, FONT, Figure, TITLE_SIZE, extent, padded, series_color};
use crate::report::plot_style::{draw_axes, draw_legend, line_key};

/// The ADMM plot's data.
struct AdmmFigure {
    rounds: Vec<AdmmRound>,
}

/// Plot residuals (left, log y) and hard-pruned top-1 (right) per ADMM round into `<out_stem>.{svg,png}`.
pub(crate) fn plot_admm(rounds: &[AdmmRound], out_stem: &Path, formats: &[String]) -> Result<Vec<PathBuf>> {
    if rounds.is_empty() {
        return Err(GohspError::usage("the ADMM plot got no rounds", "set admm.rounds to 1 or more"));
    }
    let mut rounds = rounds.to_vec();
    rounds.sort_by_key(|r| r.round);
    write_figure(&AdmmFigure { rounds }, out_stem, formats)
}

/// Positive values for a log axis: anything at or below zero is raised to a tenth of the smallest positive value.
fn log_safe(values: &[f64]) -> Vec<f64> {
    let floor = values.iter().copied().filter(|v| *v > 0.0 && v.is_finite()).fold(f64::INFINITY, f64::min);
    let floor = if floor.is_finite() { floor / 10.0 } else { 1e-12 };
    values.iter().map(|&v| if v > 0.0 && v.is_finite() { v } else { floor }).collect()
}

impl AdmmFigure {
    /// The x range covering every round.
    fn round_range(&self) -> std::ops::Range<f64> {
        let (first, last) = (self.rounds[0].round as f64, self.rounds[self.rounds.len() - 1].round as f64);
        padded(first, last)
    }

    /// The (round, value) points of one logged quantity.
    fn series(&self, values: &[f64]) -> Vec<(f64, f64)> {
        self.rounds.iter().zip(values).map(|(r, &v)| (r.round as f64, v)).collect()
    }

    /// Left panel: primal and dual residuals on a log scale.
    fn draw_residuals<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let primal = log_safe(&self.rounds.iter().map(|r| r.primal_residual).collect::<Vec<_>>());
        let dual = log_safe(&self.rounds.iter().map(|r| r.dual_residual).collect::<Vec<_>>());
        let (lo, hi) = extent(primal.iter().chain(&dual).copied()).unwrap_or((1e-12, 1.0));
        let mut chart = ChartBuilder::on(area)
            .caption("ADMM residuals", (FONT, TITLE_SIZE - 2))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72)
            .build_cartesian_2d(self.round_range(), (lo / 1.5..hi * 1.5).log_scale())?;
        draw_axes(
            chart
                .configure_mesh()
                .x_label_formatter(&|x| if x.fract() == 0.0 { format!("{x:.0}") } else { String::new() })
                .y_label_formatter(&|y| format!("{y:.0e}")),
            "round",
            "residual (relative)",
        )?;
        for (i, (label, values)) in [("primal ||W-Z||/||W||", &primal), ("dual", &dual)].into_iter().enumerate() {
            let style = series_color(i).stroke_width(2);
            let points = self.series(values);
            chart.draw_series(LineSeries::new(points.clone(), style))?.label(label).legend(line_key(style));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, style.filled())))?;
        }
        draw_legend(&mut chart, SeriesLabelPosition::MiddleRight)
    }

    /// Right panel: the hard-pruned top-1 per round.
    fn draw_accuracy<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let top1: Vec<f64> = self.rounds.iter().map(|r| r.hard_pruned_top1).collect();
        let (lo, hi) = extent(top1.iter().copied()).unwrap_or((0.0, 100.0));
        let mut chart = ChartBuilder::on(area)
            .caption("Hard-pruned top-1", (FONT, TITLE_SIZE - 2))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(self.round_range(), padded(lo, hi))?;
        draw_axes(
            chart
                .configure_mesh()
                .x_label_formatter(&|x| if x.fract() == 0.0 { format!("{x:.0}") } else { String::new() }),
            "round",
            "top-1 (%)",
        )?;
        let style = series_color(2).stroke_width(2);
        let points = self.series(&top1);
        chart.draw_series(LineSeries::new(points.clone(), style))?;
        chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, style.filled())))?;
        Ok(())
    }
}

impl Figure for AdmmFigure {
    fn size(&self) -> (u32, u32) {
        (1100, 480)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let panels = area.split_evenly((1, 2));
        self.draw_residuals(&panels[0])?;
        self.draw_accuracy(&panels[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot_style::test_support::{assert_svg_and_png, both_formats};

    fn round(round: usize, primal: f64, dual: f64, top1: f64) -> AdmmRound {
        AdmmRound { round, primal_residual: primal, dual_residual: dual, rho: 0.01, hard_pruned_top1: top1, loss: 0.5 }
    }

    #[test]
    fn writes_both_panels_even_with_a_zero_residual() {
        let rounds = [round(2, 0.05, 0.0, 82.0), round(1, 0.3, 0.02, 78.5), round(3, 0.004, 0.001, 84.0)];
        let dir = tempfile::tempdir().unwrap();
        let paths = plot_admm(&rounds, &dir.path().join("admm"), &both_formats()).unwrap();
        assert_svg_and_png(&paths);
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(svg.contains("ADMM residuals") && svg.contains("Hard-pruned top-1"));
    }

    #[test]
    fn log_safe_raises_non_positive_values_below_the_smallest() {
        assert_eq!(log_safe(&[0.5, 0.0, 0.01, -1.0]), vec![0.5, 0.001, 0.01, 0.001]);
        assert_eq!(log_safe(&[0.0]), vec![1e-12]);
        assert!(plot_admm(&[], Path::new("x"), &both_formats()).unwrap_err().is_user_error());
    }
}
