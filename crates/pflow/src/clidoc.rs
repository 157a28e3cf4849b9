//! docs/cli.md, the command reference, rendered from the clap definitions — and the tidy
//! test that fails when the file is out of date.
//!
//! The test lives in the binary crate because only it can see [`Cli`]; `cargo xtask docs`
//! runs it with `UPDATE_DOCS=1`, which rewrites the file instead of comparing.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Command, CommandFactory};

use crate::cli::Cli;

/// The width the help text is wrapped at, whatever terminal runs the test.
const WIDTH: usize = 100;

/// The text before the reference: how every command behaves, and the decisions behind it.
const INTRO: &str = r#"# pflow command reference

<!-- Generated from the clap definitions in crates/pflow by `cargo xtask docs`; do not edit
by hand. A test (`clidoc::docs_cli_md_is_current`) fails when this file is out of date. -->

## How every command behaves

- **Streams.** Data (a run's result, listings, JSON) goes to stdout; messages, progress,
  prompts, warnings and errors go to stderr. So `pflow … | jq` and `pflow … 2>/dev/null`
  do what they should.
- **Errors** read `error: …`, then one `caused by: …` line per underlying cause, then a
  `hint: …` when there is something to suggest: the closest saved names, node types,
  inputs or parameters for a typo, or the flag that does what was refused. Mistakes on the
  command line are printed the same way, followed by the usage. A bug prints one
  `error: internal error: …` line and exits 1; no Rust backtrace or debug text is shown.
- **Exit codes**: 0 success; 1 failure (the workflow failed, or was not found, invalid,
  already saved, or changed concurrently; an invalid value such as a bad workflow name,
  wherever it is given); 2 usage error (a wrong command line as clap sees it, or wrong
  inputs for the workflow); 130 interrupted (Ctrl-C).
- **A closed stdout** (`pflow workflow list | head -1`) ends the command quietly, exit 0.
  Any other failure to write stdout (a full disk, `> /dev/full`) is
  `error: cannot write to stdout: …` with the system's reason, exit 1.
- **The same checks everywhere.** `validate`, `workflow save` and `run` check a workflow
  the same way before anything else: its structure and node types, the saved workflows it
  calls by `workflow_name` (each must exist, and the calls must not loop), and the files
  it calls by `workflow_ref` (relative to the file; they must not loop). `validate` reads
  the saved workflows of the pflow home when it exists and never creates it; without a
  home there are no saved workflows, so every `workflow_name` call is an error there.
- **Home.** `--home DIR`, else `PFLOW_HOME` (an empty value counts as unset), else
  `~/.pflow`.
- **`-v`** adds, on stderr: the pflow home in use, each node of a run even when stderr is
  not a terminal, how many nodes ran and how long the run took, and the exit code with the
  time the command took. **`-q`** leaves only results and errors (no progress, messages or
  warnings).
- **Colors** are used on stderr only: with `--color auto` (the default) when stderr is a
  terminal and `NO_COLOR` is unset or empty; `always` and `never` force them. The prompts
  follow the same choice.

## Running on a terminal

- **Progress.** When stderr is a terminal, `pflow run` shows each node as `▸ id type` while
  it runs, turned into `✓ id type 12 ms` (or `✗ …`) when it finishes; nodes of nested
  workflows are indented two spaces per level. Nothing is shown when stderr is not a
  terminal (unless `-v`), or with `-q`.
- **Ctrl-C** during a run stops it before the next node and kills a running `shell`
  command with its process group; the node shows as `✗ … stopped` and pflow exits 130. A
  second Ctrl-C exits 130 at once.
- **The save prompt.** After a successful run of a workflow that is not saved (a file, or
  JSON on stdin), pflow asks *Save this workflow?* (default no), then a name (checked against
  the naming rules and the saved names when Enter is pressed; the default is a free valid
  name made from the document's `name` or the file name), then an optional description
  (the document's by default). An invalid or taken name is explained under the prompt,
  which stays open for another try; Esc cancels. The workflow is written once, after the
  last answer, so Esc or Ctrl-C leaves nothing behind; Ctrl-C exits 130. The questions are
  drawn on stderr and answered on the controlling terminal: keys are read (through
  crossterm) from stdin when it is a terminal and from `/dev/tty` otherwise, so
  `cat flow.json | pflow run` in a terminal still asks. pflow never asks when stderr is not
  a terminal or there is no controlling terminal, after a failed run, for a saved
  workflow, or with `--no-save-prompt`; `--save NAME [--description TEXT]` saves without
  asking (the name is checked before the run).

## Decisions

- **One rule for invalid names.** A workflow name that breaks the naming rules is an
  invalid value, exit 1, whether it comes from `run NAME`, `run --save NAME`,
  `workflow save --name NAME` or any other command: the exit code says the value was
  wrong, not that the command line could not be parsed (exit 2 is kept for what clap
  refuses and for workflow inputs).
- **Every prompt edits its line as readline does** (the save prompt's three questions, the
  delete and purge confirmations): Ctrl-A / Home and Ctrl-E / End move to the start and
  the end, Ctrl-B / Left and Ctrl-F / Right by a character, Ctrl-U deletes to the start,
  Ctrl-K to the end, Ctrl-W the word before the cursor (back to the previous space, as
  readline's `unix-word-rubout`), Backspace / Ctrl-H and Delete / Ctrl-D a character;
  Enter answers, Esc (or Ctrl-D on an empty line) gives the question up, Ctrl-C
  interrupts. No other chord (Ctrl or Alt with a letter, a function key) types anything.
  The prompts are pflow's own (`ask.rs`, `lineedit.rs`) on crossterm: inquire maps every
  Ctrl+letter chord to the letter and has no hook to change it.
- **The save prompt checks the name on Enter, not on each keystroke**: the check explains
  the problem under the prompt and keeps it open, so the effect for the person typing is
  the same one step later.

## Shell completion

`pflow completions bash|zsh|fish` prints clap_complete's script for the shell, plus a small
function that completes saved workflow names where a command takes one (`run`, and the
`workflow` subcommands whose first argument is `NAME`), by calling the hidden
`pflow __complete workflow-names [--home DIR] [PREFIX]`; `workflow trash restore` and
`workflow trash purge` complete the names in the trash instead
(`pflow __complete trashed-names`, each name once). The names come
from the home given with `--home` on the command line being completed, else `PFLOW_HOME`,
else `~/.pflow`.
clap_complete's own dynamic completion would do the same, but it sits behind its
`unstable-dynamic` feature; the static scripts and the helper only rely on stable APIs.

## Commands

"#;

/// The whole of docs/cli.md.
fn render() -> String {
    let mut command = Cli::command().term_width(WIDTH).max_term_width(WIDTH);
    command.build();
    let mut text = String::from(INTRO);
    let mut sections = Vec::new();
    collect(&command, "pflow", &mut sections);
    for (path, _) in &sections {
        let anchor = path.replace(' ', "-");
        let _ = writeln!(text, "- [`{path}`](#{anchor})");
    }
    for (path, help) in &sections {
        let _ = write!(text, "\n## {path}\n\n```text\n{}\n```\n", help.trim_end());
    }
    text
}

/// Every visible command under `command`, depth first, with its long help.
fn collect(command: &Command, path: &str, sections: &mut Vec<(String, String)>) {
    let help = command.clone().render_long_help().to_string();
    let help: Vec<&str> = help.lines().map(str::trim_end).collect();
    sections.push((path.to_owned(), help.join("\n")));
    for sub in command.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        collect(sub, &format!("{path} {}", sub.get_name()), sections);
    }
}

fn cli_md() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/cli.md")
}

#[test]
fn docs_cli_md_is_current() {
    let expected = render();
    let path = cli_md();
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).expect("write docs/cli.md");
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    if actual != expected {
        let line = actual.lines().zip(expected.lines()).position(|(a, b)| a != b);
        let line = line.unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "docs/cli.md is out of date (first difference at line {}): run `cargo xtask docs`",
            line + 1
        );
    }
}

#[test]
fn the_reference_covers_every_visible_command() {
    let text = render();
    for path in ["pflow run", "pflow workflow show", "pflow nodes show", "pflow completions"] {
        assert!(text.contains(&format!("\n## {path}\n")), "{path} is missing");
    }
    assert!(!text.contains("## pflow __complete"), "the hidden helper has no section");
    assert!(text.contains("130  interrupted"), "the exit codes are documented");
}
