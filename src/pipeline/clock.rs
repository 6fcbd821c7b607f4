//! UTC timestamps (RFC 3339 and a file-name-safe form) from `SystemTime`, by the `time` crate's calendar.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// Seconds since the Unix epoch (negative before it).
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    }
}

/// `2025-01-02T03:04:05Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let t = utc(time);
    let (date, clock) = (t.date(), t.time());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year(),
        date.month() as u8,
        date.day(),
        clock.hour(),
        clock.minute(),
        clock.second()
    )
}

/// `20250102T030405Z`: sortable and safe in file names on every OS.
pub(crate) fn compact_utc(time: SystemTime) -> String {
    rfc3339(time).replace(['-', ':'], "")
}

/// The UTC calendar time of `time`, to the whole second (rounded towards the epoch, as `unix_seconds`).
fn utc(time: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix_seconds(time)).expect("a system time within the years -9999 to 9999")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_735_787_045)), "2025-01-02T03:04:05Z");
        assert_eq!(compact_utc(at(1_735_787_045)), "20250102T030405Z");
        assert_eq!(rfc3339(at(4_107_542_399)), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn handles_times_before_the_epoch() {
        assert_eq!(rfc3339(UNIX_EPOCH - Duration::from_secs(1)), "1969-12-31T23:59:59Z");
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), -5);
    }
}
