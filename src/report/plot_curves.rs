//! Training and fine-tuning loss curves: loss against epoch, one line per labelled run.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{GohspError, Result};
use crate::report::plot_style::write_figure;
use crate::report::plot_style::{DrawResult, FONT, Figure, TITLE_SIZE, extent, padded, series_color};
use crate::report::plot_style::{draw_axes, draw_legend, line_key};

/// A line plot's data: (label, (x, y) points sorted by x), its title and axis names.
struct CurvesFigure {
    curves: Vec<(String, Vec<(f64, f64)>)>,
    labels: LineLabels,
}

/// The title and axis names of a line plot.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LineLabels {
    /// Caption.
    pub title: &'static str,
    /// x axis.
    pub x: &'static str,
    /// y axis.
    pub y: &'static str,
}

/// Plot loss curves, one line per `(label, points)` with points `(epoch, loss)`, into `<out_stem>.{svg,png}`.
///
/// Non-finite points (a diverged step) are left out of the line.
pub(crate) fn plot_curves(
    curves: &[(String, Vec<(f64, f64)>)],
    out_stem: &Path,
    formats: &[String],
) -> Result<Vec<PathBuf>> {
    plot_lines(curves, LineLabels { title: "Loss curves", x: "epoch", y: "loss" }, out_stem, formats)
}

/// Plot one line per `(label, points)` under `labels` into `<out_stem>.{svg,png}`; non-finite points are left out.
pub(crate) fn plot_lines(
    curves: &[(String, Vec<(f64, f64)>)],
    labels: LineLabels,
    out_stem: &Path,
    formats: &[String],
) -> Result<Vec<PathBuf>> {
    let curves: Vec<(String, Vec<(f64, f64)>)> = curves
        .iter()
        .map(|(label, points)| {
            let mut finite: Vec<(f64, f64)> =
                points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
            finite.sort_by(|a, b| a.0.total_cmp(&b.0));
            (label.clone(), finite)
        })
        .collect();
    if curves.iter().all(|(_, points)| points.is_empty()) {
        return Err(GohspError::usage(
            format!("the plot `{}` got no finite points", labels.title),
            "plot the curves of a run that trained at least one epoch",
        ));
    }
    write_figure(&CurvesFigure { curves, labels }, out_stem, formats)
}

impl Figure for CurvesFigure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let points = || self.curves.iter().flat_map(|(_, points)| points.iter());
        let (x_min, x_max) = extent(points().map(|p| p.0)).unwrap_or((0.0, 1.0));
        let (y_min, y_max) = extent(points().map(|p| p.1)).unwrap_or((0.0, 1.0));
        let mut chart = ChartBuilder::on(area)
            .caption(self.labels.title, (FONT, TITLE_SIZE))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(padded(x_min, x_max), padded(y_min, y_max))?;
        draw_axes(&mut chart.configure_mesh(), self.labels.x, self.labels.y)?;
        for (i, (label, points)) in self.curves.iter().enumerate() {
            let style = series_color(i).stroke_width(2);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), style))?
                .label(label.as_str())
                .legend(line_key(style));
            if points.len() <= 40 {
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, style.filled())))?;
            }
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot_style::test_support::{assert_svg_and_png, both_formats};

    #[test]
    fn writes_one_labelled_line_per_curve() {
        let decay = |scale: f64| (1..=10).map(|e| (e as f64, scale / e as f64)).collect::<Vec<_>>();
        let curves = vec![("pretrain".to_string(), decay(2.0)), ("finetune gohsp".to_string(), decay(1.0))];
        let dir = tempfile::tempdir().unwrap();
        let paths = plot_curves(&curves, &dir.path().join("curves"), &both_formats()).unwrap();
        assert_svg_and_png(&paths);
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(svg.contains("pretrain") && svg.contains("finetune gohsp") && svg.contains("<polyline"));
    }

    #[test]
    fn no_finite_points_is_a_user_error() {
        let curves = vec![("diverged".to_string(), vec![(1.0, f64::NAN)])];
        assert!(plot_curves(&curves, Path::new("x"), &both_formats()).unwrap_err().is_user_error());
    }
}
