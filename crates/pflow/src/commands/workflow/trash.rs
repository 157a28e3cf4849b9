//! `pflow workflow trash`: list deleted workflows, bring one back, or delete them for
//! good.

use std::time::Duration;

use clap::{Args, Subcommand};
use pflow_ir::WorkflowName;
use pflow_store::{StoreError, TrashEntry, WorkflowManager};

use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;
use crate::report::CliError;

use super::history::{first_line, to_seconds};

/// Seconds in a day.
const DAY: u64 = 24 * 60 * 60;

/// List, restore or purge deleted workflows
///
/// `pflow workflow delete` moves a workflow, with its history, to the trash. The same
/// name may be there several times, once per delete.
#[derive(Debug, Args)]
pub(crate) struct TrashArgs {
    #[command(subcommand)]
    command: TrashCommand,
}

#[derive(Debug, Subcommand)]
enum TrashCommand {
    List(ListArgs),
    Restore(RestoreArgs),
    Purge(PurgeArgs),
}

/// List the workflows in the trash: name, when deleted, revision, description
///
/// Entries of one name are listed oldest first. Entries that cannot be read are reported
/// on stderr, one line each.
#[derive(Debug, Args)]
struct ListArgs {
    /// Print a JSON array of entries on stdout
    #[arg(long)]
    json: bool,
}

/// Bring the most recently deleted workflow of that name back, with its history
///
/// Refused while a workflow of that name is saved: delete or rename that one first.
#[derive(Debug, Args)]
struct RestoreArgs {
    /// The workflow's name
    name: String,
}

/// Delete workflows in the trash for good, with their history
///
/// Without NAME, every workflow in the trash (or, with `--older-than`, every one deleted
/// long enough ago). On a terminal it asks first; anywhere else it needs `--yes`.
#[derive(Debug, Args)]
struct PurgeArgs {
    /// Only the trashed workflows of this name
    name: Option<String>,
    /// Only those deleted more than DAYS days ago
    #[arg(long, value_name = "DAYS")]
    older_than: Option<u64>,
    /// Purge without asking
    #[arg(short, long)]
    yes: bool,
}

/// Runs a `pflow workflow trash` subcommand.
pub(super) fn run(args: TrashArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    match args.command {
        TrashCommand::List(args) => list(args, manager, out),
        TrashCommand::Restore(args) => restore(args, manager, out),
        TrashCommand::Purge(args) => purge(args, manager, out),
    }
}

fn list(args: ListArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let listing = manager.trash()?;
    crate::commands::warn_skipped(out, &listing.problems);
    if args.json {
        let json = serde_json::to_string_pretty(&listing.entries).expect("trash entries serialize");
        out.data(&json)?;
    } else if !listing.entries.is_empty() {
        out.data(&table(&listing.entries))?;
    }
    if listing.entries.is_empty() {
        out.message(&empty_trash_message(listing.problems.len()));
    }
    Ok(exit::SUCCESS)
}

fn restore(args: RestoreArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let doc = match manager.restore_trashed(&args.name) {
        Ok(doc) => doc,
        Err(e @ StoreError::WorkflowExists { .. }) => {
            let hint = format!(
                "a saved workflow has that name: delete it first (`pflow workflow delete {}` \
                 moves it to the trash too), then restore",
                args.name
            );
            return Err(CliError::new(e.to_string()).hint(hint).into());
        }
        Err(e) => return Err(e.into()),
    };
    out.message(&format!(
        "restored `{}` (revision {}) from the trash, with its history",
        doc.name, doc.revision
    ));
    Ok(exit::SUCCESS)
}

fn purge(args: PurgeArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    // A bad name is refused before anything is asked.
    let name = args.name.as_deref().map(WorkflowName::new).transpose()?;
    let older_than = args.older_than.map(|days| Duration::from_secs(days.saturating_mul(DAY)));
    let mut what = match &name {
        Some(name) => format!("the trashed workflows named `{name}`"),
        None => "every workflow in the trash".to_owned(),
    };
    if let Some(days) = args.older_than {
        what.push_str(&format!(" deleted more than {days} days ago"));
    }
    let question = format!("Delete {what} for good? [y/N]");
    if !args.yes && !super::delete::confirm(&question, "purge the trash", "purge", out)? {
        out.message("kept the trash as it is");
        return Ok(exit::SUCCESS);
    }
    let purged = manager.purge(name.as_ref().map(WorkflowName::as_str), older_than)?;
    match purged.len() {
        0 => out.message("nothing to purge"),
        1 => out.message("purged 1 workflow from the trash"),
        n => out.message(&format!("purged {n} workflows from the trash")),
    }
    Ok(exit::SUCCESS)
}

/// What `trash list` says when it lists no entry: the trash is empty only when nothing
/// was skipped either.
fn empty_trash_message(unreadable: usize) -> String {
    match unreadable {
        0 => "the trash is empty".to_owned(),
        1 => "no readable entry in the trash: 1 entry could not be read".to_owned(),
        n => format!("no readable entry in the trash: {n} entries could not be read"),
    }
}

/// An aligned table with a header: name, deletion time, revision, description.
fn table(entries: &[TrashEntry]) -> String {
    let rows: Vec<[String; 4]> = entries
        .iter()
        .map(|e| {
            [
                e.name.to_string(),
                to_seconds(e.deleted_at),
                e.revision.to_string(),
                first_line(&e.description),
            ]
        })
        .collect();
    crate::table::render(["NAME", "DELETED", "REVISION", "DESCRIPTION"], &rows)
}

#[cfg(test)]
mod tests {
    use super::empty_trash_message;

    #[track_caller]
    fn check(unreadable: usize, expected: &str) {
        assert_eq!(empty_trash_message(unreadable), expected);
    }

    #[test]
    fn an_empty_listing_says_whether_entries_were_skipped() {
        check(0, "the trash is empty");
        check(1, "no readable entry in the trash: 1 entry could not be read");
        check(3, "no readable entry in the trash: 3 entries could not be read");
    }
}
