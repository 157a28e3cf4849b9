//! `pflow completions`: shell completion scripts, and the hidden `pflow __complete` helper
//! they call to complete saved workflow names.
//!
//! The scripts are clap_complete's static ones, with one addition per shell: where a
//! command expects a saved workflow (`run`, `workflow show`, …), a small function asks
//! `pflow __complete workflow-names` for the saved names. clap_complete's own dynamic
//! completion would do this too, but it sits behind its `unstable-dynamic` feature, whose
//! API and shell glue still change between minor versions; the static scripts plus this
//! helper only rely on stable interfaces.
//!
//! Which commands take a saved name is read from the clap definitions: every subcommand
//! whose first positional argument is called `NAME` or `WORKFLOW`, except those of
//! `workflow trash`, whose names are of deleted workflows: they complete the names in the
//! trash (`pflow __complete trashed-names`).

use std::fmt::Write as _;

use clap::{Arg, Args, Command, CommandFactory, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::cli::{Cli, GlobalArgs};
use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;

/// Print a shell completion script; saved workflow names complete too
///
/// bash: add `source <(pflow completions bash)` to ~/.bashrc.
/// zsh: add `source <(pflow completions zsh)` to ~/.zshrc (after `compinit`), or save the
/// script as `_pflow` in a directory of `$fpath`.
/// fish: `pflow completions fish > ~/.config/fish/completions/pflow.fish`.
///
/// Names are completed for `pflow run` and the `pflow workflow` commands that take one
/// (trashed names for `workflow trash restore|purge`), from the home in `--home` on the
/// command line, else `PFLOW_HOME`, else ~/.pflow.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    shell: CompletionShell,
}

/// The shells pflow writes completion scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

/// Helpers for the completion scripts (not for people)
#[derive(Debug, Args)]
pub(crate) struct CompleteArgs {
    #[command(subcommand)]
    what: CompleteWhat,
}

#[derive(Debug, Subcommand)]
enum CompleteWhat {
    /// Saved workflow names that start with PREFIX, one per line
    WorkflowNames {
        /// Only names starting with this
        prefix: Option<String>,
    },
    /// Names in the trash that start with PREFIX, one per line (each once)
    TrashedNames {
        /// Only names starting with this
        prefix: Option<String>,
    },
}

/// Runs `pflow completions SHELL`.
pub(crate) fn run(args: &CompletionsArgs, out: &Output) -> Outcome {
    out.data(&script(args.shell))?;
    Ok(exit::SUCCESS)
}

/// Runs `pflow __complete …`.
///
/// Completion must never disturb the shell: any problem (no home, an unreadable store)
/// prints nothing and exits 0.
pub(crate) fn complete(args: &CompleteArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    let Ok(manager) = crate::store::open_manager(global) else { return Ok(exit::SUCCESS) };
    let (names, prefix): (Vec<String>, _) = match &args.what {
        CompleteWhat::WorkflowNames { prefix } => {
            let Ok(listing) = manager.list_all() else { return Ok(exit::SUCCESS) };
            (listing.workflows.into_iter().map(|s| s.name.to_string()).collect(), prefix)
        }
        CompleteWhat::TrashedNames { prefix } => {
            let Ok(listing) = manager.trash() else { return Ok(exit::SUCCESS) };
            // Sorted by name: one name deleted several times is listed once.
            let mut names: Vec<String> =
                listing.entries.into_iter().map(|e| e.name.to_string()).collect();
            names.dedup();
            (names, prefix)
        }
    };
    let prefix = prefix.as_deref().unwrap_or("");
    let mut text = String::new();
    for name in names.iter().filter(|n| n.starts_with(prefix)) {
        text.push_str(name);
        text.push('\n');
    }
    if !text.is_empty() {
        out.data(&text)?;
    }
    Ok(exit::SUCCESS)
}

/// The completion script for `shell`.
fn script(shell: CompletionShell) -> String {
    let mut command = Cli::command();
    let (generator, addition): (Shell, fn(&Command) -> String) = match shell {
        CompletionShell::Bash => (Shell::Bash, bash_names),
        CompletionShell::Zsh => (Shell::Zsh, zsh_names),
        CompletionShell::Fish => (Shell::Fish, fish_names),
    };
    let mut generated = Vec::new();
    clap_complete::generate(generator, &mut command, "pflow", &mut generated);
    let generated = String::from_utf8(generated).expect("clap_complete writes UTF-8");
    let addition = addition(&command);
    match shell {
        // Rename clap's entry function so that ours, defined under the name the
        // registration calls, can hand over to it.
        CompletionShell::Bash | CompletionShell::Zsh => {
            let (script, renamed) = rename_entry(&generated);
            assert!(renamed, "clap_complete's scripts define `_pflow()`");
            let (head, registration) = split_registration(&script, shell);
            format!("{head}{addition}{registration}")
        }
        CompletionShell::Fish => format!("{generated}{addition}"),
    }
}

/// Renames the definition of `_pflow()` to `_pflow_clap()`; whether it was found.
fn rename_entry(script: &str) -> (String, bool) {
    let mut found = false;
    let mut out = String::with_capacity(script.len() + 16);
    for line in script.split_inclusive('\n') {
        if !found && line.starts_with("_pflow() {") {
            found = true;
            out.push_str(&line.replacen("_pflow()", "_pflow_clap()", 1));
        } else {
            out.push_str(line);
        }
    }
    (out, found)
}

/// Splits the script before its registration (the last `if` block, holding `complete -F …`
/// for bash and `compdef` for zsh), so our function is defined before anything calls it.
fn split_registration(script: &str, shell: CompletionShell) -> (&str, &str) {
    let marker = match shell {
        CompletionShell::Bash => "if [[ \"${BASH_VERSINFO[0]}\"",
        CompletionShell::Zsh | CompletionShell::Fish => "if [ \"$funcstack[1]\"",
    };
    match script.rfind(marker) {
        Some(at) => script.split_at(at),
        None => (script, ""),
    }
}

/// The subcommand paths (`workflow show`) whose first positional argument is a saved
/// workflow name.
fn name_commands(command: &Command) -> Vec<String> {
    commands_taking_names(command, false)
}

/// The subcommand paths under `workflow trash` whose first positional argument is the
/// name of a deleted workflow.
fn trashed_name_commands(command: &Command) -> Vec<String> {
    commands_taking_names(command, true)
}

/// The subcommand paths whose first positional argument is a workflow name: inside
/// `workflow trash` (names of deleted workflows) when `trash`, else outside it.
fn commands_taking_names(command: &Command, trash: bool) -> Vec<String> {
    fn walk(command: &Command, path: &str, trash: bool, found: &mut Vec<String>) {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            let sub_path = if path.is_empty() {
                sub.get_name().to_owned()
            } else {
                format!("{path} {}", sub.get_name())
            };
            let first = sub.get_positionals().next();
            let value_name = first.and_then(|a| a.get_value_names()).and_then(|n| n.first());
            let id = first.map(|a| a.get_id().as_str().to_ascii_uppercase());
            let takes_name = match (value_name, id) {
                (Some(v), _) => v.as_str() == "NAME" || v.as_str() == "WORKFLOW",
                (None, Some(id)) => id == "NAME" || id == "WORKFLOW",
                (None, None) => false,
            };
            let in_trash = sub_path.split(' ').any(|word| word == "trash");
            if takes_name && in_trash == trash {
                found.push(sub_path.clone());
            }
            walk(sub, &sub_path, trash, found);
        }
    }
    let mut found = Vec::new();
    walk(command, "", trash, &mut found);
    found
}

/// Every option spelling (`--home`, `-x`) that takes a value, anywhere in the tree, so
/// the scripts can skip option values when they find the subcommand path.
fn value_options(command: &Command) -> Vec<String> {
    fn walk(command: &Command, found: &mut Vec<String>) {
        for arg in command.get_arguments().filter(|a| !a.is_positional()) {
            if takes_value(arg) {
                found.extend(arg.get_long().map(|l| format!("--{l}")));
                found.extend(arg.get_short().map(|s| format!("-{s}")));
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, found);
        }
    }
    let mut found = Vec::new();
    walk(command, &mut found);
    found.sort();
    found.dedup();
    found
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// The command paths of [`name_commands`] and of [`trashed_name_commands`], each between
/// two `quote`s, for the shells' `case` patterns and lists.
fn quoted_name_commands(command: &Command, quote: char) -> (Vec<String>, Vec<String>) {
    let quoted = |paths: Vec<String>| -> Vec<String> {
        paths.iter().map(|p| format!("{quote}{p}{quote}")).collect()
    };
    (quoted(name_commands(command)), quoted(trashed_name_commands(command)))
}

fn bash_names(command: &Command) -> String {
    let options = value_options(command).join("|");
    let (paths, trash) = quoted_name_commands(command, '"');
    let mut s = String::new();
    let _ = write!(
        s,
        r#"
# Added by pflow: saved workflow names where a command expects one (trashed names for
# the `workflow trash` commands).
_pflow() {{
    local cur="${{COMP_WORDS[COMP_CWORD]}}" path="" word home="" opt="" i kind=""
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${{COMP_WORDS[i]}}"
        if [[ -n "$opt" ]]; then
            [[ "$word" == "=" ]] && continue
            [[ "$opt" == --home ]] && home="$word"
            opt=""
            continue
        fi
        case "$word" in
            {options}) opt="$word" ;;
            --home=*) home="${{word#--home=}}" ;;
            -*) ;;
            *) path="${{path:+$path }}$word" ;;
        esac
    done
    case "$path" in
        {paths}) kind=workflow-names ;;
        {trash}) kind=trashed-names ;;
    esac
    if [[ -n "$kind" && "$cur" != -* ]]; then
        local -a extra=()
        [[ -n "$home" ]] && extra=(--home "$home")
        local IFS=$'\n'
        COMPREPLY=($(pflow __complete "$kind" "${{extra[@]}}" -- "$cur" 2>/dev/null))
        if [[ "$path" == run ]]; then COMPREPLY+=($(compgen -f -- "$cur")); fi
        return 0
    fi
    _pflow_clap "$@"
}}

"#,
        paths = paths.join("|"),
        trash = trash.join("|"),
    );
    s
}

fn zsh_names(command: &Command) -> String {
    let options = value_options(command).join("|");
    let (paths, trash) = quoted_name_commands(command, '"');
    let mut s = String::new();
    let _ = write!(
        s,
        r#"
# Added by pflow: saved workflow names where a command expects one (trashed names for
# the `workflow trash` commands).
_pflow() {{
    local path_="" word home="" opt="" i kind="" label=""
    for ((i = 2; i < CURRENT; i++)); do
        word="${{words[i]}}"
        if [[ -n "$opt" ]]; then
            [[ "$opt" == --home ]] && home="$word"
            opt=""
            continue
        fi
        case "$word" in
            ({options}) opt="$word" ;;
            (--home=*) home="${{word#--home=}}" ;;
            (-*) ;;
            (*) path_="${{path_:+$path_ }}$word" ;;
        esac
    done
    case "$path_" in
        ({paths}) kind=workflow-names label='saved workflows' ;;
        ({trash}) kind=trashed-names label='trashed workflows' ;;
    esac
    if [[ -n "$kind" && "${{words[CURRENT]}}" != -* ]]; then
        local -a names extra
        [[ -n "$home" ]] && extra=(--home "$home")
        names=("${{(@f)$(pflow __complete "$kind" "${{extra[@]}}" 2>/dev/null)}}")
        names=(${{names:#}})
        compadd -X "$label" -a names
        [[ "$path_" == run ]] && _files
        return 0
    fi
    _pflow_clap "$@"
}}

"#,
        paths = paths.join("|"),
        trash = trash.join("|"),
    );
    s
}

fn fish_names(command: &Command) -> String {
    let options: Vec<String> = value_options(command);
    let (paths, trash) = quoted_name_commands(command, '\'');
    let mut s = String::new();
    let _ = write!(
        s,
        r#"
# Added by pflow: saved workflow names where a command expects one (trashed names for
# the `workflow trash` commands).
function __pflow_words
    set -l tokens (commandline -opc)
    set -l path
    set -l home
    set -l skip 0
    set -l previous
    for token in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            test "$previous" = --home; and set home $token
        else
            switch $token
                case {options}
                    set skip 1
                case '--home=*'
                    set home (string replace -- --home= '' $token)
                case '-*'
                case '*'
                    set -a path $token
            end
        end
        set previous $token
    end
    echo "$home"
    echo "$path"
end

function __pflow_wants_workflow_name
    set -l words (__pflow_words)
    contains -- "$words[2]" $argv
end

function __pflow_workflow_names
    set -l words (__pflow_words)
    if test -n "$words[1]"
        pflow __complete workflow-names --home "$words[1]" 2>/dev/null
    else
        pflow __complete workflow-names 2>/dev/null
    end
end

function __pflow_trashed_names
    set -l words (__pflow_words)
    if test -n "$words[1]"
        pflow __complete trashed-names --home "$words[1]" 2>/dev/null
    else
        pflow __complete trashed-names 2>/dev/null
    end
end

complete -c pflow -n "__pflow_wants_workflow_name run" -a "(__pflow_workflow_names)" -d 'saved workflow'
complete -c pflow -n "__pflow_wants_workflow_name {others}" -f -a "(__pflow_workflow_names)" -d 'saved workflow'
complete -c pflow -n "__pflow_wants_workflow_name {trash}" -f -a "(__pflow_trashed_names)" -d 'trashed workflow'
"#,
        options = options.join(" "),
        others =
            paths.iter().filter(|p| p.as_str() != "'run'").cloned().collect::<Vec<_>>().join(" "),
        trash = trash.join(" "),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commands_that_take_a_saved_name_are_found_in_the_definitions() {
        let paths = name_commands(&Cli::command());
        for expected in ["run", "workflow show", "workflow delete", "workflow path"] {
            assert!(paths.iter().any(|p| p == expected), "{expected} missing from {paths:?}");
        }
        assert!(!paths.iter().any(|p| p == "workflow save" || p == "validate"), "{paths:?}");
        assert!(!paths.iter().any(|p| p.contains("trash")), "{paths:?}");
        let trash = trashed_name_commands(&Cli::command());
        assert_eq!(trash, ["workflow trash restore", "workflow trash purge"]);
    }

    #[test]
    fn options_that_take_values_are_known() {
        let options = value_options(&Cli::command());
        for expected in ["--home", "--color", "--description"] {
            assert!(options.iter().any(|o| o == expected), "{expected} missing from {options:?}");
        }
        assert!(!options.iter().any(|o| o == "--json" || o == "-q"), "{options:?}");
    }
}
