//! `pflow workflow list`: the saved workflows, as a table or as JSON.

use clap::Args;
use pflow_store::{InputSummary, Summary, WorkflowManager};

use crate::commands::Outcome;
use crate::exit;
use crate::output::{Output, Style};

/// The longest description shown in the table, in characters; `show` prints it whole.
const DESCRIPTION_WIDTH: usize = 60;

/// List saved workflows: name, description and inputs
///
/// Entries that cannot be read are reported on stderr, one line each, and skipped; they
/// never make the listing fail or spoil its JSON.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Show only workflows whose name or description contains every word (any case)
    #[arg(value_name = "FILTER")]
    filter: Vec<String>,
    /// Print a JSON array of summaries on stdout
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: ListArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let listing = manager.list_all()?;
    crate::commands::warn_skipped(out, &listing.problems);
    let shown: Vec<&Summary> = listing
        .workflows
        .iter()
        .filter(|s| pflow_context::matches_words(s, &args.filter))
        .collect();

    if args.json {
        let json = serde_json::to_string_pretty(&shown).expect("summaries serialize to JSON");
        out.data(&json)?;
    } else if !shown.is_empty() {
        out.data(&table(&shown))?;
    }
    if shown.is_empty() {
        if listing.workflows.is_empty() && !listing.problems.is_empty() {
            let n = listing.problems.len();
            let entries = if n == 1 { "entry" } else { "entries" };
            out.message(&format!("no readable saved workflow: {n} {entries} could not be read"));
        } else if listing.workflows.is_empty() {
            out.message("no saved workflows yet");
            let hint = out.paint(Style::Hint, "hint:");
            out.message(&format!("{hint} save one with `pflow workflow save FILE --name NAME`"));
        } else {
            out.message(&format!(
                "no saved workflow matches `{}` ({} saved)",
                args.filter.join(" "),
                listing.workflows.len()
            ));
        }
    }
    Ok(exit::SUCCESS)
}

/// An aligned table with a header: name, first line of the description, inputs.
fn table(summaries: &[&Summary]) -> String {
    let rows: Vec<[String; 3]> = summaries
        .iter()
        .map(|s| [s.name.to_string(), short_description(&s.description), inputs(&s.inputs)])
        .collect();
    crate::table::render(["NAME", "DESCRIPTION", "INPUTS"], &rows)
}

/// The first line of a description, cut to [`DESCRIPTION_WIDTH`] characters.
fn short_description(description: &str) -> String {
    let line = description.lines().next().unwrap_or("").trim();
    if line.chars().count() <= DESCRIPTION_WIDTH {
        return line.to_owned();
    }
    let cut: String = line.chars().take(DESCRIPTION_WIDTH - 1).collect();
    format!("{}…", cut.trim_end())
}

/// Input names, optional ones marked with `?`.
fn inputs(inputs: &[InputSummary]) -> String {
    let names: Vec<String> = inputs
        .iter()
        .map(|i| if i.required { i.name.clone() } else { format!("{}?", i.name) })
        .collect();
    names.join(", ")
}
