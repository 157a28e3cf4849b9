//! The storage trait every backend implements, and the plain types it speaks.

use std::fmt;

use indexmap::IndexMap;
use pflow_ir::{Document, InputSpec, OutputSpec, Timestamp, ValueType, WorkflowIr, WorkflowName};
use serde::{Deserialize, Serialize};

use crate::StoreResult;

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
    fn create(&self, doc: &Document) -> StoreResult<Location>;

    /// The whole document stored under `name`.
    fn load(&self, name: &WorkflowName) -> StoreResult<Document>;

    /// A summary of every readable document, sorted by name, and every entry that could
    /// not be read. One bad entry never fails the listing.
    fn list(&self) -> StoreResult<Listing>;

    /// Whether a document is stored under `name`.
    fn exists(&self, name: &WorkflowName) -> StoreResult<bool>;

    /// Replaces the content of `name` with `change` if its revision is still
    /// `expected_revision`, and returns the new document (revision + 1).
    ///
    /// Fails with [`StoreError::Conflict`](crate::StoreError::Conflict) when the revision
    /// moved, leaving the stored document untouched.
    fn update(
        &self,
        name: &WorkflowName,
        expected_revision: u64,
        change: Change,
    ) -> StoreResult<Document>;

    /// Removes the document stored under `name`.
    fn delete(&self, name: &WorkflowName) -> StoreResult<()>;

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

/// A stored entry that could not be read as a workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Where the entry lives (a path for the filesystem store).
    pub location: String,
    /// Why it could not be read.
    pub reason: String,
}
