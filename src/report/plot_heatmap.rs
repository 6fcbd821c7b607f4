//! Head-importance heatmap: blocks x heads coloured by score, pruned heads crossed out, with a colour bar.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{GohspError, Result};
use crate::report::plot_style::draw_axes;
use crate::report::plot_style::{DrawResult, FONT, Figure, TITLE_SIZE, extent, write_figure};

/// The heatmap's data: scores[l][h] and whether head h of block l is kept.
struct HeatmapFigure {
    scores: Vec<Vec<f64>>,
    kept: Vec<Vec<bool>>,
    range: (f64, f64),
}

/// Plot head scores (one row per block, one column per head); heads with `kept[l][h] == false` get an X.
pub(crate) fn plot_heatmap(
    scores: &[Vec<f64>],
    kept: &[Vec<bool>],
    out_stem: &Path,
    formats: &[String],
) -> Result<Vec<PathBuf>> {
    let hint = "pass scores.json and head_mask.json of the same rank stage";
    if kept.len() != scores.len() {
        let message = format!("heatmap: {} blocks of scores but {} blocks of head mask", scores.len(), kept.len());
        return Err(GohspError::usage(message, hint));
    }
    if let Some(l) = (0..scores.len()).find(|&l| scores[l].len() != kept[l].len()) {
        let message = format!("heatmap: block {l} has {} scores but {} mask entries", scores[l].len(), kept[l].len());
        return Err(GohspError::usage(message, hint));
    }
    let range = extent(scores.iter().flatten().copied())
        .ok_or_else(|| GohspError::usage("heatmap: no finite head scores to draw", hint))?;
    let figure = HeatmapFigure { scores: scores.to_vec(), kept: kept.to_vec(), range };
    write_figure(&figure, out_stem, formats)
}

/// The viridis colour of `t` in [0, 1] (clamped), from plotters' colormap.
fn viridis(t: f64) -> RGBColor {
    ViridisRGB.get_color(t.clamp(0.0, 1.0))
}

impl HeatmapFigure {
    /// The score scaled to [0, 1] over the figure's range.
    fn unit(&self, score: f64) -> f64 {
        let (lo, hi) = self.range;
        if hi > lo { (score - lo) / (hi - lo) } else { 0.5 }
    }

    /// Draw the cell grid; block 0 is the top row.
    fn draw_cells<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let depth = self.scores.len();
        let heads = self.scores.iter().map(Vec::len).max().unwrap_or(0);
        let mut chart = ChartBuilder::on(area)
            .caption("Head scores (X: pruned)", (FONT, TITLE_SIZE))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5..heads as f64 - 0.5, -0.5..depth as f64 - 0.5)?;
        draw_axes(
            chart
                .configure_mesh()
                .disable_mesh()
                .x_labels(heads)
                .y_labels(depth)
                .x_label_formatter(&|x| format!("{}", x.round() as i64))
                .y_label_formatter(&|y| format!("{}", depth as i64 - 1 - y.round() as i64)),
            "head",
            "block",
        )?;
        for (l, row) in self.scores.iter().enumerate() {
            let y = (depth - 1 - l) as f64;
            for (h, &score) in row.iter().enumerate() {
                let (x0, y0, x1, y1) = (h as f64 - 0.5, y - 0.5, h as f64 + 0.5, y + 0.5);
                let color = if score.is_finite() { viridis(self.unit(score)) } else { RGBColor(200, 200, 200) };
                chart.draw_series([Rectangle::new([(x0, y0), (x1, y1)], color.filled())])?;
                chart.draw_series([Rectangle::new([(x0, y0), (x1, y1)], WHITE.stroke_width(1))])?;
                if !self.kept[l][h] {
                    let (a, b) = (0.3, 0.7);
                    let style = RGBColor(220, 30, 30).stroke_width(3);
                    let lines = [((x0 + a, y0 + a), (x0 + b, y0 + b)), ((x0 + a, y0 + b), (x0 + b, y0 + a))];
                    chart.draw_series(lines.map(|(p, q)| PathElement::new(vec![p, q], style)))?;
                }
            }
        }
        Ok(())
    }

    /// Draw the vertical colour bar with the score scale.
    fn draw_colour_bar<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (lo, hi) = self.range;
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) };
        let mut chart = ChartBuilder::on(area)
            .margin_top(52)
            .margin_bottom(56)
            .margin_right(8)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..1.0, lo..hi)?;
        chart.configure_mesh().disable_mesh().disable_x_axis().y_desc("score").label_style((FONT, 12)).draw()?;
        let steps = 64;
        let step = (hi - lo) / steps as f64;
        let strips = (0..steps).map(|i| {
            let y = lo + i as f64 * step;
            Rectangle::new([(0.0, y), (1.0, y + step)], viridis(i as f64 / (steps - 1) as f64).filled())
        });
        chart.draw_series(strips)?;
        Ok(())
    }
}

impl Figure for HeatmapFigure {
    fn size(&self) -> (u32, u32) {
        (760, 620)
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (width, _) = area.dim_in_pixel();
        let (cells, bar) = area.split_horizontally(width.saturating_sub(110));
        self.draw_cells(&cells)?;
        self.draw_colour_bar(&bar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot_style::test_support::{assert_svg_and_png, both_formats};

    #[test]
    fn writes_cells_and_crosses_for_pruned_heads() {
        let scores: Vec<Vec<f64>> = (0..6).map(|l| (0..4).map(|h| (l * 4 + h) as f64 / 24.0).collect()).collect();
        let kept: Vec<Vec<bool>> = (0..6).map(|l| (0..4).map(|h| h < 4 - l.min(3)).collect()).collect();
        let dir = tempfile::tempdir().unwrap();
        let paths = plot_heatmap(&scores, &kept, &dir.path().join("heads"), &both_formats()).unwrap();
        assert_svg_and_png(&paths);
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        let pruned = kept.iter().flatten().filter(|k| !**k).count();
        assert_eq!(svg.matches("stroke=\"#DC1E1E\"").count(), 2 * pruned, "one X (two strokes) per pruned head");
    }

    #[test]
    fn viridis_runs_from_purple_to_yellow_and_clamps() {
        assert_eq!((viridis(0.0), viridis(1.0)), (RGBColor(68, 1, 84), RGBColor(254, 232, 37)));
        assert_eq!((viridis(-3.0), viridis(7.0)), (viridis(0.0), viridis(1.0)), "out-of-range scores clamp");
        let RGBColor(r, g, b) = viridis(0.5);
        assert!(g > r && g > b, "the middle is green-teal: {:?}", (r, g, b));
    }

    #[test]
    fn mismatched_mask_is_a_user_error_naming_the_block() {
        let err =
            plot_heatmap(&[vec![0.1, 0.2], vec![0.3]], &[vec![true, true], vec![true, false]], Path::new("x"), &[])
                .unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("block 1"));
    }
}
