//! The storage trait every backend implements, and the plain types it speaks.

use std::fmt;

use indexmap::IndexMap;
use pflow_ir::{Document, InputSpec, OutputSpec, Timestamp, ValueType, WorkflowIr, WorkflowName};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

/// The largest stored document (and workflow file) pflow reads: 16 MiB. A document whose
/// stored form would be larger is refused before anything is written.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// A place that keeps workflow documents by name.
///
/// Implementations speak names and documents, never paths or bytes, so a database backend
/// can replace the filesystem without touching callers. Names arrive already validated
/// and documents already checked: the [`WorkflowManager`](crate::WorkflowManager) does
/// that. Every method is atomic with respect to every other, across threads and (for
/// persistent backends) processes.
pub trait WorkflowStore: Send + Sync + fmt::Debug {
    /// Stores a new document under `doc.name`; never replaces an existing one.
    ///
    /// Of many concurrent creators of one name, exactly one succeeds; the others get
    /// [`StoreError::WorkflowExists`](crate::StoreError::WorkflowExists).
    ///
    /// `doc.created_at` identifies this life of the workflow (its history is kept under
    /// it): it must differ from the creation time of every earlier workflow of that name
    /// still in the trash. The [`WorkflowManager`](crate::WorkflowManager) always uses the
    /// current time.
    fn create(&self, doc: &Document) -> StoreResult<Location>;

    /// The whole document stored under `name`.
    fn load(&self, name: &WorkflowName) -> StoreResult<Document>;

    /// A summary of every readable document, sorted by name, and every entry that could
    /// not be read. One bad entry never fails the listing. Neither history nor trash is
    /// looked at: a listing costs the same however long the histories are.
    fn list(&self) -> StoreResult<Listing>;

    /// Whether a document is stored under `name`.
    fn exists(&self, name: &WorkflowName) -> StoreResult<bool>;

    /// Replaces the content of `name` with `change` if its revision is still
    /// `expected_revision`, and returns the new document (revision + 1). The document it
    /// replaces is kept as an immutable revision in the workflow's history.
    ///
    /// A change whose IR and description equal the stored ones writes nothing and creates
    /// no revision: it returns the stored document as it is, so its `revision` is still
    /// `expected_revision` (that is how a caller tells "unchanged" from "updated").
    ///
    /// Fails with [`StoreError::Conflict`](crate::StoreError::Conflict) when the revision
    /// moved, leaving the stored document untouched.
    fn update(
        &self,
        name: &WorkflowName,
        expected_revision: u64,
        change: Change,
    ) -> StoreResult<Document>;

    /// Every revision of the workflow stored under `name`, oldest first, the current
    /// document last; revisions that cannot be read are reported, not fatal.
    ///
    /// A workflow saved anew after a delete starts a new history: only the revisions of
    /// the current one are listed.
    fn history(&self, name: &WorkflowName) -> StoreResult<History>;

    /// One revision of `name`: the current document, or one kept in its history.
    ///
    /// Fails with [`StoreError::RevisionNotFound`](crate::StoreError::RevisionNotFound)
    /// when there is no such revision.
    fn load_revision(&self, name: &WorkflowName, revision: u64) -> StoreResult<Document>;

    /// Makes the content (IR and description) of `revision` the newest revision of
    /// `name`, as an update at `now` would; history is never rewound or deleted.
    ///
    /// With `expected_revision`, fails with [`StoreError::Conflict`](crate::StoreError::Conflict)
    /// unless the current revision is still that one. When the content of `revision`
    /// equals the current content, nothing is written and the current document is
    /// returned, as for [`WorkflowStore::update`].
    fn restore_revision(
        &self,
        name: &WorkflowName,
        revision: u64,
        expected_revision: Option<u64>,
        now: Timestamp,
    ) -> StoreResult<Document>;

    /// Moves the workflow stored under `name`, with its history, to the trash, as deleted
    /// at `now` (moved forward by a microsecond past the newest trash entry of that
    /// name, so that the entries of one name have distinct, increasing times).
    ///
    /// An entry that cannot be read as a document is moved to the trash too (that is how
    /// a damaged file is removed); only a directory in its place is refused.
    fn delete(&self, name: &WorkflowName, now: Timestamp) -> StoreResult<TrashKey>;

    /// Every workflow in the trash, sorted by name and then by deletion time (oldest
    /// first), and every trash entry that could not be read.
    fn trash(&self) -> StoreResult<TrashListing>;

    /// Moves the newest readable trash entry of `name` back, with its history, and
    /// returns it.
    ///
    /// Refused with [`StoreError::WorkflowExists`](crate::StoreError::WorkflowExists)
    /// while a workflow of that name is stored; fails with
    /// [`StoreError::NotInTrash`](crate::StoreError::NotInTrash) when the trash holds no
    /// readable entry of that name.
    fn restore_trashed(&self, name: &WorkflowName) -> StoreResult<Document>;

    /// Deletes for good the trash entries that `filter` selects (readable or not), with
    /// their history, and returns which.
    fn purge(&self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>>;

    /// Where `name` lives (or would live), for people.
    fn locate(&self, name: &WorkflowName) -> Location;
}

/// New content for an existing workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The new IR.
    pub ir: WorkflowIr,
    /// The new description.
    pub description: String,
    /// The time of the update.
    pub now: Timestamp,
}

impl Change {
    /// The document that results from applying this change to `current`.
    pub fn apply_to(self, current: &Document) -> Document {
        current.next_revision(self.ir, self.description, self.now)
    }

    /// Whether applying this change to `current` would change nothing that the history
    /// keeps: the IR and the description are the same.
    pub fn is_noop_for(&self, current: &Document) -> bool {
        self.ir == current.ir && self.description == current.description
    }
}

/// Where a workflow lives, for people: a path for the filesystem store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Location(pub String);

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The result of listing a store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// Every readable workflow, sorted by name.
    pub workflows: Vec<Summary>,
    /// Every entry that could not be read, sorted by location.
    pub problems: Vec<Problem>,
}

/// What a listing knows about one workflow without loading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The workflow's name.
    pub name: WorkflowName,
    /// Its description.
    pub description: String,
    /// Its declared inputs, in declaration order.
    pub inputs: Vec<InputSummary>,
    /// Its declared output names, in declaration order.
    pub outputs: Vec<String>,
    /// The saved workflows it calls by `workflow_name`.
    pub calls: Vec<String>,
    /// Its current revision.
    pub revision: u64,
    /// When it was first saved.
    pub created_at: Timestamp,
    /// When its content last changed.
    pub updated_at: Timestamp,
}

impl Summary {
    /// The summary of a document.
    pub fn of(doc: &Document) -> Summary {
        Summary {
            name: doc.name.clone(),
            description: doc.description.clone(),
            inputs: doc.ir.inputs.iter().map(|(name, spec)| InputSummary::of(name, spec)).collect(),
            outputs: outputs(&doc.ir.outputs),
            calls: pflow_ir::workflow_calls(&doc.ir),
            revision: doc.revision,
            created_at: doc.created_at,
            updated_at: doc.updated_at,
        }
    }
}

fn outputs(outputs: &IndexMap<String, OutputSpec>) -> Vec<String> {
    outputs.keys().cloned().collect()
}

/// One declared input, as listings show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSummary {
    /// The input's name.
    pub name: String,
    /// Its declared type, if any.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<ValueType>,
    /// Whether a caller must supply it.
    pub required: bool,
}

impl InputSummary {
    fn of(name: &str, spec: &InputSpec) -> InputSummary {
        InputSummary { name: name.to_owned(), ty: spec.ty, required: spec.is_required() }
    }
}

/// The revisions of one workflow, as [`WorkflowStore::history`] gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Every readable revision, oldest first; the last one is the current document.
    pub revisions: Vec<Document>,
    /// Every kept revision that could not be read, sorted by location.
    pub problems: Vec<Problem>,
}

/// Which trash entry: a workflow's name and when it was deleted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TrashKey {
    /// The deleted workflow's name.
    pub name: WorkflowName,
    /// When it was deleted (distinct among the entries of one name).
    pub deleted_at: Timestamp,
}

/// A workflow in the trash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrashEntry {
    /// The workflow's name.
    pub name: WorkflowName,
    /// When it was deleted.
    pub deleted_at: Timestamp,
    /// Its description when it was deleted.
    pub description: String,
    /// Its revision when it was deleted (its history holds the ones before).
    pub revision: u64,
    /// When it was first saved.
    pub created_at: Timestamp,
    /// When its content last changed before it was deleted.
    pub updated_at: Timestamp,
}

impl TrashEntry {
    /// The entry for `doc`, deleted at `deleted_at`.
    pub fn of(doc: &Document, deleted_at: Timestamp) -> TrashEntry {
        TrashEntry {
            name: doc.name.clone(),
            deleted_at,
            description: doc.description.clone(),
            revision: doc.revision,
            created_at: doc.created_at,
            updated_at: doc.updated_at,
        }
    }

    /// Which entry this is.
    pub fn key(&self) -> TrashKey {
        TrashKey { name: self.name.clone(), deleted_at: self.deleted_at }
    }
}

/// The result of listing the trash.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrashListing {
    /// Every readable entry, sorted by name, then by deletion time (oldest first).
    pub entries: Vec<TrashEntry>,
    /// Every trash entry that could not be read, sorted by location.
    pub problems: Vec<Problem>,
}

/// Which trash entries [`WorkflowStore::purge`] deletes: those matching every given
/// condition (all of them when none is given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeFilter {
    /// Only entries of this workflow.
    pub name: Option<WorkflowName>,
    /// Only entries deleted strictly before this time.
    pub deleted_before: Option<Timestamp>,
}

impl PurgeFilter {
    /// Whether the entry `key` is selected.
    pub fn selects(&self, key: &TrashKey) -> bool {
        self.name.as_ref().is_none_or(|n| *n == key.name)
            && self.deleted_before.is_none_or(|t| key.deleted_at < t)
    }
}

/// A stored entry that could not be read as a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where the entry lives (a path for the filesystem store).
    pub location: String,
    /// Why it could not be read.
    pub reason: String,
}

/// Microseconds since the Unix epoch: the resolution of every stored timestamp.
pub(crate) fn micros(t: Timestamp) -> i64 {
    let us = t.datetime().unix_timestamp_nanos() / 1_000;
    i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
}

/// The timestamp `us` microseconds after the Unix epoch, if it is a representable date.
pub(crate) fn from_micros(us: i64) -> Option<Timestamp> {
    let nanos = i128::from(us) * 1_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok().map(Timestamp::from_datetime)
}

/// The deletion time of a new trash entry: `now`, or one microsecond after the newest
/// entry of the same name if that is later, so that the entries of one name have
/// distinct times in deletion order even when the clock stands still or steps back.
pub(crate) fn deletion_time(now: Timestamp, newest: Option<Timestamp>) -> Timestamp {
    let after = newest.and_then(|t| from_micros(micros(t).saturating_add(1)));
    match after {
        Some(after) if after > now => after,
        _ => now,
    }
}

/// Fails with `Conflict` unless `current` is at `expected` (when one is given).
pub(crate) fn check_revision(
    name: &WorkflowName,
    expected: Option<u64>,
    current: &Document,
) -> StoreResult<()> {
    match expected {
        Some(expected) if expected != current.revision => Err(crate::StoreError::Conflict {
            name: name.clone(),
            expected,
            actual: current.revision,
        }),
        _ => Ok(()),
    }
}
