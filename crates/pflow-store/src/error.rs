//! The one error type of the store and the manager (SPEC §4.3).
//!
//! Errors are the same for every backend and every front end: they name the thing, say
//! what is wrong, and carry the cause as a source. A [`StoreError::hint`] never names a
//! command or a flag — a front end (the CLI, an MCP server) adds its own.

use std::io;
use std::path::PathBuf;

use pflow_ir::{Diagnostics, NameError, WorkflowName};

/// The result of a store or manager operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// Why a store or manager operation failed. Callers match on the variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The name breaks the naming rules; nothing was touched.
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// The workflow has validation errors; nothing was written.
    #[error("workflow `{name}` is invalid: {}", summarize(diagnostics))]
    InvalidWorkflow {
        /// The workflow's name.
        name: WorkflowName,
        /// Every finding (errors and warnings).
        diagnostics: Diagnostics,
    },
    /// A workflow of that name already exists; it was left as it was.
    #[error("workflow `{name}` already exists")]
    WorkflowExists {
        /// The taken name.
        name: WorkflowName,
    },
    /// No workflow of that name exists.
    #[error("workflow `{name}` not found")]
    WorkflowNotFound {
        /// The name asked for.
        name: WorkflowName,
        /// Existing names close to it, best first.
        suggestions: Vec<WorkflowName>,
    },
    /// The workflow changed (or was deleted) since the caller read it; nothing was
    /// written.
    #[error("{}", conflict(name, *expected, *actual))]
    Conflict {
        /// The workflow's name.
        name: WorkflowName,
        /// The revision the caller based its change on.
        expected: u64,
        /// The revision the store holds; `None` when it holds no workflow of that name.
        actual: Option<u64>,
    },
    /// The workflow has no revision of that number (never had, or it was not kept).
    #[error("workflow `{name}` has no revision {revision}")]
    RevisionNotFound {
        /// The workflow's name.
        name: WorkflowName,
        /// The revision asked for.
        revision: u64,
        /// Its current revision.
        current: u64,
    },
    /// The workflow's revision number cannot grow any more; nothing was written.
    #[error("workflow `{name}` is at revision {revision}, the last one there can be")]
    RevisionLimit {
        /// The workflow's name.
        name: WorkflowName,
        /// Its current revision.
        revision: u64,
    },
    /// A life or trash entry of the workflow is at the last time there can be (the end of
    /// the year 9999), so a new life or trash entry of that name cannot get a creation or
    /// deletion time after it, and would share its key (which would replace a kept
    /// revision or a trash entry); nothing was written.
    #[error(
        "workflow `{name}` cannot get a time after `{last}`, the last there can be: a new \
         life or trash entry of it would replace an old one"
    )]
    NoTimeLeft {
        /// The workflow's name.
        name: WorkflowName,
        /// The time already taken, after which none is left.
        last: pflow_ir::Timestamp,
    },
    /// The document's stored form would be larger than the store reads back; nothing was
    /// written.
    #[error(
        "workflow `{name}` is too large to store: {} bytes as stored, more than the limit of {} MiB",
        size,
        limit / (1024 * 1024)
    )]
    TooLarge {
        /// The workflow's name.
        name: WorkflowName,
        /// The size of its stored form, in bytes.
        size: u64,
        /// The largest stored form, in bytes.
        limit: u64,
    },
    /// The trash holds no readable entry of that name.
    #[error("no workflow `{name}` in the trash")]
    NotInTrash {
        /// The name asked for.
        name: WorkflowName,
        /// Trashed names close to it, best first.
        suggestions: Vec<WorkflowName>,
    },
    /// Other saved workflows call this one by `workflow_name`; it was not deleted.
    #[error("workflow `{name}` is called by {}", quoted(callers))]
    HasCallers {
        /// The workflow that was to be deleted.
        name: WorkflowName,
        /// The saved workflows that call it, sorted by name.
        callers: Vec<WorkflowName>,
    },
    /// A stored entry cannot be read as a workflow document.
    #[error("corrupt workflow entry `{location}`: {reason}")]
    Corrupt {
        /// Where the entry lives.
        location: String,
        /// What is wrong with it.
        reason: String,
        /// The workflow whose current entry this is; `None` for a kept revision or a
        /// trash entry (removing the workflow would not remove them).
        workflow: Option<WorkflowName>,
    },
    /// One of the store's own entries (a lock, a directory it keeps its temp files,
    /// history or trash in) is not what it must be — a symbolic link, a file where a
    /// directory belongs; the store refuses to use it rather than touch what it points to.
    #[error("the store's own entry `{location}` is {reason}")]
    Layout {
        /// The entry.
        location: String,
        /// What it is instead, and what it must be.
        reason: String,
    },
    /// The bytes given as a bundle are not one this version reads (not JSON, nested too
    /// deep, too large, not of the bundle format, or not well-formed); nothing was
    /// written.
    #[error("not a readable workflow bundle: {reason}")]
    BadBundle {
        /// What is wrong, with the place in the text when there is one.
        reason: String,
    },
    /// The bundle is of a newer format version than this version reads; nothing was
    /// written.
    #[error(
        "the bundle is of format version {version}, newer than the version {supported} this \
         pflow reads"
    )]
    BundleTooNew {
        /// The bundle's format version.
        version: u64,
        /// The newest format version this version reads.
        supported: u64,
    },
    /// Workflows of a bundle would not be valid where they are imported (each with its
    /// findings: validation, calls that neither the bundle nor the store resolves, call
    /// cycles through both); nothing was written.
    #[error("the bundle cannot be imported: {} invalid", quoted_invalid(workflows))]
    InvalidBundle {
        /// Each invalid workflow, in the order of the bundle, with its findings.
        workflows: Vec<(WorkflowName, Diagnostics)>,
    },
    /// Workflows of a bundle are saved with different content, and the import was asked
    /// to fail on a conflict; nothing was written.
    #[error("the bundle conflicts with saved workflows of different content: {}", quoted(names))]
    ImportConflicts {
        /// The workflows in conflict, in the order of the bundle.
        names: Vec<WorkflowName>,
    },
    /// The filesystem failed to read or write.
    #[error("failed to {action} `{}`", path.display())]
    Io {
        /// What was being done (`write`, `read`, `lock`, …).
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A backend that is not a filesystem path failed (a database server that cannot be
    /// reached, refused the login, or failed a statement).
    #[error("{message}")]
    Backend {
        /// What failed, naming the store (with any password redacted).
        message: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// A hint for a person that holds for every front end, when there is a useful one; a
    /// front end adds the ones that name its commands.
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::InvalidName(e) => Some(e.hint()),
            StoreError::WorkflowNotFound { suggestions, .. }
            | StoreError::NotInTrash { suggestions, .. }
                if !suggestions.is_empty() =>
            {
                let names: Vec<String> = suggestions.iter().map(|n| format!("`{n}`")).collect();
                Some(format!("did you mean {}?", names.join(" or ")))
            }
            StoreError::Conflict { actual: Some(_), .. } => {
                Some("load the workflow again, reapply your change and retry".to_owned())
            }
            StoreError::Conflict { actual: None, .. } => {
                Some("save it anew if it is still wanted".to_owned())
            }
            StoreError::RevisionLimit { .. } => {
                Some("save its content under a new name, which starts at revision 1".to_owned())
            }
            StoreError::NoTimeLeft { .. } => Some(
                "purge the workflow's trash entries (their times are at the end of the \
                 calendar), or keep the workflow under a new name"
                    .to_owned(),
            ),
            StoreError::TooLarge { .. } => Some(
                "a workflow this large is data, not a graph: read the data from a file at run \
                 time instead"
                    .to_owned(),
            ),
            StoreError::BundleTooNew { .. } => {
                Some("import it with a newer pflow, or export it again with this one".to_owned())
            }
            StoreError::ImportConflicts { .. } => Some(
                "skip them, or update them (each gets a new revision; its history keeps the old \
                 one)"
                    .to_owned(),
            ),
            StoreError::Io { source, .. } => match source.kind() {
                io::ErrorKind::StorageFull => Some("free some disk space and retry".to_owned()),
                _ => None,
            },
            _ => None,
        }
    }
}

/// `workflow `x` was changed concurrently: expected revision 2, found 3`; for a name with
/// no saved workflow, that it is not saved (never, or deleted since the caller read it).
fn conflict(name: &WorkflowName, expected: u64, actual: Option<u64>) -> String {
    match actual {
        Some(found) => format!(
            "workflow `{name}` was changed concurrently: expected revision {expected}, found {found}"
        ),
        None => format!(
            "workflow `{name}` is not saved: expected revision {expected}, found none (never \
             saved, or deleted meanwhile)"
        ),
    }
}

/// `` `a`, `b` and `c` ``.
fn quoted(names: &[WorkflowName]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => "other workflows".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `` `a` and `b` `` of the invalid workflows of a bundle.
fn quoted_invalid(workflows: &[(WorkflowName, Diagnostics)]) -> String {
    let names: Vec<WorkflowName> = workflows.iter().map(|(name, _)| name.clone()).collect();
    quoted(&names)
}

fn summarize(diagnostics: &Diagnostics) -> String {
    let errors: Vec<String> = diagnostics.errors().map(ToString::to_string).collect();
    match errors.as_slice() {
        [] => "no errors".to_owned(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}
