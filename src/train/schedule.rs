//! The learning-rate schedule: linear warm-up from lr/25 (one-cycle style), then cosine decay to a floor.

/// A per-step learning-rate schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Schedule {
    /// Peak learning rate.
    pub peak: f64,
    /// Final learning rate.
    pub floor: f64,
    /// Steps of linear warm-up.
    pub warmup_steps: usize,
    /// Total steps.
    pub total_steps: usize,
}

impl Schedule {
    /// A schedule over `total_steps` that warms up for `warmup_frac` of them.
    pub(crate) fn new(peak: f64, floor: f64, warmup_frac: f64, total_steps: usize) -> Self {
        let warmup_steps = (warmup_frac * total_steps as f64).round() as usize;
        Self { peak, floor, warmup_steps, total_steps: total_steps.max(1) }
    }

    /// The learning rate at 0-based `step`.
    pub(crate) fn lr(&self, step: usize) -> f64 {
        let start = self.peak / 25.0;
        if step < self.warmup_steps {
            return start + (self.peak - start) * step as f64 / self.warmup_steps as f64;
        }
        let decay_steps = (self.total_steps - self.warmup_steps).max(1);
        let progress = ((step - self.warmup_steps) as f64 / decay_steps as f64).min(1.0);
        self.floor + 0.5 * (self.peak - self.floor) * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_peaks_then_decays_to_the_floor() {
        let s = Schedule::new(1e-3, 1e-5, 0.1, 100);
        assert!((s.lr(0) - 4e-5).abs() < 1e-12);
        assert!(s.lr(5) > s.lr(0) && s.lr(5) < 1e-3);
        assert!((s.lr(10) - 1e-3).abs() < 1e-12);
        assert!(s.lr(50) < s.lr(20));
        assert!((s.lr(100) - 1e-5).abs() < 1e-12);
        let no_warmup = Schedule::new(1e-3, 0.0, 0.0, 10);
        assert!((no_warmup.lr(0) - 1e-3).abs() < 1e-12);
    }
}
