//! `pflow workflow`: save, list, show, delete and locate saved workflows; their history
//! and the trash; bundles to share them.
//!
//! Each subcommand lives in its own file under `workflow/`; this module only dispatches.
//! They all speak to the store through the
//! [`WorkflowManager`](pflow_store::WorkflowManager) that [`crate::store::open_manager`]
//! opens, so `--home` and `PFLOW_HOME` apply to all.

mod delete;
mod export;
mod history;
mod import;
mod list;
mod path;
mod restore;
mod save;
mod show;
mod trash;

use clap::{Args, Subcommand};

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::output::Output;

/// Save, list, show and delete workflows kept by name; see their history and the trash;
/// share them as bundles
#[derive(Debug, Args)]
pub(crate) struct WorkflowArgs {
    #[command(subcommand)]
    command: WorkflowCommand,
}

#[derive(Debug, Subcommand)]
enum WorkflowCommand {
    Save(save::SaveArgs),
    List(list::ListArgs),
    Show(show::ShowArgs),
    Delete(delete::DeleteArgs),
    Path(path::PathArgs),
    History(history::HistoryArgs),
    Restore(restore::RestoreArgs),
    Trash(trash::TrashArgs),
    Export(export::ExportArgs),
    Import(import::ImportArgs),
}

/// Runs a `pflow workflow` subcommand.
pub(crate) fn run(args: WorkflowArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    let manager = crate::store::open_manager(global)?;
    match args.command {
        WorkflowCommand::Save(args) => save::run(args, &manager, out),
        WorkflowCommand::List(args) => list::run(args, &manager, out),
        WorkflowCommand::Show(args) => show::run(args, &manager, out),
        WorkflowCommand::Delete(args) => delete::run(args, &manager, out),
        WorkflowCommand::Path(args) => path::run(args, &manager, out),
        WorkflowCommand::History(args) => history::run(args, &manager, out),
        WorkflowCommand::Restore(args) => restore::run(args, &manager, out),
        WorkflowCommand::Trash(args) => trash::run(args, &manager, out),
        WorkflowCommand::Export(args) => export::run(args, &manager, out),
        WorkflowCommand::Import(args) => import::run(args, &manager, out),
    }
}
