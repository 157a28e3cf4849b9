//! `pflow workflow history`: the revisions of a saved workflow and what changed in each.

use clap::Args;
use pflow_ir::Timestamp;
use pflow_store::{RevisionSummary, WorkflowManager};

use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;

/// The longest description shown in a table, in characters.
const DESCRIPTION_WIDTH: usize = 40;

/// Show the revisions of a saved workflow: when each was saved and what changed
///
/// Every update keeps the revision it replaces. `pflow workflow show NAME --revision N`
/// shows one; `pflow workflow restore NAME --revision N` makes it the newest again.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The workflow's name
    name: String,
    /// Print a JSON array of revisions on stdout (number, time, description, changes)
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: HistoryArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let history = manager.history(&args.name)?;
    crate::commands::warn_skipped(out, &history.problems);
    let summaries = history.summaries();
    if args.json {
        let json = serde_json::to_string_pretty(&summaries).expect("summaries serialize to JSON");
        out.data(&json)?;
    } else {
        out.data(&table(&summaries))?;
    }
    Ok(exit::SUCCESS)
}

/// An aligned table with a header, oldest revision first; the current one is marked.
fn table(summaries: &[RevisionSummary]) -> String {
    let rows: Vec<[String; 4]> = summaries
        .iter()
        .map(|s| {
            let number = if s.current {
                format!("{} (current)", s.revision)
            } else {
                s.revision.to_string()
            };
            [number, to_seconds(s.time), first_line(&s.description), s.summary.clone()]
        })
        .collect();
    crate::table::render(["REVISION", "SAVED", "DESCRIPTION", "CHANGES"], &rows)
}

/// A time in a table: RFC 3339 to the second (`2025-01-29T10:00:00Z`), a fixed width.
pub(super) fn to_seconds(time: Timestamp) -> String {
    let text = time.to_string();
    match text.get(..19) {
        Some(seconds) if text.len() > 19 => format!("{seconds}Z"),
        _ => text,
    }
}

/// The first line of a description, cut to [`DESCRIPTION_WIDTH`] characters.
pub(super) fn first_line(description: &str) -> String {
    let line = description.lines().next().unwrap_or("").trim();
    if line.chars().count() <= DESCRIPTION_WIDTH {
        return line.to_owned();
    }
    let cut: String = line.chars().take(DESCRIPTION_WIDTH - 1).collect();
    format!("{}…", cut.trim_end())
}
