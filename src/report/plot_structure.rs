//! Per-block structure of the dense and pruned models: heads kept, MLP width and (when q/k pairs were pruned) the q/k
//! size per block, as grouped bars.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{GohspError, Result};
use crate::report::plot_style::{DrawResult, FONT, Figure, TITLE_SIZE, series_color, write_figure};
use crate::report::plot_style::{draw_axes, draw_legend};

/// One block of one model as the structure plot draws it: the report's own plain record, filled by the caller from
/// whatever shape type it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockStructure {
    /// Attention heads kept in the block.
    pub heads: usize,
    /// Size of each head's values.
    pub head_dim: usize,
    /// Size of each head's queries and keys (smaller than `head_dim` after q/k pruning).
    pub qk_dim: usize,
    /// Hidden width of the MLP.
    pub mlp: usize,
}

/// The structure plot's data: one (label, blocks) entry per model, dense first.
struct StructureFigure {
    models: Vec<(String, Vec<BlockStructure>)>,
}

/// Plot heads per block (top panel) and MLP width per block (middle or bottom panel) for `dense` and each pruned
/// model, and the q/k size of each block's heads (bottom panel) when some model pruned q/k pairs.
///
/// Every pruned model must have as many blocks as the dense one.
pub(crate) fn plot_structure(
    dense: &[BlockStructure],
    pruned: &[(String, Vec<BlockStructure>)],
    out_stem: &Path,
    formats: &[String],
) -> Result<Vec<PathBuf>> {
    if dense.is_empty() {
        return Err(GohspError::usage("the structure plot got a dense model with no blocks", "pass the dense shape"));
    }
    if let Some((label, blocks)) = pruned.iter().find(|(_, blocks)| blocks.len() != dense.len()) {
        return Err(GohspError::usage(
            format!("structure plot: `{label}` has {} blocks but the dense model has {}", blocks.len(), dense.len()),
            "compare pruned models with the dense model they came from",
        ));
    }
    let mut models = vec![("dense".to_string(), dense.to_vec())];
    models.extend(pruned.iter().cloned());
    write_figure(&StructureFigure { models }, out_stem, formats)
}

impl StructureFigure {
    /// Whether some model's heads have queries and keys smaller than their values (`admm.head_dims`).
    fn has_qk_pruning(&self) -> bool {
        self.models.iter().flat_map(|(_, blocks)| blocks).any(|b| b.qk_dim != b.head_dim)
    }

    /// The y range over the tallest bar: room for the legend, one row per model, above the bars.
    fn headroom(&self) -> f64 {
        1.2 + 0.12 * self.models.len() as f64
    }

    /// Draw one panel of grouped bars: `value` of each block, one bar per model.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        y_desc: &str,
        value: fn(&BlockStructure) -> usize,
    ) -> DrawResult<DB> {
        let depth = self.models[0].1.len();
        let y_max = self.models.iter().flat_map(|(_, b)| b.iter().map(value)).max().unwrap_or(1).max(1);
        let mut chart = ChartBuilder::on(area)
            .caption(title, (FONT, TITLE_SIZE - 4))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..depth as f64 - 0.5, 0.0..y_max as f64 * self.headroom())?;
        draw_axes(
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(depth)
                .x_label_formatter(&|x| format!("{}", x.round() as i64))
                .y_label_formatter(&|y| if y.fract() == 0.0 { format!("{y:.0}") } else { String::new() }),
            "block",
            y_desc,
        )?;
        let width = 0.8 / self.models.len() as f64;
        for (k, (label, blocks)) in self.models.iter().enumerate() {
            let color = if k == 0 { RGBColor(160, 160, 160) } else { series_color(k - 1) };
            let left = |l: usize| l as f64 - 0.4 + k as f64 * width;
            let bars = blocks.iter().enumerate().map(|(l, block)| {
                Rectangle::new([(left(l), 0.0), (left(l) + width * 0.9, value(block) as f64)], color.filled())
            });
            chart
                .draw_series(bars)?
                .label(label.as_str())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

impl Figure for StructureFigure {
    fn size(&self) -> (u32, u32) {
        if self.has_qk_pruning() { (900, 1120) } else { (900, 760) }
    }

    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let panels = area.split_evenly((if self.has_qk_pruning() { 3 } else { 2 }, 1));
        self.draw_panel(&panels[0], "Attention heads kept per block", "heads", |b| b.heads)?;
        self.draw_panel(&panels[1], "MLP width per block", "MLP width", |b| b.mlp)?;
        match panels.get(2) {
            Some(panel) => self.draw_panel(panel, "Query/key size of each kept head", "q/k size", |b| b.qk_dim),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::plot_style::test_support::{assert_svg_and_png, both_formats};

    fn block(heads: usize, mlp: usize) -> BlockStructure {
        BlockStructure { heads, head_dim: 16, qk_dim: 16, mlp }
    }

    #[test]
    fn writes_both_panels_for_dense_and_pruned() {
        let dense = vec![block(4, 256); 6];
        let pruned = vec![("gohsp".to_string(), [4, 4, 3, 1, 1, 1].iter().map(|&h| block(h, 100 + 20 * h)).collect())];
        let dir = tempfile::tempdir().unwrap();
        let paths = plot_structure(&dense, &pruned, &dir.path().join("structure"), &both_formats()).unwrap();
        assert_svg_and_png(&paths);
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(svg.contains("Attention heads kept per block") && svg.contains("MLP width per block"));
        assert!(svg.matches("<rect").count() >= 24, "expected 2 panels x 2 models x 6 blocks of bars");
        assert!(!svg.contains("Query/key size"), "no q/k panel without q/k pruning");
    }

    #[test]
    fn a_third_panel_shows_pruned_query_key_sizes() {
        let dense = vec![block(4, 256); 6];
        let pruned = [13, 10, 9, 14, 10, 18].iter().map(|&qk| BlockStructure { qk_dim: qk, ..block(4, 200) }).collect();
        let dir = tempfile::tempdir().unwrap();
        let paths = plot_structure(&dense, &[("gohsp".into(), pruned)], &dir.path().join("structure"), &both_formats())
            .unwrap();
        assert_svg_and_png(&paths);
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(svg.contains("Query/key size of each kept head"), "the q/k panel is drawn");
        assert!(svg.matches("<rect").count() >= 36, "expected 3 panels x 2 models x 6 blocks of bars");
    }

    #[test]
    fn mismatched_depth_is_a_user_error_naming_the_model() {
        let pruned = vec![("magnitude".to_string(), vec![block(2, 64); 5])];
        let err = plot_structure(&[block(4, 256); 6], &pruned, Path::new("unused"), &both_formats()).unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("magnitude"));
    }
}
