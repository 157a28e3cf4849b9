//! `pflow completions`: the scripts generate for each shell, the hidden
//! `pflow __complete workflow-names` returns saved names, and the bash script, run by a
//! real bash, completes saved names where a command expects one and defers to clap's
//! completion elsewhere.

use std::path::Path;
use std::process::Command;

use insta::assert_snapshot;

use crate::sandbox::Sandbox;

const HELLO: &str = r#"{"ir_version": "0.1.0", "nodes": [{"id": "hi", "type": "echo", "params": {"message": "hello"}}]}"#;

/// A sandbox with `fix-issue`, `fix-typo` and `hello` saved, and `local.json` in its
/// working directory.
fn with_saved() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.file("local.json", HELLO);
    for name in ["fix-issue", "fix-typo", "hello"] {
        let run = sandbox.run(&["workflow", "save", "local.json", "--name", name]);
        assert!(run.starts_with("exit: 0"), "{run}");
    }
    sandbox
}

#[test]
fn scripts_generate_for_each_shell() {
    let sandbox = Sandbox::new();
    for (shell, needles) in [
        (
            "bash",
            &[
                "_pflow_clap()",
                "complete -F _pflow",
                "kind=workflow-names",
                "kind=trashed-names",
                "__complete \"$kind\"",
            ][..],
        ),
        (
            "zsh",
            &[
                "#compdef pflow",
                "_pflow_clap()",
                "compdef _pflow pflow",
                "kind=workflow-names",
                "kind=trashed-names",
                "__complete \"$kind\"",
            ],
        ),
        (
            "fish",
            &[
                "complete -c pflow",
                "__pflow_wants_workflow_name run",
                "__complete workflow-names",
                "__complete trashed-names",
            ],
        ),
    ] {
        let run = sandbox.run(&["completions", shell]);
        assert!(run.starts_with("exit: 0\n"), "{shell}: {run}");
        assert!(run.ends_with("--- stderr\n"), "{shell}: {run}");
        for needle in needles {
            assert!(run.contains(needle), "{shell}: no {needle:?}");
        }
        // The hidden helper is not offered as a command.
        assert!(!run.contains("Helpers for the completion scripts"), "{shell}");
    }
    assert_snapshot!(sandbox.run(&["completions", "powershell"]), @r#"
        exit: 2
        --- stdout
        --- stderr
        error: invalid value 'powershell' for '<SHELL>'
          [possible values: bash, zsh, fish]

        For more information, try '--help'.
        "#);
}

#[test]
fn the_helper_lists_saved_names_by_prefix() {
    let sandbox = with_saved();
    assert_snapshot!(sandbox.run(&["__complete", "workflow-names"]), @r#"
        exit: 0
        --- stdout
        fix-issue
        fix-typo
        hello
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["__complete", "workflow-names", "fix"]), @r#"
        exit: 0
        --- stdout
        fix-issue
        fix-typo
        --- stderr
        "#);
    assert_snapshot!(sandbox.run(&["__complete", "workflow-names", "--", "zzz"]), @r#"
        exit: 0
        --- stdout
        --- stderr
        "#);
    // Another home through `--home`; a home that cannot be read completes nothing, quietly.
    let empty = tempfile::tempdir().unwrap();
    let run =
        sandbox.run(&["__complete", "workflow-names", "--home", empty.path().to_str().unwrap()]);
    assert_eq!(run, "exit: 0\n--- stdout\n--- stderr\n");
    let file = sandbox.cwd().join("local.json");
    let run = sandbox.run(&["__complete", "workflow-names", "--home", file.to_str().unwrap()]);
    assert_eq!(run, "exit: 0\n--- stdout\n--- stderr\n");
    // It is not part of the help.
    assert!(!sandbox.run(&["--help"]).contains("__complete"));
}

/// What bash offers for the command line `words` (the last one is being typed), with the
/// script of `pflow completions bash` loaded.
fn bash_complete(sandbox: &Sandbox, words: &[&str]) -> Vec<String> {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_pflow")).parent().unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        r#"source <(pflow completions bash) || exit 9
COMP_WORDS=({words})
COMP_CWORD={cword}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
_pflow pflow "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        words = quoted.join(" "),
        cword = words.len() - 1,
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", path)
        .env("PFLOW_HOME", sandbox.home())
        .current_dir(sandbox.cwd())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut offered: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    offered.sort();
    offered
}

#[test]
fn bash_completes_saved_names_where_a_command_takes_one() {
    let sandbox = with_saved();
    assert_eq!(
        bash_complete(&sandbox, &["pflow", "run", ""]),
        ["fix-issue", "fix-typo", "hello", "local.json"]
    );
    assert_eq!(
        bash_complete(&sandbox, &["pflow", "workflow", "show", "fix"]),
        ["fix-issue", "fix-typo"]
    );
    assert_eq!(bash_complete(&sandbox, &["pflow", "workflow", "delete", "h"]), ["hello"]);
    assert_eq!(
        bash_complete(&sandbox, &["pflow", "-q", "workflow", "path", ""]),
        ["fix-issue", "fix-typo", "hello"]
    );
    // Option values are skipped when finding the command, and `--home` is honoured.
    let other = tempfile::tempdir().unwrap();
    let other_home = other.path().to_str().unwrap();
    let saved = sandbox.run(&[
        "--home",
        other_home,
        "workflow",
        "save",
        "local.json",
        "--name",
        "elsewhere",
    ]);
    assert!(saved.starts_with("exit: 0"), "{saved}");
    assert_eq!(
        bash_complete(&sandbox, &["pflow", "--home", other_home, "run", "e"]),
        ["elsewhere"]
    );
    assert_eq!(
        bash_complete(&sandbox, &["pflow", "--color", "never", "workflow", "show", ""]),
        ["fix-issue", "fix-typo", "hello"]
    );
}

#[test]
fn bash_completes_trashed_names_for_the_trash_commands() {
    let sandbox = with_saved();
    for name in ["fix-typo", "hello"] {
        let run = sandbox.run(&["workflow", "delete", name, "--yes"]);
        assert!(run.starts_with("exit: 0"), "{run}");
    }
    // Deleted twice: offered once.
    let run = sandbox.run(&["workflow", "save", "local.json", "--name", "hello"]);
    assert!(run.starts_with("exit: 0"), "{run}");
    let run = sandbox.run(&["workflow", "delete", "hello", "--yes"]);
    assert!(run.starts_with("exit: 0"), "{run}");
    assert_snapshot!(sandbox.run(&["__complete", "trashed-names"]), @r#"
        exit: 0
        --- stdout
        fix-typo
        hello
        --- stderr
        "#);
    assert_eq!(
        bash_complete(&sandbox, &["pflow", "workflow", "trash", "restore", ""]),
        ["fix-typo", "hello"]
    );
    assert_eq!(
        bash_complete(&sandbox, &["pflow", "workflow", "trash", "purge", "f"]),
        ["fix-typo"]
    );
    // Saved names are for the other commands.
    assert_eq!(bash_complete(&sandbox, &["pflow", "workflow", "show", ""]), ["fix-issue"]);
}

#[test]
fn bash_defers_to_the_static_completion_elsewhere() {
    let sandbox = with_saved();
    assert_eq!(bash_complete(&sandbox, &["pflow", "wor"]), ["workflow"]);
    assert_eq!(
        bash_complete(&sandbox, &["pflow", "nodes", ""]),
        [
            "--color",
            "--help",
            "--home",
            "--quiet",
            "--store",
            "--verbose",
            "-h",
            "-q",
            "-v",
            "help",
            "list",
            "show"
        ]
    );
    // After the workflow, and for commands that take no saved name, no names are offered.
    let after = bash_complete(&sandbox, &["pflow", "run", "hello", ""]);
    assert!(!after.contains(&"fix-issue".to_owned()), "{after:?}");
    let save = bash_complete(&sandbox, &["pflow", "workflow", "save", ""]);
    assert!(!save.contains(&"fix-issue".to_owned()), "{save:?}");
    let options = bash_complete(&sandbox, &["pflow", "run", "--j"]);
    assert_eq!(options, ["--json"]);
}

#[test]
fn zsh_and_fish_scripts_parse_where_those_shells_are_installed() {
    let sandbox = Sandbox::new();
    for (shell, check) in [("zsh", &["-n"][..]), ("fish", &["--no-execute"])] {
        if Command::new(shell).arg("--version").output().is_err() {
            println!("SKIPPED {shell} syntax check: {shell} is not installed");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(format!("pflow.{shell}"));
        let run = sandbox.command(&["completions", shell], &[]).output().unwrap();
        std::fs::write(&file, &run.stdout).unwrap();
        let out = Command::new(shell).args(check).arg(&file).output().unwrap();
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        println!("{shell} completion script parses");
    }
}
