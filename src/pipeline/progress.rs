//! A progress bar over a plan's nodes, shown only when stderr is a terminal and `CI` is unset.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Counts finished nodes; hidden unless interactive.
pub(crate) struct NodeProgress {
    bar: ProgressBar,
}

impl NodeProgress {
    /// A bar over `nodes` nodes (hidden off a terminal or under CI).
    pub(crate) fn new(nodes: usize) -> Self {
        Self::with_visibility(nodes, is_interactive())
    }

    /// A bar over `nodes` nodes, drawn only when `visible`.
    pub(crate) fn with_visibility(nodes: usize, visible: bool) -> Self {
        let bar = if visible { ProgressBar::new(nodes as u64) } else { ProgressBar::hidden() };
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

    #[cfg(test)]
    /// How many nodes finished so far.
    pub(crate) fn done(&self) -> u64 {
        self.bar.position()
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Whether progress bars should be drawn: stderr is a terminal and the `CI` variable is unset.
pub(crate) fn is_interactive() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_finished_nodes_even_when_hidden() {
        let progress = NodeProgress::with_visibility(3, false);
        progress.node_done("a");
        progress.node_done("b");
        assert_eq!(progress.done(), 2);
        progress.finish();
    }
}
