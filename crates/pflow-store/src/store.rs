//! The storage trait every backend implements, and the plain types it speaks.

use std::fmt;
use std::ops::ControlFlow;

use indexmap::IndexMap;
use pflow_ir::{Document, InputSpec, OutputSpec, Timestamp, ValueType, WorkflowName};
use serde::{Deserialize, Serialize};

use crate::{StoreError, StoreResult};

/// The largest stored document (and workflow file) pflow reads: 16 MiB. A document whose
/// stored form would be larger is refused before anything is written.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// A place that keeps workflow documents by name: the storage primitives every backend
/// implements.
///
/// Implementations speak names and documents, never paths or bytes, so a database backend
/// can replace the filesystem without touching callers. The rules that hold for every
/// backend — names, validation, revisions and their overflow, no-op updates, deletion
/// times, which trash entry a restore brings back, the size of what may be stored, call
/// cycles — live once, in the [`WorkflowManager`](crate::WorkflowManager); a backend only
/// stores and reads what it is given.
///
/// # The contract every backend meets
///
/// - **Reads** (`load`, `list`, `exists`, `kept_revisions`, `kept_revision`, `trash`) see
///   only complete, committed states: never a half-written document, never the state in
///   the middle of a transaction.
/// - **Writes** happen only inside [`WorkflowStore::write`], one transaction at a time:
///   transactions are serialised with every other transaction on the same store, across
///   threads, processes and (for a shared backend) machines. Inside one, every read
///   through the [`Transaction`] sees the state every earlier transaction left, and
///   nothing else changes that state until it ends. This is what makes the manager's
///   checks atomic with its writes: the revision a caller expects, the callers of a
///   workflow being deleted, and the call graph a new revision must not close into a
///   cycle are all read inside the transaction that writes.
/// - **Durability and atomicity**: when a write primitive returns `Ok`, its effect
///   survives a crash or power loss; a crash in the middle of one leaves the state before
///   or after it, never a mixture. A transaction whose work fails after some primitives
///   succeeded may keep their effects (a database rolls them back, the filesystem cannot;
///   the manager makes every check before its first write, so only a failing write can
///   leave such a state, and each primitive is whole).
/// - **History is append-only and immutable**: the revisions kept before the current one
///   are never changed, only removed with their workflow by a purge. A workflow is at
///   every instant in exactly one place: live or in the trash.
pub trait WorkflowStore: Send + Sync + fmt::Debug {
    /// The whole document stored under `name`.
    ///
    /// [`StoreError::WorkflowNotFound`](crate::StoreError::WorkflowNotFound) when there is
    /// none, [`StoreError::Corrupt`](crate::StoreError::Corrupt) when the entry cannot be
    /// read as a document of that name.
    fn load(&self, name: &WorkflowName) -> StoreResult<Document>;

    /// Visits a summary of every readable document, in name order, and every entry that
    /// could not be read (in any order among them), without holding the whole listing: a
    /// listing of a library of any size streams from it. `visit` may stop the listing
    /// early by returning `ControlFlow::Break`. One bad entry never fails the listing.
    /// Neither history nor trash is looked at: a listing costs the same however long the
    /// histories are.
    fn visit(&self, visit: &mut dyn FnMut(Listed) -> ControlFlow<()>) -> StoreResult<()>;

    /// Every summary, sorted by name, and every entry that could not be read, sorted by
    /// location: [`WorkflowStore::visit`], collected.
    fn list(&self) -> StoreResult<Listing> {
        let mut listing = Listing::default();
        self.visit(&mut |entry| {
            match entry {
                Listed::Workflow(summary) => listing.workflows.push(summary),
                Listed::Problem(problem) => listing.problems.push(problem),
            }
            ControlFlow::Continue(())
        })?;
        listing.problems.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(listing)
    }

    /// Whether an entry (readable or not) is stored under `name`.
    fn exists(&self, name: &WorkflowName) -> StoreResult<bool>;

    /// The revisions kept before `current` in its life (its name and creation time: a
    /// workflow saved anew after a delete starts a history of its own), oldest first, and
    /// every kept revision that could not be read. `current` itself is not included.
    fn kept_revisions(&self, current: &Document) -> StoreResult<History>;

    /// The kept revision `revision` (below `current.revision`) of `current`'s life;
    /// `None` when it was never kept.
    fn kept_revision(&self, current: &Document, revision: u64) -> StoreResult<Option<Document>>;

    /// Every workflow in the trash, sorted by name and then by deletion time (oldest
    /// first), and every trash entry that could not be read.
    fn trash(&self) -> StoreResult<TrashListing>;

    /// The trash entries of `name`, readable or not, oldest first, with their documents.
    fn trashed(&self, name: &WorkflowName) -> StoreResult<Vec<Trashed>>;

    /// Where `name` lives (or would live), for people. Never holds a secret (a password
    /// in a connection string is redacted).
    fn locate(&self, name: &WorkflowName) -> Location;

    /// How much the store holds: live workflows, revisions, trash entries and what cannot
    /// be read. The default reads the listing, the trash and every readable life's kept
    /// revisions; a backend that can count without reading (a database) overrides it.
    fn counts(&self) -> StoreResult<crate::StoreCounts> {
        crate::info::count_by_reading(self)
    }

    /// Runs `work` as one transaction (see the contract above).
    ///
    /// A backend may run `work` again from the start when its transaction had to be
    /// retried (a serialization failure), so `work` acts only through the transaction and
    /// overwrites, rather than accumulates, what it hands back.
    fn write(
        &self,
        work: &mut dyn FnMut(&mut dyn Transaction) -> StoreResult<()>,
    ) -> StoreResult<()>;
}

/// The reads and writes of one transaction of a [`WorkflowStore`].
///
/// Every method sees the effects of the ones called before it in the same transaction.
pub trait Transaction {
    /// The document stored under `name`; `None` when there is none.
    /// [`StoreError::Corrupt`](crate::StoreError::Corrupt) when an entry is there but
    /// cannot be read.
    fn load(&mut self, name: &WorkflowName) -> StoreResult<Option<Document>>;

    /// Whether an entry (readable or not) is stored under `name`.
    fn exists(&mut self, name: &WorkflowName) -> StoreResult<bool>;

    /// As [`WorkflowStore::kept_revision`].
    fn kept_revision(&mut self, current: &Document, revision: u64)
    -> StoreResult<Option<Document>>;

    /// As [`WorkflowStore::list`].
    fn list(&mut self) -> StoreResult<Listing>;

    /// The trash entries of `name`, readable or not, oldest first.
    fn trashed(&mut self, name: &WorkflowName) -> StoreResult<Vec<Trashed>>;

    /// Stores a new workflow;
    /// [`StoreError::WorkflowExists`](crate::StoreError::WorkflowExists) when an entry of
    /// that name (readable or not) is there.
    fn create(&mut self, doc: &StoredDocument) -> StoreResult<()>;

    /// Keeps `current` (the document [`Transaction::load`] gave) as an immutable revision
    /// of its history and makes `next` the current document of that name.
    fn replace(&mut self, current: &Document, next: &StoredDocument) -> StoreResult<()>;

    /// Moves the entry stored under `name` (readable or not), with its history, to the
    /// trash as deleted at `deleted_at`, or at the next free microsecond after it when an
    /// entry of that name and time is already there; returns the key it was given.
    fn delete(&mut self, name: &WorkflowName, deleted_at: Timestamp) -> StoreResult<TrashKey>;

    /// Moves the readable trash entry `key`, with its history, back to be the current
    /// document of its name (which no entry holds).
    fn restore(&mut self, key: &TrashKey) -> StoreResult<()>;

    /// Deletes for good the trash entries `filter` selects (readable or not), with their
    /// history, and returns which, sorted.
    fn purge(&mut self, filter: &PurgeFilter) -> StoreResult<Vec<TrashKey>>;

    /// Writes a whole life of a workflow as it is (see [`Life`]): every revision but the
    /// last kept in its history, the last one live — or, with `deleted_at`, in the trash
    /// as deleted then (at the next free microsecond when that time is taken). Nothing is
    /// checked but what only the store can: a live life needs its name free
    /// ([`StoreError::WorkflowExists`](crate::StoreError::WorkflowExists)). The revisions
    /// come from [`Life::stored`], which checks that they are one life.
    fn put_life(
        &mut self,
        revisions: &[StoredDocument],
        deleted_at: Option<Timestamp>,
    ) -> StoreResult<Placed>;
}

/// Where [`Transaction::put_life`] put a life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// It is the live workflow of its name.
    Live,
    /// It is in the trash under this key.
    Trashed(TrashKey),
}

/// One entry of a listing, as [`WorkflowStore::visit`] gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Listed {
    /// A readable workflow.
    Workflow(Summary),
    /// An entry that could not be read.
    Problem(Problem),
}

/// One life of a workflow — from the save that created it to now, or to the delete that
/// moved it to the trash — with every revision kept: what a copy between stores and a
/// bundle with history carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Life {
    /// Its revisions, oldest first; the last is the current (or trashed) document.
    pub revisions: Vec<Document>,
    /// When it was deleted, for a life in the trash.
    pub deleted_at: Option<Timestamp>,
}

impl Life {
    /// The workflow's name.
    pub fn name(&self) -> Option<&WorkflowName> {
        self.revisions.last().map(|d| &d.name)
    }

    /// The revisions in their stored form, checked to be one life: at least one, one name
    /// and one creation time throughout, revision numbers increasing; each within
    /// [`MAX_DOCUMENT_BYTES`].
    pub fn stored(&self) -> StoreResult<Vec<StoredDocument>> {
        let Some(last) = self.revisions.last() else {
            return Err(not_one_life("a life without revisions", None));
        };
        for pair in self.revisions.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.name != b.name || a.created_at != b.created_at {
                return Err(not_one_life("revisions of different workflows", Some(&last.name)));
            }
            if a.revision >= b.revision {
                return Err(not_one_life("revisions out of order", Some(&last.name)));
            }
        }
        self.revisions.iter().cloned().map(StoredDocument::new).collect()
    }
}

fn not_one_life(what: &str, name: Option<&WorkflowName>) -> crate::StoreError {
    crate::StoreError::Corrupt {
        location: name.map_or_else(|| "(a life)".to_owned(), ToString::to_string),
        reason: format!("not one life of a workflow: {what}"),
        workflow: None,
    }
}

/// One trash entry, as a transaction sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Trashed {
    /// Which entry.
    pub key: TrashKey,
    /// The deleted document; `None` when the entry cannot be read.
    pub document: Option<Document>,
}

/// A document as it is stored: within the size every backend reads back.
///
/// Made only by [`StoredDocument::new`], which refuses a document whose stored form (its
/// pretty-printed JSON, the form every backend keeps) is larger than
/// [`MAX_DOCUMENT_BYTES`].
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    doc: Document,
    text: String,
}

impl StoredDocument {
    /// The stored form of `doc`, or
    /// [`StoreError::TooLarge`](crate::StoreError::TooLarge).
    pub fn new(doc: Document) -> StoreResult<StoredDocument> {
        let text = doc.to_pretty_json();
        let size = text.len() as u64;
        if size > MAX_DOCUMENT_BYTES {
            return Err(crate::StoreError::TooLarge {
                name: doc.name.clone(),
                size,
                limit: MAX_DOCUMENT_BYTES,
            });
        }
        Ok(StoredDocument { doc, text })
    }

    /// The document.
    pub fn document(&self) -> &Document {
        &self.doc
    }

    /// Its stored form: pretty-printed UTF-8 JSON with a trailing newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The document, without its stored form.
    pub fn into_document(self) -> Document {
        self.doc
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
    /// The description of each output of `outputs`, in the same order (an empty string
    /// for an output without one); empty when no output has a description, and in
    /// summaries made before this field existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_descriptions: Vec<String>,
    /// The node types its top-level nodes use, distinct and sorted (`shell`, `workflow`);
    /// empty in summaries made before this field existed.
    #[serde(default)]
    pub nodes: Vec<String>,
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
            output_descriptions: output_descriptions(&doc.ir.outputs),
            nodes: node_types(&doc.ir),
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

fn output_descriptions(outputs: &IndexMap<String, OutputSpec>) -> Vec<String> {
    if outputs.values().all(|o| o.description.as_deref().unwrap_or("").is_empty()) {
        return Vec::new();
    }
    outputs.values().map(|o| o.description.clone().unwrap_or_default()).collect()
}

fn node_types(ir: &pflow_ir::WorkflowIr) -> Vec<String> {
    let mut types: Vec<String> = ir.nodes.iter().map(|n| n.ty.clone()).collect();
    types.sort_unstable();
    types.dedup();
    types
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
    /// What it is (empty when not declared, and in summaries made before this field
    /// existed).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl InputSummary {
    fn of(name: &str, spec: &InputSpec) -> InputSummary {
        InputSummary {
            name: name.to_owned(),
            ty: spec.ty,
            required: spec.is_required(),
            description: spec.description.clone().unwrap_or_default(),
        }
    }
}

/// The revisions of one workflow, oldest first: what
/// [`WorkflowManager::history`](crate::WorkflowManager::history) gives (the current
/// document last) and [`WorkflowStore::kept_revisions`] (the revisions before it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// Every readable revision, oldest first.
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

/// Which trash entries [`Transaction::purge`] deletes: those matching every given
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

/// `now`, or one microsecond after `newest` if that is later: the deletion time of a new
/// trash entry of `name` (after the newest entry of that name) and the creation time of a
/// new life of it (after the newest trashed life of that name), so that the times of one
/// name are distinct and in order even when the clock stands still or steps back.
///
/// [`StoreError::NoTimeLeft`] when `newest` is the last time there can be: the new entry
/// would share its key with an old one, and one of them would be lost.
pub(crate) fn time_after(
    name: &WorkflowName,
    now: Timestamp,
    newest: Option<Timestamp>,
) -> StoreResult<Timestamp> {
    let Some(newest) = newest else { return Ok(now) };
    let after = next_micro(newest).ok_or_else(|| no_time_left(name, newest))?;
    Ok(after.max(now))
}

/// The first time at or after `from` that `taken` does not hold: the deletion time a
/// backend gives a trash entry of `name` when the one asked for is taken by another entry
/// of that name. [`StoreError::NoTimeLeft`] when every time up to the last there can be
/// is taken; a backend never reuses a taken one (that would replace an entry).
pub fn free_time(
    name: &WorkflowName,
    from: Timestamp,
    taken: impl Fn(Timestamp) -> bool,
) -> StoreResult<Timestamp> {
    let mut free = from;
    while taken(free) {
        free = next_micro(free).ok_or_else(|| no_time_left(name, free))?;
    }
    Ok(free)
}

/// The microsecond after `t`; `None` past the last time there can be.
fn next_micro(t: Timestamp) -> Option<Timestamp> {
    Timestamp::from_unix_micros(t.unix_micros().checked_add(1)?)
}

fn no_time_left(name: &WorkflowName, last: Timestamp) -> StoreError {
    StoreError::NoTimeLeft { name: name.clone(), last }
}
