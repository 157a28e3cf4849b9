//! The one error type of the planner context.

use std::fmt;

use pflow_store::StoreError;
use serde::{Deserialize, Serialize};

/// The result of building a context.
pub type ContextResult<T> = Result<T, ContextError>;

/// Why a context could not be built. Callers match on the variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// Some selected names are not known node types or saved workflows; nothing was built.
    #[error("{0}")]
    UnknownNames(UnknownNames),
    /// A selected saved workflow exists but cannot be read.
    #[error("failed to read saved workflow `{name}`")]
    Unreadable {
        /// The workflow's name.
        name: String,
        /// Why the store could not read it.
        #[source]
        source: StoreError,
    },
    /// The saved workflows could not be listed.
    #[error("failed to list saved workflows")]
    List(#[source] StoreError),
}

impl ContextError {
    /// A hint for a person, when there is a useful one.
    pub fn hint(&self) -> Option<String> {
        match self {
            ContextError::UnknownNames(_) => None,
            ContextError::Unreadable { source, .. } | ContextError::List(source) => source.hint(),
        }
    }
}

/// Every selected name that is not known, node types and saved workflows apart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownNames {
    /// Unknown node types, in the order they were asked for.
    pub nodes: Vec<UnknownName>,
    /// Unknown saved workflows, in the order they were asked for.
    pub workflows: Vec<UnknownName>,
}

impl UnknownNames {
    /// Whether every name was known.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.workflows.is_empty()
    }
}

/// One name that is not known, with the known names close to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownName {
    /// The name as it was asked for.
    pub name: String,
    /// Known names close to it, best first (at most three; possibly none).
    pub suggestions: Vec<String>,
}

impl fmt::Display for UnknownNames {
    /// One line: `unknown node type `x` (did you mean `y`?); unknown saved workflow `z``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (kind, names) in [("node type", &self.nodes), ("saved workflow", &self.workflows)] {
            if names.is_empty() {
                continue;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            let plural = if names.len() == 1 { "" } else { "s" };
            write!(f, "unknown {kind}{plural} ")?;
            for (index, unknown) in names.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{unknown}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.name)?;
        if !self.suggestions.is_empty() {
            let names: Vec<String> = self.suggestions.iter().map(|s| format!("`{s}`")).collect();
            write!(f, " (did you mean {}?)", names.join(" or "))?;
        }
        Ok(())
    }
}
