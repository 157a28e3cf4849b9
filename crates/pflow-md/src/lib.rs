//! Reads and writes `.pflow.md`, the markdown workflow format of pflow 0.16: a runbook
//! whose `## Steps` headings are nodes, `- key: value` lines their params and fenced
//! blocks their long params, with `## Inputs`, `## Outputs` and `## Cache` sections and,
//! in a saved workflow, a YAML front matter.
//!
//! [`parse`] gives the IR 0.16's parser gives (its keys starting with `_` aside) as a
//! JSON value, every mistake as a [`Finding`] with its line, and the line of every IR
//! path; [`write()`] turns an IR back into a `.pflow.md` that reads back to it. Pure: no
//! IO, no panics, bounded recursion (`docs/ir.md`, "The `.pflow.md` format").

mod build;
mod cache;
mod error;
mod pyfmt;
mod python;
mod scalar;
mod scan;
mod text;
mod write;
mod yaml;

use serde_json::{Map, Value};

pub use error::{WriteError, WriteResult};
pub use write::{WriteOptions, write};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file gives no workflow.
    Error,
    /// Probably a mistake; the workflow is read all the same.
    Warning,
}

/// One mistake in a `.pflow.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// The line it is at (1-based), when it is at one.
    pub line: Option<usize>,
    /// The JSON path of the IR it is about (`nodes[2].params.command`); empty for the
    /// whole workflow.
    pub path: String,
    /// What is wrong, lowercase, values in backticks.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Finding {
    pub(crate) fn error(message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            line: None,
            path: String::new(),
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn warning(message: impl Into<String>) -> Finding {
        Finding { severity: Severity::Warning, ..Finding::error(message) }
    }

    pub(crate) fn at_line(mut self, line: usize) -> Finding {
        self.line = Some(line);
        self
    }

    pub(crate) fn at_path(mut self, path: impl Into<String>) -> Finding {
        self.path = path.into();
        self
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

/// What a `.pflow.md` holds.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The IR (`inputs`, `nodes`, `edges`, `outputs`, `cache`), when there is no error
    /// finding. It has no `ir_version`: 0.16's loader adds it, and so does pflow's.
    pub ir: Option<Map<String, Value>>,
    /// The `#` heading.
    pub title: Option<String>,
    /// The prose between the `#` heading and the first `##` section.
    pub description: Option<String>,
    /// The YAML front matter of a saved workflow (`created_at`, `updated_at`, `version`).
    pub front_matter: Option<Map<String, Value>>,
    /// Every error and warning, in the order of the file.
    pub findings: Vec<Finding>,
    lines: Vec<(String, usize)>,
}

impl Parsed {
    /// Whether the file gave a workflow.
    pub fn is_ok(&self) -> bool {
        self.ir.is_some()
    }

    /// The line of an IR path: of the path itself or of the nearest enclosing one that has
    /// a line (`nodes[1].params.url.host` is at the line of `- url:` of the second step).
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some((_, line)) = self.lines.iter().find(|(p, _)| p == path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

/// Parses a `.pflow.md` file's text.
pub fn parse(text: &str) -> Parsed {
    let mut scanned = scan::scan(text);
    let mut lines = Vec::new();
    let mut findings = std::mem::take(&mut scanned.findings);
    let ir = build::build(&scanned, &mut findings, &mut lines);
    findings.sort_by_key(|f| f.line.unwrap_or(usize::MAX));
    let failed = findings.iter().any(|f| f.severity == Severity::Error);
    Parsed {
        ir: if failed { None } else { ir },
        title: scanned.title,
        description: scanned.description,
        front_matter: scanned.front_matter,
        findings,
        lines,
    }
}

/// Whether a file name is a `.pflow.md` workflow's.
pub fn is_pflow_md(name: &str) -> bool {
    name.ends_with(".pflow.md")
}
