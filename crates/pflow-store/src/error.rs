//! The one error type of the store and the manager (SPEC §4.3).

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
    /// The workflow changed since the caller read it; nothing was written.
    #[error(
        "workflow `{name}` was changed concurrently: expected revision {expected}, found {actual}"
    )]
    Conflict {
        /// The workflow's name.
        name: WorkflowName,
        /// The revision the caller based its change on.
        expected: u64,
        /// The revision the store holds.
        actual: u64,
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
    },
    /// The backend failed to read or write.
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
}

impl StoreError {
    /// A hint for a person, when there is a useful one.
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::InvalidName(e) => Some(e.hint()),
            StoreError::InvalidWorkflow { .. } => {
                Some("run `pflow validate FILE` to see every problem with its path".to_owned())
            }
            StoreError::WorkflowExists { name } => Some(format!(
                "choose another name, or pass `--force` to replace `{name}` with a new revision"
            )),
            StoreError::WorkflowNotFound { suggestions, .. } if !suggestions.is_empty() => {
                let names: Vec<String> = suggestions.iter().map(|n| format!("`{n}`")).collect();
                Some(format!("did you mean {}?", names.join(" or ")))
            }
            StoreError::WorkflowNotFound { .. } => {
                Some("run `pflow workflow list` to see the saved workflows".to_owned())
            }
            StoreError::Conflict { .. } => {
                Some("load the workflow again, reapply your change and retry".to_owned())
            }
            StoreError::RevisionNotFound { name, current, .. } => Some(format!(
                "its revisions are numbered up to {current}; run `pflow workflow history {name}` \
                 to see the ones kept"
            )),
            StoreError::NotInTrash { suggestions, .. } if !suggestions.is_empty() => {
                let names: Vec<String> = suggestions.iter().map(|n| format!("`{n}`")).collect();
                Some(format!("did you mean {}?", names.join(" or ")))
            }
            StoreError::NotInTrash { .. } => {
                Some("run `pflow workflow trash list` to see the trash".to_owned())
            }
            StoreError::HasCallers { .. } => Some(
                "change or delete the callers first, or pass `--force` to delete it anyway \
                 (the callers then fail until it is restored)"
                    .to_owned(),
            ),
            StoreError::Corrupt { .. } => Some(
                "repair the file by hand, or delete it with `pflow workflow delete NAME --yes`"
                    .to_owned(),
            ),
            StoreError::Io { source, .. } => match source.kind() {
                io::ErrorKind::StorageFull => Some("free some disk space and retry".to_owned()),
                io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied => Some(
                    "check that the pflow home is writable, or choose another with `--home`"
                        .to_owned(),
                ),
                _ => None,
            },
        }
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

fn summarize(diagnostics: &Diagnostics) -> String {
    let errors: Vec<String> = diagnostics.errors().map(ToString::to_string).collect();
    match errors.as_slice() {
        [] => "no errors".to_owned(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}
