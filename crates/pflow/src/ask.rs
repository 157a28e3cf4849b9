//! The one way pflow asks a person a question: a line drawn on stderr, keys read from the
//! terminal, readline editing (see `lineedit.rs`), the answer checked when Enter is
//! pressed.
//!
//! Keys come through crossterm, which reads stdin when stdin is a terminal and
//! `/dev/tty` when it is not, so a command whose stdin is a pipe can still ask; raw mode
//! is on only while a question is open (and turned off again however it ends, a panic
//! included). Below the question, one line shows the help text, or why the last answer
//! was refused; the question stays open until an answer is accepted, Esc (or Ctrl-D on an
//! empty line) gives it up, or Ctrl-C interrupts.
//!
//! Positions are counted in characters, one column each: right for the names and
//! answers pflow asks for; a line holding wide characters (CJK) may place the cursor a
//! little off while it is typed, never the answer.

use std::fmt;
use std::io::{self, Write};

use crossterm::cursor::{MoveToColumn, MoveUp};
use crossterm::event::{self, Event, KeyEventKind};
use crossterm::style::{Attribute, Color, Print, ResetColor, SetAttribute, SetForegroundColor};
use crossterm::terminal::{self, Clear, ClearType};
use crossterm::{QueueableCommand, queue};

use crate::lineedit::{Edit, Line};

/// Why a question got no answer, other than a person giving it up.
#[derive(Debug)]
pub(crate) enum AskError {
    /// Ctrl-C.
    Interrupted,
    /// The terminal could not be read or written.
    Terminal(io::Error),
}

impl fmt::Display for AskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AskError::Interrupted => f.write_str("interrupted"),
            AskError::Terminal(e) => write!(f, "the terminal failed: {e}"),
        }
    }
}

impl From<io::Error> for AskError {
    fn from(e: io::Error) -> AskError {
        AskError::Terminal(e)
    }
}

/// One question.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Question<'a> {
    /// What is asked (`Name:`).
    pub(crate) message: &'a str,
    /// Shown under the question while no answer was refused.
    pub(crate) help: Option<&'a str>,
    /// The answer Enter gives on an empty line, shown in parentheses until something is
    /// typed.
    pub(crate) default: Option<&'a str>,
    /// Shown after the question instead of the default (`(y/N)`), when there is one.
    pub(crate) default_label: Option<&'a str>,
    /// Whether to color the question.
    pub(crate) colored: bool,
}

impl Question<'_> {
    /// Asks until `check` accepts an answer: it gets the line typed (the default when
    /// nothing was) and gives the value and how to show it, or why it is refused (shown
    /// under the question, which stays open). `None` when the person gave it up.
    pub(crate) fn ask<T>(
        &self,
        mut check: impl FnMut(&str) -> Result<(T, String), String>,
    ) -> Result<Option<T>, AskError> {
        let _raw = RawMode::enable()?;
        let mut screen = Screen { question: self, cursor_row: 0, err: io::stderr() };
        let mut line = Line::default();
        let mut refused: Option<String> = None;
        screen.draw(&line, refused.as_deref())?;
        loop {
            let edit = match event::read()? {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    Edit::of_key(key, line.is_empty())
                }
                _ => Edit::Nothing,
            };
            match edit {
                Edit::Submit => {
                    let typed = line.text();
                    let answer = if typed.is_empty() { self.default.unwrap_or("") } else { &typed };
                    match check(answer) {
                        Ok((value, shown)) => {
                            screen.finish(&shown, false)?;
                            return Ok(Some(value));
                        }
                        Err(why) => refused = Some(why),
                    }
                }
                Edit::Cancel => {
                    screen.finish("<canceled>", true)?;
                    return Ok(None);
                }
                Edit::Interrupt => {
                    screen.finish("<interrupted>", true)?;
                    return Err(AskError::Interrupted);
                }
                other => line.apply(other),
            }
            screen.draw(&line, refused.as_deref())?;
        }
    }
}

/// Asks `question` as a yes/no question: `y`/`yes` or `n`/`no` in any case, the default
/// (if any) on an empty line, else `error` under the question.
pub(crate) fn confirm(
    question: &Question<'_>,
    default: Option<bool>,
    error: &str,
) -> Result<Option<bool>, AskError> {
    let question = Question { default: None, ..*question };
    question.ask(|answer| match (answer.trim().to_lowercase().as_str(), default) {
        ("y" | "yes", _) | ("", Some(true)) => Ok((true, "yes".to_owned())),
        ("n" | "no", _) | ("", Some(false)) => Ok((false, "no".to_owned())),
        _ => Err(error.to_owned()),
    })
}

/// Raw mode for as long as it lives.
struct RawMode;

impl RawMode {
    fn enable() -> io::Result<RawMode> {
        terminal::enable_raw_mode()?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // Nothing more can be done about a terminal that cannot be reset.
        let _ = terminal::disable_raw_mode();
    }
}

/// The question as drawn on stderr: its line, and the line under it.
struct Screen<'q> {
    question: &'q Question<'q>,
    /// The row of the cursor within what was drawn (0: the question's first row).
    cursor_row: u16,
    err: io::Stderr,
}

impl Screen<'_> {
    /// Redraws the question with `line` and, under it, `refused` or the help.
    fn draw(&mut self, line: &Line, refused: Option<&str>) -> io::Result<()> {
        let width = usize::from(terminal::size().map_or(80, |(cols, _)| cols.max(1)));
        let q = self.question;
        let mut err = self.err.lock();
        self.rewind(&mut err)?;
        let mut prefix = format!("? {} ", q.message);
        self.paint(&mut err, Color::Green, "?")?;
        queue!(err, Print(&prefix[1..]))?;
        let label = match (q.default_label, q.default) {
            (Some(label), _) => Some(label.to_owned()),
            (None, Some(default)) if line.is_empty() => Some(format!("({default})")),
            _ => None,
        };
        if let Some(label) = label {
            self.paint(&mut err, Color::DarkGrey, &label)?;
            queue!(err, Print(" "))?;
            prefix.push_str(&label);
            prefix.push(' ');
        }
        let text = line.text();
        queue!(err, Print(&text), Print("\r\n"))?;
        let under = match (refused, q.help) {
            (Some(why), _) => Some((Color::Red, format!("# {why}"))),
            (None, Some(help)) => Some((Color::Cyan, format!("[{help}]"))),
            (None, None) => None,
        };
        let under_len = under.as_ref().map_or(0, |(_, text)| text.chars().count());
        if let Some((color, text)) = &under {
            self.paint(&mut err, *color, text)?;
        }
        // Back to the cursor: up from the last row drawn, then to its column.
        let first_len = prefix.chars().count() + text.chars().count();
        let first_rows = first_len.div_ceil(width).max(1);
        let under_rows = under_len.div_ceil(width).max(1);
        let at = prefix.chars().count() + line.cursor();
        let row = (at / width).min(first_rows - 1);
        let up = first_rows + under_rows - 1 - row;
        let up = u16::try_from(up).unwrap_or(u16::MAX);
        let column = u16::try_from(at - row * width).unwrap_or(u16::MAX);
        err.queue(MoveUp(up))?.queue(MoveToColumn(column))?;
        err.flush()?;
        self.cursor_row = u16::try_from(row).unwrap_or(u16::MAX);
        Ok(())
    }

    /// Replaces the question by its final form, `? MESSAGE ANSWER`, and leaves the cursor
    /// on the next line.
    fn finish(&mut self, shown: &str, dim: bool) -> io::Result<()> {
        let mut err = self.err.lock();
        self.rewind(&mut err)?;
        self.paint(&mut err, Color::Green, "?")?;
        queue!(err, Print(format!(" {} ", self.question.message)))?;
        if dim {
            self.paint(&mut err, Color::DarkGrey, shown)?;
        } else {
            self.paint(&mut err, Color::Cyan, shown)?;
        }
        queue!(err, Print("\r\n"))?;
        err.flush()?;
        self.cursor_row = 0;
        Ok(())
    }

    /// Moves to the start of what was drawn and clears it.
    fn rewind(&self, err: &mut impl Write) -> io::Result<()> {
        if self.cursor_row > 0 {
            err.queue(MoveUp(self.cursor_row))?;
        }
        queue!(err, MoveToColumn(0), Clear(ClearType::FromCursorDown))
    }

    /// Prints `text` in `color` when colors are on.
    fn paint(&self, err: &mut impl Write, color: Color, text: &str) -> io::Result<()> {
        if self.question.colored {
            queue!(
                err,
                SetForegroundColor(color),
                Print(text),
                ResetColor,
                SetAttribute(Attribute::Reset)
            )
        } else {
            queue!(err, Print(text))
        }
    }
}
