//! `pflow workflow import`: the workflows of a bundle saved here, all checked before any
//! is written (SPEC §7.1).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pflow_ir::{Diagnostic, Diagnostics};
use pflow_store::{
    Bundle, ImportAction, ImportOptions, ImportReport, MAX_BUNDLE_BYTES, OnConflict, StoreError,
    WorkflowManager,
};

use crate::commands::Outcome;
use crate::output::Output;
use crate::report::CliError;
use crate::{exit, input};

/// Save the workflows of a bundle (from `pflow workflow export`), or of a pflow 0.16 home,
/// here
///
/// A directory with a `workflows` folder is a pflow 0.16 home (`~/.pflow`): each
/// `workflows/NAME/NAME.pflow.md` is imported under NAME with its description and its
/// front matter's times; one that does not read or check is reported with its lines and
/// does not hold up the others (exit 1 when any was left out).
///
/// The whole bundle is checked before anything is written: every workflow valid, every
/// workflow it calls in the bundle or saved here, no call cycle. A workflow saved here
/// with the same content is left alone, so importing a bundle again changes nothing; one
/// with different content is a conflict (see `--on-conflict`). Nothing in the bundle is
/// run.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The bundle file (`-` reads stdin), or a pflow 0.16 home directory
    #[arg(value_name = "FILE|-")]
    file: PathBuf,
    /// What to do with a workflow saved here with different content: `fail` imports
    /// nothing and lists them, `skip` leaves them as they are, `update` makes the bundle's
    /// content their new revision (the history keeps the old one)
    #[arg(long, value_enum, default_value_t = ConflictArg::Fail, value_name = "POLICY")]
    on_conflict: ConflictArg,
    /// Check everything and say what would be done, writing nothing
    #[arg(long)]
    dry_run: bool,
}

/// `--on-conflict`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConflictArg {
    /// Import nothing and list the conflicts
    Fail,
    /// Leave the saved workflow as it is
    Skip,
    /// Make the bundle's content a new revision
    Update,
}

pub(super) fn run(args: ImportArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let options = ImportOptions { on_conflict: args.on_conflict.policy(), dry_run: args.dry_run };
    if pflow_store::is_pflow016_home(&args.file) {
        return import_home(&args, options, manager, out);
    }
    let hint = "a bundle holds JSON workflows; check that this is the right file";
    let bytes = input::read_bytes_within(&args.file, MAX_BUNDLE_BYTES, hint)?;
    let label = input::label(&args.file);
    let bundle = Bundle::from_json(&bytes)
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot import {label}")))?;
    let report = match manager.import(&bundle, options) {
        Ok(report) => report,
        Err(StoreError::InvalidBundle { workflows }) => {
            for (name, diagnostics) in &workflows {
                out.diagnostics(&of_workflow(name.as_str(), diagnostics));
            }
            return Err(StoreError::InvalidBundle { workflows }.into());
        }
        Err(e) => return Err(e.into()),
    };
    print_report(&report, &label, out);
    Ok(exit::SUCCESS)
}

/// Imports the library of a pflow 0.16 home: each workflow that does not read or check is
/// reported with its findings and leaves the others to be imported.
fn import_home(
    args: &ImportArgs,
    options: ImportOptions,
    manager: &WorkflowManager,
    out: &Output,
) -> Outcome {
    let label = input::label(&args.file);
    let imported = manager.import_pflow016_home(&args.file, options)?;
    for (name, findings) in &imported.refused {
        out.diagnostics(&of_workflow(name, findings));
        let errors = findings.errors().count().max(1);
        let noun = if errors == 1 { "error" } else { "errors" };
        out.message(&format!("`{name}` not imported: {errors} {noun}"));
    }
    print_report(&imported.report, &label, out);
    if imported.refused.is_empty() {
        return Ok(exit::SUCCESS);
    }
    let n = imported.refused.len();
    Err(CliError::new(format!(
        "{n} workflow{} of the pflow 0.16 home {label} could not be imported",
        if n == 1 { "" } else { "s" }
    ))
    .hint("fix the problems above (each names its line) and import again; what was imported stays")
    .into())
}

/// What an import did, workflow by workflow, then a summary.
fn print_report(report: &ImportReport, label: &str, out: &Output) {
    let would = if report.dry_run { "would be " } else { "" };
    let (mut created, mut updated, mut unchanged, mut skipped) = (0, 0, 0, 0);
    for imported in &report.workflows {
        let name = &imported.name;
        match imported.action {
            ImportAction::Created { revision, kept: 0 } => {
                created += 1;
                out.message(&format!("`{name}` {would}created (revision {revision})"));
            }
            ImportAction::Created { revision, kept } => {
                created += 1;
                let noun = if kept == 1 { "revision" } else { "revisions" };
                out.message(&format!(
                    "`{name}` {would}created (revision {revision}, with {kept} kept {noun})"
                ));
            }
            ImportAction::Updated { revision } => {
                updated += 1;
                out.message(&format!(
                    "`{name}` {would}updated to revision {revision} (its history keeps revision \
                     {})",
                    revision - 1
                ));
            }
            ImportAction::Unchanged => {
                unchanged += 1;
                out.detail(&format!("`{name}` is saved with the same content"));
            }
            ImportAction::Skipped => {
                skipped += 1;
                out.message(&format!(
                    "`{name}` {would}skipped: it is saved here with different content"
                ));
            }
        }
    }
    let summary =
        format!("{created} created, {updated} updated, {unchanged} unchanged, {skipped} skipped");
    if report.dry_run {
        out.message(&format!("dry run, nothing written: {summary}"));
    } else {
        out.message(&format!("imported {label}: {summary}"));
    }
}

impl ConflictArg {
    /// The store's policy.
    fn policy(self) -> OnConflict {
        match self {
            ConflictArg::Fail => OnConflict::Fail,
            ConflictArg::Skip => OnConflict::Skip,
            ConflictArg::Update => OnConflict::Update,
        }
    }
}

/// The findings of one workflow of a bundle, their paths naming it.
fn of_workflow(name: &str, diagnostics: &Diagnostics) -> Diagnostics {
    let named: Vec<Diagnostic> = diagnostics
        .iter()
        .map(|d| Diagnostic { path: format!("`{name}` {}", d.path), ..d.clone() })
        .collect();
    named.into()
}
