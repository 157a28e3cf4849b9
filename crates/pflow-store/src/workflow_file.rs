//! Workflow files: the one reader of a workflow a person or an agent hands pflow by path
//! (`pflow run FILE`, `validate`, `workflow save`, MCP's `workflow` argument, a
//! `workflow_ref`), in either format — JSON (a bare IR or a stored document) or pflow
//! 0.16's `.pflow.md` — as the JSON value validation takes.

use std::path::{Path, PathBuf};

use pflow_fsio::{ReadFileError, read_regular_file_follow};
use pflow_ir::{Checked, Diagnostic, Diagnostics, Document, JsonError, WorkflowSource};
use serde_json::{Map, Value};

use crate::MAX_DOCUMENT_BYTES;

/// The IR version a `.pflow.md` stands for: 0.16 writes none and its loader adds this one.
const MD_IR_VERSION: &str = "0.1.0";

/// Why a workflow file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowFileError {
    /// It could not be read (missing, not a regular file, too large, …).
    #[error("cannot read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: ReadFileError,
    },
    /// It is not JSON.
    #[error("`{}` is not valid JSON", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Where and why parsing stopped.
        #[source]
        source: JsonError,
    },
    /// It is a `.pflow.md` that gives no workflow: every mistake, each with its line.
    #[error("`{}` is not a valid .pflow.md: {}", path.display(), first_error(findings))]
    Markdown {
        /// The file.
        path: PathBuf,
        /// Every finding of the parse, errors and warnings, in the order of the file.
        findings: Diagnostics,
    },
}

impl WorkflowFileError {
    /// The findings of a `.pflow.md` that gives no workflow, to show all at once.
    pub fn findings(&self) -> Option<&Diagnostics> {
        match self {
            WorkflowFileError::Markdown { findings, .. } => Some(findings),
            _ => None,
        }
    }
}

/// `line 3: the first error` (and how many more), for a one-line message.
fn first_error(findings: &Diagnostics) -> String {
    let errors: Vec<&Diagnostic> = findings.errors().collect();
    match errors.as_slice() {
        [] => "no workflow in it".to_owned(),
        [only] => only.to_string(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}

/// The format of a workflow file, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkflowFormat {
    /// JSON: a bare IR or a stored document.
    Json,
    /// pflow 0.16's markdown runbook, `NAME.pflow.md`.
    PflowMd,
}

impl WorkflowFormat {
    /// The format of the file at `path`: `.pflow.md` by that ending, JSON otherwise.
    pub fn of(path: &Path) -> WorkflowFormat {
        let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        if pflow_md::is_pflow_md(&name) { WorkflowFormat::PflowMd } else { WorkflowFormat::Json }
    }
}

/// A workflow file, read: the JSON value validation takes, what the file says about the
/// workflow, and for a `.pflow.md` the line of each IR path.
#[derive(Debug, Clone)]
pub struct WorkflowFile {
    /// A bare IR or a stored document, as [`WorkflowSource`] reads it.
    pub value: Value,
    /// The workflow's description: a document's `description`, or the prose under a
    /// `.pflow.md`'s `#` heading.
    pub description: Option<String>,
    /// The workflow's name as the file gives it: a document's `name` (a `.pflow.md` names
    /// no workflow; its file name does).
    pub name: Option<String>,
    /// The parse of a `.pflow.md`: its warnings and the line of each IR path.
    markdown: Option<pflow_md::Parsed>,
}

impl WorkflowFile {
    /// The file's text, read as `format`. `path` names the file in errors.
    pub fn parse(
        path: &Path,
        bytes: &[u8],
        format: WorkflowFormat,
    ) -> Result<WorkflowFile, WorkflowFileError> {
        match format {
            WorkflowFormat::Json => {
                let value = pflow_ir::parse_json(bytes).map_err(|source| {
                    WorkflowFileError::Json { path: path.to_path_buf(), source }
                })?;
                let source = WorkflowSource::from_value(&value);
                let description = source.description.map(str::to_owned);
                let name = source.name.map(str::to_owned);
                Ok(WorkflowFile { value, description, name, markdown: None })
            }
            WorkflowFormat::PflowMd => parse_markdown(path, bytes),
        }
    }

    /// Whether it was a `.pflow.md`.
    pub fn is_markdown(&self) -> bool {
        self.markdown.is_some()
    }

    /// `checked` (the manager's check of [`WorkflowFile::value`]) with, for a
    /// `.pflow.md`, the parse's warnings added and every finding at the line of the step,
    /// param or section it is about.
    pub fn locate(&self, mut checked: Checked) -> Checked {
        let Some(parsed) = &self.markdown else { return checked };
        checked.add(findings(parsed));
        checked.locate(|path| parsed.line_of(path))
    }

    /// The YAML front matter of a `.pflow.md` (a saved one's `created_at`, `updated_at`,
    /// `version`).
    pub fn front_matter(&self) -> Option<&Map<String, Value>> {
        self.markdown.as_ref()?.front_matter.as_ref()
    }

    /// The line of the file an IR path is at (a `.pflow.md`'s only).
    pub fn line_of(&self, path: &str) -> Option<usize> {
        self.markdown.as_ref()?.line_of(path)
    }
}

/// Reads the workflow file at `path`, in the format its name says ([`WorkflowFormat::of`]).
/// The file is read like every file pflow is handed: only a regular file (symbolic links
/// followed), at most [`MAX_DOCUMENT_BYTES`], nesting bounded.
pub fn read_workflow_file(path: &Path) -> Result<WorkflowFile, WorkflowFileError> {
    let bytes = read_regular_file_follow(path, MAX_DOCUMENT_BYTES)
        .map_err(|source| WorkflowFileError::Read { path: path.to_path_buf(), source })?;
    WorkflowFile::parse(path, &bytes, WorkflowFormat::of(path))
}

/// A saved workflow as pflow 0.16 keeps one in its library (`NAME/NAME.pflow.md`): a
/// front matter of `created_at`, `updated_at` and `version`, the name as its `#` title,
/// the description as the prose under it, then the IR. It reads back to the same IR
/// ([`WorkflowFile::parse`]).
pub fn document_to_pflow_md(doc: &Document) -> Result<String, pflow_md::WriteError> {
    let Value::Object(ir) = serde_json::to_value(&doc.ir).expect("an IR serializes to JSON") else {
        unreachable!("an IR serializes to a JSON object")
    };
    let mut front = Map::with_capacity(3);
    front.insert("created_at".to_owned(), Value::String(doc.created_at.to_string()));
    front.insert("updated_at".to_owned(), Value::String(doc.updated_at.to_string()));
    front.insert("version".to_owned(), Value::String(doc.version.clone()));
    let options = pflow_md::WriteOptions {
        title: Some(doc.name.as_str()),
        description: Some(doc.description.as_str()).filter(|d| !d.is_empty()),
        front_matter: Some(&front),
    };
    pflow_md::write(&ir, &options)
}

/// Whether `text`, a workflow as a person or an agent names it (`pflow run WORKFLOW`, a
/// tool's `workflow` argument), is a file rather than a saved name: it names an existing
/// file, contains `/`, or ends in `.json` or `.pflow.md`. Anything else is a saved
/// workflow's name.
pub fn names_a_file(text: &str) -> bool {
    text.contains('/')
        || text.ends_with(".json")
        || pflow_md::is_pflow_md(text)
        || Path::new(text).is_file()
}

fn parse_markdown(path: &Path, bytes: &[u8]) -> Result<WorkflowFile, WorkflowFileError> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        let finding = Diagnostic::error("", "the file is not UTF-8 text")
            .with_hint("save it as UTF-8; a .pflow.md is a markdown text file");
        let findings = vec![finding].into();
        return Err(WorkflowFileError::Markdown { path: path.to_path_buf(), findings });
    };
    let parsed = pflow_md::parse(text);
    let Some(ir) = &parsed.ir else {
        return Err(WorkflowFileError::Markdown {
            path: path.to_path_buf(),
            findings: findings(&parsed),
        });
    };
    let mut value = Map::with_capacity(ir.len() + 1);
    value.insert("ir_version".to_owned(), Value::String(MD_IR_VERSION.to_owned()));
    value.extend(ir.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(WorkflowFile {
        value: Value::Object(value),
        description: parsed.description.clone().filter(|d| !d.is_empty()),
        name: None,
        markdown: Some(parsed),
    })
}

/// A `.pflow.md`'s findings as validation findings.
fn findings(parsed: &pflow_md::Parsed) -> Diagnostics {
    let mut out = Diagnostics::new();
    for f in &parsed.findings {
        let mut d = match f.severity {
            pflow_md::Severity::Error => Diagnostic::error(f.path.clone(), f.message.clone()),
            pflow_md::Severity::Warning => Diagnostic::warning(f.path.clone(), f.message.clone()),
        };
        if let Some(hint) = &f.hint {
            d = d.with_hint(hint.clone());
        }
        if let Some(line) = f.line {
            d = d.at_line(line);
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(text: &str) -> Result<WorkflowFile, WorkflowFileError> {
        WorkflowFile::parse(Path::new("t.pflow.md"), text.as_bytes(), WorkflowFormat::PflowMd)
    }

    #[test]
    fn a_pflow_md_is_a_bare_ir_with_the_version_0_16_adds_and_its_description() {
        let file = md(
            "# Greet\n\nSays hi.\n\n## Steps\n\n### hi\n\nSay hi.\n\n- type: echo\n- message: hi\n",
        )
        .unwrap();
        assert_eq!(file.value["ir_version"], "0.1.0");
        assert_eq!(file.value["nodes"][0]["id"], "hi");
        assert_eq!(file.description.as_deref(), Some("Says hi."));
        assert!(file.is_markdown());
    }

    #[test]
    fn a_broken_pflow_md_gives_every_finding_with_its_line() {
        let error =
            md("# T\n\n## Steps\n\n### a\n\n- type: echo\n\n### a\n\n- type: echo\n").unwrap_err();
        let findings = error.findings().expect("markdown findings");
        assert!(findings.has_errors());
        assert!(findings.errors().all(|d| d.line.is_some()), "{findings:?}");
        assert!(error.to_string().starts_with("`t.pflow.md` is not a valid .pflow.md: line "));
        let not_text =
            WorkflowFile::parse(Path::new("t.pflow.md"), b"\xff\xfe", WorkflowFormat::PflowMd)
                .unwrap_err();
        assert!(not_text.to_string().contains("not UTF-8"), "{not_text}");
    }

    #[test]
    fn the_format_is_the_name_s() {
        assert_eq!(WorkflowFormat::of(Path::new("a/b.pflow.md")), WorkflowFormat::PflowMd);
        assert_eq!(WorkflowFormat::of(Path::new("b.json")), WorkflowFormat::Json);
        assert_eq!(WorkflowFormat::of(Path::new("README.md")), WorkflowFormat::Json);
        assert!(names_a_file("flow.pflow.md") && names_a_file("flow.json"));
        assert!(!names_a_file("flow"));
    }
}
