//! Typed numeric ranges for the spec's value checks: each end closed, open or absent, written as the messages show it.

use std::fmt;

/// One end of an [`Interval`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum End {
    /// The bound belongs to the interval (`[0` or `1]`).
    Closed(f64),
    /// The bound is excluded (`(0` or `1)`).
    Open(f64),
    /// No bound on this side (`inf`).
    Unbounded,
}

/// A range of numbers a spec value must lie in; NaN lies in none.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Interval {
    /// The lower end.
    pub low: End,
    /// The upper end.
    pub high: End,
}

impl Interval {
    /// `(0, inf)`: strictly positive.
    pub(crate) const POSITIVE: Self = Self { low: End::Open(0.0), high: End::Unbounded };
    /// `[0, inf)`: zero or more.
    pub(crate) const NON_NEGATIVE: Self = Self { low: End::Closed(0.0), high: End::Unbounded };
    /// `[0, 1]`: a fraction.
    pub(crate) const FRACTION: Self = Self::closed(0.0, 1.0);

    /// `[low, high]`.
    pub(crate) const fn closed(low: f64, high: f64) -> Self {
        Self { low: End::Closed(low), high: End::Closed(high) }
    }

    /// `[low, high)`.
    pub(crate) const fn below(low: f64, high: f64) -> Self {
        Self { low: End::Closed(low), high: End::Open(high) }
    }

    /// `(low, high)`.
    pub(crate) const fn open(low: f64, high: f64) -> Self {
        Self { low: End::Open(low), high: End::Open(high) }
    }

    /// Whether `value` lies in the interval (NaN never does).
    pub(crate) fn contains(&self, value: f64) -> bool {
        let above = match self.low {
            End::Closed(low) => value >= low,
            End::Open(low) => value > low,
            End::Unbounded => !value.is_nan(),
        };
        let below = match self.high {
            End::Closed(high) => value <= high,
            End::Open(high) => value < high,
            End::Unbounded => !value.is_nan(),
        };
        above && below
    }
}

/// `> 0` for `(0, inf)`, `>= 0` for `[0, inf)`, else `in [low, high)` with the interval's own brackets.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.low, self.high) {
            (End::Open(low), End::Unbounded) => write!(f, "> {low}"),
            (End::Closed(low), End::Unbounded) => write!(f, ">= {low}"),
            (low, high) => {
                let low = match low {
                    End::Closed(v) => format!("[{v}"),
                    End::Open(v) => format!("({v}"),
                    End::Unbounded => "(-inf".to_string(),
                };
                let high = match high {
                    End::Closed(v) => format!("{v}]"),
                    End::Open(v) => format!("{v})"),
                    End::Unbounded => "inf)".to_string(),
                };
                write!(f, "in {low}, {high}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_respect_open_and_closed_ends() {
        assert!(Interval::below(0.0, 0.95).contains(0.0));
        assert!(!Interval::below(0.0, 0.95).contains(0.95));
        assert!(!Interval::open(0.0, 1.0).contains(0.0));
        assert!(Interval::FRACTION.contains(1.0));
        assert!(!Interval::FRACTION.contains(1.0 + 1e-12));
        assert!(Interval::POSITIVE.contains(1e300));
        assert!(!Interval::POSITIVE.contains(0.0));
        assert!(Interval::NON_NEGATIVE.contains(0.0));
        for interval in [Interval::POSITIVE, Interval::NON_NEGATIVE, Interval::FRACTION, Interval::open(0.0, 1.0)] {
            assert!(!interval.contains(f64::NAN), "{interval}");
        }
    }

    #[test]
    fn intervals_read_as_the_messages_write_them() {
        assert_eq!(Interval::POSITIVE.to_string(), "> 0");
        assert_eq!(Interval::NON_NEGATIVE.to_string(), ">= 0");
        assert_eq!(Interval::below(0.0, 0.95).to_string(), "in [0, 0.95)");
        assert_eq!(Interval::closed(0.0, 0.5).to_string(), "in [0, 0.5]");
        assert_eq!(Interval::open(0.0, 1.0).to_string(), "in (0, 1)");
    }
}
