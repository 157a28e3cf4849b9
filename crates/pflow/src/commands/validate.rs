//! `pflow validate`: report every problem in a workflow file.

use std::path::PathBuf;

use clap::Args;
use pflow_ir::{Diagnostics, NodeCatalog, WorkflowSource};

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::output::{Output, Style};
use crate::{exit, input};

/// Check a workflow file and print every problem with its path and a hint
///
/// The file holds a bare workflow IR or a stored document (its `ir` is checked).
/// Exits 0 when there is no error (warnings allowed), 1 otherwise.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The workflow file (bare IR or stored document); `-` reads stdin
    file: PathBuf,
    /// Print the problems as a JSON array on stdout
    #[arg(long)]
    json: bool,
}

/// Runs `pflow validate` against the built-in node types.
pub(crate) fn run(args: ValidateArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    run_with_catalog(args, global, out, Some(&crate::store::node_catalog()))
}

/// Runs `pflow validate`, checking node types, parameters and output keys against
/// `catalog` when one is given.
pub(crate) fn run_with_catalog(
    args: ValidateArgs,
    _global: &GlobalArgs,
    out: &Output,
    catalog: Option<&NodeCatalog>,
) -> Outcome {
    let value = input::read_json(&args.file)?;
    let checked = WorkflowSource::from_value(&value).validate(catalog);
    let diagnostics = checked.diagnostics;
    if args.json {
        let text = serde_json::to_string_pretty(&diagnostics)
            .expect("diagnostics always serialize to JSON");
        out.data(&text)?;
    } else {
        print_human(&diagnostics, &input::label(&args.file), out);
    }
    Ok(if diagnostics.has_errors() { exit::FAILURE } else { exit::SUCCESS })
}

/// Prints each finding and its hint on stderr, then a summary line. `-q` keeps only the
/// errors.
fn print_human(diagnostics: &Diagnostics, label: &str, out: &Output) {
    out.diagnostics(diagnostics);
    let errors = diagnostics.errors().count();
    let warnings = diagnostics.len() - errors;
    let summary = format!("{label}: {}, {}", plural(errors, "error"), plural(warnings, "warning"));
    if errors > 0 {
        out.message(&out.paint(Style::Bold, &summary));
    } else {
        out.message(&format!("{} {summary}", out.paint(Style::Good, "valid:")));
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
