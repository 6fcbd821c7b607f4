//! Shared plot machinery: the bundled font, the colours, the legend, output formats, and writing one figure as SVG
//! and PNG.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{GohspError, IoContext, Result};

/// DejaVu Sans, embedded so that PNGs render text on machines without system fonts (licence in assets/fonts/).
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The font family every plot uses; the bundled font is registered under this name.
pub(crate) const FONT: &str = "sans-serif";
/// Figure size in pixels for single-panel plots.
pub(crate) const SIZE: (u32, u32) = (800, 560);
/// Font size of titles.
pub(crate) const TITLE_SIZE: u32 = 24;
/// Font size of axis descriptions.
const LABEL_SIZE: u32 = 18;
/// Matplotlib's tab20: a dark and a light shade of ten hues. The dark shades, in order, are tab10, the usual series
/// colours; figures with more series than [`USUAL_COLOURS`] take all twenty, so neighbouring series (one method at two
/// budgets) share a hue and every series has its own colour.
const TAB20: [RGBColor; 20] = [
    RGBColor(31, 119, 180),
    RGBColor(174, 199, 232),
    RGBColor(255, 127, 14),
    RGBColor(255, 187, 120),
    RGBColor(44, 160, 44),
    RGBColor(152, 223, 138),
    RGBColor(214, 39, 40),
    RGBColor(255, 152, 150),
    RGBColor(148, 103, 189),
    RGBColor(197, 176, 213),
    RGBColor(140, 86, 75),
    RGBColor(196, 156, 148),
    RGBColor(227, 119, 194),
    RGBColor(247, 182, 210),
    RGBColor(127, 127, 127),
    RGBColor(199, 199, 199),
    RGBColor(188, 189, 34),
    RGBColor(219, 219, 141),
    RGBColor(23, 190, 207),
    RGBColor(158, 218, 229),
];

/// How many of tab20's dark shades the usual series colours cycle through.
const USUAL_COLOURS: usize = 8;

/// The colour of the `index`-th series: tab20's dark shades (tab10's first eight colours), cycling.
pub(crate) fn series_color(index: usize) -> RGBColor {
    TAB20[2 * (index % USUAL_COLOURS)]
}

/// The colour of the `index`-th of `count` series: [`series_color`] while its eight hues suffice, else tab20's twenty
/// colours (repeating only past twenty series).
pub(crate) fn series_color_among(index: usize, count: usize) -> RGBColor {
    if count <= USUAL_COLOURS { series_color(index) } else { TAB20[index % TAB20.len()] }
}

/// The result of drawing on a backend `DB`.
pub(crate) type DrawResult<DB> = std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// The canvas size in pixels.
    fn size(&self) -> (u32, u32) {
        SIZE
    }
    /// Draw the whole figure on `area` (already filled white).
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// Register the bundled font with plotters (once per process); an error means the embedded font does not parse.
pub(crate) fn register_bundled_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let registered = REGISTERED.get_or_init(|| {
        [FONT, "serif", "monospace"]
            .iter()
            .all(|family| plotters::style::register_font(family, FontStyle::Normal, FONT_BYTES).is_ok())
    });
    match registered {
        true => Ok(()),
        false => Err(GohspError::Internal("the bundled font assets/fonts/DejaVuSans.ttf does not parse".into())),
    }
}

/// Write `figure` as `<out_stem>.svg` and/or `<out_stem>.png`, one file per entry of `formats` (svg, png).
pub(crate) fn write_figure(figure: &impl Figure, out_stem: &Path, formats: &[String]) -> Result<Vec<PathBuf>> {
    register_bundled_font()?;
    if let Some(dir) = out_stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).at_path(dir)?;
    }
    let mut written = Vec::new();
    for format in formats {
        let path = with_suffix(out_stem, format);
        let drawn = match format.as_str() {
            "svg" => draw_on(figure, &SVGBackend::new(&path, figure.size()).into_drawing_area()),
            "png" => draw_on(figure, &BitMapBackend::new(&path, figure.size()).into_drawing_area()),
            other => return Err(GohspError::usage(format!("unknown plot format `{other}`"), "use svg or png")),
        };
        drawn
            .map_err(|message| GohspError::Internal(format!("{}: cannot draw the plot: {message}", path.display())))?;
        written.push(path);
    }
    Ok(written)
}

/// Fill `area` white, draw `figure` on it and flush it to its file.
fn draw_on<DB: DrawingBackend>(figure: &impl Figure, area: &DrawingArea<DB, Shift>) -> std::result::Result<(), String> {
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    figure.draw(area).map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())
}

/// `stem` with `.extension` appended (not replacing any dot already in the name).
fn with_suffix(stem: &Path, extension: &str) -> PathBuf {
    let mut name = OsString::from(stem.as_os_str());
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

/// Draw `mesh` (configured by the caller) with the axis titles `x_desc` and `y_desc` in the plots' fonts.
pub(crate) fn draw_axes<X, Y, XT, YT, DB>(
    mesh: &mut MeshStyle<'_, '_, X, Y, DB>,
    x_desc: &str,
    y_desc: &str,
) -> DrawResult<DB>
where
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
    DB: DrawingBackend,
{
    mesh.x_desc(x_desc).y_desc(y_desc).label_style((FONT, 14)).axis_desc_style((FONT, LABEL_SIZE)).draw()
}

/// Draw the legend of `chart`'s labelled series at `position`, in the one style every plot uses.
pub(crate) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FONT, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
}

/// The legend key of a line series: a short stroke in the series' `style`.
pub(crate) fn line_key(style: ShapeStyle) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style)
}

/// Pad a value range by 5% on each side (or by 1 when it is a single value) so points do not sit on the frame.
pub(crate) fn padded(min: f64, max: f64) -> std::ops::Range<f64> {
    let pad = if max > min { (max - min) * 0.05 } else { 1.0 };
    (min - pad)..(max + pad)
}

/// The smallest and largest of `values` (None when empty or all non-finite).
pub(crate) fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values.into_iter().filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Checks shared by the plot tests: the written files exist and are not blank.
#[cfg(test)]
pub(crate) mod test_support {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    /// Formats to write in tests.
    pub(crate) fn both_formats() -> Vec<String> {
        vec!["svg".to_string(), "png".to_string()]
    }

    /// Assert `paths` are an SVG with text and a PNG with drawn content, in that order.
    pub(crate) fn assert_svg_and_png(paths: &[PathBuf]) {
        assert_eq!(paths.len(), 2);
        let svg = std::fs::read_to_string(&paths[0]).unwrap();
        assert!(svg.starts_with("<svg") || svg.contains("<svg "), "not an SVG: {}", &svg[..svg.len().min(200)]);
        assert!(svg.contains("<text") && svg.trim_end().ends_with("</svg>"));
        let (colours, ink) = png_colours_and_ink(&paths[1]);
        assert!(colours > 8, "only {colours} colours in {}", paths[1].display());
        assert!(ink > 2000, "only {ink} non-white pixels in {}", paths[1].display());
    }

    /// The number of distinct colours and of non-white pixels of a PNG.
    pub(crate) fn png_colours_and_ink(path: &Path) -> (usize, usize) {
        let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer).unwrap();
        let channels = info.color_type.samples();
        let pixels: Vec<&[u8]> = buffer[..info.buffer_size()].chunks(channels).collect();
        let colours = pixels.iter().collect::<HashSet<_>>().len();
        let ink = pixels.iter().filter(|p| p.iter().take(3).any(|&c| c < 250)).count();
        (colours, ink)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    /// A figure with nothing but a line of text.
    struct TextOnly;
    impl Figure for TextOnly {
        fn size(&self) -> (u32, u32) {
            (300, 80)
        }
        fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
            area.draw_text("top-1 (%) 0.123", &(FONT, 28).into_font().color(&BLACK), (10, 20))
        }
    }

    #[test]
    fn png_text_renders_with_the_bundled_font() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_figure(&TextOnly, &dir.path().join("text.v1"), &both_formats()).unwrap();
        assert_eq!(paths[1].file_name().unwrap(), "text.v1.png");
        let (colours, ink) = png_colours_and_ink(&paths[1]);
        assert!(colours > 4 && ink > 200, "text did not render: {colours} colours, {ink} inked pixels");
    }

    #[test]
    fn unknown_format_is_a_user_error_and_ranges_pad() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_figure(&TextOnly, &dir.path().join("x"), &["pdf".to_string()]).unwrap_err();
        assert!(err.is_user_error() && err.to_string().contains("pdf"));
        assert_eq!(padded(0.0, 10.0), -0.5..10.5);
        assert_eq!(extent([3.0, f64::NAN, -1.0]), Some((-1.0, 3.0)));
    }

    #[test]
    fn up_to_twenty_series_get_distinct_colours_and_eight_keep_the_usual_ones() {
        let distinct = |count: usize| {
            let colours: std::collections::BTreeSet<(u8, u8, u8)> =
                (0..count).map(|i| series_color_among(i, count)).map(|RGBColor(r, g, b)| (r, g, b)).collect();
            colours.len()
        };
        assert_eq!((distinct(8), distinct(16), distinct(20)), (8, 16, 20));
        assert!((0..8).all(|i| series_color_among(i, 8) == series_color(i)));
        let usual = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (127, 127, 127), (31, 119, 180)];
        let first = [0, 1, 2, 7, 8].map(series_color).map(|RGBColor(r, g, b)| (r, g, b));
        assert_eq!(first, usual, "the usual colours are tab10's first eight, cycling");
    }
}
