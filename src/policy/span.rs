//! Spans of time written the Harness way: `1w 2d 3h 30m 10s 100ms`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A positive length of time, written as whole numbers of weeks, days,
/// hours, minutes, seconds and milliseconds (`1d`, `30m`, `1w 2d`,
/// `1h30m`). This is Harness's duration grammar, and the native format uses
/// it too.
///
/// ```
/// use approval_gate::policy::Span;
/// let span: Span = "1w 2d 3h 30m 10s 100ms".parse()?;
/// assert_eq!(span.as_millis(), 790_210_100);
/// assert_eq!(span.to_string(), "1w 2d 3h 30m 10s 100ms");
/// assert!("2 days".parse::<Span>().is_err());
/// # Ok::<(), approval_gate::policy::SpanError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Span {
    millis: i64,
}

/// A span that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a span of time such as `1d`, `30m` or `1w 2d 3h 30m 10s 100ms`: {problem}")]
pub struct SpanError {
    text: String,
    problem: &'static str,
}

const UNITS: [(&str, i64); 6] =
    [("w", 7 * 24 * 3_600_000), ("d", 24 * 3_600_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

impl Span {
    /// The span of `millis` milliseconds, if positive.
    pub fn from_millis(millis: i64) -> Option<Self> {
        (millis > 0).then_some(Self { millis })
    }

    /// The span in milliseconds.
    pub fn as_millis(self) -> i64 {
        self.millis
    }

    /// The span as a chrono `TimeDelta`.
    pub fn as_delta(self) -> chrono::TimeDelta {
        chrono::TimeDelta::try_milliseconds(self.millis).unwrap_or(chrono::TimeDelta::MAX)
    }

    /// The instant this long after `start`; `None` when that lies beyond
    /// the last instant chrono can represent (a deadline that never comes).
    ///
    /// ```
    /// use approval_gate::policy::Span;
    /// use chrono::{DateTime, TimeZone, Utc};
    /// let hour: Span = "1h".parse()?;
    /// let noon = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
    /// assert_eq!(hour.after(noon), Some(noon + chrono::TimeDelta::hours(1)));
    /// assert_eq!(hour.after(DateTime::<Utc>::MAX_UTC), None);
    /// # Ok::<(), approval_gate::policy::SpanError>(())
    /// ```
    pub fn after(self, start: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
        start.checked_add_signed(self.as_delta())
    }
}

impl std::str::FromStr for Span {
    type Err = SpanError;

    fn from_str(text: &str) -> Result<Self, SpanError> {
        let fail = |problem| SpanError { text: crate::policy::error::shorten(text), problem };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(fail("it is empty"));
        }
        let mut millis: i64 = 0;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            let (number, tail) = rest.split_at(digits);
            let number: i64 = number.parse().map_err(|_| fail("each part starts with a whole number"))?;
            let unit_len = tail.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(tail.len());
            let (unit, tail) = tail.split_at(unit_len);
            let scale = UNITS
                .iter()
                .find(|(name, _)| *name == unit)
                .map(|(_, scale)| *scale)
                .ok_or_else(|| fail("units are w, d, h, m, s and ms"))?;
            millis = number
                .checked_mul(scale)
                .and_then(|part| millis.checked_add(part))
                .ok_or_else(|| fail("it is too long"))?;
            rest = tail.trim_start();
        }
        Span::from_millis(millis).ok_or_else(|| fail("it must be longer than zero"))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.millis;
        let mut first = true;
        for (unit, scale) in UNITS {
            let count = rest / scale;
            if count > 0 {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{count}{unit}")?;
                first = false;
                rest -= count * scale;
            }
        }
        Ok(())
    }
}

impl TryFrom<String> for Span {
    type Error = SpanError;
    fn try_from(text: String) -> Result<Self, SpanError> {
        text.parse()
    }
}

impl From<Span> for String {
    fn from(span: Span) -> String {
        span.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_harness_durations() {
        let ms = |text: &str| text.parse::<Span>().map(Span::as_millis);
        assert_eq!(ms("1d"), Ok(86_400_000));
        assert_eq!(ms("30m"), Ok(1_800_000));
        assert_eq!(ms("1h30m"), Ok(5_400_000));
        assert_eq!(ms(" 1w 2d "), Ok(777_600_000));
        assert_eq!(ms("100ms"), Ok(100));
    }

    #[test]
    fn refuses_what_harness_refuses() {
        for bad in ["", "0s", "1", "d", "1x", "1.5h", "<+input>", "99999999999999999999w"] {
            assert!(bad.parse::<Span>().is_err(), "{bad} should be refused");
        }
        let err = "1 fortnight".parse::<Span>().unwrap_err();
        assert!(err.to_string().contains("units are w, d, h, m, s and ms"), "{err}");
    }
}
