//! Training: schedule, objectives (cross-entropy, distillation), the epoch loop with checkpoints and resume.

pub mod adamw;
pub mod batch;
pub(crate) mod checkpoint;
pub mod distill_spec;
pub(crate) mod interrupt;
pub(crate) mod log;
pub mod objective;
pub(crate) mod pool;
pub(crate) mod progress;
pub(crate) mod schedule;
pub mod trainer;
