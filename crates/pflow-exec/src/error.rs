//! The errors of the runtime: a run that failed, a node that failed, inputs that were
//! wrong, and a command-line value that could not be coerced.

use std::fmt;

use pflow_ir::ValueType;
use serde_json::{Map, Value};

/// Why a run did not produce a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The inputs were wrong; no node ran.
    #[error(transparent)]
    Inputs(#[from] InputErrors),
    /// A node failed and no `error` edge left it.
    ///
    /// Displays as the chain of node ids from the outermost workflow down to the node that
    /// failed, then the message: `call-mid > call-leaf > echo: …` (SPEC §5.1).
    #[error("{}: {message}", chain.join(" > "))]
    NodeFailed {
        /// Node ids, outermost first; more than one when the failure happened inside a
        /// nested workflow.
        chain: Vec<String>,
        /// What went wrong in the innermost node.
        message: String,
    },
    /// A declared output could not be resolved after the last node ran.
    #[error("declared output `{name}` cannot be resolved: {reason}")]
    Output {
        /// The output's name.
        name: String,
        /// Why not.
        reason: String,
    },
    /// The run was stopped through its [`CancelFlag`](crate::CancelFlag).
    #[error("the run was cancelled")]
    Cancelled,
    /// The graph cannot be executed (a problem validation reports too; the runtime
    /// refuses it rather than guess).
    #[error("workflow cannot run: {message}")]
    InvalidWorkflow {
        /// What is wrong with the graph.
        message: String,
    },
}

impl ExecError {
    /// A hint for a person, when there is a useful one.
    pub fn hint(&self) -> Option<String> {
        match self {
            ExecError::Inputs(e) => Some(e.hint()),
            ExecError::Output { .. } => Some(
                "give the output a `source` template such as `${node.key}`, or check that \
                 the node it names ran"
                    .to_owned(),
            ),
            ExecError::InvalidWorkflow { .. }
            | ExecError::NodeFailed { .. }
            | ExecError::Cancelled => None,
        }
    }
}

/// The inputs given to a workflow break its declared input rules.
///
/// Every problem is listed at once; [`InputErrors::hint`] names the accepted inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", join_problems(.problems))]
pub struct InputErrors {
    /// Each problem, in the order the inputs are declared (unknown names first).
    pub problems: Vec<InputProblem>,
    /// The accepted inputs, one short description each (`` `text` (string, required) ``).
    pub accepted: Vec<String>,
}

impl InputErrors {
    /// Names the accepted inputs, so a person can fix the call.
    pub fn hint(&self) -> String {
        if self.accepted.is_empty() {
            "this workflow declares no inputs".to_owned()
        } else {
            format!("this workflow accepts: {}", self.accepted.join(", "))
        }
    }
}

/// One problem with the inputs of a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputProblem {
    /// A name the workflow does not declare.
    Unknown {
        /// The name given.
        name: String,
        /// Declared names close to it, best first.
        suggestions: Vec<String>,
    },
    /// A required input without a value.
    Missing {
        /// The declared name.
        name: String,
    },
    /// A value of the wrong JSON type.
    WrongType {
        /// The declared name.
        name: String,
        /// The declared type.
        expected: ValueType,
        /// The type of the value given (`null`, `string`, …).
        found: &'static str,
    },
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputProblem::Unknown { name, suggestions } => {
                write!(f, "unknown input `{name}`")?;
                if let Some(best) = suggestions.first() {
                    write!(f, " (did you mean `{best}`?)")?;
                }
                Ok(())
            }
            InputProblem::Missing { name } => write!(f, "missing required input `{name}`"),
            InputProblem::WrongType { name, expected, found } => {
                write!(f, "input `{name}` must be of type {expected}, got {found}")
            }
        }
    }
}

fn join_problems(problems: &[InputProblem]) -> String {
    let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    texts.join("; ")
}

/// A command-line value that is not of the declared input type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid {expected}{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
pub struct CoerceError {
    /// The text given.
    pub value: String,
    /// The declared type.
    pub expected: ValueType,
    /// More detail (a JSON parse error), when there is some.
    pub detail: Option<String>,
}

/// Why a node failed.
///
/// A failure carries its message (recorded as `${node.error}`) and may carry outputs the
/// node produced before failing (a shell command's `stdout`, `stderr` and `exit_code`), so
/// the node an `error` edge leads to can inspect them.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeError {
    /// Boxed: a `Result<_, NodeError>` stays small on the success path.
    kind: Box<NodeErrorKind>,
    outputs: Map<String, Value>,
    /// Whether a new attempt can fix it (a dropped connection, a file busy for a moment);
    /// only such failures are attempted again under `retry` or a batch's `max_retries`.
    retriable: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum NodeErrorKind {
    /// The node itself failed.
    Failed(String),
    /// A nested workflow failed at the node chain `chain`.
    Child { chain: Vec<String>, message: String },
    /// The node stopped because the run was cancelled.
    Cancelled,
}

impl NodeError {
    /// A failure with a message (lowercase, values in backticks).
    pub fn new(message: impl Into<String>) -> NodeError {
        NodeError {
            kind: Box::new(NodeErrorKind::Failed(message.into())),
            outputs: Map::new(),
            retriable: false,
        }
    }

    /// The same failure, one a new attempt can fix (0.16 retries the exceptions a node
    /// raises while it works: a connection that failed, a file that could not be read;
    /// never a shell command's exit status or timeout, nor a wrong param).
    pub fn retriable(mut self) -> NodeError {
        self.retriable = true;
        self
    }

    /// Whether a new attempt can fix this failure.
    pub fn is_retriable(&self) -> bool {
        self.retriable && !self.is_cancelled()
    }

    /// The node stopped because the run was cancelled; the run stops, and `error` edges
    /// do not apply.
    pub fn cancelled() -> NodeError {
        NodeError {
            kind: Box::new(NodeErrorKind::Cancelled),
            outputs: Map::new(),
            retriable: false,
        }
    }

    /// The same failure, also recording `outputs` under the node's id.
    pub fn with_outputs(mut self, outputs: Map<String, Value>) -> NodeError {
        self.outputs = outputs;
        self
    }

    /// Whether the node stopped because the run was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(*self.kind, NodeErrorKind::Cancelled)
    }

    /// The outputs the node produced before failing.
    pub fn outputs(&self) -> &Map<String, Value> {
        &self.outputs
    }

    /// The failure of a nested run, as the failure of the node that started it.
    pub(crate) fn from_child(error: ExecError) -> NodeError {
        let kind = match error {
            ExecError::NodeFailed { chain, message } => NodeErrorKind::Child { chain, message },
            ExecError::Cancelled => NodeErrorKind::Cancelled,
            other => NodeErrorKind::Failed(other.to_string()),
        };
        NodeError { kind: Box::new(kind), outputs: Map::new(), retriable: false }
    }

    /// Splits the failure into the chain below the failing node and the innermost message.
    pub(crate) fn into_parts(self) -> (Vec<String>, String, Map<String, Value>) {
        match *self.kind {
            NodeErrorKind::Failed(message) => (Vec::new(), message, self.outputs),
            NodeErrorKind::Child { chain, message } => (chain, message, self.outputs),
            NodeErrorKind::Cancelled => {
                (Vec::new(), "the run was cancelled".to_owned(), self.outputs)
            }
        }
    }
}

impl fmt::Display for NodeError {
    /// The text recorded as `${node.error}`: the message, prefixed by the node chain inside
    /// a nested workflow (`call-leaf > echo: …`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind.as_ref() {
            NodeErrorKind::Failed(message) => f.write_str(message),
            NodeErrorKind::Child { chain, message } => {
                write!(f, "{}: {message}", chain.join(" > "))
            }
            NodeErrorKind::Cancelled => f.write_str("the run was cancelled"),
        }
    }
}

impl std::error::Error for NodeError {}
