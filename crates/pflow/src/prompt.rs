//! The save prompt: after a successful run of a workflow that is not saved, offer to keep
//! it under a name (SPEC §7).
//!
//! The questions are drawn on stderr and answered on the terminal. inquire's crossterm
//! backend reads keys from stdin when stdin is a terminal and from `/dev/tty` otherwise,
//! so `echo '{…}' | pflow run` in a terminal can still ask; without a controlling
//! terminal, or with stderr redirected, nothing is asked.
//!
//! Questions, in order: *Save this workflow?* (default no); the name, checked against the
//! naming rules and the saved names when Enter is pressed, with a free valid name from the
//! document or the file as the default (an invalid or taken name is explained under the
//! prompt, which stays open for another try; Esc cancels); an optional description. The
//! workflow is written once, after the last answer, so stopping anywhere (Esc, Ctrl-C)
//! leaves nothing behind. Ctrl-C exits 130.

use std::fs::OpenOptions;
use std::io::IsTerminal;

use inquire::ui::RenderConfig;
use inquire::validator::Validation;
use inquire::{Confirm, InquireError, Text};
use pflow_ir::{ValidIr, WorkflowName};
use pflow_store::{SaveMode, StoreError, WorkflowManager};

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
    if !out.is_colored() {
        // `--color never` and `NO_COLOR` apply to the questions too.
        inquire::set_global_render_config(RenderConfig::empty());
    }
    let wanted = Confirm::new("Save this workflow?")
        .with_default(false)
        .with_help_message("a saved workflow runs by name: `pflow run NAME`")
        .prompt();
    if !answered(wanted)?.unwrap_or(false) {
        out.message("not saved");
        return Ok(());
    }
    loop {
        let suggestion = free_name(manager, &unsaved.name_sources);
        let Some(name) = answered(ask_name(manager, suggestion.as_ref()))? else {
            out.message("not saved");
            return Ok(());
        };
        let default = unsaved.description.clone().unwrap_or_default();
        let mut question = Text::new("Description (optional):")
            .with_help_message("one line saying what the workflow does; Enter to skip");
        if !default.is_empty() {
            question = question.with_default(&default);
        }
        let Some(description) = answered(question.prompt())? else {
            out.message("not saved");
            return Ok(());
        };
        match manager.save(&name, unsaved.ir, Some(description.trim()), SaveMode::New) {
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

/// Asks for the name; the validator explains a bad or taken name under the prompt.
fn ask_name(
    manager: &WorkflowManager,
    suggestion: Option<&WorkflowName>,
) -> Result<String, InquireError> {
    let manager = manager.clone();
    let validator = move |input: &str| {
        let input = input.trim();
        if input.is_empty() {
            return Ok(Validation::Invalid("a name is needed; Esc cancels".into()));
        }
        match WorkflowName::new(input) {
            Err(e) => {
                let mut message = format!("not a valid name: {}", e.problem());
                if let Some(better) = e.suggestion() {
                    message.push_str(&format!("; try `{better}`"));
                }
                Ok(Validation::Invalid(message.into()))
            }
            Ok(name) => match manager.exists(name.as_str()) {
                Ok(false) => Ok(Validation::Valid),
                Ok(true) => Ok(Validation::Invalid(
                    format!("`{name}` is already saved; type another name, or Esc to cancel")
                        .into(),
                )),
                // The save reports a store that cannot be read, with its cause.
                Err(_) => Ok(Validation::Valid),
            },
        }
    };
    let mut question = Text::new("Name:")
        .with_help_message("lowercase words joined by dashes, like `fix-issue`")
        .with_validator(validator);
    let default = suggestion.map(WorkflowName::as_str);
    if let Some(default) = default {
        question = question.with_default(default);
    }
    question.prompt().map(|name| name.trim().to_owned())
}

/// The first valid name made from `sources` that is not saved yet (`name`, `name-2`, …).
fn free_name(manager: &WorkflowManager, sources: &[String]) -> Option<WorkflowName> {
    let base = sources.iter().find_map(|s| WorkflowName::suggest(s))?;
    std::iter::once(base.to_string())
        .chain((2..10).map(|n| format!("{base}-{n}")))
        .filter_map(|candidate| WorkflowName::new(&candidate).ok())
        .find(|candidate| matches!(manager.exists(candidate.as_str()), Ok(false)))
}

/// The answer, `None` when the person pressed Esc, an error for Ctrl-C (exit 130) or a
/// terminal that failed.
fn answered<T>(answer: Result<T, InquireError>) -> anyhow::Result<Option<T>> {
    match answer {
        Ok(value) => Ok(Some(value)),
        Err(InquireError::OperationCanceled) => Ok(None),
        Err(InquireError::OperationInterrupted) => {
            Err(CliError::interrupted("interrupted: the workflow was not saved").into())
        }
        Err(e) => Err(CliError::new(format!("cannot ask whether to save the workflow: {e}"))
            .hint("pass `--save NAME` to save without asking, or `--no-save-prompt`")
            .into()),
    }
}
