//! The stored document: a workflow IR wrapped with its name and metadata (SPEC §4.1).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{WorkflowIr, WorkflowName};

/// A saved workflow: the IR plus everything the store keeps about it.
///
/// Fields written by a newer pflow are kept in `extra` and written back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The name the document claims; the store's key is the source of truth and a
    /// mismatch is reported by the store.
    pub name: WorkflowName,
    /// What the workflow does, in one line or a paragraph.
    #[serde(default)]
    pub description: String,
    /// The executable IR.
    pub ir: WorkflowIr,
    /// When the workflow was first saved.
    pub created_at: Timestamp,
    /// When the content last changed.
    pub updated_at: Timestamp,
    /// The document format version.
    #[serde(default = "default_version")]
    pub version: String,
    /// Starts at 1, grows by one on every update: the basis of optimistic concurrency.
    #[serde(default = "first_revision")]
    pub revision: u64,
    /// Top-level fields this version does not know, preserved on rewrite.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The document format version this release writes.
pub const DOCUMENT_VERSION: &str = "1.0.0";

impl Document {
    /// A first revision of a new workflow, created at `now`.
    pub fn new(
        name: WorkflowName,
        description: String,
        ir: WorkflowIr,
        now: Timestamp,
    ) -> Document {
        Document {
            name,
            description,
            ir,
            created_at: now,
            updated_at: now,
            version: DOCUMENT_VERSION.to_owned(),
            revision: 1,
            extra: Map::new(),
        }
    }

    /// The next revision of this document with new content, updated at `now`; `None`
    /// when the revision number cannot grow any more (it never wraps).
    ///
    /// Keeps the creation time and unknown fields, so that an update means the same thing
    /// for every backend.
    pub fn next_revision(
        &self,
        ir: WorkflowIr,
        description: String,
        now: Timestamp,
    ) -> Option<Document> {
        Some(Document {
            name: self.name.clone(),
            description,
            ir,
            created_at: self.created_at,
            updated_at: now,
            version: self.version.clone(),
            revision: self.revision.checked_add(1)?,
            extra: self.extra.clone(),
        })
    }

    /// The document as the pretty-printed UTF-8 JSON the store writes, with a trailing
    /// newline.
    pub fn to_pretty_json(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(self).expect("a document always serializes to JSON");
        text.push('\n');
        text
    }
}

fn default_version() -> String {
    DOCUMENT_VERSION.to_owned()
}

fn first_revision() -> u64 {
    1
}

/// A point in time, serialized as RFC 3339 and always held in UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The current time, in UTC, truncated to microseconds so that it round-trips
    /// through every backend exactly.
    pub fn now() -> Timestamp {
        Timestamp::from_datetime(OffsetDateTime::now_utc())
    }

    /// Wraps a date-time, converting it to UTC and truncating it to microseconds.
    pub fn from_datetime(t: OffsetDateTime) -> Timestamp {
        let t = t.to_offset(time::UtcOffset::UTC);
        let micros = t.nanosecond() / 1_000 * 1_000;
        Timestamp(t.replace_nanosecond(micros).expect("a truncated nanosecond is in range"))
    }

    /// Parses RFC 3339 text (`2025-01-29T10:00:00+00:00`).
    pub fn parse(s: &str) -> Result<Timestamp, time::error::Parse> {
        OffsetDateTime::parse(s, &Rfc3339).map(Timestamp::from_datetime)
    }

    /// The wrapped date-time (UTC).
    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// Seconds since the Unix epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Microseconds since the Unix epoch: the resolution of every stored timestamp
    /// (saturating at the ends of `i64`, far beyond any date `time` represents).
    pub fn unix_micros(self) -> i64 {
        let us = self.0.unix_timestamp_nanos() / 1_000;
        i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
    }

    /// The timestamp `us` microseconds after the Unix epoch, if it is a representable date.
    pub fn from_unix_micros(us: i64) -> Option<Timestamp> {
        let nanos = i128::from(us) * 1_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).ok().map(Timestamp::from_datetime)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(&Rfc3339).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(|e| {
            serde::de::Error::custom(format_args!("invalid RFC 3339 timestamp `{text}`: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> &'static str {
        r#"{
            "name": "fix-issue",
            "description": "Fixes GitHub issues and creates PR",
            "ir": { "ir_version": "0.1.0", "nodes": [{"id": "a", "type": "echo"}] },
            "created_at": "2025-01-29T10:00:00+00:00",
            "updated_at": "2025-01-29T10:00:00+00:00",
            "version": "1.0.0",
            "revision": 1,
            "labels": ["from-the-future"]
        }"#
    }

    #[test]
    fn unknown_top_level_fields_survive_a_rewrite() {
        let doc: Document = serde_json::from_str(sample()).unwrap();
        assert_eq!(doc.extra["labels"], serde_json::json!(["from-the-future"]));
        let next = doc.next_revision(doc.ir.clone(), "new".into(), Timestamp::now()).unwrap();
        assert_eq!(next.revision, 2);
        assert_eq!(next.created_at, doc.created_at);
        let text = next.to_pretty_json();
        assert!(text.ends_with("}\n"));
        let again: Document = serde_json::from_str(&text).unwrap();
        assert_eq!(again, next);
    }

    #[test]
    fn timestamps_round_trip_in_utc() {
        let t = Timestamp::parse("2025-01-29T12:00:00.123456789+02:00").unwrap();
        assert_eq!(t.to_string(), "2025-01-29T10:00:00.123456Z");
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
    }

    #[test]
    fn invalid_inner_name_is_rejected() {
        let text = sample().replace("fix-issue", "Fix Issue");
        let err = serde_json::from_str::<Document>(&text).unwrap_err();
        assert!(err.to_string().contains("invalid workflow name"), "{err}");
    }
}
