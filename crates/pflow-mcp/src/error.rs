//! What a tool call that failed tells the agent: the error, its chain of causes and a
//! hint in the terms of this server's tools, as structured content and as text.
//!
//! The errors come from the libraries; only the hints that name tools and arguments are
//! written here (the CLI's `report.rs` writes the ones that name its commands and flags).

use pflow_context::ContextError;
use pflow_exec::ExecError;
use pflow_ir::{Diagnostic, Diagnostics};
use pflow_store::StoreError;
use schemars::JsonSchema;
use serde::Serialize;

/// Why the server could not serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The async runtime could not be started.
    #[error("failed to start the MCP server's runtime")]
    Runtime(#[source] std::io::Error),
    /// The session did not start (no `initialize` request, or the client left first).
    #[error("the MCP session did not start: {0}")]
    Session(String),
}

/// A user mistake or a failure that a tool call reports as its result (`isError: true`);
/// boxed, so that a tool's `Result` stays small.
#[derive(Debug, Clone)]
pub(crate) struct ToolError(Box<ToolErrorData>);

impl std::ops::Deref for ToolError {
    type Target = ToolErrorData;

    fn deref(&self) -> &ToolErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for ToolError {
    fn deref_mut(&mut self) -> &mut ToolErrorData {
        &mut self.0
    }
}

/// What a [`ToolError`] says.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ToolErrorData {
    /// What kind of mistake, for a program to match: `not_found`, `invalid_workflow`, …
    pub(crate) kind: &'static str,
    /// The error, one line.
    pub(crate) message: String,
    /// Its causes, outermost first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) causes: Vec<String>,
    /// What to do about it, when something useful can be said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    /// Names close to a name that was not found, best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) suggestions: Vec<String>,
    /// Every finding on an invalid workflow, with its path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) findings: Vec<Finding>,
    /// For a failed run: the node ids from the outermost workflow down to the failing node.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) chain: Vec<String>,
    /// For a failed run: each node that ran, as a successful run reports them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) nodes: Option<serde_json::Value>,
}

/// One validation finding.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub(crate) struct Finding {
    /// `error` (the workflow cannot be saved or run) or `warning`.
    pub(crate) severity: String,
    /// Where: a JSON path such as `nodes[2].params.file_path`; empty for the whole workflow.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) message: String,
    /// How to fix it, when there is something useful to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    /// The line of the file it is about (1-based), for a `.pflow.md`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) line: Option<usize>,
}

impl Finding {
    pub(crate) fn of(d: &Diagnostic) -> Finding {
        Finding {
            severity: d.severity.to_string(),
            path: d.path.clone(),
            message: d.message.clone(),
            hint: d.hint.clone(),
            line: d.line,
        }
    }

    pub(crate) fn all(diagnostics: &Diagnostics) -> Vec<Finding> {
        diagnostics.iter().map(Finding::of).collect()
    }

    /// `error at nodes[0].type: …` (`error at line 7, nodes[0].type: …` in a `.pflow.md`;
    /// ` (hint: …)`).
    pub(crate) fn line(&self) -> String {
        let at = match (self.line, self.path.is_empty()) {
            (None, true) => String::new(),
            (None, false) => format!(" at {}", self.path),
            (Some(line), true) => format!(" at line {line}"),
            (Some(line), false) => format!(" at line {line}, {}", self.path),
        };
        let hint = self.hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default();
        format!("{}{at}: {}{hint}", self.severity, self.message)
    }
}

impl ToolError {
    pub(crate) fn new(kind: &'static str, message: impl Into<String>) -> ToolError {
        ToolError(Box::new(ToolErrorData {
            kind,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            suggestions: Vec::new(),
            findings: Vec::new(),
            chain: Vec::new(),
            nodes: None,
        }))
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> ToolError {
        self.hint = Some(hint.into());
        self
    }

    /// The error and its sources, as one error with causes.
    fn chained(kind: &'static str, error: &dyn std::error::Error) -> ToolError {
        let mut e = ToolError::new(kind, error.to_string());
        let mut source = error.source();
        while let Some(cause) = source {
            e.causes.push(cause.to_string());
            source = cause.source();
        }
        e
    }

    /// A workflow that did not pass the checks, with every finding.
    pub(crate) fn invalid(label: &str, diagnostics: &Diagnostics) -> ToolError {
        let errors = diagnostics.errors().count().max(1);
        let noun = if errors == 1 { "error" } else { "errors" };
        let mut e = ToolError::new(
            "invalid_workflow",
            format!("workflow {label} is invalid: {errors} {noun}"),
        )
        .hint(FIX_FINDINGS);
        e.findings = Finding::all(diagnostics);
        e
    }

    /// The structured content of the failed call: `{"error": {…}}`, every text clipped
    /// to [`MAX_TEXT_CHARS`] (an error quoting a 20 MB argument need not repeat it).
    pub(crate) fn structured(&self) -> serde_json::Value {
        let mut data = (*self.0).clone();
        data.message = clip(&data.message);
        data.hint = data.hint.as_deref().map(clip);
        for cause in &mut data.causes {
            *cause = clip(cause);
        }
        for finding in &mut data.findings {
            finding.message = clip(&finding.message);
            finding.hint = finding.hint.as_deref().map(clip);
        }
        serde_json::json!({ "error": data })
    }

    /// The text of the failed call, in the CLI's shape: `error: …`, `caused by: …`, one
    /// line per finding, `hint: …`.
    pub(crate) fn text(&self) -> String {
        let mut text = format!("error: {}\n", clip(&self.message));
        for cause in &self.causes {
            text.push_str(&format!("caused by: {}\n", clip(cause)));
        }
        for finding in &self.findings {
            text.push_str(&format!("  {}\n", clip(&finding.line())));
        }
        if let Some(hint) = &self.hint {
            text.push_str(&format!("hint: {}\n", clip(hint)));
        }
        text
    }
}

/// The longest text an error shows, in characters.
const MAX_TEXT_CHARS: usize = 2000;

/// `text`, cut to [`MAX_TEXT_CHARS`] characters with a note of how much was left out.
fn clip(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => {
            format!("{}… ({} more bytes)", &text[..end], text.len() - end)
        }
    }
}

/// The hint for an invalid workflow.
const FIX_FINDINGS: &str =
    "fix every finding (each names its path) and check again with `workflow_validate`";

impl From<StoreError> for ToolError {
    fn from(e: StoreError) -> ToolError {
        let kind = match &e {
            StoreError::InvalidName(_) => "invalid_name",
            StoreError::InvalidWorkflow { .. } => "invalid_workflow",
            StoreError::WorkflowExists { .. } => "exists",
            StoreError::WorkflowNotFound { .. } => "not_found",
            StoreError::Conflict { .. } => "conflict",
            StoreError::RevisionNotFound { .. } => "revision_not_found",
            StoreError::HasCallers { .. } => "has_callers",
            StoreError::TooLarge { .. } => "too_large",
            StoreError::Corrupt { .. } => "corrupt",
            _ => "store",
        };
        let mut out = ToolError::chained(kind, &e);
        out.hint = store_hint(&e);
        match e {
            StoreError::WorkflowNotFound { suggestions, .. } => {
                out.suggestions = suggestions.iter().map(ToString::to_string).collect();
            }
            StoreError::InvalidWorkflow { diagnostics, .. } => {
                out.findings = Finding::all(&diagnostics);
            }
            _ => {}
        }
        out
    }
}

/// The hint for a store error, in this server's terms: the library's own hint, or one
/// naming the tool that helps with the thing at hand.
fn store_hint(e: &StoreError) -> Option<String> {
    let hint = match e {
        StoreError::InvalidWorkflow { .. } => FIX_FINDINGS.to_owned(),
        StoreError::WorkflowExists { name } => format!(
            "choose another name, or pass `force: true` to save it as a new revision of `{name}`"
        ),
        StoreError::WorkflowNotFound { suggestions, .. } if suggestions.is_empty() => {
            "call `workflow_list` to see the saved workflows".to_owned()
        }
        StoreError::Conflict { name, actual: Some(_), .. } => format!(
            "call `workflow_describe` with `{name}` to read its revision, reapply your change to \
             it and pass that revision as `expected_revision`"
        ),
        StoreError::RevisionNotFound { name, current, .. } => format!(
            "its revisions are numbered up to {current}; call `workflow_history` with `{name}` \
             to see the ones kept"
        ),
        StoreError::HasCallers { .. } => "change or delete the callers first, or pass `force: \
                                          true` to delete it anyway (the callers then fail until \
                                          it is saved again)"
            .to_owned(),
        StoreError::Corrupt { workflow: Some(name), .. } => format!(
            "repair the file by hand, or move it to the trash with `workflow_delete` and `name: \
             {name}`"
        ),
        other => return other.hint(),
    };
    Some(hint)
}

impl From<ExecError> for ToolError {
    fn from(e: ExecError) -> ToolError {
        let kind = match &e {
            ExecError::Inputs(_) => "invalid_inputs",
            ExecError::NodeFailed { .. } => "node_failed",
            ExecError::Output { .. } => "output",
            ExecError::Cancelled => "cancelled",
            _ => "run_failed",
        };
        let mut out = ToolError::chained(kind, &e);
        out.hint = match &e {
            ExecError::Inputs(inputs) => Some(format!(
                "{}; pass them in `parameters` (`workflow_describe` shows the interface)",
                inputs.hint()
            )),
            other => other.hint(),
        };
        if let ExecError::NodeFailed { chain, .. } = e {
            out.chain = chain;
        }
        out
    }
}

impl From<ContextError> for ToolError {
    fn from(e: ContextError) -> ToolError {
        match e {
            ContextError::UnknownNames(unknown) => {
                let mut out = ToolError::new("not_found", unknown.to_string()).hint(
                    "call `registry_list` for the node types and `workflow_list` for the saved \
                     workflows",
                );
                out.suggestions = unknown
                    .nodes
                    .iter()
                    .chain(&unknown.workflows)
                    .flat_map(|u| u.suggestions.iter().cloned())
                    .collect();
                out
            }
            ContextError::Unreadable { source, name } => {
                let mut out = ToolError::from(source);
                let message = out.message.clone();
                out.causes.insert(0, message);
                out.message = format!("failed to read saved workflow `{name}`");
                out
            }
            ContextError::List(source) => {
                let mut out = ToolError::from(source);
                let message = out.message.clone();
                out.causes.insert(0, message);
                out.message = "failed to list saved workflows".to_owned();
                out
            }
            other => ToolError::chained("context", &other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_clipped_short_ones_kept() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(MAX_TEXT_CHARS + 10);
        let clipped = clip(&long);
        assert!(clipped.starts_with(&"é".repeat(MAX_TEXT_CHARS)));
        assert!(clipped.ends_with("… (20 more bytes)"), "{clipped}");
        let e = ToolError::new("invalid_name", long.clone()).hint(long);
        assert!(e.text().len() < 3 * 4 * MAX_TEXT_CHARS);
        assert!(e.structured().to_string().len() < 3 * 4 * MAX_TEXT_CHARS);
    }
}
