//! The one place that turns a command's result into stderr text and an exit code.
//!
//! Every error prints as `error: …`, then one `caused by: …` line per source, then
//! `hint: …` when something useful can be said. Library errors carry their own hints;
//! this module only knows how to find them in the chain.

use std::process::ExitCode;

use crate::commands::Outcome;
use crate::exit;
use crate::output::{BrokenPipe, Output, Style};

/// An error raised by the CLI itself, with its hint and exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct CliError {
    message: String,
    hint: Option<String>,
    code: u8,
}

impl CliError {
    /// A failure (exit 1) with a message.
    pub(crate) fn new(message: impl Into<String>) -> CliError {
        CliError { message: message.into(), hint: None, code: exit::FAILURE }
    }

    /// A usage error (exit 2) with a message.
    pub(crate) fn usage(message: impl Into<String>) -> CliError {
        CliError { message: message.into(), hint: None, code: exit::USAGE }
    }

    /// The same error with a hint.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// The same error with another exit code.
    pub(crate) fn code(mut self, code: u8) -> CliError {
        self.code = code;
        self
    }
}

/// Prints the error of `result`, if any, and gives the exit code.
pub(crate) fn finish(result: Outcome, out: &Output) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) if err.downcast_ref::<BrokenPipe>().is_some() => ExitCode::from(exit::SUCCESS),
        Err(err) => {
            let (hint, code) = classify(&err);
            out.stderr_line(&format!("{} {err}", out.paint(Style::Error, "error:")));
            for cause in err.chain().skip(1) {
                out.stderr_line(&format!("{} {cause}", out.paint(Style::Dim, "caused by:")));
            }
            if let Some(hint) = hint {
                out.stderr_line(&format!("{} {hint}", out.paint(Style::Hint, "hint:")));
            }
            ExitCode::from(code)
        }
    }
}

/// The hint and exit code for an error, from the first error in its chain that has one.
fn classify(err: &anyhow::Error) -> (Option<String>, u8) {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return (e.hint.clone(), e.code);
        }
        if let Some(e) = cause.downcast_ref::<pflow_ir::NameError>() {
            return (Some(e.hint()), exit::FAILURE);
        }
        if let Some(e) = cause.downcast_ref::<pflow_store::StoreError>() {
            // Invalid names and workflows, existing, missing, conflicting, corrupt and
            // unwritable workflows are all failures of the command (exit 1).
            return (e.hint(), exit::FAILURE);
        }
    }
    (None, exit::FAILURE)
}
