//! `pflow workflow delete`: remove a saved workflow, asking first on a terminal.

use std::io::IsTerminal;

use clap::Args;
use inquire::InquireError;
use pflow_store::WorkflowManager;

use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;
use crate::report::CliError;

/// Delete a saved workflow
///
/// On a terminal it asks for confirmation (default no); anywhere else it needs `--yes`.
#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// The workflow's name
    name: String,
    /// Delete without asking
    #[arg(short, long)]
    yes: bool,
}

pub(super) fn run(args: DeleteArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let name = args.name.as_str();
    // Fail on a typo before asking anything.
    super::require_existing(manager, name)?;
    if !args.yes && !confirm(name)? {
        out.message(&format!("kept `{name}`"));
        return Ok(exit::SUCCESS);
    }
    let location = manager.locate(name)?;
    manager.delete(name)?;
    out.message(&format!("deleted `{name}` ({location})"));
    Ok(exit::SUCCESS)
}

/// Asks `Delete workflow `NAME`?` on the terminal; refuses when there is none.
fn confirm(name: &str) -> anyhow::Result<bool> {
    // The prompt is drawn on stderr and read from stdin: both must be a terminal, or a
    // script could hang or answer by accident.
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(CliError::usage(format!(
            "refusing to delete `{name}` without confirmation: not running on a terminal"
        ))
        .hint("pass `--yes` to delete without asking")
        .into());
    }
    // The default ("no") is spelled in the question and applied by the parser: inquire
    // would print a default value in parentheses.
    let answer = inquire::Confirm::new(&format!("Delete workflow `{name}`? [y/N]"))
        .with_parser(&|answer| match answer.trim().to_lowercase().as_str() {
            "" | "n" | "no" => Ok(false),
            "y" | "yes" => Ok(true),
            _ => Err(()),
        })
        .with_error_message("answer y or n")
        .prompt();
    match answer {
        Ok(yes) => Ok(yes),
        // Escape means "no"; Ctrl-C means stop.
        Err(InquireError::OperationCanceled) => Ok(false),
        Err(InquireError::OperationInterrupted) => {
            Err(CliError::new("interrupted").code(exit::INTERRUPTED).into())
        }
        Err(e) => Err(CliError::new(format!("cannot ask for confirmation: {e}"))
            .hint("pass `--yes` to delete without asking")
            .into()),
    }
}
