//! `pflow validate`: report every problem in a workflow file.

use std::path::PathBuf;

use clap::Args;
use pflow_ir::{Diagnostic, Diagnostics};
use pflow_store::WorkflowFileError;

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::output::{Output, Style};
use crate::report::CliError;
use crate::{exit, input};

/// Check a workflow file and print every problem with its path and a hint
///
/// The file holds a bare workflow IR or a stored document in JSON (its `ir` is
/// checked), or is a `.pflow.md` (pflow 0.16's format; each finding names its line). The
/// checks are the ones `run` and `workflow save` make: structure and node types, calls to
/// saved workflows (`workflow_name`: each must exist in the pflow home, with no cycle;
/// without a home there are none) and to files (`workflow_ref`: no cycle).
/// Exits 0 when there is no error (warnings allowed), 1 otherwise.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The workflow file (JSON: bare IR or stored document; or `NAME.pflow.md`); `-` reads
    /// JSON from stdin
    file: PathBuf,
    /// Print the problems as a JSON array on stdout (a file that is not JSON is one
    /// problem at path ""; a `.pflow.md`'s problems carry their `line`)
    #[arg(long)]
    json: bool,
}

/// Runs `pflow validate`: every static check `run` and `workflow save` make (the
/// manager's `check`), against the saved workflows in the pflow home.
pub(crate) fn run(args: ValidateArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    let file = match input::read_workflow(&args.file)? {
        Ok(file) => file,
        // A `.pflow.md` that gives no workflow: its findings, each at its line, like any
        // other findings.
        Err(WorkflowFileError::Markdown { findings, .. }) => {
            report(&findings, &args, out)?;
            return Ok(exit::FAILURE);
        }
        // With `--json`, a file that is not JSON is one finding like any other, so that
        // a script always gets an array on stdout.
        Err(WorkflowFileError::Json { source, .. }) if args.json => {
            let finding = Diagnostic::error("", format!("not valid JSON: {source}"));
            report(&vec![finding].into(), &args, out)?;
            return Ok(exit::FAILURE);
        }
        Err(WorkflowFileError::Json { source, .. }) => {
            return Err(CliError::new(format!(
                "{} is not valid JSON: {source}",
                input::label(&args.file)
            ))
            .into());
        }
        Err(other) => return Err(other.into()),
    };
    let origin = input::origin(&args.file);
    let manager = crate::store::open_for_checks(global);
    let checked = file.locate(manager.check(&file.value, &origin, None));
    let diagnostics = checked.diagnostics();
    report(diagnostics, &args, out)?;
    Ok(if diagnostics.has_errors() { exit::FAILURE } else { exit::SUCCESS })
}

/// The findings: a JSON array on stdout with `--json`, else each on stderr and a summary.
fn report(diagnostics: &Diagnostics, args: &ValidateArgs, out: &Output) -> anyhow::Result<()> {
    if args.json {
        let text = serde_json::to_string_pretty(diagnostics)
            .expect("diagnostics always serialize to JSON");
        out.data(&text)?;
    } else {
        print_human(diagnostics, &input::label(&args.file), out);
    }
    Ok(())
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
