//! Top-1 accuracy against target sparsity: one line per method (error bars over seeds), dense as a dashed line.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{GohspError, Result};
use crate::report::aggregate::AggregatedRow;
use crate::report::metrics::is_dense;
use crate::report::plot_style::write_figure;
use crate::report::plot_style::{DrawResult, FONT, Figure, TITLE_SIZE, extent, padded, series_color_among};
use crate::report::plot_style::{draw_axes, draw_legend, line_key};

/// One method's curve: (target sparsity %, mean top-1, std top-1) sorted by sparsity.
struct MethodLine {
    label: String,
    points: Vec<(f64, f64, f64)>,
}

/// The accuracy plot's data, ready to draw.
struct AccuracyFigure {
    lines: Vec<MethodLine>,
    /// (label, top-1) of each dense model, drawn as dashed horizontal lines.
    dense: Vec<(String, f64)>,
}

/// Plot top-1 vs target sparsity from seed-averaged rows into `<out_stem>.{svg,png}`.
///
/// Only the rows of the smallest latency batch are used (accuracy does not depend on it). With several
/// (model, dataset) pairs the labels name the model too.
pub(crate) fn plot_accuracy(rows: &[AggregatedRow], out_stem: &Path, formats: &[String]) -> Result<Vec<PathBuf>> {
    let batch = rows.iter().map(|r| r.latency_batch).min().ok_or_else(|| {
        GohspError::usage("the accuracy plot has no rows to draw", "report on runs that wrote metrics.csv rows")
    })?;
    let rows: Vec<&AggregatedRow> = rows.iter().filter(|r| r.latency_batch == batch).collect();
    let several_models = rows.iter().any(|r| (&r.model, &r.dataset) != (&rows[0].model, &rows[0].dataset));
    let name = |r: &AggregatedRow, what: &str| {
        if several_models { format!("{} {what}", r.model) } else { what.to_string() }
    };
    let mut figure = AccuracyFigure { lines: Vec::new(), dense: Vec::new() };
    for row in &rows {
        let label = name(row, &row.method);
        if is_dense(&row.method) {
            figure.dense.push((label, row.top1_mean));
            continue;
        }
        let point = (row.target_sparsity * 100.0, row.top1_mean, row.top1_std.unwrap_or(0.0));
        match figure.lines.iter_mut().find(|line| line.label == label) {
            Some(line) => line.points.push(point),
            None => figure.lines.push(MethodLine { label, points: vec![point] }),
        }
    }
    figure.lines.iter_mut().for_each(|line| line.points.sort_by(|a, b| a.0.total_cmp(&b.0)));
    write_figure(&figure, out_stem, formats)
}

impl AccuracyFigure {
    /// The x and y ranges covering every point, error bar and dense level.
    fn ranges(&self) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
        let points = || self.lines.iter().flat_map(|line| line.points.iter());
        let (x_min, x_max) = extent(points().map(|p| p.0)).unwrap_or((0.0, 0.0));
        let lows = points().map(|p| p.1 - p.2).chain(self.dense.iter().map(|d| d.1));
        let highs = points().map(|p| p.1 + p.2).chain(self.dense.iter().map(|d| d.1));
        let (y_min, _) = extent(lows).unwrap_or((0.0, 0.0));
        let (_, y_max) = extent(highs).unwrap_or((0.0, 0.0));
        (padded(x_min, x_max), padded(y_min, y_max))
    }
}

impl Figure for AccuracyFigure {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (x_range, y_range) = self.ranges();
        let mut chart = ChartBuilder::on(area)
            .caption("Top-1 accuracy vs sparsity", (FONT, TITLE_SIZE))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range.clone(), y_range)?;
        draw_axes(&mut chart.configure_mesh(), "target sparsity (%)", "top-1 (%)")?;
        for (i, line) in self.lines.iter().enumerate() {
            let style = series_color_among(i, self.lines.len()).stroke_width(2);
            let xy = line.points.iter().map(|p| (p.0, p.1));
            chart.draw_series(LineSeries::new(xy.clone(), style))?.label(line.label.as_str()).legend(line_key(style));
            chart.draw_series(xy.map(|p| Circle::new(p, 4, style.filled())))?;
            let bars = line.points.iter().filter(|p| p.2 > 0.0);
            chart.draw_series(bars.map(|&(x, m, s)| ErrorBar::new_vertical(x, m - s, m, m + s, style, 10)))?;
        }
        for (j, (label, level)) in self.dense.iter().enumerate() {
            let style = RGBColor(0, 0, 0).mix(1.0 - 0.3 * j as f64).stroke_width(2);
            let ends = [(x_range.start, *level), (x_range.end, *level)];
            chart.draw_series(DashedLineSeries::new(ends, 10, 6, style))?.label(label.as_str()).legend(line_key(style));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::aggregate::aggregate;
    use crate::report::metrics::sample_row;
    use crate::report::plot_style::test_support::{assert_svg_and_png, both_formats};

    #[test]
    fn writes_svg_and_png_with_lines_and_error_bars() {
        let mut rows = vec![sample_row("dense", 0.0, 0, 1)];
        for (method, sparsity, seed) in [("gohsp", 0.3, 0), ("gohsp", 0.3, 1), ("gohsp", 0.5, 0), ("random", 0.5, 0)] {
            rows.push(sample_row(method, sparsity, seed, 1));
            rows.push(sample_row(method, sparsity, seed, 64));
        }
        let dir = tempfile::tempdir().unwrap();
        let paths = plot_accuracy(&aggregate(&rows), &dir.path().join("plots/accuracy"), &both_formats()).unwrap();
        assert_svg_and_png(&paths);
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(svg.contains("gohsp") && svg.contains("random") && svg.contains("dense"));
        assert!(svg.contains("stroke-dasharray") || svg.matches("<line").count() > 10, "no dashed dense line");
    }

    #[test]
    fn no_rows_is_a_user_error() {
        let err = plot_accuracy(&[], Path::new("unused"), &both_formats()).unwrap_err();
        assert!(err.is_user_error());
    }
}
