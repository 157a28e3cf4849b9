//! The save prompt: after a successful run of a workflow that is not saved, offer to keep
//! it under a name (SPEC §7).
//!
//! The questions are drawn on stderr and answered on the terminal (`ask.rs`: keys are read
//! from stdin when stdin is a terminal and from `/dev/tty` otherwise, so
//! `echo '{…}' | pflow run` in a terminal can still ask; every answer is edited with the
//! readline keys); without a controlling terminal, or with stderr redirected, nothing is
//! asked.
//!
//! Questions, in order: *Save this workflow?* (default no); the name, checked against the
//! naming rules and the saved names when Enter is pressed, with a free valid name from the
//! document or the file as the default (an invalid or taken name is explained under the
//! prompt, which stays open for another try; Esc cancels); an optional description. The
//! workflow is written once, after the last answer, so stopping anywhere (Esc, Ctrl-C)
//! leaves nothing behind. Ctrl-C exits 130.

use std::fs::OpenOptions;
use std::io::IsTerminal;

use pflow_ir::{ValidIr, WorkflowName};
use pflow_store::{SaveMode, StoreError, WorkflowManager};

use crate::ask::{self, AskError, Question};
use crate::output::{Output, Style};
use crate::report::CliError;

/// A workflow that ran and could be saved, with what is known to suggest its name.
#[derive(Debug)]
pub(crate) struct Unsaved<'a> {
    /// What ran.
    pub(crate) ir: &'a ValidIr,
    /// Where a name can come from, best first: the document's `name`, the file's stem.
    pub(crate) name_sources: Vec<String>,
    /// The document's description, the default answer.
    pub(crate) description: Option<String>,
}

/// Whether a person can be asked: prompts are drawn on stderr, which must be a terminal,
/// and answers are read from the controlling terminal, which must open.
pub(crate) fn terminal_available() -> bool {
    std::io::stderr().is_terminal()
        && OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok()
}

/// Asks whether to save `unsaved` and, if so, under which name and description; saves it.
///
/// Declining or pressing Esc saves nothing and is not an error; Ctrl-C is (exit 130).
pub(crate) fn offer_save(
    manager: &WorkflowManager,
    unsaved: &Unsaved<'_>,
    out: &Output,
) -> anyhow::Result<()> {
    let colored = out.is_colored();
    let save = Question {
        message: "Save this workflow?",
        help: Some("a saved workflow runs by name: `pflow run NAME`"),
        default: None,
        default_label: Some("(y/N)"),
        colored,
    };
    if !answered(ask::confirm(&save, Some(false), "answer y or n"))?.flatten().unwrap_or(false) {
        out.message("not saved");
        return Ok(());
    }
    loop {
        let suggestion = free_name(manager, &unsaved.name_sources);
        let Some(name) = answered(ask_name(manager, suggestion.as_ref(), colored))?.flatten()
        else {
            out.message("not saved");
            return Ok(());
        };
        let default = unsaved.description.clone().unwrap_or_default();
        let question = Question {
            message: "Description (optional):",
            help: Some("one line saying what the workflow does; Enter to skip"),
            default: Some(default.as_str()).filter(|d| !d.is_empty()),
            default_label: None,
            colored,
        };
        let description = question.ask(|text| Ok((text.trim().to_owned(), text.to_owned())));
        let Some(description) = answered(description)?.flatten() else {
            out.message("not saved");
            return Ok(());
        };
        match manager.save(&name, unsaved.ir, Some(&description), SaveMode::New) {
            Ok(saved) => {
                out.message(&format!("saved `{name}` (revision 1) to {}", saved.location));
                out.message(&format!(
                    "{} run it again with `pflow run {name}`",
                    out.paint(Style::Hint, "hint:")
                ));
                return Ok(());
            }
            // Saved by someone else since the name was checked: ask again.
            Err(StoreError::WorkflowExists { name }) => {
                out.warning(&format!("workflow `{name}` was saved meanwhile by someone else"));
            }
            Err(e) => return Err(anyhow::Error::new(e).context("the workflow was not saved")),
        }
    }
}

/// Asks for the name; a bad or taken name is explained under the prompt, which stays open.
fn ask_name(
    manager: &WorkflowManager,
    suggestion: Option<&WorkflowName>,
    colored: bool,
) -> Result<Option<String>, AskError> {
    let question = Question {
        message: "Name:",
        help: Some("lowercase words joined by dashes, like `fix-issue`"),
        default: suggestion.map(WorkflowName::as_str),
        default_label: None,
        colored,
    };
    question.ask(|input| {
        let input = input.trim();
        if input.is_empty() {
            return Err("a name is needed; Esc cancels".to_owned());
        }
        match WorkflowName::new(input) {
            Err(e) => {
                let mut message = format!("not a valid name: {}", e.problem());
                if let Some(better) = e.suggestion() {
                    message.push_str(&format!("; try `{better}`"));
                }
                Err(message)
            }
            Ok(name) => match manager.exists(name.as_str()) {
                Ok(true) => {
                    Err(format!("`{name}` is already saved; type another name, or Esc to cancel"))
                }
                // The save reports a store that cannot be read, with its cause.
                Ok(false) | Err(_) => Ok((name.to_string(), name.to_string())),
            },
        }
    })
}

/// The first valid name made from `sources` that is not saved yet (`name`, `name-2`, …).
fn free_name(manager: &WorkflowManager, sources: &[String]) -> Option<WorkflowName> {
    let base = sources.iter().find_map(|s| WorkflowName::suggest(s))?;
    std::iter::once(base.to_string())
        .chain((2..10).map(|n| format!("{base}-{n}")))
        .filter_map(|candidate| WorkflowName::new(&candidate).ok())
        .find(|candidate| matches!(manager.exists(candidate.as_str()), Ok(false)))
}

/// The answer (`None` inside when the person pressed Esc), or an error for Ctrl-C (exit
/// 130) or a terminal that failed.
fn answered<T>(answer: Result<T, AskError>) -> anyhow::Result<Option<T>> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(AskError::Interrupted) => {
            Err(CliError::interrupted("interrupted: the workflow was not saved").into())
        }
        Err(e) => Err(CliError::new(format!("cannot ask whether to save the workflow: {e}"))
            .hint("pass `--save NAME` to save without asking, or `--no-save-prompt`")
            .into()),
    }
}
