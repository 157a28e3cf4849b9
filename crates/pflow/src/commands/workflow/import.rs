//! `pflow workflow import`: the workflows of a bundle saved here, all checked before any
//! is written (SPEC §7.1).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use pflow_ir::{Diagnostic, Diagnostics};
use pflow_store::{
    Bundle, ImportAction, ImportOptions, MAX_BUNDLE_BYTES, OnConflict, StoreError, WorkflowManager,
};

use crate::commands::Outcome;
use crate::output::Output;
use crate::{exit, input};

/// Save the workflows of a bundle (from `pflow workflow export`) here
///
/// The whole bundle is checked before anything is written: every workflow valid, every
/// workflow it calls in the bundle or saved here, no call cycle. A workflow saved here
/// with the same content is left alone, so importing a bundle again changes nothing; one
/// with different content is a conflict (see `--on-conflict`). Nothing in the bundle is
/// run.
#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The bundle file; `-` reads stdin
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
    let hint = "a bundle holds JSON workflows; check that this is the right file";
    let bytes = input::read_bytes_within(&args.file, MAX_BUNDLE_BYTES, hint)?;
    let label = input::label(&args.file);
    let bundle = Bundle::from_json(&bytes)
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot import {label}")))?;
    let on_conflict = match args.on_conflict {
        ConflictArg::Fail => OnConflict::Fail,
        ConflictArg::Skip => OnConflict::Skip,
        ConflictArg::Update => OnConflict::Update,
    };
    let options = ImportOptions { on_conflict, dry_run: args.dry_run };
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
    Ok(exit::SUCCESS)
}

/// The findings of one workflow of a bundle, their paths naming it.
fn of_workflow(name: &str, diagnostics: &Diagnostics) -> Diagnostics {
    let named: Vec<Diagnostic> = diagnostics
        .iter()
        .map(|d| Diagnostic { path: format!("`{name}` {}", d.path), ..d.clone() })
        .collect();
    named.into()
}
