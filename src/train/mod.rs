//! Training: schedule, objectives (cross-entropy, distillation), the epoch loop with checkpoints and resume.

pub mod adamw;
pub mod batch;
pub mod checkpoint;
pub mod interrupt;
pub mod log;
pub mod objective;
pub mod pool;
pub mod progress;
pub mod schedule;
pub mod trainer;
