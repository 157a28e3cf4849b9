//! `pflow workflow save`: validate a workflow file and keep it under a name.

use std::path::PathBuf;

use clap::Args;
use pflow_exec::WorkflowOrigin;
use pflow_ir::{Diagnostics, WorkflowIr, WorkflowName, WorkflowSource};
use pflow_store::{Location, StoreError, WorkflowManager};

use crate::commands::Outcome;
use crate::output::Output;
use crate::report::CliError;
use crate::{checks, exit, input};

/// Validate a workflow file and save it under a name
///
/// The file holds a bare IR or a stored document (as `workflow show --json` prints it).
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
    /// document; with `--force`, the saved one]
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
    let value = input::read_json(&args.file)?;
    let label = input::label(&args.file);

    // A stored document (as `show --json` prints it) is accepted too; its paths in
    // findings start with `ir.`, and its description is the default. The checks are
    // `validate`'s and `run`'s, with calls through the store checked from `name`.
    let source = WorkflowSource::from_value(&value);
    let origin = if input::is_stdin(&args.file) {
        WorkflowOrigin::Inline
    } else {
        WorkflowOrigin::File(args.file.clone())
    };
    let checked = checks::check(&source, Some(&name), &origin, Some(manager));
    out.diagnostics(&checked.diagnostics);
    let ir = match checked.ir {
        Some(ir) if !checked.diagnostics.has_errors() => ir,
        _ => return Err(not_saved(&name, &checked.diagnostics, &label)),
    };

    let description = args.description.or(source.description.map(str::to_owned));
    let saved = if args.force {
        replace(manager, &name, &ir, description, args.expect_revision)
    } else {
        manager
            .save(name.as_str(), &ir, description.as_deref().unwrap_or(""))
            .map(|location| Saved { revision: 1, location, changed: true })
    };
    match saved {
        Ok(Saved { revision, location, changed: true }) => {
            out.message(&format!("saved `{name}` (revision {revision}) to {location}"));
            Ok(exit::SUCCESS)
        }
        Ok(Saved { revision, location, changed: false }) => {
            out.message(&format!(
                "`{name}` is unchanged (revision {revision}) at {location}: same IR and description"
            ));
            Ok(exit::SUCCESS)
        }
        // The saved workflows it calls changed since the checks above (the manager checks
        // again under its lock). Its findings repeat the warnings printed above.
        Err(StoreError::InvalidWorkflow { diagnostics, .. }) => {
            let diagnostics = checks::within(source.path_prefix, diagnostics);
            let new: Diagnostics = diagnostics
                .iter()
                .filter(|d| !checked.diagnostics.iter().any(|seen| seen == *d))
                .cloned()
                .collect::<Vec<_>>()
                .into();
            out.diagnostics(&new);
            Err(not_saved(&name, &diagnostics, &label))
        }
        Err(e) => Err(e.into()),
    }
}

/// What a save did.
struct Saved {
    /// The revision the workflow is at now.
    revision: u64,
    /// Where it lives.
    location: Location,
    /// False when the content was the same and no revision was made.
    changed: bool,
}

/// Updates `name` from the revision it holds now (or `expected`), or creates it.
fn replace(
    manager: &WorkflowManager,
    name: &WorkflowName,
    ir: &WorkflowIr,
    description: Option<String>,
    expected: Option<u64>,
) -> Result<Saved, StoreError> {
    match manager.load(name.as_str()) {
        Ok(current) => {
            let description = description.unwrap_or(current.description);
            let expected = expected.unwrap_or(current.revision);
            let doc = manager.update(name.as_str(), ir, &description, expected)?;
            // An update with the same content makes no revision: the store hands back the
            // document at the revision we expected.
            let changed = doc.revision != expected;
            Ok(Saved { revision: doc.revision, location: manager.locate(name.as_str())?, changed })
        }
        Err(StoreError::WorkflowNotFound { .. }) if expected.is_none() => {
            let description = description.unwrap_or_default();
            match manager.save(name.as_str(), ir, &description) {
                Ok(location) => Ok(Saved { revision: 1, location, changed: true }),
                // Someone created it between our look and our write: theirs stays, and
                // the caller hears of the race as a conflict with "absent" (revision 0).
                Err(StoreError::WorkflowExists { name }) => {
                    let actual = manager.load(name.as_str()).map_or(1, |d| d.revision);
                    Err(StoreError::Conflict { name, expected: 0, actual })
                }
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// The final error after the findings were printed.
fn not_saved(name: &WorkflowName, diagnostics: &Diagnostics, label: &str) -> anyhow::Error {
    let errors = diagnostics.errors().count();
    let noun = if errors == 1 { "error" } else { "errors" };
    CliError::new(format!("workflow `{name}` was not saved: {errors} {noun} in {label}")).into()
}
