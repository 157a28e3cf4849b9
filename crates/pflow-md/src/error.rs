//! The errors of writing an IR as `.pflow.md`.

/// An IR that `.pflow.md` cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A part of the IR has no form in the markdown format.
    #[error("`{path}` cannot be written as .pflow.md: {reason}")]
    Unrepresentable {
        /// The JSON path of the part.
        path: String,
        /// Why.
        reason: String,
    },
}

impl WriteError {
    /// How to get past it.
    pub fn hint(&self) -> &'static str {
        match self {
            WriteError::Unrepresentable { .. } => "export the workflow as JSON instead",
        }
    }
}

/// The result of writing.
pub type WriteResult<T> = Result<T, WriteError>;
