//! `pflow workflow restore`: make an earlier revision of a saved workflow the newest.

use clap::Args;
use pflow_store::{SaveOutcome, WorkflowManager};

use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;

/// Make an earlier revision of a saved workflow its newest revision
///
/// The content (IR and description) of revision N is saved as a new revision; no revision
/// is removed, so a restore can itself be undone the same way. Restoring the content the
/// workflow already has changes nothing. For a workflow in the trash, see
/// `pflow workflow trash restore`.
#[derive(Debug, Args)]
pub(crate) struct RestoreArgs {
    /// The workflow's name
    name: String,
    /// The revision to bring back (see `pflow workflow history NAME`)
    #[arg(long, value_name = "N")]
    revision: u64,
    /// Restore only if the current revision is still M (a change made meanwhile is
    /// reported as a conflict)
    #[arg(long, value_name = "M")]
    expect_revision: Option<u64>,
}

pub(super) fn run(args: RestoreArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let name = args.name.as_str();
    let saved = manager.restore_revision(name, args.revision, args.expect_revision)?;
    let revision = saved.document.revision;
    if saved.outcome == SaveOutcome::Unchanged {
        out.message(&format!(
            "`{name}` already has the content of revision {} (revision {revision}): nothing \
             changed",
            args.revision
        ));
    } else {
        out.message(&format!(
            "restored revision {} of `{name}` as revision {revision}",
            args.revision
        ));
    }
    Ok(exit::SUCCESS)
}
