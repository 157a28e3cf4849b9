//! `pflow workflow list`: the saved workflows, as a table or as JSON, all of them, those
//! matching filter words, or the best matches of a query.

use std::io::{self, Write};
use std::ops::ControlFlow;

use clap::Args;
use pflow_context::SavedRanking;
use pflow_ir::NodeCatalog;
use pflow_store::{InputSummary, Listed, Problem, StoreError, Summary, WorkflowManager};

use crate::commands::Outcome;
use crate::exit;
use crate::output::{Output, Style};

/// The longest description shown in the table, in characters; `show` prints it whole.
const DESCRIPTION_WIDTH: usize = 60;

/// List saved workflows: name, description and inputs
///
/// Entries that cannot be read are reported on stderr, one line each, and skipped; they
/// never make the listing fail or spoil its JSON. With `--query`, the workflows that
/// best match TEXT come first, most relevant first: the words of the name, description,
/// inputs, outputs and node types are matched by stem (`backups` finds `backup`), with
/// one typo in a word of five letters or more, and stop words (`the`, `my`, `how`) are
/// ignored.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Show only workflows whose name or description contains every word (any case)
    #[arg(value_name = "FILTER", conflicts_with = "query")]
    filter: Vec<String>,
    /// Show the workflows that best match TEXT, most relevant first
    #[arg(long, value_name = "TEXT")]
    query: Option<String>,
    /// How many to show with --query
    #[arg(long, value_name = "N", requires = "query", default_value_t = pflow_context::DEFAULT_LIMIT)]
    limit: usize,
    /// Print a JSON array of summaries on stdout (with --query, each with its `score`)
    #[arg(long)]
    json: bool,
}

pub(super) fn run(args: ListArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    if let Some(query) = &args.query {
        return ranked(query, args.limit, args.json, manager, out);
    }
    let mut problems = Vec::new();
    let mut saved = 0usize;
    let mut shown = 0usize;
    if args.json {
        // Written as the store streams it, so the listing is never held whole. The `[`
        // waits for the first entry (or the end): a store that fails before giving one
        // prints nothing on stdout, not an empty list.
        out.data_stream(|w| -> io::Result<Result<(), StoreError>> {
            let mut failed = None;
            let mut scratch = Vec::new();
            let listed = manager.store().visit(&mut |entry| {
                match entry {
                    Listed::Workflow(summary) => {
                        saved += 1;
                        if pflow_context::matches_words(&summary, &args.filter) {
                            let opened = if shown == 0 { w.write_all(b"[") } else { Ok(()) };
                            let written = opened
                                .and_then(|()| json_element(w, &summary, shown == 0, &mut scratch));
                            shown += 1;
                            if let Err(e) = written {
                                failed = Some(e);
                                return ControlFlow::Break(());
                            }
                        }
                    }
                    Listed::Problem(problem) => problems.push(problem),
                }
                ControlFlow::Continue(())
            });
            if let Some(e) = failed {
                return Err(e);
            }
            if listed.is_ok() {
                w.write_all(if shown == 0 { b"[]\n" } else { b"\n]\n" })?;
            }
            Ok(listed)
        })??;
    } else {
        let mut rows: Vec<[String; 3]> = Vec::new();
        manager.store().visit(&mut |entry| {
            match entry {
                Listed::Workflow(summary) => {
                    saved += 1;
                    if pflow_context::matches_words(&summary, &args.filter) {
                        rows.push(row(&summary));
                    }
                }
                Listed::Problem(problem) => problems.push(problem),
            }
            ControlFlow::Continue(())
        })?;
        shown = rows.len();
        if !rows.is_empty() {
            out.data(&crate::table::render(["NAME", "DESCRIPTION", "INPUTS"], &rows))?;
        }
    }
    problems.sort_by(|a, b| a.location.cmp(&b.location));
    crate::commands::warn_skipped(out, &problems);
    if shown == 0 {
        if saved == 0 && !problems.is_empty() {
            say_unreadable(out, &problems);
        } else if saved == 0 {
            say_empty(out);
        } else {
            out.message(&format!(
                "no saved workflow matches `{}` ({saved} saved)",
                args.filter.join(" ")
            ));
        }
    }
    Ok(exit::SUCCESS)
}

/// `--query`: the best `limit` workflows for `query`, ranked as the listing streams.
fn ranked(
    query: &str,
    limit: usize,
    json: bool,
    manager: &WorkflowManager,
    out: &Output,
) -> Outcome {
    let SavedRanking { ranking, skipped: problems } =
        pflow_context::rank_saved(&NodeCatalog::default(), manager, query, limit)?;
    crate::commands::warn_skipped(out, &problems);
    if json {
        let json =
            serde_json::to_string_pretty(&ranking.workflows).expect("summaries serialize to JSON");
        out.data(&json)?;
    } else if !ranking.workflows.is_empty() {
        let rows: Vec<[String; 3]> = ranking.workflows.iter().map(|s| row(&s.item)).collect();
        out.data(&crate::table::render(["NAME", "DESCRIPTION", "INPUTS"], &rows))?;
    }
    if ranking.workflows.is_empty() {
        let shown = pflow_ir::escape_controls(query, pflow_ir::Lines::One);
        if ranking.terms.is_empty() {
            out.message(&format!(
                "nothing to search for in `{shown}`: it has no word that is not a stop word \
                 (`the`, `my`, `how`, …)"
            ));
        } else if ranking.ranked == 0 && !problems.is_empty() {
            say_unreadable(out, &problems);
        } else if ranking.ranked == 0 {
            say_empty(out);
        } else if limit > 0 {
            out.message(&format!("no saved workflow matches `{shown}` ({} saved)", ranking.ranked));
            if !ranking.closest.is_empty() {
                let names: Vec<String> = ranking.closest.iter().map(|n| format!("`{n}`")).collect();
                let hint = out.paint(Style::Hint, "hint:");
                out.message(&format!("{hint} the closest names are {}", names.join(", ")));
            }
        }
    }
    Ok(exit::SUCCESS)
}

/// One element of the JSON array, indented as `serde_json::to_string_pretty` of the whole
/// array would indent it; `scratch` is reused from one element to the next.
fn json_element(
    w: &mut dyn Write,
    summary: &Summary,
    first: bool,
    scratch: &mut Vec<u8>,
) -> io::Result<()> {
    scratch.clear();
    serde_json::to_writer_pretty(&mut *scratch, summary).expect("a summary serializes to JSON");
    w.write_all(if first { b"\n  " } else { b",\n  " })?;
    let mut rest = &scratch[..];
    while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
        w.write_all(&rest[..=newline])?;
        w.write_all(b"  ")?;
        rest = &rest[newline + 1..];
    }
    w.write_all(rest)
}

fn say_unreadable(out: &Output, problems: &[Problem]) {
    let n = problems.len();
    let entries = if n == 1 { "entry" } else { "entries" };
    out.message(&format!("no readable saved workflow: {n} {entries} could not be read"));
}

fn say_empty(out: &Output) {
    out.message("no saved workflows yet");
    let hint = out.paint(Style::Hint, "hint:");
    out.message(&format!("{hint} save one with `pflow workflow save FILE --name NAME`"));
}

/// A table row: name, first line of the description, inputs.
fn row(s: &Summary) -> [String; 3] {
    [s.name.to_string(), short_description(&s.description), inputs(&s.inputs)]
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
