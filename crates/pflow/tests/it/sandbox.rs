//! The one hermetic way these tests run `pflow`: a temporary home and working directory,
//! a cleared environment with `NO_COLOR`, no terminal, and a transcript (exit code,
//! stdout, stderr) with the parts that change from run to run redacted.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A temporary home and working directory to run `pflow` in.
pub(crate) struct Sandbox {
    home: tempfile::TempDir,
    cwd: tempfile::TempDir,
}

impl Sandbox {
    /// An empty home and an empty working directory.
    pub(crate) fn new() -> Sandbox {
        Sandbox { home: tempfile::tempdir().unwrap(), cwd: tempfile::tempdir().unwrap() }
    }

    /// Writes `text` to `name` in the working directory.
    pub(crate) fn file(&self, name: &str, text: &str) -> &Sandbox {
        std::fs::write(self.cwd.path().join(name), text).unwrap();
        self
    }

    /// Runs `pflow ARGS` with stdin closed; the transcript of the run.
    pub(crate) fn run(&self, args: &[&str]) -> String {
        self.run_with(args, None, &[])
    }

    /// Runs `pflow ARGS`, feeding `stdin` when given; the transcript of the run.
    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> String {
        self.run_with(args, stdin, &[])
    }

    /// Runs `pflow ARGS` with `stdin` (if any) and `env` set on top of the hermetic
    /// environment (see [`command`]); the
    /// transcript with the home shown as `[HOME]`, the working directory as `[CWD]`,
    /// timestamps as `[TIME]` and durations as `[DURATION]`.
    pub(crate) fn run_with(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> String {
        self.redact(&transcript(self.command(args, env), stdin))
    }

    /// The hermetic `pflow ARGS` command, for tests that wire its streams themselves.
    pub(crate) fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = command(self.cwd.path(), self.home.path(), args);
        command.envs(env.iter().copied());
        command
    }

    /// The pflow home (`PFLOW_HOME`).
    pub(crate) fn home(&self) -> &Path {
        self.home.path()
    }

    /// The working directory.
    pub(crate) fn cwd(&self) -> &Path {
        self.cwd.path()
    }

    fn redact(&self, text: &str) -> String {
        let text = text
            .replace(&self.home.path().display().to_string(), "[HOME]")
            .replace(&self.cwd.path().display().to_string(), "[CWD]");
        redact_durations(&redact_times(&text))
    }
}

/// `pflow ARGS` run in `cwd` with a cleared environment holding only `PFLOW_HOME=home`,
/// `HOME=home`, `NO_COLOR` and the test's own `PATH` (so `shell` nodes find their
/// commands): the same environment as `TestHome::command` in the `tests/` member.
pub(crate) fn command(cwd: &Path, home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pflow"));
    command
        .env_clear()
        .env("PFLOW_HOME", home)
        .env("NO_COLOR", "1")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .current_dir(cwd)
        .args(args);
    command
}

/// Runs `command` to completion with `stdin` (or nothing) on its standard input; its
/// exit code, stdout and stderr, labelled.
pub(crate) fn transcript(mut command: Command, stdin: Option<&str>) -> String {
    let mut child = command
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        // pflow may stop reading early; a broken pipe here is its answer.
        let _ = child.stdin.take().unwrap().write_all(text.as_bytes());
    }
    let out = child.wait_with_output().unwrap();
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Replaces RFC 3339 timestamps (`2025-01-29T10:00:00.123456Z`) with `[TIME]`.
pub(crate) fn redact_times(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let looks_like_date = bytes.len() >= i + 20
            && bytes[i..i + 4].iter().all(u8::is_ascii_digit)
            && bytes[i + 4] == b'-'
            && bytes[i + 7] == b'-'
            && bytes[i + 10] == b'T';
        if looks_like_date {
            let end = text[i..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || ":.+-".contains(c)))
                .map_or(text.len(), |n| i + n);
            out.push_str("[TIME]");
            i = end;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Replaces durations as pflow prints them (`0.4 ms`, `12 ms`, `3.2 s`) with
/// `[DURATION]`.
pub(crate) fn redact_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from_digit) = rest.split_at(start);
        out.push_str(before);
        let number_len = from_digit
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(from_digit.len());
        let after = &from_digit[number_len..];
        let preceded_by_word = before.chars().last().is_some_and(|c| c.is_alphanumeric());
        let unit = [" ms", " s"].into_iter().find(|unit| {
            after.starts_with(unit)
                && !after[unit.len()..].starts_with(|c: char| c.is_alphanumeric())
        });
        match unit {
            Some(unit) if !preceded_by_word => {
                out.push_str("[DURATION]");
                rest = &after[unit.len()..];
            }
            _ => {
                out.push_str(&from_digit[..number_len]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn redaction_keeps_numbers_that_are_not_durations() {
    assert_eq!(
        redact_durations("ran 3 nodes in 12 ms; exit 0 after 0.4 ms, 3.2 s. v1 s2 10 min"),
        "ran 3 nodes in [DURATION]; exit 0 after [DURATION], [DURATION]. v1 s2 10 min"
    );
}
