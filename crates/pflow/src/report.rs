//! The one place that turns a command's result into stderr text and an exit code.
//!
//! Every error prints as `error: …`, then one `caused by: …` line per source, then
//! `hint: …` when something useful can be said. Library errors carry their own hints;
//! this module only knows how to find them in the chain. Command-line mistakes found by
//! clap, and panics, are printed in the same shape; no `Debug` text or backtrace reaches
//! the user.

use std::any::Any;
use std::io;
use std::process::ExitCode;

use pflow_context::ContextError;
use pflow_exec::ExecError;
use pflow_ir::{Lines, escape_controls};
use pflow_store::StoreError;
use pflow_store_postgres::{PgError, PgErrorKind};

use crate::commands::Outcome;
use crate::exit;
use crate::output::{Output, StdoutError, Style};

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

    /// The user stopped the command (exit 130); `message` says what was left undone.
    pub(crate) fn interrupted(message: impl Into<String>) -> CliError {
        CliError { message: message.into(), hint: None, code: exit::INTERRUPTED }
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
///
/// `result` is `Err` when the command panicked; the panic hook has already said so.
pub(crate) fn finish(result: std::thread::Result<Outcome>, out: &Output) -> ExitCode {
    let code = match result {
        Err(_panic) => exit::FAILURE,
        Ok(Ok(code)) => code,
        Ok(Err(err)) if matches!(err.downcast_ref(), Some(StdoutError::Closed)) => exit::SUCCESS,
        Ok(Err(err)) => {
            let (hint, code) = classify(&err);
            // Messages quote what they are about (a stored entry's reason, a file name),
            // which may hold control characters.
            let safe = |text: &str| escape_controls(text, Lines::Many).into_owned();
            let message = safe(&err.to_string());
            out.stderr_line(&format!("{} {message}", out.paint(Style::Error, "error:")));
            for cause in err.chain().skip(1) {
                let cause = safe(&cause.to_string());
                out.stderr_line(&format!("{} {cause}", out.paint(Style::Dim, "caused by:")));
            }
            if let Some(hint) = hint {
                let hint = safe(&hint);
                out.stderr_line(&format!("{} {hint}", out.paint(Style::Hint, "hint:")));
            }
            code
        }
    };
    out.detail(&format!("exit {code} after {}", crate::progress::duration(out.elapsed())));
    ExitCode::from(code)
}

/// Prints what clap found wrong with the command line (or the help and version it was
/// asked for) and gives the exit code.
///
/// Help and version go to stdout and exit 0; mistakes go to stderr as `error: …` with
/// clap's tip as a `hint:` line, then the usage, and exit 2.
pub(crate) fn command_line(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;

    let out = Output::unparsed();
    let rendered = err.render();
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Help is data the user asked for; `pflow --help | head` must end quietly,
            // `pflow --help > /dev/full` must not.
            return match out.data(&rendered.to_string()) {
                Ok(()) | Err(StdoutError::Closed) => ExitCode::from(exit::SUCCESS),
                Err(err @ StdoutError::Write(_)) => {
                    out.stderr_line(&format!("{} {err}", out.paint(Style::Error, "error:")));
                    ExitCode::from(exit::FAILURE)
                }
            };
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let text =
                if out.is_colored() { rendered.ansi().to_string() } else { rendered.to_string() };
            out.stderr_raw(&text);
            return ExitCode::from(exit::USAGE);
        }
        _ => {}
    }
    let mut lines = clap_lines(&rendered.to_string());
    if err.kind() == ErrorKind::InvalidUtf8
        && let Some(arg) = std::env::args_os().skip(1).find(|a| a.to_str().is_none())
    {
        // clap says only that some argument is not UTF-8; name it, with its bad bytes
        // written as `\xNN` so the line itself is UTF-8.
        let arg = escape_non_utf8(arg.as_encoded_bytes());
        lines.splice(
            0..1,
            [
                format!("error: argument `{arg}` is not UTF-8 text"),
                "hint: pflow reads names, inputs and descriptions as UTF-8; pass the text in \
                 UTF-8 (or in a file the workflow reads)"
                    .to_owned(),
            ],
        );
    }
    for line in lines {
        let line = match (line.strip_prefix("error: "), line.strip_prefix("hint: ")) {
            (Some(rest), _) => format!("{} {rest}", out.paint(Style::Error, "error:")),
            (_, Some(rest)) => format!("{} {rest}", out.paint(Style::Hint, "hint:")),
            _ => line,
        };
        out.stderr_line(&line);
    }
    ExitCode::from(exit::USAGE)
}

/// `bytes` as text: its UTF-8 runs as they are (controls escaped), every other byte as
/// `\xNN`.
fn escape_non_utf8(bytes: &[u8]) -> String {
    let mut text = String::new();
    for chunk in bytes.utf8_chunks() {
        text.push_str(&pflow_ir::escape_controls(chunk.valid(), pflow_ir::Lines::One));
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// clap's plain error text in pflow's shape: its indented `tip:` lines become `hint:`
/// lines right under the error.
fn clap_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for line in text.trim_end().lines() {
        if let Some(tip) = line.trim_start().strip_prefix("tip: ") {
            if lines.last().is_some_and(String::is_empty) {
                lines.pop();
            }
            lines.push(format!("hint: {tip}"));
        } else {
            lines.push(line.to_owned());
        }
    }
    lines
}

/// Replaces Rust's panic message (and backtrace) by one `error: internal error …` line
/// and a hint; `main` then exits 1.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let out = Output::unparsed();
        let location =
            info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let message = panic_message(info.payload());
        out.stderr_line(&format!(
            "{} internal error: {message}{location}",
            out.paint(Style::Error, "error:")
        ));
        out.stderr_line(&format!(
            "{} this is a bug in pflow; please report it with the command that led to it",
            out.paint(Style::Hint, "hint:")
        ));
    }));
}

/// The text of a panic's payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_owned()
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
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            // Invalid names and workflows, existing, missing, conflicting, corrupt and
            // unwritable workflows are all failures of the command (exit 1).
            return (store_hint(e), exit::FAILURE);
        }
        if let Some(e) = cause.downcast_ref::<ExecError>() {
            let code = match e {
                ExecError::Cancelled => exit::INTERRUPTED,
                ExecError::Inputs(_) => exit::USAGE,
                _ => exit::FAILURE,
            };
            let hint = match e {
                ExecError::InvalidWorkflow { .. } => Some(VALIDATE_HINT.to_owned()),
                other => other.hint(),
            };
            return (hint, code);
        }
        if let Some(e) = cause.downcast_ref::<ContextError>() {
            let hint = match e {
                ContextError::UnknownNames(_) => Some(
                    "run `pflow context discover` to see every node type and saved workflow"
                        .to_owned(),
                ),
                ContextError::Unreadable { source, .. } | ContextError::List(source) => {
                    store_hint(source)
                }
                other => other.hint(),
            };
            return (hint, exit::FAILURE);
        }
    }
    (None, exit::FAILURE)
}

/// The hint that sends a person to the full list of findings.
const VALIDATE_HINT: &str = "run `pflow validate FILE` to see every problem with its path";

/// The hint for a store error, in this front end's terms: the library's own hint, or one
/// naming the command that helps with the thing at hand.
fn store_hint(e: &StoreError) -> Option<String> {
    let hint = match e {
        StoreError::InvalidWorkflow { .. } => VALIDATE_HINT.to_owned(),
        StoreError::WorkflowExists { name } => format!(
            "choose another name, or pass `--force` to replace `{name}` with a new revision"
        ),
        StoreError::WorkflowNotFound { suggestions, .. } if suggestions.is_empty() => {
            "run `pflow workflow list` to see the saved workflows".to_owned()
        }
        StoreError::Conflict { name, actual: Some(_), .. } => format!(
            "`pflow workflow show {name} --json` shows its revision; reapply your change to it \
             and retry"
        ),
        StoreError::RevisionNotFound { name, current, .. } => format!(
            "its revisions are numbered up to {current}; run `pflow workflow history {name}` \
             to see the ones kept"
        ),
        StoreError::NotInTrash { suggestions, .. } if suggestions.is_empty() => {
            "run `pflow workflow trash list` to see the trash".to_owned()
        }
        StoreError::HasCallers { .. } => "change or delete the callers first, or pass `--force` \
                                          to delete it anyway (the callers then fail until it is \
                                          restored)"
            .to_owned(),
        StoreError::Corrupt { workflow: Some(name), .. } => format!(
            "repair the file by hand, or move it to the trash with `pflow workflow delete {name} \
             --yes`"
        ),
        StoreError::Corrupt { workflow: None, .. } => {
            "repair or remove the file by hand; nothing else depends on it".to_owned()
        }
        StoreError::ImportConflicts { .. } => "pass `--on-conflict skip` to leave them as they \
                                               are, or `--on-conflict update` to make the \
                                               bundle's content their new revision"
            .to_owned(),
        StoreError::InvalidBundle { .. } => "every problem is listed above; fix them where the \
                                             bundle was exported, or save what it calls here \
                                             first"
            .to_owned(),
        StoreError::Layout { location, .. } => {
            format!("move `{location}` out of the way; pflow makes what it needs there again")
        }
        StoreError::Io { source, .. } => match source.kind() {
            io::ErrorKind::StorageFull => return e.hint(),
            io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied => {
                "check that the pflow home is writable, or choose another with `--home`".to_owned()
            }
            _ => "check that the pflow home (`--home` or `PFLOW_HOME`) is a directory you can \
                  write to"
                .to_owned(),
        },
        StoreError::Backend { source, .. } => {
            let pg = source.downcast_ref::<PgError>()?;
            let hint = pg.hint()?;
            match pg.kind() {
                PgErrorKind::InvalidUri
                | PgErrorKind::Unreachable
                | PgErrorKind::LoginRefused
                | PgErrorKind::NoDatabase
                | PgErrorKind::NoSchema
                | PgErrorKind::Tls => format!(
                    "{hint}; the store is `--store`, else `PFLOW_STORE`, else `store` in the \
                     home's config.toml"
                ),
                PgErrorKind::CommitUnknown => {
                    format!("{hint} (`pflow workflow show NAME`, `pflow workflow trash list`)")
                }
                _ => hint.to_owned(),
            }
        }
        other => return other.hint(),
    };
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_tips_become_hints_under_the_error() {
        let text = "error: unexpected argument '--jsn' found\n\n  tip: a similar argument exists: '--json'\n\nUsage: pflow nodes list --json\n\nFor more information, try '--help'.\n";
        assert_eq!(
            clap_lines(text),
            [
                "error: unexpected argument '--jsn' found",
                "hint: a similar argument exists: '--json'",
                "",
                "Usage: pflow nodes list --json",
                "",
                "For more information, try '--help'."
            ]
        );
    }

    #[test]
    fn panic_payloads_print_as_text() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&3_u8), "unknown panic");
    }
}
