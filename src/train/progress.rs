//! Progress display for training: a bar per epoch on an interactive terminal, nothing extra otherwise (logs cover it).

use indicatif::{ProgressBar, ProgressStyle};

use crate::pipeline::progress::is_interactive;

/// A progress bar over the batches of one epoch (hidden when bars are disabled).
pub(crate) struct EpochBar {
    bar: ProgressBar,
}

impl EpochBar {
    /// A bar for epoch `epoch` of run `label` with `batches` steps.
    pub(crate) fn new(label: &str, epoch: usize, batches: usize) -> Self {
        if !is_interactive() {
            return Self { bar: ProgressBar::hidden() };
        }
        let bar = ProgressBar::new(batches as u64);
        let style = ProgressStyle::with_template("{prefix} {bar:30} {pos}/{len} [{elapsed}<{eta}] {msg}")
            .expect("valid template");
        bar.set_style(style);
        bar.set_prefix(format!("{label} epoch {epoch}"));
        Self { bar }
    }

    /// One batch done with this loss.
    pub(crate) fn step(&self, loss: f64) {
        self.bar.set_message(format!("loss {loss:.4}"));
        self.bar.inc(1);
    }

    /// Remove the bar.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
