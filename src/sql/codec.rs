//! What both stores share: instants as (seconds, nanoseconds), events and
//! outbox entries as JSON, versions as `i64`, and an append turned into rows
//! before any transaction starts.

use super::Error;
use crate::gate::{Event, Notification, Supersession};
use crate::id::GateId;
use crate::outbox::{OutboxEntry, Pending, Unreadable};
use crate::ports::{Append, AppendError, Conflict};
use chrono::{DateTime, Utc};
use std::borrow::Cow;

/// An instant as stored: seconds since the epoch and nanoseconds, compared
/// in that order. Nanoseconds reach 1,999,999,999 in a leap second, which
/// still orders correctly.
pub(crate) fn split(at: DateTime<Utc>) -> (i64, i64) {
    (at.timestamp(), i64::from(at.timestamp_subsec_nanos()))
}

/// The instant [`split`] stored.
pub(crate) fn join(seconds: i64, nanos: i64) -> Result<DateTime<Utc>, Error> {
    u32::try_from(nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(seconds, nanos))
        .ok_or_else(|| Error::Corrupt(format!("instant {seconds}s {nanos}ns is out of range")))
}

/// A gate id read back from a row.
pub(crate) fn gate_id(text: String) -> Result<GateId, Error> {
    GateId::new(text).map_err(|error| Error::Corrupt(format!("stored gate id refused: {error}")))
}

/// A version read back from a row.
pub(crate) fn version(gate: &GateId, stored: i64) -> Result<u64, Error> {
    u64::try_from(stored).map_err(|_| Error::Corrupt(format!("gate `{gate}` has negative version {stored}")))
}

/// A query limit: more rows than `i64::MAX` cannot exist anyway.
pub(crate) fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// A gate's events from its `(version, json)` rows in version order,
/// refusing a gap so that a damaged stream never replays silently.
pub(crate) fn events(gate: &GateId, rows: Vec<(i64, String)>) -> Result<Vec<Event>, Error> {
    let mut events = Vec::with_capacity(rows.len());
    for (expected, (stored, json)) in (1_i64..).zip(rows) {
        if stored != expected {
            return Err(Error::Corrupt(format!("gate `{gate}` has event {stored} where {expected} was expected")));
        }
        events.push(serde_json::from_str(&json).map_err(|source| Error::Encoding {
            action: "read",
            item: format!("event {stored} of gate `{gate}`"),
            source,
        })?);
    }
    Ok(events)
}

/// An outbox entry from its row. A row this version cannot read (a kind
/// a newer version wrote, or damage) is handed back as unreadable, so that
/// it stops nothing else.
pub(crate) fn entry(key: &str, json: &str) -> Pending {
    match decode_entry(json) {
        Ok(entry) => Pending::Entry(entry),
        Err(error) => Pending::Unreadable(Unreadable::new(key, format!("cannot read outbox entry `{key}`: {error}"))),
    }
}

fn decode_entry(json: &str) -> Result<OutboxEntry, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(json)?;
    if value.get("entry").is_some() {
        return serde_json::from_value(value);
    }
    // Rows written before entries were tagged hold a bare notification,
    // or, with kind `supersede`, the service's job in `supersedes`.
    if value.get("kind").and_then(serde_json::Value::as_str) == Some("supersede") {
        let mut job = value.get("supersedes").cloned().unwrap_or(serde_json::Value::Null);
        if let (Some(job), Some(at)) = (job.as_object_mut(), value.get("at")) {
            job.entry("at").or_insert_with(|| at.clone());
        }
        return serde_json::from_value::<Supersession>(job).map(OutboxEntry::Supersede);
    }
    serde_json::from_value::<Notification>(value).map(OutboxEntry::Notify)
}

/// The gate's row after an append.
#[derive(Debug)]
pub(crate) struct GateRow<'a> {
    pub(crate) gate: &'a str,
    pub(crate) expected: i64,
    pub(crate) version: i64,
    pub(crate) deadline_s: Option<i64>,
    pub(crate) deadline_ns: Option<i64>,
    pub(crate) supersede_key: Option<&'a str>,
    pub(crate) opened_s: i64,
    pub(crate) opened_ns: i64,
}

/// An append as rows, encoded before the transaction so that a bad event
/// fails without touching the database.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    /// The gate's version after the append.
    pub(crate) version: u64,
    pub(crate) gate: GateRow<'a>,
    /// `(version, json)`.
    pub(crate) events: Vec<(i64, String)>,
    /// `(key, json)`.
    pub(crate) outbox: Vec<(Cow<'a, str>, String)>,
}

impl<'a> Plan<'a> {
    /// The rows of `append`, or `None` when its versions do not fit an
    /// `i64`: see [`beyond`].
    pub(crate) fn new(append: &Append<'a>) -> Result<Option<Self>, Error> {
        let Some((expected, new, version)) = versions(append) else {
            return Ok(None);
        };
        let events = (expected.saturating_add(1)..=version)
            .zip(append.events)
            .map(|(v, event)| Ok((v, encode_event(append, v, event)?)));
        let outbox = append.outbox.iter().map(|entry| Ok((entry.key(), encode_entry(entry)?)));
        Ok(Some(Self {
            version: new,
            gate: gate_row(append, expected, version),
            events: events.collect::<Result<_, Error>>()?,
            outbox: outbox.collect::<Result<_, Error>>()?,
        }))
    }
}

/// The expected and new versions, as `i64` for the rows and the new one as
/// `u64` too.
fn versions(append: &Append<'_>) -> Option<(i64, u64, i64)> {
    let new = append.expected.checked_add(u64::try_from(append.events.len()).ok()?)?;
    Some((i64::try_from(append.expected).ok()?, new, i64::try_from(new).ok()?))
}

fn gate_row<'a>(append: &Append<'a>, expected: i64, version: i64) -> GateRow<'a> {
    let index = append.index;
    let deadline = index.deadline.map(split);
    let (opened_s, opened_ns) = split(index.opened_at);
    GateRow {
        gate: append.gate.as_str(),
        expected,
        version,
        deadline_s: deadline.map(|(s, _)| s),
        deadline_ns: deadline.map(|(_, ns)| ns),
        supersede_key: index.supersede_key.as_deref(),
        opened_s,
        opened_ns,
    }
}

fn encode_event(append: &Append<'_>, version: i64, event: &Event) -> Result<String, Error> {
    serde_json::to_string(event).map_err(|source| Error::Encoding {
        action: "write",
        item: format!("event {version} of gate `{}`", append.gate),
        source,
    })
}

fn encode_entry(entry: &OutboxEntry) -> Result<String, Error> {
    serde_json::to_string(entry).map_err(|source| Error::Encoding {
        action: "write",
        item: format!("outbox entry `{}`", entry.key()),
        source,
    })
}

/// The answer to an append whose versions do not fit an `i64`, given the
/// version the store holds: a conflict unless the gate really is there.
pub(crate) fn beyond(append: &Append<'_>, actual: u64) -> AppendError<Error> {
    if actual == append.expected {
        let version = append.expected.saturating_add(u64::try_from(append.events.len()).unwrap_or(u64::MAX));
        return AppendError::Store(Error::VersionRange { gate: append.gate.clone(), version });
    }
    conflict(append, actual)
}

/// The conflict of `append` with the version the store holds.
pub(crate) fn conflict(append: &Append<'_>, actual: u64) -> AppendError<Error> {
    AppendError::Conflict(Conflict { gate: append.gate.clone(), expected: append.expected, actual })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_round_trip_with_nanoseconds_and_leap_seconds() {
        let plain = Utc.timestamp_opt(1_795_338_000, 123_456_789).single();
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|day| day.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .map(|naive| naive.and_utc());
        let before = Utc.timestamp_opt(-1, 1).single();
        for at in [plain, leap, before].into_iter().flatten() {
            let (s, ns) = split(at);
            assert!(matches!(join(s, ns), Ok(back) if back == at), "{at}");
        }
        assert!(matches!(join(0, -1), Err(Error::Corrupt(_))));
        assert!(matches!(join(0, 1_000_000_000), Err(Error::Corrupt(_))));
    }

    /// Rows written before outbox entries were tagged: a bare notification,
    /// and the service's supersede job as a notification of kind
    /// `supersede` carrying its payload (and, oldest, no version), read as
    /// the entries they were.
    #[test]
    fn untagged_rows_of_the_previous_version_are_read_as_their_entries() {
        let at = "2026-11-22T09:00:00Z";
        let note =
            format!(r#"{{"key":"g/2/approved","gate":"g","kind":"approved","recipients":[],"text":"t","at":"{at}"}}"#);
        assert!(
            matches!(entry("g/2/approved", &note), Pending::Entry(OutboxEntry::Notify(n)) if n.key == "g/2/approved")
        );
        let job = format!(
            r#"{{"key":"new/2/supersede","gate":"new","kind":"supersede","recipients":[],"text":"t","at":"{at}",
                "supersedes":{{"key":"k","newer":"new","opened_at":"{at}","by":null}}}}"#
        );
        match entry("new/2/supersede", &job) {
            Pending::Entry(OutboxEntry::Supersede(s)) => {
                assert_eq!((s.key.as_str(), s.newer.as_str(), s.version), ("k", "new", 0));
                assert_eq!(s.at.to_rfc3339(), "2026-11-22T09:00:00+00:00", "dated as the row was");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(entry("x", r#"{"entry":"remind"}"#), Pending::Unreadable(u) if u.key == "x"));
    }

    #[test]
    fn a_gap_in_versions_is_corrupt() {
        let gate = GateId::new("g").ok();
        let error = gate.map(|gate| events(&gate, vec![(2, "{}".into())]));
        assert!(matches!(error, Some(Err(Error::Corrupt(text))) if text.contains("event 2 where 1")));
    }
}
