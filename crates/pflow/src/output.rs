//! The one printer: data to stdout, messages to stderr, colors only where wanted.
//!
//! Nothing else in the binary writes to the terminal. A closed stdout (`pflow … | head`)
//! is not an error: the process stops writing and exits quietly. Any other stdout write
//! failure (a full disk) is an error, exit 1.

#![allow(clippy::print_stdout, clippy::print_stderr)] // this module is the printer

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

use pflow_ir::{Lines, escape_controls};

use crate::cli::{ColorChoice, GlobalArgs};

/// A text style for messages on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `error:` labels.
    Error,
    /// `warning:` labels.
    Warning,
    /// `hint:` labels.
    Hint,
    /// Names and other emphasis.
    Bold,
    /// Secondary detail (durations, paths).
    Dim,
    /// Success marks.
    Good,
}

impl Style {
    fn ansi(self) -> &'static str {
        match self {
            Style::Error => "\x1b[1;31m",
            Style::Warning => "\x1b[1;33m",
            Style::Hint => "\x1b[1;36m",
            Style::Bold => "\x1b[1m",
            Style::Dim => "\x1b[2m",
            Style::Good => "\x1b[32m",
        }
    }
}

/// Where and how the process prints.
///
/// Cheap to clone: the progress observer keeps its own copy.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    color: bool,
    quiet: bool,
    verbose: bool,
    stderr_is_terminal: bool,
    started: Instant,
}

/// How a run shows its nodes on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    /// On a terminal: each node's line is rewritten in place when it finishes.
    Live,
    /// Off a terminal with `-v`: one plain line per start and per finish.
    Lines,
}

/// Writing data to stdout failed.
///
/// A reader that closed the pipe (`pflow … | head`) is [`StdoutError::Closed`]: the
/// command stops and exits quietly with 0. Any other failure (a full disk, `/dev/full`)
/// is [`StdoutError::Write`]: an error, exit 1.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StdoutError {
    /// The reader closed stdout (`io::ErrorKind::BrokenPipe`).
    #[error("stdout was closed")]
    Closed,
    /// Any other write failure; the OS cause is part of the one-line message.
    #[error("cannot write to stdout: {0}")]
    Write(io::Error),
}

impl Output {
    /// The printer the global flags and the environment ask for.
    pub(crate) fn new(global: &GlobalArgs) -> Output {
        Output::with(global.color, global.quiet, global.verbose)
    }

    /// The printer for a command line that did not parse (or a panic): colors as
    /// `--color` says if it can be found, else as the environment says.
    pub(crate) fn unparsed() -> Output {
        let mut choice = ColorChoice::Auto;
        // `args_os`, not `args`: `args` panics on an argument that is not UTF-8, and this
        // runs for exactly the command lines that did not parse (and inside the panic
        // hook, where a second panic aborts the process). Such an argument is skipped.
        let args: Vec<Option<String>> = std::env::args_os().map(|a| a.into_string().ok()).collect();
        for (i, arg) in args.iter().enumerate() {
            let Some(arg) = arg else { continue };
            let value = match arg.strip_prefix("--color=") {
                Some(value) => Some(value),
                None if arg == "--color" => args.get(i + 1).and_then(Option::as_deref),
                None => None,
            };
            match value {
                Some("always") => choice = ColorChoice::Always,
                Some("never") => choice = ColorChoice::Never,
                _ => {}
            }
        }
        Output::with(choice, false, false)
    }

    fn with(choice: ColorChoice, quiet: bool, verbose: bool) -> Output {
        let stderr_is_terminal = io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => stderr_is_terminal && !no_color,
        };
        Output { color, quiet, verbose, stderr_is_terminal, started: Instant::now() }
    }

    /// Whether `-v` was given.
    pub(crate) fn is_verbose(&self) -> bool {
        self.verbose
    }

    /// Whether colors are on.
    pub(crate) fn is_colored(&self) -> bool {
        self.color
    }

    /// How long ago the printer was made (the process started).
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// How a run should show its progress, if at all: live on a terminal, as plain lines
    /// with `-v` elsewhere, never with `-q`.
    pub(crate) fn progress_mode(&self) -> Option<ProgressMode> {
        match (self.quiet, self.stderr_is_terminal, self.verbose) {
            (true, _, _) => None,
            (false, true, _) => Some(ProgressMode::Live),
            (false, false, true) => Some(ProgressMode::Lines),
            (false, false, false) => None,
        }
    }

    /// `text` in `style` when colors are on, else unchanged.
    pub(crate) fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{}{text}\x1b[0m", style.ansi()) } else { text.to_owned() }
    }

    /// Writes data to stdout, adding a newline when `text` lacks one.
    pub(crate) fn data(&self, text: &str) -> Result<(), StdoutError> {
        let mut stdout = io::stdout().lock();
        let result = stdout
            .write_all(text.as_bytes())
            .and_then(|()| if text.ends_with('\n') { Ok(()) } else { stdout.write_all(b"\n") })
            .and_then(|()| stdout.flush());
        result.map_err(|err| match err.kind() {
            io::ErrorKind::BrokenPipe => StdoutError::Closed,
            _ => StdoutError::Write(err),
        })
    }

    /// Writes data to stdout as it is produced: `write` gets stdout behind a buffer and
    /// writes as much as it likes, so a listing of any size never has to be held as one
    /// string. Flushed at the end; failures map as for [`Output::data`] (a closed pipe is
    /// [`StdoutError::Closed`]). `write` itself must not print anything else.
    pub(crate) fn data_stream<T>(
        &self,
        write: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    ) -> Result<T, StdoutError> {
        let stdout = io::stdout().lock();
        let mut buffered = io::BufWriter::with_capacity(64 * 1024, stdout);
        let result = write(&mut buffered).and_then(|value| buffered.flush().map(|()| value));
        result.map_err(|err| match err.kind() {
            io::ErrorKind::BrokenPipe => StdoutError::Closed,
            _ => StdoutError::Write(err),
        })
    }

    /// Writes a message line to stderr (suppressed by `-q`).
    pub(crate) fn message(&self, text: &str) {
        if !self.quiet {
            self.stderr_line(text);
        }
    }

    /// Writes a detail line to stderr, only with `-v`.
    pub(crate) fn detail(&self, text: &str) {
        if self.verbose {
            self.stderr_line(&self.paint(Style::Dim, text));
        }
    }

    /// Writes a `warning:` line to stderr (suppressed by `-q`).
    pub(crate) fn warning(&self, text: &str) {
        if !self.quiet {
            self.stderr_line(&format!("{} {text}", self.paint(Style::Warning, "warning:")));
        }
    }

    /// Prints every validation finding: `error: PATH: MESSAGE` (or `warning:`), then its
    /// hint on an indented line. Errors are printed even with `-q`: they explain the
    /// failure that follows; warnings are not.
    pub(crate) fn diagnostics(&self, diagnostics: &pflow_ir::Diagnostics) {
        for d in diagnostics {
            let (label, style) = if d.is_error() {
                ("error:", Style::Error)
            } else if self.quiet {
                continue;
            } else {
                ("warning:", Style::Warning)
            };
            // Findings quote the workflow (ids, names, values), which may hold anything.
            let text = escape_controls(&d.to_string(), Lines::One).into_owned();
            self.stderr_line(&format!("{} {text}", self.paint(style, label)));
            if let Some(hint) = &d.hint {
                let hint = escape_controls(hint, Lines::One);
                self.stderr_line(&format!("  {} {hint}", self.paint(Style::Hint, "hint:")));
            }
        }
    }

    /// Writes a line to stderr whatever the flags say (errors and prompts).
    pub(crate) fn stderr_line(&self, text: &str) {
        // A closed stderr leaves nowhere to report anything; ignoring is all that is left.
        let _ = writeln!(io::stderr().lock(), "{text}");
    }

    /// Writes `text` to stderr as it is, without a newline (the live progress line).
    pub(crate) fn stderr_raw(&self, text: &str) {
        let mut stderr = io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes()).and_then(|()| stderr.flush());
    }
}
