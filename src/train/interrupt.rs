//! A stop request by signal (Slurm sends USR2 before a job's time limit): a flag the handler sets, which training
//! loops read after each saved checkpoint to stop cleanly; a rerun resumes from that checkpoint.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{GohspError, Result};

static STOP_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_usr2(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP_REQUESTED.store(true, Ordering::SeqCst);
}

/// Makes SIGUSR2 request a stop at the next checkpoint (instead of killing the process).
pub(crate) fn install_usr2_handler() {
    if !crate::os::install_signal_handler(libc::SIGUSR2, on_usr2) {
        tracing::warn!("could not install the USR2 handler: a USR2 will kill this process");
    }
}

/// Whether a stop was requested.
pub(crate) fn stop_requested() -> bool {
    STOP_REQUESTED.load(Ordering::SeqCst)
}

/// An error ending `run` after its checkpoint of `epochs_done` epochs when a stop was requested.
pub(crate) fn stop_if_requested(run: &str, epochs_done: usize) -> Result<()> {
    if !stop_requested() {
        return Ok(());
    }
    tracing::warn!(run = %run, "stop requested (USR2): stopping after the checkpoint of epoch {epochs_done}");
    Err(stop_error(run, epochs_done))
}

/// The error of a run stopped after the checkpoint of `epochs_done` epochs.
fn stop_error(run: &str, epochs_done: usize) -> GohspError {
    GohspError::stage(
        run,
        format!("stopped by USR2 after saving the checkpoint of epoch {epochs_done}; rerun to resume from it"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // The handler itself is tested by tests/slurm_fake.rs on a real process: setting the global flag here would
    // stop the training tests running in parallel in this process.
    #[test]
    fn the_stop_error_names_the_run_and_the_checkpoint_to_resume_from() {
        let text = stop_error("pretrain", 3).to_string();
        assert!(text.contains("pretrain") && text.contains("checkpoint of epoch 3"), "{text}");
    }
}
