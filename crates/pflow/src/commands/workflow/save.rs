//! `pflow workflow save`: validate a workflow file and keep it under a name.

use std::path::PathBuf;

use clap::Args;
use pflow_ir::{Diagnostics, WorkflowName, WorkflowSource};
use pflow_store::{SaveMode, SaveOutcome, Saved, StoreError, WorkflowManager};

use crate::commands::Outcome;
use crate::output::Output;
use crate::report::CliError;
use crate::{exit, input};

/// Validate a workflow file and save it under a name
///
/// The file holds a bare IR or a stored document (as `workflow show --json` prints it) in
/// JSON, or is a `.pflow.md` (pflow 0.16's format).
/// An invalid workflow is never saved: every problem is printed with its path.
#[derive(Debug, Args)]
pub(crate) struct SaveArgs {
    /// The workflow file; `-` reads stdin
    #[arg(value_name = "FILE|-")]
    file: PathBuf,
    /// The name to keep it under: lowercase words joined by dashes (`fix-issue`)
    #[arg(long)]
    name: String,
    /// What the workflow does [default: the file's description when it is a stored
    /// document, a `.pflow.md`'s prose under its `#` heading; with `--force`, the saved
    /// one]
    #[arg(long, value_name = "TEXT")]
    description: Option<String>,
    /// Replace a saved workflow of that name with a new revision (a change made by
    /// someone else meanwhile is reported as a conflict, never overwritten)
    #[arg(long)]
    force: bool,
    /// With `--force`: replace only if the saved revision is still N (for scripts doing
    /// read-modify-write; see `workflow show --json`)
    #[arg(long, value_name = "N", requires = "force")]
    expect_revision: Option<u64>,
}

pub(super) fn run(args: SaveArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    // The name first: a bad name is refused before any file is read or written.
    let name = WorkflowName::new(&args.name)?;
    let file = input::workflow(&args.file, out)?;
    let label = input::label(&args.file);

    // A stored document (as `show --json` prints it) is accepted too; its paths in
    // findings start with `ir.`, and its description is the default. The checks are
    // `validate`'s and `run`'s, with calls through the store checked from `name`.
    let checked = file.locate(manager.check(&file.value, &input::origin(&args.file), Some(&name)));
    out.diagnostics(checked.diagnostics());
    let seen = checked.diagnostics().clone();
    let ir = match checked.into_valid() {
        Ok((ir, _warnings)) => ir,
        Err(diagnostics) => return Err(not_saved(&name, &diagnostics, &label)),
    };

    let description = args.description.or_else(|| file.description.clone());
    let mode = if args.force {
        SaveMode::Replace { expected_revision: args.expect_revision }
    } else {
        SaveMode::New
    };
    match manager.save(name.as_str(), &ir, description.as_deref(), mode) {
        Ok(Saved { outcome: SaveOutcome::Unchanged, document, location }) => {
            out.message(&format!(
                "`{name}` is unchanged (revision {}) at {location}: same IR and description",
                document.revision
            ));
            Ok(exit::SUCCESS)
        }
        Ok(Saved { document, location, .. }) => {
            out.message(&format!("saved `{name}` (revision {}) to {location}", document.revision));
            Ok(exit::SUCCESS)
        }
        // The saved workflows it calls changed since the checks above (the manager checks
        // again inside the transaction that writes). Only what is new is printed.
        Err(StoreError::InvalidWorkflow { diagnostics, .. }) => {
            let prefix = WorkflowSource::from_value(&file.value).path_prefix;
            let diagnostics = diagnostics.within(prefix).locate(|path| file.line_of(path));
            let new: Diagnostics = diagnostics
                .iter()
                .filter(|d| !seen.iter().any(|s| s == *d))
                .cloned()
                .collect::<Vec<_>>()
                .into();
            out.diagnostics(&new);
            Err(not_saved(&name, &diagnostics, &label))
        }
        Err(e) => Err(e.into()),
    }
}

/// The final error after the findings were printed.
fn not_saved(name: &WorkflowName, diagnostics: &Diagnostics, label: &str) -> anyhow::Error {
    let errors = diagnostics.errors().count();
    let noun = if errors == 1 { "error" } else { "errors" };
    CliError::new(format!("workflow `{name}` was not saved: {errors} {noun} in {label}")).into()
}
