//! `pflow workflow show`: one saved workflow, for people or as JSON.

use std::borrow::Cow;

use clap::Args;
use pflow_ir::{Document, InputSpec, Lines, OutputSpec, WorkflowName, escape_controls};
use pflow_store::WorkflowManager;

use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;
use crate::report::CliError;

/// Show a saved workflow: its interface, metadata, location and how to run it
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The workflow's name
    name: String,
    /// Print only the IR (what `pflow run` executes), as JSON
    #[arg(long)]
    ir: bool,
    /// Print the whole stored document as JSON (with `--ir`: just the IR)
    #[arg(long)]
    json: bool,
    /// Show revision N from the workflow's history instead of the current one
    #[arg(long, value_name = "N")]
    revision: Option<u64>,
    /// Print it in another format: `md` writes the `.pflow.md` pflow 0.16 keeps in its
    /// library (front matter, title, description, steps), which reads back to the same IR
    #[arg(long, value_name = "FORMAT", conflicts_with_all = ["ir", "json"])]
    format: Option<ShowFormat>,
}

/// What `--format` can print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ShowFormat {
    /// pflow 0.16's markdown format, `.pflow.md`.
    Md,
}

pub(super) fn run(args: ShowArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let current = manager.load(&args.name)?;
    let doc = match args.revision {
        Some(revision) => manager.load_revision(&args.name, revision)?,
        None => current.clone(),
    };
    if args.format == Some(ShowFormat::Md) {
        let text = pflow_store::document_to_pflow_md(&doc).map_err(|e| {
            let hint = e.hint();
            CliError::new(format!("workflow `{}`: {e}", args.name))
                .hint(format!("{hint}: `pflow workflow show {} --json`", args.name))
        })?;
        out.data(text.trim_end())?;
    } else if args.ir {
        let json = serde_json::to_string_pretty(&doc.ir).expect("an IR serializes to JSON");
        out.data(&json)?;
    } else if args.json {
        out.data(&doc.to_pretty_json())?;
    } else {
        let location = manager.locate(&args.name)?;
        let callers = manager.callers(&args.name)?;
        out.data(&describe(&doc, &location.to_string(), &callers, current.revision))?;
    }
    Ok(exit::SUCCESS)
}

/// The human view of a document (revision `doc.revision` of a workflow now at `current`,
/// called by `callers`).
///
/// Every field comes from the stored document, so control characters in it are shown as
/// escapes (`\u{1b}`): the description keeps its lines and tabs, a table cell or the
/// `run it` line stays on its line.
fn describe(doc: &Document, location: &str, callers: &[WorkflowName], current: u64) -> String {
    let mut text = String::new();
    let mut field = |label: &str, value: &str| {
        // Split first, then escape each line, so that a `\r\n` line end is a line end
        // and not an escaped `\r`.
        let mut lines = value.lines().map(|line| escape_controls(line, Lines::Many));
        let first = format!("{label:<12} {}", lines.next().unwrap_or_default());
        text.push_str(first.trim_end());
        text.push('\n');
        for line in lines {
            let more = format!("{:<12} {line}", "");
            text.push_str(more.trim_end());
            text.push('\n');
        }
    };
    field("name", doc.name.as_str());
    let description = if doc.description.trim().is_empty() { "(none)" } else { &doc.description };
    field("description", description);
    if doc.revision == current {
        field("revision", &doc.revision.to_string());
    } else {
        field("revision", &format!("{} (the current one is {current})", doc.revision));
    }
    field("created", &doc.created_at.to_string());
    field("updated", &doc.updated_at.to_string());
    field("path", location);
    field("nodes", &doc.ir.nodes.len().to_string());
    let calls: Vec<String> = pflow_ir::workflow_calls(&doc.ir);
    field("calls", &names(calls.iter().map(String::as_str)));
    field("called by", &names(callers.iter().map(WorkflowName::as_str)));

    text.push_str("\ninputs:\n");
    let inputs: Vec<[String; 4]> = doc.ir.inputs.iter().map(|(n, s)| input_row(n, s)).collect();
    push_rows(&mut text, &inputs);
    text.push_str("\noutputs:\n");
    let outputs: Vec<[String; 4]> = doc.ir.outputs.iter().map(|(n, s)| output_row(n, s)).collect();
    push_rows(&mut text, &outputs);

    text.push_str("\nrun it:\n  ");
    text.push_str(&escape_controls(
        &pflow_context::run_line(doc.name.as_str(), &doc.ir),
        Lines::One,
    ));
    text.push('\n');
    text
}

/// `` `a`, `b` `` or `(none)`.
fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if quoted.is_empty() { "(none)".to_owned() } else { quoted.join(", ") }
}

fn input_row(name: &str, spec: &InputSpec) -> [String; 4] {
    let ty = spec.ty.map_or("any", |t| t.as_str()).to_owned();
    let need = match (&spec.default, spec.is_required()) {
        (Some(default), _) => format!("default {default}"),
        (None, true) => "required".to_owned(),
        (None, false) => "optional".to_owned(),
    };
    [name.to_owned(), ty, need, spec.description.clone().unwrap_or_default()]
}

fn output_row(name: &str, spec: &OutputSpec) -> [String; 4] {
    let ty = spec.ty.map_or("any", |t| t.as_str()).to_owned();
    let source = spec.source.as_ref().map(|s| format!("from {s}")).unwrap_or_default();
    [name.to_owned(), ty, source, spec.description.clone().unwrap_or_default()]
}

/// Indented, aligned rows, control characters in cells shown as escapes; `  (none)` when
/// there are none.
fn push_rows(text: &mut String, rows: &[[String; 4]]) {
    if rows.is_empty() {
        text.push_str("  (none)\n");
        return;
    }
    let rows: Vec<[Cow<'_, str>; 4]> = rows
        .iter()
        .map(|row| row.each_ref().map(|cell| escape_controls(cell, Lines::One)))
        .collect();
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let (w0, w1, w2) = (width(0), width(1), width(2));
    for [a, b, c, d] in rows {
        let line = format!("  {a:w0$}  {b:w1$}  {c:w2$}  {d}");
        text.push_str(line.trim_end());
        text.push('\n');
    }
}
