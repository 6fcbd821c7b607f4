//! A test-only stage that writes one file, counts its runs, and can fail, sleep or wait at a rendezvous with others.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::stage::{Stage, StageContext, StageKind};
use crate::error::{GohspError, IoContext, Result};

/// A meeting point for stages that must run at the same time: each waits until all `parties` have arrived.
pub(crate) struct Rendezvous {
    arrived: Mutex<usize>,
    all_here: Condvar,
    parties: usize,
    timeout: Duration,
}

impl Rendezvous {
    /// A rendezvous of `parties` stages; one that waits longer than `timeout` gives up.
    pub(crate) fn new(parties: usize, timeout: Duration) -> Arc<Self> {
        Arc::new(Self { arrived: Mutex::new(0), all_here: Condvar::new(), parties, timeout })
    }

    /// Arrive and wait for the others: false when they did not all arrive within the timeout.
    pub(crate) fn meet(&self) -> bool {
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        self.all_here.notify_all();
        let (arrived, _) = self.all_here.wait_timeout_while(arrived, self.timeout, |n| *n < self.parties).unwrap();
        *arrived >= self.parties
    }
}

/// A stage for tests: writes `out.txt` (its label, params and the inputs' contents) and counts invocations.
pub(crate) struct MockStage {
    kind: StageKind,
    label: String,
    params: Value,
    runs: AtomicUsize,
    fail: bool,
    sleep: Duration,
    rendezvous: Option<Arc<Rendezvous>>,
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
            rendezvous: None,
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

    /// This stage sleeps `ms` milliseconds.
    pub(crate) fn slow(mut self, ms: u64) -> Self {
        self.sleep = Duration::from_millis(ms);
        self
    }

    /// This stage waits at `rendezvous` before its work, and fails when the others never come.
    pub(crate) fn meeting(mut self, rendezvous: Arc<Rendezvous>) -> Self {
        self.rendezvous = Some(rendezvous);
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
        if let Some(rendezvous) = &self.rendezvous
            && !rendezvous.meet()
        {
            return Err(GohspError::stage(&self.label, "the other stages of the rendezvous never ran alongside"));
        }
        std::thread::sleep(self.sleep);
        let mut text = format!("{} {}\n", self.label, self.params);
        for input in &ctx.inputs {
            let path = input.dir.join("out.txt");
            text += &std::fs::read_to_string(&path).at_path(&path)?;
        }
        let out = ctx.out_dir.join("out.txt");
        std::fs::write(&out, text).at_path(&out)?;
        std::fs::write(ctx.work_dir.join("checkpoint"), b"epoch 1").at_path(&ctx.work_dir)?;
        if self.fail {
            return Err(GohspError::stage(&self.label, "mock failure"));
        }
        Ok(())
    }
}
