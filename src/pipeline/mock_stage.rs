//! A test-only stage that writes one file, counts its runs, and can fail, sleep or record when it ran.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::stage::{Stage, StageContext, StageKind};
use crate::error::{GohspError, IoContext, Result};

/// When a mock stage ran: its label, start and end.
pub(crate) type RunSpan = (String, Instant, Instant);

/// A stage for tests: writes `out.txt` (its label, params and the inputs' contents) and counts invocations.
pub(crate) struct MockStage {
    kind: StageKind,
    label: String,
    params: Value,
    runs: AtomicUsize,
    fail: bool,
    sleep: Duration,
    spans: Option<Arc<Mutex<Vec<RunSpan>>>>,
}

impl MockStage {
    /// A stage that succeeds at once.
    pub(crate) fn new(kind: StageKind, label: &str, params: Value) -> Self {
        Self {
            kind,
            label: label.into(),
            params,
            runs: AtomicUsize::new(0),
            fail: false,
            sleep: Duration::ZERO,
            spans: None,
        }
    }

    /// `new`, in an `Arc`.
    pub(crate) fn arc(kind: StageKind, label: &str, params: Value) -> Arc<Self> {
        Arc::new(Self::new(kind, label, params))
    }

    /// This stage fails with a stage error (after writing a partial file).
    pub(crate) fn failing(mut self) -> Self {
        self.fail = true;
        self
    }

    /// This stage sleeps `ms` milliseconds and records its run span in `spans`.
    pub(crate) fn slow(mut self, ms: u64, spans: Arc<Mutex<Vec<RunSpan>>>) -> Self {
        self.sleep = Duration::from_millis(ms);
        self.spans = Some(spans);
        self
    }

    /// How many times `run` was called.
    pub(crate) fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

impl Stage for MockStage {
    fn kind(&self) -> StageKind {
        self.kind
    }

    fn label(&self) -> String {
        self.label.clone()
    }

    fn params(&self) -> Value {
        self.params.clone()
    }

    fn run(&self, ctx: &StageContext) -> Result<()> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let start = Instant::now();
        std::thread::sleep(self.sleep);
        let mut text = format!("{} {}\n", self.label, self.params);
        for input in &ctx.inputs {
            let path = input.dir.join("out.txt");
            text += &std::fs::read_to_string(&path).at_path(&path)?;
        }
        let out = ctx.out_dir.join("out.txt");
        std::fs::write(&out, text).at_path(&out)?;
        std::fs::write(ctx.work_dir.join("checkpoint"), b"epoch 1").at_path(&ctx.work_dir)?;
        if let Some(spans) = &self.spans {
            spans.lock().unwrap().push((self.label.clone(), start, Instant::now()));
        }
        if self.fail {
            return Err(GohspError::stage(&self.label, "mock failure"));
        }
        Ok(())
    }
}
