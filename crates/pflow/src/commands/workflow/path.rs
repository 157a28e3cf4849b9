//! `pflow workflow path`: where a saved workflow is stored.

use clap::Args;
use pflow_store::WorkflowManager;

use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;

/// Print where a saved workflow is stored (a file path for the default store)
#[derive(Debug, Args)]
pub(crate) struct PathArgs {
    /// The workflow's name
    name: String,
}

pub(super) fn run(args: PathArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    out.data(&manager.locate_saved(&args.name)?.to_string())?;
    Ok(exit::SUCCESS)
}
