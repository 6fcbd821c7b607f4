//! Progress bars: the one check of whether to draw them (a terminal, not CI), and a bar over a plan's nodes.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Counts finished nodes; hidden unless interactive.
pub(crate) struct NodeProgress {
    bar: ProgressBar,
}

impl NodeProgress {
    /// A bar over `nodes` nodes (hidden off a terminal or under CI).
    pub(crate) fn new(nodes: usize) -> Self {
        let bar = if is_interactive() { ProgressBar::new(nodes as u64) } else { ProgressBar::hidden() };
        if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} nodes  {elapsed}  {msg}") {
            bar.set_style(style);
        }
        Self { bar }
    }

    /// One more node finished.
    pub(crate) fn node_done(&self, label: &str) {
        self.bar.set_message(label.to_string());
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Whether progress bars (the plan's and training's) should be drawn: stderr is a terminal and `CI` is unset.
pub(crate) fn is_interactive() -> bool {
    bars_wanted(std::io::stderr().is_terminal(), std::env::var_os("CI").is_some())
}

/// The rule behind `is_interactive`: a terminal, and not under CI (whatever `CI`'s value, even empty).
fn bars_wanted(stderr_is_terminal: bool, ci_is_set: bool) -> bool {
    stderr_is_terminal && !ci_is_set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_show_only_on_a_terminal_outside_ci() {
        assert!(bars_wanted(true, false));
        assert!(!bars_wanted(true, true), "CI hides the bars even on a terminal");
        assert!(!bars_wanted(false, false), "no bars into a pipe or file");
        assert!(!bars_wanted(false, true));
    }
}
