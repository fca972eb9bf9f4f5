//! Harness scheduled deadlines: `yyyy-MM-dd hh:mm a` in a time zone.

use crate::policy::PolicyError;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Reads `yyyy-MM-dd hh:mm a` (English AM/PM, any letter case).
pub(super) fn local_time(text: &str) -> Option<NaiveDateTime> {
    fn digits(text: &str, width: usize) -> Option<u32> {
        (text.len() == width && text.bytes().all(|byte| byte.is_ascii_digit())).then(|| text.parse().ok()).flatten()
    }
    let (date, rest) = text.trim().split_once(' ')?;
    let (clock, meridiem) = rest.split_once(' ')?;
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = digits(parts.next()?, 2)?;
    let day = digits(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    let (hour, minute) = clock.split_once(':')?;
    let hour = digits(hour, 2).filter(|hour| (1..=12).contains(hour))?;
    let minute = digits(minute, 2)?;
    let afternoon = if meridiem.eq_ignore_ascii_case("AM") {
        false
    } else if meridiem.eq_ignore_ascii_case("PM") {
        true
    } else {
        return None;
    };
    let hour = hour % 12 + if afternoon { 12 } else { 0 };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?.and_hms_opt(hour, minute, 0)
}

/// A time zone for a scheduled deadline.
pub(super) enum Zone {
    Fixed(FixedOffset),
    #[cfg(feature = "tz")]
    Named(chrono_tz::Tz),
}

impl Zone {
    pub(super) fn parse(field: &str, name: &str) -> Result<Zone, PolicyError> {
        let name = name.trim();
        if let Some(offset) = fixed_offset(name) {
            return Ok(Zone::Fixed(offset));
        }
        #[cfg(feature = "tz")]
        {
            name.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
                PolicyError::invalid(
                    field,
                    name,
                    "must be an IANA time zone such as `Asia/Kolkata`, `UTC`, or a fixed offset such as `+05:30`",
                )
            })
        }
        #[cfg(not(feature = "tz"))]
        {
            Err(PolicyError::invalid(
                field,
                name,
                "this build knows only UTC, GMT, Z and fixed offsets such as `+05:30` or `UTC+05:30`; \
                 enable the `tz` feature of approval-gate for IANA names such as `Asia/Kolkata`",
            ))
        }
    }

    pub(super) fn to_utc(
        &self,
        field: &str,
        time: &str,
        zone: &str,
        local: &NaiveDateTime,
    ) -> Result<DateTime<Utc>, PolicyError> {
        let instant = match self {
            Zone::Fixed(offset) => offset.from_local_datetime(local).earliest().map(|at| at.with_timezone(&Utc)),
            #[cfg(feature = "tz")]
            Zone::Named(tz) => tz.from_local_datetime(local).earliest().map(|at| at.with_timezone(&Utc)),
        };
        instant.ok_or_else(|| {
            PolicyError::invalid(
                field,
                time,
                format!("does not exist in `{zone}`: the clocks skip it (daylight saving time)"),
            )
        })
    }
}

/// UTC and the fixed offsets Java's `ZoneId.of` reads: `Z`, `UTC`, `GMT`,
/// `UT`, `Etc/UTC`, `Etc/GMT`, `+h`, `+hh`, `+hh:mm`, `+hhmm`, and the last
/// four after `UTC`, `GMT` or `UT`.
pub(super) fn fixed_offset(name: &str) -> Option<FixedOffset> {
    if matches!(name, "Z" | "Etc/UTC" | "Etc/GMT") {
        return FixedOffset::east_opt(0);
    }
    let (prefixed, rest) = ["UTC", "GMT", "UT"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix).map(|rest| (true, rest)))
        .unwrap_or((false, name));
    if rest.is_empty() {
        return prefixed.then(|| FixedOffset::east_opt(0)).flatten();
    }
    let (sign, digits) = match (rest.strip_prefix('+'), rest.strip_prefix('-')) {
        (Some(digits), _) => (1, digits),
        (_, Some(digits)) => (-1, digits),
        _ => return None,
    };
    let number = |text: &str| -> Option<i32> {
        (!text.is_empty() && text.len() <= 2 && text.bytes().all(|byte| byte.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((hours, minutes)) if hours.len() == 2 && minutes.len() == 2 => (number(hours)?, number(minutes)?),
        Some(_) => return None,
        None if digits.len() <= 2 => (number(digits)?, 0),
        None if digits.len() == 4 => (number(digits.get(..2)?)?, number(digits.get(2..)?)?),
        None => return None,
    };
    if minutes >= 60 || hours > 18 || (hours == 18 && minutes > 0) {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}
