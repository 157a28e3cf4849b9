//! A Python pflow (0.16) home brought over: its library is `workflows/NAME/NAME.pflow.md`,
//! each file with a front matter of `created_at`, `updated_at` and `version`. Every
//! workflow that reads and validates is imported with its name, description and times,
//! through [`WorkflowManager::import`] (so every check of a bundle holds: valid, calls
//! resolved, no cycle, all written in one transaction); each one that does not is
//! reported with its findings and does not hold up the others.

use std::path::Path;

use pflow_ir::{Diagnostic, Diagnostics, Document, Timestamp, WorkflowIr, WorkflowName};
use serde::Deserialize;
use serde_json::Value;

use crate::bundle::{Bundle, BundledWorkflow};
use crate::{
    ImportOptions, ImportReport, StoreError, StoreResult, WorkflowFileError, WorkflowManager,
    one_line, read_workflow_file,
};

/// The directory of a 0.16 home that holds its library.
const LIBRARY: &str = "workflows";

/// What importing a 0.16 home did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyImport {
    /// The import of every workflow that could be imported.
    pub report: ImportReport,
    /// Each workflow that was not, by the name of its directory, with why (each finding
    /// at its line), in name order.
    pub refused: Vec<(String, Diagnostics)>,
}

/// Whether `dir` looks like a pflow 0.16 home: it has a `workflows` directory.
pub fn is_pflow016_home(dir: &Path) -> bool {
    dir.join(LIBRARY).is_dir()
}

impl WorkflowManager {
    /// Imports the library of the pflow 0.16 home `dir` (see the module's documentation);
    /// `options` as for [`WorkflowManager::import`]. Importing the same home again
    /// changes nothing.
    pub fn import_pflow016_home(
        &self,
        dir: &Path,
        options: ImportOptions,
    ) -> StoreResult<LegacyImport> {
        let (mut workflows, mut refused) = read_home(dir)?;
        // An import that finds invalid workflows writes nothing and names them: leave them
        // out and import the rest, until it passes (a workflow refused can make one that
        // calls it refused in turn).
        loop {
            match self.import(&Bundle::of_workflows(workflows.clone()), options) {
                Ok(report) => {
                    refused.sort_by(|a, b| a.0.cmp(&b.0));
                    return Ok(LegacyImport { report, refused });
                }
                Err(StoreError::InvalidBundle { workflows: invalid }) => {
                    workflows.retain(|w| !invalid.iter().any(|(name, _)| name == w.name()));
                    refused.extend(
                        invalid.into_iter().map(|(name, d)| (name.to_string(), unprefixed(d))),
                    );
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// The findings of an import, whose paths start with `ir.`, as paths of the file's IR.
fn unprefixed(diagnostics: Diagnostics) -> Diagnostics {
    let moved: Vec<Diagnostic> = diagnostics
        .into_iter()
        .map(|d| match d.path.strip_prefix("ir.").or(d.path.strip_prefix("ir")) {
            Some(path) => Diagnostic { path: path.to_owned(), ..d },
            None => d,
        })
        .collect();
    moved.into()
}

/// Workflows that were not imported, by the name of their directory, with why.
type Refused = Vec<(String, Diagnostics)>;

/// The front matter's times, as 0.16 writes them.
#[derive(Debug, Default, Deserialize)]
struct FrontMatter {
    created_at: Option<String>,
    updated_at: Option<String>,
}

/// Every workflow of the home's library that reads as one, and every one that does not.
fn read_home(dir: &Path) -> StoreResult<(Vec<BundledWorkflow>, Refused)> {
    let library = dir.join(LIBRARY);
    let io = |source| StoreError::Io { action: "read", path: library.clone(), source };
    let entries = std::fs::read_dir(&library).map_err(io)?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io)?;
        // Directories only (a link is not followed); 0.16 keeps nothing else there.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    let now = Timestamp::now();
    let mut workflows = Vec::with_capacity(names.len());
    let mut refused = Vec::new();
    for dir_name in names {
        match read_one(&library, &dir_name, now) {
            Ok(workflow) => workflows.push(workflow),
            Err(findings) => refused.push((dir_name, findings)),
        }
    }
    Ok((workflows, refused))
}

/// The workflow in `library/NAME/NAME.pflow.md`, or why it cannot be one.
fn read_one(
    library: &Path,
    dir_name: &str,
    now: Timestamp,
) -> Result<BundledWorkflow, Diagnostics> {
    let one = |message: String, hint: &str| -> Diagnostics {
        vec![Diagnostic::error("", message).with_hint(hint)].into()
    };
    let name = WorkflowName::new(dir_name).map_err(|e| {
        one(
            e.to_string(),
            "rename the directory and its file to a name pflow accepts, then import again",
        )
    })?;
    let path = library.join(dir_name).join(format!("{dir_name}.pflow.md"));
    let file = read_workflow_file(&path).map_err(|e| match e {
        WorkflowFileError::Markdown { findings, .. } => findings,
        other => {
            one(one_line(&other), "0.16 keeps each workflow as `workflows/NAME/NAME.pflow.md`")
        }
    })?;
    let ir = WorkflowIr::deserialize(&file.value)
        .map_err(|e| one(format!("not a workflow: {e}"), "check it with `pflow validate FILE`"))?;
    let front: FrontMatter = file
        .front_matter()
        .and_then(|f| serde_json::from_value(Value::Object(f.clone())).ok())
        .unwrap_or_default();
    let time = |text: Option<&String>| text.and_then(|t| Timestamp::parse(t).ok());
    let created = time(front.created_at.as_ref()).unwrap_or(now);
    let updated = time(front.updated_at.as_ref()).filter(|u| *u >= created).unwrap_or(created);
    let mut document =
        Document::new(name, file.description.clone().unwrap_or_default(), ir, created);
    document.updated_at = updated;
    Ok(BundledWorkflow::of_document(document))
}
