//! `pflow workflow delete`: move a saved workflow to the trash, asking first on a
//! terminal, and refusing one that other saved workflows call.

use std::io::IsTerminal;

use clap::Args;
use pflow_store::{IfCalled, WorkflowManager};

use crate::ask::{self, AskError, Question};
use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;
use crate::report::CliError;

/// Delete a saved workflow: move it, with its history, to the trash
///
/// On a terminal it asks for confirmation (default no); anywhere else it needs `--yes`.
/// A workflow that other saved workflows call by name is kept unless `--force` is given.
/// `pflow workflow trash restore NAME` brings it back.
#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// The workflow's name
    name: String,
    /// Delete without asking
    #[arg(short, long)]
    yes: bool,
    /// Delete it even if other saved workflows call it (they fail until it is restored)
    #[arg(long)]
    force: bool,
}

pub(super) fn run(args: DeleteArgs, manager: &WorkflowManager, out: &Output) -> Outcome {
    let name = args.name.as_str();
    let if_called = if args.force { IfCalled::DeleteAnyway } else { IfCalled::Refuse };
    // Fail on a typo, or on a workflow others need, before asking anything; the delete
    // itself checks again, in the same transaction as it deletes.
    let callers = manager.check_delete(name, if_called)?;
    let question = format!("Delete workflow `{name}`? [y/N]");
    if !args.yes && !confirm(&question, &format!("delete `{name}`"), "delete", out)? {
        out.message(&format!("kept `{name}`"));
        return Ok(exit::SUCCESS);
    }
    manager.delete(name, if_called)?;
    out.message(&format!(
        "deleted `{name}`: moved to the trash with its history \
         (`pflow workflow trash restore {name}` brings it back)"
    ));
    if !callers.is_empty() {
        let names: Vec<String> = callers.iter().map(|c| format!("`{c}`")).collect();
        let (call, fail) = if names.len() == 1 { ("calls", "fails") } else { ("call", "fail") };
        out.warning(&format!(
            "{} {call} `{name}` and {fail} until it is restored",
            names.join(", ")
        ));
    }
    Ok(exit::SUCCESS)
}

/// Asks `question` on the terminal; refuses to `action` when there is none (`verb` names
/// the action in the hint).
pub(super) fn confirm(
    question: &str,
    action: &str,
    verb: &str,
    out: &Output,
) -> anyhow::Result<bool> {
    // The prompt is drawn on stderr and read from stdin: both must be a terminal, or a
    // script could hang or answer by accident.
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(CliError::usage(format!(
            "refusing to {action} without confirmation: not running on a terminal"
        ))
        .hint(format!("pass `--yes` to {verb} without asking"))
        .into());
    }
    // The default ("no") is spelled in the question and applied on an empty answer.
    let question = Question {
        message: question,
        help: None,
        default: None,
        default_label: None,
        colored: out.is_colored(),
    };
    match ask::confirm(&question, Some(false), "answer y or n") {
        Ok(Some(yes)) => Ok(yes),
        // Escape means "no"; Ctrl-C means stop.
        Ok(None) => Ok(false),
        Err(AskError::Interrupted) => {
            Err(CliError::new("interrupted").code(exit::INTERRUPTED).into())
        }
        Err(e) => Err(CliError::new(format!("cannot ask for confirmation: {e}"))
            .hint(format!("pass `--yes` to {verb} without asking"))
            .into()),
    }
}
